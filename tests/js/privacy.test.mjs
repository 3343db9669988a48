// privacy.test.mjs -- personal data at rest and in logs, end to end.
//
// Canaries: one request per line (auto, home, renters, term life, health,
// bundle) with a unique marker in every personal field (names, email,
// phone, street, every birth date, licence numbers, VINs, income, a
// driver's incidents, a home's claims) is saved
// through the real server. No marker may appear in the server's log, in
// /metrics, or in any byte of the database and its -wal and -shm files;
// the quotes still read back (GET) and re-rate from their opened request
// (worksheet, `multiquote requote`). `multiquote forget --email` then
// removes one person's quotes from every file (not even the quote id stays
// in a free page or the WAL), those saved in clear before sealing too;
// `forget --quote` erases one quote of a shopper who gave no email (by its
// id or /q/ link); `purge --older-than` deletes by age; `rotate-key` re-seals every quote under a new key that still opens them
// (and refuses a bare MQ_KEY); `forget` with a ring that is not the
// database's says so instead of reporting 0 quotes.
// Invalid requests carrying personal data leave none of it in the log.
//
// Run: MQ_BIN=build/multiquote node --test --test-reporter=tap tests/js/privacy.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { REPO_ROOT, startServer, stopAll, makeTemp, runCli } from './lib/server.mjs';

const KEY_1 = 'key 1 ' + '1f'.repeat(32);
const KEY_2 = 'key 2 ' + '2e'.repeat(32);
const SUBJECT = 'subject ' + '5a'.repeat(32);
process.env.MQ_KEY = `${SUBJECT}\n${KEY_1}\n`; // the server and the commands read it

const load = (file) => JSON.parse(readFileSync(path.join(REPO_ROOT, file), 'utf8'));

/** Sets obj's member at dotted path `p` ("drivers.0.license.number"). */
function put(obj, p, value) {
  const keys = p.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k];
  o[keys.at(-1)] = value;
}

/** A request with markers: {line, email, body, markers: [text...]}. */
function canary(line, file, tag, fields) {
  const body = load(file);
  const markers = [];
  const email = `mk.${tag}.canary@example.org`;
  const app = {
    'applicant.first_name': `MKfirst${tag}Qz`,
    'applicant.last_name': `MKlast${tag}Qz`,
    'applicant.email': email,
    // digits of the tag's letters: a phone number must be one (7 to 15 digits)
    'applicant.phone': `+1 614 555 ${[...tag].map((ch) => String(ch.charCodeAt(0) % 100).padStart(2, '0')).join('')}`,
  };
  body.applicant.address.street = `77 MKstreet${tag} Rd`;
  markers.push(body.applicant.address.street);
  for (const [p, v] of Object.entries({ ...app, ...fields })) {
    put(body, p, v);
    markers.push(typeof v === 'number' ? v.toFixed(2) : v);
  }
  return { line, email, body, markers };
}

const VIN = '1HGCM82633A004352'; // a 2003 Honda Accord; its check digit is right
const VIN_2 = '1M8GDM9AXKP042788'; // a VIN looked up through GET /v1/vin/{vin}

function auto() {
  const c = canary('auto', 'examples/oh-single-driver.json', 'au', {
    'applicant.date_of_birth': '1957-11-23',
    'drivers.0.first_name': 'MKdrvfirstauQz',
    'drivers.0.last_name': 'MKdrvlastauQz',
    'drivers.0.date_of_birth': '1959-02-19',
    'drivers.0.license.number': 'MKLIC7781Z',
    'vehicles.0.vin': VIN,
  });
  Object.assign(c.body.vehicles[0], { year: 2003, make: 'Honda', model: 'Accord' });
  // the driving record: sealed whole (a date no other field has is its marker)
  c.body.drivers[0].incidents = [{ type: 'speeding', date: '2023-05-17', mph_over: 13 }];
  c.markers.push('2023-05-17');
  return c;
}

function home() {
  const c = canary('home', 'tests/data/shoppers/home-oh-columbus-frame.json', 'ho', {
    'applicant.date_of_birth': '1961-05-29',
  });
  c.body.claims = [{ type: 'theft', date: '2022-10-09', amount: 3187 }]; // the claims history
  c.markers.push('2022-10-09');
  return c;
}

