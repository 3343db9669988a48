// shopper-auto.test.mjs -- the auto form as an agent quoting households in
// each state the bundled auto plans cover, in Debian's headless Chromium
// (playwright-core) against the real `multiquote serve` binary:
//   - uninsured motorist offers the limits the applicant's state allows,
//     from its minimum (bodily injury's): Pennsylvania's 15/30 can be chosen
//     (with bodily injury at 15/30 it was impossible: 25/50 was the lowest,
//     and uninsured motorist may not exceed bodily injury), Texas does not
//     offer 25/50 (no Texas carrier writes it: every one was unavailable);
//   - "None" stays "None" when the state changes, and a limit the new state
//     does not allow becomes its minimum, never "None";
//   - a Pennsylvania household at the minimums 15/30 with uninsured motorist
//     15/30 is quoted (Keystone 399.00 to the cent, worked below);
//   - removing a driver who is a vehicle's principal driver says that the
//     vehicle now has the first driver (its price follows that driver): the
//     change was silent;
//   - medical payments offers the limits the state's carriers write:
//     Pennsylvania's first-party medical benefits 5k (its required minimum,
//     75 Pa.C.S. 1711), 10k and 25k, without "None"; Texas 1k, 2.5k, 5k and
//     10k; Ohio 1k, 2k, 5k and 10k (the form offered None/1k/2k/5k/10k
//     everywhere: Pennsylvania's 1k and 2k no carrier writes, "None" quoted a
//     policy Pennsylvania law does not allow, and 25k and 2.5k were missing);
//     the API refuses a Pennsylvania request without it at coverages.med;
//   - property damage offers Pennsylvania's 10k (its carriers write it; the
//     form went from the 5k minimum to 25k), and uninsured motorist says
//     where the law has carriers offer it, so that None is a written rejection;
//   - an El Paso household at 88595 is quoted in the El Paso territory the
//     Texas manuals give 885xx (their tables stopped at 88589);
//   - the driving history asks for DUIs of the last 10 years: it asked for
//     "the last 5 years" only, so a shopper left out a DUI of 6 years ago and
//     Summit (84 months) and Allegheny (120 months) quoted a driver they
//     decline (the example's Dana Reyes: Summit quoted 542.98 instead of declining).
//
// Run: MQ_BIN=$PWD/build/multiquote node --test --test-reporter=tap tests/js/shopper-auto.test.mjs
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './lib/server.mjs';
import { browserSuite, QUOTE_PATH } from './lib/browser.mjs';


const { browserIt, server } = browserSuite();

async function openForm(openPage) {
  const page = await openPage();
  await page.goto(`${server().url}/`);
  await page.waitForSelector('html.ready');
  await page.getByTestId('line-auto').check();
  await page.locator('.line-form[data-line="auto"]').waitFor();
  return page;
}

const control = (page, p) => page.locator(`[data-path="${p}"]`);
const optionValues = (page, p) => control(page, p).locator('option').evaluateAll((os) => os.map((o) => o.value));
const optionLabel = (page, p, v) => control(page, p).locator(`option[value="${v}"]`).textContent();

/** Chooses the applicant's state and ZIP, then waits for the limits the state allows. */
async function chooseState(page, state, zip, minimum) {
  await control(page, 'applicant.address.state').selectOption(state);
  await control(page, 'applicant.address.zip').fill(zip);
  await control(page, 'coverages.um').focus();
  await page.waitForFunction(([m]) => {
    const el = document.querySelector('[data-path="coverages.um"]');
    return [...el.options].some((o) => o.value === m && / minimum$/.test(o.textContent));
  }, [minimum]);
}

