# hotel_kafka_page_buffer: a page within it is read whole by simdjson,
# a longer one by the streaming parser as it passes.  The same page one
# byte under, at and over the bound, and in 1-byte and 100-byte buffers,
# gives the same records; a malformed page the same failure either way.

use Test::Nginx::Socket 'no_plan';
use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use HotelBlocks;

repeat_each(1);
no_shuffle();
log_level('info');
# kafka_*, status_counters (t/lib/HotelBlocks.pm)
add_response_body_check(\&check_block_sections);

our $PAGE = '{"total": 3, "results": [{"hotel_id": "b1", "rate": 10.5, '
          . '"currency": "EUR", "tags": ["x", {"rate": 1}]}, '
          . '{"hotel_id": 2, "rate": "7", "currency": "usd"}, '
          . '{"hotel_id": "b3", "rate": 0, "currency": "EUR"}, 5]}';

sub main::locations {
    my ($page, $topic) = @_;
    my $len = length $page;
    my $conf = '';
    for my $b ($len - 1, $len, $len + 1) {
        $conf .= "    location = /b$b {\n"
               . "        default_type application/json;\n"
               . "        hotel_kafka_search_results on;\n"
               . "        hotel_kafka_page_buffer $b;\n"
               . "        hotel_kafka_topic \$TEST_NGINX_RUN_ID-$topic;\n"
               . "        return 200 '$page';\n"
               . "    }\n";
    }
    # the page in buffers of 100 bytes, then of one byte
    for my $o ([100, 'p100'], [1, 'p1']) {
        $conf .= "    location = /$o->[1] {\n"
               . "        default_type application/json;\n"
               . "        hotel_kafka_search_results on;\n"
               . "        hotel_kafka_topic \$TEST_NGINX_RUN_ID-$topic;\n"
               . "        root \$TEST_NGINX_SERVER_ROOT/html;\n"
               . "        output_buffers 1 $o->[0];\n"
               . "        try_files /page.json =404;\n"
               . "    }\n";
    }
    return $conf . "    location = /kafka-status {\n"
                 . "        hotel_kafka_status;\n    }\n";
}

sub main::requests {
    my $len = length shift;
    return [map { "GET $_" } "/b" . ($len - 1), "/b$len", "/b" . ($len + 1),
                              '/p100', '/p1'];
}

run_tests();

__DATA__

=== TEST 1: a page one byte over the bound, at it and under it: the same records
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config eval
main::locations($main::PAGE, 'bound')
--- user_files eval
">>> page.json\n$main::PAGE"
--- request eval
main::requests($main::PAGE)
--- kafka_topic: bound
--- kafka_records eval
CORE::join "\n", map { "hotel_id=b1 rate_micros=10500000 currency=EUR position=0\n"
                 . "hotel_id=2 rate_micros=7000000 currency=USD position=1" } 1 .. 5
--- status_counters
pages 5
produced 10
skipped.negative_rate 5
skipped.not_object 5
--- no_error_log
[error]



=== TEST 2: a malformed page: the same records before the fault and the same failure either way
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config eval
main::locations(substr($main::PAGE, 0, -1) . ',}', 'bad')
--- user_files eval
">>> page.json\n" . substr($main::PAGE, 0, -1) . ',}'
--- request eval
main::requests(substr($main::PAGE, 0, -1) . ',}')
--- kafka_topic: bad
--- kafka_records eval
CORE::join "\n", map { "hotel_id=b1 rate_micros=10500000 currency=EUR position=0\n"
                 . "hotel_id=2 rate_micros=7000000 currency=USD position=1" } 1 .. 5
--- status_counters
pages 0
pages_failed.syntax 5
produced 10
skipped.negative_rate 5
skipped.not_object 5
