// dom.js -- building the page without ever parsing data as HTML.
//
// Every string a caller passes becomes a text node or an attribute value, so
// a carrier or shopper name like <script>alert(1)</script> shows as text.
// Nothing in web/ assigns innerHTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

// Properties set as DOM properties rather than attributes.
const PROPS = new Set(['value', 'checked', 'selected', 'disabled', 'hidden', 'required', 'multiple']);

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', v);
    else if (k === 'text') el.textContent = String(v);
    else if (PROPS.has(k) && !(el instanceof SVGElement)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function addChildren(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** h('p', {class: 'x'}, 'text', child...) -> an HTML element. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  addChildren(el, children);
  return el;
}

/** s('rect', {...}) -> an SVG element. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  addChildren(el, children);
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

let seq = 0;
/** A page-unique element id. */
export function uid(prefix) {
  seq += 1;
  return `${prefix}-${seq}`;
}

// ---- Formatting --------------------------------------------------------

/** Money with exactly two decimals and no thousands separator: 1866.00. */
export function money(x) {
  const n = Number(x);
  return Number.isFinite(n) ? n.toFixed(2) : '';
}

/**
 * A limit or deductible in whole dollars, compact: $2M, $1.25M, $100k, $500;
 * an amount not in round thousands in full, with separators: $287,450.
 */
export function dollars(n) {
  const x = Number(n);
  if (!Number.isFinite(x)) return '';
  if (x >= 1000000 && x % 10000 === 0) return `$${x / 1000000}M`;
  if (x >= 1000 && x % 1000 === 0) return `$${x / 1000}k`;
  return `$${x.toLocaleString('en-US', { maximumFractionDigits: 2 })}`;
}

/** A worksheet number: at least `min`, at most `max` decimals. */
export function decimal(x, min = 2, max = 4) {
  const n = Number(x);
  if (!Number.isFinite(n)) return '';
  let t = n.toFixed(max);
  while (t.includes('.') && t.length > 0) {
    const decs = t.length - t.indexOf('.') - 1;
    if (decs <= min || !t.endsWith('0')) break;
    t = t.slice(0, -1);
  }
  return t;
}

/** Whole dollars with thousands separators: $350,000 (cents only when there are some). */
export function usd(x) {
  const n = Number(x);
  if (!Number.isFinite(n)) return '';
  const whole = Number.isInteger(n);
  return `${n < 0 ? '−' : ''}$${Math.abs(n).toLocaleString('en-US', {
    minimumFractionDigits: whole ? 0 : 2, maximumFractionDigits: 2,
  })}`;
}

/** The limits object of a coverage result, as words. */
export function limitsText(limits) {
  if (!limits || typeof limits !== 'object') return '';
  const parts = [];
  if ('per_person' in limits || 'per_accident' in limits) {
    parts.push(`${dollars(limits.per_person)} / ${dollars(limits.per_accident)}`);
  }
  if ('limit' in limits) parts.push(`${dollars(limits.limit)} limit`);
  for (const [k, v] of Object.entries(limits)) {
    if (['per_person', 'per_accident', 'limit', 'deductible'].includes(k)) continue;
    if (k === 'term_years') parts.push(`${v}-year term`);
    else parts.push(`${k.replace(/_/g, ' ')} ${typeof v === 'number' ? dollars(v) : String(v)}`);
  }
  if ('deductible' in limits) parts.push(`${dollars(limits.deductible)} deductible`);
  return parts.join(', ');
}

/** The first day of next month, YYYY-MM-DD, in the shopper's time zone. */
export function firstOfNextMonth(now = new Date()) {
  const y = now.getMonth() === 11 ? now.getFullYear() + 1 : now.getFullYear();
  const m = ((now.getMonth() + 1) % 12) + 1;
  return `${y}-${String(m).padStart(2, '0')}-01`;
}

// Best first. The AM Best style scale the carriers use.
export const RATINGS = ['A++', 'A+', 'A', 'A-', 'B++', 'B+', 'B', 'B-', 'C++', 'C+', 'C', 'C-', 'D', 'E', 'F'];

/** A rating's rank, 0 best; unknown ratings rank last. */
export function ratingRank(r) {
  const i = RATINGS.indexOf(String(r || '').trim().toUpperCase());
  return i < 0 ? RATINGS.length : i;
}

// ---- Form fields -------------------------------------------------------
//
// A field is a wrapper holding a <label>, the control, an optional hint and an
// error slot whose id is `${control.id}-err`. Error marking (errors.js) finds
// the slot from the control, sets aria-invalid and adds the slot to
// aria-describedby.

function describe(control, id) {
  const ids = (control.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
  if (!ids.includes(id)) ids.push(id);
  control.setAttribute('aria-describedby', ids.join(' '));
}

/**
 * Marks `control` as not invalid, as far as assistive technology knows: no
 * aria-invalid, except on a required <select>, which gets "false". Chromium
 * tells a screen reader that a required select still on its empty
 * "Choose…" option is an "invalid entry" (HTML's valueMissing) before the
 * shopper has answered anything; the page's own checks (errors.js) are
 * what say a field is invalid.
 */
export function markValid(control) {
  if (control.tagName === 'SELECT' && control.required) control.setAttribute('aria-invalid', 'false');
  else control.removeAttribute('aria-invalid');
}

/** Wraps `control` (which has an id) with its label, hint and error slot. */
export function field(label, control, { hint, required, wide, testid } = {}) {
  const id = control.id;
  const wrap = h('div', { class: `field${wide ? ' wide' : ''}`, 'data-testid': testid });
  wrap.append(
    h('label', { for: id }, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
  );
  if (required) control.required = true;
  markValid(control);
  wrap.append(control);
  if (hint) {
    wrap.append(h('p', { class: 'hint', id: `${id}-hint` }, hint));
    describe(control, `${id}-hint`);
  }
  wrap.append(h('p', { class: 'field-error', id: `${id}-err`, hidden: true }));
  return wrap;
}

/** A checkbox with its label after it. */
export function checkField(label, control, { hint } = {}) {
  const id = control.id;
  const wrap = h('div', { class: 'field check' });
  wrap.append(control, h('label', { for: id }, label));
  if (hint) {
    wrap.append(h('p', { class: 'hint', id: `${id}-hint` }, hint));
    describe(control, `${id}-hint`);
  }
  wrap.append(h('p', { class: 'field-error', id: `${id}-err`, hidden: true }));
  return wrap;
}

/** <input> with an id, a data-path and the attributes given. */
export function input(prefix, path, attrs = {}) {
  return h('input', { id: uid(prefix), 'data-path': path, type: 'text', ...attrs });
}

/** <select> of [value, label] pairs. */
export function select(prefix, path, options, value, attrs = {}) {
  const el = h('select', { id: uid(prefix), 'data-path': path, ...attrs });
  setOptions(el, options, value);
  return el;
}

export function setOptions(el, options, value) {
  el.replaceChildren(...options.map(([v, label]) => h('option', { value: v }, label)));
  if (value !== undefined) el.value = String(value);
}

/** Selects `value`, adding an option for it when the list lacks it. */
export function chooseOption(el, value, label) {
  const v = String(value);
  if (![...el.options].some((o) => o.value === v)) el.append(h('option', { value: v }, label || v));
  el.value = v;
}

/**
 * The text of a date field once the dashes that go in it are added:
 * "19850701" (pasted) is "1985-07-01"; a fifth digit after the year
 * ("19850") starts the month ("1985-0"), a third after the month
 * ("1985-070") starts the day ("1985-07-0"). Anything else, dashes the
 * shopper typed included ("1985-7-1"), is left as it is (the server names
 * what is wrong).
 */
export function dashedDate(text) {
  const t = String(text);
  if (/^\d{8}$/.test(t)) return `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6)}`;
  if (/^\d{5}$/.test(t)) return `${t.slice(0, 4)}-${t.slice(4)}`;
  if (/^\d{4}-\d{3}$/.test(t)) return `${t.slice(0, 7)}-${t.slice(7)}`;
  return t;
}

/**
 * A date written the American way, month first ("7/1/1985", "07/01/1985"),
 * as YYYY-MM-DD ("1985-07-01"); anything else (a month over 12, a day over
 * 31, another order) as it is, for the server to name.
 */
export function isoFromUS(text) {
  const m = String(text).trim().match(/^(\d{1,2})\/(\d{1,2})\/(\d{4})$/);
  if (!m) return String(text);
  const [month, day] = [Number(m[1]), Number(m[2])];
  if (month < 1 || month > 12 || day < 1 || day > 31) return String(text);
  return `${m[3]}-${m[1].padStart(2, '0')}-${m[2].padStart(2, '0')}`;
}

/**
 * A date typed as YYYY-MM-DD (text, so the server checks the calendar). A
 * phone shows its number pad for it, which on many phones has no dash: the
 * dashes are added as the digits are typed (dashedDate), while the caret is
 * at the end. A date written month first, as Americans do ("7/1/1985"), is
 * rewritten as YYYY-MM-DD when the field is left (isoFromUS).
 */
export function dateInput(prefix, path, attrs = {}) {
  const el = input(prefix, path, {
    inputmode: 'numeric',
    placeholder: 'YYYY-MM-DD',
    autocomplete: 'off',
    spellcheck: 'false',
    maxlength: '10',
    ...attrs,
  });
  el.addEventListener('input', () => {
    if (el.selectionStart !== el.value.length || el.selectionEnd !== el.value.length) return;
    const dashed = dashedDate(el.value);
    if (dashed !== el.value) el.value = dashed;
  });
  el.addEventListener('change', () => {
    const iso = isoFromUS(el.value);
    if (iso !== el.value) el.value = iso;
  });
  return el;
}

/**
 * A box that lets a wide table scroll sideways on a narrow screen. Only while
 * it does scroll is it a keyboard stop (a region named `label` and "scrolls
 * sideways", so arrow keys can scroll it); a table that fits is no extra Tab
 * stop. Re-checked whenever the box or the table changes size.
 */
export function scrollBox(label, child, attrs = {}) {
  const box = h('div', { class: 'table-scroll', ...attrs }, child);
  const fit = () => {
    if (box.scrollWidth > box.clientWidth + 1) {
      box.setAttribute('tabindex', '0');
      box.setAttribute('role', 'region');
      box.setAttribute('aria-label', `${label} (scrolls sideways)`);
    } else {
      box.removeAttribute('tabindex');
      box.removeAttribute('role');
      box.removeAttribute('aria-label');
    }
  };
  if (typeof ResizeObserver === 'function') {
    const seen = new ResizeObserver(fit);
    seen.observe(box);
    if (child instanceof Element) seen.observe(child);
  }
  requestAnimationFrame(fit);
  return box;
}

// ---- Saying what changed -------------------------------------------------

/**
 * Says `text` in the form's status region (a removed driver, vehicle...: the
 * rows after it are renumbered, and the focus moves to the Add button, so a
 * screen reader would not say it otherwise). `from` is an element in the
 * page; app.js puts the text of the "mq:say" event it sends there.
 */
export function say(from, text) {
  from.dispatchEvent(new CustomEvent('mq:say', { bubbles: true, detail: String(text) }));
}

/** "1 driver left.", "2 drivers left.", "No drivers left." */
export function leftText(n, one, many) {
  return n === 0 ? `No ${many} left.` : `${n} ${n === 1 ? one : many} left.`;
}

/** The group error slot of a container (fieldset) that has a data-path. */
export function groupError(container) {
  const id = uid('gerr');
  const p = h('p', { class: 'group-error', id, hidden: true });
  describe(container, id);
  return p;
}

/** Marks the field of `control` (made by field()) required or not, label star included. */
export function setRequired(control, on) {
  control.required = !!on;
  if (control.getAttribute('aria-invalid') !== 'true') markValid(control);
  const label = control.labels && control.labels[0];
  if (!label) return;
  const star = label.querySelector('.req');
  if (on && !star) label.append(h('span', { class: 'req', 'aria-hidden': 'true' }, ' *'));
  if (!on && star) star.remove();
}

/**
 * A required yes/no question: a radio group (fieldset, role radiogroup) whose
 * data-path is `path`, so an error on the path lands on the group. Neither
 * answer is chosen at first: a question never answered is left out of the
 * request (the server then says it is required) rather than taken as "no".
 * Returns {el, value() -> true|false|undefined, set(v), yes, no}.
 */
export function yesNo(prefix, path, question, { hint, required = true } = {}) {
  const name = uid(prefix);
  const yes = h('input', { type: 'radio', name, id: `${name}-yes`, value: 'yes' });
  const no = h('input', { type: 'radio', name, id: `${name}-no`, value: 'no' });
  const el = h('fieldset', { class: 'yes-no', role: 'radiogroup', 'data-path': path, 'data-field-group': '' });
  const legend = h('legend', null, question, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null);
  if (required) el.setAttribute('aria-required', 'true');
  const hintEl = hint ? h('p', { class: 'hint', id: `${name}-hint` }, hint) : null;
  if (hintEl) describe(el, hintEl.id);
  el.append(legend, groupError(el));
  if (hintEl) el.append(hintEl);
  el.append(
    h('div', { class: 'yes-no-options' },
      h('span', { class: 'option' }, yes, h('label', { for: yes.id }, 'Yes')),
      h('span', { class: 'option' }, no, h('label', { for: no.id }, 'No'))));
  return {
    el,
    yes,
    no,
    value() {
      if (yes.checked) return true;
      if (no.checked) return false;
      return undefined;
    },
    set(v) {
      yes.checked = v === true;
      no.checked = v === false;
    },
  };
}

// ---- Reading controls into a request ------------------------------------

/** Sets obj[key] to the trimmed text of `el` unless it is empty. */
export function putText(obj, key, el) {
  const v = el.value.trim();
  if (v !== '') obj[key] = v;
}

/** Sets obj[key] to a yes/no group's answer unless it has none. */
export function putAnswer(obj, key, group) {
  const v = group.value();
  if (v !== undefined) obj[key] = v;
}

/** The text for a number held in a request (empty for null/undefined). */
export function numText(v) {
  return v === undefined || v === null ? '' : String(v);
}

/** Sets obj[key] to the number in `el` unless it is empty. */
export function putNumber(obj, key, el) {
  const v = el.value.trim();
  if (v === '') return;
  const n = Number(v);
  obj[key] = Number.isFinite(n) ? n : v; // a non-number goes as typed: the server names it
}
