/*
 * The aggregation hash table: counts, exact sums, min and max per
 * (hotel, currency, hour), overflow refused, growth past the initial
 * table, and the sort order the stores rely on.
 */

#include <limits.h>
#include <stdio.h>

#include "ht_batch.h"
#include "tap.h"


static ht_record_t
rec(const char *hotel, const char *cur, int64_t bucket, int64_t rate)
{
    ht_record_t  r;

    snprintf(r.hotel_id, sizeof(r.hotel_id), "%s", hotel);
    snprintf(r.currency, sizeof(r.currency), "%s", cur);
    r.bucket_start = bucket;
    r.rate_micros = rate;

    return r;
}


static const ht_agg_t *
find(const ht_batch_t *b, const char *hotel, const char *cur, int64_t bucket)
{
    size_t  i;

    for (i = 0; i < b->naggs; i++) {
        if (strcmp(b->aggs[i].hotel_id, hotel) == 0
            && strcmp(b->aggs[i].currency, cur) == 0
            && b->aggs[i].bucket_start == bucket)
        {
            return &b->aggs[i];
        }
    }

    return NULL;
}


/*
 * ht_batch_add_many() against ht_batch_add() one by one: the same
 * records (repeated keys, a sum that overflows between two of the same
 * group, enough keys to grow the table midway) give the same batch and
 * the same returns
 */
static void
check_add_many(void)
{
    int              rc_one[HT_BATCH_MANY], rc_many[HT_BATCH_MANY];
    int              same_rc, same_aggs;
    char             id[32];
    size_t           i, j, n;
    ht_batch_t       one, many;
    ht_record_t      recs[HT_BATCH_MANY];
    const ht_agg_t  *a, *b;

    ht_batch_init(&one);
    ht_batch_init(&many);
    same_rc = 1;

    for (i = 0; i < 3000; i += n) {
        n = 1 + i % HT_BATCH_MANY;

        for (j = 0; j < n; j++) {
            snprintf(id, sizeof(id), "hotel-%zu", (i + j) % 1500);
            recs[j] = rec(id, (i + j) % 7 ? "EUR" : "USD", 3600,
                          (i + j) % 500 == 0 ? INT64_MAX - 5 : 7);
            rc_one[j] = ht_batch_add(&one, &recs[j]);
        }

        if (ht_batch_add_many(&many, recs, n, rc_many) != 0
            || memcmp(rc_one, rc_many, n * sizeof(int)) != 0)
        {
            same_rc = 0;
        }
    }

    ok(same_rc, "add_many: each record's return as ht_batch_add()'s");
    is_int(many.naggs, one.naggs, "add_many: as many aggregates");
    is_int(many.records, one.records, "add_many: as many records");
    is_int(many.rejected[HT_REJECT_SUM_OVERFLOW],
           one.rejected[HT_REJECT_SUM_OVERFLOW], "add_many: as many overflows");
    ok(one.rejected[HT_REJECT_SUM_OVERFLOW] > 0, "  (some)");
    ok(one.nslots > 1024, "  (the table grew)");

    same_aggs = (one.naggs == many.naggs);

    for (i = 0; same_aggs && i < one.naggs; i++) {
        a = &one.aggs[i];
        b = &many.aggs[i];
        same_aggs = strcmp(a->hotel_id, b->hotel_id) == 0
                    && memcmp(a->currency, b->currency, 4) == 0
                    && a->bucket_start == b->bucket_start
                    && a->count == b->count
                    && a->sum_micros == b->sum_micros
                    && a->min_micros == b->min_micros
                    && a->max_micros == b->max_micros;
    }

    ok(same_aggs, "add_many: the same aggregates, in the same order");

    ht_batch_free(&one);
    ht_batch_free(&many);
}


