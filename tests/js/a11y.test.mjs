// a11y.test.mjs -- the shopper's page as a keyboard-only, screen-reader or
// low-vision shopper meets it, in Debian's headless Chromium (playwright-core)
// against the real `multiquote serve` binary. Names and roles are read from
// Chromium's own accessibility tree (CDP Accessibility.getFullAXTree), which is
// what a screen reader is given, not from DOM attributes:
//   - every stop of the Tab key, on the form, the results and the worksheet,
//     shows a focus ring of 3:1 or more against the colours around it
//     (WCAG 1.4.11), on the white page, the blue header and a blue button;
//   - a coverage's row header reads its name and its limits as separate words
//     ("Bodily injury liability $100k / $300k", not "liability$100k");
//   - a group row of a table (a vehicle in the comparison, a coverage in the
//     worksheet) is a row header over its rows, never one more column header
//     (a screen reader would say it with every cell of the columns it spans),
//     and the worksheet's "Op." column is named "Operation";
//   - the chart's text alternative carries its numbers and, as its highlight
//     does, which is the lowest, whatever the order of the bars; the lowest
//     bar is not set apart by its colour alone: "Lowest" follows its name;
//   - the results' heading, which takes the focus when they arrive, is
//     described by their summary (how many carriers quoted), so a screen
//     reader says it with the heading;
//   - a new sort order is said in the results' status region, every time
//     (the count alone stays the same, so the region would say nothing);
//   - the worksheet's steps being shown is said in the dialog (the focus is
//     on its Close button meanwhile), each time it opens;
//   - while results stream in, the results' heading takes the focus from the
//     hidden form and keeps it as more carriers answer (the same heading: a
//     screen reader is not told it again at each answer), and a filter being
//     typed in keeps the focus and every key; the saved quote replacing them
//     is said ("All the results are in."), since their count was;
//   - adding a driver, an incident, a vehicle, a health member or a claim puts
//     the focus on its first field; removing one puts it on the Add button and
//     says in the form's status region what was removed and how many are left;
//   - no control of any line's form is "invalid" to a screen reader before
//     the shopper has sent anything (Chromium says a required select left on
//     "Choose…" is); after a refused request, exactly the fields named are,
//     and answering one clears it;
//   - a VIN that does not decode is an invalid field described by what is
//     wrong with it; a good one is described by the vehicle it decodes to;
//   - every field whose label or legend has the required star (hidden from
//     screen readers) is required to a screen reader: the control, the yes/no
//     group, or the feet of a height;
//   - on a 360 px phone zoomed to 200% (180 CSS px), the worksheet dialog fits
//     the screen, its title wraps between words, and its steps can be read
//     (its head does not cover them);
//   - in forced colours (Windows high contrast, dark), the chart's words stand
//     out 4.5:1 and its bars 3:1 against the system's background, the lowest
//     bar still set apart.
//
// Run: MQ_BIN=$PWD/build/multiquote node --test --test-reporter=tap tests/js/a11y.test.mjs
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { browserSuite, QUOTE_PATH, axTree } from './lib/browser.mjs';


const suite = browserSuite();
const { browserIt, goto } = suite;

/** Picks `line`, fills its example and gets quotes; returns the quote id once /q/{id} shows it. */
async function quoteExample(page, line = 'auto') {
  await goto(page, '/');
  await page.getByTestId(`line-${line}`).check();
  await page.locator(`.line-form[data-line="${line}"]`).waitFor();
  await page.getByTestId('fill-example').click();
  await page.getByTestId('get-quotes').click();
  await page.waitForURL(QUOTE_PATH);
  await page.locator('#results-title').waitFor();
  // A bundle's answer has bundles and each line's quotes, not one total per card.
  await page.locator(line === 'bundle' ? '[data-testid="bundles"]' : '[data-testid^="total-"]').first().waitFor();
  return new URL(page.url()).pathname.match(QUOTE_PATH)[1];
}

// ---- The focus ring -----------------------------------------------------------

/**
 * What the focused element's ring looks like, measured in the page: the ring
 * colour (its outline), the colour just inside it (between the ring and the
 * element) and just outside it. A box-shadow drawn under the ring and wider
 * than it is what lies on either side of the ring; without one, the colour on
 * each side is the first opaque background found from the element at that
 * point. Null when nothing but the body has the focus.
 */
