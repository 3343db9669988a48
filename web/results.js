// results.js -- the results view of one saved quote: sort and filters, the
// bar chart, one card per result (quoted first), the side-by-side coverage
// comparison, and the carriers that did not quote with their reasons.
//
// A line module may say how its results show with `results` (ctx.view); every
// hook is optional and defaults to the auto presentation (VIEW below). A
// result's key (its data-testids result-<key>, total-<key>... and the worksheet
// it opens) is its carrier id, except where the line's key() says otherwise:
// health keys on the plan id, since one issuer offers several plans.

import { h, uid, money, limitsText, ratingRank, RATINGS, scrollBox } from './dom.js';
import { barChart, fitNames } from './chart.js';
import { lineTitle } from './lines.js';

const STATUS = {
  declined: 'Declined',
  unavailable: 'Not available',
  error: 'Could not rate',
  timeout: 'Did not answer in time',
};

// Sort and filters persist while the page is open (across quotes).
const view = { sort: 'price', onlyQuoted: false, minRating: '', maxTotal: '' };
let chartObserver = null;

const isQuoted = (r) => r && r.status === 'quoted' && r.premium;
const carrierOf = (r) => (r && r.carrier) || {};
const nameOf = (r) => String(carrierOf(r).name || carrierOf(r).id || '');
const totalOf = (r) => Number(r.premium && r.premium.total);
/** The price a month: premium.monthly, else the total over its term. */
const monthlyOf = (r) => {
  const p = r.premium || {};
  const m = Number(p.monthly);
  return p.monthly !== undefined && p.monthly !== null && Number.isFinite(m) ? m : Number(p.total) / (Number(p.term_months) || 1);
};

// The auto presentation; a line's `results` overrides any of these.
const VIEW = {
  key: (r) => String(carrierOf(r).id || ''), // data-testid suffix and worksheet id
  title: nameOf, // card and column heading
  subtitle: () => null, // a line under the heading
  badge: () => null, // {text, cls}: a tag next to the heading
  price: totalOf, // the headline amount (total-<key>)
  // The amount compared -- sorted, filtered and charted: the price a month,
  // so a 6-month policy and a 12-month one compare on the same footing.
  basis: monthlyOf,
  per: (r) => `for ${r.premium.term_months} months`, // words after the headline amount
  more: (r) => [`$${money(r.premium.monthly)} a month`], // lines under it
  facts: () => [], // [{label, value, testid, strong}] listed under the price
  breakdownTotal: (p) => `Total for ${p.term_months} months`,
  maxLabel: 'Maximum price a month ($)', // the filter on basis
  chartCaption: 'Price a month by carrier (each policy\'s total and term under its bar)',
  chartSuffix: () => 'a month', // (r) -> text after the charted amount (basis)
  chartNote: (r) => `$${money(r.premium.total)} for ${r.premium.term_months} months`, // (r) -> text under the bar, or null
  rowPerUnit: false, // comparison: one row per unit (its premium) instead of per coverage
  nouns: { asked: ['carrier', 'carriers'], quoted: ['quote', 'quotes'] },
  totalRows: [
    { label: 'Fees', cell: (r) => money(r.premium.fees) },
    { label: 'Total', cell: (r) => money(r.premium.total), testid: 'compare-total', strong: true },
    { label: 'Term', cell: (r) => `${r.premium.term_months} months` },
    { label: 'Monthly', cell: (r) => money(r.premium.monthly) },
  ],
  banner: () => null, // (results) -> a node shown once above the results
  worksheetTitle: (r) => `Why ${nameOf(r)} costs $${money(r.premium && r.premium.total)}`,
};

/** The presentation of the results of `ctx` (the line's hooks over VIEW). */
export function viewOf(ctx) {
  return { ...VIEW, ...((ctx && ctx.view) || {}) };
}

const plural = ([one, many], n) => (n === 1 ? one : many);