int
main(void)
{
    int              i, sorted;
    char             id[32], long_id[HT_HOTEL_ID_MAX + 1];
    ht_batch_t       b;
    ht_record_t      r;
    const ht_agg_t  *a;

    ok(ht_batch_init(&b) == 0, "init");

    r = rec("h1", "EUR", 3600, 100000000);
    is_int(ht_batch_add(&b, &r), HT_REJECT_NONE, "add first");
    r = rec("h1", "EUR", 3600, 50000000);
    ht_batch_add(&b, &r);
    r = rec("h1", "EUR", 3600, 150000001);
    ht_batch_add(&b, &r);
    r = rec("h1", "USD", 3600, 7);
    ht_batch_add(&b, &r);
    r = rec("h1", "EUR", 7200, 9);
    ht_batch_add(&b, &r);
    r = rec("h2", "EUR", 3600, 11);
    ht_batch_add(&b, &r);

    is_int(b.naggs, 4, "four keys");
    is_int(b.records, 6, "six records");

    a = find(&b, "h1", "EUR", 3600);
    ok(a != NULL, "h1 EUR 3600 found");
    is_int(a->count, 3, "count");
    is_int(a->sum_micros, 300000001, "exact sum");
    is_int(a->min_micros, 50000000, "min");
    is_int(a->max_micros, 150000001, "max");

    a = find(&b, "h1", "USD", 3600);
    is_int(a->count, 1, "currency is part of the key");

    /* overflow: refused and counted, the aggregate unchanged */
    r = rec("big", "EUR", 0, INT64_MAX - 5);
    is_int(ht_batch_add(&b, &r), HT_REJECT_NONE, "near max accepted");
    r = rec("big", "EUR", 0, 6);
    is_int(ht_batch_add(&b, &r), HT_REJECT_SUM_OVERFLOW, "overflow refused");
    r = rec("big", "EUR", 0, 5);
    is_int(ht_batch_add(&b, &r), HT_REJECT_NONE, "exactly max accepted");
    a = find(&b, "big", "EUR", 0);
    is_int(a->sum_micros, INT64_MAX, "sum is INT64_MAX");
    is_int(a->count, 2, "overflowing record not counted");
    is_int(b.rejected[HT_REJECT_SUM_OVERFLOW], 1, "overflow counted");
    is_int(b.records, 9, "records include the refused one");

    ok(ht_add_overflows(INT64_MAX, 1), "ht_add_overflows max+1");
    ok(!ht_add_overflows(INT64_MAX, 0), "ht_add_overflows max+0");
    ok(ht_add_overflows(INT64_MIN, -1), "ht_add_overflows min-1");

    ht_batch_reject(&b, HT_REJECT_BAD_RATE, 1);
    ht_batch_reject(&b, HT_REJECT_OFFSET_GAP, 5);
    is_int(b.rejected[HT_REJECT_BAD_RATE], 1, "reject counted");
    is_int(b.rejected[HT_REJECT_OFFSET_GAP], 5, "gap counted");
    is_int(b.records, 10, "gaps are not records");

    ht_batch_reset(&b);
    is_int(b.naggs, 0, "reset empties");
    is_int(b.records, 0, "reset zeroes records");
    is_int(b.rejected[HT_REJECT_BAD_RATE], 0, "reset zeroes rejects");

    /* growth: many keys, each added twice */
    for (i = 0; i < 20000; i++) {
        snprintf(id, sizeof(id), "hotel-%d", i);
        r = rec(id, "EUR", 3600 * (i % 3), i + 1);
        ht_batch_add(&b, &r);
        ht_batch_add(&b, &r);
    }

    is_int(b.naggs, 20000, "20000 keys after growth");
    a = find(&b, "hotel-12345", "EUR", 0);
    ok(a != NULL && a->count == 2 && a->sum_micros == 2 * 12346,
       "lookups right after growth");

    ht_batch_sort(&b);
    sorted = 1;

    for (i = 1; i < (int) b.naggs; i++) {
        if (strcmp(b.aggs[i - 1].hotel_id, b.aggs[i].hotel_id) > 0) {
            sorted = 0;
        }
    }

    ok(sorted, "sorted by hotel id");

    /*
     * ids that share the bytes an aggregate keeps beside its numbers
     * and differ past them, or in length only; and, after a reset, ids
     * of the longest size filling the reused blocks and new ones
     */
    ht_batch_reset(&b);

    r = rec("abcdefgh", "EUR", 0, 1);
    ht_batch_add(&b, &r);
    r = rec("abcdefghi", "EUR", 0, 2);
    ht_batch_add(&b, &r);
    r = rec("abcdefgh-2", "EUR", 0, 3);
    ht_batch_add(&b, &r);
    r = rec("abcdefgh-1", "EUR", 0, 4);
    ht_batch_add(&b, &r);
    r = rec("abcdefg", "EUR", 0, 5);
    ht_batch_add(&b, &r);
    r = rec("abcdefghi", "EUR", 0, 6);
    ht_batch_add(&b, &r);

    is_int(b.naggs, 5, "ids alike in their first bytes kept apart");
    a = find(&b, "abcdefghi", "EUR", 0);
    ok(a != NULL && a->count == 2 && a->sum_micros == 8,
       "an id longer than the head found again");

    for (i = 0; i < 3000; i++) {
        snprintf(long_id, sizeof(long_id), "%0*d", HT_HOTEL_ID_MAX, i);
        r = rec(long_id, i % 2 ? "USD" : "EUR", 3600, 1);
        ht_batch_add(&b, &r);
    }

    snprintf(long_id, sizeof(long_id), "%0*d", HT_HOTEL_ID_MAX, 2999);
    a = find(&b, long_id, "USD", 3600);
    ok(a != NULL && a->count == 1 && a->id_len == HT_HOTEL_ID_MAX,
       "ids of the longest size kept whole");

    ht_batch_sort(&b);
    sorted = 1;

    for (i = 1; i < (int) b.naggs; i++) {
        if (strcmp(b.aggs[i - 1].hotel_id, b.aggs[i].hotel_id) >= 0) {
            sorted = 0;
        }
    }

    ok(sorted, "ids alike in their first bytes in strcmp() order");
    is_str(b.aggs[0].hotel_id, "000000000000000000000000000000000000000000"
           "0000000000000000000000000000000000000000000000000000000000000000"
           "0000000000000000000000", "the smallest first");
    is_str(b.aggs[b.naggs - 5].hotel_id, "abcdefg", "a shorter id first");
    is_str(b.aggs[b.naggs - 1].hotel_id, "abcdefghi", "then longer ones");

    ht_batch_free(&b);

    check_add_many();

    return done_testing();
}
