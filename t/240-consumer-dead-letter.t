# hotel-trends consume --dead-letter: every refused record is copied, key,
# value and headers as they were, with its reason and origin, and the good
# records around it are counted as usual.  A page record (a SearchPage)
# with a refused result: the result is refused under its reason, the
# page's other results counted, and the page copied once, whole; a page
# that is no SearchPage is one undecodable record.

use strict;
use warnings;

use File::Temp qw(tempdir);
use FindBin;
use Test::More;

my ($brokers, $trends, $kafka_dir) =
    @ENV{qw(TEST_NGINX_KAFKA_BROKERS HOTEL_TRENDS HOTEL_KAFKA_DIR)};

plan skip_all => 'needs TEST_NGINX_KAFKA_BROKERS, HOTEL_TRENDS and '
               . 'HOTEL_KAFKA_DIR (scripts/test sets them)'
    unless $brokers && $trends && $kafka_dir;

my $root = "$FindBin::Bin/..";
my $proto = "$root/proto";
my $run = $ENV{TEST_NGINX_RUN_ID} || "dl$$";
my $topic = "$run-dl-source";
my $dlq = "$run-dl-poison";
my $dir = tempdir(CLEANUP => 1);

system("$root/scripts/kafka", 'topic', $kafka_dir, $topic, 1) == 0
    or BAIL_OUT("cannot create $topic");

sub encode {
    my ($text, $file, $message) = @_;
    $message //= 'HotelSearchResult';
    open my $p, '|-', "protoc --encode=hotelsearch.v1.$message"
                    . " -I $proto $proto/hotel_search_result.proto > $file"
        or die $!;
    print $p $text;
    close $p or die "protoc --encode failed";
}

sub produce {
    my ($key, $file, @headers) = @_;
    system('kcat', '-P', '-b', $brokers, '-t', $topic, '-p', '0', '-k', $key,
           (map { ('-H', $_) } @headers), $file) == 0 or die "kcat -P";
}

my $now = time * 1000;
my @schema = ('schema=hotelsearch.v1.HotelSearchResult', 'schema-version=1');

encode("hotel_id: \"good-1\" rate_micros: 100000000 currency: \"EUR\" "
       . "search_time_ms: $now", "$dir/good1");
encode("hotel_id: \"neg\" rate_micros: -5 currency: \"EUR\" "
       . "search_time_ms: $now", "$dir/neg");
open my $g, '>', "$dir/garbage" or die $!;
print $g "\xff\xfe not a protobuf";
close $g;
encode("hotel_id: \"good-2\" rate_micros: 200000000 currency: \"EUR\" "
       . "search_time_ms: $now", "$dir/good2");

produce('good-1', "$dir/good1", @schema);                # offset 0
produce('neg', "$dir/neg", @schema, 'trace=t-42');      # offset 1
produce('junk', "$dir/garbage");                        # offset 2
produce('good-2', "$dir/good2", @schema);                # offset 3

my @page = ('schema=hotelsearch.v1.SearchPage', 'schema-version=1');
encode("search_id: \"p-1\" search_time_ms: $now"
       . " results { hotel_id: \"good-3\" rate_micros: 300000000"
       . " currency: \"EUR\" }"
       . " results { hotel_id: \"page-neg\" rate_micros: 0"
       . " currency: \"EUR\" position: 1 }"
       . " results { hotel_id: \"good-4\" rate_micros: 400000000"
       . " currency: \"EUR\" position: 2 }"
       . " results { hotel_id: \"page-cur\" rate_micros: 5"
       . " currency: \"E1\" position: 3 }", "$dir/page", 'SearchPage');
produce('page-a', "$dir/page", @page);                  # offset 4
produce('page-junk', "$dir/garbage", @page);            # offset 5

my $db = "$dir/trends.db";
is(system($trends, 'consume', '-b', $brokers, '-t', $topic,
          '-g', "$run-dl-group", '-d', $db, '--dead-letter', $dlq,
          '--exit-idle', '3'), 0, 'consume with --dead-letter exits 0');

my $counted = `sqlite3 $db 'SELECT SUM(count), SUM(sum_micros) FROM hotel_rate_hourly'`;
chomp $counted;
is($counted, '4|1000000000',
   'the two good records and the page\'s two good results are counted');

my $rejected = `sqlite3 $db 'SELECT reason, count FROM rejected_records ORDER BY reason'`;
is($rejected, "bad_currency|1\nbad_rate|2\nundecodable|2\n",
   'the refusals are counted: records, a page\'s results, a page');

# the copies, read back with kcat: key, value and every header
my @copies = `kcat -C -b $brokers -t $dlq -o beginning -e -q -f '%k|%h|%S\\n'`;
chomp @copies;
is(scalar @copies, 4, 'four records in the dead-letter topic (the page '
   . 'with two refused results once)');

my %by_key = map { (split /\|/)[0] => $_ } @copies;

like($by_key{neg} // '', qr/schema=hotelsearch\.v1\.HotelSearchResult/,
     'the original headers are kept');
like($by_key{neg} // '', qr/trace=t-42/, 'a header of the producer is kept');
like($by_key{neg} // '', qr/hotel-trends-reason=bad_rate/, 'reason bad_rate');
like($by_key{neg} // '', qr/source-topic=\Q$topic\E,source-partition=0,source-offset=1/,
     'origin of the negative rate');
like($by_key{junk} // '', qr/hotel-trends-reason=undecodable/,
     'reason undecodable');
like($by_key{junk} // '', qr/source-offset=2\|/, 'origin of the garbage');

like($by_key{'page-a'} // '', qr/schema=hotelsearch\.v1\.SearchPage/,
     'the page copied with its headers');
like($by_key{'page-a'} // '', qr/hotel-trends-reason=bad_rate/,
     'the page under its first refused result\'s reason');
like($by_key{'page-a'} // '', qr/source-offset=4\|/, 'origin of the page');
like($by_key{'page-junk'} // '', qr/hotel-trends-reason=undecodable/,
     'a page that is no SearchPage: undecodable');

my $value = `kcat -C -b $brokers -t $dlq -o beginning -e -q -f '%k %s\\n'`;
like($value, qr/^junk \xff\xfe not a protobuf$/m, 'the value is kept byte for byte');

done_testing();
