// line-bundle.js -- auto and home (or renters) quoted together, with each
// carrier's multi-line discount (docs/bundles.md): the form and the results.
//
// The form is the auto form and the home or renters form, each mounted from
// its own line module under a container whose data-path-base is the part's
// name ("auto", "home", "renters"), so the server's errors
// ("auto.drivers[0].date_of_birth") land on the right field (errors.js,
// pathOf). The home and renters forms are both kept, one shown at a time, so
// switching keeps the answers of each; only the one shown is sent.
//
// A bundle's answer is not a list of results but the bundles (both lines from
// one carrier, compared by annual cost), the best separate quotes and each
// line's own results; `render` shows it. A bundle has no single worksheet, so
// its results open none and say how to see one.

import { h, uid, money, scrollBox } from './dom.js';
import { barChart, fitNames } from './chart.js';
import autoLine from './line-auto.js';
import homeLine from './line-home.js';
import rentersLine from './line-renters.js';

const PARTS = { home: homeLine, renters: rentersLine };

// examples/oh-bundle-auto-home.json: Dana Reyes's car and house in Columbus OH.
// Her car, and she, are the auto line's example.
const example = {
  line: 'bundle',
  effective_date: autoLine.example.effective_date,
  applicant: autoLine.example.applicant,
  auto: {
    drivers: autoLine.example.drivers,
    vehicles: autoLine.example.vehicles,
    coverages: autoLine.example.coverages,
  },
  home: {
    dwelling: {
      year_built: 1998,
      construction: 'frame',
      square_feet: 2100,
      stories: 2,
      roof_year: 2015,
      roof_type: 'asphalt_shingle',
      protection_class: 3,
      replacement_cost: 320000,
      smoke_detectors: true,
      sprinklers: false,
      burglar_alarm: true,
    },
    coverages: { dwelling: 300000, liability: 300000, med_pay: 5000, deductible: 1000 },
  },
};

/** A part of the form: a titled section around `box` (its fields under the box's data-path-base). */
function formPart(title, box) {
  const titleId = uid('part');
  return h('section', { class: 'bundle-part', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, title), box);
}

function mount(container, common) {
  const autoBox = h('div', { 'data-path-base': 'auto', 'data-testid': 'bundle-auto' });
  const autoCtl = autoLine.mount(autoBox, common);
  const props = {};
  for (const [kind, mod] of Object.entries(PARTS)) {
    const box = h('div', { 'data-path-base': kind, 'data-testid': `bundle-${kind}` });
    props[kind] = { box, ctl: mod.mount(box, common) };
  }

  // Which home policy goes with the car.
  const name = uid('bundle-kind');
  const radios = Object.fromEntries(Object.keys(PARTS).map((kind) => [kind, h('input', {
    type: 'radio', name, id: `${name}-${kind}`, value: kind, 'data-testid': `bundle-kind-${kind}`,
  })]));
  const kindBox = h('fieldset', { class: 'section' },
    h('legend', null, 'With the car, insure'),
    h('div', { class: 'check-row' },
      h('span', { class: 'field check' }, radios.home, h('label', { for: radios.home.id }, 'My home (homeowners, HO-3)')),
      h('span', { class: 'field check' }, radios.renters, h('label', { for: radios.renters.id }, 'My rented home (renters, HO-4)'))));
  const propTitle = h('h2', { id: uid('part') });
  const propSlot = h('div');
  let kind = 'home';
  // With a home policy the shopper owns a home: "I own a home" is not asked
  // but sent as true (the auto part's homeowner discount follows it).
  const applicant = () => ({ homeowner: kind === 'home' ? 'implied' : true });
  let mounted = false;
  function show(k) {
    kind = k;
    radios[k].checked = true;
    propTitle.textContent = k === 'home' ? 'Your home' : 'Your rented home';
    propSlot.replaceChildren(props[k].box);
    if (mounted) common.setLine('bundle', applicant(), bundle.planLines);
  }
  for (const [k, r] of Object.entries(radios)) r.addEventListener('change', () => r.checked && show(k));
  show('home');

  container.replaceChildren(
    formPart('Your car', autoBox),
    kindBox,
    h('section', { class: 'bundle-part', 'aria-labelledby': propTitle.id }, propTitle, propSlot),
  );

  const ctl = {
    applicant,
    build() {
      return { auto: autoCtl.build(), [kind]: props[kind].ctl.build() };
    },
    fill(req) {
      autoCtl.fill(req.auto || {});
      const k = req.renters && !req.home ? 'renters' : 'home';
      for (const [x, p] of Object.entries(props)) {
        if (x === k) p.ctl.fill(req[x] || {});
        else p.ctl.reset();
      }
      show(k);
    },
    reset() {
      autoCtl.reset();
      for (const p of Object.values(props)) p.ctl.reset();
      show('home');
    },
  };
  mounted = true;
  return ctl;
}

// ---- Results -------------------------------------------------------------------

const PART_TITLES = { auto: 'Auto', home: 'Home', renters: 'Renters' };
const isQuoted = (r) => r && r.status === 'quoted' && r.premium;
const STATUS = { declined: 'Declined', unavailable: 'Not available', error: 'Could not rate', timeout: 'Did not answer in time' };

