#!/usr/bin/env bash
# tests/fuzz/run.sh -- runs the fuzz targets: replays every stored
# regression input, then fuzzes each target for SECONDS, two at a time;
# with SECONDS 0, replays each target's seed corpus once instead.
#
#   tests/fuzz/run.sh BUILD SECONDS [TARGET...]
#
# BUILD is the libFuzzer build (make fuzz-build), or with SECONDS 0 any
# test build, whose targets replay their inputs without libFuzzer
# (replay.c): `make test` runs it on the ASan+UBSan build.
#
# Each target fuzzes a COPY of its seed corpus (tests/fuzz/corpus/<target>)
# in a temporary folder, so the repository is never modified; set
# FUZZ_CORPUS_DIR to keep the grown corpora there instead (`make fuzz`).
# Crashes, leaks and timeouts are written to FUZZ_BUILD/fuzz-artifacts/<target>/.
# Prints TAP lines ("ok N - ..." / "not ok N - ...", the failure's report
# after it) and exits non-zero when any target failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

BUILD=${1:?usage: tests/fuzz/run.sh BUILD SECONDS [TARGET...]}
SECONDS_EACH=${2:?usage: tests/fuzz/run.sh BUILD SECONDS [TARGET...]}
shift 2
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do TARGETS+=("$(basename "$f" .c)"); done
fi

export ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
# a leak inside libfyaml itself, not ours (lsan.supp says which)
export LSAN_OPTIONS=${FUZZ_LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan.supp}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
work=$(mktemp -d "${TMPDIR:-/tmp}/mq-fuzzrun-XXXXXX")
trap 'rm -rf "$work"' EXIT
# The targets' own temporary folders go in here too: libFuzzer ends a timed
# run without running atexit handlers, which would have removed them.
mkdir -p "$work/tmp"
export TMPDIR=$work/tmp
n=0
failed=0

dict_of() {
  case $1 in
    fuzz_request | fuzz_api | fuzz_jsonread) echo tests/fuzz/request.dict ;;
    fuzz_plan | fuzz_expr | fuzz_market | fuzz_table) echo tests/fuzz/plan.dict ;;
    fuzz_acord) echo tests/fuzz/acord.dict ;;
  esac
}

report() { # result file, label, log
  n=$((n + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $n - $2"
  else
    failed=$((failed + 1))
    echo "not ok $n - $2"
    grep -E 'ERROR|SUMMARY|#[0-9]+ 0x.* in (mq_|[a-z_]+ \/)|Test unit written|runtime error|leak of' "$3" | grep -v fuzzer:: | head -24 | sed 's/^/#   /'
  fi
}

# 1. Regressions: every input that once crashed a target, replayed once.
for t in "${TARGETS[@]}"; do
  bin=$BUILD/tests/fuzz/$t
  dir=tests/fuzz/regressions/$t
  [ -d "$dir" ] || continue
  mapfile -t inputs < <(find "$dir" -type f | sort)
  [ ${#inputs[@]} -gt 0 ] || continue
  rc=0
  "$bin" -rss_limit_mb=2048 -timeout=30 "${inputs[@]}" >"$work/$t.replay.log" 2>&1 || rc=$?
  report "$rc" "$t replays ${#inputs[@]} regression inputs" "$work/$t.replay.log"
done

# 2. With SECONDS 0: each target's seeds, run once.
if [ "$SECONDS_EACH" -eq 0 ]; then
  for t in "${TARGETS[@]}"; do
    seeds=tests/fuzz/corpus/$t
    [ -d "$seeds" ] || continue
    rc=0
    "$BUILD/tests/fuzz/$t" -runs=0 -rss_limit_mb=2048 -timeout=30 "$seeds" >"$work/$t.seeds.log" 2>&1 || rc=$?
    report "$rc" "$t replays its $(find "$seeds" -type f | wc -l) seeds" "$work/$t.seeds.log"
  done
  TARGETS=() # replayed only: nothing is left for step 3 to fuzz
fi

# 3. Fuzzing, two targets at a time (the machine has two cores).
fuzz_one() { # target
  local t=$1 bin=$BUILD/tests/fuzz/$1
  local corpus=${FUZZ_CORPUS_DIR:-$work/corpus}/$t
  local art=$BUILD/fuzz-artifacts/$t
  mkdir -p "$corpus" "$art"
  cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null
  local dict
  dict=$(dict_of "$t")
  local rc=0
  "$bin" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 -max_len=131072 \
    -print_final_stats=1 -artifact_prefix="$art/" ${dict:+-dict=$dict} "$corpus" \
    >"$work/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$work/$t.rc"
}

for ((i = 0; i < ${#TARGETS[@]}; i += 2)); do
  pair=("${TARGETS[@]:i:2}")
  for t in "${pair[@]}"; do fuzz_one "$t" & done
  wait
  for t in "${pair[@]}"; do
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log" | tail -1)
    report "$(cat "$work/$t.rc")" "$t fuzzed ${SECONDS_EACH} s (${execs:-0} runs)" "$work/$t.log"
  done
done

echo "# fuzz: $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
