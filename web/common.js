// common.js -- the envelope every line shares: effective date, applicant,
// and the optional list of carriers to ask.

import {
  h, uid, field, checkField, input, select, dateInput, groupError, putText, firstOfNextMonth, chooseOption,
  setRequired,
} from './dom.js';
import { getCarriers } from './api.js';
import { lineTitle } from './lines.js';

const STATE_NAMES = {
  AL: 'Alabama', AK: 'Alaska', AZ: 'Arizona', AR: 'Arkansas', CA: 'California', CO: 'Colorado',
  CT: 'Connecticut', DE: 'Delaware', DC: 'District of Columbia', FL: 'Florida', GA: 'Georgia',
  HI: 'Hawaii', ID: 'Idaho', IL: 'Illinois', IN: 'Indiana', IA: 'Iowa', KS: 'Kansas', KY: 'Kentucky',
  LA: 'Louisiana', ME: 'Maine', MD: 'Maryland', MA: 'Massachusetts', MI: 'Michigan', MN: 'Minnesota',
  MS: 'Mississippi', MO: 'Missouri', MT: 'Montana', NE: 'Nebraska', NV: 'Nevada', NH: 'New Hampshire',
  NJ: 'New Jersey', NM: 'New Mexico', NY: 'New York', NC: 'North Carolina', ND: 'North Dakota',
  OH: 'Ohio', OK: 'Oklahoma', OR: 'Oregon', PA: 'Pennsylvania', RI: 'Rhode Island',
  SC: 'South Carolina', SD: 'South Dakota', TN: 'Tennessee', TX: 'Texas', UT: 'Utah', VT: 'Vermont',
  VA: 'Virginia', WA: 'Washington', WV: 'West Virginia', WI: 'Wisconsin', WY: 'Wyoming',
};

// States where carriers quote come first: these until the carriers' plans are
// known (GET /v1/carriers), then those where the line picked has a plan.
const QUOTED_STATES = ['OH', 'PA', 'TX'];

/** The <optgroup>s of a state select: the states in `quoted` (codes), then every other. */
function stateGroups(quoted) {
  const known = Object.keys(STATE_NAMES);
  const first = known.filter((c) => quoted.includes(c)).sort((a, b) => STATE_NAMES[a].localeCompare(STATE_NAMES[b]));
  const group = (label, codes) =>
    h('optgroup', { label }, codes.map((c) => h('option', { value: c }, `${STATE_NAMES[c]} (${c})`)));
  if (!first.length) return [group('States', known)];
  return [group('Carriers quote here today', first), group('Other states', known.filter((c) => !first.includes(c)))];
}

/** A state <select>: the quoted states, then every other. `blank` adds an empty first option. */
export function stateSelect(prefix, path, value, blank) {
  const el = h('select', { id: uid(prefix), 'data-path': path });
  if (blank) el.append(h('option', { value: '' }, blank));
  el.append(...stateGroups(QUOTED_STATES));
  if (value !== undefined) chooseOption(el, value);
  return el;
}

/**
 * Puts the states in `quoted` first in state select `el` (made by
 * stateSelect), under "Carriers quote here today"; the choice is kept, and
 * no change event is sent (the state itself did not change).
 */
export function regroupStates(el, quoted) {
  const value = el.value;
  for (const g of [...el.querySelectorAll('optgroup')]) g.remove();
  el.append(...stateGroups(quoted));
  el.value = value;
}

export const GENDERS = [['female', 'Female'], ['male', 'Male'], ['nonbinary', 'Nonbinary'], ['unspecified', 'Unspecified']];

// Which applicant fields a line asks (a line module's `applicant`, over these defaults):
//   dob: 'optional' | 'required' | 'hidden'; gender: 'required' | 'hidden';
//   countyFips: 'required' | 'hidden'; homeowner, paperless: shown or not;
//   homeowner: 'implied' hides the box and sends true (a bundle with a home
//   policy: whoever insures a home as its owner owns one).
// A hidden field is left out of the request.
const APPLICANT_DEFAULTS = { dob: 'optional', gender: 'hidden', countyFips: 'hidden', homeowner: true, paperless: true };

/**
 * Mounts the envelope fields into `container` for line `lineId`.
 * Returns {build(), fill(request), reset(), state(), onStateChange(fn), setLine(id, applicantFields, planLines)}.
 */
