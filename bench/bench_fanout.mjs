// bench_fanout.mjs -- a quote's latency over its slowest remote carrier, and
// the server's CPU time per fan-out, with 50 remote carriers answering in
// 100-300 ms (carrier i after 100 + 200*i/49 ms, so the slowest takes 300 ms).
//
// Starts a carrier farm (node http on loopback, keep-alive, in a child process), writes a
// carriers.yaml for it, starts `multiquote serve --carriers`, then sends
// quotes from CLIENTS concurrent clients for ROUNDS rounds each and reports
// p50/p99/max of (quote latency - 300 ms), quotes/s, and CPU ms per quote
// from /proc/PID/stat. Usage: node bench/bench_fanout.mjs BIN [ROUNDS] [CLIENTS]
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [BIN, ROUNDS = '100', CLIENTS = '8'] = process.argv.slice(2);
const FARM_ONLY = BIN === '--farm'; // the carrier farm, run in its own process
const N = 50;
const SLOWEST = 300;
const delayOf = (i) => Math.round(100 + (200 * i) / (N - 1));
const REQUEST = readFileSync(new URL('../examples/oh-family-two-cars.json', import.meta.url), 'utf8');

function startFarm() {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const i = Number(req.url.split('/')[2]);
      const shopper = JSON.parse(body);
      const answer = JSON.stringify({
        carrier: { id: `c${i}` },
        plan: { id: `c${i}-auto`, version: '1' },
        status: 'quoted',
        premium: { total: 500 + i, fees: 0, term_months: 6 },
        coverages: [{ code: 'bi', vehicle: shopper.vehicles[0].id, premium: 500 + i }],
        reasons: [],
        notes: [],
      });
      setTimeout(() => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(answer) });
        res.end(answer);
      }, delayOf(i));
    });
  });
  server.keepAliveTimeout = 60000;
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

function cpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in ticks of 10 ms
}

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

if (FARM_ONLY) {
  const farm = await startFarm();
  console.log(farm.address().port);
  await new Promise(() => {}); // until killed
}

// The farm runs in a process of its own, so its event loop and the
// clients' do not delay each other (the machine's cores are still shared).
const farmProc = spawn(process.execPath, [new URL(import.meta.url).pathname, '--farm'], { stdio: ['ignore', 'pipe', 'inherit'] });
const farmPort = await new Promise((resolve) => farmProc.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const dir = mkdtempSync(path.join(os.tmpdir(), 'mq-bench-fanout-'));
const lines = ['deadline_ms: 3000', 'carriers:'];
for (let i = 0; i < N; i++)
  lines.push(`  - id: c${i}`, '    kind: remote', `    name: Carrier ${i}`, '    rating: A',
    `    url: http://127.0.0.1:${farmPort}/c/${i}`, '    lines: [auto]', '    max_concurrent: 64');
writeFileSync(path.join(dir, 'carriers.yaml'), lines.join('\n') + '\n');
const port = 18800 + Math.floor(Math.random() * 1000);
const srv = spawn(BIN, ['serve', '--port', String(port), '--db', path.join(dir, 'q.db'), '--plans', 'plans',
  '--carriers', path.join(dir, 'carriers.yaml'), '--rate-limit', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
await new Promise((resolve, reject) => {
  srv.stderr.on('data', (d) => String(d).includes('listening') && resolve());
  srv.on('exit', () => reject(new Error('the server exited')));
});

const agent = new http.Agent({ keepAlive: true, maxSockets: Number(CLIENTS) });
function quote() {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/quotes', method: 'POST', agent,
      headers: { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        const doc = JSON.parse(text);
        const remote = doc.results.filter((r) => /^c\d+$/.test(r.carrier.id));
        if (res.statusCode !== 201 || remote.length !== N || remote.some((r) => r.status !== 'quoted'))
          reject(new Error(`bad answer ${res.statusCode}: ${text.slice(0, 300)}`));
        resolve(performance.now() - t0);
      });
    });
    req.on('error', reject);
    req.end(REQUEST);
  });
}

await quote(); // warm: connections to every carrier
const cpu0 = cpuMs(srv.pid);
const t0 = performance.now();
const over = [];
await Promise.all(Array.from({ length: Number(CLIENTS) }, async () => {
  for (let r = 0; r < Number(ROUNDS); r++) over.push((await quote()) - SLOWEST);
}));
const wall = (performance.now() - t0) / 1000;
const cpu = cpuMs(srv.pid) - cpu0;
const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
const sum = (name) => metrics.split('\n').filter((l) => l.startsWith(name + '{')).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
over.sort((a, b) => a - b);
const total = over.length;
console.log(`50 remote carriers (100-300 ms), ${CLIENTS} concurrent clients, ${total} quotes in ${wall.toFixed(1)} s (${(total / wall).toFixed(1)} quotes/s)`);
console.log(`latency over the slowest carrier (300 ms): p50 ${pct(over, 50).toFixed(1)} ms, p99 ${pct(over, 99).toFixed(1)} ms, max ${over[total - 1].toFixed(1)} ms`);
console.log(`remote calls ${sum('mq_remote_calls_total')}, connections opened ${sum('mq_remote_connections_opened_total')} (keep-alive reuses the rest)`);
console.log(`server CPU per quote (50 remote calls + 10 local auto plans + save): ${(cpu / total).toFixed(2)} ms`);
srv.kill('SIGTERM');
farmProc.kill();
agent.destroy();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
