// shopper-lines.test.mjs -- the web page for the lines other than auto, as a
// shopper meets them, in Debian's headless Chromium (playwright-core) against
// the real `multiquote serve` binary:
//   - a bundle (auto + home) saved through the API opens at /q/{id} with its
//     bundles, the best separate quotes and each line's own quotes, to the cent;
//   - the page asks for a bundle itself ("Auto + home"): the example is posted
//     as docs/bundles.md gives it, the answer shown, and the answers come back
//     with "Change answers" after a reload (home or renters as chosen);
//   - a bundle with a home policy does not ask "I own a home" and sends it as
//     true (the auto side's homeowner discount); with renters it is asked;
//   - a bundle's field errors ("auto.drivers[0].date_of_birth",
//     "renters.unit.construction") land on the field of the right part;
//   - every amount in the chart and the worksheet's title is in dollars ("$143.51
//     a month"), as the cards and the notes under the bars are;
//   - Back and Forward put the focus on the heading of the view shown, and
//     Back finds the answers as they were sent;
//   - "Change answers" on a quote opened from a link (its answers not in this
//     browser) opens its line's form and says why it is not filled in;
//   - term life: inches out of 0-11 (5 ft 13 in) are an error on the height,
//     not a silently different height;
//   - a reload of the form keeps the answers typed (this tab only), for
//     every line; "Start over" drops them;
//   - a shopper's visit asks nothing the server does not have (no 404 for
//     /favicon.ico) and nothing from another origin;
//   - a line whose form cannot be fetched (the server unreachable) leaves the
//     picker on the form shown, says so, and loads when picked again;
//   - a saved quote that cannot be loaded (503, the server unreachable) says
//     why and offers "Try again", which loads it;
//   - on a 360 px phone, the chart's carrier names fit the chart (a long one
//     shortened with an ellipsis, whole in the bar's title), for every line;
//   - on a 360 px phone zoomed to 200% (180 CSS px), the form and the results
//     of every line fit the screen (only tables scroll sideways).
//
// Run: MQ_BIN=$PWD/build/multiquote node --test --test-reporter=tap tests/js/shopper-lines.test.mjs
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './lib/server.mjs';
import { browserSuite, QUOTE_PATH } from './lib/browser.mjs';

const BUNDLE = JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', 'oh-bundle-auto-home.json'), 'utf8'));
const money = (x) => Number(x).toFixed(2);

const suite = browserSuite();
const { browserIt, goto } = suite;

/** Picks `line`, fills its example and gets quotes; the saved quote, as /q/{id} shows it. */
async function quoteExample(page, line) {
  await goto(page, '/');
  await page.getByTestId(`line-${line}`).check();
  await page.locator(`.line-form[data-line="${line}"]`).waitFor();
  await page.getByTestId('fill-example').click();
  await page.getByTestId('get-quotes').click();
  await page.waitForURL(QUOTE_PATH);
  const id = new URL(page.url()).pathname.match(QUOTE_PATH)[1];
  return { id, quote: await (await fetch(`${suite.server().url}/v1/quotes/${id}`)).json() };
}

async function postQuote(body) {
  const res = await fetch(`${suite.server().url}/v1/quotes`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status, data: await res.json() };
}

/** "$1085.96 a year" and, for a term other than 12 months, "$542.98 for 6 months". */
const sideText = (side) => `$${money(side.annual)} a year${Number(side.term_months) === 12 ? '' : `$${money(side.total)} for ${side.term_months} months`}`;
const savingText = (x) => (x < 0 ? `costs $${money(-x)} more` : `$${money(x)}`);

