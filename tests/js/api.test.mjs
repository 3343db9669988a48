// api.test.mjs -- the HTTP API end to end: the real `multiquote serve` binary,
// every endpoint, each response checked against docs/openapi.yaml (status
// documented, documented headers present and valid, body valid against the
// documented schema) and against the Harbor Mutual reference manual's
// worked examples. Also the server's lifecycle: SIGHUP reloads (good and
// broken plans), SIGTERM draining requests in flight, persistence across
// restarts and kill -9, and `multiquote requote` (health quotes re-rated
// with the benchmark plan version they recorded).
//
// Run: npm ci && MQ_BIN=/work/main/build/multiquote node --test --test-reporter=tap
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync, readdirSync, existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import YAML from 'yaml';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import {
  REPO_ROOT,
  PLANS,
  SLOW,
  startServer,
  stopAll,
  copyPlans,
  makeTemp,
  removeTemp,
  rawRequest,
  runCli,
  sleep,
  deadline,
} from './lib/server.mjs';

// ---- Fixtures ---------------------------------------------------------------

const OPENAPI_PATH = path.join(REPO_ROOT, 'docs', 'openapi.yaml');
const OPENAPI_TEXT = readFileSync(OPENAPI_PATH, 'utf8');
const SPEC = YAML.parse(OPENAPI_TEXT);

const REFERENCE_PATH = path.resolve(REPO_ROOT, '..', 'shared', 'reference', 'harbor-mutual-oh-auto.examples.json');
const REFERENCE = existsSync(REFERENCE_PATH)
  ? JSON.parse(readFileSync(REFERENCE_PATH, 'utf8'))
  : { cases: [] };
// Case 1 of the manual; examples/oh-single-driver.json is the same request.
const EXAMPLE_1 =
  REFERENCE.cases[0]?.request ?? JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', 'oh-single-driver.json'), 'utf8'));
const EXPECTED_1 = REFERENCE.cases[0]?.expected ?? {
  status: 'quoted',
  premium: { total: 714, fees: 18, term_months: 6 },
  coverages: [
    { vehicle: 'v1', code: 'bi', premium: 225 },
    { vehicle: 'v1', code: 'pd', premium: 139 },
    { vehicle: 'v1', code: 'med', premium: 25 },
    { vehicle: 'v1', code: 'um', premium: 50 },
    { vehicle: 'v1', code: 'comp', premium: 52 },
    { vehicle: 'v1', code: 'coll', premium: 205 },
  ],
  minimum_premium_applied: false,
  notes: 0,
};

// The ACA manual's worked examples (health), and the shoppers of every line
// with the results each .expect.md works out by hand from the plans' tables.
const ACA_PATH = path.resolve(REPO_ROOT, '..', 'shared', 'reference', 'aca-health.examples.json');
const ACA = existsSync(ACA_PATH) ? JSON.parse(readFileSync(ACA_PATH, 'utf8')) : { cases: [] };
const SHOPPERS_DIR = path.join(REPO_ROOT, 'tests', 'data', 'shoppers');
const SHOPPERS = readdirSync(SHOPPERS_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ name: f.slice(0, -5), request: JSON.parse(readFileSync(path.join(SHOPPERS_DIR, f), 'utf8')) }));

/** The "Expected results" table of a shopper's .expect.md: [{carrier, plan, status, total, class}]. */
function expectedResults(name) {
  const file = path.join(SHOPPERS_DIR, `${name}.expect.md`);
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith('## Expected results'));
  const head = lines.findIndex((l, i) => i > start && l.startsWith('| carrier |'));
  const cols = lines[head].split('|').slice(1, -1).map((c) => c.trim());
  const rows = [];
  for (let i = head + 2; lines[i]?.startsWith('|'); i++) {
    const cells = lines[i].split('|').slice(1, -1).map((c) => c.trim());
    const row = Object.fromEntries(cols.map((c, k) => [c, cells[k]]));
    rows.push({
      carrier: row.carrier,
      plan: row.plan === '-' ? null : row.plan.split(' ')[0],
      status: row.status,
      total: row.status === 'quoted' ? Number(row.total ?? row['premium per payment']) : null,
      class: row.class || null,
    });
  }
  return rows;
}

const QUOTE_ID = /^q_[0-9A-HJKMNP-TV-Z]{36}$/;
const MiB = 1024 * 1024;

/** A deep copy of example 1 with `edit` applied. */
function example1(edit = () => {}) {
  const r = structuredClone(EXAMPLE_1);
  edit(r);
  return r;
}

/** The plan versions on disk (<carrier>/<version>/plan.yaml): folder, carrier, line. */
function plansOnDisk(dir = PLANS) {
  const out = [];
  for (const carrier of readdirSync(dir))
    for (const v of readdirSync(path.join(dir, carrier))) {
      const file = path.join(dir, carrier, v, 'plan.yaml');
      if (!existsSync(file)) continue;
      const doc = YAML.parse(readFileSync(file, 'utf8'));
      out.push({ folder: `${carrier}/${v}`, carrier: doc.carrier.id, line: doc.plan.line });
    }
  return out;
}
const PLANS_ON_DISK = plansOnDisk();
/** Carriers asked for an auto request: every carrier with an auto plan in any state. */
const CARRIER_IDS_ON_DISK = [
  ...new Set(PLANS_ON_DISK.filter((p) => p.line === 'auto').map((p) => p.carrier)),
].sort();
const ALL_CARRIER_IDS_ON_DISK = [...new Set(PLANS_ON_DISK.map((p) => p.carrier))].sort();
const PLAN_COUNT_ON_DISK = PLANS_ON_DISK.length;

// ---- OpenAPI validation --------------------------------------------------------

const ajv = new Ajv({
  allErrors: true,
  strictSchema: true,
  strictNumbers: true,
  strictTypes: true,
  strictTuples: true,
  strictRequired: false,
  multipleOfPrecision: 9,
});
addFormats(ajv);
const SCHEMA_BASE = 'https://multiquote.test/openapi.json';

/** The spec's `#/components/schemas/X` refs, made absolute into one added schema. */
function rewriteRefs(x) {
  if (Array.isArray(x)) return x.map(rewriteRefs);
  if (x && typeof x === 'object') {
    const o = {};
    for (const [k, v] of Object.entries(x))
      o[k] =
        k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
          ? `${SCHEMA_BASE}#/definitions/${v.slice('#/components/schemas/'.length)}`
          : rewriteRefs(v);
    return o;
  }
  return x;
}
ajv.addSchema({ $id: SCHEMA_BASE, definitions: rewriteRefs(SPEC.components.schemas) });

const compiled = new Map();
function validatorFor(schema) {
  const key = JSON.stringify(schema);
  if (!compiled.has(key)) compiled.set(key, ajv.compile(rewriteRefs(schema)));
  return compiled.get(key);
}
function component(name) {
  const v = ajv.getSchema(`${SCHEMA_BASE}#/definitions/${name}`);
  assert.ok(v, `components/schemas/${name} is missing from docs/openapi.yaml`);
  return v;
}

/** Asserts `data` is valid against a schema (object) or a component (name). */
function assertSchema(schemaOrName, data, what = '') {
  const v = typeof schemaOrName === 'string' ? component(schemaOrName) : validatorFor(schemaOrName);
  const ok = v(data);
  assert.ok(
    ok,
    `${what || schemaOrName} does not match docs/openapi.yaml: ${ajv.errorsText(v.errors, { separator: '\n  ' })}\n` +
      `data: ${JSON.stringify(data).slice(0, 2000)}`,
  );
}

/** The errors (or null) of validating `data` against a component. */
function schemaErrors(name, data) {
  const v = component(name);
  return v(data) ? null : v.errors;
}

/** Follows a local `$ref` of the spec (responses, headers, parameters). */
function deref(obj) {
  while (obj && obj.$ref) {
    assert.ok(obj.$ref.startsWith('#/'), `non-local $ref ${obj.$ref}`);
    obj = obj.$ref
      .slice(2)
      .split('/')
      .reduce((o, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], SPEC);
    assert.ok(obj, 'dangling $ref in docs/openapi.yaml');
  }
  return obj;
}

function header(res, name) {
  if (typeof res.headers.get === 'function') return res.headers.get(name);
  const v = res.headers[name.toLowerCase()];
  return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
}

/**
 * Checks a response against the spec: its status is documented for the
 * operation, every documented header is present (when required) and valid,
 * the content type is a documented one and the body matches its schema.
 * Returns the parsed body.
 */
function checkDocumented(pathTemplate, method, res) {
  const item = SPEC.paths[pathTemplate];
  assert.ok(item, `path ${pathTemplate} is not in docs/openapi.yaml`);
  const op = item[method.toLowerCase()];
  assert.ok(op, `${method} ${pathTemplate} is not in docs/openapi.yaml`);
  const documented = op.responses[String(res.status)];
  assert.ok(
    documented,
    `${method} ${pathTemplate} answered ${res.status}, which docs/openapi.yaml does not list ` +
      `(${Object.keys(op.responses).join(', ')}); body: ${res.text.slice(0, 300)}`,
  );
  const r = deref(documented);
  for (const [name, h0] of Object.entries(r.headers ?? {})) {
    const h = deref(h0);
    const value = header(res, name);
    if (h.required) assert.notEqual(value, null, `${method} ${pathTemplate} ${res.status}: no ${name} header`);
    if (value !== null && h.schema) assertSchema(h.schema, value, `header ${name}`);
  }
  const ctype = header(res, 'content-type');
  assert.ok(ctype, 'no Content-Type');
  const media = ctype.split(';')[0].trim().toLowerCase();
  assert.ok(
    r.content?.[media],
    `${method} ${pathTemplate} ${res.status}: Content-Type ${ctype} is not documented (${Object.keys(r.content ?? {})})`,
  );
  const data = media === 'application/json' ? JSON.parse(res.text) : res.text;
  assertSchema(r.content[media].schema, data, `${method} ${pathTemplate} ${res.status} body`);
  return data;
}

// ---- HTTP helpers ---------------------------------------------------------------

/** fetch, with the body read as text; {status, headers, text, json()}. */
async function call(srv, method, urlPath, { body, type = 'application/json', headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
    if (type !== null) init.headers['content-type'] = type;
  }
  const res = await fetch(srv.url + urlPath, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

const get = (srv, p) => call(srv, 'GET', p);

/** Every number token of a JSON text, as written. */
function jsonNumberTokens(text) {
  const out = [];
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (c === '"') {
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      i++;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i;
      while (j < text.length && /[-+0-9.eE]/.test(text[j])) j++;
      out.push(text.slice(i, j));
      i = j;
    } else i++;
  }
  return out;
}

/** Prometheus text -> Map of `name{labels}` -> number; checks the format on the way. */
function parseMetrics(text) {
  const m = new Map();
  const typed = new Set();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const t = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (t) typed.add(t[1]);
    if (line.startsWith('#')) continue;
    const s = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    assert.ok(s, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    const family = s[1].replace(/_(bucket|sum|count)$/, '');
    assert.ok(typed.has(s[1]) || typed.has(family), `sample ${s[1]} has no # TYPE line before it`);
    m.set(s[1] + (s[2] ?? ''), Number(s[3]));
  }
  return m;
}

/** /metrics, polled until pred(map) holds (counters are bumped as a request completes). */
async function metricsWhen(srv, pred, ms = 3000) {
  const end = Date.now() + ms;
  for (;;) {
    const res = await get(srv, '/metrics');
    assert.equal(res.status, 200);
    const m = parseMetrics(res.text);
    if (pred(m) || Date.now() > end) return m;
    await sleep(25);
  }
}

const metric = (m, key) => m.get(key) ?? 0;

/** The harbor result of a response, checked against a reference case's expectations. */
function assertHarborMatches(result, expected, label) {
  assert.ok(result, `${label}: no harbor result`);
  assert.equal(result.status, expected.status, `${label}: status (reasons: ${result.reasons})`);
  if (expected.status !== 'quoted') {
    assert.equal('premium' in result, false, `${label}: a ${result.status} result has a premium`);
    if (expected.reason_mentions)
      assert.ok(
        result.reasons.some((r) => r.toLowerCase().includes(expected.reason_mentions.toLowerCase())),
        `${label}: no reason mentions ${expected.reason_mentions}: ${JSON.stringify(result.reasons)}`,
      );
    return;
  }
  assert.equal(result.premium.total, expected.premium.total, `${label}: total`);
  assert.equal(result.premium.fees, expected.premium.fees, `${label}: fees`);
  assert.equal(result.premium.term_months, expected.premium.term_months, `${label}: term`);
  assert.equal(
    result.premium.monthly,
    Math.round((expected.premium.total / expected.premium.term_months) * 100) / 100,
    `${label}: monthly`,
  );
  if ('minimum_premium_applied' in expected)
    assert.equal(result.premium.minimum_premium_applied, expected.minimum_premium_applied, `${label}: minimum`);
  const got = result.coverages.map((c) => `${c.vehicle}/${c.code}=${c.premium}`).sort();
  const want = expected.coverages.map((c) => `${c.vehicle}/${c.code}=${c.premium}`).sort();
  assert.deepEqual(got, want, `${label}: coverage premiums`);
  const sum = result.coverages.reduce((a, c) => a + Math.round(c.premium * 100), 0);
  const fees = result.fees.reduce((a, f) => a + Math.round(f.amount * 100), 0);
  assert.equal(fees, Math.round(result.premium.fees * 100), `${label}: fee lines add up to premium.fees`);
  if (!expected.minimum_premium_applied)
    assert.equal(sum + fees, Math.round(result.premium.total * 100), `${label}: coverages + fees = total`);
  if (typeof expected.notes === 'number') assert.equal(result.notes.length, expected.notes, `${label}: notes`);
}

/** Results order: quoted first by ascending total, then the rest; one per carrier. */
function assertResultsOrder(results, label = '') {
  const order = results
    .map((r) => (r.premium ? `${r.carrier.id} ${r.premium.total}/${r.premium.term_months}mo` : `${r.carrier.id} ${r.status}`))
    .join(', ');
  const firstOther = results.findIndex((r) => r.status !== 'quoted');
  if (firstOther >= 0)
    for (const r of results.slice(firstOther))
      assert.notEqual(r.status, 'quoted', `${label}: a quoted result (${r.carrier.id}) after a non-quoted one: ${order}`);
  const quoted = results.filter((r) => r.status === 'quoted');
  for (let i = 1; i < quoted.length; i++)
    assert.ok(
      quoted[i - 1].premium.total <= quoted[i].premium.total,
      `${label}: quoted results not in ascending premium.total: ${quoted[i - 1].carrier.id} ` +
        `${quoted[i - 1].premium.total} before ${quoted[i].carrier.id} ${quoted[i].premium.total}; order: ${order}`,
    );
  const ids = results.map((r) => r.carrier.id);
  assert.equal(new Set(ids).size, ids.length, `a carrier appears twice: ${ids}`);
}

/** Money written with at most its cents: no number token has more than 2 decimals. */
function assertMoneyText(text) {
  for (const n of jsonNumberTokens(text))
    assert.match(n, /^-?[0-9]+(\.[0-9]{1,2})?$/, `number ${n} is not written as dollars and cents`);
}

/** Raw POST whose body is sent in two parts: returns {req, response, sendRest()}. */
/**
 * A raw connection kept alive: request(text) sends one request and resolves
 * its response {status, headers, text}; `closed` resolves when the server
 * closes the connection.
 */
function keptAlive(port) {
  const sock = net.connect(port, '127.0.0.1');
  let buf = Buffer.alloc(0);
  let waiting = null;
  const closed = new Promise((resolve) => sock.on('close', resolve));
  sock.on('error', () => {});
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    const end = buf.indexOf('\r\n\r\n');
    if (!waiting || end < 0) return;
    const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const len = Number(headers['content-length'] || 0);
    if (buf.length < end + 4 + len) return;
    const text = buf.subarray(end + 4, end + 4 + len).toString('utf8');
    buf = buf.subarray(end + 4 + len);
    const done = waiting;
    waiting = null;
    done({ status: Number(lines[0].split(' ')[1]), headers, text });
  });
  return {
    closed,
    request: (text) =>
      new Promise((resolve) => {
        waiting = resolve;
        sock.write(text);
      }),
  };
}

