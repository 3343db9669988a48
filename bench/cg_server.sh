#!/usr/bin/env bash
# The quote server's instructions per quote, by callgrind: noise-free,
# where wall-clock figures on a shared machine move by tens of percent.
#
# Usage: bench/cg_server.sh [BUILD] [N1] [N2] [TOP]   (default: build 50 250 30)
#
# Runs `multiquote serve` under callgrind twice, posting the family request
# N1 and then N2 times one after another (curl, one connection each), and
# prints the difference of the two runs divided by N2 - N1: the whole
# server's instructions per quote (all threads: libmicrohttpd, the handler
# or rating thread, the store's writer and checkpointer), then the TOP
# functions by their own cost. Loading the plans and starting up cancel out.
# Needs valgrind and curl; takes a few minutes.
#
# Valgrind counts each byte of a `rep movsb` / `rep stosb` as an
# instruction, so large memcpy and memset (libmicrohttpd's pool reset, LZ4's
# state) weigh far more here than in time: read those rows with perf.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N1=${2:-50}
N2=${3:-250}
TOP=${4:-30}
PORT=18785
command -v valgrind >/dev/null && command -v curl >/dev/null || {
  echo "cg_server: needs valgrind and curl" >&2; exit 1; }
[ "$N2" -gt "$N1" ] || { echo "cg_server: N2 must be larger than N1" >&2; exit 2; }
tmp=$(mktemp -d)
srv=
cleanup() {
  [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# One callgrind run of the server answering n family POSTs; its profile in $2.
profile() {
  local n=$1 out=$2
  rm -f "$tmp/db"*
  valgrind --tool=callgrind --callgrind-out-file="$out" "$BUILD/multiquote" serve --port $PORT \
    --db "$tmp/db" --plans plans --rate-limit 0 2>"$tmp/log" &
  srv=$!
  for _ in $(seq 300); do grep -q listening "$tmp/log" && break; sleep 0.2; done
  grep -q listening "$tmp/log" || { echo "cg_server: the server did not start" >&2; exit 1; }
  for _ in $(seq "$n"); do
    curl -sf -o /dev/null -XPOST -H 'Content-Type: application/json' \
      --data-binary @examples/oh-family-two-cars.json "http://127.0.0.1:$PORT/v1/quotes"
  done
  kill "$srv"
  wait "$srv" 2>/dev/null || true
  srv=
}

profile "$N1" "$tmp/a.out"
profile "$N2" "$tmp/b.out"
for f in a b; do
  callgrind_annotate --auto=no --threshold=100 --show-percs=no "$tmp/$f.out" >"$tmp/$f.txt"
done
python3 - "$tmp/a.txt" "$tmp/b.txt" $((N2 - N1)) "$TOP" <<'PY'
import re, sys
def self_costs(path):
    costs, on = {}, False
    for line in open(path):
        if 'file:function' in line:
            on = True
            continue
        m = re.match(r'\s*([\d,]+)\s+(\S.*)$', line) if on else None
        if m:
            name = re.sub(r'\s*\[.*\]$', '', m.group(2))
            costs[name] = costs.get(name, 0) + int(m.group(1).replace(',', ''))
    return costs
a, b = self_costs(sys.argv[1]), self_costs(sys.argv[2])
n, top = float(sys.argv[3]), int(sys.argv[4])
rows = sorted(((b.get(k, 0) - a.get(k, 0)) / n, k) for k in set(a) | set(b))[::-1]
total = sum(r[0] for r in rows)
print("instructions per quote (whole server): %.0f" % total)
for v, k in rows[:top]:
    print("%9.0f %5.1f%%  %s" % (v, 100 * v / total, k[:100]))
PY
