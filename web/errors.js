// errors.js -- showing the server's field errors next to the fields.
//
// Every control (and every fieldset standing for an object or a list) carries
// the JSON path it fills in data-path (under the data-path-base of the
// containers around it, see pathOf). An error's path is matched exactly, or
// else its nearest ancestor that has an element: "coverages.bi.per_accident"
// lands on the bi select ("coverages.bi"), "drivers" on the drivers fieldset.

import { h, uid, markValid } from './dom.js';

const CONTROLS = new Set(['INPUT', 'SELECT', 'TEXTAREA']);

function isControl(el) {
  return CONTROLS.has(el.tagName);
}

function slotFor(el) {
  if (isControl(el)) return document.getElementById(`${el.id}-err`);
  return el.querySelector(':scope > .group-error');
}

function addDescribedBy(el, id) {
  const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
  if (!ids.includes(id)) el.setAttribute('aria-describedby', [...ids, id].join(' '));
}

function removeDescribedBy(el, id) {
  const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter((x) => x && x !== id);
  if (ids.length) el.setAttribute('aria-describedby', ids.join(' '));
  else el.removeAttribute('aria-describedby');
}

/** "drivers[1].license.state" -> itself, "drivers[1].license", "drivers[1]", "drivers". */
export function pathAndParents(path) {
  const out = [];
  let p = String(path || '');
  while (p) {
    out.push(p);
    const m = p.match(/^(.*?)(\.[^.[\]]*|\[\d+\])$/);
    if (!m) break;
    p = m[1];
  }
  return out;
}

function visible(el) {
  for (let e = el; e; e = e.parentElement) {
    if (e.hidden) return false;
  }
  return true;
}

/**
 * The JSON path `el` fills: its data-path under the data-path-base of every
 * container around it (a bundle's auto form sits under base "auto", so its
 * "drivers[0].date_of_birth" is "auto.drivers[0].date_of_birth"). A
 * container with a base and no data-path of its own stands for the base
 * itself. Empty when `el` names no path.
 */
export function pathOf(el) {
  let p = el.getAttribute('data-path') || '';
  if (!p && el.hasAttribute('data-path-base')) p = el.getAttribute('data-path-base') || '';
  if (!p) return '';
  for (let a = el.parentElement && el.parentElement.closest('[data-path-base]'); a;
    a = a.parentElement && a.parentElement.closest('[data-path-base]')) {
    p = `${a.getAttribute('data-path-base')}.${p}`;
  }
  return p;
}

/** The element standing for `path` in `form`, or null. */
export function findTarget(form, path) {
  const byPath = new Map();
  for (const el of form.querySelectorAll('[data-path], [data-path-base]')) {
    const p = pathOf(el);
    if (p && !byPath.has(p) && visible(el)) byPath.set(p, el);
  }
  for (const p of pathAndParents(path)) {
    if (byPath.has(p)) return byPath.get(p);
  }
  return null;
}

/** The message without a leading "path: " (the field shows where it is). */
function bare(path, message) {
  const m = String(message || '');
  const prefix = `${path}: `;
  return path && m.startsWith(prefix) ? m.slice(prefix.length) : m;
}

/** A readable name for a target: "Driver 2 · Date of birth". */
function targetName(el) {
  let name = '';
  if (isControl(el)) {
    const label = el.labels && el.labels[0];
    name = label ? label.textContent.replace(/\s*\*$/, '').trim() : '';
  } else {
    const legend = el.querySelector(':scope > legend');
    name = el.getAttribute('data-title') || (legend ? legend.textContent.replace(/\s*\*$/, '').trim() : '');
  }
  const owner = (isControl(el) ? el : el.parentElement)?.closest('[data-title]');
  const ownerTitle = owner ? owner.getAttribute('data-title') : '';
  return ownerTitle && ownerTitle !== name ? `${ownerTitle} · ${name}` : name;
}

function focusTarget(el) {
  for (let d = el.closest('details'); d; d = d.parentElement && d.parentElement.closest('details')) d.open = true;
  const c = isControl(el) ? el : el.querySelector('input:not([disabled]), select, textarea, button:not([disabled])');
  if (c) {
    c.focus();
    c.scrollIntoView({ block: 'center' });
  }
  return !!c;
}

// A field group (data-field-group: a yes/no radio group, feet + inches) is one
// field made of several controls: its error marks the group and every control
// in it, each described by the group's error slot.
const groupControls = (el) => (el.hasAttribute('data-field-group') ? [...el.querySelectorAll('input, select, textarea')] : []);