function focusRing(page) {
  return page.evaluate(() => {
    const a = document.activeElement;
    if (!a || a === document.body) return null;
    const parse = (c) => {
      const m = /rgba?\(([^)]*)\)/.exec(c || '');
      if (!m) return null;
      const [r, g, b, alpha = 1] = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
      return { r, g, b, a: alpha };
    };
    const bgAt = (x, y) => {
      for (let el = document.elementFromPoint(x, y); el; el = el.parentElement) {
        const c = parse(getComputedStyle(el).backgroundColor);
        if (c && c.a > 0) return c;
      }
      return { r: 255, g: 255, b: 255, a: 1 };
    };
    const cs = getComputedStyle(a);
    const width = parseFloat(cs.outlineWidth) || 0;
    const offset = parseFloat(cs.outlineOffset) || 0;
    const rect = a.getBoundingClientRect();
    // A halo: "rgb(255, 255, 255) 0px 0px 0px 7px" (no inset, no blur).
    const shadow = /^(rgba?\([^)]*\)) 0px 0px 0px ([\d.]+)px$/.exec(cs.boxShadow || '');
    const halo = shadow && parseFloat(shadow[2]) >= offset + width + 1 ? parse(shadow[1]) : null;
    const y = Math.max(1, Math.min(innerHeight - 2, rect.top + rect.height / 2));
    const leftOut = rect.left - offset - width - 1;
    const outX = leftOut >= 0 ? leftOut : Math.min(innerWidth - 1, rect.right + offset + width + 1);
    return {
      what: `${a.tagName.toLowerCase()}${a.getAttribute('data-testid') ? `[${a.getAttribute('data-testid')}]` : ''}`
        + ` "${((a.labels && a.labels[0] && a.labels[0].textContent) || a.getAttribute('aria-label') || a.textContent || '')
          .trim().slice(0, 40)}"`,
      style: cs.outlineStyle,
      width,
      ring: parse(cs.outlineColor),
      inside: halo || (offset > 0 ? bgAt(rect.left - offset / 2, y) : parse(cs.backgroundColor) || bgAt(rect.left + 1, y)),
      outside: halo || bgAt(outX, y),
      shown: rect.width > 0 && rect.height > 0 && rect.bottom > 0 && rect.top < innerHeight,
    };
  });
}

function luminance({ r, g, b }) {
  const f = (v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}

/** The WCAG contrast ratio of two colours. */
function contrast(x, y) {
  const [hi, lo] = [luminance(x), luminance(y)].sort((p, q) => q - p);
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * Presses Tab until the focus comes back to the first stop (or `max` times),
 * checking at each stop that the focused element is on screen and has a solid
 * ring at least 2px wide of 3:1 or more against both sides; at least `least`
 * stops. Returns the stops.
 */
async function checkEveryTabStop(page, where, { max = 200, least = 4 } = {}) {
  const stops = [];
  const problems = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focusRing(page);
    if (!f) continue; // the browser's own chrome between two rounds
    if (stops.length && f.what === stops[0]) break;
    stops.push(f.what);
    if (!f.shown) problems.push(`${f.what}: off screen`);
    if (f.style !== 'solid' || f.width < 2) problems.push(`${f.what}: ring ${f.style} ${f.width}px`);
    for (const side of ['inside', 'outside']) {
      const ratio = contrast(f.ring, f[side]);
      if (ratio < 3) {
        problems.push(`${f.what}: ring rgb(${f.ring.r},${f.ring.g},${f.ring.b}) on rgb(${f[side].r},${f[side].g},${f[side].b}) `
          + `${side} is ${ratio.toFixed(2)}:1`);
      }
    }
  }
  assert.ok(stops.length >= least, `${where}: Tab reaches the page's controls (${stops.join(', ')})`);
  assert.deepEqual(problems, [], `${where}: every focus ring stands out 3:1`);
  return stops;
}

describe('keyboard', () => {
  browserIt('every Tab stop of the form, the results and the worksheet shows a ring of 3:1 against its surroundings', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    const formStops = await checkEveryTabStop(page, 'the auto form');
    assert.ok(formStops.some((s) => s.startsWith('a "Skip to content"')), 'the skip link (over the blue header) is a stop');
    assert.ok(formStops.some((s) => s.startsWith('button[get-quotes]')), 'the blue "Get quotes" button is a stop');

    await quoteExample(page);
    const resultStops = await checkEveryTabStop(page, 'the results');
    assert.ok(resultStops.some((s) => s.startsWith('button[why-harbor]')));

    await page.getByTestId('why-harbor').click();
    await page.getByRole('dialog').locator('table').waitFor();
    // A modal dialog keeps Tab inside it: its Close button and its table (which scrolls).
    const dialogStops = await checkEveryTabStop(page, 'the worksheet', { least: 2 });
    assert.ok(dialogStops.some((s) => s.startsWith('button[worksheet-close]')));
    await page.keyboard.press('Escape');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('data-testid')), 'why-harbor',
      'closing the worksheet gives the focus back to its button');
  });
});

// ---- Tables as a screen reader reads them -----------------------------------------

/** The accessibility tree's table headers of `page` matching `filter`: [{role, name}]. */
async function headers(page, filter = () => true) {
  const nodes = await axTree(page);
  return nodes
    .filter((n) => n.role === 'columnheader' || n.role === 'rowheader')
    .map(({ role, name }) => ({ role, name }))
    .filter(filter);
}

/** The node of Chromium's accessibility tree that has the focus: {role, name}. */
async function focusedNode(page) {
  // The document itself is marked focused too (its window has the focus).
  const n = (await axTree(page)).find((x) => x.props.focused === true && x.role !== 'RootWebArea');
  return n ? { role: n.role, name: n.name } : null;
}

