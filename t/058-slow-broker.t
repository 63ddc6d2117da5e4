# The module under a slow broker: a produce quota on the producer's
# client id (scripts/kafka throttle: producer_byte_rate, as an operator
# sets one with kafka-configs) makes the test broker answer slowly, while
# a background load asks nginx (a master and one worker) for result pages
# of 5 hotels, far more records a second than the quota lets through. The
# queue is bounded (queue.buffering.max.messages 400, so that it fills in
# a moment), and the throttle is shorter than message.timeout.ms (60 s
# here): the records that found room must all be delivered once it is
# lifted, and those that did not are dropped at once, counted by reason.
#
# What must hold: every request answered 200 with its page unchanged; the
# queue never deeper than its bound; queue_full drops counted, and logged
# at most once in a 10 s window (the lines' own times); once the throttle
# is lifted, produced == delivered exactly (nothing failed), delivered is
# the number of records at the broker, none twice; every hotel shown to a
# client is either at the broker or counted as dropped: shown == produced
# + dropped.
#
# The quota is on this suite's own client id on the suite broker of
# scripts/test, so that it throttles nobody else; it is lifted at the end
# whatever happens. How requests' latency compares with and without the
# throttle is bench/cases/slow-broker.sh's (bench/README.md).

use strict;
use warnings;

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use Test::More;
use Time::HiRes qw(sleep time);
use HotelKafka;
use HotelNginx qw(queued dropped settled counters);
use HotelSuite qw(wait_until);

plan skip_all => 'TEST_NGINX_LOAD_MODULES is not set (the module to test)'
    unless $ENV{TEST_NGINX_LOAD_MODULES};
plan skip_all => 'not under valgrind (TEST_NGINX_USE_VALGRIND): a load '
    . 'that outruns the broker' if $ENV{TEST_NGINX_USE_VALGRIND};
for my $v (qw(TEST_NGINX_KAFKA_BROKERS HOTEL_KAFKA_DIR)) {
    plan skip_all => "$v is not set (run through scripts/test)"
        unless $ENV{$v};
}
for my $tool (qw(kcat protoc java)) {
    plan skip_all => "$tool is not installed"
        unless grep { -x "$_/$tool" } split /:/, $ENV{PATH};
}

my $Root = "$FindBin::Bin/..";
my $run = sprintf '%s-%d', $ENV{TEST_NGINX_RUN_ID} || "r$$", int rand 1e9;
my $topic = "$run-slow";
my $client = "nginx-hotel-kafka-$run";
my $BOUND = 400;
my $t0 = time;

sub throttle {
    my $rate = shift;
    my $out = `"$Root/scripts/kafka" throttle "$ENV{HOTEL_KAFKA_DIR}" '$client' $rate 2>&1`;
    return $? == 0 ? '' : $out;
}

my $throttled = 0;
END {
    # never leave the quota behind
    throttle('off') if $throttled;
}

sub page_json {
    my $q = shift;
    return '{"results":[' . join(',', map {
        qq({"hotel_id":"$q-$_","rate":2$_.5,"currency":"EUR"})
    } 0 .. 4) . ']}';
}

sub expected_body {
    my ($q) = $_[0] =~ m{^/p\?q=(.+)$} or return '';
    return page_json($q);
}


sub rss_kb {
    my $pid = shift;
    open my $fh, '<', "/proc/$pid/status" or return 0;
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)/ }
    return 0;
}

# ------------------------------------------------------------ nginx

my $ng = HotelNginx->new(master => 1, workers => 1);
$ng->start(http => <<"CONF", server => <<"SERVER")
    hotel_kafka_brokers $ENV{TEST_NGINX_KAFKA_BROKERS};
    hotel_kafka_conf client.id $client;
    hotel_kafka_conf queue.buffering.max.messages $BOUND;
    hotel_kafka_conf message.timeout.ms 60000;
    hotel_kafka_flush_timeout 10s;
CONF
        location = /p {
            hotel_kafka_search_results on;
            hotel_kafka_topic $topic;
            default_type application/json;
            return 200 '${\ page_json('$arg_q')}';
        }
SERVER
    or BAIL_OUT('nginx did not start');
my ($worker) = $ng->worker_pids;

# the broker as it is: a first load, all delivered
my $warm = $ng->start_load(clients => 1, max => 20, seconds => 20,
                           uri => sub { "/p?q=w$_[1]" },
                           body => \&expected_body);
my $wres = HotelNginx::finish_load($warm, 30);
my $st = $ng->wait_status(\&settled, 30);
is($st && $st->{delivered}, 100, 'unthrottled: 20 pages, 100 records '
   . 'delivered') or diag(counters($st));
my $rss_before = rss_kb($worker);

# ------------------------------------------------------------ slow

