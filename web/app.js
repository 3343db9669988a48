// app.js -- the shopper's page: the line picker and form, submitting a quote,
// and the results of a saved quote at its own URL (/q/{id}).
//
// Routes: "/" shows the form; "/q/{id}" shows quote {id}, from memory right
// after submitting, else from GET /v1/quotes/{id}. Navigation uses
// history.pushState, and the back button works through popstate.
//
// While a quote's results stream in, any way back to the form ("Change
// answers", "New quote", Back, a link) cancels it: the page stops waiting
// and no quote opens later.
//
// Back while "Why this price" is open closes it, as a phone's Back is
// expected to, rather than showing the form behind a dialog still open.

import { h } from './dom.js';
import { LINES, loadLine } from './lines.js';
import { mountCommon } from './common.js';
import * as api from './api.js';
import { renderResults } from './results.js';
import { openWorksheet } from './worksheet.js';
import { showErrors, showFailure, clearErrors, clearEditedField, localProblems } from './errors.js';

const $ = (id) => document.getElementById(id);
const form = $('quote-form');
const summary = $('form-errors');
const submitBtn = $('get-quotes');
const statusEl = $('submit-status');
const formView = $('form-view');
const resultsView = $('results-view');
const resultsEl = $('results');
const resultsStatus = $('results-status');

const app = {
  line: null, // the line module in use
  lineCtl: null, // its mounted form
  forms: new Map(), // line id -> {box, ctl}: every form mounted so far (one in the page)
  picking: 0, // counts line picks, so only the last one picked is shown
  switching: null, // the pick in progress: buttons wait for it (its module may still be loading)
  common: null, // the envelope fields
  busy: false,
  stream: null, // the AbortController of the quote being streamed in, or null
  formQuote: null, // the quote id the form's answers produced
  edited: false, // the shopper has typed into the form since the page loaded
  quotes: new Map(), // quote id -> response
};

const SITE = 'multiquote';
const storeKey = (id) => `multiquote:request:${id}`;
const DRAFT_KEY = 'multiquote:draft';

function saveRequest(id, req) {
  try {
    sessionStorage.setItem(storeKey(id), JSON.stringify(req));
  } catch (e) {
    /* storage full or disabled: the form just starts fresh */
  }
}

function savedRequest(id) {
  try {
    const t = sessionStorage.getItem(storeKey(id));
    return t ? JSON.parse(t) : null;
  } catch (e) {
    return null;
  }
}

// ---- Draft -----------------------------------------------------------------
//
// The answers in the form are kept in this tab's session storage as they
// change (typed, picked, filled in), so a reload -- on purpose or not --
// does not lose them. "Start over" and "New quote" drop them.

let draftTimer = 0;

/** Writes the form's answers as the draft now. */
function writeDraft() {
  clearTimeout(draftTimer);
  draftTimer = 0;
  if (!app.lineCtl) return;
  try {
    sessionStorage.setItem(DRAFT_KEY, JSON.stringify(buildRequest()));
  } catch (e) {
    /* storage full or disabled: a reload starts fresh, as before */
  }
}

/** Writes the draft once the shopper pauses. */
function saveDraft() {
  clearTimeout(draftTimer);
  draftTimer = setTimeout(writeDraft, 300);
}

/** Writes a draft still waiting (the page is going away). */
function flushDraft() {
  if (draftTimer) writeDraft();
}

function dropDraft() {
  clearTimeout(draftTimer);
  draftTimer = 0;
  try {
    sessionStorage.removeItem(DRAFT_KEY);
  } catch (e) {
    /* nothing kept */
  }
}

/**
 * At start, the answers the form held before the page was reloaded, if any:
 * their line's form, filled in. Returns whether there were some.
 */
async function restoreDraft() {
  let req = null;
  try {
    req = JSON.parse(sessionStorage.getItem(DRAFT_KEY) || 'null');
  } catch (e) {
    req = null;
  }
  if (!req || typeof req !== 'object' || typeof req.line !== 'string') return false;
  if (req.line !== app.line.id && !(await selectLine(req.line))) return false;
  fillForm(req);
  app.edited = true; // the form holds the shopper's answers: Back does not replace them
  if (location.pathname === '/') statusEl.textContent = 'Your answers from before the page was reloaded are filled in.';
  return true;
}

