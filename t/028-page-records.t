# hotel_kafka_record page: one Kafka record per result page, a SearchPage
# holding every result of the page (decoded by protoc, field by field),
# with the schema headers and no key.  A page without a usable result
# gives no record; a page of 2,000 results one record; a page larger than
# message.max.bytes several records that hold every result once; a page
# cut short the results before the cut.  Skips and page failures are
# counted as in the default mode; "produced" counts Kafka records.

use Test::Nginx::Socket 'no_plan';
use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use HotelKafka;
use HotelBlocks;

repeat_each(1);
no_shuffle();
log_level('info');
# kafka_*, status_counters (t/lib/HotelBlocks.pm)
add_response_body_check(\&check_block_sections);

# a page of N results, ids pN-0.., rates 1.00, 1.01, ...
sub main::page {
    my ($n, $prefix) = @_;
    return '{"results": [' . join(', ', map {
        sprintf '{"hotel_id": "%s-%d", "rate": %d.%02d, "currency": "EUR"}',
            $prefix, $_, 1 + int($_ / 100), $_ % 100
    } 0 .. $n - 1) . ']}';
}

sub main::records {
    my ($n, $prefix, $extra) = @_;
    return join "\n", map {
        sprintf 'hotel_id=%s-%d rate_micros=%d currency=EUR position=%d %s',
            $prefix, $_, (1 + int($_ / 100)) * 1_000_000 + ($_ % 100) * 10_000,
            $_, $extra // ''
    } 0 .. $n - 1;
}

