# The Debian packages, the way a Debian user meets them: `make deb`,
# lintian, `apt-get install ./*.deb` on this machine, the module enabled
# in /etc/nginx/modules-enabled and accepted by `nginx -t` on Debian's
# stock nginx.conf plus a search vhost, the packaged module producing
# records from a private nginx of ours, the consumer run from its unit's
# ExecStart line (as its system user, against the test broker, into a
# temporary database) and its aggregates equal to the truth, the unit
# accepted by `systemd-analyze verify`, `man hotel-trends`; then
# `apt-get purge`, and the machine as it was: the same packages, no file,
# user, group or symlink left.
#
# It installs packages, so it needs root, and it is the deb stage of
# scripts/test, not part of t/*.t. It runs alone (a lock), and refuses to
# start when the packages are installed already: it would remove them.
#
#   TEST_NGINX_KAFKA_BROKERS=... HOTEL_KAFKA_DIR=... prove -I t/lib t/deb/packages.t

use strict;
use warnings;

use Cwd qw(abs_path);
use Fcntl qw(:flock);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX ();
use Test::More;

use HotelKafka qw(kafka_read);
use HotelNginx;
use HotelRecords qw(create_topic);

my $Root = abs_path(dirname(__FILE__) . '/../..');
my @Pkgs = qw(libnginx-mod-http-hotel-kafka hotel-trends);
my @Dbg = map { "$_-dbgsym" } @Pkgs;
my $Module = '/usr/lib/nginx/modules/ngx_http_hotel_kafka_module.so';
my $Avail = '/usr/share/nginx/modules-available/mod-http-hotel-kafka.conf';
my $Enabled = '/etc/nginx/modules-enabled/50-mod-http-hotel-kafka.conf';
my $Unit = '/lib/systemd/system/hotel-trends.service';
my $Conf = '/etc/hotel-trends/hotel-trends.conf';
my $State = '/var/lib/hotel-trends';

# Where a file of ours could be left behind, and what names say it is ours.
my @Where = qw(/etc /usr /var/lib /var/cache/apt/archives);
my $Ours = qr/hotel[-_]?(?:kafka|trends)/i;

$> == 0 or BAIL_OUT('the deb stage installs packages: run it as root');
my $brokers = $ENV{TEST_NGINX_KAFKA_BROKERS}
    or BAIL_OUT('TEST_NGINX_KAFKA_BROKERS is not set (scripts/test sets it)');

# one installer at a time on this machine
open my $lock, '>', '/run/lock/nginx-hotel-kafka-deb-test' or die "lock: $!\n";
flock $lock, LOCK_EX or die "flock: $!\n";

# Runs a command; returns its exit status and its output (both streams).
sub run {
    my @cmd = @_;
    my $pid = open(my $fh, '-|');
    defined $pid or die "fork: $!\n";
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        open STDIN, '<', '/dev/null';
        exec @cmd or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return ($? >> 8 | ($? & 127 ? 128 : 0), $out);
}

sub slurp {
    my $f = shift;
    open my $fh, '<', $f or return undef;
    local $/;
    return scalar <$fh>;
}

# installed packages: "name version" lines
sub packages {
    my (undef, $out) = run('dpkg-query', '-W', '-f',
                           '${db:Status-Abbrev} ${Package} ${Version}\n');
    return { map { (split ' ')[1, 2] } grep { /^.i/ } split /\n/, $out };
}

# what looks like ours under @Where, the user and group, the enabled link
sub traces {
    my (undef, $out) = run('find', @Where, '-xdev', '(', '-path', '/var/lib/dpkg',
                           '-o', '-path', '/var/lib/apt', ')', '-prune',
                           '-o', '-iname', '*hotel*', '-print');
    my @t = grep { m{[^/]*$Ours[^/]*$} } split /\n/, $out;
    push @t, map { "getent $_: hotel-trends" }
             grep { !(run('getent', $_, 'hotel-trends'))[0] } qw(passwd group);
    push @t, grep { -e $_ || -l $_ } $Enabled, "$Enabled.removed";
    return [ sort @t ];
}

sub apt_get {
    return run('env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', '-y', '-q',
               '-o', 'DPkg::Lock::Timeout=600', @_);
}

my $installed = packages();
my @already = grep { $installed->{$_} } @Pkgs, @Dbg;
BAIL_OUT("@already installed already: this test would purge them; "
         . "apt-get purge them first") if @already;
my $traces_before = traces();
is_deeply($traces_before, [], 'no trace of the packages before')
    or diag(join "\n", @$traces_before);

# ------------------------------------------------------------- build

