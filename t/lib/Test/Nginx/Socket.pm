package Test::Nginx::Socket;

# A small, self-written harness compatible with the subset of OpenResty's
# Test::Nginx::Socket that our suites use (Debian does not package the real
# one). A suite written against this module must run unchanged under the
# real Test::Nginx::Socket, so only Test::Nginx's public interface (exported
# functions, block sections, test names, TEST_NGINX_* variables) is mirrored
# here; the implementation is our own.
#
# Supported block sections:
#   main_config http_config config          nginx.conf pieces
#   request (text or eval [list])           "METHOD URI [PROTO]\nbody"
#   pipelined_requests eval [list]          one keep-alive connection
#   request_body                            overrides the body of request
#   more_headers (text or eval [list])      "Name: value" lines
#   error_code  response_body  response_body_like  response_headers
#   response_headers_like                   (scalars or eval [per request])
#   ignore_response                         skip response checks
#   error_log  no_error_log                 lines or eval [qr//, "str"]
#   shutdown_error_log no_shutdown_error_log checked after nginx stopped
#   must_die (optionally: expected exit code)
#   wait  timeout  abort  log_level
#
# Environment: TEST_NGINX_BINARY, TEST_NGINX_PORT (sets
# TEST_NGINX_SERVER_PORT), TEST_NGINX_LOAD_MODULES, TEST_NGINX_USE_HUP,
# TEST_NGINX_NO_CLEAN, TEST_NGINX_USE_VALGRIND, TEST_NGINX_NO_SHUFFLE,
# TEST_NGINX_QUIT_TIMEOUT (seconds, default 15), TEST_NGINX_VERBOSE.
#
# Differences from the real thing worth knowing: nginx always runs in the
# foreground as our child ("daemon off"), and a fresh nginx is started for
# every block (real Test::Nginx skips the restart when the config did not
# change); checks that the real harness does not make ("nginx did not exit",
# valgrind findings, worker crashes) only produce a test when they fail, so
# "plan tests => N" counts stay the same under both harnesses.

use strict;
use warnings;

use Test::Base -base;

use Cwd qw(getcwd);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use IO::Select;
use IO::Socket::INET;
use List::Util qw(shuffle);
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

our @EXPORT = qw(
    run_tests repeat_each no_shuffle master_on master_off workers log_level
    no_long_string add_block_preprocessor add_response_body_check
    env_to_nginx server_port server_port_for_client server_root html_dir
    no_root_location bail_out worker_connections
);

# ---------------------------------------------------------------- settings

my $RepeatEach     = 1;
my $Shuffle        = !$ENV{TEST_NGINX_NO_SHUFFLE};
my $MasterOn       = 0;
my $Workers        = 1;
my $WorkerConns    = 64;
my $LogLevel       = 'debug';
my $NoRootLocation = 0;
my @BlockPreprocessors;
my @ResponseBodyChecks;
my @EnvToNginx;

my $NginxBinary  = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $ServerPort   = $ENV{TEST_NGINX_PORT} || 1984;
my $ServRoot     = $ENV{TEST_NGINX_SERVROOT} || getcwd() . '/t/servroot';
my $HtmlDir      = "$ServRoot/html";
my $ConfFile     = "$ServRoot/conf/nginx.conf";
my $ErrLogFile   = "$ServRoot/logs/error.log";
my $StderrFile   = "$ServRoot/logs/stderr.log";
my $PidFile      = "$ServRoot/logs/nginx.pid";
my $ValgrindLog  = "$ServRoot/logs/valgrind.log";
my $QuitTimeout  = $ENV{TEST_NGINX_QUIT_TIMEOUT} || 15;
my $Verbose      = $ENV{TEST_NGINX_VERBOSE};
my $UseValgrind  = $ENV{TEST_NGINX_USE_VALGRIND};

# Suites reference these in their config sections (and real Test::Nginx
# sets them too).
$ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;
$ENV{TEST_NGINX_HTML_DIR}    = $HtmlDir;
$ENV{TEST_NGINX_SERVROOT}    = $ServRoot;

