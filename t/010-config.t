# Configuration: every bad configuration dies with its [emerg] message
# (arity, values, contexts, librdkafka's own words for Kafka properties,
# contradictions found only by creating a producer, JSON paths), and good
# ones start: a full configuration without a warning, and a module that is
# loaded but not used creates no producer.
#
# The expected messages are matched without nginx's "nginx: " prefix or
# the pid: both harnesses start nginx with -e, and look for them in
# error.log.

use Test::Nginx::Socket 'no_plan';
use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }    # t/lib last: helpers only
use HotelBlocks;

repeat_each(1);
no_shuffle();
log_level('info');
add_response_body_check(\&check_block_sections);

# Blocks about the http{} level have no server configuration of their own:
# an empty one. (Without "--- config" Test::Nginx::Socket would run the
# block against the previous block's nginx, and bail out on the first.)
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => '') unless defined $block->config;
});

run_tests();

__DATA__

=== TEST 1: hotel_kafka_brokers without an address
--- http_config
    hotel_kafka_brokers;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_brokers" directive\E/]



=== TEST 2: hotel_kafka_brokers with two arguments
--- http_config
    hotel_kafka_brokers 127.0.0.1:1 127.0.0.1:2;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_brokers" directive\E/]



=== TEST 3: hotel_kafka_conf with a name only
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_conf linger.ms;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_conf" directive\E/]



=== TEST 4: hotel_kafka_conf with three arguments
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_conf linger.ms 5 6;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_conf" directive\E/]



=== TEST 5: hotel_kafka_flush_timeout without a time
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_flush_timeout;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_flush_timeout" directive\E/]



=== TEST 6: hotel_kafka_flush_timeout with two times
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_flush_timeout 1s 2s;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_flush_timeout" directive\E/]



=== TEST 7: hotel_kafka_search_results without an argument
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_search_results;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_search_results" directive\E/]



=== TEST 8: hotel_kafka_search_results with a second argument that is not if=
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_search_results on off;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid parameter "off"\E/]



=== TEST 9: hotel_kafka_topic without an argument
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_topic;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_topic" directive\E/]



=== TEST 10: hotel_kafka_topic with two arguments
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_topic a b;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_topic" directive\E/]



=== TEST 11: hotel_kafka_json_results without an argument
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_json_results;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_json_results" directive\E/]



=== TEST 12: hotel_kafka_json_results with two arguments
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_json_results a b;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_json_results" directive\E/]



=== TEST 13: hotel_kafka_json_id without an argument
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_json_id;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_json_id" directive\E/]



=== TEST 14: hotel_kafka_json_id with two arguments
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_json_id a b;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_json_id" directive\E/]



=== TEST 15: hotel_kafka_json_rate without an argument
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_json_rate;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_json_rate" directive\E/]



=== TEST 16: hotel_kafka_json_rate with two arguments
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_json_rate a b;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_json_rate" directive\E/]



=== TEST 17: hotel_kafka_json_currency without an argument
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_json_currency;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_json_currency" directive\E/]



=== TEST 18: hotel_kafka_json_currency with two arguments
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_json_currency a b;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_json_currency" directive\E/]



=== TEST 19: hotel_kafka_default_currency without an argument
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_default_currency;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_default_currency" directive\E/]



=== TEST 20: hotel_kafka_default_currency with two arguments
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_default_currency EUR USD;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_default_currency" directive\E/]



=== TEST 21: hotel_kafka_status_codes without a code
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_status_codes;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_status_codes" directive\E/]



=== TEST 22: hotel_kafka_log without a parameter
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_log;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_log" directive\E/]



=== TEST 23: hotel_kafka_status with two formats
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_status json prometheus;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid number of arguments in "hotel_kafka_status" directive\E/]



=== TEST 24: hotel_kafka_search_results maybe
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_search_results maybe;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid value "maybe" in "hotel_kafka_search_results" directive, it must be "on" or "off"\E/]



=== TEST 25: hotel_kafka_flush_timeout abc
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_flush_timeout abc;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Q"hotel_kafka_flush_timeout" directive invalid value\E/]



=== TEST 26: hotel_kafka_status_codes 99
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_status_codes 200 99;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid status code "99"\E/]



