// api-partner.test.mjs -- the API as a partner's developer meets it: what a
// client generated from docs/openapi.yaml, or a shopper reading a result,
// is told, and what only the operator's log may hold. The real
// `multiquote serve` binary on loopback; remote carriers are a small
// node.js server here and addresses where nothing listens.
//
// Run: MQ_BIN=$PWD/build/multiquote node --test --test-reporter=tap tests/js/api-partner.test.mjs
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import Ajv from 'ajv';
import { REPO_ROOT, startServer, stopAll, makeTemp, rawRequest, runCli } from './lib/server.mjs';

const EXAMPLE = JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', 'oh-single-driver.json'), 'utf8'));

after(stopAll);

async function postQuote(srv, body, headers = {}) {
  const res = await fetch(`${srv.url}/v1/quotes`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text.startsWith('{') ? JSON.parse(text) : null };
}

/** A TCP port on 127.0.0.1 where nothing listens (bound, then closed). */
function closedPort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---- /healthz --------------------------------------------------------------------

describe('GET /healthz tells a failing store in words of its own', () => {
  it('never quotes the database\'s error (its file path) to the public; the operator\'s log has it', async () => {
    const dir = makeTemp('mq-partner-db-');
    const db = path.join(dir, 'quotes.db');
    const srv = await startServer({ db });
    assert.equal((await postQuote(srv, EXAMPLE)).status, 201);
    // the file moved away under the running server: its store fails at the next save
    for (const f of readdirSync(dir)) rmSync(path.join(dir, f));
    const refused = await postQuote(srv, EXAMPLE);
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.json.error.code, 'storage_unavailable');
    const res = await fetch(`${srv.url}/healthz`);
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.deepEqual(body, {
      status: 'failing',
      plans: body.plans,
      plans_loaded_at: body.plans_loaded_at,
      quotes_saved: 1,
      problem:
        "the database refuses writes since a write to its disk failed or its file was moved away; the operator must fix it and restart the server (the server's log says why)",
    });
    assert.ok(!JSON.stringify(body).includes(dir), 'the database\'s path is not in the public answer');
    // the operator's log has the store's own words, once however often it is probed
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${srv.url}/healthz`)).status, 503);
    await srv.waitForLog((e) => e.event === 'health_failing', { timeoutMs: 5000 });
    await fetch(`${srv.url}/metrics`); // its log line comes after any of the probes'
    await srv.waitForLog((e) => e.path === '/metrics', { timeoutMs: 5000 });
    const logged = srv.events().filter((e) => e.event === 'health_failing');
    assert.equal(logged.length, 1, srv.logs());
    assert.ok(logged[0].message.includes(db), logged[0].message);
    assert.match(logged[0].message, /^the database refuses writes \(.+moved, replaced or deleted while it was open.+\); restart once the disk or the file is fixed$/);
  });
});

// ---- Remote carriers: the shopper's reason, the operator's detail ---------------------

/** A carrier registry (carriers.yaml) of remote carriers {id, url}. */
function registry(dir, carriers) {
  const lines = ['deadline_ms: 3000', 'carriers:', '  - id: harbor', '    kind: local'];
  for (const c of carriers)
    lines.push(`  - id: ${c.id}`, '    kind: remote', `    name: Carrier ${c.id}`, '    rating: A', `    url: ${c.url}`, '    lines: [auto]');
  const file = path.join(dir, 'carriers.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

describe('a remote carrier that fails', () => {
  let redirector;
  after(() => redirector?.close());

  it('shows the shopper a neutral reason, never its host or URL; the operator\'s log names them', async () => {
    redirector = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(302, { Location: 'https://rating.carrier-internal.example:8443/v2/rate' });
        res.end();
      });
    });
    await new Promise((r) => redirector.listen(0, '127.0.0.1', r));
    const dir = makeTemp('mq-partner-remote-');
    const port = await closedPort();
    const file = registry(dir, [
      { id: 'down', url: `http://localhost:${port}/rate` },
      { id: 'moved', url: `http://127.0.0.1:${redirector.address().port}/rate` },
    ]);
    const srv = await startServer({ args: ['--carriers', file] });
    for (const streamed of [false, true]) {
      const q = await postQuote(srv, EXAMPLE, streamed ? { Accept: 'text/event-stream' } : {});
      let doc;
      if (streamed) {
        assert.equal(q.status, 200, q.text);
        const quote = q.text.split('\n\n').find((e) => e.startsWith('event: quote\n'));
        assert.ok(quote, q.text);
        doc = JSON.parse(quote.slice(quote.indexOf('data: ') + 6));
        assert.ok(!q.text.includes('localhost') && !q.text.includes('carrier-internal'), q.text);
      } else {
        assert.equal(q.status, 201, q.text);
        doc = q.json;
      }
      const by = Object.fromEntries(doc.results.map((r) => [r.carrier.id, r]));
      assert.deepEqual([by.harbor.status, by.harbor.premium.total], ['quoted', 714]);
      assert.deepEqual([by.down.status, by.down.reasons], ['error', ['no answer from the carrier: the connection to it failed']]);
      assert.deepEqual([by.moved.status, by.moved.reasons], ['error', ['HTTP 302 from the carrier: redirects are not followed']]);
      // the saved quote is what a shopper reads back: the same words
      const saved = await (await fetch(`${srv.url}/v1/quotes/${doc.quote_id}`)).text();
      assert.ok(!saved.includes('localhost') && !saved.includes('carrier-internal') && !saved.includes('transport'), saved);
    }
    // the catalog a partner reads lists them as the document says
    const catalog = await (await fetch(`${srv.url}/v1/carriers`)).json();
    assert.ok(ajv.validate({ $ref: `${BASE}#/definitions/Carriers` }, catalog), ajv.errorsText());
    assert.deepEqual(catalog.carriers.map((c) => [c.id, c.kind === 'remote']), [['harbor', false], ['down', true], ['moved', true]]);
    // each carrier's first failure is logged with what exactly failed: curl's
    // error naming the host, the redirect's target (then a line a second at most)
    await srv.waitForLog((e) => e.event === 'carrier_call_failed' && e.message.startsWith('Carrier moved'), { timeoutMs: 5000 });
    await srv.waitForLog((e) => e.event === 'carrier_call_failed' && e.message.startsWith('Carrier down'), { timeoutMs: 5000 });
    const failures = srv.events().filter((e) => e.event === 'carrier_call_failed').map((e) => e.message);
    const down = failures.filter((m) => m.startsWith('Carrier down (down): '));
    const moved = failures.filter((m) => m.startsWith('Carrier moved (moved): '));
    assert.ok(down.length >= 1 && moved.length >= 1 && down.length + moved.length === failures.length, srv.logs());
    assert.match(down[0], new RegExp(`^Carrier down \\(down\\): transport: Failed to connect to localhost port ${port}\\b`));
    assert.equal(moved[0], 'Carrier moved (moved): HTTP 302 from the carrier: redirects are not followed (to https://rating.carrier-internal.example:8443/v2/rate)');
    // the command line shows the same reasons, and its operator the details on stderr
    const cli = await runCli(['quote', '--carriers', file, '--json', path.join(REPO_ROOT, 'examples', 'oh-single-driver.json')]);
    assert.equal(cli.code, 0, cli.stderr);
    const byCli = Object.fromEntries(JSON.parse(cli.stdout).results.map((r) => [r.carrier.id, r]));
    assert.deepEqual(byCli.down.reasons, ['no answer from the carrier: the connection to it failed']);
    assert.match(cli.stderr, new RegExp(`^multiquote: Carrier down \\(down\\): transport: Failed to connect to localhost port ${port}\\b`, 'm'));
    assert.match(cli.stderr, /^multiquote: Carrier moved \(moved\): HTTP 302 from the carrier: redirects are not followed \(to https:\/\/rating\.carrier-internal\.example:8443\/v2\/rate\)$/m);
  });
});

