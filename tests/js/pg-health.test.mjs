// pg-health.test.mjs -- what /healthz and the log say while the shared
// PostgreSQL database hangs or is down, under one node.
//
// Its own cluster (tests/pg/cluster.sh). Checked: /healthz never queries
// the database, so every probe answers within a second even while the
// database hangs (its processes stopped with SIGSTOP), and it says 503 with
// the reason once the database has not answered for a few seconds, then 200
// again once it does; quotes_saved follows the node's saves without a count.
// While the database is down (cluster.sh crash, down for seconds) /healthz
// answers 503 "cannot be reached" instead of 200 "ok"; failed saves are
// logged a line a second at most, the lines adding up to every failure
// (those left when the failures stop: by the next /metrics or /healthz);
// a failed read is logged (without the shopper's data); and once the
// database is back the node saves again and /healthz says ok. A save whose
// connection is lost during its COMMIT answers that it may or may not have
// been stored (and where to look), one that fails before says nothing was
// stored, and a full disk (SQLSTATE 53100) fails that save only: the next
// one is stored and the node stays in service.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, makeTemp, sleep, startServer, stopAll } from './lib/server.mjs';

const REQUEST = readFileSync(path.join(REPO_ROOT, 'examples', 'oh-single-driver.json'), 'utf8');

