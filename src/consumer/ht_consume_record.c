/*
 * One record fetched: checked against where its partition stands, then
 * decoded and added to the batch, or rejected under a reason.  A record
 * that cannot be counted never stalls its partition: it is rejected (a
 * row of rejected_records grows with the batch), copied to the
 * dead-letter topic if there is one, and logged, at most one line every
 * HT_REJECTED_LOG_MS.
 *
 * A page record (its "schema" header names a SearchPage) is taken as the
 * result records it holds: each of its results is counted or rejected on
 * its own, exactly as a result record would be, so the aggregates and
 * rejected_records do not depend on the producer's mode.  A page with a
 * result that does not pass the record's checks goes to the dead-letter
 * topic once, whole, under the first such result's reason.
 */

#include <string.h>

#include "hk_page.h"
#include "hk_record.h"
#include "ht_consume_state.h"
#include "ht_log.h"


#define HT_REJECTED_LOG_MS  5000


/* what a record's value holds, by its "schema" header */
typedef enum {
    HT_VALUE_RESULT,            /* a HotelSearchResult, or no header */
    HT_VALUE_PAGE,              /* a SearchPage */
    HT_VALUE_UNKNOWN            /* another message: unknown_schema */
} ht_value_e;


/* one page record being taken; its valid results are added
 * HT_BATCH_MANY at a time (ht_batch_add_many()) */
typedef struct {
    ht_consumer_t              *consumer;
    const rd_kafka_message_t   *message;
    ht_reject_e                 first_rejected;
    size_t                      nrecs;
    ht_record_t                 recs[HT_BATCH_MANY];
} ht_page_walk_t;


static int ht_consume_in_order(ht_consumer_t *c, ht_part_t *p,
    const rd_kafka_message_t *m);
static ht_value_e ht_consume_value(const rd_kafka_message_t *m);
static void ht_consume_result(ht_consumer_t *c, const rd_kafka_message_t *m,
    int64_t wall_ms);
static void ht_consume_page(ht_consumer_t *c, const rd_kafka_message_t *m,
    int64_t wall_ms);
static int ht_consume_page_result(void *ctx, ht_reject_e reason,
    const ht_record_t *rec);
static int ht_consume_page_add(ht_page_walk_t *walk);
static int ht_consume_add(ht_consumer_t *c, const ht_record_t *rec,
    const rd_kafka_message_t *m);
static void ht_consume_added(ht_consumer_t *c, int rc,
    const rd_kafka_message_t *m);
static void ht_consume_reject(ht_consumer_t *c, ht_reject_e reason,
    const rd_kafka_message_t *m);
static void ht_consume_dead_letter(ht_consumer_t *c, ht_reject_e reason,
    const rd_kafka_message_t *m);
static void ht_consume_note_rejected(ht_consumer_t *c, ht_reject_e reason,
    const rd_kafka_message_t *m);


/* wall_ms: the real clock, for the records' future check */
void
ht_consume_record(ht_consumer_t *c, const rd_kafka_message_t *m,
    int64_t wall_ms)
{
    ht_part_t  *p;

    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            ht_log_warn("consumer: %s", rd_kafka_message_errstr(m));
        }

        return;
    }

    if (strcmp(rd_kafka_topic_name(m->rkt), c->o->topic) != 0) {
        return;
    }

    p = ht_consume_part(c, m->partition);

    if (p == NULL || !p->assigned) {
        return;
    }

    c->last_activity = c->now;

    if (!ht_consume_in_order(c, p, m)) {
        return;
    }

    if (c->batch.records == 0) {
        c->batch_deadline = c->last_activity + c->o->batch_time_ms;
    }

    if (p->batch_first < 0) {
        p->batch_first = m->offset;
    }

    p->batch_last = m->offset;
    c->totals.consumed++;

    switch (ht_consume_value(m)) {

    case HT_VALUE_PAGE:
        ht_consume_page(c, m, wall_ms);
        break;

    case HT_VALUE_UNKNOWN:
        ht_consume_reject(c, HT_REJECT_UNKNOWN_SCHEMA, m);
        break;

    default:
        ht_consume_result(c, m, wall_ms);
        break;
    }
}


