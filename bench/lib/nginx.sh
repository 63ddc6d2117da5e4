# nginx for the benchmarks: Debian's binary, one worker, pinned; three
# instances on free ports.  Sourced by common.sh.
#
#   plain     does not load the module: the baseline of hotel_kafka_log
#   upstream  does not load the module: the search backend behind
#             proxy_pass, on the load core
#   module    loads the module; its locations without the module's
#             directives (/page-plain, /proxy-plain) are the baselines of
#             the result pages, in the same worker
#
# Why this is not t/lib/HotelNginx.pm or scripts/demo's: see "One nginx
# launcher per purpose" in bench/README.md.
#
# Knobs that change the module's configuration:
#   BENCH_SCHEMA_HEADERS   hotel_kafka_schema_headers (off, the default)
#   BENCH_MODULE_CONF      "name=value ...": hotel_kafka_conf lines
#   BENCH_NGINX_EXTRA      lines added to the /m/ location, where every
#                          result-page location of the module lives
#   BENCH_PAGE_MODE        lines that select one record per page (issue
#                          13, e.g. "hotel_kafka_record page;"): when set,
#                          /m/page-pm and /m/proxy-pm carry them and the
#                          search benchmark measures them too

SMALL='{"hotel_id":"h00042","name":"Casa Aurora","stars":4,"price":{"amount":129.99,"currency":"EUR"}}'

# nginx_conf DIR PORT KIND(plain|upstream|module) [UPSTREAM_PORT]
nginx_conf() {
    local d=$1 port=$2 kind=$3 up=${4:-} page kv
    page=$(cat "$W/page20.json")
    mkdir -p "$d/conf" "$d/logs"
    {
        [[ $kind == module ]] && echo "load_module $MODULE;"
        echo "worker_processes 1;"
        echo "error_log logs/error.log warn;"
        echo "pid logs/nginx.pid;"
        echo "events { worker_connections 4096; }"
        echo "http {"
        echo "    access_log off;"
        echo "    default_type application/json;"
        echo "    keepalive_requests 1000000;"
        if [[ $kind == module ]]; then
            echo "    hotel_kafka_brokers $BENCH_BROKER;"
            echo "    hotel_kafka_schema_headers $SCHEMA_HEADERS;"
            for kv in ${BENCH_MODULE_CONF:-}; do
                echo "    hotel_kafka_conf ${kv%%=*} ${kv#*=};"
            done
            echo "    upstream search_backend { server 127.0.0.1:$up; keepalive 32; }"
        fi
        echo "    server {"
        echo "        listen 127.0.0.1:$port backlog=4096;"
        echo "        location = /stub { stub_status; }"
        echo "        location = /page-plain { return 200 '$page'; }"
        if [[ $kind == module ]]; then
            module_locations "$page"
        else
            echo "        location = /hotel { return 200 '$SMALL'; }"
        fi
        echo "    }"
        echo "}"
    } > "$d/conf/nginx.conf"
}

