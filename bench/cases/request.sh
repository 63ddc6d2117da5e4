#!/usr/bin/env bash
# request: one record per request (hotel_kafka_log) against a second nginx
# that does not load the module, same 95-byte answer by `return`.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

need_nginxes
raw_begin request
say "request: hotel_kafka_log vs nginx without the module (${ROUNDS}x ${SECS}s each, $CONNS connections)"

q="/hotel?id=h00042&rate=129.99"
raw "params rounds=$ROUNDS seconds=$SECS conns=$CONNS answer_bytes=${#SMALL}"
compare base "http://127.0.0.1:$P_PLAIN$q" "$(worker_pid "$NG_PLAIN")" \
        log "http://127.0.0.1:$P_MOD$q" bench-request 1
raw_commit
