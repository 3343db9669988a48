// line-term_life.js -- the term life form: the policy (face amount, term,
// payment mode) and the underwriting answers (tobacco, build, four health
// questions, an optional self-declared class). Builds the "term_life" part of
// the contract request; the applicant's date of birth and gender are asked in
// the envelope (common.js), required for this line.
//
// Every underwriting answer is a yes/no with neither chosen at first: an
// unanswered question is left out, and the server names it, so no carrier
// classifies the shopper on an answer never given. Height is typed as feet
// and inches and sent as build.height_in.

import {
  h, field, input, select, setOptions, chooseOption, groupError, putNumber, putText, putAnswer, numText, usd,
  yesNo, money,
} from './dom.js';

// The amounts agents quote most, across the carriers' range (100,000 to
// 10,000,000): 300,000 or 1,500,000 could not be asked for.
const FACE = [
  100000, 150000, 200000, 250000, 300000, 400000, 500000, 750000, 1000000, 1500000, 2000000, 3000000,
  5000000, 10000000,
].map((n) => [String(n), usd(n)]);
const TERMS = [10, 15, 20, 25, 30].map((n) => [String(n), `${n} years`]);
const MODES = [['monthly', 'Monthly'], ['quarterly', 'Quarterly'], ['semiannual', 'Twice a year'], ['annual', 'Once a year']];

export const CLASS_NAMES = {
  preferred_plus: 'Preferred plus',
  preferred: 'Preferred',
  standard_plus: 'Standard plus',
  standard: 'Standard',
  tobacco_preferred: 'Tobacco preferred',
  tobacco_standard: 'Tobacco standard',
};
const NON_TOBACCO = ['preferred_plus', 'preferred', 'standard_plus', 'standard'];
const TOBACCO = ['tobacco_preferred', 'tobacco_standard'];
const DECIDE = ['', 'Let each carrier decide'];

const QUESTIONS = [
  ['blood_pressure_treated', 'Are you treated for high blood pressure?'],
  ['cholesterol_treated', 'Are you treated for high cholesterol?'],
  ['diabetes', 'Do you have diabetes?'],
  ['family_heart_disease_before_60', 'Did a parent or sibling have heart disease before age 60?'],
];

const coverageNames = { life: 'Term life' };

// The contract's term_life example.
const example = {
  line: 'term_life',
  effective_date: '2026-04-01',
  applicant: {
    first_name: 'Maria',
    last_name: 'Lopez',
    date_of_birth: '1984-09-20',
    gender: 'female',
    address: { city: 'Columbus', state: 'OH', zip: '43215' },
  },
  face_amount: 500000,
  term_years: 20,
  payment_mode: 'monthly',
  tobacco: false,
  build: { height_in: 66, weight_lb: 150 },
  health: {
    blood_pressure_treated: false,
    cholesterol_treated: false,
    diabetes: false,
    family_heart_disease_before_60: false,
  },
  health_class: null,
};

/** "per month" for a premium paid every `months` months. */
export function perPayment(months) {
  const m = Number(months);
  if (m === 1) return 'per month';
  if (m === 3) return 'per quarter';
  if (m === 6) return 'every 6 months';
  if (m === 12) return 'per year';
  return Number.isFinite(m) && m > 0 ? `every ${m} months` : '';
}