// ---- Content-Type as clients write it ------------------------------------------------

describe('the Content-Type of a body', () => {
  let srv;
  after(() => srv?.stop());

  it('takes application/json however a client spells it (RFC 9110: case, whitespace, parameters)', async () => {
    srv = await startServer();
    for (const type of ['application/json ; charset=utf-8', 'Application/JSON;charset="UTF-8"', 'application/json;\tcharset=utf8', ' application/json ', 'application/json; foo=bar']) {
      const q = await postQuote(srv, EXAMPLE, { 'Content-Type': type });
      assert.equal(q.status, 201, `${type}: ${q.text}`);
      assert.deepEqual(q.json.results.find((r) => r.carrier.id === 'harbor').premium.total, 714);
    }
  });

  it('refuses JSON said to be in a charset other than UTF-8, naming it, and saves nothing', async () => {
    srv ??= await startServer();
    const before = (await (await fetch(`${srv.url}/healthz`)).json()).quotes_saved;
    for (const [type, charset] of [['application/json; charset=iso-8859-1', 'iso-8859-1'], ['application/json;foo=bar; charset="windows-1252"', 'windows-1252']]) {
      const q = await postQuote(srv, EXAMPLE, { 'Content-Type': type });
      assert.equal(q.status, 415, q.text);
      assert.deepEqual(q.json, {
        error: { code: 'unsupported_media_type', message: `send the request as application/json in UTF-8, not in charset "${charset}"`, path: '' },
      });
    }
    const other = await postQuote(srv, EXAMPLE, { 'Content-Type': 'application/jsonx' });
    assert.equal(other.status, 415);
    assert.equal(other.json.error.message, 'send the request as application/json');
    assert.equal((await (await fetch(`${srv.url}/healthz`)).json()).quotes_saved, before);
  });

  it('takes an ACORD request as application/xml with whitespace before its parameters', async () => {
    srv ??= await startServer();
    const xml = readFileSync(path.join(REPO_ROOT, 'tests', 'data', 'acord', 'harbor-example-1.xml'));
    const res = await fetch(`${srv.url}/v1/acord`, { method: 'POST', headers: { 'Content-Type': 'application/xml ; charset=utf-8' }, body: xml });
    assert.equal(res.status, 201, await res.clone().text());
    const doc = await res.json();
    assert.equal(doc.results.find((r) => r.carrier.id === 'harbor').premium.total, 714);
  });
});

