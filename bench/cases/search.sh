#!/usr/bin/env bash
# search: a 20-hotel result page with hotel_kafka_search_results on, by
# `return` and through proxy_pass from the upstream nginx, against the same
# locations of the same worker without the module's directives.  With
# BENCH_PAGE_MODE set, the page-mode locations too (one record per page,
# BENCH_PAGE_MODE_RECORDS of them, 1 by default).
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

need_nginxes
raw_begin search
say "search: 20-hotel page by return and via proxy_pass, with and without the module"

mp=$(worker_pid "$NG_MOD")
u=http://127.0.0.1:$P_MOD
raw "params rounds=$ROUNDS seconds=$SECS conns=$CONNS page_bytes=$(wc -c < "$W/page20.json") results=20"
compare ret.base "$u/page-plain" "$mp" ret.mod "$u/m/page" bench-search 20
compare px.base "$u/proxy-plain" "$mp" px.mod "$u/m/proxy" bench-search 20
if [[ -n ${BENCH_PAGE_MODE:-} ]]; then
    k=${BENCH_PAGE_MODE_RECORDS:-1}
    compare ret.base.pm "$u/page-plain" "$mp" ret.page "$u/m/page-pm" bench-search-page "$k"
    compare px.base.pm "$u/proxy-plain" "$mp" px.page "$u/m/proxy-pm" bench-search-page "$k"
fi
raw_commit
