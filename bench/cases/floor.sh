#!/usr/bin/env bash
# floor: librdkafka's own cost per record, the floor of issue 12's goals.
#
# bench/floor (floor.c) with all its threads on the nginx core, against the
# run's broker, with the module's producer properties (its defaults, and
# BENCH_MODULE_CONF as the module gets it): FLOOR_ROUNDS (5) alternating
# runs of BENCH_FLOOR_RECORDS (1,000,000) records with and without the two
# schema headers.  Every record is counted at the broker.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

need_broker
raw_begin floor
say "floor: librdkafka alone, $FLOOR_RECORDS records x $FLOOR_ROUNDS, all threads on CPU $NGINX_CPU"

xs=()
for kv in ${BENCH_MODULE_CONF:-}; do xs+=(-X "$kv"); done

for r in $(seq "$FLOOR_ROUNDS"); do
    for h in "" -S; do
        c0=$(broker_count bench-floor)
        line=$(taskset -c "$NGINX_CPU" "$FLOOR" -b "$BENCH_BROKER" -t bench-floor \
               -n "$FLOOR_RECORDS" $h "${xs[@]}") || die "floor failed: $line"
        c1=$(broker_count bench-floor)
        raw "$line counted=$((c1 - c0 - $(kv "$line" warmup)))"
    done
done
raw_commit
