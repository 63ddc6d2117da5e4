# hotel-trends consume --metrics-file: the figures a scrape reads, checked
# against a known stream, and every file checked by promtool.
#
#   - a stream of good records and poison ones (reasons known): after
#     the run the file says what was consumed, counted and rejected by
#     reason, the batches (as many as the closing log line), the three
#     partitions held and each at lag 0, a last commit and a write
#     within the run; promtool check metrics finds nothing to say;
#   - more records, read by a consumer whose batch stays open (a long
#     --batch-time): while they are read but not in the database, the
#     file says so: consumed, none counted, the lag of each partition
#     the records it got, the last commit not moving; on SIGTERM the
#     batch is written and the last file has them counted, lag 0;
#   - a consumer waiting for a PostgreSQL server that is not there
#     writes the file all the same: no partition held (the alert
#     HotelTrendsNotConsuming), a fresh write;
#   - the alerting rules of doc/prometheus pass promtool check rules,
#     and their unit test (t/prometheus) passes promtool test rules.

use strict;
use warnings;

use File::Spec;
use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use Test::More;
use Time::HiRes qw(sleep time);

use HotelConsumer;
use HotelRecords;
use HotelSuite;

needs(env => [qw(TEST_NGINX_KAFKA_BROKERS HOTEL_KAFKA_DIR HOTEL_TRENDS)],
      built => [qw(HOTEL_TRENDS)]);
plan skip_all => 'promtool is not installed (scripts/deps: prometheus)'
    unless have_tool('promtool');
my ($uniq, $dir) = start_run('hotel-trends-270');
my $t0 = time;
my $root = File::Spec->rel2abs(__FILE__ =~ s{/[^/]*$}{}r . '/..');

my $topic = create_topic("$uniq-metrics", 3);
my $db = "$dir/metrics.db";
my $prom = "$dir/hotel-trends.prom";
my $log = "$dir/metrics.log";
my $ms = int(time * 1000);

sub good {
    my $n = shift;
    return [ map { [ "m$_", encode_record(hotel_id => "m$_",
                                          rate_micros => 1_000_000 * $_,
                                          currency => 'EUR',
                                          search_time_ms => $ms,
                                          search_id => 's') ] } 1 .. $n ];
}

# name{labels} => value, from the text format
sub samples {
    my $text = shift;
    my %s;
    for (split /\n/, $text) {
        next if /^#/ || !length;
        my ($k, $v) = /^(\S+) (\S+)$/ or return { bad_line => $_ };
        $s{$k} = $v;
    }
    return \%s;
}

sub slurp {
    open my $fh, '<', $_[0] or return '';
    local $/;
    return <$fh>;
}

# promtool's verdict on a text: (exit status, what it printed)
sub promtool_check {
    my $text = shift;
    my $f = "$dir/check.prom";
    open my $fh, '>', $f or die "$f: $!\n";
    print $fh $text;
    close $fh;
    my $out = `promtool check metrics < '$f' 2>&1`;
    return ($? >> 8, $out);
}

sub lag {
    my ($s, $p) = @_;
    return $s->{"hotel_trends_partition_lag_records{topic=\"$topic\","
                . "partition=\"$p\"}"};
}

# ------------------------------------------------- promtool sees faults

{
    # the check is known to fail: a counter without _total, a sample
    # before its family's TYPE
    my ($st, $out) = promtool_check("# HELP x_seconds A.\n"
                                    . "# TYPE x_seconds counter\n"
                                    . "x_seconds 1\n");
    ok $st != 0 && $out =~ /should have "_total" suffix/,
        'promtool: a bad text is reported'
        or diag $out;
}

# ----------------------------------------------- phase 1: a known run

my %poison = (undecodable => [ "\x0a\x10abc", "{\"hotel_id\":1}",
                               "\xff\xff\xff" ],
              bad_rate => [ map { encode_record(hotel_id => 'p',
                                                rate_micros => $_,
                                                currency => 'EUR',
                                                search_time_ms => $ms) }
                            (-5, -1_000_000) ],
              bad_currency => [ encode_record(hotel_id => 'p',
                                              rate_micros => 1,
                                              currency => 'EURO',
                                              search_time_ms => $ms) ]);
produce_records($topic, good(300));
produce_records($topic, [ map { my $r = $_; map { [ "p$r", $_ ] }
                                @{ $poison{$r} } } sort keys %poison ]);
my $total = 300 + 6;

my $start = time;
my $pid = consumer_start(topic => $topic, group => "$uniq-g", db => $db,
                         log => $log,
                         args => [ '--exit-idle', 2, '--metrics-file', $prom,
                                   '--metrics-interval', 1 ]);
is consumer_wait($pid, 120), 0, 'phase 1: the consumer runs to the end'
    or diag log_tail($log);
my $end = time;

my $text = slurp($prom);
my ($st, $out) = promtool_check($text);
is $st, 0, 'phase 1: promtool check metrics passes';
is $out, '', 'phase 1: and has nothing to say' or diag $out;

my $s = samples($text);
my ($batches) = log_tail($log, 50) =~ /closing: .* (\d+) batches/;
is $s->{hotel_trends_records_consumed_total}, $total, "consumed $total";
is $s->{hotel_trends_records_counted_total}, 300, 'counted 300';
is_deeply { map { /reason="(\w+)"/ ? ($1 => $s->{$_}) : () }
            grep { /^hotel_trends_records_rejected_total/ } keys %$s },
    { undecodable => 3, bad_rate => 2, bad_currency => 1,
      unknown_schema => 0, missing_hotel_id => 0, bad_hotel_id => 0,
      bad_time => 0, sum_overflow => 0 },
    'rejected by reason, every reason written';
