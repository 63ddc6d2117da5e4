# hotel-trends report --format html, in a real browser.
#
# A known stream in minute buckets (--bucket 60) over the last twenty
# minutes: hotels whose rates rise or fall by known steps, one with an
# id HTML must escape ("b&b-21"), one with two searches a window that
# --min-count keeps off the page.  The page of the last ten minutes
# against the ten before is rendered by Debian's chromium, headless:
#
#   - the DOM after load: the risers and the fallers are those the
#     reference computed here from the records (HotelConsumer's
#     report_movers(): the ends of the exact order by trend), in its
#     order, each card with its trend and its two averages as the
#     reference has them, a chart each, the table of the same lines;
#   - the console: not one message (the page has no script, and its
#     Content-Security-Policy makes any load from elsewhere a console
#     error); the same page with an image from an address added does
#     show one, so that the check is known to see them;
#   - a screenshot: its size, and pixels of the rise and fall colours,
#     so that what shows is neither blank nor uncoloured.

use strict;
use warnings;

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use Test::More;
use Time::HiRes qw(time);

use HotelBrowser;
use HotelConsumer;
use HotelRecords;
use HotelSuite;

needs(env => [qw(TEST_NGINX_KAFKA_BROKERS HOTEL_KAFKA_DIR HOTEL_TRENDS)],
      built => [qw(HOTEL_TRENDS)]);
plan skip_all => 'chromium is not installed (scripts/deps)'
    unless chromium_path();
my ($uniq, $dir) = start_run('hotel-trends-260');
my $t0 = time;

my ($M, $W) = (60, 600);
my $now = int(time / $M) * $M;

# ------------------------------------------------------------ the stream

srand 260;
my @recs;
my @ids = map { sprintf '%s-%02d', (qw(lis ams par rom))[$_ % 4], $_ }
          0 .. 23;
$ids[21] = 'b&b-21';                # among the steepest falls
for my $i (0 .. $#ids) {
    # a step per minute from -1.5% to +1.5%, the same for every hotel
    # in a row of four: some rise, some fall, one is flat
    my $step = (($i % 7) - 3) * 0.005;
    my $base = 80 + 10 * $i;
    for my $m (1 .. 20) {
        my $t = $now - $m * $M;
        for (1 .. 1 + int rand 4) {
            my $rate = $base * (1 - $step * $m) * (0.995 + rand 0.01);
            push @recs, { hotel_id => $ids[$i], currency => 'EUR',
                          search_time_ms => ($t + int rand $M) * 1000,
                          rate_micros => int($rate * 100) * 10000 };
        }
    }
}
for my $m (1, 15) {
    push @recs, map { { hotel_id => 'spike', currency => 'EUR',
                        search_time_ms => ($now - $m * $M + $_) * 1000,
                        rate_micros => $m == 1 ? 500_000_000 : 100_000_000 } }
                1 .. 2;
}

my $topic = create_topic("$uniq-html", 3);
produce_records($topic, [ map { [ $_->{hotel_id},
                                  encode_record(%$_, search_id => 's') ] }
                          @recs ]);

my $db = "$dir/html.db";
my $log = "$dir/html.log";
my $pid = consumer_start(topic => $topic, group => "$uniq-g", db => $db,
                         log => $log, args => [ '--exit-idle', 2,
                                                '--bucket', 60 ]);
my $st = consumer_wait($pid, 120);
is $st, 0, 'the stream consumed' or diag log_tail($log);

# the reference: minute buckets
my %truth;
for my $r (@recs) {
    my $s = int($r->{search_time_ms} / 1000);
    my $k = join "\0", $r->{hotel_id}, 'EUR', $s - $s % $M;
    my $a = $truth{$k} ||= [0, 0, $r->{rate_micros}, $r->{rate_micros}];
    $a->[0]++;
    $a->[1] += $r->{rate_micros};
    $a->[2] = $r->{rate_micros} if $r->{rate_micros} < $a->[2];
    $a->[3] = $r->{rate_micros} if $r->{rate_micros} > $a->[3];
}
my $lines = report_lines(\%truth, now => $now, window => $W);
my ($up, $down) = report_movers($lines, sort => 'trend', top => 5,
                                min_count => 3);
ok @$up == 5 && @$down == 5, 'the reference has 5 risers and 5 fallers';

# ------------------------------------------------------------ the page

my $page = "$dir/trends.html";
system("'$ENV{HOTEL_TRENDS}' report -d '$db' --format html --window $W"
       . " --now $now --top 5 --min-count 3 > '$page'");
