# hotel-trends consume and PostgreSQL faults that a working server does
# not show (a private PostgreSQL 15, t/lib/HotelPg.pm):
#
# 1. The database is not there yet. A consumer is started while the
#    server is down: it waits, retrying, logs at most a line per 10 s
#    window, and does not join the group (no partition claimed) until
#    the server, started 10 s later, takes its connection; then every
#    record is counted exactly once. A second consumer waiting the same
#    way is stopped with SIGTERM: it exits 0 at once. A SQLite path that
#    cannot be opened is a configuration error: exit 2, the path named.
#
# 2. A member frozen inside a transaction. Member A stops itself (SIGSTOP,
#    the consumer's test hook HOTEL_TRENDS_TEST_STOP_IN_BATCH) inside its
#    third batch's transaction, right after its offsets compare-and-set,
#    holding those rows' locks. Member B joins; once A's Kafka session
#    has expired B is given every partition, and its claim of them waits
#    for A's locks: each wait gives up after --lock-timeout and is tried
#    again, until the server ends A's session after
#    --idle-in-transaction-timeout. B then consumes the whole stream. A is
#    woken (SIGCONT): its batch is refused (the server ended its session;
#    were it still there, the lease, B's now, would refuse the batch), and
#    it counts nothing twice.
#
# What must hold: every snapshot holds exactly the records before its
# offsets; at the end every bucket equals the truth and each record is
# counted once. HOTEL_TEST_SEED=N replays one run's random choices.

use strict;
use warnings;

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use Test::More;
use Time::HiRes qw(sleep time);

use HotelConsumer;
use HotelPg;
use HotelRecords;
use HotelSuite qw(:DEFAULT wait_until);

needs(env => [qw(TEST_NGINX_KAFKA_BROKERS HOTEL_KAFKA_DIR HOTEL_TRENDS)],
      built => [qw(HOTEL_TRENDS)], tools => [qw(kcat)]);
my $pg = HotelPg->new or plan skip_all => $HotelPg::Why;
my ($uniq, $dir) = start_run('hotel-trends-215', seed => 1);
my $t0 = time;

# a stream of $n records: [key, value] pairs, each record's bucket key and
# rate, each value's index, and the truth
sub make_stream {
    my ($n, $tag) = @_;
    return known_stream(
        records => $n, now => int(time / 3600) * 3600,
        hotels => [ map { sprintf '%s%03d', $tag, $_ } 0 .. 119 ],
        currencies => [qw(EUR USD GBP)], hours => [ 1 .. 20 ],
        rate => [10_000_000, 990_000_000], id => "$tag%022x",
        positions => 1, truth => 1);
}

sub records_in { records_before($_[0]{off}) }

# the stream read back from the broker: where each record landed
sub positions {
    my ($topic, $s, $n) = @_;
    my %by_value = %{ $s->{by_value} };
    my ($at, $nback, $unknown) = stream_positions($topic, \%by_value);
    is($nback, $n, "$n records at the broker in $topic");
    ok(!$unknown && !%by_value, 'every record once, as produced');
    return $at;
}

# ---------------------------------------------------------- 1. not there

{
    my $path = "$dir/no/such/dir/trends.db";
    my $log = "$dir/sqlite.log";
    my $pid = consumer_start(topic => "$uniq-none", group => "$uniq-none",
                             db => $path, log => $log);
    is(consumer_wait($pid, 30), 2 << 8, 'a SQLite path that cannot be '
       . 'opened: exit 2') or diag log_tail($log);
    like(log_tail($log), qr/\Q$path\E: unable to open database file: a SQLite database that cannot be opened is a configuration error/,
         'the message names the path and says what it is');
}

my $N1 = 12_000;
my $s1 = make_stream($N1, 'a');
my $topic1 = create_topic("$uniq-late-db", 3);
produce_records($topic1, $s1->{recs});
$s1->{recs} = [];
pass("$N1 records produced to $topic1");

my $db1 = { psql => $pg->psql_args('postgres') };
my $log1 = "$dir/late.log";
my $t_start = time;
my $pid1 = consumer_start(topic => $topic1, group => "$uniq-late",
                          db => $pg->conninfo('postgres'), log => $log1,
                          args => [ '--exit-idle', 3 ]);

