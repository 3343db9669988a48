// ops.test.mjs -- an operator's tasks, as docs/deploy.md gives them, done
// on a running server.
//
// Backup while quotes arrive: the SQLite backup command of docs/deploy.md,
// run as written (taken from its code block) while clients keep saving
// quotes, must finish, write a file only its owner may read, and hold every
// quote acknowledged before it began. Restore onto another folder: the
// copy and the key file, served by a second server, open every such quote
// (GET /v1/quotes/{id}), its worksheet, and `multiquote requote` re-rates it
// to the cent. (The shell's `.backup`, which the page gave before, starts
// over at every commit of the server and never finished here.)
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync, chmodSync, existsSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, makeTemp, runCli, startServer, stopAll } from './lib/server.mjs';

const DEPLOY = readFileSync(path.join(REPO_ROOT, 'docs', 'deploy.md'), 'utf8');
const AUTO = readFileSync(path.join(REPO_ROOT, 'examples', 'oh-single-driver.json'), 'utf8');
const HOME = readFileSync(path.join(REPO_ROOT, 'tests', 'data', 'shoppers', 'home-oh-columbus-frame.json'), 'utf8');

/** The first ```sh block of the section `title` of docs/deploy.md. */
function documentedCommand(title) {
  const at = DEPLOY.indexOf(`\n${title}\n`);
  assert.ok(at >= 0, `docs/deploy.md has no section ${title}`);
  const block = /```sh\n([\s\S]*?)```/.exec(DEPLOY.slice(at));
  assert.ok(block, `no sh block under ${title}`);
  return block[1].trim();
}

/** Runs a shell command in cwd: {code, stderr, ms}, or code 'timeout'. */
function shell(command, cwd, timeoutMs) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const p = spawn('bash', ['-c', command], { cwd, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => process.kill(-p.pid, 'SIGKILL'), timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 'timeout', stderr, ms: Date.now() - t0 });
    });
  });
}

/** Clients posting quotes until stop(); every acknowledged id with the time of its 201. */
function load(srv, clients) {
  const acked = [];
  let running = true;
  const one = async (i) => {
    for (let n = 0; running; n++) {
      const body = (i + n) % 3 === 0 ? HOME : AUTO;
      const res = await fetch(`${srv.url}/v1/quotes`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
      const json = await res.json();
      assert.equal(res.status, 201, JSON.stringify(json));
      acked.push({ id: json.quote_id, at: Date.now(), line: json.line });
    }
  };
  const done = Promise.all(Array.from({ length: clients }, (_, i) => one(i)));
  return {
    acked,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('backup while quotes arrive, restore onto another folder', () => {
  after(stopAll);

  it('the documented backup finishes under load, and the restored copy opens every quote acknowledged before it', async () => {
    const home = makeTemp('mq-ops-');
    mkdirSync(path.join(home, 'var'));
    const db = path.join(home, 'var', 'multiquote.db');
    const key = path.join(home, 'var', 'multiquote.key');
    const srv = await startServer({ db, args: ['--key-file', key] });
    // a database of some size: tens of megabytes were never copied by .backup
    let grow = load(srv, 8);
    while (statSync(db).size + (existsSync(`${db}-wal`) ? statSync(`${db}-wal`).size : 0) < 24 << 20) await sleep(200);
    await grow.stop();

    const command = documentedCommand('### Backup and restore (SQLite)');
    const busy = load(srv, 2);
    await sleep(300);
    const began = Date.now();
    const backup = await shell(command, home, 60000);
    await busy.stop();
    assert.equal(backup.code, 0, `${command}: ${backup.stderr} after ${backup.ms} ms`);
    const made = /'(multiquote-[^']*\.db)'/.exec(command.replace('$(date +%F)', new Date().toISOString().slice(0, 10)));
    assert.ok(made, command);
    const copy = path.join(home, made[1]);
    assert.equal(statSync(copy).mode & 0o777, 0o600, 'the backup is readable by its owner only');
    assert.equal((await srv.stop()).code, 0);

    // restore onto another folder: the copy as var/multiquote.db, the key file 0600
    const other = makeTemp('mq-ops-restored-');
    mkdirSync(path.join(other, 'var'));
    const rdb = path.join(other, 'var', 'multiquote.db');
    const rkey = path.join(other, 'var', 'multiquote.key');
    copyFileSync(copy, rdb);
    copyFileSync(key, rkey);
    chmodSync(rkey, 0o600);
    const restored = await startServer({ db: rdb, args: ['--key-file', rkey] });
    const before = [...grow.acked, ...busy.acked].filter((q) => q.at < began);
    assert.ok(before.length > 1000, `only ${before.length} quotes`);
    const health = await (await fetch(`${restored.url}/healthz`)).json();
    assert.ok(health.quotes_saved >= before.length, JSON.stringify(health));
    for (let i = 0; i < before.length; i += 50) {
      const batch = before.slice(i, i + 50);
      const statuses = await Promise.all(batch.map(async (q) => (await fetch(`${restored.url}/v1/quotes/${q.id}`)).status));
      assert.deepEqual(statuses, batch.map(() => 200));
    }
    const sample = [before[0], before.find((q) => q.line === 'home'), before[before.length - 1]];
    for (const q of sample) {
      const carrier = q.line === 'home' ? (await (await fetch(`${restored.url}/v1/quotes/${q.id}`)).json()).results.find((r) => r.status === 'quoted').carrier.id : 'harbor';
      const ws = await fetch(`${restored.url}/v1/quotes/${q.id}/worksheet/${carrier}`);
      assert.equal(ws.status, 200, `${q.id} ${carrier}`);
    }
    assert.equal((await restored.stop()).code, 0);
    for (const q of sample) {
      const r = await runCli(['requote', '--db', rdb, '--key-file', rkey, q.id]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /reproduced exactly/);
    }
  });
});
