package HotelBlocks;

# Block sections of our own for the nginx suites, beyond Test::Nginx's.
# They are checked by one response body check, once, after a block's last
# request, so that they act the same under our harness and under the real
# Test::Nginx::Socket (the one mechanism both offer):
#
#     use Test::Nginx::Socket 'no_plan';
#     use HotelBlocks;
#     add_response_body_check(\&check_block_sections);
#
# In this order: the status sections below (so that the records have
# settled), HotelKafka's kafka_* sections (the read-back), then the log
# sections below.
#
#   --- status_eventually eval   [URI, qr/.../, ...]: GET URI until the body
#                                matches every regex (delivery reports come
#                                a few ms after the records), then one test
#                                per regex
#   --- status_timeout: 15       seconds for that (default 10)
#   --- status_sums              that body's JSON: each total is the sum
#                                over the workers
#   --- status_bytes_in_topic    its delivered_bytes is the size of the
#                                record values in the block's topic
#                                (--- kafka_topic, see HotelKafka)
#   --- status_counters          lines "name value": the status (JSON, at
#                                --- status_uri, /kafka-status by default)
#                                is read until every counter named has
#                                that value (5 s at most: a page cut short
#                                is counted when nginx notices, a moment
#                                after the client saw it), then one test
#                                per counter; "a.b" is b inside object a
#   --- block_error_log          lines, or eval [qr//, "text"]: each matches
#                                a line of the block's whole error.log
#                                (waited for, 10 s at most)
#   --- error_log_count          lines "text => MIN..MAX" (or "=> N"): that
#                                many error.log lines contain text
#
# Test::Nginx's own error_log is checked after each request against the
# lines that request added: a line written at start-up, or once for the
# whole block (a rate-limited error, a page of an earlier request), goes in
# block_error_log.
#
# use_master_blocks(SECTIONS): a block with "--- use_master" runs with a
# master and two workers, the others in a single process; under valgrind
# (which our harness runs without workers) the given sections of such a
# block are dropped.
#
# status_poll(URI, [qr//...], SECONDS) is the polling itself, for a check
# of a suite's own; status_json(URI) the status once, decoded (undef if it
# is not JSON).

use strict;
use warnings;

use Exporter 'import';
use JSON::PP ();
use Test::More ();
use Time::HiRes qw(sleep time);

use HotelKafka qw(kafka_read kafka_topic check_kafka_block);
use HotelNginx ();

our @EXPORT = qw(check_block_sections use_master_blocks status_poll
                 status_json);

# The body of GET $uri once $done->(body) holds, or the last one read when
# $timeout seconds have passed.
sub poll_uri {
    my ($uri, $done, $timeout) = @_;
    my $port = Test::Nginx::Socket::server_port();
    my $deadline = time + $timeout;
    while (1) {
        my $r = HotelNginx::http_get($port, $uri, 3);
        my $got = $r->{body} // '';
        return $got if $done->($got) || time > $deadline;
        sleep 0.1;
    }
}

sub status_poll {
    my ($uri, $res, $timeout) = @_;
    return poll_uri($uri, sub { my $got = shift; !grep { $got !~ $_ } @$res },
                    $timeout || 10);
}

sub decode { my $json = shift; return eval { JSON::PP::decode_json($json) } }

