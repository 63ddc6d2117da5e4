# hotel-trends: the records it must refuse, the ones it must still count,
# topics that are empty or appear late, and the report's arithmetic.
#
#   - poison records (not protobuf, empty, a tombstone, no hotel id, bad
#     ids, zero and negative rates, bad currencies, bad times, a foreign
#     schema header, a NUL inside the hotel id or the currency) in one
#     partition among good ones (one with a field from a newer schema
#     version, one without headers): each poison record counted once
#     in rejected_records under its reason, the partition moves on and
#     the good records around them are counted;
#   - a record hours old lands in its old hourly bucket, also once that
#     bucket was written by an earlier run; one from the future is
#     counted if less than a day ahead, refused (bad_time) beyond;
#   - an empty topic: --exit-idle exits 0 and leaves empty tables;
#   - a topic created (and filled) after the consumer subscribed to it;
#   - report --format table, csv and json for a tiny dataset, against
#     expectations computed by hand (averages half-up to the cent, min,
#     max, 24 h and 7 d windows and trends, window edges, CSV quoting,
#     the JSON's exact sums and counts per window).

use strict;
use warnings;

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use Test::More;
use Time::HiRes qw(sleep time);

use HotelConsumer;
use HotelRecords;
use HotelSuite;

needs(env => [qw(TEST_NGINX_KAFKA_BROKERS HOTEL_KAFKA_DIR HOTEL_TRENDS)],
      built => [qw(HOTEL_TRENDS)], tools => [qw(kcat sqlite3 protoc)]);
my ($uniq, $dir) = start_run('hotel-trends-220');
my $t0 = time;

my $H = 3600;
my $now = int(time / $H) * $H;      # the current hour's start
my $ms = sub { int($_[0] * 1000) };

sub rec {
    my %f = (currency => 'EUR', search_id => 'sid', @_);
    return encode_record(%f);
}

sub consume {
    my (%o) = @_;
    my $pid = consumer_start(%o, args => [ '--exit-idle', 2,
                                           @{ $o{args} || [] } ]);
    my $st = consumer_wait($pid, 90);
    kill 'KILL', $pid unless defined $st;
    return $st;
}

sub report {
    my ($db, @args) = @_;
    open my $fh, '-|', $ENV{HOTEL_TRENDS}, 'report', '-d', $db, @args
        or die "report: $!\n";
    binmode $fh;
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return ($?, $out);
}

# ------------------------------------------------------------- poison

my $topic = create_topic("$uniq-poison", 3);
my $db = "$dir/poison.db";
my $dbh = { sqlite => $db };
my $log = "$dir/poison.log";

my $not_pb1 = "\x0a\x10abc";                    # a string cut short
my $not_pb2 = '{"hotel_id":"h1","rate":129.99}'; # JSON: a group tag

# they are not protobuf to Google's decoder either
ok !eval { HotelRecords::protoc_decode($not_pb1); 1 },
    'protoc refuses the truncated value too';
ok !eval { HotelRecords::protoc_decode($not_pb2); 1 },
    'protoc refuses the JSON value too';

my $t1 = ($now - $H) + 10;          # last hour
my $late = ($now - 30 * $H) + 20;   # 30 hours ago
my $soon = ($now + 2 * $H) + 30;    # 2 hours ahead: fine
my $far = time + 2 * 86400;         # 2 days ahead: a broken clock

