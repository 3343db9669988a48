// nodes.test.mjs -- several multiquote nodes on one PostgreSQL, behind nginx.
//
// Two `multiquote serve --db postgresql://...` nodes start at the same time
// on one database (both migrate it; the advisory lock makes that safe), and
// nginx (tests/pg/nginx.sh, with the upstream template docs/deploy.md shows)
// balances between them. Checked: both nodes show the same plan digests,
// equal to the files' own sha256sum; a quote saved through one node is read
// through the other; and with clients POSTing through nginx and retrying,
// one node killed with SIGKILL mid-load loses no acknowledged quote: every
// id answered 201 is then read back byte for byte.
//
// PostgreSQL: $MQ_TEST_PG_NODES (tests/run.sh starts a cluster); run alone,
// this file starts its own with tests/pg/cluster.sh.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT, PLANS, startServer, stopAll, makeTemp, sleep } from './lib/server.mjs';

const REQUEST = readFileSync(path.join(REPO_ROOT, 'examples', 'oh-single-driver.json'), 'utf8');
const QUOTE_ID = /^q_[0-9A-HJKMNP-TV-Z]{36}$/;

function sh(script, args) {
  const r = spawnSync('bash', [path.join(REPO_ROOT, 'tests', 'pg', script), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** nginx (nginx.sh) in `dir` in front of `nodePorts`; its base URL. The port
 *  was free a moment before nginx binds it, and another process may take it
 *  in between: nginx then fails with "Address already in use", and another
 *  free port is tried. */
async function startNginx(dir, nodePorts) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      sh('nginx.sh', ['start', dir, String(port), ...nodePorts.map(String)]);
      return `http://127.0.0.1:${port}`;
    } catch (e) {
      if (attempt === 5 || !/Address already in use/.test(e.message)) throw e;
    }
  }
}

/** What the server's digest of a plan folder must be: sha256sum's lines of
 *  plan.yaml and every CSV (byte order), hashed again. */
function digestOf(folder) {
  const names = ['plan.yaml', ...readdirSync(folder).filter((n) => n.endsWith('.csv') && !n.startsWith('.')).sort()];
  const lines = names
    .map((n) => `${createHash('sha256').update(readFileSync(path.join(folder, n))).digest('hex')}  ${n}\n`)
    .join('');
  return createHash('sha256').update(lines).digest('hex');
}

/** Every plan version on disk: "id@version" -> expected digest. */
function digestsOnDisk() {
  const out = new Map();
  for (const carrier of readdirSync(PLANS))
    for (const v of readdirSync(path.join(PLANS, carrier))) {
      const folder = path.join(PLANS, carrier, v);
      if (!existsSync(path.join(folder, 'plan.yaml'))) continue;
      const doc = YAML.parse(readFileSync(path.join(folder, 'plan.yaml'), 'utf8'));
      out.set(`${doc.plan.id}@${doc.plan.version}`, digestOf(folder));
    }
  return out;
}

async function post(base) {
  const res = await fetch(`${base}/v1/quotes`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: REQUEST,
  });
  return { status: res.status, text: await res.text() };
}

