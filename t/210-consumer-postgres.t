# hotel-trends consume into PostgreSQL: two members of one group write
# concurrently while one of them comes and goes (SIGTERM and restart,
# SIGKILL and restart: rebalances and expired sessions), and the database
# crashes (pg_ctl stop -m immediate) and comes back in the middle of the
# stream; B is also stopped (SIGSTOP) past its session and woken up as a
# zombie that lost its partitions. The consumers must retry and neither lose nor double a record:
# snapshots taken all along (aggregates and offsets read by one
# statement) must each equal the truth of the records before the offsets,
# and the final aggregates, offsets and report must equal the truth.
#
# t/211 runs the same on page records (20 results to a SearchPage): no
# key, so both members update the same rows all the time, in the key
# order that keeps them from deadlocking (no "deadlock detected" is
# logged, in either mode).
#
# A private PostgreSQL 15 (t/lib/HotelPg.pm) runs as the postgres user on
# a unix socket in a temporary directory; it is stopped at the end even
# when the test fails. HOTEL_TEST_SEED=N replays one run's choices.

use strict;
use warnings;

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

use HotelConsumer;
use HotelPg;
use HotelRecords;
use HotelSuite;

needs(env => [qw(TEST_NGINX_KAFKA_BROKERS HOTEL_KAFKA_DIR HOTEL_TRENDS)],
      built => [qw(HOTEL_TRENDS)], tools => [qw(kcat)]);
my $pg = HotelPg->new or plan skip_all => $HotelPg::Why;
our $PAGE_RESULTS;              # set by t/211
my $PAGE = $PAGE_RESULTS || 0;
my ($uniq, $dir) = start_run($PAGE ? 'hotel-trends-211' : 'hotel-trends-210',
                             seed => 1);
my $t0 = time;

$pg->start;
$pg->createdb('trends');
my $conninfo = $pg->conninfo('trends');
my $dbh = { psql => $pg->psql_args('trends') };
pass "PostgreSQL started on $pg->{sock} port $pg->{port}";

# Members that start together on an empty database create its schema at
# the same time: none of them may fail (CREATE TABLE IF NOT EXISTS alone
# races on PostgreSQL's catalog). "report" opens the store as consume
# does; six at once, on three fresh databases.
{
    my $failed = 0;
    for my $n (1 .. 3) {
        $pg->createdb("race$n");
        my @pids = map {
            my $pid = fork // die "fork: $!\n";
            if ($pid == 0) {
                open STDOUT, '>>', "$dir/race.log";
                open STDERR, '>&', \*STDOUT;
                { exec $ENV{HOTEL_TRENDS}, 'report', '-d',
                      $pg->conninfo("race$n") };
                POSIX::_exit(127);
            }
            $pid;
        } 1 .. 6;
        for my $pid (@pids) {
            waitpid $pid, 0;
            $failed++ if $?;
        }
    }
    is $failed, 0, 'six members at once on an empty database: all create '
        . 'or find the schema' or diag log_tail("$dir/race.log");
}

# ----------------------------------------------------------- the stream

my $N = $ENV{HOTEL_TEST_RECORDS} || 120_000;   # results
my $NRECS = $PAGE ? int(($N + $PAGE - 1) / $PAGE) : $N;   # Kafka records
my $CHUNKS = 16;
my @hours = (1, 3, 20, 26, 50, 180);
my @currencies = qw(EUR USD GBP);
my $now = int(time / 3600) * 3600;
# and ids that PostgreSQL's array literals must carry intact
my @hotels = ((map { "pg-$_" } 1 .. 295), 'pg "quoted"', 'pg\\back{,}',
              'NULL', ' spaced ', "pg-\xe2\x82\xac");

my $stream = known_stream(
    records => $N, now => $now, hotels => \@hotels, hours => \@hours,
    currencies => \@currencies, rate => [1_000_000, 999_000_000],
    id => '%032x', positions => 30, page => $PAGE);
my ($bkey, $rate, $by_value) = @$stream{qw(bkey rate by_value)};

