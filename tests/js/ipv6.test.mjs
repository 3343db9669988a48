// ipv6.test.mjs -- `multiquote serve --bind` on IPv6, against the real server:
// ::1 serves quotes (201, Harbor's premium to the cent), /healthz and the
// quote read back over IPv6 and says so in its "listening" line
// (http://[::1]:PORT/); the bracketed form [::1] and a long form are
// accepted and logged as ::1; :: is dual-stack (IPv4 and IPv6 clients on one
// socket, as docs/deploy.md says), while ::1 is IPv6 only; IPv6 clients are
// rate limited and capped per address, their slow requests cut; the trusted
// proxy is matched by its whole address (an IPv4 one through a dual-stack
// socket too, never a neighbour in its /64) and its X-Forwarded-For may name
// IPv6 clients, bare or bracketed; and addresses the server cannot use are
// refused with the option and value named, exit 2, before anything is made.
// The tests that need ::1 skip, saying so, on a host without it.
//
// Run: MQ_BIN=/work/main/build/multiquote node --test --test-reporter=tap tests/js/ipv6.test.mjs
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BIN, PLANS, REPO_ROOT, startServer, stopAll, runCli, sleep, makeTemp } from './lib/server.mjs';

const EXAMPLE = readFileSync(path.join(REPO_ROOT, 'examples', 'oh-single-driver.json'), 'utf8');
// Harbor Mutual's worked example 1 (../shared/reference): examples/oh-single-driver.json
const HARBOR = {
  total: 714,
  fees: 18,
  coverages: ['v1/bi=225', 'v1/coll=205', 'v1/comp=52', 'v1/med=25', 'v1/pd=139', 'v1/um=50'],
};

after(() => stopAll());

/** Whether this host can listen on ::1 (false: no IPv6 loopback). */
function hasLoopback6() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '::1', port: 0 }, () => s.close(() => resolve(true)));
  });
}
const NO_V6 = (await hasLoopback6()) ? false : 'this host has no IPv6 loopback (::1): IPv6 tests skipped';

/** A global or unique-local IPv6 address of this host (not ::1, not fe80::), or null. */
function routableAddress6() {
  for (const addrs of Object.values(os.networkInterfaces()))
    for (const a of addrs ?? [])
      if (a.family === 'IPv6' && !a.internal && !/^fe[89ab]/i.test(a.address) && !a.scopeid) return a.address;
  return null;
}

/** The eight groups of an IPv6 address, as numbers. */
function groups6(addr) {
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, null];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const zeros = tail === null ? [] : Array(8 - h.length - t.length).fill('0');
  return [...h, ...zeros, ...t].map((g) => parseInt(g, 16));
}

/** Another address of `addr`'s /64 (its last group changed). */
function neighbour6(addr) {
  const g = groups6(addr);
  g[7] = g[7] ^ 0x1;
  return g.map((x) => x.toString(16)).join(':');
}

/** A URL's host: an IPv6 address in brackets. */
const hostOf = (host, port) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * One HTTP request on its own connection to host (an IPv4 or IPv6 address)
 * and port, from `localAddress` if given. Resolves {status, headers, text},
 * or {status: 0, error} when the connection fails or is closed unanswered.
 */
function request(host, port, target, { method = 'GET', headers = {}, body, localAddress } = {}) {
  return new Promise((resolve) => {
    const h = { Host: hostOf(host, port), ...headers };
    if (body !== undefined) {
      h['Content-Type'] ??= 'application/json';
      h['Content-Length'] = Buffer.byteLength(body);
    }
    const req = http.request({ host, port, path: target, method, headers: h, localAddress, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', (error) => resolve({ status: 0, error }));
    });
    req.on('error', (error) => resolve({ status: 0, error }));
    req.end(body);
  });
}

/** A connection to host:port that sends nothing; resolves once established. */
function openIdle(host, port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    sock.closedAt = new Promise((r) => sock.on('close', r));
    sock.on('error', () => {});
    sock.once('connect', () => resolve(sock));
    sock.once('error', reject);
  });
}

/** The "listening" log line of a started server. */
const listening = (srv) => srv.events().find((e) => e.event === 'listening');