is $?, 0, 'report --format html exits 0';
my $html = HotelBrowser::slurp($page);
unlike $html, qr/\b(?:src|href)=|<script|<link|\@import|url\(/i,
    'the page names nothing to load: no src, href, script, link or url()';

# the DOM after load
my $r = chromium(url => "file://$page", dump_dom => 1);
is $r->{status}, 0, 'chromium --dump-dom exits 0';
my $dom = $r->{stdout};
is_deeply $r->{console}, [], 'the console says nothing'
    or diag join "\n", @{ $r->{console} };

sub unescape {
    my $s = shift;
    $s =~ s/&lt;/</g;
    $s =~ s/&gt;/>/g;
    $s =~ s/&quot;/"/g;
    $s =~ s/&#39;/'/g;
    $s =~ s/&amp;/&/g;
    return $s;
}

# the cards of a side, as the browser holds them
sub cards {
    my $side = shift;
    my ($part) = $dom =~ /<div class="side" id="$side">(.*?)<\/ol>/s
        or return [];
    my @c;
    while ($part =~ m{<li\ class="card\ (up|down)"\ data-hotel="([^"]*)"
                      .*?<span\ class="name">([^<]*)</span>
                      .*?<div\ class="trend"><span[^>]*>[^<]*</span>\s*
                      ([^<]*)</div>
                      .*?<div\ class="avgs"><b>([^<]*)</b>,\ was\x20
                      ([^<]*)<br>
                      .*?<svg\ class="chart"}sgx)
    {
        push @c, { dir => $1, hotel => unescape($2), name => unescape($3),
                   trend => $4, now => $5, before => $6 };
    }
    return \@c;
}

sub want_cards {
    my ($lines, $dir) = @_;
    return [ map {
        my $L = $_->{win};
        { dir => $dir, hotel => $_->{hotel}, name => $_->{hotel},
          trend => trend_permille($L->{d}[1], $L->{d}[0], $L->{pd}[1],
                                  $L->{pd}[0]),
          now => money_cents($L->{d}[1], $L->{d}[0]) . ' EUR',
          before => money_cents($L->{pd}[1], $L->{pd}[0]) }
    } @$lines ];
}

is_deeply cards('risers'), want_cards($up, 'up'),
    'risers: the reference\'s, in its order, trends and averages'
    or diag explain cards('risers');
is_deeply cards('fallers'), want_cards($down, 'down'),
    'fallers: the reference\'s, the biggest fall first'
    or diag explain cards('fallers');
ok !grep({ $_->{hotel} eq 'spike' } @{ cards('risers') }),
    'two searches a window are not on the page (--min-count 3)';
ok grep({ $_->{hotel} eq 'b&b-21' && $_->{name} eq 'b&b-21' }
        @{ cards('fallers') }), 'an id with & shows as itself';

my @rows = $dom =~ /<tbody>(.*?)<\/tbody>/s ? ($1 =~ /<tr>/g) : ();
is scalar @rows, 10, 'the table: a row per card';
like $dom, qr{<title>Hotel\ price\ trends:\ the\ last\ 10\ minutes,
                \ \d{4}-\d\d-\d\d\ \d\d:\d\d\ to\ \d\d:\d\d\ UTC</title>}x,
    'the title says the window, in UTC';

# the check sees console errors: the same page, one image from elsewhere
(my $bad = $html) =~ s/<\/main>/<img src="http:\/\/127.0.0.1:9\/x.png"><\/main>/;
open my $fh, '>', "$dir/bad.html" or die;
print $fh $bad;
close $fh;
$r = chromium(url => "file://$dir/bad.html", dump_dom => 1);
ok scalar(grep { /Content Security Policy/ } @{ $r->{console} }),
    'a page that tries to load from elsewhere: the console says so'
    or diag $r->{stderr};

# a screenshot: the size asked for, not blank, both colours
$r = chromium(url => "file://$page", screenshot => "$dir/page.png",
              size => '1100,1200');
is $r->{status}, 0, 'chromium --screenshot exits 0';
my $png = png_read("$dir/page.png");
is "$png->{width}x$png->{height}", '1100x1200', 'the screenshot\'s size';
my $c = $png->{colours};
my $bg = $c->{f9fafb} || 0;
cmp_ok $bg, '<', 0.9 * 1100 * 1200, 'not blank: the background is '
    . sprintf('%.0f%%', 100 * $bg / (1100 * 1200)) . ' of it';
cmp_ok scalar(keys %$c), '>', 100, 'many colours (text, charts)';
cmp_ok $c->{b42318} || 0, '>', 2000,
    'the rises\' red shows (' . ($c->{b42318} || 0) . ' pixels)';
cmp_ok $c->{'067647'} || 0, '>', 2000,
    'the falls\' green shows (' . ($c->{'067647'} || 0) . ' pixels)';

note sprintf 'done in %.0fs', time - $t0;
done_testing;
