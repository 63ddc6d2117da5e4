package HotelStream;

# A steady stream of records into a topic while a suite breaks things:
# one idempotent kcat producer for the whole stream (as the module keeps
# one producer per worker), fed by a child process chunk by chunk with a
# pause between chunks, so that records are in flight whenever the suite
# kills a broker.
#
#     my $s = start_stream($topic, \@recs, chunks => 40, pause => 0.3);
#     ... $s->written ...                  # records handed to kcat so far
#     my $st = $s->finish(120);            # waits; kcat's wait status
#
# @recs are [key, value] pairs (HotelRecords' encoding, its schema
# headers on every record). What reached the broker, and how often, is
# for the suite to read back (HotelConsumer::stream_positions): kcat's
# exit status says only that it flushed without a delivery error.

use strict;
use warnings;

use Exporter 'import';
use File::Temp qw(tempfile);
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

use HotelRecords ();

our @EXPORT = qw(start_stream);

my %Streams;        # running child PID => the PID that forked it

END {
    for my $pid (grep { $Streams{$_} == $$ } keys %Streams) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }
}

sub start_stream {
    my ($topic, $recs, %o) = @_;
    my $chunks = $o{chunks} || 20;
    my $pause = $o{pause} // 0.3;
    my ($kd, $md) = HotelRecords::pick_delimiters($recs);
    my @h = HotelRecords::schema_headers();
    my @hdr;
    push @hdr, '-H', "$h[$_]=$h[$_ + 1]" for grep { !($_ % 2) } 0 .. $#h;
    my ($pfh, $progress) = tempfile(UNLINK => 1);
    close $pfh;
    my ($efh, $errfile) = tempfile(UNLINK => 1);
    close $efh;

    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        my @cmd = ('kcat', '-P', '-b', $ENV{TEST_NGINX_KAFKA_BROKERS},
                   '-t', $topic,
                   '-K', HotelRecords::kcat_escape($kd),
                   '-D', HotelRecords::kcat_escape($md), @hdr,
                   '-X', 'enable.idempotence=true',
                   '-X', 'partitioner=murmur2_random',
                   '-X', 'linger.ms=20',
                   '-X', 'message.timeout.ms=120000');
        open STDOUT, '>', $errfile or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT;
        open my $kcat, '|-', @cmd or POSIX::_exit(127);
        binmode $kcat;
        my $per = int((@$recs + $chunks - 1) / $chunks);
        my $n = 0;
        for my $c (0 .. $chunks - 1) {
            my @part = grep { defined }
                       @$recs[$c * $per .. ($c + 1) * $per - 1];
            print $kcat map { "$_->[0]$kd$_->[1]$md" } @part;
            $kcat->flush;
            $n += @part;
            if (open my $p, '>', "$progress.new") {
                print $p $n;
                close $p;
                rename "$progress.new", $progress;
            }
            sleep $pause if $c < $chunks - 1;
        }
        close $kcat;
        POSIX::_exit($? >> 8 || ($? & 127 ? 128 : 0));
    }
    $Streams{$pid} = $$;
    return bless { pid => $pid, progress => $progress, err => $errfile },
        'HotelStream::Stream';
}

package HotelStream::Stream;

sub pid { $_[0]{pid} }

# records handed to kcat so far
sub written {
    my $self = shift;
    open my $fh, '<', $self->{progress} or return 0;
    my $n = <$fh>;
    return $n // 0;
}

# what kcat said (its errors), for a diagnostic
sub output {
    my $self = shift;
    open my $fh, '<', $self->{err} or return '';
    local $/;
    return <$fh> // '';
}

# Waits up to $timeout seconds for the stream to end; its wait status
# (0: kcat flushed everything without an error), -1 on timeout.
sub finish {
    my ($self, $timeout) = @_;
    my $deadline = Time::HiRes::time() + ($timeout || 120);
    while (1) {
        my $r = waitpid $self->{pid}, POSIX::WNOHANG();
        if ($r == $self->{pid}) {
            delete $Streams{$self->{pid}};
            return $?;
        }
        return -1 if $r < 0 || Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.1);
    }
}

1;