# The nginx we started (our child) and what we know about it.
my $NginxPid;
my $StartedFromHere = $$;

sub repeat_each {
    $RepeatEach = shift if @_;
    return $RepeatEach;
}
sub no_shuffle         { $Shuffle = 0 }
sub master_on          { $MasterOn = 1 }
sub master_off         { $MasterOn = 0 }
sub workers            { $Workers = shift if @_; return $Workers }
sub worker_connections { $WorkerConns = shift if @_; return $WorkerConns }
sub log_level          { $LogLevel = shift if @_; return $LogLevel }
sub no_root_location   { $NoRootLocation = 1 }
# Real Test::Nginx then compares with is() instead of Test::LongString;
# we always use is(), so there is nothing to switch.
sub no_long_string     { 1 }
sub add_block_preprocessor  { push @BlockPreprocessors, shift }
sub add_response_body_check { push @ResponseBodyChecks, shift }
sub env_to_nginx       { push @EnvToNginx, @_ }
sub server_port        { $ServerPort }
sub server_port_for_client { $ServerPort }
sub server_root        { $ServRoot }
sub html_dir           { $HtmlDir }

sub bail_out {
    my $msg = shift;
    stop_nginx('bail out') if $NginxPid;
    Test::More::BAIL_OUT($msg);
}

sub verbose { warn "# @_\n" if $Verbose }

# ---------------------------------------------------------------- run

sub run_tests {
    # Test::Base runs its own comparisons at END unless a plan exists, and
    # a suite without any plan would otherwise end with "no plan" errors.
    Test::More->builder->plan('no_plan')
        unless Test::More->builder->has_plan;

    kill_stale_nginx();

    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks if $Shuffle;

    for my $block (@blocks) {
        $_->($block) for @BlockPreprocessors;
        run_block($block);
    }

    if ($ENV{TEST_NGINX_NO_CLEAN}) {
        Test::More::diag("TEST_NGINX_NO_CLEAN: leaving nginx $NginxPid running")
            if $NginxPid;
        undef $NginxPid;    # so END leaves it alone
    } elsif ($NginxPid) {
        my $name = 'end of tests';
        stop_nginx($name);
    }
}

END {
    # Do not leave an nginx behind when a suite dies half way.
    if ($NginxPid && $$ == $StartedFromHere && !$ENV{TEST_NGINX_NO_CLEAN}) {
        local $?;
        stop_nginx('END');
    }
}

# The value for request number $idx of a section that is either one value
# for every request or an eval'ed array with one value per request.
sub per_request {
    my ($value, $idx) = @_;
    return $value unless ref $value eq 'ARRAY';
    return $value->[$idx];
}

sub run_block {
    my $block = shift;
    my $name = $block->name;
    # Real Test::Nginx sets this when it skips tests for a directive the
    # nginx lacks; we never skip, but body checks get the argument.
    my $dry_run = 0;

    my $config = build_config($block);

    if (defined $block->must_die) {
        run_must_die($block, $config);
        return;
    }

    my $hup = $ENV{TEST_NGINX_USE_HUP} && $MasterOn && !$UseValgrind
              && $NginxPid && nginx_alive();
    my $err_pos = 0;
    if ($hup) {
        # Keep servroot (nginx holds its logs open); only this block's part
        # of error.log is looked at.
        $err_pos = -s $ErrLogFile || 0;
        write_file($ConfFile, $config);
        write_user_files($block);
        verbose("HUP $NginxPid for $name");
        kill 'HUP', $NginxPid;
        # Like Test::Nginx: give the master time to start the new workers
        # and retire the old ones.
        sleep 0.5;
    } else {
        stop_nginx($name) if $NginxPid;
        setup_server_root();
        write_file($ConfFile, $config);
        write_user_files($block);
        return unless start_nginx($name);
    }

    my @requests = get_requests($block);
    for my $rep (0 .. $RepeatEach - 1) {
        if (@requests) {
            run_requests($block, \@requests, $rep, $dry_run);
        }
        sleep $block->wait if $block->wait;
        check_error_log($block, read_from($ErrLogFile, $err_pos), $rep,
                        'error_log', 'no_error_log');
    }
    check_crashes($name, read_from($ErrLogFile, $err_pos));

    # Shutdown checks need this block's nginx gone; so does valgrind's
    # leak report. Otherwise the next block stops (or reloads) it.
    if (defined $block->shutdown_error_log
        || defined $block->no_shutdown_error_log || $UseValgrind)
    {
        stop_nginx($name);
        my $log = read_from($ErrLogFile, $err_pos);
        check_error_log($block, $log, 0, 'shutdown_error_log',
                        'no_shutdown_error_log');
    }
}

