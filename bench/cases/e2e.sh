#!/usr/bin/env bash
# e2e: a search request until its hotel's row is readable in SQLite, with
# the defaults of the module and of hotel-trends: E2E_REQUESTS searches at
# 30/s (bench/e2e.py), one fresh hotel id each.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

need_nginxes
raw_begin e2e
say "e2e: search request -> row in SQLite, default settings, $E2E_REQUESTS requests at 30/s"

log=$W/consumer-e2e.log
rm -f "$W/e2e.db"*
# the topic exists before the consumer subscribes
curl -fs -o /dev/null "http://127.0.0.1:$P_MOD/m/e2e?id=warm-up"
drain "$P_MOD" >/dev/null
taskset -c "$LOAD_CPU" "$TRENDS" consume -b "$BENCH_BROKER" -t bench-e2e -g "bench-e2e-$$" \
    -d "$W/e2e.db" 2>"$log" &
pid=$!
watch_pid "$pid"
for _ in $(seq 300); do grep -q 'partition .*: lease' "$log" && break; sleep 0.1; done
sleep 1
line=$(taskset -c "$LOAD_CPU" timeout $((E2E_REQUESTS / 30 + 120)) \
       python3 "$TOP/bench/e2e.py" "$P_MOD" /m/e2e "$W/e2e.db" "$E2E_REQUESTS" 30 | grep '^E2E') ||
    die "e2e probe failed"
kill -TERM "$pid"
wait "$pid" || true
unwatch_pid "$pid"
raw "$line rate=30"
raw_commit
