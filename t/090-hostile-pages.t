# Hostile result pages through nginx: thousands of nesting levels, a giant
# token, a 100 MB page, invalid UTF-8, NaN, overflowing numbers, duplicate
# keys.  Each page reaches the client byte for byte, nothing crashes, the
# worker's memory stays bounded (its peak RSS is far below the page size),
# and the reason is counted.  Every block runs twice: as configured (a page
# within hotel_kafka_page_buffer is read whole, by simdjson or, for these,
# by yajl when simdjson declines) and with every page streamed: the same
# records and the same counts.

use Test::Nginx::Socket 'no_plan';
use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use HotelKafka;
use Digest::MD5 qw(md5_hex);
use File::Temp qw(tempdir);

repeat_each(1);
no_shuffle();
log_level('info');

my $dir = tempdir(CLEANUP => 1);
$ENV{TEST_NGINX_HOSTILE_DIR} = $dir;

sub write_page {
    my ($name, @parts) = @_;
    open my $fh, '>', "$dir/$name" or die "$dir/$name: $!";
    binmode $fh;
    print $fh $_ for @parts;
    close $fh or die $!;
}

my $one = '{"hotel_id":"ok-1","rate":10,"currency":"EUR"}';

write_page('deep.json', '{"results":[', $one, ',{"hotel_id":"deep","x":',
           '[' x 5000, ']' x 5000, ',"rate":1,"currency":"EUR"}]}');

write_page('token.json', '{"results":[', $one, ',{"hotel_id":"big","name":"',
           'x' x (10 * 1024 * 1024), '","rate":1,"currency":"EUR"}]}');

# 100 MB (10 MB under valgrind, fifty times slower): two results, then a
# padding array of small numbers that the parser must read to the end
{
    my $chunks = $ENV{TEST_NGINX_USE_VALGRIND} ? 100 : 1000;
    open my $fh, '>', "$dir/huge.json" or die $!;
    print $fh '{"results":[', $one,
              ',{"hotel_id":"ok-2","rate":"20.5","currency":"EUR"}],"pad":[';
    my $chunk = join(',', (1234567) x 12500) . ',';   # 100,000 bytes
    print $fh $chunk for 1 .. $chunks;
    print $fh '0]}';
    close $fh or die $!;
}

write_page('utf8.json', '{"results":[', $one,
           ',{"hotel_id":"bad-\xc3\x28","rate":1,"currency":"EUR"}]}');

write_page('nan.json', '{"results":[', $one,
           ',{"hotel_id":"nan","rate":NaN,"currency":"EUR"}]}');

write_page('numbers.json', '{"results":[',
           '{"hotel_id":"o1","rate":1e400,"currency":"EUR"},',
           '{"hotel_id":"o2","rate":99999999999999999999,"currency":"EUR"},',
           '{"hotel_id":"o3","rate":"Infinity","currency":"EUR"},',
           '{"hotel_id":"o4","rate":-0.0,"currency":"EUR"},',
           '{"hotel_id":"dup","rate":"x","rate":30,"currency":"EUR",',
           '"hotel_id":"dup-last"}]}');

my %md5;
for my $f (qw(deep token huge utf8 nan numbers)) {
    open my $fh, '<', "$dir/$f.json" or die $!;
    binmode $fh;
    $md5{"/$f.json"} = Digest::MD5->new->addfile($fh)->hexdigest;
}

# every page byte for byte (the status request excepted)
add_response_body_check(sub {
    my ($block, $body, $req_idx) = @_;
    my $req = $block->request;
    my $uri = ref $req ? $req->[$req_idx] : $req;
    ($uri) = $uri =~ m{^GET (\S+)};
    return unless $md5{$uri};
    is(md5_hex($body), $md5{$uri}, "$uri reached the client byte for byte");
});

