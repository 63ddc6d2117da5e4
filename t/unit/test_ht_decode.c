/*
 * Decoding and validating HotelSearchResult values: a good record, and
 * each reason a record is refused.  Then SearchPage values: each result
 * checked as a record of its own, at the page's time.  Then the wire
 * reading (ht_decode_wire.c): what it reads itself, and what it leaves
 * to protobuf-c (fuzz/fuzz_decode.c compares the two on any bytes).
 */

#include <stdlib.h>
#include <string.h>

#include "hotel_search_result.pb-c.h"
#include "hk_utf8.h"
#include "ht_decode.h"
#include "ht_decode_check.h"
#include "tap.h"


#define NOW_MS  1750000000000LL


/* the --bucket the checks decode with */
static int64_t  bucket = HT_BUCKET_SECONDS;


static int
check(const char *hotel, int64_t rate, const char *cur, int64_t time_ms,
    ht_record_t *rec)
{
    int                                  rc;
    size_t                               len;
    uint8_t                             *buf;
    Hotelsearch__V1__HotelSearchResult   m =
        HOTELSEARCH__V1__HOTEL_SEARCH_RESULT__INIT;

    m.hotel_id = (char *) hotel;
    m.rate_micros = rate;
    m.currency = (char *) cur;
    m.search_time_ms = time_ms;
    m.search_id = "req-1";
    m.position = 3;

    len = hotelsearch__v1__hotel_search_result__get_packed_size(&m);
    buf = malloc(len + 1);
    hotelsearch__v1__hotel_search_result__pack(&m, buf);

    rc = ht_decode(buf, len, NOW_MS, bucket, rec);
    free(buf);

    return rc;
}


/* what ht_decode_page() handed over, in order */
typedef struct {
    int          n;
    int          stop_after;    /* 0: never */
    ht_reject_e  reasons[2048];
    ht_record_t  recs[4];       /* the first few */
} seen_t;


static int
seen(void *ctx, ht_reject_e reason, const ht_record_t *rec)
{
    seen_t  *s = ctx;

    if (s->n < (int) (sizeof(s->reasons) / sizeof(s->reasons[0]))) {
        s->reasons[s->n] = reason;
    }

    if (reason == HT_REJECT_NONE
        && s->n < (int) (sizeof(s->recs) / sizeof(s->recs[0])))
    {
        s->recs[s->n] = *rec;
    }

    s->n++;

    return (s->stop_after && s->n == s->stop_after) ? -1 : 0;
}


/* the wire format by hand, so that a string may hold a NUL byte */

static size_t
put_varint(uint8_t *p, uint64_t v)
{
    size_t  n;

    for (n = 0; v >= 0x80; v >>= 7) {
        p[n++] = (uint8_t) (v | 0x80);
    }

    p[n++] = (uint8_t) v;

    return n;
}


static size_t
put_bytes(uint8_t *p, unsigned field, const void *v, size_t len)
{
    size_t  n;

    n = put_varint(p, field << 3 | 2);
    n += put_varint(p + n, len);
    memcpy(p + n, v, len);

    return n + len;
}


/* a result as a page holds it: no time, no search id */
static size_t
put_result(uint8_t *p, const char *id, size_t id_len, int64_t rate,
    const char *cur)
{
    size_t  n;

    n = put_bytes(p, 1, id, id_len);
    n += put_varint(p + n, 2 << 3);
    n += put_varint(p + n, (uint64_t) rate);
    n += put_bytes(p + n, 3, cur, strlen(cur));
    n += put_varint(p + n, 6 << 3);
    n += put_varint(p + n, 7);

    return n;
}


/* a page of n results h-0.. at rates 1, 2, ..., but for result bad,
 * whose rate is 0 (-1: none) */
static size_t
put_page(uint8_t *p, int64_t time_ms, int n, int bad)
{
    int      i;
    char     id[16];
    size_t   len, rlen;
    uint8_t  r[256];

    len = put_bytes(p, 1, "0123456789abcdef", 16);
    len += put_varint(p + len, 2 << 3);
    len += put_varint(p + len, (uint64_t) time_ms);

    for (i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "h-%d", i);
        rlen = put_result(r, id, strlen(id), i == bad ? 0 : i + 1, "EUR");
        len += put_bytes(p + len, 3, r, rlen);
    }

    return len;
}


