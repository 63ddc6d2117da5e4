package HotelBrowser;

# A real browser for the suites that check a page: Debian's chromium,
# headless, started afresh for each look (a new empty profile, nothing
# fetched from the network: the flags that work on a closed machine),
# and stopped by its PID if it hangs.  What the browser shows is read
# three ways: the DOM after load (--dump-dom), the console messages
# (--enable-logging=stderr: each is a ":CONSOLE" line), and a
# screenshot, decoded here (a small PNG reader of our own: zlib from
# Perl's core, the five row filters of the PNG specification) so that a
# suite can count the pixels of a colour.
#
#     my $r = chromium(url => "file://$page", dump_dom => 1);
#     $r->{stdout}, $r->{console} (a list of messages), $r->{status}
#     my $r = chromium(url => ..., screenshot => "$dir/page.png",
#                      size => '1200,1400');
#     my $png = png_read("$dir/page.png");   # { width, height, colours }
#     $png->{colours}{'b42318'}               # pixels of that colour

use strict;
use warnings;

use Compress::Zlib ();
use Exporter 'import';
use File::Temp qw(tempdir);
use POSIX ();
use Time::HiRes qw(sleep time);

our @EXPORT = qw(chromium_path chromium png_read);

sub chromium_path {
    for my $p (split /:/, $ENV{PATH}) {
        return "$p/chromium" if -x "$p/chromium";
    }
    return undef;
}

# Runs chromium once; returns { status, stdout, stderr, console => [...] }.
sub chromium {
    my %o = @_;
    my $bin = chromium_path() or die "chromium is not installed\n";
    my $profile = tempdir('hotel-chromium-XXXXXX', TMPDIR => 1,
                          CLEANUP => 1);
    my @cmd = ($bin, '--headless', '--no-sandbox', '--disable-gpu',
               '--disable-quic', '--no-first-run',
               '--disable-background-networking',
               '--disable-component-update', '--disable-sync',
               '--disable-dev-shm-usage', '--hide-scrollbars',
               '--force-device-scale-factor=1',
               "--user-data-dir=$profile",
               '--enable-logging=stderr', '--v=0');
    push @cmd, '--dump-dom' if $o{dump_dom};
    push @cmd, "--screenshot=$o{screenshot}" if $o{screenshot};
    push @cmd, "--window-size=$o{size}" if $o{size};
    push @cmd, $o{url};

    my $out = "$profile/stdout";
    my $err = "$profile/stderr";
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out or POSIX::_exit(126);
        open STDERR, '>', $err or POSIX::_exit(126);
        # its own process group: a hung browser is stopped whole
        setpgrp 0, 0;
        exec @cmd or POSIX::_exit(127);
    }
    my $deadline = time + ($o{timeout} || 90);
    my $status;
    while (1) {
        my $r = waitpid $pid, POSIX::WNOHANG();
        if ($r == $pid) {
            $status = $?;
            last;
        }
        if (time > $deadline) {
            kill 'KILL', -$pid;
            waitpid $pid, 0;
            $status = -1;
            last;
        }
        sleep 0.1;
    }
    my %r = (status => $status, stdout => slurp($out),
             stderr => slurp($err));
    $r{console} = [ map { /:CONSOLE[^\]]*\] (.*)$/ ? $1 : () }
                    split /\n/, $r{stderr} ];
    return \%r;
}

sub slurp {
    my $f = shift;
    open my $fh, '<:raw', $f or return '';
    local $/;
    return <$fh> // '';
}

# Decodes an 8-bit RGB or RGBA PNG, not interlaced (what chromium
# writes): { width, height, colours => { 'rrggbb' => pixels } }.
sub png_read {
    my $file = shift;
    my $png = slurp($file);
    die "$file: not a PNG\n" unless substr($png, 0, 8) eq "\x89PNG\r\n\x1a\n";
    my ($pos, $idat, %h) = (8, '');
    while ($pos < length $png) {
        my ($len, $type) = unpack 'N a4', substr($png, $pos, 8);
        my $data = substr($png, $pos + 8, $len);
        $pos += 12 + $len;
        if ($type eq 'IHDR') {
            @h{qw(width height depth ctype comp filter interlace)} =
                unpack 'N N C C C C C', $data;
        } elsif ($type eq 'IDAT') {
            $idat .= $data;
        }
    }
    die "$file: only 8-bit RGB or RGBA, not interlaced\n"
        unless $h{depth} == 8 && ($h{ctype} == 2 || $h{ctype} == 6)
               && !$h{interlace};
    my $raw = Compress::Zlib::uncompress($idat);
    die "$file: bad image data\n" unless defined $raw;

    my $bpp = $h{ctype} == 6 ? 4 : 3;
    my $stride = $h{width} * $bpp;
    my @prev = (0) x $stride;
    my %colours;
    for my $y (0 .. $h{height} - 1) {
        my $off = $y * ($stride + 1);
        my $f = ord substr($raw, $off, 1);
        my @cur = unpack 'C*', substr($raw, $off + 1, $stride);
        if ($f == 1) {
            $cur[$_] = ($cur[$_] + $cur[$_ - $bpp]) & 0xff
                for $bpp .. $stride - 1;
        } elsif ($f == 2) {
            $cur[$_] = ($cur[$_] + $prev[$_]) & 0xff for 0 .. $stride - 1;
        } elsif ($f == 3) {
            for my $i (0 .. $stride - 1) {
                my $left = $i >= $bpp ? $cur[$i - $bpp] : 0;
                $cur[$i] = ($cur[$i] + (($left + $prev[$i]) >> 1)) & 0xff;
            }
        } elsif ($f == 4) {
            for my $i (0 .. $stride - 1) {
                my $a = $i >= $bpp ? $cur[$i - $bpp] : 0;
                my $c = $i >= $bpp ? $prev[$i - $bpp] : 0;
                my $b = $prev[$i];
                my $p = $a + $b - $c;
                my ($pa, $pb, $pc) = (abs($p - $a), abs($p - $b),
                                      abs($p - $c));
                $cur[$i] = ($cur[$i] + ($pa <= $pb && $pa <= $pc ? $a
                                        : $pb <= $pc ? $b : $c)) & 0xff;
            }
        } elsif ($f != 0) {
            die "$file: row $y has filter $f\n";
        }
        my $row = pack 'C*', @cur;
        for (my $i = 0; $i < $stride; $i += $bpp) {
            $colours{ unpack 'H6', substr($row, $i, 3) }++;
        }
        @prev = @cur;
    }
    return { width => $h{width}, height => $h{height},
             colours => \%colours };
}

1;