function mount(container) {
  const face = select('life-face', 'face_amount', FACE, '500000');
  const term = select('life-term', 'term_years', TERMS, '20');
  const mode = select('life-mode', 'payment_mode', MODES, 'monthly');
  const policyBox = h('fieldset', { class: 'section' },
    h('legend', null, 'The policy'),
    h('div', { class: 'grid' },
      field('Death benefit', face, { required: true, hint: 'Paid to your beneficiaries' }),
      field('Term', term, { required: true, hint: 'Years the price is level; the term must end by age 95' }),
      field('Pay', mode, { required: true })));

  const tobacco = yesNo('life-tobacco', 'tobacco', 'Have you used tobacco or nicotine in the last 12 months?');
  // The feet are the required part of the height (the legend's star): a screen reader says so on them.
  const feet = input('life-feet', 'build.height_in', {
    type: 'number', min: '4', max: '7', step: '1', inputmode: 'numeric', required: true,
  });
  // Inches are checked here (errors.js, localProblems): 5 ft 13 in would go as 73 inches, a height never typed.
  const inches = input('life-inches', 'build.height_in', {
    type: 'number', min: '0', max: '11', step: '1', inputmode: 'numeric', 'data-local-range': 'inches',
  });
  const weight = input('life-weight', 'build.weight_lb', { type: 'number', min: '80', max: '500', step: '1', inputmode: 'numeric' });
  const height = h('fieldset', { class: 'height', 'data-path': 'build.height_in', 'data-field-group': '', 'aria-required': 'true' });
  height.append(
    h('legend', null, 'Height', h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
    groupError(height),
    h('div', { class: 'height-parts' },
      h('span', { class: 'part' }, feet, h('label', { for: feet.id }, 'feet')),
      h('span', { class: 'part' }, inches, h('label', { for: inches.id }, 'inches'))));
  const buildBox = h('div', { class: 'grid', 'data-path': 'build' },
    height,
    field('Weight (pounds)', weight, { required: true }));

  const questions = QUESTIONS.map(([key, q]) => ({ key, g: yesNo(`life-${key}`, `health.${key}`, q) }));
  const healthBox = h('fieldset', { class: 'sub', 'data-path': 'health' });
  healthBox.append(h('legend', null, 'Health'), groupError(healthBox),
    h('div', { class: 'questions' }, questions.map((x) => x.g.el)));

  const cls = select('life-class', 'health_class', [DECIDE], '');
  const classWrap = field('Health class', cls, {
    hint: 'Optional. Left to each carrier, it places you in its own class from your build and health answers.',
  });
  function classOptions() {
    const t = tobacco.value();
    const codes = t === true ? TOBACCO : t === false ? NON_TOBACCO : [...NON_TOBACCO, ...TOBACCO];
    const keep = codes.includes(cls.value) ? cls.value : '';
    setOptions(cls, [DECIDE, ...codes.map((c) => [c, CLASS_NAMES[c]])], keep);
  }
  tobacco.el.addEventListener('change', classOptions);

  const uwBox = h('fieldset', { class: 'section' });
  uwBox.append(h('legend', null, 'About your health'),
    h('p', { class: 'hint' }, 'Carriers set your price class from these answers; each confirms them (usually with a records check or exam) before the policy is issued.'),
    tobacco.el, buildBox, healthBox, h('div', { class: 'grid' }, classWrap));

  container.replaceChildren(policyBox, uwBox);

  const ctl = {
    build() {
      const out = {};
      putNumber(out, 'face_amount', face);
      putNumber(out, 'term_years', term);
      putText(out, 'payment_mode', mode);
      putAnswer(out, 'tobacco', tobacco);
      const b = {};
      const ft = feet.value.trim();
      const inch = inches.value.trim();
      if (ft !== '' || inch !== '') {
        const total = Number(ft || 0) * 12 + Number(inch || 0);
        // Something that is not a number goes as typed, so the server names it.
        b.height_in = Number.isFinite(total) ? total : `${ft} ft ${inch} in`;
      }
      putNumber(b, 'weight_lb', weight);
      out.build = b;
      const hq = {};
      for (const x of questions) putAnswer(hq, x.key, x.g);
      out.health = hq;
      out.health_class = cls.value || null; // null: each carrier classifies
      return out;
    },

    fill(req) {
      chooseOption(face, numText(req.face_amount ?? 500000), usd(req.face_amount));
      chooseOption(term, numText(req.term_years ?? 20), `${req.term_years} years`);
      chooseOption(mode, req.payment_mode || 'monthly');
      tobacco.set(req.tobacco);
      const b = req.build || {};
      const hi = Number(b.height_in);
      if (b.height_in === undefined || b.height_in === null || !Number.isFinite(hi)) {
        feet.value = '';
        inches.value = '';
      } else {
        feet.value = String(Math.floor(hi / 12));
        inches.value = String(Math.round((hi - Math.floor(hi / 12) * 12) * 100) / 100);
      }
      weight.value = numText(b.weight_lb);
      const hq = req.health || {};
      for (const x of questions) x.g.set(hq[x.key]);
      classOptions();
      if (req.health_class) chooseOption(cls, req.health_class, CLASS_NAMES[req.health_class]);
      else cls.value = '';
    },

    reset() {
      ctl.fill({});
    },
  };
  ctl.reset();
  return ctl;
}

const className = (c) => (c ? CLASS_NAMES[c] || String(c).replace(/_/g, ' ') : '—');

/**
 * What a year of premium payments comes to: the premium per payment times
 * the payments a year (12 monthly, 4 quarterly...), counted in cents so the
 * sum is exact; null when the payment is not a whole part of a year.
 */
export function yearly(premium) {
  const p = premium || {};
  const months = Number(p.term_months);
  const cents = Math.round(Number(p.total) * 100);
  if (!(months > 0) || 12 % months !== 0 || !Number.isFinite(cents)) return null;
  return (cents * (12 / months)) / 100;
}

/** "$963.96 a year (12 payments)" for a premium paid more often than once a year; null otherwise. */
function yearText(premium) {
  const y = yearly(premium);
  const n = 12 / Number(premium && premium.term_months);
  return y === null || n === 1 ? null : `$${money(y)} a year (${n} payments)`;
}

// How the results show: the premium per payment, what it comes to a month
// and a year, and the class each carrier assumed.
const results = {
  per: (r) => perPayment(r.premium && r.premium.term_months),
  more: (r) => {
    const p = r.premium || {};
    const month = Number(p.term_months) === 1 ? null : `About $${money(p.monthly)} a month`;
    return [month, yearText(p)].filter(Boolean);
  },
  facts: (r, key) => [{ label: 'Class assumed', value: className(r.health_class), testid: `class-${key}` }],
  breakdownTotal: (p) => `Premium ${perPayment(p.term_months)}`,
  // Compared a month (the default basis), whatever the payment: the premium per payment goes under the bar.
  maxLabel: 'Maximum premium a month ($)',
  chartCaption: 'Premium a month by carrier (the premium per payment under each bar)',
  chartNote: (r) => {
    const p = r.premium || {};
    return Number(p.term_months) === 1 ? null : `$${money(p.total)} ${perPayment(p.term_months)}`;
  },
  worksheetTitle: (r) => `Why ${(r.carrier && (r.carrier.name || r.carrier.id)) || ''} costs $${money(r.premium && r.premium.total)} ${perPayment(r.premium && r.premium.term_months)}`,
  totalRows: [
    { label: 'Class assumed', cell: (r) => className(r.health_class), testid: 'compare-class' },
    { label: 'Fees', cell: (r) => money(r.premium.fees) },
    { label: 'Premium per payment', cell: (r) => money(r.premium.total), testid: 'compare-total', strong: true },
    { label: 'Paid', cell: (r) => perPayment(r.premium.term_months) },
    { label: 'Monthly equivalent', cell: (r) => money(r.premium.monthly) },
    { label: 'A year', cell: (r) => money(yearly(r.premium)), testid: 'compare-year' },
  ],
};

export default {
  id: 'term_life',
  title: 'Term life',
  coverageNames,
  coverageOrder: ['life'],
  unitWord: 'Unit',
  example,
  exampleText: 'a woman born 1984-09-20 in Columbus OH, $500,000 for 20 years, paid monthly.',
  applicant: { dob: 'required', gender: 'required', homeowner: false, paperless: false },
  results,
  mount,
};