// ---- Form ------------------------------------------------------------------

function renderLinePicker() {
  const box = $('line-options');
  for (const l of LINES) {
    const id = `line-${l.id}`;
    const soon = !!l.comingSoon || !l.load;
    const radio = h('input', {
      type: 'radio', name: 'line', id, value: l.id, 'data-testid': id,
      checked: l.id === 'auto', disabled: soon, 'aria-describedby': `${id}-hint`,
    });
    radio.addEventListener('change', () => {
      if (!radio.checked) return;
      app.switching = selectLine(l.id).then((shown) => {
        if (shown) saveDraft();
        return shown;
      });
    });
    box.append(h('div', { class: `line-option${soon ? ' soon' : ''}` },
      radio,
      h('label', { for: id }, l.title, soon ? h('span', { class: 'badge' }, 'coming soon') : null),
      h('span', { class: 'hint', id: `${id}-hint` }, l.hint)));
  }
}

/**
 * Shows the form of line `id`, mounting it the first time. Each line keeps its
 * own form, taken out of the page while another is shown (so ids, paths and
 * test ids stay unique), and its answers survive a switch.
 * Returns false when the page has no form for that line.
 */
async function selectLine(id) {
  const pick = ++app.picking;
  let mod;
  try {
    mod = await loadLine(id);
  } catch (e) {
    if (pick === app.picking) lineFailed(id);
    return false;
  }
  if (!mod) return false;
  if (pick !== app.picking) return true; // a later pick won while this one loaded
  let entry = app.forms.get(id);
  if (!entry) {
    const box = h('div', { class: 'line-form', 'data-line': id });
    entry = { box, ctl: mod.mount(box, app.common) };
    app.forms.set(id, entry);
  }
  $('line-fields').replaceChildren(entry.box);
  app.line = mod;
  app.lineCtl = entry.ctl;
  // A form may decide which applicant fields it asks as its answers change (a bundle: home or renters).
  app.common.setLine(id, entry.ctl.applicant ? entry.ctl.applicant() : mod.applicant, mod.planLines);
  const radio = $(`line-${id}`);
  if (radio && !radio.checked) radio.checked = true;
  $('fill-example').hidden = !mod.example;
  clearErrors(form, summary);
  return true;
}

/**
 * Line `id`'s form could not be fetched (the server unreachable): the picker
 * goes back to the line whose form is shown, and the summary says what
 * happened and that picking the line again retries.
 */
function lineFailed(id) {
  const shown = app.line && $(`line-${app.line.id}`);
  if (shown) shown.checked = true;
  const entry = LINES.find((l) => l.id === id);
  const title = entry ? entry.title : id;
  showFailure(form, summary, `The ${title} form could not be loaded: the quote service could not be reached. `
    + `Check your connection, then pick ${title} again.`, `Could not open the ${title} form`);
}

/**
 * Fills the form with the answers that produced quote `id` (kept in this
 * tab's session storage), unless the form holds them already. The saved
 * request's line gets its form back, whichever line was shown. Returns
 * whether the form now holds that quote's answers.
 */
async function restoreAnswers(id) {
  if (id && id === app.formQuote) return true;
  const req = id ? savedRequest(id) : null;
  if (req && (req.line === app.line.id || await selectLine(req.line))) {
    fillForm(req);
    app.formQuote = id;
    return true;
  }
  return false;
}

/**
 * At "/", the answers its history entry names (the form submitted from it):
 * after the quote was reloaded, Back lands on an empty form, which gets them
 * back as "Change answers" would.
 */
async function restoreEntryAnswers() {
  const st = history.state;
  if (location.pathname === '/' && st && typeof st.answers === 'string') await restoreAnswers(st.answers);
}

/** The form no longer holds a quote's answers: its history entry forgets them. */
function forgetAnswers() {
  app.formQuote = null;
  const st = history.state;
  if (st && st.answers !== undefined) history.replaceState({ ...st, answers: undefined }, '', location.href);
}

function buildRequest() {
  return { line: app.line.id, ...app.common.build(), ...app.lineCtl.build() };
}

