# Self-tests of our Test::Nginx::Socket work-alike against plain nginx.
# Every block here uses only what the real Test::Nginx::Socket offers and
# passes under it too; t/002-harness-rules.t checks the rules where the
# two must agree (what error_log sees, a block without --- config...).

use Test::Nginx::Socket 'no_plan';
use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use HotelBlocks;

repeat_each(1);
no_shuffle();
log_level('info');
no_long_string();

# Blocks marked "--- use_master" run with a master and two workers; the
# others in single-process mode (the settings are read per block). The
# harness runs nginx without workers under valgrind.
use_master_blocks(qw(error_log shutdown_error_log));

# Counts the bodies the response body checks saw, to check the hook itself.
my %seen;
add_response_body_check(sub {
    my ($block, $body, $req_idx, $repeated_idx, $dry_run) = @_;
    return unless defined $block->count_bodies;
    $seen{$block->name}++;
    if ($req_idx == $block->count_bodies - 1) {
        is($seen{$block->name}, $block->count_bodies,
           $block->name . " - body check called once per request");
    }
});

run_tests();

__DATA__

=== TEST 1: plain return
--- config
    location = /t {
        return 200 "hello";
    }
--- request
GET /t
--- response_body: hello
--- response_headers
Content-Length: 5
!X-Nothing
--- no_error_log
[error]



=== TEST 2: response_body_like on a body with the final newline
--- config
    location = /t {
        return 200 "hello, world\n";
    }
--- request
GET /t
--- response_body_like: ^hello, \w+$



=== TEST 3: response_body, multi-line, with the final newline
--- config
    location = /t {
        return 200 "hello,\nworld\n";
    }
--- request
GET /t
--- response_body
hello,
world



=== TEST 4: error_code
--- config
    location = /t {
        return 200 "never";
    }
--- request
GET /nowhere
--- error_code: 404
--- response_body_like: 404 Not Found



=== TEST 5: more_headers reach nginx
--- config
    location = /t {
        return 200 "foo=$http_x_foo bar=$http_x_bar";
    }
--- request
GET /t
--- more_headers
X-Foo: hello
X-Bar: world
--- response_body: foo=hello bar=world



=== TEST 6: error_log and no_error_log
--- config
    location /missing {
        root $TEST_NGINX_SERVER_ROOT/html;
    }
--- request
GET /missing/file.html
--- error_code: 404
--- error_log
No such file or directory
[error]
--- no_error_log
[alert]
[emerg]



=== TEST 7: error_log with eval'ed regexes
--- config
    location /missing {
        root $TEST_NGINX_SERVER_ROOT/html;
    }
--- request
GET /missing/other.html
--- error_code: 404
--- error_log eval
[qr/open\(\) ".*other\.html" failed \(2: No such file/, "[error]"]
--- no_error_log eval
[qr/\[crit\]/]



=== TEST 8: must_die on an unknown directive
--- config
    foo_bar on;
--- must_die
--- error_log
unknown directive "foo_bar"
[emerg]



=== TEST 9: request eval array with per-request expectations
--- config
    location = /a {
        return 200 "A";
    }
    location = /b {
        return 404 "B";
    }
    location = /post {
        return 201 "len=$content_length";
    }
--- request eval
["GET /a", "GET /b", "POST /post\nhello world"]
--- error_code eval
[200, 404, 201]
--- response_body eval
["A", "B", "len=11"]
--- count_bodies: 3



=== TEST 10: many requests from an eval'ed list
--- config
    location = /search {
        return 200 "q=$arg_q";
    }
--- request eval
[ map { "GET /search?q=$_" } 1 .. 20 ]
--- response_body eval
[ map { "q=$_" } 1 .. 20 ]
--- count_bodies: 20



=== TEST 11: chunked response bodies are decoded
--- config
    location = /t {
        sub_filter_types *;
        sub_filter_once off;
        sub_filter 'a' 'o';
        return 200 "banana";
    }
--- request
GET /t
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body: bonono



=== TEST 12: pipelined requests on one connection
--- config
    location = /p {
        return 200 "$arg_n:$connection_requests";
    }
--- pipelined_requests eval
["GET /p?n=1", "GET /p?n=2", "GET /p?n=3"]
--- response_body eval
["1:1", "2:2", "3:3"]



=== TEST 13: master process with two workers, graceful shutdown
--- use_master
--- config
    location = /t {
        return 200 "$pid";
    }
--- request
GET /t
--- response_body_like: ^\d+$
--- error_log
start worker processes
--- shutdown_error_log
gracefully shutting down
--- no_shutdown_error_log
[alert]



=== TEST 14: POST with the body in the request section
--- config
    location = /echo {
        return 200 "len=$content_length";
    }
--- request eval
"POST /echo\n0123456789"
--- response_body: len=10



=== TEST 15: error_log is looked for in the lines of each request
--- config
    location /missing {
        root $TEST_NGINX_SERVER_ROOT/html;
    }
--- request eval
["GET /missing/one.html", "GET /missing/two.html"]
--- error_code eval
[404, 404]
--- error_log
No such file or directory
--- no_error_log
[crit]



=== TEST 16: without --- config, the previous block's nginx serves the block
--- request
GET /missing/three.html
--- error_code: 404
--- error_log eval
[qr/open\(\) ".*three\.html" failed/]
