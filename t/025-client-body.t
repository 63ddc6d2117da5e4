# What is recorded is what the client received: the filter runs after
# sub_filter, SSI (echo and include), addition and gunzip, before gzip; a
# 206 is not a result page; a page cut short (upstream reset with
# Content-Length or chunked, the client gone) is counted as truncated with
# the records before the cut; a byte order mark is ignored; "if=" skips
# cache hits; topics have no limit; the counters' table holds more than 64
# workers.  Records are read back from the broker and decoded by protoc,
# and the status counters are checked to account for every page.

use Test::Nginx::Socket 'no_plan';
use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use HotelBlocks;
use JSON::PP ();

repeat_each(1);
no_shuffle();
log_level('info');
# kafka_*, status_counters, block_error_log (t/lib/HotelBlocks.pm)
add_response_body_check(\&check_block_sections);

# nginx's stream module as a raw upstream: it writes these bytes and
# closes the connection, as a backend that dies in the middle of a page.
sub main::raw_upstream {
    my ($sock, $bytes) = @_;
    (my $q = $bytes) =~ s/(["\\])/\\$1/g;
    $q =~ s/\r/\\r/g;
    $q =~ s/\n/\\n/g;
    return "load_module /usr/lib/nginx/modules/ngx_stream_module.so;\n"
         . "stream {\n    server {\n"
         . "        listen unix:\$TEST_NGINX_SERVER_ROOT/html/$sock;\n"
         . "        return \"$q\";\n    }\n}\n";
}

# The first two results of a page, then the start of a third that never
# ends: the records a cut page must still give.
our $CUT = '{"results": [{"hotel_id": "c1", "rate": 1, "currency": "EUR"}, '
         . '{"hotel_id": "c2", "rate": 2, "currency": "EUR"}, {"hotel_';

# Blocks with "--- hotel_workers: N" run with a master and N workers;
# not their worker checks under valgrind, which follows one process.
add_block_preprocessor(sub {
    my $block = shift;
    if (defined $block->hotel_workers) {
        (my $n = $block->hotel_workers) =~ s/\D//g;
        master_on();
        workers($n);
        $block->set_value('status_workers', undef)
            if $ENV{TEST_NGINX_USE_VALGRIND};
    } else {
        master_off();
        workers(1);
    }
});

# --- status_workers: N   the JSON status lists N workers, each once, and
# the Prometheus status has one queue-depth sample per worker, each a
# distinct series (10 s at most for the workers to start).
add_response_body_check(sub {
    my ($block, $body, $req_idx, $rep, $dry_run) = @_;
    return if $dry_run || !defined $block->status_workers;
    (my $n = $block->status_workers) =~ s/\D//g;
    my $name = $block->name;
    my $deadline = time + 10;
    my $st;
    while (1) {
        $st = status_json('/kafka-status');
        last if $st && @{ $st->{workers} } >= $n;
        last if time > $deadline;
        select undef, undef, undef, 0.2;
    }
    my @w = @{ ($st || {})->{workers} || [] };
    my %num = map { $_->{worker} => 1 } @w;
    my %pid = map { $_->{pid} => 1 } @w;
    Test::More::is(scalar @w, $n, "$name - $n workers listed");
    Test::More::is(scalar keys %num, $n, "$name - each worker number once");
    Test::More::is(scalar keys %pid, $n, "$name - each pid once");
    Test::More::is_deeply([sort { $a <=> $b } keys %num], [0 .. $n - 1],
                          "$name - workers 0 to " . ($n - 1));

    my $port = Test::Nginx::Socket::server_port();
    my $prom = `curl -s http://127.0.0.1:$port/kafka-status?format=prometheus`;
    my @series = $prom =~ /^(hotel_kafka_worker_queue_depth\{[^}]*\}) \d+$/mg;
    my %uniq = map { $_ => 1 } @series;
    Test::More::is(scalar @series, $n, "$name - $n queue depth samples");
    Test::More::is(scalar keys %uniq, $n, "$name - as $n distinct series");
    Test::More::ok($prom =~ /\A(?:(?:# (?:HELP|TYPE) .*|\w+(?:\{[^}]*\})? \d+)\n)+\z/,
                   "$name - every Prometheus line is a comment or a sample");
});

run_tests();

__DATA__

=== TEST 1: sub_filter: the record has the currency the client got
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /search {
        default_type application/json;
        sub_filter_types application/json;
        sub_filter_once off;
        sub_filter '"EUR"' '"USD"';
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-sub;
        return 200 '{"results": [{"hotel_id": "a", "rate": 10, "currency": "EUR"}, {"hotel_id": "b", "rate": 11, "currency": "EUR"}]}';
    }
    location = /kafka-status {
        hotel_kafka_status;
    }
--- request
GET /search
--- response_body chomp
{"results": [{"hotel_id": "a", "rate": 10, "currency": "USD"}, {"hotel_id": "b", "rate": 11, "currency": "USD"}]}
--- kafka_topic: sub
--- kafka_records
hotel_id=a rate_micros=10000000 currency=USD position=0
hotel_id=b rate_micros=11000000 currency=USD position=1
--- status_counters
pages 1
produced 2
--- no_error_log
[error]



=== TEST 2: SSI echo: the record has the hotel id the client got
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /search {
        default_type application/json;
        ssi on;
        ssi_types application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-ssi-echo;
        return 200 '{"results": [{"hotel_id": "<!--# echo var="arg_id" default="none" -->", "rate": 10, "currency": "EUR"}]}';
    }
    location = /kafka-status {
        hotel_kafka_status;
    }
--- request
GET /search?id=real-7
--- response_body chomp
{"results": [{"hotel_id": "real-7", "rate": 10, "currency": "EUR"}]}
--- kafka_topic: ssi-echo
--- kafka_records
hotel_id=real-7 key=real-7 rate_micros=10000000 currency=EUR position=0
--- status_counters
pages 1
produced 1
pages_failed.syntax 0
--- no_error_log
[error]



=== TEST 3: SSI include builds the results array: the included hotels are recorded
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /search {
        default_type application/json;
        ssi on;
        ssi_types application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-ssi-include;
        return 200 '{"results": [<!--# include virtual="/hotels" -->], "count": 2}';
    }

    location = /hotels {
        default_type application/json;
        return 200 '{"hotel_id": "i1", "rate": 5, "currency": "EUR"}, {"hotel_id": "i2", "rate": 6, "currency": "EUR"}';
    }
    location = /kafka-status {
        hotel_kafka_status;
    }
--- request
GET /search
--- response_body chomp
{"results": [{"hotel_id": "i1", "rate": 5, "currency": "EUR"}, {"hotel_id": "i2", "rate": 6, "currency": "EUR"}], "count": 2}
--- kafka_topic: ssi-include
--- kafka_records
hotel_id=i1 rate_micros=5000000 currency=EUR position=0
hotel_id=i2 rate_micros=6000000 currency=EUR position=1
--- status_counters
pages 1
produced 2
pages_failed.syntax 0
--- no_error_log
[error]



=== TEST 4: addition: a results array added after the page is read as part of it
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /search {
        default_type application/json;
        add_before_body /before;
        add_after_body /after;
        addition_types application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-addition;
        return 200 '{"hotel_id": "m1", "rate": 7, "currency": "EUR"}';
    }

    location = /before {
        return 200 '{"results": [';
    }

    location = /after {
        return 200 ']}';
    }
    location = /kafka-status {
        hotel_kafka_status;
    }
--- request
GET /search
--- response_body chomp
{"results": [{"hotel_id": "m1", "rate": 7, "currency": "EUR"}]}
--- kafka_topic: addition
--- kafka_records
hotel_id=m1 rate_micros=7000000 currency=EUR position=0
--- status_counters
pages 1
produced 1
--- no_error_log
[error]



=== TEST 5: gunzip: a gzip upstream, decompressed for the client, is recorded
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;

    server {
        listen unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock;

        gzip on;
        gzip_types application/json;
        gzip_min_length 0;
        gzip_http_version 1.0;

        location /page {
            default_type application/json;
            return 200 '{"results": [{"hotel_id": "h1", "rate": 101.5, "currency": "EUR"}, {"hotel_id": "h2", "rate": 102.5, "currency": "EUR"}, {"hotel_id": "h3", "rate": 103.5, "currency": "EUR"}, {"hotel_id": "h4", "rate": 104.5, "currency": "EUR"}, {"hotel_id": "h5", "rate": 105.5, "currency": "EUR"}], "count": 5}';
        }
    }
--- config
    location = /search {
        proxy_pass http://unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock:/page;
        proxy_set_header Accept-Encoding gzip;
        gunzip on;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-gunzip;
    }
    location = /kafka-status {
        hotel_kafka_status;
    }
--- request
GET /search
--- response_headers
!Content-Encoding
--- response_body chomp
{"results": [{"hotel_id": "h1", "rate": 101.5, "currency": "EUR"}, {"hotel_id": "h2", "rate": 102.5, "currency": "EUR"}, {"hotel_id": "h3", "rate": 103.5, "currency": "EUR"}, {"hotel_id": "h4", "rate": 104.5, "currency": "EUR"}, {"hotel_id": "h5", "rate": 105.5, "currency": "EUR"}], "count": 5}
--- kafka_topic: gunzip
--- kafka_records
hotel_id=h1 rate_micros=101500000 currency=EUR position=0
hotel_id=h2 rate_micros=102500000 currency=EUR position=1
hotel_id=h3 rate_micros=103500000 currency=EUR position=2
hotel_id=h4 rate_micros=104500000 currency=EUR position=3
hotel_id=h5 rate_micros=105500000 currency=EUR position=4
--- status_counters
pages 1
produced 5
pages_failed.compressed 0
--- no_error_log
[error]



=== TEST 6: gunzip with a client that takes gzip: the body stays compressed, nothing recorded, counted
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;

    server {
        listen unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock;

        gzip on;
        gzip_types application/json;
        gzip_min_length 0;
        gzip_http_version 1.0;

        location /page {
            default_type application/json;
            return 200 '{"results": [{"hotel_id": "h1", "rate": 101.5, "currency": "EUR"}, {"hotel_id": "h2", "rate": 102.5, "currency": "EUR"}, {"hotel_id": "h3", "rate": 103.5, "currency": "EUR"}, {"hotel_id": "h4", "rate": 104.5, "currency": "EUR"}, {"hotel_id": "h5", "rate": 105.5, "currency": "EUR"}], "count": 5}';
        }
    }
--- config
    location = /search {
        proxy_pass http://unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock:/page;
        proxy_set_header Accept-Encoding gzip;
        gunzip on;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-gunzip-gz;
    }
    location = /kafka-status {
        hotel_kafka_status;
    }
--- request
GET /search
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- ignore_response_body
--- status_counters
pages 0
produced 0
pages_failed.compressed 1
--- no_error_log
[error]



=== TEST 7: nginx's own gzip: the records of the uncompressed page
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /search {
        default_type application/json;
        gzip on;
        gzip_types application/json;
        gzip_min_length 0;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-gzip;
        return 200 '{"results": [{"hotel_id": "h1", "rate": 101.5, "currency": "EUR"}, {"hotel_id": "h2", "rate": 102.5, "currency": "EUR"}, {"hotel_id": "h3", "rate": 103.5, "currency": "EUR"}, {"hotel_id": "h4", "rate": 104.5, "currency": "EUR"}, {"hotel_id": "h5", "rate": 105.5, "currency": "EUR"}], "count": 5}';
    }
    location = /kafka-status {
        hotel_kafka_status;
    }
--- request
GET /search
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- ignore_response_body
--- kafka_topic: gzip
--- kafka_records
hotel_id=h1 rate_micros=101500000 currency=EUR position=0
hotel_id=h2 rate_micros=102500000 currency=EUR position=1
hotel_id=h3 rate_micros=103500000 currency=EUR position=2
hotel_id=h4 rate_micros=104500000 currency=EUR position=3
hotel_id=h5 rate_micros=105500000 currency=EUR position=4
--- status_counters
pages 1
produced 5
pages_failed.compressed 0
--- no_error_log
[error]



=== TEST 8: Range: a 206 is no result page (nothing recorded, counted partial); the whole page is
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /page.json {
        root $TEST_NGINX_SERVER_ROOT/html;
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-range;
    }
    location = /kafka-status {
        hotel_kafka_status;
    }
--- user_files
>>> page.json
{"results": [{"hotel_id": "h1", "rate": 101.5, "currency": "EUR"}, {"hotel_id": "h2", "rate": 102.5, "currency": "EUR"}, {"hotel_id": "h3", "rate": 103.5, "currency": "EUR"}, {"hotel_id": "h4", "rate": 104.5, "currency": "EUR"}, {"hotel_id": "h5", "rate": 105.5, "currency": "EUR"}], "count": 5}
--- request eval
["GET /page.json", "GET /page.json", "GET /page.json"]
--- more_headers eval
["Range: bytes=0-199", "Range: bytes=200-", ""]
--- error_code eval
[206, 206, 200]
--- response_body eval
[substr(<<'PAGE', 0, 200), substr(<<'PAGE', 200), <<'PAGE']
{"results": [{"hotel_id": "h1", "rate": 101.5, "currency": "EUR"}, {"hotel_id": "h2", "rate": 102.5, "currency": "EUR"}, {"hotel_id": "h3", "rate": 103.5, "currency": "EUR"}, {"hotel_id": "h4", "rate": 104.5, "currency": "EUR"}, {"hotel_id": "h5", "rate": 105.5, "currency": "EUR"}], "count": 5}
PAGE
{"results": [{"hotel_id": "h1", "rate": 101.5, "currency": "EUR"}, {"hotel_id": "h2", "rate": 102.5, "currency": "EUR"}, {"hotel_id": "h3", "rate": 103.5, "currency": "EUR"}, {"hotel_id": "h4", "rate": 104.5, "currency": "EUR"}, {"hotel_id": "h5", "rate": 105.5, "currency": "EUR"}], "count": 5}
PAGE
{"results": [{"hotel_id": "h1", "rate": 101.5, "currency": "EUR"}, {"hotel_id": "h2", "rate": 102.5, "currency": "EUR"}, {"hotel_id": "h3", "rate": 103.5, "currency": "EUR"}, {"hotel_id": "h4", "rate": 104.5, "currency": "EUR"}, {"hotel_id": "h5", "rate": 105.5, "currency": "EUR"}], "count": 5}
PAGE
--- kafka_topic: range
--- kafka_records
hotel_id=h1 rate_micros=101500000 currency=EUR position=0
hotel_id=h2 rate_micros=102500000 currency=EUR position=1
hotel_id=h3 rate_micros=103500000 currency=EUR position=2
hotel_id=h4 rate_micros=104500000 currency=EUR position=3
hotel_id=h5 rate_micros=105500000 currency=EUR position=4
--- status_counters
pages 1
produced 5
pages_failed.partial 2
pages_failed.syntax 0
--- block_error_log
search results not read (partial)



=== TEST 9: a 206 from the upstream is no result page either
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;

    server {
        listen unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock;

        location /page {
            default_type application/json;
            add_header Content-Range "bytes 0-9/100";
            return 206 '{"results":';
        }
    }
--- config
    location = /search {
        proxy_pass http://unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock:/page;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-range-up;
    }
    location = /kafka-status {
        hotel_kafka_status;
    }
--- request
GET /search
--- error_code: 206
--- response_body chomp
{"results":
--- status_counters
pages 0
produced 0
pages_failed.partial 1
pages_failed.syntax 0



=== TEST 10: a page with a UTF-8 byte order mark is read
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /bom.json {
        root $TEST_NGINX_SERVER_ROOT/html;
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-bom;
    }
    location = /kafka-status {
        hotel_kafka_status;
    }
--- user_files
>>> bom.json
﻿{"results": [{"hotel_id": "h1", "rate": 101.5, "currency": "EUR"}, {"hotel_id": "h2", "rate": 102.5, "currency": "EUR"}, {"hotel_id": "h3", "rate": 103.5, "currency": "EUR"}, {"hotel_id": "h4", "rate": 104.5, "currency": "EUR"}, {"hotel_id": "h5", "rate": 105.5, "currency": "EUR"}], "count": 5}
--- request
GET /bom.json
--- kafka_topic: bom
--- kafka_records
hotel_id=h1 rate_micros=101500000 currency=EUR position=0
hotel_id=h2 rate_micros=102500000 currency=EUR position=1
hotel_id=h3 rate_micros=103500000 currency=EUR position=2
hotel_id=h4 rate_micros=104500000 currency=EUR position=3
hotel_id=h5 rate_micros=105500000 currency=EUR position=4
--- status_counters
pages 1
produced 5
pages_failed.syntax 0
--- no_error_log
[error]



=== TEST 11: proxy_cache: with if=, a cache hit is not recorded again
--- http_config

    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    proxy_cache_path $TEST_NGINX_SERVER_ROOT/html/cache keys_zone=pages:1m;

    map $upstream_cache_status $hotel_fresh_page {
        HIT       0;
        STALE     0;
        UPDATING  0;
        default   1;
    }

    server {
        listen unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock;

        location /page {
            default_type application/json;
            return 200 '{"results": [{"hotel_id": "h1", "rate": 101.5, "currency": "EUR"}, {"hotel_id": "h2", "rate": 102.5, "currency": "EUR"}, {"hotel_id": "h3", "rate": 103.5, "currency": "EUR"}, {"hotel_id": "h4", "rate": 104.5, "currency": "EUR"}, {"hotel_id": "h5", "rate": 105.5, "currency": "EUR"}], "count": 5}';
        }
    }
--- config
    location = /search {
        proxy_pass http://unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock:/page;
        proxy_cache pages;
        proxy_cache_valid 200 1m;
        add_header X-Cache $upstream_cache_status;
        hotel_kafka_search_results on if=$hotel_fresh_page;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-cache-if;
    }
    location = /kafka-status {
        hotel_kafka_status;
    }
--- request eval
["GET /search", "GET /search", "GET /search"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "X-Cache: HIT"]
--- kafka_topic: cache-if
--- kafka_records
hotel_id=h1 rate_micros=101500000 currency=EUR position=0
hotel_id=h2 rate_micros=102500000 currency=EUR position=1
hotel_id=h3 rate_micros=103500000 currency=EUR position=2
hotel_id=h4 rate_micros=104500000 currency=EUR position=3
hotel_id=h5 rate_micros=105500000 currency=EUR position=4
--- status_counters
pages 1
produced 5
--- no_error_log
[error]



=== TEST 12: proxy_cache: without if=, every hit is recorded as a search
--- http_config

    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    proxy_cache_path $TEST_NGINX_SERVER_ROOT/html/cache keys_zone=pages:1m;

    map $upstream_cache_status $hotel_fresh_page {
        HIT       0;
        STALE     0;
        UPDATING  0;
        default   1;
    }

    server {
        listen unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock;

        location /page {
            default_type application/json;
            return 200 '{"results": [{"hotel_id": "h1", "rate": 101.5, "currency": "EUR"}, {"hotel_id": "h2", "rate": 102.5, "currency": "EUR"}, {"hotel_id": "h3", "rate": 103.5, "currency": "EUR"}, {"hotel_id": "h4", "rate": 104.5, "currency": "EUR"}, {"hotel_id": "h5", "rate": 105.5, "currency": "EUR"}], "count": 5}';
        }
    }
--- config
    location = /search {
        proxy_pass http://unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock:/page;
        proxy_cache pages;
        proxy_cache_valid 200 1m;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-cache-all;
    }
    location = /kafka-status {
        hotel_kafka_status;
    }
--- request eval
["GET /search", "GET /search"]
--- kafka_topic: cache-all
--- kafka_count: 10
--- status_counters
pages 2
produced 10
--- no_error_log
[error]



=== TEST 13: an upstream that dies in the middle of a page (Content-Length): counted truncated, the records before the cut kept
--- main_config eval
main::raw_upstream('cut.sock', "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\nConnection: close\r\n\r\n$main::CUT")
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /search {
        proxy_pass http://unix:$TEST_NGINX_SERVER_ROOT/html/cut.sock;
        postpone_output 0;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-cut-length;
    }
    location = /kafka-status {
        hotel_kafka_status;
    }
--- request
GET /search
--- response_body eval
$main::CUT
--- kafka_topic: cut-length
--- kafka_records
hotel_id=c1 rate_micros=1000000 currency=EUR position=0
hotel_id=c2 rate_micros=2000000 currency=EUR position=1
--- status_counters
pages 0
produced 2
pages_failed.truncated 1
pages_failed.syntax 0
--- error_log eval
[qr/(?:upstream prematurely closed connection|Connection reset by peer\)) while reading upstream/,
 "search results not read (truncated)"]



=== TEST 14: an upstream that dies in the middle of a chunked page: the same
--- main_config eval
main::raw_upstream('cut.sock', "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" . sprintf("%x\r\n%s\r\n", length $main::CUT, $main::CUT))
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /search {
        proxy_pass http://unix:$TEST_NGINX_SERVER_ROOT/html/cut.sock;
        proxy_http_version 1.1;
        chunked_transfer_encoding off;
        postpone_output 0;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-cut-chunked;
    }
    location = /kafka-status {
        hotel_kafka_status;
    }
--- request
GET /search
--- response_body eval
$main::CUT
--- kafka_topic: cut-chunked
--- kafka_records
hotel_id=c1 rate_micros=1000000 currency=EUR position=0
hotel_id=c2 rate_micros=2000000 currency=EUR position=1
--- status_counters
pages 0
produced 2
pages_failed.truncated 1
pages_failed.syntax 0
--- error_log eval
[qr/(?:upstream prematurely closed connection|Connection reset by peer\)) while reading upstream/,
 "search results not read (truncated)"]



=== TEST 15: the client goes away in the middle of a page: counted truncated, the records before kept
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;

    server {
        listen unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock;

        location /page {
            default_type application/json;
            limit_rate_after 1000;
            limit_rate 1;
            return 200 '{"results": [{"hotel_id": "s1", "rate": 1, "currency": "EUR"}, {"hotel_id": "s2", "rate": 2, "currency": "EUR"}, {"hotel_id": "s3", "name": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "rate": 3, "currency": "EUR"}]}';
        }
    }
--- config
    location = /search {
        proxy_pass http://unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock:/page;
        proxy_buffering off;
        postpone_output 0;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-client-gone;
    }
    location = /kafka-status {
        hotel_kafka_status;
    }
--- request
GET /search
--- timeout: 1
--- abort
--- response_body_like: ^\{"results": \[\{"hotel_id": "s1".*"s2".*"s3"
--- kafka_topic: client-gone
--- kafka_records
hotel_id=s1 rate_micros=1000000 currency=EUR position=0
hotel_id=s2 rate_micros=2000000 currency=EUR position=1
--- status_counters
pages 0
produced 2
pages_failed.truncated 1
--- error_log
search results not read (truncated)



=== TEST 16: 20 locations with 20 topics: every record produced (a worker held 16 topics)
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config

    location = /t1 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-1;
        return 200 '{"results": [{"hotel_id": "m1", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t2 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-2;
        return 200 '{"results": [{"hotel_id": "m2", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t3 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-3;
        return 200 '{"results": [{"hotel_id": "m3", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t4 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-4;
        return 200 '{"results": [{"hotel_id": "m4", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t5 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-5;
        return 200 '{"results": [{"hotel_id": "m5", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t6 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-6;
        return 200 '{"results": [{"hotel_id": "m6", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t7 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-7;
        return 200 '{"results": [{"hotel_id": "m7", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t8 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-8;
        return 200 '{"results": [{"hotel_id": "m8", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t9 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-9;
        return 200 '{"results": [{"hotel_id": "m9", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t10 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-10;
        return 200 '{"results": [{"hotel_id": "m10", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t11 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-11;
        return 200 '{"results": [{"hotel_id": "m11", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t12 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-12;
        return 200 '{"results": [{"hotel_id": "m12", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t13 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-13;
        return 200 '{"results": [{"hotel_id": "m13", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t14 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-14;
        return 200 '{"results": [{"hotel_id": "m14", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t15 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-15;
        return 200 '{"results": [{"hotel_id": "m15", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t16 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-16;
        return 200 '{"results": [{"hotel_id": "m16", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t17 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-17;
        return 200 '{"results": [{"hotel_id": "m17", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t18 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-18;
        return 200 '{"results": [{"hotel_id": "m18", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t19 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-19;
        return 200 '{"results": [{"hotel_id": "m19", "rate": 1, "currency": "EUR"}]}';
    }

    location = /t20 {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-many-20;
        return 200 '{"results": [{"hotel_id": "m20", "rate": 1, "currency": "EUR"}]}';
    }
    location = /kafka-status {
        hotel_kafka_status;
    }
--- request eval
[map { "GET /t$_" } 1 .. 20]
--- kafka_topic: many-20
--- kafka_records
hotel_id=m20 rate_micros=1000000 currency=EUR position=0
--- status_counters
pages 20
produced 20
dropped.other 0
--- no_error_log
[error]



=== TEST 17: 70 workers: each listed once in the JSON and the Prometheus status
--- hotel_workers: 70
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /search {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-workers;
        return 200 '{"results": [{"hotel_id": "w", "rate": 1, "currency": "EUR"}]}';
    }
    location = /kafka-status {
        hotel_kafka_status;
    }
--- request
GET /search
--- status_workers: 70
--- kafka_topic: workers
--- kafka_records
hotel_id=w rate_micros=1000000 currency=EUR position=0
--- no_error_log
[error]
