package HotelConsumer;

# Running build/hotel-trends in the consumer suites (t/2*.t) and checking
# what it wrote: start/stop/kill consumer processes (by their PID only),
# read SQLite with the sqlite3 CLI and PostgreSQL with psql, compare the
# hourly aggregates with the truth HotelRecords::aggregate_records() made,
# and compute the report that truth implies, with arithmetic of our own
# (Math::BigInt, half away from zero) rather than the consumer's.

use strict;
use warnings;

use Exporter 'import';
use HotelRecords ();
use Math::BigInt;
use POSIX qw(WNOHANG);
use Test::More ();
use Time::HiRes qw(sleep time);

our @EXPORT = qw(
    trends_run consumer_start consumer_stop consumer_wait consumer_alive
    track_child
    sqlite_rows query_rows db_aggregates db_offsets db_rejected db_snapshot
    hotel_totals
    stream_positions prefix_truth records_before
    compare_aggregates expected_report_csv money_cents trend_permille
    check_end_state check_snapshots check_report_csv check_no_crash
    log_tail report_lines report_order report_cells report_csv_line
    report_header report_movers
);

my %Running;        # pid => log file, for the END cleanup
my %Reaped;         # pid => wait status, reaped by consumer_alive()

sub trends { $ENV{HOTEL_TRENDS} or die "HOTEL_TRENDS is not set\n" }

# hotel-trends with @args (all of them), its output appended to $log;
# returns the PID.
sub trends_run {
    my ($log, @args) = @_;
    my @cmd = (trends(), @args);
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    $Running{$pid} = $log;
    return $pid;
}

# consumer_start(topic => T, group => G, db => DB, log => FILE,
#                args => [ more options ]); returns the PID. Output goes
# to FILE (appended), so that a suite can show it when something fails.
sub consumer_start {
    my %o = @_;
    return trends_run($o{log}, 'consume',
                      '-b', $ENV{TEST_NGINX_KAFKA_BROKERS},
                      '-t', $o{topic}, '-g', $o{group}, '-d', $o{db},
                      # a restarted member gets the partitions of a killed
                      # one once its session has expired (the broker allows
                      # 1 s)
                      '-X', 'session.timeout.ms=6000',
                      '-X', 'heartbeat.interval.ms=500',
                      @{ $o{args} || [] });
}

# another child of the suite (a producer) to wait for or to kill at the end
sub track_child { $Running{$_[0]} = '' }

sub consumer_alive {
    my $pid = shift;
    return 0 unless $Running{$pid};
    my $r = waitpid $pid, WNOHANG;
    if ($r == $pid) {
        delete $Running{$pid};
        $Reaped{$pid} = $?;
        return 0;
    }
    return 1;
}

# Waits up to $timeout seconds for $pid to exit; returns its wait status,
# or undef if it is still running.
sub consumer_wait {
    my ($pid, $timeout) = @_;
    my $deadline = time + $timeout;
    while (1) {
        my $r = waitpid $pid, WNOHANG;
        if ($r == $pid) {
            delete $Running{$pid};
            return $?;
        }
        if ($r < 0) {
            delete $Running{$pid};
            return delete $Reaped{$pid};
        }
        return undef if time > $deadline;
        sleep 0.05;
    }
}

# Sends $sig (KILL, TERM) and waits for the exit; returns the wait status
# (a TERM not obeyed within $timeout seconds ends in a KILL, and undef).
sub consumer_stop {
    my ($pid, $sig, $timeout) = @_;
    kill $sig, $pid if $Running{$pid};
    my $st = consumer_wait($pid, $timeout || 30);
    return $st if defined $st;
    kill 'KILL', $pid;
    consumer_wait($pid, 10);
    return undef;
}

my $Parent = $$;

END {
    # whatever happened, no consumer of ours outlives the suite (and a
    # forked child that ends up here leaves the suite's processes alone)
    for my $pid ($$ == $Parent ? keys %Running : ()) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }
}

sub log_tail {
    my ($file, $n) = @_;
    open my $fh, '<', $file or return "(no log $file)";
    my @l = <$fh>;
    splice @l, 0, @l - ($n || 30) if @l > ($n || 30);
    return join '', @l;
}

# ------------------------------------------------------------- databases

