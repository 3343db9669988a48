// results.js -- the results view of one saved quote: sort and filters, the
// bar chart, one card per carrier (quoted first), the side-by-side coverage
// comparison, and the carriers that did not quote with their reasons.

import { h, uid, money, limitsText, ratingRank, RATINGS } from './dom.js';
import { barChart } from './chart.js';
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

function sorted(list, how) {
  const byName = (a, b) => nameOf(a).localeCompare(nameOf(b));
  const byPrice = (a, b) => totalOf(a) - totalOf(b) || byName(a, b);
  const byRating = (a, b) => ratingRank(carrierOf(a).rating) - ratingRank(carrierOf(b).rating);
  const out = [...list];
  if (how === 'rating') out.sort((a, b) => byRating(a, b) || (isQuoted(a) && isQuoted(b) ? byPrice(a, b) : byName(a, b)));
  else if (list.every(isQuoted)) out.sort(byPrice);
  return out; // price order leaves the others in the server's order
}

function passes(r) {
  if (view.minRating && ratingRank(carrierOf(r).rating) > ratingRank(view.minRating)) return false;
  if (isQuoted(r) && view.maxTotal !== '' && Number.isFinite(Number(view.maxTotal))
      && totalOf(r) > Number(view.maxTotal)) return false;
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

function quotedCard(r, ctx) {
  const c = carrierOf(r);
  const p = r.premium || {};
  const titleId = uid('res');
  const covs = Array.isArray(r.coverages) ? r.coverages : [];
  const fees = Array.isArray(r.fees) ? r.fees : [];
  const table = h('table', { class: 'breakdown' },
    h('caption', { class: 'sr-only' }, `Premium by coverage, ${nameOf(r)}`),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, ctx.unitWord || 'Unit'),
      h('th', { scope: 'col' }, 'Coverage and limits'),
      h('th', { scope: 'col', class: 'num' }, 'Premium'))),
    h('tbody', null,
      covs.map((cv) => h('tr', null,
        h('td', null, cv.vehicle ? String(cv.vehicle) : '—'),
        h('th', { scope: 'row' }, coverageName(ctx, cv.code),
          h('span', { class: 'limits' }, limitsText(cv.limits))),
        h('td', { class: 'num' }, money(cv.premium)))),
      fees.map((f) => h('tr', { class: 'fee' },
        h('td', null, ''),
        h('th', { scope: 'row' }, String(f.name || 'Fee')),
        h('td', { class: 'num' }, money(f.amount))))),
    h('tfoot', null, h('tr', null,
      h('th', { scope: 'row', colspan: 2 }, `Total for ${p.term_months} months`),
      h('td', { class: 'num' }, money(p.total)))));

  const why = h('button', {
    type: 'button',
    class: 'why',
    'data-testid': `why-${c.id}`,
    'aria-haspopup': 'dialog',
    onclick: () => ctx.onWhy(r, why),
  }, 'Why this price?', h('span', { class: 'sr-only' }, ` (${nameOf(r)})`));

  return h('article', { class: 'result quoted', 'data-testid': `result-${c.id}`, 'aria-labelledby': titleId },
    h('div', { class: 'result-head' },
      h('h3', { id: titleId }, nameOf(r)),
      h('span', { class: 'rating', title: 'Financial strength rating' }, 'Rating ', h('strong', null, String(c.rating || '—')))),
    h('div', { class: 'result-body' },
      h('div', { class: 'price' },
        h('p', { class: 'total' },
          h('span', { class: 'cur' }, '$'),
          h('span', { 'data-testid': `total-${c.id}` }, money(p.total))),
        h('p', { class: 'term' }, `for ${p.term_months} months`),
        h('p', { class: 'monthly' }, `$${money(p.monthly)} a month`),
        p.minimum_premium_applied ? h('p', { class: 'note' }, 'The carrier\'s minimum premium applies.') : null,
        r.plan ? h('p', { class: 'plan muted' }, `Plan ${r.plan.id}, version ${r.plan.version}`) : null,
        why),
      h('div', { class: 'details' },
        h('div', { class: 'table-scroll' }, table),
        listSection('Notes', r.notes, 'notes'),
        verifiesSection(r))));
}

