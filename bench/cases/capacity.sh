#!/usr/bin/env bash
# capacity: records per second one worker delivers, counted at the broker.
#
# Pages of 20, 100 and 400 hotels as fast as wrk asks, ROUNDS runs of each;
# after each run the worker's queue is drained, and "delivered/s" is the
# broker's count over the load time plus the drain time.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

need_nginxes
raw_begin capacity
say "capacity: records/s one worker delivers, pages of 20, 100, 400 hotels"

raw "params rounds=$ROUNDS seconds=$SECS page20_bytes=$(wc -c < "$W/page20.json")"
for spec in "20 /m/capacity20 16" "100 /m/cap100 16" "400 /m/cap400 16" "400 /m/cap400 64"; do
    read -r k path conns <<<"$spec"
    for r in $(seq "$ROUNDS"); do
        drain "$P_MOD" >/dev/null
        c0=$(broker_count bench-capacity); s0=$(status "$P_MOD")
        t0=$(now)
        line=$(wrk_run "http://127.0.0.1:$P_MOD$path" "$SECS" "$conns")
        t1=$(now)
        d=$(drain "$P_MOD" 60)
        c1=$(broker_count bench-capacity); s1=$(status "$P_MOD")
        raw "run hotels=$k conns=$conns ${line#WRK } load_s=$(bc -l <<<"$t1 - $t0")" \
            "drain_s=$d counted=$((c1 - c0)) $(status_delta "$s0" "$s1")"
    done
done
raw_commit