/** Checks the bundle view on `page` against the API's answer `quote` (a bundle of auto and `kind`). */
async function assertBundleShown(page, quote, kind) {
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), `Your auto and ${kind} bundle quotes`);
  assert.ok(quote.bundles.length >= 1, 'the example has bundles');
  const rows = await page.getByTestId('bundles').locator('tbody tr[data-testid^="bundle-"]').evaluateAll((trs) =>
    trs.map((tr) => tr.getAttribute('data-testid').slice('bundle-'.length)));
  assert.deepEqual(rows, quote.bundles.map((b) => b.carrier.id), 'one row per bundle, in the answer\'s order');
  for (const b of quote.bundles) {
    const id = b.carrier.id;
    assert.equal(await page.getByTestId(`bundle-annual-${id}`).textContent(), `$${money(b.annual_total)}`, `${id} a year`);
    assert.equal(await page.getByTestId(`bundle-auto-${id}`).textContent(), sideText(b.auto), `${id} auto`);
    assert.equal(await page.getByTestId(`bundle-${kind}-${id}`).textContent(), sideText(b[kind]), `${id} ${kind}`);
    assert.equal(await page.getByTestId(`bundle-saving-same-${id}`).textContent(), savingText(b.saving_vs_same_carrier_separately));
    assert.equal(await page.getByTestId(`bundle-saving-best-${id}`).textContent(), savingText(b.saving_vs_best_separate));
  }
  assert.equal(await page.getByTestId('best-separate-annual').textContent(), `$${money(quote.best_separate.annual_total)}`);
  // Each line's own quotes, without the discount.
  for (const part of ['auto', kind]) {
    for (const r of quote[part].results.filter((x) => x.status === 'quoted')) {
      assert.equal(await page.getByTestId(`part-${part}-total-${r.carrier.id}`).textContent(), `$${money(r.premium.total)}`,
        `${part} ${r.carrier.id} alone`);
    }
    for (const r of quote[part].results.filter((x) => x.status !== 'quoted')) {
      assert.match(await page.getByTestId(`part-${part}-${r.carrier.id}`).innerText(), new RegExp(r.reasons[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    }
  }
  // Every carrier quoting both is charted, and the best separate quotes beside them.
  const bars = await page.getByTestId('chart').locator('g.bar').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-testid')));
  assert.deepEqual(bars, [...quote.bundles.map((b) => `bar-${b.carrier.id}`), 'bar-best-separate']);
  assert.equal(await page.getByTestId('quote-message').count(), 0, 'no "could not load" message');
}

describe('bundles (auto + home)', () => {
  browserIt('a bundle saved through the API opens at /q/{id}: bundles, best separate and each line, to the cent', async (openPage) => {
    const saved = await postQuote(BUNDLE);
    assert.equal(saved.status, 201, JSON.stringify(saved.data));
    assert.equal(saved.data.line, 'bundle');
    const page = await openPage();
    await goto(page, `/q/${saved.data.quote_id}`);
    await page.getByTestId('bundles').waitFor();
    await assertBundleShown(page, saved.data, 'home');
    assert.equal(await page.title(), `Quotes ${saved.data.quote_id} – multiquote`);
    // The same on a phone: nothing wider than the screen but the tables that scroll.
    const phone = await openPage({ viewport: { width: 360, height: 740 } });
    await goto(phone, `/q/${saved.data.quote_id}`);
    await phone.getByTestId('bundles').waitFor();
    assert.equal(await phone.evaluate(() => document.documentElement.scrollWidth), 360);
  });

  browserIt('the page asks for a bundle: the example as docs/bundles.md gives it, the answer shown, the answers back after a reload', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    await page.getByTestId('line-bundle').check();
    await page.locator('.line-form[data-line="bundle"]').waitFor();
    await page.getByTestId('fill-example').click();
    const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/quotes');
    await page.getByTestId('get-quotes').click();
    const res = await answered;
    assert.equal(res.status(), 201, await res.text());
    const request = res.request().postDataJSON();
    const expected = structuredClone(BUNDLE);
    delete expected.home.claims; // no claims: none sent
    assert.deepEqual(request, expected, 'the page posts the example bundle');
    await page.waitForURL(QUOTE_PATH);
    await page.getByTestId('bundles').waitFor();
    const id = new URL(page.url()).pathname.match(QUOTE_PATH)[1];
    assert.equal(await page.evaluate(() => document.activeElement.id), 'results-title', 'focus on the results\' heading');
    const again = await postQuote(request);
    assert.equal(again.status, 201);
    await assertBundleShown(page, again.data, 'home');

    // Reloaded, "Change answers" brings the bundle form back with its answers.
    await page.reload();
    await page.getByTestId('bundles').waitFor();
    await page.getByTestId('edit-answers').click();
    await page.getByTestId('quote-form').waitFor({ state: 'visible' });
    assert.equal(await page.getByTestId('line-bundle').isChecked(), true);
    assert.equal(await page.getByTestId('bundle-kind-home').isChecked(), true);
    assert.equal(await page.getByTestId('bundle-home').locator('[data-path="dwelling.replacement_cost"]').inputValue(), '320000');
    assert.equal(await page.getByTestId('bundle-auto').locator('[data-path="vehicles[0].model"]').inputValue(), 'Civic');

    // Renters instead of home: the renters part is sent, and priced.
    await page.getByTestId('bundle-kind-renters').check();
    const renters = page.getByTestId('bundle-renters');
    await renters.locator('[data-path="unit.construction"]').selectOption('masonry');
    await renters.locator('[data-path="unit.protection_class"]').selectOption('3');
    await renters.locator('[data-path="coverages.personal_property"]').fill('30000');
    const answered2 = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/quotes');
    await page.getByTestId('get-quotes').click();
    const res2 = await answered2;
    assert.equal(res2.status(), 201, await res2.text());
    const req2 = res2.request().postDataJSON();
    assert.equal(req2.home, undefined, 'no home part with renters');
    assert.deepEqual(req2.renters.unit, { construction: 'masonry', protection_class: 3 });
    await page.waitForURL((u) => u.pathname !== `/q/${id}` && QUOTE_PATH.test(u.pathname));
    await page.getByTestId('part-renters').waitFor();
    const quote2 = (await postQuote(req2)).data;
    await assertBundleShown(page, quote2, 'renters');
    // Back to the form: still renters, with the unit typed.
    await page.goBack();
    await page.getByTestId('quote-form').waitFor({ state: 'visible' });
    assert.equal(await page.getByTestId('bundle-kind-renters').isChecked(), true);
    assert.equal(await renters.locator('[data-path="coverages.personal_property"]').inputValue(), '30000');
  });

  browserIt('with a home policy "I own a home" is not asked and goes as true; with renters it is asked', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    await page.getByTestId('line-bundle').check();
    await page.locator('.line-form[data-line="bundle"]').waitFor();
    await page.getByTestId('fill-example').click();
    const owner = page.getByLabel('I own a home (a discount with many carriers)');
    assert.equal(await owner.isVisible(), false, 'not asked with a home policy');
    // Unticked while renters is chosen, then home again.
    await page.getByTestId('bundle-kind-renters').check();
    assert.equal(await owner.isVisible(), true, 'asked with renters');
    await owner.uncheck();
    await page.getByTestId('bundle-kind-home').check();
    assert.equal(await owner.isVisible(), false);
    const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/quotes');
    await page.getByTestId('get-quotes').click();
    const res = await answered;
    assert.equal(res.status(), 201, await res.text());
    const sent = res.request().postDataJSON();
    assert.equal(sent.applicant.homeowner, true, 'a home bundle goes as a homeowner\'s');
    await page.waitForURL(QUOTE_PATH);
    await page.getByTestId('bundles').waitFor();
    await assertBundleShown(page, (await postQuote(sent)).data, 'home');

    // Renters: the box is asked and its answer sent as is.
    await page.getByTestId('edit-answers').click();
    await page.getByTestId('quote-form').waitFor({ state: 'visible' });
    await page.getByTestId('bundle-kind-renters').check();
    const renters = page.getByTestId('bundle-renters');
    await renters.locator('[data-path="unit.construction"]').selectOption('frame');
    await renters.locator('[data-path="unit.protection_class"]').selectOption('4');
    await renters.locator('[data-path="coverages.personal_property"]').fill('25000');
    assert.equal(await owner.isVisible(), true);
    await owner.uncheck();
    const answered2 = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/quotes');
    await page.getByTestId('get-quotes').click();
    const res2 = await answered2;
    assert.equal(res2.status(), 201, await res2.text());
    assert.equal(res2.request().postDataJSON().applicant.homeowner, false);
  });

  browserIt('a bundle\'s field errors land on the field of the right part, the first one focused', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    await page.getByTestId('line-bundle').check();
    await page.locator('.line-form[data-line="bundle"]').waitFor();
    await page.getByTestId('fill-example').click();
    const dob = page.getByTestId('bundle-auto').locator('[data-path="drivers[0].date_of_birth"]');
    await dob.fill('1990-02-30');
    await page.getByTestId('bundle-home').locator('[data-path="dwelling.construction"]').selectOption('');
    const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/quotes');
    await page.getByTestId('get-quotes').click();
    assert.equal((await answered).status(), 422);
    const summary = page.getByTestId('form-errors');
    await summary.waitFor({ state: 'visible' });
    assert.equal(await summary.locator('li').evaluateAll((lis) => lis.map((li) => li.textContent)).then((x) => x.join('\n')),
      'Driver 1 · Date of birth — auto.drivers[0].date_of_birth: not a valid date "1990-02-30"\n'
      + 'Construction — home.dwelling.construction: is required');
    assert.equal(await dob.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator(`#${await dob.getAttribute('id')}-err`).textContent(), 'not a valid date "1990-02-30"');
    assert.equal(await dob.evaluate((el) => el === document.activeElement), true, 'the first field at fault is focused');
    const construction = page.getByTestId('bundle-home').locator('[data-path="dwelling.construction"]');
    assert.equal(await construction.getAttribute('aria-invalid'), 'true');

    // Renters: its own fields are marked, none of the hidden home form's.
    await page.getByTestId('bundle-kind-renters').check();
    const answered2 = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/quotes');
    await page.getByTestId('get-quotes').click();
    assert.equal((await answered2).status(), 422);
    await summary.waitFor({ state: 'visible' });
    const marked = await page.locator('[aria-invalid="true"]').evaluateAll((els) => els.map((e) => {
      const part = e.closest('[data-path-base]');
      return `${part ? part.getAttribute('data-path-base') : ''}:${e.getAttribute('data-path')}`;
    }));
    assert.deepEqual(marked, ['auto:drivers[0].date_of_birth', 'renters:unit.construction', 'renters:unit.protection_class',
      'renters:coverages.personal_property']);
  });
});

