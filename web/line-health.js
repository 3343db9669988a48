// line-health.js -- the ACA individual-market health form: the household
// (size and income, for the premium tax credit), the members to cover, and an
// optional metal-level filter. Builds the "health" part of the contract
// request (household, members, filters); the county FIPS code is asked in the
// envelope's address (common.js), required for this line.
//
// Members are rows in page order with ids m1, m2... rewritten on every add and
// remove. The first member is the applicant ("self") and cannot be removed;
// the others are a spouse or children. Tobacco use is asked of every member,
// with neither answer chosen at first (an unanswered question is left out and
// the server names it, rather than quoting the non-tobacco price).
//
// Results: one issuer offers several plans, so a health result is keyed by its
// plan id (result-<plan>, total-<plan>...), not its carrier id; the headline
// price is the net premium a month after the premium tax credit.

import {
  h, uid, field, checkField, input, select, chooseOption, dateInput, groupError, putText, putNumber, putAnswer,
  numText, yesNo, money, usd, say, leftText,
} from './dom.js';

const RELATIONSHIPS = { self: 'You', spouse: 'Spouse', child: 'Child' };
const OTHERS = [['spouse', 'Spouse'], ['child', 'Child']];
const METALS = [['bronze', 'Bronze'], ['silver', 'Silver'], ['gold', 'Gold']];

const coverageNames = { premium: 'Member premium' };

// The first worked case of the ACA reference (aca-health.examples.json, "1-single-40").
const example = {
  line: 'health',
  effective_date: '2026-01-01',
  applicant: {
    first_name: 'Pat',
    last_name: 'Doe',
    address: { street: '1 Broad St', city: 'Columbus', state: 'OH', zip: '43215', county_fips: '39049' },
  },
  household: { size: 1, income: 30000 },
  members: [{ id: 'm1', relationship: 'self', date_of_birth: '1985-07-01', tobacco: false }],
};

