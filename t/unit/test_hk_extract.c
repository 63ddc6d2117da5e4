/*
 * hk_extract: results from a JSON page fed in chunks of any size.
 *
 * Every run writes what the handlers saw to a text log, one line per
 * element ("3 H1004 129.99 GBP" or "4 skip no_rate"), so that whole,
 * split and byte-by-byte runs can be compared exactly and expectations
 * read like the page.  The memory tests read the extractor's own count of
 * bytes held (yajl's included) and print the peaks as TAP comments.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hk_decimal.h"
#include "hk_extract.h"
#include "hk_extract_rules.h"
#include "tap.h"


typedef struct {
    char      *log;
    size_t     len;
    size_t     cap;
    int64_t    last_position;
    int        broken;          /* an invariant failed */
    size_t     results;
    size_t     skips;
    int64_t    sum;
} collect_t;


/* a document made on the fly, so that 100 MB never sit in memory */
typedef struct {
    const char  *head;
    const char  *tail;
    uint64_t     count;         /* results to make */
    size_t       pad;           /* bytes of a string field per result */
    uint64_t     made;
    int          stage;         /* 0 head, 1 results, 2 tail, 3 end */
    char         item[256 + 65536];
    size_t       item_len;
    size_t       item_off;
} gen_t;


static void
collect_append(collect_t *c, const char *s, size_t n)
{
    if (c->len + n + 1 > c->cap) {
        c->cap = (c->len + n + 1) * 2;
        c->log = realloc(c->log, c->cap);

        if (c->log == NULL) {
            abort();
        }
    }

    memcpy(c->log + c->len, s, n);
    c->len += n;
    c->log[c->len] = '\0';
}


static void
collect_position(collect_t *c, uint32_t position)
{
    if ((int64_t) position != c->last_position + 1) {
        c->broken = 1;
    }

    c->last_position = position;
}


static void
on_result(void *data, const hk_result_t *r)
{
    int         n;
    char        line[512], rate[HK_DECIMAL_FORMAT_LEN];
    size_t      i;
    collect_t  *c = data;

    collect_position(c, r->position);

    if (r->rate_micros <= 0 || strlen(r->currency) != 3
        || r->hotel_id_len == 0)
    {
        c->broken = 1;
    }

    for (i = 0; i < 3; i++) {
        if (r->currency[i] < 'A' || r->currency[i] > 'Z') {
            c->broken = 1;
        }
    }

    c->results++;
    c->sum += r->rate_micros;

    if (c->log == NULL && c->cap == SIZE_MAX) {
        /* counting only (the big documents) */
        return;
    }

    hk_decimal_format_micros(r->rate_micros, rate, sizeof(rate));

    n = snprintf(line, sizeof(line), "%u %.*s %s %s\n", r->position,
                 (int) (r->hotel_id_len > 200 ? 200 : r->hotel_id_len),
                 r->hotel_id, rate, r->currency);

    collect_append(c, line, (size_t) n);
}


static void
on_skip(void *data, hk_skip_reason_t reason, uint32_t position)
{
    int         n;
    char        line[64];
    collect_t  *c = data;

    collect_position(c, position);

    c->skips++;

    if (c->log == NULL && c->cap == SIZE_MAX) {
        return;
    }

    n = snprintf(line, sizeof(line), "%u skip %s\n", position,
                 hk_skip_reason_name(reason));

    collect_append(c, line, (size_t) n);
}


static const hk_extract_handlers_t  handlers = { on_result, on_skip };


/* rules made by extract_create(), freed at the end of the run */
static hk_extract_rules_t **all_rules;
static size_t               nrules;
static size_t               rules_cap;


static const hk_extract_rules_t *
rules_of(const hk_extract_conf_t *conf)
{
    hk_extract_rules_t  *r, **grown;

    r = hk_extract_rules(conf);
    if (r == NULL) {
        return NULL;
    }

    if (nrules == rules_cap) {
        rules_cap = rules_cap ? 2 * rules_cap : 256;
        grown = realloc(all_rules, rules_cap * sizeof(all_rules[0]));
        if (grown == NULL) {
            abort();
        }
        all_rules = grown;
    }

    all_rules[nrules++] = r;

    return r;
}


/* an extractor of conf's rules, as the old one-step interface made */

static hk_extract_t *
extract_create(const hk_extract_conf_t *conf, const hk_extract_handlers_t *h,
    void *data)
{
    const hk_extract_rules_t  *r;

    r = rules_of(conf);

    return r ? hk_extract_create(r, h, data) : NULL;
}


static void
rules_free_all(void)
{
    while (nrules) {
        hk_extract_rules_free(all_rules[--nrules]);
    }

    free(all_rules);
    all_rules = NULL;
    rules_cap = 0;
}


/*
 * doc read whole by hk_extract_document(), from a copy followed by the
 * padding it needs; the status.
 */

static hk_extract_rc_t
run_document(const hk_extract_conf_t *conf, const char *doc, size_t len,
    collect_t *c)
{
    char                       error[128];
    unsigned char             *copy;
    hk_extract_rc_t            st;
    const hk_extract_rules_t  *r;

    r = rules_of(conf);
    copy = malloc(len + HK_EXTRACT_PADDING);

    if (r == NULL || copy == NULL) {
        free(copy);
        return HK_EXTRACT_ERROR_NOMEM;
    }

    memcpy(copy, doc, len);
    memset(copy + len, ' ', HK_EXTRACT_PADDING);

    st = hk_extract_document(r, &handlers, c, copy, len, error,
                             sizeof(error));

    free(copy);

    return st;
}


static void
collect_init(collect_t *c)
{
    memset(c, 0, sizeof(collect_t));
    c->last_position = -1;
    collect_append(c, "", 0);
}


static void
collect_free(collect_t *c)
{
    free(c->log);
    memset(c, 0, sizeof(collect_t));
}


/*
 * Feeds doc in chunks of the given size (0: whole) and finishes; the
 * status of the first failing call.
 */

static hk_extract_rc_t
run(const hk_extract_conf_t *conf, const char *doc, size_t len, size_t chunk,
    collect_t *c, size_t *peak)
{
    size_t               n;
    hk_extract_t        *x;
    hk_extract_rc_t  st;

    x = extract_create(conf, &handlers, c);
    if (x == NULL) {
        return HK_EXTRACT_ERROR_NOMEM;
    }

    st = HK_EXTRACT_OK;

    if (chunk == 0) {
        chunk = len ? len : 1;
    }

    while (len > 0 && st == HK_EXTRACT_OK) {
        n = len < chunk ? len : chunk;
        st = hk_extract_feed(x, (const unsigned char *) doc, n);
        doc += n;
        len -= n;
    }

    if (st == HK_EXTRACT_OK) {
        st = hk_extract_finish(x);
    }

    if (peak != NULL) {
        *peak = hk_extract_peak_bytes(x);
    }

    hk_extract_destroy(x);

    return st;
}


/* doc fed as two chunks, split at byte k */

static hk_extract_rc_t
run_split(const hk_extract_conf_t *conf, const char *doc, size_t len,
    size_t k, collect_t *c)
{
    hk_extract_t        *x;
    hk_extract_rc_t  st;

    x = extract_create(conf, &handlers, c);
    if (x == NULL) {
        return HK_EXTRACT_ERROR_NOMEM;
    }

    st = hk_extract_feed(x, (const unsigned char *) doc, k);

    if (st == HK_EXTRACT_OK) {
        st = hk_extract_feed(x, (const unsigned char *) doc + k, len - k);
    }

    if (st == HK_EXTRACT_OK) {
        st = hk_extract_finish(x);
    }

    hk_extract_destroy(x);

    return st;
}


/* runs a small document whole and expects a status and a log */