function sorted(list, how, v) {
  const byName = (a, b) => v.title(a).localeCompare(v.title(b));
  // The price a month (health: the net premium), then the total.
  const byPrice = (a, b) => v.basis(a) - v.basis(b) || totalOf(a) - totalOf(b) || byName(a, b);
  const byRating = (a, b) => ratingRank(carrierOf(a).rating) - ratingRank(carrierOf(b).rating);
  const out = [...list];
  if (how === 'rating') out.sort((a, b) => byRating(a, b) || (isQuoted(a) && isQuoted(b) ? byPrice(a, b) : byName(a, b)));
  else if (list.every(isQuoted)) out.sort(byPrice);
  return out; // price order leaves the others in the server's order
}

/** When the quotes' terms differ, a line saying they are compared by the price a month. */
function termsNote(quoted) {
  const terms = [...new Set(quoted.map((r) => Number(r.premium.term_months)))].sort((a, b) => a - b);
  if (terms.length < 2) return null;
  const list = `${terms.slice(0, -1).join(', ')} and ${terms[terms.length - 1]}`;
  return h('p', { class: 'meta', 'data-testid': 'terms-note' },
    `These policies run for ${list} months, so they are compared by the price a month.`);
}

function passes(r, v) {
  if (view.minRating && ratingRank(carrierOf(r).rating) > ratingRank(view.minRating)) return false;
  if (isQuoted(r) && view.maxTotal !== '' && Number.isFinite(Number(view.maxTotal))
      && v.basis(r) > Number(view.maxTotal)) return false;
  return true;
}

function coverageName(ctx, code) {
  return (ctx.coverageNames && ctx.coverageNames[code]) || String(code || '');
}

function unitName(ctx, unit) {
  if (!unit) return 'Policy';
  const desc = ctx.unitLabels && ctx.unitLabels[unit];
  return `${ctx.unitWord || 'Unit'} ${unit}${desc ? ` (${desc})` : ''}`;
}

/** The unit a coverage entry prices: a vehicle (auto), a member (health), or none. */
const unitOf = (cv) => String((cv && (cv.vehicle || cv.member)) || '');

/**
 * A card's unit cell: the unit's id, and under it, on the unit's first row
 * (`first`), what the request said of it when this tab has the request
 * ("you, born 1985-07-01", "2022 Honda Civic"), so a shopper is not left
 * with "m1" alone.
 */
function unitCell(ctx, unit, first) {
  if (!unit) return '—';
  const desc = first && ctx.unitLabels && ctx.unitLabels[unit];
  return desc ? [unit, h('span', { class: 'unit-desc' }, String(desc))] : unit;
}

/** The heading of a result: its title, then its badge and subtitle. */
function heading(r, v, id) {
  const badge = v.badge(r);
  const sub = v.subtitle(r);
  return [
    h('h3', { id }, v.title(r), sub ? h('span', { class: 'subtitle' }, String(sub)) : null),
    badge ? h('span', { class: `badge ${badge.cls || ''}` }, String(badge.text)) : null,
  ];
}

// ---- One carrier ---------------------------------------------------------

function listSection(title, items, cls) {
  if (!items || !items.length) return null;
  return h('div', { class: cls },
    h('h4', null, title),
    h('ul', null, items.map((t) => h('li', null, String(t)))));
}

function verifiesSection(r) {
  const v = Array.isArray(r.verifies) ? r.verifies : [];
  if (!v.length) return null;
  return h('div', { class: 'verifies' },
    h('h4', null, `${nameOf(r)} will confirm:`),
    h('ul', null, v.map((x) => h('li', null, String((x && x.text) || (x && x.check) || '')))));
}

function factsList(facts) {
  if (!facts.length) return null;
  return h('dl', { class: 'facts' }, facts.map((f) => h('div', { class: f.strong ? 'fact strong' : 'fact' },
    h('dt', null, String(f.label)),
    h('dd', { 'data-testid': f.testid }, String(f.value)))));
}

/**
 * "Why this price?" opens the saved quote's worksheet; results still arriving
 * (no quote id yet) have none to open, so they say when it comes instead, and
 * a remote carrier's result (rated by its own service) says it has none.
 */
