/*
 * The report's order and cut over a small SQLite database: --sort by
 * trend (exactly, past the rounding of the printed percentage: ties
 * broken by name), by the 7-day trend, average, count and hotel;
 * --order; --top; --min-count; lines without a trend last in both
 * directions; and the page's risers and fallers, escaped, with nothing
 * that loads from elsewhere.
 */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ht_log.h"
#include "ht_report.h"
#include "ht_store.h"
#include "tap.h"


#define NOW      1750000000LL
#define HOUR(n)  ((NOW / 3600 - (n)) * 3600)


static char  out[1 << 17];


static char *
render(ht_store_t *s, ht_report_opts_t *o)
{
    char     err[512];
    size_t   n;
    FILE    *f;

    f = tmpfile();
    out[0] = '\0';

    if (ht_report_run(s, o, f, err, sizeof(err)) != 0) {
        fclose(f);
        snprintf(out, sizeof(out), "error: %s", err);
        return out;
    }

    rewind(f);
    n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    fclose(f);

    return out;
}


/* the first column of a CSV report, each id followed by a space */
static char *
ids(ht_store_t *s, ht_report_opts_t *o)
{
    static char   list[1024];
    char         *p, *nl;
    size_t        n;

    o->format = HT_FORMAT_CSV;
    p = render(s, o);
    p = strchr(p, '\n');        /* past the header */
    n = 0;
    list[0] = '\0';

    while (p != NULL && p[1] != '\0') {
        p++;
        nl = strchr(p, '\n');

        for ( /* void */ ; *p != ',' && n < sizeof(list) - 2; p++) {
            list[n++] = *p;
        }

        list[n++] = ' ';
        list[n] = '\0';
        p = nl;
    }

    return list;
}


static void
add(ht_batch_t *b, const char *hotel, int64_t bucket, int64_t rate, int n)
{
    ht_record_t  r;

    snprintf(r.hotel_id, sizeof(r.hotel_id), "%s", hotel);
    snprintf(r.currency, sizeof(r.currency), "EUR");
    r.bucket_start = bucket;
    r.rate_micros = rate;

    while (n-- > 0) {
        ht_batch_add(b, &r);
    }
}


static void
opts(ht_report_opts_t *o, ht_sort_e sort, ht_order_e order, int64_t top,
    int64_t min_count)
{
    memset(o, 0, sizeof(*o));
    o->since = INT64_MIN;
    o->until = INT64_MAX;
    o->now = NOW;
    o->sort = sort;
    o->order = order;
    o->top = top;
    o->min_count = min_count;
}


