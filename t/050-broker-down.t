# Faults on the Kafka side, as blocks: nginx starts and serves with the
# broker down (a closed port), records wait in the bounded queue, are
# counted, and are purged and logged at exit; when the queue is full they
# are dropped and counted, with a rate-limited log line.
# t/051-broker-outage.t drives the scenarios that need counters read after
# a pause, a reload between requests, or a broker killed and restarted.

use Test::Nginx::Socket 'no_plan';
use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use HotelBlocks;
use HotelNginx qw(dead_port);

# nobody listens there: every connection attempt is refused at once
$ENV{TEST_NGINX_DEAD_PORT} = dead_port();

repeat_each(1);
no_shuffle();
log_level('info');
# error_log_count (t/lib/HotelBlocks.pm)
add_response_body_check(\&check_block_sections);

run_tests();

__DATA__

=== TEST 1: broker down: nginx starts, pages pass unchanged, records wait; purged and logged at exit
--- http_config
    hotel_kafka_brokers 127.0.0.1:$TEST_NGINX_DEAD_PORT;
    hotel_kafka_conf message.timeout.ms 60000;
    hotel_kafka_flush_timeout 500ms;
--- config
    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-down-block;
        default_type application/json;
        return 200 '{"results":[{"hotel_id":"$arg_q-0","rate":10,"currency":"EUR"},{"hotel_id":"$arg_q-1","rate":20,"currency":"EUR"}]}';
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
["GET /search?q=a", "GET /search?q=b", "GET /search?q=c", "GET /status"]
--- response_body_like eval
[qr/^\Q{"results":[{"hotel_id":"a-0","rate":10,"currency":"EUR"},{"hotel_id":"a-1","rate":20,"currency":"EUR"}]}\E$/,
 qr/^\Q{"results":[{"hotel_id":"b-0","rate":10,"currency":"EUR"},{"hotel_id":"b-1","rate":20,"currency":"EUR"}]}\E$/,
 qr/^\Q{"results":[{"hotel_id":"c-0","rate":10,"currency":"EUR"},{"hotel_id":"c-1","rate":20,"currency":"EUR"}]}\E$/,
 qr/^\{"produced":6,"delivered":0,"failed":0,.*"pages":3,/s]
--- shutdown_error_log
hotel kafka: 6 records not delivered within hotel_kafka_flush_timeout 500 ms, purged and counted as failed
--- no_shutdown_error_log
[alert]
[emerg]
exited on signal



=== TEST 2: queue full: records dropped and counted, requests still 200, a rate-limited log line
--- http_config
    hotel_kafka_brokers 127.0.0.1:$TEST_NGINX_DEAD_PORT;
    hotel_kafka_conf queue.buffering.max.messages 5;
    hotel_kafka_conf message.timeout.ms 60000;
    hotel_kafka_flush_timeout 500ms;
--- config
    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-full-block;
        default_type application/json;
        return 200 '{"results":[{"hotel_id":"h1","rate":1,"currency":"EUR"},{"hotel_id":"h2","rate":2,"currency":"EUR"},{"hotel_id":"h3","rate":3,"currency":"EUR"},{"hotel_id":"h4","rate":4,"currency":"EUR"},{"hotel_id":"h5","rate":5,"currency":"EUR"}]}';
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
[("GET /search") x 20, "GET /status"]
--- error_code eval
[(200) x 21]
--- response_body_like eval
[(qr/^\{"results":\[\{"hotel_id":"h1".*"h5".*\]\}$/) x 20,
 qr/^\{"produced":5,"delivered":0,"failed":0,"delivered_bytes":0,"dropped":\{"queue_full":95,"too_large":0,"no_producer":0,"other":0\}/]
--- error_log_count
hotel kafka: records dropped (queue_full): Local: Queue full => 1..2
--- shutdown_error_log
hotel kafka: 5 records not delivered within hotel_kafka_flush_timeout 500 ms, purged and counted as failed
--- no_shutdown_error_log
[alert]
[emerg]
exited on signal
