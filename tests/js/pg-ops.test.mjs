// pg-ops.test.mjs -- an operator's PostgreSQL: what the --db URI and the
// database's roles can get wrong, and what the node says about it.
//
// Its own cluster (tests/pg/cluster.sh with a password: TCP logins need one,
// as in production). Checked: a URI that libpq cannot parse is refused
// without its password in the message; a password missing from the URI is
// explained (which password file, what is wrong with it), and so is a pool
// the database will not let open (how many connections); a password
// changed in the database and the password file is used at the next
// reconnection, without a restart; a URI whose
// scheme is in capitals is PostgreSQL, while any other URI is refused instead
// of becoming a SQLite file named after it; and a node may run as a role
// that can only read and write the quotes once the database's owner has
// migrated it, and says what to do when the schema is behind; a node whose
// pooled connections found the database read-only (a standby, a database
// made read-only for maintenance) saves again once it is writable.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, PLANS, REPO_ROOT, makeTemp, removeTemp, startServer, stopAll } from './lib/server.mjs';

const ROOT_PW = 'Sw0rdfish-root-7';
const APP_PW = 'Sw0rdfish-app-9';
const REQUEST = readFileSync(path.join(REPO_ROOT, 'examples', 'oh-single-driver.json'), 'utf8');

let dir; // this file's temp folder: pgpass files, key files, a cwd
let pgDir;
let port;

