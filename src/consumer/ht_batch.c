/*
 * The aggregation hash table: a dense array of aggregates indexed by an
 * open-addressing table.  The dense array makes sorting and handing the
 * batch to a store trivial; the table stays below 50% load so that
 * linear probing is short.
 *
 * Why the layout: perf of hotel-trends reading page records put 21 % of
 * the consumer in the lookup, nearly all of it cache misses, one for
 * each aggregate a probe looked at.  A slot now holds its key's hash, so
 * a probe reads aggregates only once the hash matches, and an aggregate
 * is one cache line, 64-byte aligned, its key and numbers together.  The
 * ids are copied into blocks of the batch rather than strdup()ed one by
 * one, and freed all at once.
 */

#include <stdlib.h>
#include <string.h>

#include "ht_batch.h"


#define HT_BATCH_MIN_SLOTS  1024

/* the bytes of ids a block holds, unless an id needs more */
#define HT_ID_BLOCK_SIZE    65536

#define HT_AGG_ALIGN        64


struct ht_id_block_s {
    ht_id_block_t  *next;
    size_t          size;
    size_t          used;
    char            data[];
};


static uint64_t ht_batch_hash(const char *hotel_id, size_t len,
    const char *currency, int64_t bucket_start, uint64_t *head);
static int ht_batch_add_hashed(ht_batch_t *b, const ht_record_t *rec,
    size_t len, uint64_t h, uint64_t head);
static int ht_batch_grow(ht_batch_t *b);
static char *ht_batch_copy_id(ht_batch_t *b, const char *id, size_t len);
static int ht_agg_cmp(const void *one, const void *two);


int
ht_batch_init(ht_batch_t *b)
{
    memset(b, 0, sizeof(*b));

    b->nslots = HT_BATCH_MIN_SLOTS;
    b->slots = calloc(b->nslots, sizeof(ht_slot_t));
    if (b->slots == NULL) {
        return -1;
    }

    return 0;
}


void
ht_batch_free(ht_batch_t *b)
{
    ht_id_block_t  *blk, *next;

    for (blk = b->ids; blk != NULL; blk = next) {
        next = blk->next;
        free(blk);
    }

    free(b->aggs);
    free(b->slots);

    memset(b, 0, sizeof(*b));
}


