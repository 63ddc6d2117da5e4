/*
 * Turning one Kafka record value into the few fields hotel-trends
 * aggregates, or into the reason it rejects it.
 *
 * The words, in the code, the logs and the tables alike: a record taken
 * from the topic is consumed; one added to the aggregates (to a count of
 * hotel_rate_hourly) is counted; one that cannot be (a "poison" record)
 * is rejected, under one of the reasons below, whose names are the rows
 * of rejected_records.  A rejected record must never stall its
 * partition: its reason's row grows in the same transaction as the
 * aggregates, and the consumer moves on.
 */

#ifndef HT_DECODE_H
#define HT_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "hk_record.h"


/* the longest hotel id kept: the record's rule; longer is bad_hotel_id */
#define HT_HOTEL_ID_MAX  HK_RECORD_MAX_ID

/* one hour: the default aggregation bucket, in seconds (--bucket) */
#define HT_BUCKET_SECONDS  3600

/*
 * --bucket: a divisor of a day, so that buckets line up with days (and
 * with the report's 7-day windows) whatever the size; at least a minute.
 */
#define HT_BUCKET_MIN  60
#define HT_BUCKET_MAX  86400

/*
 * Event times this far in the future are a broken clock, not a search:
 * rejected as bad_time.  Late records are never rejected: they update their
 * old hourly bucket whatever their age (the table keeps all history).
 */
#define HT_MAX_FUTURE_MS  (24LL * 3600 * 1000)

/* 2000-01-01T00:00:00Z: anything older is a zero or garbage timestamp */
#define HT_MIN_TIME_MS  946684800000LL


typedef enum {
    HT_REJECT_NONE = 0,
    HT_REJECT_UNDECODABLE,       /* not a HotelSearchResult (a SearchPage
                                  * under its header) */
    HT_REJECT_UNKNOWN_SCHEMA,    /* "schema" header names another message */
    HT_REJECT_MISSING_HOTEL_ID,
    HT_REJECT_BAD_HOTEL_ID,      /* too long or not UTF-8 */
    HT_REJECT_BAD_RATE,          /* zero or negative */
    HT_REJECT_BAD_CURRENCY,      /* not three upper-case ASCII letters */
    HT_REJECT_BAD_TIME,          /* missing, before 2000 or in the future */
    HT_REJECT_SUM_OVERFLOW,      /* would push a bucket's sum past int64 */
    HT_REJECT_OFFSET_GAP,        /* offsets skipped (retention, compaction) */
    HT_REJECT_MAX
} ht_reject_e;


typedef struct {
    char     hotel_id[HT_HOTEL_ID_MAX + 1];
    char     currency[4];
    int64_t  rate_micros;
    int64_t  bucket_start;      /* unix seconds, a multiple of the bucket */
} ht_record_t;


/*
 * Decodes a record value.  Returns HT_REJECT_NONE and fills *rec, or the
 * reason the record is rejected.  now_ms is the wall clock, for the future
 * check; bucket_s the bucket size in seconds (HT_BUCKET_MIN to
 * HT_BUCKET_MAX, checked by the caller).  Nothing is allocated past the
 * call: the fields are copied.
 */
ht_reject_e ht_decode(const void *value, size_t len, int64_t now_ms,
    int64_t bucket_s, ht_record_t *rec);

/*
 * One result of a page, as ht_decode_page() hands it over: HT_REJECT_NONE
 * and the record, or the reason it is rejected (rec is then undefined).
 * 0 to go on, -1 to stop the walk.
 */
typedef int (*ht_decode_result_pt)(void *ctx, ht_reject_e reason,
    const ht_record_t *rec);

/* ht_decode_page(): each() asked to stop */
#define HT_DECODE_STOPPED  -1

/*
 * Decodes a SearchPage value (a page record) and checks each of its
 * results as ht_decode() checks a record, at the page's search time,
 * handing each to each() in page order.  Returns HT_REJECT_NONE once
 * every result went to each(), HT_REJECT_UNDECODABLE for a value that is
 * not a SearchPage (each() never called), or HT_DECODE_STOPPED.
 */
int ht_decode_page(const void *value, size_t len, int64_t now_ms,
    int64_t bucket_s, ht_decode_result_pt each, void *ctx);

/*
 * The same two with protobuf-c alone: the reference that the faster
 * reading of the wire format (ht_decode_wire.c), tried first by the two
 * above, is held to (fuzz/fuzz_decode.c, t/unit/test_ht_decode.c).
 */
ht_reject_e ht_decode_protobuf_c(const void *value, size_t len,
    int64_t now_ms, int64_t bucket_s, ht_record_t *rec);
int ht_decode_page_protobuf_c(const void *value, size_t len,
    int64_t now_ms, int64_t bucket_s, ht_decode_result_pt each, void *ctx);

/* the reason's row name in rejected_records, e.g. "bad_currency" */
const char *ht_reject_name(ht_reject_e reason);




#endif /* HT_DECODE_H */