static void
check_pages(void)
{
    size_t    len, rlen;
    seen_t    s;
    uint8_t  *buf, r[256];

    buf = malloc(2000 * 32 + 64);

    memset(&s, 0, sizeof(s));
    len = put_page(buf, 1749999999123LL, 3, -1);
    is_int(ht_decode_page(buf, len, NOW_MS, bucket, seen, &s), HT_REJECT_NONE,
           "page: decoded");
    is_int(s.n, 3, "page: its 3 results handed over");
    is_str(s.recs[0].hotel_id, "h-0", "page: in page order (first)");
    is_str(s.recs[2].hotel_id, "h-2", "page: in page order (last)");
    is_int(s.recs[1].rate_micros, 2, "page: a result's rate");
    is_str(s.recs[1].currency, "EUR", "page: a result's currency");
    is_int(s.recs[2].bucket_start, 1749999600,
           "page: the results bucketed at the page's time");

    memset(&s, 0, sizeof(s));
    len = put_page(buf, 1749999999123LL, 3, 1);
    ht_decode_page(buf, len, NOW_MS, bucket, seen, &s);
    ok(s.n == 3 && s.reasons[0] == HT_REJECT_NONE
       && s.reasons[1] == HT_REJECT_BAD_RATE
       && s.reasons[2] == HT_REJECT_NONE,
       "page: a bad result rejected on its own, the others kept");

    memset(&s, 0, sizeof(s));
    len = put_page(buf, NOW_MS + 2 * 86400000LL, 2, -1);
    ht_decode_page(buf, len, NOW_MS, bucket, seen, &s);
    ok(s.n == 2 && s.reasons[0] == HT_REJECT_BAD_TIME
       && s.reasons[1] == HT_REJECT_BAD_TIME,
       "page: a page time in the future rejects each result as bad_time");

    memset(&s, 0, sizeof(s));
    len = put_page(buf, 0, 1, -1);
    ht_decode_page(buf, len, NOW_MS, bucket, seen, &s);
    ok(s.n == 1 && s.reasons[0] == HT_REJECT_BAD_TIME,
       "page: no page time is bad_time");

    /* a NUL in the second result's hotel id: that result only */
    memset(&s, 0, sizeof(s));
    len = put_page(buf, 1749999999123LL, 1, -1);
    rlen = put_result(r, "h\0x", 3, 5, "EUR");
    len += put_bytes(buf + len, 3, r, rlen);
    rlen = put_result(r, "h-2", 3, 5, "EU\0");
    len += put_bytes(buf + len, 3, r, rlen);
    rlen = put_result(r, "h-3", 3, 5, "USD");
    len += put_bytes(buf + len, 3, r, rlen);
    ht_decode_page(buf, len, NOW_MS, bucket, seen, &s);
    ok(s.n == 4 && s.reasons[0] == HT_REJECT_NONE
       && s.reasons[1] == HT_REJECT_BAD_HOTEL_ID
       && s.reasons[2] == HT_REJECT_BAD_CURRENCY
       && s.reasons[3] == HT_REJECT_NONE,
       "page: a NUL in a result's hotel id or currency rejects that result");

    memset(&s, 0, sizeof(s));
    len = put_page(buf, 1749999999123LL, 0, -1);
    is_int(ht_decode_page(buf, len, NOW_MS, bucket, seen, &s), HT_REJECT_NONE,
           "page of no result: decoded");
    is_int(s.n, 0, "  and nothing handed over");

    memset(&s, 0, sizeof(s));
    len = put_page(buf, 1749999999123LL, 2000, -1);
    ht_decode_page(buf, len, NOW_MS, bucket, seen, &s);
    is_int(s.n, 2000, "page of 2,000 results (past the stack arena): all");
    ok(s.reasons[1999] == HT_REJECT_NONE, "  the last one good");

    /* the 65th result, the first the wire reading does not keep from
     * its first pass, is read again in its place */
    memset(&s, 0, sizeof(s));
    len = put_page(buf, 1749999999123LL, 100, 64);
    ht_decode_page(buf, len, NOW_MS, bucket, seen, &s);
    ok(s.n == 100 && s.reasons[63] == HT_REJECT_NONE
       && s.reasons[64] == HT_REJECT_BAD_RATE
       && s.reasons[65] == HT_REJECT_NONE,
       "page of 100 results: the 65th in its place");

    memset(&s, 0, sizeof(s));
    s.stop_after = 2;
    len = put_page(buf, 1749999999123LL, 5, -1);
    is_int(ht_decode_page(buf, len, NOW_MS, bucket, seen, &s),
           HT_DECODE_STOPPED, "page: the walk stops when asked");
    is_int(s.n, 2, "  after the result that asked");

    memset(&s, 0, sizeof(s));
    is_int(ht_decode_page("\xff\xff\xff", 3, NOW_MS, bucket, seen, &s),
           HT_REJECT_UNDECODABLE, "page: garbage is undecodable");
    is_int(s.n, 0, "  and nothing handed over");

    /* a result record read as a page: field 3 is its currency, a string
     * that is no message */
    len = put_result(buf, "h", 1, 1, "EUR");
    memset(&s, 0, sizeof(s));
    is_int(ht_decode_page(buf, len, NOW_MS, bucket, seen, &s),
           HT_REJECT_UNDECODABLE, "page: a result record is not a page");

    free(buf);
}


