#!/usr/bin/env bash
# Runs every test suite and sums them: unit and end-to-end tests from the
# normal build, the same unit tests again from the ASan+UBSan build, the
# threaded ones and the server's suites from the ThreadSanitizer build. Each
# cmocka suite prints TAP; this script counts "ok" / "not ok" lines, shows the
# failures, and ends with the one line CI reads: "N passed, N failed".
#
# The suites are independent (each server on its own port and folder, each
# build's store suite in its own PostgreSQL database), so they run
# MQ_TEST_JOBS (2) at a time: run one by one, a server suite waiting on its
# server left a core idle. The browser suites, which keep both cores busy by
# themselves (Chromium), run under nice, so that a suite timing its server
# (deadlines, drains) beside one still gets the CPU it measures. Each
# suite's output goes to its own log; the summary lines come out in the
# order the suites are listed below, with the seconds each took and the CPU
# time (user, system) of its processes that were waited for (Chromium's
# renderers are not among them).
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD=${1:-build}
ASAN_BUILD=${2:-} # ASan+UBSan build; its section (and the fuzz inputs') is skipped without it
TSAN_BUILD=${3:-} # ThreadSanitizer build; its section is skipped without it
PARALLEL=${MQ_TEST_JOBS:-2}
UNIT="test_support test_date test_jsonread test_jsonalloc test_table test_expr test_plan test_reads test_rerate test_native test_request test_response test_bundle test_request_lines test_harbor test_aca test_lines_life test_lines_property test_batch test_batch_cli test_intake test_ratelimit test_privacy test_store test_remote"
passed=0
failed=0
work=$(mktemp -d /tmp/mq-tests.XXXXXX)
# PostgreSQL for the store suite (MQ_TEST_PG, a database per build) and the
# multi-node tests (MQ_TEST_PG_NODES): one throwaway cluster for the whole
# run. If it does not start, the URIs point nowhere, so those tests fail
# instead of skipping.
pg_dir=$(mktemp -d /tmp/mq-pg.XXXXXX)
cleanup() {
  local pids
  pids=$(jobs -p)
  [ -z "$pids" ] || kill $pids 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
  bash tests/pg/cluster.sh stop "$pg_dir" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! pg_base=$(bash tests/pg/cluster.sh start "$pg_dir") ||
  ! bash tests/pg/cluster.sh createdb "$pg_dir" mq_unit_asan mq_unit_tsan; then
  echo "tests/pg/cluster.sh could not start PostgreSQL" >&2
  pg_base="postgresql://postgres@127.0.0.1:1"
  failed=$((failed + 1))
fi
export MQ_TEST_PG="$pg_base/mq_unit" MQ_TEST_PG_NODES="$pg_base/mq_nodes"

# The list of suites: suite LABEL COMMAND... adds one; nothing runs yet.
labels=()
commands=()
suite() {
  labels+=("$1")
  shift
  commands+=("$(printf '%q ' "$@")")
}

# Runs suite $1 in the background: its output in $work/$1.log, its exit
# status in $work/$1.rc (written last: its presence means "finished").
start_suite() {
  (
    begin=$(date +%s)
    rc=0
    eval "CMOCKA_MESSAGE_OUTPUT=TAP ${commands[$1]}" >"$work/$1.log" 2>&1 </dev/null || rc=$?
    echo $(($(date +%s) - begin)) >"$work/$1.seconds"
    times >"$work/$1.times" # line 2: its processes' user and system time
    echo "$rc" >"$work/$1.rc.tmp" && mv "$work/$1.rc.tmp" "$work/$1.rc"
  ) &
}

# Counts a finished suite's tests and prints its line (and its failures).
report_suite() {
  local i=$1 log=$work/$1.log
  local rc ok bad
  rc=$(cat "$work/$i.rc")
  if grep -q '^# pass [0-9]' "$log"; then # node's runner: its own totals
    ok=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
    bad=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
  else # cmocka's TAP: one line per test
    ok=$(grep -c '^ok ' "$log" || true)
    bad=$(grep -c '^not ok ' "$log" || true)
  fi
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    bad=1 # crashed or sanitizer report without a failing test line
  fi
  passed=$((passed + ok))
  failed=$((failed + bad))
  printf '%-34s %4d passed, %d failed %5ss  cpu %s\n' "${labels[$i]}" "$ok" "$bad" "$(cat "$work/$i.seconds")" "$(sed -n 2p "$work/$i.times")"
  if [ "$bad" -ne 0 ]; then
    # each failing test's block (node's nested TAP indents it), else the
    # end of the log (a crash); the whole log is kept in $BUILD/test-logs
    local kept
    kept="$BUILD/test-logs/$(printf '%s' "${labels[$i]}" | tr -c 'A-Za-z0-9_.+-' '_').log"
    mkdir -p "$BUILD/test-logs" && cp "$log" "$kept"
    if grep -q 'not ok ' "$log"; then
      awk '/^ *not ok /{on=1} on{print} on && /^ *\.\.\.$/{on=0}' "$log" | head -80
    else
      tail -40 "$log"
    fi | sed 's/^/    /'
    echo "    (the whole log: $kept)"
  fi
}

# Runs the listed suites PARALLEL at a time, in the order listed, printing
# each one's line once it and every suite listed before it have finished.
run_suites() {
  local n=${#labels[@]} next=0 shown=0 running=0
  while [ "$shown" -lt "$n" ]; do
    while [ "$running" -lt "$PARALLEL" ] && [ "$next" -lt "$n" ]; do
      start_suite "$next"
      next=$((next + 1))
      running=$((running + 1))
    done
    wait -n 2>/dev/null
    running=$(jobs -rp | wc -l)
    while [ "$shown" -lt "$n" ] && [ -e "$work/$shown.rc" ]; do
      report_suite "$shown"
      shown=$((shown + 1))
    done
  done
}

# --- the normal build -------------------------------------------------------
# valgrind first: the API tests against the normal build's server under
# valgrind, the longest single suite; any memory error or definite leak
# (exit 99) fails it.
have_node=0
if [ -d tests/js/node_modules ]; then
  have_node=1
else
  echo "tests/js/node_modules missing: run scripts/setup.sh" >&2
  failed=$((failed + 1))
fi
if [ "$have_node" -eq 1 ] && command -v valgrind >/dev/null; then
  suite "api (node, valgrind)" env MQ_BIN="$PWD/$BUILD/multiquote" \
    MQ_SERVER_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
    node --test --test-reporter=tap tests/js/api.test.mjs
fi
# API and browser tests: node's test runner against the real server.
if [ "$have_node" -eq 1 ]; then
  for f in tests/js/*.test.mjs; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .test.mjs)
    case $name in
    a11y | browser | shopper-*) niced=(nice -n 10) ;;
    *) niced=() ;;
    esac
    suite "$name (node)" "${niced[@]}" env MQ_BIN="$PWD/$BUILD/multiquote" \
      node --test --test-reporter=tap "$f"
  done
fi
for t in $UNIT; do
  suite "$t" "$BUILD/tests/$t"
done
suite "test_cli" env MQ_BIN="$BUILD/multiquote" "$BUILD/tests/test_cli"
suite "test_allocfail" "$BUILD/tests/test_allocfail" # not in ASan: it owns malloc
suite "test_intake_cli" env MQ_BIN="$BUILD/multiquote" "$BUILD/tests/test_intake_cli"

# --- AddressSanitizer + UndefinedBehaviorSanitizer --------------------------
if [ -n "$ASAN_BUILD" ]; then
  # MQ_REF_BIN: test_batch_cli's reference quotes come from the normal build.
  # MQ_JR_MUTATIONS: test_jsonread compares its reader with jansson on the
  # first 50,000 of the normal build's 200,000 mutated requests (36 s of
  # CPU here for all; fuzz_jsonread is the long run).
  asan=(env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 MQ_TEST_PG="$pg_base/mq_unit_asan"
    MQ_REF_BIN="$PWD/$BUILD/multiquote" MQ_JR_MUTATIONS=50000)
  # The API tests against the ASan server: a LeakSanitizer or sanitizer
  # report in its log when it exits (SIGTERM) fails the suite (server.mjs).
  # So do the other server suites and the hostile clients' (limits, slow
  # requests, rate limits); the browser's and the two nodes on PostgreSQL
  # behind nginx run on the normal build only (they would add minutes, and
  # exercise the same server code as these).
  if [ "$have_node" -eq 1 ]; then
    for f in api privacy remote faults crash ipv6 requote hardening; do
      suite "$f (node, asan+ubsan)" "${asan[@]}" MQ_BIN="$PWD/$ASAN_BUILD/multiquote" \
        MQ_SERVER_SLOWDOWN=3 node --test --test-reporter=tap "tests/js/$f.test.mjs"
    done
  fi
  for t in $UNIT; do
    suite "$t (asan+ubsan)" "${asan[@]}" "$ASAN_BUILD/tests/$t"
  done
  suite "test_cli (asan+ubsan)" "${asan[@]}" MQ_BIN="$ASAN_BUILD/multiquote" \
    "$ASAN_BUILD/tests/test_cli"
  suite "test_intake_cli (asan+ubsan)" "${asan[@]}" MQ_BIN="$ASAN_BUILD/multiquote" \
    "$ASAN_BUILD/tests/test_intake_cli"
fi

# --- ThreadSanitizer --------------------------------------------------------
# The suites whose code runs on several threads. A data race or a lock-order
# inversion is a report; in a unit test it makes the test exit 66, and in a
# server's log it fails the suite (server.mjs). setarch -R: no address
# randomisation, whose larger ranges on some kernels collide with the shadow
# memory of gcc 12's TSan (where a sandbox forbids it, the suites run
# without).
if [ -n "$TSAN_BUILD" ]; then
  tsan_run=(setarch "$(uname -m)" -R)
  "${tsan_run[@]}" true 2>/dev/null || tsan_run=()
  tsan=(env TSAN_OPTIONS=halt_on_error=0:exitcode=66:second_deadlock_stack=1
    MQ_TEST_PG="$pg_base/mq_unit_tsan" MQ_REF_BIN="$PWD/$BUILD/multiquote")
  if [ "$have_node" -eq 1 ]; then
    for f in api hardening remote privacy; do
      suite "$f (node, tsan)" "${tsan[@]}" MQ_BIN="$PWD/$TSAN_BUILD/multiquote" \
        MQ_SERVER_WRAPPER="${tsan_run[*]}" MQ_SERVER_SLOWDOWN=3 \
        node --test --test-reporter=tap "tests/js/$f.test.mjs"
    done
  fi
  for t in test_store test_batch test_remote test_ratelimit; do
    suite "$t (tsan)" "${tsan[@]}" "${tsan_run[@]}" "$TSAN_BUILD/tests/$t"
  done
  suite "test_batch_cli (tsan)" "${tsan[@]}" MQ_BIN="$TSAN_BUILD/multiquote" "${tsan_run[@]}" \
    "$TSAN_BUILD/tests/test_batch_cli"
fi

# --- Fuzz inputs (tests/fuzz) -----------------------------------------------
# Every input that once crashed a fuzz target, and every target's seeds,
# run once through the target in the ASan+UBSan build (its main is
# tests/fuzz/replay.c, not libFuzzer). Fuzzing itself is `make fuzz`; the
# ten seconds a target that `make test` used to fuzz cost two minutes and a
# fourth build (clang's).
if [ -n "$ASAN_BUILD" ]; then
  suite "fuzz inputs (asan+ubsan)" bash tests/fuzz/run.sh "$ASAN_BUILD" 0
fi

run_suites
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
