// shopper-home-life-health.test.mjs -- the web page as a shopper for home,
// renters, term life and health meets it, in Debian's headless Chromium
// (playwright-core) against the real `multiquote serve` binary, every figure
// shown checked against `multiquote quote --json` for the request the page sent:
//   - a quote link that is not saved says so, and nothing else (no stray "null");
//   - the state list puts first the states where the line picked has carriers
//     (health: Ohio and Utah, not Pennsylvania or Texas), and keeps the choice
//     when the line changes; a Utah shopper gets the Utah plans;
//   - a health start date past the plan year says what to do (a date on or
//     before the rates' last day), and a shopper who does so gets the plans;
//   - health around the subsidy cliff (100%, 138%, 400% of the poverty
//     guideline and a dollar over; a family of four at 138%): the tax credit a
//     month is said in dollars above the plans, and every plan's premium,
//     credit and net are the engine's;
//   - term life, a 35-year-old smoker and an 18-year-old: what a year of
//     payments comes to beside the premium per payment, to the cent; a carrier
//     that does not quote says why in its own words;
//   - limits read as amounts: a dwelling of $287,450 (not "$287450"), a
//     $2,000,000 death benefit as "$2M" (not "$2000k");
//   - a date typed as digits only, as on a phone's number pad without a dash
//     ("19910610"), gets its dashes as it is typed ("1991-06-10");
//   - a health plan's card says who each member premium is for ("m2" and
//     "spouse, born 1988-08-08" under it), not the id alone;
//   - a state where no carrier quotes the line picked (health in
//     Pennsylvania) is said under the state before the shopper asks;
//   - when no carrier quotes, the page says where the reasons are and how to
//     try other answers; while answers still arrive, it does not say that
//     none quoted;
//   - Back with "Why this price?" open closes it, on the results, the focus
//     back on its button; closed by its button or Escape, Back then goes
//     where it went before (the form);
//   - a date written month first, as Americans do ("6/10/1991"), becomes
//     YYYY-MM-DD when the field is left, or as Enter sends the form;
//   - a catastrophic plan, which takes no tax credit, is named as the
//     exception where the credit is said to come off every plan.
//
// Run: MQ_BIN=$PWD/build/multiquote node --test --test-reporter=tap tests/js/shopper-home-life-health.test.mjs
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, PLANS, makeTemp, startServer } from './lib/server.mjs';
import { browserSuite, QUOTE_PATH } from './lib/browser.mjs';

const money = (x) => Number(x).toFixed(2);

const suite = browserSuite();
const { browserIt, goto } = suite;

async function pickLine(page, line) {
  await page.getByTestId(`line-${line}`).check();
  await page.locator(`.line-form[data-line="${line}"]`).waitFor();
}

/** The engine's answer to `request`, from the command line (the page must show exactly these figures). */
function engineQuote(request, plans = PLANS) {
  const out = execFileSync(BIN, ['quote', '--json', '--plans', plans, '-'], { input: JSON.stringify(request) });
  return JSON.parse(out.toString());
}

/**
 * Clicks "Get quotes" and waits for the saved quote's page; returns the
 * request the page sent.
 */
async function getQuotes(page) {
  const sent = page.waitForRequest((r) => r.url().endsWith('/v1/quotes') && r.method() === 'POST');
  await page.getByTestId('get-quotes').click();
  const request = JSON.parse((await sent).postData());
  await page.waitForURL(QUOTE_PATH);
  await page.getByTestId('results-count').waitFor();
  return request;
}

const field = (page, path) => page.locator(`[data-path="${path}"]`);

/** Answers a yes/no question (a radio group) at `path`. */
async function answer(page, path, yes) {
  await page.locator(`[data-path="${path}"] input[value="${yes ? 'yes' : 'no'}"]`).check();
}

/** The health form for one adult (or a family), in county `county` of `state`, typed as a shopper would. */
async function fillHealth(page, { state = 'OH', zip = '43215', county = '39049', eff, size, income, members, metals = [] }) {
  await pickLine(page, 'health');
  await field(page, 'effective_date').fill(eff);
  await field(page, 'applicant.address.state').selectOption(state);
  await field(page, 'applicant.address.zip').fill(zip);
  await field(page, 'applicant.address.county_fips').fill(county);
  await field(page, 'household.size').fill(String(size));
  await field(page, 'household.income').fill(String(income));
  for (let i = 0; i < members.length; i += 1) {
    const [relationship, dob] = members[i];
    if (i > 0) {
      await page.getByTestId('add-member').click();
      await field(page, `members[${i}].relationship`).selectOption(relationship);
    }
    await field(page, `members[${i}].date_of_birth`).fill(dob);
    await answer(page, `members[${i}].tobacco`, false);
  }
  for (const m of metals) await page.getByTestId(`metal-${m}`).check();
}

