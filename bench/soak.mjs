// soak.mjs -- an open-loop load generator for the soak test (bench/soak.sh).
//
// Request i is due at start + i / rate, whatever happened to the ones before
// it: a stalled server makes requests pile up instead of slowing the
// generator down, and each latency is measured from the time the request was
// due, not from when it could be sent (so stalls are not hidden, as they are
// by closed-loop tools). A share of the requests POST the family request
// (saved by the server), the rest GET a quote saved earlier. The server's RSS
// (/proc/PID/status) is sampled every --sample seconds into a CSV.
//
// Usage: node bench/soak.mjs --url http://127.0.0.1:PORT --request FILE --pid PID
//        [--rate 300] [--duration 600] [--post-share 0.3] [--sample 10] [--csv FILE]
import { readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import http from 'node:http';

function options(argv) {
  const o = { rate: 300, duration: 600, postShare: 0.3, sample: 10, csv: null, url: null, request: null, pid: null };
  for (let i = 2; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    const key = { '--rate': 'rate', '--duration': 'duration', '--post-share': 'postShare', '--sample': 'sample',
      '--csv': 'csv', '--url': 'url', '--request': 'request', '--pid': 'pid' }[k];
    if (!key || v === undefined) throw new Error(`soak.mjs: unknown or incomplete option ${k}`);
    o[key] = ['csv', 'url', 'request'].includes(key) ? v : Number(v);
  }
  if (!o.url || !o.request || !o.pid) throw new Error('soak.mjs: --url, --request and --pid are required');
  return o;
}

const o = options(process.argv);
const body = readFileSync(o.request);
// Idle sockets are closed by the generator after 15 s, before the server's
// 30 s idle timeout would: otherwise a request sent on a socket the server is
// closing at that instant fails ("socket hang up"), a race of keep-alive
// clients, not an error of the server.
const agent = new http.Agent({ keepAlive: true, maxSockets: 128, timeout: 15000 });
const TIMEOUT_MS = 10000;

const total = Math.round(o.rate * o.duration);
const latencies = new Float64Array(total);
let done = 0;
let served = 0;
let errors = 0;
const errorKinds = new Map();
const ids = [];
let maxLagMs = 0; // how late the generator itself sent a request (its own noise)

function rssKb() {
  const m = readFileSync(`/proc/${o.pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Number(m[1]) : NaN;
}

/** CPU seconds the server has used (user + system), from /proc/PID/stat. */
function cpuSeconds() {
  const stat = readFileSync(`/proc/${o.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

function countError(kind) {
  errors++;
  errorKinds.set(kind, (errorKinds.get(kind) || 0) + 1);
}

/** One request; resolves when answered (or failed). */
function send(isPost, dueMs) {
  return new Promise((resolve) => {
    const id = isPost || !ids.length ? null : ids[Math.floor(Math.random() * ids.length)];
    const target = id ? `/v1/quotes/${id}` : '/v1/quotes';
    const req = http.request(`${o.url}${target}`, {
      method: id ? 'GET' : 'POST',
      agent,
      headers: id ? {} : { 'Content-Type': 'application/json', 'Content-Length': body.length },
      timeout: TIMEOUT_MS,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - dueMs;
        const want = id ? 200 : 201;
        if (res.statusCode !== want) countError(`status ${res.statusCode}`);
        else {
          served++;
          if (!id && ids.length < 100000) {
            const m = Buffer.concat(chunks).toString('utf8').match(/"quote_id":"(q_[0-9A-Z]+)"/);
            if (m) ids.push(m[1]);
            else countError('no quote_id');
          }
        }
        latencies[done++] = ms;
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => {
      countError(e.message);
      latencies[done++] = performance.now() - dueMs;
      resolve();
    });
    if (!id) req.end(body);
    else req.end();
  });
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main() {
  // a few quotes to read back from the first second on (not counted)
  for (let i = 0; i < 20; i++) await send(true, performance.now());
  done = 0;
  served = 0;
  errors = 0;
  errorKinds.clear();

  const rss0 = rssKb();
  const cpu0 = cpuSeconds();
  if (o.csv) writeFileSync(o.csv, 't_s,rss_kb,requests_done,errors\n');
  const sampleRss = (t) => {
    const r = rssKb();
    if (o.csv) appendFileSync(o.csv, `${t},${r},${done},${errors}\n`);
    return r;
  };
  sampleRss(0);
  const start = performance.now();
  const pending = [];
  let next = 0;
  let nextSample = o.sample;
  let rssMax = rss0;
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      while (next < total && start + (next * 1000) / o.rate <= now) {
        const due = start + (next * 1000) / o.rate;
        maxLagMs = Math.max(maxLagMs, now - due);
        pending.push(send(Math.random() < o.postShare, due));
        next++;
      }
      const elapsed = (now - start) / 1000;
      if (elapsed >= nextSample) {
        rssMax = Math.max(rssMax, sampleRss(Math.round(elapsed)));
        nextSample += o.sample;
      }
      if (next >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 2);
  });
  await Promise.all(pending);
  const seconds = (performance.now() - start) / 1000;
  const rss1 = sampleRss(Math.round(seconds));
  const cpu = cpuSeconds() - cpu0;
  rssMax = Math.max(rssMax, rss1);
  agent.destroy();

  const sorted = Array.from(latencies.subarray(0, done)).sort((a, b) => a - b);
  const f = (x) => x.toFixed(2);
  console.log(`requests scheduled ${total} at ${o.rate}/s over ${o.duration} s (${Math.round(o.postShare * 100)}% POST /v1/quotes, the rest GET /v1/quotes/{id})`);
  console.log(`requests answered  ${done} in ${seconds.toFixed(1)} s; served ${served}; errors ${errors}` +
    (errors ? ` (${[...errorKinds].map(([k, n]) => `${k}: ${n}`).join(', ')})` : ''));
  console.log(`latency from the scheduled time, ms: p50 ${f(percentile(sorted, 50))}  p90 ${f(percentile(sorted, 90))}  ` +
    `p99 ${f(percentile(sorted, 99))}  p99.9 ${f(percentile(sorted, 99.9))}  max ${f(sorted[sorted.length - 1])}`);
  console.log(`generator lag (its own lateness), max ms: ${f(maxLagMs)}`);
  console.log(`server CPU: ${cpu.toFixed(1)} s (${((cpu / seconds) * 100).toFixed(0)}% of one core), ` +
    `${((cpu * 1e6) / Math.max(done, 1)).toFixed(0)} us per request`);
  console.log(`server RSS, kB: start ${rss0}  end ${rss1}  max ${rssMax}  (growth ${rss1 - rss0} kB)`);
  console.log(`RESULT scheduled=${total} served=${served} errors=${errors} p50_ms=${f(percentile(sorted, 50))} ` +
    `p99_ms=${f(percentile(sorted, 99))} max_ms=${f(sorted[sorted.length - 1])} rss_start_kb=${rss0} rss_end_kb=${rss1} rss_max_kb=${rssMax} server_cpu_s=${cpu.toFixed(1)}`);
  process.exitCode = errors ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
