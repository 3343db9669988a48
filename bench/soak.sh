#!/usr/bin/env bash
# Soak test: the server under a fixed request rate for a long time, open loop
# (bench/soak.mjs: each request is sent when it is due, and its latency counts
# from then), 30% POST /v1/quotes with the family request (saved, SQLite WAL)
# and 70% GET of a saved quote, with the server's RSS sampled every 10 s.
# Prints requests served, errors (should be 0), latency p50/p99/max and RSS at
# start and end; the RSS samples go to $OUT (default build-soak-rss.csv under
# the build folder). Exit status 1 when any request failed.
# Usage: bench/soak.sh [BUILD] [SECONDS] [RATE]   (default: build 600 300)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SECS=${2:-600}
RATE=${3:-300}
OUT=${OUT:-$BUILD/soak-rss.csv}
tmp=$(mktemp -d)
cleanup() {
  if [ -n "${srv:-}" ] && kill -0 "$srv" 2>/dev/null; then
    kill "$srv" && wait "$srv" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# a free port: the kernel picks one, we release it and use it
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# --rate-limit 0: every request comes from one address, which the per-client
# limit would throttle
"$BUILD/multiquote" serve --port "$PORT" --db "$tmp/soak.db" --plans plans --rate-limit 0 \
  2>"$tmp/server.log" &
srv=$!
for _ in $(seq 100); do grep -q listening "$tmp/server.log" && break; sleep 0.1; done
grep -q listening "$tmp/server.log" || { cat "$tmp/server.log" >&2; exit 1; }

echo "== soak: $RATE req/s for $SECS s against $BUILD/multiquote (pid $srv, $(nproc) cores)"
rc=0
node bench/soak.mjs --url "http://127.0.0.1:$PORT" --request examples/oh-family-two-cars.json \
  --pid "$srv" --rate "$RATE" --duration "$SECS" --csv "$OUT" || rc=$?
echo "quotes saved: $(sqlite3 "$tmp/soak.db" 'select count(*) from quotes' 2>/dev/null || echo '?')," \
  "database $(du -sh "$tmp" | cut -f1)"
echo "server log: $(grep -c '"status":5' "$tmp/server.log" || true) responses >= 500," \
  "$(grep -c '"aborted":true' "$tmp/server.log" || true) requests aborted," \
  "$(grep -o '"slow_requests_cut","connections":[0-9]*' "$tmp/server.log" | awk -F: '{n += $2} END {print n + 0}')" \
  "slow connections cut"
cp "$tmp/server.log" "${OUT%.csv}-server.log"
echo "RSS samples: $OUT"
kill "$srv"
wait "$srv" || rc=1
srv=
exit $rc