// ---- Accept: JSON or an event stream -------------------------------------------------

describe('POST /v1/quotes and its Accept header', () => {
  let srv;
  after(() => srv?.stop());

  it('streams only for a client that prefers text/event-stream to JSON; a generated client listing both gets its 201', async () => {
    srv = await startServer();
    const cases = [
      // what a client generated from the document may send for this operation's two answers
      ['application/json, text/event-stream', 201],
      ['text/event-stream;q=0', 201],
      ['text/event-stream;q=0, application/json', 201],
      ['application/json;q=1, text/event-stream;q=0.9', 201],
      ['*/*', 201],
      // the web page's, and a client asking for the stream
      ['text/event-stream, application/json', 200],
      ['text/event-stream', 200],
      ['Text/Event-Stream', 200],
      ['application/json;q=0.5, text/event-stream', 200],
      ['application/json;q=0.9,text/event-stream;level=1;q=0.95', 200],
    ];
    for (const [accept, status] of cases) {
      const q = await postQuote(srv, EXAMPLE, { Accept: accept });
      assert.equal(q.status, status, `Accept: ${accept}: ${q.text.slice(0, 200)}`);
      if (status === 201) {
        assert.equal(q.headers.get('content-type'), 'application/json');
        assert.equal(q.json.results.find((r) => r.carrier.id === 'harbor').premium.total, 714);
      } else {
        assert.equal(q.headers.get('content-type'), 'text/event-stream');
        const quote = q.text.split('\n\n').find((e) => e.startsWith('event: quote\n'));
        const doc = JSON.parse(quote.slice(quote.indexOf('data: ') + 6));
        assert.equal(doc.results.find((r) => r.carrier.id === 'harbor').premium.total, 714);
      }
    }
  });
});

// ---- Every operation's errors, as a generated client reads them ----------------------------

const SPEC = YAML.parse(readFileSync(path.join(REPO_ROOT, 'docs', 'openapi.yaml'), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: false, multipleOfPrecision: 9 }); // as api.test.mjs: 111.82 is a multiple of 0.01
const BASE = 'https://multiquote.test/partner.json';
const toAbs = (x) =>
  Array.isArray(x) ? x.map(toAbs)
  : x && typeof x === 'object'
    ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, k === '$ref' ? v.replace('#/components/schemas/', `${BASE}#/definitions/`) : toAbs(v)]))
    : x;
