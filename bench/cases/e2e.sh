#!/usr/bin/env bash
# e2e: a search request until its hotel's row is readable in SQLite, with
# the defaults of the module and of hotel-trends: E2E_REQUESTS searches at
# 30/s (bench/e2e.py), one fresh hotel id each.  With BENCH_PAGE_MODE set,
# the same again as page records (/m/e2e-pm): the raw line says mode=page.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

need_nginxes
raw_begin e2e
say "e2e: search request -> row in SQLite, default settings, $E2E_REQUESTS requests at 30/s"

# probe MODE PATH TOPIC: one run of bench/e2e.py against a consumer of TOPIC
probe() {
    local mode=$1 path=$2 topic=$3 log=$W/consumer-e2e-$1.log db=$W/e2e-$1.db pid line
    rm -f "$db"*
    # the topic exists before the consumer subscribes
    curl -fs -o /dev/null "http://127.0.0.1:$P_MOD$path?id=warm-up"
    drain "$P_MOD" >/dev/null
    taskset -c "$LOAD_CPU" "$TRENDS" consume -b "$BENCH_BROKER" -t "$topic" \
        -g "bench-e2e-$mode-$$" -d "$db" 2>"$log" &
    pid=$!
    watch_pid "$pid"
    for _ in $(seq 300); do grep -q 'partition .*: lease' "$log" && break; sleep 0.1; done
    sleep 1
    line=$(taskset -c "$LOAD_CPU" timeout $((E2E_REQUESTS / 30 + 120)) \
           python3 "$TOP/bench/e2e.py" "$P_MOD" "$path" "$db" "$E2E_REQUESTS" 30 | grep '^E2E') ||
        die "e2e probe ($mode) failed"
    kill -TERM "$pid"
    wait "$pid" || true
    unwatch_pid "$pid"
    raw "$line rate=30 mode=$mode"
}

probe result /m/e2e bench-e2e
[[ -n ${BENCH_PAGE_MODE:-} ]] && probe page /m/e2e-pm bench-e2e-pages
raw_commit