# the worker's peak RSS, read after the pages, stays far below 100 MB
add_response_body_check(sub {
    my ($block, $body, $req_idx) = @_;
    return unless defined $block->max_peak_rss_mb;
    # under valgrind the process's RSS is valgrind's
    return if $ENV{TEST_NGINX_USE_VALGRIND};
    my $req = $block->request;
    return unless ref $req && $req_idx == $#$req;
    open my $pf, '<', server_root() . '/logs/nginx.pid' or die $!;
    chomp(my $pid = <$pf>);
    open my $st, '<', "/proc/$pid/status" or die $!;
    my ($hwm) = map { /^VmHWM:\s+(\d+)/ ? $1 : () } <$st>;
    cmp_ok($hwm / 1024, '<', $block->max_peak_rss_mb,
           "peak RSS ${\ int($hwm / 1024)} MB while serving the pages");
});

add_response_body_check(\&check_kafka_block);

run_tests();

__DATA__
=== TEST 1: nesting, a giant token, 100 MB, invalid UTF-8, NaN
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location ~ \.json$ {
        root $TEST_NGINX_HOSTILE_DIR;
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-hostile;
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
["GET /deep.json", "GET /token.json", "GET /huge.json", "GET /utf8.json",
 "GET /nan.json", "GET /status"]
--- timeout: 60
--- response_body_like eval
[qr//, qr//, qr//, qr//, qr//,
 qr/"pages":1,"pages_failed":\{"syntax":2,"depth":1,"token":1,"no_results":0,"compressed":0,"nomem":0,"partial":0,"truncated":0,"not_in_memory":0\}/]
--- max_peak_rss_mb: 60
--- kafka_topic: hostile
--- kafka_records
hotel_id=ok-1
hotel_id=ok-1
hotel_id=ok-1 rate_micros=10000000
hotel_id=ok-2 rate_micros=20500000
hotel_id=ok-1
hotel_id=ok-1
--- no_error_log
[error]
[alert]



=== TEST 2: numbers that overflow, Infinity, zero, duplicate keys
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location ~ \.json$ {
        root $TEST_NGINX_HOSTILE_DIR;
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-numbers;
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
["GET /numbers.json", "GET /status"]
--- response_body_like eval
[qr//, qr/"skipped":\{"no_id":0,"bad_id":0,"no_rate":0,"bad_rate":3,"negative_rate":1,/]
--- kafka_topic: numbers
--- kafka_records
hotel_id=dup-last rate_micros=30000000 position=4
--- no_error_log
[error]



=== TEST 3: the same pages streamed (hotel_kafka_page_buffer 0): the same outcomes
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location ~ \.json$ {
        root $TEST_NGINX_HOSTILE_DIR;
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_page_buffer 0;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-hostile-stream;
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
["GET /deep.json", "GET /token.json", "GET /huge.json", "GET /utf8.json",
 "GET /nan.json", "GET /status"]
--- timeout: 60
--- response_body_like eval
[qr//, qr//, qr//, qr//, qr//,
 qr/"pages":1,"pages_failed":\{"syntax":2,"depth":1,"token":1,"no_results":0,"compressed":0,"nomem":0,"partial":0,"truncated":0,"not_in_memory":0\}/]
--- max_peak_rss_mb: 60
--- kafka_topic: hostile-stream
--- kafka_records
hotel_id=ok-1
hotel_id=ok-1
hotel_id=ok-1 rate_micros=10000000
hotel_id=ok-2 rate_micros=20500000
hotel_id=ok-1
hotel_id=ok-1
--- no_error_log
[error]
[alert]



=== TEST 4: the same numbers streamed: the same outcomes
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location ~ \.json$ {
        root $TEST_NGINX_HOSTILE_DIR;
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_page_buffer 0;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-numbers-stream;
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
["GET /numbers.json", "GET /status"]
--- response_body_like eval
[qr//, qr/"skipped":\{"no_id":0,"bad_id":0,"no_rate":0,"bad_rate":3,"negative_rate":1,/]
--- kafka_topic: numbers-stream
--- kafka_records
hotel_id=dup-last rate_micros=30000000 position=4
--- no_error_log
[error]
