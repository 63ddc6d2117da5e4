/*
 * The state of one "hotel-trends consume" run, and what the files of its
 * loop offer each other; nothing outside those files includes this.
 *
 *   ht_consume.c            the driver: open, one turn, idle, close
 *   ht_consume_kafka.c      the Kafka side: configuration, joining and
 *                           leaving the group, librdkafka's callbacks
 *   ht_consume_rebalance.c  partitions assigned (leases claimed) and
 *                           revoked
 *   ht_consume_part.c       the partition table, and its one reset
 *   ht_consume_record.c     one record into the batch, or rejected
 *   ht_consume_write.c      a batch written or dropped; the offsets read
 *                           back after a failure
 *   ht_consume_signal.c     SIGINT and SIGTERM
 *   ht_consume_metrics.c    the --metrics-file, from the figures below
 *
 * Everything runs on the main thread: the rebalance, stats and error
 * callbacks are served from rd_kafka_consumer_poll().
 */

#ifndef HT_CONSUME_STATE_H
#define HT_CONSUME_STATE_H

#include <stdint.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "ht_batch.h"
#include "ht_deadletter.h"
#include "ht_decode.h"
#include "ht_metrics.h"
#include "ht_options.h"
#include "ht_stats.h"
#include "ht_store.h"


/* the waits after a failure: doubled each time, from MIN to MAX */
#define HT_BACKOFF_MIN_MS   100
#define HT_BACKOFF_MAX_MS   5000


/*
 * Where one partition stands.  Offsets are -1 when there is none; a
 * partition never assigned, or revoked, is as ht_part_reset() leaves it.
 */
typedef struct {
    int       assigned;
    int       claimed;          /* lease_epoch is ours */
    int       fenced;           /* the lease was lost: never write */
    int64_t   lease_epoch;
    int64_t   db_next;          /* next_offset in the database */
    int64_t   batch_first;      /* the partition's records in the batch */
    int64_t   batch_last;
    int64_t   rewind_to;        /* the lowest offset to read again */
} ht_part_t;


/*
 * The figures of --stats-interval and of the closing line.  A record is
 * consumed when taken from the topic; it is counted (added to the
 * aggregates) or rejected (under a reason) once its batch is committed.
 */
typedef struct {
    int64_t   consumed;
    int64_t   counted;
    int64_t   rejected;
    int64_t   batches;
    int64_t   db_errors;
    int64_t   leases_lost;
} ht_totals_t;


/*
 * What the metrics file shows beyond the totals, taken where a batch is
 * committed (ht_consume_observe()) and from librdkafka's statistics.
 */
typedef struct {
    int64_t             rejected[HT_REJECT_MAX];    /* committed */
    ht_histogram_t      commit;
    double              apply_s;        /* the last ht_store_apply() */
    int64_t             last_commit_ms; /* wall clock */
    ht_stats_part_t    *kafka;          /* owned, by partition number */
    int32_t             nkafka;
    int64_t             stats_ms;       /* statistics.interval.ms */
    int64_t             stats_logged_at;    /* monotonic ms */
    int64_t             due;            /* the next write, monotonic ms */
    int64_t             warned_at;      /* a failed write last logged */
} ht_observed_t;


/* rejected records not logged yet, for the rate-limited log line */
typedef struct {
    int64_t   pending[HT_REJECT_MAX];
    int64_t   logged_at;
    int32_t   partition;        /* of the latest */
    int64_t   offset;
} ht_rejected_log_t;


/*
 * One run.  What it opens (rk, store, dlq, the batch's memory and parts)
 * it owns, and ht_consume_close() frees, whatever got opened; o is the
 * caller's, but for o->kconf, which rd_kafka_new() takes.
 */
typedef struct {
    ht_consume_opts_t  *o;
    rd_kafka_t         *rk;
    ht_store_t         *store;
    ht_deadletter_t    *dlq;            /* NULL without --dead-letter */
    char                owner[128];     /* host:pid, in kafka_offsets */
    int                 subscribed;     /* the group was joined: the loop
                                         * runs, and close must leave */

    ht_part_t          *parts;          /* indexed by partition number,
                                         * grown by ht_consume_part_add() */
    int32_t             nparts;

    ht_batch_t          batch;
    int64_t             batch_deadline;

    int64_t             now;            /* monotonic ms, read once a turn */
    int                 need_resync;
    int64_t             retry_at;
    int64_t             backoff;
    int                 ever_assigned;
    int64_t             last_activity;
    int                 fatal;          /* stop, and exit 1 */

    ht_rejected_log_t   rejected_log;
    ht_totals_t         totals;
    ht_observed_t       observed;
} ht_consumer_t;


/* ht_consume.c */
int64_t ht_now_ms(clockid_t clock);
int64_t ht_backoff_next(int64_t ms);
void ht_sleep_ms(int64_t ms);

/* ht_consume_kafka.c: configure, then join; leave undoes join */
int ht_consume_configure(ht_consumer_t *c, char *err, size_t errlen);
int ht_consume_join(ht_consumer_t *c, char *err, size_t errlen);
void ht_consume_leave(ht_consumer_t *c);

/* ht_consume_rebalance.c: set on the conf by ht_consume_configure() */
void ht_consume_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *partitions, void *opaque);

/* ht_consume_part.c */
ht_part_t *ht_consume_part(ht_consumer_t *c, int32_t partition);
ht_part_t *ht_consume_part_add(ht_consumer_t *c, int32_t partition);
int32_t ht_consume_parts_held(const ht_consumer_t *c);
void ht_part_reset(ht_part_t *p);
int ht_part_writable(const ht_part_t *p);
void ht_part_rewind(ht_part_t *p, int64_t offset);
void ht_part_written(ht_part_t *p);
void ht_part_dropped(ht_part_t *p);

/* ht_consume_record.c */
void ht_consume_record(ht_consumer_t *c, const rd_kafka_message_t *m,
    int64_t wall_ms);
void ht_consume_log_rejected(ht_consumer_t *c, int force);

/* ht_consume_write.c */
void ht_consume_flush(ht_consumer_t *c);
void ht_consume_drop(ht_consumer_t *c, const char *why);
void ht_consume_resync(ht_consumer_t *c);
void ht_consume_resync_now(ht_consumer_t *c);

/* ht_consume_metrics.c */
void ht_consume_metrics_start(ht_consumer_t *c);
void ht_consume_metrics_batch(ht_consumer_t *c);
ht_stats_part_t *ht_consume_metrics_kafka(ht_consumer_t *c);
void ht_consume_metrics_write(ht_consumer_t *c, int force);
void ht_consume_metrics_free(ht_consumer_t *c);

/* ht_consume_signal.c */
void ht_consume_catch_signals(void);
int ht_consume_stopping(void);


#endif /* HT_CONSUME_STATE_H */
