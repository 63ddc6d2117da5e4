# The status handler: JSON and Prometheus text, the ?format= switch and
# the content types; counters that add up (produced now, delivered once
# the broker has acknowledged, the bytes that reached the topic); only GET
# and HEAD; allow/deny; no property value (a SASL password) in the output
# or the log; one entry per worker with a master and two workers.

use Test::Nginx::Socket 'no_plan';
use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use HotelBlocks;
use File::Temp ();
use HotelNginx ();

repeat_each(1);
no_shuffle();
log_level('info');
# kafka_*, status_*, block_error_log (t/lib/HotelBlocks.pm)
add_response_body_check(\&check_block_sections);

# Blocks with "--- use_master" run with a master and two workers, the
# others in single-process mode. (The harness runs nginx without workers
# under valgrind: the two-worker expectations do not apply there.)
use_master_blocks(qw(status_eventually response_body_like));

# The Prometheus text of the status, as one regex: every line is a
# comment or a sample, each family has its HELP and TYPE, and the given
# samples have the given values (regex source; a sample named "re:..."
# is a regex source too).
sub main::prometheus_like {
    my %want = @_;
    my @families = (
        [hotel_kafka_records_produced_total => 'counter'],
        [hotel_kafka_records_delivered_total => 'counter'],
        [hotel_kafka_records_failed_total => 'counter'],
        [hotel_kafka_delivered_bytes_total => 'counter'],
        [hotel_kafka_records_dropped_total => 'counter'],
        [hotel_kafka_results_skipped_total => 'counter'],
        [hotel_kafka_pages_total => 'counter'],
        [hotel_kafka_pages_failed_total => 'counter'],
        [hotel_kafka_worker_queue_depth => 'gauge'],
    );
    my $re = '\A(?:(?:# HELP \w+ \S.*|# TYPE \w+ (?:counter|gauge)'
           . '|\w+(?:\{\w+="\w+"(?:,\w+="\w+")*\})? \d+)\n)+\z';
    for my $f (@families) {
        $re = "(?=.*^# HELP $f->[0] \\S[^\\n]*\\n# TYPE $f->[0] $f->[1]\\n)"
            . $re;
    }
    for my $s (sort keys %want) {
        my $name = $s =~ /^re:(.*)/s ? $1 : "\Q$s\E";
        $re = "(?=.*^$name $want{$s}\$)" . $re;
    }
    return qr/$re/ms;
}

# --- promtool: URIs whose Prometheus text must pass "promtool check
# metrics" (Debian's prometheus package) without a word
add_response_body_check(sub {
    my ($block, $body, $req_idx, $rep, $dry_run) = @_;
    return if $dry_run || !defined $block->promtool;
    my $reqs = $block->request;
    my $nreq = ref $reqs eq 'ARRAY' ? scalar @$reqs : 1;
    return unless ($req_idx || 0) == $nreq - 1;

    my $name = $block->name;
    my $bin = (grep { -x "$_/promtool" } split /:/, $ENV{PATH})[0];
    for my $uri (split ' ', $block->promtool) {
        my $text = HotelNginx::http_get(server_port(), $uri, 3)->{body} // '';
        my ($fh, $file) = File::Temp::tempfile(UNLINK => 1);
        print $fh $text;
        close $fh;
        my $out = $bin ? `'$bin/promtool' check metrics < '$file' 2>&1`
                       : 'promtool is not installed (scripts/deps)';
        my $st = $bin ? $? >> 8 : -1;
        Test::More::ok($text =~ /^# TYPE /m && $st == 0 && $out eq '',
                       "$name - promtool check metrics $uri")
            or Test::More::diag("promtool ($st): $out");
    }
});
run_tests();

__DATA__