sub status_json {
    my $uri = shift;
    my $r = HotelNginx::http_get(Test::Nginx::Socket::server_port(), $uri, 3);
    return decode($r->{body} // '');
}

# a counter of a decoded status: "pages", "pages_failed.partial"
sub counter {
    my ($st, $name) = @_;
    my $v = $st;
    for my $k (split /\./, $name) {
        return undef unless ref $v eq 'HASH' && exists $v->{$k};
        $v = $v->{$k};
    }
    return $v;
}

sub last_request {
    my ($block, $req_idx) = @_;
    my $reqs = $block->request;
    my $n = ref $reqs eq 'ARRAY' ? @$reqs : 1;
    return ($req_idx || 0) == $n - 1;
}

sub check_block_sections {
    my ($block, $body, $req_idx, $rep, $dry_run) = @_;
    my $last = !$dry_run && last_request($block, $req_idx);
    if ($last) {
        check_status($block);
        check_counters($block);
    }
    # it acts after the block's last request itself
    check_kafka_block(@_);
    check_logs($block) if $last;
}

sub check_counters {
    my $block = shift;
    my $spec = $block->status_counters;
    return unless defined $spec;
    my $uri = $block->status_uri;
    $uri = '/kafka-status' unless defined $uri;
    $uri =~ s/^\s+|\s+$//g;

    my @want;
    for my $line (split /\n/, $spec) {
        next if $line =~ /^\s*(?:#|$)/;
        $line =~ /^\s*(\S+)\s+(\d+)\s*$/
            or die "bad --- status_counters line: \"$line\"\n";
        push @want, [$1, $2];
    }

    my $name = $block->name;
    my $st = decode(poll_uri($uri, sub {
        my $st = decode(shift) or return 0;
        return !grep { (counter($st, $_->[0]) // -1) != $_->[1] } @want;
    }, 5));
    Test::More::ok($st, "$name - the status at $uri is JSON");
    for my $w (@want) {
        Test::More::is(counter($st || {}, $w->[0]), $w->[1],
                       "$name - status $w->[0]");
    }
}

sub check_status {
    my $block = shift;
    my $spec = $block->status_eventually;
    return unless ref $spec eq 'ARRAY';
    my $name = $block->name;
    my ($uri, @res) = @$spec;
    my $timeout = $block->status_timeout;
    $timeout = 10 unless defined $timeout && $timeout =~ /\d/;
    $timeout =~ s/\s+//g;

    my $got = status_poll($uri, \@res, $timeout);
    for my $i (0 .. $#res) {
        Test::More::like($got, $res[$i], "$name - $uri eventually ($i)");
    }

    if (defined $block->status_sums) {
        my $st = eval { JSON::PP::decode_json($got) };
        Test::More::ok($st, "$name - the status is valid JSON")
            or Test::More::diag($@);
        $st ||= { workers => [] };
        for my $k (qw(produced delivered failed)) {
            my $sum = 0;
            $sum += $_->{$k} for @{ $st->{workers} };
            Test::More::is($sum, $st->{$k},
                           "$name - $k is the sum over the workers");
        }
        my ($sum, $total) = (0, 0);
        $sum += $_->{dropped} for @{ $st->{workers} };
        $total += $_ for values %{ $st->{dropped} || {} };
        Test::More::is($sum, $total,
                       "$name - dropped is the sum over the workers");
    }

    if (defined $block->status_bytes_in_topic) {
        my $topic = $block->kafka_topic;
        $topic =~ s/^\s+|\s+$//g;
        my $bytes = 0;
        $bytes += length $_->{value} for kafka_read(kafka_topic($topic));
        my ($delivered) = $got =~ /"delivered_bytes":(\d+)/;
        Test::More::ok($bytes > 0, "$name - the topic has record values");
        Test::More::is($delivered, $bytes,
                       "$name - delivered_bytes is the size of the values "
                       . "in the topic");
    }
}

sub check_logs {
    my $block = shift;
    my $want = $block->block_error_log;
    my $counts = $block->error_log_count;
    return unless defined $want || defined $counts;
    my $name = $block->name;
    my @pats = !defined $want ? ()
             : ref $want eq 'ARRAY' ? @$want
             : grep { length } split /\n+/, $want;
    my $found = sub {
        my ($pat, $lines) = @_;
        return scalar grep { ref $pat ? $_ =~ $pat : index($_, $pat) >= 0 }
                           @$lines;
    };
    # the log lines of the last request's records: let the worker write
    # them; then wait for those the block wants (an error a broker's slow
    # refusal gives, under valgrind)
    sleep 0.5;
    my $deadline = time + 10;
    my @lines;
    while (1) {
        @lines = split /\n/, HotelNginx::slurp(
            Test::Nginx::Socket::server_root() . '/logs/error.log');
        last if time >= $deadline || !grep { !$found->($_, \@lines) } @pats;
        sleep 0.25;
    }
    for my $pat (@pats) {
        Test::More::ok($found->($pat, \@lines), "$name - pattern \"$pat\" "
                       . "matches a line of the block's error.log");
    }

    for my $line (split /\n/, $counts // '') {
        next unless $line =~ /^\s*(.+?)\s*=>\s*(\d+)(?:\.\.(\d+))?\s*$/;
        my ($text, $min, $max) = ($1, $2, defined $3 ? $3 : $2);
        my @hits = grep { index($_, $text) >= 0 } @lines;
        Test::More::ok(@hits >= $min && @hits <= $max,
                       "$name - \"$text\" in $min..$max error.log lines")
            or Test::More::diag(scalar(@hits) . " lines:\n"
                                . join "\n", @hits);
    }
}

sub use_master_blocks {
    my @drop = @_;
    Test::Nginx::Socket::add_block_preprocessor(sub {
        my $block = shift;
        if (defined $block->use_master) {
            Test::Nginx::Socket::master_on();
            Test::Nginx::Socket::workers(2);
            if ($ENV{TEST_NGINX_USE_VALGRIND}) {
                $block->set_value($_, undef) for @drop;
            }
        } else {
            Test::Nginx::Socket::master_off();
            Test::Nginx::Socket::workers(1);
        }
    });
}

1;