/** Harbor's result checked against the manual, to the cent. */
function assertHarbor(body) {
  const harbor = body.results.find((r) => r.carrier.id === 'harbor');
  assert.ok(harbor, 'Harbor is among the results');
  assert.equal(harbor.status, 'quoted');
  assert.equal(harbor.premium.total, HARBOR.total);
  assert.equal(harbor.premium.fees, HARBOR.fees);
  assert.deepEqual(harbor.coverages.map((c) => `${c.vehicle}/${c.code}=${c.premium}`).sort(), HARBOR.coverages);
  const cents = harbor.coverages.reduce((a, c) => a + Math.round(c.premium * 100), 0);
  assert.equal(cents + Math.round(harbor.premium.fees * 100), Math.round(harbor.premium.total * 100));
}

/** A saved quote's results without their timing, which differs between two saves. */
const comparable = (body) =>
  JSON.stringify(
    body.results.map((r) => {
      const c = { ...r };
      delete c.elapsed_ms;
      return c;
    }),
  );

// ---- ::1 -----------------------------------------------------------------------------

describe('--bind ::1', { skip: NO_V6 }, () => {
  it('serves over IPv6: /healthz, a quote (201, Harbor 714.00 to the cent) read back, a same-origin POST', async () => {
    const srv = await startServer({ args: ['--bind', '::1'] });
    const ev = listening(srv);
    assert.equal(ev.bind, '::1');
    assert.equal(ev.port, srv.port);
    assert.equal(ev.url, `http://[::1]:${srv.port}/`);

    const health = await request('::1', srv.port, '/healthz');
    assert.equal(health.status, 200, health.text);
    assert.equal(JSON.parse(health.text).status, 'ok');

    const res = await request('::1', srv.port, '/v1/quotes', { method: 'POST', body: EXAMPLE });
    assert.equal(res.status, 201, res.text.slice(0, 300));
    const body = JSON.parse(res.text);
    assert.equal(res.headers.location, `/v1/quotes/${body.quote_id}`);
    assertHarbor(body);
    assert.match(res.text, /"premium":\{"total":714\.0,"fees":18\.0,/);
    const back = await request('::1', srv.port, res.headers.location);
    assert.equal(back.status, 200, back.text.slice(0, 300));
    assert.equal(JSON.parse(back.text).quote_id, body.quote_id);
    assertHarbor(JSON.parse(back.text));

    // the page's own origin is http://[::1]:PORT: its POST is same-origin
    const own = `http://[::1]:${srv.port}`;
    const page = await request('::1', srv.port, '/v1/quotes', { method: 'POST', body: EXAMPLE, headers: { Origin: own } });
    assert.equal(page.status, 201, page.text.slice(0, 300));
    const other = await request('::1', srv.port, '/v1/quotes', {
      method: 'POST',
      body: EXAMPLE,
      headers: { Origin: `http://[::2]:${srv.port}` },
    });
    assert.equal(other.status, 403, other.text);
    assert.equal(JSON.parse(other.text).error.code, 'cross_site_request');

    // ::1 is IPv6 only: nothing listens on 127.0.0.1
    assert.equal((await request('127.0.0.1', srv.port, '/healthz')).status, 0);
    const metrics = await request('::1', srv.port, '/metrics');
    const saved = metrics.text.match(/^mq_quotes_total\{[^}]*line="auto"[^}]*outcome="saved"[^}]*\} (\d+)$/m);
    assert.equal(saved?.[1], '2', 'two quotes saved (the cross-site one refused)');
    await srv.cleanup();
    const access = srv.events().filter((e) => e.method === 'POST' && e.path === '/v1/quotes');
    assert.deepEqual(access.map((e) => e.status), [201, 201, 403], 'one access-log line per POST');
  });

  it('[::1] (brackets dropped) and 0:0:0:0:0:0:0:1 are ::1', async () => {
    for (const bind of ['[::1]', '0:0:0:0:0:0:0:1']) {
      const srv = await startServer({ args: ['--bind', bind] });
      const ev = listening(srv);
      assert.equal(ev.bind, '::1', bind);
      assert.equal(ev.url, `http://[::1]:${srv.port}/`, bind);
      assert.equal((await request('::1', srv.port, '/healthz')).status, 200, bind);
      await srv.cleanup();
    }
  });

  it('a port already taken on ::1 is logged as [::1]:PORT, exit 1', async () => {
    const srv = await startServer({ args: ['--bind', '::1'] });
    const dir = makeTemp('mq-js-busy6-');
    const r = await runCli(['serve', '--bind', '::1', '--port', String(srv.port), '--db', path.join(dir, 'q.db')]);
    assert.equal(r.code, 1, r.stderr);
    const err = r.stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((e) => e.event === 'error');
    assert.equal(err?.message, `cannot listen on [::1]:${srv.port}: Address already in use`);
    await srv.cleanup();
  });

  it('an IPv6 client is rate limited: 429 with Retry-After after its burst, counted in /metrics', async () => {
    const srv = await startServer({ args: ['--bind', '::1', '--rate-limit', '2', '--rate-burst', '5'] });
    for (let i = 0; i < 5; i++)
      assert.equal((await request('::1', srv.port, '/v1/carriers')).status, 200, `request ${i + 1}`);
    const res = await request('::1', srv.port, '/v1/carriers');
    assert.equal(res.status, 429, res.text);
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(JSON.parse(res.text).error.message, 'too many requests from your address; retry after 1 s');
    const post = await request('::1', srv.port, '/v1/quotes', { method: 'POST', body: EXAMPLE });
    assert.equal(post.status, 429);
    assert.equal((await request('::1', srv.port, '/healthz')).status, 200, '/healthz is not counted');
    await sleep(1100); // 2 tokens a second
    assert.equal((await request('::1', srv.port, '/v1/carriers')).status, 200);
    assert.equal((await request('::1', srv.port, '/v1/carriers')).status, 200);
    assert.equal((await request('::1', srv.port, '/v1/carriers')).status, 429);
    assert.match((await request('::1', srv.port, '/metrics')).text, /^mq_http_rate_limited_total 3$/m);
    await srv.cleanup();
  });

  it('--max-per-ip caps an IPv6 client (counted by its /64, as the rate limit is)', async () => {
    const srv = await startServer({ args: ['--bind', '::1', '--threads', '1', '--max-per-ip', '3'] });
    const socks = [];
    for (let i = 0; i < 3; i++) socks.push(await openIdle('::1', srv.port));
    await sleep(200);
    assert.equal((await request('::1', srv.port, '/healthz')).status, 0, 'a fourth connection is closed');
    socks.pop().destroy();
    await sleep(300);
    assert.equal((await request('::1', srv.port, '/healthz')).status, 200);
    for (const s of socks) s.destroy();
    await srv.cleanup();
  });

  it('a slow IPv6 request is cut after --request-timeout', async () => {
    const srv = await startServer({ args: ['--bind', '::1', '--request-timeout', '1'] });
    const sock = await openIdle('::1', srv.port);
    sock.write(`GET /healthz HTTP/1.1\r\nHost: [::1]:${srv.port}\r\n`); // never finished
    const opened = Date.now();
    await sock.closedAt;
    const ms = Date.now() - opened;
    assert.ok(ms >= 800 && ms < 5000, `cut after ${ms} ms`);
    await srv.waitForLog((e) => e.event === 'slow_requests_cut');
    assert.match((await request('::1', srv.port, '/metrics')).text, /^mq_http_slow_requests_cut_total 1$/m);
    await srv.cleanup();
  });

  it('--trust-proxy ::1: X-Forwarded-For names IPv6 clients (by their /64), bare or bracketed', async () => {
    const srv = await startServer({
      args: ['--bind', '::1', '--rate-limit', '1', '--rate-burst', '2', '--trust-proxy', '::1'],
    });
    const get = (xff) => request('::1', srv.port, '/v1/carriers', { headers: { 'X-Forwarded-For': xff } });
    assert.equal((await get('2001:db8:1::1')).status, 200);
    assert.equal((await get('2001:db8:1::2')).status, 200, 'same /64: same client');
    assert.equal((await get('2001:db8:1::3')).status, 429);
    assert.equal((await get('203.0.113.7, 2001:db8:2::1')).status, 200, 'another /64: another client');
    assert.equal((await get('[2001:db8:3::1]')).status, 200);
    assert.equal((await get('[2001:db8:3::1]:443')).status, 200);
    assert.equal((await get('[2001:db8:3::9]')).status, 429, 'bracketed, with or without a port: one client');
    await srv.cleanup();
  });
});

