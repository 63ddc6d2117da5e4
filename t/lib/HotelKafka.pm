package HotelKafka;

# Read back what a test published to Kafka, decode it independently of our
# C code, and compare it with what the test expected.
#
# How the Kafka checks hook into a suite (the one mechanism, so that the
# suite also runs under the real Test::Nginx::Socket): the suite registers
# the check itself as a response body check,
#
#     use Test::Nginx::Socket 'no_plan';
#     use HotelKafka;
#     add_response_body_check(\&check_kafka_block);
#
# and check_kafka_block() acts once per block, after the block's last
# request, on these block sections (a block without them is ignored):
#
#     --- kafka_topic: basic1          topic suffix: "$TEST_NGINX_RUN_ID-basic1"
#     --- kafka_records                one expected record per line, only the
#     hotel_id=h1 rate_micros=129990000 currency=EUR position=0
#     hotel_id="with space" key=h2 header.schema-version=1
#     --- kafka_count: 3               exact number of records in the topic
#     --- kafka_timeout: 20            seconds to wait for them (default 20)
#
# kafka_records compares as a multiset and yields two tests ("expected
# Kafka records present", "no unexpected Kafka records"); kafka_count one.
# The harness itself knows nothing about Kafka.
#
# Records come from kcat (all partitions) and values are decoded by a
# single `protoc --decode` call over a HotelSearchBatch built from them
# (t/proto/hotel_search_batch.proto), so a bug in our encoder cannot hide
# itself by a matching bug in the decoder. String fields come back as raw
# bytes (UTF-8 is not decoded).

use strict;
use warnings;

use Exporter 'import';
use File::Basename qw(dirname);
use HotelRecords ();
use File::Spec;
use File::Temp qw(tempfile);
use POSIX qw(WNOHANG);
use Test::More ();
use Time::HiRes qw(sleep time);

our @EXPORT = qw(
    kafka_brokers kafka_topic kafka_read kafka_expect_records
    check_shown_at_broker
    check_kafka_block parse_kafka_records_section
    compare_records
);

use constant PAGE_SCHEMA => 'hotelsearch.v1.SearchPage';

# The record's fields and their proto3 zero values.
my @FIELDS = qw(hotel_id rate_micros currency search_time_ms search_id
                position);
my %ZERO = (hotel_id => '', rate_micros => 0, currency => '',
            search_time_ms => 0, search_id => '', position => 0);

# t/lib/HotelKafka.pm -> repository root, so paths work from any cwd.
my $Root = File::Spec->rel2abs(dirname(__FILE__) . '/../..');

sub kafka_brokers { $ENV{TEST_NGINX_KAFKA_BROKERS} }

sub kafka_topic {
    my $name = shift;
    die "TEST_NGINX_RUN_ID is not set\n" unless defined $ENV{TEST_NGINX_RUN_ID};
    return "$ENV{TEST_NGINX_RUN_ID}-$name";
}

# Run @$cmd with $stdin as input; returns (wait status, stdout, stderr).
# Temporary files rather than pipes: no deadlock whatever the sizes.
sub run_cmd {
    my ($cmd, $stdin, $timeout) = @_;
    my ($in_fh, $in) = tempfile(UNLINK => 1);
    my ($out_fh, $out) = tempfile(UNLINK => 1);
    my ($err_fh, $err) = tempfile(UNLINK => 1);
    binmode $in_fh;
    print $in_fh $stdin if defined $stdin;
    close $in_fh;

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', $in;
        open STDOUT, '>', $out;
        open STDERR, '>', $err;
        { exec @$cmd };
        print STDERR "cannot run $cmd->[0]: $!\n";
        POSIX::_exit(127);
    }
    my $deadline = time + ($timeout || 60);
    my $status;
    while (1) {
        if (waitpid($pid, WNOHANG) == $pid) {
            $status = $?;
            last;
        }
        if (time > $deadline) {
            kill 'KILL', $pid;
            waitpid $pid, 0;
            $status = -1;
            last;
        }
        sleep 0.02;
    }
    my $slurp = sub {
        open my $fh, '<', $_[0] or return '';
        binmode $fh;
        local $/;
        my $s = <$fh>;
        return defined $s ? $s : '';
    };
    return ($status, $slurp->($out), $slurp->($err));
}