/** Checks every health plan the page shows against the engine's answer: premium, credit and net a month. */
async function assertHealthShown(page, engine) {
  const quoted = engine.results.filter((r) => r.status === 'quoted');
  assert.ok(quoted.length > 0, 'the engine quotes some plans');
  const cards = await page.getByTestId('quoted-list').locator('article').evaluateAll((as) => as.map((a) => a.getAttribute('data-testid')));
  assert.deepEqual(cards, quoted.map((r) => `result-${r.plan.id}`), 'one card per plan, in the engine\'s order (net, then gross)');
  for (const r of quoted) {
    const k = r.plan.id;
    assert.equal(await page.getByTestId(`total-${k}`).textContent(), money(r.net_premium), `${k} headline`);
    assert.equal(await page.getByTestId(`gross-${k}`).textContent(), `$${money(r.gross_premium)}`, `${k} premium`);
    assert.equal(await page.getByTestId(`credit-${k}`).textContent(),
      r.tax_credit > 0 ? `−$${money(r.tax_credit)}` : '$0.00', `${k} credit`);
    assert.equal(await page.getByTestId(`net-${k}`).textContent(), `$${money(r.net_premium)}`, `${k} net`);
    assert.equal(await page.getByTestId(`compare-total-${k}`).textContent(), money(r.net_premium), `${k} compared`);
  }
}

describe('a quote link that is not saved', () => {
  browserIt('says so, with a way to start a new quote, and no stray "null"', async (openPage) => {
    const page = await openPage({ viewport: { width: 375, height: 667 } });
    const id = 'q_01M8R39NSJ0S6H7BXQMCA9T6BYP3M6MN3VAX';
    await goto(page, `/q/${id}`);
    await page.getByTestId('quote-message').waitFor();
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Quote not found');
    const parts = await page.locator('#results').evaluate((el) => [...el.childNodes].map((n) => `${n.nodeName}:${n.textContent}`));
    assert.deepEqual(parts, [
      'H1:Quote not found',
      `P:There is no saved quote with the id "${id}". Check the link, or start a new quote.`,
      'P:Start a new quote',
    ]);
  });
});

describe('the home and renters amounts', () => {
  // Every amount a bundled carrier writes can be asked for: 1,000,000 of
  // liability (Hearthstone, Summit), 10,000 of medical payments (Summit), a
  // 250 deductible (renters: Hearthstone, Keystone, Summit), 2,000 and
  // 10,000 (home: Summit, Keystone TX) were missing.
  const WANT = {
    home: { liability: ['100000', '300000', '500000', '1000000'], med_pay: ['', '1000', '2000', '5000', '10000'],
      deductible: ['250', '500', '1000', '2000', '2500', '5000', '10000'] },
    renters: { liability: ['100000', '300000', '500000', '1000000'], med_pay: ['', '1000', '2000', '5000', '10000'],
      deductible: ['250', '500', '1000', '2500'] },
  };

  browserIt('offers each line the liability, medical payments and deductible amounts its carriers write', async (openPage) => {
    const page = await openPage({ viewport: { width: 375, height: 667 } });
    await goto(page, '/');
    for (const line of ['home', 'renters']) {
      await pickLine(page, line);
      for (const [cov, values] of Object.entries(WANT[line])) {
        const got = await field(page, `coverages.${cov}`).evaluate((el) => [...el.options].map((o) => o.value));
        assert.deepEqual(got, values, `${line} ${cov}`);
      }
    }
  });
});

describe('the term life face amounts', () => {
  browserIt('run from 100,000 to 10,000,000, the carriers\' range, with the amounts agents quote most', async (openPage) => {
    const page = await openPage({ viewport: { width: 375, height: 667 } });
    await goto(page, '/');
    await pickLine(page, 'term_life');
    const got = await field(page, 'face_amount').evaluate((el) => [...el.options].map((o) => Number(o.value)));
    assert.deepEqual(got, [100000, 150000, 200000, 250000, 300000, 400000, 500000, 750000, 1000000, 1500000,
      2000000, 3000000, 5000000, 10000000]);
  });
});

