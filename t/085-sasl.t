# SASL to the broker. The suite starts a broker of its own with a
# SASL_SSL listener (HOTEL_KAFKA_SASL=1 scripts/kafka start: the TLS
# certificate of t/080, and one user, "hotel", whose password is made at
# random at start; SCRAM-SHA-512 credentials written at format time, and
# PLAIN). Every block checks that neither that password nor the wrong
# one tried below is in the error log, nginx's stderr, the JSON status or
# the Prometheus metrics.
#
# - nginx with sasl.mechanisms PLAIN and the right password produces a
#   page's records over SASL_SSL; they are read back (from the same
#   broker's PLAINTEXT listener) and compared field by field;
# - SCRAM-SHA-512 with the right password: Kafka's own Java client
#   authenticates (checked once, in the main stage), but librdkafka before
#   2.6.1 (Debian bookworm has 2.0.2) is refused by Kafka 4.x as invalid
#   credentials (librdkafka#4895). With such a librdkafka the block
#   expects what a refusal must give: requests answered 200, the records
#   counted failed after message.timeout.ms, the error logged once, and
#   the module's warning that says why; with a newer one, every record
#   delivered;
# - a wrong password: requests answered 200, nothing at the broker, the
#   records counted failed, librdkafka's reason logged once in the
#   10 s window while the broker refused several attempts (its log
#   counts them);
# - hotel-trends consumes the first block's records over SASL_SSL with
#   its -c file (the password off the command line) into SQLite, with the
#   right totals; with the wrong password it consumes nothing, says why,
#   keeps retrying until SIGTERM (status 0).
#
# TEST_NGINX_KAFKA_BROKERS is set here to the suite broker's PLAINTEXT
# bootstrap (for HotelKafka's read-back); TEST_NGINX_KAFKA_SASL_BROKERS,
# TEST_NGINX_KAFKA_CA, TEST_NGINX_KAFKA_SASL_USER,
# TEST_NGINX_KAFKA_SASL_PASSWORD and TEST_NGINX_KAFKA_WRONG_PASSWORD are
# for the blocks.

use Test::Nginx::Socket;
use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use HotelBlocks;
use HotelBroker qw(own_broker);
use HotelConsumer qw(trends_run consumer_wait consumer_stop hotel_totals);
use HotelNginx ();
use HotelSuite qw(have_tool);

use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);

$ENV{HOTEL_TRENDS} ||= "$FindBin::Bin/../build/hotel-trends";

for my $tool (qw(openssl kcat java pkg-config)) {
    plan skip_all => "$tool is not installed" unless have_tool($tool);
}
plan skip_all => "$ENV{HOTEL_TRENDS} is not built (make consumer)"
    unless -x $ENV{HOTEL_TRENDS};
plan 'no_plan';

defined $ENV{TEST_NGINX_RUN_ID}
    or bail_out('TEST_NGINX_RUN_ID is not set');

sub slurp { HotelNginx::slurp(@_) }

# librdkafka's SCRAM works with Kafka 4.x from 2.6.1 on (librdkafka#4895)
my $Rdkafka = `pkg-config --modversion rdkafka 2>/dev/null`;
chomp $Rdkafka;
sub scram_ok {
    my @v = split /\./, $Rdkafka;
    return sprintf('%03d%03d%03d', @v[0 .. 2]) ge '002006001';
}

# ---------------------------------------------------------------- broker

# stopped at the end whatever happens: a die, a failed start, ^C
my $broker = eval { own_broker(sasl => 1) } or do {
    Test::More::fail('a broker with a SASL_SSL listener starts');
    Test::More::diag($@);
    exit 1;
};
my $Dir = $broker->{dir};
my $boot = $broker->{bootstrap};
my $sasl_boot = $broker->{sasl_bootstrap};
my %client = %{ $broker->{client} };
my $Password = $client{'sasl.password'} // '';
my $Wrong = 'hk-wrong-' . join '', map { sprintf '%02x', rand 256 } 1 .. 8;
Test::More::ok($sasl_boot =~ /^127\.0\.0\.1:\d+$/ && $sasl_boot ne $boot
               && length $Password >= 16,
               "a broker with a SASL_SSL listener starts ($boot, SASL "
               . "$sasl_boot), user $client{'sasl.username'}");