sub run_must_die {
    my ($block, $config) = @_;
    my $name = $block->name;
    my $expect_code = $block->must_die;
    $expect_code =~ s/^\s+|\s+$//g;

    stop_nginx($name) if $NginxPid;
    setup_server_root();
    write_file($ConfFile, $config);

    for my $rep (0 .. $RepeatEach - 1) {
        truncate_file($StderrFile);
        my $pid = spawn_nginx();
        my $status = wait_child($pid, 10);
        if (!defined $status) {
            # It started: the config was accepted.
            $NginxPid = $pid;
            Test::More::fail("$name - die as expected");
            stop_nginx($name);
        } elsif ($expect_code =~ /^\d+$/) {
            Test::More::is($status >> 8, $expect_code,
                           "$name - die with the expected exit code");
        } else {
            Test::More::isnt($status, 0, "$name - die as expected");
        }
        # With Debian's build nginx reports start-up errors on stderr
        # before error_log is open; look at both.
        my $out = read_from($StderrFile, 0) . read_from($ErrLogFile, 0);
        check_error_log($block, $out, $rep, 'error_log', 'no_error_log');
    }
}

# ---------------------------------------------------------------- config

sub expand_env {
    my ($text, $name) = @_;
    return '' unless defined $text;
    $text =~ s{\$(TEST_NGINX_[A-Z0-9_]+)}{
        defined $ENV{$1} ? $ENV{$1}
          : bail_out("$name - environment variable $1 is not set")
    }ge;
    return $text;
}

