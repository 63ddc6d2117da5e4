# The body filter: records read back from the broker and decoded by protoc,
# compared field by field with what the page showed; the client's response
# untouched; only configured statuses; counters for what was skipped.

use Test::Nginx::Socket 'no_plan';
use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use HotelBlocks;

repeat_each(1);
no_shuffle();
log_level('info');
# kafka_*, block_error_log (t/lib/HotelBlocks.pm)
add_response_body_check(\&check_block_sections);

run_tests();

__DATA__

=== TEST 1: one record per hotel of a page, every field, with the schema headers
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_schema_headers on;
--- config
    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-basic;
        default_type application/json;
        return 200 '{"search":{"city":"Lisbon","hotel_id":"decoy"},"results":[{"hotel_id":"lis-1","name":"Casa \u00c1gua","rate":129.99,"currency":"EUR","amenities":["wifi",{"rate":1}]},{"rate":"80.5","hotel_id":1234,"currency":"usd","location":{"hotel_id":"x"}},{"hotel_id":"lis-3","rate":1.2999e2,"currency":"EUR"}],"count":3}';
    }
--- request
GET /search
--- more_headers
X-Request-Id: ignored
--- response_body chomp
{"search":{"city":"Lisbon","hotel_id":"decoy"},"results":[{"hotel_id":"lis-1","name":"Casa \u00c1gua","rate":129.99,"currency":"EUR","amenities":["wifi",{"rate":1}]},{"rate":"80.5","hotel_id":1234,"currency":"usd","location":{"hotel_id":"x"}},{"hotel_id":"lis-3","rate":1.2999e2,"currency":"EUR"}],"count":3}
--- kafka_topic: basic
--- kafka_records
hotel_id=lis-1 key=lis-1 rate_micros=129990000 currency=EUR position=0 header.schema=hotelsearch.v1.HotelSearchResult header.schema-version=1
hotel_id=1234 key=1234 rate_micros=80500000 currency=USD position=1 header.schema=hotelsearch.v1.HotelSearchResult header.schema-version=1
hotel_id=lis-3 key=lis-3 rate_micros=129990000 currency=EUR position=2 header.schema=hotelsearch.v1.HotelSearchResult header.schema-version=1
--- no_error_log
[error]
[warn]



=== TEST 2: by default (hotel_kafka_schema_headers off): the same values, no headers
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-bare;
        default_type application/json;
        return 200 '{"results":[{"hotel_id":"lis-1","rate":129.99,"currency":"EUR"},{"hotel_id":"lis-2","rate":"80.5","currency":"usd"}]}';
    }
--- request
GET /search
--- response_body chomp
{"results":[{"hotel_id":"lis-1","rate":129.99,"currency":"EUR"},{"hotel_id":"lis-2","rate":"80.5","currency":"usd"}]}
--- kafka_topic: bare
--- kafka_records
hotel_id=lis-1 key=lis-1 rate_micros=129990000 currency=EUR position=0 headers=0
hotel_id=lis-2 key=lis-2 rate_micros=80500000 currency=USD position=1 headers=0
--- no_error_log
[error]
[warn]



=== TEST 3: dotted paths, a default currency, a page streamed in small buffers
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /page.json {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-dotted;
        hotel_kafka_json_results data.hotels;
        hotel_kafka_json_id id;
        hotel_kafka_json_rate price.amount;
        hotel_kafka_json_currency price.currency;
        hotel_kafka_default_currency CHF;
        output_buffers 1 16;
        sendfile off;
    }
--- user_files
>>> page.json
{"data": {"total": 2, "hotels": [
  {"id": "zrh-1", "price": {"amount": "310.00", "currency": "EUR"}},
  {"id": "zrh-2", "price": {"amount": 275.5}}
]}}
--- request
GET /page.json
--- response_body
{"data": {"total": 2, "hotels": [
  {"id": "zrh-1", "price": {"amount": "310.00", "currency": "EUR"}},
  {"id": "zrh-2", "price": {"amount": 275.5}}
]}}
--- kafka_topic: dotted
--- kafka_records
hotel_id=zrh-1 rate_micros=310000000 currency=EUR position=0
hotel_id=zrh-2 rate_micros=275500000 currency=CHF position=1
--- no_error_log
[error]



=== TEST 4: through proxy_pass from an upstream, every request's page, one search id per page
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;

    server {
        listen unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock;

        location /search {
            default_type application/json;
            return 200 '{"results":[{"hotel_id":"$arg_city-1","rate":100,"currency":"EUR"},{"hotel_id":"$arg_city-2","rate":200.25,"currency":"EUR"}]}';
        }
    }
--- config
    location /search {
        proxy_pass http://unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock;
        proxy_buffering off;
        proxy_buffer_size 200;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-proxy;
    }
--- request eval
["GET /search?city=lis", "GET /search?city=opo"]
--- response_body eval
['{"results":[{"hotel_id":"lis-1","rate":100,"currency":"EUR"},{"hotel_id":"lis-2","rate":200.25,"currency":"EUR"}]}',
 '{"results":[{"hotel_id":"opo-1","rate":100,"currency":"EUR"},{"hotel_id":"opo-2","rate":200.25,"currency":"EUR"}]}']
