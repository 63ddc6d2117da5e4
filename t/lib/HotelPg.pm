package HotelPg;

# A private PostgreSQL 15 for a test: Debian's initdb and pg_ctl run as
# the postgres user (root may not run the server), the data directory and
# the unix socket under a temporary directory, no TCP at all
# (listen_addresses = ''), a port number nobody uses. It is stopped when
# the test ends, whatever way it ends (the END block, and SIGINT/SIGTERM
# turned into a normal exit), through pg_ctl or by the postmaster's PID.
#
#     my $pg = HotelPg->new or plan skip_all => $HotelPg::Why;
#     $pg->start; $pg->createdb('trends');
#     $pg->conninfo('trends')      # "host=... port=... dbname=trends ..."
#     $pg->psql_args('trends')     # for HotelConsumer's { psql => [...] }
#     $pg->stop('immediate'); $pg->start;     # a crash and a restart

use strict;
use warnings;

use File::Temp qw(tempdir);
use IO::Socket::INET;

our $Bin = $ENV{HOTEL_PG_BIN} || '/usr/lib/postgresql/15/bin';
our $Why;

my @Live;           # instances to stop at the end

sub run_as_postgres {
    my ($self, @cmd) = @_;
    my $log = "$self->{dir}/cmd.log";
    my $rc = system("runuser -u postgres -- @cmd >> '$log' 2>&1");
    return $rc == 0;
}

sub new {
    my ($class) = @_;
    for my $b (qw(initdb pg_ctl postgres)) {
        if (!-x "$Bin/$b") {
            $Why = "PostgreSQL 15 is not installed ($Bin/$b missing)";
            return undef;
        }
    }
    if (!getpwnam 'postgres') {
        $Why = 'no postgres user';
        return undef;
    }
    my $runuser = grep { -x "$_/runuser" } split /:/, "$ENV{PATH}:/usr/sbin:/sbin";
    if (!$runuser) {
        $Why = 'runuser not found';
        return undef;
    }
    if (!grep { -x "$_/psql" } split /:/, $ENV{PATH}) {
        $Why = 'psql not found';
        return undef;
    }

    my $top = tempdir('hotel-pg-XXXXXX', TMPDIR => 1,
                   CLEANUP => !$ENV{HOTEL_TEST_KEEP});
    chmod 0711, $top;               # the postgres user passes through
    my $dir = "$top/pg";
    mkdir $dir or die "mkdir $dir: $!\n";
    my (undef, undef, $uid, $gid) = getpwnam 'postgres';
    chown $uid, $gid, $dir or die "chown $dir: $!\n";
    chmod 0700, $dir;

    my $self = bless { dir => $dir, data => "$dir/data", sock => $dir,
                       port => free_port() }, $class;
    $self->run_as_postgres("'$Bin/initdb'", '-D', "'$self->{data}'",
                           '-U', 'postgres', '-A', 'trust', '-E', 'UTF8',
                           '--locale=C', '--no-sync')
        or die "initdb failed:\n" . $self->log_tail;

    # append: the last setting wins
    open my $fh, '>>', "$self->{data}/postgresql.conf"
        or die "postgresql.conf: $!\n";
    print $fh <<EOF;
# hotel-trends tests
listen_addresses = ''
unix_socket_directories = '$self->{sock}'
port = $self->{port}
max_connections = 20
shared_buffers = 32MB
# a test server: the process may crash, the machine does not
fsync = off
full_page_writes = off
EOF
    close $fh;
    push @Live, $self;
    return $self;
}

# A port no TCP listener holds (the server listens on its socket only,
# whose name carries the port number).
sub free_port {
    for (1 .. 100) {
        my $p = 40000 + int rand 20000;
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => $p, Listen => 1,
                                      ReuseAddr => 0)
            or next;
        close $s;
        return $p;
    }
    die "no free port\n";
}

sub log_tail {
    my $self = shift;
    my $out = '';
    for my $f ("$self->{dir}/cmd.log", "$self->{dir}/server.log") {
        open my $fh, '<', $f or next;
        my @l = <$fh>;
        $out .= "== $f\n" . join '', @l > 20 ? @l[-20 .. -1] : @l;
    }
    return $out;
}

sub start {
    my $self = shift;
    $self->run_as_postgres("'$Bin/pg_ctl'", '-D', "'$self->{data}'",
                           '-l', "'$self->{dir}/server.log'", '-w', '-t', 60,
                           'start')
        or die "pg_ctl start failed:\n" . $self->log_tail;
    $self->{running} = 1;
    return 1;
}

sub postmaster_pid {
    my $self = shift;
    open my $fh, '<', "$self->{data}/postmaster.pid" or return undef;
    my $pid = <$fh>;
    chomp $pid if defined $pid;
    return $pid && $pid =~ /^\d+$/ ? $pid : undef;
}

# the PID is a live postgres started on our data directory
sub is_ours {
    my ($self, $pid) = @_;
    open my $fh, '<', "/proc/$pid/cmdline" or return 0;
    local $/;
    my $cmd = <$fh> // '';
    return index($cmd, $self->{data}) >= 0 || do {
        # started without -D on its command line: its cwd is the data dir
        my $cwd = readlink "/proc/$pid/cwd";
        defined $cwd && $cwd eq $self->{data};
    };
}

# mode: fast (clean) or immediate (the server dies as in a crash)
sub stop {
    my ($self, $mode) = @_;
    my $pid = $self->postmaster_pid;
    my $ok = $self->run_as_postgres("'$Bin/pg_ctl'", '-D', "'$self->{data}'",
                                    '-m', $mode || 'fast', '-w', '-t', 30,
                                    'stop');
    if (!$ok && $pid && $self->is_ours($pid)) {
        # our own postmaster, by the PID it wrote
        kill 'KILL', $pid;
        sleep 1;
    }
    $self->{running} = 0;
    return $ok;
}

sub conninfo {
    my ($self, $db) = @_;
    return "host=$self->{sock} port=$self->{port} dbname=$db user=postgres";
}

sub psql_args {
    my ($self, $db) = @_;
    return [ '-h', $self->{sock}, '-p', $self->{port}, '-U', 'postgres',
             '-d', $db ];
}

sub createdb {
    my ($self, $db) = @_;
    system('psql', @{ $self->psql_args('postgres') }, '-X', '-q',
           '-v', 'ON_ERROR_STOP=1', '-c', qq{CREATE DATABASE "$db"}) == 0
        or die "CREATE DATABASE $db failed\n";
}

sub DESTROY { }

my $Parent = $$;

END {
    my $st = $?;
    for my $self ($$ == $Parent ? @Live : ()) {
        $self->stop('immediate') if $self->{running} || $self->postmaster_pid;
    }
    $? = $st;
}

# a test interrupted by ^C or a TERM still stops its server (END runs)
$SIG{INT} = $SIG{TERM} = sub { exit 1 };

1;