sub build_config {
    my $block = shift;
    my $name = $block->name;
    my $main  = expand_env(scalar $block->main_config, $name);
    my $http  = expand_env(scalar $block->http_config, $name);
    my $conf  = expand_env(scalar $block->config, $name);

    my $modules = '';
    for my $so (split ' ', $ENV{TEST_NGINX_LOAD_MODULES} || '') {
        $modules .= "load_module $so;\n";
    }
    my $env = join '', map { "env $_;\n" } @EnvToNginx;

    # valgrind follows one process only, so it gets nginx without workers
    # (a preprocessor may have called master_on() for this block).
    my $master = $MasterOn && !$UseValgrind ? 'on' : 'off';
    my $level = defined $block->log_level ? $block->log_level : $LogLevel;
    $level =~ s/^\s+|\s+$//g;

    # Debian's nginx has absolute temp paths under /var/lib/nginx; keep
    # everything a test writes inside servroot.
    my $temp = '';
    for my $t (qw(client_body proxy fastcgi uwsgi scgi)) {
        $temp .= "    ${t}_temp_path $ServRoot/${t}_temp;\n"
            if nginx_has_temp_path($t);
    }

    # Real Test::Nginx serves html/ at "/" unless the config has its own.
    my $root = '';
    if (!$NoRootLocation && $conf !~ m{\blocation\s+(?:=\s*)?/\s*\{}) {
        $root = "        location / {\n            root $HtmlDir;\n"
              . "            index index.html index.htm;\n        }\n";
    }

    return <<"CONF";
# generated by t/lib/Test/Nginx/Socket.pm for: $name
daemon off;
master_process $master;
worker_processes $Workers;
error_log logs/error.log $level;
pid logs/nginx.pid;
$modules$env
$main

events {
    accept_mutex off;
    worker_connections $WorkerConns;
}

http {
    access_log logs/access.log;
    default_type text/plain;
    keepalive_timeout 68;
$temp
$http

    server {
        listen $ServerPort;
        server_name localhost;
        client_max_body_size 30M;

$conf

$root    }
}
CONF
}

my %TempPaths;
sub nginx_has_temp_path {
    my $what = shift;
    if (!%TempPaths) {
        my $v = `$NginxBinary -V 2>&1`;
        $TempPaths{$1} = 1 while $v =~ /--http-([\w-]+?)-temp-path=/g;
        $TempPaths{none} = 1;
    }
    (my $key = $what) =~ s/_/-/g;
    return $TempPaths{$key} || $TempPaths{$what};
}

sub setup_server_root {
    remove_tree($ServRoot) if -d $ServRoot;
    make_path(map { "$ServRoot/$_" }
              qw(conf logs html client_body_temp proxy_temp fastcgi_temp
                 uwsgi_temp scgi_temp));
}

# "--- user_files": files for html/, each introduced by ">>> path" as in
# Test::Nginx; the text up to the next ">>> " line is the file's content.
sub write_user_files {
    my $block = shift;
    my $spec = $block->user_files;
    return unless defined $spec;
    my @parts = split /^>>> (\S+)[^\n]*\n/m, $spec;
    shift @parts;
    while (my ($path, $content) = splice @parts, 0, 2) {
        my $file = "$HtmlDir/$path";
        make_path(dirname($file));
        write_file($file, $content // '');
    }
}

sub write_file {
    my ($file, $text) = @_;
    open my $fh, '>', $file or bail_out("cannot write $file: $!");
    print $fh $text;
    close $fh or bail_out("cannot write $file: $!");
}

sub truncate_file {
    my $file = shift;
    open my $fh, '>', $file or return;
    close $fh;
}

sub read_from {
    my ($file, $pos) = @_;
    open my $fh, '<', $file or return '';
    binmode $fh;
    seek $fh, $pos, 0 if $pos;
    local $/;
    my $text = <$fh>;
    return defined $text ? $text : '';
}

# ---------------------------------------------------------------- process

sub nginx_command {
    my @cmd = ($NginxBinary, '-p', "$ServRoot/", '-c', 'conf/nginx.conf');
    return @cmd unless $UseValgrind;
    # --keep-debuginfo: nginx unloads dynamic modules at exit, before the
    # leak check; without it our module's frames would show as "???" and
    # escape the our-code test below.
    my @vg = ('valgrind', '-q', '--leak-check=full', '--num-callers=30',
              '--keep-debuginfo=yes', '--gen-suppressions=all',
              "--log-file=$ValgrindLog");
    push @vg, '--suppressions=t/valgrind.suppress' if -f 't/valgrind.suppress';
    return (@vg, @cmd);
}

sub spawn_nginx {
    my @cmd = nginx_command();
    verbose("starting: @cmd");
    my $pid = fork;
    bail_out("fork failed: $!") unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $StderrFile;
        open STDERR, '>&', \*STDOUT;
        # ours, not Test::Nginx's: a sanitizer runtime for nginx alone
        # (an ASan-built module in a plain nginx), not for this harness
        $ENV{LD_PRELOAD} = $ENV{TEST_NGINX_LD_PRELOAD}
            if $ENV{TEST_NGINX_LD_PRELOAD};
        { exec @cmd };
        print STDERR "cannot exec $cmd[0]: $!\n";
        POSIX::_exit(127);
    }
    return $pid;
}

# Wait status of $pid, or undef if it is still running after $secs.
sub wait_child {
    my ($pid, $secs) = @_;
    my $deadline = time + $secs;
    while (1) {
        my $r = waitpid $pid, WNOHANG;
        return $? if $r == $pid;
        return -1 if $r < 0;    # not our child any more
        return undef if time >= $deadline;
        sleep 0.05;
    }
}

sub port_open {
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $ServerPort,
                                     Proto => 'tcp', Timeout => 1);
    return 0 unless $sock;
    close $sock;
    return 1;
}

