# Self-test of t/lib/HotelKafka.pm against a real broker: produce records
# with protoc --encode and kcat (not with our C code), read them back with
# kafka_read and check every field. Needs TEST_NGINX_KAFKA_BROKERS.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Temp qw(tempdir);
use Test::More;
use HotelKafka;

plan skip_all => 'TEST_NGINX_KAFKA_BROKERS is not set'
    unless $ENV{TEST_NGINX_KAFKA_BROKERS};

my $root = "$FindBin::Bin/..";
my $proto_dir = $ENV{HOTEL_PROTO_DIR} || "$root/proto";
$ENV{TEST_NGINX_RUN_ID} ||= "hk$$";

my $topic = kafka_topic('readback-' . time);
my $tmp = tempdir(CLEANUP => 1);

# Encode a text-format HotelSearchResult, produce it as one record. kcat
# skips empty files and empty lines, so an empty value ("" text) or a NULL
# one (undef text) is sent as "key:" on stdin with -K (and -Z for NULL).
my $n = 0;
sub produce {
    my ($text, $key, @headers) = @_;
    my @cmd = ('kcat', '-P', '-b', kafka_brokers(), '-t', $topic, '-p', '0',
               map { ('-H', $_) } @headers);
    if (!defined $text || $text eq '') {
        push @cmd, '-K', ':', (defined $text ? () : '-Z');
        open my $p, '|-', @cmd or die "kcat: $!";
        print $p "$key:\n";
        close $p or die "kcat -P failed: @cmd\n";
        return;
    }
    my $file = "$tmp/rec" . $n++;
    open my $enc, '|-', "protoc --encode=hotelsearch.v1.HotelSearchResult"
        . " -I '$proto_dir' '$proto_dir/hotel_search_result.proto'"
        . " > '$file'" or die "protoc: $!";
    print $enc $text;
    close $enc or die "protoc --encode failed for: $text\n";
    system(@cmd, '-k', $key, $file) == 0 or die "kcat -P failed: @cmd\n";
}

my @schema = ('schema=hotelsearch.v1.HotelSearchResult', 'schema-version=1');

produce('hotel_id: "h1" rate_micros: 129990000 currency: "EUR" '
        . 'search_time_ms: 1767225600123 search_id: "req-1" position: 0',
        'h1', @schema);
# rate_micros 10 encodes as the byte 0x0a: a newline inside the value.
produce('hotel_id: "h2" rate_micros: 10 currency: "USD" '
        . 'search_time_ms: 1767225600123 search_id: "req-1" position: 1',
        'h2', @schema);
# Escapes and UTF-8 in strings, a large int64.
produce('hotel_id: "H\\303\\264tel \\"7\\"\\\\x" '
        . 'rate_micros: 9223372036854775807 currency: "JPY" '
        . 'search_time_ms: 1 search_id: "id with space" position: 4294967295',
        "H\xc3\xb4tel", @schema);
# All fields zero: proto3 writes nothing, an empty value.
produce('', 'zero', @schema);
# A NULL value (a tombstone), no headers.
produce(undef, 'tomb');

my @recs = kafka_read($topic, expect => 5, timeout => 30);
is(scalar @recs, 5, 'five records read back');

is_deeply([ map { $_->{offset} } @recs ], [0 .. 4], 'offsets in order');
is_deeply([ map { $_->{partition} } @recs ], [(0) x 5], 'partition 0');

my %want = (
    hotel_id => 'h1', rate_micros => 129990000, currency => 'EUR',
    search_time_ms => 1767225600123, search_id => 'req-1', position => 0,
    key => 'h1',
);
is($recs[0]{$_}, $want{$_}, "record 0: $_") for sort keys %want;
is_deeply($recs[0]{headers},
          { 'schema' => 'hotelsearch.v1.HotelSearchResult',
            'schema-version' => '1' }, 'record 0: headers');

is($recs[1]{rate_micros}, 10, 'record 1: value containing a newline byte');
is($recs[1]{position}, 1, 'record 1: position');
is($recs[1]{key}, 'h2', 'record 1: key');

is($recs[2]{hotel_id}, "H\xc3\xb4tel \"7\"\\x", 'record 2: escaped hotel_id');
is($recs[2]{rate_micros}, '9223372036854775807', 'record 2: int64 max');
is($recs[2]{position}, 4294967295, 'record 2: uint32 max');
is($recs[2]{search_id}, 'id with space', 'record 2: search_id');
is($recs[2]{key}, "H\xc3\xb4tel", 'record 2: UTF-8 key bytes');

is_deeply([ map { $recs[3]{$_} } qw(hotel_id rate_micros currency
                                    search_time_ms search_id position) ],
          ['', 0, '', 0, '', 0], 'record 3: zero fields default');
is($recs[3]{value}, '', 'record 3: empty value');

ok(!defined $recs[4]{value}, 'record 4: NULL value');
is($recs[4]{key}, 'tomb', 'record 4: key');
is_deeply($recs[4]{headers}, {}, 'record 4: no headers');
is($recs[4]{hotel_id}, '', 'record 4: decodes as all zero');

# The comparison helpers.
kafka_expect_records($topic, [
    { hotel_id => 'h2', currency => 'USD' },
    { hotel_id => 'h1', rate_micros => 129990000, 'header.schema-version' => 1 },
    { key => 'zero' },
    { search_id => qr/^id with/ },
    { hotel_id => '' },
], name => 'kafka_expect_records');

my ($missing, $extra) = HotelKafka::compare_records(\@recs, [
    { hotel_id => 'h1' }, { hotel_id => 'h1' }, { hotel_id => 'nope' },
]);
is(scalar @$missing, 2, 'compare: duplicate and unknown expectations missing');
is(scalar @$extra, 4, 'compare: unclaimed records are extra');

# A loose expectation first must not take the record a specific one needs.
($missing, $extra) = HotelKafka::compare_records(
    [ { hotel_id => 'a', position => 2 }, { hotel_id => 'a', position => 0 } ],
    [ { hotel_id => 'a' }, { hotel_id => 'a', position => 2 } ]);
ok(!@$missing && !@$extra, 'compare: matching is not greedy');

is_deeply(HotelKafka::parse_kafka_records_section(
              qq{hotel_id=h1 rate_micros=5 position=0\n}
              . qq{# comment\n\nhotel_id="a \\"b\\"" header.schema-version=1\n}),
          [ { hotel_id => 'h1', rate_micros => 5, position => 0 },
            { hotel_id => 'a "b"', 'header.schema-version' => 1 } ],
          'kafka_records section syntax');

my @none = kafka_read(kafka_topic('no-such-topic-' . time), timeout => 1);
is(scalar @none, 0, 'a topic that does not exist reads as empty');

done_testing();