function whyButton(r, ctx, v, key, saved) {
  if (!saved) {
    return h('p', { class: 'hint why-later', 'data-testid': `why-later-${key}` },
      ctx.arriving ? 'The step-by-step price opens once every carrier has answered.' : 'This quote was not saved, so its steps cannot be shown.');
  }
  if (r.remote === true) { // rated by the carrier's own service: no worksheet here (the API answers 404)
    return h('p', { class: 'hint why-remote', 'data-testid': `why-remote-${key}` },
      'The carrier priced this quote with its own service, so its steps are not shown here.');
  }
  const why = h('button', {
    type: 'button',
    class: 'why',
    'data-testid': `why-${key}`,
    'aria-haspopup': 'dialog',
    onclick: () => ctx.onWhy(r, why),
  }, 'Why this price?', h('span', { class: 'sr-only' }, ` (${v.title(r)})`));
  return why;
}

function quotedCard(r, ctx, v, key, saved) {
  const c = carrierOf(r);
  const p = r.premium || {};
  const titleId = uid('res');
  const covs = Array.isArray(r.coverages) ? r.coverages : [];
  const fees = Array.isArray(r.fees) ? r.fees : [];
  const perUnit = covs.some((cv) => unitOf(cv)); // lines rated per vehicle or member
  const table = h('table', { class: 'breakdown' },
    h('caption', { class: 'sr-only' }, `Premium by coverage, ${v.title(r)}`),
    h('thead', null, h('tr', null,
      perUnit ? h('th', { scope: 'col' }, ctx.unitWord || 'Unit') : null,
      h('th', { scope: 'col' }, 'Coverage and limits'),
      h('th', { scope: 'col', class: 'num' }, 'Premium'))),
    h('tbody', null,
      covs.map((cv, i) => h('tr', null,
        perUnit ? h('td', { class: 'unit' }, unitCell(ctx, unitOf(cv), i === 0 || unitOf(covs[i - 1]) !== unitOf(cv))) : null,
        h('th', { scope: 'row' }, coverageName(ctx, cv.code), ' ',
          h('span', { class: 'limits' }, limitsText(cv.limits))),
        h('td', { class: 'num' }, money(cv.premium)))),
      fees.map((f) => h('tr', { class: 'fee' },
        perUnit ? h('td', null, '') : null,
        h('th', { scope: 'row' }, String(f.name || 'Fee')),
        h('td', { class: 'num' }, money(f.amount))))),
    h('tfoot', null, h('tr', null,
      h('th', { scope: 'row', colspan: perUnit ? 2 : 1 }, v.breakdownTotal(p)),
      h('td', { class: 'num' }, money(p.total)))));

  return h('article', { class: 'result quoted', 'data-testid': `result-${key}`, 'aria-labelledby': titleId },
    h('div', { class: 'result-head' },
      heading(r, v, titleId),
      h('span', { class: 'rating', title: 'Financial strength rating' }, 'Rating ', h('strong', null, String(c.rating || '—')))),
    h('div', { class: 'result-body' },
      h('div', { class: 'price' },
        h('p', { class: 'total' },
          h('span', { class: 'cur' }, '$'),
          h('span', { 'data-testid': `total-${key}` }, money(v.price(r)))),
        h('p', { class: 'term' }, v.per(r)),
        v.more(r).map((t) => h('p', { class: 'monthly' }, t)),
        factsList(v.facts(r, key)),
        p.minimum_premium_applied ? h('p', { class: 'note' }, 'The carrier\'s minimum premium applies.') : null,
        r.plan ? h('p', { class: 'plan muted' }, `Plan ${r.plan.id}, version ${r.plan.version}`) : null,
        whyButton(r, ctx, v, key, saved)),
      h('div', { class: 'details' },
        h('div', { class: 'table-scroll' }, table),
        listSection('Notes', r.notes, 'notes'),
        verifiesSection(r))));
}