// ---- :: --------------------------------------------------------------------------------

describe('--bind :: (every interface, dual-stack)', { skip: NO_V6 }, () => {
  it('takes IPv4 and IPv6 clients on one socket; logged with a localhost URL', async () => {
    const srv = await startServer({ args: ['--bind', '::'] });
    const ev = listening(srv);
    assert.equal(ev.bind, '::');
    assert.equal(ev.url, `http://localhost:${srv.port}/`);
    assert.equal((await request('::1', srv.port, '/healthz')).status, 200, 'IPv6');
    assert.equal((await request('127.0.0.1', srv.port, '/healthz')).status, 200, 'IPv4, as ::ffff:127.0.0.1');
    const six = await request('::1', srv.port, '/v1/quotes', { method: 'POST', body: EXAMPLE });
    const four = await request('127.0.0.1', srv.port, '/v1/quotes', { method: 'POST', body: EXAMPLE });
    assert.equal(six.status, 201, six.text.slice(0, 300));
    assert.equal(four.status, 201, four.text.slice(0, 300));
    assertHarbor(JSON.parse(six.text));
    assert.equal(comparable(JSON.parse(six.text)), comparable(JSON.parse(four.text)), 'the same quote either way');
    const routable = routableAddress6();
    if (routable) assert.equal((await request(routable, srv.port, '/healthz')).status, 200, routable);
    await srv.cleanup();
  });

  it('an IPv4 client through the dual-stack socket has its own bucket, and is the --trust-proxy 127.0.0.1', async () => {
    const srv = await startServer({
      args: ['--bind', '::', '--rate-limit', '1', '--rate-burst', '2', '--trust-proxy', '127.0.0.1'],
    });
    const v4 = () => request('127.0.0.1', srv.port, '/v1/carriers');
    const v6 = () => request('::1', srv.port, '/v1/carriers');
    assert.equal((await v4()).status, 200);
    assert.equal((await v4()).status, 200);
    assert.equal((await v4()).status, 429, 'IPv4 client: its burst spent');
    assert.equal((await v6()).status, 200, 'the IPv6 client is another client');
    // from the proxy (127.0.0.1, seen as ::ffff:127.0.0.1), X-Forwarded-For is believed
    const via = (xff) => request('127.0.0.1', srv.port, '/v1/carriers', { headers: { 'X-Forwarded-For': xff } });
    assert.equal((await via('198.51.100.1')).status, 200);
    assert.equal((await via('198.51.100.2')).status, 200);
    assert.equal((await via('2001:db8:9::1')).status, 200);
    // from ::1, which is not the proxy, it is not
    const spoof = await request('::1', srv.port, '/v1/carriers', { headers: { 'X-Forwarded-For': '198.51.100.3' } });
    assert.equal(spoof.status, 200);
    const spoof2 = await request('::1', srv.port, '/v1/carriers', { headers: { 'X-Forwarded-For': '198.51.100.4' } });
    assert.equal(spoof2.status, 429, '::1 is still one client, whatever it forwards');
    await srv.cleanup();
  });

  it('--trust-proxy is one address: a neighbour in its /64 is not believed', async (t) => {
    const mine = routableAddress6();
    if (!mine) return t.skip('this host has no global or unique-local IPv6 address to connect from');
    const run = async (proxy) => {
      const srv = await startServer({
        args: ['--bind', '::', '--rate-limit', '1', '--rate-burst', '2', '--trust-proxy', proxy],
      });
      const statuses = [];
      for (const xff of ['203.0.113.1', '203.0.113.2', '203.0.113.3'])
        statuses.push(
          (await request(mine, srv.port, '/v1/carriers', { localAddress: mine, headers: { 'X-Forwarded-For': xff } }))
            .status,
        );
      await srv.cleanup();
      return statuses;
    };
    assert.deepEqual(await run(neighbour6(mine)), [200, 200, 429], `from ${mine}, proxy ${neighbour6(mine)}`);
    assert.deepEqual(await run(mine), [200, 200, 200], `from ${mine}, the proxy itself`);
  });
});