my $topic = create_topic("$uniq-pg", 3);

# the stream arrives in chunks, fed at each step of the choreography, so
# that every fault meets records in flight however fast the machine is
my $feeder = start_feeder($topic, delete $stream->{recs}, $CHUNKS, undef,
                          $PAGE ? (headers => $stream->{headers}) : ());

# ----------------------------------------------------- the choreography

my $group = "$uniq-g";
my %log = (A => "$dir/A.log", B => "$dir/B.log");
my %runs = (A => 0, B => 0);
my @snap;

sub start_member {
    my $m = shift;
    $runs{$m}++;
    my $bs = (50, 200, 1000)[rand 3];
    return consumer_start(topic => $topic, group => $group, db => $conninfo,
                          log => $log{$m},
                          args => [ '--batch-size', $bs,
                                    '--batch-time', 200 ]);
}

sub snapshot {
    my $what = shift;
    my $s = eval { db_snapshot($dbh, $topic) };
    push @snap, { %$s, what => $what } if $s;
}

# partitions a member claimed so far (one log line each)
sub claims {
    my $l = log_tail($log{$_[0]}, 100000);
    return scalar(() = $l =~ /: lease \d+/g);
}

# waits (taking snapshots) until cond() or $secs pass; true if cond()
sub wait_for {
    my ($secs, $cond, $what) = @_;
    my $deadline = time + $secs;
    my $next = 0;
    while (time < $deadline) {
        return 1 if $cond->();
        if (time >= $next) {
            snapshot($what);
            $next = time + 0.7;
        }
        sleep 0.1;
    }
    return $cond->();
}

sub progress {
    my $s = eval { db_snapshot($dbh, $topic) } or return -1;
    return records_before($s->{off});
}

my $A = start_member('A');
my $B = start_member('B');
$feeder->feed(2);

ok wait_for(30, sub { claims('B') >= 1 && progress() > 0 }, 'both joining'),
    'B got partitions and records are being written'
    or diag log_tail($log{B});
sleep rand 1;

# 1. B leaves cleanly: its batch is written or dropped, A takes over
$feeder->feed(1);
my $a_claims = claims('A');
is consumer_stop($B, 'TERM', 30), 0, 'B: SIGTERM, exits 0'
    or diag log_tail($log{B});
ok wait_for(20, sub { claims('A') > $a_claims }, 'A alone'),
    'A takes over the partitions B left' or diag log_tail($log{A});
sleep rand 1;

# 2. B comes back: a rebalance while A is writing
$feeder->feed(2);
my $b_claims = claims('B');
$B = start_member('B');
ok wait_for(30, sub { claims('B') > $b_claims }, 'B back'),
    'B rejoins and gets partitions' or diag log_tail($log{B});
sleep 0.3 + rand 1;

# 3. the database crashes in the middle of the stream, and comes back;
# more records arrive while it is down
$feeder->feed(2);
sleep 0.3 + rand 0.7;
my $before = progress();
snapshot('before the crash');
ok $pg->stop('immediate'), 'PostgreSQL killed (pg_ctl stop -m immediate)';
$feeder->feed(2);
sleep 3 + rand 2;
ok consumer_alive($A) && consumer_alive($B),
    'both consumers survive the database outage';
$pg->start;
pass 'PostgreSQL restarted';
ok wait_for(40, sub { progress() > $before }, 'after the crash'),
    'writing resumes after the restart'
    or diag log_tail($log{A}), log_tail($log{B});

# 4. B turns zombie: stopped past its session (maybe inside a
# transaction, holding the offsets rows), A claims its partitions, B
# wakes up with a batch for partitions it no longer owns: the lease
# compare-and-set must keep it from writing them
$feeder->feed(2);
sleep rand 1;
$a_claims = claims('A');
kill 'STOP', $B;
snapshot('B stopped');
$feeder->feed(1);
sleep 8;
# B's claims counted while it is stopped: woken up, it may rejoin before
# A's claim below has been seen
$b_claims = claims('B');
kill 'CONT', $B;
ok wait_for(30, sub { claims('A') > $a_claims }, 'B zombie'),
    'A claims the partitions of the stopped B' or diag log_tail($log{A});