describe('tables', () => {
  browserIt('a coverage\'s row header says its name and its limits as separate words', async (openPage) => {
    const page = await openPage();
    await quoteExample(page);
    const card = await headers(page);
    const names = card.filter((x) => x.role === 'rowheader').map((x) => x.name);
    // Harbor's card (a wide screen: the limits on the same line) and the comparison.
    for (const want of ['Bodily injury liability $100k / $300k', 'Property damage liability $100k limit',
      'Medical payments $5k limit', 'Comprehensive $500 deductible', 'Collision $500 deductible']) {
      assert.ok(names.filter((n) => n === want).length >= 2, `"${want}" in a card and in the comparison; row headers: ${[...new Set(names)].join(' | ')}`);
    }
    assert.deepEqual(names.filter((n) => /[a-z]\$/.test(n)), [], 'no word runs into its amount');
  });

  browserIt('a group row (a vehicle in the comparison, a coverage in the worksheet) is a row header, not a column header; "Op." is "Operation"', async (openPage) => {
    const page = await openPage();
    await quoteExample(page);
    const comparison = await page.getByTestId('comparison').evaluate((t) => ({
      caption: t.caption.textContent,
      carriers: t.tHead.rows[0].cells.length - 1,
    }));
    const cols = (await headers(page, (x) => x.role === 'columnheader')).map((x) => x.name);
    // The cards' columns, then the comparison's: Coverage and one per carrier; nothing else.
    assert.deepEqual(cols.filter((n) => n !== 'Vehicle' && n !== 'Coverage and limits' && n !== 'Premium'
      && n !== 'Coverage' && !/ Rating [A-F][+-]*$/.test(n)), [], 'only real columns are column headers');
    assert.equal(cols.filter((n) => / Rating [A-F][+-]*$/.test(n)).length, comparison.carriers, comparison.caption);
    const vehicle = await headers(page, (x) => x.name === 'Vehicle v1 (2022 Honda Civic)');
    assert.deepEqual(vehicle, [{ role: 'rowheader', name: 'Vehicle v1 (2022 Honda Civic)' }], 'the vehicle over its coverages');

    await page.getByTestId('why-harbor').click();
    const dialog = page.getByRole('dialog', { name: 'Why Harbor Mutual costs $714.00' });
    await dialog.locator('table').waitFor();
    const ws = await headers(page, (x) => x.role === 'columnheader' && !cols.includes(x.name));
    assert.deepEqual(ws.map((x) => x.name), ['Step', 'Looked up', 'Operation', 'Factor', 'Running'],
      'the worksheet\'s columns only, named in full');
    const groups = await dialog.locator('tr.group').allTextContents();
    assert.equal(groups[0], 'v1 (2022 Honda Civic) · Bodily injury liability');
    assert.equal(groups.at(-1), 'Policy');
    const roles = await headers(page, (x) => groups.includes(x.name));
    assert.deepEqual(roles, groups.map((name) => ({ role: 'rowheader', name })), 'each coverage and the policy head their steps');
  });
});

describe('wide tables', () => {
  for (const [line, width, scrolls] of [['renters', 1600, false], ['auto', 360, true]]) {
    browserIt(`${line} at ${width} px: the comparison is ${scrolls ? 'a Tab stop, a region that scrolls sideways' : 'no extra Tab stop: it fits'}`, async (openPage) => {
      const page = await openPage({ viewport: { width, height: 900 } });
      await quoteExample(page, line);
      const box = page.locator('.table-scroll:has([data-testid="comparison"])');
      await box.waitFor();
      await page.waitForFunction(() => {
        const b = document.querySelector('[data-testid="comparison"]').closest('.table-scroll');
        return (b.scrollWidth > b.clientWidth + 1) === b.hasAttribute('tabindex');
      });
      const state = await box.evaluate((b) => ({
        overflows: b.scrollWidth > b.clientWidth + 1,
        tabindex: b.getAttribute('tabindex'),
        role: b.getAttribute('role'),
        label: b.getAttribute('aria-label'),
      }));
      assert.equal(state.overflows, scrolls, `the ${line} comparison at ${width} px`);
      assert.deepEqual(state, scrolls
        ? { overflows: true, tabindex: '0', role: 'region', label: 'Comparison table (scrolls sideways)' }
        : { overflows: false, tabindex: null, role: null, label: null });
    });
  }
});

describe('chart', () => {
  browserIt('the chart\'s text alternative gives every amount and says which is the lowest, as its highlight does', async (openPage) => {
    const page = await openPage();
    const id = await quoteExample(page);
    const quote = await (await fetch(`${suite.server().url}/v1/quotes/${id}`)).json();
    const quoted = quote.results.filter((r) => r.status === 'quoted')
      .sort((a, b) => a.premium.monthly - b.premium.monthly || a.premium.total - b.premium.total);
    const said = (r, lowest) => `${r.carrier.name}: $${r.premium.monthly.toFixed(2)} a month `
      + `($${r.premium.total.toFixed(2)} for ${r.premium.term_months} months)${lowest ? ', the lowest' : ''}`;
    const image = async () => (await axTree(page)).find((n) => n.role === 'image' && n.name === 'Price a month by carrier (each policy\'s total and term under its bar)');
    let img = await image();
    assert.ok(img, 'the chart is an image named by its title');
    assert.equal(img.description, quoted.map((r, i) => said(r, i === 0)).join('; '));
    assert.equal(await page.getByTestId(`bar-${quoted[0].carrier.id}`).locator('rect').getAttribute('class'), 'bar-rect lowest');

    // Sorted by rating, the lowest is still the one said, wherever its bar is.
    await page.getByTestId('sort').selectOption('rating');
    await page.getByRole('heading', { name: 'Quotes, best rated first' }).waitFor();
    img = await image();
    const parts = img.description.split('; ');
    assert.equal(parts.length, quoted.length);
    assert.deepEqual(parts.filter((p) => p.endsWith(', the lowest')), [said(quoted[0], true)]);
    assert.deepEqual(await lowestMarks(page), [{ bar: `bar-${quoted[0].carrier.id}`, problems: [] }]);
  });

  for (const [line, width] of [['home', 360], ['health', 360], ['bundle', 1280]]) {
    browserIt(`${line} at ${width} px: "Lowest" follows the lowest bar's name, on the chart, overlapping nothing`, async (openPage) => {
      const page = await openPage({ viewport: { width, height: 800 } });
      await quoteExample(page, line);
      const marks = await lowestMarks(page);
      assert.equal(marks.length, 1, 'one bar says it is the lowest');
      assert.deepEqual(marks[0].problems, [], marks[0].bar);
      // The lowest is the one whose bar is highlighted.
      assert.equal(await page.getByTestId(marks[0].bar).locator('rect').getAttribute('class'), 'bar-rect lowest');
    });
  }
});

