# hotel-trends consume across a broker failure in a three-node cluster
# (SQLite).
#
# The suite runs a cluster of its own (scripts/kafka start DIR 3: RF 3,
# min.insync.replicas 2). The node that coordinates the consumer groups
# (the leader of __consumer_offsets, found with a first consumer on the
# warm-up topic) is also made the leader of all three partitions of the
# topic (scripts/kafka topic with a replica assignment), so that its death
# takes away at once every partition leader the consumer fetches from and
# the coordinator that holds its group membership. A steady stream of
# records is produced all along by one idempotent producer
# (t/lib/HotelStream.pm); once the consumer has stored some batches, that
# node is SIGKILLed, new leaders are elected among the other two, the
# stream goes on, and the node is started again on its data.
#
# What must hold: the same consumer process survives it all; the
# database, at the kill, with the node down and after it came back, holds
# exactly the records before its stored offsets; at the end every
# (hotel, currency, hour) aggregate (count, exact sum, min, max) equals
# the truth, the offsets are the ends of the partitions, nothing refused:
# every record counted once, none lost, none twice.
#
# HOTEL_TEST_SEED=N replays one run's random choices (the seed is shown).

use strict;
use warnings;

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use Test::More;
use Time::HiRes qw(sleep time);

use HotelBroker qw(own_cluster broker_kill broker_restart broker_stop
                   broker_cmd);
use HotelConsumer;
use HotelRecords;
use HotelStream;
use HotelSuite qw(:DEFAULT wait_until);

# the consumer to test; the cluster is the suite's own
needs(env => [qw(HOTEL_TRENDS)], built => [qw(HOTEL_TRENDS)],
      tools => [qw(kcat sqlite3 protoc java)]);
my ($uniq, $dir) = start_run('hotel-trends-235', seed => 1);
my $t0 = time;

# ------------------------------------------------------------ the cluster

my $c = eval { own_cluster(3) };
BAIL_OUT("cannot start a three-node cluster of our own: $@") unless $c;
# HotelRecords, HotelConsumer, HotelStream and HotelKafka talk to it
$ENV{TEST_NGINX_KAFKA_BROKERS} = $c->{bootstrap};
$ENV{HOTEL_KAFKA_DIR} = $c->{dir};
note sprintf 'three nodes ready in %.0fs: %s', time - $t0, $c->{bootstrap};

# [leader, isrs] of each partition of $topic, from kcat -L
sub leaders {
    my $topic = shift;
    my $out = `kcat -L -b '$c->{bootstrap}' -t '$topic' -m 5 2>/dev/null`;
    my @p;
    while ($out =~ /^\s*partition (\d+), leader (-?\d+), replicas: [\d,]+, isrs: ([\d,]*)/mg) {
        $p[$1] = [$2, $3];
    }
    return \@p;
}

# The group coordinator: __consumer_offsets (one partition here) exists
# once a group has been used; a first consumer on the warm-up topic (one
# record, scripts/kafka start's) makes it.
my $pid = consumer_start(topic => 'hotel-warmup', group => "$uniq-warm",
                         db => "$dir/warm.db", log => "$dir/warm.log",
                         args => [ '--exit-idle', 1 ]);
