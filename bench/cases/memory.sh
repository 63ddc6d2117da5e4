#!/usr/bin/env bash
# memory: RSS of a fresh module worker idle, under the 20-hotel page load,
# under that load with the broker stopped, and after the broker is back
# and the queue drained.  The consumer's RSS comes from `consumer`.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

# peak RSS of PID while process WATCHED runs
peak_rss() {
    local p=0 x
    while kill -0 "$2" 2>/dev/null; do
        x=$(rss_kb "$1"); ((x > p)) && p=$x
        sleep 0.2
    done
    echo "$p"
}

need_nginxes
raw_begin memory
say "memory: worker RSS idle, under load, with the broker down, after"

# a fresh module nginx: its RSS owes nothing to earlier runs
d=$W/nginx-memory
port=$(free_port)
nginx_conf "$d" "$port" module "$P_UP"
nginx_start "$d" "$NGINX_CPU"
pid=$(worker_pid "$d")
url=http://127.0.0.1:$port/m/memory
curl -fs -o /dev/null "$url"
sleep 2
idle=$(rss_kb "$pid")

taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$SECS"s "$url" >/dev/null &
r=$!; load=$(peak_rss "$pid" "$r"); wait "$r" || true
drain "$port" >/dev/null

say "memory: stopping the broker"
broker_stop
s0=$(status "$port")
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$((SECS * 2))"s "$url" > "$W/memory-down.wrk" &
r=$!; down=$(peak_rss "$pid" "$r"); wait "$r" || true
s1=$(status "$port")

say "memory: restarting the broker"
broker_restart
dr=$(drain "$port" 90)
sleep 2
after=$(rss_kb "$pid")
s2=$(status "$port")
nginx_stop "$d"

raw "params seconds=$SECS down_seconds=$((SECS * 2)) queue_kb=65536 queue_records=100000"
raw "rss idle_kb=$idle load_kb=$load down_kb=$down after_kb=$after drain_s=$dr"
raw "down $(status_delta "$s0" "$s1")"
raw "back $(status_delta "$s0" "$s2")"
raw_commit