static void
expect(const hk_extract_conf_t *conf, const char *doc,
    hk_extract_rc_t want_status, const char *want_log, const char *name)
{
    collect_t        c, c1, cw;
    hk_extract_rc_t  st, st1, stw;

    collect_init(&c);
    collect_init(&c1);
    collect_init(&cw);

    st = run(conf, doc, strlen(doc), 0, &c, NULL);
    st1 = run(conf, doc, strlen(doc), 1, &c1, NULL);
    stw = run_document(conf, doc, strlen(doc), &cw);

    if (!ok(st == want_status && strcmp(c.log, want_log) == 0
            && !c.broken, name))
    {
        printf("#   status %s, want %s\n#   log:\n%s#   want:\n%s",
               hk_extract_rc_name(st),
               hk_extract_rc_name(want_status), c.log, want_log);
    }

    if (st1 != st || strcmp(c1.log, c.log) != 0) {
        ok(0, "  and the same byte by byte");
    }

    if (stw != st || strcmp(cw.log, c.log) != 0) {
        ok(0, "  and the same read whole (hk_extract_document)");
        printf("#   whole: status %s, log:\n%s", hk_extract_rc_name(stw),
               cw.log);
    }

    collect_free(&c);
    collect_free(&c1);
    collect_free(&cw);
}


/* the generator behind the big documents */

static size_t
gen_fill(gen_t *g, char *buf, size_t size)
{
    size_t  n, done;

    done = 0;

    while (done < size && (g->item_off < g->item_len || g->stage < 3))
    {

        if (g->item_off == g->item_len) {
            g->item_off = 0;

            switch (g->stage) {

            case 0:
                g->item_len = strlen(g->head);
                memcpy(g->item, g->head, g->item_len);
                g->stage = g->count ? 1 : 2;
                break;

            case 1:
                g->item_len = (size_t) snprintf(g->item, 256,
                    "%s{\"name\":\"Hotel %llu\",\"amenities\":[\"wifi\","
                    "{\"spa\":true}],\"location\":{\"lat\":52.52,"
                    "\"lon\":13.40},\"hotel_id\":\"H%llu\","
                    "\"rate\":%llu.%02llu,\"currency\":\"eur\","
                    "\"text\":\"",
                    g->made ? "," : "",
                    (unsigned long long) g->made,
                    (unsigned long long) g->made,
                    (unsigned long long) (g->made % 500 + 1),
                    (unsigned long long) (g->made % 100));

                memset(g->item + g->item_len, 'x', g->pad);
                g->item_len += g->pad;
                memcpy(g->item + g->item_len, "\"}", 2);
                g->item_len += 2;

                if (++g->made == g->count) {
                    g->stage = 2;
                }

                break;

            default:
                g->item_len = strlen(g->tail);
                memcpy(g->item, g->tail, g->item_len);
                g->stage = 3;
                break;
            }
        }

        n = g->item_len - g->item_off;

        if (n > size - done) {
            n = size - done;
        }

        memcpy(buf + done, g->item + g->item_off, n);
        g->item_off += n;
        done += n;
    }

    return done;
}


/* the sum of the rates gen_fill() writes for count results */

static int64_t
gen_sum(uint64_t count)
{
    int64_t   sum;
    uint64_t  i;

    sum = 0;

    for (i = 0; i < count; i++) {
        sum += (int64_t) (i % 500 + 1) * 1000000 + (int64_t) (i % 100) * 10000;
    }

    return sum;
}


static const char  *page =
    "{\n"
    "  \"search\": {\"hotel_id\": \"meta\", \"query\": \"Berlin\",\n"
    "             \"results\": [{\"hotel_id\": \"nested\", \"rate\": 1,\n"
    "                          \"currency\": \"EUR\"}]},\n"
    "  \"hotel_id\": \"top\",\n"
    "  \"count\": 20,\n"
    "  \"results\": [\n"
    "    {\"hotel_id\": \"H1001\", \"name\": \"Hotel Adlon\",\n"
    "     \"rate\": 129.99, \"currency\": \"EUR\",\n"
    "     \"location\": {\"lat\": 52.516, \"lon\": 13.3806,\n"
    "                  \"hotel_id\": \"decoy\", \"rate\": 5},\n"
    "     \"amenities\": [\"wifi\", \"spa\",\n"
    "                   {\"hotel_id\": \"decoy2\", \"rate\": 1}]},\n"
    "    {\"currency\": \"usd\", \"rate\": \"89.5\", \"hotel_id\": 20002,\n"
    "     \"images\": [[1, 2], [3, {\"a\": [], \"b\": {}}]], \"x\": null},\n"
    "    {\"name\": \"No Id Inn\", \"rate\": 50, \"currency\": \"EUR\"},\n"
    "    {\"hotel_id\": \"H1004\", \"rate\": 1.2999e2, \"currency\": \"GBP\",\n"
    "     \"reviews\": {\"score\": 8.7, \"count\": 1234,\n"
    "                 \"big\": 123456789012345678901234567890}},\n"
    "    {\"hotel_id\": \"H1005\", \"currency\": \"EUR\",\n"
    "     \"sold_out\": true},\n"
    "    {\"hotel_id\": \"H1006\", \"rate\": -10, \"currency\": \"EUR\"},\n"
    "    {\"hotel_id\": \"H1007\", \"rate\": 0, \"currency\": \"EUR\"},\n"
    "    {\"hotel_id\": \"H1008\", \"rate\": \"NaN\", \"currency\": \"EUR\"},\n"
    "    {\"hotel_id\": \"H1009\", \"rate\": 99.0000001,\n"
    "     \"currency\": \"EUR\"},\n"
    "    {\"hotel_id\": true, \"rate\": 10, \"currency\": \"EUR\"},\n"
    "    {\"hotel_id\": \"H1011\", \"rate\": 75, \"currency\": \"EURO\"},\n"
    "    {\"hotel_id\": \"H1012\", \"rate\": 75},\n"
    "    \"H1013\",\n"
    "    {\"hotel_id\": \"H1014\", \"rate\": 1e400, \"currency\": \"EUR\"},\n"
    "    {\"hotel_id\": \"H\\u00f4tel \\u00e9\\\"q\", \"rate\": 210.5,\n"
    "     \"currency\": \"CHF\"},\n"
    "    {\"hotel_id\": \"H1016\", \"rate\": 10, \"rate\": 12.25,\n"
    "     \"currency\": \"EUR\"},\n"
    "    {\"hotel_id\": \"H1017\", \"rate\": {\"amount\": 5},\n"
    "     \"currency\": \"EUR\"},\n"
    "    [1, 2, {\"hotel_id\": \"H1018\", \"rate\": 1,\n"
    "            \"currency\": \"EUR\"}],\n"
    "    {\"hotel_id\": \"\", \"rate\": 10, \"currency\": \"EUR\"},\n"
    "    {\"deals\": [{\"hotel_id\": \"x\", \"rate\": 1,\n"
    "                \"currency\": \"EUR\"}],\n"
    "     \"hotel_id\": \"H1020\", \"rate\": 0.000001, \"currency\": \"JPY\"}\n"
    "  ],\n"
    "  \"paging\": {\"next\": \"/search?page=2\", \"results\": 20}\n"
    "}\n";


static const char  *page_log =
    "0 H1001 129.99 EUR\n"
    "1 20002 89.50 USD\n"
    "2 skip no_id\n"
    "3 H1004 129.99 GBP\n"
    "4 skip no_rate\n"
    "5 skip negative_rate\n"
    "6 skip negative_rate\n"
    "7 skip bad_rate\n"
    "8 skip bad_rate\n"
    "9 skip bad_id\n"
    "10 skip bad_currency\n"
    "11 skip no_currency\n"
    "12 skip not_object\n"
    "13 skip bad_rate\n"
    "14 H\xc3\xb4tel \xc3\xa9\"q 210.50 CHF\n"
    "15 H1016 12.25 EUR\n"
    "16 skip bad_rate\n"
    "17 skip not_object\n"
    "18 skip bad_id\n"
    "19 H1020 0.000001 JPY\n";


