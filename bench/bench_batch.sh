#!/usr/bin/env bash
# bench_batch.sh -- batch rating end to end: a book of auto policies through one carrier's plan.
#
# Generates synthetic Ohio books with `multiquote gen-book` (kept in $OUT, so
# later runs reuse them), then times `multiquote batch --carrier $CARRIER`
# from the CSV book to a CSV result file: parsing, rating and writing, the
# whole command as a user runs it. Each case runs $RUNS times; the table
# shows the fastest wall time (the least disturbed by other work on the
# machine), the CPU time of that run, and the largest peak resident memory
# of all runs, from GNU time. Cases: 100k and 1M policies with 2 threads
# (memory must stay flat as the book grows) and 1 thread (the speedup), and
# the NDJSON path at 100k for comparison. Targets (issue 6): 1M policies in
# at most 10 s on a 2-core machine, under 200 MB, flat from 100k to 1M.
#
#   bench/bench_batch.sh                 # defaults below
#   N_LARGE=200000 RUNS=1 bench/bench_batch.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-build/multiquote}
PLANS=${PLANS:-plans}
CARRIER=${CARRIER:-keystone}
OUT=${OUT:-/tmp/mq-bench-batch}
RUNS=${RUNS:-3}
N_SMALL=${N_SMALL:-100000}
N_LARGE=${N_LARGE:-1000000}
SEED=${SEED:-1}

[ -x "$BIN" ] || { echo "bench_batch: $BIN is not built (make)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench_batch: needs GNU time (/usr/bin/time)" >&2; exit 1; }
mkdir -p "$OUT"

book() { # n format -> path
  local path="$OUT/oh-$1-seed$SEED.$2"
  if [ ! -s "$path" ]; then
    "$BIN" gen-book --line auto --n "$1" --seed "$SEED" --state OH --format "$2" >"$path.tmp"
    mv "$path.tmp" "$path"
  fi
  echo "$path"
}

# case label, book, threads: prints one table row
bench() {
  local label=$1 path=$2 threads=$3
  local best="" best_cpu="" peak=0 rows
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %U %S %M' -o "$OUT/time" \
      "$BIN" batch --plans "$PLANS" --carrier "$CARRIER" --threads "$threads" --format csv \
      "$path" >"$OUT/result.csv"
    read -r wall user sys rss <"$OUT/time"
    if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$wall
      best_cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    fi
    [ "$rss" -gt "$peak" ] && peak=$rss
  done
  rows=$(($(wc -l <"$OUT/result.csv") - 1))
  printf '%-22s %7d %9s %9s %9.1f %11.0f\n' "$label" "$threads" "$best" "$best_cpu" \
    "$(awk -v k="$peak" 'BEGIN { print k / 1024 }')" "$(awk -v r="$rows" -v t="$best" 'BEGIN { print r / t }')"
  echo "$best" >"$OUT/last"
}

small=$(book "$N_SMALL" csv)
large=$(book "$N_LARGE" csv)
small_json=$(book "$N_SMALL" ndjson)

echo "batch --carrier $CARRIER, CSV book -> CSV results; best of $RUNS runs; $(nproc) cores"
printf '%-22s %7s %9s %9s %9s %11s\n' "book" "threads" "wall s" "cpu s" "peak MB" "policies/s"
bench "$N_SMALL csv" "$small" 2
bench "$N_LARGE csv" "$large" 2
two=$(cat "$OUT/last")
bench "$N_LARGE csv" "$large" 1
one=$(cat "$OUT/last")
bench "$N_SMALL ndjson" "$small_json" 2
awk -v a="$one" -v b="$two" 'BEGIN { printf "speedup of 2 threads over 1 (%s policies): %.2fx\n", "'"$N_LARGE"'", a / b }'