describe('the state list', () => {
  const QUOTED = {
    home: ['OH', 'PA', 'TX'],
    renters: ['OH', 'PA', 'TX'],
    term_life: ['OH', 'PA', 'TX'],
    health: ['OH', 'UT'],
  };

  browserIt('puts first the states where the line picked has carriers, and keeps the choice', async (openPage) => {
    // What the plans on file say (the literal lists above must agree with them).
    const carriers = (await (await fetch(`${suite.server().url}/v1/carriers`)).json()).carriers;
    const page = await openPage({ viewport: { width: 375, height: 667 } });
    await goto(page, '/');
    const state = field(page, 'applicant.address.state');
    const groups = () => state.evaluate((el) => [...el.querySelectorAll('optgroup')]
      .map((g) => [g.label, [...g.querySelectorAll('option')].map((o) => o.value)]));
    for (const line of ['home', 'renters', 'term_life', 'health']) {
      const onFile = [...new Set(carriers.flatMap((c) => c.plans).filter((p) => p.line === line).flatMap((p) => p.states))].sort();
      assert.deepEqual(onFile, QUOTED[line], `${line}: the states of the plans on file`);
      await pickLine(page, line);
      await page.waitForFunction((want) => {
        const g = document.querySelector('[data-path="applicant.address.state"] optgroup');
        return g && [...g.querySelectorAll('option')].map((o) => o.value).join() === want;
      }, QUOTED[line].join());
      const [first, others] = await groups();
      assert.deepEqual(first, ['Carriers quote here today', QUOTED[line]], line);
      assert.equal(others[0], 'Other states');
      assert.equal(others[1].length, 51 - QUOTED[line].length, `${line}: every other state (and DC) once`);
      assert.ok(!others[1].some((c) => QUOTED[line].includes(c)), line);
    }
    // A Texan looking at home insurance, then at health: still Texas.
    await pickLine(page, 'home');
    await state.selectOption('TX');
    await pickLine(page, 'health');
    assert.equal(await state.inputValue(), 'TX');
    assert.equal((await groups())[0][1].join(), 'OH,UT');
  });

  browserIt('a Utah shopper finds Utah first and gets the Utah plans, each to the cent', async (openPage) => {
    const page = await openPage({ viewport: { width: 375, height: 667 } });
    await goto(page, '/');
    await fillHealth(page, {
      state: 'UT', zip: '84101', county: '49035', eff: '2026-12-15', size: 1, income: 40000, members: [['self', '1980-02-02']],
    });
    const request = await getQuotes(page);
    assert.equal(request.applicant.address.state, 'UT');
    const engine = engineQuote(request);
    assert.deepEqual(engine.results.filter((r) => r.status === 'quoted').map((r) => r.carrier.id).sort(),
      ['beehivehealth', 'beehivehealth', 'beehivehealth', 'wasatchhealth', 'wasatchhealth', 'wasatchhealth']);
    await assertHealthShown(page, engine);
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 375);
  });
});

describe('health start date', () => {
  browserIt('past the plan year, the note says which dates can be quoted; a shopper who picks one gets the plans', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    await pickLine(page, 'health');
    const eff = field(page, 'effective_date');
    const note = page.getByTestId('eff-rates-note');
    await eff.fill('2027-01-01');
    await note.waitFor({ state: 'visible' });
    assert.equal(await note.textContent(), 'The rates on file for this line in Ohio end on 2026-12-31, so for a policy '
      + 'starting 2027-01-01 every carrier would answer "Not available". To compare the plans on file, choose a start '
      + 'date on or before 2026-12-31; for a later start, come back once newer rates are published.');
    // The shopper does as told: the last day of the plan year.
    await fillHealth(page, { eff: '2026-12-31', size: 1, income: 30000, members: [['self', '1985-07-01']] });
    assert.equal(await note.isHidden(), true);
    const request = await getQuotes(page);
    assert.equal(request.effective_date, '2026-12-31');
    await assertHealthShown(page, engineQuote(request));
  });
});

