# Reloads, binary upgrades and quiet times lose no record: a background
# load of result pages while nginx (master, 2 workers) reloads several
# times and then quits gracefully, or upgrades its binary; every hotel the
# clients were shown (complete 200 pages) must be at the broker exactly
# once. A single process (master_process off) still produces after a HUP,
# with the new configuration. Delivery reports are served without traffic,
# through the eventfd nginx watches.
#
# These need signals and a load between requests, so nginx is driven
# directly (t/lib/HotelNginx.pm) rather than with Test::Nginx blocks.

use strict;
use warnings;

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use Test::More;
use JSON::PP ();
use Time::HiRes qw(sleep time);
use HotelKafka;
use HotelNginx qw(become_subreaper);
use HotelSuite qw(wait_until);

# master and workers, binary upgrades: nothing valgrind can follow
plan skip_all => 'not under valgrind (TEST_NGINX_USE_VALGRIND)'
    if $ENV{TEST_NGINX_USE_VALGRIND};

my $run = $ENV{TEST_NGINX_RUN_ID} or BAIL_OUT('TEST_NGINX_RUN_ID is not set');
$ENV{TEST_NGINX_KAFKA_BROKERS}
    or BAIL_OUT('TEST_NGINX_KAFKA_BROKERS is not set');
my $brokers = $ENV{TEST_NGINX_KAFKA_BROKERS};

# after a binary upgrade the new master outlives our child, the old one:
# it must become our child too, to be reaped
my $subreaper = become_subreaper();

# /p1, /p3, /p5: a page of 1, 3 or 5 hotels whose ids carry the request's q
sub pages_config {
    my $topic = shift;
    my $conf = "        hotel_kafka_search_results on;\n"
             . "        hotel_kafka_topic $topic;\n"
             . "        default_type application/json;\n";
    for my $n (1, 3, 5) {
        my $hotels = join ',', map {
            qq({"hotel_id":"\$arg_q-$_","rate":1$_.25,"currency":"EUR"})
        } 0 .. $n - 1;
        $conf .= "        location = /p$n {\n"
               . "            return 200 '{\"results\":[$hotels]}';\n"
               . "        }\n";
    }
    return $conf;
}

