// rights.test.mjs -- a shopper's rights and the agency's leads, end to end.
//
// Quotes of three people are saved through the real server, with and
// without contact consent. `multiquote export` writes a person's quotes
// (by address or one by id or link) with the request opened to exactly
// what was posted, the response as it was answered and the consent with
// its times, and nothing of anyone else; `consent --withdraw` records the
// withdrawal with its time on every quote of the person (or one), keeping
// the quote and when consent was given; `leads` lists the quotes whose
// consent stands, with the contact details and the cheapest premium to the
// cent, never a withdrawn one; a later quote with consent again is a new
// lead. Bad input of every kind gets its exact error and exit status and
// loses nothing stored.
//
// Run: MQ_BIN=build/multiquote node --test --test-reporter=tap tests/js/rights.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT, startServer, stopAll, makeTemp, runCli } from './lib/server.mjs';

const SUBJECT = 'subject ' + '5a'.repeat(32);
const KEY_1 = 'key 1 ' + '1f'.repeat(32);
const RING = `${SUBJECT}\n${KEY_1}\n`;
process.env.MQ_KEY = RING; // the server and the commands read it

const load = (file) => JSON.parse(readFileSync(path.join(REPO_ROOT, file), 'utf8'));
const sql = (db, q) => execFileSync('sqlite3', [db, q], { encoding: 'utf8' }).trim();

function person(file, { first, last, email, phone, consent }) {
  const body = load(file);
  Object.assign(body.applicant, { first_name: first, last_name: last, email });
  if (phone) body.applicant.phone = phone;
  else delete body.applicant.phone;
  body.applicant.consent = { contact: consent };
  return body;
}

const ANN = { first: 'Ann', last: 'Rightsby', email: 'Ann.Rightsby@example.org', phone: '+1 614 555 0142' };
const BOB = { first: '=HYPERLINK("http://x.example")', last: 'Leadman, Jr.', email: 'bob.leadman@example.org', phone: '614-555-0199' };
const CAROL = { first: 'Carol', last: 'Nophone', email: 'carol.nophone@example.org' };
const EVE = { first: 'Eve', last: 'Bundler', email: 'eve.bundler@example.org', phone: '(614) 555-0123' };

/** The cheapest quoted result of a response: [carrier, "total" to the cent, term];
 * a bundle's: its cheapest bundle's annual total, 12 months. */
function cheapest(resp) {
  if (resp.line === 'bundle') {
    const b = [...resp.bundles].sort((x, y) => x.annual_total - y.annual_total)[0];
    return [b.carrier.id, b.annual_total.toFixed(2), '12'];
  }
  const quoted = resp.results.filter((r) => r.status === 'quoted');
  quoted.sort((a, b) => a.premium.total - b.premium.total);
  const r = quoted[0];
  return [r.carrier.id, r.premium.total.toFixed(2), String(r.premium.term_months)];
}

