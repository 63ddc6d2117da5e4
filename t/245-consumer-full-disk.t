# hotel-trends consume into SQLite on a disk that fills up.
#
# The database lives on a tmpfs of its own, 1 MB, far too small for the
# stream's buckets (mounting needs root: the suite is skipped otherwise,
# and says so). The consumer writes batches until SQLite reports the disk
# full; each failing batch is rolled back, logged, and tried again later
# from the offsets the database holds. While the disk is full the
# database is checked (PRAGMA integrity_check) and must hold exactly the
# records before its offsets. Then the tmpfs is grown (mount -o remount):
# the same consumer writes the rest, and at the end every bucket equals
# the truth, every record counted once, the database intact.
#
# HOTEL_TEST_SEED=N replays one run's random choices.

use strict;
use warnings;

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use Test::More;
use Time::HiRes qw(sleep time);

use HotelConsumer;
use HotelRecords;
use HotelSuite qw(:DEFAULT wait_until);

needs(env => [qw(TEST_NGINX_KAFKA_BROKERS HOTEL_KAFKA_DIR HOTEL_TRENDS)],
      built => [qw(HOTEL_TRENDS)]);
for my $tool (qw(kcat sqlite3 mount umount)) {
    plan skip_all => "$tool is not installed"
        unless grep { -x "$_/$tool" } split(/:/, $ENV{PATH}), '/usr/bin',
                                         '/bin';
}
plan skip_all => 'not root: mounting the small tmpfs this test fills needs '
    . 'root (CI and the test machines run as root)' if $> != 0;

my ($uniq, $dir) = start_run('hotel-trends-245', seed => 1);
my $mnt = "$dir/mnt";
my $t0 = time;

mkdir $mnt or die "mkdir $mnt: $!\n";
my $out = `mount -t tmpfs -o size=1m,mode=0700 hotel-trends-test '$mnt' 2>&1`;
plan skip_all => "cannot mount a tmpfs here: $out" if $?;
my $Owner = $$;
END {
    # unmounted whatever happens (lazily if something still has it open)
    if ($$ == $Owner && $mnt) {
        local $?;
        system("umount '$mnt' 2>/dev/null || umount -l '$mnt' 2>/dev/null");
    }
}
pass('a 1 MB tmpfs for the database');

# ------------------------------------------------------------ the stream

my $N = 24_000;
my $now = int(time / 3600) * 3600;
# many buckets: 400 hotels, 3 currencies, 24 hours
my $known = known_stream(
    records => $N, now => $now,
    hotels => [ map { sprintf 'd%03d', $_ } 0 .. 399 ],
    currencies => [qw(EUR USD GBP)], hours => [ 1 .. 24 ],
    rate => [10_000_000, 990_000_000], id => '%024x', positions => 1,
    truth => 1);
my ($bkey, $rate, $by_value, $truth) = @$known{qw(bkey rate by_value truth)};
my $topic = create_topic("$uniq-full", 3);
produce_records($topic, delete $known->{recs});
pass(sprintf '%d records produced, %d buckets: more than 1 MB of database',
     $N, scalar keys %$truth);

my ($at, $nback, $unknown) = stream_positions($topic, $by_value);
is($nback, $N, "$N records at the broker");
my @end = map { scalar @{ $at->[$_] || [] } } 0 .. 2;

# ------------------------------------------------------------ consume

my $db = "$mnt/trends.db";
my $dbh = { sqlite => $db };
my $log = "$dir/consumer.log";
my $pid = consumer_start(topic => $topic, group => "$uniq-g", db => $db,
                         log => $log, args => [ '--batch-size', 1000 ]);

sub records_in { records_before($_[0]{off}) }

sub integrity { sqlite_rows($db, 'PRAGMA integrity_check')->[0][0] // '' }

my $full = wait_until(sub {
    my @f = log_tail($log, 1000) =~ /database or disk is full/g;
    @f >= 2 || !consumer_alive($pid);
}, 90);
ok($full && consumer_alive($pid), 'the disk filled up: two batches refused '
   . '("database or disk is full"), the consumer still running')
    or diag log_tail($log);
like(log_tail($log, 1000),
     qr/error: writing a batch of \d+ records: .*database or disk is full; retrying in \d+ms/,
     'each refused batch is logged, with the retry');

my @snaps;
push @snaps, { %{ db_snapshot($dbh, $topic) }, how => 'disk full' };
my $at_full = records_in($snaps[-1]);
ok($at_full > 0 && $at_full < $N, "$at_full of $N records in the database "
   . 'when the disk is full');
is(integrity(), 'ok', 'PRAGMA integrity_check: ok while the disk is full');
sleep 3;
push @snaps, { %{ db_snapshot($dbh, $topic) }, how => 'disk full, 3s later' };
is(records_in($snaps[-1]), $at_full, 'nothing more stored while full');

# -------- room again
system("mount -o remount,size=64m '$mnt'") == 0
    or BAIL_OUT('cannot grow the tmpfs');
my $t_grow = time;
ok(wait_until(sub {
       my $off = eval { db_offsets($dbh, $topic) } || [];
       !grep { ($off->[$_] // 0) != $end[$_] } 0 .. 2;
   }, 120), sprintf('once there is room, the same consumer stores the rest '
                    . '(%.1fs)', time - $t_grow)) or diag log_tail($log);
push @snaps, { %{ db_snapshot($dbh, $topic) }, how => 'at the end' };
is(consumer_stop($pid, 'TERM', 30), 0, 'the consumer exits 0 on SIGTERM')
    or diag log_tail($log);

# ------------------------------------------------------------ the checks

check_snapshots(\@snaps, $at, $bkey, $rate);
my @diff = compare_aggregates(db_aggregates($dbh), $truth);
ok(!@diff, sprintf('all %d buckets: count, sum_micros, min, max exact',
                   scalar keys %$truth))
    or diag join "\n", @diff;
is(sqlite_rows($db, 'SELECT sum(count) FROM hotel_rate_hourly')->[0][0], $N,
   "$N records counted, none twice");
is_deeply(db_rejected($dbh), {}, 'nothing refused');
is(integrity(), 'ok', 'PRAGMA integrity_check: ok at the end');
{
    my $all = log_tail($log, 1e6);
    my $n = () = $all =~ /database or disk is full/g;
    note "$n batches refused while the disk was full";
    unlike($all, qr/AddressSanitizer|runtime error|Segmentation/,
           'no sanitizer report or crash in the consumer log');
}

note sprintf 'done in %.0fs', time - $t0;
done_testing;