my $err = throttle(1024);
$throttled = 1;
is($err, '', "a produce quota of 1024 bytes/s on client id $client")
    or BAIL_OUT($err);
# a moment for every node to apply it
sleep 1;

my $t_load = time;
# 12 s: past one 10 s log window, so that rate limiting is seen at work
my $load = $ng->start_load(clients => 2, max => 10000, seconds => 12,
                           pause => 0.002,
                           uri => sub { "/p?q=c$_[0]-$_[1]" },
                           body => \&expected_body);
my ($max_queue, $max_rss, @samples) = (0, 0);
while (grep { HotelNginx::pid_alive($_) } @{ $load->{pids} }) {
    my $s = $ng->status;
    if ($s) {
        $max_queue = queued($s) if queued($s) > $max_queue;
        push @samples, $s;
    }
    my $r = rss_kb($worker);
    $max_rss = $r if $r > $max_rss;
    last if time - $t_load > 40;
    sleep 0.25;
}
my $res = HotelNginx::finish_load($load, 30);
my $during = $ng->status;
note sprintf 'under the throttle: %d requests in %.1fs; %s; deepest queue '
    . '%d; worker RSS %d kB before, %d kB at most', $res->{requests},
    time - $t_load, counters($during), $max_queue, $rss_before, $max_rss;

is($res->{errors}, 0, "no request failed ($res->{requests} requests)")
    or diag(join "\n", (grep { / ERR / } @{ $res->{lines} })[0 .. 4]);
is($res->{changed}, 0, 'every page reached its client unchanged');
is($res->{other}, 0, 'every answer a complete 200');
ok($during && ($during->{dropped}{queue_full} // 0) > 0,
   'the queue filled: records dropped as queue_full ('
   . ($during ? $during->{dropped}{queue_full} // 0 : 'no status') . ')');
cmp_ok($max_queue, '<=', $BOUND, "the queue never deeper than its bound "
       . "($max_queue of $BOUND)");
cmp_ok($max_queue, '>=', $BOUND * 0.9, 'and it did reach it');
is($during && dropped($during) - ($during->{dropped}{queue_full} // 0), 0,
   'no drop for another reason');

# ------------------------------------------------------------ lifted

my $at_lift = queued($ng->status);
ok($at_lift > 0, "records still queued when the throttle is lifted "
   . "($at_lift)");
$err = throttle('off');
is($err, '', 'the quota lifted') or diag($err);
$throttled = 0 unless $err;
my $t_lift = time;
$st = $ng->wait_status(\&settled, 90);
ok(settled($st), 'the queue drained once the throttle was lifted '
   . sprintf('(%.1fs)', time - $t_lift)) or diag(counters($st));
note 'at the end: ' . counters($st);
is($st && $st->{failed}, 0, 'nothing failed: every record that was queued '
   . 'was delivered');
is($st && $st->{produced}, $st && $st->{delivered},
   "produced == delivered ($st->{delivered})");

my @shown = (@{ $wres->{ok} }, @{ $res->{ok} });
is($st && $st->{produced} + dropped($st), scalar @shown,
   'every hotel shown was produced or counted as dropped ('
   . scalar(@shown) . ' shown)');

my (undef, $missing) = check_shown_at_broker($topic, $st->{delivered},
                                              \@shown);
my @missing = @$missing;
is(scalar @missing, $st->{dropped}{queue_full},
   'the hotels shown but not at the broker are exactly those counted as '
   . "dropped ($st->{dropped}{queue_full})");

# ------------------------------------------------------------ the log

is($ng->stop(40), 0, 'nginx exits cleanly');
my $log = $ng->error_log;
my @drops = grep { /hotel kafka: records dropped \(queue_full\)/ }
            split /\n/, $log;
ok(@drops >= 2, scalar(@drops) . ' log lines for the queue_full drops of '
   . 'a 12 s load');
my ($reported, $prev, $close) = (0, undef, 0);
for my $l (@drops) {
    my ($h, $m, $s) = $l =~ /^\S+ (\d\d):(\d\d):(\d\d) /;
    my ($more) = $l =~ /\((\d+) more since the last report\)/;
    $reported += 1 + ($more // 0);
    my $t = $h * 3600 + $m * 60 + $s;
    $close++ if defined $prev && $t - $prev < 10;
    $prev = $t;
}
is($close, 0, 'at most one line in any 10 s window');
cmp_ok($reported, '<=', $st->{dropped}{queue_full},
       "the lines account for $reported of the "
       . "$st->{dropped}{queue_full} drops (the rest came after the last "
       . 'line)');
my $bad = qr/exited on signal|\[alert\]|\[emerg\]|\[crit\]/;
unlike($log, $bad, 'no crash, alert, crit or emerg')
    or diag(join "\n", grep { $_ =~ $bad } split /\n/, $log);

note sprintf 'done in %.0fs', time - $t0;
done_testing;
