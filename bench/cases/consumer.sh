#!/usr/bin/env bash
# consumer: hotel-trends into SQLite and PostgreSQL beside kcat.
#
# hk-bench produce writes CONSUMER_RECORDS records (keys from 10,000
# hotels) into a topic, with and without the schema headers; kcat reads it
# to /dev/null (the ceiling); then hotel-trends consume reads it from the
# start into SQLite and into a fresh PostgreSQL cluster, with its defaults
# and with --batch-size 1000.  Every reader on the nginx core; the sum of
# the counts must be the number of records.
#
# Page records: the same number of results as SearchPage records of 20
# (hk-bench produce -P 20, as "hotel_kafka_record page" writes them) into
# SQLite and PostgreSQL, and into PostgreSQL by two members of one group
# at once: without a key the pages of every partition hold every hotel,
# so the two update the same rows, and the figure beside the one member's
# is what that contention costs.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

PG_DIR=""

pg_as() {
    if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
    PG_DIR=$(mktemp -d /tmp/hk-bench-pg.XXXXXX)
    chmod 755 "$PG_DIR"
    [[ $(id -u) == 0 ]] && chown postgres: "$PG_DIR"
    PG_PORT=$(free_port)
    pg_as "$PGBIN/initdb" -D "$PG_DIR/data" -A trust -U postgres >"$W/pg-initdb.log" 2>&1 ||
        { cat "$W/pg-initdb.log" >&2; die "initdb failed"; }
    at_exit pg_stop
    pg_as taskset -c "$BROKER_CPU" "$PGBIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
        -o "-k $PG_DIR -p $PG_PORT -c listen_addresses=''" start >/dev/null ||
        { cat "$PG_DIR/log" >&2; die "PostgreSQL did not start"; }
}

pg_stop() {
    [[ -n $PG_DIR ]] || return 0
    [[ -f $PG_DIR/data/postmaster.pid ]] &&
        pg_as "$PGBIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1
    rm -rf "$PG_DIR"
    PG_DIR=""
}

pg_conn() { echo "host=$PG_DIR port=$PG_PORT dbname=$1 user=postgres"; }
pg_sum() {
    psql -h "$PG_DIR" -p "$PG_PORT" -U postgres -d "$1" -Atc 'SELECT sum(count) FROM hotel_rate_hourly'
}

# the results a reader of TOPIC must count
reader_records() {
    [[ $1 == bench-consumer-pages ]] && echo "$PAGE_RESULTS" || echo "$CONSUMER_RECORDS"
}

# consume NAME TOPIC DB SUM_CMD [OPTIONS...]: hotel-trends from the start
# of TOPIC until idle for 1 s; a raw line with the time it claimed its
# first partition, the time of its idle line, its peak RSS, the sum of
# the counts it stored and the results it must have counted
consume() {
    local name=$1 topic=$2 db=$3 sum=$4 log=$W/consumer-$1.log pid peak=0 r
    shift 4
    taskset -c "$NGINX_CPU" "$TRENDS" consume -b "$BENCH_BROKER" -t "$topic" \
        -g "bench-$name-$$" -d "$db" --exit-idle 1 "$@" 2>"$log" &
    pid=$!
    watch_pid "$pid"
    while kill -0 "$pid" 2>/dev/null; do
        r=$(rss_kb "$pid" 2>/dev/null) || break
        ((r > peak)) && peak=$r
        sleep 0.2
    done
    wait "$pid" || die "hotel-trends ($name) failed: $(tail -3 "$log")"
    unwatch_pid "$pid"
    raw "reader name=$name start=$(grep -m1 'partition .*: lease' "$log" | cut -c1-23)" \
        "idle=$(grep -m1 'idle for' "$log" | cut -c1-23) peak_kb=$peak sum=$(eval "$sum")" \
        "records=$(reader_records "$topic") exit_idle_s=1"
}

