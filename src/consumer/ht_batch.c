/*
 * The aggregation hash table: a dense array of aggregates indexed by an
 * open-addressing table of 32-bit slots.  The dense array makes sorting
 * and handing the batch to a store trivial; the table stays below 50%
 * load so that linear probing is short.
 */

#include <stdlib.h>
#include <string.h>

#include "ht_batch.h"


#define HT_BATCH_MIN_SLOTS  1024


static uint64_t ht_batch_hash(const char *hotel_id, const char *currency,
    int64_t bucket_start, size_t *len);
static int ht_batch_grow(ht_batch_t *b);
static int ht_agg_cmp(const void *one, const void *two);


int
ht_batch_init(ht_batch_t *b)
{
    memset(b, 0, sizeof(*b));

    b->nslots = HT_BATCH_MIN_SLOTS;
    b->slots = calloc(b->nslots, sizeof(uint32_t));
    if (b->slots == NULL) {
        return -1;
    }

    return 0;
}


void
ht_batch_free(ht_batch_t *b)
{
    ht_batch_reset(b);

    free(b->aggs);
    free(b->slots);

    memset(b, 0, sizeof(*b));
}


void
ht_batch_reset(ht_batch_t *b)
{
    size_t  i;

    for (i = 0; i < b->naggs; i++) {
        free(b->aggs[i].hotel_id);
    }

    b->naggs = 0;
    b->records = 0;
    memset(b->rejected, 0, sizeof(b->rejected));

    if (b->slots != NULL) {
        memset(b->slots, 0, b->nslots * sizeof(uint32_t));
    }
}


int
ht_add_overflows(int64_t a, int64_t b)
{
    int64_t  r;

    return __builtin_add_overflow(a, b, &r);
}


int
ht_batch_add(ht_batch_t *b, const ht_record_t *rec)
{
    size_t     i, mask, len, head;
    uint32_t   slot;
    uint64_t   h;
    ht_agg_t  *a;

    if ((b->naggs + 1) * 2 > b->nslots || b->naggs == b->aggs_cap) {
        if (ht_batch_grow(b) != 0) {
            return HT_BATCH_NOMEM;
        }
    }

    h = ht_batch_hash(rec->hotel_id, rec->currency, rec->bucket_start,
                      &len);
    head = len < HT_AGG_ID_HEAD ? len : HT_AGG_ID_HEAD;
    mask = b->nslots - 1;

    for (i = h & mask; /* void */; i = (i + 1) & mask) {
        slot = b->slots[i];

        if (slot == 0) {
            break;
        }

        a = &b->aggs[slot - 1];

        if (a->hash == h
            && a->bucket_start == rec->bucket_start
            && a->id_len == len
            && memcmp(a->currency, rec->currency, 4) == 0
            && memcmp(a->id_head, rec->hotel_id, head) == 0
            && (len <= HT_AGG_ID_HEAD
                || memcmp(a->hotel_id + HT_AGG_ID_HEAD,
                          rec->hotel_id + HT_AGG_ID_HEAD,
                          len - HT_AGG_ID_HEAD) == 0))
        {
            if (ht_add_overflows(a->sum_micros, rec->rate_micros)) {
                b->records++;
                b->rejected[HT_REJECT_SUM_OVERFLOW]++;
                return HT_REJECT_SUM_OVERFLOW;
            }

            b->records++;
            a->count++;
            a->sum_micros += rec->rate_micros;

            if (rec->rate_micros < a->min_micros) {
                a->min_micros = rec->rate_micros;
            }

            if (rec->rate_micros > a->max_micros) {
                a->max_micros = rec->rate_micros;
            }

            return HT_REJECT_NONE;
        }
    }

    a = &b->aggs[b->naggs];

    a->hotel_id = strdup(rec->hotel_id);
    if (a->hotel_id == NULL) {
        return HT_BATCH_NOMEM;
    }

    a->hash = h;
    a->id_len = len;
    memcpy(a->id_head, rec->hotel_id, head);
    memcpy(a->currency, rec->currency, 4);
    a->bucket_start = rec->bucket_start;
    a->count = 1;
    a->sum_micros = rec->rate_micros;
    a->min_micros = rec->rate_micros;
    a->max_micros = rec->rate_micros;

    b->slots[i] = (uint32_t) ++b->naggs;
    b->records++;

    return HT_REJECT_NONE;
}


