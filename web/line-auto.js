// line-auto.js -- the personal auto form: drivers with their incidents,
// vehicles, and the policy's liability coverages. Builds the "auto" part of
// the contract request (drivers, vehicles, coverages).
//
// Drivers and vehicles are kept as arrays of rows in page order. Their ids
// (d1, d2..., v1, v2...) and JSON paths (drivers[1].date_of_birth) follow the
// position, and are rewritten on every add and remove; a vehicle's principal
// driver is held by the row's internal key, so removing a driver never makes a
// vehicle point at someone else.

import {
  h, uid, field, checkField, input, select, setOptions, chooseOption, dateInput, groupError,
  putText, putNumber, dollars, say, leftText,
} from './dom.js';
import { stateSelect } from './common.js';

const GENDERS = [['female', 'Female'], ['male', 'Male'], ['nonbinary', 'Nonbinary'], ['unspecified', 'Unspecified']];
const MARITAL = [['single', 'Single'], ['married', 'Married'], ['civil_union', 'Civil union'], ['divorced', 'Divorced'], ['widowed', 'Widowed']];
const INCIDENTS = [
  ['at_fault_accident', 'At-fault accident'],
  ['not_at_fault_accident', 'Not-at-fault accident'],
  ['speeding', 'Speeding ticket'],
  ['moving_violation', 'Other moving violation'],
  ['dui', 'DUI'],
  ['comp_claim', 'Comprehensive claim'],
];
const WITH_AMOUNT = new Set(['at_fault_accident', 'not_at_fault_accident', 'comp_claim']);
const USES = [['', 'Not specified'], ['pleasure', 'Pleasure'], ['commute', 'Commute'], ['business', 'Business']];
const COMP = [['', 'No comprehensive'], ...[100, 250, 500, 1000, 2000].map((d) => [String(d), `${dollars(d)} deductible`])];
const COLL = [['', 'No collision'], ...[250, 500, 1000, 2000].map((d) => [String(d), `${dollars(d)} deductible`])];
const SPLITS = [[25, 50], [30, 60], [50, 100], [100, 300], [250, 500], [500, 1000]].map(([p, a]) => [
  `${p * 1000}/${a * 1000}`, `${p}/${a} ($${p}k / $${a}k)`,
]);
// 10k: the Pennsylvania carriers write it (the state's minimum is 5k,
// offered as the minimum); it is below Ohio's and Texas's and not offered there.
const PD = [10, 25, 50, 100, 250].map((k) => [String(k * 1000), `$${k}k`]);
// States whose law makes carriers offer uninsured motorist coverage, which
// the shopper may reject only in writing: Pennsylvania (75 Pa.C.S. 1731) and
// Texas (Ins. Code 1952.101). Ohio's is optional (R.C. 3937.18).
const UM_REJECTED_IN_WRITING = new Set(['PA', 'TX']);
const UM_HINT = 'At most your bodily injury limits';
// The medical payments limits the bundled plans write in each state
// (plans/*/STATE-auto-*/med_limit.csv): Pennsylvania's first-party medical
// benefits 5k, 10k or 25k, Texas 1k, 2.5k, 5k or 10k, Ohio 1k, 2k, 5k or
// 10k. A limit no carrier of the state writes would only make every one of
// them unavailable. Other states: the Ohio list.
const MED_LIMITS = { OH: [1000, 2000, 5000, 10000], PA: [5000, 10000, 25000], TX: [1000, 2500, 5000, 10000] };
const medText = (v) => `$${Number(v) / 1000}k`;
const medOptions = (st) => (MED_LIMITS[st] || MED_LIMITS.OH).map((v) => [String(v), medText(v)]);
const MED = [['', 'None'], ...medOptions('OH')];
const UM = [['', 'None'], ...SPLITS];

const coverageNames = {
  bi: 'Bodily injury liability',
  pd: 'Property damage liability',
  med: 'Medical payments',
  um: 'Uninsured motorist bodily injury',
  comp: 'Comprehensive',
  coll: 'Collision',
};

