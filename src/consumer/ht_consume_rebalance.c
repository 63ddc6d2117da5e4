/*
 * Partitions assigned and revoked.  An assigned partition is claimed in
 * the database first (a new lease, and the offset the database holds)
 * and only then handed to librdkafka, at that offset; a revoked one
 * loses its unwritten records, which its next owner reads again.
 */

#include <stdlib.h>
#include <string.h>

#include "ht_consume_state.h"
#include "ht_log.h"


static void ht_consume_assign(ht_consumer_t *c,
    rd_kafka_topic_partition_list_t *partitions, int cooperative);
static ht_offset_t *ht_consume_assign_parts(ht_consumer_t *c,
    const rd_kafka_topic_partition_list_t *partitions);
static int ht_consume_claim(ht_consumer_t *c, ht_offset_t *offs, size_t n);
static void ht_consume_start_at(ht_part_t *p, rd_kafka_topic_partition_t *tp,
    const ht_offset_t *off);
static void ht_consume_revoke(ht_consumer_t *c,
    rd_kafka_topic_partition_list_t *partitions, int cooperative);
static void ht_consume_hand_over(ht_consumer_t *c,
    rd_kafka_topic_partition_list_t *partitions, int cooperative,
    int assign);


void
ht_consume_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *partitions, void *opaque)
{
    int             cooperative;
    ht_consumer_t  *c = opaque;

    cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;

    switch (err) {

    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        ht_consume_assign(c, partitions, cooperative);
        break;

    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        ht_consume_revoke(c, partitions, cooperative);
        break;

    default:
        ht_log_error("rebalance: %s", rd_kafka_err2str(err));
        ht_consume_revoke(c, partitions, cooperative);
        break;
    }
}


static void
ht_consume_assign(ht_consumer_t *c,
    rd_kafka_topic_partition_list_t *partitions, int cooperative)
{
    int                          i, claimed;
    ht_part_t                   *p;
    ht_offset_t                 *offs;
    rd_kafka_topic_partition_t  *tp;

    offs = ht_consume_assign_parts(c, partitions);

    if (offs == NULL) {
        ht_log_error("out of memory on assignment");
        c->fatal = 1;
    }

    claimed = offs != NULL
              && ht_consume_claim(c, offs, partitions->cnt);

    for (i = 0; i < partitions->cnt; i++) {
        tp = &partitions->elems[i];
        p = ht_consume_part(c, tp->partition);

        if (p == NULL) {
            continue;
        }

        ht_part_reset(p);
        p->assigned = 1;

        if (claimed) {
            ht_consume_start_at(p, tp, &offs[i]);
        }
    }

    free(offs);

    c->ever_assigned = 1;
    c->last_activity = ht_now_ms(CLOCK_MONOTONIC);

    ht_consume_hand_over(c, partitions, cooperative, 1);

    /* a partition fenced and paused in an earlier generation */
    rd_kafka_resume_partitions(c->rk, partitions);
}


/*
 * The partitions in the table, and an array of them for the claim, in the
 * order of the list; the caller frees it.  NULL when out of memory.
 */
static ht_offset_t *
ht_consume_assign_parts(ht_consumer_t *c,
    const rd_kafka_topic_partition_list_t *partitions)
{
    int           i;
    ht_offset_t  *offs;

    offs = calloc(partitions->cnt + 1, sizeof(ht_offset_t));
    if (offs == NULL) {
        return NULL;
    }

    for (i = 0; i < partitions->cnt; i++) {
        if (ht_consume_part_add(c, partitions->elems[i].partition) == NULL) {
            free(offs);
            return NULL;
        }

        offs[i].partition = partitions->elems[i].partition;
    }

    return offs;
}


/*
 * Without a lease nothing can be written: waits for the database, but
 * gives up on shutdown (the partitions then stay unclaimed and idle).
 * 1 when the partitions are claimed.
 */
static int
ht_consume_claim(ht_consumer_t *c, ht_offset_t *offs, size_t n)
{
    char     err[512];
    int64_t  backoff;

    backoff = HT_BACKOFF_MIN_MS;

    while (!ht_consume_stopping()) {
        if (c->store->ops->claim(c->store, c->o->topic, c->owner, offs, n,
                                 err, sizeof(err))
            == HT_STORE_OK)
        {
            return 1;
        }

        ht_log_error("claiming %zu partitions: %s; retrying in %lldms",
                     n, err, (long long) backoff);
        ht_sleep_ms(backoff);

        backoff = ht_backoff_next(backoff);
    }

    return 0;
}


/* a claimed partition: its lease, and the offset librdkafka starts at */
static void
ht_consume_start_at(ht_part_t *p, rd_kafka_topic_partition_t *tp,
    const ht_offset_t *off)
{
    p->claimed = 1;
    p->lease_epoch = off->lease_epoch;
    p->db_next = off->next_offset;

    if (p->db_next >= 0) {
        tp->offset = p->db_next;

        ht_log_info("partition %d: lease %lld, starting at offset %lld",
                    (int) tp->partition, (long long) p->lease_epoch,
                    (long long) p->db_next);
        return;
    }

    /* INVALID: Kafka's committed offset, else auto.offset.reset */
    tp->offset = RD_KAFKA_OFFSET_INVALID;

    ht_log_info("partition %d: lease %lld, new to the database, starting "
                "at the committed offset or earliest", (int) tp->partition,
                (long long) p->lease_epoch);
}


static void
ht_consume_revoke(ht_consumer_t *c,
    rd_kafka_topic_partition_list_t *partitions, int cooperative)
{
    int         i;
    ht_part_t  *p;

    if (c->batch.records > 0) {
        /* nothing of the batch is written yet: dropping it is exact, and
         * the partitions we keep are sought back to the database's
         * offsets by ht_consume_resync() */
        ht_consume_drop(c, rd_kafka_assignment_lost(c->rk)
                           ? "assignment lost" : "partitions revoked");
        ht_consume_resync_now(c);
    }

    for (i = 0; i < partitions->cnt; i++) {
        p = ht_consume_part(c, partitions->elems[i].partition);

        if (p != NULL) {
            ht_part_reset(p);
        }
    }

    ht_consume_hand_over(c, partitions, cooperative, 0);
}


/* the partitions to librdkafka (assign), or back from it */
static void
ht_consume_hand_over(ht_consumer_t *c,
    rd_kafka_topic_partition_list_t *partitions, int cooperative, int assign)
{
    rd_kafka_error_t  *error;

    if (!cooperative) {
        rd_kafka_assign(c->rk, assign ? partitions : NULL);
        return;
    }

    error = assign ? rd_kafka_incremental_assign(c->rk, partitions)
                   : rd_kafka_incremental_unassign(c->rk, partitions);

    if (error != NULL) {
        ht_log_error("incremental %s: %s", assign ? "assign" : "unassign",
                     rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
}