my ($rc, $out) = run('make', '-C', $Root, 'deb');
is($rc, 0, 'make deb') or diag($out);
my $dir = "$Root/build/deb";
my %deb = map { my $f = (glob "$dir/${_}_*.deb")[0]; ($_ => $f) } @Pkgs, @Dbg;
ok($deb{$_}, "$_ built") for @Pkgs, @Dbg;
BAIL_OUT('no packages to go on with') if grep { !$deb{$_} } @Pkgs;

($rc, $out) = run('lintian', '--fail-on', 'error', '--display-info',
                  glob "$dir/*.changes");
$out =~ s/^running with root privileges is not recommended!\n//m;
is($rc, 0, 'lintian finds no error') or diag($out);
note("lintian: $out") if $out =~ /\S/;

sub field {
    my ($pkg, $name) = @_;
    my (undef, $v) = run('dpkg-deb', '-f', $deb{$pkg}, $name);
    chomp $v;
    return $v;
}

# the ABI dependency: the one nginx-dev's tree names, which the installed
# nginx provides
my ($abi) = (slurp('/usr/share/nginx/src/debian/libnginx-mod.abisubstvars')
             // '') =~ /^nginx:abi=(\S+)$/m;
ok($abi, "nginx-dev names the nginx ABI ($abi)");
my %dep = map { (/^\s*(\S+)/)[0] => 1 }
          split /,/, field('libnginx-mod-http-hotel-kafka', 'Depends');
ok($dep{$abi}, "the module depends on $abi")
    or diag(field('libnginx-mod-http-hotel-kafka', 'Depends'));
(undef, $out) = run('dpkg-query', '-W', '-f', '${Provides}', 'nginx');
like($out, qr/(?:^|,\s*)\Q$abi\E(?:,|$)/, "the installed nginx provides $abi");
ok($dep{$_}, "the module depends on $_ (dh_shlibdeps)")
    for qw(librdkafka1 libyajl2 libsimdjson14);
ok(!$dep{'libprotobuf-c1'},
   'the module does not depend on libprotobuf-c1 (it writes its records)');
%dep = map { (/^\s*(\S+)/)[0] => 1 } split /,/, field('hotel-trends', 'Depends');
ok($dep{$_}, "hotel-trends depends on $_")
    for qw(librdkafka1 libprotobuf-c1 libyajl2 libsqlite3-0 libpq5 adduser);

# ------------------------------------------------------------- install

my $purged = 0;
END {
    # a failing test still leaves the machine as it found it
    my @left = $purged ? () : grep { packages()->{$_} } @Pkgs, @Dbg;
    apt_get('purge', @left) if @left;
}

($rc, $out) = apt_get('install', map { $deb{$_} } grep { $deb{$_} } @Pkgs, @Dbg);
is($rc, 0, 'apt-get install ./*.deb') or diag($out);

is(slurp($Avail), "load_module modules/ngx_http_hotel_kafka_module.so;\n",
   "$Avail loads the module");
ok(-f $Module, "$Module installed");
is(readlink($Enabled), $Avail, "enabled: $Enabled links to it");

my @pw = getpwnam('hotel-trends');
ok(@pw, 'the system user hotel-trends');
cmp_ok($pw[2] // 1e9, '<', 1000, 'hotel-trends is a system uid');
is($pw[7], $State, "its home is $State");
my @st = stat $State;
is(sprintf('%o %s', ($st[2] // 0) & 07777, scalar getpwuid($st[4] // 0)),
   '750 hotel-trends', "$State: 0750, owned by hotel-trends");
@st = stat $Conf;
is(sprintf('%o %s', ($st[2] // 0) & 07777, scalar getgrgid($st[5] // 0)),
   '640 hotel-trends', "$Conf: 0640, group hotel-trends (it may hold a password)");
like(`zcat /usr/share/doc/libnginx-mod-http-hotel-kafka/README.md.gz`,
     qr/^#### hotel_kafka_brokers$/m, 'the directive reference is installed');

# ------------------------------------------------------------- nginx -t

my $tmp = tempdir(CLEANUP => 1);
chmod 0755, $tmp;
my $port = do {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1) or die "port: $!\n";
    $s->sockport;
};

# the README's search vhost, against the test broker
my $vhost = "$tmp/search.conf";
open my $vh, '>', $vhost or die "$vhost: $!\n";
print $vh <<"VHOST";
hotel_kafka_brokers       $brokers;
hotel_kafka_conf          compression.type zstd;
hotel_kafka_flush_timeout 10s;

upstream hotel_search_backend {
    server 127.0.0.1:$port;
    keepalive 32;
}

server {
    listen 80;
    server_name search.example.com;

    location /search {
        proxy_pass http://hotel_search_backend;
        proxy_http_version 1.1;
        proxy_set_header Connection "";

        hotel_kafka_search_results on;
        hotel_kafka_topic          hotel-data;
        hotel_kafka_json_results   results;
        hotel_kafka_json_id        hotel_id;
        hotel_kafka_json_rate      price.amount;
        hotel_kafka_json_currency  price.currency;
    }

    location /api/hotel {
        proxy_pass http://hotel_search_backend;
        hotel_kafka_log id=\$upstream_http_x_hotel_id
                        rate=\$upstream_http_x_hotel_rate
                        currency=\$upstream_http_x_hotel_currency
                        if=\$upstream_http_x_hotel_id;
    }

    location = /kafka-status {
        allow 127.0.0.1;
        deny all;
        hotel_kafka_status;
    }
}
VHOST
close $vh;

# Debian's own nginx.conf, unchanged but for one more include beside
# sites-enabled; and the same without the modules-enabled include, which
# must then not know the directives
my $stock = slurp('/etc/nginx/nginx.conf') // '';
(undef, $out) = run('dpkg', '--verify', 'nginx-common');
unlike($out, qr{ /etc/nginx/nginx\.conf$}m, '/etc/nginx/nginx.conf is stock');
(my $with = $stock) =~ s{^(\s*include /etc/nginx/sites-enabled/\*;\n)}
                        {$1\tinclude $vhost;\n}m;
isnt($with, $stock, 'the vhost included from a copy of nginx.conf');
(my $without = $with) =~ s{^include /etc/nginx/modules-enabled/\*\.conf;\n}{}m;
isnt($without, $with, 'and one without modules-enabled');
for ([ "$tmp/nginx.conf", $with ], [ "$tmp/nginx-nomod.conf", $without ]) {
    open my $fh, '>', $_->[0] or die "$_->[0]: $!\n";
    print $fh $_->[1];
    close $fh;
}
($rc, $out) = run('/usr/sbin/nginx', '-t', '-c', "$tmp/nginx.conf");
is($rc, 0, 'nginx -t: stock nginx.conf, module enabled, search vhost')
    or diag($out);
like($out, qr/test is successful/, 'nginx -t says so');
($rc, $out) = run('/usr/sbin/nginx', '-t', '-c', "$tmp/nginx-nomod.conf");
like($out, qr/unknown directive "hotel_kafka_brokers"/,
     'without modules-enabled, the directives are unknown (the control)');

# ------------------------------------------------------------- records

# the packaged .so in a private nginx of ours, on a free port, producing
# three pages of two hotels to the test broker
my $topic = create_topic("deb-$$-hotel-data", 2);
$ENV{TEST_NGINX_PORT} = $port;
$ENV{TEST_NGINX_SERVROOT} = "$tmp/servroot";
$ENV{TEST_NGINX_LOAD_MODULES} = $Module;
my $ng = HotelNginx->new(master => 1, workers => 1);
ok($ng->start(http => "hotel_kafka_brokers $brokers;", server => <<"LOC"),
        location /search {
            hotel_kafka_search_results on;
            hotel_kafka_topic $topic;
            default_type application/json;
            return 200 '{"results":[{"hotel_id":"deb-a","rate":"10\$arg_i.25","currency":"EUR"},{"hotel_id":"deb-b","rate":"20\$arg_i.5","currency":"USD"}]}';
        }
LOC
   'nginx with the packaged module starts');
my %truth;
for my $i (1 .. 3) {
    my $r = $ng->get("/search?i=$i");
    is($r->{code}, 200, "page $i served");
    $truth{'deb-a EUR'}[0]++;
    $truth{'deb-a EUR'}[1] += (100 + $i) * 1_000_000 + 250_000;
    $truth{'deb-b USD'}[0]++;
    $truth{'deb-b USD'}[1] += (200 + $i) * 1_000_000 + 500_000;
}
my @recs = kafka_read($topic, expect => 6, settle => 1);
is_deeply([ sort map { "$_->{hotel_id} $_->{currency} $_->{rate_micros}" } @recs ],
          [ sort map { ("deb-a EUR " . ((100 + $_) * 1_000_000 + 250_000),
                        "deb-b USD " . ((200 + $_) * 1_000_000 + 500_000)) } 1 .. 3 ],
          'the broker holds the six records, field by field');
$ng->stop;

# ------------------------------------------------------------- consumer

# the unit's ExecStart line, its -c file replaced by a copy of the
# packaged one that names the test broker and a temporary database (the
# packaged file parsed as it is, then these lines: the last setting wins)
my $unit = slurp($Unit) // '';
my ($exec) = $unit =~ /^ExecStart=(.+)$/m;
my @argv = split ' ', $exec // '';
is("@argv[0 .. 3]", "/usr/bin/hotel-trends consume -c $Conf",
   'ExecStart runs consume with the packaged configuration file');
like($unit, qr/^User=hotel-trends$/m, 'as the user hotel-trends');
like($unit, qr/^Restart=on-failure$/m, 'restarted on failure');
like($unit, qr/^KillSignal=SIGTERM$/m, 'stopped with SIGTERM');

my $db = "$tmp/db";
mkdir $db or die "$db: $!\n";
chown $pw[2], $pw[3], $db;
my $conf = "$tmp/hotel-trends.conf";
open my $cf, '>', $conf or die "$conf: $!\n";
print $cf slurp($Conf), "brokers=$brokers\ntopic=$topic\n",
          "group=deb-$$-group\ndb=$db/trends.db\n";
close $cf;
chown 0, $pw[3], $conf;
chmod 0640, $conf;
$argv[3] = $conf;
($rc, $out) = run('timeout', '120', 'runuser', '-u', 'hotel-trends', '--',
                  @argv, '--exit-idle', '5');
is($rc, 0, "the ExecStart line as hotel-trends: @argv --exit-idle 5")
    or diag($out);
my %got;
(undef, $out) = run('sqlite3', '-separator', ' ', "$db/trends.db",
                    'SELECT hotel_id, currency, SUM(count), SUM(sum_micros)'
                    . ' FROM hotel_rate_hourly GROUP BY 1, 2');
for (split /\n/, $out) {
    my @f = split ' ';
    $got{"$f[0] $f[1]"} = [ @f[2, 3] ];
}
is_deeply(\%got, \%truth, 'its counts and exact sums equal the pages served')
    or diag($out);

# ------------------------------------------------------------- unit, man

($rc, $out) = run('systemd-analyze', 'verify', $Unit);
ok($rc == 0 && $out !~ /\S/, 'systemd-analyze verify accepts the unit')
    or diag("status $rc: $out");
# the control: a unit with a mistake systemd only warns about must fail
# the same check
(my $broken = $unit) =~ s/^Restart=on-failure$/Restart=on-failures/m;
open my $bf, '>', "$tmp/hotel-trends.service" or die "$tmp: $!\n";
print $bf $broken;
close $bf;
($rc, $out) = run('systemd-analyze', 'verify', "$tmp/hotel-trends.service");
ok($rc != 0 || $out =~ /\S/, 'a broken copy of the unit is not accepted')
    or diag("status $rc: $out");

(undef, $out) = run('man', '-w', 'hotel-trends');
is($out, "/usr/share/man/man1/hotel-trends.1.gz\n", 'man -w hotel-trends');
($rc, $out) = run('env', 'MANWIDTH=80', 'man', '-P', 'cat', 'hotel-trends');
is($rc, 0, 'man hotel-trends renders');
like($out, qr/^NAME\n\s+hotel-trends - /m, 'with its NAME');
like($out, qr/^CONSUME OPTIONS$/m, 'and its options');
(undef, $out) = run('sh', '-c', 'MANWIDTH=80 man --warnings -P cat hotel-trends'
                    . ' 2>&1 >/dev/null');
is($out, '', 'and no groff warning');
# check-options reads roff, not gzip
my $man = "$tmp/hotel-trends.1";
system("zcat /usr/share/man/man1/hotel-trends.1.gz > '$man'");
($rc, $out) = run("$Root/scripts/check-options", '/usr/bin/hotel-trends',
                  $man, $Conf);
is($rc, 0, 'the installed manual and configuration file agree with --help')
    or diag($out);

# ------------------------------------------------------------- purge

($rc, $out) = apt_get('purge', @Pkgs, @Dbg);
is($rc, 0, 'apt-get purge') or diag($out);
$purged = 1;
my $now = packages();
my @new = grep { !$installed->{$_} } sort keys %$now;
if (@new) {
    # what the install pulled in goes too
    ($rc, $out) = apt_get('purge', @new);
    $now = packages();
}
is_deeply($now, $installed, 'the same packages as before') or diag("@new");
my $traces_after = traces();
is_deeply($traces_after, $traces_before,
          'no file, user, group or modules-enabled link left')
    or diag(join "\n", 'left:', @$traces_after);

done_testing();