ajv.addSchema({ $id: BASE, definitions: toAbs(SPEC.components.schemas) });
const deref = (o) => {
  while (o?.$ref) o = o.$ref.slice(2).split('/').reduce((x, k) => x?.[k], SPEC);
  return o;
};

/** The response the document gives an operation for `status`: its own, or its default. */
function documentedError(pathTemplate, method, res) {
  const op = SPEC.paths[pathTemplate][method];
  const r = deref(op.responses[String(res.status)] ?? op.responses.default);
  assert.ok(r, `${method.toUpperCase()} ${pathTemplate} answered ${res.status}, which it does not document (${Object.keys(op.responses)})`);
  for (const [name, h0] of Object.entries(r.headers ?? {})) {
    const h = deref(h0);
    const value = res.headers[name.toLowerCase()];
    if (h.required) assert.ok(value !== undefined, `${method} ${pathTemplate} ${res.status}: no ${name}`);
    if (value !== undefined) assert.ok(ajv.validate(toAbs(h.schema), value), `${name}: ${value}: ${ajv.errorsText()}`);
  }
  const type = (res.headers['content-type'] || '').split(';')[0];
  assert.ok(r.content?.[type], `${method} ${pathTemplate} ${res.status}: ${type} is not documented`);
  const body = JSON.parse(res.text);
  assert.ok(ajv.validate(toAbs(r.content[type].schema), body), `${method} ${pathTemplate} ${res.status}: ${ajv.errorsText()} ${res.text}`);
  return body;
}

/** Every operation of the document, with a URL for it. */
function operations(quoteId) {
  const fill = (p) => p.replace('{id}', quoteId).replace('{carrier}', 'harbor').replace('{vin}', '1HGCM82633A004352');
  return Object.entries(SPEC.paths).flatMap(([p, item]) =>
    ['get', 'post'].filter((m) => item[m]).map((m) => ({ template: p, method: m, url: fill(p) })),
  );
}

describe('every operation of docs/openapi.yaml and the errors it may meet', () => {
  let srv;
  after(() => srv?.stop());

  it('documents each error a route answers (its own status or its default), with the Error body and headers', async () => {
    srv = await startServer({ args: ['--max-url', '256', '--max-headers', '20'] });
    const q = await postQuote(srv, EXAMPLE);
    assert.equal(q.status, 201);
    const ops = operations(q.json.quote_id);
    assert.equal(ops.length, 12);
    for (const op of ops) {
      const method = op.method.toUpperCase();
      const body = op.method === 'post' ? '{}' : undefined;
      const headers = op.method === 'post' ? { 'Content-Type': 'application/json' } : {};
      // a URL over --max-url
      let res = await rawRequest(`${srv.url}${op.url}?pad=${'x'.repeat(300)}`, { method, headers, body });
      assert.equal(res.status, 414, `${method} ${op.url}`);
      assert.equal(documentedError(op.template, op.method, res).error.code, 'uri_too_long');
      // more header fields than --max-headers
      const many = { ...headers };
      for (let i = 0; i < 25; i++) many[`x-partner-${i}`] = String(i);
      res = await rawRequest(`${srv.url}${op.url}`, { method, headers: many, body });
      assert.equal(res.status, 431, `${method} ${op.url}`);
      assert.equal(documentedError(op.template, op.method, res).error.code, 'headers_too_large');
      // a method the route does not take
      res = await rawRequest(`${srv.url}${op.url}`, { method: 'DELETE' });
      assert.equal(res.status, 405, `DELETE ${op.url}`);
      assert.ok(res.headers.allow.split(', ').includes(method), `DELETE ${op.url}: Allow ${res.headers.allow}`);
      assert.equal(documentedError(op.template, op.method, res).error.code, 'method_not_allowed');
    }
  });

  it('documents 429 and its Retry-After on every /v1 operation', async () => {
    const limited = await startServer({ rateLimit: true, args: ['--rate-limit', '1', '--rate-burst', '1'] });
    try {
      for (const op of operations('q_00000000000000000000000000')) {
        if (!op.template.startsWith('/v1/')) continue;
        const method = op.method.toUpperCase();
        let res;
        for (let i = 0; i < 3 && res?.status !== 429; i++)
          res = await rawRequest(`${limited.url}${op.url}`, { method, headers: { 'Content-Type': 'application/json' }, body: op.method === 'post' ? '{}' : undefined });
        assert.equal(res.status, 429, `${method} ${op.url}: ${res.text}`);
        const err = documentedError(op.template, op.method, res).error;
        assert.equal(err.code, 'rate_limited');
        assert.equal(err.message, `too many requests from your address; retry after ${res.headers['retry-after']} s`);
      }
    } finally {
      await limited.stop();
    }
  });
});