static void
test_page(void)
{
    int                  same;
    size_t               len, k, peak;
    collect_t            whole, c;
    hk_extract_conf_t    conf;
    hk_extract_rc_t  st;

    len = strlen(page);

    collect_init(&whole);
    st = run(NULL, page, len, 0, &whole, &peak);

    is_int(st, HK_EXTRACT_OK, "page: whole document is OK");
    is_str(whole.log, page_log, "page: the 20 elements as expected");
    ok(!whole.broken, "page: positions consecutive, invariants hold");
    printf("# page of %zu bytes: peak %zu bytes\n", len, peak);
    ok(peak < 8192, "page: peak memory under 8 KiB");

    same = 1;

    for (k = 0; k <= len; k++) {
        collect_init(&c);
        st = run_split(NULL, page, len, k, &c);

        if (st != HK_EXTRACT_OK || strcmp(c.log, whole.log) != 0) {
            printf("# differs when split at %zu\n", k);
            same = 0;
        }

        collect_free(&c);
    }

    ok(same, "page: identical for every split point of 2 chunks");

    collect_init(&c);
    st = run(NULL, page, len, 1, &c, NULL);
    ok(st == HK_EXTRACT_OK && strcmp(c.log, whole.log) == 0,
       "page: identical byte by byte");
    collect_free(&c);

    collect_init(&c);
    st = run(NULL, page, len, 7, &c, NULL);
    ok(st == HK_EXTRACT_OK && strcmp(c.log, whole.log) == 0,
       "page: identical in 7-byte chunks");
    collect_free(&c);

    /* a default currency rescues result 11 only */
    memset(&conf, 0, sizeof(conf));
    conf.default_currency = "eur";

    collect_init(&c);
    st = run(&conf, page, len, 0, &c, NULL);
    ok(st == HK_EXTRACT_OK && strstr(c.log, "11 H1012 75.00 EUR\n") != NULL
       && strstr(c.log, "10 skip bad_currency\n") != NULL
       && c.results == 7 && c.skips == 13,
       "page: default_currency fills a missing currency only");
    collect_free(&c);

    /* every proper prefix is truncated */
    same = 1;

    for (k = 0; k < len - 1; k++) {
        collect_init(&c);
        st = run(NULL, page, k, 0, &c, NULL);

        if (st != HK_EXTRACT_ERROR_SYNTAX) {
            printf("# prefix of %zu bytes: %s\n", k,
                   hk_extract_rc_name(st));
            same = 0;
        }

        collect_free(&c);
    }

    ok(same, "page: every truncated prefix finishes with a syntax error");

    collect_free(&whole);
}


static const char  *dotted =
    "{\"meta\": {\"id\": \"m\"},\n"
    " \"data\": {\"total\": 3, \"hotels\": [\n"
    "  {\"id\": \"A\", \"price\": {\"amount\": \"129.990\",\n"
    "                         \"currency\": \"eur\",\n"
    "                         \"taxes\": {\"amount\": 12}}},\n"
    "  {\"price\": {\"currency\": \"USD\", \"amount\": 1.5E+1}, \"id\": 7},\n"
    "  {\"id\": \"C\", \"price\": 12},\n"
    "  {\"id\": \"D\", \"amount\": 5, \"currency\": \"EUR\",\n"
    "   \"price\": {\"other\": {\"amount\": 3}}},\n"
    "  {\"id\": \"E\", \"price\": {\"amount\": 1, \"currency\": \"EUR\"},\n"
    "   \"price\": {\"currency\": \"EUR\"}},\n"
    "  {\"id\": \"F\", \"price\": {\"amount\": 1, \"currency\": \"EUR\"},\n"
    "   \"price\": {\"amount\": 2}, \"price\": {\"amount\": 3,"
    " \"currency\": \"CAD\"}},\n"
    "  {\"id\": \"G\", \"price\": [{\"amount\": 1, \"currency\": \"EUR\"}]},\n"
    "  {\"id\": \"H\", \"price\": {\"amount\": null, \"currency\": \"EUR\"}}\n"
    " ],\n"
    " \"hotels\": [{\"id\": \"not me\"}]},\n"
    " \"hotels\": [{\"id\": \"nor me\"}]}";


static void
test_dotted(void)
{
    hk_extract_conf_t  conf;

    memset(&conf, 0, sizeof(conf));
    conf.results_path = "data.hotels";
    conf.id_field = "id";
    conf.rate_field = "price.amount";
    conf.currency_field = "price.currency";

    expect(&conf, dotted, HK_EXTRACT_OK,
           "0 A 129.99 EUR\n"
           "1 7 15.00 USD\n"
           "2 skip no_rate\n"
           "3 skip no_rate\n"
           "4 skip no_rate\n"
           "5 F 3.00 CAD\n"
           "6 skip no_rate\n"
           "7 skip no_rate\n",
           "dotted paths: data.hotels, price.amount, price.currency");

    conf.results_path = "";
    expect(&conf, "[{\"id\": \"R\", \"price\": {\"amount\": 3, "
           "\"currency\": \"SEK\"}}, 5]", HK_EXTRACT_OK,
           "0 R 3.00 SEK\n1 skip not_object\n",
           "an empty results_path is a root array");

    conf.results_path = "data.hotels.list";
    expect(&conf, dotted, HK_EXTRACT_ERROR_NO_RESULTS, "",
           "a path through an array is not followed");
}