# all under one key: one partition, poison between good records
my @px = (
    [ good  => rec(hotel_id => 'e1', rate_micros => 100_000_000,
                   search_time_ms => $ms->($t1)) ],
    [ undecodable => $not_pb1 ],
    [ undecodable => $not_pb2 ],
    [ missing_hotel_id => '' ],
    [ missing_hotel_id => rec(rate_micros => 1_000_000,
                              search_time_ms => $ms->($t1)) ],
    [ bad_rate => rec(hotel_id => 'e1', rate_micros => -129_990_000,
                      search_time_ms => $ms->($t1)) ],
    [ bad_rate => rec(hotel_id => 'e1', rate_micros => 0,
                      search_time_ms => $ms->($t1)) ],
    [ bad_currency => rec(hotel_id => 'e1', rate_micros => 1, currency => 'E1R',
                          search_time_ms => $ms->($t1)) ],
    # the record's rule: a lower-case currency is counted upper case
    [ good => rec(hotel_id => 'e4', rate_micros => 4_000_000,
                  currency => 'eur', search_time_ms => $ms->($t1)) ],
    [ bad_currency => rec(hotel_id => 'e1', rate_micros => 1, currency => 'EURO',
                          search_time_ms => $ms->($t1)) ],
    [ bad_currency => rec(hotel_id => 'e1', rate_micros => 1, currency => undef,
                          search_time_ms => $ms->($t1)) ],
    [ bad_hotel_id => rec(hotel_id => "e\xff", rate_micros => 1,
                          search_time_ms => $ms->($t1)) ],
    # the record's bound on an id: 128 bytes
    [ bad_hotel_id => rec(hotel_id => 'x' x 129, rate_micros => 1,
                          search_time_ms => $ms->($t1)) ],
    [ good => rec(hotel_id => 'y' x 128, rate_micros => 7_000_000,
                  search_time_ms => $ms->($t1)) ],
    [ bad_hotel_id => rec(hotel_id => "e\x01", rate_micros => 1,
                          search_time_ms => $ms->($t1)) ],
    # a NUL would cut the id (or currency) short into another one's
    [ bad_hotel_id => rec(hotel_id => "e1\0evil", rate_micros => 1,
                          search_time_ms => $ms->($t1)) ],
    [ bad_currency => rec(hotel_id => 'e1', rate_micros => 1,
                          currency => "EUR\0X", search_time_ms => $ms->($t1)) ],
    # a field from a newer schema version (7, a varint) is skipped
    [ good => rec(hotel_id => 'e3', rate_micros => 3_000_000,
                  search_time_ms => $ms->($t1)) . "\x38\x05" ],
    [ bad_time => rec(hotel_id => 'e1', rate_micros => 1,
                      search_time_ms => 0) ],
    [ bad_time => rec(hotel_id => 'e1', rate_micros => 1,
                      search_time_ms => 946684799999) ],   # 1999
    [ bad_time => rec(hotel_id => 'e1', rate_micros => 1,
                      search_time_ms => $ms->($far)) ],
    [ good => rec(hotel_id => 'e1', rate_micros => 200_000_000,
                  search_time_ms => $ms->($soon)) ],
    [ good => rec(hotel_id => 'e1', rate_micros => 300_000_000,
                  search_time_ms => $ms->($late)) ],
    [ good => rec(hotel_id => 'e1', rate_micros => 100_000_001,
                  search_time_ms => $ms->($t1)) ],
);
produce_records($topic, [ map { [ 'px', $_->[1] ] } @px ]);

# a valid value under another schema's name, then one without headers
# (read as a HotelSearchResult: headers are optional), then a tombstone
produce_records($topic, [ [ 'px', rec(hotel_id => 'e1', rate_micros => 5,
                                      search_time_ms => $ms->($t1)) ] ],
                headers => [ schema => 'hotelsearch.v2.HotelSearchResult',
                             'schema-version' => 1 ]);
produce_records($topic, [ [ 'px', rec(hotel_id => 'e2', rate_micros => 1_500_000,
                                      currency => 'USD',
                                      search_time_ms => $ms->($t1)) ] ],
                headers => []);
produce_records($topic, [ [ 'px', '' ] ], kcat_args => [ '-Z' ]);
# and good records on the other partitions
produce_records($topic, [ map { [ "k$_", rec(hotel_id => "k$_",
                                              rate_micros => 1_000_000 * $_,
                                              search_time_ms => $ms->($t1)) ] }
                          1 .. 30 ]);

my $end = end_offsets($topic, 3);

is consume(topic => $topic, group => "$uniq-gp", db => $db, log => $log), 0,
    'poison: consumer runs to the end, exits 0' or diag log_tail($log);

my %want_rej = (unknown_schema => 1, missing_hotel_id => 1);
$want_rej{$_->[0]}++ for grep { $_->[0] ne 'good' } @px;
is_deeply db_rejected($dbh), \%want_rej,
    'poison: rejected_records counts each reason'
    or diag explain db_rejected($dbh);

is_deeply db_offsets($dbh, $topic), $end,
    "poison: every partition consumed to its end (@$end)";

my $B = sub { my $s = shift; $s - $s % $H };
my %want = (
    "e1\0EUR\0" . $B->($t1) => [2, 200_000_001, 100_000_000, 100_000_001],
    "e1\0EUR\0" . $B->($soon) => [1, 200_000_000, 200_000_000, 200_000_000],
    "e1\0EUR\0" . $B->($late) => [1, 300_000_000, 300_000_000, 300_000_000],
    ('y' x 128) . "\0EUR\0" . $B->($t1) => [1, 7_000_000, 7_000_000, 7_000_000],
    "e4\0EUR\0" . $B->($t1) => [1, 4_000_000, 4_000_000, 4_000_000],
    "e2\0USD\0" . $B->($t1) => [1, 1_500_000, 1_500_000, 1_500_000],
    "e3\0EUR\0" . $B->($t1) => [1, 3_000_000, 3_000_000, 3_000_000],
    map { ("k$_\0EUR\0" . $B->($t1) => [1, (1_000_000 * $_) x 3]) } 1 .. 30,
);
my @diff = compare_aggregates(db_aggregates($dbh), \%want);
ok !@diff, 'poison: the good records before, between and after the poison '
    . 'are counted, in their hours (late, current, 2 h ahead)'
    or diag join "\n", @diff;

