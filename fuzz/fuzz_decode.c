/*
 * libFuzzer target for the consumer's record decoding (ht_decode, and
 * ht_decode_page for page records): any bytes a topic may hold, however
 * hostile, give either records that pass the consumer's own rules or a
 * reason, never a crash; and exactly what protobuf-c alone gives (the
 * *_protobuf_c functions, the reference the wire reading of
 * ht_decode_wire.c is held to): the same reason and record, the same
 * results of a page in the same order, the same code.
 *
 * At exit it prints how many inputs the wire reading read itself: a
 * target where it always declined would prove nothing.
 */

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hk_utf8.h"
#include "ht_decode.h"
#include "ht_decode_check.h"


/* a fixed clock keeps runs reproducible: 2026-01-01T00:00:00Z */
#define FUZZ_NOW_MS  1767225600000LL

/* a page's results kept for the comparison; more are only counted */
#define FUZZ_KEPT    64


typedef struct {
    int64_t       bucket;
    size_t        n;
    ht_reject_e   reason[FUZZ_KEPT];
    ht_record_t   rec[FUZZ_KEPT];
} fuzz_seen_t;


static size_t  fuzz_inputs;
static size_t  fuzz_wire;


static void
fuzz_report(void)
{
    fprintf(stderr, "fuzz_decode: %zu inputs, %zu read by the wire "
            "reading as a record or a page\n", fuzz_inputs, fuzz_wire);
}


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
    fuzz_seen_t  *s = ctx;

    if (reason >= HT_REJECT_MAX) {
        __builtin_trap();
    }

    if (reason == HT_REJECT_NONE) {
        fuzz_check(rec, s->bucket);
    }

    if (s->n < FUZZ_KEPT) {
        s->reason[s->n] = reason;

        /* only a record's fields are filled: compare those */
        memset(&s->rec[s->n], 0, sizeof(ht_record_t));

        if (reason == HT_REJECT_NONE) {
            s->rec[s->n] = *rec;
        }
    }

    s->n++;

    return 0;
}


static int
fuzz_same_record(const ht_record_t *a, const ht_record_t *b)
{
    return strcmp(a->hotel_id, b->hotel_id) == 0
           && strcmp(a->currency, b->currency) == 0
           && a->rate_micros == b->rate_micros
           && a->bucket_start == b->bucket_start;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int           rc, ref_rc;
    size_t        i;
    int64_t       bucket;
    ht_record_t   rec, ref_rec;
    ht_reject_e   reason, ref_reason;
    fuzz_seen_t   seen, ref_seen;

    if (fuzz_inputs++ == 0) {
        atexit(fuzz_report);
    }

    /* the smallest --bucket or the default, chosen by the input so that
     * runs stay reproducible */
    bucket = (size & 1) ? HT_BUCKET_MIN : HT_BUCKET_SECONDS;

    if (ht_decode_wire(data, size, FUZZ_NOW_MS, bucket, &rec)
        != HT_DECODE_DECLINED)
    {
        fuzz_wire++;
    }

    reason = ht_decode(data, size, FUZZ_NOW_MS, bucket, &rec);
    ref_reason = ht_decode_protobuf_c(data, size, FUZZ_NOW_MS, bucket,
                                      &ref_rec);

    if (reason >= HT_REJECT_MAX || reason != ref_reason) {
        __builtin_trap();
    }

    if (reason == HT_REJECT_NONE) {
        fuzz_check(&rec, bucket);

        if (!fuzz_same_record(&rec, &ref_rec)) {
            __builtin_trap();
        }
    }

    /* the same bytes as a page record */

    memset(&seen, 0, sizeof(seen));
    memset(&ref_seen, 0, sizeof(ref_seen));
    seen.bucket = bucket;
    ref_seen.bucket = bucket;

    rc = ht_decode_page(data, size, FUZZ_NOW_MS, bucket, fuzz_page_result,
                        &seen);
    ref_rc = ht_decode_page_protobuf_c(data, size, FUZZ_NOW_MS, bucket,
                                       fuzz_page_result, &ref_seen);

    if ((rc != HT_REJECT_NONE && rc != HT_REJECT_UNDECODABLE)
        || rc != ref_rc || seen.n != ref_seen.n)
    {
        __builtin_trap();
    }

    for (i = 0; i < seen.n && i < FUZZ_KEPT; i++) {
        if (seen.reason[i] != ref_seen.reason[i]
            || !fuzz_same_record(&seen.rec[i], &ref_seen.rec[i]))
        {
            __builtin_trap();
        }
    }

    return 0;
}