describe('a shopper\'s rights (export, consent --withdraw) and the agency\'s leads', () => {
  let srv, db, dir;
  const q = {}; // name -> {body, resp}

  async function post(name, body) {
    const res = await fetch(`${srv.url}/v1/quotes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    assert.equal(res.status, 201, text.slice(0, 300));
    q[name] = { body, resp: JSON.parse(text), text };
  }

  before(async () => {
    dir = makeTemp('mq-rights-');
    db = path.join(dir, 'quotes.db');
    srv = await startServer({ db });
    await post('a1', person('examples/oh-single-driver.json', { ...ANN, consent: true }));
    await post('a2', person('tests/data/shoppers/home-oh-columbus-frame.json', {
      ...ANN, email: '  ann.RIGHTSBY@example.org ', consent: false,
    }));
    await post('b1', person('examples/oh-single-driver.json', { ...BOB, consent: true }));
    await post('c1', person('tests/data/shoppers/life-oh-female-35-preferred.json', { ...CAROL, consent: true }));
    await post('e1', person('examples/oh-bundle-auto-home.json', { ...EVE, consent: true }));
    await srv.stop();
    srv = null;
  });

  after(async () => {
    await stopAll();
  });

  const count = () => sql(db, 'SELECT count(*) FROM quotes');
  const cli = (...args) => runCli([...args, '--db', db]);

  it('export --email writes every quote of that person, opened, as answered, with its consent; nothing of others', async () => {
    const r = await cli('export', '--email', ' ann.rightsby@EXAMPLE.org');
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const out = JSON.parse(r.stdout);
    assert.match(out.exported_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(out.quotes.map((x) => x.quote_id), [q.a1.resp.quote_id, q.a2.resp.quote_id].sort());
    for (const name of ['a1', 'a2']) {
      const { body, resp, text } = q[name];
      const x = out.quotes.find((e) => e.quote_id === resp.quote_id);
      assert.equal(x.created_at, resp.created_at);
      assert.equal(x.line, body.line);
      assert.equal(x.effective_date, body.effective_date);
      assert.deepEqual(x.request, body); // every personal value back, exactly as posted
      assert.deepEqual(x.response, resp);
      assert.ok(r.stdout.includes(text.trim()), `${name}: the response's text, verbatim`);
    }
    assert.deepEqual(out.quotes.find((e) => e.quote_id === q.a1.resp.quote_id).consent,
      { contact: true, given_at: q.a1.resp.created_at, withdrawn_at: null });
    assert.deepEqual(out.quotes.find((e) => e.quote_id === q.a2.resp.quote_id).consent,
      { contact: false, given_at: null, withdrawn_at: null });
    // the money to the cent, as answered
    assert.ok(r.stdout.includes(`"total":${q.a1.resp.results[0].premium.total}`));
    for (const other of [q.b1.resp.quote_id, q.c1.resp.quote_id, 'Leadman', 'bob.leadman', 'Nophone'])
      assert.ok(!r.stdout.includes(other), `${other} must not be exported`);
  });

  it('export --quote writes the one quote, by its id or its /q/ link', async () => {
    const id = q.b1.resp.quote_id;
    const r = await cli('export', '--quote', `https://quotes.example.org/q/${id}?utm=x`);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.quotes.length, 1);
    assert.deepEqual(out.quotes[0].request, q.b1.body);
    assert.deepEqual(out.quotes[0].consent, { contact: true, given_at: q.b1.resp.created_at, withdrawn_at: null });
  });

  it('export: exact errors and exit statuses, nothing on stdout, nothing lost', async () => {
    const before = count();
    const cases = [
      [['export', '--email', 'nobody@example.org'], 1, 'multiquote export: no quote of that address found\n'],
      [['export', '--quote', 'q_0000000000NOSUCHQUOTE0000000000000'], 1,
        'multiquote export: no quote with the id q_0000000000NOSUCHQUOTE0000000000000\n'],
      [['export'], 2, 'multiquote export: give the person\'s address (--email ADDR) or a quote id (--quote ID)\n'],
      [['export', '--email', 'a@example.org', '--quote', 'q_x'], 2, 'multiquote export: give --email or --quote, not both\n'],
      [['export', '--quote', 'https://quotes.example.org/q/'], 2,
        'multiquote export: --quote: not a quote id or link: "https://quotes.example.org/q/"\n'],
      [['export', '--email', '   '], 2, 'multiquote export: --email: an empty address\n'],
    ];
    for (const [args, code, stderr] of cases) {
      const r = await cli(...args);
      assert.equal(r.stderr, stderr, args.join(' '));
      assert.equal(r.code, code, args.join(' '));
      assert.equal(r.stdout, '');
    }
    assert.equal(count(), before);
  });

  it('export with a key file that is not there, a wrong key, a wrong ring: exact errors, exit 1', async () => {
    const missing = path.join(dir, 'no.key');
    const env = process.env.MQ_KEY;
    try {
      process.env.MQ_KEY = '';
      let r = await cli('export', '--email', ANN.email, '--key-file', missing);
      assert.equal(r.stderr, `multiquote export: ${missing}: No such file or directory\n`);
      assert.equal(r.code, 1);
      // the same subject key (so the quotes are found), another data key
      process.env.MQ_KEY = `${SUBJECT}\nkey 1 ${'2e'.repeat(32)}\n`;
      r = await cli('export', '--email', ANN.email);
      const first = [q.a1.resp.quote_id, q.a2.resp.quote_id].sort()[0];
      assert.equal(r.stderr, `multiquote export: quote ${first}: the personal data does not decrypt with key 1 (wrong key, altered data, or another quote's box)\n`);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      // another ring altogether: it finds nothing, and says why
      process.env.MQ_KEY = `subject ${'6b'.repeat(32)}\nkey 1 ${'2e'.repeat(32)}\n`;
      r = await cli('export', '--email', ANN.email);
      assert.match(r.stderr, /^multiquote export: no quote of that address found, but this key ring does not open the database's quotes \(quote q_\w+: the personal data does not decrypt with key 1 \(wrong key, altered data, or another quote's box\)\): it is not the ring they were saved under, whose subject key finds a person's quotes; give that one \(--key-file or MQ_KEY\)\n$/);
      assert.equal(r.code, 1);
    } finally {
      process.env.MQ_KEY = env;
    }
  });

  it('export, consent and leads on a database that is not one, or not there: exact errors, the file left as it was', async () => {
    const notdb = path.join(dir, 'notes.txt');
    writeFileSync(notdb, 'not a database\n');
    const none = path.join(dir, 'none.db');
    for (const cmd of [['export', '--email', ANN.email], ['consent', '--withdraw', '--email', ANN.email], ['leads']]) {
      let r = await runCli([...cmd, '--db', notdb]);
      assert.equal(r.stderr, `multiquote ${cmd[0]}: ${notdb}: file is not a database\n`);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.equal(readFileSync(notdb, 'utf8'), 'not a database\n');
      r = await runCli([...cmd, '--db', none]);
      assert.equal(r.stderr, `multiquote ${cmd[0]}: ${none}: no database there\n`);
      assert.equal(r.code, 1);
    }
  });

  it('another program\'s SQLite database (a mistyped --db) is refused and left as it was, by forget too', async () => {
    const other = path.join(dir, 'places.sqlite');
    sql(other, "CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT); INSERT INTO moz_places (url) VALUES ('https://example.org');");
    const schema = () => sql(other, "SELECT group_concat(name) FROM sqlite_schema; PRAGMA user_version; PRAGMA journal_mode;");
    const was = schema();
    assert.equal(was, 'moz_places\n0\ndelete');
    for (const cmd of [['export', '--email', ANN.email], ['consent', '--withdraw', '--email', ANN.email],
      ['leads'], ['forget', '--email', ANN.email], ['purge', '--older-than', '30']]) {
      const r = await runCli([...cmd, '--db', other]);
      assert.equal(r.stderr, `multiquote ${cmd[0]}: ${other}: not a multiquote database (no quotes table, schema version 0); left as it was\n`);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.equal(schema(), was);
    }
  });

  const header = 'quote_id,created_at,line,first_name,last_name,email,phone,carrier,premium,term_months';
  const csvRow = (name, first, last, email, phone) => {
    const { resp, body } = q[name];
    return [resp.quote_id, resp.created_at, body.line, first, last, email, phone, ...cheapest(resp)].join(',');
  };

  it('leads: who gave contact consent, with the contact details opened and the cheapest premium to the cent', async () => {
    const r = await cli('leads');
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const rows = r.stdout.split('\n');
    assert.equal(rows.pop(), '');
    assert.equal(rows.shift(), header);
    const want = [
      csvRow('a1', 'Ann', 'Rightsby', ANN.email, ANN.phone),
      // a formula a spreadsheet would run stays text; a comma is quoted
      csvRow('b1', '"\'=HYPERLINK(""http://x.example"")"', '"Leadman, Jr."', BOB.email, BOB.phone),
      csvRow('c1', 'Carol', 'Nophone', CAROL.email, ''),
      csvRow('e1', 'Eve', 'Bundler', EVE.email, EVE.phone),
    ];
    assert.deepEqual(rows, want.sort());
    assert.equal(rows.some((l) => l.includes(q.a2.resp.quote_id)), false); // no consent given
    const [carrier, premium] = cheapest(q.a1.resp);
    assert.ok(rows.some((l) => l.startsWith(q.a1.resp.quote_id) && l.endsWith(`,${carrier},${premium},6`)));

    const nd = await cli('leads', '--format', 'ndjson', '--line', 'term_life');
    assert.equal(nd.code, 0, nd.stderr);
    const lines = nd.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const [cc, ct, cm] = cheapest(q.c1.resp);
    assert.deepEqual(lines, [{
      quote_id: q.c1.resp.quote_id, created_at: q.c1.resp.created_at, line: 'term_life',
      first_name: 'Carol', last_name: 'Nophone', email: CAROL.email, phone: null,
      carrier: cc, premium: Number(ct), term_months: Number(cm),
    }]);
    const later = await cli('leads', '--since', '2999-01-01');
    assert.equal(later.stdout, `${header}\n`);
    assert.equal(later.code, 0);
  });

  it('leads with a key that does not open the requests: each named, none listed, exit 1', async () => {
    const env = process.env.MQ_KEY;
    try {
      process.env.MQ_KEY = `${SUBJECT}\nkey 1 ${'2e'.repeat(32)}\n`;
      const r = await cli('leads', '--line', 'auto');
      const ids = [q.a1.resp.quote_id, q.b1.resp.quote_id].sort();
      assert.equal(r.stderr, ids.map((id) => `multiquote leads: quote ${id}: the personal data does not decrypt with key 1 (wrong key, altered data, or another quote's box)\n`).join('') +
        'multiquote leads: 2 of 2 leads left out: they could not be read (above)\n');
      assert.equal(r.stdout, `${header}\n`);
      assert.equal(r.code, 1);
    } finally {
      process.env.MQ_KEY = env;
    }
  });

  it('leads: bad options get exact errors, exit 2', async () => {
    const cases = [
      [['--since', '2026-02-30'], 'multiquote leads: --since takes a date (YYYY-MM-DD, from its midnight UTC) or a time (YYYY-MM-DDTHH:MM:SSZ), not "2026-02-30"\n'],
      [['--since', '2026-1-05'], 'multiquote leads: --since takes a date (YYYY-MM-DD, from its midnight UTC) or a time (YYYY-MM-DDTHH:MM:SSZ), not "2026-1-05"\n'],
      [['--since', '2026-12-01T25:00:00Z'], 'multiquote leads: --since takes a date (YYYY-MM-DD, from its midnight UTC) or a time (YYYY-MM-DDTHH:MM:SSZ), not "2026-12-01T25:00:00Z"\n'],
      [['--line', 'boat'], 'multiquote leads: --line takes auto, home, renters, term_life, health or bundle, not "boat"\n'],
      [['--format', 'xlsx'], 'multiquote leads: --format takes csv or ndjson, not "xlsx"\n'],
      [['--email', 'a@example.org'], 'multiquote leads: --email is not an option of leads (see multiquote help leads)\n'],
    ];
    for (const [args, stderr] of cases) {
      const r = await cli('leads', ...args);
      assert.equal(r.stderr, stderr, args.join(' '));
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
    }
  });

  it('consent --withdraw --email: recorded with its time on every quote of that person, the quotes and the time consent was given kept; never a lead again', async () => {
    const before = count();
    const r = await cli('consent', '--withdraw', '--email', 'ANN.RIGHTSBY@example.org ');
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const m = r.stdout.match(/^withdrew contact consent on 1 of the 2 quotes of that address, at (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) \(the other had none standing: not given, or withdrawn before\)\n$/);
    assert.ok(m, r.stdout);
    const at = m[1];
    assert.equal(count(), before);
    const leads = await cli('leads');
    assert.ok(!leads.stdout.includes(q.a1.resp.quote_id));
    assert.ok(!leads.stdout.toLowerCase().includes('rightsby'));
    assert.ok(leads.stdout.includes(q.b1.resp.quote_id));
    const out = JSON.parse((await cli('export', '--email', ANN.email)).stdout);
    assert.deepEqual(out.quotes.find((e) => e.quote_id === q.a1.resp.quote_id).consent,
      { contact: true, given_at: q.a1.resp.created_at, withdrawn_at: at });
    assert.deepEqual(out.quotes.find((e) => e.quote_id === q.a2.resp.quote_id).consent,
      { contact: false, given_at: null, withdrawn_at: null });
    // again: nothing standing; the first withdrawal's time stays
    const again = await cli('consent', '--withdraw', '--email', ANN.email);
    assert.match(again.stdout, /^withdrew contact consent on 0 of the 2 quotes of that address, at /);
    assert.equal(again.code, 0);
    assert.equal(sql(db, `SELECT consent_contact, consent_at, consent_withdrawn_at FROM quotes WHERE id = '${q.a1.resp.quote_id}'`),
      `1|${q.a1.resp.created_at}|${at}`);
  });

  it('a later quote with consent again is a new consent, with its own time: a lead, the withdrawn one still not', async () => {
    srv = await startServer({ db });
    await post('a3', person('examples/oh-single-driver.json', { ...ANN, consent: true }));
    await srv.stop();
    srv = null;
    const leads = await cli('leads', '--format', 'ndjson');
    const ids = leads.stdout.trim().split('\n').map((l) => JSON.parse(l).quote_id);
    assert.ok(ids.includes(q.a3.resp.quote_id));
    assert.ok(!ids.includes(q.a1.resp.quote_id));
    const out = JSON.parse((await cli('export', '--email', ANN.email)).stdout);
    assert.equal(out.quotes.length, 3);
    assert.deepEqual(out.quotes.find((e) => e.quote_id === q.a3.resp.quote_id).consent,
      { contact: true, given_at: q.a3.resp.created_at, withdrawn_at: null });
    assert.equal(out.quotes.find((e) => e.quote_id === q.a1.resp.quote_id).consent.given_at, q.a1.resp.created_at);
  });

  it('consent --withdraw --quote: one quote by id or link; exact answers for no consent, withdrawn already, no such quote, bad usage', async () => {
    const before = count();
    const id = q.b1.resp.quote_id;
    let r = await cli('consent', '--withdraw', '--quote', `https://quotes.example.org/q/${id}`);
    assert.equal(r.code, 0, r.stderr);
    const m = r.stdout.match(/^withdrew contact consent on quote (\S+), at (\S+)\n$/);
    assert.ok(m, r.stdout);
    assert.equal(m[1], id);
    r = await cli('consent', '--withdraw', '--quote', id);
    assert.equal(r.stdout, `quote ${id}: contact consent was withdrawn already, at ${m[2]}\n`);
    assert.equal(r.code, 0);
    r = await cli('consent', '--withdraw', '--quote', q.a2.resp.quote_id);
    assert.equal(r.stdout, `quote ${q.a2.resp.quote_id}: its applicant gave no contact consent; nothing to withdraw\n`);
    assert.equal(r.code, 0);
    const leads = await cli('leads');
    assert.ok(!leads.stdout.includes(id));
    assert.ok(!leads.stdout.includes('Leadman'));
    const cases = [
      [['--withdraw', '--quote', 'q_0000000000NOSUCHQUOTE0000000000000'], 1,
        'multiquote consent: no quote with the id q_0000000000NOSUCHQUOTE0000000000000\n'],
      [['--withdraw', '--email', 'nobody@example.org'], 1,
        'multiquote consent: no quote of that address found; nothing recorded\n'],
      [['--quote', id], 2,
        'multiquote consent: give --withdraw (consent is given in a quote\'s request, applicant.consent.contact; this command withdraws it)\n'],
      [['--withdraw'], 2, 'multiquote consent: give the person\'s address (--email ADDR) or a quote id (--quote ID)\n'],
      [['--withdraw', '--email', ANN.email, '--quote', id], 2, 'multiquote consent: give --email or --quote, not both\n'],
    ];
    for (const [args, code, stderr] of cases) {
      r = await cli('consent', ...args);
      assert.equal(r.stderr, stderr, args.join(' '));
      assert.equal(r.code, code, args.join(' '));
    }
    assert.equal(count(), before);
  });

  it('a database from before withdrawals, with a quote saved in clear: found by its address, migrated on open, withdrawn', async () => {
    const db2 = path.join(dir, 'older.db');
    const dee = { first: 'Dee', last: 'Oldrow', email: 'dee.oldrow@example.org', phone: '+1 614 555 0177' };
    srv = await startServer({ db: db2 });
    const res = await fetch(`${srv.url}/v1/quotes`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(person('examples/oh-single-driver.json', { ...dee, consent: true })),
    });
    const sealed = await res.json();
    await srv.stop();
    srv = null;
    // a quote saved in clear, before sealing existed (no key, no subject), with consent
    const body = person('examples/oh-single-driver.json', { ...dee, email: 'DEE.Oldrow@example.org', consent: true });
    const plainId = sealed.quote_id.slice(0, -1) + (sealed.quote_id.endsWith('Z') ? 'Y' : 'Z');
    const lit = (t) => `'${t.replaceAll("'", "''")}'`;
    sql(db2, `INSERT INTO quotes (id, created_at, line, effective_date, request, response, consent_contact, consent_at) ` +
      `SELECT ${lit(plainId)}, created_at, line, effective_date, ${lit(JSON.stringify(body))}, response, 1, created_at FROM quotes WHERE id = ${lit(sealed.quote_id)}`);
    // back to schema version 10, as the program before withdrawals left it (and before pack_dicts.builtin, 12)
    sql(db2, 'ALTER TABLE quotes DROP COLUMN consent_withdrawn_at; ALTER TABLE pack_dicts DROP COLUMN builtin; PRAGMA user_version = 10;');
    const ids = [sealed.quote_id, plainId].sort();
    let leads = await runCli(['leads', '--db', db2, '--format', 'ndjson']);
    assert.equal(leads.code, 0, leads.stderr);
    assert.deepEqual(leads.stdout.trim().split('\n').map((l) => JSON.parse(l).quote_id), ids);
    assert.equal(sql(db2, 'PRAGMA user_version'), '12');
    const out = JSON.parse((await runCli(['export', '--db', db2, '--email', dee.email])).stdout);
    assert.deepEqual(out.quotes.map((x) => x.quote_id).sort(), ids);
    assert.deepEqual(out.quotes.find((x) => x.quote_id === plainId).request, body);
    const w = await runCli(['consent', '--db', db2, '--withdraw', '--email', dee.email]);
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stdout, /^withdrew contact consent on 2 of the 2 quotes of that address, at \S+\n$/);
    leads = await runCli(['leads', '--db', db2]);
    assert.equal(leads.stdout, `${header}\n`);
    assert.equal(sql(db2, 'SELECT count(*) FROM quotes WHERE consent_contact = 1 AND consent_at = created_at AND consent_withdrawn_at IS NOT NULL'), '2');
  });

  it('help says each command\'s output holds personal data', async () => {
    for (const cmd of ['export', 'leads']) {
      const r = await runCli(['help', cmd]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /personal data/);
    }
    const all = await runCli(['help']);
    assert.match(all.stdout + all.stderr, /consent --withdraw --email ADDR/);
  });
});