function splitPost(srv, bodyText) {
  const bytes = Buffer.from(bodyText);
  const half = Math.floor(bytes.length / 2);
  const req = http.request(srv.url + '/v1/quotes', {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': bytes.length },
  });
  const connected = new Promise((resolve, reject) => {
    req.on('socket', (sock) => (sock.connecting ? sock.once('connect', resolve) : resolve()));
    req.on('error', reject);
  });
  const response = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          headers: res.headers,
          raw: Buffer.concat(chunks),
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  response.catch(() => {}); // reported where awaited
  connected.catch(() => {});
  req.write(bytes.subarray(0, half));
  return { req, connected, response, sendRest: () => req.end(bytes.subarray(half)) };
}

after(stopAll);

// ---- The document itself -------------------------------------------------------

describe('plans/: every plan against its rate manual', () => {
  it('each discount of a plan, with its percentage and cap, is in the README beside it', () => {
    let checked = 0;
    for (const { folder } of PLANS_ON_DISK) {
      const readme = path.join(PLANS, folder, 'README.md');
      if (!existsSync(readme)) continue; // harbor: its manual is shared/reference
      const text = readFileSync(readme, 'utf8').toLowerCase().replace(/\s+/g, ' ');
      const doc = YAML.parse(readFileSync(path.join(PLANS, folder, 'plan.yaml'), 'utf8'));
      for (const step of doc.steps ?? []) {
        if (!step.discounts) continue;
        const cap = `${Math.round(step.discounts.cap * 100)}%`;
        assert.ok(text.includes(cap), `${folder}: the discount cap ${cap} is not in README.md`);
        for (const item of step.discounts.items) {
          // "Multi-line (auto with us)" is written "multi-line 12%" in the manual
          const said = `${item.name.replace(/\s*\(.*\)/, '').toLowerCase()} ${Math.round(item.amount * 100)}%`;
          assert.ok(text.includes(said), `${folder}: the discount "${said}" is not in README.md`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 150, `only ${checked} discounts checked`);
  });
});

describe('docs/openapi.yaml', () => {
  it('is OpenAPI 3.0.3 with every route and the required schemas', () => {
    assert.equal(SPEC.openapi, '3.0.3');
    for (const [p, m] of [
      ['/v1/quotes', 'post'],
      ['/v1/quotes/{id}', 'get'],
      ['/v1/quotes/{id}/worksheet/{carrier}', 'get'],
      ['/v1/carriers', 'get'],
      ['/v1/plans', 'get'],
      ['/healthz', 'get'],
      ['/metrics', 'get'],
      ['/v1/openapi.yaml', 'get'],
    ])
      assert.ok(SPEC.paths[p]?.[m], `${m.toUpperCase()} ${p} missing`);
    assert.deepEqual(Object.keys(SPEC.paths['/v1/quotes'].post.responses).sort(), [
      '200', // the event stream (Accept: text/event-stream)
      '201',
      '400',
      '413',
      '415',
      '422',
      '429', // rate limited, with Retry-After
      '500',
      '503', // the store refuses writes after a disk failure (tests/js/faults.test.mjs)
      'default', // any other error: the same Error body (tests/js/api-partner.test.mjs)
    ]);
    assert.ok(SPEC.paths['/v1/quotes/{id}/worksheet/{carrier}'].get.responses['409']);
    for (const name of [
      'Error',
      'QuoteResponse',
      'Result',
      'CoveragePremium',
      'Worksheet',
      'WorksheetStep',
      'Carriers',
      'Plans',
      'Health',
      'QuoteRequest',
      'AutoQuoteRequest',
      'HomeQuoteRequest',
      'RentersQuoteRequest',
      'TermLifeQuoteRequest',
      'HealthQuoteRequest',
      'BundleQuoteRequest',
      'CarrierRateRequest',
      'BundleResponse',
    ])
      component(name);
    assert.equal(
      SPEC.paths['/v1/quotes'].post.requestBody.content['application/json'].schema.$ref,
      '#/components/schemas/QuoteRequest',
    );
    assert.deepEqual(SPEC.components.schemas.Result.properties.status.enum, [
      'quoted',
      'declined',
      'unavailable',
      'error',
      'timeout',
    ]);
  });

  it('every $ref resolves', () => {
    const refs = [];
    (function walk(x) {
      if (Array.isArray(x)) x.forEach(walk);
      else if (x && typeof x === 'object')
        for (const [k, v] of Object.entries(x)) k === '$ref' ? refs.push(v) : walk(v);
    })(SPEC);
    assert.ok(refs.length > 50);
    for (const r of refs) deref({ $ref: r });
  });

  it('the request schema accepts every reference example and rejects what the server rejects', () => {
    assert.ok(REFERENCE.cases.length >= 1, `no reference cases at ${REFERENCE_PATH}`);
    for (const c of REFERENCE.cases) assert.equal(schemaErrors('AutoQuoteRequest', c.request), null, c.name);
    const ex = SPEC.paths['/v1/quotes'].post.requestBody.content['application/json'].example;
    assertSchema('AutoQuoteRequest', ex, 'the documented request example');
    const unknown = schemaErrors('AutoQuoteRequest', example1((r) => (r.colour = 'red')));
    assert.ok(unknown?.some((e) => e.keyword === 'additionalProperties' && e.params.additionalProperty === 'colour'));
    const ssn = schemaErrors('AutoQuoteRequest', example1((r) => (r.applicant.ssn = '123-45-6789')));
    assert.ok(ssn?.some((e) => e.instancePath === '/applicant' && e.params.additionalProperty === 'ssn'));
    const date = schemaErrors('AutoQuoteRequest', example1((r) => (r.drivers[0].date_of_birth = '1990-02-30')));
    assert.ok(date?.some((e) => e.instancePath === '/drivers/0/date_of_birth'));
    const speeding = schemaErrors(
      'AutoQuoteRequest',
      example1((r) => (r.drivers[0].incidents = [{ type: 'speeding', date: '2025-01-10' }])),
    );
    assert.ok(speeding, 'speeding without mph_over is accepted by the schema');
    const collOnly = schemaErrors('AutoQuoteRequest', example1((r) => delete r.vehicles[0].coverages.comp));
    assert.ok(collOnly, 'coll without comp is accepted by the schema');
    const extras = example1((r) => {
      r.extra = { channel: 'web' };
      r.vehicles[0].extra = { garage: 'attached', n: 2 };
      r.coverages.bi.extra = {};
    });
    assert.equal(schemaErrors('AutoQuoteRequest', extras), null);
  });
});

describe('docs/openapi.yaml: the request of every line', () => {
  it('QuoteRequest accepts every shopper, example and reference request, as the line it is', () => {
    const requests = [
      ...SHOPPERS,
      ...ACA.cases.map((c) => ({ name: `aca ${c.name}`, request: c.request })),
      ...readdirSync(path.join(REPO_ROOT, 'examples'))
        .filter((f) => f.endsWith('.json'))
        .map((f) => ({ name: f, request: JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', f), 'utf8')) })),
    ];
    const lines = new Set();
    for (const { name, request } of requests) {
      assert.equal(schemaErrors('QuoteRequest', request), null, name);
      lines.add(request.line);
      const own = { auto: 'Auto', home: 'Home', renters: 'Renters', term_life: 'TermLife', health: 'Health', bundle: 'Bundle' };
      assert.equal(schemaErrors(`${own[request.line]}QuoteRequest`, request), null, `${name} as ${request.line}`);
    }
    assert.deepEqual([...lines].sort(), ['auto', 'bundle', 'health', 'home', 'renters', 'term_life']);
  });

  it('QuoteRequest rejects what the server rejects, in every line', () => {
    const of = (name) => structuredClone(SHOPPERS.find((x) => x.name === name).request);
    const edit = (name, f) => {
      const r = of(name);
      f(r);
      return r;
    };
    const bundle = () => JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', 'oh-bundle-auto-home.json'), 'utf8'));
    for (const [what, request] of [
      ['home with a unit', edit('home-oh-columbus-frame', (r) => (r.unit = { construction: 'frame', protection_class: 3 }))],
      ['home without coverage A', edit('home-oh-columbus-frame', (r) => delete r.coverages.dwelling)],
      ['home protection class 11', edit('home-oh-columbus-frame', (r) => (r.dwelling.protection_class = 11))],
      ['home claim of a flood', edit('home-pa-pittsburgh-water', (r) => (r.claims[0].type = 'flood'))],
      ['renters with coverage A', edit('renters-oh-columbus', (r) => (r.coverages.dwelling = 100000))],
      ['renters without a unit', edit('renters-oh-columbus', (r) => delete r.unit)],
      ['term life without gender', edit('life-oh-female-35-preferred', (r) => delete r.applicant.gender)],
      ['term life of 12 years', edit('life-oh-female-35-preferred', (r) => (r.term_years = 12))],
      ['term life paid weekly', edit('life-oh-female-35-preferred', (r) => (r.payment_mode = 'weekly'))],
      ['health without county_fips', edit('health-oh-single-40', (r) => delete r.applicant.address.county_fips)],
      ['health with a partner', edit('health-oh-single-40', (r) => (r.members[0].relationship = 'partner'))],
      ['health member without tobacco', edit('health-oh-single-40', (r) => delete r.members[0].tobacco)],
      ['health filtered by diamond', edit('health-oh-single-40', (r) => (r.filters = { metal: ['diamond'] }))],
      ['a line the server does not rate', edit('health-oh-single-40', (r) => (r.line = 'pet'))],
      ['an auto field in a home request', edit('home-oh-columbus-frame', (r) => (r.drivers = []))],
      ['a bundle with home and renters', Object.assign(bundle(), { renters: { unit: { construction: 'frame', protection_class: 3 }, coverages: { personal_property: 30000, liability: 100000, deductible: 500 } } })],
      ['a bundle without home or renters', (({ home, ...rest }) => rest)(bundle())],
      ['a bundle part holding the applicant', (() => { const b = bundle(); b.home.applicant = b.applicant; return b; })()],
    ])
      assert.ok(schemaErrors('QuoteRequest', request), `${what} is accepted by the schema`);
    assert.ok(schemaErrors('CarrierRateRequest', of('health-oh-single-40')), 'health is not a remote line');
    assert.equal(schemaErrors('CarrierRateRequest', of('life-oh-female-35-preferred')), null);
    const extras = bundle();
    extras.extra = { channel: 'partner' };
    extras.home.extra = {};
    assert.equal(schemaErrors('QuoteRequest', extras), null);
  });
});

// ---- One server: every endpoint ---------------------------------------------------

describe('API on a fresh server', { timeout: 120000 }, () => {
  let srv;
  // What this server has been asked, for /healthz and /metrics.
  const count = { saved: 0, post2xx: 0, post4xx: 0, invalid: 0 };
  const byLine = {}; // "auto/saved", "bundle/invalid", "none/invalid"...: what mq_quotes_total should say
  const lineOf = (body) => {
    try {
      const line = (typeof body === 'string' || Buffer.isBuffer(body) ? JSON.parse(body) : body).line;
      return ['auto', 'home', 'renters', 'term_life', 'health', 'bundle'].includes(line) ? line : 'none';
    } catch {
      return 'none';
    }
  };
  let first; // {id, text, body} of example 1
  const refBodies = []; // {name, body} of the reference cases

  async function post(body, opts = {}) {
    const res = await call(srv, 'POST', '/v1/quotes', { body, ...opts });
    if (res.status === 201) {
      count.saved++;
      count.post2xx++;
    } else if (res.status >= 400 && res.status < 500) count.post4xx++; // 413 too: counted under its route
    if (res.status === 422) count.invalid++;
    const outcome = res.status === 201 ? 'saved' : res.status === 422 ? 'invalid' : null;
    if (outcome) byLine[`${lineOf(body)}/${outcome}`] = (byLine[`${lineOf(body)}/${outcome}`] ?? 0) + 1;
    return res;
  }

  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    if (srv) await srv.cleanup();
  });

  it('serves docs/openapi.yaml at /v1/openapi.yaml, as is', async () => {
    const res = await get(srv, '/v1/openapi.yaml');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('content-type'), 'application/yaml; charset=utf-8');
    assert.equal(res.text, OPENAPI_TEXT);
    checkDocumented('/v1/openapi.yaml', 'GET', res);
    assert.equal(YAML.parse(res.text).openapi, '3.0.3');
  });

  it('POST example 1 -> 201, Location, Harbor 714.00 as the manual says', async () => {
    const res = await post(EXAMPLE_1);
    assert.equal(res.status, 201, res.text);
    const body = checkDocumented('/v1/quotes', 'POST', res);
    first = { id: body.quote_id, text: res.text, body };
    assert.match(body.quote_id, QUOTE_ID);
    assert.equal(res.headers.get('location'), `/v1/quotes/${body.quote_id}`);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(body.line, 'auto');
    assert.equal(body.effective_date, EXAMPLE_1.effective_date);
    const created = Date.parse(body.created_at);
    assert.ok(Math.abs(created - Date.now()) < 5 * 60 * 1000, `created_at ${body.created_at} is not now`);
    const harbor = body.results.find((r) => r.carrier.id === 'harbor');
    assertHarborMatches(harbor, EXPECTED_1, 'example 1');
    assert.equal(harbor.premium.total, 714);
    assert.deepEqual(harbor.carrier, { id: 'harbor', name: 'Harbor Mutual', rating: 'A' });
    // the digest of the files that priced it, as /v1/plans shows it (requote names it)
    const listed = (await get(srv, '/v1/plans')).json().plans.find((p) => p.id === 'harbor-oh-auto');
    assert.match(listed.digest, /^[0-9a-f]{64}$/);
    assert.deepEqual(harbor.plan, { id: 'harbor-oh-auto', version: '2026-01-01', digest: listed.digest.slice(0, 16) });
    assert.deepEqual(harbor.fees, [{ name: 'Policy fee', amount: 18 }]);
    const limits = Object.fromEntries(harbor.coverages.map((c) => [c.code, c.limits]));
    assert.deepEqual(limits, {
      bi: { per_person: 100000, per_accident: 300000 },
      pd: { limit: 100000 },
      med: { limit: 5000 },
      um: { per_person: 100000, per_accident: 300000 },
      comp: { deductible: 500 },
      coll: { deductible: 500 },
    });
    // One result per carrier asked (no `carriers` filter: all of them).
    assert.deepEqual(body.results.map((r) => r.carrier.id).sort(), CARRIER_IDS_ON_DISK);
    // Carriers that do not write Ohio are there, unavailable, with a reason.
    for (const id of ['allegheny', 'lonestar']) {
      const r = body.results.find((x) => x.carrier.id === id);
      assert.equal(r.status, 'unavailable');
      assert.equal(r.plan, null);
      assert.ok(r.reasons.some((t) => t.includes('OH')), JSON.stringify(r.reasons));
    }
    assertMoneyText(res.text);
  });

  it('the response schemas are strict: drifted copies of a real response are rejected', () => {
    assert.ok(first, 'example 1 was not saved');
    assertSchema('QuoteResponse', first.body);
    const quotedAt = first.body.results.findIndex((r) => r.status === 'quoted');
    const otherAt = first.body.results.findIndex((r) => r.status !== 'quoted');
    const drifts = {
      'an unknown top-level field': (b) => (b.total = 1),
      'a missing created_at': (b) => delete b.created_at,
      'a bad quote id': (b) => (b.quote_id = 'q_123'),
      'an unknown status': (b) => (b.results[quotedAt].status = 'pending'),
      'a quoted result without premium': (b) => delete b.results[quotedAt].premium,
      'a declined result with a premium': (b) => {
        b.results[otherAt].premium = structuredClone(b.results[quotedAt].premium);
      },
      'money as a string': (b) => (b.results[quotedAt].premium.total = '714.00'),
      'money with fractions of a cent': (b) => (b.results[quotedAt].premium.total = 714.001),
      'an unknown result field': (b) => (b.results[quotedAt].discount_code = 'preferred'),
      'an unknown coverage code': (b) => (b.results[quotedAt].coverages[0].code = 'gap'),
      'an unknown premium field': (b) => (b.results[quotedAt].premium.annual = 1428),
      'limits that are not whole dollars': (b) => (b.results[quotedAt].coverages[0].limits.limit = 5.5),
      'a carrier without a name': (b) => delete b.results[quotedAt].carrier.name,
    };
    for (const [what, drift] of Object.entries(drifts)) {
      const b = structuredClone(first.body);
      drift(b);
      assert.ok(schemaErrors('QuoteResponse', b), `QuoteResponse accepts ${what}`);
    }
    assert.ok(schemaErrors('Error', { error: { code: 'not_found', message: 'x' } }), 'Error without path');
    assert.ok(schemaErrors('Error', { error: { code: 'nope', message: 'x', path: '' } }), 'Error with an unknown code');
    // quotes_saved may be absent (a node whose count at start failed), never negative
    assert.ok(schemaErrors('Health', { status: 'ok', plans: 1, plans_loaded_at: '2026-01-01T00:00:00Z', quotes_saved: -1 }));
    assert.ok(schemaErrors('Health', { status: 'degraded', plans: 1, plans_loaded_at: '2026-01-01T00:00:00Z' }));
    assert.ok(schemaErrors('Health', { plans: 1, plans_loaded_at: '2026-01-01T00:00:00Z' }), 'Health without status');
  });

  it('every reference case of the manual gives Harbor the expected result', async () => {
    for (const c of REFERENCE.cases) {
      const res = await post(c.request);
      assert.equal(res.status, 201, `${c.name}: ${res.text}`);
      const body = checkDocumented('/v1/quotes', 'POST', res);
      assertHarborMatches(
        body.results.find((r) => r.carrier.id === 'harbor'),
        c.expected,
        c.name,
      );
      assertMoneyText(res.text);
      refBodies.push({ name: c.name, body });
    }
  });

  it('results: quoted first by ascending premium.total (contract), then the rest', () => {
    assert.ok(first, 'example 1 was not saved');
    for (const { name, body } of [{ name: 'example 1', body: first.body }, ...refBodies])
      assertResultsOrder(body.results, name);
  });

  it('auto, home, renters and term life: every shopper gets the results its .expect.md works out by hand', async () => {
    let checked = 0;
    for (const { name, request } of SHOPPERS) {
      if (!['auto', 'home', 'renters', 'term_life'].includes(request.line)) continue;
      const want = expectedResults(name);
      assert.ok(want, `${name}: no .expect.md`);
      const res = await post(request);
      assert.equal(res.status, 201, `${name}: ${res.text}`);
      const body = checkDocumented('/v1/quotes', 'POST', res);
      assertMoneyText(res.text);
      assertResultsOrder(body.results, name);
      const got = body.results.map((r) => ({
        carrier: r.carrier.id,
        plan: r.plan?.id ?? null,
        status: r.status,
        total: r.premium?.total ?? null,
        class: request.line === 'term_life' && r.status === 'quoted' ? r.health_class : null,
      }));
      assert.deepEqual(got, want, name);
      // only health results record a benchmark (the tax credit's)
      assert.deepEqual(body.results.filter((r) => 'benchmark' in r), [], name);
      // the worksheet of every quoted result ends with its total
      for (const r of body.results.filter((x) => x.status === 'quoted')) {
        const ws = await get(srv, `/v1/quotes/${body.quote_id}/worksheet/${r.carrier.id}`);
        assert.equal(ws.status, 200, `${name} ${r.carrier.id}: ${ws.text}`);
        const steps = checkDocumented('/v1/quotes/{id}/worksheet/{carrier}', 'GET', ws).steps;
        assert.deepEqual([steps.at(-1).name, steps.at(-1).running], ['Total', r.premium.total], `${name} ${r.carrier.id}`);
      }
      checked++;
    }
    assert.ok(checked >= 25, `only ${checked} shoppers of auto, home, renters and term life`);
  });

  it('health: the ACA manual\'s worked examples to the cent, sorted by net then gross premium', async () => {
    assert.ok(ACA.cases.length >= 4, `no ACA reference cases at ${ACA_PATH}`);
    for (const c of ACA.cases) {
      const res = await post(c.request);
      assert.equal(res.status, 201, `${c.name}: ${res.text}`);
      const body = checkDocumented('/v1/quotes', 'POST', res);
      assertMoneyText(res.text);
      const quoted = body.results.filter((r) => r.status === 'quoted');
      assert.deepEqual(
        quoted.map((r) => [r.plan.id, r.metal, r.gross_premium, r.tax_credit, r.net_premium]).sort(),
        c.expected.plans.map((p) => [p.plan, p.metal, p.gross_premium, p.tax_credit, p.net_premium]).sort(),
        c.name,
      );
      for (const r of quoted) {
        assert.equal(r.premium.total, r.gross_premium, `${c.name} ${r.plan.id}: premium.total is the gross premium`);
        assert.equal(r.premium.term_months, 1, `${c.name}: monthly premiums`);
        // the note says why there is no credit, or which benchmark gave it
        if (c.expected.no_credit_reason)
          assert.equal(r.credit_note, `no premium tax credit: income is ${c.expected.no_credit_reason}`, c.name);
        else
          assert.ok(
            r.credit_note.startsWith(`benchmark (second-lowest silver) ${c.expected.benchmark_monthly.toFixed(2)}; `),
            `${c.name}: ${r.credit_note}`,
          );
      }
      // every result records the benchmark its credit came from (also
      // without a credit): a silver plan quoted here, at the example's premium
      const silver = quoted.filter((r) => r.metal === 'silver').map((r) => r.plan.id);
      for (const r of body.results) {
        assert.equal(r.benchmark.premium, c.expected.benchmark_monthly, `${c.name} ${r.carrier.id}`);
        assert.ok(silver.includes(r.benchmark.plan.id), `${c.name}: ${r.benchmark.plan.id}`);
        assert.deepEqual(r.benchmark, body.results[0].benchmark, `${c.name}: one benchmark`);
      }
      for (let i = 1; i < quoted.length; i++) {
        const [a, b] = [quoted[i - 1], quoted[i]];
        assert.ok(
          a.net_premium < b.net_premium || (a.net_premium === b.net_premium && a.gross_premium <= b.gross_premium),
          `${c.name}: ${a.plan.id} before ${b.plan.id}`,
        );
      }
      assert.ok(body.results.slice(quoted.length).every((r) => r.status !== 'quoted'), `${c.name}: quoted first`);
      // every plan's worksheet (by plan id: an issuer answers with several)
      // reaches its gross premium, then takes off the tax credit (with the
      // note it came from) and ends with the net premium the shopper pays
      for (const r of quoted) {
        const ws = await get(srv, `/v1/quotes/${body.quote_id}/worksheet/${r.plan.id}`);
        assert.equal(ws.status, 200, ws.text);
        const steps = checkDocumented('/v1/quotes/{id}/worksheet/{carrier}', 'GET', ws).steps;
        const [total, credit, net] = steps.slice(-3);
        const policy = { coverage: null, member: null, table: null, key: null };
        assert.deepEqual(total, { ...policy, name: 'Total', detail: null, op: '=', factor: r.gross_premium, running: r.gross_premium }, `${c.name} ${r.plan.id}`);
        assert.deepEqual(credit, { ...policy, name: 'Premium tax credit', detail: r.credit_note, op: '-', factor: r.tax_credit, running: r.net_premium }, `${c.name} ${r.plan.id}`);
        assert.deepEqual(net, { ...policy, name: 'Net premium', detail: null, op: '=', factor: r.net_premium, running: r.net_premium }, `${c.name} ${r.plan.id}`);
      }
      const issuer = await get(srv, `/v1/quotes/${body.quote_id}/worksheet/cardinalcare`);
      assert.equal(issuer.status, 404);
      assert.equal(
        checkDocumented('/v1/quotes/{id}/worksheet/{carrier}', 'GET', issuer).error.message,
        'that carrier answered with several plans: name one by its plan id',
      );
    }
    // Coverage from 2027 on: the 2026 plan year's rates have ended (plan.until)
    // and no 2027 ones are loaded, so no issuer quotes, rather than 2026 prices.
    const next = structuredClone(ACA.cases[0].request);
    next.effective_date = '2027-01-01';
    const res27 = await post(next);
    assert.equal(res27.status, 201, res27.text);
    const later = checkDocumented('/v1/quotes', 'POST', res27).results;
    assert.ok(later.length > 0);
    for (const r of later) {
      assert.equal(r.status, 'unavailable', r.carrier.id);
      assert.match(r.reasons[0], /has no health rates in effect on 2027-01-01$|does not write health insurance in /);
    }
    assert.ok(later.some((r) => r.reasons[0].endsWith('has no health rates in effect on 2027-01-01')));
  });

  it('POST /v1/carrier/{id}/rate answers as documented: a Result, 422 for health, 400, 415', async () => {
    const rate = (id, body, type) => call(srv, 'POST', `/v1/carrier/${id}/rate`, { body, type });
    const home = SHOPPERS.find((x) => x.name === 'home-oh-columbus-frame').request;
    const ok = checkDocumented('/v1/carrier/{id}/rate', 'POST', await rate('keystone', home));
    assert.deepEqual([ok.plan.id, ok.status, ok.premium.total], ['keystone-oh-home', 'quoted', 1206]);
    const health = SHOPPERS.find((x) => x.name === 'health-oh-single-40').request;
    const refused = await rate('lakeviewhealth', health);
    assert.equal(refused.status, 422);
    assert.equal(checkDocumented('/v1/carrier/{id}/rate', 'POST', refused).error.path, 'line');
    const malformed = await rate('keystone', '{"line":');
    assert.equal(malformed.status, 400);
    assert.equal(checkDocumented('/v1/carrier/{id}/rate', 'POST', malformed).error.code, 'malformed_json');
    const text = await rate('keystone', JSON.stringify(home), 'text/plain');
    assert.equal(text.status, 415);
    assert.equal(checkDocumented('/v1/carrier/{id}/rate', 'POST', text).error.code, 'unsupported_media_type');
  });

  it('the carriers filter rates only the carriers named', async () => {
    const res = await post(example1((r) => (r.carriers = ['harbor', 'keystone'])));
    assert.equal(res.status, 201, res.text);
    const body = checkDocumented('/v1/quotes', 'POST', res);
    assert.deepEqual(body.results.map((r) => r.carrier.id).sort(), ['harbor', 'keystone']);
    assert.equal(body.results.find((r) => r.carrier.id === 'harbor').premium.total, 714);
  });

  it('a carriers filter naming no carrier is a 422 at its index, in every line and in bundles', async () => {
    const before = (await get(srv, '/healthz')).json().quotes_saved;
    const home = structuredClone(SHOPPERS.find((x) => x.name === 'home-oh-columbus-frame').request);
    home.carriers = ['summit', 'sumit', 'beacon'];
    let res = await post(home);
    assert.equal(res.status, 422, res.text);
    assert.deepEqual(checkDocumented('/v1/quotes', 'POST', res).error, {
      code: 'invalid_request',
      message: 'carriers[1]: no carrier with id "sumit"',
      path: 'carriers[1]',
      details: [{ path: 'carriers[1]', message: 'no carrier with id "sumit"' }],
    });
    // a health plan id is not a carrier id: the issuer is
    const health = structuredClone(SHOPPERS.find((x) => x.name === 'health-oh-single-40').request);
    health.carriers = ['cardinal-silver-hsa'];
    res = await post(health);
    assert.equal(res.status, 422, res.text);
    assert.equal(res.json().error.message, 'carriers[0]: no carrier with id "cardinal-silver-hsa"');
    const bundle = JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', 'oh-bundle-auto-home.json'), 'utf8'));
    bundle.carriers = ['keystone', 'summitt'];
    res = await post(bundle);
    assert.equal(res.status, 422, res.text);
    assert.equal(checkDocumented('/v1/quotes', 'POST', res).error.path, 'carriers[1]');
    assert.equal((await get(srv, '/healthz')).json().quotes_saved, before, 'nothing saved');
    // a carrier of another line is asked and says so: unavailable, not an error
    // (beacon, a term life carrier: harbor's ratings are counted in the metrics test)
    home.carriers = ['summit', 'beacon'];
    res = await post(home);
    assert.equal(res.status, 201, res.text);
    const results = checkDocumented('/v1/quotes', 'POST', res).results;
    assert.deepEqual(
      results.map((r) => [r.carrier.id, r.status, r.premium?.total ?? r.reasons[0]]),
      [
        ['summit', 'quoted', 1242.7],
        ['beacon', 'unavailable', 'Beacon Direct Life Insurance Company does not write home insurance in OH'],
      ],
    );
  });

  it('GET /v1/quotes/{id} answers the saved response byte for byte', async () => {
    assert.ok(first, 'example 1 was not saved');
    const res = await get(srv, `/v1/quotes/${first.id}`);
    assert.equal(res.status, 200, res.text);
    checkDocumented('/v1/quotes/{id}', 'GET', res);
    assert.equal(res.text, first.text);
  });

  it('GET /v1/quotes/{id} of an unknown or malformed id -> 404', async () => {
    const malformed = ['nope', 'q_0000000000000000000000000I', `q_${'0'.repeat(30)}`, `q_${'0'.repeat(37)}`];
    const wellFormed = ['q_00000000000000000000000000', 'q_ZZZZZZZZZZZZZZZZZZZZZZZZZZ', `q_${'0'.repeat(36)}`];
    for (const id of [...wellFormed, ...malformed]) {
      const res = await get(srv, `/v1/quotes/${id}`);
      assert.equal(res.status, 404, `${id}: ${res.text}`);
      const body = checkDocumented('/v1/quotes/{id}', 'GET', res);
      assert.deepEqual(body, { error: { code: 'not_found', message: 'no quote with this id', path: '' } });
    }
  });

  it('the worksheet for harbor ends with Total 714 and explains every coverage', async () => {
    const res = await get(srv, `/v1/quotes/${first.id}/worksheet/harbor`);
    assert.equal(res.status, 200, res.text);
    const ws = checkDocumented('/v1/quotes/{id}/worksheet/{carrier}', 'GET', res);
    assert.deepEqual(ws.carrier, { id: 'harbor', name: 'Harbor Mutual', rating: 'A' });
    // with the digest of the files its steps come from: the quote's own
    const digest = first.body.results.find((r) => r.carrier.id === 'harbor').plan.digest;
    assert.match(digest, /^[0-9a-f]{16}$/);
    assert.deepEqual(ws.plan, { id: 'harbor-oh-auto', version: '2026-01-01', digest });
    assert.equal(ws.status, 'quoted');
    const last = ws.steps.at(-1);
    assert.equal(last.name, 'Total');
    assert.equal(last.running, 714);
    assert.equal(last.coverage, null);
    const sum = ws.steps.find((s) => s.name === 'Sum of coverage premiums');
    assert.equal(sum?.running, 696);
    assert.ok(ws.steps.some((s) => s.name === 'Policy fee' && s.op === '+' && s.factor === 18));
    // Each coverage's steps start with its base rate and end at its premium.
    const harbor = first.body.results.find((r) => r.carrier.id === 'harbor');
    for (const cov of harbor.coverages) {
      const steps = ws.steps.filter((s) => s.coverage === cov.code && s.vehicle === cov.vehicle);
      assert.ok(steps.length >= 2, `no steps for ${cov.code}`);
      assert.equal(steps[0].op, '=');
      assert.equal(steps.at(-1).running, cov.premium, `${cov.code}: worksheet ends at ${steps.at(-1).running}`);
    }
    assert.ok(ws.steps.some((s) => s.table === 'territory_factor' && s.key === '1' && s.factor === 1.25));
  });

  it('worksheets of results without a rating: unknown carrier 404, no plan 404, unavailable 200 with no steps', async () => {
    let res = await get(srv, `/v1/quotes/${first.id}/worksheet/nobody`);
    assert.equal(res.status, 404, res.text);
    let body = checkDocumented('/v1/quotes/{id}/worksheet/{carrier}', 'GET', res);
    assert.equal(body.error.code, 'not_found');
    assert.equal(body.error.message, 'this quote has no result from that carrier');

    res = await get(srv, `/v1/quotes/${first.id}/worksheet/allegheny`);
    assert.equal(res.status, 404, res.text);
    body = checkDocumented('/v1/quotes/{id}/worksheet/{carrier}', 'GET', res);
    assert.equal(body.error.code, 'not_found');

    res = await get(srv, `/v1/quotes/q_00000000000000000000000000/worksheet/harbor`);
    assert.equal(res.status, 404, res.text);
    checkDocumented('/v1/quotes/{id}/worksheet/{carrier}', 'GET', res);

    res = await get(srv, `/v1/quotes/${first.id}/worksheet/reserve`);
    assert.equal(res.status, 200, res.text);
    body = checkDocumented('/v1/quotes/{id}/worksheet/{carrier}', 'GET', res);
    assert.equal(body.status, 'unavailable');
    assert.deepEqual(body.steps, []);
  });

  it('malformed JSON -> 400 naming line:column', async () => {
    const res = await post('{"line": "auto",\n "x": }');
    assert.equal(res.status, 400, res.text);
    const body = checkDocumented('/v1/quotes', 'POST', res);
    assert.equal(body.error.code, 'malformed_json');
    assert.match(body.error.message, /^invalid JSON at 2:7: /);
    assert.equal(body.error.path, '');
    assert.equal('details' in body.error, false);
  });

  it('a duplicate key is malformed JSON too', async () => {
    const res = await post('{"line": "auto", "line": "auto"}');
    assert.equal(res.status, 400, res.text);
    const body = checkDocumented('/v1/quotes', 'POST', res);
    assert.equal(body.error.code, 'malformed_json');
    assert.match(body.error.message, /^invalid JSON at 1:\d+: duplicate object key/);
  });

  it('a content type other than application/json -> 415', async () => {
    for (const [type, body] of [
      ['text/plain', JSON.stringify(EXAMPLE_1)],
      ['application/x-www-form-urlencoded', 'line=auto'],
      ['application/jsonx', JSON.stringify(EXAMPLE_1)],
      [null, new TextEncoder().encode(JSON.stringify(EXAMPLE_1))], // no Content-Type at all
    ]) {
      const res = await post(body, { type });
      assert.equal(res.status, 415, `${type}: ${res.text}`);
      const err = checkDocumented('/v1/quotes', 'POST', res);
      assert.deepEqual(err, {
        error: { code: 'unsupported_media_type', message: 'send the request as application/json', path: '' },
      });
    }
    // Parameters and case do not matter.
    for (const type of ['application/json; charset=utf-8', 'Application/JSON']) {
      const res = await post(EXAMPLE_1, { type });
      assert.equal(res.status, 201, `${type}: ${res.text}`);
    }
  });

  it('an unknown field -> 422 with its path in details', async () => {
    let res = await post(example1((r) => (r.colour = 'red')));
    assert.equal(res.status, 422, res.text);
    let body = checkDocumented('/v1/quotes', 'POST', res);
    assert.deepEqual(body, {
      error: {
        code: 'invalid_request',
        message: 'colour: unknown field',
        path: 'colour',
        details: [{ path: 'colour', message: 'unknown field' }],
      },
    });
    res = await post(example1((r) => (r.drivers[0].license.expires = '2030-01-01')));
    assert.equal(res.status, 422, res.text);
    body = checkDocumented('/v1/quotes', 'POST', res);
    assert.deepEqual(body.error.details.map((d) => d.path), ['drivers[0].license.expires']);
  });

  it('a Social Security number is refused, not stored', async () => {
    const res = await post(example1((r) => (r.applicant.ssn = '123-45-6789')));
    assert.equal(res.status, 422, res.text);
    const body = checkDocumented('/v1/quotes', 'POST', res);
    assert.equal(body.error.path, 'applicant.ssn');
    assert.ok(!res.text.includes('123-45-6789'), 'the SSN is echoed back');
  });

  it('a bad date -> 422 at drivers[0].date_of_birth', async () => {
    const res = await post(example1((r) => (r.drivers[0].date_of_birth = '1990-02-30')));
    assert.equal(res.status, 422, res.text);
    const body = checkDocumented('/v1/quotes', 'POST', res);
    assert.equal(body.error.code, 'invalid_request');
    assert.equal(body.error.path, 'drivers[0].date_of_birth');
    assert.equal(body.error.message, 'drivers[0].date_of_birth: not a valid date "1990-02-30"');
    assert.deepEqual(body.error.details, [
      { path: 'drivers[0].date_of_birth', message: 'not a valid date "1990-02-30"' },
    ]);
  });

  it('every problem is listed, each with its path', async () => {
    const res = await post(
      example1((r) => {
        r.colour = 'red';
        r.drivers[0].gender = 'f';
        r.vehicles[0].symbol = 99;
        r.coverages.pd = { limit: 0 };
        r.extra = 'not an object';
      }),
    );
    assert.equal(res.status, 422, res.text);
    const body = checkDocumented('/v1/quotes', 'POST', res);
    assert.deepEqual(body.error.details.map((d) => d.path).sort(), [
      'colour',
      'coverages.pd.limit',
      'drivers[0].gender',
      'extra',
      'vehicles[0].symbol',
    ]);
    assert.equal(body.error.message, `${body.error.details[0].path}: ${body.error.details[0].message}`);
    assert.equal(body.error.path, body.error.details[0].path);
  });

  it('a bundle is checked as its parts are: 422 naming each in the bundle, or 201', async () => {
    const bundle = JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', 'oh-bundle-auto-home.json'), 'utf8'));
    let res = await post(JSON.stringify(bundle));
    assert.equal(res.status, 201, res.text);
    bundle.applicant.address.zip = '90210';
    bundle.auto.vehicles[0].vin = '1HGCM82633A004352'; // a 2003 Honda, on a 2022 car
    bundle.auto.coverages.pd = { limit: 1000 };
    res = await post(JSON.stringify(bundle));
    assert.equal(res.status, 422, res.text);
    const body = checkDocumented('/v1/quotes', 'POST', res);
    assert.deepEqual(
      body.error.details.map((d) => `${d.path}: ${d.message}`),
      [
        'applicant.address.zip: ZIP code 90210 is in California, but the address is in Ohio',
        'auto.coverages.pd: 1000 is below Ohio\'s minimum 25000',
        'auto.vehicles[0].vin: model year 2003 from the VIN contradicts year 2022',
      ],
    );
  });

  it('not a JSON object -> 422', async () => {
    const res = await post('[]');
    assert.equal(res.status, 422, res.text);
    const body = checkDocumented('/v1/quotes', 'POST', res);
    assert.equal(body.error.message, 'expected a JSON object, got an array');
  });

  it('extra objects are allowed anywhere', async () => {
    const res = await post(
      example1((r) => {
        r.extra = { channel: 'web' };
        r.applicant.extra = { source: 'ad' };
        r.vehicles[0].extra = { garage: 'attached' };
        r.coverages.bi.extra = {};
      }),
    );
    assert.equal(res.status, 201, res.text);
    const body = checkDocumented('/v1/quotes', 'POST', res);
    assert.equal(body.results.find((r) => r.carrier.id === 'harbor').premium.total, 714);

    // a bundle's own "extra" too, as every request's (it was "extra: unknown field")
    const bundle = JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', 'oh-bundle-auto-home.json'), 'utf8'));
    bundle.extra = { channel: 'partner' };
    bundle.auto.extra = { fleet: false };
    bundle.home.dwelling.extra = { basement: 'finished' };
    const b = await post(JSON.stringify(bundle));
    assert.equal(b.status, 201, b.text);
    const bundled = checkDocumented('/v1/quotes', 'POST', b);
    assert.equal(bundled.bundles[0].carrier.id, 'summit');
    assert.equal(bundled.bundles[0].annual_total, 2184.31);
    // read back as documented (a BundleResponse), byte for byte
    const again = await get(srv, `/v1/quotes/${bundled.quote_id}`);
    assert.equal(again.status, 200);
    checkDocumented('/v1/quotes/{id}', 'GET', again);
    assert.equal(again.text, b.text);
    bundle.extra = 'partner';
    delete bundle.auto;
    bundle.home = null;
    const bad = await post(JSON.stringify(bundle));
    assert.equal(bad.status, 422, bad.text);
    assert.deepEqual(
      checkDocumented('/v1/quotes', 'POST', bad).error.details.map((d) => `${d.path}: ${d.message}`),
      ['extra: expected an object, got a string', 'auto: is required', 'home: is required (or renters)'],
    );
  });

  it('a body over 1 MiB -> 413; exactly 1 MiB is read', async () => {
    const json = JSON.stringify(EXAMPLE_1);
    const exact = json + ' '.repeat(MiB - Buffer.byteLength(json));
    assert.equal(Buffer.byteLength(exact), MiB);
    let res = await post(exact);
    assert.equal(res.status, 201, `a body of exactly 1 MiB: ${res.text.slice(0, 300)}`);
    res = await post(exact + ' ');
    assert.equal(res.status, 413, res.text);
    let body = checkDocumented('/v1/quotes', 'POST', res);
    assert.deepEqual(body, { error: { code: 'too_large', message: 'request body larger than 1 MiB', path: '' } });
    res = await post('{"pad": "' + 'x'.repeat(2 * MiB) + '"}');
    assert.equal(res.status, 413, res.text.slice(0, 300));
    body = checkDocumented('/v1/quotes', 'POST', res);
    assert.equal(body.error.code, 'too_large');
  });

  it('a method a route does not take -> 405 with Allow', async () => {
    for (const [method, p, allow] of [
      ['DELETE', '/v1/quotes', 'POST'],
      ['GET', '/v1/quotes', 'POST'],
      ['PUT', '/v1/quotes', 'POST'],
      ['DELETE', '/v1/quotes/q_00000000000000000000000000', 'GET, HEAD'],
      ['POST', '/v1/carriers', 'GET, HEAD'],
      ['POST', '/v1/plans', 'GET, HEAD'],
      ['POST', '/healthz', 'GET, HEAD'],
      ['POST', '/metrics', 'GET, HEAD'],
      ['PUT', '/v1/states', 'GET, HEAD'],
    ]) {
      const res = await call(srv, method, p);
      if (p === '/v1/quotes') count.post4xx++;
      assert.equal(res.status, 405, `${method} ${p}: ${res.text}`);
      assert.equal(res.headers.get('allow'), allow, `${method} ${p}`);
      const body = res.json();
      assertSchema('Error', body);
      const use = allow.split(',')[0]; // GET, HEAD: "use GET"
      assert.deepEqual(body, { error: { code: 'method_not_allowed', message: `use ${use}`, path: '' } });
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    }
  });

  it('HEAD of every GET route: the headers GET has, no body', async () => {
    for (const p of ['/healthz', '/metrics', '/v1/carriers', '/v1/plans', '/v1/states', '/v1/vin/1HGCM82633A004352',
                     `/v1/quotes/${first.id}`, `/v1/quotes/${first.id}/worksheet/harbor`, '/v1/openapi.yaml', '/']) {
      const got = await get(srv, p);
      const head = await call(srv, 'HEAD', p);
      assert.equal(head.status, 200, `HEAD ${p}: ${head.status}`);
      assert.equal(head.text, '', p);
      assert.equal(head.headers.get('content-type'), got.headers.get('content-type'), p);
      if (!['/healthz', '/metrics'].includes(p)) // these change between two requests
        assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(got.text)), p);
    }
  });

  it('an unknown path -> 404 JSON error', async () => {
    for (const p of ['/v1/nothing', '/v2/quotes', '/v1/quotes/q_00000000000000000000000000/other']) {
      const res = await get(srv, p);
      assert.equal(res.status, 404, `${p}: ${res.text}`);
      assertSchema('Error', res.json());
      assert.equal(res.json().error.code, 'not_found');
    }
  });

  it('GET /v1/carriers lists harbor and every carrier once', async () => {
    const res = await get(srv, '/v1/carriers');
    assert.equal(res.status, 200, res.text);
    const body = checkDocumented('/v1/carriers', 'GET', res);
    const ids = body.carriers.map((c) => c.id);
    assert.deepEqual([...ids].sort(), ALL_CARRIER_IDS_ON_DISK);
    const harbor = body.carriers.find((c) => c.id === 'harbor');
    assert.deepEqual(harbor, {
      id: 'harbor',
      name: 'Harbor Mutual',
      rating: 'A',
      kind: 'regional',
      lines: ['auto'],
      plans: [
        {
          id: 'harbor-oh-auto',
          carrier: 'harbor',
          version: '2026-01-01',
          effective: '2026-01-01',
          line: 'auto',
          states: ['OH'],
          term_months: 6,
          coverages: ['bi', 'pd', 'med', 'um', 'comp', 'coll'],
        },
      ],
    });
    for (const c of body.carriers) for (const p of c.plans) assert.equal(p.carrier, c.id);
    assert.equal(
      body.carriers.reduce((n, c) => n + c.plans.length, 0),
      PLAN_COUNT_ON_DISK,
    );
  });

  it('GET /v1/plans lists every plan version on disk', async () => {
    const res = await get(srv, '/v1/plans');
    assert.equal(res.status, 200, res.text);
    const body = checkDocumented('/v1/plans', 'GET', res);
    assert.equal(body.plans.length, PLAN_COUNT_ON_DISK);
    const keys = body.plans.map((p) => `${p.id}@${p.version}`);
    assert.equal(new Set(keys).size, keys.length, 'a plan version is listed twice');
    assert.ok(keys.includes('harbor-oh-auto@2026-01-01'));
    // an ACA plan year ends: each health version says the last day it rates
    for (const p of body.plans.filter((p) => p.line === 'health')) assert.equal(p.until, '2026-12-31', p.id);
    assert.ok(body.plans.filter((p) => p.line === 'auto').every((p) => !('until' in p)));
    // the bundled plans were compiled into C at build time (src/engine/codegen.c)
    const interpreted = body.plans.filter((p) => p.compiled !== true).map((p) => p.id);
    assert.deepEqual(interpreted, [], 'bundled plans the build did not compile');
    const carriers = (await get(srv, '/v1/carriers')).json();
    assert.deepEqual(
      keys.sort(),
      carriers.carriers.flatMap((c) => c.plans.map((p) => `${p.id}@${p.version}`)).sort(),
    );
    assert.equal(body.loaded_at, carriers.loaded_at);
  });

  it('consent to be contacted is accepted and must be a boolean', async () => {
    const res = await post(
      example1((r) => {
        r.applicant.email = 'dana@example.com';
        r.applicant.phone = '+1 614 555 0101';
        r.applicant.consent = { contact: true };
      }),
    );
    assert.equal(res.status, 201, res.text);
    const body = checkDocumented('/v1/quotes', 'POST', res);
    assert.equal(body.results.find((r) => r.carrier.id === 'harbor').premium.total, 714);
    const back = await get(srv, `/v1/quotes/${body.quote_id}`);
    assert.equal(back.text, res.text);
    assert.ok(!res.text.includes('dana@example.com'), 'contact details echoed in the response');

    const bad = await post(example1((r) => (r.applicant.consent = { contact: 'yes' })));
    assert.equal(bad.status, 422, bad.text);
    const err = checkDocumented('/v1/quotes', 'POST', bad);
    assert.equal(err.error.path, 'applicant.consent.contact');
    assert.equal(err.error.message, 'applicant.consent.contact: expected true or false, got a string');
  });

  it('50 quotes get 50 distinct ids, each served back', async () => {
    const ids = [];
    for (let batch = 0; batch < 5; batch++) {
      const res = await Promise.all(Array.from({ length: 10 }, () => post(EXAMPLE_1)));
      for (const r of res) {
        assert.equal(r.status, 201, r.text);
        const id = r.json().quote_id;
        assert.match(id, QUOTE_ID);
        assert.equal(r.headers.get('location'), `/v1/quotes/${id}`);
        ids.push(id);
      }
    }
    assert.equal(ids.length, 50);
    assert.equal(new Set(ids).size, 50, 'duplicate quote ids');
    for (const id of ids) assert.equal((await get(srv, `/v1/quotes/${id}`)).status, 200, id);
  });

  it('GET /healthz: ok, the plans loaded, quotes_saved counts the saves', async () => {
    let res = await get(srv, '/healthz');
    assert.equal(res.status, 200, res.text);
    let body = checkDocumented('/healthz', 'GET', res);
    assert.equal(body.status, 'ok');
    assert.equal(body.plans, PLAN_COUNT_ON_DISK);
    assert.equal(body.quotes_saved, count.saved);
    assert.ok(count.saved >= 60);
    assert.equal((await post(EXAMPLE_1)).status, 201);
    res = await get(srv, '/healthz');
    body = checkDocumented('/healthz', 'GET', res);
    assert.equal(body.quotes_saved, count.saved);
  });

  it('GET /metrics counts requests by route and class, and quotes saved and refused', async () => {
    const want = {
      'mq_http_requests_total{route="quotes_post",code="2xx"}': count.post2xx,
      'mq_http_requests_total{route="quotes_post",code="4xx"}': count.post4xx,
    };
    for (const line of ['auto', 'home', 'renters', 'term_life', 'health', 'bundle', 'none'])
      for (const outcome of ['saved', 'invalid'])
        want[`mq_quotes_total{line="${line}",outcome="${outcome}"}`] = byLine[`${line}/${outcome}`] ?? 0;
    assert.ok(byLine['bundle/saved'] && byLine['bundle/invalid'] && byLine['none/invalid'] && byLine['auto/invalid'], JSON.stringify(byLine));
    const m = await metricsWhen(srv, (m) => Object.entries(want).every(([k, v]) => metric(m, k) === v));
    for (const [k, v] of Object.entries(want)) assert.equal(metric(m, k), v, k);
    assert.ok(count.post2xx > 50 && count.invalid >= 7 && count.post4xx > count.invalid);
    // No 5xx anywhere.
    for (const [k, v] of m) if (/code="5xx"/.test(k)) assert.equal(v, 0, k);
    // Results: every quote asked every carrier.
    const results = ['quoted', 'declined', 'unavailable', 'error', 'timeout'].reduce(
      (n, s) => n + metric(m, `mq_quote_results_total{line="auto",status="${s}"}`),
      0,
    );
    assert.ok(results >= count.saved * 2, `mq_quote_results_total sums to ${results}`);
    // Harbor was rated for every saved auto quote and bundle (the carriers filter
    // included it); it has no plan of the other lines, so nothing to rate there.
    assert.equal(
      metric(m, 'mq_carrier_rating_seconds_count{carrier="harbor"}'),
      (byLine['auto/saved'] ?? 0) + (byLine['bundle/saved'] ?? 0),
    );
    assert.equal(metric(m, 'mq_plan_reloads_total{result="ok"}'), 0);
    assert.equal(metric(m, 'mq_plan_reloads_total{result="failed"}'), 0);
    assert.ok(m.has('mq_http_connections'));
    // Group commits: every saved quote went through one, and none was empty.
    const committed = metric(m, 'mq_store_committed_quotes_total');
    const commits = metric(m, 'mq_store_commits_total');
    assert.ok(committed >= count.saved && commits >= 1 && commits <= committed, `${commits} commits of ${committed} quotes`);
    // ... each timed in the commit histogram, flush included: cumulative, one count per commit
    const took = [...m].filter(([k]) => k.startsWith('mq_store_commit_seconds_bucket{')).map(([, v]) => v);
    assert.equal(took.length, 11);
    for (let i = 1; i < took.length; i++) assert.ok(took[i] >= took[i - 1]);
    assert.equal(took.at(-1), commits);
    assert.equal(metric(m, 'mq_store_commit_seconds_count'), commits);
    assert.ok(metric(m, 'mq_store_commit_seconds_sum') > 0);
    // ... and each quote's wait for it: at least its own commit
    assert.equal(metric(m, 'mq_store_save_wait_seconds_count'), committed);
    assert.ok(metric(m, 'mq_store_save_wait_seconds_sum') >= metric(m, 'mq_store_commit_seconds_sum'));
    const res = await get(srv, '/metrics');
    checkDocumented('/metrics', 'GET', res);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    // The histogram is cumulative and its count matches the requests.
    const buckets = [...parseMetrics(res.text)]
      .filter(([k]) => k.startsWith('mq_http_request_duration_seconds_bucket{route="quotes_post"'))
      .map(([, v]) => v);
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i] >= buckets[i - 1]);
    assert.ok(buckets.at(-1) >= count.post2xx + count.post4xx);
  });

  it('security headers on every kind of response', async () => {
    const id = first.id;
    const other = await get(srv, '/nowhere'); // not an API route: revalidated, not unstored
    assert.equal(other.headers.get('cache-control'), 'no-cache');
    const responses = [
      await get(srv, `/v1/quotes/${id}`),
      await get(srv, `/v1/quotes/${id}/worksheet/harbor`),
      await get(srv, '/v1/quotes/q_00000000000000000000000000'),
      await get(srv, '/v1/carriers'),
      await get(srv, '/v1/plans'),
      await get(srv, '/healthz'),
      await get(srv, '/metrics'),
      await get(srv, '/v1/openapi.yaml'),
      await get(srv, '/v1/nowhere'),
      await call(srv, 'DELETE', '/v1/quotes'),
      await post('{', {}),
    ];
    for (const res of [...responses, other]) {
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    }
    for (const res of responses) assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  it('multiquote requote reproduces a saved quote exactly', async () => {
    const r = await runCli(['requote', '--db', srv.db, '--plans', PLANS, first.id]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /reproduced exactly/);
    assert.match(r.stdout, new RegExp(`^quote ${first.id} of ${first.body.created_at} \\(auto, effective 2026-03-01\\)`));
    assert.match(r.stdout, /harbor\s+same\s+harbor-oh-auto 2026-01-01\s+quoted 714\.00/);
    assert.doesNotMatch(r.stdout, /DIFFERS|MISSING/);
    const unknown = await runCli(['requote', '--db', srv.db, '--plans', PLANS, 'q_00000000000000000000000000']);
    assert.equal(unknown.code, 2, unknown.stdout + unknown.stderr);
    assert.match(unknown.stderr, /no quote with this id/);
  });

  it('SIGHUP reloads the plans and the server keeps serving', async () => {
    const since = srv.events().length;
    srv.signal('SIGHUP');
    const ev = await srv.waitForLog((e) => e.event === 'reloaded' || e.event === 'reload_failed', { since });
    assert.equal(ev.event, 'reloaded');
    assert.equal(ev.plans, PLAN_COUNT_ON_DISK);
    const res = await post(EXAMPLE_1);
    assert.equal(res.status, 201, res.text);
    const body = checkDocumented('/v1/quotes', 'POST', res);
    assert.equal(body.results.find((r) => r.carrier.id === 'harbor').premium.total, 714);
    // Quotes made before the reload keep their worksheets.
    const ws = await get(srv, `/v1/quotes/${first.id}/worksheet/harbor`);
    assert.equal(ws.status, 200, ws.text);
    assert.equal(ws.json().steps.at(-1).running, 714);
    const m = await metricsWhen(srv, () => true);
    assert.equal(metric(m, 'mq_plan_reloads_total{result="ok"}'), 1);
    assert.equal(metric(m, 'mq_plan_reloads_total{result="failed"}'), 0);
    assert.equal((await get(srv, '/healthz')).json().plans, PLAN_COUNT_ON_DISK);
  });

  it('SIGTERM with nothing in flight: exit 0', async () => {
    const info = await srv.stop();
    assert.deepEqual(info, { code: 0, signal: null }, srv.logs());
    assert.ok(srv.events().some((e) => e.event === 'stopped'));
  });
});

// ---- Reloads of plans edited on disk ---------------------------------------------

describe('SIGHUP with plans edited on disk', { timeout: 120000 }, () => {
  let srv, plans, firstId;
  const harborYaml = () => path.join(plans, 'harbor', 'oh-auto-2026-01-01', 'plan.yaml');
  const summitYaml = () => path.join(plans, 'summit', 'oh-auto-2025-11-15', 'plan.yaml');
  let summitOriginal;

  async function hup() {
    const since = srv.events().length;
    srv.signal('SIGHUP');
    return srv.waitForLog((e) => e.event === 'reloaded' || e.event === 'reload_failed', { since });
  }
  const harborOf = (res) => res.json().results.find((r) => r.carrier.id === 'harbor');

  before(async () => {
    plans = await copyPlans();
    srv = await startServer({ plans });
    const res = await call(srv, 'POST', '/v1/quotes', { body: EXAMPLE_1 });
    assert.equal(res.status, 201, res.text);
    firstId = res.json().quote_id;
    summitOriginal = readFileSync(summitYaml(), 'utf8');
  });
  after(async () => {
    if (srv) await srv.cleanup();
    if (plans) removeTemp(path.dirname(plans));
  });

  it('a broken plan: the reload is refused whole, the old plans keep answering', async () => {
    // A valid edit to harbor (its fee) and a broken summit plan in one reload.
    const h = readFileSync(harborYaml(), 'utf8');
    assert.ok(h.includes('{name: Policy fee, amount: 18.00}'), 'harbor plan.yaml changed; update this test');
    writeFileSync(harborYaml(), h.replace('{name: Policy fee, amount: 18.00}', '{name: Policy fee, amount: 99.00}'));
    writeFileSync(summitYaml(), summitOriginal + '\ncarrier: [\n');
    const ev = await hup();
    assert.equal(ev.event, 'reload_failed', srv.logs());
    assert.ok(
      srv.events().some((e) => e.event === 'plan_error' && e.message.includes('summit/oh-auto-2025-11-15/plan.yaml')),
      `no plan_error naming summit's plan.yaml:\n${srv.logs()}`,
    );
    const m = await metricsWhen(srv, () => true);
    assert.equal(metric(m, 'mq_plan_reloads_total{result="failed"}'), 1);
    assert.equal(metric(m, 'mq_plan_reloads_total{result="ok"}'), 0);
    assert.equal(metric(m, 'mq_plan_reload_failing'), 1); // until a reload succeeds
    const health = (await get(srv, '/healthz')).json();
    assert.equal(health.status, 'ok');
    assert.equal(health.plans, PLAN_COUNT_ON_DISK);
    // Still the old harbor (fee 18): nothing of the failed reload was taken.
    const res = await call(srv, 'POST', '/v1/quotes', { body: EXAMPLE_1 });
    assert.equal(res.status, 201, res.text);
    checkDocumented('/v1/quotes', 'POST', res);
    assert.equal(harborOf(res).premium.total, 714);
    assert.equal(harborOf(res).premium.fees, 18);
    assert.equal(res.json().results.find((r) => r.carrier.id === 'summit').status, 'quoted');
    const ws = await get(srv, `/v1/quotes/${firstId}/worksheet/harbor`);
    assert.equal(ws.status, 200, ws.text);
    assert.equal(ws.json().steps.at(-1).running, 714);
  });

  it('once fixed, the next SIGHUP loads the edited plans', async () => {
    writeFileSync(summitYaml(), summitOriginal);
    const ev = await hup();
    assert.equal(ev.event, 'reloaded', srv.logs());
    assert.equal(ev.plans, PLAN_COUNT_ON_DISK);
    const m = await metricsWhen(srv, () => true);
    assert.equal(metric(m, 'mq_plan_reloads_total{result="ok"}'), 1);
    assert.equal(metric(m, 'mq_plan_reloads_total{result="failed"}'), 1);
    assert.equal(metric(m, 'mq_plan_reload_failing'), 0);
    const res = await call(srv, 'POST', '/v1/quotes', { body: EXAMPLE_1 });
    assert.equal(res.status, 201, res.text);
    assert.equal(harborOf(res).premium.fees, 99);
    assert.equal(harborOf(res).premium.total, 714 - 18 + 99);
    // The saved quote is answered as it was made.
    const back = await get(srv, `/v1/quotes/${firstId}`);
    assert.equal(harborOf(back).premium.total, 714);
    // ...and requote notices that the version it used was edited in place,
    // naming the digest of its files then (the saved quote's) and now (/v1/plans')
    const then = harborOf(back).plan.digest;
    const now = (await get(srv, '/v1/plans')).json().plans.find((p) => p.id === 'harbor-oh-auto').digest;
    assert.match(then, /^[0-9a-f]{16}$/);
    assert.notEqual(now.slice(0, 16), then);
    const r = await runCli(['requote', '--db', srv.db, '--plans', plans, firstId]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /harbor\s+DIFFERS\s+harbor-oh-auto 2026-01-01\s+quoted 795\.00 \(was 714\.00\); first difference: premium\.total 795\.0, was 714\.0\n/);
    assert.ok(r.stdout.includes(`\n    plan harbor-oh-auto 2026-01-01 was changed after this quote (digest then ${then}, now ${now.slice(0, 16)})\n`), r.stdout);
    assert.match(r.stdout, /NOT reproduced/);
    // ...and its worksheet does not explain 795.00 as the quote's price
    const ws = await get(srv, `/v1/quotes/${firstId}/worksheet/harbor`);
    assert.equal(ws.status, 409, ws.text);
    assert.deepEqual(checkDocumented('/v1/quotes/{id}/worksheet/{carrier}', 'GET', ws), {
      error: {
        code: 'not_reproduced',
        message: 'plan harbor-oh-auto version 2026-01-01 now gives 795.00 where the quote has 714.00: ' +
          `its files were changed after the quote (digest then ${then}, now ${now.slice(0, 16)}), so its steps ` +
          'would explain another price; multiquote requote tells more',
        path: '',
      },
    });
  });

  it('a plan version no longer loaded: its worksheets answer 409', async () => {
    rmSync(path.join(plans, 'harbor'), { recursive: true });
    const ev = await hup();
    assert.equal(ev.event, 'reloaded', srv.logs());
    assert.equal(ev.plans, PLAN_COUNT_ON_DISK - 1);
    const res = await get(srv, `/v1/quotes/${firstId}/worksheet/harbor`);
    assert.equal(res.status, 409, res.text);
    const body = checkDocumented('/v1/quotes/{id}/worksheet/{carrier}', 'GET', res);
    assert.deepEqual(body, {
      error: {
        code: 'plan_version_missing',
        message: 'the plan version this quote used (plan harbor-oh-auto version 2026-01-01) is no longer loaded',
        path: '',
      },
    });
    // The quote itself is still served; new quotes no longer ask harbor.
    assert.equal((await get(srv, `/v1/quotes/${firstId}`)).status, 200);
    const q = await call(srv, 'POST', '/v1/quotes', { body: EXAMPLE_1 });
    assert.equal(q.status, 201, q.text);
    assert.equal(harborOf(q), undefined);
    assert.equal(q.json().results.length, CARRIER_IDS_ON_DISK.length - 1);
    const carriers = (await get(srv, '/v1/carriers')).json();
    assert.ok(!carriers.carriers.some((c) => c.id === 'harbor'));
  });
});

// ---- Shutdown and persistence ----------------------------------------------------

describe('a quote saved under looser checks', { timeout: 60000 }, () => {
  let srv;
  after(async () => {
    if (srv) await srv.cleanup();
  });

  it('its worksheet answers 409 request_outdated, naming the field (not its saved value) that no longer passes', async () => {
    srv = await startServer();
    const res = await call(srv, 'POST', '/v1/quotes', { body: EXAMPLE_1 });
    assert.equal(res.status, 201, res.text);
    const id = res.json().quote_id;
    // A copy of it, as a program that took an incident dated before the
    // driver's birth saved it: its request in clear (saved before sealing,
    // which opening takes as it is), its response the original's.
    const old = structuredClone(EXAMPLE_1);
    old.drivers[0].incidents = [{ type: 'at_fault_accident', date: '1950-06-01' }];
    old.drivers[0].license.number = 'MK-OUTDATED-77'; // a personal value: never in the answer
    const copyId = id.slice(0, -1) + (id.endsWith('Z') ? 'Y' : 'Z');
    const quoted = (t) => `'${t.replaceAll("'", "''")}'`;
    execFileSync('sqlite3', [
      srv.db,
      `INSERT INTO quotes (id, created_at, line, effective_date, request, response, consent_contact, consent_at) ` +
        `SELECT ${quoted(copyId)}, created_at, line, effective_date, ${quoted(JSON.stringify(old))}, response, 0, '' ` +
        `FROM quotes WHERE id = ${quoted(id)};`,
    ]);
    const ws = await get(srv, `/v1/quotes/${copyId}/worksheet/harbor`);
    assert.equal(ws.status, 409, ws.text);
    const body = checkDocumented('/v1/quotes/{id}/worksheet/{carrier}', 'GET', ws);
    assert.deepEqual(body, {
      error: {
        code: 'request_outdated',
        message:
          "the saved request no longer passes this program's checks (at drivers[0].incidents[0].date), " +
          'so its worksheet cannot be worked out again',
        path: '',
      },
    });
    assert.ok(!ws.text.includes('1950-06-01') && !ws.text.includes('MK-OUTDATED'));
    // the quote itself is served as it was saved; the original's worksheet works
    assert.equal((await get(srv, `/v1/quotes/${copyId}`)).status, 200);
    assert.equal((await get(srv, `/v1/quotes/${id}/worksheet/harbor`)).status, 200);
  });
});

// ---- Health quotes re-rate the benchmark they recorded -------------------------

// A saved health quote records its benchmark plan version (each result's
// `benchmark`): requote and its worksheets re-rate that version, so a silver
// plan (or a new version of one) loaded later does not move its tax credit.
// Before, both chose the benchmark again from the plans loaded then: the
// credit and net changed and requote said DIFFERS with every recorded plan
// version unchanged.
describe('health quotes re-rate the benchmark plan version they recorded', { timeout: 120000 }, () => {
  let srv, plans;
  const saved = {}; // name -> {id, body}
  const CASE_1 = ACA.cases[0]?.request;
  // with its plan's digest (as /v1/plans shows it, read in before())
  const BENCHMARK = { plan: { id: 'buckeye-silver-3500', version: '2026', digest: null }, premium: 514.71, candidates: 3 };

  async function hup() {
    const since = srv.events().length;
    srv.signal('SIGHUP');
    const ev = await srv.waitForLog((e) => e.event === 'reloaded' || e.event === 'reload_failed', { since });
    assert.equal(ev.event, 'reloaded', srv.logs());
  }
  async function save(name, request) {
    const res = await call(srv, 'POST', '/v1/quotes', { body: request });
    assert.equal(res.status, 201, res.text);
    saved[name] = { id: res.json().quote_id, body: checkDocumented('/v1/quotes', 'POST', res) };
  }
  const requote = (id, dir = plans) => runCli(['requote', '--db', srv.db, '--plans', dir, id]);
  /** Plan folder `from` (under plans/) copied to `to` with its plan.yaml edited by `edit`. */
  function copyPlan(from, to, edit) {
    const dir = path.join(plans, to);
    execFileSync('cp', ['-r', path.join(plans, from), dir]);
    const file = path.join(dir, 'plan.yaml');
    writeFileSync(file, edit(readFileSync(file, 'utf8')));
    return dir;
  }
  /** The last three worksheet steps of result r of saved quote `name`, checked against r. */
  async function assertWorksheetAsSaved(name) {
    const { id, body } = saved[name];
    for (const r of body.results.filter((x) => x.status === 'quoted')) {
      const ws = await get(srv, `/v1/quotes/${id}/worksheet/${r.plan.id}`);
      assert.equal(ws.status, 200, ws.text);
      const [credit, net] = checkDocumented('/v1/quotes/{id}/worksheet/{carrier}', 'GET', ws).steps.slice(-2);
      assert.deepEqual(
        [credit.name, credit.detail, credit.factor, credit.running, net.running],
        ['Premium tax credit', r.credit_note, r.tax_credit, r.net_premium, r.net_premium],
        `${name} ${r.plan.id}`,
      );
    }
  }

  before(async () => {
    assert.ok(CASE_1, `no ACA reference cases at ${ACA_PATH}`);
    plans = await copyPlans();
    srv = await startServer({ plans });
    BENCHMARK.plan.digest = (await get(srv, '/v1/plans')).json().plans.find((p) => p.id === 'buckeye-silver-3500').digest.slice(0, 16);
    await save('all', CASE_1);
    // bronze only: the benchmark (a silver plan) is in no result
    await save('bronze', { ...structuredClone(CASE_1), filters: { metal: ['bronze'] } });
    // in March, when a version of the benchmark plan from February can apply
    await save('march', { ...structuredClone(CASE_1), effective_date: '2026-03-01' });
  });
  after(async () => {
    if (srv) await srv.cleanup();
    if (plans) removeTemp(path.dirname(plans));
  });

  it('each health result records the benchmark, also when the results leave it out', () => {
    for (const r of saved.all.body.results) assert.deepEqual(r.benchmark, BENCHMARK, r.carrier.id);
    const bronze = saved.bronze.body.results.filter((r) => r.status === 'quoted');
    assert.deepEqual(bronze.map((r) => r.metal), ['bronze', 'bronze']);
    for (const r of bronze) assert.deepEqual(r.benchmark, BENCHMARK, r.plan.id);
  });

  it('a cheaper silver plan and a new version of the benchmark plan loaded later move a new quote\'s benchmark', async () => {
    // Cardinal Care's bronze rates as a silver plan: 385.89, the cheapest
    // silver, so Lakeview Silver 4000 (497.27) becomes the second-lowest.
    copyPlan('cardinalcare/oh-health-bronze-hsa-2026', 'cardinalcare/oh-health-silver-cheap-2026', (y) =>
      y.replace('id: cardinal-bronze-hsa', 'id: cardinal-silver-cheap').replace('metal: bronze', 'metal: silver'));
    // Buckeye Silver 3500 repriced from February: base rates halved.
    const v2 = copyPlan('buckeyehealth/oh-health-silver-3500-2026', 'buckeyehealth/oh-health-silver-3500-2026-02', (y) =>
      y.replace('version: "2026"', 'version: "2026-02"').replace('effective: 2026-01-01', 'effective: 2026-02-01'));
    writeFileSync(path.join(v2, 'base_rate.csv'), 'rating_area,base_rate\n1,201.38\n2,218.49\n');
    await hup();
    const now = await call(srv, 'POST', '/v1/quotes', { body: CASE_1 });
    assert.equal(now.status, 201, now.text);
    const bronzeNow = now.json().results.find((r) => r.plan?.id === 'cardinal-bronze-hsa');
    assert.equal(bronzeNow.tax_credit, 342.28); // 497.27 - 154.99, was 359.72
    const lakeview = (await get(srv, '/v1/plans')).json().plans.find((p) => p.id === 'lakeview-silver-4000');
    assert.deepEqual(bronzeNow.benchmark, { plan: { id: 'lakeview-silver-4000', version: '2026', digest: lakeview.digest.slice(0, 16) }, premium: 497.27, candidates: 4 });
  });

  it('...requote of the quotes saved before reproduces them exactly from the versions they recorded', async () => {
    for (const name of ['all', 'bronze', 'march']) {
      const r = await requote(saved[name].id);
      assert.equal(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /reproduced exactly/, name);
      assert.doesNotMatch(r.stdout, /DIFFERS|MISSING/, name);
    }
  });

  it('...and their worksheets take off the credit they saved and reach the net they saved', async () => {
    for (const name of ['all', 'bronze', 'march']) await assertWorksheetAsSaved(name);
  });

  it('a quote saved before benchmarks were recorded requotes as before: from the plans loaded', async () => {
    const { id } = saved.all;
    const text = (await get(srv, `/v1/quotes/${id}`)).text;
    // as saved then: no benchmark, no digests, no market
    const old = text.replace(/,"benchmark":\{"plan":\{[^{}]*\},[^{}]*\}/g, '')
      .replace(/,"market":\{[^{}]*\}/g, '').replace(/,"digest":"[0-9a-f]{16}"/g, '');
    assert.ok(text.includes('"benchmark":') && !old.includes('"benchmark"'));
    assert.ok(text.includes('"market":') && !/"market"|"digest"/.test(old));
    const oldId = id.slice(0, -1) + (id.endsWith('Z') ? 'Y' : 'Z');
    const quoted = (t) => `'${t.replaceAll("'", "''")}'`;
    execFileSync('sqlite3', [
      srv.db,
      `INSERT INTO quotes (id, created_at, line, effective_date, request, response, consent_contact, consent_at) ` +
        `SELECT ${quoted(oldId)}, created_at, line, effective_date, ${quoted(JSON.stringify(CASE_1))}, ` +
        `${quoted(old)}, 0, '' FROM quotes WHERE id = ${quoted(id)};`,
    ]);
    // with the plans it was made with, it reproduces...
    const same = await requote(oldId, PLANS);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    assert.match(same.stdout, /reproduced exactly/);
    // ...and its worksheet chooses the benchmark from the plans loaded, as before
    const ws = await get(srv, `/v1/quotes/${oldId}/worksheet/cardinal-bronze-hsa`);
    assert.equal(ws.status, 200, ws.text);
    assert.equal(ws.json().steps.at(-2).factor, 342.28);
    // with the cheaper silver plan loaded it does not: nothing says which plan was the benchmark
    const moved = await requote(oldId);
    assert.equal(moved.code, 1, moved.stdout + moved.stderr);
    // the premium is the same; the line says what is not
    assert.match(moved.stdout,
      /cardinalcare\s+DIFFERS\s+cardinal-bronze-hsa 2026\s+quoted 385\.89 \(was 385\.89\); first difference: tax_credit 342\.28, was 359\.72\n/);
    // ...and, having recorded no digests, it names no file as changed, as before
    assert.doesNotMatch(moved.stdout, /digest|changed after|same as then/);
  });

  it('the benchmark plan version no longer loaded: requote says so and exits 1, the worksheet answers 409', async () => {
    rmSync(path.join(plans, 'buckeyehealth', 'oh-health-silver-3500-2026'), { recursive: true });
    const r = await requote(saved.bronze.id);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /\n {2}benchmark {4}MISSING {2}plan buckeye-silver-3500 version 2026 is not loaded: every result's tax credit was worked out from it\n/,
    );
    assert.match(r.stdout, /NOT reproduced/);
    assert.doesNotMatch(r.stdout, /same|DIFFERS/);
    await hup();
    const ws = await get(srv, `/v1/quotes/${saved.bronze.id}/worksheet/cardinal-bronze-hsa`);
    assert.equal(ws.status, 409, ws.text);
    assert.deepEqual(checkDocumented('/v1/quotes/{id}/worksheet/{carrier}', 'GET', ws), {
      error: {
        code: 'plan_version_missing',
        message: "the benchmark plan version this quote's tax credit used (plan buckeye-silver-3500 version 2026) is no longer loaded",
        path: '',
      },
    });
  });
});

