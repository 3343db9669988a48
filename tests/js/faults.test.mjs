// faults.test.mjs -- a failing disk loses nothing and is not retried.
//
// The server runs with MQ_FAULT (src/store/store_fault.c), so SQLite's Nth
// write fails with an I/O error or "disk full", or its Nth fsync fails.
// Quotes are saved one after another: those before the fault answer 201;
// the one the fault hits answers a JSON 5xx; every later one a JSON 503
// (the store refuses writes after a failed write or flush instead of
// retrying it: the kernel may have dropped the pages it could not write)
// while reads go on. Restarted without the fault, the database holds
// exactly the quotes that were answered 201, byte for byte, passes
// PRAGMA integrity_check, and takes new quotes. `multiquote forget` with
// each of its fsyncs failing in turn answers what the database then holds.
//
// Run: MQ_BIN=build/multiquote node --test --test-reporter=tap tests/js/faults.test.mjs
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, copyFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT, startServer, stopAll, makeTemp, rawRequest, runCli } from './lib/server.mjs';

process.env.MQ_KEY = 'subject ' + '3c'.repeat(32) + '\nkey 1 ' + '4d'.repeat(32) + '\n';
const BODY = readFileSync(path.join(REPO_ROOT, 'examples', 'oh-single-driver.json'), 'utf8');
const POSTS = 6;

const post = (srv) =>
  rawRequest(`${srv.url}/v1/quotes`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: BODY });

/** A migrated, empty database to copy (its creation writes a lot). */
async function emptyDatabase() {
  const dir = makeTemp('mq-faults-');
  const db = path.join(dir, 'empty.db');
  const srv = await startServer({ db });
  await srv.stop();
  return db;
}

async function startWithFault(db, spec) {
  process.env.MQ_FAULT = spec;
  try {
    return await startServer({ db });
  } finally {
    delete process.env.MQ_FAULT;
  }
}

