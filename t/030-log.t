# hotel_kafka_log: one record per request, built in the log phase from
# variables (arguments, upstream response headers), read back from the
# broker and decoded by protoc, field by field; if=, topic=, currency= and
# the default currency, position=; several directives; inheritance and
# "off"; values that cannot become a record are counted under "skipped".

use Test::Nginx::Socket 'no_plan';
use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use HotelKafka;
use Time::HiRes ();

repeat_each(1);
no_shuffle();
log_level('info');
add_response_body_check(\&check_kafka_block);

# Two more checks of this suite, on sections of their own (which the real
# Test::Nginx ignores, as it does kafka_topic):
#
#   --- kafka_search_ids         the locations answer with the search id
#                                ($hotel_kafka_search_id);
#                                every record of the block's topic has
#                                the search_id of one of the block's
#                                requests, every request has records, and
#                                search_time_ms is now, in milliseconds
#   --- kafka_other_topic: NAME  and --- kafka_other_records: a second
#                                topic of the block, as kafka_topic and
#                                kafka_records
my %SearchIds;
add_response_body_check(sub {
    my ($block, $body, $req_idx, $rep, $dry_run) = @_;
    return if $dry_run;
    my $name = $block->name;
    my $reqs = $block->request;
    my $nreq = ref $reqs eq 'ARRAY' ? scalar @$reqs : 1;

    (my $id = defined $body ? $body : '') =~ s/\s+//g;
    push @{ $SearchIds{$name} }, $id if $id =~ /^[0-9a-f]{32}$/;
    return unless ($req_idx || 0) == $nreq - 1;
    my $ids = delete $SearchIds{$name} || [];

    if (defined $block->kafka_search_ids) {
        my $topic = $block->kafka_topic;
        $topic =~ s/^\s+|\s+$//g;
        # check_kafka_block, registered first, has waited for the records
        my @recs = kafka_read(kafka_topic($topic));
        my %asked = map { $_ => 1 } @$ids;
        my %seen = map { $_->{search_id} => 1 } @recs;
        my $now = Time::HiRes::time() * 1000;
        Test::More::is(scalar @$ids, $nreq,
                       "$name - every response is a request id");
        Test::More::ok(@recs && !grep({ !$asked{$_->{search_id}} } @recs),
                       "$name - every record has its request's search_id")
            or Test::More::diag(join ' ', 'asked:', @$ids, 'got:',
                                map { $_->{search_id} } @recs);
        Test::More::ok(!grep({ !$seen{$_} } @$ids),
                       "$name - every request gave records");
        Test::More::ok(@recs && !grep({ $_->{search_time_ms} < $now - 60000
                                        || $_->{search_time_ms} > $now + 2000 }
                                      @recs),
                       "$name - search_time_ms is the request's time in ms")
            or Test::More::diag("now $now, got: " . join ' ',
                                map { $_->{search_time_ms} } @recs);
    }

    if (defined $block->kafka_other_topic) {
        my $topic = $block->kafka_other_topic;
        $topic =~ s/^\s+|\s+$//g;
        kafka_expect_records(kafka_topic($topic),
            parse_kafka_records_section($block->kafka_other_records),
            settle => 0.5, name => "$name (topic $topic)");
    }
});

run_tests();

__DATA__

=== TEST 1: a record from request arguments, every field
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_schema_headers on;
--- config
    location = /hotel {
        hotel_kafka_topic $TEST_NGINX_RUN_ID-log-args;
        hotel_kafka_log id=$arg_id rate=$arg_rate currency=$arg_cur position=$arg_pos;
        return 200 "$hotel_kafka_search_id\n";
    }
--- request eval
["GET /hotel?id=lis-1&rate=129.99&cur=eur&pos=3",
 "GET /hotel?id=1234&rate=80.5&cur=USD",
 "GET /hotel?id=h%20x&rate=1.2999e2&cur=Chf&pos=4294967295",
 "GET /hotel?id=junk-pos&rate=5&cur=EUR&pos=3x",
 "GET /hotel?id=big-pos&rate=6&cur=EUR&pos=4294967296"]
--- response_body_like eval
[qr/^[0-9a-f]{32}$/, qr/^[0-9a-f]{32}$/, qr/^[0-9a-f]{32}$/,
 qr/^[0-9a-f]{32}$/, qr/^[0-9a-f]{32}$/]