sub http_config {
    return "    hotel_kafka_brokers $brokers;\n" . (shift // '');
}

my @SIZES = (1, 3, 5);
sub load_uri {
    my ($k, $i) = @_;
    return "/p$SIZES[$i % 3]?q=c$k-$i";
}

sub count_lines {
    my ($log, $re) = @_;
    return scalar(() = $log =~ /$re/mg);
}

# The records at the broker against what the clients were shown: each
# shown hotel exactly once, nothing else (but for requests that got no
# complete answer, which nginx may or may not have served).
sub check_broker {
    my ($what, $topic, $res) = @_;
    my @shown = @{ $res->{ok} };
    my @recs = eval {
        kafka_read($topic, expect => scalar @shown, timeout => 60,
                   settle => 1);
    };
    if ($@) {
        fail("$what: read back $topic");
        diag($@);
        return;
    }
    my %at;
    $at{ $_->{hotel_id} }++ for @recs;
    my @missing = grep { !$at{$_} } @shown;
    my @dups = grep { $at{$_} > 1 } sort keys %at;
    my %shown = map { $_ => 1 } @shown;
    my @extra = grep {
        my $id = $_;
        (my $q = $id) =~ s/-\d+$//;
        !$shown{$id} && !grep { /[?&]q=\Q$q\E$/ } keys %{ $res->{unsure} }
    } sort keys %at;
    my @unsure_served = grep { !$shown{$_} } sort keys %at;

    note(sprintf '%s: %d requests, %d pages with %d hotels shown, '
         . '%d records at the broker, %d without a complete answer',
         $what, $res->{requests}, $res->{pages}, scalar @shown,
         scalar @recs, scalar keys %{ $res->{unsure} });
    is(scalar @missing, 0,
       "$what: every one of the " . scalar(@shown)
       . " hotels shown is at the broker")
        or diag("missing: @missing[0 .. ($#missing < 9 ? $#missing : 9)]");
    is(scalar @dups, 0, "$what: no record twice")
        or diag("twice: @dups[0 .. ($#dups < 9 ? $#dups : 9)]");
    is(scalar @extra, 0, "$what: no record of a page nobody was shown")
        or diag("extra: @extra[0 .. ($#extra < 9 ? $#extra : 9)]");
    note("$what: " . scalar(@unsure_served) . " records of requests "
         . "without a complete answer") if @unsure_served;
}

sub no_trouble {
    my ($what, $log) = @_;
    my $bad = qr/exited on signal|\[alert\]|\[emerg\]|\[crit\]/;
    unlike($log, $bad, "$what: no crash, alert, crit or emerg")
        or diag(join "\n", grep { $_ =~ $bad } split /\n/, $log);
    unlike($log, qr/records not delivered/, "$what: nothing purged");
}

# -------- reloads under load, then a graceful quit
{
    my $what = 'reloads under load';
    my $topic = "$run-reload";
    my $ng = HotelNginx->new(master => 1, workers => 2);
    $ng->start(http => http_config(), server => pages_config($topic))
        or BAIL_OUT("$what: nginx did not start");

    my $load = $ng->start_load(clients => 2, max => 3000, seconds => 40,
                               pause => 0.002, uri => \&load_uri);
    sleep 0.7;
    my @hups;
    for my $n (1 .. 3) {
        my %old = map { $_ => 1 } $ng->active_worker_pids;
        push @hups, time;
        $ng->signal('HUP');
        ok(wait_until(sub {
               my @new = grep { !$old{$_} } $ng->active_worker_pids;
               @new >= 2
           }, 15), "$what: reload $n started new workers");
        sleep 0.7;
    }
    my $quit = time;
    is($ng->stop(40), 0, "$what: nginx quits gracefully under load");
    my $res = HotelNginx::finish_load($load, 30);

    my @during = grep { /^(\S+) \S+ 200 1/ && $1 > $hups[0] && $1 < $quit }
                 @{ $res->{lines} };
    ok(@during > 50, "$what: pages were served while reloading ("
       . scalar(@during) . ")");
    my @early = grep { /^(\S+) \S+ ERR/ && $1 < $quit } @{ $res->{lines} };
    is(scalar @early, 0, "$what: no failed request before the quit")
        or diag(join "\n", @early[0 .. ($#early < 4 ? $#early : 4)]);
    is($res->{other}, 0, "$what: every answer a complete 200");

    my $log = $ng->error_log;
    is(count_lines($log, qr/: reconfiguring$/m), 3, "$what: 3 reloads");
    is(count_lines($log, qr/hotel kafka: producer started/), 8,
       "$what: 8 workers (2 per generation) started a producer");
    is(count_lines($log, qr/hotel kafka: producer flushed/), 8,
       "$what: all 8 flushed their queue at exit");
    no_trouble($what, $log);
    check_broker($what, $topic, $res);
}

# -------- binary upgrade under load: USR2, then QUIT the old master
SKIP: {
    my $what = 'binary upgrade under load';
    skip "$what: cannot become a subreaper", 9 unless $subreaper;
    my $topic = "$run-upgrade";
    my $ng = HotelNginx->new(master => 1, workers => 2);
    $ng->start(http => http_config(), server => pages_config($topic),
               detach => 1)
        or BAIL_OUT("$what: nginx did not start");
    my $old = $ng->pid;
    my $pidfile = $ng->root . '/logs/nginx.pid';

    my $load = $ng->start_load(clients => 2, max => 3000, seconds => 40,
                               pause => 0.002, uri => \&load_uri);
    sleep 0.7;
    $ng->signal('USR2');
    my $new;
    ok(wait_until(sub {
           return 0 unless -e "$pidfile.oldbin";
           ($new) = HotelNginx::slurp($pidfile) =~ /^(\d+)/;
           return $new && $new != $old
                  && $ng->active_worker_pids($new) >= 2;
       }, 20), "$what: new master and its workers up");

    sleep 0.7;
    my $switch = time;
    is($ng->stop(40), 0, "$what: old master quits gracefully");
    # the new master is ours now (subreaper): stop() will reap it
    $ng->{pid} = $new;
    $ng->{child} = 1;
    ok($new && $ng->alive, "$what: new master still running");
    sleep 1;
    my $quit = time;
    is($ng->stop(40), 0, "$what: new master quits gracefully");
    my $res = HotelNginx::finish_load($load, 30);

    my @after = grep { /^(\S+) \S+ 200 1/ && $1 > $switch + 0.2 && $1 < $quit }
                @{ $res->{lines} };
    ok(@after > 20, "$what: the new binary served pages ("
       . scalar(@after) . ")");
    my @early = grep { /^(\S+) \S+ ERR/ && $1 < $quit } @{ $res->{lines} };
    is(scalar @early, 0, "$what: no failed request before the quit")
        or diag(join "\n", @early[0 .. ($#early < 4 ? $#early : 4)]);

    my $log = $ng->error_log;
    is(count_lines($log, qr/hotel kafka: producer flushed/), 4,
       "$what: the 4 workers of both binaries flushed at exit");
    no_trouble($what, $log);
    check_broker($what, $topic, $res);
}

# -------- master_process off: a HUP keeps the producer
#
# With master_process off, nginx 1.22 builds the new cycle on a HUP but
# cannot accept connections any more (the connections array belongs to the
# old cycle: "worker_connections are not enough", without this module too);
# a connection accepted before the HUP goes on being served, with the
# configuration that accepted it. So the pages after each HUP go through
# one keep-alive connection opened before.
{
    my $what = 'single process and HUP';
    my $topic = "$run-single";
    my $ng = HotelNginx->new(master => 0);
    $ng->start(http => http_config(), server => pages_config($topic))
        or BAIL_OUT("$what: nginx did not start");

    my $ka = $ng->keepalive or BAIL_OUT("$what: cannot connect");
    my $r = HotelNginx::keepalive_get($ka, '/p3?q=single1');
    is($r->{code}, 200, "$what: page before the HUP");
    for my $n (2, 3) {
        $ng->signal('HUP');
        ok(wait_until(sub {
               count_lines($ng->error_log, qr/: reconfiguring$/m) >= $n - 1
           }, 10), "$what: HUP " . ($n - 1) . " taken");
        sleep 0.5;
        $r = HotelNginx::keepalive_get($ka, "/p3?q=single$n");
        is($r->{code}, 200, "$what: page after HUP " . ($n - 1))
            or diag($r->{error});
    }
    my $st;
    wait_until(sub {
        my $r = HotelNginx::keepalive_get($ka, '/kafka-status');
        $st = $r->{code} && $r->{code} == 200
              ? eval { JSON::PP::decode_json($r->{body}) } : undef;
        return $st && $st->{delivered} >= 9;
    }, 20);
    ok($st && $st->{produced} == 9 && $st->{delivered} == 9
       && $st->{failed} == 0,
       "$what: 9 produced and delivered, counters kept across HUPs")
        or diag($st ? "produced $st->{produced} delivered "
                      . "$st->{delivered} failed $st->{failed}" : 'no status');
    close $ka->{sock};
    is($ng->stop, 0, "$what: exits cleanly");
    my $log = $ng->error_log;
    is(count_lines($log, qr/hotel kafka: producer started/), 1,
       "$what: one producer for the process's life");
    is(count_lines($log, qr/hotel kafka: producer flushed/), 1,
       "$what: flushed once at exit");
    no_trouble($what, $log);
    kafka_expect_records($topic,
        [ map { my $n = $_;
                map { { hotel_id => "single$n-$_", position => $_ } } 0 .. 2
              } 1 .. 3 ],
        timeout => 20, settle => 0.5, name => $what);
}

# -------- delivery reports served with no traffic: the eventfd path
{
    my $what = 'no traffic';
    my $topic = "$run-quiet";
    my $ng = HotelNginx->new(master => 1, workers => 2);
    $ng->start(http => http_config(), server => pages_config($topic))
        or BAIL_OUT("$what: nginx did not start");

    # a first page creates the topic (its leader takes a moment to be
    # elected); once it is delivered, the quiet part starts
    my $r = $ng->get('/p1?q=warm');
    is($r->{code}, 200, "$what: a first page");
    my $st = $ng->wait_status(sub { $_[0]{delivered} >= 1 }, 30);
    is($st && $st->{delivered}, 1, "$what: its record delivered");

    $r = $ng->get('/p5?q=quiet');
    is($r->{code}, 200, "$what: one page of 5 hotels");
    # nothing more is sent to nginx until the checks below
    sleep 3;

    # each worker's notification eventfd (the only close-on-exec one) is
    # watched by its epoll and has been read: reports were served by the
    # handler of that fd, not left for the timer
    for my $w ($ng->active_worker_pids) {
        my (@mine, %watched);
        for my $fd (glob "/proc/$w/fd/*") {
            my $link = readlink($fd) // '';
            my ($n) = $fd =~ /(\d+)$/;
            my $info = HotelNginx::slurp("/proc/$w/fdinfo/$n");
            if ($link eq 'anon_inode:[eventfd]'
                && $info =~ /^flags:\s*(\d+)/m && oct($1) & 02000000)
            {
                my ($count) = $info =~ /^eventfd-count:\s*(\d+)/m;
                push @mine, [$n, $count];
            }
            $watched{$1} = 1 while $info =~ /^tfd:\s*(\d+)/mg;
        }
        is(scalar @mine, 1, "$what: worker $w has one notification eventfd");
        next unless @mine == 1;
        ok($watched{ $mine[0][0] }, "$what: worker $w watches it in epoll");
        is($mine[0][1], 0, "$what: worker $w has read it");
    }

    $st = $ng->status;
    ok($st && $st->{delivered} == 6 && $st->{produced} == 6,
       "$what: the 5 records show delivered, with no request in between")
        or diag($st ? "produced $st->{produced} delivered $st->{delivered}"
                    : 'no status');
    is($ng->stop, 0, "$what: exits cleanly");
    no_trouble($what, $ng->error_log);
    kafka_expect_records($topic,
        [ { hotel_id => 'warm-0' },
          map { { hotel_id => "quiet-$_", position => $_ } } 0 .. 4 ],
        timeout => 20, settle => 0.5, name => $what);
}

done_testing();
