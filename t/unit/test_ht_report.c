/*
 * The report over a small SQLite database with a fixed "now": the
 * windows (all time, last 24h, 24h before, 7d), the exact averages and
 * trends, the filters, and the three formats.
 */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ht_log.h"
#include "ht_report.h"
#include "ht_store.h"
#include "tap.h"


#define NOW  1750000000LL           /* windows end here */
#define HOUR(n)  ((NOW / 3600 - (n)) * 3600)


static char *
render(ht_store_t *s, ht_report_opts_t *o)
{
    static char  out[65536];
    char         err[512];
    size_t       n;
    FILE        *f;

    f = tmpfile();
    ht_report_run(s, o, f, err, sizeof(err));
    rewind(f);
    n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    fclose(f);

    return out;
}


static void
add(ht_batch_t *b, const char *hotel, const char *cur, int64_t bucket,
    int64_t rate)
{
    ht_record_t  r;

    snprintf(r.hotel_id, sizeof(r.hotel_id), "%s", hotel);
    snprintf(r.currency, sizeof(r.currency), "%s", cur);
    r.bucket_start = bucket;
    r.rate_micros = rate;

    ht_batch_add(b, &r);
}


int
main(void)
{
    char              dir[] = "/tmp/test_ht_report_XXXXXX", path[128];
    char              err[256], cmd[256], *out;
    char             *hotels[1];
    ht_batch_t        b;
    ht_store_t       *s;
    ht_offset_t       off;
    ht_offset_cas_t   cas;
    ht_report_opts_t  o;

    ok(mkdtemp(dir) != NULL, "temp dir");
    snprintf(path, sizeof(path), "%s/r.db", dir);

    s = ht_store_open(path, err, sizeof(err));
    ok(s != NULL, "open");

    off.partition = 0;
    s->ops->claim(s, "t", "me", &off, 1, err, sizeof(err));

    ht_batch_init(&b);

    /* h1 EUR: last day avg 110, day before avg 100, older 10 */
    add(&b, "h1", "EUR", HOUR(1), 100000000);
    add(&b, "h1", "EUR", HOUR(2), 120000000);
    add(&b, "h1", "EUR", HOUR(30), 100000000);
    add(&b, "h1", "EUR", HOUR(24 * 10), 10000000);
    /* h1 USD: only old data, 1/3 */
    add(&b, "h1", "USD", HOUR(24 * 20), 333333);
    add(&b, "h1", "USD", HOUR(24 * 20), 333334);
    add(&b, "h1", "USD", HOUR(24 * 20), 333333);
    /* a hotel id that needs quoting */
    add(&b, "h,\"2\"", "EUR", HOUR(3), 5000);
    ht_batch_reject(&b, HT_REJECT_BAD_RATE, 2);
    ht_batch_sort(&b);

    cas.partition = 0;
    cas.lease_epoch = off.lease_epoch;
    cas.expected = -1;
    cas.next_offset = 10;
    is_int(ht_store_apply(s, "t", &b, &cas, 1, err, sizeof(err)), HT_STORE_OK,
           "apply");

    memset(&o, 0, sizeof(o));
    o.since = INT64_MIN;
    o.until = INT64_MAX;
    o.now = NOW;

    out = render(s, &o);
    is_str(out,
"hotel  currency  count    avg    min     max  avg_24h  trend_24h  avg_7d"
"  trend_7d\n"
"h,\"2\"  EUR           1   0.01   0.01    0.01     0.01          -    0.01"
"         -\n"
"h1     EUR           4  82.50  10.00  120.00   110.00     +10.0%  106.67"
"   +966.7%\n"
"h1     USD           3   0.33   0.33    0.33        -          -       -"
"         -\n"
"# rejected bad_rate: 2\n", "table");

    o.format = HT_FORMAT_CSV;
    out = render(s, &o);
    is_str(out,
"hotel,currency,count,avg,min,max,avg_24h,trend_24h,avg_7d,trend_7d\n"
"\"h,\"\"2\"\"\",EUR,1,0.01,0.01,0.01,0.01,,0.01,\n"
"h1,EUR,4,82.50,10.00,120.00,110.00,+10.0%,106.67,+966.7%\n"
"h1,USD,3,0.33,0.33,0.33,,,,\n", "csv");

    o.format = HT_FORMAT_JSON;
    hotels[0] = "h1";
    o.hotels = hotels;
    o.nhotels = 1;
    memcpy(o.currency, "USD", 4);
    out = render(s, &o);
    is_str(out,
"{\"rows\":[\n"
"{\"hotel\":\"h1\",\"currency\":\"USD\",\"count\":3,\"avg\":0.33,"
"\"min\":0.33,\"max\":0.33,\"avg_24h\":null,\"trend_24h\":null,"
"\"avg_7d\":null,\"trend_7d\":null,\"sum_micros\":1000000,"
"\"min_micros\":333333,\"max_micros\":333334,\"count_24h\":0,"
"\"sum_micros_24h\":0,\"count_prev_24h\":0,\"sum_micros_prev_24h\":0,"
"\"count_7d\":0,\"sum_micros_7d\":0,\"count_prev_7d\":0,"
"\"sum_micros_prev_7d\":0}\n"
"],\"rejected\":{\"bad_rate\":2},\"now\":1750000000,\"window\":86400}\n",
           "json with filters, exact integers, the windows");

    /* --since cuts old buckets out of every window */
    o.format = HT_FORMAT_CSV;
    o.nhotels = 0;
    o.currency[0] = '\0';
    o.since = HOUR(48);
    out = render(s, &o);
    ok(strstr(out, "h1,EUR,3,106.67,100.00,120.00,110.00,+10.0%,106.67,\n")
       != NULL, "since");
    ok(strstr(out, "USD") == NULL, "since drops old rows");

    /* --window 7200: the last two hours against the two before, and the
     * columns named after it */
    o.since = INT64_MIN;
    o.window_s = 7200;
    out = render(s, &o);
    ok(strstr(out, "hotel,currency,count,avg,min,max,avg_2h,trend_2h,"
              "avg_7d,trend_7d\n") == out, "window columns, csv");
    ok(strstr(out, "h1,EUR,4,82.50,10.00,120.00,100.00,-16.7%,106.67,"
              "+966.7%\n") != NULL, "two-hour window and trend");
    ok(strstr(out, "\"h,\"\"2\"\"\",EUR,1,0.01,0.01,0.01,,,0.01,\n") != NULL,
       "a bucket out of the window");

    /* 90 s of hourly buckets draws a warning on stderr: not shown here */
    o.window_s = 90;
    o.format = HT_FORMAT_JSON;
    ht_log_level = HT_LOG_ERROR;
    out = render(s, &o);
    ht_log_level = HT_LOG_INFO;
    ok(strstr(out, "\"avg_90s\":null,\"trend_90s\":null,") != NULL,
       "window columns, json");

    o.window_s = 86400;
    o.format = HT_FORMAT_TABLE;
    out = render(s, &o);
    ok(strstr(out, "hotel  currency  count    avg    min     max  avg_24h"
              "  trend_24h  avg_7d") == out, "--window 86400 keeps avg_24h");

    is_str(ht_store_sqlite_path("sqlite:/x.db"), "/x.db", "sqlite: prefix");
    is_str(ht_store_sqlite_path("x.db"), "x.db", "plain path");
    ok(ht_store_sqlite_path("postgresql://u@h/db") == NULL, "pg uri");
    ok(ht_store_sqlite_path("host=/tmp dbname=x") == NULL, "pg conninfo");

    ht_batch_free(&b);
    s->ops->close(s);

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ok(system(cmd) == 0, "cleanup");

    return done_testing();
}
