#!/usr/bin/env bash
# Several-node benchmark: POST /v1/quotes (the family request, every auto
# plan, each quote saved durably) measured with wrk in one run for
#   1. one node on SQLite (WAL, synchronous=FULL),
#   2. one node on PostgreSQL (a throwaway cluster, synchronous_commit on),
#   3. two nodes on that PostgreSQL behind nginx (the upstream template of
#      docs/deploy.md),
# printing quotes/s, p50 and p99 for each and the quotes the database holds.
# Everything runs on this machine: the nodes, PostgreSQL, nginx and wrk
# share its cores, so read case 3 against 2 with that in mind.
# Usage: bench/bench_nodes.sh [BUILD] [SECONDS]   (needs wrk, nginx, postgresql)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SECS=${2:-10}
CONNS=64
tmp=$(mktemp -d)
chmod 755 "$tmp" # the cluster under it runs as the postgres user when we are root
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  bash tests/pg/nginx.sh stop "$tmp/nginx" >/dev/null 2>&1 || true
  bash tests/pg/cluster.sh stop "$tmp/pg" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
command -v wrk >/dev/null && command -v nginx >/dev/null || {
  echo "bench_nodes: needs wrk and nginx (apt-get install wrk nginx-light)" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_node PORT DB LOG: a node in the background, waiting until it listens
start_node() {
  "$BUILD/multiquote" serve --port "$1" --db "$2" --plans plans --rate-limit 0 2>"$3" &
  pids+=($!)
  for _ in $(seq 100); do grep -q listening "$3" && return 0; sleep 0.1; done
  echo "bench_nodes: the node on port $1 did not start:" >&2
  cat "$3" >&2
  exit 1
}

stop_nodes() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  pids=()
}

# The CPU time (ms, user + system) the processes used so far: nodes, the
# cluster's postmaster and its children, nginx's master and workers.
cpu_ms() {
  local total=0 t
  for p in "$@"; do
    t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
    total=$((total + t))
  done
  echo $((total * 1000 / $(getconf CLK_TCK)))
}
children() { # the pid and its children's pids
  echo "$1"
  ps -o pid= --ppid "$1" 2>/dev/null || true
}
cpu_split() { # "nodes N postgres N nginx N" in ms
  local pg_ms=0 nginx_ms=0
  [ -f "$tmp/pg/data/postmaster.pid" ] && pg_ms=$(cpu_ms $(children "$(head -1 "$tmp/pg/data/postmaster.pid")"))
  [ -s "$tmp/nginx/nginx.pid" ] && nginx_ms=$(cpu_ms $(children "$(cat "$tmp/nginx/nginx.pid")"))
  echo "$(cpu_ms "${pids[@]}") $pg_ms $nginx_ms"
}

measure() { # label, url
  echo "== $1, $CONNS connections, ${SECS}s"
  local before after out n
  read -r -a before <<<"$(cpu_split)"
  out=$(wrk -t2 -c$CONNS -d"${SECS}s" -s bench/post_quote.lua "$2" | grep RESULT)
  read -r -a after <<<"$(cpu_split)"
  echo "$out"
  n=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$out")
  [ "${n:-0}" -gt 0 ] || return 0
  awk -v n="$n" -v a="$((after[0] - before[0]))" -v b="$((after[1] - before[1]))" \
    -v c="$((after[2] - before[2]))" 'BEGIN {
      printf "CPU per quote: multiquote %.2f ms, postgres %.2f ms, nginx %.2f ms, total %.2f ms\n",
        a / n, b / n, c / n, (a + b + c) / n }'
}

pg_count() {
  psql_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql
  "$psql_bin" -At "$pg" -c 'select count(*) from quotes'
}

export MQ_BENCH_REQUEST=$PWD/examples/oh-family-two-cars.json
echo "machine: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

port=$(free_port)
start_node "$port" "$tmp/bench.db" "$tmp/sqlite.log"
measure "1 node, SQLite" "http://127.0.0.1:$port/v1/quotes"
echo "quotes saved: $(sqlite3 "$tmp/bench.db" 'select count(*) from quotes')"
stop_nodes

pg="$(bash tests/pg/cluster.sh start "$tmp/pg")/mq_nodes"
port=$(free_port)
start_node "$port" "$pg" "$tmp/pg1.log"
measure "1 node, PostgreSQL" "http://127.0.0.1:$port/v1/quotes"
echo "quotes saved: $(pg_count)"
stop_nodes

a=$(free_port)
start_node "$a" "$pg" "$tmp/pga.log"
b=$(free_port)
start_node "$b" "$pg" "$tmp/pgb.log"
lb=$(free_port)
bash tests/pg/nginx.sh start "$tmp/nginx" "$lb" "$a" "$b"
measure "2 nodes, PostgreSQL, behind nginx" "http://127.0.0.1:$lb/v1/quotes"
echo "quotes saved (both PostgreSQL runs): $(pg_count)"