function fillForm(req) {
  app.common.fill(req);
  app.lineCtl.fill(req);
  clearErrors(form, summary);
  saveDraft();
}

function setBusy(on) {
  app.busy = on;
  submitBtn.setAttribute('aria-disabled', on ? 'true' : 'false');
  submitBtn.textContent = on ? 'Getting quotes…' : 'Get quotes';
  form.setAttribute('aria-busy', on ? 'true' : 'false');
  statusEl.textContent = on ? 'Getting quotes from every carrier…' : '';
}

/**
 * Stops waiting for the quote being streamed in, if any (the shopper went
 * back to the form). Returns whether there was one.
 */
function cancelQuote() {
  const stream = app.stream;
  if (!stream) return false;
  app.stream = null;
  stream.abort();
  setBusy(false);
  statusEl.textContent = 'Stopped waiting for the carriers; no quote was opened.';
  return true;
}

/** A quote's answer the page can show: one line's results, or a bundle's (line-bundle.js). */
function isAnswer(body) {
  return !!body && (Array.isArray(body.results) || (body.line === 'bundle' && Array.isArray(body.bundles)));
}

/** A 422 naming the fields at fault: the shopper's answers need correcting. */
function isFieldError(res) {
  const err = res.data && res.data.error;
  return res.status === 422 && !!err && ((Array.isArray(err.details) && err.details.length > 0) || !!err.path);
}

/** The words for a failure that is not about the answers (network, 429, 413, 5xx). */
function quoteFailureText(res) {
  const text = api.failureText(res, 'Getting quotes');
  if (res.status !== 429) return text;
  const wait = res.retryAfter ? `${res.retryAfter} second${res.retryAfter === 1 ? '' : 's'}` : 'a moment';
  return `Too many quotes were asked from your address in a short time (${text}). Your answers are fine: please wait ${wait} and try again.`;
}

async function submit(e) {
  e.preventDefault();
  await app.switching;
  if (app.busy || !app.lineCtl) return;
  const local = localProblems(form);
  if (local.length) {
    showErrors(form, summary, { code: 'invalid', message: `${local[0].path}: ${local[0].message}`, details: local });
    return;
  }
  const req = buildRequest();
  const stream = new AbortController();
  app.stream = stream;
  setBusy(true);
  let res;
  const arrived = [];
  try {
    res = await api.createQuote(req, (result) => {
      arrived.push(result);
      showArriving(req, arrived, stream);
    }, stream.signal);
  } finally {
    if (app.stream === stream) {
      app.stream = null;
      setBusy(false);
    }
  }
  if (stream.signal.aborted) return; // cancelled: the form is back, nothing more to show
  await arrivingRender; // no partial view lands after the final one
  const body = res.data;
  if (arrived.length && !(res.ok && body && body.quote_id)) showForm(); // the stream failed
  if (res.ok && isAnswer(body)) {
    clearErrors(form, summary);
    if (!body.quote_id) {
      // No id to link to: show the results in place.
      await showResponse(body, null, true);
      return;
    }
    const id = String(body.quote_id);
    app.quotes.set(id, body);
    app.formQuote = id;
    saveRequest(id, req);
    // The form's history entry remembers whose answers it held: Back to it
    // after the quote was reloaded (the form then starts empty) fills them in again.
    history.replaceState({ ...(history.state || {}), answers: id }, '', location.href);
    history.pushState({ quote: id }, '', `/q/${encodeURIComponent(id)}`);
    await route(true);
  } else if (isFieldError(res)) {
    showErrors(form, summary, body.error);
  } else {
    showFailure(form, summary, quoteFailureText(res));
  }
}

// ---- Results -------------------------------------------------------------

let showingArriving = false; // the results shown are still arriving
let arrivingView = null; // their view, when it can take more results in place (results.js update)

function showForm() {
  showingArriving = false;
  arrivingView = null;
  formView.hidden = false;
  resultsView.hidden = true;
  document.title = `Compare insurance quotes – ${SITE}`;
}

let announceTimer = 0;

/** Says `text` in the results' status region once the shopper pauses (typing a filter says it once). */
function announce(text) {
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => {
    resultsStatus.textContent = text;
  }, 400);
}

