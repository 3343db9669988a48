#!/usr/bin/env python3
"""Writes src/store/store_request_dict.c: the dictionary the SQLite store
packs every saved request against (src/store/store_sqlite.c).

The dictionary is what a stored request looks like once sealed (personal
values null, "_sealed" last), made from the project's own fictional example
requests, one or two per line, never from a shopper's: it outlives every
quote, and `forget` must leave nothing of a shopper behind. LZ4 then finds
most of a request's keys and shape in it. A changed dictionary is a new row
of pack_dicts; rows packed against the old one still name it and unpack.

Run from the repository root: python3 scripts/make_request_dict.py
"""
import json
import pathlib
import shutil
import subprocess

# Not the requests of examples/, which bench/ posts: its figures are those
# of shoppers the dictionary has never seen.
EXAMPLES = [
    "tests/data/shoppers/health-oh-single-40.json",
    "tests/data/shoppers/life-oh-female-35-preferred.json",
    "tests/data/shoppers/renters-oh-columbus.json",
    "tests/data/shoppers/home-oh-columbus-frame.json",
    "tests/data/shoppers/tx-dui-history.json",
    "tests/data/shoppers/pa-two-cars.json",
    "tests/data/shoppers/oh-clean-commuter.json",
]

# The personal fields, as src/privacy/seal.c takes them (docs/privacy.md).
PERSONAL = {
    "applicant": {"first_name", "last_name", "email", "phone", "date_of_birth"},
    "address": {"street"},
    "driver": {"first_name", "last_name", "date_of_birth"},
    "license": {"number"},
    "vehicle": {"vin"},
    "household": {"income"},
    "member": {"date_of_birth", "tobacco"},
}
# Taken whole at the top of a request (term life's health facts, version 3).
PERSONAL_TOP = {"tobacco", "build", "health"}


def seal(obj, where):
    """obj with its personal values null, as sealing leaves it."""
    if isinstance(obj, list):
        elem = {"drivers": "driver", "vehicles": "vehicle", "members": "member"}.get(where)
        return [seal(v, elem) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out = {}
    for k, v in obj.items():
        if k == "extra" or (k in PERSONAL.get(where, ()) and v is not None):
            out[k] = None
        elif k in PERSONAL_TOP and where == "top":
            out[k] = None
        elif k in ("auto", "home", "renters") and where == "top" and isinstance(v, dict):
            out[k] = seal(v, "top")
        elif k in ("applicant", "household", "drivers", "vehicles", "members") and where == "top":
            out[k] = seal(v, {"applicant": "applicant", "household": "household"}.get(k, k))
        elif k == "address" and where == "applicant":
            out[k] = seal(v, "address")
        elif k == "license" and where == "driver":
            out[k] = seal(v, "license")
        else:
            out[k] = seal(v, None)
    return out


def main():
    texts = []
    for path in EXAMPLES:
        doc = seal(json.loads(pathlib.Path(path).read_text()), "top")
        doc["_sealed"] = {"key": 1, "v": 3, "nonce": "", "box": ""}
        texts.append(json.dumps(doc, separators=(",", ":"), ensure_ascii=False))
    data = "".join(texts).encode()
    assert len(data) < 16384, "keep the dictionary small: LZ4 hashes it once per packer"
    pieces = []
    for text in texts:  # one example after the other, in C string pieces
        for i in range(0, len(text), 72):
            piece = text[i:i + 72].replace("\\", "\\\\").replace('"', '\\"')
            pieces.append('    "%s"' % piece)
    out = pathlib.Path("src/store/store_request_dict.c")
    out.write_text(
        "/* store_request_dict.c -- the dictionary saved requests are packed against.\n"
        " *\n"
        " * Written by scripts/make_request_dict.py (do not edit): the project's\n"
        " * fictional example requests as sealing leaves them (personal values null,\n"
        " * \"_sealed\" last), never a shopper's, since the dictionary outlives every\n"
        " * quote. The SQLite store keeps it in pack_dicts (store_sqlite.c).\n"
        " */\n"
        "#include \"store_backend.h\"\n\n"
        "static const char text[] =\n" + "\n".join(pieces) + ";\n\n"
        "const unsigned char *const store_request_dict = (const unsigned char *)text;\n"
        "const int store_request_dict_len = (int)sizeof text - 1;\n")
    if shutil.which("clang-format"):
        subprocess.run(["clang-format", "-i", str(out)], check=True)
    print("%s: %d bytes from %d examples" % (out, len(data), len(EXAMPLES)))


if __name__ == "__main__":
    main()
