# Faults on the Kafka side, driven directly (t/lib/HotelNginx.pm): the
# scenarios need counters read after a pause, a reload between requests,
# or a broker of the suite's own that it kills and restarts.
#
# (a) broker down (a closed port), a master and a worker: records wait in
#     the bounded queue and fail after message.timeout.ms, counted and
#     logged once;
# (b) broker down at start, back later; killed while serving, back again:
#     the records produced while it was down reach it, each once;
# (c) queue full: records dropped and counted, the queued ones failed
#     after message.timeout.ms;
# (d) and in each, what a worker still holds when it exits (a reload, the
#     end) is purged after hotel_kafka_flush_timeout, counted as failed
#     and logged; produced == delivered + failed throughout.
#
# t/050-broker-down.t has the blocks (broker down at start, queue full).

use strict;
use warnings;

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use Test::More;
use HotelKafka;
use HotelBroker qw(own_broker broker_kill broker_restart broker_stop);
use HotelNginx qw(dead_port counters queued settled);
use HotelSuite qw(wait_until);

plan skip_all => 'TEST_NGINX_LOAD_MODULES is not set (the module to test)'
    unless $ENV{TEST_NGINX_LOAD_MODULES};
# master and workers, which valgrind does not follow
plan skip_all => 'not under valgrind (TEST_NGINX_USE_VALGRIND): master and '
    . 'workers' if $ENV{TEST_NGINX_USE_VALGRIND};

# nobody listens there: every connection attempt is refused at once
my $DEAD_PORT = dead_port();

my $PAGE = q{'{"results":[{"hotel_id":"$arg_q-0","rate":100.5,"currency":"EUR"},{"hotel_id":"$arg_q-1","rate":"80","currency":"usd"},{"hotel_id":"$arg_q-2","rate":99.99,"currency":"EUR"}]}'};

sub page_of {
    my $q = shift;
    (my $p = $PAGE) =~ s/\$arg_q/$q/g;
    $p =~ s/^'|'$//g;
    return $p;
}

sub search_location {
    my $topic = shift;
    return <<"CONF";
        location = /search {
            hotel_kafka_search_results on;
            hotel_kafka_topic $topic;
            default_type application/json;
            return 200 $PAGE;
        }
CONF
}