$ENV{TEST_NGINX_KAFKA_BROKERS}       = $boot;
$ENV{TEST_NGINX_KAFKA_SASL_BROKERS}  = $sasl_boot;
$ENV{TEST_NGINX_KAFKA_CA}            = $client{'ssl.ca.location'};
$ENV{TEST_NGINX_KAFKA_SASL_USER}     = $client{'sasl.username'};
$ENV{TEST_NGINX_KAFKA_SASL_PASSWORD} = $Password;
$ENV{TEST_NGINX_KAFKA_WRONG_PASSWORD} = $Wrong;

# Kafka's own Java client with SCRAM-SHA-512: the broker's SCRAM is right,
# so a refusal of librdkafka's is librdkafka's. Main stage only (the
# other stages rerun this suite for nginx's sake).
sub java_scram {
    my $pw = shift;
    my $props = "$Dir/java-scram.properties";
    open my $fh, '>', $props or die "$props: $!\n";
    print $fh "security.protocol=SASL_SSL\n",
        "sasl.mechanism=SCRAM-SHA-512\n",
        'sasl.jaas.config=org.apache.kafka.common.security.scram.'
        . "ScramLoginModule required username=\"$client{'sasl.username'}\""
        . " password=\"$pw\";\n",
        "ssl.truststore.type=PEM\n",
        "ssl.truststore.location=$client{'ssl.ca.location'}\n";
    close $fh;
    my ($libs) = grep { -d } map { glob "$_/kafka-*/libs" }
        $ENV{HOTEL_KAFKA_CACHE} || "$ENV{HOME}/.cache/hotel-kafka";
    my $out = `java -cp '$libs/*' org.apache.kafka.tools.TopicCommand --bootstrap-server $sasl_boot --command-config '$props' --list 2>&1`;
    my $st = $?;
    unlink $props;
    return ($st, $out);
}

unless ($ENV{TEST_NGINX_USE_VALGRIND} || $ENV{TEST_NGINX_LD_PRELOAD}) {
    my ($st, $out) = java_scram($Password);
    Test::More::is($st, 0, 'the broker takes SCRAM-SHA-512 with the right '
                   . "password from Kafka's Java client") or diag($out);
    ($st, $out) = java_scram($Wrong);
    Test::More::ok($st != 0 && $out =~ /invalid credentials/,
                   '... and refuses it with the wrong password')
        or diag($out);
}

# ---------------------------------------------------------------- pages

use constant PAGES => 3;