function otherCard(r) {
  const c = carrierOf(r);
  const titleId = uid('res');
  return h('article', { class: `result other status-${String(r.status || '')}`, 'data-testid': `result-${c.id}`, 'aria-labelledby': titleId },
    h('div', { class: 'result-head' },
      h('h3', { id: titleId }, nameOf(r)),
      h('span', { class: 'rating' }, 'Rating ', h('strong', null, String(c.rating || '—'))),
      h('span', { class: 'status' }, STATUS[r.status] || String(r.status || ''))),
    listSection('Why', r.reasons, 'reasons'),
    listSection('Notes', r.notes, 'notes'));
}

// ---- Comparison table ----------------------------------------------------

function comparison(quoted, ctx) {
  // Rows: every (unit, coverage) any carrier priced, units in order of appearance.
  const units = [];
  const rows = new Map(); // unit -> Map(code -> limits)
  for (const r of quoted) {
    for (const cv of r.coverages || []) {
      const u = cv.vehicle || '';
      if (!rows.has(u)) {
        rows.set(u, new Map());
        units.push(u);
      }
      if (!rows.get(u).has(cv.code)) rows.get(u).set(cv.code, cv.limits);
    }
  }
  const order = ctx.coverageOrder || [];
  const rank = (code) => (order.includes(code) ? order.indexOf(code) : order.length);
  const cell = (r, u, code) => (r.coverages || []).find((cv) => (cv.vehicle || '') === u && cv.code === code);

  const table = h('table', { class: 'comparison', 'data-testid': 'comparison' },
    h('caption', null, 'Premium of each coverage by carrier'),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, 'Coverage'),
      quoted.map((r) => h('th', { scope: 'col', class: 'num' },
        nameOf(r), h('br'), h('span', { class: 'muted' }, `Rating ${carrierOf(r).rating || '—'}`))))));

  for (const u of units) {
    const codes = [...rows.get(u).keys()].sort((a, b) => rank(a) - rank(b));
    table.append(h('tbody', null,
      h('tr', { class: 'group' }, h('th', { scope: 'colgroup', colspan: quoted.length + 1 }, unitName(ctx, u))),
      codes.map((code) => h('tr', null,
        h('th', { scope: 'row' }, coverageName(ctx, code),
          h('span', { class: 'limits' }, limitsText(rows.get(u).get(code)))),
        quoted.map((r) => {
          const cv = cell(r, u, code);
          return cv
            ? h('td', { class: 'num' }, money(cv.premium))
            : h('td', { class: 'num muted' }, h('span', { 'aria-hidden': 'true' }, '—'), h('span', { class: 'sr-only' }, 'not included'));
        })))));
  }
  table.append(h('tbody', { class: 'totals' },
    h('tr', null, h('th', { scope: 'row' }, 'Fees'),
      quoted.map((r) => h('td', { class: 'num' }, money(r.premium.fees)))),
    h('tr', { class: 'strong' }, h('th', { scope: 'row' }, 'Total'),
      quoted.map((r) => h('td', { class: 'num', 'data-testid': `compare-total-${carrierOf(r).id}` }, money(r.premium.total)))),
    h('tr', null, h('th', { scope: 'row' }, 'Term'),
      quoted.map((r) => h('td', { class: 'num' }, `${r.premium.term_months} months`))),
    h('tr', null, h('th', { scope: 'row' }, 'Monthly'),
      quoted.map((r) => h('td', { class: 'num' }, money(r.premium.monthly))))));

  return h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Coverage comparison (scrolls sideways)' }, table);
}

// ---- The whole view --------------------------------------------------------

