# hotel-trends consume while its broker dies and comes back (SQLite).
#
# The suite runs a single-node broker of its own (scripts/kafka start in
# a temporary directory). A known stream is produced, a consumer with
# --exit-idle starts reading it in small batches and with a small fetch
# queue (so that it cannot have the whole stream in memory before the
# broker goes), and once the database shows progress the broker is
# SIGKILLed (scripts/kafka kill DIR 1), left down for a while, and started
# again on its data (restart-node DIR 1). More records are produced after
# the restart, and the same consumer process must read them too and exit
# on its own once idle.
#
# What must hold: the consumer survives the outage; the database, at the
# kill and while the broker is down, holds exactly the records before its
# stored offsets; at the end every (hotel, currency, hour) aggregate
# (count, exact sum, min, max) equals the truth, the offsets are the ends
# of the partitions, nothing refused: no record lost, none counted twice.
#
# HOTEL_TEST_SEED=N replays one run's random choices (the seed is shown).

use strict;
use warnings;

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use Test::More;
use Time::HiRes qw(sleep time);

use HotelConsumer;
use HotelRecords;
use HotelBroker qw(own_broker broker_kill broker_restart broker_stop);
use HotelSuite qw(:DEFAULT wait_until);

# the consumer to test; the broker is the suite's own
needs(env => [qw(HOTEL_TRENDS)], built => [qw(HOTEL_TRENDS)],
      tools => [qw(kcat sqlite3 protoc java)]);
my ($uniq, $dir) = start_run('hotel-trends-230', seed => 1);
my $t0 = time;

# ------------------------------------------------------------ the broker

my $b = eval { own_broker() };
BAIL_OUT("cannot start a broker of our own: $@") unless $b;
# HotelRecords, HotelConsumer and HotelKafka talk to this broker
$ENV{TEST_NGINX_KAFKA_BROKERS} = $b->{bootstrap};
$ENV{HOTEL_KAFKA_DIR} = $b->{dir};
note sprintf 'broker %s ready in %.0fs', $b->{bootstrap}, time - $t0;

# ------------------------------------------------------------ the stream

my $N1 = 40_000;                # before and during the outage
my $N2 = 20_000;                # produced after the restart
my @hours = (1, 3, 26, 50);
my @currencies = qw(EUR USD GBP);
my $now = int(time / 3600) * 3600;
my @hotels = map { sprintf 'b%03d', $_ } 0 .. 199;

my $stream = known_stream(
    records => $N1 + $N2, now => $now, hotels => \@hotels,
    hours => \@hours, currencies => \@currencies,
    rate => [10_000_000, 990_000_000], id => '%024x', positions => 20,
    truth => 1);
my ($bkey, $rate, $by_value, $truth, $recs) =
    @$stream{qw(bkey rate by_value truth recs)};

my $topic = create_topic("$uniq-restart", 3);

# the first part, in 4 calls of kcat (each checked at the broker)
for my $k (0 .. 3) {
    my $per = $N1 / 4;
    produce_records($topic, [ @$recs[$k * $per .. ($k + 1) * $per - 1] ]);
}
pass("$N1 records produced");

# ------------------------------------------------------------ consume

my $db = "$dir/trends.db";
my $log = "$dir/consumer.log";
my $dbh = { sqlite => $db };
my $pid = consumer_start(
    topic => $topic, group => "$uniq-g", db => $db, log => $log,
    args => [ '--batch-size', 50, '--batch-time', 200,
              # longer than the outage: idle only once the stream is done
              '--exit-idle', 25,
              # a small fetch queue: the stream cannot all be in memory
              # before the broker dies
              '-X', 'queued.max.messages.kbytes=64',
              '-X', 'max.partition.fetch.bytes=16384' ]);

sub progress { records_before($_[0]{off}) }

my $snap;
ok(wait_until(sub {
       return 1 unless consumer_alive($pid);
       # the tables exist once it has claimed its partitions
       return 0 unless log_tail($log, 1000) =~ /: lease \d+/;
       $snap = eval { db_snapshot($dbh, $topic) };
       $snap && progress($snap) > 0;
   }, 90) && consumer_alive($pid), 'the consumer joined and wrote batches')
    or diag log_tail($log);

# -------- the broker dies mid-consumption
broker_kill($b, 1);
my @snaps;
push @snaps, { %{ db_snapshot($dbh, $topic) }, how => 'at the kill' };
my $at_kill = progress($snaps[-1]);
ok($at_kill > 0 && $at_kill < $N1,
   "broker killed mid-consumption ($at_kill of $N1 records in the database)");

sleep 5;
push @snaps, { %{ db_snapshot($dbh, $topic) }, how => 'broker down 5s' };
my $while_down = progress($snaps[-1]);
note "$while_down of $N1 records in the database after 5s without broker";
ok(consumer_alive($pid), 'the consumer is still running with the broker down')
    or diag log_tail($log);

# -------- back on its data; more records arrive
broker_restart($b, 1);
note sprintf 'broker back after %.0fs', time - $t0;
ok(consumer_alive($pid), 'the consumer is still running after the restart')
    or diag log_tail($log);

for my $k (0 .. 3) {
    my $per = $N2 / 4;
    produce_records($topic,
                    [ @$recs[$N1 + $k * $per .. $N1 + ($k + 1) * $per - 1] ]);
    sleep 0.5;
}
pass("$N2 more records produced after the restart");
push @snaps, { %{ db_snapshot($dbh, $topic) },
               how => 'after the second part was produced' };
@$recs = ();

my $st = consumer_wait($pid, 180);
is($st, 0, 'the same consumer read on and exited 0 once idle (--exit-idle)')
    or diag log_tail($log);
consumer_stop($pid, 'KILL', 5) unless defined $st;

# ------------------------------------------------------------ the checks

my $N = $N1 + $N2;
my ($at, $nback, $unknown) = stream_positions($topic, $by_value);
is($nback, $N, "all $N records at the broker after its restart");
ok(!$unknown && !%$by_value, 'every record once, as produced');

check_snapshots(\@snaps, $at, $bkey, $rate);

my @end = map { scalar @{ $at->[$_] || [] } } 0 .. 2;
check_end_state($dbh, $topic, $truth, \@end);
is(sqlite_rows($db, 'SELECT sum(count) FROM hotel_rate_hourly')->[0][0], $N,
   "$N records counted, none twice");

check_no_crash($log);

broker_stop($b);
note sprintf 'done in %.0fs', time - $t0;
done_testing;