/**
 * Where the focus is in the results shown, as a way to find the same control
 * in results drawn again: {sel, start, end} (the text selection of a field),
 * or null when the focus is not in them.
 */
function resultsFocus() {
  const a = document.activeElement;
  if (!a || a === resultsEl || !resultsEl.contains(a)) return null;
  const testid = a.getAttribute('data-testid');
  const label = a.getAttribute('aria-label');
  let sel = null;
  if (testid) sel = `[data-testid="${CSS.escape(testid)}"]`;
  else if (a.id === 'results-title') sel = '#results-title';
  else if (label) sel = `${a.tagName.toLowerCase()}[aria-label="${CSS.escape(label)}"]`;
  if (!sel) return null;
  let start = null;
  let end = null;
  try {
    start = a.selectionStart;
    end = a.selectionEnd;
  } catch (e) {
    /* no text selection in this kind of control */
  }
  return { sel, start, end };
}

/** Puts the focus back on the control `kept` (resultsFocus()) names, if the results drawn again have it. */
function restoreResultsFocus(kept) {
  const el = kept && resultsEl.querySelector(kept.sel);
  if (!el) return false;
  el.focus({ preventScroll: true });
  try {
    if (kept.start !== null && kept.start !== undefined) el.setSelectionRange(kept.start, kept.end);
  } catch (e) {
    /* a number field has no selection to set */
  }
  return document.activeElement === el;
}

/**
 * Shows response `resp` (quote `id`, or null: not saved); `arriving`: results
 * still streaming in. More results arriving are shown in place when the view
 * can (its heading and controls stay, so the focus on them stays, and a
 * screen reader is not told them again at each carrier's answer); else the
 * results are drawn anew, and the control that had the focus in them (a
 * filter being typed in, the sort) gets it back. Otherwise, with `focus`, and
 * when the first results arrive while the focus is on the form (now hidden),
 * the results' heading takes it.
 */
async function showResponse(resp, id, focus, arriving = false) {
  let mod;
  try {
    mod = (await loadLine(resp.line)) || {};
  } catch (e) {
    showMessage('Could not show this quote', 'Part of this page could not be loaded: the quote service could not be reached. '
      + 'Check your connection and reload the page.');
    if (focus) $('results-title').focus();
    return;
  }
  const req = id ? savedRequest(id) : null;
  const ctx = {
    coverageNames: mod.coverageNames || {},
    coverageOrder: mod.coverageOrder || [],
    unitWord: mod.unitWord || 'Unit',
    unitLabels: req && mod.unitLabels ? mod.unitLabels(req) : {},
    view: mod.results || {},
    onWhy: (result, button) => {
      worksheetOpened();
      return openWorksheet(resp.quote_id, result, ctx, button);
    },
    arriving,
    announce,
  };
  if (arriving && showingArriving && arrivingView) {
    const kept = resultsFocus();
    arrivingView.update(resp);
    if (kept && !resultsEl.contains(document.activeElement)) restoreResultsFocus(kept);
    return;
  }
  if (!arriving) {
    clearTimeout(announceTimer);
    resultsStatus.textContent = '';
  }
  const kept = resultsFocus();
  const wasArriving = showingArriving;
  showingArriving = arriving;
  formView.hidden = true;
  resultsView.hidden = false;
  const view = mod.render ? mod.render(resultsEl, resp, ctx) : renderResults(resultsEl, resp, ctx);
  arrivingView = arriving && typeof view.update === 'function' ? view : null;
  document.title = `Quotes ${resp.quote_id || ''} – ${SITE}`;
  if (!restoreResultsFocus(kept) && (focus || (arriving && !wasArriving && !resultsView.contains(document.activeElement)))) {
    view.focusTitle();
  }
  // "N carriers have answered; waiting for the others…" was said: the end is said too.
  if (wasArriving && !arriving) announce('All the results are in.');
}

// ---- Back while the worksheet is open --------------------------------------------

let worksheetFrom = null; // {state, url}: the history entry the worksheet dialog was opened on

/** The worksheet dialog opens on the current history entry. */
function worksheetOpened() {
  worksheetFrom = { state: history.state, url: location.href };
}

