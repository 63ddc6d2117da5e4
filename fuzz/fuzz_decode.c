/*
 * libFuzzer target for the consumer's record decoding (ht_decode, and
 * ht_decode_page for page records): any bytes a topic may hold, however
 * hostile, give either records that pass the consumer's own rules or a
 * reason, never a crash.
 */

#include <stdint.h>
#include <string.h>

#include "hk_utf8.h"
#include "ht_decode.h"


/* a fixed clock keeps runs reproducible: 2026-01-01T00:00:00Z */
#define FUZZ_NOW_MS  1767225600000LL


static void
fuzz_check(const ht_record_t *rec, int64_t bucket)
{
    size_t  len;

    len = strnlen(rec->hotel_id, sizeof(rec->hotel_id));

    if (len == 0 || len > HT_HOTEL_ID_MAX
        || !hk_utf8_valid((const unsigned char *) rec->hotel_id, len)
        || rec->rate_micros <= 0
        || strlen(rec->currency) != 3
        || rec->bucket_start % bucket != 0)
    {
        __builtin_trap();
    }
}


static int
fuzz_page_result(void *ctx, ht_reject_e reason, const ht_record_t *rec)
{
    if (reason >= HT_REJECT_MAX) {
        __builtin_trap();
    }

    if (reason == HT_REJECT_NONE) {
        fuzz_check(rec, *(int64_t *) ctx);
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int           rc;
    int64_t       bucket;
    ht_record_t   rec;
    ht_reject_e   reason;

    /* the smallest --bucket or the default, chosen by the input so that
     * runs stay reproducible */
    bucket = (size & 1) ? HT_BUCKET_MIN : HT_BUCKET_SECONDS;

    reason = ht_decode(data, size, FUZZ_NOW_MS, bucket, &rec);

    if (reason >= HT_REJECT_MAX) {
        __builtin_trap();
    }

    if (reason == HT_REJECT_NONE) {
        fuzz_check(&rec, bucket);
    }

    /* the same bytes as a page record */

    rc = ht_decode_page(data, size, FUZZ_NOW_MS, bucket, fuzz_page_result,
                        &bucket);

    if (rc != HT_REJECT_NONE && rc != HT_REJECT_UNDECODABLE) {
        __builtin_trap();
    }

    return 0;
}