describe('health around the subsidy cliff', () => {
  // 2025 guideline (coverage in 2026): 15,650 for one, plus 5,500 a person.
  const CASES = [
    { name: 'single 60-year-old at 100%', size: 1, income: 15650, members: [['self', '1966-05-05']], credit: '1065.67' },
    { name: 'single 60-year-old at 138%', size: 1, income: 21597, members: [['self', '1966-05-05']], credit: '1030.99' },
    { name: 'single 60-year-old at 400%', size: 1, income: 62600, members: [['self', '1966-05-05']], credit: '573.48' },
    { name: 'single 60-year-old a dollar over 400%', size: 1, income: 62601, members: [['self', '1966-05-05']], credit: null },
    {
      name: 'family of four at 138%',
      size: 4,
      income: 44367,
      members: [['self', '1987-03-02'], ['spouse', '1988-08-08'], ['child', '2015-01-01'], ['child', '2018-02-02']],
      credit: '1498.79',
    },
    {
      // Both bronze plans cost less than the credit: it is said as "at least" the dearer one.
      name: 'family of four at 138%, bronze plans only',
      size: 4,
      income: 44367,
      members: [['self', '1987-03-02'], ['spouse', '1988-08-08'], ['child', '2015-01-01'], ['child', '2018-02-02']],
      metals: ['bronze'],
      credit: '1498.79',
      amount: 'At least $1285.71 a month: it pays the whole premium of every plan below.',
    },
  ];
  for (const c of CASES) {
    browserIt(`${c.name}: the credit a month in dollars, and every plan's premium, credit and net`, async (openPage) => {
      const page = await openPage({ viewport: { width: 375, height: 667 } });
      await goto(page, '/');
      await fillHealth(page, { eff: '2026-12-15', size: c.size, income: c.income, members: c.members, metals: c.metals });
      const request = await getQuotes(page);
      const engine = engineQuote(request);
      await assertHealthShown(page, engine);
      const first = engine.results.find((r) => r.status === 'quoted');
      // The credit: the benchmark plan's own (never more than its premium, so never capped),
      // from the same household asked without the metal filter.
      const all = c.metals ? engineQuote({ ...request, filters: undefined }) : engine;
      const bench = all.results.find((r) => r.plan && r.plan.id === first.benchmark.plan.id);
      const banner = page.getByTestId('credit-note');
      const note = `${first.credit_note.charAt(0).toUpperCase()}${first.credit_note.slice(1)}.`;
      if (c.credit === null) {
        assert.equal(bench.tax_credit, 0);
        assert.equal(await page.getByTestId('credit-amount').count(), 0);
        assert.equal(note, 'No premium tax credit: income is above 400% of the poverty guideline.');
      } else {
        assert.equal(money(bench.tax_credit), c.credit, 'the engine\'s credit');
        assert.equal(await page.getByTestId('credit-amount').textContent(),
          c.amount || `$${c.credit} a month, taken off each plan's premium below (a plan costing less than that is free).`);
      }
      assert.deepEqual(await banner.locator('p').allTextContents(),
        c.credit === null ? [note] : [await page.getByTestId('credit-amount').textContent(), note]);
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 375, 'nothing wider than the phone');
    });
  }
});

describe('term life', () => {
  /** The term life form for a man born `dob`, 5 ft 10 in, 180 lb, no health conditions. */
  async function fillLife(page, { dob, tobacco, mode = 'monthly', face = '500000' }) {
    await pickLine(page, 'term_life');
    await field(page, 'effective_date').fill('2027-01-01');
    await field(page, 'applicant.address.zip').fill('43215');
    await field(page, 'applicant.date_of_birth').fill(dob);
    await field(page, 'applicant.gender').selectOption('male');
    await field(page, 'face_amount').selectOption(face);
    await field(page, 'payment_mode').selectOption(mode);
    await answer(page, 'tobacco', tobacco);
    await page.getByLabel('feet').fill('5');
    await page.getByLabel('inches').fill('10');
    await field(page, 'build.weight_lb').fill('180');
    for (const q of ['blood_pressure_treated', 'cholesterol_treated', 'diabetes', 'family_heart_disease_before_60']) {
      await answer(page, `health.${q}`, false);
    }
  }

  const CASES = [
    { name: 'a 35-year-old smoker paying monthly', dob: '1991-06-10', tobacco: true, mode: 'monthly', payments: 12, first: ['heartland', '80.33', '963.96'] },
    { name: 'a 35-year-old smoker paying quarterly', dob: '1991-06-10', tobacco: true, mode: 'quarterly', payments: 4 },
    { name: 'an 18-year-old paying monthly', dob: '2008-06-01', tobacco: false, mode: 'monthly', payments: 12 },
  ];
  for (const c of CASES) {
    browserIt(`${c.name}: the premium per payment and what a year of them comes to, to the cent`, async (openPage) => {
      const page = await openPage({ viewport: { width: 375, height: 667 } });
      await goto(page, '/');
      await fillLife(page, c);
      const request = await getQuotes(page);
      const engine = engineQuote(request);
      const quoted = engine.results.filter((r) => r.status === 'quoted');
      assert.ok(quoted.length > 0);
      if (c.first) {
        const [id, total, year] = c.first;
        assert.deepEqual([quoted[0].carrier.id, money(quoted[0].premium.total)], [id, total], 'the cheapest, as the manual says');
        assert.equal(money(quoted[0].premium.total * 12), year);
      }
      for (const r of quoted) {
        const id = r.carrier.id;
        const p = r.premium;
        assert.equal(p.term_months, 12 / c.payments, id);
        const year = money((Math.round(p.total * 100) * c.payments) / 100);
        assert.equal(await page.getByTestId(`total-${id}`).textContent(), money(p.total), `${id} per payment`);
        const lines = await page.getByTestId(`result-${id}`).locator('.price .monthly').allTextContents();
        const month = c.payments === 12 ? [] : [`About $${money(p.monthly)} a month`];
        assert.deepEqual(lines, [...month, `$${year} a year (${c.payments} payments)`], id);
        assert.equal(await page.getByTestId(`compare-year-${id}`).textContent(), year, `${id} compared`);
        assert.equal(await page.getByTestId(`class-${id}`).textContent(),
          { preferred_plus: 'Preferred plus', preferred: 'Preferred', standard_plus: 'Standard plus', standard: 'Standard',
            tobacco_preferred: 'Tobacco preferred', tobacco_standard: 'Tobacco standard' }[r.health_class], `${id} class`);
      }
      // A carrier that does not quote says why, in its own words.
      for (const r of engine.results.filter((x) => x.status !== 'quoted')) {
        const card = page.getByTestId(`result-${r.carrier.id}`);
        assert.equal(await card.locator('.status').textContent(), { declined: 'Declined', unavailable: 'Not available' }[r.status]);
        assert.deepEqual(await card.locator('.reasons li').allTextContents(), r.reasons);
      }
      if (c.dob === '2008-06-01') assert.ok(engine.results.some((r) => r.status !== 'quoted'), 'some carrier does not take an 18-year-old');
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 375);
    });
  }
});

