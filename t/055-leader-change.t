# A partition leader dies under load and comes back: a three-node KRaft
# cluster of the suite's own on loopback (scripts/kafka start DIR 3:
# replication factor 3, min.insync.replicas 2), a topic of 3 partitions,
# nginx (master, 2 workers) producing every hotel of the result pages a
# background load asks for. The leader of partition 0 is SIGKILLed while
# the load runs, the load goes on through the leader election, the node
# is started again on its data, then the load stops and the queues drain.
#
# What must hold: every request answered 200 with the page unchanged; the
# idempotent producer writes no record twice across the retries; every
# hotel shown to the clients is at the broker exactly once, or counted as
# failed; produced == delivered + failed exactly, and delivered is the
# number of records at the broker.
#
# nginx and the cluster are driven directly (t/lib/HotelNginx.pm) and
# stopped by PID at the end, whatever happens.

use strict;
use warnings;

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use Test::More;
use Time::HiRes qw(sleep time);
use HotelKafka;
use HotelBroker qw(own_cluster broker_kill broker_restart broker_stop
                   broker_cmd);
use HotelNginx qw(queued dropped settled counters);
use HotelSuite qw(wait_until);

plan skip_all => 'TEST_NGINX_LOAD_MODULES is not set (the module to test)'
    unless $ENV{TEST_NGINX_LOAD_MODULES};
plan skip_all => 'not under valgrind (TEST_NGINX_USE_VALGRIND): master and '
    . 'workers' if $ENV{TEST_NGINX_USE_VALGRIND};
for my $tool (qw(kcat protoc java)) {
    plan skip_all => "$tool is not installed"
        unless grep { -x "$_/$tool" } split /:/, $ENV{PATH};
}

my $run = $ENV{TEST_NGINX_RUN_ID} || "r$$";
my $topic = "$run-leader";
my $t0 = time;

# /p1, /p3, /p5: a page of 1, 3 or 5 hotels whose ids carry the request's q
my @SIZES = (1, 3, 5);

sub page_json {
    my ($n, $q) = @_;
    return '{"results":[' . join(',', map {
        qq({"hotel_id":"$q-$_","rate":1$_.25,"currency":"EUR"})
    } 0 .. $n - 1) . ']}';
}

# (in each location, not the server: /kafka-status is no result page)
sub pages_config {
    my $conf = '';
    for my $n (@SIZES) {
        $conf .= "        location = /p$n {\n"
               . "            hotel_kafka_search_results on;\n"
               . "            hotel_kafka_topic $topic;\n"
               . "            default_type application/json;\n"
               . "            return 200 '" . page_json($n, '$arg_q') . "';\n"
               . "        }\n";
    }
    return $conf;
}

sub load_uri {
    my ($k, $i) = @_;
    return "/p$SIZES[$i % 3]?q=c$k-$i";
}

# the page a client must get for $uri, byte for byte
sub expected_body {
    my $uri = shift;
    my ($n, $q) = $uri =~ m{^/p(\d)\?q=(.+)$} or return '';
    return page_json($n, $q);
}

# "partition 0, leader N, replicas: a,b,c, isrs: a,b" from kcat -L
sub partition_meta {
    my ($boot, $part) = @_;
    my $out = `kcat -L -b '$boot' -t '$topic' -m 5 2>/dev/null`;
    return () unless $out =~ /^\s*partition $part, leader (-?\d+), replicas: ([\d,]+), isrs: ([\d,]*)/m;
    return ($1, $2, $3);
}

# ------------------------------------------------------------ the cluster

my $c = eval { own_cluster(3) };
BAIL_OUT("cannot start a three-node cluster of our own: $@") unless $c;
my $boot = $c->{bootstrap};
note sprintf 'three nodes ready in %.0fs: %s', time - $t0, $boot;
{
    my $props = HotelNginx::slurp("$c->{dir}/node1/server.properties");
    like($props, qr/^min\.insync\.replicas=2$/m,
         'the cluster requires 2 in-sync replicas (acks=all survives one '
         . 'node down)');
}
eval { broker_cmd($c, 'topic', $topic, 3, 3) };
BAIL_OUT("cannot create $topic: $@") if $@;