sub nginx_alive {
    return 0 unless $NginxPid;
    return 1 unless defined wait_child($NginxPid, 0);
    # It exited on its own; stop_nginx will report how.
    return 0;
}

sub start_nginx {
    my $name = shift;
    if (port_open()) {
        bail_out("$name - something already listens on port $ServerPort "
                 . "(set TEST_NGINX_PORT)");
    }
    truncate_file($StderrFile);
    $NginxPid = spawn_nginx();
    my $deadline = time + ($UseValgrind ? 60 : 10);
    while (time < $deadline) {
        my $status = wait_child($NginxPid, 0);
        if (defined $status) {
            undef $NginxPid;
            my $err = read_from($StderrFile, 0);
            Test::More::fail("$name - nginx failed to start (status $status)");
            Test::More::diag($err) if length $err;
            return 0;
        }
        return 1 if port_open();
        sleep 0.05;
    }
    Test::More::fail("$name - nginx did not open port $ServerPort");
    stop_nginx($name);
    return 0;
}

# Graceful stop: the module flushes its Kafka producer in exit_process, so
# give it time before resorting to force.
sub stop_nginx {
    my $name = shift;
    return unless $NginxPid;
    my $pid = $NginxPid;
    undef $NginxPid;

    my $log_pos = -s $ErrLogFile || 0;
    my $status = wait_child($pid, 0);
    # Repeat the signal: in single-process mode nginx can take it between
    # its ngx_quit check and an epoll_wait without timeout, and then sleeps
    # on; valgrind's slowness makes that window wide.
    my $deadline = time + $QuitTimeout;
    while (!defined $status && time < $deadline) {
        verbose("QUIT $pid ($name)");
        kill 'QUIT', $pid;
        $status = wait_child($pid, 1);
    }
    if (!defined $status) {
        Test::More::fail("$name - nginx did not exit within ${QuitTimeout}s "
                         . "of SIGQUIT");
        kill 'TERM', $pid;
        $status = wait_child($pid, 3);
        if (!defined $status) {
            kill 'KILL', $pid;
            $status = wait_child($pid, 3);
        }
    } elsif ($status > 0 && ($status & 127)) {
        Test::More::fail("$name - nginx was killed by signal "
                         . ($status & 127));
    }
    # what the exit itself wrote (exit_process, a sanitizer's last words)
    check_crashes("$name (at exit)", read_from($ErrLogFile, $log_pos));
    check_valgrind($name) if $UseValgrind;
}

# A nginx left running by an earlier TEST_NGINX_NO_CLEAN run would hold
# the port.
sub kill_stale_nginx {
    open my $fh, '<', $PidFile or return;
    my $pid = <$fh>;
    close $fh;
    return unless defined $pid && $pid =~ /^(\d+)/;
    $pid = $1;
    my $cmdline = read_from("/proc/$pid/cmdline", 0);
    return unless $cmdline =~ /nginx/ && $cmdline =~ /\Q$ServRoot\E/;
    verbose("stopping stale nginx $pid");
    kill 'QUIT', $pid;
    for (1 .. $QuitTimeout * 10) {
        return unless kill 0, $pid;
        # Reparented when we left it running; a zombie counts as gone.
        return if read_from("/proc/$pid/stat", 0) =~ /^\d+ \(.*\) Z/;
        sleep 0.1;
    }
    kill 'KILL', $pid;
}

# A worker that crashed is restarted by the master and would go unnoticed.
sub check_crashes {
    my ($name, $log) = @_;
    for my $line (split /\n/, $log) {
        if ($line =~ /exited on signal \d+/) {
            Test::More::fail("$name - nginx worker crashed: $line");
        }
        # nginx sends its stderr to error.log: an ASan-built module's
        # reports (TEST_NGINX_LD_PRELOAD) land there
        if ($line =~ /==\d+==ERROR: \w+Sanitizer|: runtime error: /) {
            Test::More::fail("$name - sanitizer report: $line");
        }
    }
}

# ---------------------------------------------------------------- valgrind

