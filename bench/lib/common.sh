# Sourced by bench/run and by every benchmark in bench/cases/: where things
# are, the knobs, pinning, and the bookkeeping that stops by PID whatever a
# script started.  The helpers for the broker, nginx and the load follow
# in broker.sh, nginx.sh and load.sh, sourced at the end.
#
# A benchmark run by bench/run finds the broker and the nginx instances in
# the environment (BENCH_BROKER, BENCH_P_MOD, ...: exported by the driver,
# which owns and stops them).  Run on its own, a benchmark starts what it
# needs and stops it when it exits.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
W=${BENCH_WORK:-$TOP/build/bench/run}      # scratch and logs
RES=${BENCH_RESULTS:-$TOP/bench/results}   # raw figures and the report

SECS=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-16}
FLOOR_ROUNDS=${BENCH_FLOOR_ROUNDS:-5}
FLOOR_RECORDS=${BENCH_FLOOR_RECORDS:-1000000}
CONSUMER_RECORDS=${BENCH_CONSUMER_RECORDS:-1000000}
# results in page records: read at 2 M/s, a million took half a second, as
# long as the start-up and the idle check's slack, and runs of the same
# code measured 1.07 and 2.0 M/s
PAGE_RESULTS=${BENCH_PAGE_RESULTS:-$((CONSUMER_RECORDS * 5))}
E2E_REQUESTS=${BENCH_E2E_REQUESTS:-300}
SCHEMA_HEADERS=${BENCH_SCHEMA_HEADERS:-off}

NGINX=/usr/sbin/nginx
MODULE=$TOP/build/ngx_http_hotel_kafka_module.so
HKB=$TOP/build/bench/hk-bench
FLOOR=$TOP/build/bench/floor
TRENDS=$TOP/build/hotel-trends
PGBIN=/usr/lib/postgresql/15/bin
TICK=$(getconf CLK_TCK)

# Two cores: the nginx worker (and its librdkafka threads) alone on one;
# wrk, the upstream, the broker and PostgreSQL on the other.  With three
# or more, the broker gets its own.  BENCH_PIN=worker pins only the
# worker's event-loop thread and lets librdkafka's threads run anywhere.
PIN_THREADS=${BENCH_PIN:-process}
NGINX_CPU=1
LOAD_CPU=0
BROKER_CPU=0
if (($(nproc) >= 3)); then BROKER_CPU=2; fi

say() { printf '== %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- what this script started, stopped at its exit ------------------------

_PIDS=()       # background processes, killed by PID
_AT_EXIT=()    # commands, run last-registered first

watch_pid() { _PIDS+=("$1"); }

# a process waited for leaves the list, so the cleanup never signals a PID
# the system may have handed to someone else since
unwatch_pid() {
    local p keep=()
    for p in "${_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    _PIDS=("${keep[@]}")
}

at_exit() { _AT_EXIT+=("$*"); }

_cleanup() {
    local i pid
    set +e
    for pid in "${_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for ((i = ${#_AT_EXIT[@]} - 1; i >= 0; i--)); do
        eval "${_AT_EXIT[i]}"
    done
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

# ---- raw figures ---------------------------------------------------------

# A benchmark writes its figures as lines of "kind name=value ..." to
# $W/NAME.raw, and moves the file to $RES when it has finished: a run that
# fails half-way leaves the previous figures in place.  bench/report
# makes the tables from them.
# The first line names the run (BENCH_RUN_ID, set by bench/run), so that
# the report can tell figures of one run from those of another.
raw_begin() {
    mkdir -p "$W" "$RES"
    RAW=$W/$1.raw
    printf 'meta run=%s at=%s\n' "${BENCH_RUN_ID:-alone-$$}" \
        "$(date -u +%Y-%m-%dT%H:%MZ)" > "$RAW"
}
raw() { printf '%s\n' "$*" >> "$RAW"; }
raw_commit() { mv -f "$RAW" "$RES/$(basename "$RAW")"; }

# "name=value" out of a line of them
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }

now() { date +%s.%N; }

# ---- the result pages ------------------------------------------------------

# 20, 100 and 400 hotels (bench/mkpage), made once per run
need_pages() {
    mkdir -p "$W"
    local n
    for n in 20 100 400; do
        [[ -s $W/page$n.json ]] || "$TOP/bench/mkpage" "$n" > "$W/page$n.json"
    done
}

. "$TOP/bench/lib/broker.sh"
. "$TOP/bench/lib/nginx.sh"
. "$TOP/bench/lib/load.sh"