// ---- The carrier endpoint's 401 ---------------------------------------------------------

describe('POST /v1/carrier/{id}/rate with MQ_CARRIER_TOKEN set', () => {
  it('answers 401 with a WWW-Authenticate saying how (RFC 9110 11.6.1, RFC 6750 3.1), as documented', async () => {
    const node = await startServer({ env: { MQ_CARRIER_TOKEN: 'tok-partner-1' } });
    try {
      const ask = (auth) =>
        rawRequest(`${node.url}/v1/carrier/harbor/rate`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) },
          body: JSON.stringify(EXAMPLE),
        });
      for (const [auth, challenge] of [
        [null, 'Bearer realm="multiquote carrier endpoint"'],
        ['Bearer tok-partner-2', 'Bearer realm="multiquote carrier endpoint", error="invalid_token"'],
        ['Basic dXNlcjpwYXNz', 'Bearer realm="multiquote carrier endpoint", error="invalid_token"'],
      ]) {
        const res = await ask(auth);
        assert.equal(res.status, 401, String(auth));
        assert.equal(res.headers['www-authenticate'], challenge, String(auth));
        assert.equal(documentedError('/v1/carrier/{id}/rate', 'post', res).error.code, 'unauthorized');
      }
      const ok = await ask('Bearer tok-partner-1');
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.headers['www-authenticate'], undefined);
      assert.equal(JSON.parse(ok.text).premium.total, 714);
      assert.ok(ajv.validate({ $ref: `${BASE}#/definitions/Result` }, JSON.parse(ok.text)), ajv.errorsText());
    } finally {
      await node.stop();
    }
  });
});

// ---- Query parameters ---------------------------------------------------------------------

describe('a query parameter an operation does not take', () => {
  let srv;
  after(() => srv?.stop());

  it('is refused 400 naming it where the operation takes others (a typo is never ignored); nothing is saved', async () => {
    srv = await startServer();
    const saved = async () => (await (await fetch(`${srv.url}/healthz`)).json()).quotes_saved;
    const before = await saved();
    const xml = readFileSync(path.join(REPO_ROOT, 'tests', 'data', 'acord', 'harbor-example-1.xml'));
    for (const [method, url, type, body, template, name, takes] of [
      ['POST', '/v1/quotes?deadline=500', 'application/json', JSON.stringify(EXAMPLE), '/v1/quotes', 'deadline', 'deadline_ms'],
      ['POST', '/v1/quotes?deadline_ms=500&Deadline_ms=1', 'application/json', JSON.stringify(EXAMPLE), '/v1/quotes', 'Deadline_ms', 'deadline_ms'],
      ['POST', '/v1/acord?fromat=acord', 'application/xml', xml, '/v1/acord', 'fromat', 'format'],
      ['GET', '/v1/states?day=2026-01-01', undefined, undefined, '/v1/states', 'day', 'date'],
    ]) {
      const res = await rawRequest(`${srv.url}${url}`, { method, headers: type ? { 'Content-Type': type } : {}, body });
      assert.equal(res.status, 400, `${url}: ${res.text}`);
      assert.deepEqual(documentedError(template, method.toLowerCase(), res), {
        error: { code: 'invalid_parameter', message: `unknown query parameter "${name}": this route takes ${takes}`, path: name },
      });
    }
    assert.equal(await saved(), before);
    // the parameters each takes are still taken; other routes ignore a query
    const q = await postQuote(srv, EXAMPLE, {});
    assert.equal(q.status, 201);
    const fast = await fetch(`${srv.url}/v1/quotes?deadline_ms=500`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(EXAMPLE) });
    assert.equal(fast.status, 201);
    const acord = await fetch(`${srv.url}/v1/acord?format=acord`, { method: 'POST', headers: { 'Content-Type': 'application/xml' }, body: xml });
    assert.equal(acord.status, 201);
    assert.match(acord.headers.get('content-type'), /^application\/xml/);
    assert.equal((await fetch(`${srv.url}/v1/states?date=2026-01-01`)).status, 200);
    assert.equal((await fetch(`${srv.url}/healthz?probe=1`)).status, 200);
    assert.equal((await fetch(`${srv.url}/v1/carriers?nocache=2`)).status, 200);
    assert.equal(await saved(), before + 3);
  });
});

