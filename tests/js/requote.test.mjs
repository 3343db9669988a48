// requote.test.mjs -- a saved quote names the files that priced it.
//
// Each result rated here records the digest of its plan version's files (its first 16 hex digits)
// (`plan.digest`); a health result also its benchmark plan's and the market
// whose rules worked its credit out (`market`: id and the SHA-256 of its
// market.yaml). When those files are edited in place after the quote (no new
// version), `multiquote requote` says under each result that differs which
// file changed (digest then, digest now), or that the files are the same and
// this program rates differently; the saved quote's worksheet answers 409
// `not_reproduced` naming the same cause. Quotes saved before digests were
// recorded requote and open as they always did. The digests here are worked
// out by the test as docs/plan-format.md describes them, not read back from
// the server.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, readdirSync, renameSync, rmSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT, startServer, copyPlans, removeTemp, runCli } from './lib/server.mjs';

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** A plan version's digest: `sha256sum plan.yaml <CSV files in byte order> | sha256sum`. */
function planDigest(dir) {
  const csv = readdirSync(dir).filter((f) => f.endsWith('.csv') && !f.startsWith('.'));
  csv.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const lines = ['plan.yaml', ...csv].map((f) => `${sha256(readFileSync(path.join(dir, f)))}  ${f}\n`);
  return sha256(lines.join(''));
}

/** A digest as a result records it: its first 16 hex digits (the worksheet
 * and GET /v1/plans show all 64). */
const rec = (digest) => digest.slice(0, 16);

const readJson = (p) => JSON.parse(readFileSync(path.join(REPO_ROOT, p), 'utf8'));
// Harbor and Summit only: two rows, one of them edited below.
const AUTO = { ...readJson('examples/oh-single-driver.json'), carriers: ['harbor', 'summit'] };
const HEALTH = readJson('tests/data/shoppers/health-oh-single-40.json');

