// line-home.js -- the homeowners (HO-3) form: the dwelling, prior claims and
// the coverages. Builds the "home" part of the contract request (dwelling,
// claims, coverages).
//
// Coverage A (dwelling) follows the replacement cost until the shopper types
// their own amount. B, C and D are optional: left empty, the server uses 10%,
// 50% and 20% of A, and each hint shows that amount as A changes.

import {
  h, field, select, chooseOption, putText, putNumber, numText, usd,
} from './dom.js';
import {
  CONSTRUCTION, CONSTRUCTION_HINT, PROTECTION_CLASSES, PROTECTION_HINT, PROPERTY_COVERAGE_ORDER,
  amountInput, devices, claimsSection, policySelects, setAmountSelect,
} from './property.js';

const ROOF_TYPES = [
  ['', 'Not specified'],
  ['asphalt_shingle', 'Asphalt shingle'],
  ['architectural_shingle', 'Architectural shingle'],
  ['metal', 'Metal'],
  ['tile', 'Tile'],
  ['slate', 'Slate'],
  ['wood_shake', 'Wood shake'],
  ['flat', 'Flat (membrane, built-up)'],
];
const STORIES = [['', 'Not specified'], ['1', '1'], ['2', '2'], ['3', '3'], ['4', '4']];

const coverageNames = {
  property: 'Property (dwelling, other structures, contents, loss of use)',
  liability: 'Personal liability',
  med_pay: 'Medical payments to others',
};

// The contract's home example.
const example = {
  line: 'home',
  effective_date: '2026-05-01',
  applicant: {
    first_name: 'Dana',
    last_name: 'Reyes',
    address: { street: '12 High St', city: 'Columbus', state: 'OH', zip: '43215' },
    paperless: true,
  },
  dwelling: {
    year_built: 1998,
    construction: 'frame',
    square_feet: 2100,
    stories: 2,
    roof_year: 2015,
    roof_type: 'asphalt_shingle',
    protection_class: 4,
    replacement_cost: 350000,
    smoke_detectors: true,
    sprinklers: false,
    burglar_alarm: true,
  },
  claims: [{ type: 'water', date: '2023-08-14', amount: 8200 }],
  coverages: {
    dwelling: 350000,
    other_structures: 35000,
    personal_property: 175000,
    loss_of_use: 70000,
    liability: 300000,
    med_pay: 5000,
    deductible: 1000,
  },
};

// Optional coverages that default to a share of the dwelling amount.
const SHARES = [
  ['other_structures', 'Other structures (B)', 10, 'Detached garage, fences, sheds'],
  ['personal_property', 'Personal property (C)', 50, 'Your belongings'],
  ['loss_of_use', 'Loss of use (D)', 20, 'Living elsewhere while the home is repaired'],
];

