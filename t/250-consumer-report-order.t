# hotel-trends report, the movers first: --sort, --order, --top and
# --min-count against a known stream.
#
# A stream of about 2,500 records over the last 16 days (hotels whose
# rates drift up or down by up to 3% a day, some priced in two
# currencies, an id that CSV must quote) plus a few hotels made to test
# the order: two trends that both print as +1.0% but differ (+1.01%,
# +1.04%), two exactly equal trends (a tie, broken by name), a +300%
# spike of two searches a window (what --min-count is for), and a hotel
# with records in the last window only (no trend: last in both
# directions).  It is consumed into SQLite; then each block runs one
# report and compares it, line for line, with the report computed here,
# in Perl, from the records themselves (HotelConsumer::report_order:
# exact BigInt cross products, not the C code's arithmetic).  CSV, the
# table and JSON (with its exact sums) are each checked.
#
# Block sections:
#   --- args     the report's options (--now is added)
#   --- first    the hotel the order must start with (the stream's design)
#   --- absent   hotels the report must not show

use strict;
use warnings;

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use Math::BigInt;
use Test::Base;
use Time::HiRes qw(time);

use HotelConsumer;
use HotelRecords;
use HotelSuite;

needs(env => [qw(TEST_NGINX_KAFKA_BROKERS HOTEL_KAFKA_DIR HOTEL_TRENDS)],
      built => [qw(HOTEL_TRENDS)], tools => [qw(kcat sqlite3)]);
my ($uniq, $dir) = start_run('hotel-trends-250');

my ($H, $D) = (3600, 86400);
my $now = int(time / $H) * $H;      # the current hour: in no window

# ------------------------------------------------------------ the stream

srand 250;
my @recs;

sub rec {
    my ($hotel, $cur, $t, $micros) = @_;
    push @recs, { hotel_id => $hotel, currency => $cur,
                  search_time_ms => int($t * 1000), rate_micros => $micros };
}

# drifting hotels: a rate that moves by $drift a day, with noise; most
# in cents, some to the micro
for my $i (1 .. 60) {
    my $hotel = sprintf '%s-%02d', (qw(lis ams par rom))[$i % 4], $i;
    my @curs = $i % 9 == 0 ? ('EUR', 'GBP') : $i % 7 == 0 ? ('USD') : ('EUR');
    for my $cur (@curs) {
        my $base = 50 + rand 350;
        my $drift = (rand() - 0.5) * 0.06;
        # over 16 days, and more in the last two: about half have 5 or
        # more in each (what --min-count 5 keeps)
        my @t = map { $now - int rand(16 * $D) } 1 .. 4 + int rand 30;
        push @t, map { $now - int rand(2 * $D) } 1 .. int rand 28;
        for my $t (@t) {
            my $age = ($now - $t) / $D;
            my $rate = $base * (1 - $drift * $age) * (0.98 + rand 0.04);
            my $micros = $i % 5 ? int($rate * 100) * 10000
                                : int($rate * 1e6);
            rec($hotel, $cur, $t, $micros);
        }
    }
}

# made to test the order, in the last day (d) and the day before (pd)
my $d = sub { $now - $D + $H * (1 + int rand 22) + int rand $H };
my $pd = sub { $now - 2 * $D + $H * (1 + int rand 22) + int rand $H };
for (1 .. 6) {
    rec('near-a', 'EUR', $pd->(), 100_000_000);
    rec('near-a', 'EUR', $d->(), 101_010_000);     # +1.01%
    rec('near-b', 'EUR', $pd->(), 100_000_000);
    rec('near-b', 'EUR', $d->(), 101_040_000);     # +1.04%: first
    rec('tie-x', 'EUR', $pd->(), 80_000_000);
    rec('tie-x', 'EUR', $d->(), 82_000_000);       # +2.5%
    rec('tie-y', 'EUR', $pd->(), 160_000_000);
    rec('tie-y', 'EUR', $d->(), 164_000_000);      # +2.5%: after tie-x
    rec('q"uote,d', 'EUR', $pd->(), 120_000_000);
    rec('q"uote,d', 'EUR', $d->(), 110_000_000 + $_);
}
for (1 .. 2) {
    rec('spike', 'EUR', $pd->(), 100_000_000);
    rec('spike', 'EUR', $d->(), 400_000_000);      # +300%, two searches
}
rec('new-only', 'EUR', $d->(), 90_000_000) for 1 .. 8;
# and the current hour, in the period but in no window
rec('near-a', 'EUR', $now + 60, 999_000_000);

my $topic = create_topic("$uniq-order", 3);
produce_records($topic, [ map { [ $_->{hotel_id},
                                  encode_record(%$_, search_id => 's') ] }
                          @recs ]);

my $db = "$dir/order.db";
my $log = "$dir/order.log";
my $pid = consumer_start(topic => $topic, group => "$uniq-g", db => $db,
                         log => $log, args => [ '--exit-idle', 2 ]);
my $st = consumer_wait($pid, 120);
die "the consumer did not finish: " . log_tail($log) unless defined $st
                                                             && $st == 0;

my $truth = aggregate_records(\@recs);
my $counted = sqlite_rows($db, 'SELECT sum(count) FROM hotel_rate_hourly');
die "the database holds $counted->[0][0] records, not " . scalar(@recs)
    . "\n" unless $counted->[0][0] == @recs;

# ------------------------------------------------------------ the checks

