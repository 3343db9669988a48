// browser.test.mjs -- the shopper's web page end to end: Debian's headless
// Chromium (driven by playwright-core) against the real `multiquote serve`
// binary. Fills the auto form with Harbor Mutual's first worked example (field
// by field, and with "Fill example") and sees Harbor at 714.00; re-sorts;
// opens the worksheet; reloads /q/{id}; the not-found page; server field
// errors next to their field; escaping of shopper text; a 375 px phone
// screen; the keyboard; the filters; and one test per other line of
// insurance (skipped while its form is not on the page). Also:
//   - a carrier ticked for one line is not asked for another;
//   - a very long make and model wrap on a phone screen;
//   - quotes compare by the price a month (6- and 12-month terms differ);
//   - results streaming in have no worksheet to open yet;
//   - "Change answers" and "New quote" cancel results streaming in;
//   - only a short status region announces the count after a filter;
//   - a 429 or a 413 is a failure to get quotes, not a field error;
//   - medical payments to others may be "None";
//   - Back from a reloaded quote brings its answers back.
//
// Screenshots go to build/screenshots/*.png (a failed test leaves
// FAILED-<test>.png there too).
//
// Run: npm ci && MQ_BIN=/work/main/build/multiquote node --test --test-reporter=tap tests/js/browser.test.mjs
// ($MQ_PLANS serves another plans folder; $MQ_CHROMIUM another Chromium.)
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, sleep } from './lib/server.mjs';
import { browserSuite, QUOTE_PATH, screenshot } from './lib/browser.mjs';

// ---- Fixtures ---------------------------------------------------------------

const REFERENCE_PATH = path.resolve(REPO_ROOT, '..', 'shared', 'reference', 'harbor-mutual-oh-auto.examples.json');
const REFERENCE = existsSync(REFERENCE_PATH) ? JSON.parse(readFileSync(REFERENCE_PATH, 'utf8')) : { cases: [] };
// Case 1 of the manual; examples/oh-single-driver.json is the same request.
const EXAMPLE_1 =
  REFERENCE.cases[0]?.request ?? JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', 'oh-single-driver.json'), 'utf8'));
const HARBOR_TOTAL_1 = (REFERENCE.cases[0]?.expected?.premium?.total ?? 714).toFixed(2); // "714.00"

const MONEY = /^\d+\.\d{2}$/;
// The financial strength scale, best first (the order the page sorts by).
const RATINGS = ['A++', 'A+', 'A', 'A-', 'B++', 'B+', 'B', 'B-', 'C++', 'C+', 'C', 'C-', 'D', 'E', 'F'];
const rank = (r) => (RATINGS.includes(r) ? RATINGS.indexOf(r) : RATINGS.length);
const money = (x) => Number(x).toFixed(2);
// The page compares quotes by the price a month (terms differ: 6 or 12 months), then the total.
const byMonthly = (a, b) => a.premium.monthly - b.premium.monthly || a.premium.total - b.premium.total;

const OTHER_LINES = ['home', 'renters', 'term_life', 'health'];

// ---- One server and one browser for the file; a fresh context per test -----------

// browserIt (lib/browser.mjs): on failure the first page open is saved as
// build/screenshots/FAILED-<name>.png; every test also checks that no page
// threw an uncaught exception. $MQ_PLANS: another plans folder (default: the
// repository's plans).
const suite = browserSuite({
  server: process.env.MQ_PLANS ? { plans: path.resolve(process.env.MQ_PLANS) } : {},
  timeout: 180000,
});
const { browserIt, goto } = suite;

/** Loads `path` and waits until app.js has finished starting. */
/** GET/POST on the test server from node (not through the page). */
async function api(method, p, body) {
  const res = await fetch(suite.server().url + p, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, data: await res.json() };
}

// ---- Reading the page ---------------------------------------------------------

/** [[carrier id, text]] of every total-<carrier>, in page order. */
function totals(page) {
  return page.locator('[data-testid^="total-"]').evaluateAll((els) =>
    els.map((e) => [e.getAttribute('data-testid').slice('total-'.length), e.textContent]));
}

/** Carrier ids of the result-<carrier> cards inside the list `listTestId`, in page order. */
function cardOrder(page, listTestId = 'quoted-list') {
  return page.getByTestId(listTestId).locator('[data-testid^="result-"]').evaluateAll((els) =>
    els.map((e) => e.getAttribute('data-testid').slice('result-'.length)));
}

/** The rating shown on each result card, by carrier id. */
function shownRatings(page) {
  return page.locator('article[data-testid^="result-"]').evaluateAll((els) =>
    Object.fromEntries(els.map((e) => [
      e.getAttribute('data-testid').slice('result-'.length), e.querySelector('.rating strong').textContent])));
}

/** The expected result totals of a stored quote: {carrier: "714.00"} for the quoted ones. */
function quotedTotals(quote) {
  return Object.fromEntries(quote.results.filter((r) => r.status === 'quoted').map((r) => [r.carrier.id, money(r.premium.total)]));
}

// ---- Driving the form -----------------------------------------------------------------