is $s->{hotel_trends_offsets_skipped_total}, 0, 'no offset skipped';
ok $batches && $s->{hotel_trends_batch_commit_seconds_count} == $batches,
    "the batches committed: $batches, as the closing line says";
is $s->{'hotel_trends_batch_commit_seconds_bucket{le="+Inf"}'}, $batches,
    'the histogram\'s +Inf bucket holds every batch';
cmp_ok $s->{hotel_trends_batch_commit_seconds_sum}, '>', 0,
    'commit time taken';
is $s->{'hotel_trends_batches_dropped_total{reason="db_error"}'}, 0,
    'no batch dropped';
is $s->{hotel_trends_partitions_assigned}, 3, 'three partitions held';
is_deeply [ map { lag($s, $_) } 0 .. 2 ], [0, 0, 0],
    'each partition at lag 0';
my $commit = $s->{hotel_trends_last_commit_timestamp_seconds};
ok $commit >= $start - 1 && $commit <= $end + 1,
    'the last commit within the run';
ok $s->{hotel_trends_metrics_timestamp_seconds} >= $commit
   && $s->{hotel_trends_metrics_timestamp_seconds} <= $end + 1,
    'written after it, within the run';
is_deeply [ grep { !/\.prom$/ } map { s{.*/}{}r } glob "$dir/*.prom*" ], [],
    'no temporary file left beside it';

# ---------------------------------- phase 2: read, not yet committed

produce_records($topic, good(120));
my $end_offsets = end_offsets($topic, 3);
my $was = db_offsets({ sqlite => $db }, $topic);
my @waiting = map { $end_offsets->[$_] - $was->[$_] } 0 .. 2;

$start = time;
$pid = consumer_start(topic => $topic, group => "$uniq-g", db => $db,
                      log => $log,
                      args => [ '--batch-time', 120000, '--metrics-file',
                                $prom, '--metrics-interval', 1 ]);
my $deadline = time + 60;
while (time < $deadline) {
    $s = samples(slurp($prom));
    last if ($s->{hotel_trends_metrics_timestamp_seconds} || 0) > $start
            && ($s->{hotel_trends_records_consumed_total} || 0) == 120
            && join(',', map { lag($s, $_) // '' } 0 .. 2)
               eq join(',', @waiting);
    sleep 0.2;
}
$text = slurp($prom);
$s = samples($text);
($st, $out) = promtool_check($text);
ok $st == 0 && $out eq '', 'phase 2: promtool check metrics passes'
    or diag $out;
is $s->{hotel_trends_records_consumed_total}, 120,
    'phase 2: the 120 records read';
is $s->{hotel_trends_records_counted_total}, 0, 'none counted yet';
is_deeply [ map { lag($s, $_) } 0 .. 2 ], \@waiting,
    "each partition's lag: the records read but not in the database "
    . "(@waiting)" or diag $text;
ok $s->{hotel_trends_last_commit_timestamp_seconds} >= $start - 1
   && $s->{hotel_trends_last_commit_timestamp_seconds}
      < $s->{hotel_trends_metrics_timestamp_seconds},
    'the last commit: the start, the age growing';
is consumer_stop($pid, 'TERM', 30), 0, 'SIGTERM: the batch written, exit 0'
    or diag log_tail($log);

$s = samples(slurp($prom));
is $s->{hotel_trends_records_counted_total}, 120,
    'the last file: the 120 counted';
is_deeply [ map { lag($s, $_) } 0 .. 2 ], [0, 0, 0], 'and lag 0';
is $s->{hotel_trends_batch_commit_seconds_count}, 1, 'in one batch';
is_deeply db_offsets({ sqlite => $db }, $topic), $end_offsets,
    'the database agrees';

# ------------------------------------- waiting for the database first

{
    my $wprom = "$dir/waiting.prom";
    my $wlog = "$dir/waiting.log";
    my $t = time;
    my $wpid = consumer_start(topic => $topic, group => "$uniq-w",
                              db => "host=$dir/no-such-server dbname=x",
                              log => $wlog,
                              args => [ '--metrics-file', $wprom,
                                        '--metrics-interval', 1 ]);
    my $deadline = time + 30;
    my $ws = {};
    while (time < $deadline) {
        $ws = samples(slurp($wprom));
        last if ($ws->{hotel_trends_metrics_timestamp_seconds} || 0) > $t + 1;
        sleep 0.2;
    }
    is consumer_stop($wpid, 'TERM', 30), 0,
        'waiting for the database: SIGTERM exits 0' or diag log_tail($wlog);
    like log_tail($wlog), qr/the database is not available/,
        'waiting for the database: logged';
    ok(($ws->{hotel_trends_metrics_timestamp_seconds} || 0) > $t + 1,
       'waiting for the database: the file is written, and again');
    is $ws->{hotel_trends_partitions_assigned}, 0, 'no partition held';
    is $ws->{hotel_trends_records_consumed_total}, 0, 'nothing consumed';
    ($st, $out) = promtool_check(slurp($wprom));
    ok $st == 0 && $out eq '', 'waiting: promtool check metrics passes'
        or diag $out;
}

# ----------------------------------------------------------- the rules

my $rules = "$root/doc/prometheus/hotel-trends.rules.yml";
$out = `promtool check rules '$rules' 2>&1`;
is $?, 0, 'promtool check rules: the alerting rules' or diag $out;
$out = `cd '$root/t/prometheus' && promtool test rules hotel-trends.rules.test.yml 2>&1`;
is $?, 0, 'promtool test rules: each alert fires when it should, only then'
    or diag $out;

note sprintf 'done in %.0fs', time - $t0;
done_testing;
