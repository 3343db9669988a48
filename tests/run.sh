#!/usr/bin/env bash
# Runs every test suite and sums them: unit and end-to-end tests from the
# normal build, the same unit tests again from the ASan+UBSan build, the
# threaded ones and the server's suites from the ThreadSanitizer build. Each
# cmocka suite prints TAP; this script counts "ok" / "not ok" lines, shows the
# failures, and ends with the one line CI reads: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD=${1:-build}
ASAN_BUILD=${2:-}
FUZZ_BUILD=${3:-} # libFuzzer build (make fuzz-build); its section is skipped without it
TSAN_BUILD=${4:-} # ThreadSanitizer build; its section is skipped without it
UNIT="test_support test_date test_jsonread test_jsonalloc test_table test_expr test_plan test_reads test_rerate test_native test_request test_response test_bundle test_request_lines test_harbor test_aca test_lines_life test_lines_property test_batch test_batch_cli test_intake test_ratelimit test_privacy test_store test_remote"
passed=0
failed=0
log=$(mktemp)
# PostgreSQL for the store suite (MQ_TEST_PG) and the multi-node tests
# (MQ_TEST_PG_NODES): one throwaway cluster for the whole run. If it does not
# start, the URIs point nowhere, so those tests fail instead of skipping.
pg_dir=$(mktemp -d /tmp/mq-pg.XXXXXX)
trap 'rm -f "$log"; bash tests/pg/cluster.sh stop "$pg_dir" >/dev/null 2>&1' EXIT
if ! pg_base=$(bash tests/pg/cluster.sh start "$pg_dir"); then
  echo "tests/pg/cluster.sh could not start PostgreSQL" >&2
  pg_base="postgresql://postgres@127.0.0.1:1"
  failed=$((failed + 1))
fi
export MQ_TEST_PG="$pg_base/mq_unit" MQ_TEST_PG_NODES="$pg_base/mq_nodes"

run_suite() { # label, command...
  local label=$1; shift
  local rc=0
  CMOCKA_MESSAGE_OUTPUT=TAP "$@" >"$log" 2>&1 || rc=$?
  local ok bad
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
  printf '%-28s %4d passed, %d failed\n' "$label" "$ok" "$bad"
  if [ "$bad" -ne 0 ]; then
    grep -v '^ok ' "$log" | head -60 | sed 's/^/    /'
  fi
}

for t in $UNIT; do
  run_suite "$t" "$BUILD/tests/$t"
done
run_suite "test_cli" env MQ_BIN="$BUILD/multiquote" "$BUILD/tests/test_cli"
run_suite "test_allocfail" "$BUILD/tests/test_allocfail" # not in ASan: it owns malloc
run_suite "test_intake_cli" env MQ_BIN="$BUILD/multiquote" "$BUILD/tests/test_intake_cli"

# API and browser tests: node's test runner against the real server.
if [ -d tests/js/node_modules ]; then
  for f in tests/js/*.test.mjs; do
    [ -e "$f" ] || continue
    run_suite "$(basename "$f" .test.mjs) (node)" env MQ_BIN="$PWD/$BUILD/multiquote" \
      node --test --test-reporter=tap "$f"
  done
else
  echo "tests/js/node_modules missing: run scripts/setup.sh" >&2
  failed=$((failed + 1))
fi

if [ -n "$ASAN_BUILD" ]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  for t in $UNIT; do
    run_suite "$t (asan+ubsan)" "$ASAN_BUILD/tests/$t"
  done
  run_suite "test_cli (asan+ubsan)" env MQ_BIN="$ASAN_BUILD/multiquote" "$ASAN_BUILD/tests/test_cli"
  run_suite "test_intake_cli (asan+ubsan)" env MQ_BIN="$ASAN_BUILD/multiquote" \
    "$ASAN_BUILD/tests/test_intake_cli"
  # The API tests against the ASan server: a LeakSanitizer or sanitizer
  # report in its log when it exits (SIGTERM) fails the suite (server.mjs).
  if [ -d tests/js/node_modules ]; then
    # So do the other server suites; the browser's and the two nodes on
    # PostgreSQL behind nginx run on the normal build only (they would add
    # minutes, and exercise the same server code as these).
    for f in api privacy remote faults crash ipv6 requote; do
      run_suite "$f (node, asan+ubsan)" env MQ_BIN="$PWD/$ASAN_BUILD/multiquote" \
        MQ_SERVER_SLOWDOWN=3 node --test --test-reporter=tap "tests/js/$f.test.mjs"
    done
    # hostile clients (limits, slow requests, rate limits) against the ASan server
    run_suite "hardening (node, asan+ubsan)" env MQ_BIN="$PWD/$ASAN_BUILD/multiquote" \
      MQ_SERVER_SLOWDOWN=3 node --test --test-reporter=tap tests/js/hardening.test.mjs
  fi
fi

# ThreadSanitizer: the suites whose code runs on several threads. A data
# race or a lock-order inversion is a report; in a unit test it makes the
# test exit 66, and in a server's log it fails the suite (server.mjs).
# setarch -R: no address randomisation, whose larger ranges on some kernels
# collide with the shadow memory of gcc 12's TSan (where a sandbox forbids
# it, the suites run without).
if [ -n "$TSAN_BUILD" ]; then
  tsan_run=(setarch "$(uname -m)" -R)
  "${tsan_run[@]}" true 2>/dev/null || tsan_run=(env)
  export TSAN_OPTIONS=halt_on_error=0:exitcode=66:second_deadlock_stack=1
  for t in test_store test_batch test_remote test_ratelimit; do
    run_suite "$t (tsan)" "${tsan_run[@]}" "$TSAN_BUILD/tests/$t"
  done
  run_suite "test_batch_cli (tsan)" env MQ_BIN="$TSAN_BUILD/multiquote" "${tsan_run[@]}" \
    "$TSAN_BUILD/tests/test_batch_cli"
  if [ -d tests/js/node_modules ]; then
    for f in api hardening remote privacy; do
      run_suite "$f (node, tsan)" env MQ_BIN="$PWD/$TSAN_BUILD/multiquote" \
        MQ_SERVER_WRAPPER="${tsan_run[*]}" MQ_SERVER_SLOWDOWN=3 \
        node --test --test-reporter=tap "tests/js/$f.test.mjs"
    done
  fi
  unset TSAN_OPTIONS
fi

# valgrind, once: the API tests against the normal build's server run under
# valgrind; any memory error or definite leak (exit 99) fails the suite.
if [ -d tests/js/node_modules ] && command -v valgrind >/dev/null; then
  run_suite "api (node, valgrind)" env MQ_BIN="$PWD/$BUILD/multiquote" \
    MQ_SERVER_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
    node --test --test-reporter=tap tests/js/api.test.mjs
fi

# Fuzzing (tests/fuzz): every stored crash input replayed, then each libFuzzer
# target fuzzed for FUZZ_SECONDS (20) from a copy of its seed corpus.
if [ -n "$FUZZ_BUILD" ]; then
  run_suite "fuzz (libFuzzer)" bash tests/fuzz/run.sh "$FUZZ_BUILD" "${FUZZ_SECONDS:-20}"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