--- kafka_topic: log-args
--- kafka_records
hotel_id=lis-1 key=lis-1 rate_micros=129990000 currency=EUR position=3 header.schema=hotelsearch.v1.HotelSearchResult header.schema-version=1
hotel_id=1234 key=1234 rate_micros=80500000 currency=USD position=0 header.schema=hotelsearch.v1.HotelSearchResult header.schema-version=1
hotel_id=h%20x key=h%20x rate_micros=129990000 currency=CHF position=4294967295 header.schema=hotelsearch.v1.HotelSearchResult header.schema-version=1
hotel_id=junk-pos rate_micros=5000000 currency=EUR position=0
hotel_id=big-pos rate_micros=6000000 currency=EUR position=0
--- kafka_search_ids
--- no_error_log
[error]



=== TEST 2: a record from the upstream's response headers; no id, no record
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;

    server {
        listen unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock;

        location /api/hotel {
            add_header X-Hotel-Id $arg_id;
            add_header X-Hotel-Rate $arg_rate;
            add_header X-Hotel-Currency $arg_cur;
            add_header X-Hotel-Position $arg_pos;
            return 200 "hotel $arg_id\n";
        }
    }
--- config
    location /api/ {
        proxy_pass http://unix:$TEST_NGINX_SERVER_ROOT/html/backend.sock;
        hotel_kafka_topic $TEST_NGINX_RUN_ID-log-upstream;
        hotel_kafka_log id=$upstream_http_x_hotel_id
                        rate=$upstream_http_x_hotel_rate
                        currency=$upstream_http_x_hotel_currency
                        position=$upstream_http_x_hotel_position
                        if=$upstream_http_x_hotel_id;
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
["GET /api/hotel?id=up-1&rate=99.90&cur=gbp&pos=2",
 "GET /api/hotel?id=up-2&rate=1000&cur=EUR",
 "GET /api/hotel?rate=5&cur=EUR",
 "GET /status"]
--- response_body_like eval
[qr/^hotel up-1$/, qr/^hotel up-2$/, qr/^hotel $/,
 qr/^\{"produced":2,.*"skipped":\{"no_id":0,"bad_id":0,"no_rate":0,"bad_rate":0,"negative_rate":0,"no_currency":0,"bad_currency":0,"not_object":0\}/]
--- kafka_topic: log-upstream
--- kafka_records
hotel_id=up-1 key=up-1 rate_micros=99900000 currency=GBP position=2
hotel_id=up-2 key=up-2 rate_micros=1000000000 currency=EUR position=0
--- no_error_log
[error]



=== TEST 3: if= skips the record when empty or "0", and counts nothing
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /hotel {
        hotel_kafka_topic $TEST_NGINX_RUN_ID-log-if;
        hotel_kafka_log id=$arg_id rate=10 currency=EUR if=$arg_send;
        return 200 "ok\n";
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
["GET /hotel?id=if-1&send=1",
 "GET /hotel?id=if-0&send=0",
 "GET /hotel?id=if-none",
 "GET /hotel?id=if-empty&send=",
 "GET /hotel?id=if-00&send=00",
 "GET /hotel?id=if-no&send=no",
 "GET /status"]
--- response_body_like eval
["^ok\$", "^ok\$", "^ok\$", "^ok\$", "^ok\$", "^ok\$",
 qr/^\{"produced":3,"delivered":\d+,"failed":0,"delivered_bytes":\d+,"dropped":\{"queue_full":0,"too_large":0,"no_producer":0,"other":0\},"skipped":\{"no_id":0,"bad_id":0,"no_rate":0,"bad_rate":0,"negative_rate":0,"no_currency":0,"bad_currency":0,"not_object":0\},"pages":0,/]
--- kafka_topic: log-if
--- kafka_records
hotel_id=if-1 rate_micros=10000000 currency=EUR
hotel_id=if-00 rate_micros=10000000 currency=EUR
hotel_id=if-no rate_micros=10000000 currency=EUR
--- no_error_log
[error]



=== TEST 4: topic= chooses the topic; without it, hotel_kafka_topic
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /hotel {
        hotel_kafka_topic $TEST_NGINX_RUN_ID-log-topic-default;
        hotel_kafka_log id=named-$arg_n rate=1 currency=EUR topic=$TEST_NGINX_RUN_ID-log-topic-named;
        hotel_kafka_log id=default-$arg_n rate=2 currency=EUR;
        return 200 "$hotel_kafka_search_id";
    }
--- request eval
["GET /hotel?n=1", "GET /hotel?n=2"]
--- response_body_like eval
[qr/^[0-9a-f]{32}$/, qr/^[0-9a-f]{32}$/]
--- kafka_topic: log-topic-named
--- kafka_records
hotel_id=named-1 rate_micros=1000000 currency=EUR
hotel_id=named-2 rate_micros=1000000 currency=EUR
--- kafka_search_ids
--- kafka_other_topic: log-topic-default
--- kafka_other_records
hotel_id=default-1 rate_micros=2000000 currency=EUR
hotel_id=default-2 rate_micros=2000000 currency=EUR
--- no_error_log
[error]



=== TEST 5: currency= upper-cased; without it (or empty), the default currency
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    hotel_kafka_default_currency CHF;
    hotel_kafka_topic $TEST_NGINX_RUN_ID-log-currency;

    location = /hotel {
        hotel_kafka_log id=$arg_id rate=1 currency=$arg_cur;
        return 200 "ok\n";
    }
    location = /fixed {
        hotel_kafka_default_currency JPY;
        hotel_kafka_log id=$arg_id rate=1000;
        return 200 "ok\n";
    }
--- request eval
["GET /hotel?id=c-gbp&cur=gbp",
 "GET /hotel?id=c-none",
 "GET /hotel?id=c-empty&cur=",
 "GET /fixed?id=c-jpy",
 "GET /fixed?id=c-jpy2&cur=usd"]
--- kafka_topic: log-currency
--- kafka_records
hotel_id=c-gbp rate_micros=1000000 currency=GBP
hotel_id=c-none rate_micros=1000000 currency=CHF
hotel_id=c-empty rate_micros=1000000 currency=CHF
hotel_id=c-jpy rate_micros=1000000000 currency=JPY
hotel_id=c-jpy2 rate_micros=1000000000 currency=JPY
--- no_error_log
[error]



=== TEST 6: several hotel_kafka_log in one location, several records per request
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /page {
        hotel_kafka_topic $TEST_NGINX_RUN_ID-log-several;
        hotel_kafka_log id=$arg_a rate=$arg_ra currency=EUR position=0;
        hotel_kafka_log id=$arg_b rate=$arg_rb currency=USD position=1;
        hotel_kafka_log id=$arg_c rate=$arg_rc currency=GBP position=2 if=$arg_c;
        hotel_kafka_search_id $request_id;
        return 200 "$request_id";
    }
--- request eval
["GET /page?a=s1&ra=10&b=s2&rb=20.5&c=s3&rc=30.25",
 "GET /page?a=s4&ra=40&b=s5&rb=50"]
--- kafka_topic: log-several
--- kafka_records
hotel_id=s1 rate_micros=10000000 currency=EUR position=0
hotel_id=s2 rate_micros=20500000 currency=USD position=1
hotel_id=s3 rate_micros=30250000 currency=GBP position=2
hotel_id=s4 rate_micros=40000000 currency=EUR position=0
hotel_id=s5 rate_micros=50000000 currency=USD position=1
--- kafka_search_ids
--- no_error_log
[error]



=== TEST 7: inherited from the server and the parent location; a level with its own replaces; off
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    hotel_kafka_topic $TEST_NGINX_RUN_ID-log-inherit;
    hotel_kafka_log id=srv-$arg_id rate=1 currency=EUR;

    location = /inherit {
        return 200 "ok\n";
    }
    location = /own {
        hotel_kafka_log id=own-$arg_id rate=2 currency=EUR;
        return 200 "ok\n";
    }
    location = /off {
        hotel_kafka_log off;
        return 200 "ok\n";
    }
    location /parent {
        hotel_kafka_log id=parent-$arg_id rate=3 currency=EUR;
        return 200 "ok\n";

        location /parent/child {
            return 200 "ok\n";
        }
        location /parent/quiet {
            hotel_kafka_log off;
            return 200 "ok\n";
        }
    }
--- request eval
["GET /inherit?id=a", "GET /own?id=b", "GET /off?id=c",
 "GET /parent?id=d", "GET /parent/child?id=e", "GET /parent/quiet?id=f"]
--- kafka_topic: log-inherit
--- kafka_records
hotel_id=srv-a rate_micros=1000000
hotel_id=own-b rate_micros=2000000
hotel_id=parent-d rate_micros=3000000
hotel_id=parent-e rate_micros=3000000
--- no_error_log
[error]



=== TEST 8: values that cannot become a record are counted under "skipped"
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /hotel {
        hotel_kafka_topic $TEST_NGINX_RUN_ID-log-skips;
        hotel_kafka_log id=$arg_id rate=$arg_rate currency=$arg_cur;
        return 200 "ok\n";
    }
    location = /status {
        hotel_kafka_status;
    }
--- request eval
["GET /hotel?rate=1&cur=EUR",
 "GET /hotel?id=-&rate=1&cur=EUR",
 "GET /hotel?id=" . ("x" x 129) . "&rate=1&cur=EUR",
 "GET /hotel?id=a&cur=EUR",
 "GET /hotel?id=b&rate=cheap&cur=EUR",
 "GET /hotel?id=c&rate=0.0000001&cur=EUR",
 "GET /hotel?id=d&rate=1e400&cur=EUR",
 "GET /hotel?id=e&rate=NaN&cur=EUR",
 "GET /hotel?id=f&rate=-5&cur=EUR",
 "GET /hotel?id=g&rate=0&cur=EUR",
 "GET /hotel?id=h&rate=1",
 "GET /hotel?id=i&rate=1&cur=EURO",
 "GET /hotel?id=j&rate=1&cur=E1R",
 "GET /hotel?id=good&rate=12.34&cur=gbp",
 "GET /hotel?id=" . ("y" x 128) . "&rate=0.000001&cur=EUR",
 "GET /status"]
--- response_body_like eval
[("^ok\$") x 15,
 qr/^\{"produced":2,"delivered":\d+,"failed":0,"delivered_bytes":\d+,"dropped":\{"queue_full":0,"too_large":0,"no_producer":0,"other":0\},"skipped":\{"no_id":2,"bad_id":1,"no_rate":1,"bad_rate":4,"negative_rate":2,"no_currency":1,"bad_currency":2,"not_object":0\},"pages":0,/]
--- kafka_topic: log-skips
--- kafka_records eval
"hotel_id=good rate_micros=12340000 currency=GBP\n"
. "hotel_id=" . ("y" x 128) . " rate_micros=1 currency=EUR\n"
--- no_error_log
[error]



=== TEST 9: an id with a control character or invalid UTF-8 is a bad id, as on a page
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config eval
qq{
    hotel_kafka_topic \$TEST_NGINX_RUN_ID-log-utf8;

    location = /tab {
        set \$ctl_id "tab\tid";
        hotel_kafka_log id=\$ctl_id rate=1 currency=EUR;
        return 200 "ok\\n";
    }
    location = /del {
        set \$ctl_id "del\x7fid";
        hotel_kafka_log id=\$ctl_id rate=1 currency=EUR;
        return 200 "ok\\n";
    }
    location = /hotel {
        hotel_kafka_log id=\$arg_id rate=1 currency=EUR;
        return 200 "ok\\n";
    }
    location = /status {
        hotel_kafka_status;
    }
}
--- request eval
["GET /tab", "GET /del",
 "GET /hotel?id=a\xffb",
 "GET /hotel?id=\xed\xa0\x80",
 "GET /hotel?id=\xc0\xaf",
 "GET /hotel?id=\xf4\x90\x80\x80",
 "GET /hotel?id=\xe2\x82",
 "GET /hotel?id=\xc3\xa9t\xc3\xa9",
 "GET /hotel?id=\xf0\x9f\x8f\xa8-\xe2\x82\xac",
 "GET /status"]
--- response_body_like eval
[("^ok\$") x 9,
 qr/^\{"produced":2,.*"skipped":\{"no_id":0,"bad_id":7,"no_rate":0,/]
--- kafka_topic: log-utf8
--- kafka_records
hotel_id="\303\251t\303\251" rate_micros=1000000 currency=EUR
hotel_id="\360\237\217\250-\342\202\254" rate_micros=1000000 currency=EUR
--- no_error_log
[error]