/**
 * At a popstate: when the worksheet dialog is open, Back (or Forward) only
 * closes it. The browser has already moved to the other entry, so the one
 * the dialog was opened on is put back, and nothing is shown anew: the
 * results stay, and the focus goes back to the button that opened it.
 * Returns whether that was the case. (No history entry is added for the
 * dialog itself: leaving one as it closes would be a navigation, racing
 * whatever the shopper does next.)
 */
function popWorksheet() {
  const dialog = $('worksheet');
  const from = worksheetFrom;
  worksheetFrom = null;
  if (!dialog.open || !from) return false;
  dialog.close();
  history.pushState(from.state, '', from.url);
  return true;
}

// The contract's order: quoted by ascending total, then the rest.
function contractOrder(a, b) {
  const qa = a.status === 'quoted', qb = b.status === 'quoted';
  if (qa !== qb) return qa ? -1 : 1;
  return qa ? a.premium.total - b.premium.total : 0;
}

let arrivingRender = Promise.resolve();

/** Results as they arrive, re-sorted each time, until the quote is saved (or `stream` is cancelled). */
function showArriving(req, arrived, stream) {
  const partial = { line: req.line, effective_date: req.effective_date, results: [...arrived].sort(contractOrder) };
  arrivingRender = arrivingRender.then(async () => {
    if (app.stream !== stream) return; // the saved quote is shown already, or the shopper cancelled
    await showResponse(partial, null, false, true);
    if (app.stream !== stream) return;
    const n = partial.results.length;
    const text = `${n} carrier${n === 1 ? ' has' : 's have'} answered; waiting for the others…`;
    const note = resultsEl.querySelector('[data-testid="results-arriving"]');
    if (note) note.textContent = text; // the results were updated in place
    else resultsEl.prepend(h('p', { class: 'arriving', 'data-testid': 'results-arriving' }, text));
    announce(text);
  });
}

/** A message in place of the results; `retry` (optional) runs from a "Try again" button. */
function showMessage(title, text, retry = null) {
  formView.hidden = true;
  resultsView.hidden = false;
  // replaceChildren() would write a null as the text "null": the parts left out are filtered.
  resultsEl.replaceChildren(...[
    h('h1', { id: 'results-title', tabindex: '-1' }, title),
    h('p', { class: 'message', 'data-testid': 'quote-message' }, text),
    retry ? h('p', null, h('button', { type: 'button', class: 'primary', 'data-testid': 'retry', onclick: retry }, 'Try again')) : null,
    h('p', null, h('a', { href: '/', 'data-nav': '' }, 'Start a new quote')),
  ].filter(Boolean));
  document.title = `${title} – ${SITE}`;
}

async function showQuote(id, focus) {
  const path = location.pathname;
  let resp = app.quotes.get(id);
  if (!resp) {
    formView.hidden = true;
    resultsView.hidden = false;
    resultsEl.setAttribute('aria-busy', 'true');
    resultsEl.replaceChildren(h('p', { class: 'loading' }, 'Loading your quote…'));
    const res = await api.getQuote(id);
    resultsEl.setAttribute('aria-busy', 'false');
    if (res.status === 404) {
      showMessage('Quote not found', `There is no saved quote with the id "${id}". Check the link, or start a new quote.`);
      return;
    }
    if (res.ok && !isAnswer(res.data)) {
      showMessage('Could not load this quote',
        `This quote was saved in a form this page cannot show. Its answer is at /v1/quotes/${encodeURIComponent(id)} in the API.`);
      return;
    }
    if (!res.ok) {
      // The server unreachable, busy or failing: the quote may well be there, so the shopper may ask again.
      showMessage('Could not load this quote', api.failureText(res, 'Loading the quote'), async () => {
        if (location.pathname !== path) return;
        await showQuote(id, true);
        // Failed again: the button is gone with its focus, which goes to the new message's heading.
        const title = $('results-title');
        if (title && (document.activeElement === document.body || !document.activeElement)) title.focus();
      });
      return;
    }
    resp = res.data;
    app.quotes.set(id, resp);
  }
  await showResponse(resp, id, focus);
}

async function route(focus) {
  const m = location.pathname.match(/^\/q\/([^/]+)\/?$/);
  if (m) {
    let id;
    try {
      id = decodeURIComponent(m[1]);
    } catch (e) {
      id = m[1];
    }
    await showQuote(id, focus);
  } else {
    showForm();
  }
}