describe('limits read as amounts', () => {
  browserIt('home: a dwelling of $287,450 with separators; term life: a $2,000,000 death benefit as $2M', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    await pickLine(page, 'home');
    await page.getByTestId('fill-example').click();
    await field(page, 'coverages.dwelling').fill('287450');
    const request = await getQuotes(page);
    assert.equal(request.coverages.dwelling, 287450);
    const engine = engineQuote(request);
    for (const r of engine.results.filter((x) => x.status === 'quoted')) {
      const property = r.coverages.find((cv) => cv.code === 'property');
      assert.deepEqual(property.limits, { dwelling: 287450, deductible: 1000 }, r.carrier.id);
      const row = page.getByTestId(`result-${r.carrier.id}`).locator('table.breakdown tbody tr').first();
      assert.equal(await row.locator('.limits').textContent(), 'dwelling $287,450, $1k deductible', r.carrier.id);
      assert.equal(await row.locator('td.num').textContent(), money(property.premium), r.carrier.id);
      assert.equal(await page.getByTestId(`total-${r.carrier.id}`).textContent(), money(r.premium.total), r.carrier.id);
    }

    await goto(page, '/');
    await pickLine(page, 'term_life');
    await page.getByTestId('fill-example').click();
    await field(page, 'face_amount').selectOption('2000000');
    const life = engineQuote(await getQuotes(page));
    const r = life.results.find((x) => x.status === 'quoted');
    assert.deepEqual(r.coverages[0].limits, { face_amount: 2000000, term_years: 20 });
    const row = page.getByTestId(`result-${r.carrier.id}`).locator('table.breakdown tbody tr').first();
    assert.equal(await row.locator('.limits').textContent(), 'face amount $2M, 20-year term');
  });
});

describe('dates typed on a phone\'s number pad', () => {
  browserIt('digits only ("19910610") get their dashes as they are typed, and the quote is the engine\'s', async (openPage) => {
    const page = await openPage({ viewport: { width: 375, height: 667 }, hasTouch: true, isMobile: true });
    await goto(page, '/');
    await pickLine(page, 'health');
    await page.getByTestId('fill-example').click();
    /** Types `digits` key by key into the date field at `path`, as on a number pad without a dash. */
    const typeDigits = async (path, digits) => {
      const el = field(page, path);
      await el.fill('');
      await el.click();
      await page.keyboard.type(digits);
      return el.inputValue();
    };
    assert.equal(await typeDigits('effective_date', '20261215'), '2026-12-15');
    assert.equal(await typeDigits('members[0].date_of_birth', '19660505'), '1966-05-05');
    await page.getByTestId('add-member').click();
    assert.equal(await typeDigits('members[1].date_of_birth', '2015'), '2015', 'no dash before the month is begun');
    assert.equal(await typeDigits('members[1].date_of_birth', '201501'), '2015-01');
    assert.equal(await typeDigits('members[1].date_of_birth', '20150101'), '2015-01-01');
    await field(page, 'members[1].relationship').selectOption('child');
    await answer(page, 'members[1].tobacco', false);
    await field(page, 'household.size').fill('2');
    // Dashes the shopper types stay where they are typed.
    const eff = field(page, 'effective_date');
    await eff.fill('');
    await eff.click();
    await page.keyboard.type('2026-12-15');
    assert.equal(await eff.inputValue(), '2026-12-15');
    const request = await getQuotes(page);
    assert.equal(request.effective_date, '2026-12-15');
    assert.deepEqual(request.members.map((m) => m.date_of_birth), ['1966-05-05', '2015-01-01']);
    await assertHealthShown(page, engineQuote(request));

    // Term life: the date of birth, and a claim's date on the home form.
    await goto(page, '/');
    await pickLine(page, 'term_life');
    await page.getByTestId('fill-example').click();
    assert.equal(await typeDigits('applicant.date_of_birth', '19910610'), '1991-06-10');
    await pickLine(page, 'home');
    await page.getByTestId('fill-example').click();
    assert.equal(await typeDigits('claims[0].date', '20230814'), '2023-08-14');
  });
});

