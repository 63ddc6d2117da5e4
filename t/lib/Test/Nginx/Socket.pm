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
#   more_headers (text or eval [list])      "Name: value" lines
#   error_code  response_body  response_body_like  response_headers
#   response_headers_like                   (scalars, or eval [one per
#                                           request] when there are several)
#   ignore_response                         skip response checks
#   error_log  no_error_log                 lines or eval [qr//, "str"]
#   shutdown_error_log no_shutdown_error_log checked after nginx stopped
#   must_die (optionally: expected exit code)
#   wait  timeout  abort  log_level  user_files
#
# Environment: TEST_NGINX_BINARY, TEST_NGINX_SERVER_PORT or TEST_NGINX_PORT,
# TEST_NGINX_SERVROOT, TEST_NGINX_LOAD_MODULES, TEST_NGINX_USE_HUP,
# TEST_NGINX_NO_CLEAN, TEST_NGINX_USE_VALGRIND, TEST_NGINX_NO_SHUFFLE,
# TEST_NGINX_SLEEP, TEST_NGINX_VERBOSE; of our own, TEST_NGINX_QUIT_TIMEOUT
# (seconds, default 15) and TEST_NGINX_LD_PRELOAD. For the blocks it sets
# TEST_NGINX_SERVER_PORT and TEST_NGINX_SERVER_ROOT (servroot; the html
# folder is its html/), as the real one does.
#
# Where the real harness's behaviour is easy to get wrong, we do as it does,
# so that a suite that passes here passes there:
#   - error_log and no_error_log are checked after every request (and every
#     pipelined response) against the lines error.log gained since the
#     previous check (the first check of a block also sees nginx's start-up
#     lines), after "wait" seconds; not against the block's whole log. A
#     line written at start-up or by an earlier request of the block is not
#     found by a later request's check.
#   - a block without "--- config" is run against the previous block's
#     nginx, as it is (no restart: its own http_config, main_config and
#     user_files would be ignored, so we refuse them); with no previous
#     config, or with must_die, we bail out.
#   - shutdown_error_log is checked once the block's nginx has stopped:
#     when the next block starts, or when the suite ends. The last nginx
#     runs on after run_tests() until the end of the suite (under valgrind,
#     each block's nginx is stopped after the block).
#   - start-up errors go to logs/error.log (nginx -e): must_die blocks look
#     there only.
#   - several requests want one value per request (an eval'ed array) in
#     every check section, or we bail out; response_body_like is ignored
#     when response_body is given; the last preprocessor added runs first.
#
# Differences from the real thing worth knowing: nginx always runs in the
# foreground as our child ("daemon off"); checks that the real harness does
# not make ("nginx did not exit", valgrind findings, worker crashes,
# sanitizer reports) only produce a test when they fail, so "plan tests =>
# N" counts stay the same under both harnesses.

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
my $ServerPort   = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT}
                   || 1984;
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
# before each reading of error.log for a check: lines of the log phase are
# written after the response (the real harness's pause)
my $LogPause     = 3 * ($ENV{TEST_NGINX_SLEEP} || 0.015);

# Suites reference these in their config sections (the real harness sets
# the same two).
$ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

# The nginx we started (our child) and what we know about it.
my $NginxPid;
my $StartedFromHere = $$;
my $PrevConfig;       # the config section of the last block that had one
my $PrevBlock;        # its shutdown sections wait for its nginx to stop
my $LogPos = 0;       # error.log up to here was seen by an earlier check
my $BailedOut = 0;

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
# the last one added runs first, as in the real harness
sub add_block_preprocessor  { unshift @BlockPreprocessors, shift }
sub add_response_body_check { push @ResponseBodyChecks, shift }
sub env_to_nginx       { push @EnvToNginx, @_ }
sub server_port        { $ServerPort }
sub server_port_for_client { $ServerPort }
sub server_root        { $ServRoot }
sub html_dir           { $HtmlDir }

sub bail_out {
    my $msg = shift;
    $BailedOut = 1;
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
        $PrevBlock = $block;
    }
    # The last block's nginx runs on until the suite ends (END below), as
    # with the real harness: a suite that wants the port after run_tests()
    # must not count on having it.
}

END {
    # The last nginx, and the shutdown checks of its block; nothing is left
    # behind when a suite dies half way either.
    if ($$ == $StartedFromHere && !$BailedOut) {
        local $?;
        if ($ENV{TEST_NGINX_NO_CLEAN}) {
            Test::More::diag("TEST_NGINX_NO_CLEAN: leaving nginx $NginxPid "
                             . "running") if $NginxPid;
        } else {
            stop_nginx('END') if $NginxPid;
            check_shutdown_log($PrevBlock);
        }
    }
}