export function mountCommon(container, lineId) {
  let line = lineId;
  let planLines = [lineId]; // the lines whose plans the carrier list shows (a bundle: auto, home, renters)
  let asks = { ...APPLICANT_DEFAULTS };
  const listeners = [];

  const eff = dateInput('eff', 'effective_date', { value: firstOfNextMonth() });
  const first = input('ap-first', 'applicant.first_name', { autocomplete: 'given-name' });
  const last = input('ap-last', 'applicant.last_name', { autocomplete: 'family-name' });
  const dob = dateInput('ap-dob', 'applicant.date_of_birth', { autocomplete: 'bday' });
  const email = input('ap-email', 'applicant.email', { type: 'email', autocomplete: 'email' });
  const phone = input('ap-phone', 'applicant.phone', { type: 'tel', autocomplete: 'tel' });
  const street = input('ap-street', 'applicant.address.street', { autocomplete: 'address-line1' });
  const city = input('ap-city', 'applicant.address.city', { autocomplete: 'address-level2' });
  const state = stateSelect('ap-state', 'applicant.address.state', 'OH');
  state.setAttribute('autocomplete', 'address-level1');
  const zip = input('ap-zip', 'applicant.address.zip', {
    inputmode: 'numeric', autocomplete: 'postal-code', maxlength: '5', pattern: '[0-9]{5}',
  });
  const gender = select('ap-gender', 'applicant.gender', [['', 'Choose…'], ...GENDERS], '');
  gender.setAttribute('autocomplete', 'sex');
  const county = input('ap-county', 'applicant.address.county_fips', {
    inputmode: 'numeric', autocomplete: 'off', maxlength: '5', pattern: '[0-9]{5}', spellcheck: 'false',
  });
  const homeowner = h('input', { type: 'checkbox', id: uid('ap-home'), 'data-path': 'applicant.homeowner' });
  const paperless = h('input', { type: 'checkbox', id: uid('ap-paper'), 'data-path': 'applicant.paperless' });
  const consent = h('input', { type: 'checkbox', id: uid('ap-consent'), 'data-path': 'applicant.consent.contact' });

  state.addEventListener('change', () => listeners.forEach((fn) => fn(state.value)));

  // Carriers to ask: optional; loaded from GET /v1/carriers.
  const carrierBox = h('fieldset', { class: 'carriers', 'data-path': 'carriers' });
  const carrierErr = groupError(carrierBox);
  const carrierList = h('div', { class: 'check-grid' });
  carrierBox.append(
    h('legend', null, 'Carriers to ask'),
    carrierErr,
    h('p', { class: 'hint' }, 'Leave all unchecked to ask every carrier.'),
    carrierList,
  );
  const carrierDetails = h('details', { class: 'carrier-picker', hidden: true },
    h('summary', null, 'Ask only some carriers (optional)'), carrierBox);
  let carriers = [];
  let carriersKnown = false; // GET /v1/carriers answered: the state list follows the line's plans
  // Carrier ids checked, one set per line: a carrier ticked for term life is
  // not asked for an auto quote. Kept while the list is re-rendered.
  const picks = new Map();
  const selected = () => {
    if (!picks.has(line)) picks.set(line, new Set());
    return picks.get(line);
  };
  /** The plans carrier `c` files for the current line (a bundle: for any of its lines). */
  const plansOf = (c) => (c.plans || []).filter((p) => planLines.includes(p.line));

  /** Groups the state list: first the states where the current line has a plan (once the plans are known). */
  function groupStates() {
    if (!carriersKnown) return;
    regroupStates(state, [...new Set(carriers.flatMap(plansOf).flatMap((p) => p.states || []))]);
  }

  function renderCarriers() {
    const st = state.value;
    const mine = selected();
    carrierList.replaceChildren();
    for (const c of carriers) {
      const plans = plansOf(c);
      if (!plans.length) continue;
      const states = [...new Set(plans.flatMap((p) => p.states || []))];
      const writes = states.includes(st);
      const cb = h('input', {
        type: 'checkbox', id: uid('carrier'), value: c.id, checked: mine.has(c.id),
        onchange: () => (cb.checked ? mine.add(c.id) : mine.delete(c.id)),
      });
      carrierList.append(checkField(
        [c.name, ` (${c.rating})`, writes ? null : h('span', { class: 'muted' }, ` — not in ${st}`)],
        cb,
      ));
    }
    carrierDetails.hidden = carrierList.children.length === 0;
  }

  /** The carriers to ask: those ticked in the current line's list (and listed there). */
  function checkedCarriers() {
    const listed = new Set(carriers.filter((c) => plansOf(c).length).map((c) => c.id));
    return [...selected()].filter((id) => listed.has(id));
  }

  // Under the effective date, when every plan of the line in the chosen state
  // ends before it (plan.until: a health plan year): each carrier would
  // answer "Not available", so the shopper is told before asking, with the
  // last start date the rates on file can quote. Empty when hidden, since the
  // date field is described by it.
  const effNote = h('p', { class: 'hint', id: `${eff.id}-rates`, hidden: true, 'data-testid': 'eff-rates-note' });
  function updateEffNote() {
    const date = eff.value.trim();
    const st = state.value;
    const ends = carriers.flatMap(plansOf).filter((p) => (p.states || []).includes(st)).map((p) => p.until);
    const last = ends.length && ends.every(Boolean) ? [...ends].sort().at(-1) : null;
    const after = last && /^\d{4}-\d{2}-\d{2}$/.test(date) && date > last;
    effNote.textContent = after
      ? `The rates on file for this line in ${STATE_NAMES[st] || st} end on ${last}, so for a policy starting ` +
        `${date} every carrier would answer "Not available". To compare the plans on file, choose a start date ` +
        `on or before ${last}; for a later start, come back once newer rates are published.`
      : '';
    effNote.hidden = !after;
  }
  // Under the state, when no carrier has a plan of the line there (health in
  // Pennsylvania): each would answer "Not available". Empty when hidden.
  const stateNote = h('p', { class: 'hint', id: `${state.id}-none`, hidden: true, 'data-testid': 'state-rates-note' });
  function updateStateNote() {
    const st = state.value;
    const none = carriersKnown && st !== '' && !carriers.flatMap(plansOf).some((p) => (p.states || []).includes(st));
    stateNote.textContent = none
      ? `No carrier on file quotes ${lineTitle(line).toLowerCase()} insurance in ${STATE_NAMES[st] || st}: every one `
        + 'would answer "Not available". The states listed first are those where carriers quote it.'
      : '';
    stateNote.hidden = !none;
  }

  eff.addEventListener('input', updateEffNote);
  eff.addEventListener('change', updateEffNote);

  getCarriers().then((res) => {
    if (res.ok && res.data && Array.isArray(res.data.carriers)) {
      carriers = res.data.carriers;
      carriersKnown = true;
      groupStates();
      renderCarriers();
      updateEffNote();
      updateStateNote();
    }
  });
  state.addEventListener('change', renderCarriers);
  state.addEventListener('change', updateEffNote);
  state.addEventListener('change', updateStateNote);

  const wraps = {
    county: field('County FIPS code', county, { required: true, hint: '5 digits; Franklin County, OH is 39049' }),
    dob: field('Date of birth', dob, { hint: 'YYYY-MM-DD' }),
    gender: field('Gender', gender, { required: true, hint: 'The rate tables are by sex' }),
    homeowner: checkField('I own a home (a discount with many carriers)', homeowner),
    paperless: checkField('Paperless billing and documents', paperless),
  };
  const aboutHint = h('p', { class: 'hint' });
  const stateField = field('State', state, { required: true });
  stateField.insertBefore(stateNote, stateField.querySelector('.field-error'));
  state.setAttribute('aria-describedby', stateNote.id);

  container.replaceChildren(
    h('fieldset', { class: 'section' },
      h('legend', null, 'Policy start'),
      h('div', { class: 'grid' },
        field('Effective date', eff, { required: true, hint: 'YYYY-MM-DD. The policy would start on this date.' })),
      effNote),
    h('fieldset', { class: 'section', 'data-path': 'applicant' },
      h('legend', null, 'About you'),
      aboutHint,
      h('div', { class: 'grid' },
        stateField,
        field('ZIP code', zip, { required: true, hint: '5 digits' }),
        wraps.county,
        wraps.dob,
        wraps.gender,
        field('First name', first),
        field('Last name', last),
        field('Email', email),
        field('Phone', phone),
        field('Street', street),
        field('City', city)),
      h('div', { class: 'checks' },
        wraps.homeowner,
        wraps.paperless,
        checkField('Carriers and agents may contact me about these quotes', consent))),
    carrierDetails,
  );

  /** Shows the applicant fields line `asks` names, hides the others. */
  function applyAsks() {
    wraps.county.hidden = asks.countyFips === 'hidden';
    wraps.dob.hidden = asks.dob === 'hidden';
    wraps.gender.hidden = asks.gender === 'hidden';
    wraps.homeowner.hidden = asks.homeowner !== true;
    wraps.paperless.hidden = !asks.paperless;
    setRequired(dob, asks.dob === 'required');
    const needs = ['state', 'ZIP'];
    if (asks.countyFips !== 'hidden') needs.push('county');
    if (asks.dob === 'required') needs.push('date of birth');
    if (asks.gender !== 'hidden') needs.push('gender');
    const list = needs.length > 2 ? `${needs.slice(0, -1).join(', ')} and ${needs[needs.length - 1]}` : needs.join(' and ');
    aboutHint.textContent = `Only the ${list} are needed for prices. Contact details are optional and used only if you agree to be contacted.`;
  }
  applyAsks();
  eff.setAttribute('aria-describedby', `${eff.getAttribute('aria-describedby') || ''} ${effNote.id}`.trim());

  return {
    /**
     * Switches to line `id`; `fields` is the line module's `applicant` (which
     * fields it asks), `lines` its `planLines` (whose plans the carrier list
     * offers; default [id]).
     */
    setLine(id, fields, lines) {
      line = id;
      planLines = Array.isArray(lines) && lines.length ? lines : [id];
      asks = { ...APPLICANT_DEFAULTS, ...(fields || {}) };
      applyAsks();
      groupStates();
      renderCarriers();
      updateEffNote();
      updateStateNote();
    },
    state: () => state.value,
    onStateChange(fn) {
      listeners.push(fn);
    },
    build() {
      const req = {};
      putText(req, 'effective_date', eff);
      const ap = {};
      putText(ap, 'first_name', first);
      putText(ap, 'last_name', last);
      putText(ap, 'email', email);
      putText(ap, 'phone', phone);
      if (asks.dob !== 'hidden') putText(ap, 'date_of_birth', dob);
      if (asks.gender !== 'hidden') putText(ap, 'gender', gender);
      const addr = {};
      putText(addr, 'street', street);
      putText(addr, 'city', city);
      putText(addr, 'state', state);
      putText(addr, 'zip', zip);
      if (asks.countyFips !== 'hidden') putText(addr, 'county_fips', county);
      ap.address = addr;
      if (asks.homeowner === 'implied') ap.homeowner = true;
      else if (asks.homeowner) ap.homeowner = homeowner.checked;
      if (asks.paperless) ap.paperless = paperless.checked;
      if (consent.checked) ap.consent = { contact: true }; // unchecked: no consent, field omitted
      req.applicant = ap;
      const picked = checkedCarriers();
      if (picked.length) req.carriers = picked;
      return req;
    },
    fill(req) {
      const ap = req.applicant || {};
      const addr = ap.address || {};
      eff.value = req.effective_date || firstOfNextMonth();
      first.value = ap.first_name || '';
      last.value = ap.last_name || '';
      dob.value = ap.date_of_birth || '';
      gender.value = '';
      if (ap.gender) chooseOption(gender, ap.gender);
      county.value = addr.county_fips || '';
      email.value = ap.email || '';
      phone.value = ap.phone || '';
      street.value = addr.street || '';
      city.value = addr.city || '';
      if (addr.state) chooseOption(state, addr.state);
      zip.value = addr.zip || '';
      homeowner.checked = !!ap.homeowner;
      paperless.checked = !!ap.paperless;
      consent.checked = !!(ap.consent && ap.consent.contact);
      const mine = selected(); // the line shown is the request's line (the caller picked it)
      mine.clear();
      for (const id of Array.isArray(req.carriers) ? req.carriers : []) mine.add(String(id));
      carrierDetails.open = mine.size > 0;
      renderCarriers();
      updateEffNote();
      updateStateNote();
      listeners.forEach((fn) => fn(state.value));
    },
    reset() {
      this.fill({ applicant: { address: { state: 'OH' } } });
    },
  };
}
