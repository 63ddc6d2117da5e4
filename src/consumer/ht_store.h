/*
 * The storage abstraction: where hotel-trends keeps its aggregates, its
 * Kafka offsets and its counts of rejected records, all three changed in
 * one transaction so that a batch is counted exactly once.
 *
 * Two backends implement it: SQLite (one file, one writer at a time) and
 * PostgreSQL (several consumers of one group writing concurrently).  Both
 * create the schema on open:
 *
 *   hotel_rate_hourly(hotel_id, currency, bucket_start, count,
 *                     sum_micros, min_micros, max_micros)
 *   kafka_offsets(topic, partition, next_offset, lease_epoch, owner)
 *   rejected_records(reason, count)
 *   hotel_trends_meta(name, value)
 *
 * hotel_trends_meta holds the bucket size (row "bucket_seconds"): it is
 * a property of the database, since the buckets of two sizes cannot be
 * added together.  It is written by the first consumer and checked by
 * every later one before it reads a record.
 *
 * next_offset is -1 for a partition claimed but never written: the
 * consumer then starts where Kafka says (committed offset, or earliest).
 * lease_epoch is bumped by every claim; a write must name the epoch it
 * got, so that a member that lost a partition without noticing (a zombie
 * past max.poll.interval.ms) cannot write for it any more.
 */

#ifndef HT_STORE_H
#define HT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ht_batch.h"


/*
 * What every function of a store returns.  A failure also leaves one line
 * in the caller's err buffer (the convention of the whole consumer, see
 * ht_log.h): the transaction, if one was open, was rolled back.
 */
#define HT_STORE_OK        0
#define HT_STORE_ERROR    -1
#define HT_STORE_LOST     -2    /* a partition's offsets compare-and-set
                                 * failed: its lease or offset moved on */
#define HT_STORE_MISMATCH -3    /* the database's bucket size is another */
#define HT_STORE_AGAIN    -4    /* upsert: some aggregates were refused
                                 * and the statements cannot say which;
                                 * roll back and upsert them one by one */


typedef struct {
    int32_t   partition;
    int64_t   next_offset;      /* -1: nothing written yet */
    int64_t   lease_epoch;
} ht_offset_t;


typedef struct {
    int32_t   partition;
    int64_t   lease_epoch;      /* the one claim returned */
    int64_t   expected;         /* next_offset as last read or written */
    int64_t   next_offset;      /* last offset in the batch + 1 */
} ht_offset_cas_t;


/* one row of hotel_rate_hourly, as the report reads it */
typedef struct {
    const char  *hotel_id;      /* valid during the callback only */
    const char  *currency;
    int64_t      bucket_start;
    int64_t      count;
    int64_t      sum_micros;
    int64_t      min_micros;
    int64_t      max_micros;
} ht_row_t;


typedef struct {
    char *const  *hotels;       /* NULL or nhotels ids */
    size_t        nhotels;
    const char   *currency;     /* NULL or "EUR" */
    int64_t       since;        /* bucket_start >= since */
    int64_t       until;        /* bucket_start < until */
} ht_filter_t;


/* 0 to go on; -1, with a message in err, stops the scan, which then
 * returns HT_STORE_ERROR */
typedef int (*ht_row_cb)(const ht_row_t *row, void *ctx, char *err,
    size_t errlen);

/* one row of rejected_records */
typedef void (*ht_rejected_cb)(const char *reason, int64_t count, void *ctx);


typedef struct ht_store_s  ht_store_t;

/* Every operation but close returns an HT_STORE_* code, with a message
 * in err unless it is HT_STORE_OK. */