function mount(container) {
  const num = (prefix, path, attrs) => amountInput(prefix, path, attrs);
  const d = {
    yearBuilt: num('dw-year', 'dwelling.year_built', { min: '1700', max: '2100' }),
    construction: select('dw-construction', 'dwelling.construction', CONSTRUCTION, ''),
    squareFeet: num('dw-sqft', 'dwelling.square_feet', { min: '100', max: '100000' }),
    stories: select('dw-stories', 'dwelling.stories', STORIES, ''),
    roofYear: num('dw-roof-year', 'dwelling.roof_year', { min: '1700', max: '2100' }),
    roofType: select('dw-roof-type', 'dwelling.roof_type', ROOF_TYPES, ''),
    protection: select('dw-pc', 'dwelling.protection_class', PROTECTION_CLASSES, ''),
    replacement: num('dw-rc', 'dwelling.replacement_cost'),
  };
  const dev = devices('dwelling');
  const dwellingBox = h('fieldset', { class: 'section', 'data-path': 'dwelling' });
  dwellingBox.append(h('legend', null, 'The home'),
    h('div', { class: 'grid' },
      field('Year built', d.yearBuilt, { required: true }),
      field('Construction', d.construction, { required: true, hint: CONSTRUCTION_HINT }),
      field('Square feet', d.squareFeet, { hint: 'Optional, living area' }),
      field('Stories', d.stories),
      field('Roof year', d.roofYear, { hint: 'Optional, year the roof was put on' }),
      field('Roof covering', d.roofType),
      field('Protection class', d.protection, { required: true, hint: PROTECTION_HINT }),
      field('Replacement cost (USD)', d.replacement, { hint: 'What rebuilding the home would cost. The dwelling coverage follows it.' })),
    dev.el);

  const claims = claimsSection('this or any home you owned');

  const cov = {
    dwelling: num('cov-dwelling', 'coverages.dwelling'),
    ...policySelects('home'),
  };
  let dwellingTouched = false;
  cov.dwelling.addEventListener('input', () => { dwellingTouched = cov.dwelling.value.trim() !== ''; updateShares(); });
  d.replacement.addEventListener('input', () => {
    if (!dwellingTouched) cov.dwelling.value = d.replacement.value;
    updateShares();
  });
  const shares = SHARES.map(([key, label, pct, what]) => {
    const el = num(`cov-${key}`, `coverages.${key}`);
    const wrap = field(label, el, { hint: `Optional; default ${pct}% of dwelling` });
    return { key, pct, what, el, wrap, hint: wrap.querySelector('.hint') };
  });
  function updateShares() {
    const a = Number(cov.dwelling.value);
    const known = cov.dwelling.value.trim() !== '' && Number.isFinite(a) && a > 0;
    for (const s of shares) {
      const amount = known ? Math.floor((a * s.pct + 50) / 100) : null;
      s.hint.textContent = `${s.what}. Optional; default ${s.pct}% of dwelling${amount !== null ? ` (${usd(amount)})` : ''}.`;
    }
  }
  const covBox = h('fieldset', { class: 'section', 'data-path': 'coverages' });
  covBox.append(h('legend', null, 'Coverages'),
    h('div', { class: 'grid' },
      field('Dwelling (A, USD)', cov.dwelling, { required: true, hint: 'Defaults to the replacement cost' }),
      shares.map((s) => s.wrap),
      field('Personal liability (E)', cov.liability, { required: true }),
      field('Medical payments to others (F)', cov.medPay),
      field('Deductible (all perils)', cov.deductible, { required: true })));

  container.replaceChildren(dwellingBox, claims.el, covBox);

  function setNum(el, v) {
    el.value = numText(v);
  }

  const ctl = {
    build() {
      const dw = {};
      putNumber(dw, 'year_built', d.yearBuilt);
      putText(dw, 'construction', d.construction);
      putNumber(dw, 'square_feet', d.squareFeet);
      putNumber(dw, 'stories', d.stories);
      putNumber(dw, 'roof_year', d.roofYear);
      putText(dw, 'roof_type', d.roofType);
      putNumber(dw, 'protection_class', d.protection);
      putNumber(dw, 'replacement_cost', d.replacement);
      dev.build(dw, false);
      const out = { dwelling: dw };
      const list = claims.build();
      if (list.length) out.claims = list;
      const c = {};
      putNumber(c, 'dwelling', cov.dwelling);
      for (const s of shares) putNumber(c, s.key, s.el);
      putNumber(c, 'liability', cov.liability);
      putNumber(c, 'med_pay', cov.medPay);
      putNumber(c, 'deductible', cov.deductible);
      out.coverages = c;
      return out;
    },

    fill(req) {
      const dw = req.dwelling || {};
      setNum(d.yearBuilt, dw.year_built);
      chooseIn(d.construction, dw.construction || '');
      setNum(d.squareFeet, dw.square_feet);
      chooseIn(d.stories, numText(dw.stories));
      setNum(d.roofYear, dw.roof_year);
      chooseIn(d.roofType, dw.roof_type || '');
      chooseIn(d.protection, numText(dw.protection_class));
      setNum(d.replacement, dw.replacement_cost);
      dev.fill(dw);
      claims.fill(req.claims);
      const c = req.coverages || {};
      setNum(cov.dwelling, c.dwelling);
      dwellingTouched = c.dwelling !== undefined && c.dwelling !== null && c.dwelling !== dw.replacement_cost;
      for (const s of shares) setNum(s.el, c[s.key]);
      setAmountSelect(cov.liability, c.liability === undefined ? 300000 : c.liability);
      setAmountSelect(cov.medPay, c.med_pay);
      setAmountSelect(cov.deductible, c.deductible === undefined ? 1000 : c.deductible);
      updateShares();
    },

    reset() {
      ctl.fill({ coverages: { med_pay: 5000 } });
    },
  };
  ctl.reset();
  return ctl;
}

/** Selects `value` in a select, adding it as an option when not listed. */
function chooseIn(el, value) {
  chooseOption(el, String(value));
}

export default {
  id: 'home',
  title: 'Home',
  coverageNames,
  coverageOrder: PROPERTY_COVERAGE_ORDER,
  unitWord: 'Unit',
  example,
  exampleText: 'a 1998 frame house in Columbus OH 43215 with one water claim.',
  applicant: { homeowner: false, paperless: true },
  mount,
};
