/*
 * The batch's way out: written in one transaction with each partition's
 * offset compare-and-set, or dropped whole.  After a drop the offsets are
 * read back from the database and the partitions sought there, so that
 * every record is either in a committed batch or read again.  These steps
 * decide what a failure leads to, so they are the ones that log it.
 */

#include <stdlib.h>

#include "ht_consume_state.h"
#include "ht_log.h"


#define HT_SEEK_TIMEOUT_MS  10000


static ht_offset_cas_t *ht_consume_cas(ht_consumer_t *c, size_t *n);
static void ht_consume_written(ht_consumer_t *c);
static void ht_consume_observe(ht_consumer_t *c);
static void ht_consume_commit_to_kafka(ht_consumer_t *c);
static void ht_consume_retry_later(ht_consumer_t *c);
static ht_offset_t *ht_consume_read_offsets(ht_consumer_t *c, size_t *n,
    char *err, size_t errlen);
static int ht_consume_seek_back(ht_consumer_t *c, const ht_offset_t *offs,
    size_t n, char *err, size_t errlen);
static int ht_consume_seek(ht_consumer_t *c,
    rd_kafka_topic_partition_list_t *seek, char *err, size_t errlen);


/* writes the batch; on failure it is dropped and a resync scheduled */
void
ht_consume_flush(ht_consumer_t *c)
{
    int               rc;
    char              err[512];
    size_t            n;
    struct timespec   t0, t1;
    ht_offset_cas_t  *cas;

    cas = ht_consume_cas(c, &n);
    if (cas == NULL) {
        ht_consume_drop(c, "out of memory");
        c->fatal = 1;
        return;
    }

    ht_batch_sort(&c->batch);

    clock_gettime(CLOCK_MONOTONIC, &t0);

    rc = ht_store_apply(c->store, c->o->topic, &c->batch, cas, n, err,
                        sizeof(err));

    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(cas);

    /* the transaction's time, for the metrics of a committed batch */
    c->observed.apply_s = (double) (t1.tv_sec - t0.tv_sec)
                          + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;

    switch (rc) {

    case HT_STORE_OK:
        ht_consume_written(c);
        break;

    case HT_STORE_LOST:
        c->totals.leases_lost++;
        ht_log_warn("%s: dropping the batch, rereading the offsets", err);
        ht_consume_drop(c, NULL);
        ht_consume_resync_now(c);
        break;

    default:
        c->totals.db_errors++;
        ht_log_error("writing a batch of %lld records: %s; retrying in "
                     "%lldms", (long long) c->batch.records, err,
                     (long long) c->backoff);
        ht_consume_drop(c, NULL);
        ht_consume_retry_later(c);
        break;
    }
}


/*
 * The compare-and-set of each partition in the batch, in partition order,
 * the order every writer locks offsets rows in; the caller frees it.
 * NULL when out of memory.
 */
static ht_offset_cas_t *
ht_consume_cas(ht_consumer_t *c, size_t *n)
{
    int32_t           i;
    ht_part_t        *p;
    ht_offset_cas_t  *cas;

    cas = malloc((c->nparts + 1) * sizeof(ht_offset_cas_t));
    if (cas == NULL) {
        return NULL;
    }

    for (*n = 0, i = 0; i < c->nparts; i++) {
        p = &c->parts[i];

        if (p->batch_first < 0) {
            continue;
        }

        cas[*n].partition = i;
        cas[*n].lease_epoch = p->lease_epoch;
        cas[*n].expected = p->db_next;
        cas[*n].next_offset = p->batch_last + 1;
        (*n)++;
    }

    return cas;
}


/* the batch is committed: the partitions move on, Kafka is told */
static void
ht_consume_written(ht_consumer_t *c)
{
    int32_t  i;

    ht_consume_observe(c);

    c->backoff = HT_BACKOFF_MIN_MS;

    for (i = 0; i < c->nparts; i++) {
        ht_part_written(&c->parts[i]);
    }

    ht_consume_commit_to_kafka(c);
    ht_batch_reset(&c->batch);
}


/*
 * The one place a committed batch is seen whole: its records, rejected by
 * reason or counted (c->batch), and the offsets each partition moves from
 * and to (c->parts, before ht_part_written()).  The totals of the stats
 * line and of the metrics file are taken here, and so should any other
 * per-batch figure; the transaction's time is the clock taken around
 * ht_store_apply() in ht_consume_flush().
 */
static void
ht_consume_observe(ht_consumer_t *c)
{
    int64_t       rejected;
    ht_reject_e   r;
    ht_totals_t  *t = &c->totals;

    rejected = 0;

    /* offset_gap counts offsets that never reached us, not records */
    for (r = HT_REJECT_NONE + 1; r < HT_REJECT_MAX; r++) {
        if (r != HT_REJECT_OFFSET_GAP) {
            rejected += c->batch.rejected[r];
        }
    }

    t->batches++;
    t->rejected += rejected;
    t->counted += c->batch.records - rejected;

    ht_consume_metrics_batch(c);
}


/* for lag monitors only: the database holds the offsets that count */
static void
ht_consume_commit_to_kafka(ht_consumer_t *c)
{
    int32_t                            i;
    ht_part_t                         *p;
    rd_kafka_topic_partition_t        *tp;
    rd_kafka_topic_partition_list_t   *list;

    list = rd_kafka_topic_partition_list_new(c->nparts + 1);

    for (i = 0; i < c->nparts; i++) {
        p = &c->parts[i];

        if (ht_part_writable(p) && p->db_next >= 0) {
            tp = rd_kafka_topic_partition_list_add(list, c->o->topic, i);
            tp->offset = p->db_next;
        }
    }

    if (list->cnt > 0) {
        /* async: a failed commit costs nothing but a stale lag figure */
        rd_kafka_commit(c->rk, list, 1);
    }

    rd_kafka_topic_partition_list_destroy(list);
}