like log_tail($log, 200), qr/rejected \d+ records:.*undecodable=2/,
    'poison: the rejected records are logged with their reasons';

# late records, once their buckets were written: a second run adds to
# the 30 hours old bucket and makes one 10 days back
my $older = ($now - 240 * $H) + 1;
produce_records($topic, [
    [ 'px', rec(hotel_id => 'e1', rate_micros => 299_999_999,
                search_time_ms => $ms->($late + 100)) ],
    [ 'px', rec(hotel_id => 'e1', rate_micros => 300_000_002,
                search_time_ms => $ms->($late + 200)) ],
    [ 'px', rec(hotel_id => 'e1', rate_micros => 42_000_000,
                search_time_ms => $ms->($older)) ],
]);
is consume(topic => $topic, group => "$uniq-gp", db => $db, log => $log), 0,
    'late: second run exits 0' or diag log_tail($log);
$want{"e1\0EUR\0" . $B->($late)} = [3, 900_000_001, 299_999_999, 300_000_002];
$want{"e1\0EUR\0" . $B->($older)} = [1, (42_000_000) x 3];
@diff = compare_aggregates(db_aggregates($dbh), \%want);
ok !@diff, 'late: records hours and days old update their old buckets'
    or diag join "\n", @diff;
is_deeply db_rejected($dbh), \%want_rej, 'late: no new refusals';

# ------------------------------------------------------- empty topic

{
    my $t = create_topic("$uniq-empty", 3);
    my $edb = "$dir/empty.db";
    my $elog = "$dir/empty.log";
    my $s = time;
    is consume(topic => $t, group => "$uniq-ge", db => $edb, log => $elog),
        0, 'empty topic: --exit-idle exits 0' or diag log_tail($elog);
    my $took = time - $s;
    cmp_ok $took, '<', 30, sprintf 'empty topic: within %.0fs', $took;
    is sqlite_rows($edb, 'SELECT count(*) FROM hotel_rate_hourly')->[0][0],
        0, 'empty topic: no aggregates';
    is sqlite_rows($edb, 'SELECT count(*) FROM rejected_records')->[0][0],
        0, 'empty topic: nothing refused';
    is_deeply db_offsets({ sqlite => $edb }, $t), [-1, -1, -1],
        'empty topic: partitions claimed, nothing written';
    my ($st, $out) = report($edb, '--format', 'csv');
    is $out, "hotel,currency,count,avg,min,max,avg_24h,trend_24h,avg_7d,"
        . "trend_7d\n", 'empty topic: the report is a header';
}

# ------------------------------------------- topic created afterwards

{
    my $t = "$uniq-later";
    my $ldb = "$dir/later.db";
    my $llog = "$dir/later.log";
    my $started = time;
    my $pid = consumer_start(topic => $t, group => "$uniq-gl", db => $ldb,
                             log => $llog);
    sleep 3;
    ok consumer_alive($pid), 'later topic: consumer waits for it'
        or diag log_tail($llog);
    like log_tail($llog), qr/Subscribed topic not available|Unknown topic/,
        'later topic: its absence is logged';
    create_topic($t, 3);
    produce_records($t, [ map { [ "l$_", rec(hotel_id => "l$_",
                                              rate_micros => 2_000_000,
                                              search_time_ms => $ms->($t1)) ] }
                          1 .. 20 ]);
    my $deadline = time + 60;
    my $n = 0;
    while (time < $deadline && consumer_alive($pid)) {
        $n = eval { sqlite_rows($ldb, 'SELECT coalesce(sum(count), 0)'
                                . ' FROM hotel_rate_hourly')->[0][0] } // 0;
        last if $n >= 20;
        sleep 0.2;
    }
    note sprintf 'later topic: consumed %.0fs after the consumer started',
        time - $started if $n == 20;
    is $n, 20, 'later topic: its records are consumed'
        or diag log_tail($llog);
    is consumer_stop($pid, 'TERM', 30), 0, 'later topic: SIGTERM exits 0';
    is_deeply db_offsets({ sqlite => $ldb }, $t), end_offsets($t, 3),
        'later topic: offsets at the end';
}