function otherCard(r, v, key) {
  const c = carrierOf(r);
  const titleId = uid('res');
  return h('article', { class: `result other status-${String(r.status || '')}`, 'data-testid': `result-${key}`, 'aria-labelledby': titleId },
    h('div', { class: 'result-head' },
      heading(r, v, titleId),
      h('span', { class: 'rating' }, 'Rating ', h('strong', null, String(c.rating || '—'))),
      h('span', { class: 'status' }, STATUS[r.status] || String(r.status || ''))),
    listSection('Why', r.reasons, 'reasons'),
    listSection('Notes', r.notes, 'notes'));
}

// ---- Comparison table ----------------------------------------------------

function comparison(quoted, ctx, v, keys) {
  // Rows: every (unit, coverage) any carrier priced, units in order of appearance.
  const units = [];
  const rows = new Map(); // unit -> Map(code -> limits)
  for (const r of quoted) {
    for (const cv of r.coverages || []) {
      const u = unitOf(cv);
      if (!rows.has(u)) {
        rows.set(u, new Map());
        units.push(u);
      }
      if (!rows.get(u).has(cv.code)) rows.get(u).set(cv.code, cv.limits);
    }
  }
  const order = ctx.coverageOrder || [];
  const rank = (code) => (order.includes(code) ? order.indexOf(code) : order.length);
  const cell = (r, u, code) => (r.coverages || []).find((cv) => unitOf(cv) === u && cv.code === code);
  const missing = () => h('td', { class: 'num muted' }, h('span', { 'aria-hidden': 'true' }, '—'), h('span', { class: 'sr-only' }, 'not included'));

  const table = h('table', { class: 'comparison', 'data-testid': 'comparison' },
    h('caption', null, v.rowPerUnit ? `Premium of each ${String(ctx.unitWord || 'unit').toLowerCase()} by ${plural(v.nouns.quoted, 1)}` : `Premium of each coverage by ${plural(v.nouns.asked, 1)}`),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, v.rowPerUnit ? ctx.unitWord || 'Unit' : 'Coverage'),
      quoted.map((r) => {
        const sub = v.subtitle(r);
        return h('th', { scope: 'col', class: 'num' },
          v.title(r), h('br'),
          sub ? [h('span', { class: 'muted' }, String(sub)), h('br')] : null,
          h('span', { class: 'muted' }, `Rating ${carrierOf(r).rating || '—'}`));
      }))));

  if (v.rowPerUnit) {
    // One row per unit (a health member): each result's premium for that unit.
    const unitPremium = (r, u) => {
      const mine = (r.coverages || []).filter((cv) => unitOf(cv) === u);
      return mine.length ? mine.reduce((sum, cv) => sum + Number(cv.premium || 0), 0) : null;
    };
    table.append(h('tbody', null, units.map((u) => h('tr', { 'data-testid': `compare-unit-${u || 'policy'}` },
      h('th', { scope: 'row' }, unitName(ctx, u)),
      quoted.map((r) => {
        const amount = unitPremium(r, u);
        return amount === null ? missing() : h('td', { class: 'num' }, money(amount));
      })))));
  }

  // The policy alone needs no group heading.
  const policyOnly = units.length === 1 && units[0] === '';
  for (const u of v.rowPerUnit ? [] : units) {
    const codes = [...rows.get(u).keys()].sort((a, b) => rank(a) - rank(b));
    table.append(h('tbody', null,
      policyOnly ? null : h('tr', { class: 'group' }, h('th', { scope: 'rowgroup', colspan: quoted.length + 1 }, unitName(ctx, u))),
      codes.map((code) => h('tr', null,
        h('th', { scope: 'row' }, coverageName(ctx, code), ' ',
          h('span', { class: 'limits' }, limitsText(rows.get(u).get(code)))),
        quoted.map((r) => {
          const cv = cell(r, u, code);
          return cv ? h('td', { class: 'num' }, money(cv.premium)) : missing();
        })))));
  }
  table.append(h('tbody', { class: 'totals' },
    v.totalRows.map((row) => h('tr', { class: row.strong ? 'strong' : null },
      h('th', { scope: 'row' }, row.label),
      quoted.map((r, i) => h('td', { class: 'num', 'data-testid': row.testid ? `${row.testid}-${keys[i]}` : null }, String(row.cell(r))))))));

  return scrollBox('Comparison table', table);
}