/*
 * 1 when m is the record its partition is to take next.  While a resync
 * is due, or the partition is not ours to write, records are read again
 * after the seek (from the lowest of them); one already counted or
 * already in the batch is never taken twice; offsets gone from the log
 * before m are rejected as offset_gap, and m is taken.
 */
static int
ht_consume_in_order(ht_consumer_t *c, ht_part_t *p,
    const rd_kafka_message_t *m)
{
    int64_t  expected;

    if (c->need_resync || !ht_part_writable(p)) {
        ht_part_rewind(p, m->offset);
        return 0;
    }

    expected = (p->batch_last >= 0) ? p->batch_last + 1 : p->db_next;

    if (expected >= 0 && m->offset < expected) {
        ht_log_debug("partition %d: skipping offset %lld, expected %lld",
                     (int) m->partition, (long long) m->offset,
                     (long long) expected);
        return 0;
    }

    if (expected >= 0 && m->offset > expected) {
        ht_log_warn("partition %d: offsets %lld to %lld are gone from the "
                    "log (retention or compaction), rejected as offset_gap",
                    (int) m->partition, (long long) expected,
                    (long long) m->offset - 1);
        ht_batch_reject(&c->batch, HT_REJECT_OFFSET_GAP,
                        m->offset - expected);
    }

    return 1;
}


/* a "schema" header, when there is one, must name one of our messages */
static ht_value_e
ht_consume_value(const rd_kafka_message_t *m)
{
    size_t               size;
    const void          *schema;
    rd_kafka_headers_t  *hdrs;

    if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR
        || rd_kafka_header_get_last(hdrs, HK_RECORD_HEADER_SCHEMA, &schema,
                                    &size)
           != RD_KAFKA_RESP_ERR_NO_ERROR)
    {
        return HT_VALUE_RESULT;
    }

    if (size == sizeof(HK_RECORD_SCHEMA) - 1
        && memcmp(schema, HK_RECORD_SCHEMA, size) == 0)
    {
        return HT_VALUE_RESULT;
    }

    if (size == sizeof(HK_PAGE_SCHEMA) - 1
        && memcmp(schema, HK_PAGE_SCHEMA, size) == 0)
    {
        return HT_VALUE_PAGE;
    }

    return HT_VALUE_UNKNOWN;
}


static void
ht_consume_result(ht_consumer_t *c, const rd_kafka_message_t *m,
    int64_t wall_ms)
{
    ht_reject_e  reason;
    ht_record_t  rec;

    reason = ht_decode(m->payload, m->len, wall_ms, c->o->bucket_s, &rec);

    if (reason != HT_REJECT_NONE) {
        ht_consume_reject(c, reason, m);
        return;
    }

    (void) ht_consume_add(c, &rec, m);
}


static void
ht_consume_page(ht_consumer_t *c, const rd_kafka_message_t *m,
    int64_t wall_ms)
{
    int             rc;
    ht_page_walk_t  walk;

    walk.consumer = c;
    walk.message = m;
    walk.first_rejected = HT_REJECT_NONE;
    walk.nrecs = 0;

    rc = ht_decode_page(m->payload, m->len, wall_ms, c->o->bucket_s,
                        ht_consume_page_result, &walk);

    if (rc != HT_DECODE_STOPPED) {
        (void) ht_consume_page_add(&walk);
    }

    if (rc == HT_REJECT_UNDECODABLE) {
        /* no result can be read from it: one record rejected */
        ht_consume_reject(c, HT_REJECT_UNDECODABLE, m);
        return;
    }

    if (walk.first_rejected != HT_REJECT_NONE) {
        ht_consume_dead_letter(c, walk.first_rejected, m);
    }
}


static int
ht_consume_page_result(void *ctx, ht_reject_e reason, const ht_record_t *rec)
{
    ht_page_walk_t  *walk = ctx;

    if (reason == HT_REJECT_NONE) {
        walk->recs[walk->nrecs++] = *rec;

        return walk->nrecs == HT_BATCH_MANY ? ht_consume_page_add(walk) : 0;
    }

    ht_batch_reject(&walk->consumer->batch, reason, 1);
    ht_consume_note_rejected(walk->consumer, reason, walk->message);

    if (walk->first_rejected == HT_REJECT_NONE) {
        walk->first_rejected = reason;
    }

    return 0;
}