# A database is { sqlite => FILE } or { psql => [ psql args ] }.
# Rows of a query, each an arrayref of column strings. Unit and record
# separators keep ids with spaces, commas or quotes intact.
sub query_rows {
    my ($db, $sql) = @_;
    my @cmd;
    if ($db->{sqlite}) {
        @cmd = ('sqlite3', '-batch', '-noheader', '-cmd', '.timeout 5000',
                '-separator', "\x1f", '-newline', "\x1e", $db->{sqlite},
                $sql);
    } else {
        @cmd = ('psql', @{ $db->{psql} }, '-X', '-q', '-A', '-t',
                '-v', 'ON_ERROR_STOP=1', '-F', "\x1f", '-R', "\x1e",
                '-c', $sql);
    }
    open my $fh, '-|', @cmd or die "$cmd[0]: $!\n";
    binmode $fh;
    local $/;
    my $out = <$fh> // '';
    close $fh;
    die "$cmd[0] failed ($?): $sql\n" if $?;
    $out =~ s/\n\z// if $db->{psql};
    return [ map { [ split /\x1f/, $_, -1 ] } grep { length } split /\x1e/, $out ];
}

sub sqlite_rows { query_rows({ sqlite => $_[0] }, $_[1]) }

# hotel_rate_hourly as "hotel\0cur\0bucket" => [count, sum, min, max]
sub db_aggregates {
    my $db = shift;
    my %got;
    for my $r (@{ query_rows($db, 'SELECT hotel_id, currency, bucket_start,'
                 . ' count, sum_micros, min_micros, max_micros'
                 . ' FROM hotel_rate_hourly') })
    {
        $got{join "\0", @$r[0 .. 2]} = [ @$r[3 .. 6] ];
    }
    return \%got;
}

# kafka_offsets of a topic: [ next_offset of partition 0, 1, ... ]
sub db_offsets {
    my ($db, $topic) = @_;
    my @off;
    for my $r (@{ query_rows($db, "SELECT partition, next_offset, lease_epoch"
                 . " FROM kafka_offsets WHERE topic = '$topic'") })
    {
        $off[$r->[0]] = $r->[1];
    }
    return \@off;
}

# Aggregates and a topic's offsets read by one statement, so that they
# are consistent while consumers write: { agg => {...}, off => [...] }
sub db_snapshot {
    my ($db, $topic) = @_;
    my (%agg, @off);
    my $rows = query_rows($db,
        "SELECT 'a', hotel_id, currency, CAST(bucket_start AS TEXT),"
        . " CAST(count AS TEXT), CAST(sum_micros AS TEXT),"
        . " CAST(min_micros AS TEXT), CAST(max_micros AS TEXT)"
        . " FROM hotel_rate_hourly UNION ALL"
        . " SELECT 'o', CAST(partition AS TEXT), CAST(next_offset AS TEXT),"
        . " '', '', '', '', '' FROM kafka_offsets WHERE topic = '$topic'");
    for my $r (@$rows) {
        if ($r->[0] eq 'a') {
            $agg{join "\0", @$r[1 .. 3]} = [ @$r[4 .. 7] ];
        } else {
            $off[$r->[1]] = $r->[2];
        }
    }
    return { agg => \%agg, off => \@off };
}

# hotel_rate_hourly summed over the hours of each hotel and currency:
# rows [hotel, currency, count, sum_micros]; none without a database file
sub hotel_totals {
    my $db = shift;
    return [] unless -s $db;
    return sqlite_rows($db, 'SELECT hotel_id, currency, SUM(count),'
                       . ' SUM(sum_micros) FROM hotel_rate_hourly'
                       . ' GROUP BY hotel_id, currency');
}

# rejected_records as reason => count
sub db_rejected {
    my $db = shift;
    return { map { $_->[0] => $_->[1] }
             @{ query_rows($db, 'SELECT reason, count FROM rejected_records') } };
}

# Differences between two aggregate hashes, as readable lines (at most
# $max of them, then a count); empty when equal.
sub compare_aggregates {
    my ($got, $want, $max) = @_;
    $max ||= 10;
    my @d;
    my $n = 0;
    for my $k (sort keys %{ { %$got, %$want } }) {
        my $g = $got->{$k} ? "@{ $got->{$k} }" : 'none';
        my $w = $want->{$k} ? "@{ $want->{$k} }" : 'none';
        next if $g eq $w;
        $n++;
        push @d, sprintf "%s: got %s, want %s",
            join('/', split /\0/, $k), $g, $w if @d < $max;
    }
    push @d, ($n - $max) . " more" if $n > $max;
    return @d;
}

