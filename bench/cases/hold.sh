#!/usr/bin/env bash
# hold: the broker and the nginx instances, their ports and PIDs printed,
# kept for BENCH_HOLD seconds (300) for profiling by hand; Ctrl-C stops
# everything.  Not part of a full run.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

need_nginxes
{
    echo "broker:       $BENCH_BROKER (pid $(broker_pid))"
    echo "module nginx: http://127.0.0.1:$P_MOD (worker $(worker_pid "$NG_MOD"))"
    echo "plain nginx:  http://127.0.0.1:$P_PLAIN (worker $(worker_pid "$NG_PLAIN"))"
    echo "upstream:     http://127.0.0.1:$P_UP"
} | tee "$W/hold.txt" >&2
say "holding for ${BENCH_HOLD:-300} s (Ctrl-C stops everything)"
sleep "${BENCH_HOLD:-300}" &
watch_pid $!
wait $! || true
