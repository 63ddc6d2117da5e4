/*
 * Decoding and validating HotelSearchResult values: a good record, and
 * each reason a record is refused.
 */

#include <stdlib.h>

#include "hotel_search_result.pb-c.h"
#include "hk_utf8.h"
#include "ht_decode.h"
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

    return done_testing();
}