static void
test_fields(void)
{
    char               doc[512], id[200];

    expect(NULL, "{\"results\": [{\"rate\": 1, \"currency\": \"EUR\", "
           "\"hotel_id\": 12345}]}", HK_EXTRACT_OK, "0 12345 1.00 EUR\n",
           "an integer id is its text");

    expect(NULL, "{\"results\": [{\"rate\": 1, \"currency\": \"EUR\", "
           "\"hotel_id\": -7}]}", HK_EXTRACT_OK, "0 -7 1.00 EUR\n",
           "a negative integer id too");

    expect(NULL, "{\"results\": [{\"hotel_id\": 1.5, \"rate\": 1, "
           "\"currency\": \"EUR\"}, {\"hotel_id\": 1e3, \"rate\": 1, "
           "\"currency\": \"EUR\"}]}", HK_EXTRACT_OK,
           "0 skip bad_id\n1 skip bad_id\n", "a non-integer number id is bad");

    expect(NULL, "{\"results\": [{\"hotel_id\": null, \"rate\": 1, "
           "\"currency\": \"EUR\"}, {\"hotel_id\": [\"a\"], \"rate\": 1, "
           "\"currency\": \"EUR\"}, {\"hotel_id\": {\"a\": 1}, \"rate\": 1, "
           "\"currency\": \"EUR\"}, {\"hotel_id\": false, \"rate\": 1, "
           "\"currency\": \"EUR\"}]}", HK_EXTRACT_OK,
           "0 skip no_id\n1 skip bad_id\n2 skip bad_id\n3 skip bad_id\n",
           "id null is absent, array, object and boolean are bad");

    expect(NULL, "{\"results\": [{\"hotel_id\": \"a\\u0001b\", \"rate\": 1, "
           "\"currency\": \"EUR\"}, {\"hotel_id\": \"a\\u0000\", \"rate\": 1, "
           "\"currency\": \"EUR\"}, {\"hotel_id\": \"a\\nb\", \"rate\": 1, "
           "\"currency\": \"EUR\"}]}", HK_EXTRACT_OK,
           "0 skip bad_id\n1 skip bad_id\n2 skip bad_id\n",
           "control characters in an id are bad");

    memset(id, 'i', 128);
    id[128] = '\0';
    snprintf(doc, sizeof(doc), "{\"results\": [{\"hotel_id\": \"%s\", "
             "\"rate\": 1, \"currency\": \"EUR\"}, {\"hotel_id\": \"%sj\", "
             "\"rate\": 1, \"currency\": \"EUR\"}]}", id, id);
    {
        char  want[256];

        snprintf(want, sizeof(want), "0 %s 1.00 EUR\n1 skip bad_id\n", id);
        expect(NULL, doc, HK_EXTRACT_OK, want,
               "an id of HK_RECORD_MAX_ID bytes is fine, one more is bad");
    }

    memset(id, '7', 129);
    id[129] = '\0';
    snprintf(doc, sizeof(doc), "{\"results\": [{\"hotel_id\": %s, "
             "\"rate\": 1, \"currency\": \"EUR\"}, {\"hotel_id\": %.128s, "
             "\"rate\": 1, \"currency\": \"EUR\"}]}", id, id);
    {
        char  want[256];

        snprintf(want, sizeof(want), "0 skip bad_id\n1 %.128s 1.00 EUR\n",
                 id);
        expect(NULL, doc, HK_EXTRACT_OK, want,
               "an integer id is bounded by its text, 128 digits at most");
    }

    expect(NULL, "{\"results\": [{\"hotel_id\": \"a\", \"rate\": true, "
           "\"currency\": \"EUR\"}, {\"hotel_id\": \"b\", \"rate\": [1], "
           "\"currency\": \"EUR\"}, {\"hotel_id\": \"c\", \"rate\": \"\", "
           "\"currency\": \"EUR\"}, {\"hotel_id\": \"d\", \"rate\": \" 1\", "
           "\"currency\": \"EUR\"}, {\"hotel_id\": \"e\", \"rate\": null, "
           "\"currency\": \"EUR\"}]}", HK_EXTRACT_OK,
           "0 skip bad_rate\n1 skip bad_rate\n2 skip bad_rate\n"
           "3 skip bad_rate\n4 skip no_rate\n",
           "rate of the wrong type is bad, null is absent");

    expect(NULL, "{\"results\": [{\"hotel_id\": \"a\", \"rate\": \"NaN\", "
           "\"currency\": \"EUR\"}, {\"hotel_id\": \"b\", \"rate\": "
           "\"Infinity\", \"currency\": \"EUR\"}, {\"hotel_id\": \"c\", "
           "\"rate\": \"-Infinity\", \"currency\": \"EUR\"}, {\"hotel_id\": "
           "\"d\", \"rate\": \"inf\", \"currency\": \"EUR\"}, {\"hotel_id\": "
           "\"e\", \"rate\": \"nan\", \"currency\": \"EUR\"}]}",
           HK_EXTRACT_OK,
           "0 skip bad_rate\n1 skip bad_rate\n2 skip bad_rate\n"
           "3 skip bad_rate\n4 skip bad_rate\n",
           "NaN and Infinity spelled as strings are bad rates");

    expect(NULL, "{\"results\": [{\"hotel_id\": \"a\", \"rate\": NaN}]}",
           HK_EXTRACT_ERROR_SYNTAX, "", "a bare NaN is invalid JSON");

    expect(NULL, "{\"results\": [{\"hotel_id\": \"a\", "
           "\"rate\": -Infinity}]}", HK_EXTRACT_ERROR_SYNTAX, "",
           "a bare -Infinity is invalid JSON");

    expect(NULL, "{\"results\": [{\"hotel_id\": \"a\", \"rate\": 1e400, "
           "\"currency\": \"EUR\"}, {\"hotel_id\": \"b\", \"rate\": "
           "9223372036855, \"currency\": \"EUR\"}, {\"hotel_id\": \"c\", "
           "\"rate\": 9223372036854.775807, \"currency\": \"EUR\"}, "
           "{\"hotel_id\": \"d\", \"rate\": "
           "123456789012345678901234567890, \"currency\": \"EUR\"}, "
           "{\"hotel_id\": \"e\", \"rate\": 1e-400, \"currency\": \"EUR\"}, "
           "{\"hotel_id\": \"f\", \"rate\": \"1.0000001\", "
           "\"currency\": \"EUR\"}]}", HK_EXTRACT_OK,
           "0 skip bad_rate\n1 skip bad_rate\n"
           "2 c 9223372036854.775807 EUR\n3 skip bad_rate\n"
           "4 skip bad_rate\n5 skip bad_rate\n",
           "huge exponent, overflow, int64 max, tiny, too many decimals");

    expect(NULL, "{\"results\": [{\"hotel_id\": \"a\", \"rate\": -0.01, "
           "\"currency\": \"EUR\"}, {\"hotel_id\": \"b\", \"rate\": \"0\", "
           "\"currency\": \"EUR\"}, {\"hotel_id\": \"c\", \"rate\": -0, "
           "\"currency\": \"EUR\"}, {\"hotel_id\": \"d\", \"rate\": 0e10, "
           "\"currency\": \"EUR\"}]}", HK_EXTRACT_OK,
           "0 skip negative_rate\n1 skip negative_rate\n"
           "2 skip negative_rate\n3 skip negative_rate\n",
           "negative and zero rates");

    expect(NULL, "{\"results\": [{\"hotel_id\": \"a\", \"rate\": 1, "
           "\"currency\": \"eu\"}, {\"hotel_id\": \"b\", \"rate\": 1, "
           "\"currency\": 978}, {\"hotel_id\": \"c\", \"rate\": 1, "
           "\"currency\": \"E1R\"}, {\"hotel_id\": \"d\", \"rate\": 1, "
           "\"currency\": \"\\u20acUR\"}, {\"hotel_id\": \"e\", \"rate\": 1, "
           "\"currency\": \"chf\"}, {\"hotel_id\": \"f\", \"rate\": 1, "
           "\"currency\": null}, {\"hotel_id\": \"g\", \"rate\": 1, "
           "\"currency\": {}}]}", HK_EXTRACT_OK,
           "0 skip bad_currency\n1 skip bad_currency\n2 skip bad_currency\n"
           "3 skip bad_currency\n4 e 1.00 CHF\n5 skip no_currency\n"
           "6 skip bad_currency\n",
           "currency: three ASCII letters, upper-cased; null is absent");

    expect(NULL, "{\"results\": [{}, {\"hotel_id\": 1}, {\"hotel_id\": 1, "
           "\"rate\": \"x\", \"currency\": 1}, {\"hotel_id\": [], "
           "\"rate\": \"x\"}]}", HK_EXTRACT_OK,
           "0 skip no_id\n1 skip no_rate\n2 skip bad_rate\n3 skip bad_id\n",
           "one reason per result: id, then rate, then currency");
}


static void
test_duplicates(void)
{
    expect(NULL, "{\"results\": [{\"hotel_id\": \"a\", \"rate\": 1, "
           "\"rate\": 2, \"currency\": \"EUR\"}, {\"hotel_id\": \"b\", "
           "\"rate\": 1, \"rate\": \"x\", \"currency\": \"EUR\"}, "
           "{\"hotel_id\": \"c\", \"rate\": \"x\", \"rate\": 3, "
           "\"currency\": \"EUR\"}, {\"hotel_id\": \"d\", \"rate\": 4, "
           "\"currency\": \"EUR\", \"rate\": null}, {\"hotel_id\": \"e\", "
           "\"hotel_id\": \"f\", \"rate\": 5, \"currency\": \"EUR\", "
           "\"currency\": \"usd\"}]}", HK_EXTRACT_OK,
           "0 a 2.00 EUR\n1 skip bad_rate\n2 c 3.00 EUR\n3 skip no_rate\n"
           "4 f 5.00 USD\n",
           "duplicate keys in a result: the last one wins");

    expect(NULL, "{\"results\": [{\"hotel_id\": \"a\", \"rate\": 1, "
           "\"currency\": \"EUR\"}], \"results\": [{\"hotel_id\": \"b\", "
           "\"rate\": 1, \"currency\": \"EUR\"}]}", HK_EXTRACT_OK,
           "0 a 1.00 EUR\n", "a duplicate results array: the first one");

    expect(NULL, "{\"results\": 5, \"results\": [{\"hotel_id\": \"b\", "
           "\"rate\": 1, \"currency\": \"EUR\"}]}", HK_EXTRACT_OK,
           "0 b 1.00 EUR\n", "the first array at results_path counts");
}


