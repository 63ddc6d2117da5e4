package HotelRecords;

# Test records for the hotel-trends consumer: HotelSearchResult values
# encoded by a few lines of Perl written from the protobuf wire format
# (not by our C code, not by protobuf-c), produced to a topic with kcat,
# and the exact aggregates the consumer must arrive at.
#
#     my $v = encode_record(hotel_id => 'h1', rate_micros => 129990000,
#                           currency => 'EUR', search_time_ms => $ms);
#     produce_records($topic, [ [ 'h1', $v ], ... ]);       # key, value
#     produce_records($topic, \@recs, headers => [ schema => 'other' ]);
#
# The wire format of this message (proto3): each present field is a tag
# varint (field number << 3 | wire type) and then the value; strings
# (wire type 2) are a length varint and the bytes; int64 and uint32 (wire
# type 0) are varints, an int64 below zero being its two's complement as
# a 64-bit unsigned number (always 10 bytes; no zigzag, that is sint64).
# A field holding its zero value is not written at all.
#
# kcat -P splits its input with a key delimiter (-K) and a message
# delimiter (-D). Values are binary, so each call picks random
# multi-byte delimiters and checks that no key or value contains them
# (or could run into them), and that the topic's end offsets grew by
# exactly the number of records handed to kcat.

use strict;
use warnings;

use Exporter 'import';
use File::Temp qw(tempfile);
use POSIX ();
use Time::HiRes qw(time);

our @EXPORT = qw(
    varint encode_record produce_records end_offsets create_topic
    schema_headers aggregate_records protoc_decode start_feeder
    known_stream page_headers encode_page
);

my @FIELDS = (
    # name, number, wire type
    [ hotel_id       => 1, 2 ],
    [ rate_micros    => 2, 0 ],
    [ currency       => 3, 2 ],
    [ search_time_ms => 4, 0 ],
    [ search_id      => 5, 2 ],
    [ position       => 6, 0 ],
);

sub schema_headers {
    return (schema => 'hotelsearch.v1.HotelSearchResult',
            'schema-version' => '1');
}

sub page_headers {
    return (schema => 'hotelsearch.v1.SearchPage', 'schema-version' => '1');
}

# Base 128 varint of a 64-bit integer; a negative one is taken modulo
# 2^64 (Perl's bitwise operators work on unsigned 64-bit values).
sub varint {
    my $n = shift;
    my $u = $n < 0 ? ($n & ~0) : $n;
    my $s = '';
    while ($u >= 0x80) {
        $s .= chr(($u & 0x7f) | 0x80);
        $u >>= 7;
    }
    return $s . chr($u);
}

# One HotelSearchResult from name => value pairs; absent (undef) and zero
# fields are not written, as a proto3 encoder does. Strings are bytes.
sub encode_record {
    my %f = @_;
    my $out = '';
    for my $fd (@FIELDS) {
        my ($name, $num, $wire) = @$fd;
        my $v = delete $f{$name};
        next unless defined $v;
        if ($wire == 2) {
            next if $v eq '';
            $out .= chr($num << 3 | 2) . varint(length $v) . $v;
        } else {
            next if $v == 0;
            $out .= chr($num << 3) . varint($v);
        }
    }
    die "encode_record: unknown fields: @{[ sort keys %f ]}\n" if %f;
    return $out;
}

# One SearchPage: its search id and time, then the results (values of
# encode_record, without time or search id, as the module writes them).
sub encode_page {
    my ($search_id, $time_ms, @results) = @_;
    return "\x0a" . varint(length $search_id) . $search_id
        . "\x10" . varint($time_ms)
        . join '', map { "\x1a" . varint(length $_) . $_ } @results;
}

sub brokers {
    my $b = $ENV{TEST_NGINX_KAFKA_BROKERS}
        or die "TEST_NGINX_KAFKA_BROKERS is not set\n";
    return $b;
}

sub root {
    require File::Basename;
    require File::Spec;
    return File::Spec->rel2abs(File::Basename::dirname(__FILE__) . '/../..');
}

# A topic with PARTS partitions on the test broker (scripts/kafka topic).
sub create_topic {
    my ($name, $parts) = @_;
    my $dir = $ENV{HOTEL_KAFKA_DIR} or die "HOTEL_KAFKA_DIR is not set\n";
    my $out = `'${\ root()}/scripts/kafka' topic '$dir' '$name' $parts 2>&1`;
    die "creating topic $name: $out\n" if $?;
    return $name;
}

