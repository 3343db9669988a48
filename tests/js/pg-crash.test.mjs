// pg-crash.test.mjs -- PostgreSQL itself crashes under load, under two nodes.
//
// Its own cluster (tests/pg/cluster.sh; its "crash" kills it as a power cut
// would and a second later starts it again on the same port, through crash
// recovery), its database set to synchronous_commit = off, as a DBA might
// for speed, and its WAL writer slowed down so such commits wait seconds
// for the disk. Clients post to both nodes while it goes down and comes
// back. Checked: while it is down a save is refused with the storage_error
// answer (500); every quote answered 201 is there afterwards, byte for
// byte, read through the other node (the nodes' sessions commit
// synchronously whatever the database says), and no more than the refused
// ones besides; the nodes save again as soon as the database is back (no
// restart, no lingering failures: their pooled connections, all broken,
// are reconnected), and neither store is left in the failed state.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, makeTemp, sleep, startServer, stopAll } from './lib/server.mjs';

const REQUEST = readFileSync(path.join(REPO_ROOT, 'examples', 'oh-single-driver.json'), 'utf8');
const REFUSED = '{"error":{"code":"storage_error","message":"the quote could not be saved; nothing was stored","path":""}}';
// a save whose connection was lost during its COMMIT: its outcome is not known
const UNKNOWN = /^\{"error":\{"code":"storage_error","message":"the quote could not be confirmed as saved: the connection to the database was lost while it was being committed, so it may or may not have been stored; GET \/v1\/quotes\/q_[0-9A-Z]{36} later says whether it was","path":""\}\}$/;

function cluster(args) {
  const r = spawnSync('bash', [path.join(REPO_ROOT, 'tests', 'pg', 'cluster.sh'), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cluster.sh ${args[0]} failed: ${r.stderr}`);
  return r.stdout.trim();
}

function psql(base, sql, db = `${base}/postgres`) {
  const r = spawnSync('psql', ['-qAt', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql ${sql}: ${r.stderr}`);
  return r.stdout.trim();
}

/** cluster.sh crash, without blocking the clients meanwhile. */
function crash(dir) {
  return new Promise((resolve, reject) => {
    const p = spawn('bash', [path.join(REPO_ROOT, 'tests', 'pg', 'cluster.sh'), 'crash', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`cluster.sh crash failed: ${stderr}`))));
  });
}

describe('PostgreSQL crashes under two nodes', () => {
  let pgDir;
  let db;
  let a, b;

  before(async () => {
    pgDir = makeTemp('mq-pg-crash-');
    const base = cluster(['start', pgDir]);
    db = `${base}/mq_nodes`;
    // a DBA's "speed-up": commits return before their WAL is on disk, and
    // the WAL writer flushes only every 10 s (so a crash loses seconds of
    // them); the nodes must still acknowledge only what is on disk
    psql(base, 'ALTER DATABASE mq_nodes SET synchronous_commit = off');
    psql(base, "ALTER SYSTEM SET wal_writer_delay = '10s'");
    psql(base, 'SELECT pg_reload_conf()');
    const keys = path.join(makeTemp('mq-pg-crash-keys-'), 'multiquote.key');
    a = await startServer({ db, args: ['--key-file', keys] });
    b = await startServer({ db, args: ['--key-file', keys] });
  });

  after(async () => {
    // the cluster first: stopAll removes every temporary folder, the
    // cluster's too, and PostgreSQL would run on without its folder
    if (pgDir) cluster(['stop', pgDir]);
    await stopAll();
  });

  it('no acknowledged quote is lost, a save refused while it is down says so, and saving resumes once it is back', async () => {
    const acked = new Map(); // id -> 201 body
    const outcomes = []; // {start, status}
    let stop = false;
    const t0 = Date.now();
    const client = async (k) => {
      for (let n = k; !stop; n++) {
        const node = n % 2 ? a : b;
        const start = Date.now() - t0;
        try {
          const res = await fetch(`${node.url}/v1/quotes`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: REQUEST });
          const text = await res.text();
          outcomes.push({ start, status: res.status });
          if (res.status === 201) acked.set(JSON.parse(text).quote_id, text);
          else if (!UNKNOWN.test(text)) assert.equal(text, REFUSED, `answer ${res.status}`);
        } catch (e) {
          if (e.code === 'ERR_ASSERTION') throw e;
          outcomes.push({ start, status: `network: ${e.message}` });
        }
      }
    };
    const clients = Array.from({ length: 6 }, (_, k) => client(k));
    await sleep(1000);
    const down = Date.now() - t0;
    await crash(pgDir); // down for a second, then back through crash recovery
    const back = Date.now() - t0;
    await sleep(1500);
    stop = true;
    await Promise.all(clients);

    const before = outcomes.filter((o) => o.start < down);
    const after = outcomes.filter((o) => o.start > back + 300);
    assert.ok(before.filter((o) => o.status === 201).length > 20, 'too few quotes before the crash');
    assert.ok(after.length > 20, `only ${after.length} requests once it was back`);
    // once the database is back, every save succeeds: no lingering failures
    assert.deepEqual(
      after.filter((o) => o.status !== 201),
      [],
      'a save failed after the database was back',
    );
    const refused = outcomes.filter((o) => o.status !== 201);
    assert.ok(refused.every((o) => o.status === 500), JSON.stringify(refused.slice(0, 5)));
    // every acknowledged quote is there, read through the other node
    for (const [id, text] of acked) {
      const res = await fetch(`${a.url}/v1/quotes/${id}`);
      assert.equal(res.status, 200, `quote ${id} (acknowledged) is missing`);
      assert.equal(await res.text(), text, `quote ${id} differs`);
    }
    // a refused save may have committed just before the crash (its answer
    // lost with the connection), never more than those
    const total = Number(psql(null, 'SELECT count(*) FROM quotes', db));
    assert.ok(total >= acked.size && total <= acked.size + refused.length, `${total} quotes`);
    // each node's /healthz counts its own saves (without counting the table):
    // together, every acknowledged quote, and none of the refused
    const kept = [];
    for (const node of [a, b]) kept.push((await (await fetch(`${node.url}/healthz`)).json()).quotes_saved);
    assert.ok(kept[0] + kept[1] >= acked.size && kept[0] + kept[1] <= total, JSON.stringify(kept));
    for (const node of [a, b]) {
      const health = await fetch(`${node.url}/healthz`);
      assert.equal(health.status, 200);
      assert.equal((await health.json()).status, 'ok');
      const metrics = await (await fetch(`${node.url}/metrics`)).text();
      assert.match(metrics, /^mq_store_failed 0$/m);
    }
    console.log(`# ${acked.size} acknowledged, ${refused.length} refused while it was down (${back - down} ms)`);
  });
});