# the module instance's locations, beside the baselines
module_locations() {
    local page=$1
    cat <<EOF
        location = /hotel {
            return 200 '$SMALL';
            hotel_kafka_log id=\$arg_id rate=\$arg_rate currency=EUR topic=bench-request;
        }
        location = /proxy-plain {
            proxy_pass http://search_backend/page-plain;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location = /kafka-status { hotel_kafka_status; }
        location /m/ {
            hotel_kafka_json_rate     price.amount;
            hotel_kafka_json_currency price.currency;
            hotel_kafka_search_results on;
            hotel_kafka_topic bench-search;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            ${BENCH_NGINX_EXTRA:-}

            location = /m/page { return 200 '$page'; }
            location = /m/proxy { proxy_pass http://search_backend/page-plain; }
            location = /m/cap100 { alias $W/page100.json; hotel_kafka_topic bench-capacity; }
            location = /m/cap400 { alias $W/page400.json; hotel_kafka_topic bench-capacity; }
            location = /m/capacity20 { return 200 '$page'; hotel_kafka_topic bench-capacity; }
            location = /m/memory { return 200 '$page'; hotel_kafka_topic bench-memory; }
            location = /m/e2e {
                return 200 '{"results":[{"hotel_id":"\$arg_id","price":{"amount":100.25,"currency":"EUR"}}]}';
                hotel_kafka_topic bench-e2e;
            }
EOF
    if [[ -n ${BENCH_PAGE_MODE:-} ]]; then
        cat <<EOF
            location = /m/page-pm {
                return 200 '$page';
                hotel_kafka_topic bench-search-page;
                $BENCH_PAGE_MODE
            }
            location = /m/proxy-pm {
                proxy_pass http://search_backend/page-plain;
                hotel_kafka_topic bench-search-page;
                $BENCH_PAGE_MODE
            }
            location = /m/e2e-pm {
                return 200 '{"results":[{"hotel_id":"\$arg_id","price":{"amount":100.25,"currency":"EUR"}}]}';
                hotel_kafka_topic bench-e2e-pages;
                $BENCH_PAGE_MODE
            }
EOF
    fi
    echo "        }"
}

# nginx_start DIR CPU: started (master and worker on CPU), answering
nginx_start() {
    local d=$1 cpu=$2 port
    port=$(sed -n 's/.*listen 127.0.0.1:\([0-9]*\).*/\1/p' "$d/conf/nginx.conf")
    "$NGINX" -t -q -p "$d/" -c conf/nginx.conf -e "$d/logs/error.log" ||
        die "nginx -t failed for $d/conf/nginx.conf"
    if [[ $PIN_THREADS == worker ]]; then
        "$NGINX" -p "$d/" -c conf/nginx.conf -e "$d/logs/error.log"
    else
        # librdkafka's threads are the worker's: they inherit its CPU
        taskset -c "$cpu" "$NGINX" -p "$d/" -c conf/nginx.conf -e "$d/logs/error.log"
    fi
    at_exit nginx_stop "$d"
    for _ in $(seq 100); do
        if curl -fs -o /dev/null "http://127.0.0.1:$port/stub"; then
            # only the event loop on $cpu; librdkafka's threads, made at
            # the worker's start, keep the whole machine
            [[ $PIN_THREADS == worker ]] && taskset -pc "$cpu" "$(worker_pid "$d")" >/dev/null
            return 0
        fi
        sleep 0.1
    done
    die "nginx in $d did not answer"
}

nginx_stop() {
    local d=$1 pid
    pid=$(cat "$d/logs/nginx.pid" 2>/dev/null) || return 0
    kill -QUIT "$pid" 2>/dev/null || return 0
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -TERM "$pid" 2>/dev/null || true
}

worker_pid() { pgrep -P "$(cat "$1/logs/nginx.pid")" | head -1; }

# The run's three instances: those in the environment, or new ones
# stopped at exit.  Sets NG_* (directories) and P_* (ports).
need_nginxes() {
    need_broker
    need_pages
    if [[ -z ${BENCH_P_MOD:-} ]]; then
        BENCH_NG_PLAIN=$W/nginx-plain; BENCH_NG_UP=$W/nginx-upstream
        BENCH_NG_MOD=$W/nginx-module
        BENCH_P_PLAIN=$(free_port); BENCH_P_UP=$(free_port); BENCH_P_MOD=$(free_port)
        nginx_conf "$BENCH_NG_UP" "$BENCH_P_UP" upstream
        nginx_conf "$BENCH_NG_PLAIN" "$BENCH_P_PLAIN" plain
        nginx_conf "$BENCH_NG_MOD" "$BENCH_P_MOD" module "$BENCH_P_UP"
        nginx_start "$BENCH_NG_UP" "$LOAD_CPU"
        nginx_start "$BENCH_NG_PLAIN" "$NGINX_CPU"
        nginx_start "$BENCH_NG_MOD" "$NGINX_CPU"
        export BENCH_NG_PLAIN BENCH_NG_UP BENCH_NG_MOD BENCH_P_PLAIN BENCH_P_UP BENCH_P_MOD
        # the module's topics exist before any clock runs
        curl -fs -o /dev/null "http://127.0.0.1:$BENCH_P_MOD/hotel?id=h00001&rate=1.5"
        curl -fs -o /dev/null "http://127.0.0.1:$BENCH_P_MOD/m/page"
        curl -fs -o /dev/null "http://127.0.0.1:$BENCH_P_MOD/m/capacity20"
        [[ -n ${BENCH_PAGE_MODE:-} ]] &&
            curl -fs -o /dev/null "http://127.0.0.1:$BENCH_P_MOD/m/page-pm"
        drain "$BENCH_P_MOD" 30 >/dev/null
    fi
    NG_PLAIN=$BENCH_NG_PLAIN; NG_UP=$BENCH_NG_UP; NG_MOD=$BENCH_NG_MOD
    P_PLAIN=$BENCH_P_PLAIN; P_UP=$BENCH_P_UP; P_MOD=$BENCH_P_MOD
}

# ---- the module's counters (/kafka-status) ---------------------------------

status() { curl -fs "http://127.0.0.1:$1/kafka-status"; }

# wait until the module's queue is empty (produced = delivered + failed);
# prints the seconds it took
drain() {
    local port=$1 max=${2:-60} t0 s
    t0=$(now)
    for _ in $(seq $((max * 10))); do
        s=$(status "$port")
        if jq -e '.produced == .delivered + .failed
                  and ([.workers[].queue_depth] | add) == 0' <<<"$s" >/dev/null; then
            LC_ALL=C printf '%.2f\n' "$(bc -l <<<"$(now) - $t0")"
            return 0
        fi
        sleep 0.1
    done
    say "queue not drained after $max s"
    echo "$max"
}

# counters moved between two status documents, as name=value pairs
status_delta() {
    jq -rn --argjson a "$1" --argjson b "$2" '
        "produced=\($b.produced - $a.produced) delivered=\($b.delivered - $a.delivered)"
        + " failed=\($b.failed - $a.failed)"
        + " dropped=\(([$b.dropped[]] | add) - ([$a.dropped[]] | add))"
        + " skipped=\(([$b.skipped[]] | add) - ([$a.skipped[]] | add))"
        + " depth=\([$b.workers[].queue_depth] | add)"'
}