describe('a failing disk: JSON 5xx, nothing partial, no retry', () => {
  after(stopAll);
  let empty;
  const survivors = {}; // spec -> quotes answered 201 before the fault

  for (const spec of ['sync:1', 'sync:3', 'sync:5', 'write:1', 'write:40', 'full:1', 'full:40']) {
    it(`MQ_FAULT=${spec}`, async () => {
      empty ??= await emptyDatabase();
      const db = path.join(path.dirname(empty), `${spec.replace(':', '-')}.db`);
      copyFileSync(empty, db);
      let srv = await startWithFault(db, spec);
      const ok = new Map(); // id -> answer
      const statuses = [];
      try {
        for (let i = 0; i < POSTS; i++) {
          const res = await post(srv);
          statuses.push(res.status);
          if (res.status === 201) {
            assert.equal(statuses.filter((s) => s !== 201).length, 0, 'a 201 after a failure');
            ok.set(JSON.parse(res.text).quote_id, res.text);
            continue;
          }
          assert.match(res.headers['content-type'], /^application\/json/);
          const err = JSON.parse(res.text).error;
          const first = statuses.filter((s) => s !== 201).length === 1;
          if (first) assert.ok(res.status === 500 || res.status === 503, `${res.status} ${res.text}`);
          else assert.equal(res.status, 503, res.text); // refused, not retried
          if (res.status === 503) {
            assert.equal(err.code, 'storage_unavailable');
            assert.match(err.message, /refuses writes since a write to its disk failed or its file was moved away; nothing was stored/);
          }
        }
        assert.ok(statuses.some((s) => s !== 201), `the fault never hit: ${statuses}`);
        // the failed state is logged once, with the store's reason, when it refuses
        // (before the answer is sent; but its line may reach us after the answer)
        if (statuses.includes(503)) {
          await srv.waitForLog((e) => e.event === 'store_failed', { timeoutMs: 5000 });
          const logged = srv.events().filter((e) => e.event === 'store_failed');
          assert.equal(logged.length, 1, srv.logs());
          assert.ok(logged[0].message.length > 0);
          assert.match(logged[0].ts, /^\d{4}-\d\d-\d\dT/);
          // out of service for a load balancer, and on /metrics
          const health = await rawRequest(`${srv.url}/healthz`);
          assert.equal(health.status, 503, health.text);
          const h = JSON.parse(health.text);
          assert.equal(h.status, 'failing');
          assert.equal(h.problem, "the database refuses writes since a write to its disk failed or its file was moved away; the operator must fix it and restart the server (the server's log says why)");
          const said = await srv.waitForLog((e) => e.event === 'health_failing', { timeoutMs: 5000 });
          assert.match(said.message, /^the database refuses writes \(.+\); restart once the disk or the file is fixed$/);
          assert.match((await rawRequest(`${srv.url}/metrics`)).text, /^mq_store_failed 1$/m);
        }
        for (const [id, text] of ok) {
          const got = await rawRequest(`${srv.url}/v1/quotes/${id}`);
          assert.equal(got.status, 200); // reads go on
          assert.equal(got.text, text);
        }
      } finally {
        await srv.stop();
      }
      survivors[spec] = ok.size;
      srv = await startServer({ db });
      try {
        const health = JSON.parse((await rawRequest(`${srv.url}/healthz`)).text);
        assert.equal(health.status, 'ok');
        assert.equal(health.quotes_saved, ok.size, `statuses ${statuses}`); // nothing partial
        for (const [id, text] of ok) assert.equal((await rawRequest(`${srv.url}/v1/quotes/${id}`)).text, text);
        assert.equal((await post(srv)).status, 201); // the disk is fine again
      } finally {
        await srv.stop();
      }
      assert.equal(execFileSync('sqlite3', [db, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim(), 'ok');
    });
  }

  it('some faults struck after quotes had been saved', () => {
    assert.ok(Object.values(survivors).some((n) => n > 0), JSON.stringify(survivors));
  });
});

// forget on a failing disk: whatever fsync fails, the command's answer is
// true to what the database holds. Before its delete commits: an error,
// every quote still there. After (the WAL checkpoint that erases the
// deleted rows): exit 1, but saying how many quotes were deleted, since
// they were (an error alone read as if none had been).
describe('forget on a failing disk says what it did', () => {
  after(stopAll);
  const EMAIL = 'gone.faults@example.org';
  const count = (db) => Number(execFileSync('sqlite3', [db, 'SELECT count(*) FROM quotes;'], { encoding: 'utf8' }).trim());

  it('each fsync of forget failing in turn', async () => {
    const dir = makeTemp('mq-faults-forget-');
    const made = path.join(dir, 'made.db');
    const srv = await startServer({ db: made });
    try {
      const body = JSON.parse(BODY);
      body.applicant.email = EMAIL;
      for (let i = 0; i < 2; i++) {
        const res = await rawRequest(`${srv.url}/v1/quotes`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
        assert.equal(res.status, 201, res.text);
      }
    } finally {
      await srv.stop();
    }
    const outcomes = new Set();
    for (let n = 1; n <= 8; n++) {
      const db = path.join(dir, `sync-${n}.db`);
      copyFileSync(made, db);
      process.env.MQ_FAULT = `sync:${n}`;
      let r;
      try {
        r = await runCli(['forget', '--db', db, '--email', EMAIL]);
      } finally {
        delete process.env.MQ_FAULT;
      }
      const left = count(db);
      if (r.code === 0) {
        assert.equal(r.stdout, 'deleted 2 quotes of that address\n');
        assert.equal(left, 0);
        outcomes.add('done');
      } else if (left === 2) {
        assert.equal(r.code, 1);
        assert.equal(r.stderr, `multiquote forget: ${db}: write: disk I/O error\n`);
        outcomes.add('refused');
      } else {
        assert.equal(left, 0);
        assert.equal(r.code, 1);
        assert.equal(r.stdout, '');
        assert.equal(r.stderr,
          `multiquote forget: ${db}: deleted 2 quotes, but erasing them from the WAL failed: disk I/O error\n`);
        outcomes.add('deleted, not erased');
      }
    }
    assert.deepEqual([...outcomes].sort(), ['deleted, not erased', 'done', 'refused']);
  });
});

describe('a streamed quote on a failing disk', () => {
  after(stopAll);

  it('its error event is the answer a 201 would have got: storage_unavailable once the store refuses writes', async () => {
    // the event always said "could not be saved; nothing was stored", even
    // once the store refused every write (503 storage_unavailable otherwise)
    const db = path.join(makeTemp('mq-faults-sse-'), 'sse.db');
    await (await startServer({ db })).stop(); // migrated: its next flush is the first quote's
    const srv = await startWithFault(db, 'sync:1');
    const stream = async () => {
      const res = await rawRequest(`${srv.url}/v1/quotes`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
        body: BODY,
      });
      assert.equal(res.status, 200, res.text);
      const m = res.text.match(/event: error\ndata: (.*)\n/);
      assert.ok(m, res.text.slice(-500));
      return JSON.parse(m[1]).error;
    };
    try {
      const first = await stream(); // as a 201's: 500 or 503, the flush that failed having failed the store
      assert.ok(['storage_error', 'storage_unavailable'].includes(first.code), JSON.stringify(first));
      const next = await stream();
      assert.equal(next.code, 'storage_unavailable');
      assert.match(next.message, /refuses writes since a write to its disk failed/);
      await srv.waitForLog((e) => e.event === 'store_failed', { timeoutMs: 5000 });
    } finally {
      await srv.stop();
    }
  });
});