describe('rates on file', () => {
  browserIt('health: a start date past the plan year says, under the date, that every insurer would answer "Not available"', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    await page.getByTestId('line-health').check();
    await page.locator('.line-form[data-line="health"]').waitFor();
    await page.getByTestId('fill-example').click();
    const eff = page.locator('[data-path="effective_date"]');
    const note = page.getByTestId('eff-rates-note');
    assert.equal(await eff.inputValue(), '2026-01-01');
    assert.equal(await note.isHidden(), true, 'the example is inside the plan year');
    await eff.fill('2027-01-01');
    const said = 'The rates on file for this line in Ohio end on 2026-12-31, so for a policy starting 2027-01-01 ' +
      'every carrier would answer "Not available". To compare the plans on file, choose a start date on or before ' +
      '2026-12-31; for a later start, come back once newer rates are published.';
    await note.waitFor({ state: 'visible' });
    assert.equal(await note.textContent(), said);
    const described = await eff.evaluate((el) => el.getAttribute('aria-describedby').split(' ')
      .map((id) => document.getElementById(id).textContent).join(' '));
    assert.ok(described.endsWith(said), `the date's description: ${described}`);
    // what it foretells is what the server answers
    await page.getByTestId('get-quotes').click();
    await page.waitForURL(QUOTE_PATH);
    const id = new URL(page.url()).pathname.match(QUOTE_PATH)[1];
    const quote = await (await fetch(`${suite.server().url}/v1/quotes/${id}`)).json();
    assert.ok(quote.results.length > 0);
    for (const r of quote.results) assert.equal(r.status, 'unavailable', JSON.stringify(r));
    // back on the form, a date inside the plan year clears it; auto has no end date
    await goto(page, '/');
    await page.getByTestId('line-health').check();
    await page.locator('.line-form[data-line="health"]').waitFor();
    await page.getByTestId('fill-example').click();
    await eff.fill('2026-12-31');
    assert.equal(await note.isHidden(), true);
    await eff.fill('2027-01-01');
    await note.waitFor({ state: 'visible' });
    await page.getByTestId('line-auto').check();
    await page.locator('.line-form[data-line="auto"]').waitFor();
    await eff.fill('2027-06-01');
    assert.equal(await note.isHidden(), true, 'auto plans run on');
    assert.equal(await note.textContent(), '');
  });
});