void
ht_batch_reset(ht_batch_t *b)
{
    ht_id_block_t  *blk;

    for (blk = b->ids; blk != NULL; blk = blk->next) {
        blk->used = 0;
    }

    b->ids_last = b->ids;

    b->naggs = 0;
    b->records = 0;
    memset(b->rejected, 0, sizeof(b->rejected));

    if (b->slots != NULL) {
        memset(b->slots, 0, b->nslots * sizeof(ht_slot_t));
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
    size_t    len;
    uint64_t  h, head;

    len = strlen(rec->hotel_id);
    h = ht_batch_hash(rec->hotel_id, len, rec->currency, rec->bucket_start,
                      &head);

    return ht_batch_add_hashed(b, rec, len, h, head);
}


/*
 * perf of the consumer over page records, after the layout above: 32 %
 * of its cycles still in ht_batch_add(), on two loads, the slot and the
 * aggregate, each a miss once the batch's 10,000 aggregates outgrow the
 * core's cache, and each waited for in turn.  A page's results are here
 * looked up in three passes: every hash computed and its slot fetched
 * (__builtin_prefetch), then every slot read and its aggregate fetched,
 * then each record added in order; the misses of a page overlap.
 */
int
ht_batch_add_many(ht_batch_t *b, const ht_record_t *recs, size_t n, int *rc)
{
    size_t      i;
    size_t      len[HT_BATCH_MANY];
    uint64_t    h[HT_BATCH_MANY], head[HT_BATCH_MANY];
    ht_slot_t  *slot;

    for (i = 0; i < n; i++) {
        len[i] = strlen(recs[i].hotel_id);
        h[i] = ht_batch_hash(recs[i].hotel_id, len[i], recs[i].currency,
                             recs[i].bucket_start, &head[i]);
        __builtin_prefetch(&b->slots[h[i] & (b->nslots - 1)]);
    }

    for (i = 0; i < n; i++) {
        slot = &b->slots[h[i] & (b->nslots - 1)];

        if (slot->index != 0 && slot->hash == (uint32_t) h[i]) {
            __builtin_prefetch(&b->aggs[slot->index - 1], 1);
        }
    }

    /* a hint only: an add that grows the table finds its own way */

    for (i = 0; i < n; i++) {
        rc[i] = ht_batch_add_hashed(b, &recs[i], len[i], h[i], head[i]);

        if (rc[i] == HT_BATCH_NOMEM) {
            return HT_BATCH_NOMEM;
        }
    }

    return 0;
}


/* rec, its id's length, its key's hash and head (ht_batch_hash()) */
static int
ht_batch_add_hashed(ht_batch_t *b, const ht_record_t *rec, size_t len,
    uint64_t h, uint64_t head)
{
    size_t      i, mask;
    uint32_t    h32, cur;
    ht_agg_t   *a;
    ht_slot_t  *slot;

    if ((b->naggs + 1) * 2 > b->nslots || b->naggs == b->aggs_cap) {
        if (ht_batch_grow(b) != 0) {
            return HT_BATCH_NOMEM;
        }
    }

    h32 = (uint32_t) h;
    memcpy(&cur, rec->currency, 4);
    mask = b->nslots - 1;

    for (i = h & mask; /* void */; i = (i + 1) & mask) {
        slot = &b->slots[i];

        if (slot->index == 0) {
            break;
        }

        if (slot->hash != h32) {
            continue;
        }

        a = &b->aggs[slot->index - 1];

        if (a->bucket_start == rec->bucket_start
            && a->id_len == len
            && memcmp(a->currency, &cur, 4) == 0
            && memcmp(a->id_head, &head, HT_AGG_ID_HEAD) == 0
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

    a->hotel_id = ht_batch_copy_id(b, rec->hotel_id, len);
    if (a->hotel_id == NULL) {
        return HT_BATCH_NOMEM;
    }

    a->id_len = (uint32_t) len;
    memcpy(a->currency, &cur, 4);
    a->bucket_start = rec->bucket_start;
    memcpy(a->id_head, &head, HT_AGG_ID_HEAD);
    a->count = 1;
    a->sum_micros = rec->rate_micros;
    a->min_micros = rec->rate_micros;
    a->max_micros = rec->rate_micros;

    slot->hash = h32;
    slot->index = (uint32_t) ++b->naggs;
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
    memset(b->slots, 0, b->nslots * sizeof(ht_slot_t));
}


/*
 * strcmp()'s order of the ids, read from the heads first: zero padded,
 * big-endian, they compare as the ids' first bytes do (an id holds no
 * NUL), and equal heads leave the bytes past them to strcmp()
 */
static int
ht_agg_cmp(const void *one, const void *two)
{
    int              rc;
    uint64_t         ha, hb;
    const ht_agg_t  *a, *b;

    a = one;
    b = two;

    memcpy(&ha, a->id_head, 8);
    memcpy(&hb, b->id_head, 8);

    if (ha != hb) {
        ha = __builtin_bswap64(ha);
        hb = __builtin_bswap64(hb);
        return ha < hb ? -1 : 1;
    }

    if (a->id_len > HT_AGG_ID_HEAD || b->id_len > HT_AGG_ID_HEAD) {
        rc = strcmp(a->hotel_id + HT_AGG_ID_HEAD, b->hotel_id + HT_AGG_ID_HEAD);
        if (rc != 0) {
            return rc;
        }
    }

    rc = memcmp(a->currency, b->currency, 3);
    if (rc != 0) {
        return rc;
    }

    return (a->bucket_start > b->bucket_start)
           - (a->bucket_start < b->bucket_start);
}


/*
 * Eight bytes of the key at a time, each mixed by a multiply and a
 * shift; no adversary worth a keyed hash here.  *head: the id's first
 * HT_AGG_ID_HEAD bytes, zero padded (its bytes past the NUL are not
 * read as part of it).
 */
static uint64_t
ht_batch_hash(const char *hotel_id, size_t len, const char *currency,
    int64_t bucket_start, uint64_t *head)
{
    size_t    i;
    uint32_t  cur;
    uint64_t  h, w;

#define HT_MIX(h, w)                                                          \
    h = ((h) ^ (w)) * 0x9e3779b97f4a7c15ULL;                                 \
    h ^= (h) >> 29

    h = len;

    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&w, hotel_id + i, 8);
        HT_MIX(h, w);
    }

    w = 0;
    memcpy(&w, hotel_id + i, len - i);

    if (i < len) {
        HT_MIX(h, w);
    }

    if (len >= HT_AGG_ID_HEAD) {
        memcpy(head, hotel_id, HT_AGG_ID_HEAD);

    } else {
        *head = w;
    }

    memcpy(&cur, currency, 4);
    HT_MIX(h, cur & 0xffffff);
    HT_MIX(h, (uint64_t) bucket_start);

#undef HT_MIX

    return h ^ (h >> 32);
}


static char *
ht_batch_copy_id(ht_batch_t *b, const char *id, size_t len)
{
    char           *p;
    size_t          size;
    ht_id_block_t  *blk;

    /* the blocks after b->ids_last are empty (ht_batch_reset()) */
    for (blk = b->ids_last;
         blk != NULL && blk->size - blk->used < len + 1;
         blk = blk->next)
    {
        /* void */
    }

    if (blk == NULL) {
        size = len + 1 > HT_ID_BLOCK_SIZE ? len + 1 : HT_ID_BLOCK_SIZE;

        blk = malloc(sizeof(ht_id_block_t) + size);
        if (blk == NULL) {
            return NULL;
        }

        blk->next = NULL;
        blk->size = size;
        blk->used = 0;

        if (b->ids == NULL) {
            b->ids = blk;

        } else {
            while (b->ids_last->next != NULL) {
                b->ids_last = b->ids_last->next;
            }

            b->ids_last->next = blk;
        }
    }

    b->ids_last = blk;

    p = blk->data + blk->used;
    memcpy(p, id, len);
    p[len] = '\0';
    blk->used += len + 1;

    return p;
}


static int
ht_batch_grow(ht_batch_t *b)
{
    size_t      i, j, mask, nslots, cap;
    ht_agg_t   *aggs;
    ht_slot_t  *slots;

    if (b->naggs == b->aggs_cap) {
        cap = b->aggs_cap ? b->aggs_cap * 2 : HT_BATCH_MIN_SLOTS / 2;

        /* realloc() would not keep the alignment */
        aggs = aligned_alloc(HT_AGG_ALIGN, cap * sizeof(ht_agg_t));
        if (aggs == NULL) {
            return -1;
        }

        if (b->naggs > 0) {
            memcpy(aggs, b->aggs, b->naggs * sizeof(ht_agg_t));
        }

        free(b->aggs);
        b->aggs = aggs;
        b->aggs_cap = cap;
    }

    if ((b->naggs + 1) * 2 <= b->nslots) {
        return 0;
    }

    nslots = b->nslots * 2;

    slots = calloc(nslots, sizeof(ht_slot_t));
    if (slots == NULL) {
        return -1;
    }

    mask = nslots - 1;

    /* the hash kept in a slot is the low half of the key's: its low
     * bits are the key's position in a table of any size */
    for (i = 0; i < b->nslots; i++) {
        if (b->slots[i].index == 0) {
            continue;
        }

        for (j = b->slots[i].hash & mask; slots[j].index != 0;
             j = (j + 1) & mask)
        {
            /* void */
        }

        slots[j] = b->slots[i];
    }

    free(b->slots);
    b->slots = slots;
    b->nslots = nslots;

    return 0;
}