static void
test_documents(void)
{
    size_t             i;
    collect_t          c;
    hk_extract_t      *x;
    hk_extract_conf_t  conf;
    hk_extract_rc_t  st;

    static const char  ok_tail[] = "{\"results\": [{\"hotel_id\": \"a\", "
                                   "\"rate\": 1, \"currency\": \"EUR\"}]}";

    expect(NULL, "{\"results\": []}", HK_EXTRACT_OK, "",
           "an empty results array is OK with no results");

    expect(NULL, "{\"hits\": [{\"hotel_id\": \"a\", \"rate\": 1, "
           "\"currency\": \"EUR\"}]}", HK_EXTRACT_ERROR_NO_RESULTS, "",
           "no results key: no_results");

    expect(NULL, "{\"results\": {\"hotel_id\": \"a\", \"rate\": 1, "
           "\"currency\": \"EUR\"}}", HK_EXTRACT_ERROR_NO_RESULTS, "",
           "results an object: no_results");

    expect(NULL, "{\"results\": null}", HK_EXTRACT_ERROR_NO_RESULTS, "",
           "results null: no_results");

    expect(NULL, "[{\"hotel_id\": \"a\", \"rate\": 1, \"currency\": "
           "\"EUR\"}]", HK_EXTRACT_ERROR_NO_RESULTS, "",
           "a root array when results_path is \"results\": no_results");

    expect(NULL, "\"results\"", HK_EXTRACT_ERROR_NO_RESULTS, "",
           "a scalar document: no_results");

    expect(NULL, "", HK_EXTRACT_ERROR_SYNTAX, "", "an empty document");
    expect(NULL, "  \n ", HK_EXTRACT_ERROR_SYNTAX, "", "only whitespace");

    expect(NULL, "{\"results\": [{\"hotel_id\": \"a\", \"rate\": 1, "
           "\"currency\": \"EUR\"}]} {}", HK_EXTRACT_ERROR_SYNTAX,
           "0 a 1.00 EUR\n", "two documents: a syntax error after results");

    expect(NULL, "{\"results\": [{\"hotel_id\": \"a\", \"rate\": 1, "
           "\"currency\": \"EUR\"}], \"x\": tru}", HK_EXTRACT_ERROR_SYNTAX,
           "0 a 1.00 EUR\n",
           "a syntax error after the results array: kept, and counted");

    expect(NULL, "{\"results\": [{\"hotel_id\": \"a\", \"rate\": 1, "
           "\"currency\": \"EUR\"}, {\"hotel_id\": \"b\" \"rate\": 1}]}",
           HK_EXTRACT_ERROR_SYNTAX, "0 a 1.00 EUR\n",
           "a syntax error inside results: earlier results stay");

    expect(NULL, "{\"results\": [] /* c */}", HK_EXTRACT_ERROR_SYNTAX, "",
           "no comments");

    expect(NULL, "{\"results\": [{\"hotel_id\": \"a\xff\", \"rate\": 1, "
           "\"currency\": \"EUR\"}]}", HK_EXTRACT_ERROR_SYNTAX, "",
           "invalid UTF-8 in a string: syntax");

    expect(NULL, "{\"results\": [{\"hotel_id\": \"a\xc0\xaf\", \"rate\": 1, "
           "\"currency\": \"EUR\"}]}", HK_EXTRACT_ERROR_SYNTAX, "",
           "overlong UTF-8: syntax");

    expect(NULL, "{\"res\xe2\x82ults\": []}", HK_EXTRACT_ERROR_SYNTAX, "",
           "invalid UTF-8 in a key: syntax");

    expect(NULL, "{\"results\": [], \"x\": \"\xed\xa0\x80\"}",
           HK_EXTRACT_ERROR_SYNTAX, "", "a raw UTF-16 surrogate: syntax");

    expect(NULL, "{\"results\": [], \"x\": \"\xf4\x90\x80\x80\"}",
           HK_EXTRACT_ERROR_SYNTAX, "", "above U+10FFFF: syntax");

    expect(NULL, "{\"results\": [], \"x\": \"\\udc00\"}",
           HK_EXTRACT_ERROR_SYNTAX, "",
           "an escaped lone low surrogate: syntax");

    expect(NULL, "{\"results\": [{\"hotel_id\": \"\xf0\x9f\x8f\xa8\xe2\x82"
           "\xac\\ud83d\\ude00\", \"rate\": 1, \"currency\": \"EUR\"}]}",
           HK_EXTRACT_OK,
           "0 \xf0\x9f\x8f\xa8\xe2\x82\xac\xf0\x9f\x98\x80 1.00 EUR\n",
           "4-byte UTF-8 and a surrogate pair escape in an id");

    expect(NULL, "{\"results\": [{\"hotel_id\": \"a\", \"rate\": 1, "
           "\"currency\": \"EUR\", \"big\": 1234567890123456789012345678901234"
           "5678901234567890}]}", HK_EXTRACT_OK, "0 a 1.00 EUR\n",
           "a huge integer elsewhere is not an error");

    /* errors are sticky and cheap */
    collect_init(&c);
    x = extract_create(NULL, &handlers, &c);

    st = hk_extract_feed(x, (const unsigned char *) "{\"results\": [x", 14);
    is_int(st, HK_EXTRACT_ERROR_SYNTAX, "a lexical error is reported at once");
    ok(strncmp(hk_extract_error(x), "invalid JSON near byte 14", 25) == 0,
       "  with its byte offset");
    printf("#   \"%s\"\n", hk_extract_error(x));

    st = hk_extract_feed(x, (const unsigned char *) ok_tail,
                         sizeof(ok_tail) - 1);
    is_int(st, HK_EXTRACT_ERROR_SYNTAX, "  and again on the next feed");
    is_int(hk_extract_finish(x), HK_EXTRACT_ERROR_SYNTAX, "  and on finish");
    is_int(c.results + c.skips, 0, "  with no callbacks after the error");
    hk_extract_destroy(x);
    collect_free(&c);

    /* finish twice, and the error strings */
    collect_init(&c);
    x = extract_create(NULL, &handlers, &c);
    hk_extract_feed(x, (const unsigned char *) "{\"a\": 1}", 8);
    is_int(hk_extract_finish(x), HK_EXTRACT_ERROR_NO_RESULTS, "no_results");
    is_str(hk_extract_error(x), "results_path not found", "  says why");
    is_int(hk_extract_finish(x), HK_EXTRACT_ERROR_NO_RESULTS,
           "  finish again");
    hk_extract_destroy(x);
    collect_free(&c);

    x = extract_create(NULL, NULL, NULL);
    hk_extract_feed(x, (const unsigned char *) "{\"results\": [1, {}]", 19);
    is_int(hk_extract_finish(x), HK_EXTRACT_ERROR_SYNTAX,
           "truncated: finish says syntax (and no handlers is fine)");
    printf("#   \"%s\"\n", hk_extract_error(x));
    hk_extract_destroy(x);

    x = extract_create(NULL, NULL, NULL);
    hk_extract_feed(x, (const unsigned char *) "{\"results\": []}", 15);
    is_int(hk_extract_finish(x), HK_EXTRACT_OK, "finish OK");
    is_str(hk_extract_error(x), "", "  with an empty error");
    hk_extract_destroy(x);

    hk_extract_destroy(NULL);

    /* names and configuration checks */
    is_str(hk_skip_reason_name(HK_SKIP_NO_ID), "no_id", "reason names");
    is_str(hk_skip_reason_name(HK_SKIP_NEGATIVE_RATE), "negative_rate",
           "  negative_rate");
    is_str(hk_skip_reason_name(HK_SKIP_NOT_OBJECT), "not_object",
           "  not_object");
    is_str(hk_skip_reason_name(HK_SKIP_NREASONS), "unknown", "  unknown");
    is_str(hk_extract_rc_name(HK_EXTRACT_ERROR_NO_RESULTS), "no_results",
           "status names");

    for (i = 0; i < HK_SKIP_NREASONS; i++) {
        if (strcmp(hk_skip_reason_name((hk_skip_reason_t) i), "unknown")
            == 0)
        {
            break;
        }
    }

    is_int(i, HK_SKIP_NREASONS, "every reason has a name");

    memset(&conf, 0, sizeof(conf));
    ok(hk_extract_conf_check(&conf) == NULL, "a zeroed conf is valid");
    ok(hk_extract_conf_check(NULL) == NULL, "NULL conf is valid");

    conf.rate_field = "price..amount";
    ok(hk_extract_conf_check(&conf) != NULL
       && hk_extract_rules(&conf) == NULL,
       "an empty path component is refused");

    conf.rate_field = "";
    ok(hk_extract_conf_check(&conf) != NULL, "an empty field is refused");

    conf.rate_field = "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q";
    ok(hk_extract_conf_check(&conf) != NULL, "17 components are refused");

    conf.rate_field = "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p";
    ok(hk_extract_conf_check(&conf) == NULL, "16 components are fine");

    conf.rate_field = NULL;
    conf.results_path = "data.";
    ok(hk_extract_conf_check(&conf) != NULL, "a trailing dot is refused");

    conf.results_path = NULL;
    conf.default_currency = "EURO";
    ok(hk_extract_conf_check(&conf) != NULL, "a 4-letter default currency");

    conf.default_currency = "E1";
    ok(hk_extract_conf_check(&conf) != NULL, "a bad default currency");

    conf.default_currency = "eUr";
    ok(hk_extract_conf_check(&conf) == NULL,
       "a lower-case default currency is a currency");
}


/* "[[[[..." or "{"a":{"a":..." fed in chunks of 1 KiB */