// Harbor Mutual's first worked example (examples/oh-single-driver.json): 714.00 at Harbor.
const example = {
  line: 'auto',
  effective_date: '2026-03-01',
  applicant: {
    first_name: 'Dana',
    last_name: 'Reyes',
    date_of_birth: '1990-06-15',
    address: { street: '12 High St', city: 'Columbus', state: 'OH', zip: '43215' },
    homeowner: true,
    paperless: true,
  },
  drivers: [{
    id: 'd1',
    first_name: 'Dana',
    last_name: 'Reyes',
    date_of_birth: '1990-06-15',
    gender: 'female',
    marital_status: 'married',
    license: { state: 'OH', number: 'RS123456', first_licensed: '2008-07-01' },
    incidents: [],
  }],
  vehicles: [{
    id: 'v1',
    year: 2022,
    make: 'Honda',
    model: 'Civic',
    symbol: 5,
    principal_driver: 'd1',
    anti_theft: true,
    coverages: { comp: { deductible: 500 }, coll: { deductible: 500 } },
  }],
  coverages: {
    bi: { per_person: 100000, per_accident: 300000 },
    pd: { limit: 100000 },
    med: { limit: 5000 },
    um: { per_person: 100000, per_accident: 300000 },
  },
};

function splitValue(c) {
  return c && c.per_person !== undefined ? `${c.per_person}/${c.per_accident}` : '';
}

function splitLabel(c) {
  return `${dollars(c.per_person)} / ${dollars(c.per_accident)}`;
}

function removeButton(onclick) {
  return h('button', { type: 'button', class: 'link-button remove', onclick });
}