# The end offset (high watermark) of each partition: [ p0, p1, ... ].
# An unknown topic has none: [].
sub end_offsets {
    my ($topic, $parts) = @_;
    my @args = map { ('-t', "$topic:$_:-1") } 0 .. $parts - 1;
    my $out = `kcat -Q -b '${\ brokers()}' @args 2>&1`;
    return [] if $? && $out =~ /Unknown (topic|partition)/i;
    die "kcat -Q $topic: $out\n" if $?;
    my @end;
    while ($out =~ /^\S+ \[(\d+)\] offset (-?\d+)$/mg) {
        $end[$1] = $2;
    }
    die "kcat -Q $topic: unexpected output: $out\n"
        if grep { !defined } @end[0 .. $parts - 1];
    return \@end;
}

sub sum { my $s = 0; $s += $_ for @_; $s }

sub kcat_escape { join '', map { sprintf '\\x%02x', ord } split //, shift }

# Random delimiters (no NUL: kcat parses them as C strings) that occur in
# no key and no value, and that no value's tail runs into.
sub pick_delimiters {
    my $recs = shift;
    DELIM: for (1 .. 10) {
        my ($kd, $md) = map {
            "\x1e" . join('', map { chr(0x80 + int rand 0x7f) } 1 .. 10)
            . "\x1f$_"
        } ('K', 'M');
        for my $r (@$recs) {
            my ($k, $v) = @$r;
            next DELIM if index($k, $kd) >= 0 || index($v, $kd) >= 0
                || index($k, $md) >= 0
                || index("$k$kd$v$md", $md) != length("$k$kd$v");
        }
        return ($kd, $md);
    }
    die "no usable kcat delimiters for these records\n";
}

# Produces [key, value] pairs, in order, with the schema headers (or
# headers => [ name => value, ... ]) on every record; kcat_args => [...]
# adds kcat options (-Z: an empty value is sent as NULL). Dies unless all
# were delivered: kcat's exit status and the topic's end offsets. The
# records land by key hash (partitioner murmur2_random, as the module's).
sub produce_records {
    my ($topic, $recs, %opt) = @_;
    my @headers = $opt{headers} ? @{ $opt{headers} } : schema_headers();
    my $parts = $opt{partitions} || 3;
    return 0 unless @$recs;

    my ($kd, $md) = pick_delimiters($recs);
    my ($fh, $file) = tempfile(UNLINK => 1);
    binmode $fh;
    print $fh join '', map { "$_->[0]$kd$_->[1]$md" } @$recs;
    close $fh or die "writing $file: $!\n";

    my $before = sum(@{ end_offsets($topic, $parts) });
    my @h;
    for (my $i = 0; $i < @headers; $i += 2) {
        push @h, '-H', "$headers[$i]=$headers[$i + 1]";
    }
    my @cmd = ('kcat', '-P', '-b', brokers(), '-t', $topic,
               '-K', kcat_escape($kd), '-D', kcat_escape($md), @h,
               '-X', 'enable.idempotence=true',
               '-X', 'partitioner=murmur2_random',
               '-X', 'linger.ms=20', '-X', 'message.timeout.ms=60000',
               @{ $opt{kcat_args} || [] }, '-l', $file);
    my $err = '';
    {
        my ($efh, $efile) = tempfile(UNLINK => 1);
        my $pid = fork // die "fork: $!\n";
        if ($pid == 0) {
            open STDIN, '<', '/dev/null';
            open STDOUT, '>&', $efh;
            open STDERR, '>&', $efh;
            exec @cmd or POSIX::_exit(127);
        }
        waitpid $pid, 0;
        my $st = $?;
        seek $efh, 0, 0;
        local $/;
        $err = <$efh> // '';
        close $efh;
        unlink $efile;
        die "kcat -P $topic failed ($st): $err\n" if $st;
    }
    # by hand: a feeder child leaves through POSIX::_exit, which runs no
    # File::Temp cleanup
    unlink $file;
    my $after = sum(@{ end_offsets($topic, $parts) });
    die "kcat -P $topic: the topic grew by ", $after - $before, " records, "
        . "not " . scalar(@$recs) . ": $err\n"
        if $after - $before != @$recs;
    return scalar @$recs;
}

# A child process that produces @$recs in $chunks equal chunks, in order,
# when the suite asks: $f->feed(N) queues the next N chunks (produced one
# after the other, $pause seconds apart) and returns at once, so that the
# stream moves while the suite kills or restarts things; $f->finish
# produces what is left, waits and returns the child's wait status (0:
# everything delivered). $f->{pid} is the child's PID, $f->{busy} (after
# finish) the seconds spent in kcat.
my %Feeders;        # running feeder PID => the PID that forked it

END {
    # a suite that dies leaves no feeder producing behind it
    for my $pid (grep { $Feeders{$_} == $$ } keys %Feeders) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }
}