=== TEST 27: hotel_kafka_status_codes 600
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_status_codes 200 600;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid status code "600"\E/]



=== TEST 28: hotel_kafka_status_codes abc
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_status_codes 200 abc;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid status code "abc"\E/]



=== TEST 29: hotel_kafka_status_codes -200
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_status_codes 200 -200;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid status code "-200"\E/]



=== TEST 30: hotel_kafka_default_currency e-r
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_default_currency e-r;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid currency "e-r", expected 3 letters (ISO 4217)\E/]



=== TEST 31: hotel_kafka_default_currency EURO
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_default_currency EURO;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid currency "EURO", expected 3 letters (ISO 4217)\E/]



=== TEST 32: hotel_kafka_default_currency EU
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_default_currency EU;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid currency "EU", expected 3 letters (ISO 4217)\E/]



=== TEST 33: hotel_kafka_default_currency E1R
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_default_currency E1R;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid currency "E1R", expected 3 letters (ISO 4217)\E/]



=== TEST 34: hotel_kafka_status xml
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_status xml;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid parameter "xml"\E/]



=== TEST 35: hotel_kafka_log without id=
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_log rate=$arg_rate currency=EUR;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Q"hotel_kafka_log" requires "id=" and "rate=" parameters\E/]



=== TEST 36: hotel_kafka_log without rate=
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_log id=$arg_id currency=EUR;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Q"hotel_kafka_log" requires "id=" and "rate=" parameters\E/]



=== TEST 37: hotel_kafka_log with an unknown parameter
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_log id=$arg_id rate=$arg_rate price=$arg_rate;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid parameter "price=\E\$\Qarg_rate"\E/]



=== TEST 38: hotel_kafka_log with a parameter given twice
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_log id=$arg_id rate=$arg_rate id=$arg_other;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid parameter "id=\E\$\Qarg_other"\E/]



=== TEST 39: hotel_kafka_log with topic= given twice
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_log id=$arg_id rate=$arg_rate topic=one topic=two;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid parameter "topic=two"\E/]



=== TEST 40: hotel_kafka_log with an empty value
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_log id=$arg_id rate=;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid parameter "rate="\E/]



=== TEST 41: hotel_kafka_log with an empty topic
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_log id=$arg_id rate=$arg_rate topic=;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid parameter "topic="\E/]



=== TEST 42: hotel_kafka_log with an unknown variable
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_log id=$hotel_nonexistent_var rate=1;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qunknown "hotel_nonexistent_var" variable\E/]



=== TEST 43: hotel_kafka_log off twice
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_log off;
        hotel_kafka_log off;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Q"hotel_kafka_log" directive is duplicate\E/]



=== TEST 44: hotel_kafka_log off with another parameter
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_log off id=$arg_id;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid parameter "id=\E\$\Qarg_id"\E/]



=== TEST 45: hotel_kafka_log off and a record in the same location
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_log off;
        hotel_kafka_log id=$arg_id rate=1;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Q"hotel_kafka_log" directive is duplicate\E/]



=== TEST 46: hotel_kafka_search_results twice in a location
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_search_results on;
        hotel_kafka_search_results on;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Q"hotel_kafka_search_results" directive is duplicate\E/]



=== TEST 47: hotel_kafka_topic twice in a location
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_topic hotel-data;
        hotel_kafka_topic hotel-data;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Q"hotel_kafka_topic" directive is duplicate\E/]



=== TEST 48: hotel_kafka_status_codes twice in a location
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_status_codes 200;
        hotel_kafka_status_codes 200;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Q"hotel_kafka_status_codes" directive is duplicate\E/]



=== TEST 49: hotel_kafka_status twice in a location
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_status json;
        hotel_kafka_status json;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Q"hotel_kafka_status" directive is duplicate\E/]



=== TEST 50: hotel_kafka_default_currency twice in a location
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_default_currency EUR;
        hotel_kafka_default_currency EUR;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Q"hotel_kafka_default_currency" directive is duplicate\E/]



=== TEST 51: hotel_kafka_brokers inside a location
--- config
    location = /t {
        hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Q"hotel_kafka_brokers" directive is not allowed here\E/]



