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
use HotelKafka;

use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use FindBin;
use HTTP::Tiny;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

my $Root = "$FindBin::Bin/..";
my $Trends = $ENV{HOTEL_TRENDS} || "$Root/build/hotel-trends";

sub have { my $p = shift; grep { -x "$_/$p" } split /:/, $ENV{PATH} }

plan skip_all => 'openssl is not installed (the test CA is made with it)'
    unless have('openssl');
plan skip_all => 'kcat is not installed' unless have('kcat');
plan skip_all => "$Trends is not built (make consumer)" unless -x $Trends;
plan 'no_plan';

defined $ENV{TEST_NGINX_RUN_ID}
    or bail_out('TEST_NGINX_RUN_ID is not set');

sub slurp {
    open my $fh, '<', $_[0] or return '';
    local $/;
    my $s = <$fh>;
    return defined $s ? $s : '';
}

# ---------------------------------------------------------------- broker

my $Owner = $$;
my $Dir = tempdir('hotel-kafka-tls-XXXXXX', TMPDIR => 1);

sub stop_broker {
    return unless $Dir && $$ == $Owner;
    system("\"$Root/scripts/kafka\" stop \"$Dir\" >/dev/null 2>&1");
    if ($ENV{HOTEL_TEST_KEEP}) {
        Test::More::diag("HOTEL_TEST_KEEP: broker files left in $Dir");
    } else {
        remove_tree($Dir);
    }
    undef $Dir;
}

# stopped at the end whatever happens: a die, a failed start, ^C
END { local $?; stop_broker(); }
$SIG{INT} = $SIG{TERM} = sub { exit 130 };

my $boot = do {
    local $ENV{HOTEL_KAFKA_TLS} = 1;
    `"$Root/scripts/kafka" start "$Dir" 2>"$Dir/start.log"`;
};
if ($? != 0) {
    Test::More::fail('a broker with an SSL listener starts');
    Test::More::diag(slurp("$Dir/start.log"));
    exit 1;
}
chomp $boot;
chomp(my $tls_boot = slurp("$Dir/bootstrap-tls"));
Test::More::ok($tls_boot =~ /^127\.0\.0\.1:\d+$/ && $tls_boot ne $boot,
               "a broker with an SSL listener starts ($boot, TLS $tls_boot)");

# a CA that signed nothing the broker has
my $other = "$Dir/other-ca";
mkdir $other or die "mkdir $other: $!\n";
system("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
       . "-nodes -sha256 -days 1 -subj '/CN=not the broker CA' "
       . "-keyout '$other/ca.key' -out '$other/ca.pem' "
       . ">'$other/openssl.log' 2>&1") == 0
    or die "making the other CA failed:\n" . slurp("$other/openssl.log");

$ENV{TEST_NGINX_KAFKA_BROKERS}     = $boot;
$ENV{TEST_NGINX_KAFKA_TLS_BROKERS} = $tls_boot;
$ENV{TEST_NGINX_KAFKA_CA}          = "$Dir/tls/ca.pem";
$ENV{TEST_NGINX_KAFKA_WRONG_CA}    = "$other/ca.pem";

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

# "--- status_like": a regex the JSON of GET /status must match once the
# records are settled; polled (up to "--- status_timeout" seconds,
# default 15) after the block's last request.
# "--- error_log_count": lines "text => MIN..MAX" (or "=> N"); the number
# of error.log lines containing text must be within the bounds.
sub last_request {
    my ($block, $req_idx) = @_;
    my $n = ref $block->request eq 'ARRAY' ? @{ $block->request } : 1;
    return $req_idx == $n - 1;
}

sub check_status {
    my ($block, $body, $req_idx, $rep, $dry_run) = @_;
    my $want = $block->status_like;
    return if $dry_run || !defined $want || !last_request($block, $req_idx);
    $want =~ s/^\s+|\s+$//g;
    my $timeout = $block->status_timeout || 15;
    my $http = HTTP::Tiny->new(timeout => 3);
    my $url = 'http://127.0.0.1:' . server_port() . '/status';
    my $deadline = time + $timeout;
    my $got = '';
    while (1) {
        my $r = $http->get($url);
        $got = $r->{success} ? $r->{content} : "$r->{status} $r->{reason}";
        last if $got =~ /$want/ || time >= $deadline;
        sleep 0.25;
    }
    Test::More::like($got, qr/$want/, $block->name . ' - status');
}

sub check_log_counts {
    my ($block, $body, $req_idx, $rep, $dry_run) = @_;
    my $spec = $block->error_log_count;
    return if $dry_run || !defined $spec || !last_request($block, $req_idx);
    my $log = slurp(server_root() . '/logs/error.log');
    for my $line (split /\n/, $spec) {
        next unless $line =~ /^\s*(.+?)\s*=>\s*(\d+)(?:\.\.(\d+))?\s*$/;
        my ($text, $min, $max) = ($1, $2, defined $3 ? $3 : $2);
        my @hits = grep { index($_, $text) >= 0 } split /\n/, $log;
        Test::More::ok(@hits >= $min && @hits <= $max,
            $block->name . " - \"$text\" in $min..$max error.log lines")
            or Test::More::diag(scalar(@hits) . " lines:\n" . join "\n", @hits);
    }
}

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