// ---- Ways to save -----------------------------------------------------------

/**
 * The response's tips (changes a carrier's own plan prices lower) for the
 * quotes shown, one group per carrier in the quotes' order: each change in
 * words and what it saves. The server only suggests changes that keep the
 * legal minimums.
 */
function tipsSection(resp, quoted, v, keys) {
  const tips = Array.isArray(resp.tips) ? resp.tips : [];
  const groups = quoted.map((r, i) => ({
    r,
    key: keys[i],
    tips: tips.filter((t) => t && t.carrier === carrierOf(r).id && (!t.plan || !r.plan || t.plan === r.plan.id)),
  })).filter((g) => g.tips.length);
  if (!groups.length) return null;
  return h('section', { class: 'block', 'aria-labelledby': 'tips-h', 'data-testid': 'tips' },
    h('h2', { id: 'tips-h' }, 'Ways to save'),
    h('p', { class: 'meta' }, 'Each change is priced by the carrier\'s own rates, one at a time.'),
    h('div', { class: 'tip-list' }, groups.map((g) => h('div', { class: 'tips', 'data-testid': `tips-${g.key}` },
      h('h3', null, `${v.title(g.r)} (now $${money(totalOf(g.r))})`),
      h('ul', null, g.tips.map((t, i) => h('li', { 'data-testid': `tip-${g.key}-${i}` },
        h('span', { class: 'change' }, String(t.change || '')), ': ',
        h('strong', { class: 'saving' }, `save $${money(t.saving)}`),
        ` (new total $${money(t.new_total)})`)))))));
}

// ---- The whole view --------------------------------------------------------

/**
 * What shows in place of the quotes when none is shown: the filters hide
 * them all; or no answer so far quoted, with the others still to come
 * (`arriving`); or none quoted at all, and then where the reasons are and
 * how to try other answers.
 */
function emptyText(v, quotedCount, arriving) {
  if (quotedCount) return 'No quote matches the filters.';
  const [one, many] = v.nouns.asked;
  if (arriving) return `None of the ${many} that have answered so far quoted; waiting for the others…`;
  return `No ${one} quoted this request: the reason each gave is below. To try other answers `
    + '(another start date or address), choose "Change answers".';
}

/**
 * The sort and filter controls; each change calls rerender(said): `said`, when
 * given, is told before the new count (a new order leaves the count as it
 * was, and a status region only speaks when its text changes).
 */
function controls(rerender, v) {
  const sortId = uid('sort');
  const onlyId = uid('only');
  const minId = uid('minr');
  const maxId = uid('maxt');
  const sort = h('select', { id: sortId, 'data-testid': 'sort' },
    h('option', { value: 'price' }, 'Price a month, lowest first'),
    h('option', { value: 'rating' }, 'Carrier rating, best first'));
  sort.value = view.sort;
  const only = h('input', { type: 'checkbox', id: onlyId, 'data-testid': 'filter-quoted', checked: view.onlyQuoted });
  const minRating = h('select', { id: minId, 'data-testid': 'filter-rating' },
    h('option', { value: '' }, 'Any rating'),
    RATINGS.slice(0, 8).map((r) => h('option', { value: r }, `${r} or better`)));
  minRating.value = view.minRating;
  const maxTotal = h('input', {
    id: maxId, type: 'number', min: '0', step: '1', inputmode: 'decimal', 'data-testid': 'filter-max',
    value: view.maxTotal, placeholder: 'No limit',
  });
  sort.addEventListener('change', () => {
    view.sort = sort.value;
    const how = sort.selectedOptions[0].textContent; // "Carrier rating, best first"
    rerender(`Sorted by ${how.charAt(0).toLowerCase()}${how.slice(1)}.`);
  });
  only.addEventListener('change', () => { view.onlyQuoted = only.checked; rerender(); });
  minRating.addEventListener('change', () => { view.minRating = minRating.value; rerender(); });
  maxTotal.addEventListener('input', () => { view.maxTotal = maxTotal.value.trim(); rerender(); });
  const clearBtn = h('button', {
    type: 'button',
    class: 'link-button',
    'data-testid': 'clear-filters',
    onclick: () => {
      Object.assign(view, { onlyQuoted: false, minRating: '', maxTotal: '' });
      only.checked = false;
      minRating.value = '';
      maxTotal.value = '';
      rerender();
    },
  }, 'Clear filters');
  return h('div', { class: 'controls', role: 'group', 'aria-label': 'Sort and filter' },
    h('div', { class: 'field' }, h('label', { for: sortId }, 'Sort by'), sort),
    h('div', { class: 'field' }, h('label', { for: minId }, 'Minimum rating'), minRating),
    h('div', { class: 'field' }, h('label', { for: maxId }, v.maxLabel), maxTotal),
    h('div', { class: 'field check' }, only, h('label', { for: onlyId }, 'Show only quoted')),
    clearBtn);
}