describe('who each premium is for', () => {
  browserIt('a health plan\'s card names each member under its id, as the comparison does', async (openPage) => {
    const page = await openPage({ viewport: { width: 375, height: 667 } });
    await goto(page, '/');
    await fillHealth(page, {
      eff: '2026-12-15',
      size: 4,
      income: 44367,
      members: [['self', '1987-03-02'], ['spouse', '1988-08-08'], ['child', '2015-01-01'], ['child', '2018-02-02']],
    });
    const engine = engineQuote(await getQuotes(page));
    const who = ['you, born 1987-03-02', 'spouse, born 1988-08-08', 'child, born 2015-01-01', 'child, born 2018-02-02'];
    for (const r of engine.results.filter((x) => x.status === 'quoted')) {
      const rows = page.getByTestId(`result-${r.plan.id}`).locator('table.breakdown tbody tr');
      const cells = await rows.evaluateAll((trs) => trs.map((tr) => {
        const unit = tr.querySelector('td.unit');
        const desc = unit.querySelector('.unit-desc');
        return [unit.firstChild.textContent, desc ? desc.textContent : null, tr.querySelector('td.num').textContent];
      }));
      assert.deepEqual(cells, r.coverages.map((cv, i) => [cv.member, who[i], money(cv.premium)]), r.plan.id);
    }
    // the comparison's rows say the same
    const rowNames = await page.getByTestId('comparison').locator('tbody tr[data-testid^="compare-unit-"] th').allTextContents();
    assert.deepEqual(rowNames, who.map((w, i) => `Member m${i + 1} (${w})`));
  });
});

describe('a state where no carrier quotes the line', () => {
  browserIt('is said under the state before asking, and the carriers then answer as said', async (openPage) => {
    const page = await openPage({ viewport: { width: 375, height: 667 } });
    await goto(page, '/');
    const state = field(page, 'applicant.address.state');
    const note = page.getByTestId('state-rates-note');
    await pickLine(page, 'health');
    await state.selectOption('PA');
    await note.waitFor({ state: 'visible' });
    const said = 'No carrier on file quotes health insurance in Pennsylvania: every one would answer "Not available". '
      + 'The states listed first are those where carriers quote it.';
    assert.equal(await note.textContent(), said);
    const described = await state.evaluate((el) => el.getAttribute('aria-describedby').split(' ')
      .map((id) => document.getElementById(id).textContent).join(' '));
    assert.equal(described, said, 'a screen reader hears it with the state');
    // Home insurance is quoted in Pennsylvania; Utah has health plans.
    await pickLine(page, 'home');
    assert.equal(await note.isHidden(), true);
    await pickLine(page, 'health');
    assert.equal(await note.isHidden(), false);
    await state.selectOption('UT');
    assert.equal(await note.isHidden(), true);
    assert.equal(await note.textContent(), '');
    // What it foretells is what the engine answers.
    await state.selectOption('PA');
    await fillHealth(page, { state: 'PA', zip: '15222', county: '42003', eff: '2026-12-15', size: 1, income: 30000, members: [['self', '1985-07-01']] });
    const request = await getQuotes(page);
    const engine = engineQuote(request);
    assert.ok(engine.results.length > 0);
    for (const r of engine.results) {
      assert.equal(r.status, 'unavailable', JSON.stringify(r));
      assert.deepEqual(await page.getByTestId(`result-${r.carrier.id}`).locator('.reasons li').allTextContents(), r.reasons);
    }
    assert.equal(await page.getByTestId('no-quotes').textContent(), 'No issuer quoted this request: the reason each gave '
      + 'is below. To try other answers (another start date or address), choose "Change answers".');
  });
});

