// api-partner.test.mjs -- the API as a partner's developer meets it: what a
// client generated from docs/openapi.yaml, or a shopper reading a result,
// is told, and what only the operator's log may hold. The real
// `multiquote serve` binary on loopback; remote carriers are a small
// node.js server here and addresses where nothing listens.
//
// Run: MQ_BIN=$PWD/build/multiquote node --test --test-reporter=tap tests/js/api-partner.test.mjs
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, startServer, stopAll, makeTemp } from './lib/server.mjs';

const EXAMPLE = JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', 'oh-single-driver.json'), 'utf8'));

after(stopAll);

async function postQuote(srv, body, headers = {}) {
  const res = await fetch(`${srv.url}/v1/quotes`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text.startsWith('{') ? JSON.parse(text) : null };
}

// ---- /healthz --------------------------------------------------------------------

describe('GET /healthz tells a failing store in words of its own', () => {
  it('never quotes the database\'s error (its file path) to the public; the operator\'s log has it', async () => {
    const dir = makeTemp('mq-partner-db-');
    const db = path.join(dir, 'quotes.db');
    const srv = await startServer({ db });
    assert.equal((await postQuote(srv, EXAMPLE)).status, 201);
    // the file moved away under the running server: its store fails at the next save
    for (const f of readdirSync(dir)) rmSync(path.join(dir, f));
    const refused = await postQuote(srv, EXAMPLE);
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.json.error.code, 'storage_unavailable');
    const res = await fetch(`${srv.url}/healthz`);
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.deepEqual(body, {
      status: 'failing',
      plans: body.plans,
      plans_loaded_at: body.plans_loaded_at,
      quotes_saved: 1,
      problem:
        "the database refuses writes since a write to its disk failed or its file was moved away; the operator must fix it and restart the server (the server's log says why)",
    });
    assert.ok(!JSON.stringify(body).includes(dir), 'the database\'s path is not in the public answer');
    // the operator's log has the store's own words, once however often it is probed
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${srv.url}/healthz`)).status, 503);
    await srv.waitForLog((e) => e.event === 'health_failing', { timeoutMs: 5000 });
    await fetch(`${srv.url}/metrics`); // its log line comes after any of the probes'
    await srv.waitForLog((e) => e.path === '/metrics', { timeoutMs: 5000 });
    const logged = srv.events().filter((e) => e.event === 'health_failing');
    assert.equal(logged.length, 1, srv.logs());
    assert.ok(logged[0].message.includes(db), logged[0].message);
    assert.match(logged[0].message, /^the database refuses writes \(.+moved, replaced or deleted while it was open.+\); restart once the disk or the file is fixed$/);
  });
});