function cluster(args, env = {}) {
  const r = spawnSync('bash', [path.join(REPO_ROOT, 'tests', 'pg', 'cluster.sh'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) throw new Error(`cluster.sh ${args[0]} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** cluster.sh crash (down for `seconds`), without blocking the test meanwhile. */
function crash(dir, seconds) {
  return new Promise((resolve, reject) => {
    const p = spawn('bash', [path.join(REPO_ROOT, 'tests', 'pg', 'cluster.sh'), 'crash', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, MQ_PG_DOWN_SECONDS: String(seconds) },
    });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`cluster.sh crash failed: ${stderr}`))));
  });
}

/** The cluster's server process and its children (backends included). */
function clusterPids(dir) {
  const main = Number(readFileSync(path.join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const kids = spawnSync('ps', ['-o', 'pid=', '--ppid', String(main)], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => Number(l.trim()))
    .filter(Boolean);
  return [main, ...kids];
}

/** GET path with a deadline: {status, body, ms}, or {status: 'timeout'}. */
async function probe(node, p, ms = 1000) {
  const t0 = Date.now();
  try {
    const res = await fetch(`${node.url}${p}`, { signal: AbortSignal.timeout(ms) });
    const text = await res.text();
    return { status: res.status, body: p === '/healthz' ? JSON.parse(text) : text, ms: Date.now() - t0 };
  } catch (e) {
    return { status: 'timeout', error: e.message, ms: Date.now() - t0 };
  }
}

async function post(node) {
  const res = await fetch(`${node.url}/v1/quotes`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: REQUEST });
  return { status: res.status, body: await res.json() };
}

describe('/healthz and the log while PostgreSQL hangs or is down', () => {
  let pgDir;
  let node;
  let db;
  let keys;
  let crashing = null; // a cluster.sh crash under way: waited for before the cluster is stopped

  /** Runs SQL in the nodes' database. */
  function psql(sql) {
    const r = spawnSync('psql', ['-qAt', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', sql], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`psql ${sql}: ${r.stderr}`);
    return r.stdout.trim();
  }

  before(async () => {
    pgDir = makeTemp('mq-pg-health-');
    const base = cluster(['start', pgDir]);
    db = `${base}/mq_nodes`;
    keys = path.join(makeTemp('mq-pg-health-keys-'), 'multiquote.key');
    node = await startServer({ db, args: ['--key-file', keys] });
  });

  after(async () => {
    // a test that failed early leaves its crash restarting the server: once
    // it is back, stop it; and the cluster before stopAll, which removes
    // every temporary folder, the cluster's too (PostgreSQL would run on)
    if (crashing) await crashing.catch(() => {});
    if (pgDir) cluster(['stop', pgDir]);
    await stopAll();
  });

  it('counts the saves without counting the table', async () => {
    let h = await probe(node, '/healthz');
    assert.equal(h.status, 200);
    assert.equal(h.body.status, 'ok');
    assert.equal(h.body.quotes_saved, 0);
    for (let i = 0; i < 3; i++) assert.equal((await post(node)).status, 201);
    h = await probe(node, '/healthz');
    assert.equal(h.body.quotes_saved, 3);
  });

  it('answers every probe within a second while the database hangs, 503 once it has not answered for seconds', async () => {
    const pids = clusterPids(pgDir);
    const seen = [];
    try {
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      const t0 = Date.now();
      while (Date.now() - t0 < 10000) {
        const h = await probe(node, '/healthz');
        seen.push(h);
        if (h.status === 503) break;
        await sleep(250);
      }
      const metrics = await probe(node, '/metrics');
      assert.equal(metrics.status, 200, 'metrics answered too');
      assert.match(metrics.body, /^mq_store_healthy 0$/m); // what /healthz says, for an alert
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    assert.deepEqual(seen.filter((h) => h.status === 'timeout'), [], 'a probe hung');
    const last = seen[seen.length - 1];
    assert.equal(last.status, 503, JSON.stringify(seen.slice(-3)));
    assert.equal(last.body.status, 'failing');
    assert.match(last.body.problem, /^the database has not answered for \d+ s: saves wait for it$/);
    assert.equal(last.body.quotes_saved, 3);
    let h;
    for (let i = 0; i < 40; i++) {
      h = await probe(node, '/healthz');
      if (h.status === 200) break;
      await sleep(250);
    }
    assert.equal(h.status, 200, JSON.stringify(h));
    assert.equal(h.body.status, 'ok');
    assert.match((await probe(node, '/metrics')).body, /^mq_store_healthy 1$/m);
    // the log says when it was over, not only when it began
    const failing = node.events().findLastIndex((e) => e.event === 'health_failing');
    assert.ok(failing >= 0);
    const ok = node.events().slice(failing).find((e) => e.event === 'health_ok');
    assert.equal(ok?.message, 'the node can save quotes again');
    assert.equal((await post(node)).status, 201);
  });

  it('a save the stalled database does not confirm within --save-timeout is answered 503 storage_timeout, and stored once it answers', async () => {
    const quick = await startServer({ db, args: ['--key-file', keys, '--save-timeout', '2'] });
    const pids = clusterPids(pgDir);
    let res;
    let ms;
    let stream;
    try {
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      const t0 = Date.now();
      const post = (accept) =>
        fetch(`${quick.url}/v1/quotes`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: accept },
          body: REQUEST,
          signal: AbortSignal.timeout(15000),
        });
      const [r, s] = await Promise.all([post('application/json'), post('text/event-stream')]);
      res = { status: r.status, body: await r.json() };
      ms = Date.now() - t0;
      stream = await s.text();
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.ok(ms >= 1900 && ms < 6000, `answered after ${ms} ms`);
    assert.equal(res.body.error.code, 'storage_timeout');
    const m = /^the database did not confirm the quote within 2 s, so it is not known whether it was stored: it may still be saved once the database answers; GET \/v1\/quotes\/(q_[0-9A-HJKMNP-TV-Z]{36}) later says whether it was$/.exec(res.body.error.message);
    assert.ok(m, res.body.error.message);
    // the web page's event stream ends with the same error as its last event
    const last = stream.trim().split('\n\n').at(-1);
    assert.match(last, /^event: error\ndata: \{"error":\{"code":"storage_timeout","message":"the database did not confirm the quote within 2 s, so it is not known whether it was stored: it may still be saved once the database answers; GET \/v1\/quotes\/q_[0-9A-HJKMNP-TV-Z]{36} later says whether it was","path":""\}\}$/);
    const streamedId = /GET \/v1\/quotes\/(q_[0-9A-HJKMNP-TV-Z]{36})/.exec(last)[1];
    // the database answers again: the commit that was under way ends, and
    // the quote answered 503 was stored after all
    let metrics = '';
    for (let i = 0; i < 60 && !/^mq_store_late_saves_total\{outcome="stored"\} 2$/m.test(metrics); i++) {
      await sleep(250);
      metrics = (await probe(quick, '/metrics')).body;
    }
    assert.match(metrics, /^mq_store_save_timeouts_total 2$/m);
    assert.match(metrics, /^mq_store_late_saves_total\{outcome="stored"\} 2$/m);
    assert.match(metrics, /^mq_store_late_saves_total\{outcome="failed"\} 0$/m);
    for (const id of [m[1], streamedId]) {
      const read = await fetch(`${quick.url}/v1/quotes/${id}`);
      assert.equal(read.status, 200);
      assert.equal((await read.json()).quote_id, id);
    }
    assert.equal((await post(quick)).status, 201);
    // a line a second at most: the second quote's comes within a second
    const logged = () => quick.events().filter((e) => e.event === 'save_timed_out').reduce((n, e) => n + e.quotes, 0);
    for (let i = 0; i < 30 && logged() < 2; i++) await sleep(100);
    assert.equal(logged(), 2);
    const info = await quick.stop(); // exits 0: nothing is left in the store
    assert.equal(info.code, 0, quick.logs().slice(-1500));
  });

  it('says 503 while the database is down, logs failures a line a second, and saves again once it is back', async () => {
    const saved = await post(node);
    assert.equal(saved.status, 201);
    const since = node.events().length;
    const down = (crashing = crash(pgDir, 6));
    // wait for the first failure: the database is down from then on
    let first;
    for (let i = 0; i < 100; i++) {
      first = await post(node);
      if (first.status !== 201) break;
      await sleep(50);
    }
    assert.equal(first.status, 500);
    let failures = 1;
    const t0 = Date.now();
    while (Date.now() - t0 < 1500) {
      const r = await post(node);
      assert.equal(r.status, 500);
      assert.equal(r.body.error.code, 'storage_error');
      failures++;
    }
    await sleep(1100);
    assert.equal((await post(node)).status, 500); // its line counts the ones before it
    failures++;
    for (let i = 0; i < 5; i++) {
      assert.equal((await post(node)).status, 500); // no line of their own...
      failures++;
    }
    await sleep(1100);
    await probe(node, '/metrics'); // ...but logged once the failures stop
    const h = await probe(node, '/healthz');
    assert.equal(h.status, 503, JSON.stringify(h));
    assert.equal(h.body.status, 'failing');
    assert.equal(h.body.problem, "the database cannot be reached (the server's log says why)");
    await node.waitForLog((e) => e.event === 'health_failing' && /^the database cannot be reached: /.test(e.message), { timeoutMs: 5000 });
    const read = await fetch(`${node.url}/v1/quotes/${saved.body.quote_id}`);
    assert.equal(read.status, 500);
    assert.equal((await read.json()).error.code, 'storage_error');
    await down;

    const events = node.events().slice(since);
    const lines = events.filter((e) => e.event === 'store_error');
    // a failure's line, maybe counting the ones before it without a line;
    // or, once they stop, a line counting those left
    const counted = lines.map((e) => {
      const left = /^(\d+) more since the last such line, the last: ./.exec(e.message);
      if (left) return Number(left[1]);
      const more = /\(and (\d+) more since the last such line\)$/.exec(e.message);
      return 1 + (more ? Number(more[1]) : 0);
    });
    assert.ok(failures > 20, `only ${failures} failures`);
    assert.ok(lines.length >= 3 && lines.length <= 6, `${lines.length} lines for ${failures} failures`);
    assert.match(lines[lines.length - 1].message, /^5 more since the last such line, the last: /);
    assert.equal(counted.reduce((a, b) => a + b, 0), failures, 'every failure counted');
    const reads = events.filter((e) => e.event === 'store_read_error');
    assert.equal(reads.length, 1);
    assert.match(reads[0].message, /^(read: |postgresql: cannot connect: )/); // the database's reason
    for (const e of [...lines, ...reads]) assert.doesNotMatch(e.message, /Dana|Reyes/);

    let back;
    for (let i = 0; i < 40; i++) {
      back = await probe(node, '/healthz');
      if (back.status === 200) break;
      await sleep(250);
    }
    assert.equal(back.status, 200, JSON.stringify(back));
    assert.equal((await post(node)).status, 201);
  });

  it('a save whose connection is lost during its COMMIT says it may have been stored, not that nothing was', async () => {
    // at COMMIT, a deferred trigger ends its own session: the answer to
    // COMMIT never comes (here the transaction did not commit)
    psql(`CREATE FUNCTION mq_test_lost() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$;
          CREATE CONSTRAINT TRIGGER mq_test_lost AFTER INSERT ON quotes
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION mq_test_lost()`);
    let lost;
    try {
      lost = await post(node);
    } finally {
      psql('DROP FUNCTION mq_test_lost() CASCADE');
    }
    assert.equal(lost.status, 500);
    assert.equal(lost.body.error.code, 'storage_error');
    const m = /^the quote could not be confirmed as saved: the connection to the database was lost while it was being committed, so it may or may not have been stored; GET \/v1\/quotes\/(q_[0-9A-Z]{36}) later says whether it was$/.exec(lost.body.error.message);
    assert.ok(m, lost.body.error.message);
    assert.equal((await fetch(`${node.url}/v1/quotes/${m[1]}`)).status, 404); // as it turned out
    // a save that fails before COMMIT still says nothing was stored
    psql(`CREATE FUNCTION mq_test_refuse() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$;
          CREATE TRIGGER mq_test_refuse BEFORE INSERT ON quotes FOR EACH ROW EXECUTE FUNCTION mq_test_refuse()`);
    let full;
    try {
      full = await post(node);
    } finally {
      psql('DROP FUNCTION mq_test_refuse() CASCADE');
    }
    assert.equal(full.status, 500);
    assert.deepEqual(full.body, { error: { code: 'storage_error', message: 'the quote could not be saved; nothing was stored', path: '' } });
    // a full disk is not a failed store: the next save is stored, and the node stays in service
    assert.equal((await post(node)).status, 201);
    assert.equal((await probe(node, '/healthz')).status, 200);
  });
});