describe('phone', () => {
  for (const line of ['home', 'renters', 'term_life', 'health', 'bundle']) {
    browserIt(`${line} at 360 px: every carrier name in the chart fits, shortened with "…" when too long`, async (openPage) => {
      const page = await openPage({ viewport: { width: 360, height: 740 } });
      await quoteExample(page, line);
      const chart = page.getByTestId('chart');
      await chart.waitFor();
      const bars = await chart.evaluate((svg) => {
        const box = svg.getBoundingClientRect();
        return [...svg.querySelectorAll('g.bar')].map((g) => {
          const t = g.querySelector('text.bar-name');
          return { right: t.getBoundingClientRect().right, max: box.right, shown: t.textContent, full: g.querySelector('title').textContent };
        });
      });
      assert.ok(bars.length >= 1);
      let shortened = 0;
      for (const b of bars) {
        assert.ok(b.right <= b.max + 0.5, `"${b.shown}" ends at ${b.right}, the chart at ${b.max}`);
        if (b.shown.endsWith('…')) {
          shortened += 1;
          assert.ok(b.full.startsWith(b.shown.slice(0, -1).trimEnd()), `"${b.shown}" begins "${b.full}"`);
        } else {
          assert.ok(b.full.startsWith(`${b.shown}:`), `"${b.shown}" is the whole name of "${b.full}"`);
        }
      }
      if (line === 'home') assert.ok(shortened >= 1, 'a long carrier name was shortened');
    });
  }
});