function life() {
  const c = canary('term_life', 'tests/data/shoppers/life-oh-female-35-preferred.json', 'li', {
    'applicant.date_of_birth': '1989-08-13',
  });
  // self-declared, sealed with the health facts; not a marker: the answer
  // names the class each carrier gave (docs/privacy.md)
  c.body.health_class = 'preferred';
  return c;
}

const CANARIES = () => [
  auto(),
  home(),
  canary('renters', 'tests/data/shoppers/renters-oh-columbus.json', 're', {
    'applicant.date_of_birth': '1987-01-31',
  }),
  life(),
  canary('health', 'tests/data/shoppers/health-oh-family-four-children.json', 'he', {
    'household.income': 85731.29,
    'members.0.date_of_birth': '1983-10-17',
    'members.1.date_of_birth': '1985-03-07',
    'members.2.date_of_birth': '2008-06-11',
    'members.3.date_of_birth': '2013-09-25',
    'members.4.date_of_birth': '2016-12-14',
    'members.5.date_of_birth': '2020-04-09',
  }),
  canary('bundle', 'examples/oh-bundle-auto-home.json', 'bu', {
    'applicant.date_of_birth': '1963-12-07',
    'auto.drivers.0.first_name': 'MKbdrvfirstQz',
    'auto.drivers.0.last_name': 'MKbdrvlastQz',
    'auto.drivers.0.date_of_birth': '1964-06-21',
    'auto.drivers.0.license.number': 'MKBLIC5531Z',
  }),
];