sub start_feeder {
    my ($topic, $recs, $chunks, $pause, %produce) = @_;
    $pause //= 0.3;
    pipe my $rd, my $wr or die "pipe: $!\n";
    my ($bfh, $busy_file) = tempfile(UNLINK => 1);
    close $bfh;
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        close $wr;
        my $ok = eval {
            my $per = int((@$recs + $chunks - 1) / $chunks);
            my ($next, $busy) = (0, 0);
            my $produce = sub {
                return 0 if $next >= $chunks;
                my @c = grep { defined }
                        @$recs[$next * $per .. ($next + 1) * $per - 1];
                my $t = time;
                produce_records($topic, \@c, %produce) if @c;
                $busy += time - $t;
                $next++;
                return 1;
            };
            while (my $line = <$rd>) {
                for (1 .. $line) {
                    $produce->() or last;
                    select undef, undef, undef, $pause;
                }
            }
            1 while $produce->();
            open my $fh, '>', $busy_file or die "$busy_file: $!\n";
            print $fh $busy;
            close $fh;
            1;
        };
        print STDERR "# feeder: $@" unless $ok;
        POSIX::_exit($ok ? 0 : 1);
    }
    close $rd;
    $Feeders{$pid} = $$;
    my $old = select $wr;
    $| = 1;
    select $old;
    return bless { pid => $pid, wr => $wr, busy_file => $busy_file },
        'HotelRecords::Feeder';
}

package HotelRecords::Feeder;

sub feed {
    my ($self, $n) = @_;
    print { $self->{wr} } "$n\n";
}

sub finish {
    my ($self, $timeout) = @_;
    close $self->{wr};
    my $deadline = Time::HiRes::time() + ($timeout || 120);
    while (1) {
        my $r = waitpid $self->{pid}, POSIX::WNOHANG();
        if ($r == $self->{pid}) {
            my $st = $?;
            delete $Feeders{$self->{pid}};
            if (open my $fh, '<', $self->{busy_file}) {
                $self->{busy} = <$fh>;
            }
            return $st;
        }
        return -1 if $r < 0 || Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.1);
    }
}

package HotelRecords;

# Exact aggregates as the consumer must keep them: "hotel\0cur\0bucket"
# => [count, sum, min, max] (bucket: the hour of search_time_ms, in unix
# seconds). Takes hashrefs of fields.
sub aggregate_records {
    my ($recs, $truth) = @_;
    $truth ||= {};
    for my $r (@$recs) {
        add_rate($truth, hour_key(@$r{qw(hotel_id currency search_time_ms)}),
                 $r->{rate_micros});
    }
    return $truth;
}

# One more rate in the aggregate $k of a truth: [count, sum, min, max].
sub add_rate {
    my ($truth, $k, $r) = @_;
    my $a = $truth->{$k} ||= [0, 0, $r, $r];
    $a->[0]++;
    $a->[1] += $r;
    $a->[2] = $r if $r < $a->[2];
    $a->[3] = $r if $r > $a->[3];
}

