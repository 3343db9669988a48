// property.js -- what the home (HO-3) and renters (HO-4) forms share: the
// choices for construction and protection class, the protective devices, the
// list of prior claims, and the liability / medical payments / deductible
// selects. line-home.js and line-renters.js build their requests from these.

import {
  h, field, checkField, input, select, chooseOption, dateInput, groupError, putText, putNumber, numText, uid, usd, say,
  leftText,
} from './dom.js';

export const CONSTRUCTION = [
  ['', 'Choose…'],
  ['frame', 'Frame (wood)'],
  ['masonry', 'Masonry (brick, stone)'],
  ['masonry_veneer', 'Masonry veneer'],
  ['fire_resistive', 'Fire resistive'],
];

export const CONSTRUCTION_HINT = 'Masonry veneer: a brick face on a wood frame. Fire resistive: concrete or steel.';

export const PROTECTION_CLASSES = [['', 'Choose…'], ...Array.from({ length: 10 }, (_, i) => [String(i + 1), String(i + 1)])];
export const PROTECTION_HINT = 'ISO public protection class: 1 is the best fire protection, 10 none. Your agent or fire department knows it.';

const CLAIM_TYPES = [
  ['water', 'Water damage'],
  ['wind', 'Wind'],
  ['hail', 'Hail'],
  ['fire', 'Fire or smoke'],
  ['theft', 'Theft'],
  ['liability', 'Liability (someone hurt or their property damaged)'],
  ['other', 'Other'],
];

// Every amount a bundled carrier writes (its liability_rate, med_pay_rate and
// deductible tables): a carrier that does not write one says so in its result.
const LIABILITY = [100000, 300000, 500000, 1000000].map((n) => [String(n), usd(n)]);
// Medical payments to others is optional: "None" leaves it out of the request.
const MED_PAY = [['', 'None'], ...[1000, 2000, 5000, 10000].map((n) => [String(n), usd(n)])];
const DEDUCTIBLES = {
  home: [250, 500, 1000, 2000, 2500, 5000, 10000].map((n) => [String(n), usd(n)]),
  renters: [250, 500, 1000, 2500].map((n) => [String(n), usd(n)]),
};

/** A whole-dollar amount input. */
export function amountInput(prefix, path, attrs = {}) {
  return input(prefix, path, { type: 'number', min: '0', step: '1', inputmode: 'numeric', ...attrs });
}

/** Sets a select to a whole-dollar amount, adding it when not listed; empty for none. */
export function setAmountSelect(el, value) {
  if (value === undefined || value === null || value === '') el.value = '';
  else chooseOption(el, String(value), usd(value));
}

/** The protective device checkboxes at `base` (dwelling / unit). */
export function devices(base) {
  const make = (key, prefix) => h('input', { type: 'checkbox', id: uid(prefix), 'data-path': `${base}.${key}` });
  const f = {
    smoke: make('smoke_detectors', 'smoke'),
    sprinklers: make('sprinklers', 'sprinkler'),
    alarm: make('burglar_alarm', 'alarm'),
  };
  const el = h('div', { class: 'checks' },
    checkField('Smoke detectors', f.smoke),
    checkField('Automatic sprinklers', f.sprinklers),
    checkField('Burglar alarm', f.alarm));
  return {
    el,
    /** Puts the three answers into `o`; with `onlyYes`, only those checked. */
    build(o, onlyYes) {
      for (const [key, c] of [['smoke_detectors', f.smoke], ['sprinklers', f.sprinklers], ['burglar_alarm', f.alarm]]) {
        if (c.checked || !onlyYes) o[key] = c.checked;
      }
    },
    fill(d) {
      f.smoke.checked = !!(d && d.smoke_detectors);
      f.sprinklers.checked = !!(d && d.sprinklers);
      f.alarm.checked = !!(d && d.burglar_alarm);
    },
  };
}

/**
 * The prior-claims list: a fieldset (data-path "claims") of claim rows with
 * add and remove. Returns {el, build() -> [claims], fill(list)}.
 */
export function claimsSection(what) {
  const claims = []; // {el, legend, remove, f}
  const list = h('div', { class: 'items' });
  const addBtn = h('button', {
    type: 'button', class: 'add', 'data-testid': 'add-claim', onclick: () => focusFirst(addClaim().el),
  }, 'Add claim');
  const hint = h('p', { class: 'hint' }, `Claims on ${what} in the last 5 years. None? Leave this empty.`);
  const el = h('fieldset', { class: 'section', 'data-path': 'claims' });
  el.append(h('legend', null, 'Prior claims'), groupError(el), hint, list, addBtn);

  function addClaim(data = {}) {
    const f = {
      type: select('claim-type', '', CLAIM_TYPES, 'water'),
      date: dateInput('claim-date', ''),
      amount: amountInput('claim-amount', '', { step: '0.01', inputmode: 'decimal' }),
    };
    if (data.type) chooseOption(f.type, data.type);
    f.date.value = data.date || '';
    f.amount.value = numText(data.amount);
    const c = { f, legend: h('legend') };
    c.remove = h('button', {
      type: 'button',
      class: 'link-button remove',
      onclick: () => {
        const i = claims.indexOf(c);
        claims.splice(i, 1);
        c.el.remove();
        reindex();
        addBtn.focus();
        say(addBtn, `Removed claim ${i + 1}. ${leftText(claims.length, 'claim', 'claims')}`);
      },
    });
    c.el = h('fieldset', { class: 'item claim' });
    c.el.append(c.legend, groupError(c.el),
      h('div', { class: 'grid' },
        field('Type', f.type, { required: true }),
        field('Date of loss', f.date, { required: true, hint: 'YYYY-MM-DD' }),
        field('Amount paid (USD)', f.amount, { hint: 'Optional' })),
      h('div', { class: 'item-actions' }, c.remove));
    claims.push(c);
    list.append(c.el);
    reindex();
    return c;
  }

  function reindex() {
    claims.forEach((c, i) => {
      const base = `claims[${i}]`;
      c.el.setAttribute('data-path', base);
      c.f.type.setAttribute('data-path', `${base}.type`);
      c.f.date.setAttribute('data-path', `${base}.date`);
      c.f.amount.setAttribute('data-path', `${base}.amount`);
      c.el.setAttribute('data-title', `Claim ${i + 1}`);
      c.el.setAttribute('data-testid', `claim-${i + 1}`);
      c.legend.textContent = `Claim ${i + 1}`;
      c.remove.textContent = `Remove claim ${i + 1}`;
    });
    hint.hidden = claims.length > 0;
  }

  return {
    el,
    build() {
      return claims.map((c) => {
        const o = {};
        putText(o, 'type', c.f.type);
        putText(o, 'date', c.f.date);
        putNumber(o, 'amount', c.f.amount);
        return o;
      });
    },
    fill(items) {
      claims.splice(0).forEach((c) => c.el.remove());
      for (const c of Array.isArray(items) ? items : []) addClaim(c || {});
      reindex();
    },
  };
}

/** Liability, medical payments and deductible selects under "coverages", for `line` (home or renters). */
export function policySelects(line) {
  return {
    liability: select('cov-liability', 'coverages.liability', LIABILITY, '300000'),
    medPay: select('cov-medpay', 'coverages.med_pay', MED_PAY, '5000'),
    deductible: select('cov-deductible', 'coverages.deductible', DEDUCTIBLES[line], '1000'),
  };
}

export function focusFirst(el) {
  const c = el.querySelector('input, select, textarea, button');
  if (c) c.focus();
}

/** Property coverages shown in the results. */
export const PROPERTY_COVERAGE_ORDER = ['property', 'liability', 'med_pay'];
