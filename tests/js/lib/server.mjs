// server.mjs -- runs the real `multiquote serve` binary for the API tests.
//
// startServer() starts the server on a free port (--port 0: the kernel's
// choice, read back from the "listening" log line) with a fresh temporary
// database, the repository's plans (or the folder given) and
// the repository root as its working directory (so it serves
// docs/openapi.yaml). Every server started is remembered: stopAll() (for
// after() hooks) and a process 'exit' handler kill what is still running and
// remove the temporary folders, so nothing outlives a failed test.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const JS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(JS_DIR, '..', '..');
export const BIN = process.env.MQ_BIN
  ? path.resolve(process.env.MQ_BIN)
  : path.resolve(JS_DIR, '../../build/multiquote');
export const PLANS = path.join(REPO_ROOT, 'plans');
// MQ_SERVER_WRAPPER prefixes the server command (e.g. "valgrind
// --error-exitcode=99 --leak-check=full"). A slow server (wrapped, or a
// sanitizer build: tests/run.sh sets MQ_SERVER_SLOWDOWN=3 for ASan) gets
// start and stop waits MQ_SERVER_SLOWDOWN times longer (default 10 when
// wrapped, 1 otherwise): SLOW, which the suites' own time bounds use too.
export const WRAPPER = (process.env.MQ_SERVER_WRAPPER || '').split(/\s+/).filter(Boolean);
export const SLOW = Number(process.env.MQ_SERVER_SLOWDOWN || (WRAPPER.length ? 10 : 1));

// What a sanitizer or valgrind writes when it finds a bug or a leak: a server
// whose log holds one has failed, even if every response was right.
const REPORT =
  /ERROR: (LeakSanitizer|AddressSanitizer)|WARNING: ThreadSanitizer|runtime error:|==\d+== (Invalid|Conditional|Use of uninit|Mismatched|Syscall param)|definitely lost: [1-9]|ERROR SUMMARY: [1-9]/;
const reports = []; // [{pid, text}] of servers that exited with one

/** The sanitizer or valgrind report in a server's log, or null. */
export function findReport(log) {
  const m = REPORT.exec(log);
  return m ? log.slice(Math.max(0, m.index - 200), m.index + 3000) : null;
}

const live = new Set(); // servers not yet exited
const tempDirs = new Set(); // temporary folders not yet removed

function killEverything() {
  for (const s of live) {
    try {
      s.proc.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}
process.on('exit', () => {
  killEverything();
  // A report from a server no test stopped itself still fails the run.
  for (const r of reports) {
    process.stderr.write(`server ${r.pid} exited with a sanitizer/valgrind report:\n${r.text}\n`);
    process.exitCode = 1;
  }
});
// Interrupted (Ctrl-C, or the runner giving up): still leave nothing behind.
for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15]])
  process.once(sig, () => {
    killEverything();
    process.exit(128 + n);
  });