static void
test_depth(void)
{
    int                  i;
    char                 buf[1024], doc[512];
    size_t               peak, n;
    collect_t            c;
    hk_extract_t        *x;
    hk_extract_conf_t    conf;
    hk_extract_rc_t  st;

    memset(buf, '[', sizeof(buf));

    x = extract_create(NULL, NULL, NULL);
    st = HK_EXTRACT_OK;

    for (i = 0; i < 10 && st == HK_EXTRACT_OK; i++) {
        st = hk_extract_feed(x, (unsigned char *) buf, sizeof(buf));
    }

    peak = hk_extract_peak_bytes(x);
    is_int(st, HK_EXTRACT_ERROR_DEPTH, "10,000 nested arrays: depth error");
    printf("#   \"%s\", peak %zu bytes\n", hk_extract_error(x), peak);
    is_str(hk_extract_error(x), "JSON nested deeper than 64 levels at byte 65",
           "  at the 65th '['");
    ok(peak < 16384, "  peak memory under 16 KiB");
    is_int(hk_extract_feed(x, (unsigned char *) buf, 1),
           HK_EXTRACT_ERROR_DEPTH, "  sticky");
    hk_extract_destroy(x);

    x = extract_create(NULL, NULL, NULL);
    st = hk_extract_feed(x, (unsigned char *) "{\"results\":[", 12);

    for (i = 0; i < 10000 && st == HK_EXTRACT_OK; i++) {
        st = hk_extract_feed(x, (unsigned char *) "{\"a\":", 5);
    }

    peak = hk_extract_peak_bytes(x);
    is_int(st, HK_EXTRACT_ERROR_DEPTH,
           "10,000 nested objects in a result: depth error");
    ok(peak < 16384, "  peak memory under 16 KiB");
    printf("#   peak %zu bytes\n", peak);
    hk_extract_destroy(x);

    /* exactly max_depth is fine, one more is not */
    memset(&conf, 0, sizeof(conf));
    conf.max_depth = 5;

    n = (size_t) snprintf(doc, sizeof(doc), "{\"results\": [{\"hotel_id\": "
                          "\"a\", \"rate\": 1, \"currency\": \"EUR\", "
                          "\"x\": [[]]}]}");
    collect_init(&c);
    st = run(&conf, doc, n, 0, &c, NULL);
    ok(st == HK_EXTRACT_OK && c.results == 1, "max_depth levels are fine");
    collect_free(&c);

    n = (size_t) snprintf(doc, sizeof(doc), "{\"results\": [{\"hotel_id\": "
                          "\"a\", \"rate\": 1, \"currency\": \"EUR\", "
                          "\"x\": [[[]]]}]}");
    collect_init(&c);
    st = run(&conf, doc, n, 0, &c, NULL);
    ok(st == HK_EXTRACT_ERROR_DEPTH && c.results == 0,
       "max_depth + 1 levels are not, and the result is not reported");
    collect_free(&c);
}


/* one giant token, streamed in 16 KiB chunks */

static void
test_token(const char *head, char fill, const char *what)
{
    char                 name[128];
    size_t               peak, total;
    hk_extract_t        *x;
    hk_extract_rc_t  st;
    static char          buf[16384];

    memset(buf, fill, sizeof(buf));

    x = extract_create(NULL, NULL, NULL);
    st = hk_extract_feed(x, (const unsigned char *) head, strlen(head));
    total = 0;

    while (st == HK_EXTRACT_OK && total < 10 * 1024 * 1024) {
        st = hk_extract_feed(x, (const unsigned char *) buf, sizeof(buf));
        total += sizeof(buf);
    }

    peak = hk_extract_peak_bytes(x);

    snprintf(name, sizeof(name), "a 10 MB %s: token error", what);
    is_int(st, HK_EXTRACT_ERROR_TOKEN, name);
    printf("#   \"%s\", after %zu bytes, peak %zu bytes\n",
           hk_extract_error(x), total, peak);
    ok(peak < 200 * 1024, "  peak memory under 200 KB");
    is_int(hk_extract_finish(x), HK_EXTRACT_ERROR_TOKEN, "  sticky");

    hk_extract_destroy(x);
}


static void
test_tokens(void)
{
    size_t               len, peak;
    collect_t            c, c1;
    hk_extract_conf_t    conf;
    hk_extract_rc_t  st;
    gen_t                g;
    static char          doc[300000];

    test_token("{\"results\": [{\"hotel_id\": \"", 'a', "string value");
    test_token("{\"results\": [{\"", 'k', "key");
    test_token("{\"results\": [{\"rate\": 1", '1', "number");
    test_token("{\"results\": [{\"rate\": \"", '\\', "escaped string");

    /* the largest token allowed passes, whatever the chunking */
    memset(&g, 0, sizeof(g));
    g.head = "{\"results\": [";
    g.tail = "]}";
    g.count = 3;
    g.pad = HK_EXTRACT_DEFAULT_MAX_TOKEN - 2;
    len = gen_fill(&g, doc, sizeof(doc));

    collect_init(&c);
    collect_init(&c1);
    st = run(NULL, doc, len, 0, &c, &peak);
    ok(st == HK_EXTRACT_OK && c.results == 3,
       "strings of max_token bytes pass whole");
    printf("#   peak %zu bytes\n", peak);

    st = run(NULL, doc, len, 1, &c1, NULL);
    ok(st == HK_EXTRACT_OK && strcmp(c.log, c1.log) == 0,
       "  and byte by byte");
    collect_free(&c);
    collect_free(&c1);

    collect_init(&c);
    st = run(NULL, doc, len, 4095, &c, &peak);
    ok(st == HK_EXTRACT_OK && c.results == 3, "  and in 4095-byte chunks");
    printf("#   peak %zu bytes\n", peak);
    collect_free(&c);

    /* the worst case: the largest token, with an escape to decode */
    len = (size_t) snprintf(doc, 64, "{\"results\": [], \"x\": \"\\n");
    memset(doc + len, 'y', HK_EXTRACT_DEFAULT_MAX_TOKEN - 4);
    len += HK_EXTRACT_DEFAULT_MAX_TOKEN - 4;
    memcpy(doc + len, "\"}", 2);
    len += 2;

    collect_init(&c);
    st = run(NULL, doc, len, 0, &c, &peak);
    ok(st == HK_EXTRACT_OK, "a max_token string with an escape passes");
    printf("#   peak %zu bytes (token buffer and decoded copy)\n", peak);
    ok(peak < 4 * HK_EXTRACT_DEFAULT_MAX_TOKEN + 16384,
       "  under 4 * max_token + 16 KiB");
    collect_free(&c);

    memset(&conf, 0, sizeof(conf));
    conf.max_token = 100;

    memset(&g, 0, sizeof(g));
    g.head = "{\"results\": [";
    g.tail = "]}";
    g.count = 1;
    g.pad = 20000;
    len = gen_fill(&g, doc, sizeof(doc));

    collect_init(&c);
    st = run(&conf, doc, len, 1, &c, NULL);
    ok(st == HK_EXTRACT_ERROR_TOKEN, "a lower max_token applies");
    collect_free(&c);
}


/* a large valid document, made while it is fed */

static void
test_big(uint64_t count, size_t pad, size_t chunk, const char *what)
{
    char                 name[128];
    size_t               n, peak;
    uint64_t             total;
    collect_t            c;
    hk_extract_t        *x;
    hk_extract_rc_t  st;
    gen_t               *g;
    static char          buf[65536];

    g = calloc(1, sizeof(gen_t));
    g->head = "{\"took\": 12, \"results\": [";
    g->tail = "], \"paging\": {\"next\": null}}";
    g->count = count;
    g->pad = pad;

    memset(&c, 0, sizeof(c));
    c.last_position = -1;
    c.cap = SIZE_MAX;           /* count, do not log */

    x = extract_create(NULL, &handlers, &c);
    st = HK_EXTRACT_OK;
    total = 0;

    while (st == HK_EXTRACT_OK) {
        n = gen_fill(g, buf, chunk);

        if (n == 0) {
            break;
        }

        total += n;
        st = hk_extract_feed(x, (unsigned char *) buf, n);
    }

    if (st == HK_EXTRACT_OK) {
        st = hk_extract_finish(x);
    }

    peak = hk_extract_peak_bytes(x);

    snprintf(name, sizeof(name), "%s: OK", what);
    is_int(st, HK_EXTRACT_OK, name);
    ok(c.results == count && c.skips == 0 && !c.broken
       && c.sum == gen_sum(count), "  every result, rates summed exactly");
    printf("#   %llu bytes in %zu-byte chunks, %zu results, "
           "peak %zu bytes\n", (unsigned long long) total, chunk,
           c.results, peak);
    ok(peak < 16384, "  peak memory under 16 KiB");

    hk_extract_destroy(x);
    free(g);
}


