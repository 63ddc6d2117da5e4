# TLS to the broker. The suite starts a broker of its own with an SSL
# listener (HOTEL_KAFKA_TLS=1 scripts/kafka start: a throwaway CA made by
# openssl at start, a broker certificate for 127.0.0.1 and localhost
# signed by it), and a second CA that signed nothing the broker has:
#
# - nginx with security.protocol ssl and the test CA produces a page's
#   records over TLS; they are read back (from the same broker's
#   PLAINTEXT listener) and compared field by field;
# - with the other CA the broker's certificate does not verify: requests
#   are still answered 200, no record reaches the broker, the records are
#   counted failed after message.timeout.ms, and the SSL verification
#   error is logged, rate-limited;
# - hotel-trends consumes those records from the SSL listener
#   (-X security.protocol=ssl -X ssl.ca.location=...) into SQLite, with
#   the right totals; with the other CA it consumes nothing. It does not
#   exit by itself then: a TLS failure is not fatal to librdkafka, which
#   retries, and --exit-idle waits out the consumer's 60 s group-join
#   grace before it applies; so the suite stops it with SIGTERM after a
#   few seconds (it exits 0) and checks it logged the verification error
#   and wrote no row.
#
# TEST_NGINX_KAFKA_BROKERS is set here to the suite broker's PLAINTEXT
# bootstrap (for HotelKafka's read-back); TEST_NGINX_KAFKA_TLS_BROKERS,
# TEST_NGINX_KAFKA_CA and TEST_NGINX_KAFKA_WRONG_CA are for the blocks.

use Test::Nginx::Socket;
use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use HotelBlocks;
use HotelConsumer qw(trends_run consumer_wait consumer_stop hotel_totals);
use HotelBroker qw(own_broker);
use HotelNginx ();

use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);

$ENV{HOTEL_TRENDS} ||= "$FindBin::Bin/../build/hotel-trends";

sub have { my $p = shift; grep { -x "$_/$p" } split /:/, $ENV{PATH} }

plan skip_all => 'openssl is not installed (the test CA is made with it)'
    unless have('openssl');
plan skip_all => 'kcat is not installed' unless have('kcat');
plan skip_all => "$ENV{HOTEL_TRENDS} is not built (make consumer)"
    unless -x $ENV{HOTEL_TRENDS};
plan 'no_plan';

defined $ENV{TEST_NGINX_RUN_ID}
    or bail_out('TEST_NGINX_RUN_ID is not set');

# ---------------------------------------------------------------- broker

# stopped at the end whatever happens: a die, a failed start, ^C
my $broker = eval { own_broker(tls => 1) } or do {
    Test::More::fail('a broker with an SSL listener starts');
    Test::More::diag($@);
    exit 1;
};
Test::More::ok($broker->{tls_bootstrap} =~ /^127\.0\.0\.1:\d+$/
               && $broker->{tls_bootstrap} ne $broker->{bootstrap},
               "a broker with an SSL listener starts ($broker->{bootstrap}, "
               . "TLS $broker->{tls_bootstrap})");

$ENV{TEST_NGINX_KAFKA_BROKERS}     = $broker->{bootstrap};
$ENV{TEST_NGINX_KAFKA_TLS_BROKERS} = $broker->{tls_bootstrap};
$ENV{TEST_NGINX_KAFKA_CA}          = $broker->{ca};
# a CA that signed nothing the broker has
$ENV{TEST_NGINX_KAFKA_WRONG_CA}    = $broker->{wrong_ca};

# ---------------------------------------------------------------- pages

use constant PAGES => 3;

# what the location below shows on page p (GET /search?p=p): hotel id,
# rate in micros, currency
sub page_hotels {
    my $p = shift;
    return (["tls-1", (10 + $p) * 1_000_000 + 990_000, 'EUR'],
            ["tls-2", (20 + $p) * 1_000_000 + 500_000, 'EUR'],
            ["tls-3", (30 + $p) * 1_000_000, 'USD']);
}

sub expected_records {
    my @lines;
    for my $p (1 .. PAGES) {
        my $pos = 0;
        for my $h (page_hotels($p)) {
            push @lines, sprintf 'hotel_id=%s key=%s rate_micros=%d '
                . 'currency=%s position=%d', $h->[0], $h->[0], $h->[1],
                $h->[2], $pos++;
        }
    }
    return join "\n", @lines;
}

# ---------------------------------------------------------------- checks

repeat_each(1);
no_shuffle();
log_level('info');

# Under valgrind the wrong-CA block may outlast the 10 s log window, and
# a second line for the same error is then right: the lines are still
# required, their counts are not.
add_block_preprocessor(sub {
    my $block = shift;
    return unless $ENV{TEST_NGINX_USE_VALGRIND}
                  && $block->name =~ /did not sign/;
    $block->set_value('error_log_count', undef);
});

# status_eventually, then the Kafka checks on settled records, then
# block_error_log and error_log_count (t/lib/HotelBlocks.pm)
add_response_body_check(\&check_block_sections);

run_tests();

# ---------------------------------------------------------------- consumer

# hotel|currency => "count sum" from a SQLite file (none if no table)
sub db_totals {
    return { map { ("$_->[0]|$_->[1]" => "$_->[2] $_->[3]") }
             @{ hotel_totals($_[0]) } };
}

my $topic = "$ENV{TEST_NGINX_RUN_ID}-tls";
my $work = tempdir('hotel-trends-tls-XXXXXX', TMPDIR => 1, CLEANUP => 1);