/*
 * The page's valid results held so far, added to the batch in their
 * order: 0, or -1 when the run is over (out of memory).  Only their
 * order among themselves counts (which of two overflows a sum): a result
 * rejected meanwhile was counted at once, and the batch is written only
 * after the page.
 */
static int
ht_consume_page_add(ht_page_walk_t *walk)
{
    int     rc[HT_BATCH_MANY];
    size_t  i, n;

    n = walk->nrecs;
    walk->nrecs = 0;

    if (n == 0) {
        return 0;
    }

    if (ht_batch_add_many(&walk->consumer->batch, walk->recs, n, rc) != 0) {
        ht_consume_added(walk->consumer, HT_BATCH_NOMEM, walk->message);
        return -1;
    }

    for (i = 0; i < n; i++) {
        /* a sum overflow is noted there, and, as for a result record,
         * copies nothing to the dead-letter topic */
        ht_consume_added(walk->consumer, rc[i], walk->message);
    }

    return 0;
}


/* HT_REJECT_NONE, HT_REJECT_SUM_OVERFLOW (rejected, noted) or
 * HT_BATCH_NOMEM (the run is over) */
static int
ht_consume_add(ht_consumer_t *c, const ht_record_t *rec,
    const rd_kafka_message_t *m)
{
    int  rc;

    rc = ht_batch_add(&c->batch, rec);

    ht_consume_added(c, rc, m);

    return rc;
}


/* what ht_batch_add() returned for a record of m, seen to */
static void
ht_consume_added(ht_consumer_t *c, int rc, const rd_kafka_message_t *m)
{
    if (rc == HT_BATCH_NOMEM) {
        ht_log_error("out of memory adding to the batch");
        ht_consume_drop(c, "out of memory");
        c->fatal = 1;
        return;
    }

    if (rc == HT_REJECT_SUM_OVERFLOW) {
        /* ht_batch_add() has added it to the batch's rejected */
        ht_consume_note_rejected(c, rc, m);
    }
}


static void
ht_consume_reject(ht_consumer_t *c, ht_reject_e reason,
    const rd_kafka_message_t *m)
{
    ht_batch_reject(&c->batch, reason, 1);
    ht_consume_dead_letter(c, reason, m);
    ht_consume_note_rejected(c, reason, m);
}


/* a copy lost is logged and the record still rejected: the dead-letter
 * topic is for looking at, rejected_records is the truth */
static void
ht_consume_dead_letter(ht_consumer_t *c, ht_reject_e reason,
    const rd_kafka_message_t *m)
{
    char  err[512];

    if (c->dlq != NULL
        && ht_deadletter_send(c->dlq, m, reason, err, sizeof(err)) != 0)
    {
        ht_log_error("%s", err);
    }
}


static void
ht_consume_note_rejected(ht_consumer_t *c, ht_reject_e reason,
    const rd_kafka_message_t *m)
{
    ht_rejected_log_t  *l = &c->rejected_log;

    l->pending[reason]++;
    l->partition = m->partition;
    l->offset = m->offset;
}


/* at most one line per HT_REJECTED_LOG_MS, whatever the rate of poison;
 * force: now, whatever the time (at exit) */
void
ht_consume_log_rejected(ht_consumer_t *c, int force)
{
    int                 r, n;
    char                line[512];
    size_t              len;
    int64_t             total;
    ht_rejected_log_t  *l = &c->rejected_log;

    if (!force && c->now - l->logged_at < HT_REJECTED_LOG_MS) {
        return;
    }

    total = 0;
    len = 0;
    line[0] = '\0';

    for (r = HT_REJECT_NONE + 1; r < HT_REJECT_MAX; r++) {
        if (l->pending[r] == 0) {
            continue;
        }

        total += l->pending[r];

        n = snprintf(line + len, sizeof(line) - len, " %s=%lld",
                     ht_reject_name(r), (long long) l->pending[r]);

        if (n > 0 && (size_t) n < sizeof(line) - len) {
            len += n;
        }

        l->pending[r] = 0;
    }

    if (total > 0) {
        ht_log_warn("rejected %lld records:%s (latest: partition %d "
                    "offset %lld)", (long long) total, line,
                    (int) l->partition, (long long) l->offset);
    }

    l->logged_at = c->now;
}