sub report {
    my @args = @_;
    open my $fh, '-|', $ENV{HOTEL_TRENDS}, 'report', '-d', $db,
        '--now', $now, @args or die "report: $!\n";
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return ($?, $out);
}

# the options of a block, for the reference
sub options {
    my %o = (format => 'table');
    my @a = @_;
    while (my $k = shift @a) {
        my $v = shift @a;
        $k =~ s/^--//;
        $k =~ tr/-/_/;
        $o{$k} = $v;
    }
    return %o;
}

sub label {
    my $w = shift || $D;
    return $w % 3600 == 0 ? ($w / 3600) . 'h'
         : $w % 60 == 0 ? ($w / 60) . 'm' : "${w}s";
}

sub json_string {
    my $s = shift;
    $s =~ s/(["\\])/\\$1/g;
    return "\"$s\"";
}

# a JSON row as the report must write it, from the reference
sub json_row {
    my ($l, $label) = @_;
    my @c = report_cells($l);
    my @names = ('hotel', 'currency', 'count', 'avg', 'min', 'max',
                 "avg_$label", "trend_$label", 'avg_7d', 'trend_7d');
    my @f;
    for my $i (0 .. 9) {
        my $v = $c[$i] eq '' ? 'null'
              : ($i < 2 || $i == 7 || $i == 9) ? json_string($c[$i])
              : $c[$i];
        push @f, "\"$names[$i]\":$v";
    }
    my $W = $l->{win};
    push @f, "\"sum_micros\":$W->{all}[1]", "\"min_micros\":$W->{all}[2]",
             "\"max_micros\":$W->{all}[3]";
    for ([ "_$label", 'd' ], [ "_prev_$label", 'pd' ], [ '_7d', 'w' ],
         [ '_prev_7d', 'pw' ])
    {
        my $w = $W->{ $_->[1] } || [ 0, 0 ];
        push @f, "\"count$_->[0]\":$w->[0]", "\"sum_micros$_->[0]\":$w->[1]";
    }
    return '{' . join(',', @f) . '}';
}

filters { args => 'chomp', first => 'chomp', absent => 'chomp' };

plan tests => 3 * blocks;

run {
    my $block = shift;
    my $name = $block->name;
    my @args = split ' ', $block->args;
    my %o = options(@args);
    my ($st, $out) = report(@args);

    my $lines = report_lines($truth, now => $now, window => $o{window});
    my $want = report_order($lines, %o);
    my $label = label($o{window});
    my $rej = "# rejected";

    is $st, 0, "$name - exits 0";

    if ($o{format} eq 'csv') {
        is $out, join("\n", report_header($label),
                      map { report_csv_line($_) } @$want) . "\n",
            "$name - the lines of the reference, in its order";

    } elsif ($o{format} eq 'json') {
        my $rows = join ",\n", map { json_row($_, $label) } @$want;
        is $out, "{\"rows\":[\n$rows\n],\"rejected\":{},\"now\":$now,"
            . "\"window\":" . ($o{window} || $D) . "}\n",
            "$name - the rows of the reference, exact sums";

    } else {
        # the table: cells split on blanks (no id here has one), '-'
        # for an empty window; no rejected records in this stream
        my @got = map { [ split ' ' ] } grep { !/^#/ } split /\n/, $out;
        shift @got;
        my @exp = map { [ map { $_ eq '' ? '-' : $_ } report_cells($_) ] }
                  @$want;
        is_deeply \@got, \@exp,
            "$name - the table's rows are the reference's, in its order"
            or diag $out;
    }

    my @shown = map { "$_->{hotel}" } @$want;
    if (defined $block->first) {
        is $shown[0], $block->first, "$name - $shown[0] first";
    } elsif (defined $block->absent) {
        my %absent = map { $_ => 1 } split ' ', $block->absent;
        ok !(grep { $absent{$_} } @shown),
            "$name - none of " . $block->absent . " shown";
    } else {
        ok @$want > 0, "$name - " . scalar(@$want) . ' lines';
    }
};

__DATA__

=== TEST 1: the risers of the last day, at least 5 records in each window
--- args: --sort trend --top 12 --min-count 5 --format csv
--- absent: spike new-only

=== TEST 2: the fallers: the other end of the same order
--- args: --sort trend --order asc --top 12 --min-count 5 --format csv
--- absent: spike new-only near-a near-b

=== TEST 3: without --min-count, two searches a window top the list
--- args: --sort trend --top 5 --format csv
--- first: spike

=== TEST 4: every line by trend: +1.04% before +1.01% (both +1.0%), the tie by name, no trend last
--- args: --sort trend --format csv

=== TEST 5: ascending, lines without a trend still last
--- args: --sort trend --order asc --format csv

=== TEST 6: by the 7-day trend, with the 7-day windows for --min-count
--- args: --sort trend_7d --top 10 --min-count 3 --format csv

=== TEST 7: a 6-hour window, its columns named after it
--- args: --window 21600 --sort trend --top 8 --min-count 1 --format csv

=== TEST 8: by average over the period, ascending
--- args: --sort avg --order asc --top 7 --format csv

=== TEST 9: by count, the biggest first
--- args: --sort count --top 6 --format csv

=== TEST 10: by hotel, descending, every line
--- args: --sort hotel --order desc --format csv

=== TEST 11: the table, the same order and cut
--- args: --sort trend --top 12 --min-count 5 --format table
--- absent: spike new-only

=== TEST 12: JSON: the same rows, with their exact sums and counts
--- args: --sort trend --order asc --top 10 --min-count 5 --format json
--- absent: spike new-only