/**
 * After Back or Forward, the heading of the view shown takes the focus, so a
 * screen reader says where the shopper landed and Tab goes on from there
 * (the focus was on the view just hidden). Without scrolling: the browser
 * restores the entry's scroll position.
 */
function focusHeading() {
  const el = formView.hidden ? $('results-title') : $('form-title');
  if (el) el.focus({ preventScroll: true });
}

function navigate(path) {
  cancelQuote();
  if (location.pathname !== path) history.pushState({}, '', path);
  route(true);
}

// ---- Wiring ------------------------------------------------------------------

async function start() {
  renderLinePicker();
  app.common = mountCommon($('common-fields'), 'auto');
  await selectLine('auto');

  form.addEventListener('submit', submit);
  // An edited field loses its error.
  const clearEdited = (e) => {
    app.edited = true;
    clearEditedField(e.target);
    saveDraft();
  };
  form.addEventListener('input', clearEdited);
  form.addEventListener('change', clearEdited);
  // What a form says of itself (dom.js say()): a removed driver, vehicle...
  // Emptied first, so the same words said twice in a row are said again
  // (unless something else was said meanwhile).
  let sayTimer = 0;
  form.addEventListener('mq:say', (e) => {
    clearTimeout(sayTimer);
    statusEl.textContent = '';
    sayTimer = setTimeout(() => {
      if (statusEl.textContent === '') statusEl.textContent = e.detail;
    }, 100);
  });

  $('fill-example').addEventListener('click', async () => {
    await app.switching;
    if (!app.line.example) return;
    fillForm(app.line.example);
    forgetAnswers();
    statusEl.textContent = app.line.exampleText ? `Filled in the example: ${app.line.exampleText}` : 'Filled in the example.';
  });
  $('reset-form').addEventListener('click', async () => {
    await app.switching;
    app.common.reset();
    app.lineCtl.reset();
    forgetAnswers();
    dropDraft();
    clearErrors(form, summary);
    statusEl.textContent = 'The form is back to its defaults.';
  });
  $('edit-answers').addEventListener('click', async () => {
    cancelQuote(); // results still arriving: the answers are in the form as sent
    const m = location.pathname.match(/^\/q\/([^/]+)/);
    const id = m ? decodeURIComponent(m[1]) : null;
    const kept = await restoreAnswers(id);
    const quote = id && !kept ? app.quotes.get(id) : null;
    // A quote opened from a link: this tab never held its answers. Its line's
    // form at least, and words saying why it is not filled in.
    if (quote && quote.line && app.line && quote.line !== app.line.id) await selectLine(quote.line);
    navigate('/');
    if (quote) {
      const title = (LINES.find((l) => l.id === quote.line) || { title: String(quote.line || '') }).title;
      statusEl.textContent = `The answers behind quote ${id} are not kept in this browser (it was opened from a link), `
        + `so the ${title} form is not filled in from them.`;
    }
    $('form-title').focus();
  });
  $('new-quote').addEventListener('click', async () => {
    cancelQuote();
    await app.switching;
    app.common.reset();
    app.lineCtl.reset();
    forgetAnswers();
    dropDraft();
    clearErrors(form, summary);
    navigate('/');
    $('form-title').focus();
  });

  // Same-page links (the logo, quote links) navigate without a reload.
  document.addEventListener('click', (e) => {
    const a = e.target.closest && e.target.closest('a[href]');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !(url.pathname === '/' || url.pathname.startsWith('/q/'))) return;
    if (url.hash && url.pathname === location.pathname) return;
    e.preventDefault();
    navigate(url.pathname);
  });
  window.addEventListener('popstate', async () => {
    if (popWorksheet()) return;
    cancelQuote();
    if (!app.edited) await restoreEntryAnswers();
    await route(false);
    focusHeading();
  });

  window.addEventListener('pagehide', flushDraft);

  // The answers typed before a reload win over those of the quote this
  // history entry was left from: they are at least as recent.
  if (!(await restoreDraft())) await restoreEntryAnswers();
  await route(false);
  document.documentElement.classList.add('ready');
}

start();