const group = (page, name) => page.getByRole('group', { name, exact: true });
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The control whose <label> reads exactly `label` (a required field's label ends with " *"). */
const labelled = (scope, label) => scope.getByLabel(new RegExp(`^${escapeRe(label)}( \\*)?$`));

/** Types `value` into the text input labelled `label` (replacing what is there). */
async function typeInto(scope, label, value) {
  const el = labelled(scope, label);
  await el.fill('');
  if (value !== undefined && value !== null && value !== '') await el.pressSequentially(String(value));
  assert.equal(await el.inputValue(), value === undefined || value === null ? '' : String(value), `${label} holds what was typed`);
}

async function choose(scope, label, value) {
  const el = labelled(scope, label);
  await el.selectOption(String(value));
  assert.equal(await el.inputValue(), String(value), `${label} is set`);
}

async function tick(scope, label, on) {
  await labelled(scope, label).setChecked(!!on);
}

const split = (c) => (c ? `${c.per_person}/${c.per_accident}` : '');
const single = (c) => (c ? String(c.limit) : '');
const deductible = (c) => (c ? String(c.deductible) : '');

/**
 * Fills the auto form from `req` field by field, finding each control by its
 * label within its fieldset, as a shopper would: typing text, picking options,
 * ticking boxes. One driver and one vehicle (the first worked example's shape).
 */
async function fillAutoByLabels(page, req) {
  assert.equal(req.drivers.length, 1, 'one driver');
  assert.equal(req.vehicles.length, 1, 'one vehicle');
  const ap = req.applicant;
  const addr = ap.address;
  const start = group(page, 'Policy start');
  await typeInto(start, 'Effective date', req.effective_date);

  const you = group(page, 'About you');
  await choose(you, 'State', addr.state);
  await typeInto(you, 'ZIP code', addr.zip);
  await typeInto(you, 'First name', ap.first_name);
  await typeInto(you, 'Last name', ap.last_name);
  await typeInto(you, 'Date of birth', ap.date_of_birth);
  await typeInto(you, 'Street', addr.street);
  await typeInto(you, 'City', addr.city);
  await tick(you, 'I own a home (a discount with many carriers)', ap.homeowner);
  await tick(you, 'Paperless billing and documents', ap.paperless);

  const d = req.drivers[0];
  assert.equal((d.incidents || []).length, 0, 'no incidents to type');
  const drv = group(page, 'Driver 1 (d1)');
  await typeInto(drv, 'First name', d.first_name);
  await typeInto(drv, 'Last name', d.last_name);
  await typeInto(drv, 'Date of birth', d.date_of_birth);
  await choose(drv, 'Gender', d.gender);
  await choose(drv, 'Marital status', d.marital_status);
  await choose(drv, 'Licence state', d.license.state);
  await typeInto(drv, 'Licence number', d.license.number);
  await typeInto(drv, 'First licensed', d.license.first_licensed);

  const v = req.vehicles[0];
  // The vehicle's legend follows what is typed into it ("Vehicle 1 (v1, 2022 Honda Civic)").
  const veh = page.getByRole('group', { name: /^Vehicle 1 \(v1/ });
  await typeInto(veh, 'Model year', v.year);
  await typeInto(veh, 'Make', v.make);
  await typeInto(veh, 'Model', v.model);
  await typeInto(veh, 'Rating symbol', v.symbol);
  await labelled(veh, 'Principal driver').selectOption({ label: `d1 – ${d.first_name} ${d.last_name}` });
  await tick(veh, 'Anti-theft device', v.anti_theft);
  await choose(veh, 'Comprehensive', deductible(v.coverages.comp));
  await choose(veh, 'Collision', deductible(v.coverages.coll));

  const cov = group(page, 'Liability coverages (whole policy)');
  await choose(cov, 'Bodily injury liability', split(req.coverages.bi));
  await choose(cov, 'Property damage liability', single(req.coverages.pd));
  await choose(cov, 'Medical payments', single(req.coverages.med));
  await choose(cov, 'Uninsured motorist', split(req.coverages.um));
}

/**
 * Runs `action` (which submits the form) and waits for the results at
 * /q/{id}. Returns {id, request} (the JSON body the page posted).
 */
async function submitAndWait(page, action) {
  const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/quotes');
  await action();
  const res = await answered;
  const request = res.request().postDataJSON();
  if (!res.ok()) {
    // Say what the server and the page said, not just that the URL never changed.
    const summary = page.getByTestId('form-errors');
    await summary.waitFor({ state: 'visible', timeout: 5000 }).catch(() => {});
    assert.fail(`POST /v1/quotes answered ${res.status()} ${await res.text().catch(() => '')}\n`
      + `the page says: ${(await summary.innerText().catch(() => '')).replace(/\s+/g, ' ')}\nrequest: ${JSON.stringify(request)}`);
  }
  await page.waitForURL(QUOTE_PATH);
  await page.locator('[data-testid^="total-"]').first().waitFor();
  const id = new URL(page.url()).pathname.match(QUOTE_PATH)[1];
  return { id, request };
}

/** Fill example, Get quotes; returns {id, request}. */
async function quoteExample(page) {
  await goto(page, '/');
  await page.getByTestId('fill-example').click();
  return submitAndWait(page, () => page.getByTestId('get-quotes').click());
}

// ---- The tests ---------------------------------------------------------------------

describe('auto: Harbor Mutual example 1', () => {
  browserIt('typed field by field by label: Harbor quotes 714.00 at /q/{id}', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    assert.equal(await page.getByTestId('line-auto').isChecked(), true, 'auto is the default line');
    await fillAutoByLabels(page, EXAMPLE_1);
    await screenshot(page, '01-auto-form-typed');
    const { id, request } = await submitAndWait(page, () => page.getByTestId('get-quotes').click());

    // What the page sent is exactly the worked example.
    assert.deepEqual(request, EXAMPLE_1);
    assert.equal(new URL(page.url()).pathname, `/q/${id}`);
    assert.equal(await page.getByTestId('total-harbor').textContent(), HARBOR_TOTAL_1);
    await page.getByTestId('result-harbor').waitFor();
    assert.equal(await page.getByTestId('quote-link').textContent(), id);
    assert.equal(await page.getByTestId('quote-link').getAttribute('href'), `/q/${id}`);
    assert.match(await page.getByRole('heading', { level: 1 }).textContent(), /^Your auto quotes$/);

    // Every carrier's total on the page is the one the server stored.
    const stored = await api('GET', `/v1/quotes/${id}`);
    assert.equal(stored.status, 200);
    const shown = Object.fromEntries(await totals(page));
    assert.deepEqual(shown, quotedTotals(stored.data));
    assert.equal(shown.harbor, HARBOR_TOTAL_1);
    // ...and in the comparison table and the chart.
    assert.equal(await page.getByTestId('compare-total-harbor').textContent(), HARBOR_TOTAL_1);
    // The chart compares the price a month; the total and its term go under the bar.
    const harbor = stored.data.results.find((r) => r.carrier.id === 'harbor');
    assert.equal(await page.getByTestId('bar-harbor').locator('text.bar-amount').textContent(), `$${money(harbor.premium.monthly)} a month`);
    assert.equal(await page.getByTestId('bar-harbor').locator('text.bar-note').textContent(), `$${HARBOR_TOTAL_1} for 6 months`);
    await page.getByTestId('chart').waitFor();

    // Ways to save: every tip the server stored, under its carrier, each
    // saving the carrier's total shown less the new total.
    const tips = stored.data.tips;
    assert.ok(tips.length >= 3, 'the three cheapest carriers have tips');
    await page.getByTestId('tips').waitFor();
    assert.equal(await page.getByTestId('tips').getByRole('heading', { level: 2 }).textContent(), 'Ways to save');
    const byCarrier = new Map();
    for (const tip of tips) byCarrier.set(tip.carrier, [...(byCarrier.get(tip.carrier) || []), tip]);
    for (const [carrier, list] of byCarrier) {
      const items = page.getByTestId(`tips-${carrier}`).locator('li');
      assert.equal(await items.count(), list.length, `tips of ${carrier}`);
      for (let i = 0; i < list.length; i++) {
        const tip = list[i];
        assert.equal(money(Number(shown[carrier]) - tip.new_total), money(tip.saving), `${carrier}: the saving is the total less the new total`);
        assert.equal(await page.getByTestId(`tip-${carrier}-${i}`).textContent(),
          `${tip.change}: save $${money(tip.saving)} (new total $${money(tip.new_total)})`);
      }
    }
    assert.equal(await page.locator('[data-testid="tips"] li').count(), tips.length);
    await screenshot(page, '01-auto-results');
  });

  browserIt('"Fill example" fills the same request: Harbor 714.00', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    await page.getByTestId('fill-example').click();
    assert.match(await page.locator('#submit-status').textContent(), /Filled in the example/);
    assert.equal(await labelled(group(page, 'Driver 1 (d1)'), 'Date of birth').inputValue(), EXAMPLE_1.drivers[0].date_of_birth);
    const { id, request } = await submitAndWait(page, () => page.getByTestId('get-quotes').click());
    assert.deepEqual(request, EXAMPLE_1);
    assert.match(page.url(), new RegExp(`/q/${id}$`));
    assert.equal(await page.getByTestId('total-harbor').textContent(), HARBOR_TOTAL_1);
    const shown = await totals(page);
    assert.ok(shown.length >= 2, 'several carriers quote');
    for (const [c, v] of shown) assert.match(v, MONEY, `total-${c}`);
  });

  browserIt('re-sort by carrier rating, then back to price', async (openPage) => {
    const page = await openPage();
    const { id } = await quoteExample(page);
    const quote = (await api('GET', `/v1/quotes/${id}`)).data;
    const quoted = quote.results.filter((r) => r.status === 'quoted');
    const others = quote.results.filter((r) => r.status !== 'quoted');
    const ratingOf = Object.fromEntries(quote.results.map((r) => [r.carrier.id, r.carrier.rating]));
    const byPrice = [...quoted].sort(byMonthly).map((r) => r.carrier.id);
    const byRating = [...quoted]
      .sort((a, b) => rank(a.carrier.rating) - rank(b.carrier.rating) || byMonthly(a, b))
      .map((r) => r.carrier.id);
    // A 12-month policy is not ranked by its 12-month total against 6-month ones.
    assert.ok(new Set(quoted.map((r) => r.premium.term_months)).size > 1, 'the example has 6- and 12-month terms');
    assert.notDeepEqual(byPrice, [...quoted].sort((a, b) => a.premium.total - b.premium.total).map((r) => r.carrier.id),
      'the price a month orders the quotes otherwise than the totals');
    const othersByRating = [...others]
      .sort((a, b) => rank(a.carrier.rating) - rank(b.carrier.rating) || a.carrier.name.localeCompare(b.carrier.name))
      .map((r) => r.carrier.id);
    assert.notDeepEqual(byRating, byPrice, 'the example has carriers whose price and rating orders differ');
    // The ratings the cards show are the carriers' ratings.
    assert.deepEqual(await shownRatings(page), ratingOf);

    const sort = page.getByTestId('sort');
    assert.equal(await sort.inputValue(), 'price');
    assert.deepEqual(await cardOrder(page), byPrice, 'price order first');
    assert.equal(await page.getByTestId('terms-note').textContent(),
      'These policies run for 6 and 12 months, so they are compared by the price a month.');
    const monthlyOf = Object.fromEntries(quoted.map((r) => [r.carrier.id, r.premium.monthly]));
    const prices = (await cardOrder(page)).map((c) => monthlyOf[c]);
    assert.deepEqual(prices, [...prices].sort((a, b) => a - b), 'prices a month ascending');
    // The chart's bars follow the cards, the cheapest highlighted.
    const bars = () => page.getByTestId('chart').locator('g.bar').evaluateAll((gs) =>
      gs.map((g) => [g.getAttribute('data-testid').slice('bar-'.length), g.querySelector('rect').classList.contains('lowest')]));
    assert.deepEqual(await bars(), byPrice.map((c, i) => [c, i === 0]));

    await sort.selectOption('rating');
    await page.getByRole('heading', { name: 'Quotes, best rated first' }).waitFor();
    const ratingOrder = await cardOrder(page);
    assert.deepEqual(ratingOrder, byRating);
    const ranks = ratingOrder.map((c) => rank(ratingOf[c]));
    assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), `ratings best first: ${ratingOrder.map((c) => ratingOf[c])}`);
    assert.equal(ratingOrder[0], byRating[0]);
    if (others.length) assert.deepEqual(await cardOrder(page, 'other-list'), othersByRating, 'non-quoted carriers by rating too');
    // The comparison table follows the same order.
    const headers = await page.getByTestId('comparison').locator('[data-testid^="compare-total-"]').evaluateAll((els) =>
      els.map((e) => e.getAttribute('data-testid').slice('compare-total-'.length)));
    assert.deepEqual(headers, byRating);
    // The highlighted bar is still the cheapest, wherever it now is.
    assert.deepEqual(await bars(), byRating.map((c) => [c, c === byPrice[0]]));
    await screenshot(page, '02-sorted-by-rating');

    await sort.selectOption('price');
    await page.getByRole('heading', { name: 'Quotes, lowest price a month first' }).waitFor();
    assert.deepEqual(await cardOrder(page), byPrice, 'back to price order');
  });

  browserIt('why-harbor: the worksheet shows the territory factor and a Total of 714.00; Escape closes it', async (openPage) => {
    const page = await openPage();
    const { id } = await quoteExample(page);
    const ws = (await api('GET', `/v1/quotes/${id}/worksheet/harbor`)).data;
    const dialog = page.getByTestId('worksheet');
    assert.equal(await dialog.isVisible(), false);

    const why = page.getByTestId('why-harbor');
    await why.click();
    await dialog.waitFor({ state: 'visible' });
    await dialog.locator('table.worksheet-table').waitFor();
    assert.equal(await dialog.evaluate((d) => d.open), true);
    assert.equal(await dialog.locator('#ws-title').textContent(), `Why Harbor Mutual costs $${HARBOR_TOTAL_1}`);

    // Each step row: [name, looked up, factor, running].
    const rows = await dialog.locator('tr.step').evaluateAll((trs) =>
      trs.map((tr) => [
        tr.querySelector('th').firstChild.textContent,
        tr.querySelector('td.lookup-col').textContent,
        tr.querySelectorAll('td.num')[0].textContent,
        tr.querySelectorAll('td.num')[1].textContent,
      ]));
    assert.equal(rows.length, ws.steps.length, 'one row per worksheet step');
    const total = rows.filter((r) => r[0] === 'Total');
    assert.deepEqual(total, [['Total', '', HARBOR_TOTAL_1, HARBOR_TOTAL_1]]);
    assert.deepEqual(rows.at(-1), total[0], 'Total is the last step');

    // territory_factor: one lookup per coverage, each as the API worksheet says.
    const territory = rows.filter((r) => r[1].startsWith('territory_factor'));
    const wsTerritory = ws.steps.filter((s) => s.table === 'territory_factor');
    assert.ok(territory.length > 0, 'territory_factor rows shown');
    assert.equal(territory.length, wsTerritory.length);
    territory.forEach((r, i) => {
      assert.equal(r[1], `territory_factor[${wsTerritory[i].key}]`);
      assert.equal(Number(r[2]), wsTerritory[i].factor);
    });
    // Columbus 43215 is territory 1; bodily injury's factor is 1.25 there.
    assert.deepEqual(territory[0], ['Territory', 'territory_factor[1]', '1.25', '177.5000']);
    const groups = await dialog.locator('tr.group').allTextContents();
    assert.equal(groups[0], 'v1 (2022 Honda Civic) · Bodily injury liability');
    assert.equal(groups.at(-1), 'Policy');
    await screenshot(page, '03-worksheet-harbor', { fullPage: false });

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await dialog.evaluate((d) => d.open), false);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'why-harbor', 'focus back on the button');
  });

  browserIt('reloading /q/{id} shows the same quote, also in a new browser context', async (openPage) => {
    const page = await openPage();
    const { id } = await quoteExample(page);
    const before = await totals(page);
    assert.ok(before.length >= 2);
    assert.deepEqual(before.find(([c]) => c === 'harbor'), ['harbor', HARBOR_TOTAL_1]);
    const summary = await page.getByTestId('results-summary').textContent();

    await page.reload();
    await page.waitForSelector('html.ready');
    await page.getByTestId('total-harbor').waitFor();
    assert.equal(new URL(page.url()).pathname, `/q/${id}`);
    assert.deepEqual(await totals(page), before, 'same totals in the same order after reload');
    assert.equal(await page.getByTestId('results-summary').textContent(), summary);
    assert.equal(await page.getByTestId('quote-link').textContent(), id);

    // A fresh context has no session storage and no memory of the quote.
    const other = await openPage();
    await goto(other, `/q/${id}`);
    await other.getByTestId('total-harbor').waitFor();
    assert.deepEqual(await totals(other), before, 'same totals from a link opened elsewhere');
    assert.equal(await other.getByTestId('total-harbor').textContent(), HARBOR_TOTAL_1);
  });
});

