package HotelSuite;

# For the suites that run their programs themselves (t/051, t/055, t/060,
# t/2*.t): what a suite needs, else it is skipped; its random choices,
# seeded so that a run can be replayed; unique names and a folder of its
# own; and waiting for a condition.
#
#     needs(env   => [qw(TEST_NGINX_KAFKA_BROKERS HOTEL_TRENDS)],
#           built => [qw(HOTEL_TRENDS)],          # executables they name
#           tools => [qw(kcat sqlite3)]);         # on PATH
#     my ($uniq, $dir) = start_run('hotel-trends-200', seed => 1);
#     wait_until(sub { ... }, 30) or fail(...);  # polled every 0.1 s
#
# needs() ends the suite with "plan skip_all" at the first thing missing.
# start_run() seeds Perl's rand with HOTEL_TEST_SEED, or a fresh seed that
# it shows (HOTEL_TEST_SEED=N replays that run's choices); then draws a
# prefix for topic and group names ("$TEST_NGINX_RUN_ID-N") and makes a
# temporary folder, removed at the end unless HOTEL_TEST_KEEP is set.
# (File::Temp draws from rand too: both come after the seed, in this
# order, so that a seed gives the same stream.)

use strict;
use warnings;

use Exporter 'import';
use File::Temp qw(tempdir);
use Test::More ();
use Time::HiRes qw(sleep time);

our @EXPORT = qw(needs start_run have_tool);
our @EXPORT_OK = qw(wait_until);

sub have_tool {
    my $tool = shift;
    return scalar grep { -x "$_/$tool" } split /:/, $ENV{PATH};
}

sub needs {
    my %o = @_;
    for my $v (@{ $o{env} || [] }) {
        Test::More::plan(skip_all => "$v is not set (run through "
                                     . 'scripts/test)') unless $ENV{$v};
    }
    for my $v (@{ $o{built} || [] }) {
        Test::More::plan(skip_all => "$ENV{$v} is not built")
            unless -x $ENV{$v};
    }
    for my $tool (@{ $o{tools} || [] }) {
        Test::More::plan(skip_all => "$tool is not installed")
            unless have_tool($tool);
    }
}

sub start_run {
    my ($tag, %o) = @_;
    if ($o{seed}) {
        my $seed = $ENV{HOTEL_TEST_SEED} || ((time * 1000 ^ $$) % 1000000);
        srand $seed;
        Test::More::note("seed $seed (HOTEL_TEST_SEED=$seed replays these "
                         . 'choices)');
    }
    my $run = $ENV{TEST_NGINX_RUN_ID} || "r$$";
    my $uniq = sprintf '%s-%d', $run, int rand 1e9;
    my $dir = tempdir("$tag-XXXXXX", TMPDIR => 1,
                      CLEANUP => !$ENV{HOTEL_TEST_KEEP});
    return ($uniq, $dir);
}

# True once $cond->() is, false if it still is not after $timeout seconds.
sub wait_until {
    my ($cond, $timeout) = @_;
    my $deadline = time + $timeout;
    while (time < $deadline) {
        return 1 if $cond->();
        sleep 0.1;
    }
    return $cond->() ? 1 : 0;
}

1;