static void
check_wire(void)
{
    size_t       len, n;
    seen_t       s, ref;
    uint8_t      buf[512];
    ht_record_t  r, ref_r;

    len = put_result(buf, "h-7", 3, 42, "EUR");
    len += put_varint(buf + len, 4 << 3);
    len += put_varint(buf + len, 1749999999123ULL);
    is_int(ht_decode_wire(buf, len, NOW_MS, bucket, &r), HT_REJECT_NONE,
           "wire: a result record read without protobuf-c");
    is_int(ht_decode_protobuf_c(buf, len, NOW_MS, bucket, &ref_r),
           HT_REJECT_NONE, "  as protobuf-c reads it");
    ok(strcmp(r.hotel_id, ref_r.hotel_id) == 0
       && r.rate_micros == ref_r.rate_micros
       && r.bucket_start == ref_r.bucket_start, "  to the same record");

    memset(&s, 0, sizeof(s));
    memset(&ref, 0, sizeof(ref));
    len = put_page(buf, 1749999999123LL, 3, 1);
    is_int(ht_decode_page_wire(buf, len, NOW_MS, bucket, seen, &s),
           HT_REJECT_NONE, "wire: a page read without protobuf-c");
    ht_decode_page_protobuf_c(buf, len, NOW_MS, bucket, seen, &ref);
    ok(s.n == 3 && ref.n == 3 && s.reasons[1] == ref.reasons[1]
       && strcmp(s.recs[2].hotel_id, ref.recs[2].hotel_id) == 0,
       "  with protobuf-c's results and reasons");

    /* the page's time after its results: taken all the same */
    memset(&s, 0, sizeof(s));
    n = put_page(buf, 0, 2, -1);
    n += put_varint(buf + n, 2 << 3);
    n += put_varint(buf + n, 1749999999123ULL);
    ht_decode_page_wire(buf, n, NOW_MS, bucket, seen, &s);
    ok(s.n == 2 && s.reasons[0] == HT_REJECT_NONE,
       "wire: a page's time after its results applies to them");

    /* field 16, unknown, has a two-byte key: left to protobuf-c, which
     * skips it */
    len = put_result(buf, "h-7", 3, 42, "EUR");
    len += put_varint(buf + len, 4 << 3);
    len += put_varint(buf + len, 1749999999123ULL);
    len += put_varint(buf + len, 16 << 3);
    len += put_varint(buf + len, 1);
    is_int(ht_decode_wire(buf, len, NOW_MS, bucket, &r), HT_DECODE_DECLINED,
           "wire: a field number over 15 is declined");
    is_int(ht_decode(buf, len, NOW_MS, bucket, &r), HT_REJECT_NONE,
           "  and protobuf-c reads the record");

    /* a hotel id sent as a number: protobuf-c refuses the value */
    len = put_varint(buf, 1 << 3);
    len += put_varint(buf + len, 7);
    is_int(ht_decode_wire(buf, len, NOW_MS, bucket, &r), HT_DECODE_DECLINED,
           "wire: a known field of the wrong wire type is declined");
    is_int(ht_decode(buf, len, NOW_MS, bucket, &r), HT_REJECT_UNDECODABLE,
           "  and the value is undecodable, as protobuf-c says");

    memset(&s, 0, sizeof(s));
    is_int(ht_decode_page_wire("\x1a\x05\x0a", 3, NOW_MS, bucket, seen, &s),
           HT_DECODE_DECLINED, "wire: a result cut short is declined");
    is_int(s.n, 0, "  before anything is handed over");
}


