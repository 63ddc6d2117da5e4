/*
 * libFuzzer target for the consumer's record decoding (ht_decode): any
 * bytes a topic may hold, however hostile, give either a record that
 * passes the consumer's own rules or a reason, never a crash.
 */

#include <stdint.h>
#include <string.h>

#include "hk_utf8.h"
#include "ht_decode.h"


/* a fixed clock keeps runs reproducible: 2026-01-01T00:00:00Z */
#define FUZZ_NOW_MS  1767225600000LL


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t        len;
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

    if (reason != HT_REJECT_NONE) {
        return 0;
    }

    len = strnlen(rec.hotel_id, sizeof(rec.hotel_id));

    if (len == 0 || len > HT_HOTEL_ID_MAX
        || !hk_utf8_valid((const unsigned char *) rec.hotel_id, len)
        || rec.rate_micros <= 0
        || strlen(rec.currency) != 3
        || rec.bucket_start % bucket != 0)
    {
        __builtin_trap();
    }

    return 0;
}