/**
 * The chart's "Lowest" words: [{bar, problems}] for each bar that has one,
 * problems saying where it is not just after its bar's name, or is off the chart.
 */
function lowestMarks(page) {
  return page.getByTestId('chart').evaluate((svg) => {
    const box = svg.getBoundingClientRect();
    return [...svg.querySelectorAll('g.bar')].filter((g) => g.querySelector('text.bar-lowest')).map((g) => {
      const mark = g.querySelector('text.bar-lowest').getBoundingClientRect();
      const name = g.querySelector('text.bar-name').getBoundingClientRect();
      const problems = [];
      if (g.querySelector('text.bar-lowest').textContent !== 'Lowest') problems.push('not "Lowest"');
      if (mark.left < name.right + 1) problems.push(`starts at ${mark.left}, inside the name ending at ${name.right}`);
      if (mark.left > name.right + 20) problems.push(`starts at ${mark.left}, far from the name ending at ${name.right}`);
      if (Math.abs(mark.top - name.top) > 2) problems.push('not on the name\'s line');
      if (mark.right > box.right + 0.5) problems.push(`ends at ${mark.right}, past the chart at ${box.right}`);
      return { bar: g.getAttribute('data-testid'), problems };
    });
  });
}

// ---- What the status region says ---------------------------------------------

describe('announcements', () => {
  for (const line of ['auto', 'bundle']) {
    browserIt(`${line}: the heading focused on arrival is described by the summary of the results`, async (openPage) => {
      const page = await openPage();
      await quoteExample(page, line);
      const summary = await page.getByTestId('results-summary').textContent();
      assert.match(summary, /quoted/);
      const node = (await axTree(page)).find((x) => x.props.focused === true && x.role !== 'RootWebArea');
      assert.deepEqual(node && { role: node.role, name: node.name, description: node.description }, {
        role: 'heading',
        name: line === 'bundle' ? 'Your auto and home bundle quotes' : 'Your auto quotes',
        description: summary,
      });
    });
  }

  browserIt('a new sort order is said in the status region, each time, with the count', async (openPage) => {
    const page = await openPage();
    const id = await quoteExample(page);
    const quote = await (await fetch(`${suite.server().url}/v1/quotes/${id}`)).json();
    const quoted = quote.results.filter((r) => r.status === 'quoted').length;
    const others = quote.results.length - quoted;
    const count = `Showing ${quoted} quotes${others ? ` and ${others} carriers that did not quote` : ''}.`;
    const status = page.getByTestId('results-status');
    // The region as Chromium gives it: a status (polite live region), its text what it says.
    const region = async () => {
      const node = (await axTree(page)).find((n) => n.role === 'status' && n.props.live === 'polite' && n.name === '' && n.props.atomic === true);
      return node ? 'status' : null;
    };
    assert.equal(await region(), 'status', 'the results\' status region is a polite, atomic live region');
    // On arrival the focus goes to the heading; results that streamed in first end with their last word.
    assert.ok(['', 'All the results are in.'].includes(await status.textContent()), 'nothing else said on arrival');

    /** Waits until the region says `text` (it waits for the shopper to pause); fails with what it says instead. */
    const saysNow = async (text) => {
      await page.waitForFunction((t) => document.querySelector('[data-testid="results-status"]').textContent === t, text,
        { timeout: 5000 }).catch(async () => assert.equal(await status.textContent(), text, 'the status region'));
    };
    await page.getByTestId('sort').selectOption('rating');
    await saysNow(`Sorted by carrier rating, best first. ${count}`);
    assert.equal(await page.getByRole('heading', { level: 2, name: 'Quotes, best rated first' }).count(), 1);
    await page.getByTestId('sort').selectOption('price');
    await saysNow(`Sorted by price a month, lowest first. ${count}`);
    await page.getByTestId('sort').selectOption('rating');
    await saysNow(`Sorted by carrier rating, best first. ${count}`);
    // A filter says the count alone.
    await page.getByTestId('filter-quoted').check();
    await saysNow(`Showing ${quoted} quotes${others ? ` (${others} hidden by filters)` : ''}.`);
  });

  browserIt('the worksheet\'s steps being shown is said in the dialog, each time it opens', async (openPage) => {
    const page = await openPage();
    const id = await quoteExample(page);
    const ws = await (await fetch(`${suite.server().url}/v1/quotes/${id}/worksheet/harbor`)).json();
    const said = `The worksheet is shown: ${ws.steps.length} rating steps, in a table.`;
    const status = page.getByTestId('worksheet-status');
    for (const time of ['first', 'second']) {
      await page.getByTestId('why-harbor').focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Why Harbor Mutual costs $714.00' });
      await dialog.locator('table').waitFor();
      assert.deepEqual(await focusedNode(page), { role: 'button', name: 'Close' }, `${time}: the focus on Close`);
      await page.waitForFunction((t) => document.querySelector('[data-testid="worksheet-status"]').textContent === t, said, { timeout: 5000 })
        .catch(async () => assert.equal(await status.textContent(), said, `${time}: the dialog's status region`));
      const tree = await axTree(page);
      const byId = new Map(tree.map((n) => [n.id, n]));
      const inDialog = (n) => {
        for (let p = byId.get(n.parent); p; p = byId.get(p.parent)) if (p.role === 'dialog') return true;
        return false;
      };
      const region = tree.find((n) => n.role === 'status' && n.props.live === 'polite' && n.props.atomic === true && inDialog(n));
      assert.ok(region && region.children.length > 0, `${time}: a polite status region in the dialog holds it`);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
    }
  });
});

