# The Kafka broker of a run (scripts/kafka, one KRaft node on a free
# port, pinned to BROKER_CPU), and records counted at it.  Sourced by
# common.sh.

KAFKA_DIR=${BENCH_KAFKA_DIR:-$W/kafka}

# the run's broker: the one in BENCH_BROKER, or a new one stopped at exit
need_broker() {
    [[ -n ${BENCH_BROKER:-} ]] && return 0
    mkdir -p "$W"
    say "starting the Kafka broker (pinned to CPU $BROKER_CPU)"
    BENCH_BROKER=$(taskset -c "$BROKER_CPU" "$TOP/scripts/kafka" start "$KAFKA_DIR" \
                   2>"$W/kafka.log") ||
        { cat "$W/kafka.log" >&2; die "broker did not start"; }
    BENCH_KAFKA_DIR=$KAFKA_DIR
    export BENCH_BROKER BENCH_KAFKA_DIR
    at_exit broker_stop
}

broker_stop() { "$TOP/scripts/kafka" stop "$KAFKA_DIR" 2>>"$W/kafka.log"; }

# the memory benchmark takes the broker away and brings it back
broker_restart() {
    taskset -c "$BROKER_CPU" "$TOP/scripts/kafka" restart-node "$KAFKA_DIR" 1 \
        2>>"$W/kafka.log"
}

broker_pid() { cat "$KAFKA_DIR/node1/pid"; }

# records of a topic at the broker: the sum over its partitions of high
# minus low watermark (an idempotent, non-transactional producer writes no
# control records, so offsets are records)
broker_count() {
    "$HKB" count -b "$BENCH_BROKER" -t "$1" | sed -n 's/^records=\([0-9]*\).*/\1/p'
}