/* forgets the batch; its partitions will be read again (ht_part_rewind) */
void
ht_consume_drop(ht_consumer_t *c, const char *why)
{
    int32_t  i;

    if (why != NULL && c->batch.records > 0) {
        ht_log_info("dropping %lld unwritten records: %s",
                    (long long) c->batch.records, why);
    }

    for (i = 0; i < c->nparts; i++) {
        ht_part_dropped(&c->parts[i]);
    }

    ht_batch_reset(&c->batch);
}


/* a resync at the next turn, with no wait: nothing failed */
void
ht_consume_resync_now(ht_consumer_t *c)
{
    c->need_resync = 1;
    c->retry_at = 0;
}


/* after a failure: a resync after the backoff, which grows */
static void
ht_consume_retry_later(ht_consumer_t *c)
{
    c->need_resync = 1;
    c->retry_at = ht_now_ms(CLOCK_MONOTONIC) + c->backoff;
    c->backoff = ht_backoff_next(c->backoff);
}


/*
 * The due resync: the offsets of the partitions we may write read back
 * from the database, and each partition sought there.  Done, or tried
 * again after the backoff.
 */
void
ht_consume_resync(ht_consumer_t *c)
{
    int           rc;
    char          err[512];
    size_t        n;
    ht_offset_t  *offs;

    offs = ht_consume_read_offsets(c, &n, err, sizeof(err));

    if (offs == NULL) {
        ht_log_error("reading offsets: %s; retrying in %lldms", err,
                     (long long) c->backoff);
        ht_consume_retry_later(c);
        return;
    }

    rc = ht_consume_seek_back(c, offs, n, err, sizeof(err));
    free(offs);

    if (rc != 0) {
        ht_log_error("%s; retrying in %lldms", err, (long long) c->backoff);
        ht_consume_retry_later(c);
        return;
    }

    c->need_resync = 0;
}


/* the offsets of the partitions we may write, *n of them; the caller
 * frees them.  NULL with a message in err. */
static ht_offset_t *
ht_consume_read_offsets(ht_consumer_t *c, size_t *n, char *err,
    size_t errlen)
{
    int32_t       i;
    ht_offset_t  *offs;

    offs = malloc((c->nparts + 1) * sizeof(ht_offset_t));
    if (offs == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    for (*n = 0, i = 0; i < c->nparts; i++) {
        if (ht_part_writable(&c->parts[i])) {
            offs[(*n)++].partition = i;
        }
    }

    if (*n > 0
        && c->store->ops->read(c->store, c->o->topic, offs, *n, err, errlen)
           != HT_STORE_OK)
    {
        free(offs);
        return NULL;
    }

    return offs;
}


/*
 * Seeks each partition to the database's next_offset, or, if it never
 * wrote one, to the first record we dropped.  A partition whose lease
 * moved on is fenced and paused until the group takes it away.
 */
static int
ht_consume_seek_back(ht_consumer_t *c, const ht_offset_t *offs, size_t n,
    char *err, size_t errlen)
{
    int                                rc;
    size_t                             k;
    int32_t                            i;
    int64_t                            target;
    ht_part_t                         *p;
    rd_kafka_topic_partition_t        *tp;
    rd_kafka_topic_partition_list_t   *seek, *pause;

    seek = rd_kafka_topic_partition_list_new(n + 1);
    pause = rd_kafka_topic_partition_list_new(n + 1);

    for (k = 0; k < n; k++) {
        p = &c->parts[offs[k].partition];

        if (offs[k].lease_epoch != p->lease_epoch) {
            ht_log_warn("partition %d: lease %lld taken over (now %lld), "
                        "pausing it until the group moves it",
                        (int) offs[k].partition, (long long) p->lease_epoch,
                        (long long) offs[k].lease_epoch);
            p->fenced = 1;
            rd_kafka_topic_partition_list_add(pause, c->o->topic,
                                              offs[k].partition);
            continue;
        }

        p->db_next = offs[k].next_offset;
        target = (p->db_next >= 0) ? p->db_next : p->rewind_to;

        if (target >= 0) {
            tp = rd_kafka_topic_partition_list_add(seek, c->o->topic,
                                                   offs[k].partition);
            tp->offset = target;
        }
    }

    if (pause->cnt > 0) {
        rd_kafka_pause_partitions(c->rk, pause);
    }

    rd_kafka_topic_partition_list_destroy(pause);

    rc = ht_consume_seek(c, seek, err, errlen);

    rd_kafka_topic_partition_list_destroy(seek);

    if (rc == 0) {
        for (i = 0; i < c->nparts; i++) {
            c->parts[i].rewind_to = -1;
        }
    }

    return rc;
}


static int
ht_consume_seek(ht_consumer_t *c, rd_kafka_topic_partition_list_t *seek,
    char *err, size_t errlen)
{
    int                k;
    rd_kafka_error_t  *error;

    if (seek->cnt == 0) {
        return 0;
    }

    error = rd_kafka_seek_partitions(c->rk, seek, HT_SEEK_TIMEOUT_MS);

    if (error != NULL) {
        snprintf(err, errlen, "seeking back: %s",
                 rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        return -1;
    }

    for (k = 0; k < seek->cnt; k++) {
        if (seek->elems[k].err) {
            snprintf(err, errlen, "seeking partition %d: %s",
                     (int) seek->elems[k].partition,
                     rd_kafka_err2str(seek->elems[k].err));
            return -1;
        }
    }

    for (k = 0; k < seek->cnt; k++) {
        ht_log_info("partition %d: resuming at offset %lld",
                    (int) seek->elems[k].partition,
                    (long long) seek->elems[k].offset);
    }

    return 0;
}