describe('a saved quote names the files that priced it', { timeout: 180000 }, () => {
  let srv, plans;
  const q = {}; // name -> {id, text, body}
  const harborDir = () => path.join(plans, 'harbor', 'oh-auto-2026-01-01');
  const marketFile = () => path.join(plans, '_markets', 'aca-individual-2026', 'market.yaml');
  const silverDir = () => path.join(plans, 'buckeyehealth', 'oh-health-silver-3500-2026');
  let harborThen, marketThen, silverThen;

  async function call(method, urlPath, body) {
    const init = { method, headers: {} };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['content-type'] = 'application/json';
    }
    const res = await fetch(srv.url + urlPath, init);
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) };
  }
  async function save(name, request) {
    const res = await call('POST', '/v1/quotes', request);
    assert.equal(res.status, 201, res.text);
    q[name] = { id: res.json().quote_id, text: res.text, body: res.json() };
  }
  async function hup() {
    const since = srv.events().length;
    srv.signal('SIGHUP');
    const ev = await srv.waitForLog((e) => e.event === 'reloaded' || e.event === 'reload_failed', { since });
    assert.equal(ev.event, 'reloaded', srv.logs());
  }
  const requote = (id) => runCli(['requote', '--db', srv.db, '--plans', plans, id]);
  const worksheet = (id, carrier) => call('GET', `/v1/quotes/${id}/worksheet/${carrier}`);
  let copies = 0;
  /** A copy of saved quote `name` under a new id, its response text edited by `edit`. */
  function copyQuote(name, request, edit) {
    const { id, text } = q[name];
    const newId = id.slice(0, -2) + (id.endsWith('Z') ? 'Y' : 'Z') + 'ABCDEFGHJKMNPQRS'[copies++];
    const sql = (t) => `'${t.replaceAll("'", "''")}'`;
    execFileSync('sqlite3', [
      srv.db,
      `INSERT INTO quotes (id, created_at, line, effective_date, request, response, consent_contact, consent_at) ` +
        `SELECT ${sql(newId)}, created_at, line, effective_date, ${sql(JSON.stringify(request))}, ` +
        `${sql(edit(text))}, 0, '' FROM quotes WHERE id = ${sql(id)};`,
    ]);
    return newId;
  }
  /** The response text as a program that recorded no digests wrote it. */
  const withoutDigests = (t) => t.replace(/,"digest":"[0-9a-f]{16}"/g, '').replace(/,"market":\{[^{}]*\}/g, '');
  const row = (body, planId) => body.results.find((r) => r.plan?.id === planId);

  before(async () => {
    plans = await copyPlans();
    srv = await startServer({ plans });
    harborThen = planDigest(harborDir());
    marketThen = sha256(readFileSync(marketFile()));
    silverThen = planDigest(silverDir());
    await save('auto', AUTO);
    await save('health', HEALTH);
    // bronze only: the benchmark (Buckeye Silver 3500) is in no result
    await save('bronze', { ...structuredClone(HEALTH), filters: { metal: ['bronze'] } });
    await save('march', { ...structuredClone(HEALTH), effective_date: '2026-03-01' });
    q.old = { id: copyQuote('auto', AUTO, withoutDigests) };
  });
  after(async () => {
    if (srv) await srv.cleanup();
    if (plans) removeTemp(path.dirname(plans));
  });

  it('each result records the digest of its plan version, as its files give it', () => {
    const harbor = row(q.auto.body, 'harbor-oh-auto');
    assert.deepEqual(harbor.plan, { id: 'harbor-oh-auto', version: '2026-01-01', digest: rec(harborThen) });
    assert.equal(harbor.premium.total, 714);
    const summit = row(q.auto.body, 'summit-oh-auto');
    assert.equal(summit.plan.digest, rec(planDigest(path.join(plans, 'summit', 'oh-auto-2025-11-15'))));
    assert.equal(q.auto.body.results.length, 2);
    for (const r of q.auto.body.results) assert.equal(r.market, undefined);
  });

  it('a health result records its benchmark plan\'s digest and its market', () => {
    for (const r of q.health.body.results.filter((x) => x.status === 'quoted')) {
      assert.deepEqual(r.benchmark.plan, { id: 'buckeye-silver-3500', version: '2026', digest: rec(silverThen) }, r.plan.id);
      assert.deepEqual(r.market, { id: 'aca-individual-2026', digest: rec(marketThen) }, r.plan.id);
    }
    assert.equal(row(q.health.body, 'cardinal-bronze-hsa').tax_credit, 359.72);
  });

  it('requote reproduces them exactly while the files are as they were', async () => {
    for (const name of ['auto', 'health', 'bronze', 'march', 'old']) {
      const r = await requote(q[name].id);
      assert.equal(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /\nreproduced exactly\n$/, name);
      assert.doesNotMatch(r.stdout, /DIFFERS|changed|same as then/, name);
    }
  });

  it('files the same as then, a price not: requote and the worksheet say the program rates differently', async () => {
    // the quote as a program that rated Harbor at 700.00 would have saved it
    const text = q.auto.text.replace(/("plan":\{"id":"harbor-oh-auto"[^{}]*\},"status":"quoted","premium":\{"total":)714\.0,/, '$1700.0,');
    assert.notEqual(text, q.auto.text);
    const id = copyQuote('auto', AUTO, () => text);
    const r = await requote(id);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\n {2}summit {7}same {5}summit-oh-auto 2025-11-15 {2}quoted 542\.98\n {2}harbor {7}DIFFERS {2}harbor-oh-auto 2026-01-01 {2}quoted 714\.00 \(was 700\.00\); first difference: premium\.total 714\.0, was 700\.0\n {4}plan harbor-oh-auto 2026-01-01 is the same as then \(digest ([0-9a-f]{16})\): this program rates differently\ntips: 4 the same\nNOT reproduced\n$/);
    assert.ok(r.stdout.includes(`(digest ${rec(harborThen)})`), r.stdout);
    const ws = await worksheet(id, 'harbor');
    assert.equal(ws.status, 409, ws.text);
    assert.deepEqual(ws.json(), {
      error: {
        code: 'not_reproduced',
        message: 'plan harbor-oh-auto version 2026-01-01 now gives 714.00 where the quote has 700.00: ' +
          `its files are the same as then (digest ${rec(harborThen)}): this program rates differently, ` +
          'so its steps would explain another price; multiquote requote tells more',
        path: '',
      },
    });
  });

  it('the total the same, a coverage\'s premium not: the worksheet refuses, naming the coverage', async () => {
    // the quote as a program that split Harbor's 714.00 otherwise would have saved it
    const harborAt = q.auto.text.indexOf('"plan":{"id":"harbor-oh-auto"');
    const head = q.auto.text.slice(0, harborAt), tail = q.auto.text.slice(harborAt);
    const moved = tail.replace('{"code":"bi","vehicle":"v1","premium":225.0,', '{"code":"bi","vehicle":"v1","premium":226.0,')
      .replace('{"code":"pd","vehicle":"v1","premium":139.0,', '{"code":"pd","vehicle":"v1","premium":138.0,');
    assert.equal(moved.length, tail.length);
    assert.notEqual(moved, tail, 'harbor\'s coverage premiums changed; update this test');
    const id = copyQuote('auto', AUTO, () => head + moved);
    const ws = await worksheet(id, 'harbor');
    assert.equal(ws.status, 409, ws.text);
    assert.deepEqual(ws.json(), {
      error: {
        code: 'not_reproduced',
        message: "plan harbor-oh-auto version 2026-01-01 now gives the quote's total, but bi on v1 225.00 where the quote has 226.00: " +
          `its files are the same as then (digest ${rec(harborThen)}): this program rates differently, ` +
          'so its steps would explain another price; multiquote requote tells more',
        path: '',
      },
    });
    assert.equal((await worksheet(id, 'summit')).status, 200);
    const r = await requote(id);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\n {2}harbor {7}DIFFERS {2}harbor-oh-auto 2026-01-01 {2}quoted 714\.00 \(was 714\.00\); first difference: coverages\[0\]\.premium 225\.0, was 226\.0\n {4}plan harbor-oh-auto 2026-01-01 is the same as then \(digest [0-9a-f]{16}\): this program rates differently\n/);
  });

  // What the quote promised (carrier, plan, status, every money figure, the
  // reasons) is compared to the cent; explanatory text (a fee's name, notes,
  // what the carrier verifies) and members a later program adds are not: a
  // quote differing only there reproduces, and they are listed under it.
  /** A copy of the auto quote with Harbor's saved result edited by `edit` (its text as saved). */
  function harborEdited(edit) {
    const at = q.auto.text.indexOf('{"carrier":{"id":"harbor"');
    const end = q.auto.text.indexOf(']}', q.auto.text.indexOf('"verifies":[', at)) + 2;
    const head = q.auto.text.slice(0, at), result = q.auto.text.slice(at, end), tail = q.auto.text.slice(end);
    const edited = edit(result);
    assert.notEqual(edited, result, 'harbor\'s saved result changed; update this test');
    return copyQuote('auto', AUTO, () => head + edited + tail);
  }
  const wordingHead = (n) => `\nreproduced exactly\nwording: ${n} ${n === 1 ? 'difference that changes' : 'differences that change'} ` +
    'nothing the quote promised (explanatory text, or members new since it)\n';

  it('only a fee\'s name worded otherwise: reproduced (exit 0), the wording listed; the worksheet is served', async () => {
    const id = harborEdited((t) => t.replace('{"name":"Policy fee","amount":18.0}', '{"name":"Policy charge","amount":18.0}'));
    const r = await requote(id);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\n {2}harbor {7}same {5}harbor-oh-auto 2026-01-01 {2}quoted 714\.00\n/);
    assert.ok(r.stdout.endsWith(`\ntips: 4 the same${wordingHead(1)}  harbor       fees[0].name "Policy fee", was "Policy charge"\n`), r.stdout);
    const ws = await worksheet(id, 'harbor');
    assert.equal(ws.status, 200, ws.text);
    assert.equal(ws.json().steps.at(-1).running, 714);
  });

  it('a fee\'s amount one cent off: not reproduced, naming it; the worksheet refuses, naming it too', async () => {
    const id = harborEdited((t) => t.replace('{"name":"Policy fee","amount":18.0}', '{"name":"Policy fee","amount":18.01}'));
    const r = await requote(id);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\n {2}harbor {7}DIFFERS {2}harbor-oh-auto 2026-01-01 {2}quoted 714\.00 \(was 714\.00\); first difference: fees\[0\]\.amount 18\.0, was 18\.01\n {4}plan harbor-oh-auto 2026-01-01 is the same as then \(digest [0-9a-f]{16}\): this program rates differently\n/);
    assert.match(r.stdout, /\nNOT reproduced\n$/);
    const ws = await worksheet(id, 'harbor');
    assert.equal(ws.status, 409, ws.text);
    assert.deepEqual(ws.json(), {
      error: {
        code: 'not_reproduced',
        message: "plan harbor-oh-auto version 2026-01-01 now gives the quote's total, but fees[0].amount 18.0 where the quote has 18.01: " +
          `its files are the same as then (digest ${rec(harborThen)}): this program rates differently, ` +
          'so its steps would explain another price; multiquote requote tells more',
        path: '',
      },
    });
    assert.equal((await worksheet(id, 'summit')).status, 200);
  });

  it('a coverage\'s limit otherwise, its premium the same: not reproduced; the worksheet names the limit, not the premium', async () => {
    const id = harborEdited((t) => t.replace('{"code":"bi","vehicle":"v1","premium":225.0,"limits":{"per_person":100000,',
      '{"code":"bi","vehicle":"v1","premium":225.0,"limits":{"per_person":50000,'));
    const r = await requote(id);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\n {2}harbor {7}DIFFERS {2}harbor-oh-auto 2026-01-01 {2}quoted 714\.00 \(was 714\.00\); first difference: coverages\[0\]\.limits\.per_person 100000, was 50000\n/);
    const ws = await worksheet(id, 'harbor');
    assert.equal(ws.status, 409, ws.text);
    assert.match(ws.json().error.message, /^plan harbor-oh-auto version 2026-01-01 now gives the quote's total, but coverages\[0\]\.limits\.per_person 100000 where the quote has 50000: its files are the same as then/);
  });

  it('a member the saved result has and today\'s program does not write: a difference of substance', async () => {
    const id = harborEdited((t) => t.replace('"monthly":119.0,', '"monthly":119.0,"discount":12.0,'));
    const r = await requote(id);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\n {2}harbor {7}DIFFERS {2}harbor-oh-auto 2026-01-01 {2}quoted 714\.00 \(was 714\.00\); first difference: premium\.discount nothing, was 12\.0\n/);
    assert.match(r.stdout, /\nNOT reproduced\n$/);
    const ws = await worksheet(id, 'harbor');
    assert.equal(ws.status, 409, ws.text);
    assert.match(ws.json().error.message, /^plan harbor-oh-auto version 2026-01-01 now gives the quote's total, but premium\.discount nothing where the quote has 12\.0: /);
  });

  it('members today\'s program writes that the saved result lacks: reproduced, each listed as new; the worksheet is served', async () => {
    const id = harborEdited((t) => t.replace(',"minimum_premium_applied":false}', '}')
      .replace('{"code":"comp","vehicle":"v1","premium":52.0,"limits":{"deductible":500}}', '{"code":"comp","vehicle":"v1","premium":52.0}'));
    const r = await requote(id);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(r.stdout.endsWith(`\ntips: 4 the same${wordingHead(2)}` +
      '  harbor       premium.minimum_premium_applied false, was nothing (new since the quote)\n' +
      '  harbor       coverages[4].limits {"deductible":500}, was nothing (new since the quote)\n'), r.stdout);
    const ws = await worksheet(id, 'harbor');
    assert.equal(ws.status, 200, ws.text);
  });

  it('the worksheet names the files its steps come from: the quote\'s, or others that give the same price', async () => {
    let ws = await worksheet(q.auto.id, 'harbor');
    assert.equal(ws.status, 200, ws.text);
    assert.deepEqual(ws.json().plan, { id: 'harbor-oh-auto', version: '2026-01-01', digest: rec(harborThen) });
    assert.equal(ws.json().steps.at(-1).running, 714);
    // a comment added to plan.yaml: other files, the same price
    const yaml = path.join(harborDir(), 'plan.yaml');
    const h = readFileSync(yaml, 'utf8');
    writeFileSync(yaml, `${h}# reviewed\n`);
    try {
      const now = planDigest(harborDir());
      await hup();
      ws = await worksheet(q.auto.id, 'harbor');
      assert.equal(ws.status, 200, ws.text);
      assert.deepEqual(ws.json().plan, { id: 'harbor-oh-auto', version: '2026-01-01', digest: rec(now) });
      assert.notEqual(now, harborThen);
      const r = await requote(q.auto.id);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /\nreproduced exactly\n$/);
    } finally {
      writeFileSync(yaml, h);
      await hup();
    }
  });

  it('a plan version edited in place: requote and the worksheet name it, with its digest then and now', async () => {
    const yaml = path.join(harborDir(), 'plan.yaml');
    const h = readFileSync(yaml, 'utf8');
    assert.ok(h.includes('{name: Policy fee, amount: 18.00}'), 'harbor plan.yaml changed; update this test');
    writeFileSync(yaml, h.replace('{name: Policy fee, amount: 18.00}', '{name: Policy fee, amount: 99.00}'));
    const harborNow = planDigest(harborDir());
    assert.notEqual(harborNow, harborThen);
    const r = await requote(q.auto.id);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\n {2}harbor {7}DIFFERS {2}harbor-oh-auto 2026-01-01 {2}quoted 795\.00 \(was 714\.00\); first difference: premium\.total 795\.0, was 714\.0\n/);
    assert.ok(
      r.stdout.includes(`\n    plan harbor-oh-auto 2026-01-01 was changed after this quote (digest then ${rec(harborThen)}, now ${rec(harborNow)})\n`),
      r.stdout,
    );
    // Summit's files are as they were: no cause under it
    assert.match(r.stdout, /\n {2}summit {7}same {5}summit-oh-auto 2025-11-15 {2}quoted 542\.98\n {2}harbor /);
    // its tips follow from its result: said in one line, not each with the cause again
    assert.match(r.stdout, /\)\ntips: 2 the same, 2 differ\n {2}harbor {7}DIFFERS {2}its tips: 2 differ \(worked out from its result, which differs\)\nNOT reproduced\n$/);
    await hup();
    const ws = await worksheet(q.auto.id, 'harbor');
    assert.equal(ws.status, 409, ws.text);
    assert.deepEqual(ws.json(), {
      error: {
        code: 'not_reproduced',
        message: 'plan harbor-oh-auto version 2026-01-01 now gives 795.00 where the quote has 714.00: ' +
          `its files were changed after the quote (digest then ${rec(harborThen)}, now ${rec(harborNow)}), ` +
          'so its steps would explain another price; multiquote requote tells more',
        path: '',
      },
    });
    assert.equal((await worksheet(q.auto.id, 'summit')).status, 200);
  });

  it('...a quote saved before digests were recorded says what it always said', async () => {
    const r = await requote(q.old.id);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\n {2}harbor {7}DIFFERS {2}harbor-oh-auto 2026-01-01 {2}quoted 795\.00 \(was 714\.00\); first difference: premium\.total 795\.0, was 714\.0\ntips: 2 the same, 2 differ\n {2}harbor {7}DIFFERS {2}its tips: 2 differ \(worked out from its result, which differs\)\nNOT reproduced\n$/);
    assert.doesNotMatch(r.stdout, /digest|changed after|same as then/);
    const ws = await worksheet(q.old.id, 'harbor');
    assert.equal(ws.status, 409, ws.text);
    assert.equal(
      ws.json().error.message,
      'plan harbor-oh-auto version 2026-01-01 now gives 795.00 where the quote has 714.00: its files were ' +
        'changed since the quote (or this program rates differently), so its steps would explain another ' +
        'price; multiquote requote tells more',
    );
  });

  it('the market file edited in place: requote and the worksheet name it', async () => {
    // A household at 191.7% of the guideline (30,000 / 15,650) is above
    // 150%: no credit at all once the eligible ratios end there.
    const m = readFileSync(marketFile(), 'utf8');
    assert.ok(m.includes('eligible_ratio: [1.00, 4.00]'), 'market.yaml changed; update this test');
    writeFileSync(marketFile(), m.replace('eligible_ratio: [1.00, 4.00]', 'eligible_ratio: [1.00, 1.50]'));
    const marketNow = sha256(readFileSync(marketFile()));
    const r = await requote(q.health.id);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const cause = `\n    market aca-individual-2026 (market.yaml) was changed after this quote (digest then ${rec(marketThen)}, now ${rec(marketNow)})\n`;
    const quoted = q.health.body.results.filter((x) => x.status === 'quoted');
    assert.equal(quoted.length, 6);
    assert.equal(r.stdout.split(cause).length - 1, quoted.length, r.stdout);
    assert.match(r.stdout, /\n {2}cardinalcare DIFFERS {2}cardinal-bronze-hsa 2026 {2}quoted 385\.89 \(was 385\.89\); first difference: tax_credit 0\.0, was 359\.72\n/);
    assert.doesNotMatch(r.stdout, /plan [^\n]* was changed|same as then/);
    await hup();
    const ws = await worksheet(q.health.id, 'cardinal-bronze-hsa');
    assert.equal(ws.status, 409, ws.text);
    assert.deepEqual(ws.json(), {
      error: {
        code: 'not_reproduced',
        message: 'plan cardinal-bronze-hsa version 2026 now gets a tax credit of 0.00 where the quote has 359.72: ' +
          `market aca-individual-2026 (market.yaml) was changed after the quote (digest then ${rec(marketThen)}, now ${rec(marketNow)}), ` +
          'so its steps would explain another price; multiquote requote tells more',
        path: '',
      },
    });
    writeFileSync(marketFile(), m);
    await hup();
    assert.equal((await worksheet(q.health.id, 'cardinal-bronze-hsa')).status, 200);
  });

  it('the market no longer loaded, and none in effect on the quote\'s date: requote says so', async () => {
    const dir = path.join(plans, '_markets'), away = path.join(path.dirname(plans), 'markets-away');
    renameSync(dir, away);
    try {
      const r = await requote(q.health.id);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /\n {2}cardinalcare DIFFERS {2}cardinal-bronze-hsa 2026 {2}quoted 385\.89 \(was 385\.89\); first difference: tax_credit 0\.0, was 359\.72\n {4}market aca-individual-2026 is no longer loaded, and none is in effect on the quote's date: no market's rules worked the tax credit out\n/);
    } finally {
      renameSync(away, dir);
    }
  });

  it('another market taking effect between its own and the quote\'s date: the quote keeps its own while it is loaded', async () => {
    // a copy of the 2026 market from February, whose eligible ratios end at 150%
    const dir = path.join(plans, '_markets', 'aca-individual-2026-02');
    execFileSync('cp', ['-r', path.dirname(marketFile()), dir]);
    const file = path.join(dir, 'market.yaml');
    const m = readFileSync(file, 'utf8');
    assert.ok(m.includes('id: aca-individual-2026\n') && m.includes('effective: 2026-01-01\n'), 'market.yaml changed; update this test');
    writeFileSync(file, m.replace('id: aca-individual-2026\n', 'id: aca-individual-2026-02\n')
      .replace('effective: 2026-01-01\n', 'effective: 2026-02-01\n')
      .replace('eligible_ratio: [1.00, 4.00]', 'eligible_ratio: [1.00, 1.50]'));
    const own = path.dirname(marketFile()), away = path.join(path.dirname(plans), 'market-2026-away');
    try {
      // a new quote for March gets February's market (no credit at this income)...
      await hup();
      const now = await call('POST', '/v1/quotes', { ...structuredClone(HEALTH), effective_date: '2026-03-01' });
      assert.equal(now.status, 201, now.text);
      assert.equal(row(now.json(), 'cardinal-bronze-hsa').tax_credit, 0);
      assert.equal(row(now.json(), 'cardinal-bronze-hsa').market.id, 'aca-individual-2026-02');
      // ...but January's and March's saved quotes are re-rated with the market they used
      for (const id of [q.health.id, q.march.id]) {
        const r = await requote(id);
        assert.equal(r.code, 0, r.stdout + r.stderr);
      }
      const kept = await worksheet(q.march.id, 'cardinal-bronze-hsa');
      assert.equal(kept.status, 200, kept.text);
      // with their own market no longer loaded, March's gets February's, and says so
      renameSync(own, away);
      const r = await requote(q.march.id);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /\n {2}cardinalcare DIFFERS {2}cardinal-bronze-hsa 2026 {2}quoted 385\.89 \(was 385\.89\); first difference: tax_credit 0\.0, was 359\.72\n {4}market aca-individual-2026 is no longer loaded; market aca-individual-2026-02 applies on the quote's date\n/);
      await hup();
      const ws = await worksheet(q.march.id, 'cardinal-bronze-hsa');
      assert.equal(ws.status, 409, ws.text);
      assert.equal(ws.json().error.message,
        'plan cardinal-bronze-hsa version 2026 now gets a tax credit of 0.00 where the quote has 359.72: ' +
          'market aca-individual-2026 is no longer loaded; market aca-individual-2026-02 applies on the quote\'s date, ' +
          'so its steps would explain another price; multiquote requote tells more');
    } finally {
      if (existsSync(away)) renameSync(away, own);
      rmSync(dir, { recursive: true });
      await hup();
    }
  });

  it('the benchmark plan edited in place: requote and the worksheet name it under the results it moved', async () => {
    // Buckeye Silver 3500 (the benchmark, in no result of this quote) at half its rates
    const rates = path.join(silverDir(), 'base_rate.csv');
    const before = readFileSync(rates, 'utf8');
    assert.ok(before.includes('\nrating_area,base_rate\n'), 'base_rate.csv changed; update this test');
    const halved = before.replace(/^(\d+),([\d.]+)$/gm, (_, area, v) => `${area},${(Number(v) / 2).toFixed(2)}`);
    assert.notEqual(halved, before);
    writeFileSync(rates, halved);
    const silverNow = planDigest(silverDir());
    try {
      const r = await requote(q.bronze.id);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const cause = `\n    benchmark plan buckeye-silver-3500 2026 was changed after this quote (digest then ${rec(silverThen)}, now ${rec(silverNow)})\n`;
      assert.equal(r.stdout.split(cause).length - 1, 2, r.stdout); // both bronze plans
      assert.match(r.stdout, /\n {2}cardinalcare DIFFERS {2}cardinal-bronze-hsa 2026 {2}quoted 385\.89 \(was 385\.89\); first difference: tax_credit /);
      await hup();
      const ws = await worksheet(q.bronze.id, 'cardinal-bronze-hsa');
      assert.equal(ws.status, 409, ws.text);
      assert.match(
        ws.json().error.message,
        new RegExp(`^plan cardinal-bronze-hsa version 2026 now gets a tax credit of [0-9]+\\.[0-9]{2} where the quote has 359\\.72: ` +
          `benchmark plan buckeye-silver-3500 version 2026 was changed after the quote \\(digest then ${rec(silverThen)}, now ${rec(silverNow)}\\), ` +
          'so its steps would explain another price; multiquote requote tells more$'),
      );
    } finally {
      writeFileSync(rates, before);
    }
  });
});