# ------------------------------------------------------------- streams

# Where each produced record landed: reads the topic back (binary safe,
# HotelKafka) and maps each value to the index %$by_value gives it.
# Returns ([partition][offset] = index, number read, number unknown);
# what is left in %$by_value was not found.
sub stream_positions {
    my ($topic, $by_value) = @_;
    require HotelKafka;
    my $back = HotelKafka::kcat_read_once($topic);
    my (@at, $unknown);
    $unknown = 0;
    for my $m (@$back) {
        my $i = delete $by_value->{$m->{value}};
        defined $i ? ($at[$m->{partition}][$m->{offset}] = $i) : $unknown++;
    }
    return (\@at, scalar @$back, $unknown);
}

# The truth of the records before the offsets $next (one per partition)
# in the positions $at, from each record's bucket key and rate; undef if
# an offset points past what was read back.
sub prefix_truth {
    my ($at, $bkey, $rate, $next) = @_;
    my %t;
    for my $p (0 .. ($#$at > $#$next ? $#$at : $#$next)) {
        my $list = $at->[$p] || [];
        my $end = defined $next->[$p] && $next->[$p] > 0 ? $next->[$p] : 0;
        for my $o (0 .. $end - 1) {
            my $i = $list->[$o];
            return undef unless defined $i;
            if (ref $bkey->[$i]) {
                # a page record: its results
                HotelRecords::add_rate(\%t, $bkey->[$i][$_], $rate->[$i][$_])
                    for 0 .. $#{ $bkey->[$i] };
            } else {
                HotelRecords::add_rate(\%t, $bkey->[$i], $rate->[$i]);
            }
        }
    }
    return \%t;
}

# How many records lie before the stored offsets @$off (one per partition,
# undef or negative where none is stored).
sub records_before {
    my $off = shift;
    my $n = 0;
    $n += ($_ // 0) > 0 ? $_ : 0 for @$off;
    return $n;
}

# The end of a stream consumed: every aggregate of $db equals $truth, the
# offsets of $topic are the ends of its partitions (@$end), nothing was
# refused. Three tests.
sub check_end_state {
    my ($db, $topic, $truth, $end) = @_;
    my @diff = compare_aggregates(db_aggregates($db), $truth);
    Test::More::ok(!@diff, sprintf('all %d buckets: count, sum_micros, '
                                   . 'min, max exact', scalar keys %$truth))
        or Test::More::diag(join "\n", @diff);
    Test::More::is_deeply([ @{ db_offsets($db, $topic) }[0 .. $#$end] ],
                          $end, "offsets at the end of each partition "
                                . "(@$end)");
    Test::More::is_deeply(db_rejected($db), {}, 'nothing refused');
}

# Snapshots taken while the consumer ran (db_snapshot's, each with
# {how}): each must hold exactly the records before its offsets, in the
# positions $at where each record landed (stream_positions). One test a
# snapshot.
sub check_snapshots {
    my ($snaps, $at, $bkey, $rate) = @_;
    for my $s (@$snaps) {
        my @off = map { $_ // 0 } @{ $s->{off} }[0 .. 2];
        my $want = prefix_truth($at, $bkey, $rate, \@off);
        my @diff = compare_aggregates($s->{agg}, $want || {});
        Test::More::ok($want && !@diff, "$s->{how}: the database holds "
                       . 'exactly the ' . records_before(\@off)
                       . " records before its offsets (@off)")
            or Test::More::diag(join "\n", @diff);
    }
}

# The consumer's log at the end: no sanitizer report, no crash (a test);
# its leases, for the record (a note).
sub check_no_crash {
    my $log = shift;
    my $all = log_tail($log, 1e6);
    my $lines = () = $all =~ /\n/g;
    my @leases = $all =~ /(partition \d+: lease \d+)/g;
    Test::More::note("consumer log: $lines lines; leases: @leases");
    Test::More::unlike($all, qr/AddressSanitizer|runtime error|Segmentation/,
                       'no sanitizer report or crash in the consumer log');
}

# ------------------------------------------------------------- report

# "hotel-trends report --format csv" of $db (a SQLite file or a
# PostgreSQL conninfo) with the clock at $now, line for line against
# expected_report_csv($truth, $now). Two tests; returns the lines expected.
sub check_report_csv {
    my ($db, $truth, $now) = @_;
    open my $fh, '-|', trends(), 'report', '-d', $db,
        '--format', 'csv', '--now', $now or die "report: $!\n";
    binmode $fh;
    my @got = map { s/\r?\n\z//r } <$fh>;
    close $fh;
    Test::More::is($?, 0, 'report --format csv exits 0');
    my $want = expected_report_csv($truth, $now);
    my @bad = grep { ($got[$_] // '') ne ($want->[$_] // '') }
              0 .. ($#got > $#$want ? $#got : $#$want);
    Test::More::ok(!@bad, sprintf('report: %d lines (avg, min, max, 24h '
                                  . 'and 7d trends) as computed from the '
                                  . 'truth', scalar @$want))
        or Test::More::diag(join "\n", map {
               "line $_: got '" . ($got[$_] // '') . "', want '"
               . ($want->[$_] // '') . "'"
           } @bad[0 .. ($#bad < 5 ? $#bad : 5)]);
    return $want;
}

sub big { Math::BigInt->new("$_[0]") }

# num/den rounded half away from zero (both BigInts, den > 0)
sub div_round {
    my ($num, $den) = @_;
    my $neg = $num->is_neg;
    my $a = $num->copy->babs;
    my $q = ($a * 2 + $den)->bdiv($den * 2);
    return $neg ? -$q : $q;
}

# micros / count as "123.45": cents rounded half away from zero
sub money_cents {
    my ($sum, $count) = @_;
    my $c = div_round(big($sum), big($count) * 10000);
    my $neg = $c->is_neg;
    $c->babs;
    my ($w, $f) = (scalar $c->copy->bdiv(100), scalar $c->copy->bmod(100));
    return sprintf '%s%s.%02d', $neg ? '-' : '', $w, $f;
}

# change of the average, in tenths of a percent, as "+1.5%"; '' (CSV's
# empty cell) when either window is empty
sub trend_permille {
    my ($ns, $nc, $os, $oc) = @_;
    return '' unless $nc && $oc && $os > 0;
    my $num = (big($ns) * $oc - big($os) * $nc) * 1000;
    my $p = div_round($num, big($os) * $nc);
    my $a = $p->copy->babs;
    return sprintf '%s%s.%s%%', $p->is_neg ? '-' : '+',
        scalar $a->copy->bdiv(10), scalar $a->copy->bmod(10);
}

# The lines of the report a truth hash (as aggregate_records() makes)
# implies with the clock at $o{now} and the short window $o{window}
# (seconds, a day unless given): one per hotel and currency, in byte
# order, each { hotel, currency, win => { all, d, pd, w, pw } }, a window
# being [count, sum (BigInt), min, max] or absent when it has no bucket.
sub report_lines {
    my ($truth, %o) = @_;
    my ($now, $win, $day) = ($o{now}, $o{window} || 86400, 86400);
    my %w = (all => [-9**18, 9**18], d => [$now - $win, $now],
             pd => [$now - 2 * $win, $now - $win],
             w => [$now - 7 * $day, $now],
             pw => [$now - 14 * $day, $now - 7 * $day]);
    my %line;
    for my $k (keys %$truth) {
        my ($h, $c, $b) = split /\0/, $k;
        my ($n, $s, $mn, $mx) = @{ $truth->{$k} };
        for my $win (keys %w) {
            next unless $b >= $w{$win}[0] && $b < $w{$win}[1];
            my $l = $line{"$h\0$c"}{$win} ||= [0, big(0), $mn, $mx];
            $l->[0] += $n;
            $l->[1] += $s;
            $l->[2] = $mn if $mn < $l->[2];
            $l->[3] = $mx if $mx > $l->[3];
        }
    }
    return [ map { my ($h, $c) = split /\0/, $_;
                   { hotel => $h, currency => $c, win => $line{$_} } }
             sort keys %line ];
}

# A line's trend as the fraction [num, den] of its two averages (new
# over old), for $sort 'trend' (the short window) or 'trend_7d'; undef
# without one.
sub line_trend {
    my ($l, $sort) = @_;
    my ($wn, $wb) = $sort eq 'trend_7d' ? ('w', 'pw') : ('d', 'pd');
    my ($N, $B) = @{ $l->{win} }{$wn, $wb};
    return undef unless $N && $B && $N->[0] > 0 && $B->[0] > 0
                        && $B->[1] > 0;
    return [ big($N->[1]) * $B->[0], big($B->[1]) * $N->[0] ];
}

# The report's order and cut, computed here from the definitions in the
# README: %o has sort (hotel, trend, trend_7d, avg, count), order (asc,
# desc; desc unless sorting by hotel), top, min_count.  Figures compare
# exactly (cross products of BigInts); a line without the figure comes
# last either way; ties by hotel, then currency, ascending.
sub report_order {
    my ($lines, %o) = @_;
    my $sort = $o{sort} || 'hotel';
    my $desc = ($o{order} || ($sort eq 'hotel' ? 'asc' : 'desc')) eq 'desc';
    # (not $b: sort's own)
    my ($wn, $wb) = $sort eq 'trend_7d' ? ('w', 'pw') : ('d', 'pd');
    my @l = grep {
        !$o{min_count}
        || (($_->{win}{$wn} || [0])->[0] >= $o{min_count}
            && ($_->{win}{$wb} || [0])->[0] >= $o{min_count})
    } @$lines;
    my $figure = sub {
        my $l = shift;
        return line_trend($l, $sort) if $sort =~ /^trend/;
        return [ big($l->{win}{all}[1]), big($l->{win}{all}[0]) ]
            if $sort eq 'avg';
        return [ big($l->{win}{all}[0]), big(1) ];
    };
    my $by_name = sub {
        $_[0]{hotel} cmp $_[1]{hotel} || $_[0]{currency} cmp $_[1]{currency}
    };
    if ($sort eq 'hotel') {
        @l = sort { $by_name->($a, $b) } @l;
        @l = reverse @l if $desc;
    } else {
        my %f = map { ("$_->{hotel}\0$_->{currency}" => $figure->($_)) } @l;
        @l = sort {
            my ($fa, $fb) = @f{"$a->{hotel}\0$a->{currency}",
                               "$b->{hotel}\0$b->{currency}"};
            if ($fa && $fb) {
                my $c = ($fa->[0] * $fb->[1]) <=> ($fb->[0] * $fa->[1]);
                $c = -$c if $desc;
                $c || $by_name->($a, $b);
            } elsif ($fa || $fb) {
                $fa ? -1 : 1;
            } else {
                $by_name->($a, $b);
            }
        } @l;
    }
    splice @l, $o{top} if $o{top} && @l > $o{top};
    return \@l;
}

# The risers and fallers of the page: the first $top lines of the order
# by trend whose average rose, and the last $top whose average fell,
# the biggest fall first.
sub report_movers {
    my ($lines, %o) = @_;
    my $ord = report_order($lines, %o, order => 'desc', top => 0);
    my $sign = sub {
        my $t = line_trend($_[0], $o{sort} || 'trend') or return 0;
        return $t->[0] <=> $t->[1];
    };
    my @up = grep { $sign->($_) > 0 } @$ord;
    my @down = reverse grep { $sign->($_) < 0 } @$ord;
    splice @up, $o{top} if @up > $o{top};
    splice @down, $o{top} if @down > $o{top};
    return (\@up, \@down);
}

sub report_header {
    my $label = shift || '24h';
    return "hotel,currency,count,avg,min,max,avg_$label,trend_$label,"
        . 'avg_7d,trend_7d';
}

# One line's ten cells, '' for an empty window.
sub report_cells {
    my $l = shift;
    my $L = $l->{win};
    my $avg = sub { my $x = $L->{$_[0]}; $x ? money_cents($x->[1], $x->[0]) : '' };
    my $tr = sub {
        my ($a, $b) = @{$L}{@_};
        $a && $b ? trend_permille($a->[1], $a->[0], $b->[1], $b->[0]) : '';
    };
    return ($l->{hotel}, $l->{currency}, $L->{all}[0], $avg->('all'),
            money_cents($L->{all}[2], 1), money_cents($L->{all}[3], 1),
            $avg->('d'), $tr->('d', 'pd'), $avg->('w'), $tr->('w', 'pw'));
}

# One line as the CSV report writes it.
sub report_csv_line {
    my ($h, @c) = report_cells(shift);
    my $csv = $h =~ /[",\r\n]/ ? do { (my $q = $h) =~ s/"/""/g; "\"$q\"" } : $h;
    return join ',', $csv, @c;
}

# The CSV report of a truth hash with the clock at $now: one line per
# hotel and currency, in byte order.
sub expected_report_csv {
    my ($truth, $now) = @_;
    return [ report_header(),
             map { report_csv_line($_) } @{ report_lines($truth, now => $now) } ];
}

1;
