/*
 * Option parsing of "hotel-trends consume" and "report": defaults,
 * values, librdkafka passthrough, config files with file:line errors,
 * and the mistakes that must be refused.
 */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ht_options.h"
#include "tap.h"


static char  err[512];


static int
parse(ht_consume_opts_t *o, int argc, char **argv)
{
    if (ht_consume_opts_init(o, err, sizeof(err)) != 0) {
        return -2;
    }

    err[0] = '\0';

    return ht_consume_opts_parse(o, argc, argv, err, sizeof(err));
}


static const char *
kget(ht_consume_opts_t *o, const char *name)
{
    static char  value[256];
    size_t       size;

    size = sizeof(value);

    if (rd_kafka_conf_get(o->kconf, name, value, &size) != RD_KAFKA_CONF_OK) {
        return "(unset)";
    }

    return value;
}


static int
bad(char **argv, int argc, const char *want)
{
    int                 rc;
    ht_consume_opts_t   o;

    rc = parse(&o, argc, argv);
    ht_consume_opts_free(&o);

    if (rc != -1) {
        return 0;
    }

    if (want != NULL && strstr(err, want) == NULL) {
        printf("# error was: %s\n", err);
        return 0;
    }

    return 1;
}


int
main(void)
{
    int                 fd;
    char                path[] = "/tmp/test_ht_options_XXXXXX";
    FILE               *f;
    ht_report_opts_t    r;
    ht_consume_opts_t   o;
    int64_t             v;
    char                label[24];

    char  *a0[] = { "consume", NULL };
    char  *a1[] = { "consume", "-b", "k1:9093,k2:9093", "-t", "t1", "-g",
                    "g1", "-d", "sqlite:/tmp/x.db", "--batch-size", "50",
                    "--batch-time=250", "--exit-idle", "3",
                    "--stats-interval", "10", "-X", "fetch.wait.max.ms=20",
                    NULL };
    char  *b1[] = { "consume", "--batch-size", "0", NULL };
    char  *b2[] = { "consume", "--batch-size", "12x", NULL };
    char  *b3[] = { "consume", "-X", "no.such.property=1", NULL };
    char  *b4[] = { "consume", "-X", "novalue", NULL };
    char  *b5[] = { "consume", "--bogus", NULL };
    char  *b6[] = { "consume", "-z", NULL };
    char  *b7[] = { "consume", "-b", NULL };
    char  *b8[] = { "consume", "extra", NULL };
    char  *b9[] = { "consume", "-t", "", NULL };
    char  *l1[] = { "consume", "-X", "list", NULL };
    char  *h1[] = { "consume", "--help", NULL };
    char  *c1[] = { "consume", "-c", path, "--batch-size", "7", NULL };
    char  *c2[] = { "consume", "-c", "/nonexistent/ht.conf", NULL };
    char  *r1[] = { "report", "-d", "x.db", "--hotel", "h1", "--hotel",
                    "h 2", "--currency", "EUR", "--format", "json",
                    "--since", "2024-01-01", "--until",
                    "2024-01-02T12:00", NULL };
    char  *rb1[] = { "report", "--currency", "eur", NULL };
    char  *rb2[] = { "report", "--format", "xml", NULL };
    char  *rb3[] = { "report", "--since", "yesterday", NULL };
    char  *rb4[] = { "report", "--since", "200", "--until", "100", NULL };
    char  *k1[] = { "consume", "--bucket", "60", NULL };
    char  *k2[] = { "consume", "--bucket=86400", NULL };
    char  *k3[] = { "consume", "-c", path, "--bucket", "900", NULL };
    char  *kb1[] = { "consume", "--bucket", "59", NULL };
    char  *kb2[] = { "consume", "--bucket", "3601", NULL };
    char  *kb3[] = { "consume", "--bucket", "172800", NULL };
    char  *kb4[] = { "consume", "--bucket", "1m", NULL };
    char  *kb5[] = { "consume", "--bucket", "0", NULL };
    char  *t1[] = { "consume", "--lock-timeout", "2000",
                    "--idle-in-transaction-timeout=0", NULL };
    char  *tb1[] = { "consume", "--lock-timeout", "-1", NULL };
    char  *w1[] = { "report", "--window", "300", NULL };
    char  *wb1[] = { "report", "--window", "59", NULL };
    char  *wb2[] = { "report", "--window", "1h", NULL };
    char  *wb3[] = { "report", "--window", "31536001", NULL };
    char  *s0[] = { "report", NULL };
    char  *s1[] = { "report", "--sort", "trend", "--top", "5",
                    "--min-count", "20", NULL };
    char  *s2[] = { "report", "--sort", "trend_7d", "--order", "asc", NULL };
    char  *s3[] = { "report", "--sort", "hotel", "--order", "desc", NULL };
    char  *s4[] = { "report", "--format", "html", NULL };
    char  *s5[] = { "report", "--format", "html", "--sort", "trend_7d",
                    "--top", "100", NULL };
    char  *sb1[] = { "report", "--sort", "price", NULL };
    char  *sb2[] = { "report", "--order", "up", NULL };
    char  *sb3[] = { "report", "--top", "0", NULL };
    char  *sb4[] = { "report", "--min-count", "-1", NULL };
    char  *sb5[] = { "report", "--format", "html", "--sort", "avg", NULL };
    char  *sb6[] = { "report", "--format", "html", "--order", "asc", NULL };
    char  *sb7[] = { "report", "--format", "html", "--top", "101", NULL };
    char  *m1[] = { "consume", "--metrics-file", "/var/lib/x/ht.prom",
                    "--metrics-interval", "15", NULL };
    char  *mb1[] = { "consume", "--metrics-interval", "0", NULL };
    char  *mb2[] = { "consume", "--metrics-file", "", NULL };

    is_int(parse(&o, 1, a0), 0, "no options");
    is_str(o.topic, "hotel-data", "default topic");
    is_str(o.db, "hotel-trends.db", "default db");
    is_int(o.batch_size, 100000, "default batch size");
    is_int(o.batch_time_ms, 1000, "default batch time");
    is_int(o.exit_idle_s, 0, "default exit-idle");
    is_str(kget(&o, "bootstrap.servers"), "127.0.0.1:9092", "default brokers");
    is_str(kget(&o, "queued.min.messages"), "300000",
           "default queued.min.messages");
    is_str(kget(&o, "group.id"), "hotel-trends", "default group");
    /* librdkafka reads "earliest" back under its older name */
    is_str(kget(&o, "auto.offset.reset"), "smallest", "earliest by default");
    is_int(o.bucket_s, 3600, "default bucket: an hour");
    is_int(o.lock_timeout_ms, 10000, "default lock timeout: 10 s");
    is_int(o.idle_txn_ms, 30000, "default idle-in-transaction timeout: 30 s");
    ht_consume_opts_free(&o);

    /* PostgreSQL's session limits, 0 for the server's */
    is_int(parse(&o, 4, t1), 0, "--lock-timeout, --idle-in-transaction-"
           "timeout");
    is_int(o.lock_timeout_ms, 2000, "--lock-timeout 2000");
    is_int(o.idle_txn_ms, 0, "--idle-in-transaction-timeout=0");
    ht_consume_opts_free(&o);
    ok(bad(tb1, 3, "lock-timeout must be an integer from 0"),
       "negative lock timeout");

    /* --bucket: divisors of a day from a minute to a day */
    is_int(parse(&o, 3, k1), 0, "--bucket 60");
    is_int(o.bucket_s, 60, "minute buckets");
    ht_consume_opts_free(&o);
    is_int(parse(&o, 2, k2), 0, "--bucket=86400");
    is_int(o.bucket_s, 86400, "day buckets");
    ht_consume_opts_free(&o);
    ok(bad(kb1, 3, "bucket must be a number of seconds from 60 to 86400 "
           "that divides a day"), "bucket under a minute");
    ok(bad(kb2, 3, "not \"3601\""), "bucket not dividing a day");
    ok(bad(kb3, 3, "divides a day"), "bucket over a day");
    ok(bad(kb4, 3, "not \"1m\""), "bucket with a unit");
    ok(bad(kb5, 3, "divides a day"), "bucket 0");

    is_int(parse(&o, 18, a1), 0, "all options");
    is_str(kget(&o, "bootstrap.servers"), "k1:9093,k2:9093", "-b");
    is_str(o.topic, "t1", "-t");
    is_str(kget(&o, "group.id"), "g1", "-g");
    is_str(o.db, "sqlite:/tmp/x.db", "-d");
    is_int(o.batch_size, 50, "--batch-size");
    is_int(o.batch_time_ms, 250, "--batch-time=");
    is_int(o.exit_idle_s, 3, "--exit-idle");
    is_int(o.stats_interval_s, 10, "--stats-interval");
    is_str(kget(&o, "fetch.wait.max.ms"), "20", "-X passthrough");
    ht_consume_opts_free(&o);

    ok(bad(b1, 3, "batch-size must be an integer from 1"), "batch-size 0");
    ok(bad(b2, 3, "\"12x\""), "batch-size 12x");
    ok(bad(b3, 3, "No such configuration property"), "unknown property");
    ok(bad(b4, 3, "name=value"), "-X without =");
    ok(bad(b5, 2, "unknown option \"--bogus\""), "unknown long option");
    ok(bad(b6, 2, "unknown option \"-z\""), "unknown short option");
    ok(bad(b7, 2, "needs a value"), "missing value");
    ok(bad(b8, 2, "unexpected argument"), "stray argument");
    ok(bad(b9, 3, "must not be empty"), "empty topic");

    is_int(parse(&o, 3, l1), 0, "-X list");
    ok(o.list_properties, "-X list flagged");
    ht_consume_opts_free(&o);

    is_int(parse(&o, 2, h1), 0, "--help");
    ok(o.help, "help flagged");
    ht_consume_opts_free(&o);

    /* config file: our names, librdkafka names, comments; argv after -c
     * overrides it */
    fd = mkstemp(path);
    f = fdopen(fd, "w");
    fprintf(f, "# hotel-trends\n\nbrokers = b1:9092\ntopic=ft\n"
            "batch-size=99\n  session.timeout.ms = 6000  \n"
            "metrics-file = /run/ht.prom\nmetrics-interval=2\n");
    fclose(f);

    is_int(parse(&o, 5, c1), 0, "config file");
    is_str(kget(&o, "bootstrap.servers"), "b1:9092", "file brokers");
    is_str(o.topic, "ft", "file topic");
    is_int(o.batch_size, 7, "argv after -c wins");
    is_str(kget(&o, "session.timeout.ms"), "6000", "file librdkafka prop");
    is_str(o.metrics_file, "/run/ht.prom", "file metrics-file");
    is_int(o.metrics_interval_s, 2, "file metrics-interval");
    ht_consume_opts_free(&o);

    f = fopen(path, "w");
    fprintf(f, "topic=x\n# ok\nbatch-time=soon\n");
    fclose(f);
    ok(bad(c1, 3, ":3: batch-time must be"), "file error has file:line");
    ok(strncmp(err, path, strlen(path)) == 0, "file error starts with path");

    f = fopen(path, "w");
    fprintf(f, "topic\n");
    fclose(f);
    ok(bad(c1, 3, ":1: expected name=value"), "line without =");

    f = fopen(path, "w");
    fprintf(f, "frobnicate=1\n");
    fclose(f);
    ok(bad(c1, 3, ":1: unknown option \"frobnicate\""), "unknown name");

    /* bucket= in the file, like the other long options */
    f = fopen(path, "w");
    fprintf(f, "bucket = 300\n");
    fclose(f);
    is_int(parse(&o, 3, k3), 0, "bucket= in a config file");
    is_int(o.bucket_s, 300, "file bucket");
    ht_consume_opts_free(&o);
    is_int(parse(&o, 5, k3), 0, "--bucket after -c");
    is_int(o.bucket_s, 900, "argv bucket wins");
    ht_consume_opts_free(&o);

    f = fopen(path, "w");
    fprintf(f, "topic=x\nbucket=7\n");
    fclose(f);
    ok(bad(k3, 3, ":2: bucket must be a number of seconds"),
       "file bucket error has file:line");

    ok(bad(c2, 3, "No such file"), "missing config file");
    unlink(path);

    /* report */
    is_int(ht_report_opts_parse(&r, 15, r1, err, sizeof(err)), 0,
           "report options");
    is_str(r.db, "x.db", "report -d");
    is_int(r.nhotels, 2, "two --hotel");
    is_str(r.hotels[1], "h 2", "second hotel");
    is_str(r.currency, "EUR", "currency");
    is_int(r.format, HT_FORMAT_JSON, "json");
    is_int(r.since, 1704067200, "since date");
    is_int(r.until, 1704196800, "until datetime");
    is_int(r.now, 1704196800, "windows end at --until");
    is_int(r.window_s, 86400, "default window: a day");
    ht_report_opts_free(&r);

    is_int(ht_report_opts_parse(&r, 3, w1, err, sizeof(err)), 0,
           "--window 300");
    is_int(r.window_s, 300, "window 300");
    ht_report_opts_free(&r);
    ok(ht_report_opts_parse(&r, 3, wb1, err, sizeof(err)) == -1
       && strstr(err, "--window expects a number of seconds from 60")
          != NULL, "window under a minute refused");
    ht_report_opts_free(&r);
    ok(ht_report_opts_parse(&r, 3, wb2, err, sizeof(err)) == -1
       && strstr(err, "not \"1h\"") != NULL, "window with a unit refused");
    ht_report_opts_free(&r);
    ok(ht_report_opts_parse(&r, 3, wb3, err, sizeof(err)) == -1,
       "window over a year refused");
    ht_report_opts_free(&r);

    /* the order and the cut */
    is_int(ht_report_opts_parse(&r, 1, s0, err, sizeof(err)), 0, "report");
    ok(r.sort == HT_SORT_HOTEL && r.order == HT_ORDER_ASC && r.top == 0
       && r.min_count == 0, "default: by hotel, ascending, every line");
    ht_report_opts_free(&r);
    is_int(ht_report_opts_parse(&r, 7, s1, err, sizeof(err)), 0,
           "--sort trend --top 5 --min-count 20");
    ok(r.sort == HT_SORT_TREND && r.order == HT_ORDER_DESC && r.top == 5
       && r.min_count == 20, "by trend: descending unless told");
    ht_report_opts_free(&r);
    is_int(ht_report_opts_parse(&r, 5, s2, err, sizeof(err)), 0,
           "--sort trend_7d --order asc");
    ok(r.sort == HT_SORT_TREND_WEEK && r.order == HT_ORDER_ASC,
       "trend_7d, ascending");
    ht_report_opts_free(&r);
    is_int(ht_report_opts_parse(&r, 5, s3, err, sizeof(err)), 0,
           "--sort hotel --order desc");
    ok(r.sort == HT_SORT_HOTEL && r.order == HT_ORDER_DESC, "hotel, desc");
    ht_report_opts_free(&r);
    is_int(ht_report_opts_parse(&r, 3, s4, err, sizeof(err)), 0,
           "--format html");
    ok(r.format == HT_FORMAT_HTML && r.sort == HT_SORT_TREND
       && r.order == HT_ORDER_DESC && r.top == 10,
       "html: by trend, 10 risers and 10 fallers");
    ht_report_opts_free(&r);
    is_int(ht_report_opts_parse(&r, 7, s5, err, sizeof(err)), 0,
           "html by trend_7d, --top 100");
    ok(r.sort == HT_SORT_TREND_WEEK && r.top == 100, "html top 100");
    ht_report_opts_free(&r);

    ok(ht_report_opts_parse(&r, 3, sb1, err, sizeof(err)) == -1
       && strstr(err, "--sort expects hotel, trend, trend_7d, avg or count, "
                      "not \"price\"") != NULL, "unknown sort key refused");
    ht_report_opts_free(&r);
    ok(ht_report_opts_parse(&r, 3, sb2, err, sizeof(err)) == -1
       && strstr(err, "--order expects asc or desc") != NULL,
       "unknown order refused");
    ht_report_opts_free(&r);
    ok(ht_report_opts_parse(&r, 3, sb3, err, sizeof(err)) == -1
       && strstr(err, "--top expects a number of lines from 1") != NULL,
       "--top 0 refused");
    ht_report_opts_free(&r);
    ok(ht_report_opts_parse(&r, 3, sb4, err, sizeof(err)) == -1
       && strstr(err, "--min-count expects") != NULL,
       "negative --min-count refused");
    ht_report_opts_free(&r);
    ok(ht_report_opts_parse(&r, 5, sb5, err, sizeof(err)) == -1
       && strstr(err, "--format html shows the risers and fallers of a "
                      "trend") != NULL, "html by average refused");
    ht_report_opts_free(&r);
    ok(ht_report_opts_parse(&r, 5, sb6, err, sizeof(err)) == -1
       && strstr(err, "leave --order out") != NULL,
       "html with --order refused");
    ht_report_opts_free(&r);
    ok(ht_report_opts_parse(&r, 5, sb7, err, sizeof(err)) == -1
       && strstr(err, "at most 100 risers") != NULL,
       "html with --top 101 refused");
    ht_report_opts_free(&r);

    /* the metrics file */
    is_int(parse(&o, 1, a0), 0, "no options");
    ok(o.metrics_file == NULL && o.metrics_interval_s == 5,
       "no metrics file by default, every 5 s when there is one");
    ht_consume_opts_free(&o);
    is_int(parse(&o, 5, m1), 0, "--metrics-file --metrics-interval");
    is_str(o.metrics_file, "/var/lib/x/ht.prom", "metrics file");
    is_int(o.metrics_interval_s, 15, "metrics interval");
    ht_consume_opts_free(&o);
    ok(bad(mb1, 3, "metrics-interval must be an integer from 1 to 3600"),
       "--metrics-interval 0 refused");
    ok(bad(mb2, 3, "metrics-file must name a file"),
       "empty --metrics-file refused");

    ht_duration_label(label, sizeof(label), 86400);
    is_str(label, "24h", "label 86400");
    ht_duration_label(label, sizeof(label), 3600);
    is_str(label, "1h", "label 3600");
    ht_duration_label(label, sizeof(label), 300);
    is_str(label, "5m", "label 300");
    ht_duration_label(label, sizeof(label), 5400);
    is_str(label, "90m", "label 5400");
    ht_duration_label(label, sizeof(label), 90);
    is_str(label, "90s", "label 90");
    ht_duration_label(label, sizeof(label), 7 * 86400);
    is_str(label, "168h", "label a week");

    ok(ht_report_opts_parse(&r, 3, rb1, err, sizeof(err)) == -1,
       "lower-case currency refused");
    ht_report_opts_free(&r);
    ok(ht_report_opts_parse(&r, 3, rb2, err, sizeof(err)) == -1,
       "unknown format refused");
    ht_report_opts_free(&r);
    ok(ht_report_opts_parse(&r, 3, rb3, err, sizeof(err)) == -1,
       "bad time refused");
    ht_report_opts_free(&r);
    ok(ht_report_opts_parse(&r, 5, rb4, err, sizeof(err)) == -1,
       "since after until refused");
    ht_report_opts_free(&r);

    ok(ht_parse_int("-5", -10, 10, &v) == 0 && v == -5, "parse -5");
    ok(ht_parse_int("", 0, 10, &v) == -1, "parse empty");
    ok(ht_parse_int("99999999999999999999", 0, INT64_MAX, &v) == -1,
       "parse overflow");
    ok(ht_parse_time("1700000000", &v) == 0 && v == 1700000000,
       "unix seconds");

    return done_testing();
}