// A bundle quote (auto and home together) is re-rated too: each part as a
// quote of its line, then each bundle's two prices with the multi-line fact
// set, from the plan versions its parts recorded. requote said "re-rating
// bundles is not supported yet" and exited 1, as if the quote differed.
describe('requote of a bundle quote', { timeout: 180000 }, () => {
  let srv, plans, saved, savedText;
  const BUNDLE = readJson('examples/oh-bundle-auto-home.json');
  const keystoneHome = () => path.join(plans, 'keystone', 'oh-home-2026-01-01');
  const requote = (id) => runCli(['requote', '--db', srv.db, '--plans', plans, id]);
  const money = (v) => v.toFixed(2);
  /** The bundle line requote prints for saved bundle `b` when it is the same. */
  function sameLine(b) {
    const plan = (part, carrier) => saved[part].results.find((r) => r.carrier.id === carrier && r.status === 'quoted').plan;
    const side = (part) => {
      const p = plan(part, b.carrier.id);
      return `${part} ${p.id} ${p.version} ${money(b[part].total)}`;
    };
    return `  ${b.carrier.id.padEnd(12)} same     bundle: ${side('auto')}, ${side('home')}\n`;
  }

  before(async () => {
    plans = await copyPlans();
    srv = await startServer({ plans });
    const res = await fetch(`${srv.url}/v1/quotes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(BUNDLE),
    });
    assert.equal(res.status, 201);
    savedText = await res.text();
    saved = JSON.parse(savedText);
    assert.equal(saved.line, 'bundle');
    assert.deepEqual(saved.bundles.map((b) => b.carrier.id), ['summit', 'keystone', 'buckeye']);
  });
  after(async () => {
    if (srv) await srv.cleanup();
    if (plans) removeTemp(path.dirname(plans));
  });

  it('reproduces each part and each bundle exactly', async () => {
    const r = await requote(saved.quote_id);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^quote q_[0-9A-Z]+ of [^\n]+ \(bundle, effective 2026-03-01\)\nauto part:\n/);
    assert.match(r.stdout, /\n {2}harbor {7}same {5}harbor-oh-auto 2026-01-01 {2}quoted 714\.00\n/);
    assert.match(r.stdout, /\nhome part:\n(?: {2}[^\n]*\n)+bundles:\n/);
    assert.match(r.stdout, /\n {2}keystone {5}same {5}keystone-oh-home 2026-01-01 {2}quoted 1206\.00\n/);
    const bundles = r.stdout.slice(r.stdout.indexOf('bundles:\n') + 'bundles:\n'.length);
    assert.equal(bundles, saved.bundles.map(sameLine).join('') + 'reproduced exactly\n');
    assert.ok(bundles.includes('keystone     same     bundle: auto keystone-oh-auto 2026-01-01 535.00, home keystone-oh-home 2026-01-01 1177.00\n'));
  });

  it('a plan\'s multi-line discount edited in place: the bundle differs, its part alone does not, and the plan is named', async () => {
    const yaml = path.join(keystoneHome(), 'plan.yaml');
    const then = planDigest(keystoneHome());
    const y = readFileSync(yaml, 'utf8');
    const edited = y.replace('amount: 0.12, when: "default(bundle, false)"', 'amount: 0.15, when: "default(bundle, false)"')
      .replace('      cap: 0.25\n', '      cap: 0.30\n');
    assert.equal(edited.length, y.length, 'keystone oh-home plan.yaml changed; update this test');
    assert.notEqual(edited, y);
    writeFileSync(yaml, edited);
    const now = planDigest(keystoneHome());
    // what a bundle quoted now with these files costs, worked out by `quote`
    const file = path.join(path.dirname(plans), 'bundle.json');
    writeFileSync(file, JSON.stringify(BUNDLE));
    const q = await runCli(['quote', '--json', '--plans', plans, file]);
    assert.equal(q.code, 0, q.stderr);
    const keystoneNow = JSON.parse(q.stdout).bundles.find((b) => b.carrier.id === 'keystone');
    assert.equal(keystoneNow.auto.total, 535);
    assert.notEqual(keystoneNow.home.total, 1177);
    const r = await requote(saved.quote_id);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\n {2}keystone {5}same {5}keystone-oh-home 2026-01-01 {2}quoted 1206\.00\n/);
    assert.ok(
      r.stdout.includes(
        `\n  keystone     DIFFERS  bundle: auto keystone-oh-auto 2026-01-01 535.00, home keystone-oh-home 2026-01-01 ${money(keystoneNow.home.total)} (was 1177.00)\n` +
          `    plan keystone-oh-home 2026-01-01 was changed after this quote (digest then ${rec(then)}, now ${rec(now)})\n`,
      ),
      r.stdout,
    );
    assert.match(r.stdout, /\n {2}summit {7}same {5}bundle: /);
    assert.match(r.stdout, /\nNOT reproduced\n$/);
    writeFileSync(yaml, y);
  });

  it('a part\'s result worded otherwise: reproduced, its wording listed with the part', async () => {
    // Harbor's fee in the auto part renamed, as an older program might have worded it
    const at = savedText.indexOf('{"carrier":{"id":"harbor"', savedText.indexOf('"auto":{'));
    const fee = savedText.indexOf('{"name":"Policy fee","amount":18.0}', at);
    assert.ok(at > 0 && fee > at, 'the saved bundle changed; update this test');
    const edited = savedText.slice(0, fee) + '{"name":"Policy charge","amount":18.0}' + savedText.slice(fee + 35);
    const id = saved.quote_id.slice(0, -1) + (saved.quote_id.endsWith('Z') ? 'Y' : 'Z');
    const sql = (t) => `'${t.replaceAll("'", "''")}'`;
    execFileSync('sqlite3', [
      srv.db,
      'INSERT INTO quotes (id, created_at, line, effective_date, request, response, consent_contact, consent_at) ' +
        `SELECT ${sql(id)}, created_at, line, effective_date, ${sql(JSON.stringify(BUNDLE))}, ${sql(edited)}, 0, '' ` +
        `FROM quotes WHERE id = ${sql(saved.quote_id)};`,
    ]);
    const r = await requote(id);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\n {2}harbor {7}same {5}harbor-oh-auto 2026-01-01 {2}quoted 714\.00\n/);
    assert.ok(r.stdout.endsWith('\nreproduced exactly\nwording: 1 difference that changes nothing the quote promised ' +
      '(explanatory text, or members new since it)\n  harbor       (auto part) fees[0].name "Policy fee", was "Policy charge"\n'), r.stdout);
  });

  it('a plan version no longer loaded: its part and its bundle say MISSING', async () => {
    const dir = path.join(plans, 'buckeye', 'oh-home-2026-01-01');
    const away = path.join(path.dirname(plans), 'buckeye-home-away');
    renameSync(dir, away);
    try {
      const r = await requote(saved.quote_id);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /\n {2}buckeye {6}MISSING {2}plan buckeye-oh-home version 2026-01-01 is not loaded\n/);
      assert.match(r.stdout, /\n {2}buckeye {6}MISSING {2}bundle: plan buckeye-oh-home version 2026-01-01 is not loaded\n/);
      assert.match(r.stdout, /\nNOT reproduced\n$/);
    } finally {
      renameSync(away, dir);
    }
  });
});

