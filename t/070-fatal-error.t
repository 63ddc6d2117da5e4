# A fatal producer error recovers without a reload.  A real broker cannot
# be made to break an idempotent producer's sequence on demand, so this
# suite uses librdkafka's mock cluster (build/tools/mock_cluster, started
# here) to answer one ProduceRequest with OUT_OF_ORDER_SEQUENCE_NUMBER,
# which librdkafka treats as fatal for an idempotent producer.  The
# module must log it, purge and count what the broken producer held, and
# deliver the next page through a new producer.

use Test::Nginx::Socket;
use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use HotelBlocks;
use IPC::Open2;
use Time::HiRes qw(sleep);

my $tool = "$FindBin::Bin/../build/tools/mock_cluster";

plan skip_all => "$tool is not built (make tools)" unless -x $tool;
plan 'no_plan';

my ($mock_out, $mock_in);
my $mock_pid = open2($mock_out, $mock_in, $tool, '1');
my $bootstrap = <$mock_out>;
chomp $bootstrap;
$ENV{TEST_NGINX_MOCK_BROKERS} = $bootstrap;

END {
    if ($mock_pid) {
        print $mock_in "quit\n";
        close $mock_in;
        waitpid $mock_pid, 0;
    }
}

sub mock {
    my $command = shift;
    print $mock_in "$command\n";
    $mock_in->flush;
    my $answer = <$mock_out>;
    die "mock_cluster: $answer" unless defined $answer && $answer =~ /^ok/;
}

repeat_each(1);
no_shuffle();
log_level('info');

# request 0: a page delivered by the first producer; then the next
# ProduceRequest fails fatally; request 1's page meets it; request 2's
# page, after the recovery, goes through a new producer; request 3 reads
# the counters once the new producer has delivered.
sub wait_delivered {
    my $want = qr/"delivered":$_[0],/;
    return status_poll('/status', [$want], 10) =~ $want;
}

add_response_body_check(sub {
    my ($block, $body, $req_idx) = @_;
    if ($req_idx == 0) {
        # the error must meet the second page's request, not the first's
        ok(wait_delivered(1), 'the first page is delivered');
        mock('produce-errors OUT_OF_ORDER_SEQUENCE_NUMBER 1');
    } elsif ($req_idx == 1) {
        sleep 1;
    } elsif ($req_idx == 2) {
        ok(wait_delivered(2), 'the third page is delivered');
        open my $log, '<', server_root() . '/logs/error.log' or die $!;
        my $started = grep { /hotel kafka: producer started/ } <$log>;
        is($started, 2, 'a second producer was started, without a reload');
    }
});
# block_error_log (t/lib/HotelBlocks.pm)
add_response_body_check(\&check_block_sections);

run_tests();

__DATA__

=== TEST 1: a fatal error, then a new producer without a reload
--- http_config
    hotel_kafka_brokers $TEST_NGINX_MOCK_BROKERS;
--- config
    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_topic fatal;
        return 200 '{"results":[{"hotel_id":"h1","rate":10,"currency":"EUR"}]}';
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
["GET /search", "GET /search", "GET /search", "GET /status"]
--- response_body_like eval
[qr/h1/, qr/h1/, qr/h1/,
 qr/^\{"produced":3,"delivered":2,"failed":1,/]
--- block_error_log eval
[qr/\[error\] .*hotel kafka: fatal producer error: .*sequence desynchronization.*; creating a new producer/]