# Findings that involve our code fail the block; anything else (nginx,
# libc, librdkafka internals) is only shown.
sub check_valgrind {
    my $name = shift;
    my $log = read_from($ValgrindLog, 0);
    return unless length $log;

    my (@reports, $cur);
    my $quiet = 0;
    for my $line (split /\n/, $log) {
        if ($line =~ /^==\d+==\s?(.*)$/) {
            my $text = $1;
            if ($text eq '') {
                undef $cur;
                next;
            }
            if (!$cur) {
                $cur = { text => '' };
                push @reports, $cur;
            }
            $cur->{text} .= "$text\n";
        } elsif (@reports) {
            # --gen-suppressions output follows its report, unprefixed.
            $reports[-1]{text} .= "$line\n";
        }
    }

    for my $r (@reports) {
        my $t = $r->{text};
        my $leak = $t =~ /are (definitely|indirectly|possibly) lost/ ? $1 : '';
        my $is_error = !$leak && $t =~ /^(?:Invalid |Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|Argument .* of function)/m;
        my $ours = $t =~ /(?:at|by) 0x[0-9A-Fa-f]+: (?:ngx_http_hotel_kafka|hk_)/;
        if (($is_error || $leak eq 'definitely') && $ours) {
            Test::More::fail("$name - valgrind: " . (split /\n/, $t)[0]);
            Test::More::diag($t);
        } elsif ($leak eq 'possibly' || $leak eq 'indirectly') {
            # nginx's own pools at exit: counted, not shown.
            $quiet++;
        } else {
            Test::More::diag("$name - valgrind (not our code):\n$t");
        }
    }
    Test::More::diag("$name - valgrind: $quiet possibly/indirectly lost "
                     . "reports outside our code (see $ValgrindLog.last)")
        if $quiet && $Verbose;
    rename $ValgrindLog, "$ValgrindLog.last";
}

# ---------------------------------------------------------------- errors

sub log_patterns {
    my $value = shift;
    return () unless defined $value;
    return @$value if ref $value eq 'ARRAY';
    return ($value) if ref $value;
    return grep { length } map { s/^\s+|\s+$//gr } split /\n/, $value;
}

sub check_error_log {
    my ($block, $log, $rep, $want_sec, $not_sec) = @_;
    my $name = $block->name;
    my @lines = split /\n/, $log;
    my $where = 'error.log';

    for my $pat (log_patterns(scalar $block->$want_sec)) {
        my $found = grep { ref $pat ? $_ =~ $pat : index($_, $pat) >= 0 }
                    @lines;
        Test::More::ok($found,
            "$name - pattern \"$pat\" matches a line in $where (req $rep)");
    }
    for my $pat (log_patterns(scalar $block->$not_sec)) {
        my @hits = grep { ref $pat ? $_ =~ $pat : index($_, $pat) >= 0 }
                   @lines;
        Test::More::ok(!@hits,
            "$name - pattern \"$pat\" should not match any line in $where "
            . "(req $rep)")
          or Test::More::diag("matched: $hits[0]");
    }
}

# ---------------------------------------------------------------- requests

sub get_requests {
    my $block = shift;
    if (defined $block->pipelined_requests) {
        my $list = $block->pipelined_requests;
        bail_out($block->name . " - pipelined_requests must be an eval'ed "
                 . "array") unless ref $list eq 'ARRAY';
        return ({ pipelined => $list });
    }
    my $req = $block->request;
    return () unless defined $req;
    return map { { text => $_ } } @$req if ref $req eq 'ARRAY';
    return ({ text => $req });
}

sub build_request {
    my ($block, $text, $idx, $keepalive) = @_;
    my ($line, $body) = split /\r?\n/, $text, 2;
    $line =~ s/^\s+|\s+$//g;
    my ($meth, $uri, $proto) = split /\s+/, $line, 3;
    $proto ||= 'HTTP/1.1';
    if (defined $body) {
        $body =~ s/\r?\n\z//;
        undef $body if $body eq '';
    }
    my $rb = per_request(scalar $block->request_body, $idx);
    $body = $rb if defined $rb;

    my @headers;
    my $more = per_request(scalar $block->more_headers, $idx);
    for my $h (split /\n/, defined $more ? $more : '') {
        $h =~ s/^\s+|\s+$//g;
        push @headers, $h if length $h;
    }
    my %have = map { /^([^:]+):/ ? (lc $1 => 1) : () } @headers;
    push @headers, 'Host: localhost' unless $have{host};
    push @headers, 'Connection: ' . ($keepalive ? 'keep-alive' : 'close')
        unless $have{connection};
    if (defined $body && !$have{'content-length'}
        && !$have{'transfer-encoding'})
    {
        push @headers, 'Content-Length: ' . length $body;
    }
    my $raw = "$meth $uri $proto\r\n" . join('', map { "$_\r\n" } @headers)
            . "\r\n" . (defined $body ? $body : '');
    return ($raw, $meth);
}

# Send raw request bytes on one connection, read until nginx closes it.
sub exchange {
    my ($raw, $timeout) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $ServerPort,
                                     Proto => 'tcp', Timeout => $timeout)
        or return (undef, "cannot connect to port $ServerPort: $!");
    binmode $sock;
    my $sel = IO::Select->new($sock);
    my $deadline = time + $timeout;
    my $off = 0;
    while ($off < length $raw) {
        return (undef, 'timed out writing the request')
            unless $sel->can_write($deadline - time);
        my $n = syswrite $sock, $raw, length($raw) - $off, $off;
        return (undef, "write failed: $!") unless defined $n;
        $off += $n;
    }
    my $resp = '';
    while (1) {
        my $left = $deadline - time;
        return ($resp, 'timed out reading the response')
            if $left <= 0 || !$sel->can_read($left);
        my $n = sysread $sock, $resp, 65536, length $resp;
        return ($resp, "read failed: $!") unless defined $n;
        last if $n == 0;
    }
    close $sock;
    return ($resp, undef);
}