int
main(void)
{
    char              dir[] = "/tmp/test_ht_report_order_XXXXXX", path[128];
    char              err[256], cmd[256], *page, *r1, *r2, *f1, *f2;
    ht_batch_t        b;
    ht_store_t       *s;
    ht_offset_t       off;
    ht_offset_cas_t   cas;
    ht_report_opts_t  o;

    ok(mkdtemp(dir) != NULL, "temp dir");
    snprintf(path, sizeof(path), "%s/o.db", dir);

    s = ht_store_open(path, err, sizeof(err));
    ok(s != NULL, "open");

    off.partition = 0;
    s->ops->claim(s, "t", "me", &off, 1, err, sizeof(err));

    ht_batch_init(&b);

    /*
     * The day before (HOUR(30)) against the last day (HOUR(1)):
     * a +1.04% and b +1.01% both print as +1.0%; f is exactly a's
     * +1.04% (a tie, by name); z +50% with an id to escape; g flat with
     * more records; d -5%, c -10%; e has no day before, so no trend.  The
     * week before (HOUR(24 * 10)) gives c and d a 7-day trend.
     */
    add(&b, "a", HOUR(30), 100000000, 1);
    add(&b, "a", HOUR(1), 101040000, 1);
    add(&b, "b", HOUR(30), 100000000, 1);
    add(&b, "b", HOUR(1), 101010000, 1);
    add(&b, "f", HOUR(30), 200000000, 1);
    add(&b, "f", HOUR(1), 202080000, 1);
    add(&b, "z<&\"'>", HOUR(30), 100000000, 1);
    add(&b, "z<&\"'>", HOUR(1), 150000000, 1);
    add(&b, "g", HOUR(30), 100000000, 5);
    add(&b, "g", HOUR(1), 100000000, 5);
    add(&b, "d", HOUR(30), 100000000, 1);
    add(&b, "d", HOUR(1), 95000000, 1);
    add(&b, "d", HOUR(24 * 10), 50000000, 1);
    add(&b, "c", HOUR(30), 100000000, 1);
    add(&b, "c", HOUR(1), 90000000, 1);
    add(&b, "c", HOUR(24 * 10), 200000000, 1);
    add(&b, "e", HOUR(1), 70000000, 1);
    ht_batch_sort(&b);

    cas.partition = 0;
    cas.lease_epoch = off.lease_epoch;
    cas.expected = -1;
    cas.next_offset = 1;
    is_int(ht_store_apply(s, "t", &b, &cas, 1, err, sizeof(err)), HT_STORE_OK,
           "apply");

    opts(&o, HT_SORT_DEFAULT, HT_ORDER_DEFAULT, 0, 0);
    is_str(ids(s, &o), "a b c d e f g \"z<&\"\"'>\" ", "default: by hotel");

    opts(&o, HT_SORT_HOTEL, HT_ORDER_DESC, 0, 0);
    is_str(ids(s, &o), "\"z<&\"\"'>\" g f e d c b a ", "by hotel, descending");

    opts(&o, HT_SORT_TREND, HT_ORDER_DESC, 0, 0);
    is_str(ids(s, &o), "\"z<&\"\"'>\" a f b g d c e ",
           "by trend: exact (+1.04% before +1.01%, both +1.0%), ties by "
           "name, no trend last");

    opts(&o, HT_SORT_TREND, HT_ORDER_ASC, 0, 0);
    is_str(ids(s, &o), "c d g b a f \"z<&\"\"'>\" e ",
           "by trend ascending: the fallers first, no trend still last");

    opts(&o, HT_SORT_TREND, HT_ORDER_DESC, 2, 0);
    is_str(ids(s, &o), "\"z<&\"\"'>\" a ", "--top 2");

    opts(&o, HT_SORT_TREND, HT_ORDER_ASC, 2, 0);
    is_str(ids(s, &o), "c d ", "--top 2 of the other end");

    opts(&o, HT_SORT_TREND, HT_ORDER_DESC, 0, 2);
    is_str(ids(s, &o), "g ", "--min-count 2: records in both windows");

    opts(&o, HT_SORT_TREND, HT_ORDER_DESC, 0, 1);
    is_str(ids(s, &o), "\"z<&\"\"'>\" a f b g d c ",
           "--min-count 1 drops the line without the day before");

    opts(&o, HT_SORT_TREND_WEEK, HT_ORDER_DESC, 0, 1);
    is_str(ids(s, &o), "d c ", "by the 7-day trend, with its windows");

    opts(&o, HT_SORT_AVG, HT_ORDER_DESC, 3, 0);
    is_str(ids(s, &o), "f c \"z<&\"\"'>\" ",
           "by average over the period (c 130.00, z 125.00)");

    opts(&o, HT_SORT_COUNT, HT_ORDER_DESC, 3, 0);
    is_str(ids(s, &o), "g c d ", "by count, ties by name");

    opts(&o, HT_SORT_COUNT, HT_ORDER_ASC, 2, 0);
    is_str(ids(s, &o), "e a ", "by count ascending");

    opts(&o, HT_SORT_TREND, HT_ORDER_DESC, 1, 0);
    o.format = HT_FORMAT_TABLE;
    is_str(render(s, &o),
"hotel   currency  count     avg     min     max  avg_24h  trend_24h  avg_7d"
"  trend_7d\n"
"z<&\"'>  EUR           2  125.00  100.00  150.00   150.00     +50.0%  125.00"
"         -\n", "table, cut");

    /* the page: risers from one end, fallers from the other */
    opts(&o, HT_SORT_TREND, HT_ORDER_DESC, 2, 0);
    o.format = HT_FORMAT_HTML;
    page = render(s, &o);

    ok(strncmp(page, "<!DOCTYPE html>", 15) == 0, "html: a document");
    ok(strstr(page, "Content-Security-Policy\" content=\"default-src "
                    "'none'; style-src 'unsafe-inline'\"") != NULL,
       "html: loads nothing from anywhere");
    ok(strstr(page, "<script") == NULL && strstr(page, "http://") == NULL
       && strstr(page, "https://") == NULL && strstr(page, "<link") == NULL
       && strstr(page, "url(") == NULL, "html: no script, no address");
    ok(strstr(page, "z<&") == NULL && strstr(page,
              "data-hotel=\"z&lt;&amp;&quot;&#39;&gt;\"") != NULL,
       "html: the id escaped");

    r1 = strstr(page, "data-hotel=\"z&lt;");
    r2 = strstr(page, "data-hotel=\"a\"");
    f1 = strstr(page, "data-hotel=\"c\"");
    f2 = strstr(page, "data-hotel=\"d\"");
    ok(r1 != NULL && r2 != NULL && f1 != NULL && f2 != NULL
       && strstr(page, "id=\"risers\"") < r1 && r1 < r2
       && r2 < strstr(page, "id=\"fallers\"")
       && strstr(page, "id=\"fallers\"") < f1 && f1 < f2,
       "html: risers z, a; fallers c, d, the biggest moves first");
    ok(strstr(page, "data-hotel=\"f\"") == NULL
       && strstr(page, "data-hotel=\"g\"") == NULL,
       "html: --top 2 at each end, a flat line in neither");
    ok(strstr(page, "data-trend=\"-10.0%\"") != NULL
       && strstr(page, "data-trend=\"+50.0%\"") != NULL, "html: trends");
    ok(strstr(page, "the last 24 hours, <b>2025-06-14 15:06:40 to "
                    "2025-06-15 15:06:40 UTC</b>") != NULL,
       "html: the window in words and UTC dates");
    ok(strstr(page, "<svg class=\"chart\"") != NULL
       && strstr(page, "<polyline") == NULL
       && strstr(page, "<circle") != NULL,
       "html: a chart per card, a dot per bucket alone (no line)");
    ok(strstr(page, "<td class=\"up\">+50.0%</td>") != NULL
       && strstr(page, "<td class=\"down\">-10.0%</td>") != NULL,
       "html: the table, up and down marked");

    /* by the 7-day trend: d rose from 50.00, c fell from 200.00 */
    opts(&o, HT_SORT_TREND_WEEK, HT_ORDER_DESC, 5, 0);
    o.format = HT_FORMAT_HTML;
    page = render(s, &o);
    r1 = strstr(page, "data-hotel=\"d\" data-currency=\"EUR\" "
                      "data-trend=\"+95.0%\"");
    f1 = strstr(page, "data-hotel=\"c\" data-currency=\"EUR\" "
                      "data-trend=\"-52.5%\"");
    ok(r1 != NULL && f1 != NULL && r1 < strstr(page, "id=\"fallers\"")
       && f1 > strstr(page, "id=\"fallers\"")
       && strstr(page, "data-hotel=\"a\"") == NULL
       && strstr(page, "the last 7 days") != NULL,
       "html by trend_7d: its windows, d rose, c fell, no other trend");

    /* nothing at all: each side says so */
    memcpy(o.currency, "USD", 4);
    page = render(s, &o);
    ok(strstr(page, "No hotel's average rose in the last 7 days.") != NULL
       && strstr(page, "No hotel's average fell in the last 7 days.") != NULL
       && strstr(page, "No records in the period.") != NULL,
       "html: empty sides say so");

    ht_batch_free(&b);
    s->ops->close(s);

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ok(system(cmd) == 0, "cleanup");

    return done_testing();
}