describe('pages and errors', () => {
  browserIt('/q/{unknown id} says the quote was not found', async (openPage) => {
    const page = await openPage();
    const missing = 'q_0000000000000000000000000A';
    await goto(page, `/q/${missing}`);
    const msg = page.getByTestId('quote-message');
    await msg.waitFor();
    assert.equal(await msg.textContent(),
      `There is no saved quote with the id "${missing}". Check the link, or start a new quote.`);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Quote not found');
    assert.equal(await page.title(), 'Quote not found – multiquote');
    assert.equal(await page.locator('[data-testid^="total-"]').count(), 0);
    assert.equal(await page.getByTestId('quote-form').isVisible(), false);
    assert.deepEqual(page.failedResponses.filter((r) => r.url.includes('/v1/')),
      [{ status: 404, url: `${suite.server().url}/v1/quotes/${missing}` }]);
    await screenshot(page, '05-quote-not-found');

    // Its link goes back to an empty form.
    await page.getByRole('link', { name: 'Start a new quote' }).click();
    await page.getByTestId('quote-form').waitFor({ state: 'visible' });
    assert.equal(new URL(page.url()).pathname, '/');
  });

  browserIt('a date of birth 1990-02-30: the server\'s error shows next to the field, which gets the focus', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    await page.getByTestId('fill-example').click();
    const dob = labelled(group(page, 'Driver 1 (d1)'), 'Date of birth');
    await dob.fill('');
    await dob.pressSequentially('1990-02-30');
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/v1/quotes'));
    await page.getByTestId('get-quotes').click();
    assert.equal((await answer).status(), 422);

    const summary = page.getByTestId('form-errors');
    await summary.waitFor({ state: 'visible' });
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-invalid') === 'true');
    assert.equal(await dob.getAttribute('aria-invalid'), 'true');
    assert.equal(await dob.evaluate((el) => el === document.activeElement), true, 'focus on the date of birth');
    // The message sits in the field's own wrapper, and the control is described by it.
    const err = await dob.evaluate((el) => {
      const slot = document.getElementById(`${el.id}-err`);
      return {
        text: slot.textContent,
        hidden: slot.hidden,
        sameField: slot.parentElement === el.parentElement,
        describedBy: (el.getAttribute('aria-describedby') || '').split(' ').includes(slot.id),
      };
    });
    assert.deepEqual(err, { text: 'not a valid date "1990-02-30"', hidden: false, sameField: true, describedBy: true });
    assert.ok(await page.locator(`#${await dob.getAttribute('id')}-err`).isVisible());
    assert.match(await summary.textContent(), /Please correct this problem/);
    assert.match(await summary.textContent(), /Driver 1 · Date of birth — drivers\[0\]\.date_of_birth: not a valid date "1990-02-30"/);
    // Only that field is marked; the page did not move on.
    assert.equal(await page.locator('[aria-invalid="true"]').count(), 1);
    assert.equal(new URL(page.url()).pathname, '/');
    await screenshot(page, '06-field-error', { fullPage: false });

    // Correcting it clears the error, and the quote goes through.
    await dob.fill('');
    await dob.pressSequentially(EXAMPLE_1.drivers[0].date_of_birth);
    assert.equal(await dob.getAttribute('aria-invalid'), null);
    await submitAndWait(page, () => page.getByTestId('get-quotes').click());
    assert.equal(await page.getByTestId('total-harbor').textContent(), HARBOR_TOTAL_1);
  });

  browserIt('shopper text with markup is shown as text and never runs', async (openPage) => {
    const page = await openPage();
    const name = '<script>window.__pwned=1</script>';
    const make = '<img src=x onerror="window.__pwned=2">';
    await goto(page, '/');
    await page.getByTestId('fill-example').click();
    await typeInto(group(page, 'Driver 1 (d1)'), 'First name', name);
    await typeInto(page.getByRole('group', { name: /^Vehicle 1 \(v1/ }), 'Make', make);
    // The driver's name labels the principal-driver choice, literally.
    const principal = labelled(page.getByRole('group', { name: /^Vehicle 1 \(v1/ }), 'Principal driver');
    assert.equal(await principal.locator('option:checked').textContent(), `d1 – ${name} Reyes`);

    const { id, request } = await submitAndWait(page, () => page.getByTestId('get-quotes').click());
    assert.equal(request.drivers[0].first_name, name);
    assert.equal(request.vehicles[0].make, make);
    // The server stored the text as sent (names do not change the price).
    assert.equal(await page.getByTestId('total-harbor').textContent(), HARBOR_TOTAL_1);

    // The vehicle's description labels the comparison rows, as text.
    const unit = `Vehicle v1 (2022 ${make} Civic)`;
    const comparison = page.getByTestId('comparison');
    assert.deepEqual(await comparison.locator('tr.group th').allTextContents(), [unit]);
    await page.getByTestId('why-harbor').click();
    const dialog = page.getByTestId('worksheet');
    await dialog.locator('table.worksheet-table').waitFor();
    assert.equal(await dialog.locator('tr.group th').first().textContent(), `v1 (2022 ${make} Civic) · Bodily injury liability`);
    // Nothing was parsed as HTML: no element was planted (so no onerror can
    // fire later) and no script ran.
    const dom = await page.evaluate(() => ({
      pwned: window.__pwned,
      scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
      imgs: document.querySelectorAll('img').length,
    }));
    assert.deepEqual(dom, { pwned: undefined, scripts: ['/static/app.js'], imgs: 0 });
    await screenshot(page, '07-escaping-worksheet', { fullPage: false });
    await page.keyboard.press('Escape');

    // Reloaded (the request comes back from session storage): still text.
    await page.reload();
    await page.getByTestId('total-harbor').waitFor();
    assert.equal(new URL(page.url()).pathname, `/q/${id}`);
    assert.deepEqual(await page.getByTestId('comparison').locator('tr.group th').allTextContents(), [unit]);
    // Back to the form: the answers come back, as text.
    await page.getByTestId('edit-answers').click();
    await page.getByTestId('quote-form').waitFor({ state: 'visible' });
    assert.equal(await labelled(group(page, 'Driver 1 (d1)'), 'First name').inputValue(), name);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.locator('img').count(), 0);
  });

  browserIt('a 375x812 phone screen never scrolls sideways', async (openPage) => {
    const page = await openPage({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const widths = () => page.evaluate(() => ({
      doc: document.documentElement.scrollWidth,
      body: document.body.scrollWidth,
      inner: window.innerWidth,
    }));
    await goto(page, '/');
    await page.getByTestId('fill-example').click();
    const form = await widths();
    assert.equal(form.inner, 375);
    assert.ok(form.doc <= 375 && form.body <= 375, `form: ${JSON.stringify(form)}`);
    await screenshot(page, '08-narrow-form');

    await submitAndWait(page, () => page.getByTestId('get-quotes').click());
    assert.equal(await page.getByTestId('total-harbor').textContent(), HARBOR_TOTAL_1);
    await page.getByTestId('chart').waitFor();
    const results = await widths();
    assert.ok(results.doc <= 375 && results.body <= 375, `results: ${JSON.stringify(results)}`);
    const chartWidth = await page.getByTestId('chart').evaluate((s) => s.getBoundingClientRect().width);
    assert.ok(chartWidth <= 375, `chart ${chartWidth}px wide`);
    await screenshot(page, '08-narrow-results');

    await page.getByTestId('why-harbor').click();
    await page.getByTestId('worksheet').locator('table.worksheet-table').waitFor();
    const ws = await widths();
    assert.ok(ws.doc <= 375 && ws.body <= 375, `worksheet: ${JSON.stringify(ws)}`);
    const box = await page.getByTestId('worksheet').boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 375, `the worksheet dialog fits: ${JSON.stringify(box)}`);
    await screenshot(page, '08-narrow-worksheet', { fullPage: false });
  });

  browserIt('a long unbroken make and model wrap on a 375 px screen instead of widening the page', async (openPage) => {
    const page = await openPage({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    const widths = () => page.evaluate(() => ({ doc: document.documentElement.scrollWidth, body: document.body.scrollWidth }));
    await goto(page, '/');
    await page.getByTestId('fill-example').click();
    const long = 'X'.repeat(150);
    const veh = page.getByRole('group', { name: /^Vehicle 1 \(v1/ });
    await labelled(veh, 'Make').fill(long);
    await labelled(veh, 'Model').fill(long);
    // The legend follows the typing, and wraps.
    assert.match(await veh.locator(':scope > legend').textContent(), new RegExp(`^Vehicle 1 \\(v1, 2022 ${long} ${long}\\)$`));
    const form = await widths();
    assert.ok(form.doc <= 375 && form.body <= 375, `form: ${JSON.stringify(form)}`);
    const legend = await veh.locator(':scope > legend').boundingBox();
    assert.ok(legend.x + legend.width <= 375, `the legend fits: ${JSON.stringify(legend)}`);

    await submitAndWait(page, () => page.getByTestId('get-quotes').click());
    await page.getByTestId('chart').waitFor();
    const results = await widths();
    assert.ok(results.doc <= 375 && results.body <= 375, `results: ${JSON.stringify(results)}`);
    await page.getByTestId('why-harbor').click();
    await page.getByTestId('worksheet').locator('table.worksheet-table').waitFor();
    const ws = await widths();
    assert.ok(ws.doc <= 375 && ws.body <= 375, `worksheet: ${JSON.stringify(ws)}`);
    await screenshot(page, '08-narrow-long-model', { fullPage: false });
  });

  browserIt('a carrier ticked for one line is not asked for another', async (openPage, t) => {
    const page = await openPage();
    await goto(page, '/');
    if (await page.getByTestId('line-term_life').isDisabled()) {
      t.skip('term life form not available yet');
      return;
    }
    const { carriers } = (await api('GET', '/v1/carriers')).data;
    const writes = (c, line) => (c.plans || []).some((p) => p.line === line);
    const lifeOnly = carriers.find((c) => writes(c, 'term_life') && !writes(c, 'auto'));
    assert.ok(lifeOnly, 'a carrier writes term life but not auto');
    await page.getByTestId('fill-example').click();
    const picker = page.locator('details.carrier-picker');

    // Term life: ask only that carrier.
    await page.getByTestId('line-term_life').check();
    await page.locator('.line-form[data-line="term_life"]').waitFor({ state: 'visible' });
    await picker.locator('summary').click();
    await picker.getByLabel(new RegExp(`^${escapeRe(lifeOnly.name)} `)).check();

    // Back to auto: nothing is ticked there, and nothing is sent.
    await page.getByTestId('line-auto').check();
    await page.locator('.line-form[data-line="auto"]').waitFor({ state: 'visible' });
    assert.equal(await picker.locator('input:checked').count(), 0, 'nothing ticked in the auto list');
    // Term life keeps its own pick.
    await page.getByTestId('line-term_life').check();
    await page.locator('.line-form[data-line="term_life"]').waitFor({ state: 'visible' });
    assert.equal(await picker.getByLabel(new RegExp(`^${escapeRe(lifeOnly.name)} `)).isChecked(), true);
    await page.getByTestId('line-auto').check();
    await page.locator('.line-form[data-line="auto"]').waitFor({ state: 'visible' });

    const { request } = await submitAndWait(page, () => page.getByTestId('get-quotes').click());
    assert.deepEqual(request, EXAMPLE_1, 'no carriers list: every auto carrier is asked');
    assert.equal(await page.getByTestId('total-harbor').textContent(), HARBOR_TOTAL_1);
  });

  browserIt('a 429 or a 413 says the quotes could not be got, not that the answers are wrong', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    await page.getByTestId('fill-example').click();
    const summary = page.getByTestId('form-errors');
    let shown = ''; // the summary's text of the previous answer
    async function answerWith(reply) {
      await page.route('**/v1/quotes', (route) => route.fulfill(reply));
      await page.getByTestId('get-quotes').click();
      await summary.waitFor({ state: 'visible' });
      // visible already from the previous answer: wait for this one's text
      const until = Date.now() + 10000;
      let text = (await summary.innerText()).replace(/\s+/g, ' ');
      while (text === shown && Date.now() < until) {
        await sleep(20);
        text = (await summary.innerText()).replace(/\s+/g, ' ');
      }
      shown = text;
      await page.unroute('**/v1/quotes');
      assert.doesNotMatch(text, /Please correct/);
      assert.equal(await page.locator('[aria-invalid="true"]').count(), 0, 'no field marked');
      assert.equal(new URL(page.url()).pathname, '/');
      return text;
    }
    const limited = await answerWith({
      status: 429,
      headers: { 'Retry-After': '7' },
      contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'rate_limited', message: 'too many requests from your address; retry after 7 s' } }),
    });
    assert.match(limited, /^We could not get quotes /);
    assert.match(limited, /too many requests from your address; retry after 7 s/);
    assert.match(limited, /please wait 7 seconds and try again\.$/);

    const large = await answerWith({ status: 413, contentType: 'text/plain', body: 'too large' });
    assert.equal(large, 'We could not get quotes Getting quotes failed (HTTP 413).');

    // The form still works.
    await submitAndWait(page, () => page.getByTestId('get-quotes').click());
    assert.equal(await page.getByTestId('total-harbor').textContent(), HARBOR_TOTAL_1);
  });

  browserIt('while results stream in: no worksheet yet; "Change answers" and "New quote" cancel', async (openPage) => {
    const page = await openPage();
    // Each event of the quote's stream arrives 250 ms after the one before.
    await page.addInitScript((delay) => {
      const real = window.fetch;
      window.__streams = { started: 0, ended: 0 };
      window.fetch = async (url, init) => {
        const res = await real(url, init);
        if (String(url) !== '/v1/quotes' || !(res.headers.get('Content-Type') || '').startsWith('text/event-stream')) return res;
        window.__streams.started += 1;
        const blocks = (await res.text()).split('\n\n').filter(Boolean).map((b) => `${b}\n\n`);
        const signal = init && init.signal;
        const body = new ReadableStream({
          async start(c) {
            for (const b of blocks) {
              await new Promise((r) => setTimeout(r, delay));
              if (signal && signal.aborted) break;
              c.enqueue(new TextEncoder().encode(b));
            }
            if (signal && signal.aborted) c.error(new DOMException('aborted', 'AbortError'));
            else c.close();
            window.__streams.ended += 1;
          },
        });
        return new Response(body, { status: res.status, headers: { 'Content-Type': 'text/event-stream' } });
      };
    }, 250);
    await goto(page, '/');
    await page.getByTestId('fill-example').click();
    const form = page.getByTestId('quote-form');
    const ended = (n) => page.waitForFunction((k) => window.__streams.ended === k, n);

    // The first results: their worksheets cannot open yet (the quote has no id).
    await page.getByTestId('get-quotes').click();
    await page.getByTestId('results-arriving').waitFor();
    await page.locator('[data-testid="quoted-list"] > article').first().waitFor();
    assert.equal(await page.locator('button.why').count(), 0, 'no "Why this price?" button before the quote is saved');
    assert.ok(await page.locator('[data-testid^="why-later-"]').count() >= 1);

    // "Change answers": the form is back with the answers, and stays.
    await page.getByTestId('edit-answers').click();
    await form.waitFor({ state: 'visible' });
    assert.equal(await page.getByTestId('get-quotes').textContent(), 'Get quotes');
    assert.match(await page.locator('#submit-status').textContent(), /Stopped waiting/);
    assert.equal(await labelled(group(page, 'Driver 1 (d1)'), 'Date of birth').inputValue(), EXAMPLE_1.drivers[0].date_of_birth);
    await ended(1);
    await page.waitForTimeout(300);
    assert.equal(await form.isVisible(), true, 'no result hid the form again');
    assert.equal(new URL(page.url()).pathname, '/');

    // "New quote": an empty form, which stays.
    await page.getByTestId('get-quotes').click();
    await page.getByTestId('results-arriving').waitFor();
    await page.getByTestId('new-quote').click();
    await form.waitFor({ state: 'visible' });
    assert.equal(await labelled(group(page, 'Driver 1 (d1)'), 'Date of birth').inputValue(), '');
    await ended(2);
    await page.waitForTimeout(300);
    assert.equal(await form.isVisible(), true);
    assert.equal(new URL(page.url()).pathname, '/');

    // Left to finish, the quote opens with its worksheets.
    await page.getByTestId('fill-example').click();
    await submitAndWait(page, () => page.getByTestId('get-quotes').click());
    assert.equal(await page.getByTestId('total-harbor').textContent(), HARBOR_TOTAL_1);
    assert.equal(await page.getByTestId('why-harbor').isEnabled(), true);
    assert.deepEqual(page.failedResponses.filter((r) => r.url.includes('/worksheet/')), []);
  });

  browserIt('keyboard only: Tab to the line picker and to Get quotes, submit with Enter', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    const focused = () => page.evaluate(() => {
      const a = document.activeElement;
      return a ? a.getAttribute('data-testid') || a.id || a.tagName : null;
    });
    /** Presses `key` until the focused element has `testid`; returns the stops passed on the way. */
    async function tabTo(testid, key = 'Tab', max = 150) {
      const stops = [];
      for (let i = 0; i < max; i++) {
        await page.keyboard.press(key);
        const f = await focused();
        stops.push(f);
        if (f === testid) return stops;
      }
      assert.fail(`${key} never reached ${testid}; stops: ${stops.join(', ')}`);
    }
    const toLine = await tabTo('line-auto');
    assert.ok(toLine.length <= 4, `the line picker is among the first stops: ${toLine}`);
    // While the other lines are disabled, the arrows keep auto.
    await page.keyboard.press('ArrowDown');
    const afterArrow = await focused();
    if (await page.getByTestId('line-home').isDisabled()) {
      assert.equal(afterArrow, 'line-auto');
      assert.equal(await page.getByTestId('line-auto').isChecked(), true);
    } else {
      // The arrow picks the next line (its form shows); the other arrow comes back.
      assert.equal(afterArrow, 'line-home');
      await page.locator('.line-form[data-line="home"]').waitFor({ state: 'visible' });
      await page.keyboard.press('ArrowUp');
      assert.equal(await focused(), 'line-auto');
      assert.equal(await page.getByTestId('line-auto').isChecked(), true);
      await page.locator('.line-form[data-line="auto"]').waitFor({ state: 'visible' });
    }
    const toSubmit = await tabTo('get-quotes');
    assert.ok(toSubmit.length > 10, 'Tab goes through the form fields before the button');
    // Fill example is the next stop; Enter presses it.
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'fill-example');
    await page.keyboard.press('Enter');
    assert.match(await page.locator('#submit-status').textContent(), /Filled in the example/);
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focused(), 'get-quotes');
    await screenshot(page, '09-keyboard-submit-focused', { fullPage: false });
    const { request } = await submitAndWait(page, () => page.keyboard.press('Enter'));
    assert.deepEqual(request, EXAMPLE_1);
    assert.equal(await page.getByTestId('total-harbor').textContent(), HARBOR_TOTAL_1);
    // The focus moves to the results' heading.
    await page.waitForFunction(() => document.activeElement?.id === 'results-title');

    // Enter in a text field submits too (implicit submission).
    await page.getByTestId('edit-answers').click();
    await page.getByTestId('quote-form').waitFor({ state: 'visible' });
    const zip = labelled(group(page, 'About you'), 'ZIP code');
    await zip.focus();
    const second = await submitAndWait(page, () => page.keyboard.press('Enter'));
    assert.deepEqual(second.request, EXAMPLE_1);
    assert.equal(await page.getByTestId('total-harbor').textContent(), HARBOR_TOTAL_1);
  });

  browserIt('filters: only quoted, minimum rating, maximum price a month; the count is announced', async (openPage) => {
    const page = await openPage();
    const { id } = await quoteExample(page);
    const quote = (await api('GET', `/v1/quotes/${id}`)).data;
    const quoted = quote.results.filter((r) => r.status === 'quoted').sort(byMonthly);
    const others = quote.results.filter((r) => r.status !== 'quoted');
    const count = page.getByTestId('results-count');
    // Only the short status region is live, not the whole results.
    assert.equal(await page.getByTestId('results').getAttribute('aria-live'), null);
    assert.equal(await page.getByTestId('results-status').getAttribute('role'), 'status');

    // At most a dollar a month under Harbor's: Harbor and everything dearer is hidden.
    const harborMonthly = quoted.find((r) => r.carrier.id === 'harbor').premium.monthly;
    const max = Math.floor(harborMonthly - 1);
    assert.equal(await page.getByLabel('Maximum price a month ($)').count(), 1);
    await page.getByTestId('filter-max').fill(String(max));
    const cheap = quoted.filter((r) => r.premium.monthly <= max).map((r) => r.carrier.id);
    assert.ok(cheap.length > 0 && !cheap.includes('harbor'));
    assert.ok(quoted.some((r) => r.premium.total > max * 6 && cheap.includes(r.carrier.id)), 'a 12-month policy under the maximum a month stays');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="quoted-list"] > article').length === n, cheap.length);
    assert.deepEqual(await cardOrder(page), cheap);
    assert.equal(await page.getByTestId('total-harbor').count(), 0);
    assert.match(await count.textContent(), new RegExp(`^Showing ${cheap.length} quotes? .*\\(${quoted.length - cheap.length} hidden by filters\\)\\.$`));
    // The status region says the new count (once the typing pauses).
    await page.waitForFunction(() => document.querySelector('[data-testid="results-status"]').textContent
      === document.querySelector('[data-testid="results-count"]').textContent);

    // Rating A or better, with the maximum still on.
    await page.getByTestId('filter-rating').selectOption('A');
    const cheapGood = quoted.filter((r) => r.premium.monthly <= max && rank(r.carrier.rating) <= rank('A')).map((r) => r.carrier.id);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="quoted-list"] > article').length === n, cheapGood.length);
    assert.deepEqual(await cardOrder(page), cheapGood);

    // Only quoted: the carriers that did not quote disappear.
    await page.getByTestId('filter-max').fill('');
    await page.getByTestId('filter-rating').selectOption('');
    if (others.length) assert.equal(await page.getByTestId('other-list').locator('article').count(), others.length);
    await page.getByTestId('filter-quoted').check();
    assert.equal(await page.getByTestId('other-list').count(), 0);
    assert.deepEqual(await cardOrder(page), quoted.map((r) => r.carrier.id));
    assert.equal(await page.getByTestId('total-harbor').textContent(), HARBOR_TOTAL_1);
    // "Show only quoted" counts as a filter.
    assert.equal(await count.textContent(),
      `Showing ${quoted.length} quotes${others.length ? ` (${others.length} hidden by filters)` : ''}.`);
  });
});

