#!/usr/bin/env bash
# Fan-out benchmark: 50 remote carriers answering after 100-300 ms; reports a
# quote's p50/p99 latency over the slowest carrier's delay and the server's
# CPU time per fan-out (bench/bench_fanout.mjs does the work).
# Usage: bench/bench_fanout.sh [BUILD] [ROUNDS per client] [CLIENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
exec node bench/bench_fanout.mjs "$BUILD/multiquote" "${2:-100}" "${3:-8}"