// ---- Results streaming in --------------------------------------------------------

/** Makes each event of the page's quote stream arrive `delay` ms after the one before. */
async function slowStream(page, delay) {
  await page.addInitScript((ms) => {
    const real = window.fetch;
    window.fetch = async (url, init) => {
      const res = await real(url, init);
      if (String(url) !== '/v1/quotes' || !(res.headers.get('Content-Type') || '').startsWith('text/event-stream')) return res;
      const blocks = (await res.text()).split('\n\n').filter(Boolean).map((b) => `${b}\n\n`);
      const body = new ReadableStream({
        async start(c) {
          for (const b of blocks) {
            await new Promise((r) => setTimeout(r, ms));
            c.enqueue(new TextEncoder().encode(b));
          }
          c.close();
        },
      });
      return new Response(body, { status: res.status, headers: { 'Content-Type': 'text/event-stream' } });
    };
  }, delay);
}

/** Waits until one more carrier has answered (or the quote is saved). */
async function waitForNextAnswer(page) {
  const note = await page.getByTestId('results-arriving').textContent();
  await page.waitForFunction((t) => {
    const el = document.querySelector('[data-testid="results-arriving"]');
    return !el || el.textContent !== t;
  }, note);
}

/** What has the focus: its data-testid, else its id, else its tag. */
const focused = (page) => page.evaluate(() => {
  const a = document.activeElement;
  return a ? a.getAttribute('data-testid') || a.id || a.tagName : null;
});

describe('results streaming in', () => {
  browserIt('the heading takes the focus from the hidden form; a filter typed in keeps the focus and every key as carriers answer', async (openPage) => {
    const page = await openPage();
    await slowStream(page, 300);
    await goto(page, '/');
    await page.getByTestId('fill-example').click();
    await page.getByTestId('get-quotes').focus();
    await page.keyboard.press('Enter');
    const arriving = page.getByTestId('results-arriving');
    await arriving.waitFor();
    await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'results-title', null, { timeout: 5000 })
      .catch(async () => assert.equal(await focused(page), 'results-title', 'the first results: the focus leaves the hidden form'));
    assert.deepEqual(await focusedNode(page), { role: 'heading', name: 'Your auto quotes' }, 'a screen reader is told where it is');
    // The next carrier's answer leaves the heading as it is, with the focus (the focus never moves to say it again).
    await page.evaluate(() => { document.activeElement.dataset.seen = 'yes'; });
    await waitForNextAnswer(page);
    assert.equal(await page.evaluate(() => document.activeElement.dataset.seen), 'yes', 'the same heading keeps the focus');

    // Tab on to the maximum price a month, type as carriers keep answering.
    for (let i = 0; i < 10 && (await focused(page)) !== 'filter-max'; i++) await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'filter-max');
    await page.evaluate(() => { document.activeElement.dataset.seen = 'yes'; });
    await page.keyboard.type('9');
    await waitForNextAnswer(page);
    assert.equal(await focused(page), 'filter-max', 'the results drawn again: the field typed in keeps the focus');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.seen), 'yes', 'the very same field');
    await page.keyboard.type('99');
    assert.equal(await page.getByTestId('filter-max').inputValue(), '999', 'no key typed is lost');

    // The saved quote opens; the field still has the focus, and the region says all the results are in.
    await page.waitForURL(QUOTE_PATH);
    await page.locator('[data-testid="total-harbor"]').waitFor();
    assert.equal(await page.getByTestId('results-arriving').count(), 0);
    assert.equal(await focused(page), 'filter-max');
    assert.equal(await page.getByTestId('filter-max').inputValue(), '999');
    assert.equal(await page.getByTestId('total-harbor').textContent(), '714.00');
    await page.waitForFunction(() => document.querySelector('[data-testid="results-status"]').textContent === 'All the results are in.',
      null, { timeout: 5000 }).catch(async () => assert.equal(await page.getByTestId('results-status').textContent(), 'All the results are in.'));
  });
});

// ---- Adding and removing rows -------------------------------------------------------