# consume2 NAME TOPIC DB SUM_CMD: two members of one group at once, each
# as consume() runs one; the raw line spans the first claim to the last
# idle line
consume2() {
    local name=$1 topic=$2 db=$3 sum=$4 pids=() i start idle
    for i in 1 2; do
        taskset -c "$NGINX_CPU" "$TRENDS" consume -b "$BENCH_BROKER" -t "$topic" \
            -g "bench-$name-$$" -d "$db" --exit-idle 1 2>"$W/consumer-$name-$i.log" &
        pids+=($!)
        watch_pid "$!"
    done
    for i in 0 1; do
        wait "${pids[$i]}" || die "hotel-trends ($name, member $((i + 1))) failed"
        unwatch_pid "${pids[$i]}"
    done
    start=$(cat "$W"/consumer-"$name"-[12].log | grep 'partition .*: lease' |
            cut -c1-23 | sort | head -1)
    idle=$(cat "$W"/consumer-"$name"-[12].log | grep 'idle for' |
           cut -c1-23 | sort | tail -1)
    raw "reader name=$name start=$start idle=$idle peak_kb=0 sum=$(eval "$sum")" \
        "records=$(reader_records "$topic") exit_idle_s=1"
}

# produce TOPIC N [hk-bench options]: N results, as many records or, with
# -P 20, a twentieth as many pages of 20
produce() {
    local topic=$1 n=$2 line want=$2
    shift 2
    [[ " $* " == *" -P 20 "* ]] && want=$((n / 20))
    line=$(taskset -c "$LOAD_CPU" "$HKB" produce -b "$BENCH_BROKER" -t "$topic" \
           -n "$n" -H 10000 -X linger.ms=20 "$@")
    [[ $(broker_count "$topic") == "$want" ]] ||
        die "$topic holds $(broker_count "$topic") records, not $want (start from a fresh broker)"
    echo "$line"
}

need_broker
raw_begin consumer
say "consumer: $CONSUMER_RECORDS records (10,000 hotels) into SQLite and PostgreSQL, kcat beside"
raw "params records=$CONSUMER_RECORDS cpu=$NGINX_CPU"

raw "produce $(produce bench-consumer "$CONSUMER_RECORDS")"
# the same records without the schema headers (hotel_kafka_schema_headers off)
produce bench-consumer-bare "$CONSUMER_RECORDS" -S >/dev/null
# PAGE_RESULTS results in page records of 20
raw "produce-pages $(produce bench-consumer-pages "$PAGE_RESULTS" -P 20)"

# the ceiling: kcat reading the same topic to /dev/null
t0=$(now)
taskset -c "$NGINX_CPU" kcat -C -b "$BENCH_BROKER" -t bench-consumer -o beginning -e -q \
    -f '%o\n' > "$W/kcat.out"
t1=$(now)
n=$(wc -l < "$W/kcat.out")
[[ $n == "$CONSUMER_RECORDS" ]] || die "kcat read $n records"
raw "kcat records=$n seconds=$(bc -l <<<"$t1 - $t0")"

rm -f "$W"/trends*.db*
consume sqlite bench-consumer "$W/trends.db" \
    "sqlite3 $W/trends.db 'SELECT sum(count) FROM hotel_rate_hourly'"
raw "hotels n=$(sqlite3 "$W/trends.db" 'SELECT count(DISTINCT hotel_id) FROM hotel_rate_hourly')"
consume sqlite-small bench-consumer "$W/trends-small.db" \
    "sqlite3 $W/trends-small.db 'SELECT sum(count) FROM hotel_rate_hourly'" --batch-size 1000
consume sqlite-bare bench-consumer-bare "$W/trends-bare.db" \
    "sqlite3 $W/trends-bare.db 'SELECT sum(count) FROM hotel_rate_hourly'"
# three times: runs of this one, of a million results then, moved from
# 0.8 to 2.0 M results/s minutes apart; the report takes the median
for i in 1 2 3; do
    consume sqlite-pages-$i bench-consumer-pages "$W/trends-pages-$i.db" \
        "sqlite3 $W/trends-pages-$i.db 'SELECT sum(count) FROM hotel_rate_hourly'"
done

pg_start
consume pg bench-consumer "$(pg_conn postgres)" "pg_sum postgres"
psql -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres -qAtc 'CREATE DATABASE small' >/dev/null
consume pg-small bench-consumer "$(pg_conn small)" "pg_sum small" --batch-size 1000
for d in pages pages2; do
    psql -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres -qAtc "CREATE DATABASE $d" >/dev/null
done
consume pg-pages bench-consumer-pages "$(pg_conn pages)" "pg_sum pages"
consume2 pg-pages-two bench-consumer-pages "$(pg_conn pages2)" "pg_sum pages2"
pg_stop
raw_commit
