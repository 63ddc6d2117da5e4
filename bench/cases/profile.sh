#!/usr/bin/env bash
# profile: perf record of the module's worker under load on
# BENCH_PROFILE_PATH (/m/page): self time by thread and library, and the
# top 30 functions.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

need_nginxes
command -v perf >/dev/null || die "perf is not installed (scripts/deps installs linux-perf)"
path=${BENCH_PROFILE_PATH:-/m/page}
raw_begin profile
say "profile: perf record of the worker under load on $path"

mp=$(worker_pid "$NG_MOD")
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$((SECS + 1))"s "http://127.0.0.1:$P_MOD$path" >/dev/null &
r=$!
watch_pid "$r"
sleep 0.5
perf record -q -g -p "$mp" -o "$W/perf.data" -- sleep "$SECS" 2>/dev/null
wait "$r" || true
unwatch_pid "$r"

raw "params path=$path seconds=$SECS"
perf report -i "$W/perf.data" --no-children --sort comm,dso --stdio -g none 2>/dev/null |
    grep -E '^ +[0-9.]+%' | head -12 | sed 's/^/threads /' >> "$RAW" || true
perf report -i "$W/perf.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null |
    grep -E '^ +[0-9.]+%' | head -30 | sed 's/^/functions /' >> "$RAW" || true
drain "$P_MOD" >/dev/null
raw_commit
