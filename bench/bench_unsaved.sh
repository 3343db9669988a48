#!/usr/bin/env bash
# The ceiling that saving leaves: how fast the quote server answers the
# benchmark's requests when it does not save them, beside the real server,
# in the same minutes. Issue #4 asks for a third of nginx's static rate with
# persistence on; if a server that saves nothing barely reaches a third, no
# store can.
#
# Usage: bench/bench_unsaved.sh [BUILD] [SECONDS] [ROUNDS]   (default: build 6 3)
#
# Builds HEAD's source (git archive, so uncommitted changes are not in it)
# with bench/unsaved.patch in a temporary folder: a multiquote whose
# MQ_BENCH_UNSAVED=packed rates, seals and packs each quote as the real one
# does but answers without saving it, and =bare neither packs nor saves.
# That binary exists only there, for this measurement. Then runs
# bench/bench_http.sh ROUNDS times for each of: BUILD's multiquote (saving,
# as shipped), packed and bare; the three alternate so that each round's
# figures share the machine's speed of the moment, and each prints nginx's
# rate in its own run. Ends with a table: quotes/s, p99, server CPU per
# quote and the share of nginx.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SECS=${2:-6}
ROUNDS=${3:-3}
[ -x "$BUILD/multiquote" ] || { echo "bench_unsaved: no $BUILD/multiquote (make build)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "building HEAD ($(git rev-parse --short HEAD)) with bench/unsaved.patch in $tmp"
git archive HEAD | tar -x -C "$tmp"
git -C "$tmp" init -q && git -C "$tmp" apply "$PWD/bench/unsaved.patch" || {
  echo "bench_unsaved: bench/unsaved.patch no longer applies to src/server/server.c" >&2; exit 1; }
meson setup "$tmp/build" "$tmp" --buildtype=debugoptimized -Dtests=false >"$tmp/setup.log" 2>&1 ||
  { cat "$tmp/setup.log" >&2; exit 1; }
ninja -C "$tmp/build" multiquote >"$tmp/ninja.log" 2>&1 || { tail -20 "$tmp/ninja.log" >&2; exit 1; }

# one bench_http.sh run: "variant rps p99 cpu nginx_rps" on stdout, its output in the log
run() { # variant binary-dir [env...]
  local variant=$1 dir=$2; shift 2
  env "$@" bash bench/bench_http.sh "$dir" "$SECS" >"$tmp/run.out" 2>&1
  cat "$tmp/run.out" >>"$tmp/all.log"
  awk -v v="$variant" '
    /RESULT/ { n++; split($0, f, /[ =]/); for (i in f) { if (f[i] == "rps") r[n] = f[i + 1]; if (f[i] == "p99_ms") p[n] = f[i + 1] } }
    /server CPU per quote/ { cpu = $5 }
    END { printf "%s %.0f %.1f %s %.0f\n", v, r[1], p[1], cpu, r[2] }' "$tmp/run.out"
}
for round in $(seq "$ROUNDS"); do
  echo "round $round of $ROUNDS" >&2
  run saved "$BUILD"
  run packed "$tmp/build" MQ_BENCH_UNSAVED=packed
  run bare "$tmp/build" MQ_BENCH_UNSAVED=bare
done | tee "$tmp/rows" >/dev/null

echo
printf '%-8s %10s %8s %14s %10s %7s\n' server quotes/s p99_ms cpu_ms/quote nginx/s share
awk '{ printf "%-8s %10d %8.1f %14s %10d %6.1f%%\n", $1, $2, $3, $4, $5, 100 * $2 / $5 }' "$tmp/rows"
echo
echo "saved: as shipped (SQLite, WAL, synchronous=FULL); packed: rated, sealed and packed, not saved;"
echo "bare: rated and sealed only. The share is of nginx's rate in the same run."