# ------------------------------------------------------------ report

{
    my $t = create_topic("$uniq-report", 3);
    my $rdb = "$dir/report.db";
    my $rlog = "$dir/report.log";
    my $D = 86400;
    my @r = (
        [ 'h1',    'EUR', $now - 2 * $H + 100,   100_000_000 ],
        [ 'h1',    'EUR', $now - 2 * $H + 200,   100_010_000 ],
        [ 'h1',    'EUR', $now - 26 * $H,         50_000_000 ],
        [ 'h"2,b', 'USD', $now - $H,              10_004_999 ],
        [ 'h"2,b', 'USD', $now - 3 * $D,          20_000_000 ],
        [ 'h"2,b', 'USD', $now - 9 * $D,          12_500_000 ],
        [ 'h1',    'GBP', $now - 5 * $H,           1_235_000 ],
        [ 'h1',    'GBP', $now - 30 * $H,          2_470_000 ],
        # the window edges: an hour starting exactly 24 h (48 h) before
        # "now" is in the last (previous) 24 h; the current hour in none
        [ 'h3',    'EUR', $now - $D + 10,         99_850_000 ],
        [ 'h3',    'EUR', $now - 2 * $D + 10,    100_000_000 ],
        [ 'h3',    'EUR', $now + 600,            500_000_000 ],
        [ 'h4',    'JPY', $now - $H,             100_150_000 ],
        [ 'h4',    'JPY', $now - 25 * $H,        100_000_000 ],
    );
    produce_records($t, [
        (map { [ $_->[0], rec(hotel_id => $_->[0], currency => $_->[1],
                              search_time_ms => $ms->($_->[2]),
                              rate_micros => $_->[3]) ] } @r),
        [ 'h1', rec(hotel_id => 'h1', currency => 'E-R', rate_micros => 1,
                    search_time_ms => $ms->($t1)) ],
    ]);
    is consume(topic => $t, group => "$uniq-gr", db => $rdb, log => $rlog),
        0, 'report data consumed' or diag log_tail($rlog);

    # by hand: h1/EUR last 24 h (100.00 + 100.01) / 2 = 100.005 -> 100.01,
    # trend (100.005 - 50) / 50 = +100.01% -> +100.0%; all 250.01 / 3 =
    # 83.3366 -> 83.34. h"2,b: 24 h 10.004999 -> 10.00; 7 d 30.004999 / 2
    # = 15.0024995 -> 15.00, against 12.50: +20.02% -> +20.0%; all
    # 42.504999 / 3 = 14.168333 -> 14.17. h1/GBP: 1.235 -> 1.24 (half up),
    # -50.0%, all 3.705 / 2 = 1.8525 -> 1.85. h3: 24 h 99.85 against 100:
    # -0.15% -> -0.2% (half away from zero), 7 d 199.85 / 2 = 99.925 ->
    # 99.93, all 699.85 / 3 = 233.2833 -> 233.28. h4: +0.15% -> +0.2%,
    # 200.15 / 2 = 100.075 -> 100.08.
    my ($st, $out) = report($rdb, '--now', $now);
    is $st, 0, 'report: table exits 0';
    is $out, <<'EOF', 'report: table';
hotel  currency  count     avg     min     max  avg_24h  trend_24h  avg_7d  trend_7d
h"2,b  USD           3   14.17   10.00   20.00    10.00          -   15.00    +20.0%
h1     EUR           3   83.34   50.00  100.01   100.01    +100.0%   83.34         -
h1     GBP           2    1.85    1.24    2.47     1.24     -50.0%    1.85         -
h3     EUR           3  233.28   99.85  500.00    99.85      -0.2%   99.93         -
h4     JPY           2  100.08  100.00  100.15   100.15      +0.2%  100.08         -
# rejected bad_currency: 1
EOF

    ($st, $out) = report($rdb, '--now', $now, '--format', 'csv');
    is $out, <<'EOF', 'report: csv (quoted id, empty cells)';
hotel,currency,count,avg,min,max,avg_24h,trend_24h,avg_7d,trend_7d
"h""2,b",USD,3,14.17,10.00,20.00,10.00,,15.00,+20.0%
h1,EUR,3,83.34,50.00,100.01,100.01,+100.0%,83.34,
h1,GBP,2,1.85,1.24,2.47,1.24,-50.0%,1.85,
h3,EUR,3,233.28,99.85,500.00,99.85,-0.2%,99.93,
h4,JPY,2,100.08,100.00,100.15,100.15,+0.2%,100.08,
EOF

    # the JSON also carries the exact integers: the period's sum, minimum
    # and maximum in micros, each window's count and sum
    ($st, $out) = report($rdb, '--now', $now, '--format', 'json');
    (my $want_json = <<'EOF') =~ s/NOW/$now/;
{"rows":[
{"hotel":"h\"2,b","currency":"USD","count":3,"avg":14.17,"min":10.00,"max":20.00,"avg_24h":10.00,"trend_24h":null,"avg_7d":15.00,"trend_7d":"+20.0%","sum_micros":42504999,"min_micros":10004999,"max_micros":20000000,"count_24h":1,"sum_micros_24h":10004999,"count_prev_24h":0,"sum_micros_prev_24h":0,"count_7d":2,"sum_micros_7d":30004999,"count_prev_7d":1,"sum_micros_prev_7d":12500000},
{"hotel":"h1","currency":"EUR","count":3,"avg":83.34,"min":50.00,"max":100.01,"avg_24h":100.01,"trend_24h":"+100.0%","avg_7d":83.34,"trend_7d":null,"sum_micros":250010000,"min_micros":50000000,"max_micros":100010000,"count_24h":2,"sum_micros_24h":200010000,"count_prev_24h":1,"sum_micros_prev_24h":50000000,"count_7d":3,"sum_micros_7d":250010000,"count_prev_7d":0,"sum_micros_prev_7d":0},
{"hotel":"h1","currency":"GBP","count":2,"avg":1.85,"min":1.24,"max":2.47,"avg_24h":1.24,"trend_24h":"-50.0%","avg_7d":1.85,"trend_7d":null,"sum_micros":3705000,"min_micros":1235000,"max_micros":2470000,"count_24h":1,"sum_micros_24h":1235000,"count_prev_24h":1,"sum_micros_prev_24h":2470000,"count_7d":2,"sum_micros_7d":3705000,"count_prev_7d":0,"sum_micros_prev_7d":0},
{"hotel":"h3","currency":"EUR","count":3,"avg":233.28,"min":99.85,"max":500.00,"avg_24h":99.85,"trend_24h":"-0.2%","avg_7d":99.93,"trend_7d":null,"sum_micros":699850000,"min_micros":99850000,"max_micros":500000000,"count_24h":1,"sum_micros_24h":99850000,"count_prev_24h":1,"sum_micros_prev_24h":100000000,"count_7d":2,"sum_micros_7d":199850000,"count_prev_7d":0,"sum_micros_prev_7d":0},
{"hotel":"h4","currency":"JPY","count":2,"avg":100.08,"min":100.00,"max":100.15,"avg_24h":100.15,"trend_24h":"+0.2%","avg_7d":100.08,"trend_7d":null,"sum_micros":200150000,"min_micros":100000000,"max_micros":100150000,"count_24h":1,"sum_micros_24h":100150000,"count_prev_24h":1,"sum_micros_prev_24h":100000000,"count_7d":2,"sum_micros_7d":200150000,"count_prev_7d":0,"sum_micros_prev_7d":0}
],"rejected":{"bad_currency":1},"now":NOW,"window":86400}
EOF
    is $out, $want_json,
        'report: json (exact decimals, null for none, the exact integers)';

    # filters, and a clock a day later: yesterday's hours become the
    # previous day, today's have none
    ($st, $out) = report($rdb, '--now', $now + 86400, '--format', 'csv',
                         '--hotel', 'h1', '--currency', 'EUR');
    is $out, <<'EOF', 'report: --hotel, --currency and a later --now';
hotel,currency,count,avg,min,max,avg_24h,trend_24h,avg_7d,trend_7d
h1,EUR,3,83.34,50.00,100.01,,,83.34,
EOF
    ($st, $out) = report($rdb, '--now', $now, '--format', 'csv',
                         '--since', $now - 2 * $D, '--until', $now);
    is $out, <<'EOF', 'report: --since/--until keep only those hours';
hotel,currency,count,avg,min,max,avg_24h,trend_24h,avg_7d,trend_7d
"h""2,b",USD,1,10.00,10.00,10.00,10.00,,10.00,
h1,EUR,3,83.34,50.00,100.01,100.01,+100.0%,83.34,
h1,GBP,2,1.85,1.24,2.47,1.24,-50.0%,1.85,
h3,EUR,2,99.93,99.85,100.00,99.85,-0.2%,99.93,
h4,JPY,2,100.08,100.00,100.15,100.15,+0.2%,100.08,
EOF
}

note sprintf 'done in %.0fs', time - $t0;
done_testing;