# what the location below shows on page p (GET /search?p=p): hotel id,
# rate in micros, currency
sub page_hotels {
    my $p = shift;
    return (["sasl-1", (10 + $p) * 1_000_000 + 990_000, 'EUR'],
            ["sasl-2", (20 + $p) * 1_000_000 + 500_000, 'EUR'],
            ["sasl-3", (30 + $p) * 1_000_000, 'USD']);
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

# Failed authentications the broker has logged so far (each one a
# connection librdkafka tried).
sub broker_refusals {
    my $log = slurp("$Dir/node1/server.log");
    return scalar(() = $log =~ /Failed authentication with/g);
}
my $Refusals = broker_refusals();

sub last_request {
    my ($block, $req_idx) = @_;
    my $n = ref $block->request eq 'ARRAY' ? @{ $block->request } : 1;
    return $req_idx == $n - 1;
}

sub http_body {
    my $r = HotelNginx::http_get(server_port(), shift, 3);
    return $r->{error} ? $r->{error} : $r->{body};
}

# "--- refused_at_least: N": the broker refused at least N connections
# during the block (so that a single log line means rate-limited, not
# tried once).
sub check_refusals {
    my ($block, $body, $req_idx, $rep, $dry_run) = @_;
    return if $dry_run || !last_request($block, $req_idx);
    my $now = broker_refusals();
    if (defined(my $min = $block->refused_at_least)) {
        $min =~ s/\s+//g;
        Test::More::cmp_ok($now - $Refusals, '>=', $min,
            $block->name . ' - the broker refused ' . ($now - $Refusals)
            . ' connections meanwhile');
    }
    $Refusals = $now;
}

# Neither password anywhere nginx writes or shows, in every block.
sub check_no_secret {
    my ($block, $body, $req_idx, $rep, $dry_run) = @_;
    return if $dry_run || !last_request($block, $req_idx);
    my %where = (
        'error.log' => slurp(server_root() . '/logs/error.log'),
        'stderr' => slurp(server_root() . '/logs/stderr.log'),
        'JSON status' => http_body('/status'),
        'Prometheus metrics' => http_body('/status?format=prometheus'),
    );
    Test::More::like($where{'Prometheus metrics'}, qr/^hotel_kafka_/m,
                     $block->name . ' - the metrics were read');
    for my $w (sort keys %where) {
        my @found = grep { index($where{$w}, $_) >= 0 } $Password, $Wrong;
        Test::More::ok(!@found, $block->name . " - no password in the $w");
    }
}

repeat_each(1);
no_shuffle();
log_level('info');

# Under valgrind a block may outlast the 10 s log window, and a second
# line for the same error is then right: the lines are still required,
# their upper bounds are not.
add_block_preprocessor(sub {
    my $block = shift;
    my $counts = $block->error_log_count;
    return unless $ENV{TEST_NGINX_USE_VALGRIND} && defined $counts;
    $counts =~ s/=>\s*([1-9]\d*)(?:\.\.\d+)?/=> $1..1000/g;
    $block->set_value('error_log_count', $counts);
});

# status_eventually first, then the Kafka checks and the log sections
# (block_error_log, waited for up to 10 s: under valgrind, SCRAM's 4096
# rounds of SHA-512 take longer than the records' timeout;
# error_log_count), t/lib/HotelBlocks.pm. (The SCRAM caveat is in
# error.log twice: from the configuration, as nginx -t shows it, and from
# the worker's producer; nginx starts with -e logs/error.log.)
add_response_body_check(\&check_block_sections);
add_response_body_check(\&check_refusals);
add_response_body_check(\&check_no_secret);

run_tests();

# ---------------------------------------------------------------- consumer

# hotel|currency => "count sum" from a SQLite file (none if no table)
sub db_totals {
    return { map { ("$_->[0]|$_->[1]" => "$_->[2] $_->[3]") }
             @{ hotel_totals($_[0]) } };
}

# a -c file for hotel-trends: the password stays off its command line
sub trends_conf {
    my ($file, %kv) = @_;
    open my $fh, '>', $file or die "$file: $!\n";
    chmod 0600, $file;
    print $fh map { "$_=$kv{$_}\n" } sort keys %kv;
    close $fh;
    return $file;
}

my $topic = "$ENV{TEST_NGINX_RUN_ID}-sasl";
my $work = tempdir('hotel-trends-sasl-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my %sasl = ('brokers' => $sasl_boot, 'topic' => $topic,
            'security.protocol' => 'sasl_ssl',
            'ssl.ca.location' => $client{'ssl.ca.location'},
            'sasl.mechanisms' => 'PLAIN',
            'sasl.username' => $client{'sasl.username'});

sub no_secret_in {
    my ($what, $text) = @_;
    my @found = grep { index($text, $_) >= 0 } $Password, $Wrong;
    ok(!@found, "no password in $what");
}

{
    my %want;
    for my $p (1 .. PAGES) {
        for my $h (page_hotels($p)) {
            my ($c, $s) = split / /, $want{"$h->[0]|$h->[2]"} || '0 0';
            $want{"$h->[0]|$h->[2]"} = ($c + 1) . ' ' . ($s + $h->[1]);
        }
    }

    my $db = "$work/trends.db";
    my $conf = trends_conf("$work/right.conf", %sasl, 'db' => $db,
                           'group' => "$topic-group",
                           'sasl.password' => $Password);
    my $pid = trends_run("$work/consume.log", 'consume', '-c', $conf,
                         '--exit-idle', '3');
    my $st = consumer_wait($pid, 45);
    $st = consumer_stop($pid, 'TERM', 15) // 'killed' unless defined $st;
    is($st, 0, 'hotel-trends consume over SASL_SSL (PLAIN, -c file) exits '
       . '0 when idle') or diag(slurp("$work/consume.log"));
    is_deeply(db_totals($db), \%want,
              'over SASL_SSL: SQLite per-hotel counts and exact sums equal '
              . 'the truth (' . PAGES * 3 . ' records)')
        or diag(slurp("$work/consume.log"));
    no_secret_in("hotel-trends' log", slurp("$work/consume.log"));
}

{
    my $db = "$work/wrong.db";
    my $log = "$work/wrong.log";
    my $conf = trends_conf("$work/wrong.conf", %sasl, 'db' => $db,
                           'group' => "$topic-wrong",
                           'sasl.password' => $Wrong);
    my $before = broker_refusals();
    my $pid = trends_run($log, 'consume', '-c', $conf, '--exit-idle', '2');
    my $deadline = time + 20;
    sleep 0.25 until slurp($log) =~ /_AUTHENTICATION/ || time >= $deadline;
    # a few more seconds: past --exit-idle, and time to consume something
    # if it could
    my $early = consumer_wait($pid, 4);
    ok(!defined $early, 'hotel-trends with a wrong password keeps retrying '
       . '(no exit within --exit-idle while it never joined)')
        or diag("exited with status $early:\n" . slurp($log));
    my $st = defined $early ? $early : consumer_stop($pid, 'TERM', 15);
    is($st, 0, 'hotel-trends with a wrong password exits 0 on SIGTERM')
        or diag(slurp($log));
    my $text = slurp($log);
    like($text, qr/_AUTHENTICATION: .*SASL authentication error: Authentication failed: Invalid username or password/,
         "hotel-trends logs librdkafka's reason");
    my $lines = () = $text =~ /_AUTHENTICATION/g;
    Test::More::note sprintf '%d connections refused by the broker, %d log lines about '
        . 'it', broker_refusals() - $before, $lines;
    is_deeply(db_totals($db), {},
              'hotel-trends with a wrong password counted nothing');
    like($text, qr/closing: 0 records consumed/,
         'hotel-trends with a wrong password consumed no record');
    no_secret_in("hotel-trends' log", $text);
}

__DATA__

=== TEST 1: records over SASL_SSL with PLAIN and the right password
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_SASL_BROKERS;
    hotel_kafka_conf security.protocol sasl_ssl;
    hotel_kafka_conf ssl.ca.location $TEST_NGINX_KAFKA_CA;
    hotel_kafka_conf sasl.mechanisms PLAIN;
    hotel_kafka_conf sasl.username $TEST_NGINX_KAFKA_SASL_USER;
    hotel_kafka_conf sasl.password $TEST_NGINX_KAFKA_SASL_PASSWORD;
--- config
    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-sasl;
        default_type application/json;
        return 200 '{"results":[{"hotel_id":"sasl-1","rate":"1$arg_p.99","currency":"EUR"},{"hotel_id":"sasl-2","rate":2$arg_p.5,"currency":"EUR"},{"hotel_id":"sasl-3","rate":3$arg_p,"currency":"usd"}]}';
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
[ map { "GET /search?p=$_" } 1 .. 3 ]
--- response_body eval
[ map { qq{{"results":[{"hotel_id":"sasl-1","rate":"1$_.99","currency":"EUR"},{"hotel_id":"sasl-2","rate":2$_.5,"currency":"EUR"},{"hotel_id":"sasl-3","rate":3$_,"currency":"usd"}]}} } 1 .. 3 ]
--- status_eventually eval
["/status", qr/"produced":9,"delivered":9,"failed":0,/]
--- status_timeout: 15
--- kafka_topic: sasl
--- kafka_records eval
main::expected_records()
--- no_error_log
[error]
[warn]



=== TEST 2: SCRAM-SHA-512 with the right password (refused by Kafka 4.x from librdkafka before 2.6.1, with a warning that says so)
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_SASL_BROKERS;
    hotel_kafka_conf security.protocol sasl_ssl;
    hotel_kafka_conf ssl.ca.location $TEST_NGINX_KAFKA_CA;
    hotel_kafka_conf sasl.mechanisms SCRAM-SHA-512;
    hotel_kafka_conf sasl.username $TEST_NGINX_KAFKA_SASL_USER;
    hotel_kafka_conf sasl.password $TEST_NGINX_KAFKA_SASL_PASSWORD;
    hotel_kafka_conf message.timeout.ms 3000;
--- config
    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-scram;
        default_type application/json;
        return 200 '{"results":[{"hotel_id":"s-$arg_p","rate":10,"currency":"EUR"},{"hotel_id":"t-$arg_p","rate":20,"currency":"EUR"}]}';
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
[ map { "GET /search?p=$_" } 1 .. 3 ]
--- response_body eval
[ map { qq{{"results":[{"hotel_id":"s-$_","rate":10,"currency":"EUR"},{"hotel_id":"t-$_","rate":20,"currency":"EUR"}]}} } 1 .. 3 ]
--- status_eventually eval
["/status", main::scram_ok() ? qr/"produced":6,"delivered":6,"failed":0,/
                             : qr/"produced":6,"delivered":0,"failed":6,/]
--- status_timeout: 12
--- block_error_log eval
main::scram_ok() ? [] :
[qr/\[warn\] .*hotel kafka: SASL SCRAM from librdkafka before 2\.6\.1 is refused by Apache Kafka 4\.0 and later brokers as invalid credentials \(librdkafka#4895\); with them, use sasl\.mechanisms PLAIN over TLS \(security\.protocol sasl_ssl\) or a newer librdkafka \(librdkafka 2\.0\.2\)/,
 qr/\[error\] .*hotel kafka: _AUTHENTICATION: .*SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512/]
--- error_log_count eval
main::scram_ok() ? "hotel kafka: _AUTHENTICATION: => 0"
                 : "hotel kafka: _AUTHENTICATION: => 1\nhotel kafka: delivery failed: => 1\nhotel kafka: SASL SCRAM from librdkafka => 2"
--- kafka_topic: scram
--- kafka_count eval
main::scram_ok() ? 6 : 0
--- kafka_timeout: 0



=== TEST 3: a wrong password: no request fails, nothing delivered, the failures counted, librdkafka's reason logged once
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_SASL_BROKERS;
    hotel_kafka_conf security.protocol sasl_ssl;
    hotel_kafka_conf ssl.ca.location $TEST_NGINX_KAFKA_CA;
    hotel_kafka_conf sasl.mechanisms PLAIN;
    hotel_kafka_conf sasl.username $TEST_NGINX_KAFKA_SASL_USER;
    hotel_kafka_conf sasl.password $TEST_NGINX_KAFKA_WRONG_PASSWORD;
    hotel_kafka_conf message.timeout.ms 3000;
--- config
    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-wrong-password;
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
--- status_timeout: 12
--- block_error_log eval
[qr/\[error\] .*hotel kafka: _AUTHENTICATION: .*SASL authentication error: Authentication failed: Invalid username or password/,
 qr/\[error\] .*hotel kafka: delivery failed: Local: Message timed out/]
--- error_log_count
hotel kafka: _AUTHENTICATION: => 1
hotel kafka: delivery failed: => 1
SASL SCRAM from librdkafka => 0
--- refused_at_least: 3
--- kafka_topic: wrong-password
--- kafka_count: 0
--- kafka_timeout: 0