=== TEST 52: hotel_kafka_brokers inside a server
--- config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Q"hotel_kafka_brokers" directive is not allowed here\E/]



=== TEST 53: hotel_kafka_conf inside a server
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    hotel_kafka_conf linger.ms 10;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Q"hotel_kafka_conf" directive is not allowed here\E/]



=== TEST 54: hotel_kafka_flush_timeout inside a location
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_flush_timeout 1s;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Q"hotel_kafka_flush_timeout" directive is not allowed here\E/]



=== TEST 55: hotel_kafka_status at http level
--- http_config
    hotel_kafka_status;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Q"hotel_kafka_status" directive is not allowed here\E/]



=== TEST 56: hotel_kafka_topic inside if
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        if ($arg_x) {
            hotel_kafka_topic other;
        }
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Q"hotel_kafka_topic" directive is not allowed here\E/]



=== TEST 57: an unknown librdkafka property
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_conf linger.millis 5;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid Kafka property "linger.millis": No such configuration property: "linger.millis"\E/]



=== TEST 58: a bad value for a librdkafka property
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_conf linger.ms abc;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid Kafka property "linger.ms": Invalid value for configuration property "queue.buffering.max.ms"\E/]



=== TEST 59: a bad value for an enumerated librdkafka property
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_conf security.protocol bogus;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid Kafka property "security.protocol": Invalid value "bogus" for configuration property "security.protocol"\E/]



=== TEST 60: a hotel_kafka_conf property given twice
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_conf linger.ms 5;
    hotel_kafka_conf linger.ms 10;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\QKafka property "linger.ms" is duplicate\E/]



=== TEST 61: hotel_kafka_brokers twice
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\QKafka property "bootstrap.servers" is duplicate\E/]



=== TEST 62: hotel_kafka_brokers and bootstrap.servers
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_conf bootstrap.servers 127.0.0.1:9092;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\QKafka property "bootstrap.servers" is duplicate\E/]



=== TEST 63: acks 1 contradicts the default idempotence (search results)
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_conf acks 1;
--- config
    location = /search {
        hotel_kafka_search_results on;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid Kafka configuration: `acks` must be set to `all` when `enable.idempotence` is true\E/]



=== TEST 64: acks 1 contradicts the default idempotence (hotel_kafka_log)
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_conf acks 1;
--- config
    location = /t {
        hotel_kafka_log id=$arg_id rate=$arg_rate;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid Kafka configuration: `acks` must be set to `all` when `enable.idempotence` is true\E/]



=== TEST 65: acks 1 contradicts the default idempotence, no location uses Kafka yet
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_conf acks 1;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid Kafka configuration: `acks` must be set to `all` when `enable.idempotence` is true\E/]



=== TEST 66: hotel_kafka_search_results on without hotel_kafka_brokers
--- config
    location = /t {
        hotel_kafka_search_results on;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qno Kafka brokers: "hotel_kafka_brokers" is required where "hotel_kafka_search_results" or "hotel_kafka_log" is used\E/]



=== TEST 67: hotel_kafka_search_results on at http level without hotel_kafka_brokers
--- http_config
    hotel_kafka_search_results on;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qno Kafka brokers: "hotel_kafka_brokers" is required\E/]



=== TEST 68: hotel_kafka_log without hotel_kafka_brokers
--- http_config
    hotel_kafka_conf linger.ms 10;
--- config
    location = /t {
        hotel_kafka_log id=$arg_id rate=$arg_rate;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qno Kafka brokers: "hotel_kafka_brokers" is required\E/]



=== TEST 69: a rate path of 17 components
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_json_rate k1.k2.k3.k4.k5.k6.k7.k8.k9.k10.k11.k12.k13.k14.k15.k16.k17;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid JSON paths: invalid rate_field\E/]



=== TEST 70: a results path of 17 components at server level
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    hotel_kafka_json_results k1.k2.k3.k4.k5.k6.k7.k8.k9.k10.k11.k12.k13.k14.k15.k16.k17;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid JSON paths: invalid results_path\E/]



=== TEST 71: an id path of 17 components at http level
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_json_id k1.k2.k3.k4.k5.k6.k7.k8.k9.k10.k11.k12.k13.k14.k15.k16.k17;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid JSON paths: invalid id_field\E/]