# A known stream of random records, and what the consumer must make of it:
#
#     my $s = known_stream(records => 120_000, now => $hour_start,
#                          hotels => \@ids, currencies => [qw(EUR USD)],
#                          hours => [1, 3, 26], rate => [1_000_000, 999e6],
#                          id => '%032x', positions => 30);
#
# Record i draws, in this order (so that a seed gives the same stream): a
# hotel from hotels; a currency from currencies (or currency => sub, given
# the hotel); a search time in the hour that began hours[k] hours before
# now, k drawn, at a random millisecond; a rate of rate[0] + int rand
# rate[1] micros. Its search_id is sprintf(id, i), its position
# i % positions. Returns {recs => [[key, value]...] for produce_records
# (the key is the hotel), bkey => [its aggregate's key, as
# aggregate_records makes them], rate => [its rate], by_value => {value =>
# i}}, and with truth => 1 also {truth}: aggregate_records of them all.
#
# With page => P the stream is of page records: records => N results in
# SearchPage values of P results each (the last may hold fewer), one
# search time per page, drawn as above; result j of a page has position
# j.  recs are then [search id, page value], with {headers} for
# produce_records; bkey and rate hold, per page, the lists of its
# results'; by_value maps a page to its index.
sub known_stream {
    my %o = @_;
    return known_page_stream(%o) if $o{page};
    my ($result, $time) = stream_draws(%o);
    my $id = $o{id} || '%032x';
    my %s = (recs => [], bkey => [], rate => [], by_value => {});
    $s{truth} = {} if $o{truth};
    for my $i (0 .. $o{records} - 1) {
        my ($h, $c, $r) = $result->();
        my $ms = $time->();
        my $v = encode_record(hotel_id => $h, rate_micros => $r,
                              currency => $c, search_time_ms => $ms,
                              search_id => sprintf($id, $i),
                              position => $i % $o{positions});
        my $k = hour_key($h, $c, $ms);
        push @{ $s{bkey} }, $k;
        push @{ $s{rate} }, $r;
        $s{by_value}{$v} = $i;
        push @{ $s{recs} }, [ $h, $v ];
        add_rate($s{truth}, $k, $r) if $s{truth};
    }
    return \%s;
}

# The draws both kinds of stream make: a result (hotel, currency, rate)
# and a search time in ms, each a closure over known_stream's options.
sub stream_draws {
    my %o = @_;
    my @hotels = @{ $o{hotels} };
    my @hours = @{ $o{hours} };
    my ($rmin, $rspan) = @{ $o{rate} };
    my $currency = $o{currency} || do {
        my @c = @{ $o{currencies} };
        sub { $c[rand @c] };
    };
    my $result = sub {
        my $h = $hotels[rand @hotels];
        my $c = $currency->($h);
        # micros that are no round number: sums and averages must be exact
        return ($h, $c, $rmin + int rand $rspan);
    };
    my $time = sub {
        return ($o{now} - 3600 * $hours[rand @hours]) * 1000
            + int rand 3_600_000;
    };
    return ($result, $time);
}

# an aggregate's key: "hotel\0currency\0hour" (unix seconds)
sub hour_key {
    my ($hotel, $currency, $ms) = @_;
    my $secs = int($ms / 1000);
    return join "\0", $hotel, $currency, $secs - $secs % 3600;
}

sub known_page_stream {
    my %o = @_;
    my ($result, $time) = stream_draws(%o);
    my $id = $o{id} || '%032x';
    my %s = (recs => [], bkey => [], rate => [], by_value => {},
             headers => [ page_headers() ]);
    $s{truth} = {} if $o{truth};
    my $pages = int(($o{records} + $o{page} - 1) / $o{page});
    for my $p (0 .. $pages - 1) {
        my $ms = $time->();
        my $n = $o{records} - $p * $o{page};
        $n = $o{page} if $n > $o{page};
        my (@values, @keys, @rates);
        for my $j (0 .. $n - 1) {
            my ($h, $c, $r) = $result->();
            push @values, encode_record(hotel_id => $h, rate_micros => $r,
                                        currency => $c, position => $j);
            push @keys, hour_key($h, $c, $ms);
            push @rates, $r;
            add_rate($s{truth}, $keys[-1], $r) if $s{truth};
        }
        my $sid = sprintf $id, $p;
        my $v = encode_page($sid, $ms, @values);
        push @{ $s{bkey} }, \@keys;
        push @{ $s{rate} }, \@rates;
        $s{by_value}{$v} = $p;
        push @{ $s{recs} }, [ $sid, $v ];
    }
    return \%s;
}

# Google's protoc decodes one value (a HotelSearchResult, or the message
# named); returns its text format (or dies).
sub protoc_decode {
    my ($value, $message) = @_;
    $message //= 'HotelSearchResult';
    my $proto = root() . '/proto';
    my ($fh, $file) = tempfile(UNLINK => 1);
    binmode $fh;
    print $fh $value;
    close $fh;
    my $out = `protoc --decode=hotelsearch.v1.$message -I '$proto' '$proto/hotel_search_result.proto' < '$file' 2>&1`;
    die "protoc --decode: $out\n" if $?;
    return $out;
}

1;
