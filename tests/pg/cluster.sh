#!/usr/bin/env bash
# cluster.sh -- a throwaway PostgreSQL cluster for the tests and benchmarks.
#
#   tests/pg/cluster.sh start DIR [PASSWORD]
#                                   # prints its base URI: postgresql://postgres@127.0.0.1:PORT
#   tests/pg/cluster.sh createdb DIR NAME...  # more databases in it
#   tests/pg/cluster.sh stop DIR    # stops it and removes DIR
#   tests/pg/cluster.sh crash DIR   # kills it as a power cut would (-m immediate),
#                                   # and a second later ($MQ_PG_DOWN_SECONDS) starts
#                                   # it again on the same port, through crash recovery
#
# Uses Debian's postgresql package (initdb and pg_ctl of the newest version
# under /usr/lib/postgresql). The cluster lives in DIR, listens on 127.0.0.1
# on a free port (its socket in DIR too), trusts local connections and has
# the databases mq_unit (the store suite) and mq_nodes (the multi-node
# tests). Given a PASSWORD, TCP connections must log in with a password
# (scram-sha-256; the user postgres has PASSWORD) as in production, for the
# tests of missing and wrong passwords; its socket in DIR still trusts.
# PostgreSQL refuses to run as root, so as root (CI) DIR is given
# to the postgres user and the server runs as that user. Durability
# settings are the defaults (fsync and synchronous_commit on): the tests
# rely on a commit being durable.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
password=${3:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start DIR [PASSWORD] | createdb DIR NAME... | stop DIR | crash DIR" >&2
  exit 2
fi
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "cluster.sh: no PostgreSQL server under /usr/lib/postgresql (scripts/setup.sh installs it)" >&2
  exit 1
fi

as_owner() { # runs a command as the cluster's owner
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

run_server() { # PORT: starts the server of DIR/data on it
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -c port=$1 -c unix_socket_directories=$dir -c max_connections=200" \
    start >/dev/null 2>&1
}

start() {
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
  fi
  chmod 700 "$dir"
  if ! as_owner test -w "$dir"; then
    echo "cluster.sh: the postgres user cannot write $dir (is a parent folder private?)" >&2
    exit 1
  fi
  local auth=(--auth=trust)
  if [ -n "$password" ]; then
    printf '%s\n' "$password" >"$dir/pwfile"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$dir/pwfile"
    auth=(--auth-local=trust --auth-host=scram-sha-256 --pwfile="$dir/pwfile")
  fi
  as_owner "$bin/initdb" -D "$dir/data" -U postgres "${auth[@]}" --encoding=UTF8 --locale=C \
    --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  rm -f "$dir/pwfile"
  local port
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    if run_server "$port"; then
      as_owner "$bin/psql" -q -h "$dir" -p "$port" -U postgres -d postgres \
        -c 'CREATE DATABASE mq_unit' -c 'CREATE DATABASE mq_nodes' >/dev/null
      echo "postgresql://postgres@127.0.0.1:$port"
      return 0
    fi
  done
  echo "cluster.sh: PostgreSQL did not start; its log:" >&2
  tail -20 "$dir/server.log" >&2 || true
  exit 1
}

createdb() { # NAME...: creates each database (over the cluster's socket)
  local port name
  port=$(sed -n 4p "$dir/data/postmaster.pid")
  for name in "$@"; do
    as_owner "$bin/psql" -q -h "$dir" -p "$port" -U postgres -d postgres \
      -c "CREATE DATABASE \"$name\"" >/dev/null
  done
}

stop() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

crash() {
  local port
  port=$(sed -n 4p "$dir/data/postmaster.pid")
  as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1
  sleep "${MQ_PG_DOWN_SECONDS:-1}"
  run_server "$port" || {
    echo "cluster.sh: PostgreSQL did not come back; its log:" >&2
    tail -20 "$dir/server.log" >&2 || true
    exit 1
  }
}

case "$cmd" in
start) start ;;
createdb) shift 2; createdb "$@" ;;
stop) stop ;;
crash) crash ;;
*) echo "usage: $0 start DIR [PASSWORD] | createdb DIR NAME... | stop DIR | crash DIR" >&2; exit 2 ;;
esac