// A saved quote's savings tips (`tips`: for the three quotes that cost
// least a month, each change the carrier's own plan prices lower, with its
// saving and new total) are worked out again by requote from the results it
// re-rated, with the same plan versions, and compared with the saved ones
// to the cent: by carrier, plan and what the tip changes, not its words.
// requote never looked at them: a deductible factor fixed in place moved a
// tip's saving and new total while requote said "reproduced exactly".
describe('requote works a saved quote\'s tips out again', { timeout: 240000 }, () => {
  let srv, plans, tmp;
  const q = {}; // name -> {id, text, body, request}
  const harborDir = () => path.join(plans, 'harbor', 'oh-auto-2026-01-01');
  const shopper = (f) => readJson(`tests/data/shoppers/${f}`);
  const money = (v) => v.toFixed(2);
  const requote = (id) => runCli(['requote', '--db', srv.db, '--plans', plans, id]);
  async function save(name, request) {
    const res = await fetch(`${srv.url}/v1/quotes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    const text = await res.text();
    assert.equal(res.status, 201, text);
    q[name] = { id: JSON.parse(text).quote_id, text, body: JSON.parse(text), request };
  }
  let copies = 0;
  /** A copy of saved quote `name` under a new id, its response text edited by `edit`. */
  function copyQuote(name, edit) {
    const { id, text, request } = q[name];
    const newId = id.slice(0, -2) + (id.endsWith('Z') ? 'Y' : 'Z') + 'HIJKLMNOP'[copies++];
    const sql = (t) => `'${t.replaceAll("'", "''")}'`;
    const edited = edit(text);
    assert.notEqual(edited, text, 'the edit changed nothing; update this test');
    execFileSync('sqlite3', [
      srv.db,
      `INSERT INTO quotes (id, created_at, line, effective_date, request, response, consent_contact, consent_at) ` +
        `SELECT ${sql(newId)}, created_at, line, effective_date, ${sql(JSON.stringify(request))}, ` +
        `${sql(edited)}, 0, '' FROM quotes WHERE id = ${sql(id)};`,
    ]);
    return newId;
  }
  /** What `multiquote quote` gives carrier's plan now for `request` (not requote's code). */
  async function totalNow(request, carrier) {
    const file = path.join(tmp, 'request.json');
    writeFileSync(file, JSON.stringify(request));
    const r = await runCli(['quote', '--json', '--plans', plans, file]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).results.find((x) => x.carrier.id === carrier).premium.total;
  }
  /** The request with every comprehensive and collision deductible at 1,000. */
  function deductiblesAt1000(request) {
    const x = structuredClone(request);
    for (const v of x.vehicles) for (const c of ['comp', 'coll']) if (v.coverages?.[c]) v.coverages[c].deductible = 1000;
    return x;
  }
  /** Edits a file of the plans for the length of fn. */
  async function withEdit(file, from, to, fn) {
    const before = readFileSync(file, 'utf8');
    assert.ok(before.includes(from), `${file} changed; update this test`);
    writeFileSync(file, before.replace(from, to));
    try {
      return await fn();
    } finally {
      writeFileSync(file, before);
    }
  }
  const tip = (body, carrier, start) => body.tips.find((t) => t.carrier === carrier && t.change.startsWith(start));

  before(async () => {
    plans = await copyPlans();
    tmp = path.dirname(plans);
    srv = await startServer({ plans });
    await save('auto', AUTO);
    await save('all', readJson('examples/oh-single-driver.json'));
    await save('young', shopper('oh-young-driver.json'));
    await save('home', shopper('home-oh-columbus-frame.json'));
    await save('renters', shopper('renters-oh-columbus.json'));
    await save('health', HEALTH);
    await save('life', shopper('life-oh-female-35-preferred.json'));
  });
  after(async () => {
    if (srv) await srv.cleanup();
    if (plans) removeTemp(tmp);
  });

  it('auto, home and renters quotes have tips and reproduce them; health and term life have none', async () => {
    // the tips each line's quote was saved with, as the server worked them out
    assert.deepEqual(q.auto.body.tips.map((t) => [t.carrier, t.saving, t.new_total]), [
      ['summit', 41.16, 501.82], ['summit', 33.42, 509.56], ['harbor', 51, 663], ['harbor', 43, 671],
    ]);
    assert.ok(q.young.body.tips.some((t) => t.change === 'Drop collision on v1 (11 years old)'));
    assert.ok(q.all.body.tips.some((t) => t.change.startsWith('Insure your home ')));
    assert.deepEqual(tip(q.home.body, 'keystone', 'Raise the all-peril'), {
      carrier: 'keystone', plan: 'keystone-oh-home', change: 'Raise the all-peril deductible to 2,500', saving: 159, new_total: 1047,
    });
    assert.equal(tip(q.renters.body, 'summit', 'Raise the all-peril').new_total, 119.5);
    for (const name of ['auto', 'all', 'young', 'home', 'renters']) {
      const r = await requote(q[name].id);
      assert.equal(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
      assert.ok(q[name].body.tips.length > 0, name);
      assert.ok(r.stdout.endsWith(`\ntips: ${q[name].body.tips.length} the same\nreproduced exactly\n`), `${name}: ${r.stdout}`);
    }
    for (const name of ['health', 'life']) {
      assert.deepEqual(q[name].body.tips, [], name);
      const r = await requote(q[name].id);
      assert.equal(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stdout, /tips/, name);
      assert.match(r.stdout, /\nreproduced exactly\n$/, name);
    }
  });

  it('a deductible factor fixed in place: the result reproduces, its tip does not, and the plan is named', async () => {
    const then = planDigest(harborDir());
    await withEdit(path.join(harborDir(), 'deductible.csv'), '\n1000,0.82,0.80\n', '\n1000,0.80,0.78\n', async () => {
      const now = planDigest(harborDir());
      // the shopper's 500 deductibles are as they were: Harbor still 714.00
      assert.equal(await totalNow(AUTO, 'harbor'), 714);
      const raised = await totalNow(deductiblesAt1000(AUTO), 'harbor');
      // comp 52.00 -> 41.00 and coll 205.00 -> 160.00 at 1,000 (factors 0.80, 0.78; 43.00 and 164.00 then)
      assert.equal(raised, 658);
      const r = await requote(q.auto.id);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(r.stdout.slice(r.stdout.indexOf('\n') + 1),
        '  summit       same     summit-oh-auto 2025-11-15  quoted 542.98\n' +
        '  harbor       same     harbor-oh-auto 2026-01-01  quoted 714.00\n' +
        'tips: 3 the same, 1 differs\n' +
        `  harbor       DIFFERS  Raise comprehensive and collision deductibles to 1,000: saving ${money(714 - raised)}, new total ${money(raised)} (was saving 51.00, new total 663.00)\n` +
        `    plan harbor-oh-auto 2026-01-01 was changed after this quote (digest then ${rec(then)}, now ${rec(now)})\n` +
        'NOT reproduced\n');
    });
  });

  it('a tip that no longer saves is missing; a quote whose tips were saved otherwise has a new one', async () => {
    const then = planDigest(harborDir());
    await withEdit(path.join(harborDir(), 'deductible.csv'), '\n1000,0.82,0.80\n', '\n1000,1.00,1.00\n', async () => {
      const r = await requote(q.auto.id);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.ok(r.stdout.endsWith(
        '  harbor       same     harbor-oh-auto 2026-01-01  quoted 714.00\n' +
        'tips: 3 the same, 1 missing\n' +
        '  harbor       MISSING  Raise comprehensive and collision deductibles to 1,000: no such tip now (was saving 51.00, new total 663.00)\n' +
        `    plan harbor-oh-auto 2026-01-01 was changed after this quote (digest then ${rec(then)}, now ${rec(planDigest(harborDir()))})\n` +
        'NOT reproduced\n'), r.stdout);
    });
    // the quote as a program that gave Harbor no deductible tip would have saved it: the files are the same
    const id = copyQuote('auto', (t) => t.replace(/\{"carrier":"harbor","plan":"harbor-oh-auto","change":"Raise [^{}]*\},/, ''));
    const r = await requote(id);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.ok(r.stdout.endsWith(
      'tips: 3 the same, 1 new\n' +
      '  harbor       NEW      Raise comprehensive and collision deductibles to 1,000: saving 51.00, new total 663.00 (no such tip then)\n' +
      `    plan harbor-oh-auto 2026-01-01 is the same as then (digest ${rec(then)}): the tips are worked out differently ` +
      '(this program, or the state\'s minimum limits or the carrier\'s other plans it reads)\n' +
      'NOT reproduced\n'), r.stdout);
  });

  it('what a tip changes is compared, not only its kind: other limits are a tip missing and one new', async () => {
    const id = copyQuote('auto', (t) => t.replace('"carrier":"harbor","plan":"harbor-oh-auto","change":"Lower bodily injury limits to 50,000/100,000,',
      '"carrier":"harbor","plan":"harbor-oh-auto","change":"Lower bodily injury limits to 25,000/50,000,'));
    const r = await requote(id);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout,
      /\ntips: 3 the same, 1 new, 1 missing\n {2}harbor {7}MISSING {2}Lower bodily injury limits to 25,000\/50,000, still above the legal minimum, and uninsured motorist limits with them: no such tip now \(was saving 43\.00, new total 671\.00\)\n {2}harbor {7}NEW {6}Lower bodily injury limits to 50,000\/100,000, still above the legal minimum, and uninsured motorist limits with them: saving 43\.00, new total 671\.00 \(no such tip then\)\n {4}plan harbor-oh-auto 2026-01-01 is the same as then/);
  });

  it('a saved tip\'s figures edited: it differs, to the cent', async () => {
    const id = copyQuote('home', (t) => t.replace('"change":"Raise the all-peril deductible to 2,500","saving":159.0,"new_total":1047.0}',
      '"change":"Raise the all-peril deductible to 2,500","saving":159.0,"new_total":1047.01}'));
    const r = await requote(id);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\n {2}keystone {5}DIFFERS {2}Raise the all-peril deductible to 2,500: saving 159\.00, new total 1047\.00 \(was saving 159\.00, new total 1047\.01\)\n {4}plan keystone-oh-home 2026-01-01 is the same as then \(digest [0-9a-f]{16}\): /);
    assert.match(r.stdout, /\ntips: 4 the same, 1 differs\n/);
  });

  it('tips in an older wording, without their plan: the same, as their figures are', async () => {
    const old = (t) => t
      // before tips named the deductibles they raise, and the uninsured motorist limits that follow
      .replaceAll('"change":"Raise the collision deductible to 1,000"', '"change":"Raise comprehensive and collision deductibles to 1,000"')
      .replaceAll(', and uninsured motorist limits with them"', '"')
      // before a bundle tip said which policy the carrier writes
      .replaceAll('"change":"Insure your home with the same carrier too (its multi-line discount on this policy)"',
        '"change":"Insure your home or rented home with the same carrier too (multi-line discount on this policy)"')
      .replace(/"tips":\[.*\]\}$/, (tips) => tips.replace(/"plan":"[^"]*",/g, ''));
    for (const name of ['all', 'young']) {
      const id = copyQuote(name, old);
      const r = await requote(id);
      assert.equal(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
      // ...and each tip worded otherwise is listed under the verdict, the words that differ shown
      const was = JSON.parse(old(q[name].text)).tips;
      const reworded = q[name].body.tips.map((t, i) => [t, i]).filter(([t, i]) => t.change !== was[i].change);
      assert.ok(reworded.length > 0, name);
      const lines = reworded.map(([t, i]) => `  ${t.carrier.padEnd(12)} tips[${i}].change `);
      const head = `\ntips: ${q[name].body.tips.length} the same\nreproduced exactly\nwording: ${reworded.length} ` +
        `${reworded.length === 1 ? 'difference that changes' : 'differences that change'} nothing the quote promised ` +
        '(explanatory text, or members new since it)\n';
      assert.ok(r.stdout.includes(head), r.stdout);
      const listed = r.stdout.slice(r.stdout.indexOf(head) + head.length).split('\n').slice(0, -1);
      assert.deepEqual(listed.map((l, k) => l.slice(0, lines[k]?.length)), lines, r.stdout);
      if (name === 'all')
        assert.ok(listed.includes('  summit       tips[1].change ...he legal minimum, and uninsured motorist limits with them..., was ...he legal minimum"'), r.stdout);
    }
    // ...but the same words of another vehicle's collision are another tip
    const id = copyQuote('young', (t) => t.replace('"change":"Drop collision on v1 (11 years old)"', '"change":"Drop collision on v2 (11 years old)"'));
    const r = await requote(id);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\n {2}[a-z]+ +MISSING {2}Drop collision on v2 \(11 years old\): no such tip now/);
    assert.match(r.stdout, /\n {2}[a-z]+ +NEW {6}Drop collision on v1 \(11 years old\): saving /);
  });

  it('a quote saved before tips were: not compared, and said so', async () => {
    const id = copyQuote('auto', (t) => t.replace(/,"tips":\[.*\]\}$/, '}'));
    const r = await requote(id);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(r.stdout.endsWith('\ntips: none recorded (the quote was saved before tips were): 4 now, not compared\nreproduced exactly\n'), r.stdout);
  });

  it('a result that moved: its tips in one line; a carrier that came among the cheapest: its tips new, and why', async () => {
    // Keystone (585.00, the second cheapest a month) at 30.00 more: Three Rivers (604.00) takes its place
    const yaml = path.join(plans, 'keystone', 'oh-auto-2026-01-01', 'plan.yaml');
    await withEdit(yaml, '{name: Policy fee, amount: 20.00}', '{name: Policy fee, amount: 50.00}', async () => {
      const r = await requote(q.all.id);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /\n {2}keystone {5}DIFFERS {2}keystone-oh-auto 2026-01-01 {2}quoted 615\.00 \(was 585\.00\)/);
      const tips = r.stdout.slice(r.stdout.indexOf('\ntips: ') + 1);
      const three = q.all.body.tips.filter((t) => t.carrier === 'keystone').length;
      assert.equal(three, 3);
      assert.match(tips, new RegExp(`^tips: 5 the same, 2 new, ${three} missing\\n`));
      assert.ok(tips.includes(`\n  keystone     DIFFERS  its tips: ${three} missing (worked out from its result, which differs)\n`), tips);
      assert.doesNotMatch(tips, /keystone +MISSING/);
      assert.match(tips, /\n {2}threerivers {2}NEW {6}[^\n]*\(no such tip then\)\n(?: {2}threerivers {2}NEW [^\n]*\n)* {4}threerivers is now among the 3 quotes that cost least a month, which get tips \(it was not then\)\nNOT reproduced\n$/);
    });
  });

  it('a plan version no longer loaded: the tips are not compared (they follow from every result)', async () => {
    const away = path.join(tmp, 'harbor-away');
    renameSync(path.join(plans, 'harbor'), away);
    try {
      const r = await requote(q.auto.id);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.ok(r.stdout.includes('\n  harbor       MISSING  plan harbor-oh-auto version 2026-01-01 is not loaded\n'), r.stdout);
      assert.ok(r.stdout.endsWith('\n  summit       same     summit-oh-auto 2025-11-15  quoted 542.98\n' +
        'tips: not compared: they are worked out from every result, and a result\'s plan version is not loaded\n' +
        'NOT reproduced\n'), r.stdout);
    } finally {
      renameSync(away, path.join(plans, 'harbor'));
    }
  });
});