/* a UTF-8 byte order mark before the document, and only there */

static void
test_bom(void)
{
    expect(NULL, "\xef\xbb\xbf{\"results\": [{\"hotel_id\": \"a\", "
           "\"rate\": 1, \"currency\": \"EUR\"}]}", HK_EXTRACT_OK,
           "0 a 1.00 EUR\n", "bom: a leading byte order mark is ignored");

    expect(NULL, "\xef\xbb\xbf[{\"hotel_id\": \"a\", \"rate\": 1, "
           "\"currency\": \"EUR\"}]", HK_EXTRACT_ERROR_NO_RESULTS, "",
           "bom: before a root array too");

    expect(NULL, "\xef\xbb\xbf\xef\xbb\xbf{\"results\": []}",
           HK_EXTRACT_ERROR_SYNTAX, "", "bom: a second one is not ignored");

    expect(NULL, " \xef\xbb\xbf{\"results\": []}", HK_EXTRACT_ERROR_SYNTAX,
           "", "bom: nor one after a blank");

    expect(NULL, "\xef\xbb{\"results\": []}", HK_EXTRACT_ERROR_SYNTAX, "",
           "bom: two bytes of one are no mark");

    expect(NULL, "\xef\xbb\xbf", HK_EXTRACT_ERROR_SYNTAX, "",
           "bom: a mark alone is no document");

    expect(NULL, "\xef", HK_EXTRACT_ERROR_SYNTAX, "",
           "bom: nor a first byte of one");

    expect(NULL, "{\"results\": [{\"hotel_id\": \"\xef\xbb\xbf\", "
           "\"rate\": 1, \"currency\": \"EUR\"}]}", HK_EXTRACT_OK,
           "0 \xef\xbb\xbf 1.00 EUR\n",
           "bom: inside a string it is a character like any other");
}


/*
 * simdjson's reading itself (what hk_extract_document() tries first):
 * it reads well-formed pages, with the streaming extractor's calls, and
 * declines what it must leave to yajl.
 */

static int
fast(const char *doc, collect_t *c)
{
    int             read;
    size_t          len;
    unsigned char  *copy;

    len = strlen(doc);
    copy = malloc(len + HK_EXTRACT_PADDING);
    if (copy == NULL) {
        return -1;
    }

    memcpy(copy, doc, len);
    memset(copy + len, 0, HK_EXTRACT_PADDING);

    read = hk_extract_fast(rules_of(NULL), &handlers, c, copy, len);

    free(copy);

    return read;
}


/* each page read by simdjson, with the streaming extractor's calls */

static void
fast_reads(const char **docs, size_t n, const char *what)
{
    size_t     i;
    collect_t  c, ref;

    for (i = 0; i < n; i++) {
        collect_init(&c);
        collect_init(&ref);

        (void) run(NULL, docs[i], strlen(docs[i]), 0, &ref, NULL);

        ok(fast(docs[i], &c) == 1 && strcmp(c.log, ref.log) == 0, what);

        collect_free(&c);
        collect_free(&ref);
    }
}


/* each page declined by simdjson before any call */

static void
fast_declines(const char **docs, size_t n, const char *what)
{
    size_t     i;
    collect_t  c;

    for (i = 0; i < n; i++) {
        collect_init(&c);

        ok(fast(docs[i], &c) == 0 && c.results + c.skips == 0, what);

        collect_free(&c);
    }
}


static void
test_fast(void)
{
    size_t      i;
    collect_t   c, ref;

    static const char  *good[] = {
        "{\"results\": [{\"hotel_id\": \"a\", \"rate\": 1.5, "
        "\"currency\": \"eur\"}, 7, {\"hotel_id\": 12, \"rate\": \"2\", "
        "\"currency\": \"USD\", \"x\": [true, false, null, {}]}]}",
        "{\"a\": {\"results\": 1}, \"results\": [], \"b\": [1e5, -0.5]}",
        "{\"results\": 5, \"results\": [{\"hotel_id\": \"d\", "
        "\"rate\": 3, \"currency\": \"EUR\", \"rate\": 4}]}",
        "  {\"results\": [{\"hotel_id\": \"c\", \"rate\": -1, "
        "\"currency\": \"EUR\"}, {\"rate\": 1}]}  \n",
        /* escapes where nothing is compared or kept */
        "{\"name\": \"Caf\\u00e9 \\\"Royal\\\" \\ud83d\\ude00\\n\\/\", "
        "\"results\": [{\"hotel_id\": \"e\", \"rate\": 2, "
        "\"name\": \"\\\\\\b\\f\\r\\t\", \"x\": {\"k\\u00e9y\": 1}, "
        "\"currency\": \"EUR\"}]}",
        "{\"results\": [{\"hotel_id\": \"f\", \"rate\": 0.5, "
        "\"currency\": \"EUR\", \"name\": \"a\\\"\"}], "
        "\"next\": \"\\\"\"}",
        /* numbers of one word and longer, an id with DEL (bad) */
        "{\"results\": [{\"hotel_id\": \"g\x7f\", \"rate\": 1, "
        "\"currency\": \"EUR\"}, {\"hotel_id\": 7, \"rate\": 0, "
        "\"currency\": \"EUR\"}, {\"hotel_id\": \"h\", "
        "\"rate\": 12345678.25, \"currency\": \"EUR\"}], "
        "\"n\": [-0, 0.5, -0.25, 1234567, 12345678, -1234567.5, 10]}",
    };

    static const char  *declined[] = {
        "",
        "   ",
        "{\"results\": []",
        "{\"results\": []} {}",
        "{\"results\": [01]}",
        "{\"results\": [1.]}",
        "{\"results\": [tru]}",
        "{\"results\": [nul]}",
        "{\"results\": [\"a\tb\"]}",
        "{\"results\": [\"\\x\"]}",
        "{\"results\": [\"\\ud800\"]}",
        "{\"results\": [\"a\": 1]}",
        "{\"results\": [{\"hotel_id\": \"a\"}, \"b\": [1]]}",
        "{\"results\": [\"\xff\"]}",
        "{\"a\": 1}",
        "[1, 2]",
        "5",
        "{\"results\": [], \"a\": 1,}",
        /* escapes in what is compared or kept: yajl decodes them */
        "{\"results\": [{\"hotel_id\": \"\\u00e9\\n\", \"rate\": 3, "
        "\"currency\": \"EUR\"}]}",
        "{\"r\\u0065sults\": [{\"hotel_id\": \"b\", \"rate\": 1, "
        "\"currency\": \"CHF\"}]}",
        "{\"results\": [{\"hotel_id\": \"\\ud83d\\ude00\", \"rate\": 1, "
        "\"currency\": \"EUR\"}]}",
        "{\"results\": [{\"pr\\u0069ce\": 1}]}",
        /* what yajl decodes its own way */
        "{\"results\": [], \"a\": \"\\u0000\"}",
        "{\"results\": [], \"a\": \"\\ud83d\\u0041\"}",
        "{\"results\": [], \"a\": \"\\ude00\"}",
        "{\"results\": [], \"a\": \"\\ud83d\"}",
        /* malformed where only the new reading looks */
        "{\"results\": [], \"a\": \"\\u12g4\"}",
        "{\"results\": [], \"a\": [1 2]}",
        "{\"results\": [], \"a\": {\"b\" 1}}",
        "{\"results\": [], \"a\": {\"b\": 1 \"c\": 2}}",
        "{\"results\": [], \"a\": [1,]}",
        "{\"results\": [], \"a\": [-]}",
        "{\"results\": [], \"a\": [1e]}",
        "{\"results\": [], \"a\": [truex]}",
        "{\"results\": [], \"a\": [\"b\"x]}",
        "{\"results\": [], \"a\": [}",
        "{\"results\": [], \"a\": {]}",
        "{\"results\": [], \"a\": {1: 2}}",
        "{\"results\": [{\"hotel_id\": 1 2}]}",
        "{\"results\": [{\"price\": {\"amount\" 1}}]}",
        "{\"results\": [{\"hotel_id\": \"a\x01\", \"rate\": 1, "
        "\"currency\": \"EUR\"}]}",
        "{\"results\": [], \"a\": [-01]}",
        "{\"results\": [], \"a\": [00]}",
        "{\"results\": [], \"a\": [1.2.3]}",
        "{\"results\": [], \"a\": [-.5]}",
        "{\"results\": [], \"a\": [.5]}",
        "{\"results\": [], \"a\": [1..2]}",
        "{\"results\": [], \"a\": [--1]}",
        "{\"results\": [], \"a\": [1-2]}",
        "{\"results\": [], \"a\": [1:]}",
    };

    fast_reads(good, nelts(good),
               "fast: reads a well-formed page as the streaming one does");

    /* the nesting limit is the streaming one, at the limit and past it */

    for (i = 63; i <= 65; i++) {
        char             deep[256];
        size_t           k, n;
        hk_extract_rc_t  st, stw;

        n = (size_t) snprintf(deep, sizeof(deep), "{\"results\": [], \"x\": ");

        for (k = 1; k < i; k++) {
            deep[n++] = '[';
        }

        for (k = 1; k < i; k++) {
            deep[n++] = ']';
        }

        deep[n++] = '}';
        deep[n] = '\0';

        collect_init(&c);
        collect_init(&ref);

        st = run(NULL, deep, n, 0, &ref, NULL);
        stw = run_document(NULL, deep, n, &c);

        ok(st == stw && strcmp(c.log, ref.log) == 0
           && st == (i <= 64 ? HK_EXTRACT_OK : HK_EXTRACT_ERROR_DEPTH),
           "fast: nesting as deep as the limit and past it, both readings");

        collect_free(&c);
        collect_free(&ref);
    }

    fast_declines(declined, nelts(declined),
                  "fast: declines, with no call, what it leaves to yajl");
}