# status first: the Kafka checks then look at settled records
add_response_body_check(\&check_status);
add_response_body_check(\&check_log_counts);
add_response_body_check(\&check_kafka_block);

run_tests();

# ---------------------------------------------------------------- consumer

# hotel-trends with @args, output to $log; returns its PID
sub trends_start {
    my ($log, @args) = @_;
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $log or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT;
        exec $Trends, @args or POSIX::_exit(127);
    }
    return $pid;
}

# its wait status, or undef if it still runs after $secs
sub trends_wait {
    my ($pid, $secs) = @_;
    my $deadline = time + $secs;
    while (1) {
        return $? if waitpid($pid, WNOHANG) == $pid;
        return undef if time >= $deadline;
        sleep 0.1;
    }
}

sub trends_stop {
    my $pid = shift;
    kill 'TERM', $pid;
    my $st = trends_wait($pid, 15);
    return $st if defined $st;
    kill 'KILL', $pid;
    waitpid $pid, 0;
    return undef;
}

# hotel|currency => "count sum" from a SQLite file (none if no table)
sub db_totals {
    my $db = shift;
    my %got;
    return \%got unless -s $db;
    open my $q, '-|', 'sqlite3', '-separator', ' ', $db,
        'SELECT hotel_id, currency, SUM(count), SUM(sum_micros)'
        . ' FROM hotel_rate_hourly GROUP BY hotel_id, currency'
        or die "sqlite3: $!";
    while (<$q>) {
        chomp;
        my ($hotel, $currency, $count, $sum) = split / /;
        $got{"$hotel|$currency"} = "$count $sum";
    }
    close $q;
    return \%got;
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
    my $pid = trends_start("$work/consume.log", 'consume',
        '-b', $tls_boot, '-t', $topic, '-g', "$topic-group", '-d', $db,
        '-X', 'security.protocol=ssl',
        '-X', "ssl.ca.location=$ENV{TEST_NGINX_KAFKA_CA}",
        '--exit-idle', '3');
    my $st = trends_wait($pid, 45);
    $st = trends_stop($pid) // 'killed' unless defined $st;
    is($st, 0, 'hotel-trends consume over TLS exits 0 when idle')
        or diag(slurp("$work/consume.log"));
    is_deeply(db_totals($db), \%want,
              'over TLS: SQLite per-hotel counts and exact sums equal the '
              . 'truth') or diag(slurp("$work/consume.log"));
}

{
    my $db = "$work/wrong-ca.db";
    my $log = "$work/wrong-ca.log";
    my $pid = trends_start($log, 'consume',
        '-b', $tls_boot, '-t', $topic, '-g', "$topic-wrong-ca", '-d', $db,
        '-X', 'security.protocol=ssl',
        '-X', "ssl.ca.location=$ENV{TEST_NGINX_KAFKA_WRONG_CA}",
        '--exit-idle', '2');
    my $deadline = time + 20;
    sleep 0.25 until slurp($log) =~ /certificate verify failed/
                     || time >= $deadline;
    # a few more seconds: past --exit-idle, and time to consume something
    # if it could
    my $early = trends_wait($pid, 4);
    ok(!defined $early, 'hotel-trends with the wrong CA keeps retrying '
       . '(no exit within --exit-idle while it never joined)')
        or diag("exited with status $early:\n" . slurp($log));
    my $st = defined $early ? $early : trends_stop($pid);
    is($st, 0, 'hotel-trends with the wrong CA exits 0 on SIGTERM')
        or diag(slurp($log));
    like(slurp($log), qr/_SSL: .*certificate verify failed/,
         'hotel-trends logs the SSL verification failure');
    is_deeply(db_totals($db), {},
              'hotel-trends with the wrong CA counted nothing');
    like(slurp($log), qr/closing: 0 records consumed/,
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
--- status_like: "produced":9,"delivered":9,"failed":0,
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
--- status_like: "produced":6,"delivered":0,"failed":6,
--- status_timeout: 10
--- error_log eval
[qr/\[error\] .*hotel kafka: _SSL: .*SSL handshake failed: .*certificate verify failed: broker certificate could not be verified/,
 qr/\[error\] .*hotel kafka: delivery failed: Local: Message timed out/]
--- error_log_count
hotel kafka: _SSL: => 1
hotel kafka: delivery failed: => 1
--- kafka_topic: wrong-ca
--- kafka_count: 0
--- kafka_timeout: 0
