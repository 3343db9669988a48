#!/usr/bin/env bash
# HTTP benchmark: POST /v1/quotes with the two-car family request against
# every auto plan, persistence on, 64 connections, measured with wrk; and in
# the same run nginx serving a static JSON file of the same size, the ceiling.
# Usage: bench/bench_http.sh [BUILD] [SECONDS] [mix|email]   (needs wrk and nginx-light)
# With "mix", wrk posts the four Harbor examples in turn (four shoppers:
# family, single driver, old car, declined) instead of the family request.
# With "email", the family request carries an email, a different one in
# every request, as real shoppers' do: each quote then has a subject (a
# keyed hash of the email, for `forget`) to save as well.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SECS=${2:-10}
CONNS=64
PORT=18780
NGINX_PORT=18781
tmp=$(mktemp -d)
cleanup() {
  [ -n "${srv:-}" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
  [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
command -v wrk >/dev/null && command -v nginx >/dev/null || {
  echo "bench_http: needs wrk and nginx (apt-get install wrk nginx-light)" >&2; exit 1; }

MIX=${3:-}
export MQ_BENCH_REQUEST=$PWD/examples/oh-family-two-cars.json
if [ "$MIX" = mix ]; then
  MQ_BENCH_REQUEST="$MQ_BENCH_REQUEST $PWD/examples/oh-single-driver.json"
  MQ_BENCH_REQUEST="$MQ_BENCH_REQUEST $PWD/examples/oh-old-car.json $PWD/examples/oh-two-dui.json"
elif [ "$MIX" = email ]; then
  export MQ_BENCH_EMAIL=1
elif [ -n "$MIX" ]; then
  echo "bench_http: the third argument is \"mix\", \"email\" or nothing" >&2; exit 2
fi
# --rate-limit 0: all 64 connections come from one address, which the
# per-client limit (20 API requests/s by default) would otherwise throttle
"$BUILD/multiquote" serve --port $PORT --db "$tmp/bench.db" --plans plans --rate-limit 0 \
  2>"$tmp/server.log" &
srv=$!
for _ in $(seq 50); do grep -q listening "$tmp/server.log" && break; sleep 0.1; done

# one response, to size the static file
curl -s -XPOST -H 'Content-Type: application/json' --data-binary @"${MQ_BENCH_REQUEST%% *}" \
  "http://127.0.0.1:$PORT/v1/quotes" >"$tmp/quote.json"
size=$(wc -c <"$tmp/quote.json")

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime of a process
# utime + stime of each of the server's threads, by name (mq-rate, mq-http...)
thread_ticks() {
  for t in /proc/"$1"/task/*; do
    echo "$(tr ' ' _ <"$t/comm") $(awk '{print $14 + $15}' "$t/stat")"
  done | awk '{s[$1] += $2} END {for (k in s) print k, s[k]}' | sort
}
# the store's commit counters (GET /metrics): commits, quotes, their time, the quotes' waits
store_stats() {
  curl -s "http://127.0.0.1:$PORT/metrics" | awk '
    /^mq_store_commits_total / {c = $2} /^mq_store_committed_quotes_total / {q = $2}
    /^mq_store_commit_seconds_sum / {t = $2} /^mq_store_save_wait_seconds_sum / {w = $2}
    END {print c, q, t, w}'
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
what="family request"
[ "$MIX" = mix ] && what="the four Harbor examples in turn"
[ "$MIX" = email ] && what="family request, a different email in each"
echo "== multiquote POST /v1/quotes ($what, $(grep -c . <<<"$(ls -d plans/*/*auto*)") auto plans, SQLite WAL synchronous=FULL, $CONNS connections, ${SECS}s)"
before=$(cpu_ticks "$srv")
thread_ticks "$srv" >"$tmp/threads.before"
store_before=$(store_stats)
wrk -t2 -c$CONNS -d${SECS}s -s bench/post_quote.lua "http://127.0.0.1:$PORT/v1/quotes" >"$tmp/wrk.out"
after=$(cpu_ticks "$srv")
thread_ticks "$srv" >"$tmp/threads.after"
store_after=$(store_stats)
grep RESULT "$tmp/wrk.out"
saved=$(sqlite3 "$tmp/bench.db" 'select count(*) from quotes')
echo "quotes saved: $saved"
[ "$MIX" = email ] &&
  echo "with an email (a subject): $(sqlite3 "$tmp/bench.db" 'select count(distinct subject) from quotes')"
# The server's own CPU per quote, and what the cores could serve at that
# cost: figures the machine's other load does not bend as much as requests/s.
requests=$(sed -n 's/.*RESULT requests=\([0-9]*\).*/\1/p' "$tmp/wrk.out")
awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" -v cores="$(nproc)" \
  'BEGIN { ms = t * 1000 / hz / n;
           printf "server CPU per quote: %.3f ms (ceiling on %d cores: %.0f quotes/s)\n", ms, cores, cores * 1000 / ms }'
join "$tmp/threads.before" "$tmp/threads.after" |
  awk -v hz="$(getconf CLK_TCK)" -v n="$requests" '$3 > $2 {
    printf "%s%s %.3f", sep, $1, ($3 - $2) * 1000 / hz / n; sep = ", " }
    END { print " ms per quote" }' | sed 's/^/  by thread: /'
# Where a quote's time went (Little's law: the mean time a connection waits
# for its answer is connections / quotes per second): the part spent waiting
# for the store (queued, then its commit and the flush to disk) and the rest.
echo "$store_before $store_after" | awk -v conns=$CONNS -v rps="$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' "$tmp/wrk.out")" '{
  c = $5 - $1; q = $6 - $2; t = $7 - $3; w = $8 - $4
  if (c <= 0 || q <= 0 || rps <= 0) exit
  life = conns / rps * 1000; wait = w / q * 1000
  printf "store: %d commits of %.1f quotes, %.2f ms each (flush included); a quote waited %.2f ms for it\n", c, q / c, t / c * 1000, wait
  printf "  of the %.2f ms a connection waits per quote (%d / quotes/s): store %.2f, the rest %.2f (with no wait for the store, at most %.0f quotes/s)\n", life, conns, wait, life - wait, conns / (life - wait) * 1000 }'

chmod 755 "$tmp"
mkdir -p "$tmp/www"
cp "$tmp/quote.json" "$tmp/www/quote.json"
cat >"$tmp/nginx.conf" <<NGINX
worker_processes 2;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $tmp/www;
    location / { default_type application/json; }
  }
}
NGINX
nginx -c "$tmp/nginx.conf"
sleep 0.3
echo "== nginx static file of the same size ($size bytes), $CONNS connections, ${SECS}s"
wrk -t2 -c$CONNS -d${SECS}s -s bench/get_static.lua "http://127.0.0.1:$NGINX_PORT/quote.json" | grep RESULT