# ------------------------------------------------------------- kcat

# One header line per record, then the key and value bytes whose lengths
# the header line gives, then a newline. Only the lengths are trusted to
# find the record boundaries, so binary values cannot confuse the parse.
my $KCAT_FORMAT = 'REC %p %o %K %S %h\n%k%s\n';

sub kcat_read_once {
    my ($topic) = @_;
    my $brokers = kafka_brokers()
        or die "TEST_NGINX_KAFKA_BROKERS is not set\n";
    my @cmd = ('kcat', '-C', '-b', $brokers, '-t', $topic, '-o', 'beginning',
               '-e', '-q', '-m', '10', '-f', $KCAT_FORMAT);
    my ($status, $out, $err) = run_cmd(\@cmd, undef, 60);
    if ($status != 0) {
        # The topic appears with the first record the module sends.
        return [] if $err =~ /Unknown topic or partition|UNKNOWN_TOPIC/i;
        die "kcat failed (status $status): $err\n";
    }
    return parse_kcat_output($out);
}

sub parse_kcat_output {
    my $out = shift;
    my @recs;
    my $pos = 0;
    while ($pos < length $out) {
        my $nl = index $out, "\n", $pos;
        die "kcat output: unterminated record header at byte $pos\n" if $nl < 0;
        my $line = substr $out, $pos, $nl - $pos;
        $pos = $nl + 1;
        $line =~ /^REC (\d+) (\d+) (-?\d+) (-?\d+) ?(.*)$/
            or die "kcat output: bad record header \"$line\"\n";
        my ($part, $off, $klen, $vlen, $hdr) = ($1, $2, $3, $4, $5);
        my ($key, $value);
        if ($klen >= 0) {
            $key = substr $out, $pos, $klen;
            $pos += $klen;
        }
        if ($vlen >= 0) {
            $value = substr $out, $pos, $vlen;
            $pos += $vlen;
        }
        die "kcat output: record $part/$off is truncated\n"
            if $pos >= length $out || substr($out, $pos, 1) ne "\n";
        $pos++;
        push @recs, { partition => $part + 0, offset => $off + 0,
                      key => $key, value => $value,
                      headers => parse_headers($hdr) };
    }
    return \@recs;
}

# kcat prints headers as "name=value,name=value" (no quoting: our header
# values contain neither ',' nor '=').
sub parse_headers {
    my $h = shift;
    my %h;
    for my $pair (split /,/, defined $h ? $h : '') {
        next unless length $pair;
        my ($n, $v) = split /=/, $pair, 2;
        $h{$n} = $v;
    }
    return \%h;
}

# ------------------------------------------------------------- protoc

# Decode many HotelSearchResult values (or, with $tag "\x12", SearchPage
# values) with one protoc run. Returns one hashref of fields per value,
# in order (a page's: search_id, search_time_ms and "results", a list of
# its results' hashrefs).
sub decode_values {
    my @values = @_;
    return decode_batch("\x0a", 'results', @values);
}

sub decode_pages {
    my @values = @_;
    return decode_batch("\x12", 'pages', @values);
}

sub decode_batch {
    my ($tag, $what, @values) = @_;
    return () unless @values;
    my $batch = join '', map {
        my $v = defined $_ ? $_ : '';
        $tag . HotelRecords::varint(length $v) . $v;
    } @values;

    my $proto_dir = $ENV{HOTEL_PROTO_DIR} || "$Root/proto";
    my @cmd = ('protoc', '--decode=hotelsearch.v1.test.HotelSearchBatch',
               '-I', $proto_dir, '-I', "$Root/t/proto",
               "$Root/t/proto/hotel_search_batch.proto");
    my ($status, $out, $err) = run_cmd(\@cmd, $batch, 60);
    die "protoc --decode failed (status $status): $err\n" if $status != 0;

    my $decoded = parse_text_format($out, $what);
    die sprintf("protoc decoded %d %s from %d values:\n%s\n",
                scalar @$decoded, $what, scalar @values, $out)
        unless @$decoded == @values;
    return @$decoded;
}