function mark(el, message) {
  const slot = slotFor(el);
  if (slot) {
    slot.textContent = slot.textContent ? `${slot.textContent}; ${message}` : message;
    slot.hidden = false;
    if (isControl(el)) addDescribedBy(el, slot.id);
    for (const c of groupControls(el)) addDescribedBy(c, slot.id);
  }
  if (isControl(el) || el.getAttribute('role') === 'radiogroup') el.setAttribute('aria-invalid', 'true');
  for (const c of groupControls(el)) c.setAttribute('aria-invalid', 'true');
  el.classList.add('invalid');
}

/** Removes the error shown on `el`. */
export function clearOne(el) {
  const slot = slotFor(el);
  if (slot) {
    slot.textContent = '';
    slot.hidden = true;
    if (isControl(el)) removeDescribedBy(el, slot.id);
    for (const c of groupControls(el)) removeDescribedBy(c, slot.id);
  }
  for (const c of groupControls(el)) markValid(c);
  markValid(el);
  el.classList.remove('invalid');
}

/** Clears the error of the field `control` belongs to, after the shopper edits it. */
export function clearEditedField(control) {
  if (!control || !control.getAttribute) return;
  const group = control.closest && control.closest('[data-field-group]');
  if (group && group.classList.contains('invalid')) clearOne(group);
  if (control.getAttribute('aria-invalid') === 'true') clearOne(control);
}

export function clearErrors(form, summary) {
  for (const el of form.querySelectorAll('.invalid, [aria-invalid="true"]')) clearOne(el);
  summary.hidden = true;
  summary.replaceChildren();
}

/**
 * Problems the browser already knows about: a number field holding text;
 * and a part of a field that the server never sees on its own (the inches
 * of a height, sent as a total), marked data-local-range="inches": out of
 * its min..max or not whole, it would silently change the total.
 */
export function localProblems(form) {
  const out = [];
  for (const el of form.querySelectorAll('input[type=number][data-path]')) {
    if (!el.validity || !visible(el)) continue;
    if (el.validity.badInput) {
      out.push({ path: pathOf(el), message: 'is not a number' });
    } else if (el.hasAttribute('data-local-range')
      && (el.validity.rangeUnderflow || el.validity.rangeOverflow || el.validity.stepMismatch)) {
      out.push({
        path: pathOf(el),
        message: `${el.getAttribute('data-local-range')} must be a whole number from ${el.min} to ${el.max}, got ${el.value}`,
      });
    }
  }
  return out;
}

/**
 * Shows an API error ({code, message, path, details}) in `summary` and next
 * to each field its paths name, then focuses the first invalid field (or the
 * summary when no field matches).
 */
export function showErrors(form, summary, error) {
  clearErrors(form, summary);
  const err = error || {};
  let items = Array.isArray(err.details) && err.details.length ? err.details : [];
  if (!items.length && err.path) items = [{ path: err.path, message: err.message }];

  const marked = [];
  const list = h('ul');
  for (const it of items) {
    const path = String(it.path || '');
    const msg = bare(path, it.message);
    const target = path ? findTarget(form, path) : null;
    const li = h('li');
    if (target) {
      mark(target, msg);
      marked.push(target);
      if (!target.id) target.id = uid('target');
      li.append(h('a', {
        href: `#${target.id}`,
        onclick: (e) => {
          e.preventDefault();
          focusTarget(target);
        },
      }, targetName(target) || path), ' — ');
    }
    li.append(path ? h('code', null, path) : null, path ? ': ' : null, msg);
    list.append(li);
  }

  const count = items.length;
  summary.append(
    h('h2', null, count > 1 ? `Please correct ${count} problems` : 'Please correct this problem'),
  );
  if (!count) summary.append(h('p', null, String(err.message || 'The request was not accepted.')));
  else summary.append(list);
  summary.hidden = false;

  marked.sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
  if (!(marked.length && focusTarget(marked[0]))) {
    summary.focus();
    summary.scrollIntoView({ block: 'start' });
  }
}

/**
 * A failure that is not about the answers (network, 429, 413, 5xx): the
 * server's message under `title`, no field marked.
 */
export function showFailure(form, summary, message, title = 'We could not get quotes') {
  clearErrors(form, summary);
  summary.append(h('h2', null, title), h('p', null, message));
  summary.hidden = false;
  summary.focus();
}