describe('prices in dollars', () => {
  const perPayment = { 1: 'per month', 3: 'per quarter', 6: 'every 6 months', 12: 'per year' };
  for (const line of ['home', 'renters', 'term_life', 'health', 'bundle']) {
    browserIt(`${line}: the chart's amounts and the worksheet's title carry the dollar sign, to the cent`, async (openPage) => {
      const page = await openPage();
      const { quote } = await quoteExample(page, line);
      await page.getByTestId('chart').waitFor();
      const amounts = Object.fromEntries(await page.getByTestId('chart').locator('g.bar').evaluateAll((gs) =>
        gs.map((g) => [g.getAttribute('data-testid').slice('bar-'.length), g.querySelector('text.bar-amount').textContent])));
      if (line === 'bundle') {
        const want = Object.fromEntries(quote.bundles.map((b) => [b.carrier.id, `$${money(b.annual_total)} a year`]));
        want['best-separate'] = `$${money(quote.best_separate.annual_total)} a year`;
        assert.deepEqual(amounts, want);
        return; // a bundle has no worksheet
      }
      const quoted = quote.results.filter((r) => r.status === 'quoted');
      const key = (r) => (line === 'health' ? r.plan.id : r.carrier.id);
      const basis = (r) => (line === 'health' ? r.net_premium : r.premium.monthly);
      assert.deepEqual(amounts, Object.fromEntries(quoted.map((r) => [key(r), `$${money(basis(r))} a month`])));

      const first = quoted[0];
      await page.getByTestId(`why-${key(first)}`).click();
      const title = page.locator('#ws-title');
      await page.locator('#ws-body table').waitFor();
      const total = `$${money(first.premium.total)}`;
      const want = {
        home: `Why ${first.carrier.name} costs ${total}`,
        renters: `Why ${first.carrier.name} costs ${total}`,
        term_life: `Why ${first.carrier.name} costs ${total} ${perPayment[first.premium.term_months]}`,
        health: first.tax_credit > 0
          ? `Why ${first.plan_name} costs $${money(first.net_premium)} a month after the tax credit`
          : `Why ${first.plan_name} costs ${total} a month`,
      }[line];
      assert.equal(await title.textContent(), want);
      if (line === 'health') {
        // the worksheet goes on to the credit (money, said "minus") and the net
        const rows = await page.locator('#ws-body tr.step').evaluateAll((trs) => trs.slice(-2).map((tr) =>
          [tr.querySelector('th').firstChild.textContent, tr.querySelector('.op .sr-only').textContent, tr.querySelectorAll('td.num')[0].textContent]));
        assert.deepEqual(rows, [['Premium tax credit', 'minus', money(first.tax_credit)], ['Net premium', 'set to', money(first.net_premium)]]);
      }
    });
  }
});

describe('ways to save', () => {
  for (const line of ['home', 'renters']) {
    browserIt(`${line}: the saved quote's tips are shown under each carrier, the deductible one among them`, async (openPage) => {
      const page = await openPage();
      const { quote } = await quoteExample(page, line);
      assert.ok(quote.tips.some((t) => /^Raise the all-peril deductible to [\d,]+$/.test(t.change)), JSON.stringify(quote.tips));
      await page.getByTestId('tips').waitFor();
      assert.equal(await page.locator('[data-testid="tips"] li').count(), quote.tips.length);
      const text = await page.getByTestId('tips').textContent();
      for (const t of quote.tips) {
        assert.ok(text.includes(t.change), `${t.change} shown`);
        assert.ok(text.includes(money(t.saving)), `saving ${t.saving} shown`);
      }
    });
  }
});