=== TEST 1: JSON: every counter, in order; application/json
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-status-json;
        return 200 '{"results":[{"hotel_id":"j$arg_p-1","rate":10,"currency":"EUR"},{"hotel_id":"j$arg_p-2","rate":20,"currency":"EUR"}]}';
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
["GET /search?p=1", "GET /search?p=2", "GET /search?p=3", "GET /status"]
--- response_headers eval
["", "", "", "Content-Type: application/json"]
--- response_body_like eval
[qr/^\{"results"/, qr/^\{"results"/, qr/^\{"results"/,
 qr/\A\{"produced":6,"delivered":\d+,"failed":0,"delivered_bytes":\d+,"dropped":\{"queue_full":0,"too_large":0,"no_producer":0,"other":0\},"skipped":\{"no_id":0,"bad_id":0,"no_rate":0,"bad_rate":0,"negative_rate":0,"no_currency":0,"bad_currency":0,"not_object":0\},"pages":3,"pages_failed":\{"syntax":0,"depth":0,"token":0,"no_results":0,"compressed":0,"nomem":0,"partial":0,"truncated":0,"not_in_memory":0\},"last_error":"","last_error_time":0,"workers":\[\{"worker":0,"pid":[1-9]\d*,"produced":6,"delivered":\d+,"failed":0,"dropped":0,"queue_depth":\d+\}\]\}\n\z/]
--- status_eventually eval
["/status", qr/"produced":6,"delivered":6,"failed":0,/]
--- status_sums
--- kafka_topic: status-json
--- kafka_count: 6
--- no_error_log
[error]



=== TEST 2: Prometheus: HELP and TYPE for every family, values, content type; ?format= both ways
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-status-prom;
        return 200 '{"results":[{"hotel_id":"p1","rate":10,"currency":"EUR"},{"hotel_id":"p2","rate":20},{"hotel_id":"p3","rate":-1,"currency":"EUR"}]}';
    }
    location = /status {
        hotel_kafka_status;
    }
    location = /metrics {
        hotel_kafka_status prometheus;
    }
--- request eval
["GET /search", "GET /search", "GET /metrics", "GET /metrics?format=json",
 "GET /status?format=prometheus", "GET /status?format=xml",
 "GET /metrics?format=xml"]
--- response_headers eval
["", "",
 "Content-Type: text/plain; version=0.0.4",
 "Content-Type: application/json",
 "Content-Type: text/plain; version=0.0.4",
 "Content-Type: application/json",
 "Content-Type: text/plain; version=0.0.4"]
--- response_body_like eval
[qr/^\{"results"/, qr/^\{"results"/,
 main::prometheus_like(
     'hotel_kafka_records_produced_total' => '2',
     'hotel_kafka_records_failed_total' => '0',
     'hotel_kafka_pages_total' => '2',
     'hotel_kafka_records_dropped_total{reason="queue_full"}' => '0',
     'hotel_kafka_records_dropped_total{reason="too_large"}' => '0',
     'hotel_kafka_records_dropped_total{reason="no_producer"}' => '0',
     'hotel_kafka_records_dropped_total{reason="other"}' => '0',
     'hotel_kafka_results_skipped_total{reason="no_id"}' => '0',
     'hotel_kafka_results_skipped_total{reason="bad_id"}' => '0',
     'hotel_kafka_results_skipped_total{reason="no_rate"}' => '0',
     'hotel_kafka_results_skipped_total{reason="bad_rate"}' => '0',
     'hotel_kafka_results_skipped_total{reason="negative_rate"}' => '2',
     'hotel_kafka_results_skipped_total{reason="no_currency"}' => '2',
     'hotel_kafka_results_skipped_total{reason="bad_currency"}' => '0',
     'hotel_kafka_results_skipped_total{reason="not_object"}' => '0',
     'hotel_kafka_pages_failed_total{reason="syntax"}' => '0',
     'hotel_kafka_pages_failed_total{reason="depth"}' => '0',
     'hotel_kafka_pages_failed_total{reason="token"}' => '0',
     'hotel_kafka_pages_failed_total{reason="no_results"}' => '0',
     'hotel_kafka_pages_failed_total{reason="compressed"}' => '0',
     'hotel_kafka_pages_failed_total{reason="nomem"}' => '0',
     'hotel_kafka_pages_failed_total{reason="partial"}' => '0',
     'hotel_kafka_pages_failed_total{reason="truncated"}' => '0',
     'hotel_kafka_pages_failed_total{reason="not_in_memory"}' => '0',
     'hotel_kafka_records_delivered_total' => '\d+',
     'hotel_kafka_delivered_bytes_total' => '\d+',
     're:hotel_kafka_worker_queue_depth\{worker="0",pid="[1-9]\d*"\}' => '\d+'),
 qr/\A\{"produced":2,.*"pages":2,.*\}\n\z/s,
 main::prometheus_like('hotel_kafka_records_produced_total' => '2'),
 qr/\A\{"produced":2,.*"pages":2,.*\}\n\z/s,
 main::prometheus_like('hotel_kafka_pages_total' => '2')]
--- status_eventually eval
["/metrics", main::prometheus_like(
     'hotel_kafka_records_produced_total' => '2',
     'hotel_kafka_records_delivered_total' => '2',
     're:hotel_kafka_worker_queue_depth\{worker="0",pid="[1-9]\d*"\}' => '0')]
--- promtool: /metrics /status?format=prometheus
--- kafka_topic: status-prom
--- kafka_records
hotel_id=p1 position=0
hotel_id=p1 position=0
--- no_error_log
[error]



=== TEST 3: counters add up: produced at once, then delivered = produced, the bytes that reached the topic
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-status-sum;
        return 200 '{"results":[{"hotel_id":"s$arg_p-a","rate":"12.5","currency":"EUR"},{"hotel_id":"s$arg_p-bb","rate":99.99,"currency":"USD"}]}';
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
["GET /search?p=1", "GET /search?p=2", "GET /search?p=3", "GET /search?p=4",
 "GET /search?p=5", "GET /status"]
--- response_body_like eval
[(qr/^\{"results"/) x 5,
 qr/\A\{"produced":10,"delivered":\d+,"failed":0,.*"pages":5,/s]
--- status_eventually eval
["/status",
 qr/\A\{"produced":10,"delivered":10,"failed":0,"delivered_bytes":[1-9]\d*,/,
 qr/"workers":\[\{"worker":0,"pid":\d+,"produced":10,"delivered":10,"failed":0,"dropped":0,"queue_depth":0\}\]/]
--- status_sums
--- status_bytes_in_topic
--- kafka_topic: status-sum
--- kafka_count: 10
--- no_error_log
[error]



=== TEST 4: only GET and HEAD: POST and PUT get 405
--- config
    location = /status {
        hotel_kafka_status;
    }
--- request eval
["POST /status\nformat=json", "PUT /status\nx", "DELETE /status", "HEAD /status", "GET /status"]
--- error_code eval
[405, 405, 405, 200, 200]
--- response_body_like eval
[qr/405 Not Allowed/, qr/405 Not Allowed/, qr/405 Not Allowed/, qr/^$/,
 qr/\A\{"produced":0,.*"workers":\[\]\}\n\z/s]
--- no_error_log
[error]



=== TEST 5: allow and deny protect it
--- config
    location = /closed {
        deny all;
        hotel_kafka_status;
    }
    location = /local {
        allow 127.0.0.1;
        deny all;
        hotel_kafka_status;
    }
    location = /remote {
        allow 10.0.0.0/8;
        deny all;
        hotel_kafka_status prometheus;
    }
--- request eval
["GET /closed", "GET /local", "GET /remote", "GET /closed?format=json"]
--- error_code eval
[403, 200, 403, 403]
--- response_body_like eval
[qr/403 Forbidden/, qr/\A\{"produced":0,/, qr/403 Forbidden/,
 qr/403 Forbidden/]
--- block_error_log
access forbidden by rule



=== TEST 6: a SASL password is in neither the status nor the log
--- log_level: debug
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_conf security.protocol sasl_plaintext;
    hotel_kafka_conf sasl.mechanisms PLAIN;
    hotel_kafka_conf sasl.username u;
    hotel_kafka_conf sasl.password secret123;
    hotel_kafka_conf debug security,conf;
    hotel_kafka_flush_timeout 100ms;
--- config
    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-status-sasl;
        return 200 '{"results":[{"hotel_id":"x","rate":1,"currency":"EUR"}]}';
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
["GET /search", "GET /status", "GET /status?format=prometheus"]
--- response_body_like eval
[qr/^\{"results"/,
 qr/\A(?!.*secret123)\{"produced":1,/s,
 qr/\A(?!.*secret123)# HELP /s]
--- status_eventually eval
["/status", qr/"last_error":"[^"]*(?i:sasl)[^"]*"/, qr/\A(?!.*secret123)/s]
--- wait: 0.5
--- block_error_log
sasl.password = [redacted]
--- no_error_log
secret123



=== TEST 7: a master and two workers: one entry per worker, totals are their sums
--- use_master
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-status-workers;
        return 200 '{"results":[{"hotel_id":"w$arg_p","rate":5,"currency":"EUR"}]}';
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
["GET /search?p=1", "GET /search?p=2", "GET /search?p=3", "GET /search?p=4",
 "GET /status"]
--- response_body_like eval
[(qr/^\{"results"/) x 4,
 qr/\A\{"produced":4,/]
--- status_eventually eval
["/status",
 qr/\A\{"produced":4,"delivered":4,"failed":0,/,
 qr/"workers":\[\{"worker":([01]),"pid":([1-9]\d*),"produced":\d+,"delivered":\d+,"failed":0,"dropped":0,"queue_depth":\d+\},\{"worker":(?!\1,)[01],"pid":(?!\2,)[1-9]\d*,"produced":\d+,"delivered":\d+,"failed":0,"dropped":0,"queue_depth":\d+\}\]\}\n\z/]
--- status_sums
--- promtool: /status?format=prometheus
--- kafka_topic: status-workers
--- kafka_count: 4
--- no_error_log
[error]
