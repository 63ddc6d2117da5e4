# hotel-trends consume, exactly once under crashes (SQLite).
#
# First the test producer itself is checked: t/lib/HotelRecords.pm's
# encoder against Google's protoc, and its kcat input format with binary
# values read back byte for byte.
#
# Then a known stream (200k records, 3 partitions, 500 hotels, 5
# currencies, 8 hours from 1 hour to 8 days old) is consumed by a member
# that is killed with SIGKILL 8 times at random points (while joining,
# or once the database shows a random amount of progress, with random
# batch sizes) and restarted. After every kill the database must hold
# exactly the records before its offsets: every (hotel, currency, hour)
# aggregate equals the truth of that prefix of each partition, nothing
# more, nothing less. A last run with --exit-idle then finishes, and the
# aggregates, the offsets and "report --format csv" equal the truth.
#
# HOTEL_TEST_SEED=N replays one run's random choices (the seed is shown).
#
# t/201 runs this same loop on page records ($main::PAGE_RESULTS results
# to a SearchPage, as "hotel_kafka_record page" writes them): the same
# 200k results in 10k Kafka records, the truth of an offset prefix being
# the results of the pages before it.

use strict;
use warnings;

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use Test::More;
use Time::HiRes qw(sleep time);

use HotelConsumer;
use HotelKafka ();
use HotelRecords;
use HotelSuite;

needs(env => [qw(TEST_NGINX_KAFKA_BROKERS HOTEL_KAFKA_DIR HOTEL_TRENDS)],
      built => [qw(HOTEL_TRENDS)], tools => [qw(kcat sqlite3 protoc)]);
our $PAGE_RESULTS;              # set by t/201
my $PAGE = $PAGE_RESULTS || 0;
my ($uniq, $dir) = start_run($PAGE ? 'hotel-trends-201' : 'hotel-trends-200',
                             seed => 1);
my $t0 = time;

# ---------------------------------------------------------- the encoder

{
    my $v = encode_record(hotel_id => "h\xc3\xb4tel \"q\"", rate_micros => -5,
                          currency => 'EUR', search_time_ms => 1700000000123,
                          search_id => "s\x01\t", position => 300);

    # by hand from the wire format: tag, length or varint, bytes
    is unpack('H*', $v),
        '0a' . '0a' . unpack('H*', "h\xc3\xb4tel \"q\"")
        . '10' . 'fbffffffffffffffff01'
        . '1a03' . unpack('H*', 'EUR')
        . '20' . unpack('H*', varint(1700000000123))
        . '2a03' . '730109'
        . '30' . 'ac02',
        'encoder: bytes as the wire format spells them';

    # 123 + 80 << 7 + 21 << 14 + 127 << 21 + 60 << 28 + 49 << 35
    is unpack('H*', varint(1700000000123)), 'fbd095ffbc31',
        'encoder: a 41-bit varint';

    is HotelRecords::protoc_decode($v), <<'EOF', 'encoder: protoc --decode agrees';
hotel_id: "h\303\264tel \"q\""
rate_micros: -5
currency: "EUR"
search_time_ms: 1700000000123
search_id: "s\001\t"
position: 300
EOF

    is HotelRecords::protoc_decode(encode_page('s-1', 1700000000123,
                                               encode_record(hotel_id => 'x',
                                                             position => 2),
                                               encode_record(hotel_id => 'y')),
                                   'SearchPage'), <<'EOF',
search_id: "s-1"
search_time_ms: 1700000000123
results {
  hotel_id: "x"
  position: 2
}
results {
  hotel_id: "y"
}
EOF
        'encoder: protoc --decode agrees on a page';

    is HotelRecords::protoc_decode(encode_record(hotel_id => 'x',
                                                 rate_micros => 0,
                                                 position => 0)),
        qq{hotel_id: "x"\n}, 'encoder: zero fields are not written';

    is HotelRecords::protoc_decode(encode_record(
            hotel_id => 'h', rate_micros => -9223372036854775807 - 1,
            search_time_ms => -4611686018427387905)),
        "hotel_id: \"h\"\nrate_micros: -9223372036854775808\n"
        . "search_time_ms: -4611686018427387905\n",
        'encoder: int64 extremes (two\'s complement)';
}

# ------------------------------------------- kcat input is binary safe