typedef struct {
    const char  *name;

    /*
     * In one transaction, for each of the n partitions: create its row or
     * bump its lease_epoch, set owner, and read next_offset and the new
     * lease_epoch back into parts[i].
     */
    int  (*claim)(ht_store_t *s, const char *topic, const char *owner,
                  ht_offset_t *parts, size_t n, char *err, size_t errlen);

    /* Reads next_offset and lease_epoch of n partitions (-1, 0 if none). */
    int  (*read)(ht_store_t *s, const char *topic, ht_offset_t *parts,
                 size_t n, char *err, size_t errlen);

    /*
     * The steps of a batch's transaction, which ht_store_apply() runs in
     * order: begin; cas, HT_STORE_LOST when a partition's row does not
     * match (err names it); upsert of the (sorted) aggregates, *overflowed
     * set to the records of those whose sum would overflow int64 in the
     * table, which are left as they were; add_rejected for each reason
     * with records; commit.  After a failure, rollback, which reports
     * nothing: the failure that led there is the one to tell.  An upsert
     * that writes several aggregates a statement may return
     * HT_STORE_AGAIN, never with each set: each asks for one aggregate a
     * statement, each one's refusal seen.
     */
    int  (*begin)(ht_store_t *s, char *err, size_t errlen);
    int  (*cas)(ht_store_t *s, const char *topic, const ht_offset_cas_t *cas,
                size_t n, char *err, size_t errlen);
    int  (*upsert)(ht_store_t *s, const ht_batch_t *b, int each,
                   int64_t *overflowed, char *err, size_t errlen);
    int  (*add_rejected)(ht_store_t *s, const char *reason, int64_t count,
                         char *err, size_t errlen);
    int  (*commit)(ht_store_t *s, char *err, size_t errlen);
    void (*rollback)(ht_store_t *s);

    /* Rows matching f, ordered by hotel_id, currency, bucket_start. */
    int  (*scan)(ht_store_t *s, const ht_filter_t *f, ht_row_cb cb,
                 void *ctx, char *err, size_t errlen);

    /* The rejected counts: cb(reason, count, ctx) per row. */
    int  (*rejected)(ht_store_t *s, ht_rejected_cb cb, void *ctx, char *err,
                     size_t errlen);

    /*
     * The database's bucket size in seconds into *stored.  With want > 0
     * it is recorded first if the database has none: want, or 3600 when
     * hotel_rate_hourly already has rows (written before the size was
     * recorded, so hourly).  With want 0 nothing is written, and *stored
     * is 0 when the database has neither the size nor rows.  Does not
     * compare: see ht_store_check_bucket().
     */
    int  (*bucket)(ht_store_t *s, int64_t want, int64_t *stored, char *err,
                   size_t errlen);

    /*
     * Session limits, on this connection and every later one (a
     * reconnection applies them again): lock_timeout and
     * idle_in_transaction_session_timeout in ms, 0 for the server's.
     * PostgreSQL only; SQLite has its own busy timeout and takes none.
     */
    int  (*limits)(ht_store_t *s, int64_t lock_ms, int64_t idle_ms,
                   char *err, size_t errlen);

    /* Closes the connection and frees s. */
    void (*close)(ht_store_t *s);
} ht_store_ops_t;


struct ht_store_s {
    const ht_store_ops_t  *ops;
};


/*
 * The process's settings of the database libraries, before any store is
 * opened (from main(), once): they are process-wide.
 */
void ht_store_init_process(void);

/*
 * Opens the database named by spec: "postgresql://...", "postgres://..."
 * or a libpq "key=value ..." string for PostgreSQL; "sqlite:PATH" or a
 * plain path for SQLite.  Returns a store to close with s->ops->close(),
 * or NULL with a message in err.
 */
ht_store_t *ht_store_open(const char *spec, char *err, size_t errlen);

/* the file path if spec names a SQLite database, NULL for PostgreSQL;
 * points into spec */
const char *ht_store_sqlite_path(const char *spec);

/*
 * A batch, in one transaction: each partition's next_offset
 * compare-and-set first (a lost lease aborts before any other work), the
 * aggregates, the rejected counts, and the records of aggregates the
 * table's sums could not take as sum_overflow.  HT_STORE_OK, or
 * HT_STORE_LOST or HT_STORE_ERROR with nothing written.
 */
int ht_store_apply(ht_store_t *s, const char *topic, const ht_batch_t *b,
    const ht_offset_cas_t *cas, size_t n, char *err, size_t errlen);

/*
 * Records or checks the bucket size before a consumer starts: HT_STORE_OK
 * when the database's is bucket_s, HT_STORE_ERROR when it could not be
 * read, and HT_STORE_MISMATCH when the database was made with another
 * size; err says which.
 */
int ht_store_check_bucket(ht_store_t *s, int64_t bucket_s, char *err,
    size_t errlen);

/* the backends behind ht_store_open() */
void ht_store_sqlite_init_process(void);
ht_store_t *ht_store_sqlite_open(const char *path, char *err, size_t errlen);
ht_store_t *ht_store_pg_open(const char *conninfo, char *err, size_t errlen);


#endif /* HT_STORE_H */