describe('Back and Forward', () => {
  for (const line of ['home', 'renters', 'term_life', 'health', 'bundle']) {
    browserIt(`${line}: the heading of the view shown takes the focus, the answers are kept`, async (openPage) => {
      const page = await openPage();
      await goto(page, '/');
      await page.getByTestId(`line-${line}`).check();
      await page.locator(`.line-form[data-line="${line}"]`).waitFor();
      await page.getByTestId('fill-example').click();
      const answers = () => page.locator('#line-fields, #common-fields').evaluateAll((boxes) => boxes.flatMap((box) =>
        [...box.querySelectorAll('input, select')].map((c) => (c.type === 'radio' || c.type === 'checkbox' ? c.checked : c.value))));
      const sent = await answers();
      await page.getByTestId('get-quotes').click();
      await page.waitForURL(QUOTE_PATH);
      await page.locator('#results-title').waitFor();
      const focused = () => page.evaluate(() => document.activeElement && document.activeElement.id);
      assert.equal(await focused(), 'results-title');

      await page.goBack();
      await page.getByTestId('quote-form').waitFor({ state: 'visible' });
      await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'form-title', null, { timeout: 5000 })
        .catch(() => {});
      assert.equal(await focused(), 'form-title', 'Back: focus on "Compare insurance quotes"');
      assert.deepEqual(await answers(), sent, 'the answers as sent');

      await page.goForward();
      await page.getByTestId('quote-form').waitFor({ state: 'hidden' });
      await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'results-title', null, { timeout: 5000 })
        .catch(() => {});
      assert.equal(await focused(), 'results-title', 'Forward: focus on the results\' heading');
    });
  }
});

describe('phone zoomed to 200%', () => {
  /** How far the page is wider than its screen, and the widest elements sticking out. */
  const overflow = (page) => page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const out = [];
    for (const e of document.querySelectorAll('body *')) {
      if (e.closest('svg, .table-scroll, [hidden]')) continue;
      const r = e.getBoundingClientRect();
      if (r.width && r.right > w + 0.5) out.push(`${e.tagName} "${e.textContent.trim().slice(0, 30)}" ends at ${Math.round(r.right)}`);
    }
    return { extra: document.documentElement.scrollWidth - w, out: out.slice(0, 5) };
  });
  for (const line of ['home', 'renters', 'term_life', 'health', 'bundle']) {
    browserIt(`${line} at 180 CSS px: the form and the results fit the screen`, async (openPage) => {
      const page = await openPage({ viewport: { width: 180, height: 640 } });
      await goto(page, '/');
      await page.getByTestId(`line-${line}`).check();
      await page.locator(`.line-form[data-line="${line}"]`).waitFor();
      await page.getByTestId('fill-example').click();
      assert.deepEqual(await overflow(page), { extra: 0, out: [] }, 'the form');
      await page.getByTestId('get-quotes').click();
      await page.waitForURL(QUOTE_PATH);
      await page.locator('#results-title').waitFor();
      await page.getByTestId('chart').waitFor();
      assert.deepEqual(await overflow(page), { extra: 0, out: [] }, 'the results');
    });
  }
});

describe('a quote opened from a link', () => {
  const TITLES = { home: 'Home', renters: 'Renters', term_life: 'Term life', health: 'Health', bundle: 'Auto + home' };
  for (const line of Object.keys(TITLES)) {
    browserIt(`${line}: "Change answers" opens the ${line} form and says its answers are not in this browser`, async (openPage) => {
      const page = await openPage();
      await quoteExample(page, line);
      const id = new URL(page.url()).pathname.match(QUOTE_PATH)[1];

      const other = await openPage(); // another browser: the link was shared
      await goto(other, `/q/${id}`);
      await other.locator('#results-title').waitFor();
      await other.getByTestId('edit-answers').click();
      await other.getByTestId('quote-form').waitFor({ state: 'visible' });
      await other.locator(`.line-form[data-line="${line}"]`).waitFor();
      assert.equal(await other.getByTestId(`line-${line}`).isChecked(), true, `the ${line} line is picked`);
      assert.equal(await other.locator('#submit-status').textContent(),
        `The answers behind quote ${id} are not kept in this browser (it was opened from a link), so the ${TITLES[line]} form is not filled in from them.`);
      assert.equal(await other.evaluate(() => document.activeElement.id), 'form-title');

      // In the tab that asked for it, the answers come back as before, and nothing is said.
      await page.getByTestId('edit-answers').click();
      await page.getByTestId('quote-form').waitFor({ state: 'visible' });
      assert.equal(await page.locator('#submit-status').textContent(), '');
    });
  }
});