/** The property part of a bundle answer: "home" or "renters". */
const propKind = (resp) => (resp.renters && !resp.home ? 'renters' : 'home');

/** Carrier id -> name, from every part's results and the bundles. */
function carrierNames(resp) {
  const names = new Map();
  for (const part of ['auto', 'home', 'renters']) {
    for (const r of (resp[part] && Array.isArray(resp[part].results) ? resp[part].results : [])) {
      if (r && r.carrier && r.carrier.id) names.set(String(r.carrier.id), String(r.carrier.name || r.carrier.id));
    }
  }
  for (const b of Array.isArray(resp.bundles) ? resp.bundles : []) {
    if (b && b.carrier && b.carrier.id) names.set(String(b.carrier.id), String(b.carrier.name || b.carrier.id));
  }
  return names;
}

/** "$542.98 for 6 months" with "$1085.96 a year" under it: one side of a bundle or of the best separate. */
function sideCell(side, testid) {
  if (!side) return h('td', { class: 'num muted' }, '—');
  const months = Number(side.term_months);
  return h('td', { class: 'num', 'data-testid': testid },
    h('span', { class: 'side-annual' }, `$${money(side.annual)} a year`),
    months === 12 ? null : h('span', { class: 'limits' }, `$${money(side.total)} for ${months} months`));
}

/** A saving in words: "$69.65" or, when the bundle costs more, "costs $139.04 more". */
function savingText(x) {
  const n = Number(x);
  if (!Number.isFinite(n)) return '—';
  return n < 0 ? `costs $${money(-n)} more` : `$${money(n)}`;
}

function bundlesTable(resp, kind, names) {
  const bundles = Array.isArray(resp.bundles) ? resp.bundles : [];
  const best = resp.best_separate;
  return scrollBox('Bundles',
    h('table', { class: 'comparison bundles', 'data-testid': 'bundles' },
      h('caption', null, `Auto and ${kind} from one carrier, with its multi-line discount, by cost a year`),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, 'Carrier'),
        h('th', { scope: 'col', class: 'num' }, 'Auto'),
        h('th', { scope: 'col', class: 'num' }, PART_TITLES[kind]),
        h('th', { scope: 'col', class: 'num' }, 'Both, a year'),
        h('th', { scope: 'col', class: 'num' }, 'Saving against the same carrier separately'),
        h('th', { scope: 'col', class: 'num' }, 'Saving against the best separate quotes'))),
      h('tbody', null, bundles.map((b) => {
        const id = String((b.carrier && b.carrier.id) || '');
        return h('tr', { 'data-testid': `bundle-${id}` },
          h('th', { scope: 'row' }, names.get(id) || id,
            h('span', { class: 'limits' }, `Rating ${(b.carrier && b.carrier.rating) || '—'}`)),
          sideCell(b.auto, `bundle-auto-${id}`),
          sideCell(b[kind], `bundle-${kind}-${id}`),
          h('td', { class: 'num' }, h('strong', { 'data-testid': `bundle-annual-${id}` }, `$${money(b.annual_total)}`)),
          h('td', { class: 'num', 'data-testid': `bundle-saving-same-${id}` }, savingText(b.saving_vs_same_carrier_separately)),
          h('td', { class: 'num', 'data-testid': `bundle-saving-best-${id}` }, savingText(b.saving_vs_best_separate)));
      })),
      best ? h('tbody', { class: 'totals' }, h('tr', { 'data-testid': 'best-separate' },
        h('th', { scope: 'row' }, 'Best separate quotes',
          h('span', { class: 'limits' }, `auto from ${names.get(String(best.auto && best.auto.carrier)) || '—'}, ${kind} from ${names.get(String(best[kind] && best[kind].carrier)) || '—'}`)),
        sideCell(best.auto, 'best-separate-auto'),
        sideCell(best[kind], `best-separate-${kind}`),
        h('td', { class: 'num' }, h('strong', { 'data-testid': 'best-separate-annual' }, `$${money(best.annual_total)}`)),
        h('td', { class: 'num muted' }, '—'),
        h('td', { class: 'num muted' }, '—'))) : null));
}

