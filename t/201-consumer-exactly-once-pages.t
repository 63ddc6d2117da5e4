# hotel-trends consume, exactly once under crashes, on page records: the
# kill loop of t/200 (8 SIGKILLs at random points, a prefix of each
# partition exact after each) on 200k results in SearchPage records of
# 20 results each, as "hotel_kafka_record page" writes them.  A page is
# counted whole or not at all: the truth of an offset is the results of
# the pages before it.

use strict;
use warnings;
use FindBin;

our $PAGE_RESULTS = 20;

my $suite = "$FindBin::Bin/200-consumer-exactly-once.t";
do $suite;
die "$suite: $@" if $@;