describe('when no carrier quotes', () => {
  browserIt('while the answers arrive, the first ones all "Not available", the page waits for the others', async (openPage) => {
    const page = await openPage({ viewport: { width: 375, height: 667 } });
    // The quote's stream, its results that did not quote first, one event every 400 ms.
    await page.addInitScript((delay) => {
      const real = window.fetch;
      window.fetch = async (url, init) => {
        const res = await real(url, init);
        if (String(url) !== '/v1/quotes' || !(res.headers.get('Content-Type') || '').startsWith('text/event-stream')) return res;
        const blocks = (await res.text()).split('\n\n').filter(Boolean).map((b) => `${b}\n\n`);
        const notQuoted = (b) => b.startsWith('event: result') && !b.includes('"status":"quoted"');
        const ordered = [...blocks.filter(notQuoted), ...blocks.filter((b) => !notQuoted(b))];
        const body = new ReadableStream({
          async start(c) {
            for (const b of ordered) {
              await new Promise((r) => setTimeout(r, delay));
              c.enqueue(new TextEncoder().encode(b));
            }
            c.close();
          },
        });
        return new Response(body, { status: res.status, headers: { 'Content-Type': 'text/event-stream' } });
      };
    }, 400);
    await goto(page, '/');
    await fillHealth(page, { eff: '2026-12-15', size: 1, income: 30000, members: [['self', '1985-07-01']] });
    const sent = page.waitForRequest((r) => r.url().endsWith('/v1/quotes') && r.method() === 'POST');
    await page.getByTestId('get-quotes').click();
    const engine = engineQuote(JSON.parse((await sent).postData()));
    assert.ok(engine.results.some((r) => r.status !== 'quoted') && engine.results.some((r) => r.status === 'quoted'));
    const empty = page.getByTestId('no-quotes');
    await empty.waitFor();
    assert.equal(await empty.textContent(), 'None of the issuers that have answered so far quoted; waiting for the others…');
    assert.match(await page.getByTestId('results-arriving').textContent(), /^\d+ carriers? (has|have) answered; waiting for the others…$/);
    await page.waitForURL(QUOTE_PATH);
    await page.getByTestId('quoted-list').waitFor();
    assert.equal(await empty.count(), 0);
    await assertHealthShown(page, engine);
  });
});

describe('"Why this price?" and Back', () => {
  browserIt('Back closes the worksheet and stays on the results; once it is closed, Back goes to the form', async (openPage) => {
    const page = await openPage({ viewport: { width: 375, height: 667 } });
    await goto(page, '/');
    await pickLine(page, 'renters');
    await page.getByTestId('fill-example').click();
    const engine = engineQuote(await getQuotes(page));
    const [first, second] = engine.results.filter((r) => r.status === 'quoted').map((r) => r.carrier.id);
    const quoteUrl = page.url();
    const dialog = page.getByTestId('worksheet');
    const focused = () => page.evaluate(() => document.activeElement.getAttribute('data-testid'));
    const isOpen = () => dialog.evaluate((d) => d.open);

    await page.getByTestId(`why-${first}`).click();
    await dialog.locator('table').waitFor();
    await page.goBack();
    await page.waitForFunction(() => !document.getElementById('worksheet').open);
    assert.equal(page.url(), quoteUrl, 'still the quote');
    assert.equal(await page.getByTestId('results').isVisible(), true);
    assert.equal(await page.locator('#form-view').isVisible(), false);
    assert.equal(await focused(), `why-${first}`, 'the focus back on the button that opened it');
    assert.equal(await page.getByTestId(`total-${first}`).textContent(), money(engine.results[0].premium.total));

    // Closed by its button, then by Escape: no entry is left behind.
    await page.getByTestId(`why-${second}`).click();
    await dialog.locator('table').waitFor();
    await page.getByTestId('worksheet-close').click();
    assert.equal(await isOpen(), false);
    await page.getByTestId(`why-${second}`).click();
    await dialog.locator('table').waitFor();
    await page.keyboard.press('Escape');
    assert.equal(await isOpen(), false);
    assert.equal(await focused(), `why-${second}`);
    await page.goBack();
    await page.locator('#form-view').waitFor({ state: 'visible' });
    assert.equal(new URL(page.url()).pathname, '/');
    assert.equal(await isOpen(), false);
    assert.equal(await field(page, 'coverages.personal_property').inputValue(), '30000', 'the answers as sent');
    await page.goForward();
    await page.getByTestId('results').waitFor({ state: 'visible' });
    assert.equal(page.url(), quoteUrl);
    assert.equal(await isOpen(), false);
  });
});