/*
 * A page's results after the first are read against the first's shape
 * (hk_extract_fast.cpp): each way a later result can differ from it must
 * still be read as the streaming extractor reads it, or declined.
 */

#define R(id, rest)  "{\"hotel_id\": " id ", \"rate\": " rest "}"
#define SHAPE(a, b, c)  "{\"results\": [" a ", " b ", " c "]}"

/* a first result with a string no field keeps, "n", and two more */
#define UNKEPT(b, c)                                                          \
    SHAPE(R("\"a\"", "1, \"n\": \"x\""), R("\"b\"", "2, \"n\": " b),         \
          R("\"c\"", "3, \"n\": " c))

static void
test_shapes(void)
{
    static const char  *good[] = {
        SHAPE(R("\"a\"", "1.5, \"currency\": \"EUR\", \"x\": [true, null]"),
              R("\"b\"", "-2, \"currency\": \"eur\", \"x\": [false, null]"),
              R("17", "3, \"currency\": \"EURO\", \"x\": [true, null]")),
        /* keys in another order, one more, one fewer, one a byte apart */
        SHAPE(R("\"a\"", "1, \"currency\": \"EUR\""),
              "{\"rate\": 2, \"hotel_id\": \"b\", \"currency\": \"EUR\"}",
              R("\"c\"", "3, \"currency\": \"EUR\", \"n\": 1")),
        SHAPE(R("\"a\"", "1, \"currency\": \"EUR\""),
              "{\"hotel_id\": \"b\", \"rats\": 2, \"currency\": \"EUR\"}",
              R("\"c\"", "2")),
        SHAPE("{\"hotel_id\": \"a\", \"currency\": \"EUR\", \"rate\": 1}",
              "{\"currency\": \"EUR\", \"hotel_id\": \"b\", \"rate\": 2}",
              "{\"hotel_id\": \"c\", \"currency\": \"USD\", \"rate\": 3}"),
        /* the same keys, values of other kinds */
        SHAPE(R("\"a\"", "1, \"currency\": \"EUR\""),
              R("\"b\"", "\"2\", \"currency\": \"EUR\""),
              R("\"c\"", "null, \"currency\": \"EUR\"")),
        SHAPE(R("\"a\"", "1, \"currency\": \"EUR\""),
              R("\"b\"", "{}, \"currency\": \"EUR\""),
              R("\"c\"", "[3], \"currency\": true")),
        SHAPE(R("[1]", "1, \"currency\": \"EUR\""),
              R("[2]", "2, \"currency\": \"EUR\""),
              R("[\"x\"]", "3, \"currency\": \"EUR\"")),
        /* other white space, a duplicate key, a non-object between */
        "{\"results\": [" R("\"a\"", "1, \"currency\": \"EUR\"") ","
        "{\"hotel_id\":\"b\",\"rate\":2,\"currency\":\"EUR\"},"
        "{ \"hotel_id\" : \"c\" , \"rate\" : 3 , \"currency\" : \"EUR\" },"
        R("\"d\"", "4, \"currency\": \"EUR\"") "]}",
        SHAPE(R("\"a\"", "1, \"currency\": \"EUR\""),
              R("\"b\"", "2, \"currency\": \"EUR\", \"rate\": 5"),
              R("\"c\"", "3, \"currency\": \"EUR\"")),
        SHAPE(R("\"a\"", "1, \"currency\": \"EUR\""), "7",
              R("\"c\"", "3, \"currency\": \"EUR\"")),
        SHAPE(R("\"a\"", "1, \"currency\": \"EUR\", \"x\": {\"y\": [1]}"),
              R("\"b\"", "2, \"currency\": \"EUR\", \"x\": {\"y\": []}"),
              R("\"c\"", "3, \"currency\": \"EUR\", \"x\": {\"y\": [1]}")),
        /* a string no field keeps, then a number, a literal, spaced */
        UNKEPT("5", " false"),
    };

    static const char  *declined[] = {
        /* malformed in a later result only */
        SHAPE(R("\"a\"", "1, \"currency\": \"EUR\""),
              R("\"b\"", "2., \"currency\": \"EUR\""),
              R("\"c\"", "3, \"currency\": \"EUR\"")),
        SHAPE(R("\"a\"", "1, \"currency\": \"EUR\", \"n\": 10"),
              R("\"b\"", "2, \"currency\": \"EUR\", \"n\": 01"),
              R("\"c\"", "3, \"currency\": \"EUR\", \"n\": 10")),
        SHAPE(R("\"a\"", "1, \"currency\": \"EUR\", \"t\": true"),
              R("\"b\"", "2, \"currency\": \"EUR\", \"t\": trux"),
              R("\"c\"", "3, \"currency\": \"EUR\", \"t\": true")),
        UNKEPT("-", "\"x\""),
        UNKEPT("nul", "\"x\""),
        SHAPE(R("\"a\"", "1, \"currency\": \"EUR\""),
              "{\"hotel_id\" \"b\", \"rate\": 2, \"currency\": \"EUR\"}",
              R("\"c\"", "3, \"currency\": \"EUR\"")),
        SHAPE(R("\"a\"", "1, \"currency\": \"EUR\""),
              "{\"hotel_id\": \"b\", \"rate\": 2, \"currency\": \"EUR\",}",
              R("\"c\"", "3, \"currency\": \"EUR\"")),
        SHAPE(R("\"a\"", "1, \"currency\": \"EUR\""),
              R("\"b\"", "2, \"currency\": \"EUR\""),
              R("\"c\"", "3, \"currency\": \"EUR\"") "]"),
    };

    fast_reads(good, nelts(good),
               "shapes: a later result unlike the first, read as yajl does");

    fast_declines(declined, nelts(declined),
                  "shapes: a later result malformed, the page declined");
}

#undef R
#undef SHAPE
#undef UNKEPT


int
main(void)
{
    test_page();
    test_fast();
    test_shapes();
    test_bom();
    test_dotted();
    test_fields();
    test_duplicates();
    test_documents();
    test_depth();
    test_tokens();

    /* about 100 MB: results of 240 bytes with a 40-byte text */
    test_big(520000, 40, 16384, "100 MB of results in 16 KiB chunks");
    test_big(300, 4000, 1000, "1.2 MB of results with 4 KB strings");

    rules_free_all();

    return done_testing();
}