// ---- A base URL ending in "/" ---------------------------------------------------------

describe('a route\'s path with a trailing slash', () => {
  let srv;
  after(() => srv?.stop());

  it('answers 404 saying which path to send, not "no quote with this id"; nothing is saved', async () => {
    srv = await startServer();
    const q = await postQuote(srv, EXAMPLE);
    assert.equal(q.status, 201);
    const id = q.json.quote_id;
    for (const [method, url, want] of [
      ['POST', '/v1/quotes/', '/v1/quotes'],
      ['POST', '/v1/quotes//', '/v1/quotes'],
      ['GET', '/v1/carriers/', '/v1/carriers'],
      ['GET', `/v1/quotes/${id}/`, `/v1/quotes/${id}`],
      ['GET', '/v1/vin/1HGCM82633A004352/', '/v1/vin/1HGCM82633A004352'],
      ['GET', '/healthz/', '/healthz'],
    ]) {
      const res = await rawRequest(`${srv.url}${url}`, {
        method,
        headers: method === 'POST' ? { 'Content-Type': 'application/json' } : {},
        body: method === 'POST' ? JSON.stringify(EXAMPLE) : undefined,
      });
      assert.equal(res.status, 404, url);
      assert.deepEqual(JSON.parse(res.text), {
        error: { code: 'not_found', message: `no such resource: no route's path ends with "/" (send ${want})`, path: '' },
      });
    }
    assert.equal((await (await fetch(`${srv.url}/healthz`)).json()).quotes_saved, 1);
    // what is no route without its slash either is the plain 404
    const other = await rawRequest(`${srv.url}/v1/nothing/`);
    assert.deepEqual(JSON.parse(other.text), { error: { code: 'not_found', message: 'no such resource', path: '' } });
  });
});

// ---- The event stream's events against the document ------------------------------------

