# The whole path: nginx with two workers in front of a search backend,
# M result pages of N hotels; the broker then holds exactly M x N results,
# each decoding (with protoc, not our code) to the hotel, rate and
# position the page showed, one search id per page; hotel-trends then
# consumes the topic into SQLite and its totals equal the truth.  The
# same pages again with "hotel_kafka_record page" (M page records of N
# results): the same truth, and per hotel the same count, exact sum, min
# and max as the result records gave.  Last, both topics at once into one
# SQLite file, a consumer for each (the way to read two topics): every
# count and sum doubled, min and max the same.

use Test::Nginx::Socket 'no_plan';
use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use HotelConsumer;
use HotelKafka;
use File::Temp qw(tempdir);

use constant PAGES  => 40;
use constant HOTELS => 5;

repeat_each(1);
no_shuffle();
master_on();
workers(2);
log_level('info');

# the backend writes hotel k's rate on page i as "${k}0" . "%02d" . ".0$k",
# that is k*1000 + i + k/100 (EUR): every page differs
sub rate_micros {
    my ($k, $i) = @_;
    return ($k * 1000 + $i) * 1_000_000 + $k * 10_000;
}

# a result record is keyed by its hotel; a page record has no key and
# holds the page's results
sub expected_records {
    my $mode = shift // 'result';
    my @lines;
    for my $i (1 .. PAGES) {
        for my $k (1 .. HOTELS) {
            push @lines, sprintf "hotel_id=e2e-%d %s rate_micros=%d"
                . " currency=EUR position=%d", $k,
                $mode eq 'page' ? 'results_in_record=' . HOTELS
                                : "key=e2e-$k",
                rate_micros($k, $i), $k - 1;
        }
    }
    return join "\n", @lines;
}

# per hotel, over the hours: "count sum min max", by topic
my %per_hotel;
my $dir = tempdir(CLEANUP => 1);

add_response_body_check(\&check_kafka_block);

# After the Kafka check: one search id per page, then the consumer.
add_response_body_check(sub {
    my ($block, $body, $req_idx, $rep, $dry_run) = @_;
    return if $dry_run || $req_idx != PAGES - 1;

    my $topic = kafka_topic($block->kafka_topic);
    my @recs = kafka_read($topic, expect => PAGES * HOTELS);

    my %records = map { ("$_->{partition}/$_->{offset}" => 1) } @recs;
    is(scalar keys %records, $block->kafka_topic =~ /pages/ ? PAGES
                             : PAGES * HOTELS, "Kafka records");

    my %pages;
    $pages{$_->{search_id}}{$_->{position}}++ for @recs;
    is(scalar keys %pages, PAGES, "one search id per page");
    is(scalar(grep { keys %$_ == HOTELS } values %pages), PAGES,
       "each search id has the page's " . HOTELS . " positions");

    my $db = "$dir/" . $block->kafka_topic . ".db";
    is(system(consume_cmd($topic, $db)), 0, "hotel-trends consume exits 0");

    my (%want, %got);  # hotel => "count sum min max"
    for my $i (1 .. PAGES) {
        for my $k (1 .. HOTELS) {
            my $w = $want{"e2e-$k"} //= [0, 0, undef, undef];
            my $r = rate_micros($k, $i);
            $w->[0]++;
            $w->[1] += $r;
            $w->[2] = $r if !defined $w->[2] || $r < $w->[2];
            $w->[3] = $r if !defined $w->[3] || $r > $w->[3];
        }
    }
    $_ = "@$_" for values %want;

    for (@{ HotelConsumer::sqlite_rows($db, 'SELECT DISTINCT currency'
                                        . ' FROM hotel_rate_hourly') })
    {
        is($_->[0], 'EUR', "aggregated in EUR");
    }
    %got = %{ per_hotel($db) };

    is_deeply(\%got, \%want, "SQLite per-hotel counts, exact sums, min and"
              . " max equal the truth");
    is_deeply(HotelConsumer::db_rejected({ sqlite => $db }), {},
              "nothing rejected");

    $per_hotel{$topic} = \%got;
    my @topics = sort keys %per_hotel;
    return unless @topics == 2;

    is_deeply($per_hotel{$topics[0]}, $per_hotel{$topics[1]},
              "result records and page records give the same aggregates");

    # both topics into one file, a consumer for each, at the same time
    my $both = "$dir/both.db";
    my @pids = map {
        my $pid = fork // die "fork: $!";
        if (!$pid) { exec consume_cmd($_, $both, "$_-both") or exit 127 }
        $pid
    } @topics;
    for my $pid (@pids) {
        waitpid $pid, 0;
        is($?, 0, "a consumer of one topic into the shared file exits 0");
    }
    my %twice = map {
        my ($n, $sum, $min, $max) = split ' ', $want{$_};
        ($_ => join ' ', 2 * $n, 2 * $sum, $min, $max)
    } keys %want;
    is_deeply(per_hotel($both), \%twice, "two topics, one file: counts and"
              . " sums doubled, min and max the same");
});

sub consume_cmd {
    my ($topic, $db, $group) = @_;
    return ($ENV{HOTEL_TRENDS}, 'consume', '-b', kafka_brokers(),
            '-t', $topic, '-g', $group // "$topic-group", '-d', $db,
            '--exit-idle', '3');
}

# hotel => "count sum min max", over the hours
sub per_hotel {
    my $db = shift;
    return { map { ($_->[0] => "@$_[2 .. 5]") }
             @{ HotelConsumer::sqlite_rows($db,
                'SELECT hotel_id, currency, SUM(count), SUM(sum_micros),'
                . ' MIN(min_micros), MAX(max_micros) FROM hotel_rate_hourly'
                . ' GROUP BY hotel_id, currency') } };
}

# both blocks' backend: the same pages
our $HttpConfig = <<'_EOC_';
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;

    server {
        listen unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock;

        location /search {
            default_type application/json;
            return 200 '{"search":{"page":"$arg_i"},"results":[
                {"hotel_id":"e2e-1","rate":"10$arg_i.01","currency":"EUR"},
                {"hotel_id":"e2e-2","rate":20$arg_i.02,"currency":"EUR"},
                {"hotel_id":"e2e-3","rate":30$arg_i.03,"currency":"EUR"},
                {"hotel_id":"e2e-4","rate":40$arg_i.04,"currency":"EUR"},
                {"hotel_id":"e2e-5","rate":50$arg_i.05,"currency":"EUR"}]}';
        }
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: M pages of N hotels through proxy_pass, to the broker, to SQLite
--- http_config eval: $::HttpConfig
--- config
    location /search {
        proxy_pass http://unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-e2e;
    }
--- request eval
[ map { sprintf "GET /search?i=%02d", $_ } 1 .. 40 ]
--- error_code eval
[ (200) x 40 ]
--- kafka_topic: e2e
--- kafka_records eval
main::expected_records()
--- no_error_log
[error]


=== TEST 2: the same pages as page records, the same aggregates
--- http_config eval: $::HttpConfig
--- config
    location /search {
        proxy_pass http://unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock;
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-e2e-pages;
        hotel_kafka_record page;
    }
--- request eval
[ map { sprintf "GET /search?i=%02d", $_ } 1 .. 40 ]
--- error_code eval
[ (200) x 40 ]
--- kafka_topic: e2e-pages
--- kafka_records eval
main::expected_records('page')
--- no_error_log
[error]