# --- page_records: N   the block's topic holds N Kafka records (">=N": N
# at least), each a SearchPage that protoc decodes on its own, none larger
# than --- max_value, without a key
add_response_body_check(sub {
    my ($block, $body, $req_idx, $rep, $dry_run) = @_;
    return if $dry_run || !defined $block->page_records;
    my $reqs = $block->request;
    return unless ($req_idx || 0) == (ref $reqs eq 'ARRAY' ? $#$reqs : 0);
    my $at_least = $block->page_records =~ />=/;
    (my $n = $block->page_records) =~ s/\D//g;
    (my $topic = $block->kafka_topic) =~ s/^\s+|\s+$//g;
    my $name = $block->name;
    my @recs = kafka_read(kafka_topic($topic), expect => 1, settle => 0.5);
    my %records = map { ("$_->{partition}/$_->{offset}" => $_) } @recs;
    if ($at_least) {
        Test::More::cmp_ok(scalar keys %records, '>=', $n,
                           "$name - $n Kafka records at least");
    } else {
        Test::More::is(scalar keys %records, $n, "$name - $n Kafka records");
    }
    my $max = $block->max_value;
    for my $r (values %records) {
        my ($st, $out, $err) = HotelKafka::run_cmd(
            ['protoc', '--decode=hotelsearch.v1.SearchPage',
             '-I', $ENV{HOTEL_PROTO_DIR}, 'hotel_search_result.proto'],
            $r->{value}, 30);
        Test::More::ok($st == 0 && $out =~ /^search_id: "[0-9a-f]{32}"$/m
                       && $out =~ /^results \{$/m,
                       "$name - protoc decodes a record as a SearchPage")
            or Test::More::diag($err . $out);
        Test::More::ok(!defined $r->{key} || $r->{key} eq '',
                       "$name - a page record has no key");
        if (defined $max) {
            $max =~ s/\D//g;
            Test::More::ok(length $r->{value} <= $max,
                           "$name - a record of at most $max bytes");
        }
    }
});

run_tests();

__DATA__

=== TEST 1: one record for the page: its results, the page's search id and time, no key
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /search {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_record page;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-page-one;
        add_header X-Records $hotel_kafka_records;
        return 200 '{"results": [{"hotel_id": "a", "rate": 1.5, "currency": "EUR"}, {"hotel_id": "bad", "rate": -1, "currency": "EUR"}, {"hotel_id": 7, "rate": "2", "currency": "usd"}]}';
    }

    location = /kafka-status {
        hotel_kafka_status;
    }
--- request
GET /search
--- kafka_topic: page-one
--- kafka_records
hotel_id=a rate_micros=1500000 currency=EUR position=0 results_in_record=2 header.schema=hotelsearch.v1.SearchPage header.schema-version=1
hotel_id=7 rate_micros=2000000 currency=USD position=2 results_in_record=2 header.schema=hotelsearch.v1.SearchPage header.schema-version=1
--- page_records: 1
--- status_counters
pages 1
produced 1
skipped.negative_rate 1
--- no_error_log
[error]



=== TEST 2: a page without a usable result, and an empty one: no record
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /search {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_record page;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-page-none;
        return 200 '{"results": [{"hotel_id": "a"}, 5]}';
    }

    location = /empty {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_record page;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-page-none;
        return 200 '{"results": []}';
    }

    location = /kafka-status {
        hotel_kafka_status;
    }
--- request eval
["GET /search", "GET /empty"]
--- kafka_topic: page-none
--- kafka_count: 0
--- status_counters
pages 2
produced 0
skipped.no_rate 1
skipped.not_object 1
--- no_error_log
[error]



=== TEST 3: a page of one result, and one of 2,000 (streamed: longer than the page buffer): a record each
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /one.json {
        root $TEST_NGINX_SERVER_ROOT/html;
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_record page;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-page-sizes;
    }

    location = /big.json {
        root $TEST_NGINX_SERVER_ROOT/html;
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_record page;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-page-sizes;
    }

    location = /kafka-status {
        hotel_kafka_status;
    }
--- user_files eval
">>> one.json\n" . main::page(1, 'o') . "\n>>> big.json\n" . main::page(2000, 'b')
--- request eval
["GET /one.json", "GET /big.json"]
--- kafka_topic: page-sizes
--- kafka_records eval
main::records(1, 'o', 'results_in_record=1') . "\n"
. main::records(2000, 'b', 'results_in_record=2000')
--- kafka_timeout: 60
--- page_records: 2
--- status_counters
pages 2
produced 2
--- no_error_log
[error]



=== TEST 4: a page larger than message.max.bytes: several records, every result once
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_conf message.max.bytes 2000;
--- config
    location = /big.json {
        root $TEST_NGINX_SERVER_ROOT/html;
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_record page;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-page-split;
    }

    location = /kafka-status {
        hotel_kafka_status;
    }
--- user_files eval
">>> big.json\n" . main::page(300, 's')
--- request
GET /big.json
--- kafka_topic: page-split
--- kafka_records eval
main::records(300, 's')
--- page_records: >=5
--- max_value: 1000
--- status_counters
pages 1
dropped.too_large 0
--- no_error_log
[error]



=== TEST 5: a page cut short: a record with the results before the cut
--- main_config
    load_module /usr/lib/nginx/modules/ngx_stream_module.so;
    stream {
        server {
            listen unix:$TEST_NGINX_SERVER_ROOT/html/cut.sock;
            return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\nConnection: close\r\n\r\n{\"results\": [{\"hotel_id\": \"c1\", \"rate\": 1, \"currency\": \"EUR\"}, {\"hotel_id\": \"c2\", \"rate\": 2, \"currency\": \"EUR\"}, {\"hotel_";
        }
    }
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /search {
        proxy_pass http://unix:$TEST_NGINX_SERVER_ROOT/html/cut.sock;
        postpone_output 0;
        hotel_kafka_search_results on;
        hotel_kafka_record page;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-page-cut;
    }

    location = /kafka-status {
        hotel_kafka_status;
    }
--- request
GET /search
--- kafka_topic: page-cut
--- kafka_records
hotel_id=c1 rate_micros=1000000 currency=EUR position=0 results_in_record=2
hotel_id=c2 rate_micros=2000000 currency=EUR position=1 results_in_record=2
--- status_counters
pages 0
produced 1
pages_failed.truncated 1
