// crash.test.mjs -- no saved quote is lost when the server is killed.
//
// 200 concurrent clients keep POSTing quotes (each request a little
// different) while the server is kill -9'd at a random moment, five times,
// and restarted each time on the same database. Every quote whose 201 (with
// its id) reached a client must then be there through GET, its response
// byte for byte what the client got, and `PRAGMA integrity_check` of the
// database must answer ok. A 201 is only sent once the quote's group commit
// is durable (store_sqlite.c), so this is what the shopper is promised.
//
// Run: MQ_BIN=build/multiquote node --test --test-reporter=tap tests/js/crash.test.mjs
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { REPO_ROOT, startServer, stopAll, makeTemp, sleep } from './lib/server.mjs';

const CLIENTS = 200;
const ROUNDS = 5;
const EXAMPLE = JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', 'oh-single-driver.json'), 'utf8'));
// the keys of the sealed personal data (docs/privacy.md): fixed, so restarts read each other's quotes
process.env.MQ_KEY = 'subject ' + 'ab'.repeat(32) + '\nkey 1 ' + 'cd'.repeat(32) + '\n';

const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });

/** One request; resolves {status, text} or rejects on a connection error. */
function request(base, method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      base + urlPath,
      { method, agent, headers: body ? { 'Content-Type': 'application/json' } : {} },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(15000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

function requestBody(client, n) {
  const r = structuredClone(EXAMPLE);
  r.applicant.first_name = `Crash${client}x${n}`;
  r.applicant.email = `crash${client}.${n}@example.org`;
  return JSON.stringify(r);
}

describe('kill -9 while 200 clients save quotes', () => {
  after(stopAll);

  it('every quote whose id was returned survives, intact, and the database checks ok', async () => {
    const dir = makeTemp('mq-crash-');
    const db = path.join(dir, 'quotes.db');
    const saved = new Map(); // quote id -> response text the client got
    let base = null; // the running server's URL, null while it is down
    let stop = false;
    let failures = 0; // connection errors and 5xx while the server died
    const unexpected = [];

    async function client(c) {
      for (let n = 0; !stop; n++) {
        if (!base) {
          await sleep(20);
          continue;
        }
        try {
          const res = await request(base, 'POST', '/v1/quotes', requestBody(c, n));
          if (res.status === 201) {
            const { quote_id: id } = JSON.parse(res.text);
            saved.set(id, res.text);
          } else if (res.status >= 500) {
            failures++;
          } else {
            unexpected.push(`${res.status} ${res.text.slice(0, 200)}`);
          }
        } catch {
          failures++; // killed mid-request: no id was returned, nothing promised
          await sleep(10);
        }
      }
    }

    const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
    const kills = [];
    for (let round = 0; round < ROUNDS; round++) {
      const srv = await startServer({ db });
      base = srv.url;
      const before = saved.size;
      const wait = 300 + Math.floor(Math.random() * 900);
      // at a random moment once quotes are flowing
      const t0 = Date.now();
      while (saved.size === before && Date.now() - t0 < 10000) await sleep(5);
      await sleep(wait);
      base = null;
      const info = await srv.kill9();
      assert.equal(info.signal, 'SIGKILL');
      kills.push(saved.size - before);
    }
    stop = true;
    await Promise.all(clients);
    agent.destroy();
    assert.deepEqual(unexpected, []);
    assert.ok(saved.size > ROUNDS * 10, `only ${saved.size} quotes were saved`);
    for (const k of kills) assert.ok(k > 0, `a round saved nothing: ${kills}`);

    const srv = await startServer({ db });
    try {
      const missing = [];
      const differs = [];
      const ids = [...saved.keys()];
      for (let i = 0; i < ids.length; i += 50) {
        await Promise.all(
          ids.slice(i, i + 50).map(async (id) => {
            const res = await request(srv.url, 'GET', `/v1/quotes/${id}`);
            if (res.status !== 200) missing.push(`${id}: ${res.status}`);
            else if (res.text !== saved.get(id)) differs.push(id);
          }),
        );
      }
      assert.deepEqual(missing, [], `${missing.length} of ${ids.length} returned quotes are missing`);
      assert.deepEqual(differs, [], `${differs.length} quotes differ from what was returned`);
      const health = JSON.parse((await request(srv.url, 'GET', '/healthz')).text);
      assert.ok(health.quotes_saved >= saved.size, `${health.quotes_saved} < ${saved.size}`);
    } finally {
      await srv.stop();
    }
    const check = execFileSync('sqlite3', [db, 'PRAGMA integrity_check;'], { encoding: 'utf8' });
    assert.equal(check.trim(), 'ok');
    console.log(`${saved.size} quotes returned over ${ROUNDS} kills (${kills.join(', ')}); ${failures} requests cut off`);
  });
});
