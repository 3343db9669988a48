// aca.test.mjs -- the ACA health line through the command line, as a
// navigator meets it, against the real `multiquote` binary (no server):
//   - every worked example of ../shared/reference/aca-health.examples.json,
//     quoted with `multiquote quote --json`: each plan's gross premium, tax
//     credit and net premium to the cent, printed with exactly its cents;
//     and the benchmark each result records (plan version and premium);
//   - the expected contribution rounded from its exact value: a household
//     of 3 with income 52,342.09 contributes 280.32 a month (3,363.89499999934
//     a year), not 280.33, so the credit is 234.39 (it was a cent short);
//   - a catastrophic plan gets no credit (26 U.S.C. 36B(c)(3)(A)): its net is
//     its gross, with a note saying why, while a bronze plan of the same rates
//     nets 26.17;
//   - a market.yaml whose bands stop short of the eligible ratios is refused
//     by `check` and by `quote` (exit 1, file:line), instead of quoting a
//     credit from a percentage that does not exist.
//
// Run: MQ_BIN=$PWD/build/multiquote node --test --test-reporter=tap tests/js/aca.test.mjs
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, cpSync } from 'node:fs';
import path from 'node:path';
import { BIN, PLANS, REPO_ROOT, makeTemp, removeTemp } from './lib/server.mjs';

const EXAMPLES = JSON.parse(
  readFileSync(path.join(REPO_ROOT, '..', 'shared', 'reference', 'aca-health.examples.json'), 'utf8'));
const temps = [];

after(() => {
  for (const dir of temps) removeTemp(dir);
});

/** Runs multiquote with `args`, `input` on stdin; {code, out, err}. */
function run(args, input = '') {
  const r = spawnSync(BIN, args, { cwd: REPO_ROOT, input, encoding: 'utf8', timeout: 60000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The quoted results of `request` by plan id, and the raw JSON text. */
function quote(request, plans = PLANS) {
  const r = run(['quote', '--plans', plans, '--json', '-'], JSON.stringify(request));
  assert.equal(r.code, 0, r.err);
  const byPlan = new Map();
  for (const res of JSON.parse(r.out).results)
    if (res.status === 'quoted') byPlan.set(res.plan.id, res);
  return { byPlan, text: r.out };
}

const cents = (x) => Math.round(x * 100);

/** A copy of the bundled Ohio health plans and market in a temporary folder. */
function ohioPlans() {
  const dir = makeTemp('mq-js-aca-');
  temps.push(dir);
  for (const d of ['buckeyehealth', 'cardinalcare', 'lakeviewhealth', '_markets'])
    cpSync(path.join(PLANS, d), path.join(dir, d), { recursive: true });
  return dir;
}

describe('ACA health through the command line', () => {
  for (const c of EXAMPLES.cases) {
    it(`reference case ${c.name}: gross, credit and net of every plan, to the cent`, () => {
      const { byPlan, text } = quote(c.request);
      assert.equal(byPlan.size, c.expected.plans.length);
      for (const want of c.expected.plans) {
        const got = byPlan.get(want.plan);
        assert.ok(got, `${want.plan} quoted`);
        assert.deepEqual(
          [cents(got.gross_premium), cents(got.tax_credit), cents(got.net_premium), got.metal],
          [cents(want.gross_premium), cents(want.tax_credit), cents(want.net_premium), want.metal],
          want.plan);
        assert.equal(got.coverages.length, c.expected.charged_members, want.plan);
      }
      // every result records the benchmark: the second-lowest silver plan
      // without tobacco, at the example's premium (also with no credit)
      const results = JSON.parse(text).results;
      // (and the digest of its files, its first 16 hex digits, the same on every result)
      const digest = results[0].benchmark?.plan?.digest;
      assert.match(digest ?? '', /^[0-9a-f]{16}$/);
      for (const r of results)
        assert.deepEqual(r.benchmark,
          { plan: { id: 'buckeye-silver-3500', version: '2026', digest }, premium: c.expected.benchmark_monthly, candidates: 3 },
          r.carrier.id);
      // money has exactly its cents: no 1018.6700000000001
      assert.doesNotMatch(text, /"(gross_premium|tax_credit|net_premium)": -?\d+\.\d{3,}/);
    });
  }

  it('the expected contribution is rounded from its exact value (52,342.09 for 3: 280.32 a month)', () => {
    const req = structuredClone(EXAMPLES.cases[0].request);
    req.household = { size: 3, income: 52342.09 };
    const { byPlan } = quote(req);
    const bronze = byPlan.get('cardinal-bronze-hsa');
    assert.equal(bronze.gross_premium, 385.89);
    assert.equal(bronze.tax_credit, 234.39);
    assert.equal(bronze.net_premium, 151.5);
    assert.equal(bronze.credit_note,
      'benchmark (second-lowest silver) 514.71; expected contribution 280.32 a month (6.4267% of income)');
    // the benchmark plan itself: 514.71 - 234.39
    assert.equal(byPlan.get('buckeye-silver-3500').net_premium, 280.32);
  });

  it('a catastrophic plan gets no premium tax credit; the bronze plan of the same rates does', () => {
    const dir = ohioPlans();
    const cat = path.join(dir, 'cardinalcare', 'catastrophic');
    cpSync(path.join(dir, 'cardinalcare', 'oh-health-bronze-hsa-2026'), cat, { recursive: true });
    const yaml = readFileSync(path.join(cat, 'plan.yaml'), 'utf8')
      .replace('id: cardinal-bronze-hsa', 'id: cardinal-catastrophic')
      .replace('metal: bronze', 'metal: catastrophic');
    writeFileSync(path.join(cat, 'plan.yaml'), yaml);
    const { byPlan } = quote(EXAMPLES.cases[0].request, dir);
    const c = byPlan.get('cardinal-catastrophic');
    assert.deepEqual([c.metal, c.gross_premium, c.tax_credit, c.net_premium],
      ['catastrophic', 385.89, 0, 385.89]);
    assert.equal(c.credit_note, 'no premium tax credit: it cannot be used for a catastrophic plan');
    const b = byPlan.get('cardinal-bronze-hsa');
    assert.deepEqual([b.gross_premium, b.tax_credit, b.net_premium], [385.89, 359.72, 26.17]);
  });

  it('a market whose bands leave eligible incomes without a percentage is refused, naming file:line', () => {
    const dir = ohioPlans();
    const file = path.join(dir, '_markets', 'aca-individual-2026', 'market.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('  - [3.00, 4.00, 9.96, 9.96]\n', ''));
    const want = `${file}:27: applicable_percentage covers ratios 0 to 3, but eligible_ratio is [1, 4]: `
      + 'every eligible ratio needs a band';
    const check = run(['check', dir]);
    assert.equal(check.code, 1);
    assert.ok(check.err.includes(want), check.err);
    // 350% of the guideline for 2: once quoted with its whole premium as credit
    const req = structuredClone(EXAMPLES.cases[2].request);
    req.household.income = 74025;
    const q = run(['quote', '--plans', dir, '--json', '-'], JSON.stringify(req));
    assert.equal(q.code, 1);
    assert.ok(q.err.includes(want), q.err);
    assert.equal(q.out, '');
  });
});