/** A fresh temporary folder, removed by removeTemp(), stopAll() or at exit. */
export function makeTemp(prefix = 'mq-js-') {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTemp(dir) {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** A copy of the repository's plans in a temporary folder (to edit on disk). */
export async function copyPlans() {
  const dir = makeTemp('mq-js-plans-');
  const plans = path.join(dir, 'plans');
  await cp(PLANS, plans, { recursive: true });
  return plans;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves 'timeout' after ms, without keeping the process alive (for races). */
export function deadline(ms) {
  return new Promise((r) => setTimeout(() => r('timeout'), ms).unref());
}

/**
 * Starts `multiquote serve`. Options: plans (folder, default <repo>/plans),
 * db (path, default a fresh temporary one), args (more serve options, e.g.
 * ['--idle-timeout', '2']), rateLimit, timeoutMs. A test makes
 * hundreds of API requests a second from one address, so the per-client rate
 * limit is off (--rate-limit 0) unless rateLimit is true (the server's
 * default limit) or args set --rate-limit.
 * The server is given --port 0: the kernel picks a port no other socket on
 * the machine holds, and the "listening" line names it, so suites running
 * at the same time never share or steal a port.
 * Returns {url, port, db, pid, proc, exited, stop(), kill9(), signal(),
 * logs(), events(), waitForLog(), waitForEvents(), cleanup()}.
 */
/** `env`: variables the server gets besides the test's own environment (MQ_FAULT, MQ_CARRIER_TOKEN...). */
export async function startServer({ plans = PLANS, db, args = [], env, rateLimit = false, timeoutMs = 10000 } = {}) {
  if (!rateLimit && !args.includes('--rate-limit')) args = ['--rate-limit', '0', ...args];
  timeoutMs *= SLOW;
  if (!existsSync(BIN)) throw new Error(`no server binary at ${BIN} (set MQ_BIN)`);
  let ownDir = null;
  if (!db) {
    ownDir = makeTemp('mq-js-db-');
    db = path.join(ownDir, 'quotes.db');
  }
  const s = launch(plans, db, ownDir, args, env);
  const outcome = await s.ready(timeoutMs);
  if (outcome === 'listening') return s;
  const logs = s.logs();
  await s.kill9();
  if (ownDir) removeTemp(ownDir);
  throw new Error(`the server did not start listening (${outcome}); its log:\n${logs}`);
}

function launch(plans, db, ownDir, args = [], env = undefined) {
  const argv = ['serve', '--port', '0', '--db', db, '--plans', plans, ...args];
  const cmd = WRAPPER.length ? [...WRAPPER, BIN, ...argv] : [BIN, ...argv];
  const proc = spawn(cmd[0], cmd.slice(1), {
    cwd: REPO_ROOT,
    env: env ? { ...process.env, ...env } : process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  let pending = '';
  const events = []; // parsed JSON log lines
  const waiters = []; // {pred, resolve}
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      const report = findReport(stderr);
      if (report || (WRAPPER.length && code === 99)) {
        exitInfo.report = report || `exit status 99 under ${WRAPPER[0]}:\n${stderr.slice(-3000)}`;
        reports.push({ pid: proc.pid, text: exitInfo.report });
      }
      live.delete(s);
      resolve(exitInfo);
      // Nothing more will be logged: fail whoever still waits for a line.
      setImmediate(() => {
        for (const w of waiters.splice(0)) w.fail(`the server exited (${code ?? signal})`);
      });
    });
    proc.on('error', (err) => {
      stderr += `spawn error: ${err.message}\n`;
      exitInfo = { code: null, signal: null, error: err };
      live.delete(s);
      resolve(exitInfo);
    });
  });
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    stderr += d;
    pending += d;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let ev;
      try {
        ev = JSON.parse(line);
      } catch {
        continue;
      }
      events.push(ev);
      for (const w of [...waiters])
        if (w.pred(ev)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(ev);
        }
    }
  });

  /**
   * Resolves with the first log event for which pred is true, among those
   * from index `since` on (default 0: past ones count too) and future ones.
   */
  function waitForLog(pred, { timeoutMs: ms = 10000, since = 0 } = {}) {
    const seen = events.slice(since).find(pred);
    if (seen) return Promise.resolve(seen);
    if (exitInfo) return Promise.reject(new Error(`the server has exited; log:\n${stderr}`));
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (ev) => (clearTimeout(timer), resolve(ev)),
        fail: (why) => (clearTimeout(timer), reject(new Error(`${why}; log:\n${stderr}`))),
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error(`no matching log line within ${ms} ms; log:\n${stderr}`));
      }, ms);
      waiters.push(w);
    });
  }

  /**
   * Resolves the first n log events for which pred is true, from index
   * `since` on, once that many have been logged (rejects after timeoutMs):
   * for log lines written after the answer, such as the access log's.
   */
  async function waitForEvents(pred, n, { timeoutMs: ms = 10000, since = 0 } = {}) {
    let count = 0;
    await waitForLog((e) => pred(e) && ++count === n, { timeoutMs: ms, since });
    return events.slice(since).filter(pred).slice(0, n);
  }

  /** 'listening' (s.port and s.url then name the port the server took),
   * 'timeout' or 'exited'. */
  async function ready(ms) {
    const listening = waitForLog((e) => e.event === 'listening', { timeoutMs: ms }).then(
      (ev) => {
        s.port = ev.port;
        s.url = `http://127.0.0.1:${ev.port}`;
        return 'listening';
      },
      () => 'timeout',
    );
    return Promise.race([listening, exited.then(() => 'exited')]);
  }

  async function kill9() {
    if (!exitInfo) proc.kill('SIGKILL');
    return exited;
  }

  /** SIGTERM, then waits for the exit ({code, signal}); SIGKILL after ms.
   * Throws when the server's log holds a sanitizer or valgrind report. */
  async function stop(ms = 20000) {
    if (exitInfo) return checked(exitInfo);
    ms *= SLOW;
    proc.kill('SIGTERM');
    const t = deadline(ms);
    if ((await Promise.race([exited, t])) === 'timeout') {
      await kill9();
      throw new Error(`the server did not exit within ${ms} ms of SIGTERM; log:\n${stderr}`);
    }
    return checked(exitInfo);
  }

  /** The exit info, or an error when the server reported a bug or leak
   * (which is then counted here, not again at exit). */
  function checked(info) {
    if (!info.report) return info;
    const i = reports.findIndex((r) => r.pid === proc.pid);
    if (i >= 0) reports.splice(i, 1);
    throw new Error(`the server reported a bug or leak:\n${info.report}`);
  }

  /** Stops the server (SIGKILL if it will not stop) and removes its own temp db. */
  async function cleanup() {
    let report = null;
    try {
      await stop();
    } catch (e) {
      if (exitInfo?.report) report = e; /* else: killed */
    }
    if (ownDir) removeTemp(ownDir);
    if (report) throw report;
  }

  const s = {
    url: null, // set by ready()
    port: null,
    db,
    plans,
    proc,
    pid: proc.pid,
    exited,
    exitInfo: () => exitInfo,
    ready,
    stop,
    kill9,
    cleanup,
    signal: (sig) => proc.kill(sig),
    logs: () => stderr,
    stdout: () => stdout,
    events: () => [...events],
    waitForLog,
    waitForEvents,
  };
  live.add(s);
  return s;
}

/** Stops every server still running and removes every temporary folder. */
export async function stopAll() {
  await Promise.all([...live].map((s) => s.cleanup()));
  for (const d of [...tempDirs]) removeTemp(d);
}

/**
 * One HTTP request on its own connection (no keep-alive pool), for when the
 * exact bytes, headers or timing matter. Resolves {status, headers, text}.
 */
export function rawRequest(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** Runs the multiquote command (cwd = repo root); resolves {code, stdout, stderr}. */
export function runCli(args, { timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`multiquote ${args.join(' ')} timed out`));
    }, timeoutMs);
    p.on('error', (e) => (clearTimeout(timer), reject(e)));
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export { sleep };