sub run_block {
    my $block = shift;
    my $name = $block->name;

    my $config = $block->config;
    if (!defined $config) {
        reuse_nginx($block);
    } elsif (defined $block->must_die) {
        $PrevConfig = $config;
        stop_previous($name);
        run_must_die($block, build_config($block));
        return;
    } else {
        $PrevConfig = $config;
        return unless restart_nginx($block, build_config($block));
    }

    my @requests = get_requests($block);
    bail_out("$name - request empty") unless @requests;
    $LogPos = 0;
    for my $rep (0 .. $RepeatEach - 1) {
        write_user_files($block) if $rep > 0 && defined $config;
        run_requests($block, \@requests, $rep);
    }

    # Valgrind's report for the block needs its nginx gone.
    stop_nginx($name) if $UseValgrind;
}

# No "--- config": the real harness neither restarts nor reconfigures, the
# previous block's nginx (if any) serves this one.
sub reuse_nginx {
    my $block = shift;
    my $name = $block->name;
    bail_out("$name - No '--- config' section specified and could not get "
             . "previous one") unless defined $PrevConfig;
    for my $sec (qw(must_die main_config http_config user_files)) {
        bail_out("$name - --- $sec without --- config: Test::Nginx::Socket "
                 . "would keep the previous block's nginx and ignore it")
            if defined $block->$sec;
    }
    verbose("$name: no --- config, the previous block's nginx serves it");
}

# Stops the previous block's nginx, then checks that block's shutdown
# sections, before servroot is made afresh.
sub stop_previous {
    my $name = shift;
    stop_nginx($name) if $NginxPid;
    check_shutdown_log($PrevBlock);
}

sub restart_nginx {
    my ($block, $config) = @_;
    my $name = $block->name;

    if ($ENV{TEST_NGINX_USE_HUP} && $MasterOn && !$UseValgrind
        && $NginxPid && nginx_alive())
    {
        # Like the real harness: a fresh error.log (the master reopens it
        # on USR1), the new configuration, then HUP; the master gets time
        # to start the new workers and retire the old ones.
        check_shutdown_log($PrevBlock);
        unlink $ErrLogFile;
        write_file($ConfFile, $config);
        write_user_files($block);
        verbose("USR1, HUP $NginxPid for $name");
        kill 'USR1', $NginxPid;
        sleep 0.1;
        kill 'HUP', $NginxPid;
        sleep 0.5;
        return 1;
    }
    stop_previous($name);
    setup_server_root();
    write_file($ConfFile, $config);
    write_user_files($block);
    return start_nginx($name);
}

sub run_must_die {
    my ($block, $config) = @_;
    my $name = $block->name;
    my $expect_code = $block->must_die;
    $expect_code =~ s/^\s+|\s+$//g;

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
        # nginx -e: its start-up errors are in error.log (and on stderr)
        check_error_log($block, read_from($ErrLogFile, 0), $rep);
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
    # -e: start-up errors go to error.log too, as with the real harness
    my @cmd = ($NginxBinary, '-e', $ErrLogFile, '-p', "$ServRoot/",
               '-c', 'conf/nginx.conf');
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
                 . "(set TEST_NGINX_SERVER_PORT)");
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

# The patterns of an error_log-like section: its lines as they are (empty
# ones left out), or the eval'ed list of qr// and substrings.
sub log_patterns {
    my $value = shift;
    return () unless defined $value;
    return @$value if ref $value eq 'ARRAY';
    return ($value) if ref $value;
    chomp(my $text = $value);
    return grep { length } split /\n+/, $text;
}

sub line_matches {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ $pat : index($line, $pat) >= 0;
}

# What error.log gained since the block's previous check (all of it for the
# first), after the real harness's pause.
sub new_log_lines {
    my $block = shift;
    sleep $LogPause
        if defined $block->error_log || defined $block->no_error_log;
    my $text = read_from($ErrLogFile, $LogPos);
    $LogPos += length $text;
    check_crashes($block->name, $text);
    return $text;
}

sub check_error_log {
    my ($block, $log, $rep, $want_sec, $not_sec) = @_;
    $want_sec ||= 'error_log';
    $not_sec ||= 'no_error_log';
    my $name = $block->name;
    my @lines = split /\n/, $log;

    for my $pat (log_patterns(scalar $block->$want_sec)) {
        my $found = grep { line_matches($_, $pat) } @lines;
        Test::More::ok($found,
            "$name - pattern \"$pat\" matches a line in error.log (req $rep)");
    }
    for my $pat (log_patterns(scalar $block->$not_sec)) {
        my @hits = grep { line_matches($_, $pat) } @lines;
        Test::More::ok(!@hits,
            "$name - pattern \"$pat\" should not match any line in error.log "
            . "(req $rep)")
          or Test::More::diag("matched: $hits[0]");
    }
}

