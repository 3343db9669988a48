#!/usr/bin/env python3
"""make_corpus.py -- (re)writes the seed corpora and dictionaries of tests/fuzz.

Seeds come from the project's own tests and data: requests from
tests/data/shoppers, examples/ and the reference cases in
../shared/reference/*.json (when present); plan folders from plans/ and
tests/data/plans-bad joined into one text with "==> NAME <==" markers (see
fuzz_util.h); each plan's tables with their key names as a first line; the
expressions of the auto plans; market.yaml; the reference data; ACORD XML
from tests/data/acord; books made with `multiquote gen-book` and responses
made with `multiquote quote --json` (pass the binary as the first argument;
without it those seeds are left alone).
Run from the repository root: python3 tests/fuzz/make_corpus.py build/multiquote
"""
import glob
import hashlib
import json
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FUZZ = os.path.join(ROOT, 'tests', 'fuzz')


def put(target, data, name=None):
    d = os.path.join(FUZZ, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    name = name or hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def plan_dirs():
    for y in sorted(glob.glob(os.path.join(ROOT, 'plans', '*', '*', 'plan.yaml'))):
        yield os.path.dirname(y)
    for y in sorted(glob.glob(os.path.join(ROOT, 'tests', 'data', 'plans-bad', '*', 'plan.yaml'))):
        yield os.path.dirname(y)


def sealed():
    for p in sorted(glob.glob(os.path.join(ROOT, 'tests', 'data', 'privacy', '*.json'))):
        put('fuzz_seal', read(p), os.path.basename(p))


def requests():
    for p in sorted(glob.glob(os.path.join(ROOT, 'tests', 'data', 'shoppers', '*.json')) +
                    glob.glob(os.path.join(ROOT, 'examples', '*.json'))):
        put('fuzz_request', read(p), os.path.basename(p))
        put('fuzz_jsonread', read(p), os.path.basename(p))
        put('fuzz_seal', read(p), os.path.basename(p))
        put('fuzz_api', b'POST /v1/quotes\n' + read(p), os.path.basename(p))
    for p in sorted(glob.glob(os.path.join(ROOT, '..', 'shared', 'reference', '*.json'))):
        for i, case in enumerate(json.load(open(p)).get('cases', [])):
            if 'request' in case:
                for target in ('fuzz_request', 'fuzz_jsonread'):
                    put(target, json.dumps(case['request'], indent=1),
                        '%s-%d' % (os.path.basename(p), i))
    for path in ['/v1/carriers', '/v1/plans', '/healthz', '/metrics', '/v1/states',
                 '/v1/vin/1HGCM82633A004352', '/v1/quotes/q_0123456789ABCDEFGHJKMNPQRS',
                 '/v1/quotes/q_0123456789ABCDEFGHJKMNPQRS/worksheet/harbor', '/nope']:
        put('fuzz_api', 'GET %s\n' % path)
    for p in sorted(glob.glob(os.path.join(ROOT, 'tests', 'data', 'acord', '*.xml'))):
        put('fuzz_acord', read(p), os.path.basename(p))
        put('fuzz_api', b'POST /v1/acord application/xml\n' + read(p), os.path.basename(p))
    # an ACORD request naming a carrier no one has (a 422 at its XPath), and
    # a carrier endpoint whose id is not UTF-8 (an error quoting it)
    harbor = read(os.path.join(ROOT, 'tests', 'data', 'acord', 'harbor-example-1.xml'))
    put('fuzz_api', b'POST /v1/acord application/xml\n' + harbor.replace(
        b'<PersPolicy>', b'<PersPolicy><com.multiquote_CarrierId>harbor</com.multiquote_CarrierId>'
        b'<com.multiquote_CarrierId>x"} 1\nmq_fake 1</com.multiquote_CarrierId>', 1),
        'acord-unknown-carrier.xml')
    put('fuzz_api', b'POST /v1/carrier/\xff"x/rate\n' +
        read(os.path.join(ROOT, 'examples', 'oh-single-driver.json')), 'carrier-id-not-utf8')


def plans():
    seen_lines = {}
    for d in plan_dirs():
        files = sorted(f for f in os.listdir(d) if f.endswith('.csv'))
        text = read(os.path.join(d, 'plan.yaml'))
        for f in files:
            text += b'==> ' + f.encode() + b' <==\n' + read(os.path.join(d, f))
        name = os.path.relpath(d, ROOT).replace('/', '_')
        if len(text) <= 96 * 1024:
            put('fuzz_plan', text, name)
        try:
            doc = yaml.safe_load(read(os.path.join(d, 'plan.yaml')))
        except yaml.YAMLError:
            continue
        tables = (doc or {}).get('tables') or {}
        for tname, t in tables.items():
            if isinstance(t, dict) and 'file' in t and os.path.exists(os.path.join(d, t['file'])):
                data = read(os.path.join(d, t['file']))
                if len(data) <= 32 * 1024:
                    put('fuzz_table', ','.join(t.get('keys', [])).encode() + b'\n' + data)
        line = ((doc or {}).get('plan') or {}).get('line')
        if line == 'auto':
            scopes = {'driver': 1, 'vehicle': 2, 'incident': 3}
            for var, expr in ((doc or {}).get('variables') or {}).items():
                kind = var.split('.')[0] if '.' in var else 'policy'
                put('fuzz_expr', bytes([scopes.get(kind, 0)]) + str(expr).encode())
        seen_lines[line] = True


def markets():
    for p in sorted(glob.glob(os.path.join(ROOT, 'plans', '_markets', '*', 'market.yaml'))):
        put('fuzz_market', read(p), os.path.basename(os.path.dirname(p)))


def intake_data():
    rules = read(os.path.join(ROOT, 'data', 'state-rules.csv'))
    wmi = read(os.path.join(ROOT, 'data', 'wmi.csv'))
    put('fuzz_intake_data', rules, 'state-rules')
    put('fuzz_intake_data', b'==> wmi.csv <==\n' + wmi, 'wmi')
    put('fuzz_intake_data', rules[:2000] + b'\n==> wmi.csv <==\n' + wmi[:2000], 'both-cut')
    for vin in ['1HGCM82633A004352', '1M8GDM9AXKP042788', '5YJ3E1EA7KF317000', 'JH4KA7561PC008269',
                '1hgcm82633a00435', 'WVWZZZ1JZXW000001', '43215', '77001', '15213', '84101']:
        put('fuzz_vin', vin)


def books(binary):
    for fmt in ['ndjson', 'csv']:
        out = subprocess.run([binary, 'gen-book', '--line', 'auto', '--n', '6', '--seed', '7',
                              '--format', fmt], capture_output=True, check=True, cwd=ROOT).stdout
        put('fuzz_batch', out, 'gen-book-6.' + fmt)


def responses(binary):
    for req in ['examples/oh-single-driver.json', 'tests/data/shoppers/health-oh-single-40.json',
                'tests/data/shoppers/home-oh-columbus-frame.json',
                'tests/data/shoppers/life-oh-female-35-preferred.json']:
        out = subprocess.run([binary, 'quote', '--json', req], capture_output=True, check=True,
                             cwd=ROOT).stdout
        put('fuzz_response', out, os.path.basename(req))


def dictionaries():
    keys = set()
    for p in glob.glob(os.path.join(ROOT, 'tests', 'data', 'shoppers', '*.json')):
        keys |= set(re.findall(rb'"([a-z_0-9]+)"\s*:', read(p)))
    words = sorted(set(k.decode() for k in keys))
    with open(os.path.join(FUZZ, 'request.dict'), 'w') as f:
        f.write('# JSON tokens and the contract\'s member names (make_corpus.py)\n')
        for tok in ['{', '}', '[', ']', ':', ',', 'true', 'false', 'null', '"', '\\\\u0000', '1e309',
                    '-0', '2026-02-29', '"bundle"']:
            f.write('"%s"\n' % tok.replace('"', '\\"'))
        for w in words:
            f.write('"\\"%s\\":"\n' % w)
    ykeys = set()
    for d in plan_dirs():
        ykeys |= set(re.findall(rb'^\s*-?\s*([a-z_][a-z_0-9.]*):', read(os.path.join(d, 'plan.yaml')), re.M))
    with open(os.path.join(FUZZ, 'plan.dict'), 'w') as f:
        f.write('# YAML tokens, plan keys and expression words (make_corpus.py)\n')
        for tok in ['---', ': ', '- ', '[', ']', '{', '}', '&a', '*a', '!!str', '|', '>', '"', "'",
                    '==> x.csv <==\n', 'sum(', 'count(', 'any(', 'all(', 'max(', 'min(', 'age(',
                    ' where ', ' of ', ' and ', ' or ', 'not ', '?', '[', '+inf', '..', '*']:
            f.write('"%s"\n' % tok.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\x0A'))
        for k in sorted(ykeys):
            f.write('"%s:"\n' % k.decode())
    tags = set()
    for p in glob.glob(os.path.join(ROOT, 'tests', 'data', 'acord', '*.xml')):
        tags |= set(re.findall(rb'<([A-Za-z_][A-Za-z_0-9]*)', read(p)))
    with open(os.path.join(FUZZ, 'acord.dict'), 'w') as f:
        f.write('# ACORD element names (make_corpus.py)\n')
        for t in sorted(tags):
            f.write('"<%s>"\n"</%s>"\n' % (t.decode(), t.decode()))
        for tok in ['<!DOCTYPE', '<!ENTITY', '&amp;', '<![CDATA[', ']]>', '<?xml version="1.0"?>']:
            f.write('"%s"\n' % tok.replace('"', '\\"'))


if __name__ == '__main__':
    requests()
    sealed()
    plans()
    markets()
    intake_data()
    dictionaries()
    if len(sys.argv) > 1:
        books(sys.argv[1])
        responses(sys.argv[1])