consumer_wait($pid, 60) // consumer_stop($pid, 'KILL');
my $coord;
wait_until(sub {
    my $p = leaders('__consumer_offsets');
    $coord = $p->[0] && $p->[0][0] > 0 ? $p->[0][0] : undef;
}, 30);
ok($coord, 'the group coordinator is node ' . ($coord // 'none'))
    or BAIL_OUT('no __consumer_offsets leader: ' . log_tail("$dir/warm.log"));

# the stream's topic: node $coord leads all three partitions
my $topic = "$uniq-leader";
my @others = grep { $_ != $coord } 1 .. 3;
broker_cmd($c, 'topic', $topic, 3,
    join ',', "$coord:$others[0]:$others[1]", "$coord:$others[1]:$others[0]",
              "$coord:$others[0]:$others[1]");
ok(wait_until(sub {
       my $p = leaders($topic);
       @$p == 3 && !grep { $_->[0] != $coord || $_->[1] !~ /^\d,\d,\d$/ } @$p;
   }, 30), "node $coord leads the 3 partitions of $topic, each with 3 "
           . 'replicas in sync');

# ------------------------------------------------------------ the stream

my $N = 36_000;
my $CHUNKS = 60;
my @currencies = qw(EUR USD GBP);
my $now = int(time / 3600) * 3600;
my @hotels = map { sprintf 'l%03d', $_ } 0 .. 149;

my $known = known_stream(
    records => $N, now => $now, hotels => \@hotels,
    currencies => \@currencies, hours => [ 1 .. 30 ],
    rate => [10_000_000, 990_000_000], id => '%024x', positions => 20,
    truth => 1);
my ($bkey, $rate, $by_value, $truth) = @$known{qw(bkey rate by_value truth)};

# $N records in $CHUNKS chunks, 0.3 s apart: about 20 s of records
my $stream = start_stream($topic, delete $known->{recs}, chunks => $CHUNKS,
                          pause => 0.3);

# ------------------------------------------------------------ consume

my $db = "$dir/trends.db";
my $log = "$dir/consumer.log";
my $dbh = { sqlite => $db };
$pid = consumer_start(
    topic => $topic, group => "$uniq-g", db => $db, log => $log,
    args => [ '--batch-size', 50, '--batch-time', 200,
              # a small fetch queue: what it has fetched when the leader
              # dies is little
              '-X', 'queued.max.messages.kbytes=64',
              '-X', 'max.partition.fetch.bytes=16384' ]);

my @snaps;
sub snap {
    my $how = shift;
    push @snaps, { %{ db_snapshot($dbh, $topic) }, how => $how };
    return records_in($snaps[-1]);
}

sub records_in { records_before($_[0]{off}) }

ok(wait_until(sub {
       return 1 unless consumer_alive($pid);
       return 0 unless log_tail($log, 1000) =~ /: lease \d+/;
       my $s = eval { db_snapshot($dbh, $topic) };
       $s && records_in($s) > 0;
   }, 90) && consumer_alive($pid), 'the consumer joined and wrote batches')
    or diag log_tail($log);

# -------- the leader of every partition, and the coordinator, dies
my $t_kill = time;
broker_kill($c, $coord);
my $at_kill = snap('at the kill');
my $sent = $stream->written;
note "node $coord killed: $sent records sent, $at_kill in the database";
ok($sent < $N, "killed while records are being produced ($sent of $N "
   . 'sent)');

my $elected = wait_until(sub {
    my $p = leaders($topic);
    @$p == 3 && !grep { $_->[0] <= 0 || $_->[0] == $coord } @$p;
}, 60);
ok($elected, "new leaders for the 3 partitions once node $coord died");
note sprintf 'new leaders (%s) after %.1fs',
    join(',', map { $_->[0] } @{ leaders($topic) }), time - $t_kill;

# the group must find its new coordinator and rejoin (a rebalance), the
# fetchers their new leaders: then batches are stored again, the node
# still down
my $resumed = wait_until(sub {
    my $s = eval { db_snapshot($dbh, $topic) };
    $s && records_in($s) > $at_kill;
}, 90);
my $t_resumed = time;
my $while_down = snap('node down');
ok($resumed, sprintf('the consumer stores batches again with the node down '
                     . '(%.1fs after the kill)', $t_resumed - $t_kill))
    or diag log_tail($log);
sleep 2;
$while_down = snap('node down, 2s later');
note "node $coord down: " . $stream->written . " records sent, $while_down "
    . 'in the database';
ok(consumer_alive($pid), 'the consumer is still running')
    or diag log_tail($log);

# -------- back on its data
my $t_back = time;
broker_restart($c, $coord);
note sprintf 'node %d back in %.1fs', $coord, time - $t_back;
snap('node back');

is($stream->finish(180), 0, "all $N records produced by one idempotent "
   . 'producer across the failure') or diag $stream->output;

# every record at the broker, then in the database: its offsets reach the
# partitions' ends
my ($at, $nback, $unknown) = stream_positions($topic, $by_value);
is($nback, $N, "$N records at the broker");
ok(!$unknown && !%$by_value, 'every record once, as produced')
    or diag(scalar(keys %$by_value) . " missing, $unknown unknown");
my @end = map { scalar @{ $at->[$_] || [] } } 0 .. 2;
ok(wait_until(sub {
       my $off = db_offsets($dbh, $topic);
       !grep { ($off->[$_] // 0) != $end[$_] } 0 .. 2;
   }, 120), "the consumer reached the end of each partition (@end)")
    or diag log_tail($log);
snap('at the end');
is(consumer_stop($pid, 'TERM', 30), 0,
   'the same consumer ran throughout and exits 0 on SIGTERM')
    or diag log_tail($log);

# ------------------------------------------------------------ the checks

check_snapshots(\@snaps, $at, $bkey, $rate);

check_end_state($dbh, $topic, $truth, \@end);
is(sqlite_rows($db, 'SELECT sum(count) FROM hotel_rate_hourly')->[0][0], $N,
   "$N records counted, none twice");

check_no_crash($log);

broker_stop($c);
note sprintf 'done in %.0fs', time - $t0;
done_testing;