/** Presses the button named `name` from the keyboard (focus, then Enter). */
async function pressButton(page, name) {
  await page.getByRole('button', { name, exact: true }).focus();
  await page.keyboard.press('Enter');
}

/** Waits until the form's status region says `text`; fails with what it says instead. */
async function formSays(page, text) {
  await page.waitForFunction((t) => document.getElementById('submit-status').textContent === t, text, { timeout: 5000 })
    .catch(async () => assert.equal(await page.locator('#submit-status').textContent(), text, 'the form\'s status region'));
}

describe('adding and removing', () => {
  browserIt('auto: a new driver, incident or vehicle takes the focus; a removed one is said, the focus on its Add button', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    await page.getByTestId('fill-example').click();
    const status = (await axTree(page)).find((n) => n.role === 'status' && n.props.live === 'polite');
    assert.ok(status, 'the form has a polite status region');

    await pressButton(page, 'Add driver');
    assert.deepEqual(await focusedNode(page), { role: 'textbox', name: 'First name' });
    assert.equal(await page.getByRole('group', { name: 'Driver 2 (d2)' }).getByLabel('First name').evaluate((el) => el === document.activeElement), true,
      'the new driver\'s first name');
    await page.keyboard.type('Sam');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Reyes');

    await pressButton(page, 'Add incident for driver 2');
    assert.deepEqual(await focusedNode(page), { role: 'combobox', name: 'Type' });
    await pressButton(page, 'Remove incident 1 of driver 2');
    assert.deepEqual(await focusedNode(page), { role: 'button', name: 'Add incident for driver 2' });
    await formSays(page, 'Removed incident 1 of driver 2. No incidents for driver 2 left.');

    await pressButton(page, 'Remove driver 2');
    assert.deepEqual(await focusedNode(page), { role: 'button', name: 'Add driver' });
    await formSays(page, 'Removed driver 2 (Sam Reyes). 1 driver left.');

    await pressButton(page, 'Add vehicle');
    assert.deepEqual(await focusedNode(page), { role: 'textbox', name: 'VIN' });
    await page.getByRole('group', { name: /^Vehicle 2 / }).getByLabel(/^Model year/).fill('2015');
    await pressButton(page, 'Remove vehicle 2');
    assert.deepEqual(await focusedNode(page), { role: 'button', name: 'Add vehicle' });
    await formSays(page, 'Removed vehicle 2 (2015). 1 vehicle left.');

    // The same removal again is said again.
    await pressButton(page, 'Add vehicle');
    await page.getByRole('group', { name: /^Vehicle 2 / }).getByLabel(/^Model year/).fill('2015');
    await pressButton(page, 'Remove vehicle 2');
    await page.waitForFunction(() => document.getElementById('submit-status').textContent === '', null, { timeout: 5000 }).catch(() => {});
    await formSays(page, 'Removed vehicle 2 (2015). 1 vehicle left.');

    // What is left is the example: Harbor quotes it 714.00.
    await page.getByTestId('get-quotes').click();
    await page.waitForURL(QUOTE_PATH);
    assert.equal(await page.getByTestId('total-harbor').textContent(), '714.00');
  });

  browserIt('health: a new member takes the focus; a removed one is said, the focus on Add member', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    await page.getByTestId('line-health').check();
    await page.locator('.line-form[data-line="health"]').waitFor();
    await pressButton(page, 'Add member');
    assert.deepEqual(await focusedNode(page), { role: 'combobox', name: 'Relationship' });
    await pressButton(page, 'Add member');
    await pressButton(page, 'Remove member 2');
    assert.deepEqual(await focusedNode(page), { role: 'button', name: 'Add member' });
    await formSays(page, 'Removed member 2. 2 members left.');
    assert.equal(await page.getByRole('group', { name: /^Member 2 / }).getByLabel(/^Relationship/).inputValue(), 'child',
      'the child, once member 3, is member 2');
  });

  browserIt('home: a new claim takes the focus; a removed one is said, the focus on Add claim', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    await page.getByTestId('line-home').check();
    await page.locator('.line-form[data-line="home"]').waitFor();
    await pressButton(page, 'Add claim');
    assert.deepEqual(await focusedNode(page), { role: 'combobox', name: 'Type' });
    await pressButton(page, 'Remove claim 1');
    assert.deepEqual(await focusedNode(page), { role: 'button', name: 'Add claim' });
    await formSays(page, 'Removed claim 1. No claims left.');
  });
});

// ---- Invalid fields ------------------------------------------------------------------

/** The names of the nodes Chromium's accessibility tree marks invalid, in page order. */
async function invalidNames(page) {
  return (await axTree(page)).filter((n) => String(n.props.invalid) === 'true').map((n) => `${n.role} ${n.name}`);
}