sub unescape_c {
    my $s = shift;
    my %simple = (n => "\n", t => "\t", r => "\r", a => "\a", b => "\b",
                  f => "\f", v => "\013", '\\' => '\\', '"' => '"',
                  "'" => "'", '?' => '?');
    $s =~ s{\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))}{
        defined $1 ? chr(oct $1)
        : defined $2 ? chr(hex $2)
        : exists $simple{$3} ? $simple{$3} : $3
    }ge;
    return $s;
}

# protoc's text format for a HotelSearchBatch: "results {" ... "}" blocks
# of "name: value" lines. proto3 leaves zero fields out; they get their
# zero value here. Fields this schema version does not know come out as
# "N: value" and are kept under their number.
sub parse_text_format {
    my ($text, $what) = @_;
    $what ||= 'results';
    my (@res, @stack);
    for my $line (split /\n/, $text) {
        next unless $line =~ /\S/;
        if ($line =~ /^\s*(\w+) \{\s*$/) {
            my $block = { %ZERO };
            if (@stack) {
                die "protoc output: nested $1\n" unless $1 eq 'results';
                push @{ $stack[-1]{results} }, $block;
            } else {
                die "protoc output: a $1 block\n" unless $1 eq $what;
                $block->{results} = [] if $what eq 'pages';
                push @res, $block;
            }
            push @stack, $block;
        } elsif ($line =~ /^\s*\}\s*$/) {
            die "protoc output: unbalanced }\n" unless @stack;
            pop @stack;
        } elsif (@stack && $line =~ /^\s+(\w+): (.*?)\s*$/) {
            my ($k, $v) = ($1, $2);
            $v = $v =~ /^"(.*)"$/s ? unescape_c($1) : $v;
            $stack[-1]{$k} = $v;
        } else {
            die "protoc output: cannot parse line \"$line\"\n";
        }
    }
    die "protoc output: unterminated block\n" if @stack;
    return \@res;
}

# ------------------------------------------------------------- read