void
ht_batch_reject(ht_batch_t *b, ht_reject_e reason, int64_t n)
{
    if (reason <= HT_REJECT_NONE || reason >= HT_REJECT_MAX) {
        return;
    }

    /* skipped offsets are not records this batch saw */
    if (reason != HT_REJECT_OFFSET_GAP) {
        b->records += n;
    }

    b->rejected[reason] += n;
}


void
ht_batch_sort(ht_batch_t *b)
{
    if (b->naggs > 1) {
        qsort(b->aggs, b->naggs, sizeof(ht_agg_t), ht_agg_cmp);
    }

    /* the slots point at the old order: make any lookup fail loudly
     * rather than silently merge into the wrong aggregate */
    memset(b->slots, 0, b->nslots * sizeof(uint32_t));
}


static int
ht_agg_cmp(const void *one, const void *two)
{
    int              rc;
    const ht_agg_t  *a, *b;

    a = one;
    b = two;

    rc = strcmp(a->hotel_id, b->hotel_id);
    if (rc != 0) {
        return rc;
    }

    rc = memcmp(a->currency, b->currency, 3);
    if (rc != 0) {
        return rc;
    }

    return (a->bucket_start > b->bucket_start)
           - (a->bucket_start < b->bucket_start);
}


/* FNV-1a: short keys, no adversary worth a keyed hash here; *len: the
 * id's, found on the way */
static uint64_t
ht_batch_hash(const char *hotel_id, const char *currency, int64_t bucket_start,
    size_t *len)
{
    size_t          i;
    uint64_t        h;
    const uint8_t  *p;

    h = 14695981039346656037ULL;

    for (p = (const uint8_t *) hotel_id; *p; p++) {
        h = (h ^ *p) * 1099511628211ULL;
    }

    *len = (size_t) (p - (const uint8_t *) hotel_id);

    for (i = 0; i < 3; i++) {
        h = (h ^ (uint8_t) currency[i]) * 1099511628211ULL;
    }

    for (i = 0; i < 8; i++) {
        h = (h ^ (uint8_t) (bucket_start >> (i * 8))) * 1099511628211ULL;
    }

    return h ^ (h >> 29);
}


static int
ht_batch_grow(ht_batch_t *b)
{
    size_t     i, j, mask, nslots, cap;
    uint32_t  *slots;
    uint64_t   h;
    ht_agg_t  *aggs, *a;

    if (b->naggs == b->aggs_cap) {
        cap = b->aggs_cap ? b->aggs_cap * 2 : HT_BATCH_MIN_SLOTS / 2;

        aggs = realloc(b->aggs, cap * sizeof(ht_agg_t));
        if (aggs == NULL) {
            return -1;
        }

        b->aggs = aggs;
        b->aggs_cap = cap;
    }

    if ((b->naggs + 1) * 2 <= b->nslots) {
        return 0;
    }

    nslots = b->nslots * 2;

    slots = calloc(nslots, sizeof(uint32_t));
    if (slots == NULL) {
        return -1;
    }

    mask = nslots - 1;

    for (i = 0; i < b->naggs; i++) {
        a = &b->aggs[i];
        h = a->hash;

        for (j = h & mask; slots[j] != 0; j = (j + 1) & mask) {
            /* void */
        }

        slots[j] = (uint32_t) (i + 1);
    }

    free(b->slots);
    b->slots = slots;
    b->nslots = nslots;

    return 0;
}
