# One rule, one place: the same table of values through both ways in, a
# result page (hotel_kafka_search_results) and a request's variables
# (hotel_kafka_log), gives the same records and the same skip counts.
# The rules themselves are src/core/hk_record_rules.c's: a hotel id of 1
# to 128 bytes of UTF-8 without control characters, a rate above zero
# converted exactly, three letters of currency in either case, recorded
# upper case.

use Test::Nginx::Socket 'no_plan';
use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use HotelBlocks;

repeat_each(1);
no_shuffle();
log_level('info');
# kafka_*, status_counters (t/lib/HotelBlocks.pm)
add_response_body_check(\&check_block_sections);

# id, rate, currency (undef: the field is absent), and what must come of
# them: a record "ID MICROS CURRENCY", or the skip reason.
our @CASES = (
    ['ok-1',       '129.99',    'EUR',  'ok-1 129990000 EUR'],
    ['ok-2',       '10',        'eur',  'ok-2 10000000 EUR'],
    ['ok-3',       '1.2e1',     'Chf',  'ok-3 12000000 CHF'],
    ['i' x 128,    '1',         'USD',  ('i' x 128) . ' 1000000 USD'],
    ["caf\xc3\xa9", '1',        'EUR',  "caf\xc3\xa9 1000000 EUR"],
    ['cur-4',      '10',        'EURO', 'bad_currency'],
    ['cur-digit',  '10',        'E1R',  'bad_currency'],
    ['cur-2',      '10',        'EU',   'bad_currency'],
    ['cur-accent', '10',        "\xc3\x89UR", 'bad_currency'],
    [undef,        '10',        'EUR',  'no_id'],
    ['j' x 129,    '1',         'USD',  'bad_id'],
    ["ctl\x01",    '1',         'USD',  'bad_id'],
    ['no-rate',    undef,       'EUR',  'no_rate'],
    ['zero',       '0',         'EUR',  'negative_rate'],
    ['neg',        '-1',        'EUR',  'negative_rate'],
    ['abc',        'abc',       'EUR',  'bad_rate'],
    ['seventh',    '1.0000001', 'EUR',  'bad_rate'],
    ['no-cur',     '10',        undef,  'no_currency'],
);

sub main::json_string {
    my $s = shift;
    $s =~ s/([\\"])/\\$1/g;
    $s =~ s/([\x00-\x1f])/sprintf '\\u%04x', ord $1/ge;
    return qq{"$s"};
}

# the page: every case a result, in table order
sub main::page {
    my @r;
    for my $c (@CASES) {
        my @f;
        push @f, '"hotel_id": ' . json_string($c->[0]) if defined $c->[0];
        push @f, '"rate": ' . json_string($c->[1]) if defined $c->[1];
        push @f, '"currency": ' . json_string($c->[2]) if defined $c->[2];
        push @r, '{' . join(', ', @f) . '}';
    }
    my $page = '{"results": [' . join(', ', @r) . ']}';
    $page =~ s/'/\\'/g;
    return $page;
}

# the same cases as request headers, one request each
sub main::log_requests { [map { 'GET /log' } @CASES] }

sub main::log_headers {
    [map {
        my $c = $_;
        join "\n", grep { defined }
            (defined $c->[0] ? "X-Id: $c->[0]" : undef),
            (defined $c->[1] ? "X-Rate: $c->[1]" : undef),
            (defined $c->[2] ? "X-Cur: $c->[2]" : undef);
    } @CASES]
}

sub main::expected_records {
    join "\n", map {
        my ($id, $micros, $cur) = split / /, $_->[3];
        "hotel_id=$id rate_micros=$micros currency=$cur";
    } grep { $_->[3] =~ / / } @CASES;
}

sub main::expected_counters {
    my %n;
    $n{$_->[3]}++ for grep { $_->[3] !~ / / } @CASES;
    my $records = grep { $_->[3] =~ / / } @CASES;
    return join "\n", "produced $records",
        map { "skipped.$_ " . ($n{$_} || 0) }
            qw(no_id bad_id no_rate bad_rate negative_rate no_currency
               bad_currency not_object);
}

run_tests();

__DATA__

=== TEST 1: the table as a result page
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config eval
"    location = /search {
        default_type application/json;
        hotel_kafka_search_results on;
        hotel_kafka_topic \$TEST_NGINX_RUN_ID-rules-page;
        return 200 '" . main::page() . "';
    }

    location = /kafka-status {
        hotel_kafka_status;
    }"
--- request
GET /search
--- kafka_topic: rules-page
--- kafka_records eval
main::expected_records()
--- status_counters eval
main::expected_counters() . "\npages 1\n"
--- no_error_log
[error]



=== TEST 2: the table as request variables, a record per request
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /log {
        hotel_kafka_topic $TEST_NGINX_RUN_ID-rules-log;
        hotel_kafka_log id=$http_x_id rate=$http_x_rate currency=$http_x_cur;
        return 204;
    }

    location = /kafka-status {
        hotel_kafka_status;
    }
--- request eval
main::log_requests()
--- more_headers eval
main::log_headers()
--- error_code eval
[map { 204 } @main::CASES]
--- kafka_topic: rules-log
--- kafka_records eval
main::expected_records()
--- status_counters eval
main::expected_counters()
--- no_error_log
[error]