--- kafka_topic: proxy
--- kafka_records
hotel_id=lis-1 rate_micros=100000000 position=0
hotel_id=lis-2 rate_micros=200250000 position=1
hotel_id=opo-1 rate_micros=100000000 position=0
hotel_id=opo-2 rate_micros=200250000 position=1
--- no_error_log
[error]



=== TEST 5: only 2xx pages by default; hotel_kafka_status_codes narrows it
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    hotel_kafka_search_results on;
    hotel_kafka_topic $TEST_NGINX_RUN_ID-codes;
    default_type application/json;

    location = /missing {
        return 404 '{"results":[{"hotel_id":"h404","rate":1,"currency":"EUR"}]}';
    }
    location = /partial {
        hotel_kafka_status_codes 200;
        return 206 '{"results":[{"hotel_id":"h206","rate":1,"currency":"EUR"}]}';
    }
    location = /ok {
        return 200 '{"results":[{"hotel_id":"h200","rate":1,"currency":"EUR"}]}';
    }
    location = /created {
        return 201 '{"results":[{"hotel_id":"h201","rate":1,"currency":"EUR"}]}';
    }
--- request eval
["GET /missing", "GET /partial", "GET /ok", "GET /created"]
--- error_code eval
[404, 206, 200, 201]
--- kafka_topic: codes
--- kafka_records
hotel_id=h200
hotel_id=h201



=== TEST 6: unusable results are skipped and counted, the others produced
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-skips;
        return 200 '{"results":[{"rate":1,"currency":"EUR"},{"hotel_id":"a","rate":-5,"currency":"EUR"},{"hotel_id":"b","rate":"cheap","currency":"EUR"},{"hotel_id":"c","rate":0.0000001,"currency":"EUR"},{"hotel_id":"d","rate":9,"currency":"EURO"},{"hotel_id":"e","rate":9},{"hotel_id":["x"],"rate":9,"currency":"EUR"},42,{"hotel_id":"ok","rate":1e400,"currency":"EUR"},{"hotel_id":"good","rate":"12.34","currency":"gbp"}]}';
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
["GET /search", "GET /status"]
--- response_body_like eval
[qr/^\{"results"/,
 qr/"skipped":\{"no_id":1,"bad_id":1,"no_rate":0,"bad_rate":3,"negative_rate":1,"no_currency":1,"bad_currency":1,"not_object":1\}/]
--- kafka_topic: skips
--- kafka_records
hotel_id=good rate_micros=12340000 currency=GBP position=9
--- no_error_log
[error]



=== TEST 7: a malformed page reaches the client untouched; results before the fault count
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /broken {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-broken;
        return 200 '{"results":[{"hotel_id":"first","rate":10,"currency":"EUR"},{"hotel_id":"second",rate:20}]}';
    }
    location = /truncated {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-broken;
        return 200 '{"results":[{"hotel_id":"t1","rate":10,"currency":"EUR"},{"hotel_id":"t2","rate":20,"currency":"EUR"}';
    }
    location = /nothing {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-broken;
        return 200 '{"hotels":[]}';
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
["GET /broken", "GET /truncated", "GET /nothing", "GET /status"]
--- response_body_like eval
[qr/^\Q{"results":[{"hotel_id":"first","rate":10,"currency":"EUR"},{"hotel_id":"second",rate:20}]}\E$/,
 qr/^\Q{"results":[{"hotel_id":"t1","rate":10,"currency":"EUR"},{"hotel_id":"t2","rate":20,"currency":"EUR"}\E$/,
 qr/^\Q{"hotels":[]}\E$/,
 qr/"pages":0,"pages_failed":\{"syntax":2,"depth":0,"token":0,"no_results":1,/]
--- kafka_topic: broken
--- kafka_records
hotel_id=first
hotel_id=t1
hotel_id=t2
--- block_error_log
search results not read
--- no_error_log
[error]



=== TEST 8: a body compressed upstream is passed on unread and counted
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;

    server {
        listen unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock;

        location / {
            add_header Content-Encoding gzip;
            return 200 "not really gzip";
        }
    }
--- config
    location = /gz {
        proxy_pass http://unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-gz;
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
["GET /gz", "GET /status"]
--- response_body_like eval
[qr/^not really gzip$/, qr/"compressed":1,/]
--- no_error_log
[error]



=== TEST 9: $hotel_kafka_records and $hotel_kafka_skipped in the access log
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    log_format kafka 'search done: records=$hotel_kafka_records skipped=$hotel_kafka_skipped';
--- config
    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-vars;
        access_log logs/error.log kafka;
        return 200 '{"results":[{"hotel_id":"v1","rate":1,"currency":"EUR"},{"hotel_id":"v2","rate":2,"currency":"EUR"},{"hotel_id":"v3"}]}';
    }
--- request
GET /search
--- error_log
search done: records=2 skipped=1
--- kafka_topic: vars
--- kafka_count: 2