# Parse one response off the front of $$buf. Returns a hashref or an error
# string.
sub parse_response {
    my ($buf, $meth) = @_;
    while (1) {
        my $end = index $$buf, "\r\n\r\n";
        return 'incomplete response header' if $end < 0;
        my $head = substr $$buf, 0, $end;
        substr($$buf, 0, $end + 4) = '';
        my ($status_line, @hlines) = split /\r\n/, $head;
        return "bad status line: $status_line"
            unless $status_line =~ m{^HTTP/\d\.\d (\d{3})};
        my $code = $1;
        my (%h, @order);
        for my $l (@hlines) {
            next unless $l =~ /^([^:]+):\s*(.*?)\s*$/;
            push @{ $h{lc $1} }, $2;
            push @order, [$1, $2];
        }
        next if $code =~ /^1/;    # 100 Continue and friends

        my $body = '';
        my $te = join ',', @{ $h{'transfer-encoding'} || [] };
        if ($meth eq 'HEAD' || $code == 204 || $code == 304) {
            # no body
        } elsif ($te =~ /chunked/i) {
            while (1) {
                return 'incomplete chunk size'
                    unless $$buf =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n//;
                my $size = hex $1;
                if ($size == 0) {
                    # trailers end with an empty line
                    $$buf =~ s/\A(?:[^\r\n]+\r\n)*\r\n// or
                        return 'incomplete chunked trailer';
                    last;
                }
                return 'truncated chunk' if length $$buf < $size + 2;
                $body .= substr $$buf, 0, $size;
                substr($$buf, 0, $size + 2) = '';
            }
        } elsif (defined $h{'content-length'}) {
            # A body cut short (nginx closed the connection, or "--- abort"
            # gave up) is what the client got, as with the real harness;
            # a block that cares compares it with response_body.
            my $len = $h{'content-length'}[0];
            $body = substr $$buf, 0, $len;
            substr($$buf, 0, length $body) = '';
        } else {
            $body = $$buf;
            $$buf = '';
        }
        return { code => $code, headers => \%h, header_list => \@order,
                 body => $body };
    }
}