# A block's shutdown sections, once its nginx has stopped: against what
# error.log gained since the block's last check. The real harness cannot
# check them when it reloads instead of restarting (TEST_NGINX_USE_HUP):
# skipped then.
sub check_shutdown_log {
    my $block = shift or return;
    my @pats = (log_patterns(scalar $block->shutdown_error_log),
                log_patterns(scalar $block->no_shutdown_error_log));
    return unless @pats;
    if ($ENV{TEST_NGINX_USE_HUP}) {
        SKIP: {
            Test::More::skip($block->name . ' - shutdown_error_log: nginx '
                             . 'is reloaded (TEST_NGINX_USE_HUP)',
                             scalar @pats);
        }
        return;
    }
    check_error_log($block, read_from($ErrLogFile, $LogPos), 0,
                    'shutdown_error_log', 'no_shutdown_error_log');
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

# more_headers: one value for every request, or an eval'ed array with one
# value per request.
sub per_request {
    my ($value, $idx) = @_;
    return $value unless ref $value eq 'ARRAY';
    return $value->[$idx];
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

# One request after the other (each response checked, and its body checks
# run, before the next request is sent, so that a check may act between two
# requests), or the pipelined ones on one connection; after each response
# the block's "wait", then error_log and no_error_log against what the log
# gained.
sub run_requests {
    my ($block, $requests, $rep) = @_;
    my $timeout = $block->timeout || 3;
    $timeout =~ s/s$//;
    my $logs = sub {
        sleep $block->wait if $block->wait;
        check_error_log($block, new_log_lines($block), $rep);
    };

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
        for my $i (0 .. $#meths) {
            my $res = defined $resp ? parse_response(\$resp, $meths[$i])
                                    : $err;
            $res = "$err ($res)" if !ref $res && $err && $res ne $err;
            check_response($block, $res, $i, $rep, 1);
            $logs->();
        }
        return;
    }

    my $many = @$requests > 1;
    for my $i (0 .. $#$requests) {
        my ($raw, $m) = build_request($block, $requests->[$i]{text}, $i);
        my ($resp, $err) = exchange($raw, $timeout);
        # "--- abort": the client gives up at the timeout (closing the
        # connection), and what it got by then is the response
        $err = undef if $err && $err =~ /^timed out reading/
                        && defined $block->abort;
        my $res = defined $resp ? parse_response(\$resp, $m) : $err;
        $res = "$err ($res)" if !ref $res && $err && $res ne $err;
        check_response($block, $res, $i, $rep, $many);
        $logs->();
    }
}

# The value of a check section for request $idx: with several requests it
# must be an eval'ed array, one value per request (the real harness bails
# out otherwise); with one, a plain value or a one-element array.
sub indexed {
    my ($block, $sec, $idx, $many) = @_;
    my $value = $block->$sec;
    return undef unless defined $value;
    if ($many) {
        return $value->[$idx] if ref $value eq 'ARRAY';
        bail_out($block->name . " - --- $sec: several requests want an "
                 . "eval'ed array, one value per request");
    }
    return ref $value eq 'ARRAY' ? $value->[0] : $value;
}

sub check_response {
    my ($block, $res, $idx, $rep, $many) = @_;
    my $name = $block->name;
    # Real Test::Nginx sets this when it skips tests for a directive the
    # nginx lacks; we never skip, but body checks get the argument.
    my $dry_run = 0;
    return if defined $block->ignore_response;

    if (!ref $res) {
        Test::More::fail("ERROR: client socket: $res - $name");
        return;
    }

    my $code = indexed($block, 'error_code', $idx, $many);
    $code = 200 unless defined $code && length $code;
    $code =~ s/^\s+|\s+$//g;
    Test::More::is($res->{code}, $code, "$name - status code ok");

    my $hdrs = indexed($block, 'response_headers', $idx, $many);
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
    my $hlike = indexed($block, 'response_headers_like', $idx, $many);
    for my $l (split /\n/, defined $hlike ? $hlike : '') {
        next unless $l =~ /^\s*([^:]+):\s*(.*?)\s*$/;
        my ($k, $v) = ($1, $2);
        my $got = $res->{headers}{lc $k};
        Test::More::like(defined $got ? join(', ', @$got) : '', qr/$v/s,
                         "$name - header $k like ok");
    }

    # response_body wins over response_body_like, as in the real harness
    my $body = $res->{body};
    if (defined $block->response_body) {
        my $want = indexed($block, 'response_body', $idx, $many);
        if (ref $want) {
            Test::More::like($body, $want,
                "$name - response_body - like (req $rep)");
        } else {
            $want = expand_env($want, $name) if defined $want;
            Test::More::is($body, $want,
                "$name - response_body - response is expected (req $rep)");
        }
    } elsif (defined $block->response_body_like) {
        my $like = indexed($block, 'response_body_like', $idx, $many);
        $like = '' unless defined $like;
        Test::More::like($body, qr/$like/s,
                         "$name - response_body - like (req $rep)");
    }

    $_->($block, $body, $idx, $rep, $dry_run) for @ResponseBodyChecks;
}

1;