function controls(rerender) {
  const sortId = uid('sort');
  const onlyId = uid('only');
  const minId = uid('minr');
  const maxId = uid('maxt');
  const sort = h('select', { id: sortId, 'data-testid': 'sort' },
    h('option', { value: 'price' }, 'Price, lowest first'),
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
  sort.addEventListener('change', () => { view.sort = sort.value; rerender(); });
  only.addEventListener('change', () => { view.onlyQuoted = only.checked; rerender(); });
  minRating.addEventListener('change', () => { view.minRating = minRating.value; rerender(); });
  maxTotal.addEventListener('input', () => { view.maxTotal = maxTotal.value.trim(); rerender(); });
  const clearBtn = h('button', {
    type: 'button',
    class: 'link-button',
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
    h('div', { class: 'field' }, h('label', { for: maxId }, 'Maximum total ($)'), maxTotal),
    h('div', { class: 'field check' }, only, h('label', { for: onlyId }, 'Show only quoted')),
    clearBtn);
}

/**
 * Renders quote response `resp` into `root`.
 * ctx: {coverageNames, coverageOrder, unitWord, unitLabels, onWhy(result, button)}.
 */
export function renderResults(root, resp, ctx) {
  const results = Array.isArray(resp.results) ? resp.results : [];
  const quotedAll = results.filter(isQuoted);
  const othersAll = results.filter((r) => !isQuoted(r));
  const dynamic = h('div', { class: 'dynamic' });
  const titleId = 'results-title';
  const link = `/q/${encodeURIComponent(resp.quote_id || '')}`;

  root.replaceChildren(
    h('div', { class: 'results-head' },
      h('h1', { id: titleId, tabindex: '-1' }, `Your ${lineTitle(resp.line).toLowerCase()} quotes`),
      h('p', { class: 'meta' },
        `Policy starting ${resp.effective_date || '—'}. `,
        resp.quote_id ? ['Quote ', h('a', { href: link, 'data-testid': 'quote-link' }, String(resp.quote_id)), '. '] : null,
        resp.created_at ? `Priced ${String(resp.created_at).replace('T', ' ').replace('Z', ' UTC')}.` : null),
      h('p', { class: 'summary', 'data-testid': 'results-summary' },
        `${results.length} carrier${results.length === 1 ? '' : 's'} asked: ${quotedAll.length} quoted, ${othersAll.length} did not.`)),
    quotedAll.length || othersAll.length ? controls(draw) : null,
    dynamic,
  );

  function draw() {
    if (chartObserver) chartObserver.disconnect();
    chartObserver = null;
    const quoted = sorted(quotedAll.filter(passes), view.sort);
    const others = view.onlyQuoted ? [] : sorted(othersAll.filter(passes), view.sort === 'rating' ? 'rating' : 'none');
    const hiddenCount = results.length - quoted.length - others.length;

    const parts = [];
    parts.push(h('p', { class: 'count', 'data-testid': 'results-count' },
      `Showing ${quoted.length} quote${quoted.length === 1 ? '' : 's'}`,
      others.length ? ` and ${others.length} carrier${others.length === 1 ? '' : 's'} that did not quote` : '',
      hiddenCount ? ` (${hiddenCount} hidden by filters)` : '', '.'));

    if (quoted.length) {
      const fig = h('figure', { class: 'chart-box' },
        h('figcaption', null, 'Total premium by carrier (the term is shown after each amount)'));
      parts.push(h('section', { class: 'block', 'aria-labelledby': 'chart-h' },
        h('h2', { id: 'chart-h' }, 'Prices at a glance'), fig));
      const items = quoted.map((r) => ({
        id: carrierOf(r).id, name: nameOf(r), total: totalOf(r), term: r.premium.term_months,
      }));
      const paint = () => {
        const width = fig.clientWidth || 640;
        if (fig.dataset.width === String(width)) return;
        fig.dataset.width = String(width);
        const old = fig.querySelector('svg');
        const svg = barChart(items, width, 'Total premium by carrier');
        if (old) old.replaceWith(svg);
        else fig.append(svg);
      };
      fig.paint = paint;
      if (typeof ResizeObserver === 'function') {
        chartObserver = new ResizeObserver(() => paint());
        chartObserver.observe(fig);
      }

      parts.push(h('section', { class: 'block', 'aria-labelledby': 'quoted-h' },
        h('h2', { id: 'quoted-h' }, view.sort === 'rating' ? 'Quotes, best rated first' : 'Quotes, lowest price first'),
        h('div', { class: 'result-list', 'data-testid': 'quoted-list' }, quoted.map((r) => quotedCard(r, ctx)))));

      parts.push(h('section', { class: 'block', 'aria-labelledby': 'compare-h' },
        h('h2', { id: 'compare-h' }, 'Compare coverages side by side'),
        comparison(quoted, ctx)));
    } else {
      parts.push(h('p', { class: 'empty', 'data-testid': 'no-quotes' },
        quotedAll.length ? 'No quote matches the filters.' : 'No carrier quoted this request.'));
    }

    if (others.length) {
      parts.push(h('section', { class: 'block', 'aria-labelledby': 'others-h' },
        h('h2', { id: 'others-h' }, 'Carriers that did not quote'),
        h('div', { class: 'result-list others', 'data-testid': 'other-list' }, others.map(otherCard))));
    }

    root.setAttribute('aria-busy', 'true');
    dynamic.replaceChildren(...parts);
    const fig = dynamic.querySelector('figure.chart-box');
    if (fig) fig.paint();
    root.setAttribute('aria-busy', 'false');
  }

  draw();
  return { focusTitle: () => root.querySelector(`#${titleId}`).focus() };
}