const agent = new http.Agent({ keepAlive: true });
function request(base, method, p, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      base + p,
      { method, agent, headers: body !== undefined ? { 'Content-Type': 'application/json' } : {} },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The files of a SQLite database that exist (db, -wal, -shm). */
function dbFiles(db) {
  return [db, `${db}-wal`, `${db}-shm`].filter((f) => existsSync(f));
}

/** Every (file, needle) pair where the needle's bytes occur. */
function found(files, needles) {
  const hits = [];
  for (const f of files) {
    const bytes = readFileSync(f);
    for (const n of needles) if (bytes.includes(Buffer.from(n, 'utf8'))) hits.push(`${path.basename(f)}: ${n}`);
  }
  return hits;
}

/** Runs fn with MQ_KEY unset, so servers and commands use their --key-file; then puts it back. */
async function withKeyFileOnly(fn) {
  const saved = process.env.MQ_KEY;
  delete process.env.MQ_KEY;
  try {
    return await fn();
  } finally {
    process.env.MQ_KEY = saved;
  }
}

const sql = (db, q) => execFileSync('sqlite3', [db, q], { encoding: 'utf8' }).trim();

describe('personal data: sealed at rest, never logged, forgotten on request', () => {
  let srv, db, dir;
  const saved = []; // {line, email, id, text, markers}

  before(async () => {
    dir = makeTemp('mq-privacy-');
    db = path.join(dir, 'quotes.db');
    srv = await startServer({ db });
    for (const c of CANARIES()) {
      const res = await request(srv.url, 'POST', '/v1/quotes', JSON.stringify(c.body));
      assert.equal(res.status, 201, `${c.line}: ${res.text.slice(0, 300)}`);
      saved.push({ ...c, id: JSON.parse(res.text).quote_id, text: res.text });
    }
  });
  after(async () => {
    agent.destroy();
    await stopAll();
  });

  const allMarkers = () => saved.flatMap((s) => s.markers);

  it('answers carry no personal value, and the quotes read back', async () => {
    for (const s of saved) {
      for (const m of s.markers) assert.ok(!s.text.includes(m), `${s.line}: the answer echoes ${m}`);
      const got = await request(srv.url, 'GET', `/v1/quotes/${s.id}`);
      assert.equal(got.status, 200);
      assert.equal(got.text, s.text);
    }
  });

  it('no marker in the database files, the log or /metrics', async () => {
    const metrics = await request(srv.url, 'GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.deepEqual(found(dbFiles(db), allMarkers()), []);
    for (const m of allMarkers()) {
      assert.ok(!metrics.text.includes(m), `/metrics holds ${m}`);
      assert.ok(!srv.logs().includes(m), `the log holds ${m}`);
    }
    // a quote id opens its quote: the log keeps its start only, never the
    // whole id, whether the quote was asked for by the API or the page
    const a = saved[0];
    const since = srv.events().length;
    assert.equal((await request(srv.url, 'GET', `/v1/quotes/${a.id}`)).status, 200);
    assert.equal((await request(srv.url, 'GET', `/q/${a.id}`)).status, 200);
    assert.equal((await request(srv.url, 'GET', `/v1/quotes/${a.id}/worksheet/${JSON.parse(a.text).results[0].carrier.id}`)).status, 200);
    // an access line is written after its answer is sent: wait for the three
    const logged = await srv.waitForEvents((e) => typeof e.path === 'string' && e.path.includes(a.id.slice(0, 16)), 3, { since });
    for (const s of saved) assert.ok(!srv.logs().includes(s.id), `the log holds the quote id ${s.id}`);
    const paths = logged.map((e) => e.path);
    assert.deepEqual(paths, [`/v1/quotes/${a.id.slice(0, 16)}...`, `/q/${a.id.slice(0, 16)}...`,
      `/v1/quotes/${a.id.slice(0, 16)}.../worksheet/${JSON.parse(a.text).results[0].carrier.id}`]);
    // each quote is sealed under key 1, with a subject when it has an email
    const rows = sql(db, "SELECT key_id, subject IS NOT NULL FROM quotes ORDER BY id").split('\n');
    assert.equal(rows.length, saved.length);
    for (const r of rows) assert.equal(r, '1|1');
  });

  it('re-rates from the opened request: worksheet and requote', async () => {
    const a = saved.find((s) => s.line === 'auto');
    const ws = await request(srv.url, 'GET', `/v1/quotes/${a.id}/worksheet/harbor`);
    assert.equal(ws.status, 200, ws.text);
    const r = await runCli(['requote', '--db', db, a.id]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /reproduced exactly/);
    for (const m of a.markers) assert.ok(!r.stdout.includes(m) && !r.stderr.includes(m));
    // every line, its sealed records (incidents, claims, health facts) put back
    for (const s of saved.filter((x) => ['home', 'renters', 'term_life', 'health'].includes(x.line))) {
      const q = await runCli(['requote', '--db', db, s.id]);
      assert.equal(q.code, 0, `${s.line}: ${q.stderr}`);
      assert.match(q.stdout, /reproduced exactly/, s.line);
    }
  });

  it('invalid requests with personal data leave none of it in the log', async () => {
    const bad = auto().body;
    bad.drivers[0].date_of_birth = '1961-02-30'; // not a date: the 422 names it to the sender
    bad.drivers[0].first_name = 'MKinvalidFirstQz';
    bad.applicant.email = 'mk.invalid.canary@example.org';
    let res = await request(srv.url, 'POST', '/v1/quotes', JSON.stringify(bad));
    assert.equal(res.status, 422, res.text);
    res = await request(srv.url, 'POST', '/v1/quotes', '{"applicant": {"email": "mk.broken.canary@example.org",');
    assert.equal(res.status, 400);
    res = await request(srv.url, 'GET', `/v1/vin/${VIN_2}`);
    assert.ok(res.status < 500, res.text);
    // a mistyped route with a VIN in it is a 404, whose path is logged too
    for (const p of [`//v1/vin/${VIN_2}`, `/v2/vin/${VIN_2}`, `/v1/vins/${VIN_2}`]) {
      res = await request(srv.url, 'GET', p);
      assert.equal(res.status, 404, `${p}: ${res.text}`);
    }
    await request(srv.url, 'GET', '/healthz'); // the log line of the last one is written
    for (const m of ['1961-02-30', 'MKinvalidFirstQz', 'mk.invalid.canary', 'mk.broken.canary', VIN_2])
      assert.ok(!srv.logs().includes(m), `the log holds ${m}`);
  });

  it('rotate-key re-seals every quote under the new key, and they still open', async () => {
    // 32 bytes from the end of each stored request (its box, as key 1 sealed it)
    const oldBoxes = sql(db, 'SELECT hex(request) FROM quotes').split('\n')
      .map((h) => Buffer.from(h, 'hex')).map((b) => b.subarray(b.length - 40, b.length - 8));
    const holding = (bytes) => dbFiles(db).filter((f) => readFileSync(f).includes(bytes)).map((f) => path.basename(f));
    for (const b of oldBoxes) assert.notDeepEqual(holding(b), [], 'the probe finds a stored box');
    process.env.MQ_KEY = `${SUBJECT}\n${KEY_1}\n${KEY_2}\n`;
    const r = await runCli(['rotate-key', '--db', db]);
    assert.equal(r.code, 0, r.stderr);
    // with MQ_KEY nothing is added to a file: it says so, and which key is current
    assert.equal(r.stdout.split('\n')[0],
      'no key added: MQ_KEY gives the key ring, whose current key is 2 (add a key line to MQ_KEY first to rotate)');
    assert.match(r.stdout, new RegExp(`re-encrypted ${saved.length} quotes under key 2 \\(0 already were, 0 failed\\)`));
    assert.deepEqual([...new Set(sql(db, 'SELECT key_id FROM quotes').split('\n'))], ['2']);
    // no box sealed under key 1 is left in the files (the WAL held them all)
    for (const b of oldBoxes) assert.deepEqual(holding(b), [], `a box under key 1 is left: ${b.toString('hex')}`);
    const again = await runCli(['rotate-key', '--db', db]);
    assert.match(again.stdout, new RegExp(`re-encrypted 0 quotes under key 2 \\(${saved.length} already were`));
    const a = saved.find((s) => s.line === 'auto');
    const ok = await runCli(['requote', '--db', db, a.id]);
    assert.equal(ok.code, 0, ok.stderr);
    // key 1 alone no longer opens them
    process.env.MQ_KEY = `${SUBJECT}\n${KEY_1}\n`;
    const old = await runCli(['requote', '--db', db, a.id]);
    assert.equal(old.code, 1);
    assert.match(old.stderr, new RegExp(`quote ${a.id}: sealed with key 2, which the key ring does not hold`));
    process.env.MQ_KEY = `${SUBJECT}\n${KEY_1}\n${KEY_2}\n`;
    assert.deepEqual(found(dbFiles(db), allMarkers()), []);
  });

  it('rotate-key refuses a bare MQ_KEY, which cannot be rotated, instead of reporting nothing done as done', async () => {
    const ring = process.env.MQ_KEY;
    const keys = sql(db, 'SELECT id, key_id FROM quotes ORDER BY id');
    try {
      process.env.MQ_KEY = '1f'.repeat(32);
      const r = await runCli(['rotate-key', '--db', db]);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr,
        'multiquote rotate-key: MQ_KEY holds one bare key, which cannot be rotated; nothing was re-encrypted (docs/privacy.md)\n');
    } finally {
      process.env.MQ_KEY = ring;
    }
    assert.equal(sql(db, 'SELECT id, key_id FROM quotes ORDER BY id'), keys);
  });

  it('forget with a key ring that is not the database\'s says so instead of "deleted 0 quotes"', async () => {
    const a = saved.find((s) => s.line === 'auto');
    const ring = process.env.MQ_KEY;
    const before = sql(db, 'SELECT id FROM quotes ORDER BY id');
    const first = before.split('\n')[0];
    let r;
    try {
      process.env.MQ_KEY = `subject ${'77'.repeat(32)}\nkey 2 ${'88'.repeat(32)}\n`; // another system's
      r = await runCli(['forget', '--db', db, '--email', a.email]);
    } finally {
      process.env.MQ_KEY = ring;
    }
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr,
      `multiquote forget: no quote of that address found, but this key ring does not open the database's quotes (quote ${first}: the personal data does not decrypt with key 2 (wrong key, altered data, or another quote's box)): it is not the ring they were saved under, whose subject key finds a person's quotes; give that one (--key-file or MQ_KEY)\n`);
    assert.equal(sql(db, 'SELECT id FROM quotes ORDER BY id'), before);
    // the database's own ring: an address it has no quote of is 0, exit 0
    const none = await runCli(['forget', '--db', db, '--email', 'never.here@example.org']);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, 'deleted 0 quotes of that address\n');
  });

  it('forget --email erases that person from every file', async () => {
    const a = saved.find((s) => s.line === 'auto');
    const before = Number(sql(db, 'SELECT count(*) FROM quotes'));
    const r = await runCli(['forget', '--db', db, '--email', `  ${a.email.toUpperCase()} `]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'deleted 1 quotes of that address');
    assert.equal((await request(srv.url, 'GET', `/v1/quotes/${a.id}`)).status, 404);
    assert.equal(Number(sql(db, 'SELECT count(*) FROM quotes')), before - 1);
    // not even its id (nor its markers) left in a free page or the WAL
    assert.deepEqual(found(dbFiles(db), [a.id, ...a.markers]), []);
    const others = saved.filter((s) => s !== a);
    for (const s of others) assert.equal((await request(srv.url, 'GET', `/v1/quotes/${s.id}`)).status, 200);
    const none = await runCli(['forget', '--db', db, '--email', a.email]);
    assert.equal(none.stdout.trim(), 'deleted 0 quotes of that address');
    const usage = await runCli(['forget', '--db', db]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--email ADDR/);
    // the help promises erasure from the files only where it is done
    for (const cmd of ['forget', 'purge']) {
      const help = await runCli(['help', cmd]);
      assert.equal(help.code, 0);
      assert.match(help.stdout.replace(/\s+/g, ' '),
        /erases them from a SQLite database's files \(PostgreSQL keeps them in its pages until VACUUM\)/);
    }
  });

  it('forget --quote erases a shopper who gave no email, by the id or the /q/ link', async () => {
    const c = canary('renters', 'tests/data/shoppers/renters-oh-columbus.json', 'nq', {});
    delete c.body.applicant.email; // as the web page sends it
    c.markers = c.markers.filter((m) => !m.includes('@'));
    const res = await request(srv.url, 'POST', '/v1/quotes', JSON.stringify(c.body));
    assert.equal(res.status, 201, res.text);
    const id = JSON.parse(res.text).quote_id;
    const before = Number(sql(db, 'SELECT count(*) FROM quotes'));
    const r = await runCli(['forget', '--db', db, '--quote', `https://quotes.example.org/q/${id}?from=mail#top`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `deleted quote ${id}\n`);
    assert.equal((await request(srv.url, 'GET', `/v1/quotes/${id}`)).status, 404);
    assert.equal(Number(sql(db, 'SELECT count(*) FROM quotes')), before - 1);
    assert.deepEqual(found(dbFiles(db), [id, ...c.markers]), []);
    const again = await runCli(['forget', '--db', db, '--quote', id]);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `multiquote forget: no quote with the id ${id}\n`);
    const both = await runCli(['forget', '--db', db, '--quote', id, '--email', 'a@example.org']);
    assert.equal(both.code, 2);
    assert.equal(both.stderr, 'multiquote forget: give --email or --quote, not both\n');
    const empty = await runCli(['forget', '--db', db, '--quote', 'https://quotes.example.org/q/']);
    assert.equal(empty.code, 2);
    assert.equal(empty.stderr, 'multiquote forget: --quote: not a quote id or link: "https://quotes.example.org/q/"\n');
    assert.equal(Number(sql(db, 'SELECT count(*) FROM quotes')), before - 1);
  });

  it('quotes saved in clear, before sealing: forget finds them by their address, before and after rotate-key seals them', async () => {
    // a quote as the program saved it before sealing existed: its request in
    // clear, no key, no subject (a copy of a saved quote's response)
    const like = saved.find((s) => s.line === 'renters');
    const legacy = (n, email) => {
      const body = structuredClone(CANARIES().find((c) => c.line === 'renters').body);
      body.applicant.email = email;
      body.applicant.first_name = `MKlegacy${n}FirstQz`;
      const id = like.id.slice(0, -1) + String(n);
      const q = (t) => `'${t.replaceAll("'", "''")}'`;
      sql(db, `INSERT INTO quotes (id, created_at, line, effective_date, request, response, consent_contact, consent_at) ` +
        `SELECT ${q(id)}, created_at, line, effective_date, ${q(JSON.stringify(body))}, response, 0, '' FROM quotes WHERE id = ${q(like.id)}`);
      return { id, markers: [email, body.applicant.first_name] };
    };
    const one = legacy(1, 'MK.Legacy.One@example.org');
    const r1 = await runCli(['forget', '--db', db, '--email', 'mk.legacy.one@example.org']);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r1.stdout, 'deleted 1 quotes of that address\n');
    assert.equal(sql(db, `SELECT count(*) FROM quotes WHERE id = '${one.id}'`), '0');
    assert.deepEqual(found(dbFiles(db), [one.id, ...one.markers]), []);
    // rotate-key seals a request saved in clear and gives it its subject
    const two = legacy(2, 'mk.legacy.two@example.org');
    const others = Number(sql(db, 'SELECT count(*) FROM quotes')) - 1;
    const rot = await runCli(['rotate-key', '--db', db]);
    assert.equal(rot.code, 0, rot.stderr);
    assert.match(rot.stdout, new RegExp(`re-encrypted 1 quotes under key 2 \\(${others} already were, 0 failed\\)`));
    assert.equal(sql(db, `SELECT key_id, subject LIKE 's_%' FROM quotes WHERE id = '${two.id}'`), '2|1');
    const r2 = await runCli(['forget', '--db', db, '--email', ' MK.LEGACY.TWO@example.org']);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(r2.stdout, 'deleted 1 quotes of that address\n');
    assert.deepEqual(found(dbFiles(db), [two.id, ...two.markers]), []);
    assert.equal(Number(sql(db, 'SELECT count(*) FROM quotes')), others);
  });

  it('contact consent is kept with each quote and its time; a later quote without it leaves the earlier one\'s', async () => {
    const body = auto().body;
    body.applicant.email = 'mk.consent.canary@example.org';
    body.applicant.consent = { contact: true };
    const yes = JSON.parse((await request(srv.url, 'POST', '/v1/quotes', JSON.stringify(body))).text);
    body.applicant.consent = { contact: false };
    const no = JSON.parse((await request(srv.url, 'POST', '/v1/quotes', JSON.stringify(body))).text);
    assert.equal(sql(db, `SELECT consent_contact, consent_at FROM quotes WHERE id = '${yes.quote_id}'`), `1|${yes.created_at}`);
    assert.equal(sql(db, `SELECT consent_contact, consent_at FROM quotes WHERE id = '${no.quote_id}'`), '0|');
    // the same person: one subject; forget takes both
    assert.equal(sql(db, `SELECT count(DISTINCT subject) FROM quotes WHERE id IN ('${yes.quote_id}', '${no.quote_id}')`), '1');
    const r = await runCli(['forget', '--db', db, '--email', body.applicant.email]);
    assert.equal(r.stdout, 'deleted 2 quotes of that address\n');
  });

  it('a node without its key ring does not make a new one for a database that holds quotes', async () => {
    const keyFile = path.join(dir, 'node.key');
    const own = path.join(dir, 'own.db');
    await withKeyFileOnly(async () => {
      const node = await startServer({ db: own, args: ['--key-file', keyFile] }); // creates the key file
      const res = await request(node.url, 'POST', '/v1/quotes', JSON.stringify(CANARIES()[0].body));
      assert.equal(res.status, 201, res.text);
      await node.stop();
      rmSync(keyFile);
      await assert.rejects(startServer({ db: own, args: ['--key-file', keyFile] }), (err) => {
        assert.match(err.message, /keys: .*node\.key: No such file or directory; the database holds 1 quotes sealed under a key ring: give that one/);
        return true;
      });
      assert.equal(existsSync(keyFile), false);
    });
  });

  it('after rotate-key, SIGHUP makes the server read its key ring again', async () => {
    const keyFile = path.join(dir, 'rotating.key');
    const own = path.join(dir, 'rotating.db');
    await withKeyFileOnly(async () => {
      const node = await startServer({ db: own, args: ['--key-file', keyFile] });
      const body = JSON.stringify(CANARIES()[0].body);
      const first = JSON.parse((await request(node.url, 'POST', '/v1/quotes', body)).text).quote_id;
      const r = await runCli(['rotate-key', '--db', own, '--key-file', keyFile]);
      assert.equal(r.code, 0, r.stderr);
      // the running server's ring has key 1 only: the re-sealed quote does not open yet
      const before = await request(node.url, 'GET', `/v1/quotes/${first}/worksheet/harbor`);
      assert.equal(before.status, 500, before.text);
      node.signal('SIGHUP');
      await node.waitForLog((e) => e.event === 'keys_reloaded');
      assert.ok(node.events().some((e) => e.event === 'keys_reloaded' && e.current_key === 2), node.logs());
      assert.equal((await request(node.url, 'GET', `/v1/quotes/${first}/worksheet/harbor`)).status, 200);
      const next = JSON.parse((await request(node.url, 'POST', '/v1/quotes', body)).text).quote_id;
      assert.equal(sql(own, `SELECT key_id FROM quotes WHERE id = '${next}'`), '2'); // sealed under the new key
      // a key file that no longer reads keeps the ring loaded before
      writeFileSync(keyFile, 'key 1 nonsense\n', { mode: 0o600 });
      node.signal('SIGHUP');
      await node.waitForLog((e) => e.event === 'keys_reload_failed');
      assert.equal((await request(node.url, 'GET', `/v1/quotes/${next}/worksheet/harbor`)).status, 200);
      await node.stop();
    });
  });

  it('with a server running: rotate-key --add-only, SIGHUP, rotate-key --reseal-only; every quote opens at every step', async () => {
    const keyFile = path.join(dir, 'two-step.key');
    const own = path.join(dir, 'two-step.db');
    await withKeyFileOnly(async () => {
      const node = await startServer({ db: own, args: ['--key-file', keyFile] });
      const body = JSON.stringify(CANARIES()[0].body);
      const post = async () => JSON.parse((await request(node.url, 'POST', '/v1/quotes', body)).text).quote_id;
      const opens = async (id) => (await request(node.url, 'GET', `/v1/quotes/${id}/worksheet/harbor`)).status;
      const first = await post();
      const both = await runCli(['rotate-key', '--db', own, '--key-file', keyFile, '--add-only', '--reseal-only']);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /--add-only and --reseal-only are the two steps of a rotation/);
      const add = await runCli(['rotate-key', '--db', own, '--key-file', keyFile, '--add-only']);
      assert.equal(add.code, 0, add.stderr);
      assert.equal(add.stdout, `added key 2 to ${keyFile}\nre-encrypted nothing (--add-only): send SIGHUP to every server, then run rotate-key --reseal-only\n`);
      assert.equal(sql(own, `SELECT key_id FROM quotes WHERE id = '${first}'`), '1');
      assert.equal(await opens(first), 200, 'nothing was re-sealed: the running server still opens it');
      const beforeHup = await post();
      assert.equal(sql(own, `SELECT key_id FROM quotes WHERE id = '${beforeHup}'`), '1');
      node.signal('SIGHUP');
      await node.waitForLog((e) => e.event === 'keys_reloaded' && e.current_key === 2);
      const afterHup = await post();
      assert.equal(sql(own, `SELECT key_id FROM quotes WHERE id = '${afterHup}'`), '2');
      const reseal = await runCli(['rotate-key', '--db', own, '--key-file', keyFile, '--reseal-only']);
      assert.equal(reseal.code, 0, reseal.stderr);
      assert.equal(reseal.stdout, 're-encrypted 2 quotes under key 2 (1 already were, 0 failed)\n');
      assert.equal(readFileSync(keyFile, 'utf8').match(/^key /gm).length, 2, '--reseal-only added a key');
      for (const id of [first, beforeHup, afterHup]) {
        assert.equal(sql(own, `SELECT key_id FROM quotes WHERE id = '${id}'`), '2');
        assert.equal(await opens(id), 200, `${id} does not open after the re-seal`);
      }
      const again = await runCli(['rotate-key', '--db', own, '--key-file', keyFile, '--reseal-only']);
      assert.equal(again.stdout, 're-encrypted 0 quotes under key 2 (3 already were, 0 failed)\n');
      await node.stop();
    });
  });

  it('purge --older-than deletes by age only', async () => {
    const h = saved.find((s) => s.line === 'home');
    sql(db, `UPDATE quotes SET created_at = '2020-01-01T00:00:00Z' WHERE id = '${h.id}'`);
    const before = Number(sql(db, 'SELECT count(*) FROM quotes'));
    const r = await runCli(['purge', '--db', db, '--older-than', '30']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^deleted 1 quotes created before \d{4}-\d\d-\d\dT/);
    assert.equal(Number(sql(db, 'SELECT count(*) FROM quotes')), before - 1);
    assert.equal((await request(srv.url, 'GET', `/v1/quotes/${h.id}`)).status, 404);
    assert.deepEqual(found(dbFiles(db), [h.id]), []);
    const bad = await runCli(['purge', '--db', db, '--older-than', 'soon']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--older-than takes a whole number of days/);
  });
});