describe('POST /v1/quotes as an event stream', () => {
  let srv;
  after(() => srv?.stop());

  it('sends result events that are Results and a quote event that is the QuoteResponse saved', async () => {
    srv = await startServer();
    for (const file of ['oh-single-driver.json']) {
      const q = await postQuote(srv, JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', file), 'utf8')), { Accept: 'text/event-stream' });
      assert.equal(q.status, 200);
      const events = q.text.split('\n\n').filter(Boolean).map((e) => {
        const [, name] = /^event: (\w+)\n/.exec(e);
        return { name, data: JSON.parse(e.slice(e.indexOf('data: ') + 6)) };
      });
      const results = events.filter((e) => e.name === 'result');
      const last = events.at(-1);
      assert.equal(last.name, 'quote');
      assert.equal(results.length, last.data.results.length);
      for (const r of results) assert.ok(ajv.validate({ $ref: `${BASE}#/definitions/Result` }, r.data), `${ajv.errorsText()} ${JSON.stringify(r.data).slice(0, 300)}`);
      assert.ok(ajv.validate({ $ref: `${BASE}#/definitions/QuoteResponse` }, last.data), ajv.errorsText());
      const saved = await fetch(`${srv.url}/v1/quotes/${last.data.quote_id}`);
      assert.deepEqual(await saved.json(), last.data);
    }
  });
});

// ---- ACORD answers as an ACORD client asks for them ----------------------------------------

describe('POST /v1/acord and its Accept header', () => {
  let srv;
  after(() => srv?.stop());

  it('answers ACORD XML to a client that prefers XML, JSON otherwise; ?format decides over Accept', async () => {
    srv = await startServer();
    const xml = readFileSync(path.join(REPO_ROOT, 'tests', 'data', 'acord', 'harbor-example-1.xml'));
    for (const [query, accept, answer] of [
      ['', 'application/xml', 'xml'],
      ['', 'text/xml', 'xml'],
      ['', 'application/xml, application/json', 'xml'],
      ['', 'application/json;q=0.5, text/xml', 'xml'],
      ['', 'application/json, application/xml', 'json'],
      ['', 'application/xml;q=0', 'json'],
      ['', '*/*', 'json'],
      ['', null, 'json'],
      ['?format=json', 'application/xml', 'json'],
      ['?format=acord', 'application/json', 'xml'],
    ]) {
      const res = await fetch(`${srv.url}/v1/acord${query}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/xml', ...(accept ? { Accept: accept } : {}) },
        body: xml,
      });
      const text = await res.text();
      assert.equal(res.status, 201, `${query} ${accept}: ${text.slice(0, 200)}`);
      if (answer === 'xml') {
        assert.equal(res.headers.get('content-type'), 'application/xml; charset=utf-8', `${query} ${accept}`);
        assert.match(text, /<PersAutoPolicyQuoteInqRs>/);
        assert.match(text, /<FullTermAmt>\s*<Amt>714\.00<\/Amt>/);
      } else {
        assert.equal(res.headers.get('content-type'), 'application/json', `${query} ${accept}`);
        assert.equal(JSON.parse(text).results.find((r) => r.carrier.id === 'harbor').premium.total, 714);
      }
    }
  });
});

// ---- A byte order mark before the JSON ---------------------------------------------------

describe('a JSON body that starts with a UTF-8 byte order mark', () => {
  let srv;
  after(() => srv?.stop());

  it('is read as the JSON after it (RFC 8259 8.1), rated and saved without it', async () => {
    srv = await startServer();
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const res = await rawRequest(`${srv.url}/v1/quotes`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body: Buffer.concat([bom, Buffer.from(JSON.stringify(EXAMPLE))]),
    });
    assert.equal(res.status, 201, res.text);
    const doc = JSON.parse(res.text);
    assert.equal(doc.results.find((r) => r.carrier.id === 'harbor').premium.total, 714);
    // its worksheet re-rates the saved request: the same total
    const ws = await fetch(`${srv.url}/v1/quotes/${doc.quote_id}/worksheet/harbor`);
    assert.equal(ws.status, 200);
    // a mark alone is still no JSON, and says where
    const empty = await rawRequest(`${srv.url}/v1/quotes`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: bom });
    assert.equal(empty.status, 400);
    assert.equal(JSON.parse(empty.text).error.code, 'malformed_json');
    assert.match(JSON.parse(empty.text).error.message, /^invalid JSON at 1:0: /);
  });
});

// ---- The carrier endpoint and the per-client rate limit ------------------------------------

describe('a node calling this one\'s carrier endpoint with its token', () => {
  it('is not held to a shopper\'s rate limit; calls without the token, and other routes, are', async () => {
    const node = await startServer({
      rateLimit: true, args: ['--rate-limit', '1', '--rate-burst', '2'], env: { MQ_CARRIER_TOKEN: 'tok-partner-rate' },
    });
    try {
      const rate = (auth) =>
        rawRequest(`${node.url}/v1/carrier/harbor/rate`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) },
          body: JSON.stringify(EXAMPLE),
        });
      // ten calls at once from the calling node: every one rated
      const calls = await Promise.all(Array.from({ length: 10 }, () => rate('Bearer tok-partner-rate')));
      for (const c of calls) {
        assert.equal(c.status, 200, c.text);
        assert.equal(JSON.parse(c.text).premium.total, 714);
      }
      // without the token: the burst of two (each a 401), then 429
      const wrong = [];
      for (let i = 0; i < 3; i++) wrong.push((await rate('Bearer guess')).status);
      assert.deepEqual(wrong, [401, 401, 429]);
      // a shopper's route from the same address is limited as before
      const carriers = await rawRequest(`${node.url}/v1/carriers`);
      assert.equal(carriers.status, 429);
      assert.match(carriers.headers['retry-after'], /^[1-9][0-9]*$/);
    } finally {
      await node.stop();
    }
  });
});
