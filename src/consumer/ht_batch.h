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
#define HT_AGG_ID_HEAD  16


typedef struct {
    char     *hotel_id;         /* owned by the batch */
    uint64_t  hash;             /* of the key, compared before the strings */
    size_t    id_len;
    char      id_head[HT_AGG_ID_HEAD];  /* the id's first bytes: a lookup */
                                        /* compares these, not hotel_id, */
                                        /* another cache line away */
    char      currency[4];
    int64_t   bucket_start;
    int64_t   count;
    int64_t   sum_micros;
    int64_t   min_micros;
    int64_t   max_micros;
} ht_agg_t;


typedef struct {
    ht_agg_t  *aggs;            /* dense array, insertion order */
    size_t     naggs;
    size_t     aggs_cap;

    uint32_t  *slots;           /* open addressing: index + 1, 0 is empty */
    size_t     nslots;          /* a power of two */

    int64_t    records;         /* records taken, added or rejected */
    int64_t    rejected[HT_REJECT_MAX];
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