int
main(void)
{
    ht_record_t  r;

    is_int(check("h-42", 129990000, "EUR", 1749999999123LL, &r),
           HT_REJECT_NONE, "good record");
    is_str(r.hotel_id, "h-42", "hotel id");
    is_str(r.currency, "EUR", "currency");
    is_int(r.rate_micros, 129990000, "rate");
    is_int(r.bucket_start, 1749999600, "hour bucket");

    /* --bucket: the same time in minute, 5-minute and day buckets */
    bucket = 60;
    is_int(check("h-42", 1, "EUR", 1749999999123LL, &r), HT_REJECT_NONE,
           "good record, minute buckets");
    is_int(r.bucket_start, 1749999960, "minute bucket");
    bucket = 300;
    check("h-42", 1, "EUR", 1749999999123LL, &r);
    is_int(r.bucket_start, 1749999900, "5-minute bucket");
    bucket = 86400;
    check("h-42", 1, "EUR", 1749999999123LL, &r);
    is_int(r.bucket_start, 1749945600, "day bucket");
    bucket = 60;
    check("h-42", 1, "EUR", 1749999960000LL, &r);
    is_int(r.bucket_start, 1749999960, "a bucket's first second is its own");
    check("h-42", 1, "EUR", 1749999959999LL, &r);
    is_int(r.bucket_start, 1749999900, "its last millisecond before");
    is_int(check("h", 1, "EUR", NOW_MS + 2 * 86400000LL, &r),
           HT_REJECT_BAD_TIME, "the bucket does not change the checks");
    bucket = HT_BUCKET_SECONDS;

    is_int(check("", 1, "EUR", NOW_MS, &r), HT_REJECT_MISSING_HOTEL_ID,
           "missing hotel id");
    is_int(check("h\xff", 1, "EUR", NOW_MS, &r), HT_REJECT_BAD_HOTEL_ID,
           "hotel id not UTF-8");
    is_int(check("h", 0, "EUR", NOW_MS, &r), HT_REJECT_BAD_RATE, "zero rate");
    is_int(check("h", -5, "EUR", NOW_MS, &r), HT_REJECT_BAD_RATE,
           "negative rate");
    is_int(check("h", 1, "eur", NOW_MS, &r), HT_REJECT_NONE,
           "lower-case currency: the record's rule accepts it");
    is_str(r.currency, "EUR", "  and it is counted upper case");
    is_int(check("h", 1, "E1R", NOW_MS, &r), HT_REJECT_BAD_CURRENCY,
           "a digit in the currency");
    {
        char  id[HK_RECORD_MAX_ID + 2];

        memset(id, 'i', sizeof(id) - 1);
        id[sizeof(id) - 1] = '\0';
        is_int(check(id, 1, "EUR", NOW_MS, &r), HT_REJECT_BAD_HOTEL_ID,
               "a hotel id one byte over the record's bound");
        id[sizeof(id) - 2] = '\0';
        is_int(check(id, 1, "EUR", NOW_MS, &r), HT_REJECT_NONE,
               "  and one at it");
    }
    is_int(check("h\x01", 1, "EUR", NOW_MS, &r), HT_REJECT_BAD_HOTEL_ID,
           "a control character in the hotel id");
    is_int(check("h", 1, "EU", NOW_MS, &r), HT_REJECT_BAD_CURRENCY,
           "short currency");
    is_int(check("h", 1, "EURO", NOW_MS, &r), HT_REJECT_BAD_CURRENCY,
           "long currency");
    is_int(check("h", 1, "", NOW_MS, &r), HT_REJECT_BAD_CURRENCY,
           "no currency");
    is_int(check("h", 1, "EUR", 0, &r), HT_REJECT_BAD_TIME, "no time");
    is_int(check("h", 1, "EUR", NOW_MS + 2 * 86400000LL, &r),
           HT_REJECT_BAD_TIME, "two days ahead");
    is_int(check("h", 1, "EUR", NOW_MS - 400 * 86400000LL, &r),
           HT_REJECT_NONE, "late records are kept");

    is_int(ht_decode("\xff\xff\xff", 3, NOW_MS, bucket, &r),
           HT_REJECT_UNDECODABLE, "garbage");
    is_int(ht_decode(NULL, 0, NOW_MS, bucket, &r), HT_REJECT_MISSING_HOTEL_ID,
           "empty value");

    ok(hk_utf8_valid((const unsigned char *) "h\xc3\xa9tel", 6), "utf8 two bytes");
    ok(!hk_utf8_valid((const unsigned char *) "\xc0\xaf", 2), "utf8 overlong");
    ok(!hk_utf8_valid((const unsigned char *) "\xed\xa0\x80", 3), "utf8 surrogate");
    ok(!hk_utf8_valid((const unsigned char *) "\xe2\x82", 2), "utf8 truncated");

    is_str(ht_reject_name(HT_REJECT_BAD_CURRENCY), "bad_currency", "name");

    check_pages();
    check_wire();

    return done_testing();
}