describe('SIGTERM drains requests in flight; quotes persist', { timeout: 120000 }, () => {
  let dbDir, db;
  const saved = new Map(); // id -> 201 body text

  before(() => {
    dbDir = makeTemp('mq-js-persist-');
    db = path.join(dbDir, 'quotes.db');
  });
  after(() => removeTemp(dbDir));

  it('SIGTERM while 20 quote requests are in flight: all 20 get a complete 201, exit 0', async () => {
    const srv = await startServer({ db });
    try {
      const text = JSON.stringify(EXAMPLE_1);
      const inflight = Array.from({ length: 20 }, () => splitPost(srv, text));
      await Promise.all(inflight.map((p) => p.connected));
      // Wait until the server holds all 20 connections (+1: this /metrics request).
      const end = Date.now() + 5000;
      for (;;) {
        const res = await rawRequest(`${srv.url}/metrics`, { headers: { connection: 'close' } });
        const open = parseMetrics(res.text).get('mq_http_connections');
        if (open >= 21) break;
        assert.ok(Date.now() < end, `the server holds ${open} connections, not 21`);
        await sleep(20);
      }
      await sleep(300); // let it read the headers and the first half of every body
      const since = srv.events().length;
      srv.signal('SIGTERM');
      const stopping = await srv.waitForLog((e) => e.event === 'stopping', { since });
      assert.equal(stopping.in_flight, 20, 'requests counted in flight at SIGTERM');
      await sleep(200); // the server is now draining: finish the bodies
      for (const p of inflight) p.sendRest();
      const responses = await Promise.all(inflight.map((p) => p.response));
      for (const res of responses) {
        assert.equal(res.status, 201, res.text);
        assert.equal(res.raw.length, Number(res.headers['content-length']), 'a truncated body');
        const body = checkDocumented('/v1/quotes', 'POST', res);
        assert.equal(res.headers.location, `/v1/quotes/${body.quote_id}`);
        assert.equal(body.results.find((r) => r.carrier.id === 'harbor').premium.total, 714);
        saved.set(body.quote_id, res.text);
      }
      assert.equal(saved.size, 20, 'duplicate ids among the drained quotes');
      const info = await Promise.race([srv.exited, deadline(15000)]);
      assert.deepEqual(info, { code: 0, signal: null }, srv.logs());
      assert.ok(srv.events().some((e) => e.event === 'stopped'), srv.logs());
      assert.equal(srv.events().filter((e) => e.path === '/v1/quotes' && e.status === 201).length, 20);
    } finally {
      await srv.cleanup();
    }
  });

  it('SIGTERM: a request on a connection kept alive is refused 503 shutting_down and the connection closed; the one in flight still gets its 201', async () => {
    const srv = await startServer({ db: path.join(dbDir, 'keepalive.db') });
    try {
      const idle = keptAlive(srv.port);
      const first = await idle.request('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(first.status, 200);
      assert.notEqual(first.headers.connection, 'close');
      const inflight = splitPost(srv, JSON.stringify(EXAMPLE_1)); // holds the drain open
      await inflight.connected;
      await sleep(200);
      const since = srv.events().length;
      srv.signal('SIGTERM');
      await srv.waitForLog((e) => e.event === 'stopping', { since });
      // the idle connection's next request: refused at once, not served
      const quote = JSON.stringify(EXAMPLE_1);
      const late = await idle.request(
        'POST /v1/quotes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${Buffer.byteLength(quote)}\r\n\r\n${quote}`,
      );
      assert.equal(late.status, 503, late.text);
      assert.deepEqual(JSON.parse(late.text).error, {
        code: 'shutting_down',
        message: 'the server is shutting down: send the request again',
        path: '',
      });
      assert.equal(late.headers.connection, 'close');
      assert.equal(late.headers['retry-after'], '1');
      checkDocumented('/v1/quotes', 'POST', { ...late, json: () => JSON.parse(late.text) });
      await idle.closed;
      inflight.sendRest();
      const res = await inflight.response;
      assert.equal(res.status, 201, res.text);
      assert.equal(res.headers.connection, 'close', 'an answer while stopping closes its connection');
      assert.equal(JSON.parse(res.text).results.find((r) => r.carrier.id === 'harbor').premium.total, 714);
      const info = await Promise.race([srv.exited, deadline(15000)]);
      assert.deepEqual(info, { code: 0, signal: null }, srv.logs());
    } finally {
      await srv.cleanup();
    }
  });

  it('SIGTERM under keep-alive load (8 clients posting without pause): every answer a 201 or a 503, exit 0', async () => {
    const srv = await startServer({ db: path.join(dbDir, 'load.db'), args: ['--rate-limit', '0'] });
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
      const body = JSON.stringify(EXAMPLE_1);
      const statuses = new Map();
      let stop = false;
      const client = async () => {
        while (!stop) {
          const status = await new Promise((resolve) => {
            const req = http.request(srv.url + '/v1/quotes', {
              method: 'POST',
              agent,
              headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
            });
            req.on('response', (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode));
              res.on('error', () => resolve('error'));
            });
            req.on('error', () => resolve('error')); // refused once the server stopped listening
            req.end(body);
          });
          statuses.set(status, (statuses.get(status) || 0) + 1);
          if (status === 'error') await sleep(20);
        }
      };
      const clients = Array.from({ length: 8 }, client);
      await sleep(1500);
      srv.signal('SIGTERM');
      const info = await Promise.race([srv.exited, deadline(20000)]);
      stop = true;
      await Promise.all(clients);
      agent.destroy();
      assert.deepEqual(info, { code: 0, signal: null }, srv.logs().slice(-2000));
      assert.ok(statuses.get(201) > 0, 'no quote was answered');
      for (const s of statuses.keys()) assert.ok([201, 503, 'error'].includes(s), `answered ${s}`);
      assert.ok(srv.events().some((e) => e.event === 'stopped'), 'no stopped event');
    } finally {
      await srv.cleanup();
    }
  });

  it('SIGTERM while a quote waits for a disk that never answers: exit 1 after the drain with stop_forced, no abort', async () => {
    const empty = path.join(dbDir, 'stall.db');
    await (await startServer({ db: empty })).stop(); // migrated: its next flush is the quote's
    const srv = await startServer({ db: empty, args: ['--drain-timeout', '1'], env: { MQ_FAULT: 'stall:1' } });
    try {
      const stuck = splitPost(srv, JSON.stringify(EXAMPLE_1));
      stuck.sendRest();
      await sleep(500); // rated, and waiting for its commit's flush
      const since = srv.events().length;
      const t0 = Date.now();
      srv.signal('SIGTERM');
      const info = await Promise.race([srv.exited, deadline(15000)]);
      assert.deepEqual(info, { code: 1, signal: null }, srv.logs().slice(-1500));
      assert.ok(Date.now() - t0 < 6000, `exited ${Date.now() - t0} ms after SIGTERM`);
      const forced = srv.events().slice(since).find((e) => e.event === 'stop_forced');
      assert.ok(forced, srv.logs().slice(-1500));
      assert.equal(forced.in_flight, 1);
      await assert.rejects(stuck.response); // closed unanswered: never a 201 for a quote not on disk
    } finally {
      await srv.cleanup();
    }
  });

  it('--save-timeout: a quote whose commit the disk never confirms is answered 503 storage_timeout at its deadline, not held', async () => {
    const empty = path.join(dbDir, 'stall-deadline.db');
    await (await startServer({ db: empty })).stop(); // migrated: its next flush is the quote's
    const srv = await startServer({ db: empty, args: ['--save-timeout', '1', '--drain-timeout', '1'], env: { MQ_FAULT: 'stall:1' } });
    try {
      const t0 = Date.now();
      const res = await call(srv, 'POST', '/v1/quotes', { body: EXAMPLE_1 });
      const ms = Date.now() - t0;
      assert.equal(res.status, 503, res.text);
      assert.ok(ms >= 900 && ms < 4000 * SLOW, `answered after ${ms} ms`);
      const body = checkDocumented('/v1/quotes', 'POST', res);
      assert.equal(body.error.code, 'storage_timeout');
      assert.equal(body.error.path, '');
      const m = /^the database did not confirm the quote within 1 s, so it is not known whether it was stored: it may still be saved once the database answers; GET \/v1\/quotes\/(q_[0-9A-HJKMNP-TV-Z]{36}) later says whether it was$/.exec(body.error.message);
      assert.ok(m, body.error.message);
      assert.equal(res.headers.get('location'), null);
      const late = await srv.waitForLog((e) => e.event === 'save_timed_out');
      assert.equal(late.quotes, 1);
      // the web page's way, an event stream: its results, then an error
      // event at the deadline instead of a "quote" event that never comes
      const t1 = Date.now();
      const streamed = await fetch(`${srv.url}/v1/quotes`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
        body: JSON.stringify(EXAMPLE_1),
        signal: AbortSignal.timeout(8000 * SLOW),
      });
      assert.equal(streamed.status, 200);
      const events = (await streamed.text()).split('\n\n').filter(Boolean).map((e) => {
        const [, name, data] = /^event: (\w+)\ndata: (.*)$/s.exec(e);
        return { name, data: JSON.parse(data) };
      });
      assert.ok(Date.now() - t1 >= 900 && Date.now() - t1 < 4000 * SLOW, `ended after ${Date.now() - t1} ms`);
      assert.ok(events.filter((e) => e.name === 'result').length > 1);
      const last = events.at(-1);
      assert.equal(last.name, 'error');
      assert.equal(last.data.error.code, 'storage_timeout');
      assert.match(last.data.error.message, /^the database did not confirm the quote within 1 s, so it is not known whether it was stored: it may still be saved once the database answers; GET \/v1\/quotes\/q_[0-9A-HJKMNP-TV-Z]{36} later says whether it was$/);
      const metrics = (await get(srv, '/metrics')).text;
      assert.match(metrics, /^# TYPE mq_store_save_timeouts_total counter$/m);
      assert.match(metrics, /^mq_store_save_timeouts_total 2$/m);
      assert.match(metrics, /^mq_store_late_saves_total\{outcome="stored"\} 0$/m);
      assert.match(metrics, /^mq_store_committed_quotes_total 0$/m);
      assert.match(metrics, /^mq_http_requests_total\{route="quotes_post",code="5xx"\} 1$/m);
      assert.match(metrics, /^mq_http_requests_total\{route="quotes_post",code="2xx"\} 1$/m); // the stream
      // the save still holds the quote: a stop waits for it through the
      // drain, then exits 1 saying so (its memory was never freed under it)
      const since = srv.events().length;
      srv.signal('SIGTERM');
      const info = await Promise.race([srv.exited, deadline(15000)]);
      assert.deepEqual(info, { code: 1, signal: null }, srv.logs().slice(-1500));
      const forced = srv.events().slice(since).find((e) => e.event === 'stop_forced');
      assert.ok(forced, srv.logs().slice(-1500));
      assert.equal(forced.in_flight, 0);
      assert.equal(forced.saves_timed_out, 2);
    } finally {
      await srv.cleanup();
    }
  });

  it('a bundle or an ACORD quote waiting for a disk that never answers holds no thread: /healthz and the other quotes are answered, each at its deadline', async () => {
    const empty = path.join(dbDir, 'stall-threads.db');
    const first = await startServer({ db: empty });
    const saved = (await call(first, 'POST', '/v1/quotes', { body: EXAMPLE_1 })).json().quote_id;
    await first.stop(); // migrated, one quote saved: the next flush is the next quote's
    // one rating thread and one connection thread: a save that blocked
    // either stopped every quote, or every request, behind it
    const srv = await startServer({ db: empty, args: ['--save-timeout', '2', '--drain-timeout', '1', '--threads', '1'], env: { MQ_FAULT: 'stall:1' } });
    try {
      const bundle = readFileSync(path.join(REPO_ROOT, 'examples', 'oh-bundle-auto-home.json'), 'utf8');
      const acord = readFileSync(path.join(REPO_ROOT, 'tests', 'data', 'acord', 'harbor-example-1.xml'), 'utf8');
      const t0 = Date.now();
      const failed = (e) => ({ status: 'error', text: String(e.cause ?? e) });
      const posts = [
        call(srv, 'POST', '/v1/quotes', { body: bundle }).catch(failed),
        call(srv, 'POST', '/v1/acord', { body: acord, type: 'application/xml' }).catch(failed),
      ];
      await sleep(300);
      posts.push(call(srv, 'POST', '/v1/quotes', { body: EXAMPLE_1 }).catch(failed));
      let answered = null;
      const all = Promise.all(posts).then((a) => (answered = a));
      // /healthz answers at once all along: no thread that serves it waits
      // for a save (an ACORD quote's was one of them)
      while (!answered && Date.now() - t0 < 10000 * SLOW) {
        const health = await Promise.race([get(srv, '/healthz').catch(failed), deadline(1000 * SLOW)]);
        assert.notEqual(health, 'timeout', '/healthz waited for the store');
        assert.ok([200, 503].includes(health.status), JSON.stringify(health));
        await sleep(100);
      }
      const answers = await Promise.race([all, deadline(1000)]);
      assert.notEqual(answers, 'timeout', 'a quote waited past its deadline');
      assert.ok(Date.now() - t0 < 6000 * SLOW, `answered after ${Date.now() - t0} ms`);
      for (const [res, route] of answers.map((res, i) => [res, i === 1 ? '/v1/acord' : '/v1/quotes'])) {
        assert.equal(res.status, 503, res.text);
        const body = checkDocumented(route, 'POST', res);
        assert.equal(body.error.code, 'storage_timeout');
        assert.match(body.error.message, /^the database did not confirm the quote within 2 s, so it is not known whether it was stored: it may still be saved once the database answers; GET \/v1\/quotes\/q_[0-9A-HJKMNP-TV-Z]{36} later says whether it was$/);
      }
      // the commit is stuck now: a read of a saved quote does not wait
      // for it (SQLite: a read-only connection of its own, the last
      // committed state), nor does /healthz
      const read = await Promise.race([get(srv, `/v1/quotes/${saved}`).catch(failed), deadline(1000 * SLOW)]);
      assert.notEqual(read, 'timeout', 'the read waited for the stalled commit');
      assert.equal(read.status, 200, read.text);
      assert.equal(read.json().quote_id, saved);
      const health = await Promise.race([get(srv, '/healthz').catch(failed), deadline(1000 * SLOW)]);
      assert.notEqual(health, 'timeout', '/healthz waited for a read');
      assert.ok([200, 503].includes(health.status), JSON.stringify(health));
      const metrics = (await get(srv, '/metrics')).text;
      assert.match(metrics, /^mq_store_save_timeouts_total 3$/m);
    } finally {
      await srv.cleanup();
    }
  });

  it('--save-timeout takes whole seconds from 0 (none) to 3600', async () => {
    for (const bad of ['-1', '3601', '1.5', 'ten']) {
      const r = await runCli(['serve', '--port', '0', '--save-timeout', bad]);
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
      assert.equal(r.stderr, `multiquote serve: --save-timeout takes a whole number of seconds (0: none) from 0 to 3600, not "${bad}"\n`);
    }
  });

  it('after a restart on the same database every quote is served as it was', async () => {
    assert.equal(saved.size, 20, 'the drain test saved nothing');
    const srv = await startServer({ db });
    try {
      const health = (await get(srv, '/healthz')).json();
      assert.equal(health.quotes_saved, 20);
      for (const [id, text] of saved) {
        const res = await get(srv, `/v1/quotes/${id}`);
        assert.equal(res.status, 200, `${id}: ${res.text}`);
        checkDocumented('/v1/quotes/{id}', 'GET', res);
        assert.equal(res.text, text, `${id} changed across the restart`);
        const ws = await get(srv, `/v1/quotes/${id}/worksheet/harbor`);
        assert.equal(ws.status, 200);
        assert.equal(ws.json().steps.at(-1).running, 714);
      }
    } finally {
      await srv.cleanup();
    }
    const id = [...saved.keys()][0];
    const r = await runCli(['requote', '--db', db, '--plans', PLANS, id]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /reproduced exactly/);
  });

  it('a 201 survives kill -9 of the server', async () => {
    let srv = await startServer({ db });
    let id, text;
    try {
      const res = await call(srv, 'POST', '/v1/quotes', { body: EXAMPLE_1 });
      assert.equal(res.status, 201, res.text);
      ({ quote_id: id } = res.json());
      text = res.text;
      const info = await srv.kill9();
      assert.equal(info.signal, 'SIGKILL');
    } finally {
      await srv.cleanup();
    }
    srv = await startServer({ db });
    try {
      const res = await get(srv, `/v1/quotes/${id}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.text, text);
      assert.equal((await get(srv, '/healthz')).json().quotes_saved, 21);
    } finally {
      await srv.cleanup();
    }
  });
});

// ---- POST /v1/acord: the carriers a request names ------------------------------

describe('POST /v1/acord names only carriers this server compares', () => {
  const XML = readFileSync(path.join(REPO_ROOT, 'tests', 'data', 'acord', 'harbor-example-1.xml'), 'utf8');
  const withCarriers = (...ids) =>
    XML.replace('<PersPolicy>', `<PersPolicy>${ids.map((id) => `<com.multiquote_CarrierId>${id}</com.multiquote_CarrierId>`).join('')}`);
  const CARRIER_XPATH = '/ACORD/InsuranceSvcRq/PersAutoPolicyQuoteInqRq/PersPolicy/com.multiquote_CarrierId';
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv.cleanup();
  });

  // An unknown id was rated as an "error" result, saved, answered 201, and
  // timed in /metrics under the id as sent: a quote broke the metrics'
  // text format (its label value was not escaped) and one request could
  // add any number of series.
  it('an unknown carrier id -> 422 at its XPath, nothing saved, nothing in /metrics; known ids are quoted alone', async () => {
    const saved = async () => (await get(srv, '/healthz')).json().quotes_saved;
    const before = await saved();
    const res = await call(srv, 'POST', '/v1/acord', { body: withCarriers('harbor', 'x"} 1\nmq_fake 1 #'), type: 'application/xml' });
    assert.equal(res.status, 422, res.text);
    checkDocumented('/v1/acord', 'POST', res);
    const err = res.json().error;
    assert.equal(err.code, 'invalid_request');
    assert.equal(err.path, `${CARRIER_XPATH}[2]`);
    assert.equal(err.message, `${CARRIER_XPATH}[2]: no carrier with id "x\\"} 1\\u000amq_fake 1 #"`);
    assert.deepEqual(err.details, [{ path: `${CARRIER_XPATH}[2]`, message: 'no carrier with id "x\\"} 1\\u000amq_fake 1 #"' }]);
    assert.equal(await saved(), before, 'nothing saved');
    const metrics = (await get(srv, '/metrics')).text;
    assert.doesNotMatch(metrics, /mq_fake|carrier="x/);
    assert.match(metrics, /^mq_quotes_total\{line="auto",outcome="invalid"\} 1$/m);
    // the same as POST /v1/quotes answers for the same mistake
    const json = await call(srv, 'POST', '/v1/quotes', { body: { ...EXAMPLE_1, carriers: ['harbor', 'sumit'] } });
    assert.equal(json.status, 422, json.text);
    assert.equal(json.json().error.message, 'carriers[1]: no carrier with id "sumit"');
    const ok = await call(srv, 'POST', '/v1/acord', { body: withCarriers('harbor'), type: 'application/xml' });
    assert.equal(ok.status, 201, ok.text);
    const results = ok.json().results;
    assert.deepEqual(results.map((r) => r.carrier.id), ['harbor']);
    assert.equal(results[0].premium.total, 714);
    assert.equal(await saved(), before + 1);
  });
});