describe('several nodes on one PostgreSQL behind nginx', () => {
  let pgDir = null;
  let pg;
  let nginxDir;
  let lb; // nginx's base URL
  let a, b;

  before(async () => {
    pg = process.env.MQ_TEST_PG_NODES;
    if (!pg) {
      pgDir = makeTemp('mq-pg-');
      pg = `${sh('cluster.sh', ['start', pgDir])}/mq_nodes`;
    }
    const args = ['--rate-limit', '0']; // every client is 127.0.0.1 here
    // node B is given a password in its URI, node A one in its query (the
    // test cluster trusts loopback and ignores both)
    const withPassword = pg.replace('postgresql://postgres@', 'postgresql://postgres:hunter2-secret@');
    const inQuery = `${pg}?connect_timeout=10&password=query-secret`;
    [a, b] = await Promise.all([startServer({ db: inQuery, args }), startServer({ db: withPassword, args })]);
    nginxDir = makeTemp('mq-nginx-');
    lb = await startNginx(nginxDir, [a.port, b.port]);
  });

  after(async () => {
    if (nginxDir) sh('nginx.sh', ['stop', nginxDir]);
    // the cluster first: stopAll removes every temporary folder, the
    // cluster's too, and PostgreSQL would run on without its folder
    if (pgDir) sh('cluster.sh', ['stop', pgDir]);
    await stopAll();
  });

  it('a password in the database URI, before the host or in the query, never reaches the log', () => {
    const listening = b.events().find((e) => e.event === 'listening');
    assert.match(listening.db, /^postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\//);
    assert.ok(!b.logs().includes('hunter2-secret'));
    const inQuery = a.events().find((e) => e.event === 'listening');
    assert.match(inQuery.db, /\/mq_nodes\?connect_timeout=10&password=\*\*\*$/);
    assert.ok(!a.logs().includes('query-secret'));
  });

  it('both nodes show the same digest for every plan, the files\' own', async () => {
    const want = digestsOnDisk();
    for (const node of [a, b]) {
      const res = await fetch(`${node.url}/v1/plans`);
      assert.equal(res.status, 200);
      const { plans } = await res.json();
      assert.equal(plans.length, want.size);
      for (const p of plans) assert.equal(p.digest, want.get(`${p.id}@${p.version}`), `${p.id}@${p.version}`);
    }
  });

  it('a quote saved through node A is read through node B and through nginx', async () => {
    const saved = await post(a.url);
    assert.equal(saved.status, 201, saved.text);
    const id = JSON.parse(saved.text).quote_id;
    assert.match(id, QUOTE_ID);
    for (const base of [b.url, lb]) {
      const res = await fetch(`${base}/v1/quotes/${id}`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), saved.text);
    }
    const missing = await fetch(`${b.url}/v1/quotes/q_00000000000000000000000000`);
    assert.equal(missing.status, 404);
  });

  it('one node killed under load: clients retry through nginx, every acknowledged quote is there', async () => {
    const acked = new Map(); // id -> the 201 body
    let retries = 0;
    let gaveUp = 0;
    let stop = false;
    let afterKill = 0;
    let killed = false;
    const client = async () => {
      while (!stop) {
        let done = false;
        for (let attempt = 0; attempt < 20 && !done; attempt++) {
          try {
            const r = await post(lb);
            if (r.status === 201) {
              acked.set(JSON.parse(r.text).quote_id, r.text);
              if (killed) afterKill++;
              done = true;
            } else {
              assert.ok([500, 502, 503, 504].includes(r.status), `unexpected ${r.status}: ${r.text}`);
            }
          } catch (e) {
            if (e.code === 'ERR_ASSERTION') throw e;
            // the connection broke: retry
          }
          if (!done) {
            retries++;
            await sleep(50);
          }
        }
        if (!done) gaveUp++;
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await sleep(1500);
    const before = acked.size;
    await a.kill9();
    killed = true;
    await sleep(2000);
    stop = true;
    await Promise.all(clients);

    assert.ok(before > 20, `only ${before} quotes before the kill`);
    assert.ok(afterKill > 20, `only ${afterKill} quotes after the kill`);
    assert.equal(gaveUp, 0, 'a client gave up after 20 attempts');
    // every id that got a 201 is there, byte for byte, read through nginx
    for (const [id, text] of acked) {
      const res = await fetch(`${lb}/v1/quotes/${id}`);
      assert.equal(res.status, 200, `quote ${id} (acknowledged) is missing`);
      assert.equal(await res.text(), text, `quote ${id} differs`);
    }
    console.log(`# ${acked.size} quotes acknowledged (${afterKill} after the kill), ${retries} retries`);
  });
});