describe('term life height', () => {
  browserIt('inches of 13, -1 or 5.5 are an error on the height, and nothing is sent; 5 ft 6 in goes as 66', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    await page.getByTestId('line-term_life').check();
    await page.locator('.line-form[data-line="term_life"]').waitFor();
    await page.getByTestId('fill-example').click();
    const height = page.getByRole('group', { name: 'Height', exact: true });
    const feet = height.getByLabel('feet', { exact: true });
    const inches = height.getByLabel('inches', { exact: true });
    const posts = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/v1/quotes') posts.push(r.postDataJSON());
    });
    const summary = page.getByTestId('form-errors');
    for (const bad of ['13', '-1', '5.5']) {
      await feet.fill('5');
      await inches.fill(bad);
      await page.getByTestId('get-quotes').click();
      await summary.waitFor({ state: 'visible' });
      assert.equal(await summary.locator('li').textContent(),
        `Height — build.height_in: inches must be a whole number from 0 to 11, got ${bad}`);
      assert.equal(await feet.getAttribute('aria-invalid'), 'true');
      assert.equal(await inches.getAttribute('aria-invalid'), 'true');
      assert.equal(await feet.evaluate((el) => el === document.activeElement), true, 'focus on the height\'s first box');
      assert.deepEqual(posts, [], `nothing sent for ${bad} inches`);
    }
    await inches.fill('6');
    assert.equal(await inches.getAttribute('aria-invalid'), null, 'the error goes once the inches are edited');
    await page.getByTestId('get-quotes').click();
    await page.waitForURL(QUOTE_PATH);
    assert.equal(posts.length, 1);
    assert.deepEqual(posts[0].build, { height_in: 66, weight_lb: 150 });
  });
});

describe('reloading the form', () => {
  const EDIT = {
    home: ['dwelling.year_built', '2001'],
    renters: ['unit.floor', '7'],
    term_life: ['build.weight_lb', '163'],
    health: ['household.income', '41250'],
    bundle: ['coverages.dwelling', '310000'],
  };
  for (const [line, [editPath, editValue]] of Object.entries(EDIT)) {
    browserIt(`${line}: the answers typed survive a reload, and are the ones sent; "Start over" drops them`, async (openPage) => {
      const page = await openPage();
      await goto(page, '/');
      await page.getByTestId(`line-${line}`).check();
      await page.locator(`.line-form[data-line="${line}"]`).waitFor();
      await page.getByTestId('fill-example').click();
      const edited = page.locator(`.line-form[data-line="${line}"] [data-path="${editPath}"]`).last();
      await edited.fill('');
      await edited.pressSequentially(editValue);
      await page.locator('[data-path="applicant.first_name"]').fill('Zoë <b>Ñ</b> 😀');
      const answers = () => page.locator('#line-fields, #common-fields').evaluateAll((boxes) => boxes.flatMap((box) =>
        [...box.querySelectorAll('input, select')].map((c) => (c.type === 'radio' || c.type === 'checkbox' ? c.checked : c.value))));
      const before = await answers();

      await page.reload();
      await page.waitForSelector('html.ready');
      await page.locator(`.line-form[data-line="${line}"]`).waitFor();
      assert.equal(await page.getByTestId(`line-${line}`).isChecked(), true);
      assert.deepEqual(await answers(), before, 'every answer as typed');
      assert.equal(await page.locator('#submit-status').textContent(), 'Your answers from before the page was reloaded are filled in.');
      const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/quotes');
      await page.getByTestId('get-quotes').click();
      const res = await answered;
      const sent = res.request().postDataJSON();
      assert.equal(sent.applicant.first_name, 'Zoë <b>Ñ</b> 😀');
      const value = editPath.split('.').reduce((o, k) => o[k], line === 'bundle' ? sent.home : sent);
      assert.equal(value, Number(editValue), `${editPath} as typed`);
      await page.waitForURL(QUOTE_PATH);

      // Start over: a reload then starts from the defaults.
      await page.getByTestId('edit-answers').click();
      await page.getByTestId('reset-form').click();
      await page.reload();
      await page.waitForSelector('html.ready');
      assert.equal(await page.getByTestId('line-auto').isChecked(), true);
      assert.equal(await page.locator('[data-path="applicant.first_name"]').inputValue(), '');
      assert.equal(await page.locator('#submit-status').textContent(), '');
    });
  }
});