// Run in a network namespace of its own (unshare -rn) whose
// net.ipv6.bindv6only is $1: serves --bind :: there and prints what
// /healthz answers over 127.0.0.1 and ::1 (a status, or an error code).
const NETNS_PROBE = `
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
const env = process.env;
const srv = spawn(env.PROBE_BIN, ['serve', '--bind', '::', '--port', '18904', '--db', env.PROBE_DB,
  '--plans', env.PROBE_PLANS, '--rate-limit', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
let log = '';
await new Promise((resolve, reject) => {
  srv.stderr.on('data', (d) => { log += d; if (log.includes('"event":"listening"')) resolve(); });
  srv.on('exit', () => reject(new Error(log)));
});
const get = (host) => new Promise((resolve) =>
  http.get({ host, port: 18904, path: '/healthz', agent: false }, (r) => { r.resume(); resolve(r.statusCode); })
    .on('error', (e) => resolve(e.code)));
const out = { sysctl: readFileSync('/proc/sys/net/ipv6/bindv6only', 'utf8').trim(), v4: await get('127.0.0.1'), v6: await get('::1') };
srv.kill('SIGTERM');
console.log(JSON.stringify(out));
`;

/** Runs NETNS_PROBE with net.ipv6.bindv6only = `v6only`; null when namespaces are not allowed here. */
function probeInNamespace(v6only) {
  const dir = makeTemp('mq-js-netns-');
  const r = spawnSync(
    'unshare',
    ['-rn', 'sh', '-c', 'ip link set lo up && echo "$1" > /proc/sys/net/ipv6/bindv6only && exec "$0" --input-type=module -e "$PROBE"', process.execPath, String(v6only)],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 30000,
      env: { ...process.env, PROBE: NETNS_PROBE, PROBE_BIN: BIN, PROBE_DB: path.join(dir, 'q.db'), PROBE_PLANS: PLANS },
    },
  );
  if (r.status !== 0 && /unshare|Operation not permitted|ip: not found|Permission denied/.test(r.stderr ?? ''))
    return null;
  assert.equal(r.status, 0, `the probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

describe('--bind :: whatever the host says', { skip: NO_V6 }, () => {
  it('is dual-stack with net.ipv6.bindv6only 0 and 1 alike (IPV6_V6ONLY set, not inherited)', async (t) => {
    const canUnshare = spawnSync('unshare', ['-rn', 'true']).status === 0;
    if (!canUnshare) return t.skip('unshare -rn is not allowed here: no network namespace to set bindv6only in');
    for (const v6only of [0, 1]) {
      const got = probeInNamespace(v6only);
      if (!got) return t.skip('no network namespace with its own bindv6only here');
      assert.deepEqual(got, { sysctl: String(v6only), v4: 200, v6: 200 }, `bindv6only ${v6only}`);
    }
  });
});

// ---- Refused ---------------------------------------------------------------------------

describe('--bind values it cannot use', () => {
  it('are refused (exit 2) with the option and value named, before the database is made', async () => {
    const dir = makeTemp('mq-js-bind6-');
    const db = path.join(dir, 'q.db');
    const general = (v) =>
      `multiquote serve: --bind takes an IPv4 or IPv6 address (127.0.0.1 or ::1; 0.0.0.0 or :: for every ` +
      `interface) or localhost, not "${v}"\n`;
    for (const [bind, text] of [
      ['::ffff:127.0.0.1', 'multiquote serve: --bind ::ffff:127.0.0.1: an IPv4-mapped address; give the IPv4 address itself (127.0.0.1)\n'],
      [
        'fe80::1',
        'multiquote serve: --bind fe80::1: a link-local address needs a network interface, which --bind cannot ' +
          'name; give a global or unique-local address, ::1, or :: for every interface\n',
      ],
      ['fe80::1%lo', general('fe80::1%lo')],
      ['[::1', general('[::1')],
      ['::1]', general('::1]')],
      ['[]', general('[]')],
      ['[127.0.0.1]', general('[127.0.0.1]')],
      ['1:2:3:4:5:6:7:8:9', general('1:2:3:4:5:6:7:8:9')],
      ['ip6-localhost', general('ip6-localhost')],
    ]) {
      const r = await runCli(['serve', '--port', '0', '--bind', bind, '--db', db]);
      assert.equal(r.code, 2, `${bind}: ${r.stderr}`);
      assert.equal(r.stderr, text, bind);
    }
    assert.equal(existsSync(db), false);
  });
});