function mount(container) {
  // ---- Household ------------------------------------------------------------
  const size = input('hh-size', 'household.size', { type: 'number', min: '1', max: '20', step: '1', inputmode: 'numeric' });
  const income = input('hh-income', 'household.income', { type: 'number', min: '0', step: '1', inputmode: 'numeric' });
  const householdBox = h('fieldset', { class: 'section', 'data-path': 'household' });
  householdBox.append(h('legend', null, 'Your household'), groupError(householdBox),
    h('p', { class: 'hint' }, 'Optional, for the premium tax credit: leave both empty to see prices without it.'),
    h('div', { class: 'grid' },
      field('Household size', size, { hint: 'Everyone on your tax return, at least the members below' }),
      field('Expected household income (USD a year)', income, { hint: 'For the coverage year' })));

  // ---- Members ----------------------------------------------------------------
  const members = []; // {el, legend, remove, rel (select|null), dob, tobacco}
  const list = h('div', { class: 'items' });
  const addBtn = h('button', {
    type: 'button', class: 'add', 'data-testid': 'add-member', onclick: () => focusFirst(addMember().el),
  }, 'Add member');
  const membersBox = h('fieldset', { class: 'section', 'data-path': 'members' });
  membersBox.append(h('legend', null, 'Who needs coverage'), groupError(membersBox),
    h('p', { class: 'hint' }, 'You first, then your spouse and children to cover. Only the three oldest children under 21 are charged.'),
    list, addBtn);

  function addMember(data = {}) {
    const first = members.length === 0;
    const m = { first };
    if (!first) {
      const hasSpouse = members.some((x) => x.rel && x.rel.value === 'spouse');
      m.rel = select('mem-rel', '', OTHERS, data.relationship || (hasSpouse ? 'child' : 'spouse'));
      if (data.relationship) chooseOption(m.rel, data.relationship);
    }
    m.dob = dateInput('mem-dob', '');
    m.dob.value = data.date_of_birth || '';
    m.tobacco = yesNo('mem-tobacco', '', 'Tobacco use in the last 6 months?', { hint: 'At least 4 times a week, not for religious or ceremonial use' });
    m.tobacco.set(data.tobacco);
    m.legend = h('legend');
    m.remove = h('button', {
      type: 'button',
      class: 'link-button remove',
      onclick: () => {
        if (m.first) return;
        const i = members.indexOf(m);
        members.splice(i, 1);
        m.el.remove();
        reindex();
        addBtn.focus();
        say(addBtn, `Removed member ${i + 1}. ${leftText(members.length, 'member', 'members')}`);
      },
    });
    m.el = h('fieldset', { class: 'item member' });
    m.el.append(m.legend, groupError(m.el),
      h('div', { class: 'grid' },
        m.rel ? field('Relationship', m.rel, { required: true }) : null,
        field('Date of birth', m.dob, { required: true, hint: 'YYYY-MM-DD' })),
      m.tobacco.el);
    if (!first) m.el.append(h('div', { class: 'item-actions' }, m.remove));
    members.push(m);
    list.append(m.el);
    reindex();
    return m;
  }

  function reindex() {
    members.forEach((m, i) => {
      const base = `members[${i}]`;
      const id = `m${i + 1}`;
      m.el.setAttribute('data-path', base);
      m.el.setAttribute('data-title', i === 0 ? 'Member 1 (you)' : `Member ${i + 1}`);
      m.el.setAttribute('data-testid', `member-${i + 1}`);
      if (m.rel) m.rel.setAttribute('data-path', `${base}.relationship`);
      m.dob.setAttribute('data-path', `${base}.date_of_birth`);
      m.tobacco.el.setAttribute('data-path', `${base}.tobacco`);
      m.legend.replaceChildren(`Member ${i + 1} `, h('span', { class: 'muted' }, i === 0 ? `(${id}, you)` : `(${id})`));
      m.remove.textContent = `Remove member ${i + 1}`;
    });
  }

  // ---- Metal filter -------------------------------------------------------------
  const metalChecks = METALS.map(([v, label]) => {
    const cb = h('input', { type: 'checkbox', id: uid(`metal-${v}`), value: v, 'data-testid': `metal-${v}` });
    return { v, cb, wrap: checkField(label, cb) };
  });
  const metalBox = h('fieldset', { class: 'section', 'data-path': 'filters.metal' });
  metalBox.append(h('legend', null, 'Metal levels to show'), groupError(metalBox),
    h('p', { class: 'hint' }, 'Bronze: lowest premium, highest costs when you get care; gold: the reverse. Leave all unchecked to see every plan.'),
    h('div', { class: 'check-row' }, metalChecks.map((m) => m.wrap)));

  container.replaceChildren(householdBox, membersBox, metalBox);

  const ctl = {
    build() {
      const out = {};
      const hh = {};
      putNumber(hh, 'size', size);
      putNumber(hh, 'income', income);
      if (Object.keys(hh).length) out.household = hh;
      out.members = members.map((m, i) => {
        const o = { id: `m${i + 1}`, relationship: m.rel ? m.rel.value : 'self' };
        putText(o, 'date_of_birth', m.dob);
        putAnswer(o, 'tobacco', m.tobacco);
        return o;
      });
      const metals = metalChecks.filter((m) => m.cb.checked).map((m) => m.v);
      if (metals.length) out.filters = { metal: metals };
      return out;
    },

    fill(req) {
      const hh = req.household || {};
      size.value = numText(hh.size);
      income.value = numText(hh.income);
      members.splice(0).forEach((m) => m.el.remove());
      const given = Array.isArray(req.members) ? req.members : [];
      // The applicant ("self") comes first whatever the order given.
      const self = given.find((m) => m && m.relationship === 'self') || {};
      addMember(self);
      for (const m of given) if (m && m !== self) addMember(m);
      const picked = new Set((req.filters && Array.isArray(req.filters.metal)) ? req.filters.metal : []);
      for (const m of metalChecks) m.cb.checked = picked.has(m.v);
      reindex();
    },

    reset() {
      ctl.fill({});
    },
  };
  ctl.reset();
  return ctl;
}

function focusFirst(el) {
  const c = el.querySelector('input, select, textarea, button');
  if (c) c.focus();
}

/** {m1: 'you, born 1985-07-01'} for a request, to label the results' rows. */
function unitLabels(request) {
  const out = {};
  for (const m of (request && Array.isArray(request.members) && request.members) || []) {
    if (!m || !m.id) continue;
    const who = RELATIONSHIPS[m.relationship] || String(m.relationship || '');
    out[m.id] = [who.toLowerCase(), m.date_of_birth ? `born ${m.date_of_birth}` : ''].filter(Boolean).join(', ');
  }
  return out;
}

// ---- Results -------------------------------------------------------------------

const num = (x) => (x === null || x === undefined || x === '' ? NaN : Number(x));
const net = (r) => (Number.isFinite(num(r.net_premium)) ? num(r.net_premium) : num(r.premium && r.premium.total));
const metalName = (m) => (m ? String(m).charAt(0).toUpperCase() + String(m).slice(1) : '');
const dollarsOf = (x) => (Number.isFinite(num(x)) ? `$${money(x)}` : '—');
const wholeOf = (x) => (Number.isFinite(num(x)) ? usd(num(x)) : '—');
const creditOf = (x) => (Number.isFinite(num(x)) ? (num(x) > 0 ? `−$${money(x)}` : '$0.00') : '—');

/**
 * The tax credit a month in words, from the quoted plans: each plan takes the
 * whole credit off its premium unless the premium is smaller (the net is then
 * 0), so a plan with a net above 0 shows the whole credit; when every plan is
 * free, the credit is at least the dearest premium. A plan that takes none
 * while others do (a catastrophic plan, its note says why) is named as the
 * exception. Null without a credit.
 */
