// ports.test.mjs -- how the test servers get their ports: `serve --port 0`.
//
// startServer() (lib/server.mjs) gives every server --port 0: the kernel
// picks a port no socket on the machine holds, and the server names it in
// its "listening" line. Checked: that line names the port really bound (not
// 0) in its port and url; servers started at the same time all get
// different ports, each answering for itself; --port values out of range are
// still refused.
//
// Run: MQ_BIN=$PWD/build/multiquote node --test --test-reporter=tap tests/js/ports.test.mjs
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, startServer, stopAll, rawRequest, runCli, makeTemp } from './lib/server.mjs';

const EXAMPLE = readFileSync(path.join(REPO_ROOT, 'examples', 'oh-single-driver.json'), 'utf8');

after(() => stopAll());

describe('serve --port 0', () => {
  it('listens on a port the kernel chose and names it in the "listening" line', async () => {
    const srv = await startServer();
    const ev = srv.events().find((e) => e.event === 'listening');
    assert.ok(Number.isInteger(ev.port) && ev.port > 0 && ev.port < 65536, JSON.stringify(ev));
    assert.equal(ev.url, `http://127.0.0.1:${ev.port}/`);
    assert.equal(srv.port, ev.port);
    assert.equal((await rawRequest(`http://127.0.0.1:${ev.port}/healthz`)).status, 200);
    await srv.cleanup();
  });

  it('servers started at the same time get different ports, each answering for itself', async () => {
    const servers = await Promise.all(Array.from({ length: 6 }, () => startServer()));
    assert.equal(new Set(servers.map((s) => s.port)).size, servers.length, servers.map((s) => s.port).join(' '));
    // a quote saved through one is in its own database only
    const saved = await rawRequest(`${servers[0].url}/v1/quotes`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: EXAMPLE,
    });
    assert.equal(saved.status, 201, saved.text);
    const counts = [];
    for (const s of servers) counts.push(JSON.parse((await rawRequest(`${s.url}/healthz`)).text).quotes_saved);
    assert.deepEqual(counts, [1, 0, 0, 0, 0, 0]);
    await Promise.all(servers.map((s) => s.cleanup()));
  });

  it('a --port that is not 0 to 65535 is refused (exit 2) before anything is made', async () => {
    const dir = makeTemp('mq-js-port-');
    for (const port of ['-1', '65536', '', 'http', '80x']) {
      const r = await runCli(['serve', '--port', port, '--db', path.join(dir, 'q.db')]);
      assert.equal(r.code, 2, `--port "${port}": ${r.stderr}`);
      assert.equal(r.stderr, 'multiquote serve: --port takes 0 (any free port) to 65535\n', port);
    }
    assert.equal(existsSync(path.join(dir, 'q.db')), false);
  });
});