/**
 * Renders quote response `resp` into `root`.
 * ctx: {coverageNames, coverageOrder, unitWord, unitLabels, onWhy(result, button),
 * arriving (results still coming: no worksheets yet), announce(text) (the
 * page's status live region: told the new count when a sort or filter changes)}.
 * Returns {focusTitle(), update(resp)}: update shows a response with more
 * results of the same quote (still arriving) in place, the heading and the
 * sort and filter controls left as they are, with the focus on them.
 */
export function renderResults(root, resp, ctx) {
  const v = viewOf(ctx);
  let current; // the response shown
  let results;
  let quotedAll;
  let othersAll;
  const keyOf = new Map(); // each result's key, made unique should two share one

  /** Takes the results of `next` as those shown. */
  function take(next) {
    current = next;
    results = Array.isArray(current.results) ? current.results : [];
    quotedAll = results.filter(isQuoted);
    othersAll = results.filter((r) => !isQuoted(r));
    keyOf.clear();
    const seen = new Map();
    for (const r of results) {
      const k = v.key(r);
      const n = (seen.get(k) || 0) + 1;
      seen.set(k, n);
      keyOf.set(r, n === 1 ? k : `${k}-${n}`);
    }
  }

  function summaryText() {
    if (v.key === VIEW.key) {
      return `${results.length} carrier${results.length === 1 ? '' : 's'} asked: ${quotedAll.length} quoted, ${othersAll.length} did not.`;
    }
    const askedCount = new Set(results.map((r) => carrierOf(r).id)).size;
    return `${askedCount} ${plural(v.nouns.asked, askedCount)} asked: ${quotedAll.length} ${plural(v.nouns.quoted, quotedAll.length)} quoted, ${othersAll.length} did not quote.`;
  }

  take(resp);
  const dynamic = h('div', { class: 'dynamic' });
  const titleId = 'results-title';
  const link = `/q/${encodeURIComponent(resp.quote_id || '')}`;
  // The heading (which takes the focus when the results arrive) is described by
  // the summary, so a screen reader says how many quoted with it.
  const summary = h('p', { class: 'summary', id: 'results-summary', 'data-testid': 'results-summary' }, summaryText());
  let banner = v.banner(results) || h('div', { hidden: true });

  root.replaceChildren(...[
    h('div', { class: 'results-head' },
      h('h1', { id: titleId, tabindex: '-1', 'aria-describedby': summary.id }, `Your ${lineTitle(resp.line).toLowerCase()} quotes`),
      h('p', { class: 'meta' },
        `Policy starting ${resp.effective_date || '—'}. `,
        resp.quote_id ? ['Quote ', h('a', { href: link, 'data-testid': 'quote-link' }, String(resp.quote_id)), '. '] : null,
        resp.created_at ? `Priced ${String(resp.created_at).replace('T', ' ').replace('Z', ' UTC')}.` : null),
      summary),
    banner,
    quotedAll.length || othersAll.length ? controls((said) => draw(true, said), v) : null,
    dynamic,
  ].filter(Boolean));

  /**
   * Draws the sorted, filtered results; `announce`: say the new count in the
   * status region, after `said` when given ("Sorted by carrier rating, best first.").
   */
  function draw(announce, said = '') {
    if (chartObserver) chartObserver.disconnect();
    chartObserver = null;
    const quoted = sorted(quotedAll.filter((r) => passes(r, v)), view.sort, v);
    const others = view.onlyQuoted ? [] : sorted(othersAll.filter((r) => passes(r, v)), view.sort === 'rating' ? 'rating' : 'none', v);
    const hiddenCount = results.length - quoted.length - others.length;

    const parts = [];
    const count = `Showing ${quoted.length} ${plural(v.nouns.quoted, quoted.length)}`
      + `${others.length ? ` and ${others.length} ${plural(v.nouns.asked, others.length)} that did not quote` : ''}`
      + `${hiddenCount ? ` (${hiddenCount} hidden by filters)` : ''}.`;
    parts.push(h('p', { class: 'count', 'data-testid': 'results-count' }, count));
    if (announce && ctx.announce) ctx.announce(said ? `${said} ${count}` : count);

    if (quoted.length) {
      const fig = h('figure', { class: 'chart-box' },
        h('figcaption', null, v.chartCaption));
      parts.push(h('section', { class: 'block', 'aria-labelledby': 'chart-h' },
        h('h2', { id: 'chart-h' }, 'Prices at a glance'), fig));
      const items = quoted.map((r) => ({
        id: keyOf.get(r),
        name: v.title(r),
        total: v.basis(r),
        suffix: v.chartSuffix(r),
        note: v.chartNote ? v.chartNote(r) : null,
      }));
      const paint = () => {
        const width = fig.clientWidth || 640;
        if (fig.dataset.width === String(width)) return;
        fig.dataset.width = String(width);
        const old = fig.querySelector('svg');
        const svg = barChart(items, width, v.chartCaption);
        if (old) old.replaceWith(svg);
        else fig.append(svg);
        fitNames(svg);
      };
      fig.paint = paint;
      if (typeof ResizeObserver === 'function') {
        chartObserver = new ResizeObserver(() => paint());
        chartObserver.observe(fig);
      }

      parts.push(h('section', { class: 'block', 'aria-labelledby': 'quoted-h' },
        h('h2', { id: 'quoted-h' }, view.sort === 'rating' ? 'Quotes, best rated first' : 'Quotes, lowest price a month first'),
        termsNote(quoted),
        h('div', { class: 'result-list', 'data-testid': 'quoted-list' }, quoted.map((r) => quotedCard(r, ctx, v, keyOf.get(r), !!current.quote_id)))));

      const tips = tipsSection(current, quoted, v, quoted.map((r) => keyOf.get(r)));
      if (tips) parts.push(tips);

      parts.push(h('section', { class: 'block', 'aria-labelledby': 'compare-h' },
        h('h2', { id: 'compare-h' }, v.rowPerUnit ? 'Compare plans side by side' : 'Compare coverages side by side'),
        comparison(quoted, ctx, v, quoted.map((r) => keyOf.get(r)))));
    } else {
      parts.push(h('p', { class: 'empty', 'data-testid': 'no-quotes' }, emptyText(v, quotedAll.length, ctx.arriving)));
    }

    if (others.length) {
      const word = plural(v.nouns.asked, 2);
      parts.push(h('section', { class: 'block', 'aria-labelledby': 'others-h' },
        h('h2', { id: 'others-h' }, `${word.charAt(0).toUpperCase()}${word.slice(1)} that did not quote`),
        h('div', { class: 'result-list others', 'data-testid': 'other-list' }, others.map((r) => otherCard(r, v, keyOf.get(r))))));
    }

    dynamic.replaceChildren(...parts);
    const fig = dynamic.querySelector('figure.chart-box');
    if (fig) fig.paint();
  }

  draw(false);
  return {
    focusTitle: () => root.querySelector(`#${titleId}`).focus(),
    update(next) {
      take(next);
      summary.textContent = summaryText();
      const nextBanner = v.banner(results) || h('div', { hidden: true });
      banner.replaceWith(nextBanner);
      banner = nextBanner;
      draw(false);
    },
  };
}