=== TEST 72: a currency path with an empty component
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_json_currency price..currency;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid JSON paths: invalid currency_field\E/]



=== TEST 73: a rate path with a trailing dot
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_json_rate price.;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid JSON paths: invalid rate_field\E/]



=== TEST 74: an empty id path
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_json_id "";
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid JSON paths: invalid id_field\E/]



=== TEST 75: a results path with a leading dot
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_json_results .results;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid JSON paths: invalid results_path\E/]



=== TEST 76: a full, valid configuration starts without a warning
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_conf compression.type zstd;
    hotel_kafka_conf acks all;
    hotel_kafka_flush_timeout 2s;
    hotel_kafka_search_results off;
    hotel_kafka_topic $TEST_NGINX_RUN_ID-config-full;
    hotel_kafka_json_results data.hotels;
    hotel_kafka_json_id id;
    hotel_kafka_json_rate price.amount;
    hotel_kafka_json_currency price.currency;
    hotel_kafka_default_currency EUR;
    hotel_kafka_status_codes 200 203;
--- config
    hotel_kafka_log id=$arg_id rate=$arg_rate currency=$arg_cur position=$arg_pos if=$arg_id;

    location = /search {
        hotel_kafka_search_results on;
        hotel_kafka_json_rate k1.k2.k3.k4.k5.k6.k7.k8.k9.k10.k11.k12.k13.k14.k15.k16;
        hotel_kafka_log off;
        return 200 '{"data":{"hotels":[]}}';
    }
    location = /t {
        hotel_kafka_log id=$arg_id rate=$arg_rate topic=$TEST_NGINX_RUN_ID-config-full-2;
        return 200 "ok\n";
    }
    location = /status {
        hotel_kafka_status json;
    }
    location = /metrics {
        hotel_kafka_status prometheus;
    }
--- request eval
["GET /search", "GET /t", "GET /status", "GET /metrics"]
--- response_body_like eval
[qr/^\{"data"/, qr/^ok$/, qr/^\{"produced":0,/, qr/^# HELP /]
--- block_error_log eval
[qr/\[info\] .*hotel kafka: producer started \(librdkafka [\d.]+\)/]
--- no_error_log eval
# The first idempotent producer on a fresh broker may be told to retry
# while the broker loads its coordinator: librdkafka's warning, not ours.
[qr/\[error\]/, qr/\[emerg\]/, qr/\[alert\]/,
 qr/\[warn\](?!.*Coordinator load in progress)/]



=== TEST 77: the module loaded but unused creates no producer
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- no_error_log
producer started
hotel kafka
[error]
[emerg]



=== TEST 78: brokers and properties without any use create no producer
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_conf linger.ms 10;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- no_error_log
producer started
hotel kafka
[error]
[emerg]



=== TEST 79: acks 1 is fine once idempotence is off
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_conf enable.idempotence false;
    hotel_kafka_conf acks 1;
--- config
    location = /search {
        hotel_kafka_search_results on;
        return 200 '{"results":[]}';
    }
--- request
GET /search
--- response_body chomp
{"results":[]}
--- error_log
hotel kafka: producer started
--- no_error_log eval
[qr/\[error\]/, qr/\[emerg\]/,
 qr/\[warn\](?!.*Coordinator load in progress)/]



=== TEST 80: hotel_kafka_schema_headers with neither on nor off
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
    hotel_kafka_schema_headers maybe;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid value "maybe" in "hotel_kafka_schema_headers" directive, it must be "on" or "off"\E/]



=== TEST 81: hotel_kafka_schema_headers inside a server
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    hotel_kafka_schema_headers off;
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Q"hotel_kafka_schema_headers" directive is not allowed here\E/]



=== TEST 82: hotel_kafka_log with a constant position that is not a number
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_log id=$arg_id rate=$arg_rate position=first;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid parameter "position=first"\E/]



=== TEST 83: hotel_kafka_log with a constant position beyond uint32
--- http_config
    hotel_kafka_brokers $TEST_NGINX_KAFKA_BROKERS;
--- config
    location = /t {
        hotel_kafka_log id=$arg_id rate=$arg_rate position=4294967296;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*\Qinvalid parameter "position=4294967296"\E/]