function mount(container, common) {
  const drivers = []; // {key, el, legend, remove, f: {...controls}, incidents: [], incList, addInc}
  const vehicles = []; // {key, el, legend, remove, f: {...controls}}
  let keySeq = 0;

  // ---- Drivers ----------------------------------------------------------

  const driverList = h('div', { class: 'items' });
  const addDriverBtn = h('button', { type: 'button', class: 'add', onclick: () => focusFirst(addDriver().el) }, 'Add driver');
  const driversBox = h('fieldset', { class: 'section', 'data-path': 'drivers' });
  driversBox.append(h('legend', null, 'Drivers'), groupError(driversBox),
    h('p', { class: 'hint' }, 'Everyone in the household who drives the vehicles.'),
    driverList, addDriverBtn);

  function addDriver(data = {}) {
    const key = `k${++keySeq}`;
    const lic = data.license || {};
    const f = {
      first: input('drv-first', '', { autocomplete: 'off' }),
      last: input('drv-last', '', { autocomplete: 'off' }),
      dob: dateInput('drv-dob', ''),
      gender: select('drv-gender', '', GENDERS, 'unspecified'),
      marital: select('drv-marital', '', MARITAL, 'single'),
      licState: stateSelect('drv-lic-state', '', common.state(), 'Not given'),
      licNumber: input('drv-lic-num', '', { autocomplete: 'off', spellcheck: 'false' }),
      licFirst: dateInput('drv-lic-first', ''),
      gpa: input('drv-gpa', '', { type: 'number', min: '0', max: '4', step: '0.01', inputmode: 'decimal' }),
    };
    f.first.value = data.first_name || '';
    f.last.value = data.last_name || '';
    f.dob.value = data.date_of_birth || '';
    if (data.gender) chooseOption(f.gender, data.gender);
    if (data.marital_status) chooseOption(f.marital, data.marital_status);
    if (data.license) chooseOption(f.licState, lic.state || '');
    f.licNumber.value = lic.number || '';
    f.licFirst.value = lic.first_licensed || '';
    f.gpa.value = data.student_gpa === null || data.student_gpa === undefined ? '' : String(data.student_gpa);
    // A name change relabels the principal-driver choices.
    f.first.addEventListener('input', refreshPrincipals);
    f.last.addEventListener('input', refreshPrincipals);

    const d = { key, f, incidents: [], licStateTouched: !!data.license };
    f.licState.addEventListener('change', () => { d.licStateTouched = true; });
    d.legend = h('legend');
    d.remove = removeButton(() => removeDriver(d));
    d.incList = h('div', { class: 'items incidents' });
    d.addInc = h('button', { type: 'button', class: 'add small', onclick: () => focusFirst(addIncident(d).el) });
    d.incBox = h('fieldset', { class: 'sub' });
    // The longest look-back of the bundled plans: Allegheny declines a DUI of
    // the last 120 months, Summit of the last 84; the rest look back 60.
    d.incHint = h('p', { class: 'hint' },
      'Accidents, tickets and claims of the last 5 years, and any DUI of the last 10 years. None? Leave this empty.');
    d.incBox.append(h('legend', null, 'Driving history'), groupError(d.incBox), d.incHint, d.incList, d.addInc);
    d.el = h('fieldset', { class: 'item driver' });
    d.el.append(d.legend, groupError(d.el),
      h('div', { class: 'grid' },
        field('First name', f.first),
        field('Last name', f.last),
        field('Date of birth', f.dob, { required: true, hint: 'YYYY-MM-DD' }),
        field('Gender', f.gender, { required: true }),
        field('Marital status', f.marital, { required: true }),
        field('Licence state', f.licState),
        field('Licence number', f.licNumber, { hint: 'Optional' }),
        field('First licensed', f.licFirst, { required: true, hint: 'YYYY-MM-DD, first US licence' }),
        field('Student GPA', f.gpa, { hint: 'Optional, 0.0–4.0 (good-student discount)' })),
      d.incBox,
      h('div', { class: 'item-actions' }, d.remove));
    drivers.push(d);
    driverList.append(d.el);
    for (const inc of data.incidents || []) addIncident(d, inc);
    reindex();
    return d;
  }

  // A vehicle whose principal driver is removed gets the first driver (it
  // must have one, and the price follows that driver): said with the removal,
  // so the change is not a silent one.
  function removeDriver(d) {
    const i = drivers.indexOf(d);
    if (i < 0 || drivers.length <= 1) return;
    const name = [d.f.first.value.trim(), d.f.last.value.trim()].filter(Boolean).join(' ');
    const orphaned = vehicles.filter((v) => v.principalKey === d.key);
    drivers.splice(i, 1);
    d.el.remove();
    reindex();
    addDriverBtn.focus();
    const moved = orphaned.map((v) => {
      const j = drivers.findIndex((x) => x.key === v.principalKey);
      return ` Vehicle ${vehicles.indexOf(v) + 1}'s principal driver is now ${driverName(drivers[j], j)}.`;
    });
    say(addDriverBtn, `Removed driver ${i + 1}${name ? ` (${name})` : ''}. ${leftText(drivers.length, 'driver', 'drivers')}${moved.join('')}`);
  }

  function addIncident(d, data = {}) {
    const f = {
      type: select('inc-type', '', INCIDENTS, data.type || 'at_fault_accident'),
      date: dateInput('inc-date', ''),
      mph: input('inc-mph', '', { type: 'number', min: '1', max: '200', step: '1', inputmode: 'numeric' }),
      amount: input('inc-amount', '', { type: 'number', min: '0', step: '0.01', inputmode: 'decimal' }),
    };
    if (data.type) chooseOption(f.type, data.type);
    f.date.value = data.date || '';
    f.mph.value = data.mph_over === undefined || data.mph_over === null ? '' : String(data.mph_over);
    f.amount.value = data.amount === undefined || data.amount === null ? '' : String(data.amount);
    const inc = { f };
    inc.mphField = field('Miles per hour over the limit', f.mph, { required: true });
    inc.amountField = field('Amount paid (USD)', f.amount, { hint: 'Optional' });
    inc.legend = h('legend');
    inc.remove = removeButton(() => {
      const j = d.incidents.indexOf(inc);
      d.incidents.splice(j, 1);
      inc.el.remove();
      reindex();
      d.addInc.focus();
      const who = `driver ${drivers.indexOf(d) + 1}`;
      say(d.addInc, `Removed incident ${j + 1} of ${who}. ${leftText(d.incidents.length, `incident for ${who}`, `incidents for ${who}`)}`);
    });
    inc.el = h('fieldset', { class: 'item incident' });
    inc.el.append(inc.legend, groupError(inc.el),
      h('div', { class: 'grid' },
        field('Type', f.type, { required: true }),
        field('Date', f.date, { required: true, hint: 'YYYY-MM-DD' }),
        inc.mphField, inc.amountField),
      h('div', { class: 'item-actions' }, inc.remove));
    const showFor = () => {
      inc.mphField.hidden = f.type.value !== 'speeding';
      inc.amountField.hidden = !WITH_AMOUNT.has(f.type.value);
    };
    f.type.addEventListener('change', showFor);
    showFor();
    d.incidents.push(inc);
    d.incList.append(inc.el);
    reindex();
    return inc;
  }

  // ---- Vehicles -----------------------------------------------------------

  const vehicleList = h('div', { class: 'items' });
  const addVehicleBtn = h('button', { type: 'button', class: 'add', onclick: () => focusFirst(addVehicle().el) }, 'Add vehicle');
  const vehiclesBox = h('fieldset', { class: 'section', 'data-path': 'vehicles' });
  vehiclesBox.append(h('legend', null, 'Vehicles'), groupError(vehiclesBox), vehicleList, addVehicleBtn);

  function addVehicle(data = {}, driverKeys = {}) {
    const key = `k${++keySeq}`;
    const covs = data.coverages || {};
    const f = {
      vin: input('veh-vin', '', { autocomplete: 'off', spellcheck: 'false', maxlength: '17', autocapitalize: 'characters' }),
      year: input('veh-year', '', { type: 'number', min: '1900', max: '2100', step: '1', inputmode: 'numeric' }),
      make: input('veh-make', '', { autocomplete: 'off' }),
      model: input('veh-model', '', { autocomplete: 'off' }),
      symbol: input('veh-symbol', '', { type: 'number', min: '1', max: '27', step: '1', inputmode: 'numeric', value: '5' }),
      principal: select('veh-driver', '', []),
      zip: input('veh-zip', '', { inputmode: 'numeric', maxlength: '5', autocomplete: 'off' }),
      miles: input('veh-miles', '', { type: 'number', min: '0', max: '200000', step: '1', inputmode: 'numeric' }),
      use: select('veh-use', '', USES, ''),
      antiTheft: h('input', { type: 'checkbox', id: uid('veh-theft') }),
      comp: select('veh-comp', '', COMP, '500'),
      coll: select('veh-coll', '', COLL, '500'),
    };
    f.vin.value = data.vin || '';
    if (data.year !== undefined) f.year.value = String(data.year);
    f.make.value = data.make || '';
    f.model.value = data.model || '';
    if (data.symbol !== undefined) f.symbol.value = String(data.symbol);
    f.zip.value = data.garaging_zip || '';
    if (data.annual_miles !== undefined) f.miles.value = String(data.annual_miles);
    if (data.use) chooseOption(f.use, data.use);
    f.antiTheft.checked = !!data.anti_theft;
    if (data.coverages) {
      if (covs.comp) chooseOption(f.comp, covs.comp.deductible, `${dollars(covs.comp.deductible)} deductible`);
      else f.comp.value = '';
      if (covs.coll) chooseOption(f.coll, covs.coll.deductible, `${dollars(covs.coll.deductible)} deductible`);
      else f.coll.value = '';
    }
    const v = { key, f, principalKey: driverKeys[data.principal_driver] || (drivers[0] && drivers[0].key) };
    f.principal.addEventListener('change', () => { v.principalKey = f.principal.value; });
    for (const c of [f.year, f.make, f.model]) c.addEventListener('input', () => reindex());
    const vinField = field('VIN', f.vin, { hint: 'Optional, 17 characters: fills the model year and make' });
    // What the VIN decodes to, or what is wrong with it: said as it comes, and
    // part of the field's description (a screen reader says it when back on it).
    const vinNote = h('p', { class: 'hint', id: `${f.vin.id}-vin`, 'aria-live': 'polite', 'data-testid': 'vin-note' });
    f.vin.setAttribute('aria-describedby', `${f.vin.getAttribute('aria-describedby') || ''} ${vinNote.id}`.trim());
    vinField.append(vinNote);
    f.vin.addEventListener('input', () => decodeVin(f, vinNote));
    v.legend = h('legend');
    v.remove = removeButton(() => {
      if (vehicles.length <= 1) return;
      const i = vehicles.indexOf(v);
      const desc = [f.year.value, f.make.value.trim(), f.model.value.trim()].filter(Boolean).join(' ');
      vehicles.splice(i, 1);
      v.el.remove();
      reindex();
      addVehicleBtn.focus();
      say(addVehicleBtn, `Removed vehicle ${i + 1}${desc ? ` (${desc})` : ''}. ${leftText(vehicles.length, 'vehicle', 'vehicles')}`);
    });
    v.el = h('fieldset', { class: 'item vehicle' });
    v.el.append(v.legend, groupError(v.el),
      h('div', { class: 'grid' },
        vinField,
        field('Model year', f.year, { required: true }),
        field('Make', f.make),
        field('Model', f.model),
        field('Rating symbol', f.symbol, { required: true, hint: '1–27, from the vehicle\'s price and damage history; 5 is typical' }),
        field('Principal driver', f.principal, { required: true }),
        field('Garaging ZIP', f.zip, { hint: 'Leave empty if it is your ZIP code' }),
        field('Annual miles', f.miles, { hint: 'Optional' }),
        field('Use', f.use),
        field('Comprehensive', f.comp, { hint: 'Theft, fire, glass, animals' }),
        field('Collision', f.coll, { hint: 'Needs comprehensive on the same vehicle' })),
      h('div', { class: 'checks' }, checkField('Anti-theft device', f.antiTheft)),
      h('div', { class: 'item-actions' }, v.remove));
    vehicles.push(v);
    vehicleList.append(v.el);
    reindex();
    return v;
  }

  // ---- Policy coverages ---------------------------------------------------

  const cov = {
    bi: select('cov-bi', 'coverages.bi', SPLITS, '100000/300000'),
    pd: select('cov-pd', 'coverages.pd', PD, '100000'),
    med: select('cov-med', 'coverages.med', MED, '5000'),
    um: select('cov-um', 'coverages.um', UM, '100000/300000'),
  };
  const covBox = h('fieldset', { class: 'section', 'data-path': 'coverages' });
  covBox.append(h('legend', null, 'Liability coverages (whole policy)'), groupError(covBox),
    h('div', { class: 'grid' },
      field('Bodily injury liability', cov.bi, { required: true, hint: 'In thousands: per person / per accident' }),
      field('Property damage liability', cov.pd, { required: true }),
      field('Medical payments', cov.med, { hint: 'Optional' }),
      field('Uninsured motorist', cov.um, { hint: UM_HINT })));

  // ---- Ids, paths and labels follow the position ------------------------

  function driverName(d, i) {
    const name = [d.f.first.value.trim(), d.f.last.value.trim()].filter(Boolean).join(' ');
    return name ? `d${i + 1} – ${name}` : `d${i + 1} – Driver ${i + 1}`;
  }

  function refreshPrincipals() {
    const opts = drivers.map((d, i) => [d.key, driverName(d, i)]);
    for (const v of vehicles) {
      if (!drivers.some((d) => d.key === v.principalKey)) v.principalKey = drivers[0] && drivers[0].key;
      setOptions(v.f.principal, opts, v.principalKey);
    }
  }

  function setPaths(base, pairs) {
    for (const [el, sub] of pairs) el.setAttribute('data-path', sub ? `${base}.${sub}` : base);
  }

  function reindex() {
    drivers.forEach((d, i) => {
      const base = `drivers[${i}]`;
      const f = d.f;
      setPaths(base, [[d.el, ''], [f.first, 'first_name'], [f.last, 'last_name'], [f.dob, 'date_of_birth'],
        [f.gender, 'gender'], [f.marital, 'marital_status'], [f.licState, 'license.state'],
        [f.licNumber, 'license.number'], [f.licFirst, 'license.first_licensed'], [f.gpa, 'student_gpa'],
        [d.incBox, 'incidents']]);
      d.el.setAttribute('data-title', `Driver ${i + 1}`);
      d.legend.replaceChildren(`Driver ${i + 1} `, h('span', { class: 'muted' }, `(d${i + 1})`));
      d.remove.textContent = `Remove driver ${i + 1}`;
      d.remove.disabled = drivers.length <= 1;
      d.addInc.textContent = `Add incident for driver ${i + 1}`;
      d.incidents.forEach((inc, j) => {
        setPaths(`${base}.incidents[${j}]`, [[inc.el, ''], [inc.f.type, 'type'], [inc.f.date, 'date'],
          [inc.f.mph, 'mph_over'], [inc.f.amount, 'amount']]);
        inc.el.setAttribute('data-title', `Driver ${i + 1}, incident ${j + 1}`);
        inc.legend.textContent = `Incident ${j + 1}`;
        inc.remove.textContent = `Remove incident ${j + 1} of driver ${i + 1}`;
      });
      d.incHint.hidden = d.incidents.length > 0;
    });
    vehicles.forEach((v, i) => {
      const f = v.f;
      setPaths(`vehicles[${i}]`, [[v.el, ''], [f.vin, 'vin'], [f.year, 'year'], [f.make, 'make'], [f.model, 'model'],
        [f.symbol, 'symbol'], [f.principal, 'principal_driver'], [f.zip, 'garaging_zip'],
        [f.miles, 'annual_miles'], [f.use, 'use'], [f.antiTheft, 'anti_theft'],
        [f.comp, 'coverages.comp'], [f.coll, 'coverages.coll']]);
      v.el.setAttribute('data-title', `Vehicle ${i + 1}`);
      const desc = [f.year.value, f.make.value.trim(), f.model.value.trim()].filter(Boolean).join(' ');
      v.legend.replaceChildren(`Vehicle ${i + 1} `, h('span', { class: 'muted' }, desc ? `(v${i + 1}, ${desc})` : `(v${i + 1})`));
      v.remove.textContent = `Remove vehicle ${i + 1}`;
      v.remove.disabled = vehicles.length <= 1;
    });
    refreshPrincipals();
  }

  function focusFirst(el) {
    const c = el.querySelector('input, select, textarea, button');
    if (c) c.focus();
  }

  // A new driver's licence state follows the applicant's state until changed.
  common.onStateChange((st) => {
    for (const d of drivers) if (!d.licStateTouched) d.f.licState.value = st;
  });

  function clearAll() {
    drivers.splice(0).forEach((d) => d.el.remove());
    vehicles.splice(0).forEach((v) => v.el.remove());
  }

  function setSplit(el, c) {
    if (!c) el.value = '';
    else chooseOption(el, splitValue(c), splitLabel(c));
  }

  function setSingle(el, c) {
    if (!c) el.value = '';
    else chooseOption(el, String(c.limit), dollars(c.limit));
  }

  // ---- VIN decoding and the state's minimum limits (src/intake) ------------

  // A VIN of 17 characters is decoded by GET /v1/vin/{vin}: a valid one fills
  // the model year and make; an invalid one says what is wrong, and marks the
  // field invalid until it is typed in again.
  function decodeVin(f, note) {
    const vin = f.vin.value.trim().toUpperCase();
    if (note.dataset.invalid) {
      delete note.dataset.invalid;
      f.vin.removeAttribute('aria-invalid');
    }
    note.textContent = '';
    if (vin.length !== 17) return;
    fetch(`/v1/vin/${encodeURIComponent(vin)}`, { headers: { Accept: 'application/json' } })
      .then((r) => (r.ok ? r.json() : null))
      .then((d) => {
        if (!d || f.vin.value.trim().toUpperCase() !== vin) return; // typed on since
        if (!d.valid) {
          note.textContent = `Not a valid VIN: ${(d.errors || []).join('; ')}`;
          note.dataset.invalid = 'yes';
          f.vin.setAttribute('aria-invalid', 'true');
          return;
        }
        if (d.year) f.year.value = String(d.year);
        if (d.make) f.make.value = d.make;
        const makes = d.make || (d.makes || []).join(' / ');
        note.textContent = [d.year, makes, d.manufacturer ? `(${d.manufacturer})` : ''].filter(Boolean).join(' ');
        reindex();
      })
      .catch(() => {});
  }

  // The bodily injury, uninsured motorist and property damage limits offered
  // are those at or above the applicant's state's minimums on the effective
  // date (GET /v1/states), the minimum itself offered and marked. Uninsured
  // motorist follows bodily injury's minimum: the carriers write it from the
  // state's basic limits (15/30 in Pennsylvania, 30/60 in Texas), never
  // below, so a lower choice would only make every carrier unavailable, and
  // without the minimum a Pennsylvania shopper at 15/30 could not choose it
  // at all (it may not exceed bodily injury).
  const rulesByDate = new Map();
  function stateRules(date) {
    const key = /^\d{4}-\d{2}-\d{2}$/.test(date || '') ? date : '';
    if (!rulesByDate.has(key)) {
      rulesByDate.set(key, fetch(`/v1/states${key ? `?date=${key}` : ''}`, { headers: { Accept: 'application/json' } })
        .then((r) => (r.ok ? r.json() : null))
        .then((d) => Object.fromEntries(((d && d.states) || []).map((st) => [st.state, st])))
        .catch(() => {
          rulesByDate.delete(key);
          return {};
        }));
    }
    return rulesByDate.get(key);
  }

  // Offers the standard `options` allowed, the minimum (when the state sets
  // one) and the current choice when allowed; the choice is kept, else the
  // lowest allowed limit is chosen. `none` (optional coverages) is offered
  // first, and kept when it is the choice: a limit the state no longer
  // allows becomes its lowest allowed limit, never "none".
  function offer(el, options, allowed, minimum, label, name, none = null) {
    const current = el.value;
    const list = options.filter(([v]) => v !== '' && allowed(v));
    for (const v of [minimum, current])
      if (v && allowed(v) && !list.some(([x]) => x === v)) list.push([v, label(v)]);
    const key = (v) => v.split('/').map(Number);
    list.sort((x, y) => key(x[0])[0] - key(y[0])[0] || (key(x[0])[1] || 0) - (key(y[0])[1] || 0));
    const marked = list.map(([v, l]) => [v, v === minimum ? `${l} – ${name} minimum` : l]);
    const keep = list.some(([v]) => v === current) || (none !== null && current === '');
    setOptions(el, none !== null ? [['', none], ...marked] : marked, keep ? current : list[0][0]);
  }

  async function offerStateLimits() {
    const st = common.state();
    const rule = (await stateRules(common.build().effective_date))[st];
    if (!rule || st !== common.state()) return;
    const { per_person: pp, per_accident: pa } = rule.bi;
    const splitAllowed = (v) => {
      const [p, a] = v.split('/').map(Number);
      return p >= pp && a >= pa;
    };
    const splitText = (v) => {
      const [p, a] = v.split('/').map((x) => Number(x) / 1000);
      return `${p}/${a} ($${p}k / $${a}k)`;
    };
    const splitMin = pp > 0 ? `${pp}/${pa}` : null;
    offer(cov.bi, SPLITS, splitAllowed, splitMin, splitText, rule.name);
    offer(cov.um, SPLITS, splitAllowed, splitMin, splitText, rule.name, 'None');
    const min = rule.pd.limit;
    offer(cov.pd, PD, (v) => Number(v) >= min, min > 0 ? String(min) : null,
      (v) => `$${Number(v) / 1000}k`, rule.name);
    // Medical payments: the limits the state's carriers write, none below
    // the state's required minimum (Pennsylvania's $5,000 of first-party
    // medical benefits, 75 Pa.C.S. 1711), and "None" only where the state
    // requires none: a Pennsylvania request without it is refused.
    const medMin = (rule.med && rule.med.limit) || 0;
    const medList = medOptions(st);
    offer(cov.med, medList, (v) => medList.some(([x]) => x === v) && Number(v) >= medMin,
      medMin > 0 ? String(medMin) : null, medText, rule.name, medMin > 0 ? null : 'None');
    medHint.textContent = medMin > 0
      ? `Required in ${rule.name}: first-party medical benefits of at least ${dollars(medMin)}`
      : 'Optional';
    umHint.textContent = UM_REJECTED_IN_WRITING.has(st)
      ? `${UM_HINT}. ${rule.name} law requires carriers to offer it: None means you reject it in writing when you buy`
      : UM_HINT;
  }

  common.onStateChange(() => offerStateLimits());
  cov.bi.addEventListener('focus', () => offerStateLimits());
  cov.um.addEventListener('focus', () => offerStateLimits());
  cov.pd.addEventListener('focus', () => offerStateLimits());
  cov.med.addEventListener('focus', () => offerStateLimits());

  const medHint = covBox.querySelector(`#${cov.med.id}-hint`);
  const umHint = covBox.querySelector(`#${cov.um.id}-hint`);
  container.replaceChildren(driversBox, vehiclesBox, covBox);

  const ctl = {
    build() {
      const keyToId = new Map(drivers.map((d, i) => [d.key, `d${i + 1}`]));
      const out = {};
      out.drivers = drivers.map((d, i) => {
        const f = d.f;
        const o = { id: `d${i + 1}` };
        putText(o, 'first_name', f.first);
        putText(o, 'last_name', f.last);
        putText(o, 'date_of_birth', f.dob);
        putText(o, 'gender', f.gender);
        putText(o, 'marital_status', f.marital);
        const lic = {};
        putText(lic, 'state', f.licState);
        putText(lic, 'number', f.licNumber);
        putText(lic, 'first_licensed', f.licFirst);
        o.license = lic;
        putNumber(o, 'student_gpa', f.gpa);
        o.incidents = d.incidents.map((inc) => {
          const x = {};
          putText(x, 'type', inc.f.type);
          putText(x, 'date', inc.f.date);
          if (!inc.mphField.hidden) putNumber(x, 'mph_over', inc.f.mph);
          if (!inc.amountField.hidden) putNumber(x, 'amount', inc.f.amount);
          return x;
        });
        return o;
      });
      out.vehicles = vehicles.map((v, i) => {
        const f = v.f;
        const o = { id: `v${i + 1}` };
        if (f.vin.value.trim()) o.vin = f.vin.value.trim().toUpperCase();
        putNumber(o, 'year', f.year);
        putText(o, 'make', f.make);
        putText(o, 'model', f.model);
        putNumber(o, 'symbol', f.symbol);
        if (keyToId.has(v.principalKey)) o.principal_driver = keyToId.get(v.principalKey);
        putText(o, 'garaging_zip', f.zip);
        putNumber(o, 'annual_miles', f.miles);
        putText(o, 'use', f.use);
        o.anti_theft = f.antiTheft.checked;
        const c = {};
        if (f.comp.value) c.comp = { deductible: Number(f.comp.value) };
        if (f.coll.value) c.coll = { deductible: Number(f.coll.value) };
        o.coverages = c;
        return o;
      });
      const covs = {};
      const split = (el) => {
        const [pp, pa] = el.value.split('/').map(Number);
        return { per_person: pp, per_accident: pa };
      };
      if (cov.bi.value) covs.bi = split(cov.bi);
      if (cov.pd.value) covs.pd = { limit: Number(cov.pd.value) };
      if (cov.med.value) covs.med = { limit: Number(cov.med.value) };
      if (cov.um.value) covs.um = split(cov.um);
      out.coverages = covs;
      return out;
    },

    fill(req) {
      clearAll();
      const keys = {};
      for (const d of Array.isArray(req.drivers) && req.drivers.length ? req.drivers : [{}]) {
        const row = addDriver(d);
        if (d.id) keys[d.id] = row.key;
      }
      for (const v of Array.isArray(req.vehicles) && req.vehicles.length ? req.vehicles : [{}]) addVehicle(v, keys);
      const c = req.coverages || {};
      setSplit(cov.bi, c.bi || { per_person: 100000, per_accident: 300000 });
      setSingle(cov.pd, c.pd || { limit: 100000 });
      setSingle(cov.med, c.med);
      setSplit(cov.um, c.um);
      reindex();
    },

    reset() {
      clearAll();
      addDriver();
      addVehicle();
      setSplit(cov.bi, { per_person: 100000, per_accident: 300000 });
      setSingle(cov.pd, { limit: 100000 });
      setSingle(cov.med, { limit: 5000 });
      setSplit(cov.um, { per_person: 100000, per_accident: 300000 });
    },
  };
  ctl.reset();
  offerStateLimits();
  return ctl;
}

/** {v1: '2022 Honda Civic'} for a request, to label the results' rows. */
function unitLabels(request) {
  const out = {};
  for (const v of (request && Array.isArray(request.vehicles) && request.vehicles) || []) {
    const desc = [v.year, v.make, v.model].filter((x) => x !== undefined && x !== null && x !== '').join(' ');
    if (v && v.id) out[v.id] = desc;
  }
  return out;
}

export default {
  id: 'auto',
  title: 'Auto',
  coverageNames,
  coverageOrder: ['bi', 'pd', 'med', 'um', 'comp', 'coll'],
  unitWord: 'Vehicle',
  example,
  exampleText: 'Dana Reyes, Columbus OH, a 2022 Honda Civic.',
  mount,
  unitLabels,
};