// ---- Errors that quote the request's bytes ---------------------------------------

describe('an error message quoting bytes that are not UTF-8', () => {
  let srv;
  before(async () => {
    process.env.SUMMIT_API_KEY = 'not-used';
    try {
      srv = await startServer({ args: ['--carriers', path.join(REPO_ROOT, 'docs', 'carriers.example.yaml')] });
    } finally {
      delete process.env.SUMMIT_API_KEY;
    }
  });
  after(async () => {
    await srv.cleanup();
  });

  // jansson refuses a string that is not UTF-8, and the error reply then
  // fell back to 500 "out of memory"
  it('POST /v1/carrier/%FF"x/rate -> 404 naming the carrier with U+FFFD, not a 500', async () => {
    const res = await call(srv, 'POST', '/v1/carrier/%FF%22x/rate', { body: EXAMPLE_1 });
    assert.equal(res.status, 404, res.text);
    assert.deepEqual(res.json(), {
      error: {
        code: 'not_found',
        message: 'carrier "\uFFFD"x" is not rated on this server (its carrier registry leaves it out or asks it remotely)',
        path: '',
      },
    });
    // a carrier the registry asks remotely, named in plain ASCII: the same answer
    const summit = await call(srv, 'POST', '/v1/carrier/summit-direct/rate', { body: EXAMPLE_1 });
    assert.equal(summit.status, 404, summit.text);
    assert.match(summit.json().error.message, /^carrier "summit-direct" is not rated on this server/);
  });
});
