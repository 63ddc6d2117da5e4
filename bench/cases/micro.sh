#!/usr/bin/env bash
# micro: the body filter's work per result without HTTP.
#
# hk-bench micro on the nginx core: per 20-hotel page an extractor is
# created, fed, finished and destroyed; each result is encoded and handed
# to rd_kafka_producev (F_COPY, the module's producer defaults), with and
# without the schema headers, ROUNDS alternating runs of 20,000 pages.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

need_broker
need_pages
raw_begin micro
say "micro: parse + encode + enqueue per result, 20-hotel page (CPU $NGINX_CPU)"

for r in $(seq "$ROUNDS"); do
    for h in "" -S; do
        line=$(taskset -c "$NGINX_CPU" "$HKB" micro $h -b "$BENCH_BROKER" -t bench-micro \
               -f "$W/page20.json" -n 20000)
        raw "micro headers=$([[ -z $h ]] && echo 1 || echo 0) $line"
    done
done
raw_commit
