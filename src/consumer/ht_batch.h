/*
 * The in-memory batch: records pre-aggregated by (hotel_id, currency,
 * hourly bucket) before one database transaction applies them.
 *
 * Pre-aggregation is what makes the write cheap (a thousand searches of
 * the same few hotels become a few upserts) and what PostgreSQL needs:
 * one INSERT ... ON CONFLICT must not touch a key twice.  Sums are exact
 * int64 micro-units; a record that would overflow its bucket's sum is
 * rejected (sum_overflow) rather than wrapped or rounded.
 */

#ifndef HT_BATCH_H
#define HT_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "ht_decode.h"


/* the bytes of a hotel id an aggregate keeps beside its numbers */
#define HT_AGG_ID_HEAD  8


/*
 * 64 bytes, one cache line: a lookup that finds its aggregate compares
 * the key and updates the numbers without touching another line (ids of
 * up to HT_AGG_ID_HEAD bytes, as the bench's, never leave it).
 */
typedef struct {
    char      *hotel_id;        /* NUL-terminated, in the batch's ids */
    uint32_t   id_len;
    char       currency[4];
    int64_t    bucket_start;
    char       id_head[HT_AGG_ID_HEAD];   /* the id's first bytes, zero */
                                          /* padded: compared, and sorted */
                                          /* on, in place of hotel_id */
    int64_t    count;
    int64_t    sum_micros;
    int64_t    min_micros;
    int64_t    max_micros;
} ht_agg_t;


/* a hash table slot: the aggregate's index + 1 (0 is empty) and its
 * key's hash, compared before the aggregate is looked at */
typedef struct {
    uint32_t   hash;
    uint32_t   index;
} ht_slot_t;


/* the hotel ids of a batch's aggregates, in blocks that never move */
typedef struct ht_id_block_s  ht_id_block_t;


typedef struct {
    ht_agg_t       *aggs;       /* dense array, insertion order */
    size_t          naggs;
    size_t          aggs_cap;

    ht_slot_t      *slots;      /* open addressing, linear probing */
    size_t          nslots;     /* a power of two */

    ht_id_block_t  *ids;        /* the first block; kept by a reset */
    ht_id_block_t  *ids_last;   /* the block being filled */

    int64_t         records;    /* records taken, added or rejected */
    int64_t         rejected[HT_REJECT_MAX];
} ht_batch_t;


/* Initializes an empty batch; 0 on success, -1 when out of memory.
 * Free with ht_batch_free(). */
int ht_batch_init(ht_batch_t *b);

/* Frees everything the batch owns (not the ht_batch_t itself). */
void ht_batch_free(ht_batch_t *b);

/* Empties the batch, keeping its memory for the next one. */
void ht_batch_reset(ht_batch_t *b);

/* ht_batch_add() ran out of memory */
#define HT_BATCH_NOMEM  -1

/*
 * Adds one valid record.  Returns HT_REJECT_NONE, HT_REJECT_SUM_OVERFLOW
 * (rejected: in b->rejected, not added) or HT_BATCH_NOMEM (nothing
 * changed).  The hotel id is copied.
 */
int ht_batch_add(ht_batch_t *b, const ht_record_t *rec);

/* the most records ht_batch_add_many() takes at once */
#define HT_BATCH_MANY  32

/*
 * Adds n valid records (HT_BATCH_MANY at most), in order, as n calls of
 * ht_batch_add() would, rc[i] set to what the i-th returned; the lookups
 * of all n are started before the first is added, so that their cache
 * misses overlap.  Returns 0, or HT_BATCH_NOMEM when a record ran out of
 * memory: it and those after it were not added (rc[i] set for those
 * before).
 */
int ht_batch_add_many(ht_batch_t *b, const ht_record_t *recs, size_t n,
    int *rc);

/* Adds n records rejected for reason (or n skipped offsets for
 * OFFSET_GAP, which are no records of the batch). */
void ht_batch_reject(ht_batch_t *b, ht_reject_e reason, int64_t n);

/*
 * Sorts the aggregates by (hotel_id, currency, bucket_start), the order
 * in which every writer takes its row locks so that two writers never
 * deadlock.  After this only reading and ht_batch_reset() are allowed.
 */
void ht_batch_sort(ht_batch_t *b);

/* 1 if a + b overflows int64 (the sum is not computed) */
int ht_add_overflows(int64_t a, int64_t b);


#endif /* HT_BATCH_H */