my ($leader, $replicas, $isrs);
wait_until(sub {
    ($leader, $replicas, $isrs) = partition_meta($boot, 0);
    defined $leader && $leader > 0 && ($isrs // '') =~ /^\d+,\d+,\d+$/;
}, 30);
ok(defined $leader && $leader > 0
   && ($replicas // '') =~ /^\d+,\d+,\d+$/,
   "partition 0 of $topic: 3 replicas, leader node "
   . ($leader // 'none') . " (replicas $replicas, isrs $isrs)")
    or BAIL_OUT('no leader for partition 0');

# ------------------------------------------------------------ nginx, load

my $ng = HotelNginx->new(master => 1, workers => 2);
$ng->start(http => <<"CONF", server => pages_config())
    hotel_kafka_brokers $boot;
    hotel_kafka_flush_timeout 10s;
CONF
    or BAIL_OUT('nginx did not start');

# bounded: at most 2 x 2500 requests, 60 s
my $load = $ng->start_load(clients => 2, max => 2500, seconds => 60,
                           pause => 0.01, uri => \&load_uri,
                           body => \&expected_body);
sleep 2;
my $before = $ng->status;
note 'before the kill: ' . counters($before);

# -------- the leader of partition 0 dies
my $t_kill = time;
broker_kill($c, $leader);
my $new_leader;
my $elected = wait_until(sub {
    my ($l) = partition_meta($boot, 0);
    $new_leader = $l;
    defined $l && $l > 0 && $l != $leader;
}, 30);
ok($elected, "a new leader for partition 0 once node $leader died (node "
   . ($new_leader // 'none') . ')');
note sprintf 'new leader after %.1fs', time - $t_kill;
# the load goes on with the node down
sleep 4;
my $down = $ng->status;
note "node $leader down: " . counters($down);
ok($down && $down->{delivered} > $before->{delivered}
   && $down->{produced} > $before->{produced},
   'records produced and delivered while the old leader is down');

# -------- it comes back on its data
my $t_back = time;
broker_restart($c, $leader);
note sprintf 'node %d back in %.1fs', $leader, time - $t_back;
my $resynced = wait_until(sub {
    my (undef, undef, $i) = partition_meta($boot, 0);
    ($i // '') =~ /^\d+,\d+,\d+$/;
}, 30);
note $resynced ? "node $leader back in partition 0's ISR"
               : "node $leader not yet back in partition 0's ISR";
sleep 2;

HotelNginx::stop_load($load);
my $res = HotelNginx::finish_load($load, 30);
my $t_end = time;

# -------- what the clients saw
my @during = grep { /^(\S+) \S+ 200 1/ && $1 > $t_kill && $1 < $t_back }
             @{ $res->{lines} };
ok(@during > 20, 'pages served while the leader was down ('
   . scalar(@during) . ')');
is($res->{errors}, 0, "no request failed ($res->{requests} requests)")
    or diag(join "\n", (grep { / ERR / } @{ $res->{lines} })[0 .. 4]);
is($res->{changed}, 0, 'every page reached its client unchanged');
is($res->{other}, 0, 'every answer a complete 200');
my @shown = @{ $res->{ok} };
note sprintf '%d requests, %d pages with %d hotels shown, in %.0fs',
    $res->{requests}, $res->{pages}, scalar @shown, $t_end - $t_kill + 2;

# -------- the counters once the queues are empty
my $st = $ng->wait_status(\&settled, 60);
ok(settled($st), 'queues drained: produced == delivered + failed exactly')
    or diag(counters($st));
is($st && $st->{produced}, scalar @shown,
   'every hotel shown was handed to the producer');
is($st && dropped($st), 0, 'nothing dropped');
is($st && $st->{pages}, $res->{pages}, "every page read ($res->{pages})");
note 'at the end: ' . counters($st);

# -------- the broker: each shown hotel once, or counted as failed
my ($recs, $missing) = do {
    local $ENV{TEST_NGINX_KAFKA_BROKERS} = $boot;
    check_shown_at_broker($topic, $st->{delivered}, \@shown,
        twice => 'no record twice (idempotent producer across the leader '
                 . 'change)');
};
my @recs = @$recs;
my @missing = @$missing;
is(scalar @missing, $st->{failed},
   'the hotels shown but not at the broker are exactly those counted as '
   . "failed ($st->{failed})")
    or diag("missing: @missing[0 .. ($#missing < 9 ? $#missing : 9)]");
my %parts;
$parts{ $_->{partition} }++ for @recs;
note 'records per partition: '
    . join ', ', map { "$_: $parts{$_}" } sort keys %parts;

# -------- nginx stops cleanly
is($ng->stop(40), 0, 'nginx exits cleanly');
my $log = $ng->error_log;
my $bad = qr/exited on signal|\[alert\]|\[emerg\]|\[crit\]/;
unlike($log, $bad, 'no crash, alert, crit or emerg')
    or diag(join "\n", grep { $_ =~ $bad } split /\n/, $log);
unlike($log, qr/records not delivered/, 'nothing purged at exit');
my @lines = grep { /hotel kafka:/ && !/producer (started|flushed)/ }
            split /\n/, $log;
note scalar(@lines) . ' module log lines about the leader change'
    . (@lines ? ":\n" . join "\n", map { s/^.*?\] \d+#\d+: //r }
                                   @lines[0 .. ($#lines < 5 ? $#lines : 5)]
              : '');

broker_stop($c);
note sprintf 'done in %.0fs', time - $t0;
done_testing;