# a second one, for SIGTERM
my $log2 = "$dir/term.log";
my $pid2 = consumer_start(topic => $topic1, group => "$uniq-term",
                          db => $pg->conninfo('postgres'), log => $log2);

ok(wait_until(sub { log_tail($log2) =~ /the database is not available/ },
              15), 'the second consumer waits for the database')
    or diag log_tail($log2);
sleep 1;
my $t_term = time;
is(consumer_stop($pid2, 'TERM', 10), 0, 'SIGTERM while it waits: exit 0');
note sprintf 'it exited %.2fs after SIGTERM', time - $t_term;
unlike(log_tail($log2), qr/consuming |: lease /,
       'it never joined the group');

# the database comes 10 s after the first consumer
sleep 0.1 while time - $t_start < 10;
ok(consumer_alive($pid1), 'the first consumer is still waiting after 10 s')
    or diag log_tail($log1);
unlike(log_tail($log1, 1000), qr/consuming |: lease /,
       'and has not joined the group');
$pg->start;
my $t_pg = time;
note sprintf 'PostgreSQL started %.1fs after the consumer', $t_pg - $t_start;

my $st = consumer_wait($pid1, 120);
is($st, 0, 'then it joined, consumed and exited 0 once idle')
    or diag log_tail($log1);
consumer_stop($pid1, 'KILL', 5) unless defined $st;
{
    my $text = log_tail($log1, 1000);
    my @waits = $text =~ /(the database is not available \((\d+) tr)/g;
    my ($tries) = $text =~ /the database is there after (\d+) tries/;
    my ($first) = $text =~ /T(\d\d:\d\d:\d\d)\.\d+Z hotel-trends error: the database is not available/;
    my $lines = () = $text =~ /the database is not available/g;
    ok($tries && $tries > $lines, "$tries tries, $lines log lines about "
       . 'them') or diag $text;
    cmp_ok($lines, '<=', 1 + int(($t_pg - $t_start) / 10) + 1,
           'at most a line per 10 s window while it waited');
    like($text, qr/not joining the group until it is/,
         'the line says it does not join meanwhile');
}
{
    my $at = positions($topic1, $s1, $N1);
    my @end = map { scalar @{ $at->[$_] || [] } } 0 .. 2;
    my @diff = compare_aggregates(db_aggregates($db1), $s1->{truth});
    ok(!@diff, sprintf('all %d buckets exact', scalar keys %{ $s1->{truth} }))
        or diag join "\n", @diff;
    is_deeply([ @{ db_offsets($db1, $topic1) }[0 .. 2] ], \@end,
              "offsets at the end of each partition (@end)");
    is(query_rows($db1, 'SELECT sum(count) FROM hotel_rate_hourly')->[0][0],
       $N1, "$N1 records counted, each once");
}
note sprintf 'part 1 done in %.0fs', time - $t0;

# ---------------------------------------------------------- 2. frozen

my $N2 = 12_000;
my $s2 = make_stream($N2, 'f');
my $topic2 = create_topic("$uniq-frozen", 3);
produce_records($topic2, $s2->{recs});
$s2->{recs} = [];
pass("$N2 records produced to $topic2");
$pg->createdb('frozen');
my $db2 = { psql => $pg->psql_args('frozen') };
# the idle timeout outlasts A's Kafka session (6 s) and B's join, so that
# B does meet A's locks
my @limits = ('--lock-timeout', 1000, '--idle-in-transaction-timeout', 15000);

sub proc_state {
    my $pid = shift;
    open my $fh, '<', "/proc/$pid/stat" or return '';
    my $stat = <$fh> // '';
    return $stat =~ /^\d+ \(.*\) (\S)/s ? $1 : '';
}

my $logA = "$dir/a.log";
my $pidA = do {
    local $ENV{HOTEL_TRENDS_TEST_STOP_IN_BATCH} = 3;
    consumer_start(topic => $topic2, group => "$uniq-frozen",
                   db => $pg->conninfo('frozen'), log => $logA,
                   args => [ '--batch-size', 500, @limits ]);
};
ok(wait_until(sub { proc_state($pidA) eq 'T' }, 60),
   'member A stopped itself inside its third batch, after its offsets '
   . 'compare-and-set') or diag log_tail($logA);
my $t_freeze = time;
my @snaps = ({ %{ db_snapshot($db2, $topic2) }, how => 'A frozen' });
note records_in($snaps[-1]) . ' records in the database when A froze';
{
    my $locks = query_rows($db2, "SELECT count(*) FROM pg_stat_activity"
        . " WHERE state = 'idle in transaction'")->[0][0];
    is($locks, 1, "A's session is idle in its transaction");
}

my $logB = "$dir/b.log";
my $pidB = consumer_start(topic => $topic2, group => "$uniq-frozen",
                          db => $pg->conninfo('frozen'), log => $logB,
                          args => [ '--batch-size', 500, @limits ]);
my @end2;
{
    my $at = positions($topic2, $s2, $N2);
    @end2 = map { scalar @{ $at->[$_] || [] } } 0 .. 2;
    $s2->{at} = $at;
}
my $done = wait_until(sub {
    my $off = db_offsets($db2, $topic2);
    !grep { ($off->[$_] // 0) != $end2[$_] } 0 .. 2;
}, 120);
ok($done, sprintf('member B took every partition and consumed the whole '
                  . 'stream (%.1fs after A froze)', time - $t_freeze))
    or diag log_tail($logB);
push @snaps, { %{ db_snapshot($db2, $topic2) }, how => 'B done' };
like(log_tail($logB, 1000), qr/claiming \d+ partitions: .*lock timeout/,
     "B's claim gave up waiting for A's locks and tried again");
like(scalar(`cat '$pg->{dir}/server.log'`),
     qr/terminating connection due to idle-in-transaction timeout/,
     "the server ended A's session after its idle timeout");

# A wakes
ok(proc_state($pidA) eq 'T', 'A is still stopped');
kill 'CONT', $pidA;
# its batch's session is gone (the server ended it), so its commit cannot
# happen; had it not been ended, the lease (B's now) would refuse it
ok(wait_until(sub {
       log_tail($logA, 1000) =~ /writing a batch of \d+ records: .*(?:idle-in-transaction timeout|no longer current)|taken over/
   }, 60), "A's late batch is refused, not written")
    or diag log_tail($logA);
sleep 2;
push @snaps, { %{ db_snapshot($db2, $topic2) }, how => 'A woken' };
is(consumer_stop($pidA, 'TERM', 30), 0, 'A exits 0 on SIGTERM');
is(consumer_stop($pidB, 'TERM', 30), 0, 'B exits 0 on SIGTERM');
push @snaps, { %{ db_snapshot($db2, $topic2) }, how => 'at the end' };

for my $s (@snaps) {
    my @off = map { $_ // 0 } @{ $s->{off} }[0 .. 2];
    my $want = prefix_truth($s2->{at}, $s2->{bkey}, $s2->{rate}, \@off);
    my @diff = compare_aggregates($s->{agg}, $want || {});
    ok($want && !@diff, "$s->{how}: the database holds exactly the "
       . records_in($s) . " records before its offsets (@off)")
        or diag join "\n", @diff;
}
{
    my @diff = compare_aggregates(db_aggregates($db2), $s2->{truth});
    ok(!@diff, sprintf('all %d buckets exact',
                       scalar keys %{ $s2->{truth} }))
        or diag join "\n", @diff;
    is(query_rows($db2, 'SELECT sum(count) FROM hotel_rate_hourly')->[0][0],
       $N2, "$N2 records counted, each once");
    is_deeply(db_rejected($db2), {}, 'nothing refused');
}
for my $l ($log1, $logA, $logB) {
    unlike(log_tail($l, 1e6), qr/AddressSanitizer|runtime error|Segmentation/,
           "no sanitizer report or crash in $l");
}

$pg->stop;
note sprintf 'done in %.0fs', time - $t0;
done_testing;