ok wait_for(30, sub { claims('B') > $b_claims }, 'B woken up'),
    'B, woken up, rejoins the group' or diag log_tail($log{B});

# 5. B is killed: its session expires, A gets its partitions back
$feeder->feed(2);
sleep rand 1;
$a_claims = claims('A');
is consumer_stop($B, 'KILL', 10), 9, 'B: SIGKILL';
snapshot('B killed');
ok wait_for(30, sub { claims('A') > $a_claims }, 'B dead'),
    'A takes over after B\'s session expired' or diag log_tail($log{A});

# 6. B comes back once more, and leaves once more, and comes back
$feeder->feed(1);
$b_claims = claims('B');
$B = start_member('B');
ok wait_for(30, sub { claims('B') > $b_claims }, 'B back again'),
    'B rejoins after its kill' or diag log_tail($log{B});
sleep rand 1.5;
is consumer_stop($B, 'TERM', 30), 0, 'B: SIGTERM again, exits 0';
$B = start_member('B');

is $feeder->finish(120), 0, "$NRECS records produced in $CHUNKS chunks";
my ($at, $nback, $unknown) = stream_positions($topic, $by_value);
is $nback, $NRECS, "all $NRECS records read back from the topic";
ok !$unknown && !%$by_value, 'every record once, as produced';
my @end = map { scalar @{ $at->[$_] || [] } } 0 .. 2;

ok wait_for(90, sub { progress() == $NRECS }, 'the end'),
    "both consumers reach the end of the stream ($NRECS)"
    or diag log_tail($log{A}), log_tail($log{B});
snapshot('the end');
sleep 1;
is consumer_stop($A, 'TERM', 30), 0, 'A: SIGTERM, exits 0'
    or diag log_tail($log{A});
is consumer_stop($B, 'TERM', 30), 0, 'B: SIGTERM, exits 0'
    or diag log_tail($log{B});

# ------------------------------------------------------------- verdicts

my $truth = prefix_truth($at, $bkey, $rate, \@end);
check_end_state($dbh, $topic, $truth, \@end);

my ($bad, $mid) = (0, 0);
for my $s (@snap) {
    my $p = records_before($s->{off});
    $mid++ if $p > 0 && $p < $NRECS;
    my $want = prefix_truth($at, $bkey, $rate, $s->{off});
    my @d = compare_aggregates($s->{agg}, $want || {}, 3);
    next if $want && !@d;
    diag "snapshot ($s->{what}, $p records): @d" if $bad++ < 3;
}
ok !$bad, sprintf '%d snapshots taken all along (%d mid-stream) each hold '
    . 'exactly the records before their offsets', scalar @snap, $mid;
cmp_ok $mid, '>=', 5, 'snapshots in the middle of the stream';

# logged only when a transaction failed
my $errors = () = (log_tail($log{A}, 100000) . log_tail($log{B}, 100000))
    =~ /writing a batch|claiming \d+ partitions:|reading offsets:/g;
cmp_ok $errors, '>', 0, "the outage was seen and retried ($errors errors "
    . 'logged)';
unlike log_tail($log{A}, 100000) . log_tail($log{B}, 100000),
    qr/deadlock detected/, 'no deadlock between the two members';
like log_tail($log{A}, 100000) . log_tail($log{B}, 100000),
    qr/resuming at offset \d+/,
    'a member sought back to the database offsets after a failure';

my $epochs = query_rows($dbh, "SELECT min(lease_epoch), max(lease_epoch)"
                        . " FROM kafka_offsets WHERE topic = '$topic'")->[0];
cmp_ok $epochs->[0], '>=', 3, "every partition changed hands (lease_epoch "
    . "@$epochs)";

# the report, from PostgreSQL
check_report_csv($conninfo, $truth, $now);

ok $pg->stop('fast'), 'PostgreSQL stopped';
note sprintf 'done in %.0fs', time - $t0;
done_testing;