/** One line's own results (without the bundle): price, term and month for each quote, the reasons for the rest. */
function partSection(resp, part) {
  const results = resp[part] && Array.isArray(resp[part].results) ? resp[part].results : [];
  const titleId = `part-${part}-h`;
  return h('section', { class: 'block', 'aria-labelledby': titleId, 'data-testid': `part-${part}` },
    h('h2', { id: titleId }, `${PART_TITLES[part]} quotes on their own`),
    h('p', { class: 'meta' }, 'What each carrier charges for this policy alone, without the multi-line discount.'),
    results.length ? scrollBox(`${PART_TITLES[part]} quotes`,
      h('table', { class: 'comparison' },
        h('caption', { class: 'sr-only' }, `${PART_TITLES[part]} quotes on their own`),
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, 'Carrier'),
          h('th', { scope: 'col', class: 'num' }, 'Price'),
          h('th', { scope: 'col', class: 'num' }, 'A month'))),
        h('tbody', null, results.map((r) => {
          const id = String((r.carrier && r.carrier.id) || '');
          const name = h('th', { scope: 'row' }, String((r.carrier && (r.carrier.name || r.carrier.id)) || ''),
            h('span', { class: 'limits' }, `Rating ${(r.carrier && r.carrier.rating) || '—'}`));
          if (!isQuoted(r)) {
            const why = [STATUS[r.status] || String(r.status || ''), ...(Array.isArray(r.reasons) ? r.reasons : [])].join(': ');
            return h('tr', { 'data-testid': `part-${part}-${id}` }, name, h('td', { colspan: 2, class: 'muted' }, why));
          }
          const p = r.premium;
          return h('tr', { 'data-testid': `part-${part}-${id}` }, name,
            h('td', { class: 'num' }, h('span', { 'data-testid': `part-${part}-total-${id}` }, `$${money(p.total)}`),
              h('span', { class: 'limits' }, `for ${p.term_months} months`)),
            h('td', { class: 'num' }, `$${money(p.monthly)}`));
        })))) : h('p', { class: 'empty' }, 'No carrier was asked for this line.'));
}

let chartObserver = null; // redraws the bundles' chart shown last

/** Renders bundle answer `resp` into `root`; returns {focusTitle()} like results.js. */
function render(root, resp) {
  const kind = propKind(resp);
  const names = carrierNames(resp);
  const bundles = Array.isArray(resp.bundles) ? resp.bundles : [];
  const link = `/q/${encodeURIComponent(resp.quote_id || '')}`;
  let fig = null;
  const parts = [
    h('div', { class: 'results-head' },
      // Described by the summary: a screen reader says it with the heading, which takes the focus.
      h('h1', { id: 'results-title', tabindex: '-1', 'aria-describedby': 'results-summary' }, `Your auto and ${kind} bundle quotes`),
      h('p', { class: 'meta' },
        `Policies starting ${resp.effective_date || '—'}. `,
        resp.quote_id ? ['Quote ', h('a', { href: link, 'data-testid': 'quote-link' }, String(resp.quote_id)), '. '] : null,
        resp.created_at ? `Priced ${String(resp.created_at).replace('T', ' ').replace('Z', ' UTC')}.` : null),
      h('p', { class: 'summary', id: 'results-summary', 'data-testid': 'results-summary' },
        bundles.length
          ? `${bundles.length} carrier${bundles.length === 1 ? '' : 's'} quoted both policies. Compared by the cost of a year, since auto policies often run 6 months and ${kind} policies 12.`
          : `No carrier quoted both policies, so there is no bundle; each line's own quotes are below.`)),
  ];
  if (bundles.length) {
    const items = bundles.map((b) => ({
      id: String((b.carrier && b.carrier.id) || ''),
      name: names.get(String((b.carrier && b.carrier.id) || '')) || '',
      total: b.annual_total,
      suffix: 'a year',
      note: null,
    }));
    if (resp.best_separate) {
      items.push({ id: 'best-separate', name: 'Best separate quotes (two carriers)', total: resp.best_separate.annual_total, suffix: 'a year', note: null });
    }
    const caption = 'Cost of both policies a year, by carrier';
    fig = h('figure', { class: 'chart-box' }, h('figcaption', null, caption));
    // Drawn to the figure's width once in the page, and again when it changes.
    fig.paint = () => {
      const width = fig.clientWidth || 640;
      if (fig.dataset.width === String(width)) return;
      fig.dataset.width = String(width);
      const old = fig.querySelector('svg');
      const svg = barChart(items, width, caption);
      if (old) old.replaceWith(svg);
      else fig.append(svg);
      fitNames(svg);
    };
    parts.push(h('section', { class: 'block', 'aria-labelledby': 'bundles-h' },
      h('h2', { id: 'bundles-h' }, 'Bundles, lowest cost a year first'),
      fig,
      bundlesTable(resp, kind, names)));
  }
  parts.push(partSection(resp, 'auto'), partSection(resp, kind),
    h('p', { class: 'hint', 'data-testid': 'bundle-why' },
      'A bundle has no single step-by-step price. To see why a carrier charges what it does, quote the auto or the '
      + `${kind} policy on its own (it is then priced without the multi-line discount).`));
  root.replaceChildren(...parts);
  if (chartObserver) chartObserver.disconnect();
  chartObserver = null;
  if (fig) {
    fig.paint();
    if (typeof ResizeObserver === 'function') {
      chartObserver = new ResizeObserver(() => fig.paint());
      chartObserver.observe(fig);
    }
  }
  return { focusTitle: () => root.querySelector('#results-title').focus() };
}

const bundle = {
  id: 'bundle',
  title: 'Auto + home',
  coverageNames: {},
  coverageOrder: [],
  unitWord: 'Unit',
  example,
  exampleText: 'Dana Reyes\'s 2022 Honda Civic and 1998 frame house in Columbus OH 43215.',
  planLines: ['auto', 'home', 'renters'],
  mount,
  render,
};

export default bundle;