function sh(args) {
  const r = spawnSync('bash', [path.join(REPO_ROOT, 'tests', 'pg', 'cluster.sh'), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cluster.sh ${args[0]} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Runs SQL as postgres in database db; its output rows. */
function psql(sql, db = 'postgres') {
  const r = spawnSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db, '-qAt', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    encoding: 'utf8',
    env: { ...process.env, PGPASSWORD: ROOT_PW },
  });
  if (r.status !== 0) throw new Error(`psql ${sql}: ${r.stderr}`);
  return r.stdout.trim();
}

/** multiquote with args, in cwd, with the environment's PG* variables
 * replaced by env; {status, stdout, stderr}. */
function mq(args, { env = {}, cwd = dir } = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
  return spawnSync(BIN, args, { cwd, encoding: 'utf8', env: { ...clean, HOME: dir, ...env }, timeout: 30000 });
}

/** `serve` on a database it cannot open: its exit status and the message of
 * its "error" log line. */
function serveFails(db, env) {
  const r = mq(['serve', '--port', '1', '--db', db, '--plans', PLANS, '--key-file', path.join(dir, 'serve.key')], { env });
  const line = r.stderr.split('\n').find((l) => l.includes('"event":"error"'));
  return { status: r.status, message: line ? JSON.parse(line).message : r.stderr, all: r.stdout + r.stderr };
}

const uri = (user, db, pw = '') => `postgresql://${user}${pw ? `:${pw}` : ''}@127.0.0.1:${port}/${db}`;

describe('PostgreSQL: the --db URI and the roles, as an operator gets them wrong', () => {
  before(() => {
    dir = makeTemp('mq-pg-ops-');
    pgDir = makeTemp('mq-pg-ops-cluster-');
    const base = sh(['start', pgDir, ROOT_PW]);
    port = Number(base.split(':').pop());
  });

  after(async () => {
    // the cluster first: stopAll removes every temporary folder, the
    // cluster's too, and PostgreSQL would run on without its folder
    if (pgDir) sh(['stop', pgDir]);
    await stopAll();
    if (dir) removeTemp(dir);
  });

  it('a URI libpq cannot parse is refused without its password, by serve and by the commands', () => {
    const cases = [
      [
        `postgresql://postgres:${ROOT_PW}@[::1/mq_unit`,
        'postgresql: cannot connect: end of string reached when looking for matching "]" in IPv6 host address in URI: "postgresql://postgres:***@[::1/mq_unit"',
      ],
      [`postgresql://postgres:${ROOT_PW}%zz@127.0.0.1:${port}/mq_unit`, 'postgresql: cannot connect: invalid percent-encoded token: "***"'],
      [`postgresql://postgres@127.0.0.1:${port}/mq_unit?password=%zz${ROOT_PW}`, 'postgresql: cannot connect: invalid percent-encoded token: "***"'],
    ];
    for (const [db, want] of cases) {
      const r = mq(['purge', '--older-than', '1', '--db', db]);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stderr, `multiquote purge: ${want}\n`);
      const s = serveFails(db);
      assert.equal(s.status, 1, s.all);
      assert.equal(s.message, `database: ${want}`);
      assert.ok(!s.all.includes(ROOT_PW), s.all);
    }
  });

  it('no password: the error names the password file and what is wrong with it', () => {
    const pgpass = path.join(dir, 'pgpass');
    const db = uri('postgres', 'mq_unit');
    const failed = 'postgresql: cannot connect: connection to server at "127.0.0.1", port ' + `${port} failed: fe_sendauth: no password supplied`;
    const purge = (env) => mq(['purge', '--older-than', '1', '--db', db], { env });

    let r = purge({ PGPASSFILE: pgpass });
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      `multiquote purge: ${failed} (no password was given, and there is no password file ${pgpass}: ` +
        'write the line HOST:PORT:DATABASE:USER:PASSWORD there, mode 0600, or set PGPASSFILE; docs/deploy.md)\n',
    );

    writeFileSync(pgpass, `127.0.0.1:${port}:mq_unit:postgres:${ROOT_PW}\n`);
    chmodSync(pgpass, 0o644); // libpq ignores it, and says so only on stderr, outside the log
    const s = serveFails(db, { PGPASSFILE: pgpass });
    assert.equal(s.status, 1);
    assert.equal(s.message, `database: ${failed} (the password file ${pgpass} is ignored because others may read it: chmod 600 ${pgpass})`);

    chmodSync(pgpass, 0o600);
    r = mq(['purge', '--older-than', '1', '--db', uri('someone', 'mq_unit')], { env: { PGPASSFILE: pgpass } });
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      `multiquote purge: ${failed} (the password file ${pgpass} has no line HOST:PORT:DATABASE:USER:PASSWORD that matches this connection)\n`,
    );

    r = purge({ PGPASSFILE: pgpass });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^deleted 0 quotes created before /);

    r = mq(['purge', '--older-than', '1', '--db', uri('postgres', 'mq_unit', 'wrong-pw')]);
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      `multiquote purge: postgresql: cannot connect: connection to server at "127.0.0.1", port ${port} failed: FATAL:  password authentication failed for user "postgres"\n`,
    );
  });

  it('a role granted too little, or a pool the database will not let open, is told what to grant or allow', () => {
    psql(`CREATE ROLE mq_two LOGIN PASSWORD '${APP_PW}' CONNECTION LIMIT 2`);
    assert.equal(mq(['purge', '--older-than', '1', '--db', uri('postgres', 'mq_unit', ROOT_PW)]).status, 0); // migrated
    const serve = () =>
      mq(['serve', '--port', '1', '--threads', '2', '--db', uri('mq_two', 'mq_unit', APP_PW), '--plans', PLANS, '--key-file', path.join(dir, 'two.key')]);
    // a role granted nothing is told what to grant
    let r = serve();
    assert.equal(r.status, 1);
    assert.ok(
      r.stderr.includes(
        JSON.stringify(
          'database: schema version: permission denied for table schema_migrations (a role that does not own the tables needs SELECT on ' +
            'schema_migrations, and SELECT, INSERT, UPDATE, DELETE on quotes; docs/deploy.md)',
        ),
      ),
      r.stderr,
    );
    psql('GRANT SELECT, INSERT, UPDATE, DELETE ON quotes TO mq_two; GRANT SELECT ON schema_migrations TO mq_two', 'mq_unit');
    // --threads 2: two rating threads and two writers, 4 connections
    r = serve();
    assert.equal(r.status, 1);
    const line = r.stderr.split('\n').find((l) => l.includes('"event":"error"'));
    assert.equal(
      JSON.parse(line).message,
      `database: postgresql: cannot connect: connection to server at "127.0.0.1", port ${port} failed: FATAL:  too many connections for role "mq_two" ` +
        "(opening connection 3 of the 4 this process keeps open: the database's max_connections, and any CONNECTION LIMIT of the role or the database, must allow them all; docs/deploy.md)",
    );
    assert.ok(!r.stderr.includes(APP_PW));
  });

  it('the password changed in the database and the password file: a node reconnects with the new one', async () => {
    psql(`CREATE ROLE mq_rot LOGIN PASSWORD 'first-${APP_PW}'`);
    psql('CREATE DATABASE mq_rot OWNER mq_rot');
    const pgpass = path.join(dir, 'rot.pgpass');
    const line = (pw) => `127.0.0.1:${port}:mq_rot:mq_rot:${pw}\n`;
    writeFileSync(pgpass, line(`first-${APP_PW}`), { mode: 0o600 });
    // the node gets it in its environment, as from a unit's Environment=
    const node = await startServer({
      db: uri('mq_rot', 'mq_rot'), args: ['--key-file', path.join(dir, 'rot.key')], env: { PGPASSFILE: pgpass },
    });
    const post = async () => {
      const res = await fetch(`${node.url}/v1/quotes`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: REQUEST });
      return { status: res.status, text: await res.text() };
    };
    assert.equal((await post()).status, 201);
    // the operator rotates the password: the role's, then the file's; the
    // node's connections are cut (a database restart, a failover)
    psql(`ALTER ROLE mq_rot PASSWORD 'second-${APP_PW}'`);
    writeFileSync(pgpass, line(`second-${APP_PW}`));
    psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'mq_rot'");
    for (let i = 0; i < 4; i++) {
      const r = await post();
      assert.equal(r.status, 201, `save ${i + 1} after the password changed: ${r.text}`);
    }
    await node.stop();
    assert.equal(psql('SELECT count(*) FROM quotes', 'mq_rot'), '5');
    assert.ok(!node.logs().includes(APP_PW));
  });

  it('a URI is PostgreSQL whatever the case of its scheme; any other URI is refused, never a SQLite file', () => {
    const cwd = makeTemp('mq-pg-ops-cwd-');
    try {
      for (const scheme of ['PostgreSQL', 'POSTGRES']) {
        const r = mq(['purge', '--older-than', '1', '--db', `${scheme}://postgres:${ROOT_PW}@127.0.0.1:${port}/mq_unit`], { cwd });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^deleted 0 quotes created before /);
      }
      const refused = [
        [
          `mysql://root:${ROOT_PW}@127.0.0.1/quotes`,
          'the database "mysql://..." is a URI this program cannot open: give a postgresql://USER@HOST:PORT/DBNAME URI (PostgreSQL) or a file path (SQLite)',
        ],
        [
          `postgresql:/postgres:${ROOT_PW}@127.0.0.1:${port}/mq_unit`,
          'the database "postgresql:..." is not a PostgreSQL URI: one begins with two slashes, postgresql://USER@HOST:PORT/DBNAME',
        ],
      ];
      for (const [db, want] of refused) {
        const r = mq(['purge', '--older-than', '1', '--db', db], { cwd });
        assert.equal(r.status, 1);
        assert.equal(r.stderr, `multiquote purge: ${want}\n`);
        const s = mq(['serve', '--port', '1', '--db', db, '--plans', PLANS, '--key-file', path.join(dir, 'serve.key')], { cwd });
        assert.equal(s.status, 1);
        assert.ok(s.stderr.includes(JSON.stringify(`database: ${want}`)), s.stderr);
        assert.ok(!(s.stdout + s.stderr + r.stderr).includes(ROOT_PW));
      }
      assert.deepEqual(readdirSync(cwd), [], 'no SQLite file (nor folder) was made from a URI');
    } finally {
      removeTemp(cwd);
    }
  });

  it('a node whose connections found the database read-only saves again as soon as it is writable', async () => {
    psql('CREATE DATABASE mq_ro');
    const db = uri('postgres', 'mq_ro', ROOT_PW);
    assert.equal(mq(['purge', '--older-than', '1', '--db', db]).status, 0); // migrated
    // a session takes default_transaction_read_only when it starts: the
    // node's pooled connections are all read-only, as on a standby
    psql('ALTER DATABASE mq_ro SET default_transaction_read_only = on');
    const node = await startServer({ db, args: ['--key-file', path.join(dir, 'ro.key')] });
    const post = async () => {
      const res = await fetch(`${node.url}/v1/quotes`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: REQUEST });
      return { status: res.status, text: await res.text() };
    };
    for (let i = 0; i < 3; i++) {
      const r = await post();
      assert.equal(r.status, 500);
      assert.equal(r.text, '{"error":{"code":"storage_error","message":"the quote could not be saved; nothing was stored","path":""}}');
    }
    const why = await node.waitForLog((e) => e.event === 'store_error');
    assert.equal(why.message, 'save: ERROR:  cannot execute INSERT in a read-only transaction');

    psql('ALTER DATABASE mq_ro RESET default_transaction_read_only');
    const ids = [];
    for (let i = 0; i < 6; i++) {
      const r = await post();
      assert.equal(r.status, 201, `save ${i + 1} after the database became writable: ${r.text}`);
      ids.push(JSON.parse(r.text).quote_id);
      const back = await fetch(`${node.url}/v1/quotes/${ids[i]}`);
      assert.equal(back.status, 200);
      assert.equal(await back.text(), r.text);
    }
    await node.stop();
    // exactly the acknowledged quotes: none of the refused, none twice
    assert.equal(psql('SELECT string_agg(id, \',\' ORDER BY id) FROM quotes', 'mq_ro'), [...ids].sort().join(','));
  });

  it('nodes run as a role that may only read and write quotes; behind its schema, it says who must migrate', async () => {
    psql('CREATE DATABASE mq_least');
    psql(`CREATE ROLE mq_app LOGIN PASSWORD '${APP_PW}'`);
    const app = uri('mq_app', 'mq_least', APP_PW);
    const owner = uri('postgres', 'mq_least', ROOT_PW);
    const hint = (from, to) =>
      `; the database is at schema version ${from} and this program needs ${to}, which this role may not make: ` +
      "run this program once with this --db as a role that may change the schema (the database's owner), then this role can run it (docs/deploy.md)";

    // a new database: the role may not create the tables
    const fresh = serveFails(app);
    // the owner migrates it (any command opening the store does)
    const byOwner = mq(['purge', '--older-than', '1', '--db', owner]);
    assert.equal(byOwner.status, 0, byOwner.stderr);
    const latest = Number(psql('SELECT max(version) FROM schema_migrations', 'mq_least'));
    assert.ok(latest >= 6);
    assert.equal(fresh.status, 1);
    assert.equal(fresh.message, `database: create schema_migrations: permission denied for schema public${hint(0, latest)}`);

    // granted what it uses, the role serves: a quote saved and read back
    psql('GRANT SELECT, INSERT, UPDATE, DELETE ON quotes TO mq_app; GRANT SELECT ON schema_migrations TO mq_app', 'mq_least');
    const node = await startServer({ db: app, args: ['--key-file', path.join(dir, 'app.key')] });
    const saved = await fetch(`${node.url}/v1/quotes`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: REQUEST });
    const text = await saved.text();
    assert.equal(saved.status, 201, text);
    const id = JSON.parse(text).quote_id;
    const read = await fetch(`${node.url}/v1/quotes/${id}`);
    assert.equal(read.status, 200);
    assert.equal(await read.text(), text);
    await node.stop();
    assert.ok(!node.logs().includes(APP_PW));

    // the database at an older schema (version 5): the role cannot migrate
    // it, says so, and nothing stored is lost
    const six = psql('SELECT what FROM schema_migrations WHERE version = 6', 'mq_least');
    psql('DELETE FROM schema_migrations WHERE version > 5', 'mq_least');
    const behind = serveFails(app);
    assert.equal(behind.status, 1);
    assert.equal(behind.message, `database: migration 6 (${six}): change: must be owner of table quotes${hint(5, latest)}`);
    assert.equal(psql('SELECT max(version) FROM schema_migrations', 'mq_least'), '5');
    assert.equal(psql(`SELECT count(*) FROM quotes WHERE id = '${id}'`, 'mq_least'), '1');

    // the owner migrates it again; then the role starts and reads the quote
    assert.equal(mq(['purge', '--older-than', '1', '--db', owner]).status, 0);
    assert.equal(psql('SELECT max(version) FROM schema_migrations', 'mq_least'), String(latest));
    const again = await startServer({ db: app, args: ['--key-file', path.join(dir, 'app.key')] });
    const back = await fetch(`${again.url}/v1/quotes/${id}`);
    assert.equal(back.status, 200);
    assert.equal(await back.text(), text);
    await again.stop();
  });
});
