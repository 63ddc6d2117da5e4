# The load (wrk on LOAD_CPU), CPU accounting, and the alternating
# comparison of a baseline with the module.  Sourced by common.sh.

# wrk_run URL SECONDS CONNS: prints wrk-report.lua's WRK line
wrk_run() {
    taskset -c "$LOAD_CPU" wrk -t1 -c"$3" -d"$2"s --timeout 10s \
        -s "$TOP/bench/wrk-report.lua" "$1" | grep '^WRK' || die "wrk failed on $1"
}

# CPU ticks (CLK_TCK a second) of a process, all its threads (utime +
# stime of /proc/PID/stat, which includes threads that have exited)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# of that, in user mode (utime): the process's own code and its libraries,
# without the kernel's work for it, which swings with the load's timing
user_ticks() { awk '{print $14}' "/proc/$1/stat"; }

# of its main thread only: for an nginx worker, the event loop
main_ticks() { awk '{print $14 + $15}' "/proc/$1/task/$1/stat"; }

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# measure CASE URL PID [CONNS]: one wrk run against the worker PID; a raw
# line "run case=CASE <wrk's figures> worker_ticks= worker_uticks=
# main_ticks= broker_ticks= wall_s= tick_hz="
measure() {
    local case=$1 url=$2 pid=$3 conns=${4:-$CONNS} kp line
    local c0 c1 u0 u1 m0 m1 k0 k1 t0 t1
    kp=$(broker_pid)
    c0=$(cpu_ticks "$pid"); u0=$(user_ticks "$pid"); m0=$(main_ticks "$pid")
    k0=$(cpu_ticks "$kp"); t0=$(now)
    line=$(wrk_run "$url" "$SECS" "$conns")
    c1=$(cpu_ticks "$pid"); u1=$(user_ticks "$pid"); m1=$(main_ticks "$pid")
    k1=$(cpu_ticks "$kp"); t1=$(now)
    raw "run case=$case ${line#WRK } worker_ticks=$((c1 - c0))" \
        "worker_uticks=$((u1 - u0))" \
        "main_ticks=$((m1 - m0)) broker_ticks=$((k1 - k0))" \
        "wall_s=$(bc -l <<<"$t1 - $t0") tick_hz=$TICK"
}

# compare BASE BASE_URL BASE_PID MOD MOD_URL TOPIC RECORDS_PER_REQUEST
#
# ROUNDS alternating runs of the baseline and the module, after a 1 s
# warm-up of each, so that a burst of other work on the machine hits both
# sides.  The module's records are counted at the broker over all its
# runs, its queue drained after each: a raw line "records case=MOD
# counted= per_request= <status counters moved>".
compare() {
    local base=$1 bu=$2 bp=$3 mod=$4 mu=$5 topic=$6 k=$7 mp c0 c1 s0 s1 r
    mp=$(worker_pid "$NG_MOD")
    wrk_run "$bu" 1 "$CONNS" >/dev/null
    wrk_run "$mu" 1 "$CONNS" >/dev/null
    drain "$P_MOD" >/dev/null
    c0=$(broker_count "$topic"); s0=$(status "$P_MOD")
    for r in $(seq "$ROUNDS"); do
        measure "$base" "$bu" "$bp"
        measure "$mod" "$mu" "$mp"
        drain "$P_MOD" >/dev/null
    done
    c1=$(broker_count "$topic"); s1=$(status "$P_MOD")
    raw "records case=$mod counted=$((c1 - c0)) per_request=$k" \
        "$(status_delta "$s0" "$s1")"
}
