# The rules in which our harness must do as OpenResty's Test::Nginx::Socket
# does, so that a suite that passes under ours passes under it: each case
# below is a small suite, run in a child perl against plain nginx (no
# module), and what it printed (TAP) is checked. The child uses the
# Test::Nginx::Socket this suite would use (the first in @INC: ours with
# prove -I t/lib, OpenResty's when it comes first), so that the same
# expectations hold for both harnesses.
#
#   - error_log is checked after each request against the lines that
#     request added: a line of an earlier request, or of the start-up, is
#     not found by a later request's check;
#   - a block without --- config: the first one bails out, a later one
#     runs against the previous block's nginx;
#   - $TEST_NGINX_SERVER_ROOT is set, $TEST_NGINX_HTML_DIR is not;
#   - the last nginx runs on after run_tests(); shutdown_error_log sees
#     what it wrote when it stopped;
#   - several requests need arrays in their check sections; response_body
#     wins over response_body_like.

use strict;
use warnings;

use File::Temp qw(tempdir);
use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use Test::More;
use HotelNginx qw(dead_port);

plan skip_all => 'not under valgrind or a sanitizer: plain nginx only'
    if $ENV{TEST_NGINX_USE_VALGRIND} || $ENV{TEST_NGINX_LD_PRELOAD};

# where "use Test::Nginx::Socket" finds it
my ($lib) = grep { -f "$_/Test/Nginx/Socket.pm" } @INC;
plan skip_all => 'no Test::Nginx::Socket in @INC (prove -I t/lib)'
    unless $lib;
note "Test::Nginx::Socket from $lib";

my $dir = tempdir('hotel-harness-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $n = 0;

# Runs a suite (its code, then its blocks) in a child perl; returns what
# it printed.
sub run_case {
    my ($code, $blocks) = @_;
    $n++;
    my $file = "$dir/case$n.t";
    open my $fh, '>', $file or die "$file: $!\n";
    print $fh "use Test::Nginx::Socket 'no_plan';\nrepeat_each(1);\n"
              . "no_shuffle();\nlog_level('info');\n$code\n__DATA__\n\n"
              . $blocks;
    close $fh or die "$file: $!\n";
    my $port = dead_port();
    local $ENV{TEST_NGINX_SERVROOT} = "$dir/servroot$n";
    local $ENV{TEST_NGINX_SERVER_PORT} = $port;
    local $ENV{TEST_NGINX_PORT} = $port;
    delete local $ENV{TEST_NGINX_LOAD_MODULES};
    delete local $ENV{TEST_NGINX_HTML_DIR};
    delete local $ENV{TEST_NGINX_SERVER_ROOT};
    my $out = `timeout 120 "$^X" -I"$lib" "$file" 2>&1`;
    return $out;
}

# how many "ok" and "not ok" lines mention $text
sub oks {
    my ($out, $text) = @_;
    my $ok = () = $out =~ /^ok \d+ .*\Q$text\E/mg;
    my $not = () = $out =~ /^not ok \d+ .*\Q$text\E/mg;
    return "$ok ok, $not not ok";
}

my $out = run_case('run_tests();', <<'EOF');
=== TEST 1: a line of the first request only
--- config
    location /missing {
        root $TEST_NGINX_SERVER_ROOT/html;
    }
    location = /ok {
        return 200 "ok";
    }
--- request eval
["GET /missing/x.html", "GET /ok"]
--- error_code eval
[404, 200]
--- error_log
No such file or directory
EOF
is(oks($out, 'pattern "No such file or directory"'), '1 ok, 1 not ok',
   'error_log: a line of request 0 is not found by the check of request 1')
    or diag($out);

$out = run_case('run_tests();', <<'EOF');
=== TEST 1: a start-up line
--- config
    location = /ok {
        return 200 "ok";
    }
--- request eval
["GET /ok", "GET /ok", "GET /ok"]
--- response_body eval
["ok", "ok", "ok"]
--- error_log
using the "epoll" event method
EOF
is(oks($out, 'pattern "using the "epoll" event method"'), '1 ok, 2 not ok',
   'error_log: a start-up line is found by the first request\'s check only')
    or diag($out);

$out = run_case('run_tests();', <<'EOF');
=== TEST 1: no config, none before
--- http_config
    server_tokens off;
--- request
GET /
EOF
like($out, qr/^Bail out!.*No '--- config' section/m,
     'a first block without --- config bails out') or diag($out);

$out = run_case('run_tests();', <<'EOF');
=== TEST 1: a config
--- config
    location = /a {
        return 200 "from the first block";
    }
--- request
GET /a
--- response_body: from the first block



=== TEST 2: no config: the previous block's nginx serves
--- request
GET /a
--- response_body: from the first block
EOF
is(oks($out, 'TEST 2'), '2 ok, 0 not ok',
   'a later block without --- config runs against the previous nginx')
    or diag($out);

$out = run_case('run_tests();', <<'EOF');
=== TEST 1: the html folder is under $TEST_NGINX_SERVER_ROOT
--- config
    location = /f.txt {
        root $TEST_NGINX_SERVER_ROOT/html;
    }
--- user_files
>>> f.txt
in html
--- request
GET /f.txt
--- response_body
in html
EOF
is(oks($out, 'TEST 1'), '2 ok, 0 not ok',
   '$TEST_NGINX_SERVER_ROOT/html holds the user files') or diag($out);

$out = run_case('run_tests();', <<'EOF');
=== TEST 1: $TEST_NGINX_HTML_DIR
--- config
    location / {
        root $TEST_NGINX_HTML_DIR;
    }
--- request
GET /
EOF
like($out, qr/^Bail out!.*TEST_NGINX_HTML_DIR/m,
     '$TEST_NGINX_HTML_DIR is no variable of the harness') or diag($out);

$out = run_case(<<'EOF', <<'EOF');
run_tests();
my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                 PeerPort => server_port(), Proto => 'tcp');
ok($sock, 'AFTER: nginx still listens after run_tests()');
EOF
=== TEST 1: the last block
--- config
    location = /ok {
        return 200 "ok";
    }
--- request
GET /ok
--- shutdown_error_log
(SIGQUIT) received
EOF
is(oks($out, 'AFTER:'), '1 ok, 0 not ok',
   'the last nginx runs on after run_tests()') or diag($out);
is(oks($out, 'pattern "(SIGQUIT) received"'), '1 ok, 0 not ok',
   'shutdown_error_log: checked once that nginx stopped, at the end')
    or diag($out);

$out = run_case('run_tests();', <<'EOF');
=== TEST 1: two requests, one error_code for both
--- config
    location = /ok {
        return 200 "ok";
    }
--- request eval
["GET /ok", "GET /ok"]
--- error_code: 200
EOF
like($out, qr/^Bail out!/m,
     'several requests: a plain value in a check section bails out')
    or diag($out);

$out = run_case('run_tests();', <<'EOF');
=== TEST 1: response_body and response_body_like
--- config
    location = /ok {
        return 200 "abc";
    }
--- request
GET /ok
--- response_body: abc
--- response_body_like: ^never$
EOF
is(oks($out, 'TEST 1'), '2 ok, 0 not ok',
   'response_body_like is not looked at beside response_body')
    or diag($out);

done_testing;