describe('requests', () => {
  browserIt('a visit asks only the server, and nothing it lacks (no /favicon.ico)', async (openPage) => {
    const page = await openPage();
    const failed = [];
    const foreign = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && /Failed to load resource/.test(m.text())) failed.push(m.text());
    });
    page.context().on('request', (r) => {
      if (new URL(r.url()).origin !== suite.server().url && !r.url().startsWith('data:')) foreign.push(r.url());
    });
    await goto(page, '/');
    for (const line of ['home', 'renters', 'term_life', 'health', 'bundle']) {
      await page.getByTestId(`line-${line}`).check();
      await page.locator(`.line-form[data-line="${line}"]`).waitFor();
    }
    await page.getByTestId('fill-example').click();
    await page.getByTestId('get-quotes').click();
    await page.waitForURL(QUOTE_PATH);
    await page.getByTestId('bundles').waitFor();
    await page.reload();
    await page.getByTestId('bundles').waitFor();
    await page.waitForTimeout(300);
    assert.deepEqual(failed, [], 'no request failed');
    assert.deepEqual(foreign, [], 'no request left the server');
  });
});

describe('server unreachable', () => {
  for (const line of ['home', 'renters', 'term_life', 'health', 'bundle']) {
    browserIt(`${line}: a form that cannot be fetched is said so, the picker stays on the form shown, and a new pick loads it`, async (openPage) => {
      const page = await openPage();
      await goto(page, '/');
      const url = `**/static/line-${line}.js`;
      await page.route(url, (r) => r.abort('internetdisconnected'));
      // click, not check: the page may uncheck the radio before check() looks.
      await page.getByTestId(`line-${line}`).click();
      const summary = page.getByTestId('form-errors');
      await summary.waitFor({ state: 'visible' });
      const title = { home: 'Home', renters: 'Renters', term_life: 'Term life', health: 'Health', bundle: 'Auto + home' }[line];
      assert.equal(await summary.innerText(), `Could not open the ${title} form\n\nThe ${title} form could not be loaded: `
        + `the quote service could not be reached. Check your connection, then pick ${title} again.`);
      assert.equal(await page.evaluate(() => document.activeElement.getAttribute('data-testid')), 'form-errors');
      assert.equal(await page.getByTestId('line-auto').isChecked(), true, 'the picker names the form shown');
      assert.equal(await page.getByTestId(`line-${line}`).isChecked(), false);
      assert.equal(await page.locator('.line-form').getAttribute('data-line'), 'auto');

      // Back online: picking the line again loads its form.
      await page.unroute(url);
      await page.getByTestId(`line-${line}`).check();
      await page.locator(`.line-form[data-line="${line}"]`).waitFor();
      assert.equal(await summary.isHidden(), true, 'the failure is gone once the form opens');
      await page.getByTestId('fill-example').click();
      await page.getByTestId('get-quotes').click();
      await page.waitForURL(QUOTE_PATH);
      await page.locator('#results-title').waitFor();
    });
  }
});

describe('loading a saved quote fails', () => {
  for (const line of ['home', 'renters', 'term_life', 'health']) {
    browserIt(`${line}: /q/{id} answered 503, then unreachable, then "Try again" shows the quote`, async (openPage) => {
      const page = await openPage();
      const { id, quote } = await quoteExample(page, line);

      // A shopper opening the link later: the server busy, then gone, then back.
      const later = await openPage();
      const answers = [
        (r) => r.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'unavailable', message: 'The quote store is busy; try again in a moment.' } }) }),
        (r) => r.abort('connectionrefused'),
      ];
      await later.route(`**/v1/quotes/${id}`, (r) => (answers.length ? answers.shift()(r) : r.continue()));
      await goto(later, `/q/${id}`);
      const message = later.getByTestId('quote-message');
      await message.waitFor();
      assert.equal(await later.locator('#results-title').textContent(), 'Could not load this quote');
      assert.equal(await message.textContent(), 'The quote store is busy; try again in a moment.');
      await later.getByTestId('retry').click();
      await later.waitForFunction(() => document.querySelector('[data-testid="quote-message"]')?.textContent.startsWith('The quote service could not be reached'));
      assert.equal(await later.evaluate(() => document.activeElement && document.activeElement.id), 'results-title', 'focus on the new message');
      await later.getByTestId('retry').click();
      await later.locator('[data-testid^="total-"]').first().waitFor();
      assert.equal(await later.evaluate(() => document.activeElement && document.activeElement.id), 'results-title');
      const key = (r) => (line === 'health' ? r.plan.id : r.carrier.id);
      const price = (r) => (line === 'health' ? r.net_premium : r.premium.total);
      for (const r of quote.results.filter((x) => x.status === 'quoted')) {
        assert.equal(await later.getByTestId(`total-${key(r)}`).textContent(), money(price(r)), `${key(r)} to the cent`);
      }
    });
  }
});