function creditAmount(list) {
  const quoted = list.filter((r) => r && r.status === 'quoted');
  const taking = quoted.filter((r) => num(r.tax_credit) > 0);
  if (!taking.length) return null;
  const others = quoted.filter((r) => !(num(r.tax_credit) > 0)).map((r) => results.title(r));
  const except = others.length
    ? ` except ${others.length > 1 ? `${others.slice(0, -1).join(', ')} and ${others.at(-1)}, which cannot take it`
      : `${others[0]}, which cannot take it`}`
    : '';
  const whole = taking.find((r) => num(r.net_premium) > 0);
  if (whole) {
    return `$${money(whole.tax_credit)} a month, taken off each plan's premium below${except} `
      + '(a plan costing less than that is free).';
  }
  const most = Math.max(...taking.map((r) => num(r.gross_premium)));
  return `At least $${money(most)} a month: it pays the whole premium of every plan below${except}.`;
}

const results = {
  key: (r) => (r.plan && r.plan.id) || (r.carrier && r.carrier.id) || '',
  title: (r) => r.plan_name || (r.carrier && (r.carrier.name || r.carrier.id)) || '',
  subtitle: (r) => (r.plan_name && r.carrier ? String(r.carrier.name || r.carrier.id) : null),
  badge: (r) => (r.metal ? { text: metalName(r.metal), cls: `metal metal-${String(r.metal).replace(/[^a-z]/g, '')}` } : null),
  price: net,
  basis: net, // already a month
  per: (r) => (num(r.tax_credit) > 0 ? 'a month after the tax credit' : 'a month'),
  more: () => [],
  facts: (r, key) => [
    { label: 'Premium', value: dollarsOf(r.gross_premium), testid: `gross-${key}` },
    { label: 'Tax credit', value: creditOf(r.tax_credit), testid: `credit-${key}` },
    { label: 'You pay a month', value: dollarsOf(r.net_premium), testid: `net-${key}`, strong: true },
    { label: 'Deductible', value: wholeOf(r.deductible), testid: `deductible-${key}` },
    { label: 'Out-of-pocket max', value: wholeOf(r.out_of_pocket_max), testid: `oop-${key}` },
  ],
  breakdownTotal: () => 'Premium a month, before the tax credit',
  maxLabel: 'Maximum net premium a month ($)',
  chartCaption: 'Net premium a month by plan, after the premium tax credit',
  chartSuffix: () => 'a month',
  chartNote: () => null,
  rowPerUnit: true,
  nouns: { asked: ['issuer', 'issuers'], quoted: ['plan', 'plans'] },
  totalRows: [
    { label: 'Metal level', cell: (r) => metalName(r.metal) },
    { label: 'Premium a month', cell: (r) => money(r.gross_premium) },
    { label: 'Tax credit', cell: (r) => (num(r.tax_credit) > 0 ? `−${money(r.tax_credit)}` : money(r.tax_credit)) },
    { label: 'Net premium a month', cell: (r) => money(net(r)), testid: 'compare-total', strong: true },
    { label: 'Deductible', cell: (r) => wholeOf(r.deductible) },
    { label: 'Out-of-pocket max', cell: (r) => wholeOf(r.out_of_pocket_max) },
  ],
  /**
   * The household's premium tax credit, said once (every result carries the
   * same note): first what it is worth a month, then how the server worked it
   * out (its note).
   */
  banner(list) {
    const notes = [...new Set(list.map((r) => r && r.credit_note).filter((n) => typeof n === 'string' && n))];
    if (!notes.length) return null;
    const amount = creditAmount(list);
    return h('section', { class: 'credit-note', 'data-testid': 'credit-note', 'aria-labelledby': 'credit-h' },
      h('h2', { id: 'credit-h' }, 'Your premium tax credit'),
      amount ? h('p', { class: 'credit-amount', 'data-testid': 'credit-amount' }, amount) : null,
      notes.map((n) => h('p', null, `${n.charAt(0).toUpperCase()}${n.slice(1)}.`.replace(/\.\.$/, '.'))));
  },
  // the worksheet goes on from the premium to the tax credit and the net
  worksheetTitle: (r) => (num(r.tax_credit) > 0
    ? `Why ${results.title(r)} costs $${money(net(r))} a month after the tax credit`
    : `Why ${results.title(r)} costs $${money(r.premium && r.premium.total)} a month`),
};

export default {
  id: 'health',
  title: 'Health',
  coverageNames,
  coverageOrder: ['premium'],
  unitWord: 'Member',
  example,
  exampleText: 'Pat Doe, 40, single, Columbus OH (Franklin County), $30,000 a year.',
  applicant: { dob: 'hidden', countyFips: 'required', homeowner: false, paperless: false },
  unitLabels,
  results,
  mount,
};
