// worksheet.js -- "Why this price": one carrier's rating worksheet in a dialog.
//
// GET /v1/quotes/{id}/worksheet/{carrier} lists every step in order; the
// dialog shows them as a table with one group per unit (vehicle, member) and
// coverage, then the policy steps (minimum premium, fees, total; for health
// the premium tax credit taken off and the net premium). Health asks for
// /worksheet/{plan id}: one issuer there has several plans.

import { h, clear, money, decimal } from './dom.js';
import { getWorksheet, failureText } from './api.js';
import { viewOf } from './results.js';

const OPS = {
  '=': ['=', 'set to'],
  '*': ['×', 'times'],
  '+': ['+', 'plus'],
  '-': ['−', 'minus'],
  r: ['round', 'rounded'],
  m: ['min', 'minimum premium'],
};

const cache = new Map();
let dialog;
let titleEl;
let bodyEl;
let statusEl;
let statusTimer = 0;
let returnFocus = null;

function ensureDialog() {
  if (dialog) return dialog;
  dialog = document.getElementById('worksheet');
  titleEl = dialog.querySelector('#ws-title');
  bodyEl = dialog.querySelector('#ws-body');
  statusEl = dialog.querySelector('#ws-status');
  dialog.querySelector('#ws-close').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    if (returnFocus && returnFocus.isConnected) returnFocus.focus();
    returnFocus = null;
  });
  // A click on the backdrop (outside the dialog's box) closes it.
  dialog.addEventListener('click', (e) => {
    if (e.target !== dialog) return;
    const r = dialog.getBoundingClientRect();
    const inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
    if (!inside) dialog.close();
  });
  return dialog;
}

/** The unit a step prices: a vehicle (auto), a member (health), or none. */
const stepUnit = (step) => String(step.vehicle || step.member || '');

function groupTitle(step, names, units) {
  if (!step.coverage) return 'Policy';
  const name = names[step.coverage] || step.coverage;
  const u = stepUnit(step);
  const unit = u ? `${u}${units[u] ? ` (${units[u]})` : ''}` : '';
  return unit ? `${unit} · ${name}` : name;
}

function lookupText(step) {
  const parts = [];
  if (step.table) parts.push(step.key !== null && step.key !== undefined ? `${step.table}[${step.key}]` : step.table);
  else if (step.key !== null && step.key !== undefined) parts.push(String(step.key));
  if (step.detail) parts.push(String(step.detail));
  return parts.join(' · ');
}

function renderSteps(ws, ctx) {
  const steps = Array.isArray(ws.steps) ? ws.steps : [];
  const table = h('table', { class: 'worksheet-table' },
    h('caption', null, 'Every rating step in order, with the running premium'),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, 'Step'),
      h('th', { scope: 'col', class: 'lookup-col' }, 'Looked up'),
      // The column's name in full: a screen reader says it with every cell of the column (a title is not read).
      h('th', { scope: 'col', 'aria-label': 'Operation' }, h('abbr', { title: 'Operation' }, 'Op.')),
      h('th', { scope: 'col', class: 'num' }, 'Factor'),
      h('th', { scope: 'col', class: 'num' }, 'Running'))));
  let group = null;
  let tbody = null;
  for (const st of steps) {
    const key = `${stepUnit(st)}|${st.coverage || ''}`;
    if (key !== group) {
      group = key;
      tbody = h('tbody', null, h('tr', { class: 'group' },
        h('th', { colspan: 5, scope: 'rowgroup' }, groupTitle(st, ctx.coverageNames || {}, ctx.unitLabels || {}))));
      table.append(tbody);
    }
    const [sym, words] = OPS[st.op] || [String(st.op || ''), String(st.op || '')];
    const money2 = st.op === '+' || st.op === '-' || st.op === 'r' || st.op === 'm' || (st.op === '=' && !st.coverage);
    tbody.append(h('tr', { class: st.op === 'r' || st.name === 'Total' ? 'step strong' : 'step' },
      h('th', { scope: 'row' }, String(st.name || ''),
        lookupText(st) ? h('span', { class: 'lookup lookup-inline' }, lookupText(st)) : null),
      h('td', { class: 'lookup lookup-col' }, lookupText(st)),
      h('td', { class: 'op' }, h('span', { 'aria-hidden': 'true' }, sym), h('span', { class: 'sr-only' }, words)),
      h('td', { class: 'num' }, money2 ? money(st.factor) : decimal(st.factor)),
      h('td', { class: 'num' }, st.op === 'r' || !st.coverage ? money(st.running) : decimal(st.running, 4, 4))));
  }
  if (!steps.length) return h('p', null, 'This result has no rating steps.');
  return h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Worksheet steps' }, table);
}

/**
 * Says `text` in the dialog's status region: a moment after the dialog is
 * shown, so that a region just shown with it is heard (emptied first, so a
 * worksheet opened twice is said twice).
 */
function sayInDialog(text) {
  clearTimeout(statusTimer);
  statusEl.textContent = '';
  statusTimer = setTimeout(() => {
    statusEl.textContent = text;
  }, 100);
}

/**
 * Opens the worksheet of `result` (a quoted result of quote `quoteId`).
 * ctx: {coverageNames, unitLabels, view}; the line's view names the result
 * (its key: the carrier id, or the plan id for health) and titles the dialog.
 * `trigger` gets the focus back on close.
 */
export async function openWorksheet(quoteId, result, ctx, trigger) {
  ensureDialog();
  returnFocus = trigger || null;
  const v = viewOf(ctx);
  const id = v.key(result);
  titleEl.textContent = v.worksheetTitle(result);
  clear(bodyEl).append(h('p', { class: 'loading' }, 'Loading the worksheet…'));
  clearTimeout(statusTimer);
  statusEl.textContent = '';
  dialog.setAttribute('aria-busy', 'true');
  if (!dialog.open) dialog.showModal();

  const key = `${quoteId}|${id}`;
  let res = cache.get(key);
  if (!res) {
    res = await getWorksheet(quoteId, id);
    if (res.ok) cache.set(key, res);
  }
  dialog.removeAttribute('aria-busy');
  clear(bodyEl);
  if (!res.ok || !res.data) {
    bodyEl.append(h('p', { class: 'error-text', role: 'alert' },
      res.status === 404 ? 'This worksheet was not found.' : failureText(res, 'Loading the worksheet')));
    return;
  }
  const ws = res.data;
  const plan = ws.plan || result.plan;
  const n = Array.isArray(ws.steps) ? ws.steps.length : 0;
  sayInDialog(n ? `The worksheet is shown: ${n} rating step${n === 1 ? '' : 's'}, in a table.` : 'This result has no rating steps.');
  bodyEl.append(
    h('p', { class: 'muted' },
      plan ? `Plan ${plan.id}, version ${plan.version}. ` : '',
      'Each coverage starts from the base rate, is multiplied by each factor the carrier\'s manual lists, then rounded; the policy total adds the coverages and fees.'),
    renderSteps(ws, ctx),
  );
}