describe('invalid fields', () => {
  browserIt('no field is invalid before anything is sent; then exactly those the server names, until answered', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    for (const line of ['auto', 'home', 'renters', 'term_life', 'health', 'bundle']) {
      await page.getByTestId(`line-${line}`).check();
      await page.locator(`.line-form[data-line="${line}"]`).waitFor();
      assert.deepEqual(await invalidNames(page), [], `${line}: nothing is invalid on arrival`);
    }

    // Home, sent empty: the server names five fields, two of them selects left on "Choose…".
    await page.getByTestId('line-home').check();
    await page.locator('.line-form[data-line="home"]').waitFor();
    const refused = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/quotes');
    await page.getByTestId('get-quotes').click();
    const body = await (await refused).json();
    const paths = body.error.details.map((d) => d.path);
    assert.ok(paths.includes('dwelling.construction') && paths.includes('dwelling.protection_class'), paths.join(', '));
    await page.getByTestId('form-errors').waitFor();
    const invalid = await invalidNames(page);
    assert.equal(invalid.length, paths.length, `one invalid field per error: ${invalid.join(', ')}`);
    assert.ok(invalid.includes('combobox Construction') && invalid.includes('combobox Protection class'), invalid.join(', '));

    // Answering a field clears it, and it stays clear.
    await page.getByLabel(/^Construction/).selectOption('frame');
    const after = await invalidNames(page);
    assert.equal(after.includes('combobox Construction'), false, after.join(', '));
    assert.equal(after.length, paths.length - 1);
    await page.getByTestId('reset-form').click();
    await page.waitForFunction(() => document.getElementById('submit-status').textContent === 'The form is back to its defaults.');
    assert.deepEqual(await invalidNames(page), [], 'Start over: nothing invalid');
  });
});

describe('VIN', () => {
  browserIt('a VIN that does not decode marks the field invalid, described by why; a good one by its vehicle', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    const vin = page.getByRole('group', { name: /^Vehicle 1 / }).getByLabel('VIN');
    const node = async () => (await axTree(page)).find((n) => n.role === 'textbox' && n.name === 'VIN');
    const bad = await (await fetch(`${suite.server().url}/v1/vin/1HGCM82633A00435X`)).json();
    assert.equal(bad.valid, false);
    await vin.fill('1HGCM82633A00435X');
    const why = `Not a valid VIN: ${bad.errors.join('; ')}`;
    await page.getByTestId('vin-note').filter({ hasText: why }).waitFor();
    let n = await node();
    assert.equal(String(n.props.invalid), 'true', 'the field is invalid');
    assert.equal(n.description, `Optional, 17 characters: fills the model year and make ${why}`);

    await vin.fill('1HGCM82633A004352');
    await page.getByTestId('vin-note').filter({ hasText: '2003 Honda (Honda of America)' }).waitFor();
    n = await node();
    assert.equal(String(n.props.invalid), 'false', 'a good VIN: no longer invalid');
    assert.equal(n.description, 'Optional, 17 characters: fills the model year and make 2003 Honda (Honda of America)');
    assert.equal(await page.getByRole('group', { name: /^Vehicle 1 / }).getByLabel(/^Model year/).inputValue(), '2003');
  });
});

// ---- Required fields -------------------------------------------------------------------

/**
 * The accessibility tree's nodes for the elements of `page` matching CSS
 * `selector`, in document order: [{role, name, props}] (CDP: DOM.querySelectorAll,
 * then Accessibility.getPartialAXTree of each).
 */
async function axOf(page, selector) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = await cdp.send('DOM.getDocument', { depth: 0 });
    const { nodeIds } = await cdp.send('DOM.querySelectorAll', { nodeId: root.nodeId, selector });
    const out = [];
    for (const nodeId of nodeIds) {
      const { nodes } = await cdp.send('Accessibility.getPartialAXTree', { nodeId, fetchRelatives: false });
      const n = nodes[0];
      out.push({
        role: n.role ? n.role.value : '',
        name: n.name ? String(n.name.value) : '',
        props: Object.fromEntries((n.properties || []).map((p) => [p.name, p.value && p.value.value])),
      });
    }
    return out;
  } finally {
    await cdp.detach().catch(() => {});
  }
}

describe('required fields', () => {
  browserIt('every field shown with the required star is required to a screen reader, on every line\'s form', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    for (const line of ['auto', 'home', 'renters', 'term_life', 'health', 'bundle']) {
      await page.getByTestId(`line-${line}`).check();
      await page.locator(`.line-form[data-line="${line}"]`).waitFor();
      if (line === 'auto') await page.getByRole('button', { name: 'Add incident for driver 1' }).click(); // its fields too
      // What carries each star shown: a label's control, or a legend's fieldset.
      const count = await page.evaluate(() => {
        let n = 0;
        for (const star of document.querySelectorAll('#quote-form .req')) {
          if (!star.getClientRects().length) continue;
          const owner = star.closest('label, legend');
          const el = owner.tagName === 'LABEL' ? owner.control : owner.parentElement;
          el.setAttribute('data-starred', String(n++));
        }
        return n;
      });
      assert.ok(count > 3, `${line}: stars shown`);
      const problems = [];
      for (const n of await axOf(page, '[data-starred]')) {
        if (n.role === 'combobox') continue; // CDP leaves "required" out for a <select>, required or not
        if (n.role === 'group') {
          // A group of fields (feet and inches): its required part says so.
          continue;
        }
        if (n.props.required !== true) problems.push(`${n.role} "${n.name}"`);
      }
      // The fields of a starred group that is not a radio group: at least one is required.
      for (const g of await page.locator('fieldset[data-starred]:not([role=radiogroup])').all()) {
        const legend = (await g.locator(':scope > legend').textContent()).replace(/\s*\*$/, '');
        await g.evaluate((el) => el.querySelectorAll('input, select').forEach((c) => c.setAttribute('data-in-starred', '')));
        const parts = await axOf(page, '[data-in-starred]');
        if (!parts.some((p) => p.props.required === true)) problems.push(`group "${legend}": none of ${parts.map((p) => p.name).join(', ')} is required`);
        await g.evaluate((el) => el.querySelectorAll('[data-in-starred]').forEach((c) => c.removeAttribute('data-in-starred')));
      }
      await page.evaluate(() => document.querySelectorAll('[data-starred]').forEach((el) => el.removeAttribute('data-starred')));
      assert.deepEqual(problems, [], `${line}: starred but not required to a screen reader`);
    }
  });
});

