#!/usr/bin/env python3
"""Writes src/store/store_response_dicts.c: the dictionaries the SQLite
store packs saved responses against, one per line (src/store/store_sqlite.c).

A dictionary outlives every quote packed against it, so it is never a
shopper's response (`forget` and `purge` must leave nothing of a shopper
behind, and a response carries shopper-chosen ids, and for health the
household's expected contribution, from which income can be worked out).
Each line's dictionary is the responses the server gives to the project's
own fictional example requests of that line, with their quote id and time
blanked: LZ4 then finds most of a response's keys, carriers, coverages and
notes in it. Not the requests of examples/ that bench/ posts (bench's
figures are of shoppers the dictionaries have never seen), except the
bundle example, which bench does not post. A changed dictionary is a new
row of pack_dicts, marked built in; the older one's row stays, and the
responses packed against it stay as they are and still read, so running
this again rewrites no saved quote (store_sqlite.c, retire_dicts, retires
only dictionaries that were real quotes' responses).

Run from the repository root, with a built server:
    python3 scripts/make_response_dicts.py build/multiquote
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

EXAMPLES = {
    # the states' carriers, one and two cars; LZ4 finds the latest bytes
    # first, so the commonest shape (Ohio, two cars) goes last
    "auto": ["tests/data/shoppers/pa-two-cars.json", "tests/data/shoppers/tx-dui-history.json",
             "tests/data/shoppers/oh-clean-commuter.json", "tests/data/shoppers/oh-young-driver.json",
             "tests/data/shoppers/oh-cleveland-retirees.json"],
    "home": ["tests/data/shoppers/home-oh-columbus-frame.json"],
    "renters": ["tests/data/shoppers/renters-oh-columbus.json"],
    "term_life": ["tests/data/shoppers/life-oh-female-35-preferred.json"],
    "health": ["tests/data/shoppers/health-oh-single-40.json"],
    "bundle": ["examples/oh-bundle-auto-home.json"],
}
DICT_MAX = 64 * 1024  # LZ4 looks back 64 KiB at most (STORE_DICT_MAX)
PORT = 18799


def blank(text):
    """The response without its quote id and time (zeros in their place)."""
    text = re.sub(r'"quote_id":"q_([0-9A-Za-z]+)"', lambda m: '"quote_id":"q_%s"' % ("0" * len(m.group(1))), text)
    return re.sub(r'"created_at":"[^"]*"', '"created_at":"0000-00-00T00:00:00Z"', text)


def post(path):
    req = urllib.request.Request("http://127.0.0.1:%d/v1/quotes" % PORT, data=pathlib.Path(path).read_bytes(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req) as res:
        return res.read().decode()


def c_string(text):
    pieces = []
    for i in range(0, len(text), 72):
        piece = text[i:i + 72].replace("\\", "\\\\").replace('"', '\\"')
        pieces.append('    "%s"' % piece)
    return "\n".join(pieces)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/multiquote"
    tmp = tempfile.mkdtemp()
    env = dict(os.environ, MQ_KEY="1" * 64)
    server = subprocess.Popen([binary, "serve", "--port", str(PORT), "--db", os.path.join(tmp, "d.db"),
                               "--plans", "plans", "--rate-limit", "0"], env=env,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/healthz" % PORT)
                break
            except OSError:
                time.sleep(0.1)
        dicts = {}
        for line, files in EXAMPLES.items():
            text = "".join(blank(post(f)) for f in files).encode()
            dicts[line] = text[-DICT_MAX:].decode(errors="ignore")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(tmp)
    body = []
    entries = []
    for i, (line, text) in enumerate(dicts.items()):
        body.append("static const char %s[] =\n%s;\n" % ("d_" + line, c_string(text)))
        entries.append('    {"%s", (const unsigned char *)d_%s, (int)sizeof d_%s - 1},' % (line, line, line))
    out = pathlib.Path("src/store/store_response_dicts.c")
    out.write_text(
        "/* store_response_dicts.c -- the dictionaries saved responses are packed against.\n"
        " *\n"
        " * Written by scripts/make_response_dicts.py (do not edit): per line, the\n"
        " * server's responses to the project's fictional example requests, quote\n"
        " * ids and times blanked, never a shopper's, since a dictionary outlives\n"
        " * every quote. The SQLite store keeps them in pack_dicts (store_sqlite.c).\n"
        " */\n"
        "#include \"store_backend.h\"\n\n" + "\n".join(body) + "\n"
        "const store_fixed_dict store_response_dicts[] = {\n" + "\n".join(entries) + "\n};\n"
        "const int store_response_ndicts = (int)(sizeof store_response_dicts / sizeof store_response_dicts[0]);\n")
    if shutil.which("clang-format"):
        subprocess.run(["clang-format", "-i", str(out)], check=True)
    for line, text in dicts.items():
        print("%s: %d bytes" % (line, len(text.encode())))


if __name__ == "__main__":
    main()
