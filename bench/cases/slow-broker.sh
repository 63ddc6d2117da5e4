#!/usr/bin/env bash
# slow-broker: the 20-hotel page load against a broker that answers
# slowly, beside the same load against the broker as it is, in the same
# run.  The slowness is a produce quota on the module's client id
# (scripts/kafka throttle: producer_byte_rate, BENCH_SLOW_RATE bytes/s,
# 65536 by default), far below what the load offers, so that the queue
# fills to its bound (the module's defaults: 100,000 records) and the
# rest is dropped.  Rounds alternate (BENCH_ROUNDS): a run unthrottled,
# the queue drained; the quota set, a run, the quota lifted, the queue
# drained.  What it shows: requests keep their latency (wrk's p99, both
# cases), the drops are counted by reason and logged at most once in a
# 10 s window, the worker's memory stays within the bound, and every
# record that found room in the queue is delivered once the throttle ends
# (nothing failed).  The correctness of it is t/058-slow-broker.t's.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

RATE=${BENCH_SLOW_RATE:-65536}
CLIENT=nginx-hotel-kafka

# peak RSS of PID while process WATCHED runs
peak_rss() {
    local p=0 x
    while kill -0 "$2" 2>/dev/null; do
        x=$(rss_kb "$1"); ((x > p)) && p=$x
        sleep 0.2
    done
    echo "$p"
}

throttle() { "$TOP/scripts/kafka" throttle "$BENCH_KAFKA_DIR" "$CLIENT" "$1" 2>>"$W/kafka.log"; }

need_nginxes
raw_begin slow-broker
say "slow-broker: the page load, unthrottled and with a $RATE B/s produce quota"
at_exit throttle off

# a module nginx of its own: its memory owes nothing to earlier runs
d=$W/nginx-slow
port=$(free_port)
nginx_conf "$d" "$port" module "$P_UP"
nginx_start "$d" "$NGINX_CPU"
pid=$(worker_pid "$d")
url=http://127.0.0.1:$port/m/page
curl -fs -o /dev/null "$url"
drain "$port" 30 >/dev/null
sleep 1
idle=$(rss_kb "$pid")
raw "params seconds=$SECS rounds=$ROUNDS conns=$CONNS rate=$RATE queue_records=100000 idle_kb=$idle"

lines() { grep -c 'records dropped (queue_full)' "$d/logs/error.log" || true; }

for r in $(seq "$ROUNDS"); do
    # the broker as it is
    wrk_run "$url" 1 "$CONNS" >/dev/null
    drain "$port" 60 >/dev/null
    s0=$(status "$port")
    line=$(wrk_run "$url" "$SECS" "$CONNS")
    dr=$(drain "$port" 60)
    raw "run case=fast round=$r ${line#WRK } drain_s=$dr $(status_delta "$s0" "$(status "$port")")"

    # slow: the quota, a run, the quota lifted, the queue drained
    throttle "$RATE"
    sleep 1
    s0=$(status "$port"); l0=$(lines)
    out=$W/slow-$r.wrk
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$SECS"s --timeout 10s \
        -s "$TOP/bench/wrk-report.lua" "$url" > "$out" &
    w=$!; watch_pid "$w"
    peak=$(peak_rss "$pid" "$w"); wait "$w" || true; unwatch_pid "$w"
    s1=$(status "$port"); l1=$(lines)
    qf=$(($(jq '.dropped.queue_full' <<<"$s1") - $(jq '.dropped.queue_full' <<<"$s0")))
    line=$(grep '^WRK' "$out") || die "wrk failed on $url"
    throttle off
    dr=$(drain "$port" 90)
    s2=$(status "$port")
    raw "run case=slow round=$r ${line#WRK } peak_kb=$peak log_lines=$((l1 - l0)) queue_full=$qf drain_s=$dr queued_at_end=$(jq '[.workers[].queue_depth] | add' <<<"$s1")"
    raw "during round=$r $(status_delta "$s0" "$s1")"
    raw "after round=$r $(status_delta "$s0" "$s2")"
done

nginx_stop "$d"
raw_commit
