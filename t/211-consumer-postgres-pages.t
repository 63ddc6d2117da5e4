# hotel-trends consume into PostgreSQL on page records: t/210's two
# members, restarts, kills, zombie and database crash on 120k results in
# SearchPage records of 20, as "hotel_kafka_record page" writes them.
# Page records have no key: both members update the same hotels' rows
# at once, and must neither deadlock nor lose or double a result.

use strict;
use warnings;
use FindBin;

our $PAGE_RESULTS = 20;

my $suite = "$FindBin::Bin/210-consumer-postgres.t";
do $suite;
die "$suite: $@" if $@;