{
    my $topic = create_topic("$uniq-kcat", 3);
    # every byte value, the usual delimiters, and a value that is all
    # newlines; keys with tabs and spaces
    my @recs = (
        [ "k\t1", join('', map { chr } 0 .. 255) ],
        [ 'k 2', "\n\n\n" ],
        [ 'k3', "a\tb\x00c\r\n" ],
        [ 'k4', encode_record(hotel_id => 'k4', rate_micros => -1) ],
    );
    push @recs, map { [ "key$_", encode_record(hotel_id => "key$_",
                                               rate_micros => $_ * 1000003,
                                               search_id => "\x{ff}" x $_) ] }
        1 .. 50;
    produce_records($topic, \@recs);
    my $back = HotelKafka::kcat_read_once($topic);
    is scalar @$back, scalar @recs, 'kcat: as many records read back';
    my %want = map { ("$_->[0]\0$_->[1]" => 1) } @recs;
    my $bad = grep { !delete $want{"$_->{key}\0$_->{value}"} } @$back;
    ok !$bad && !%want, 'kcat: keys and values read back byte for byte';
    is scalar(grep { ($_->{headers}{schema} // '')
                     eq 'hotelsearch.v1.HotelSearchResult'
                     && ($_->{headers}{'schema-version'} // '') eq '1' }
               @$back), scalar @recs, 'kcat: schema headers on every record';
    my %parts = map { ($_->{partition} => 1) } @$back;
    is scalar keys %parts, 3, 'kcat: records spread over partitions by key';
}

# ----------------------------------------------------------- the stream

my $N = $ENV{HOTEL_TEST_RECORDS} || 200_000;   # results
my $NRECS = $PAGE ? int(($N + $PAGE - 1) / $PAGE) : $N;   # Kafka records
my $KILLS = 8;                  # the consumer dies this often ...
my $CHUNKS = 2 * $KILLS;        # ... while the stream arrives in chunks
my @hours = (1, 2, 5, 23, 25, 40, 100, 190);  # hours before $now
my @currencies = qw(EUR USD GBP JPY CHF);
my $now = int(time / 3600) * 3600;            # report clock: an hour start

# hotels: mostly "hNNN", one UTF-8 id, one numeric, one with a space
my @hotels = map { sprintf 'h%03d', $_ } 0 .. 496;
push @hotels, "h\xc3\xb4tel-\xc3\xbc", '1234567', 'grand hotel';
my %home = map { $hotels[$_] => $currencies[$_ % @currencies] } 0 .. $#hotels;

my $stream = known_stream(
    records => $N, now => $now, hotels => \@hotels, hours => \@hours,
    currency => sub {
        rand() < 0.8 ? $home{$_[0]} : $currencies[rand @currencies]
    },
    rate => [20_000_000, 1_980_000_000], id => '%032x', positions => 25,
    page => $PAGE);
my ($bkey, $rate, $by_value) = @$stream{qw(bkey rate by_value)};
note sprintf '%d records encoded in %.1fs', $N, time - $t0;

my $topic = create_topic("$uniq-eo", 3);

# The stream arrives while the consumer comes and goes: a child produces
# it, two chunks at each restart, so that kills land at the head of a
# moving stream, in a catch-up after a restart, or while a member joins,
# however fast or slow the machine.
my $feeder = start_feeder($topic, delete $stream->{recs}, $CHUNKS, undef,
                          $PAGE ? (headers => $stream->{headers}) : ());

my $db = "$dir/trends.db";
my $log = "$dir/consumer.log";
my $group = "$uniq-g";
my $dbh = { sqlite => $db };

# kill modes: while joining (no partitions yet, or just claimed), or a
# random time after the partitions were claimed
my @modes = ((('join') x 3), (('assigned') x ($KILLS - 3)));
for (my $i = $#modes; $i > 0; $i--) {
    my $j = int rand($i + 1);
    @modes[$i, $j] = @modes[$j, $i];
}

my @snap;                       # what each kill left behind
for my $k (1 .. $KILLS) {
    my $bs = (37, 100, 250, 1000)[rand 4];
    my $runlog = "$dir/consumer.$k.log";
    my $pid = consumer_start(topic => $topic, group => $group, db => $db,
                             log => $runlog,
                             args => [ '--batch-size', $bs,
                                       '--batch-time', 300 ]);
    my $how;
    my $t = time;
    if ($modes[$k - 1] eq 'join') {
        $feeder->feed(2);
        my $d = 0.2 + rand 2.5;
        sleep $d;
        $how = sprintf 'joining, %.1fs after start', $d;
    } else {
        sleep 0.05 until time - $t > 30 || !consumer_alive($pid)
            || log_tail($runlog, 1000) =~ /: lease \d+/;
        # the records arrive while the member catches up and runs
        $feeder->feed(2);
        my $d = rand 2;
        sleep $d;
        $how = sprintf '%.1fs after the claim', $d;
    }
    ok consumer_alive($pid), "kill $k: consumer still running ($how)"
        or diag log_tail($runlog);
    my $st = consumer_stop($pid, 'KILL', 10);
    is $st // -1, 9, "kill $k: SIGKILLed (batch size $bs, $how)";
    push @snap, { %{ db_snapshot($dbh, $topic) }, how => $how };
    system "cat '$runlog' >> '$log'";
}

is $feeder->finish(120), 0, "$NRECS records produced in $CHUNKS chunks";
cmp_ok $feeder->{busy} // 999, '<', 30, sprintf 'kcat took %.1fs for %d '
    . 'records (in %d calls)', $feeder->{busy} // -1, $NRECS, $CHUNKS;

# Where each record landed: the truth of a prefix of each partition is
# what the database must hold next to that partition's offset.
my ($at, $nback, $unknown) = stream_positions($topic, $by_value);
is $nback, $NRECS, "all $NRECS records read back from the topic";
ok !$unknown && !%$by_value, 'every record once, as produced';

sub truth_of_prefix { prefix_truth($at, $bkey, $rate, $_[0]) }

my @end = map { scalar @{ $at->[$_] || [] } } 0 .. 2;
my $truth = truth_of_prefix(\@end);
note sprintf '%d (hotel, currency, hour) buckets', scalar keys %$truth;

# the state each restarted member found
my (@at_kill, $grew);
for my $k (1 .. $KILLS) {
    my $s = $snap[$k - 1];
    my @off = @{ $s->{off} }[0 .. 2];
    my $p = records_before(\@off);
    $grew++ if $p > ($at_kill[-1] // 0);
    push @at_kill, $p;
    my $want = truth_of_prefix(\@off);
    my @diff = compare_aggregates($s->{agg}, $want || {});
    ok $want && !@diff, "kill $k ($s->{how}): database holds exactly the "
        . "$p records before its offsets (@{[ map { $_ // '-' } @off ]})"
        or diag join "\n", @diff;
}
note "records in the database at each kill: @at_kill";
cmp_ok scalar(grep { $_ > 0 && $_ < $NRECS } @at_kill), '>=', 4,
    'at least 4 kills landed in the middle of the stream';
cmp_ok $grew // 0, '>=', 3, 'at least 3 killed members had written batches';

# Idle means idle on the partitions held: a member killed just before
# may still hold some until its 6 s session expires, and a run that
# exits 3 s after finishing the rest would leave them unread (seen in
# t/201, whose pages go fast).  Idle for longer than the session timeout.
my $pid = consumer_start(topic => $topic, group => $group, db => $db,
                         log => $log, args => [ '--exit-idle', 8 ]);
my $st = consumer_wait($pid, 150);
is $st, 0, 'last run: --exit-idle exits 0' or diag log_tail($log);

check_end_state($dbh, $topic, $truth, \@end);
is sqlite_rows($db, 'SELECT sum(count) FROM hotel_rate_hourly')->[0][0], $N,
    "$N results counted";
# every claim bumped its partition's lease: the epochs the members logged
# rise (a member killed between its claim and its log line leaves a gap)
# and the last one logged is the database's
{
    my (%seen, $bad);
    my $all = log_tail($log, 1e6);
    while ($all =~ /partition (\d+): lease (\d+)/g) {
        $bad++ if @{ $seen{$1} || [] } && $2 <= $seen{$1}[-1];
        push @{ $seen{$1} }, $2;
    }
    my $db_epochs = { map { $_->[0] => $_->[1] }
                      @{ sqlite_rows($db, 'SELECT partition, lease_epoch'
                                     . " FROM kafka_offsets WHERE topic = '$topic'") } };
    is_deeply { map { $_ => $seen{$_}[-1] } keys %seen }, $db_epochs,
        'the last lease each partition logged is the database\'s';
    ok !$bad && 3 == grep({ @{ $seen{$_} } >= 3 } keys %seen),
        'leases rise with every claim, each partition claimed again and '
        . 'again (' . join('; ', map { "$_: @{ $seen{$_} }" }
                               sort keys %seen) . ')';
}

# the report, from the same rows, against our own arithmetic
{
    my $want = check_report_csv($db, $truth, $now);
    ok scalar(grep { /,[+-]\d+\.\d%,/ } @$want) > 100,
        'the report has 24h trends to compare';
}

note sprintf 'done in %.0fs', time - $t0;
done_testing;