sub run_requests {
    my ($block, $requests, $rep, $dry_run) = @_;
    my $timeout = $block->timeout || 3;
    $timeout =~ s/s$//;

    my @responses;    # [ response-or-error, method ]
    if ($requests->[0]{pipelined}) {
        my $list = $requests->[0]{pipelined};
        my ($raw, @meths) = ('');
        for my $i (0 .. $#$list) {
            my ($r, $m) = build_request($block, $list->[$i], $i,
                                        $i < $#$list);
            $raw .= $r;
            push @meths, $m;
        }
        my ($resp, $err) = exchange($raw, $timeout);
        for my $m (@meths) {
            my $res = defined $resp ? parse_response(\$resp, $m) : $err;
            $res = "$err ($res)" if !ref $res && $err && $res ne $err;
            push @responses, $res;
        }
        for my $i (0 .. $#responses) {
            check_response($block, $responses[$i], $i, $rep, $dry_run);
        }
        return;
    }

    # Like Test::Nginx, each response is checked (and its body checks
    # run) before the next request is sent, so a check may act between
    # two requests.
    for my $i (0 .. $#$requests) {
        my ($raw, $m) = build_request($block, $requests->[$i]{text}, $i);
        my ($resp, $err) = exchange($raw, $timeout);
        # "--- abort": the client gives up at the timeout (closing the
        # connection), and what it got by then is the response
        $err = undef if $err && $err =~ /^timed out reading/
                        && defined $block->abort;
        my $res = defined $resp ? parse_response(\$resp, $m) : $err;
        $res = "$err ($res)" if !ref $res && $err && $res ne $err;
        check_response($block, $res, $i, $rep, $dry_run);
    }
}

sub check_response {
    my ($block, $res, $idx, $rep, $dry_run) = @_;
    my $name = $block->name;
    return if defined $block->ignore_response;

    if (!ref $res) {
        Test::More::fail("ERROR: client socket: $res - $name");
        return;
    }

    my $code = per_request(scalar $block->error_code, $idx);
    $code = 200 unless defined $code && length $code;
    $code =~ s/^\s+|\s+$//g;
    Test::More::is($res->{code}, $code, "$name - status code ok");

    my $hdrs = per_request(scalar $block->response_headers, $idx);
    for my $l (split /\n/, defined $hdrs ? $hdrs : '') {
        $l =~ s/^\s+|\s+$//g;
        next unless length $l;
        if ($l =~ /^!\s*(\S+)/) {
            my $k = $1;
            Test::More::ok(!defined $res->{headers}{lc $k},
                           "$name - header $k not present");
        } elsif ($l =~ /^([^:]+):\s*(.*)$/) {
            my ($k, $v) = ($1, $2);
            my $got = $res->{headers}{lc $k};
            Test::More::is(defined $got ? join(', ', @$got) : undef, $v,
                           "$name - header $k ok");
        }
    }
    my $hlike = per_request(scalar $block->response_headers_like, $idx);
    for my $l (split /\n/, defined $hlike ? $hlike : '') {
        next unless $l =~ /^\s*([^:]+):\s*(.*?)\s*$/;
        my ($k, $v) = ($1, $2);
        my $got = $res->{headers}{lc $k};
        Test::More::like(defined $got ? join(', ', @$got) : '', qr/$v/s,
                         "$name - header $k like ok");
    }

    my $body = $res->{body};
    my $want = per_request(scalar $block->response_body, $idx);
    if (defined $block->response_body) {
        $want = '' unless defined $want;
        Test::More::is($body, $want,
            "$name - response_body - response is expected (req $rep)");
    }
    my $like = per_request(scalar $block->response_body_like, $idx);
    if (defined $like) {
        my $re = ref $like eq 'Regexp' ? $like : qr/$like/s;
        Test::More::like($body, $re, "$name - response_body - like (req $rep)");
    }

    $_->($block, $body, $idx, $rep, $dry_run) for @ResponseBodyChecks;
}

1;