describe('auto: uninsured motorist limits follow the state', () => {
  browserIt('Pennsylvania offers 15/30 (its minimum), Texas starts at 30/60; None is first', async (openPage) => {
    const page = await openForm(openPage);
    await chooseState(page, 'PA', '15222', '15000/30000');
    const pa = await optionValues(page, 'coverages.um');
    assert.deepEqual(pa.slice(0, 3), ['', '15000/30000', '25000/50000']);
    assert.equal(await optionLabel(page, 'coverages.um', '15000/30000'), '15/30 ($15k / $30k) – Pennsylvania minimum');
    assert.deepEqual(await optionValues(page, 'coverages.bi'), pa.slice(1), 'the same limits as bodily injury');

    await chooseState(page, 'TX', '77002', '30000/60000');
    const tx = await optionValues(page, 'coverages.um');
    assert.equal(tx[0], '');
    assert.equal(tx[1], '30000/60000');
    assert.ok(!tx.includes('25000/50000'), `no Texas carrier writes 25/50: ${tx}`);
    assert.ok(!tx.includes('15000/30000'), `${tx}`);
  });

  browserIt('None stays None across states; a limit below the new minimum becomes the minimum', async (openPage) => {
    const page = await openForm(openPage);
    await chooseState(page, 'PA', '15222', '15000/30000');
    await control(page, 'coverages.um').selectOption('');
    await chooseState(page, 'TX', '77002', '30000/60000');
    assert.equal(await control(page, 'coverages.um').inputValue(), '', 'None is kept');

    await chooseState(page, 'PA', '15222', '15000/30000');
    await control(page, 'coverages.um').selectOption('25000/50000');
    await chooseState(page, 'TX', '77002', '30000/60000');
    assert.equal(await control(page, 'coverages.um').inputValue(), '30000/60000', 'raised to Texas\'s minimum, not dropped');
  });

  // Keystone Mutual, Pennsylvania (plans/keystone/pa-auto-2026-01-01), the
  // example's Dana Reyes (35, married) moved to Pittsburgh downtown 15222
  // (territory 4), 2022 Civic symbol 5 (vehicle age 4), comp/coll 500,
  // homeowner and paperless (8% + 4%), claims-free 5%, anti-theft 12% on comp:
  //   bi  96 x 1.15 x 0.94 x 1.00 (15/30) x 0.83 = 86.13 -> 86
  //   pd  70 x 1.10 x 0.94 x 1.00 (5,000) x 0.83 = 60.08 -> 60
  //   med 32 x 1.18 x 0.94 x 1.00 (5,000) x 0.83 = 29.46 -> 29
  //   um  22 x 1.20 x 0.94 x 1.00 (15/30) x 0.83 = 20.60 -> 21
  //   comp 52 x 1.05 x 0.96 x 1.00 x 0.95 x 1.00 x 0.75 (cap 25%) = 37.35 -> 37
  //   coll 172 x 1.12 x 0.96 x 1.00 x 1.00 x 0.95 x 1.00 x 0.83 = 145.82 -> 146
  //   379.00 + 20.00 fee = 399.00
  browserIt('a Pennsylvania household at 15/30 with uninsured motorist 15/30 is quoted', async (openPage) => {
    const page = await openForm(openPage);
    await page.getByTestId('fill-example').click();
    await chooseState(page, 'PA', '15222', '15000/30000');
    await control(page, 'applicant.address.city').fill('Pittsburgh');
    await control(page, 'drivers[0].license.state').selectOption('PA');
    await control(page, 'coverages.bi').selectOption('15000/30000');
    await control(page, 'coverages.um').selectOption('15000/30000');
    await control(page, 'coverages.pd').selectOption('5000');
    const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/quotes');
    await page.getByTestId('get-quotes').click();
    const res = await answered;
    const sent = res.request().postDataJSON();
    assert.ok(res.ok(), `${res.status()} ${await res.text().catch(() => '')}`);
    assert.deepEqual(sent.coverages.um, { per_person: 15000, per_accident: 30000 });
    assert.deepEqual(sent.coverages.bi, { per_person: 15000, per_accident: 30000 });
    await page.waitForURL(QUOTE_PATH);
    const id = new URL(page.url()).pathname.match(QUOTE_PATH)[1];
    const quote = await (await fetch(`${server().url}/v1/quotes/${id}`)).json();
    const keystone = quote.results.find((r) => r.carrier.id === 'keystone');
    assert.equal(keystone.status, 'quoted', JSON.stringify(keystone.reasons));
    const cov = Object.fromEntries(keystone.coverages.map((c) => [c.code, c.premium]));
    assert.deepEqual(cov, { bi: 86, pd: 60, med: 29, um: 21, comp: 37, coll: 146 });
    assert.equal(keystone.premium.total, 399);
  });

  browserIt('medical payments: Pennsylvania 5k (required), 10k, 25k; Texas 1k to 10k with 2.5k; Ohio 1k to 10k', async (openPage) => {
    const page = await openForm(openPage);
    await chooseState(page, 'OH', '43215', '25000/50000');
    assert.deepEqual(await optionValues(page, 'coverages.med'), ['', '1000', '2000', '5000', '10000']);
    assert.equal(await control(page, 'coverages.um').evaluate((el) => document.getElementById(`${el.id}-hint`).textContent),
      'At most your bodily injury limits', 'optional in Ohio');
    await control(page, 'coverages.med').selectOption('');

    await chooseState(page, 'PA', '15222', '15000/30000');
    assert.deepEqual(await optionValues(page, 'coverages.med'), ['5000', '10000', '25000']);
    assert.equal(await control(page, 'coverages.med').inputValue(), '5000', 'None is not a Pennsylvania choice');
    assert.equal(await optionLabel(page, 'coverages.med', '5000'), '$5k – Pennsylvania minimum');
    const hint = () => control(page, 'coverages.med').evaluate((el) => document.getElementById(`${el.id}-hint`).textContent);
    assert.equal(await hint(), 'Required in Pennsylvania: first-party medical benefits of at least $5k');

    // property damage: Pennsylvania's carriers write 10k, above its 5k minimum
    assert.deepEqual(await optionValues(page, 'coverages.pd'), ['5000', '10000', '25000', '50000', '100000', '250000']);
    const umHint = () => control(page, 'coverages.um').evaluate((el) => document.getElementById(`${el.id}-hint`).textContent);
    assert.equal(await umHint(), 'At most your bodily injury limits. Pennsylvania law requires carriers to offer it: None means you reject it in writing when you buy');

    await control(page, 'coverages.med').selectOption('25000');
    await chooseState(page, 'TX', '77002', '30000/60000');
    assert.deepEqual(await optionValues(page, 'coverages.pd'), ['25000', '50000', '100000', '250000']);
    assert.match(await umHint(), /^At most your bodily injury limits\. Texas law requires carriers to offer it/);
    assert.deepEqual(await optionValues(page, 'coverages.med'), ['', '1000', '2500', '5000', '10000']);
    assert.equal(await control(page, 'coverages.med').inputValue(), '1000', 'no Texas carrier writes 25k');
    assert.equal(await hint(), 'Optional');
  });

  // tests/data/shoppers/pa-two-cars.json (med 10,000): Keystone 1158.00
  // (pa-two-cars.expect.md). Without med, every Pennsylvania carrier quoted
  // it (Keystone 1064.00): a policy without the first-party medical
  // benefits Pennsylvania requires.
  it('the API refuses a Pennsylvania request without medical benefits at coverages.med', async () => {
    const request = JSON.parse(readFileSync(path.join(REPO_ROOT, 'tests/data/shoppers/pa-two-cars.json'), 'utf8'));
    const post = (body) => fetch(`${server().url}/v1/quotes`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    const before = (await (await fetch(`${server().url}/healthz`)).json()).quotes_saved;
    delete request.coverages.med;
    let res = await post(request);
    assert.equal(res.status, 422);
    let error = (await res.json()).error;
    assert.equal(error.path, 'coverages.med');
    assert.equal(error.message, 'coverages.med: is required in Pennsylvania: every policy carries first-party medical benefits of at least 5000');
    request.coverages.med = { limit: 2000 };
    res = await post(request);
    assert.equal(res.status, 422);
    error = (await res.json()).error;
    assert.equal(error.message, 'coverages.med: 2000 is below Pennsylvania\'s minimum 5000');
    assert.equal((await (await fetch(`${server().url}/healthz`)).json()).quotes_saved, before, 'nothing saved');
    request.coverages.med = { limit: 10000 };
    res = await post(request);
    assert.equal(res.status, 201);
    const keystone = (await res.json()).results.find((r) => r.carrier.id === 'keystone');
    assert.equal(keystone.status, 'quoted');
    assert.equal(keystone.premium.total, 1158);
  });

  // Every Texas manual rates El Paso, 799xx and 885xx, as one territory, but
  // the territory tables stopped at 88589: an El Paso household at 88595 got
  // "unavailable" from every Texas carrier, three of them saying the ZIP was
  // outside Texas. tests/data/shoppers/tx-family.json moved to El Paso: the
  // same totals at 88595 as at 88510 (Lone Star 935.00, Keystone 1137.00).
  it('an El Paso household at 88595 is rated in the El Paso territory, as at 88510', async () => {
    const request = JSON.parse(readFileSync(path.join(REPO_ROOT, 'tests/data/shoppers/tx-family.json'), 'utf8'));
    request.applicant.address.city = 'El Paso';
    for (const v of request.vehicles) delete v.garaging_zip;
    const totals = async (zip) => {
      request.applicant.address.zip = zip;
      const res = await fetch(`${server().url}/v1/quotes`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request),
      });
      assert.equal(res.status, 201, zip);
      const quote = await res.json();
      return Object.fromEntries(quote.results.filter((r) => r.status === 'quoted').map((r) => [r.carrier.id, r.premium.total]));
    };
    const elPaso = await totals('88510');
    assert.equal(elPaso.lonestar, 935);
    assert.equal(elPaso.keystone, 1137);
    assert.deepEqual(await totals('88595'), elPaso);
  });

  browserIt('removing a vehicle\'s principal driver says who the vehicle has now', async (openPage) => {
    const page = await openForm(openPage);
    await page.getByTestId('fill-example').click();
    await page.getByRole('button', { name: 'Add driver' }).click();
    await control(page, 'drivers[1].first_name').fill('Ada');
    await page.getByRole('button', { name: 'Add vehicle' }).click();
    await control(page, 'vehicles[1].principal_driver').selectOption({ label: 'd2 – Ada' });
    await page.getByRole('button', { name: 'Remove driver 2' }).click();
    await page.waitForFunction(() => /^Removed driver 2/.test(document.getElementById('submit-status').textContent));
    assert.equal(await page.locator('#submit-status').textContent(),
      'Removed driver 2 (Ada). 1 driver left. Vehicle 2\'s principal driver is now d1 – Dana Reyes.');
    assert.equal(await control(page, 'vehicles[1].principal_driver').locator('option:checked').textContent(), 'd1 – Dana Reyes');
  });

  browserIt('the driving history asks for DUIs of the last 10 years, which Summit and Allegheny decline', async (openPage) => {
    const page = await openForm(openPage);
    const hint = page.getByRole('group', { name: 'Driving history' }).locator('p.hint');
    assert.equal(await hint.textContent(),
      'Accidents, tickets and claims of the last 5 years, and any DUI of the last 10 years. None? Leave this empty.');
    // A DUI 6 years before 2026-03-01, entered as asked: Summit (DUI in 84
    // months) and Allegheny (120 months) decline; a 5-year history left it
    // out, and Summit quoted.
    await page.getByTestId('fill-example').click();
    await page.getByRole('button', { name: 'Add incident for driver 1' }).click();
    await control(page, 'drivers[0].incidents[0].type').selectOption('dui');
    await control(page, 'drivers[0].incidents[0].date').fill('2020-02-15');
    const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/quotes');
    await page.getByTestId('get-quotes').click();
    assert.ok((await answered).ok());
    await page.waitForURL(QUOTE_PATH);
    const id = new URL(page.url()).pathname.match(QUOTE_PATH)[1];
    const quote = await (await fetch(`${server().url}/v1/quotes/${id}`)).json();
    const summit = quote.results.find((r) => r.carrier.id === 'summit');
    assert.equal(summit.status, 'declined');
    assert.deepEqual(summit.reasons, ['A listed driver has a DUI within the last 7 years.']);
  });
});
