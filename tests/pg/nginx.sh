#!/usr/bin/env bash
# nginx.sh -- nginx on loopback in front of multiquote nodes, for the tests
# and benchmarks, configured with tests/pg/nginx-multiquote.conf.template
# (the same file docs/deploy.md shows).
#
#   tests/pg/nginx.sh start DIR PORT NODE_PORT...   # listens on 127.0.0.1:PORT
#   tests/pg/nginx.sh stop DIR                      # stops it and removes DIR
#
# Everything lives in DIR (config, pid file, logs, temp files); nginx runs as
# a daemon whose pid is DIR/nginx.pid. Nodes are marked failed for 10 s
# after one failed attempt, so a killed node is skipped quickly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start DIR PORT NODE_PORT... | stop DIR" >&2
  exit 2
fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)

start() {
  local port=$1; shift
  [ $# -gt 0 ] || { echo "nginx.sh: name at least one node port" >&2; exit 2; }
  mkdir -p "$dir/tmp"
  chmod 755 "$dir"
  local nodes=""
  for p in "$@"; do
    nodes+="server 127.0.0.1:$p max_fails=1 fail_timeout=10s; "
  done
  sed -e "/^ *#/!s|@LISTEN@|127.0.0.1:$port|" -e "/^ *#/!s|@NODES@|$nodes|" \
    "$here/nginx-multiquote.conf.template" >"$dir/multiquote.conf"
  cat >"$dir/nginx.conf" <<NGINX
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  include $dir/multiquote.conf;
}
NGINX
  "$nginx" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" -t -q
  "$nginx" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
  for _ in $(seq 50); do
    [ -s "$dir/nginx.pid" ] && return 0
    sleep 0.1
  done
  echo "nginx.sh: nginx did not start; its log:" >&2
  cat "$dir/error.log" >&2 || true
  exit 1
}

stop() {
  if [ -s "$dir/nginx.pid" ]; then
    local pid
    pid=$(cat "$dir/nginx.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -rf "$dir"
}

case "$cmd" in
start) shift 2; start "$@" ;;
stop) stop ;;
*) echo "usage: $0 start DIR PORT NODE_PORT... | stop DIR" >&2; exit 2 ;;
esac