# All records of $topic, decoded. With expect => N, waits (up to timeout
# seconds, default 20) until at least N records are there; settle => S
# then waits S more seconds and reads again, to catch extra records.
sub kafka_read {
    my ($topic, %opts) = @_;
    my $expect  = $opts{expect} || 0;
    my $timeout = defined $opts{timeout} ? $opts{timeout} : 20;
    my $deadline = time + $timeout;

    my $recs = kcat_read_once($topic);
    while (results_in($recs) < $expect && time < $deadline) {
        sleep 0.25;
        $recs = kcat_read_once($topic);
    }
    if ($opts{settle}) {
        sleep $opts{settle};
        $recs = kcat_read_once($topic);
    }

    # A page record ("schema: hotelsearch.v1.SearchPage") becomes one
    # record per result, each with the page's search id and time and its
    # Kafka record's key, offset and headers; "results_in_record" says how
    # many results its Kafka record holds (1 for a result record).
    my $is_page = sub { ($_[0]{headers}{schema} // '') eq PAGE_SCHEMA };
    my @pages = grep { $is_page->($_) } @$recs;
    my @singles = grep { !$is_page->($_) } @$recs;

    my @decoded = decode_values(map { $_->{value} } @singles);
    for my $i (0 .. $#singles) {
        my $r = $singles[$i];
        %$r = (%{ $decoded[$i] }, %$r, results_in_record => 1);
    }

    my @out = @singles;
    my @pdecoded = decode_pages(map { $_->{value} } @pages);
    for my $i (0 .. $#pages) {
        my $page = $pdecoded[$i];
        my $n = scalar @{ $page->{results} };
        for my $res (@{ $page->{results} }) {
            push @out, { %$res, %{ $pages[$i] },
                         search_id => $page->{search_id},
                         search_time_ms => $page->{search_time_ms},
                         results_in_record => $n };
        }
    }

    # Stable order for diagnostics: partition, then offset, then position.
    return sort { $a->{partition} <=> $b->{partition}
                  || $a->{offset} <=> $b->{offset}
                  || $a->{position} <=> $b->{position} } @out;
}

# How many results the raw records hold: a page record's are counted by
# decoding it.
sub results_in {
    my $recs = shift;
    my @pages = grep { ($_->{headers}{schema} // '') eq PAGE_SCHEMA } @$recs;
    my $n = @$recs - @pages;
    $n += scalar @{ $_->{results} } for decode_pages(map { $_->{value} } @pages);
    return $n;
}

# ------------------------------------------------------------- compare

# Does record $r have every field of expectation $e? Keys are record
# fields (hotel_id ..., key, partition), "header.NAME", or "headers" (how
# many the record has: headers=0 says it has none); values are
# strings (compared with eq, numbers included) or qr//.
sub record_matches {
    my ($r, $e) = @_;
    for my $k (keys %$e) {
        my $got = $k eq 'headers'          ? scalar keys %{ $r->{headers} }
                : $k =~ /^header\.(.+)$/    ? $r->{headers}{$1}
                :                             $r->{$k};
        return 0 unless defined $got;
        my $want = $e->{$k};
        if (ref $want eq 'Regexp') {
            return 0 unless $got =~ $want;
        } else {
            return 0 unless "$got" eq "$want";
        }
    }
    return 1;
}

sub describe {
    my $h = shift;
    my @keys = grep { exists $h->{$_} } @FIELDS, qw(key partition offset);
    my %more = map { $_ => 1 } grep { !ref $h->{$_} || ref $h->{$_} eq 'Regexp' }
               keys %$h;
    delete @more{@keys, 'value'};
    return join ' ', map {
        my $v = $h->{$_};
        $v = defined $v ? $v : '(null)';
        $v =~ s/([^\x20-\x7e])/sprintf '\\x%02x', ord $1/ge;
        "$_=$v";
    } @keys, sort keys %more;
}

# Multiset comparison: returns (expectations no record matched, records
# no expectation claimed). A maximum bipartite matching (augmenting paths),
# so loose expectations ("hotel_id=h1") cannot steal the record a more
# specific one needs.
sub compare_records {
    my ($recs, $expected) = @_;
    my @cand = map {
        my $e = $_;
        [ grep { record_matches($recs->[$_], $e) } 0 .. $#$recs ];
    } @$expected;
    my %owner;    # record index -> expectation index
    my $try;
    $try = sub {
        my ($ei, $seen) = @_;
        for my $ri (@{ $cand[$ei] }) {
            next if $seen->{$ri}++;
            if (!defined $owner{$ri} || $try->($owner{$ri}, $seen)) {
                $owner{$ri} = $ei;
                return 1;
            }
        }
        return 0;
    };
    my @missing = grep { !$try->($_, {}) } 0 .. $#$expected;
    undef $try;    # break the closure's self-reference
    return ([ map { $expected->[$_] } @missing ],
            [ map { $recs->[$_] } grep { !defined $owner{$_} } 0 .. $#$recs ]);
}

# Compare the records of a topic with @$expected as a multiset. $what is
# a Test::Base block (its kafka_topic section) or a full topic name.
# Options: timeout, settle (see kafka_read), allow_extra, name.
sub kafka_expect_records {
    my ($what, $expected, %opts) = @_;
    my ($topic, $name);
    if (ref $what) {
        $topic = kafka_topic(block_topic($what));
        $name = $what->name;
    } else {
        $topic = $what;
        $name = $opts{name} || "topic $topic";
    }

    my @recs = eval {
        kafka_read($topic, expect => scalar @$expected,
                   timeout => $opts{timeout}, settle => $opts{settle});
    };
    if ($@) {
        Test::More::fail("$name - expected Kafka records present");
        Test::More::diag("reading $topic: $@");
        Test::More::fail("$name - no unexpected Kafka records");
        return;
    }

    my ($missing, $left) = compare_records(\@recs, $expected);
    my @missing = @$missing;

    Test::More::ok(!@missing, "$name - expected Kafka records present")
        or Test::More::diag(
            scalar(@missing) . " of " . scalar(@$expected)
            . " expected records missing from $topic:\n"
            . join('', map { "  missing: " . describe($_) . "\n" } @missing)
            . join('', map { "  in topic: " . describe($_) . "\n" } @recs));

    my @extra = $opts{allow_extra} ? () : @$left;
    Test::More::ok(!@extra, "$name - no unexpected Kafka records")
        or Test::More::diag(
            scalar(@extra) . " unexpected records in $topic:\n"
            . join('', map { "  extra: " . describe($_) . "\n" } @extra));
    return !@missing && !@extra;
}

# What the broker holds of the hotels a load showed its clients (@$shown,
# one record each at most): $topic read back, as many records as the
# module counted $delivered, none twice (test name: twice => ...), none of
# a hotel nobody was shown. Four tests; returns the records and the
# hotels shown that are not at the broker (for the suite to account for).
sub check_shown_at_broker {
    my ($topic, $delivered, $shown, %o) = @_;
    my @recs = eval {
        kafka_read($topic, expect => $delivered, timeout => 60, settle => 1);
    };
    Test::More::ok(!$@, "$topic read back") or Test::More::diag($@);
    Test::More::is(scalar @recs, $delivered,
                   "records at the broker == delivered ($delivered)");
    my %at;
    $at{ $_->{hotel_id} }++ for @recs;
    my @dups = grep { $at{$_} > 1 } sort keys %at;
    Test::More::is(scalar @dups, 0, $o{twice} || 'no record twice')
        or Test::More::diag("twice: @dups[0 .. ($#dups < 9 ? $#dups : 9)]");
    my %shown = map { $_ => 1 } @$shown;
    my @extra = grep { !$shown{$_} } sort keys %at;
    Test::More::is(scalar @extra, 0, 'no record of a hotel nobody was shown')
        or Test::More::diag("extra: @extra[0 .. ($#extra < 9 ? $#extra : 9)]");
    return (\@recs, [ grep { !$at{$_} } @$shown ]);
}

# ------------------------------------------------------------- blocks

sub block_topic {
    my $block = shift;
    my $t = $block->kafka_topic;
    die $block->name . ": --- kafka_topic is missing\n" unless defined $t;
    $t =~ s/^\s+|\s+$//g;
    return $t;
}

# "name=value name=\"quoted value\" ..." per line -> list of hashrefs.
sub parse_kafka_records_section {
    my $text = shift;
    my @exp;
    for my $line (split /\n/, defined $text ? $text : '') {
        next if $line =~ /^\s*(?:#|$)/;
        my %e;
        while ($line =~ /\G\s*([\w.-]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/gc) {
            $e{$1} = defined $2 ? unescape_c($2) : $3;
        }
        $line =~ /\G\s*$/gc
            or die "bad --- kafka_records line: \"$line\"\n";
        push @exp, \%e;
    }
    return \@exp;
}

# Response body check (see the top of this file): after the last request
# of a block (of its last repetition), check kafka_records / kafka_count.
sub check_kafka_block {
    my ($block, $body, $req_idx, $repeated_idx, $dry_run) = @_;
    return if $dry_run;
    my $records = $block->kafka_records;
    my $count = $block->kafka_count;
    return unless defined $records || defined $count;

    my $nreq = 1;
    for my $sec (qw(request pipelined_requests)) {
        my $v = $block->$sec;
        $nreq = @$v if ref $v eq 'ARRAY';
    }
    return unless ($req_idx || 0) == $nreq - 1;
    my $repeat = Test::Nginx::Socket->can('repeat_each')
               ? Test::Nginx::Socket::repeat_each() : 1;
    return unless ($repeated_idx || 0) == ($repeat || 1) - 1;

    my $name = $block->name;
    my $timeout = $block->kafka_timeout;
    $timeout = 20 unless defined $timeout && $timeout =~ /\d/;
    $timeout =~ s/\s+//g;

    if (defined $records) {
        my $exp = eval { parse_kafka_records_section($records) };
        if (!$exp) {
            Test::More::fail("$name - --- kafka_records parses");
            Test::More::diag($@);
            return;
        }
        # settle: records beyond the expected ones must have had time to
        # arrive, or "no unexpected records" would prove little.
        kafka_expect_records($block, $exp, timeout => $timeout,
                             settle => 0.5);
    }
    if (defined $count) {
        $count =~ s/\s+//g;
        my @recs = eval {
            kafka_read(kafka_topic(block_topic($block)), expect => $count,
                       timeout => $timeout, settle => 0.5);
        };
        if ($@) {
            Test::More::fail("$name - kafka_count");
            Test::More::diag($@);
            return;
        }
        Test::More::is(scalar @recs, $count, "$name - kafka_count");
    }
}

1;