{
    my %want;
    for my $p (1 .. PAGES) {
        for my $h (page_hotels($p)) {
            my ($c, $s) = split / /, $want{"$h->[0]|$h->[2]"} || '0 0';
            $want{"$h->[0]|$h->[2]"} = ($c + 1) . ' ' . ($s + $h->[1]);
        }
    }

    my $db = "$work/trends.db";
    my $pid = trends_run("$work/consume.log", 'consume',
        '-b', $broker->{tls_bootstrap}, '-t', $topic, '-g', "$topic-group",
        '-d', $db, '-X', 'security.protocol=ssl',
        '-X', "ssl.ca.location=$ENV{TEST_NGINX_KAFKA_CA}",
        '--exit-idle', '3');
    my $st = consumer_wait($pid, 45);
    $st = consumer_stop($pid, 'TERM', 15) // 'killed' unless defined $st;
    is($st, 0, 'hotel-trends consume over TLS exits 0 when idle')
        or diag(HotelNginx::slurp("$work/consume.log"));
    is_deeply(db_totals($db), \%want,
              'over TLS: SQLite per-hotel counts and exact sums equal the '
              . 'truth') or diag(HotelNginx::slurp("$work/consume.log"));
}

{
    my $db = "$work/wrong-ca.db";
    my $log = "$work/wrong-ca.log";
    my $pid = trends_run($log, 'consume',
        '-b', $broker->{tls_bootstrap}, '-t', $topic, '-g', "$topic-wrong-ca",
        '-d', $db, '-X', 'security.protocol=ssl',
        '-X', "ssl.ca.location=$ENV{TEST_NGINX_KAFKA_WRONG_CA}",
        '--exit-idle', '2');
    my $deadline = time + 20;
    sleep 0.25 until HotelNginx::slurp($log) =~ /certificate verify failed/
                     || time >= $deadline;
    # a few more seconds: past --exit-idle, and time to consume something
    # if it could
    my $early = consumer_wait($pid, 4);
    ok(!defined $early, 'hotel-trends with the wrong CA keeps retrying '
       . '(no exit within --exit-idle while it never joined)')
        or diag("exited with status $early:\n" . HotelNginx::slurp($log));
    my $st = defined $early ? $early : consumer_stop($pid, 'TERM', 15);
    is($st, 0, 'hotel-trends with the wrong CA exits 0 on SIGTERM')
        or diag(HotelNginx::slurp($log));
    like(HotelNginx::slurp($log), qr/_SSL: .*certificate verify failed/,
         'hotel-trends logs the SSL verification failure');
    is_deeply(db_totals($db), {},
              'hotel-trends with the wrong CA counted nothing');
    like(HotelNginx::slurp($log), qr/closing: 0 records consumed/,
         'hotel-trends with the wrong CA consumed no record');
}

__DATA__

=== TEST 1: records over TLS, the broker's certificate verified with the test CA
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_TLS_BROKERS;
    hotel_kafka_conf security.protocol ssl;
    hotel_kafka_conf ssl.ca.location $TEST_NGINX_KAFKA_CA;
--- config
    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-tls;
        default_type application/json;
        return 200 '{"results":[{"hotel_id":"tls-1","rate":"1$arg_p.99","currency":"EUR"},{"hotel_id":"tls-2","rate":2$arg_p.5,"currency":"EUR"},{"hotel_id":"tls-3","rate":3$arg_p,"currency":"usd"}]}';
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
[ map { "GET /search?p=$_" } 1 .. 3 ]
--- response_body eval
[ map { qq{{"results":[{"hotel_id":"tls-1","rate":"1$_.99","currency":"EUR"},{"hotel_id":"tls-2","rate":2$_.5,"currency":"EUR"},{"hotel_id":"tls-3","rate":3$_,"currency":"usd"}]}} } 1 .. 3 ]
--- status_eventually eval
["/status", qr/"produced":9,"delivered":9,"failed":0,/]
--- status_timeout: 15
--- kafka_topic: tls
--- kafka_records eval
main::expected_records()
--- no_error_log
[error]
[warn]



=== TEST 2: a CA that did not sign the broker's certificate: nothing delivered, failures counted, the reason logged
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_TLS_BROKERS;
    hotel_kafka_conf security.protocol ssl;
    hotel_kafka_conf ssl.ca.location $TEST_NGINX_KAFKA_WRONG_CA;
    hotel_kafka_conf message.timeout.ms 2000;
--- config
    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-wrong-ca;
        default_type application/json;
        return 200 '{"results":[{"hotel_id":"w-$arg_p","rate":10,"currency":"EUR"},{"hotel_id":"x-$arg_p","rate":20,"currency":"EUR"}]}';
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
[ map { "GET /search?p=$_" } 1 .. 3 ]
--- response_body eval
[ map { qq{{"results":[{"hotel_id":"w-$_","rate":10,"currency":"EUR"},{"hotel_id":"x-$_","rate":20,"currency":"EUR"}]}} } 1 .. 3 ]
--- status_eventually eval
["/status", qr/"produced":6,"delivered":0,"failed":6,/]
--- status_timeout: 10
--- block_error_log eval
[qr/\[error\] .*hotel kafka: _SSL: .*SSL handshake failed: .*certificate verify failed: broker certificate could not be verified/,
 qr/\[error\] .*hotel kafka: delivery failed: Local: Message timed out/]
--- error_log_count
hotel kafka: _SSL: => 1
hotel kafka: delivery failed: => 1
--- kafka_topic: wrong-ca
--- kafka_count: 0
--- kafka_timeout: 0