// ---- The other lines: skipped until their form is on the page -------------------------
//
// Each is typed field by field from a request in the contract's shape (the
// line's example), then the request the page posted must be exactly that
// request, and the totals shown must be the server's.

const ACA_PATH = path.resolve(REPO_ROOT, '..', 'shared', 'reference', 'aca-health.examples.json');
const ACA = existsSync(ACA_PATH) ? JSON.parse(readFileSync(ACA_PATH, 'utf8')) : { cases: [] };

const HOME_REQUEST = {
  line: 'home',
  effective_date: '2026-05-01',
  applicant: {
    first_name: 'Dana',
    last_name: 'Reyes',
    address: { street: '12 High St', city: 'Columbus', state: 'OH', zip: '43215' },
    paperless: true,
  },
  dwelling: {
    year_built: 1998,
    construction: 'frame',
    square_feet: 2100,
    stories: 2,
    roof_year: 2015,
    roof_type: 'asphalt_shingle',
    protection_class: 4,
    replacement_cost: 350000,
    smoke_detectors: true,
    sprinklers: false,
    burglar_alarm: true,
  },
  claims: [{ type: 'water', date: '2023-08-14', amount: 8200 }],
  coverages: {
    dwelling: 350000,
    other_structures: 35000,
    personal_property: 175000,
    loss_of_use: 70000,
    liability: 300000,
    med_pay: 5000,
    deductible: 1000,
  },
};