// ---- A phone zoomed in ------------------------------------------------------------------

describe('phone zoomed to 200%', () => {
  browserIt('the worksheet at 180 CSS px: it fits, its title wraps between words, its steps are not covered', async (openPage) => {
    const page = await openPage({ viewport: { width: 180, height: 640 } });
    await quoteExample(page, 'home');
    const why = page.locator('button[data-testid^="why-"]').first();
    await why.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByTestId('worksheet');
    await dialog.locator('table').waitFor();
    const look = await dialog.evaluate((d) => {
      const box = d.getBoundingClientRect();
      const title = d.querySelector('#ws-title');
      // Each word of the title on one line: a word broken across lines has several boxes.
      const text = title.firstChild;
      const broken = [];
      for (const m of text.textContent.matchAll(/\S+/g)) {
        const r = document.createRange();
        r.setStart(text, m.index);
        r.setEnd(text, m.index + m[0].length);
        const lines = new Set([...r.getClientRects()].map((x) => Math.round(x.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
      const close = d.querySelector('#ws-close').getBoundingClientRect();
      return { left: box.left, right: box.right, vw: innerWidth, broken, closeRight: close.right, title: text.textContent };
    });
    assert.ok(look.left >= 0 && look.right <= look.vw, `the dialog (${look.left}-${look.right}) is on the ${look.vw} px screen`);
    assert.ok(look.closeRight <= look.right, 'Close is inside the dialog');
    assert.deepEqual(look.broken, [], `no word of "${look.title}" is broken across lines`);

    // Each step row, scrolled to, is what shows at its place (nothing covers it).
    const covered = await dialog.evaluate((d) => {
      const out = [];
      for (const tr of [...d.querySelectorAll('tr.step')].slice(0, 6)) {
        tr.scrollIntoView({ block: 'center' });
        const r = tr.getBoundingClientRect();
        const at = document.elementFromPoint(r.left + 4, r.top + r.height / 2);
        if (!at || !tr.contains(at)) out.push(`${tr.querySelector('th').textContent}: under ${at ? `${at.tagName}.${at.className}` : 'nothing'}`);
      }
      return out;
    });
    assert.deepEqual(covered, [], 'the steps can be seen');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await why.evaluate((b) => b === document.activeElement), true, 'Escape: back on the button');
  });
});

// ---- Forced colours ------------------------------------------------------------------------

describe('forced colours', () => {
  browserIt('in Windows high contrast (dark), the chart\'s words and bars stand out against the background', async (openPage) => {
    const page = await openPage({ forcedColors: 'active', colorScheme: 'dark' });
    await quoteExample(page);
    const chart = page.getByTestId('chart');
    await chart.waitFor();
    const paint = await chart.evaluate((svg) => {
      const parse = (c) => {
        const m = /rgba?\(([^)]*)\)/.exec(c || '');
        const [r, g, b] = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
        return { r, g, b };
      };
      let bg = null;
      for (let el = svg; el && !bg; el = el.parentElement) {
        const c = getComputedStyle(el).backgroundColor;
        if (!/rgba\(0, 0, 0, 0\)|transparent/.test(c)) bg = parse(c);
      }
      const bars = [...svg.querySelectorAll('g.bar')].map((g) => ({
        id: g.getAttribute('data-testid'),
        texts: [...g.querySelectorAll('text')].map((t) => ({ text: t.textContent, fill: parse(getComputedStyle(t).fill) })),
        rect: parse(getComputedStyle(g.querySelector('rect')).fill),
        lowest: g.querySelector('rect').classList.contains('lowest'),
      }));
      return { bg: bg || parse(getComputedStyle(document.body).backgroundColor), bars };
    });
    const problems = [];
    for (const b of paint.bars) {
      for (const t of b.texts) {
        const ratio = contrast(t.fill, paint.bg);
        if (ratio < 4.5) problems.push(`${b.id} "${t.text}": ${ratio.toFixed(2)}:1`);
      }
      const bar = contrast(b.rect, paint.bg);
      if (bar < 3) problems.push(`${b.id} bar: ${bar.toFixed(2)}:1`);
    }
    assert.ok(paint.bars.length >= 3, 'bars are drawn');
    assert.deepEqual(problems, [], `against rgb(${paint.bg.r},${paint.bg.g},${paint.bg.b})`);
    const lowest = paint.bars.filter((b) => b.lowest);
    const others = paint.bars.filter((b) => !b.lowest);
    assert.equal(lowest.length, 1);
    assert.ok(others.every((b) => JSON.stringify(b.rect) !== JSON.stringify(lowest[0].rect)), 'the lowest bar is set apart');
  });
});
