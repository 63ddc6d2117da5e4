package HotelStatus;

# The module's counters as a block section, for suites in Test::Nginx's
# block format:
#
#     use HotelStatus;
#     add_response_body_check(\&check_status_block);
#
#     --- status_counters
#     pages 1
#     pages_failed.partial 2
#     produced 3
#
# After the block's last request, the status location (GET
# /kafka-status unless "--- status_uri" names another; the block's config
# must have one, "hotel_kafka_status;") is read as JSON until every listed
# counter has the listed value (5 s at most: a page cut short is counted
# when nginx notices, a moment after the client saw it), then one test per
# counter.  A dotted name is a counter inside an object of the status.
# Blocks run nginx afresh, so the counters start at zero in each.

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::INET;
use JSON::PP ();
use Test::More ();
use Time::HiRes qw(sleep time);

our @EXPORT = qw(check_status_block status_json);

sub status_json {
    my ($uri) = @_;
    my $port = Test::Nginx::Socket::server_port();
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $port, Proto => 'tcp',
                                     Timeout => 3)
        or return undef;
    print $sock "GET $uri HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $resp = <$sock>;
    close $sock;
    return undef unless defined $resp && $resp =~ /\r\n\r\n(.*)\z/s;
    return eval { JSON::PP::decode_json($1) };
}

sub counter {
    my ($st, $name) = @_;
    my $v = $st;
    for my $k (split /\./, $name) {
        return undef unless ref $v eq 'HASH' && exists $v->{$k};
        $v = $v->{$k};
    }
    return $v;
}

sub check_status_block {
    my ($block, $body, $req_idx, $rep, $dry_run) = @_;
    return if $dry_run;
    my $spec = $block->status_counters;
    return unless defined $spec;

    my $reqs = $block->request;
    my $nreq = ref $reqs eq 'ARRAY' ? scalar @$reqs : 1;
    return unless ($req_idx || 0) == $nreq - 1;

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
    my $deadline = time + 5;
    my $st;
    while (1) {
        $st = status_json($uri);
        last if $st && !grep { (counter($st, $_->[0]) // -1) != $_->[1] }
                             @want;
        last if time > $deadline;
        sleep 0.1;
    }

    Test::More::ok($st, "$name - the status at $uri is JSON");
    for my $w (@want) {
        Test::More::is(counter($st || {}, $w->[0]), $w->[1],
                       "$name - status $w->[0]");
    }
}

1;