const RENTERS_REQUEST = {
  line: 'renters',
  effective_date: '2026-05-01',
  applicant: {
    first_name: 'Jordan',
    last_name: 'Patel',
    address: { street: '250 E Town St', city: 'Columbus', state: 'OH', zip: '43215' },
    paperless: true,
  },
  unit: { construction: 'masonry', protection_class: 3, floor: 3 },
  coverages: { personal_property: 30000, liability: 100000, med_pay: 1000, deductible: 500 },
};

const TERM_LIFE_REQUEST = {
  line: 'term_life',
  effective_date: '2026-04-01',
  applicant: {
    first_name: 'Maria',
    last_name: 'Lopez',
    date_of_birth: '1984-09-20',
    gender: 'female',
    address: { city: 'Columbus', state: 'OH', zip: '43215' },
  },
  face_amount: 500000,
  term_years: 20,
  payment_mode: 'monthly',
  tobacco: false,
  build: { height_in: 66, weight_lb: 150 },
  health: {
    blood_pressure_treated: false,
    cholesterol_treated: false,
    diabetes: false,
    family_heart_disease_before_60: false,
  },
  health_class: null,
};

// The ACA reference's first case ("1-single-40"), with its expected plans.
const HEALTH_CASE = ACA.cases[0] ?? null;
const HEALTH_REQUEST = HEALTH_CASE?.request ?? {
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

/** Answers a yes/no question (a radiogroup named by its question). */
async function answer(scope, question, yes) {
  const g = scope.getByRole('radiogroup', { name: new RegExp(`^${escapeRe(question)}`) });
  await g.getByLabel(yes ? 'Yes' : 'No', { exact: true }).check();
}

/** Types a number unless it is absent. */
async function typeIfAny(scope, label, v) {
  if (v !== undefined && v !== null) await typeInto(scope, label, v);
}

/** The envelope: effective date and the applicant's fields this line shows. */
async function fillCommon(page, req) {
  const ap = req.applicant;
  const addr = ap.address;
  await typeInto(group(page, 'Policy start'), 'Effective date', req.effective_date);
  const you = group(page, 'About you');
  await choose(you, 'State', addr.state);
  await typeInto(you, 'ZIP code', addr.zip);
  if (addr.county_fips !== undefined) await typeInto(you, 'County FIPS code', addr.county_fips);
  if (ap.date_of_birth !== undefined) await typeInto(you, 'Date of birth', ap.date_of_birth);
  if (ap.gender !== undefined) await choose(you, 'Gender', ap.gender);
  await typeInto(you, 'First name', ap.first_name ?? '');
  await typeInto(you, 'Last name', ap.last_name ?? '');
  await typeInto(you, 'Street', addr.street ?? '');
  await typeInto(you, 'City', addr.city ?? '');
  for (const [key, label] of [['homeowner', 'I own a home (a discount with many carriers)'], ['paperless', 'Paperless billing and documents']]) {
    const box = labelled(you, label);
    if (await box.isVisible()) await box.setChecked(!!ap[key]);
    else assert.equal(ap[key], undefined, `${req.line} does not ask ${key}`);
  }
}

async function fillDevices(scope, o) {
  await tick(scope, 'Smoke detectors', o.smoke_detectors);
  await tick(scope, 'Automatic sprinklers', o.sprinklers);
  await tick(scope, 'Burglar alarm', o.burglar_alarm);
}

async function fillClaims(page, claims = []) {
  for (const [i, c] of claims.entries()) {
    await page.getByTestId('add-claim').click();
    const row = group(page, `Claim ${i + 1}`);
    await choose(row, 'Type', c.type);
    await typeInto(row, 'Date of loss', c.date);
    await typeIfAny(row, 'Amount paid (USD)', c.amount);
  }
}

async function fillPolicySelects(cov, c) {
  await choose(cov, 'Personal liability (E)', c.liability);
  await choose(cov, 'Medical payments to others (F)', c.med_pay ?? '');
  await choose(cov, 'Deductible (all perils)', c.deductible);
}

const FILL = {
  async home(page, req) {
    const d = req.dwelling;
    const home = group(page, 'The home');
    await typeInto(home, 'Year built', d.year_built);
    await choose(home, 'Construction', d.construction);
    await typeIfAny(home, 'Square feet', d.square_feet);
    await choose(home, 'Stories', d.stories ?? '');
    await typeIfAny(home, 'Roof year', d.roof_year);
    await choose(home, 'Roof covering', d.roof_type ?? '');
    await choose(home, 'Protection class', d.protection_class);
    await typeInto(home, 'Replacement cost (USD)', d.replacement_cost);
    await fillDevices(home, d);
    await fillClaims(page, req.claims);
    const cov = group(page, 'Coverages');
    const c = req.coverages;
    // The dwelling amount follows the replacement cost as it is typed.
    assert.equal(await labelled(cov, 'Dwelling (A, USD)').inputValue(), String(d.replacement_cost));
    await typeInto(cov, 'Dwelling (A, USD)', c.dwelling);
    await typeIfAny(cov, 'Other structures (B)', c.other_structures);
    await typeIfAny(cov, 'Personal property (C)', c.personal_property);
    await typeIfAny(cov, 'Loss of use (D)', c.loss_of_use);
    await fillPolicySelects(cov, c);
  },

  async renters(page, req) {
    const u = req.unit;
    const unit = group(page, 'Your rented home');
    await choose(unit, 'Building construction', u.construction);
    await choose(unit, 'Protection class', u.protection_class);
    await typeIfAny(unit, 'Floor', u.floor);
    await fillDevices(unit, u);
    await fillClaims(page, req.claims);
    const cov = group(page, 'Coverages');
    const c = req.coverages;
    await typeInto(cov, 'Personal property (C, USD)', c.personal_property);
    await typeInto(cov, 'Loss of use (D, USD)', c.loss_of_use ?? '');
    await fillPolicySelects(cov, c);
  },

  async term_life(page, req) {
    const policy = group(page, 'The policy');
    await choose(policy, 'Death benefit', req.face_amount);
    await choose(policy, 'Term', req.term_years);
    await choose(policy, 'Pay', req.payment_mode);
    const uw = group(page, 'About your health');
    await answer(uw, 'Have you used tobacco', req.tobacco);
    const inches = req.build.height_in;
    const height = group(uw, 'Height');
    await typeInto(height, 'feet', Math.floor(inches / 12));
    await typeInto(height, 'inches', inches % 12);
    await typeInto(uw, 'Weight (pounds)', req.build.weight_lb);
    const health = group(uw, 'Health');
    await answer(health, 'Are you treated for high blood pressure', req.health.blood_pressure_treated);
    await answer(health, 'Are you treated for high cholesterol', req.health.cholesterol_treated);
    await answer(health, 'Do you have diabetes', req.health.diabetes);
    await answer(health, 'Did a parent or sibling have heart disease before age 60', req.health.family_heart_disease_before_60);
    await choose(uw, 'Health class', req.health_class ?? '');
  },

  async health(page, req) {
    const hh = group(page, 'Your household');
    await typeIfAny(hh, 'Household size', req.household?.size);
    await typeIfAny(hh, 'Expected household income (USD a year)', req.household?.income);
    assert.equal(req.members.length, 1, 'one member to type');
    const m = req.members[0];
    const member = page.getByRole('group', { name: /^Member 1 \(m1, you\)/ });
    await typeInto(member, 'Date of birth', m.date_of_birth);
    await answer(member, 'Tobacco use in the last 6 months?', m.tobacco);
  },
};

const REQUESTS = { home: HOME_REQUEST, renters: RENTERS_REQUEST, term_life: TERM_LIFE_REQUEST, health: HEALTH_REQUEST };

/** What total-<key> shows for each quoted result of a response: {key: "26.17"}. */
function shownTotalsOf(line, quote) {
  const out = {};
  for (const r of quote.results.filter((x) => x.status === 'quoted' && x.premium)) {
    if (line === 'health') out[r.plan?.id ?? r.carrier.id] = money(r.net_premium ?? r.premium.total);
    else out[r.carrier.id] = money(r.premium.total);
  }
  return out;
}

describe('other lines', () => {
  for (const line of OTHER_LINES) {
    browserIt(`${line}: typed field by field, quoted at /q/{id}`, async (openPage, t) => {
      const page = await openPage();
      await goto(page, '/');
      const radio = page.getByTestId(`line-${line}`);
      assert.equal(await radio.count(), 1, `the line picker offers ${line}`);
      if (await radio.isDisabled()) {
        t.skip(`${line} form not available yet`);
        return;
      }
      const req = REQUESTS[line];
      await radio.check();
      await page.locator(`.line-form[data-line="${line}"]`).waitFor({ state: 'visible' });
      await fillCommon(page, req);
      await FILL[line](page, req);
      await screenshot(page, `10-${line}-form-typed`);
      const { id, request } = await submitAndWait(page, () => page.getByTestId('get-quotes').click());

      assert.deepEqual(request, req, 'the page posts exactly the request typed');
      assert.equal(new URL(page.url()).pathname, `/q/${id}`);
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(),
        `Your ${line === 'term_life' ? 'term life' : line} quotes`);
      const shown = Object.fromEntries(await totals(page));
      assert.ok(Object.keys(shown).length >= 1, 'at least one quote shown');
      for (const [k, v] of Object.entries(shown)) {
        assert.match(v, MONEY, `total-${k}`);
        assert.ok(Number(v) >= 0, `total-${k}`);
      }
      // The totals are the server's: the stored quote, and the same request asked again.
      const stored = await api('GET', `/v1/quotes/${id}`);
      assert.equal(stored.status, 200);
      assert.equal(stored.data.line, line);
      assert.deepEqual(shown, shownTotalsOf(line, stored.data));
      const again = await api('POST', '/v1/quotes', request);
      assert.equal(again.status, 201, JSON.stringify(again.data));
      assert.deepEqual(shownTotalsOf(line, again.data), shown, 'the same request prices the same');
      if (line === 'health' && HEALTH_CASE) {
        // The reference's net premiums a month, plan by plan.
        const expected = HEALTH_CASE.expected.plans.map((p) => money(p.net_premium)).sort();
        assert.deepEqual(Object.values(shown).sort(), expected);
      }
      if (line === 'term_life') {
        // A monthly premium, explained as such.
        const first = Object.keys(shown)[0];
        assert.match(await page.getByTestId(`result-${first}`).innerText(), /per month/);
      }
      await screenshot(page, `10-${line}-results`);
    });
  }

  browserIt('renters without medical payments ("None"); Back from the reloaded quote brings the answers back', async (openPage, t) => {
    const page = await openPage();
    await goto(page, '/');
    if (await page.getByTestId('line-renters').isDisabled()) {
      t.skip('renters form not available yet');
      return;
    }
    const req = structuredClone(RENTERS_REQUEST);
    delete req.coverages.med_pay; // optional: no coverage F
    await page.getByTestId('line-renters').check();
    await page.locator('.line-form[data-line="renters"]').waitFor({ state: 'visible' });
    await fillCommon(page, req);
    await FILL.renters(page, req);
    const medPay = () => labelled(group(page, 'Coverages'), 'Medical payments to others (F)');
    assert.equal(await medPay().locator('option:checked').textContent(), 'None');
    const { id, request } = await submitAndWait(page, () => page.getByTestId('get-quotes').click());
    assert.deepEqual(request, req, 'no med_pay sent');

    // Reloaded, then Back to "/": the reloaded page's form started empty, and gets the quote's answers.
    await page.reload();
    await page.locator('[data-testid^="total-"]').first().waitFor();
    assert.equal(new URL(page.url()).pathname, `/q/${id}`);
    await page.goBack();
    await page.waitForSelector('html.ready');
    await page.getByTestId('quote-form').waitFor({ state: 'visible' });
    assert.equal(new URL(page.url()).pathname, '/');
    assert.equal(await page.getByTestId('line-renters').isChecked(), true);
    assert.equal(await labelled(group(page, 'Your rented home'), 'Floor').inputValue(), String(req.unit.floor));
    assert.equal(await medPay().inputValue(), '', 'medical payments come back as None');
    const again = await submitAndWait(page, () => page.getByTestId('get-quotes').click());
    assert.deepEqual(again.request, req, 'the same answers are sent again');

    // Reloaded, "Change answers" fills the form from the saved request: "None", not a blank select.
    await page.reload();
    await page.locator('[data-testid^="total-"]').first().waitFor();
    await page.getByTestId('edit-answers').click();
    await page.getByTestId('quote-form').waitFor({ state: 'visible' });
    assert.equal(await medPay().evaluate((el) => (el.selectedOptions[0] ? el.selectedOptions[0].textContent : null)), 'None');
  });
});