describe('dates written month first', () => {
  browserIt('"6/10/1991" becomes 1991-06-10 when the field is left or Enter is pressed; "13/10/1991" is left for the server', async (openPage) => {
    const page = await openPage();
    await goto(page, '/');
    await pickLine(page, 'term_life');
    await page.getByTestId('fill-example').click();
    const dob = field(page, 'applicant.date_of_birth');
    const typeDate = async (text) => {
      await dob.fill('');
      await dob.click();
      await page.keyboard.type(text);
    };
    await typeDate('6/10/1991');
    await page.keyboard.press('Tab');
    assert.equal(await dob.inputValue(), '1991-06-10');
    await typeDate('07/04/1976');
    await page.keyboard.press('Tab');
    assert.equal(await dob.inputValue(), '1976-07-04');
    // No month 13: left as typed, and the server says where and what.
    await typeDate('13/10/1991');
    await page.keyboard.press('Tab');
    assert.equal(await dob.inputValue(), '13/10/1991');
    await page.getByTestId('get-quotes').click();
    const summary = page.getByTestId('form-errors');
    await summary.waitFor({ state: 'visible' });
    assert.equal(await summary.locator('li').allTextContents().then((l) => l.length), 1);
    assert.match(await summary.locator('li').first().textContent(), /^Date of birth — applicant\.date_of_birth: not a valid date "13\/10\/1991"/);
    assert.equal(await dob.getAttribute('aria-invalid'), 'true');
    // Typed month first and sent with Enter, from the field itself.
    await typeDate('6/10/1991');
    const sent = page.waitForRequest((r) => r.url().endsWith('/v1/quotes') && r.method() === 'POST');
    await page.keyboard.press('Enter');
    const request = JSON.parse((await sent).postData());
    assert.equal(request.applicant.date_of_birth, '1991-06-10');
    await page.waitForURL(QUOTE_PATH);
    const engine = engineQuote(request);
    for (const r of engine.results.filter((x) => x.status === 'quoted')) {
      assert.equal(await page.getByTestId(`total-${r.carrier.id}`).textContent(), money(r.premium.total), r.carrier.id);
    }
  });
});

describe('a plan that takes no tax credit', () => {
  browserIt('a catastrophic plan is named as the exception to the credit taken off every plan', async (openPage) => {
    // The bundled plans and a catastrophic plan of Cardinal Care's bronze rates (as aca.test.mjs makes it).
    const plans = path.join(makeTemp('mq-js-cat-'), 'plans');
    cpSync(PLANS, plans, { recursive: true });
    const cat = path.join(plans, 'cardinalcare', 'catastrophic');
    cpSync(path.join(plans, 'cardinalcare', 'oh-health-bronze-hsa-2026'), cat, { recursive: true });
    writeFileSync(path.join(cat, 'plan.yaml'), readFileSync(path.join(cat, 'plan.yaml'), 'utf8')
      .replace('id: cardinal-bronze-hsa', 'id: cardinal-catastrophic')
      .replace('name: Cardinal Bronze HSA', 'name: Cardinal Catastrophic')
      .replace('metal: bronze', 'metal: catastrophic'));
    const server = await startServer({ plans });
    try {
      const page = await openPage({ viewport: { width: 375, height: 667 } });
      await page.goto(server.url);
      await page.waitForSelector('html.ready');
      await fillHealth(page, { eff: '2026-12-15', size: 1, income: 30000, members: [['self', '1985-07-01']] });
      const request = await getQuotes(page);
      const engine = engineQuote(request, plans);
      const c = engine.results.find((r) => r.plan && r.plan.id === 'cardinal-catastrophic');
      assert.deepEqual([c.status, c.plan_name, c.tax_credit], ['quoted', 'Cardinal Catastrophic', 0]);
      const bench = engine.results.find((r) => r.plan && r.plan.id === c.benchmark.plan.id);
      assert.ok(bench.tax_credit > 0);
      assert.equal(await page.getByTestId('credit-amount').textContent(), `$${money(bench.tax_credit)} a month, taken off `
        + 'each plan\'s premium below except Cardinal Catastrophic, which cannot take it (a plan costing less than that is free).');
      assert.deepEqual((await page.getByTestId('credit-note').locator('p').allTextContents()).slice(1).sort(), [
        `${bench.credit_note.charAt(0).toUpperCase()}${bench.credit_note.slice(1)}.`,
        'No premium tax credit: it cannot be used for a catastrophic plan.',
      ].sort());
      await assertHealthShown(page, engine);
    } finally {
      await server.stop();
    }
  });
});