# GET /search?q=$q for each q; every response must be the page, unchanged.
sub send_pages {
    my ($ng, $what, @qs) = @_;
    my $bad = 0;
    for my $q (@qs) {
        my $r = $ng->get("/search?q=$q");
        next if ($r->{code} // 0) == 200 && $r->{body} eq page_of($q);
        $bad++;
        diag("GET /search?q=$q: " . ($r->{error} // "$r->{code} $r->{body}"));
    }
    is($bad, 0, "$what: " . scalar(@qs) . " pages served unchanged");
}

sub count_lines {
    my ($log, $text) = @_;
    return scalar(() = $log =~ /^.*\Q$text\E.*$/mg);
}

my $run = $ENV{TEST_NGINX_RUN_ID}
    or Test::More::BAIL_OUT('TEST_NGINX_RUN_ID is not set');

# the line a worker logs when it purges at exit
my $PURGED = 'hotel kafka: (\d+) records not delivered within '
           . 'hotel_kafka_flush_timeout 500 ms, purged and counted as failed';
$PURGED = qr/$PURGED/;

# -------- (a), (d): failed after message.timeout.ms; purged at a reload
{
    my $what = 'broker down, master and worker';
    my $ng = HotelNginx->new(master => 1, workers => 1);
    $ng->start(http => <<"CONF", server => search_location("$run-down"))
    hotel_kafka_brokers 127.0.0.1:$DEAD_PORT;
    hotel_kafka_conf message.timeout.ms 2000;
    hotel_kafka_flush_timeout 500ms;
CONF
        or Test::More::BAIL_OUT("$what: nginx did not start");

    send_pages($ng, $what, map { "down$_" } 1 .. 4);
    my $st = $ng->status;
    is($st && $st->{produced}, 12, "$what: 12 records produced at once")
        or diag(counters($st));
    is($st && $st->{delivered}, 0, "$what: none delivered");

    $st = $ng->wait_status(sub { $_[0]{failed} >= 12 }, 20);
    is($st && $st->{failed}, 12,
       "$what: all 12 failed after message.timeout.ms")
        or diag(counters($st));
    ok(settled($st), "$what: produced == delivered + failed, queue empty")
        or diag(counters($st));
    like($st->{last_error}, qr/timed out/i, "$what: last_error says why");

    my $log = $ng->error_log;
    is(count_lines($log,
                   'hotel kafka: delivery failed: Local: Message timed out'),
       1, "$what: 12 delivery failures, one rate-limited log line");

    # queued records of a worker that exits (reload) are purged, counted
    # as failed and logged; the new worker answers from the same counters
    my @old = $ng->worker_pids;
    send_pages($ng, "$what, before a reload", map { "purge$_" } 1 .. 2);
    $ng->signal('HUP');
    ok(wait_until(sub {
           my %now = map { $_ => 1 } $ng->worker_pids;
           !grep { $now{$_} || HotelNginx::pid_alive($_) } @old
       }, 15), "$what: old worker gone after the reload");

    $st = $ng->wait_status(sub { settled($_[0]) && $_[0]{produced} >= 18 },
                           10);
    is($st && $st->{produced}, 18, "$what: 18 produced in all");
    is($st && $st->{failed}, 18,
       "$what: the 6 purged at the reload counted as failed");
    ok(settled($st), "$what: produced == delivered + failed after the reload")
        or diag(counters($st));

    $log = $ng->error_log;
    my @purged = $log =~ /\[error\].*$PURGED/g;
    is("@purged", '6',
       "$what: the purge at the reload is logged with its count");

    is($ng->stop, 0, "$what: nginx exits cleanly");
    $log = $ng->error_log;
    unlike($log, qr/exited on signal|\[alert\]|\[emerg\]/,
           "$what: no crash, alert or emerg");
    like($log, qr/hotel kafka: producer flushed/,
         "$what: nothing left to purge at the final exit");
}

# -------- (c), (d): queue full, then every queued record fails
{
    my $what = 'queue full';
    my $ng = HotelNginx->new(master => 0);
    $ng->start(http => <<"CONF", server => search_location("$run-full"))
    hotel_kafka_brokers 127.0.0.1:$DEAD_PORT;
    hotel_kafka_conf queue.buffering.max.messages 5;
    hotel_kafka_conf message.timeout.ms 3000;
    hotel_kafka_flush_timeout 500ms;
CONF
        or Test::More::BAIL_OUT("$what: nginx did not start");

    send_pages($ng, $what, map { "full$_" } 1 .. 40);
    my $st = $ng->status;
    is($st && $st->{produced}, 5, "$what: 5 of 120 records queued")
        or diag(counters($st));
    is($st && $st->{dropped}{queue_full}, 115,
       "$what: 115 counted as dropped.queue_full");

    $st = $ng->wait_status(sub { $_[0]{failed} >= 5 }, 20);
    ok(settled($st) && $st->{failed} == 5 && $st->{delivered} == 0,
       "$what: the 5 queued fail after message.timeout.ms; "
       . "produced == delivered + failed")
        or diag(counters($st));

    # room again: the next pages are queued, then purged at exit
    send_pages($ng, "$what, after the timeout", 'again1');
    $st = $ng->status;
    is($st && $st->{produced}, 8, "$what: queued again once there is room")
        or diag(counters($st));

    is($ng->stop, 0, "$what: nginx exits cleanly");
    my $log = $ng->error_log;
    my $drops = count_lines($log, 'hotel kafka: records dropped '
                                  . '(queue_full): Local: Queue full');
    ok($drops >= 1 && $drops <= 2,
       "$what: 115 drops, $drops rate-limited log line(s)");
    my @purged = $log =~ /$PURGED/g;
    is("@purged", '3',
       "$what: the 3 still queued at exit are purged and logged");
    unlike($log, qr/exited on signal|\[alert\]|\[emerg\]/,
           "$what: no crash, alert or emerg");
}

# -------- (b), (d): down at start, back later; down again, back again;
# down at a reload
{
    my $what = 'broker back';
    my $b = eval { own_broker() };
    Test::More::BAIL_OUT("cannot start a broker of our own: $@") unless $b;
    broker_kill($b, 1);

    my $topic = "$run-back";
    my $ng = HotelNginx->new(master => 1, workers => 2);
    $ng->start(http => <<"CONF", server => search_location($topic))
    hotel_kafka_brokers $b->{bootstrap};
    hotel_kafka_conf message.timeout.ms 120000;
    hotel_kafka_conf reconnect.backoff.max.ms 1000;
    hotel_kafka_flush_timeout 500ms;
CONF
        or Test::More::BAIL_OUT("$what: nginx did not start");

    my @first = map { "first$_" } 1 .. 5;
    send_pages($ng, "$what, broker down at start", @first);
    my $st = $ng->status;
    ok($st && $st->{produced} == 15 && $st->{delivered} == 0
       && $st->{failed} == 0, "$what: 15 records produced and waiting")
        or diag(counters($st));
    # the gauge is refreshed when the worker polls (at least every second)
    $st = $ng->wait_status(sub { queued($_[0]) >= 15 }, 10);
    is($st && queued($st), 15, "$what: queue_depth shows the 15 waiting");

    broker_restart($b, 1);
    $st = $ng->wait_status(sub { $_[0]{delivered} >= 15 }, 60);
    ok(settled($st) && $st->{delivered} == 15 && $st->{failed} == 0,
       "$what: the 15 records produced while it was down are delivered")
        or diag(counters($st));

    # down again while serving, then back
    broker_kill($b, 1);
    my @second = map { "second$_" } 1 .. 4;
    send_pages($ng, "$what, broker killed while serving", @second);
    broker_restart($b, 1);
    $st = $ng->wait_status(sub { $_[0]{delivered} >= 27 }, 60);
    ok(settled($st) && $st->{delivered} == 27 && $st->{failed} == 0,
       "$what: the 12 records produced while it was down again are delivered")
        or diag(counters($st));

    # at the broker: each record exactly once
    {
        local $ENV{TEST_NGINX_KAFKA_BROKERS} = $b->{bootstrap};
        my @expected;
        for my $q (@first, @second) {
            push @expected,
                { hotel_id => "$q-0", key => "$q-0",
                  rate_micros => 100500000, currency => 'EUR',
                  position => 0 },
                { hotel_id => "$q-1", rate_micros => 80000000,
                  currency => 'USD', position => 1 },
                { hotel_id => "$q-2", rate_micros => 99990000,
                  position => 2 };
        }
        kafka_expect_records($topic, \@expected, timeout => 30,
                             settle => 1, name => $what);
    }

    # down a third time, and a reload: the old workers purge what they
    # hold after hotel_kafka_flush_timeout; delivered and failed together
    # account for every record produced
    broker_kill($b, 1);
    my @old = $ng->worker_pids;
    send_pages($ng, "$what, broker killed before a reload",
               map { "third$_" } 1 .. 2);
    $ng->signal('HUP');
    ok(wait_until(sub {
           !grep { HotelNginx::pid_alive($_) } @old
       }, 20), "$what: old workers gone after the reload");
    $st = $ng->wait_status(sub { settled($_[0]) && $_[0]{produced} >= 33 },
                           10);
    ok(settled($st) && $st->{produced} == 33 && $st->{delivered} == 27
       && $st->{failed} == 6,
       "$what: produced 33 == delivered 27 + failed 6 (purged)")
        or diag(counters($st));

    is($ng->stop, 0, "$what: nginx exits cleanly");
    my $log = $ng->error_log;
    my $purged = 0;
    $purged += $_ for $log =~ /$PURGED/g;
    is($purged, 6, "$what: the reload's purges logged, 6 records in all");
    unlike($log, qr/exited on signal|\[alert\]|\[emerg\]/,
           "$what: no crash, alert or emerg");
    broker_stop($b);
}

done_testing;
