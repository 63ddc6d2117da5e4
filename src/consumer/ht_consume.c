/*
 * The consumer loop of "hotel-trends consume".
 *
 * The database is the source of truth for where each partition stands:
 *
 *   - on assignment, one transaction claims the partitions (bumps each
 *     lease_epoch, records the owner) and reads next_offset; the
 *     partitions are assigned at those offsets (or at Kafka's committed
 *     offset / earliest when the database has never written them);
 *   - records are pre-aggregated in memory for up to --batch-size records
 *     or --batch-time milliseconds, then one transaction applies the
 *     aggregates, the refused counts and, per partition, a compare-and-set
 *     of next_offset on (lease_epoch, previous next_offset);
 *   - when that transaction fails or a compare-and-set does not match, the
 *     batch is dropped (nothing of it was written), the offsets are read
 *     back from the database and the partitions are sought there: a record
 *     is either in a committed transaction with its offset, or read again.
 *
 * A partition whose lease was taken by another member is "fenced": its
 * records are dropped and it is paused until the group takes it away.
 *
 * Everything runs on the main thread: the rebalance, stats and error
 * callbacks are served from rd_kafka_consumer_poll().
 */

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "hk_record.h"
#include "ht_batch.h"
#include "ht_consume.h"
#include "ht_deadletter.h"
#include "ht_decode.h"
#include "ht_log.h"
#include "ht_stats.h"
#include "ht_store.h"


#define HT_POLL_MS          100
/* records taken per turn of the loop without waiting: the clocks, the
 * flush and the idle checks are per turn, not per record */
#define HT_POLL_BURST       1000
#define HT_BACKOFF_MIN_MS   100
#define HT_BACKOFF_MAX_MS   5000
#define HT_REJECT_LOG_MS    5000
#define HT_SEEK_TIMEOUT_MS  10000
/* before the first assignment, --exit-idle waits at least this long: a
 * join waits for members that died to time out (session.timeout.ms, 45 s
 * by default) */
#define HT_JOIN_GRACE_MS    60000


typedef struct {
    int       assigned;
    int       claimed;          /* lease_epoch is ours */
    int       fenced;           /* the lease was lost: never write */
    int64_t   lease_epoch;
    int64_t   db_next;          /* next_offset in the database, -1 none */
    int64_t   batch_first;      /* -1: nothing of it in the batch */
    int64_t   batch_last;
    int64_t   rewind_to;        /* lowest offset dropped, -1 none */
} ht_part_t;


typedef struct {
    ht_consume_opts_t  *o;
    rd_kafka_t         *rk;
    ht_store_t         *store;
    ht_deadletter_t    *dlq;           /* NULL without --dead-letter */
    char                owner[128];

    ht_part_t          *parts;      /* indexed by partition number */
    int32_t             nparts;

    ht_batch_t          batch;
    int64_t             batch_deadline;

    int                 need_resync;
    int64_t             retry_at;
    int64_t             backoff;
    int                 ever_assigned;
    int64_t             last_activity;
    int                 fatal;

    /* refused records not yet logged, for the rate-limited log line */
    int64_t             rej_pending[HT_REJECT_MAX];
    int64_t             rej_logged_at;
    int32_t             rej_partition;
    int64_t             rej_offset;

    /* totals for --stats-interval */
    int64_t             consumed;
    int64_t             written;
    int64_t             rejected;
    int64_t             batches;
    int64_t             db_errors;
    int64_t             leases_lost;
} ht_consumer_t;


static volatile sig_atomic_t  ht_running = 1;


static void ht_on_signal(int signo);
static int64_t ht_now_ms(clockid_t clock);
static ht_part_t *ht_part(ht_consumer_t *c, int32_t partition, int create);
static void ht_consume_message(ht_consumer_t *c, rd_kafka_message_t *m,
    int64_t now, int64_t wall_ms);
static int ht_holds_partitions(ht_consumer_t *c);
static void ht_consume_reject(ht_consumer_t *c, ht_reject_e reason,
    const rd_kafka_message_t *m);
static void ht_log_rejects(ht_consumer_t *c, int64_t now, int force);
static int ht_flush(ht_consumer_t *c);
static void ht_drop_batch(ht_consumer_t *c, const char *why);
static int ht_resync(ht_consumer_t *c);
static void ht_fail(ht_consumer_t *c);
static void ht_commit_to_kafka(ht_consumer_t *c);
static void ht_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *partitions, void *opaque);
static void ht_assign(ht_consumer_t *c,
    rd_kafka_topic_partition_list_t *partitions, int cooperative);
static void ht_revoke(ht_consumer_t *c,
    rd_kafka_topic_partition_list_t *partitions, int cooperative);
static int ht_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque);
static void ht_error_cb(rd_kafka_t *rk, int err, const char *reason,
    void *opaque);
static void ht_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf);
static void ht_sleep_ms(int64_t ms);


int
ht_consume_run(ht_consume_opts_t *o)
{
    int                                rc, n;
    char                               err[512], num[24], host[64];
    int64_t                            now, wall_ms, idle_ms, timeout;
    ht_consumer_t                      c;
    rd_kafka_conf_t                   *conf;
    struct sigaction                   sa;
    rd_kafka_message_t                *m;
    rd_kafka_resp_err_t                kerr;
    rd_kafka_topic_partition_list_t   *topics;

    memset(&c, 0, sizeof(c));
    c.o = o;
    c.backoff = HT_BACKOFF_MIN_MS;

    if (gethostname(host, sizeof(host)) != 0) {
        snprintf(host, sizeof(host), "unknown");
    }

    host[sizeof(host) - 1] = '\0';
    snprintf(c.owner, sizeof(c.owner), "%s:%d", host, (int) getpid());

    if (ht_batch_init(&c.batch) != 0) {
        ht_log_error("out of memory");
        return 1;
    }

    c.store = ht_store_open(o->db, err, sizeof(err));
    if (c.store == NULL) {
        ht_log_error("%s", err);
        ht_batch_free(&c.batch);
        return 1;
    }

    /* before joining the group: a database of another bucket size must
     * not get a single row of ours */
    rc = ht_store_check_bucket(c.store, o->bucket_s, err, sizeof(err));

    if (rc != HT_STORE_OK) {
        ht_log_error("%s", err);
        c.store->ops->close(c.store);
        ht_batch_free(&c.batch);
        return rc == HT_STORE_MISMATCH ? HT_EXIT_USAGE : 1;
    }

    conf = o->kconf;

    /* offsets are ours to store: in the database, after each batch */
    if (rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
                          sizeof(err)) != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", err,
                             sizeof(err)) != RD_KAFKA_CONF_OK)
    {
        ht_log_error("%s", err);
        goto failed;
    }

    if (o->stats_interval_s > 0) {
        snprintf(num, sizeof(num), "%lld",
                 (long long) o->stats_interval_s * 1000);

        if (rd_kafka_conf_set(conf, "statistics.interval.ms", num, err,
                              sizeof(err)) != RD_KAFKA_CONF_OK)
        {
            ht_log_error("%s", err);
            goto failed;
        }

        rd_kafka_conf_set_stats_cb(conf, ht_stats_cb);
    }

    rd_kafka_conf_set_opaque(conf, &c);
    rd_kafka_conf_set_rebalance_cb(conf, ht_rebalance_cb);
    rd_kafka_conf_set_error_cb(conf, ht_error_cb);
    rd_kafka_conf_set_log_cb(conf, ht_kafka_log_cb);

    if (o->dead_letter != NULL) {
        c.dlq = ht_deadletter_new(conf, o->dead_letter, err, sizeof(err));
        if (c.dlq == NULL) {
            ht_log_error("dead-letter producer: %s", err);
            goto failed;
        }
    }

    c.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (c.rk == NULL) {
        ht_log_error("%s", err);
        goto failed;
    }

    /* rd_kafka_new() took the conf: it is destroyed with the handle */
    o->kconf = NULL;

    rd_kafka_poll_set_consumer(c.rk);

    topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, o->topic, RD_KAFKA_PARTITION_UA);

    kerr = rd_kafka_subscribe(c.rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);

    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        ht_log_error("subscribing to %s: %s", o->topic, rd_kafka_err2str(kerr));
        rd_kafka_destroy(c.rk);
        goto failed;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = ht_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    ht_log_info("consuming %s as %s into a %s database", o->topic, c.owner,
                c.store->ops->name);

    c.last_activity = ht_now_ms(CLOCK_MONOTONIC);
    now = c.last_activity;

    /* the clock is read once per turn: at a few hundred thousand records
     * a second, clock_gettime() shows in a profile */
    while (ht_running && !c.fatal) {

        if (c.need_resync && now >= c.retry_at) {
            if (ht_resync(&c) == 0) {
                c.need_resync = 0;

            } else {
                ht_fail(&c);
            }
        }

        timeout = HT_POLL_MS;

        if (c.batch.records > 0 && c.batch_deadline - now < timeout) {
            timeout = c.batch_deadline > now ? c.batch_deadline - now : 0;
        }

        m = rd_kafka_consumer_poll(c.rk, (int) timeout);

        now = ht_now_ms(CLOCK_MONOTONIC);

        if (m != NULL) {
            wall_ms = ht_now_ms(CLOCK_REALTIME);

            /*
             * The records already fetched, without waiting.  Each poll
             * may still run the rebalance callback: a batch that reaches
             * its size, or a resync to do, ends the turn.
             */
            for (n = 1; /* void */; n++) {
                ht_consume_message(&c, m, now, wall_ms);
                rd_kafka_message_destroy(m);

                if (n == HT_POLL_BURST || c.fatal || c.need_resync
                    || c.batch.records >= o->batch_size)
                {
                    break;
                }

                m = rd_kafka_consumer_poll(c.rk, 0);

                if (m == NULL) {
                    break;
                }
            }
        }

        if (c.batch.records > 0
            && (c.batch.records >= o->batch_size || now >= c.batch_deadline))
        {
            ht_flush(&c);
        }

        ht_log_rejects(&c, now, 0);

        if (c.dlq != NULL) {
            ht_deadletter_poll(c.dlq);
        }

        /*
         * Idle means the partitions we hold have nothing more: while we
         * hold none (the session was lost to a broker outage, a rebalance
         * is under way) the clock waits for them to come back.
         */
        if (c.ever_assigned && !ht_holds_partitions(&c)) {
            c.last_activity = now;
        }

        if (o->exit_idle_s > 0 && c.batch.records == 0 && !c.need_resync) {
            idle_ms = o->exit_idle_s * 1000;

            if (!c.ever_assigned && idle_ms < HT_JOIN_GRACE_MS) {
                idle_ms = HT_JOIN_GRACE_MS;
            }

            if (now - c.last_activity >= idle_ms) {
                if (!c.ever_assigned) {
                    /* not an empty topic: the group was never joined */
                    ht_log_error("never joined the consumer group in %llds: "
                                 "are the brokers reachable, and the "
                                 "security settings right (see the errors "
                                 "above)?",
                                 (long long) (now - c.last_activity) / 1000);
                    c.fatal = 1;
                    break;
                }

                ht_log_info("idle for %llds, exiting",
                            (long long) (now - c.last_activity) / 1000);
                break;
            }
        }
    }

    /* a signal stops the batch early; its records are written once, or
     * (if that fails) read again by whoever owns the partitions next */
    if (c.batch.records > 0 && !c.need_resync && !c.fatal) {
        ht_flush(&c);
    }

    ht_log_rejects(&c, ht_now_ms(CLOCK_MONOTONIC), 1);

    ht_log_info("closing: %lld records consumed, %lld counted, "
                "%lld refused, %lld batches",
                (long long) c.consumed, (long long) c.written,
                (long long) c.rejected, (long long) c.batches);

    /* runs the final revoke through ht_rebalance_cb */
    rd_kafka_consumer_close(c.rk);
    rd_kafka_destroy(c.rk);

    if (c.dlq != NULL) {
        ht_deadletter_close(c.dlq);
    }

    rc = c.fatal ? 1 : 0;

    c.store->ops->close(c.store);
    ht_batch_free(&c.batch);
    free(c.parts);

    return rc;

failed:

    if (c.dlq != NULL) {
        ht_deadletter_close(c.dlq);
    }

    c.store->ops->close(c.store);
    ht_batch_free(&c.batch);

    return 1;
}


static void
ht_on_signal(int signo)
{
    ht_running = 0;
}


static int64_t
ht_now_ms(clockid_t clock)
{
    struct timespec  ts;

    clock_gettime(clock, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static void
ht_sleep_ms(int64_t ms)
{
    struct timespec  ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000;

    /* a signal cuts the sleep short, which is what shutdown wants */
    nanosleep(&ts, NULL);
}


/* the state of a partition; create grows the table (NULL if no memory) */
static ht_part_t *
ht_part(ht_consumer_t *c, int32_t partition, int create)
{
    int32_t     i, n;
    ht_part_t  *parts;

    if (partition < 0) {
        return NULL;
    }

    if (partition >= c->nparts) {
        if (!create) {
            return NULL;
        }

        n = partition + 1;

        parts = realloc(c->parts, n * sizeof(ht_part_t));
        if (parts == NULL) {
            return NULL;
        }

        for (i = c->nparts; i < n; i++) {
            memset(&parts[i], 0, sizeof(ht_part_t));
            parts[i].db_next = -1;
            parts[i].batch_first = -1;
            parts[i].batch_last = -1;
            parts[i].rewind_to = -1;
        }

        c->parts = parts;
        c->nparts = n;
    }

    return &c->parts[partition];
}


/* now: the monotonic clock; wall_ms: the real one, both in ms */
static void
ht_consume_message(ht_consumer_t *c, rd_kafka_message_t *m, int64_t now,
    int64_t wall_ms)
{
    int                  rc;
    size_t               size;
    int64_t              expected;
    ht_part_t           *p;
    const void          *schema;
    ht_reject_e          reason;
    ht_record_t          rec;
    rd_kafka_headers_t  *hdrs;

    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            ht_log_warn("consumer: %s", rd_kafka_message_errstr(m));
        }

        return;
    }

    if (strcmp(rd_kafka_topic_name(m->rkt), c->o->topic) != 0) {
        return;
    }

    p = ht_part(c, m->partition, 0);

    if (p == NULL || !p->assigned) {
        return;
    }

    c->last_activity = now;

    if (c->need_resync || !p->claimed || p->fenced) {
        /* read again after the seek that ht_resync() will do */
        if (p->rewind_to < 0 || m->offset < p->rewind_to) {
            p->rewind_to = m->offset;
        }

        return;
    }

    expected = (p->batch_last >= 0) ? p->batch_last + 1 : p->db_next;

    if (expected >= 0 && m->offset < expected) {
        /* already counted, or already in this batch: never twice */
        ht_log_debug("partition %d: skipping offset %lld, expected %lld",
                     (int) m->partition, (long long) m->offset,
                     (long long) expected);
        return;
    }

    if (expected >= 0 && m->offset > expected) {
        ht_log_warn("partition %d: offsets %lld to %lld are gone from the "
                    "log (retention or compaction), counted as offset_gap",
                    (int) m->partition, (long long) expected,
                    (long long) m->offset - 1);
        ht_batch_reject(&c->batch, HT_REJECT_OFFSET_GAP,
                        m->offset - expected);
    }

    if (c->batch.records == 0) {
        c->batch_deadline = c->last_activity + c->o->batch_time_ms;
    }

    if (p->batch_first < 0) {
        p->batch_first = m->offset;
    }

    p->batch_last = m->offset;
    c->consumed++;

    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR
        && rd_kafka_header_get_last(hdrs, "schema", &schema, &size)
           == RD_KAFKA_RESP_ERR_NO_ERROR
        && (size != sizeof(HK_RECORD_SCHEMA) - 1
            || memcmp(schema, HK_RECORD_SCHEMA, size) != 0))
    {
        ht_consume_reject(c, HT_REJECT_UNKNOWN_SCHEMA, m);
        return;
    }

    reason = ht_decode(m->payload, m->len, wall_ms, c->o->bucket_s, &rec);

    if (reason != HT_REJECT_NONE) {
        ht_consume_reject(c, reason, m);
        return;
    }

    rc = ht_batch_add(&c->batch, &rec);

    if (rc == -1) {
        ht_log_error("out of memory adding to the batch");
        ht_drop_batch(c, "out of memory");
        c->fatal = 1;
        return;
    }

    if (rc == HT_REJECT_SUM_OVERFLOW) {
        /* ht_batch_add() counted it already */
        c->rej_pending[rc]++;
        c->rej_partition = m->partition;
        c->rej_offset = m->offset;
    }
}


static int
ht_holds_partitions(ht_consumer_t *c)
{
    int32_t  i;

    for (i = 0; i < c->nparts; i++) {
        if (c->parts[i].assigned) {
            return 1;
        }
    }

    return 0;
}


static void
ht_consume_reject(ht_consumer_t *c, ht_reject_e reason,
    const rd_kafka_message_t *m)
{
    ht_batch_reject(&c->batch, reason, 1);

    if (c->dlq != NULL) {
        ht_deadletter_send(c->dlq, m, reason);
    }

    c->rej_pending[reason]++;
    c->rej_partition = m->partition;
    c->rej_offset = m->offset;
}


/* at most one line per HT_REJECT_LOG_MS, whatever the rate of poison */
static void
ht_log_rejects(ht_consumer_t *c, int64_t now, int force)
{
    int          r, n;
    char         line[512];
    size_t       len;
    int64_t      total;

    if (!force && now - c->rej_logged_at < HT_REJECT_LOG_MS) {
        return;
    }

    total = 0;
    len = 0;
    line[0] = '\0';

    for (r = HT_REJECT_NONE + 1; r < HT_REJECT_MAX; r++) {
        if (c->rej_pending[r] == 0) {
            continue;
        }

        total += c->rej_pending[r];

        n = snprintf(line + len, sizeof(line) - len, " %s=%lld",
                     ht_reject_name(r), (long long) c->rej_pending[r]);

        if (n > 0 && (size_t) n < sizeof(line) - len) {
            len += n;
        }

        c->rej_pending[r] = 0;
    }

    if (total > 0) {
        ht_log_warn("refused %lld records:%s (latest: partition %d "
                    "offset %lld)", (long long) total, line,
                    (int) c->rej_partition, (long long) c->rej_offset);
    }

    c->rej_logged_at = now;
}


/* writes the batch; 0 when written (or nothing to write) */
static int
ht_flush(ht_consumer_t *c)
{
    int               rc;
    size_t            n;
    int32_t           i, lost;
    int64_t           refused;
    ht_part_t        *p;
    ht_reject_e       r;
    ht_offset_cas_t  *cas;

    cas = malloc((c->nparts + 1) * sizeof(ht_offset_cas_t));
    if (cas == NULL) {
        ht_drop_batch(c, "out of memory");
        c->fatal = 1;
        return -1;
    }

    /* in partition order, the order every writer locks offsets rows in */
    for (n = 0, i = 0; i < c->nparts; i++) {
        p = &c->parts[i];

        if (p->batch_first < 0) {
            continue;
        }

        cas[n].partition = i;
        cas[n].lease_epoch = p->lease_epoch;
        cas[n].expected = p->db_next;
        cas[n].next_offset = p->batch_last + 1;
        n++;
    }

    ht_batch_sort(&c->batch);

    lost = -1;
    rc = c->store->ops->apply(c->store, c->o->topic, &c->batch, cas, n,
                              &lost);
    free(cas);

    if (rc == HT_STORE_LOST) {
        c->leases_lost++;
        ht_log_warn("%s: dropping the batch, rereading the offsets",
                    c->store->err);
        ht_drop_batch(c, NULL);
        c->need_resync = 1;
        c->retry_at = 0;
        return -1;
    }

    if (rc != HT_STORE_OK) {
        c->db_errors++;
        ht_log_error("writing a batch of %lld records: %s; retrying in "
                     "%lldms", (long long) c->batch.records, c->store->err,
                     (long long) c->backoff);
        ht_drop_batch(c, NULL);
        ht_fail(c);
        return -1;
    }

    refused = 0;

    for (r = HT_REJECT_NONE + 1; r < HT_REJECT_MAX; r++) {
        if (r != HT_REJECT_OFFSET_GAP) {
            refused += c->batch.rejected[r];
        }
    }

    c->batches++;
    c->rejected += refused;
    c->written += c->batch.records - refused;
    c->backoff = HT_BACKOFF_MIN_MS;

    for (i = 0; i < c->nparts; i++) {
        p = &c->parts[i];

        if (p->batch_first >= 0) {
            p->db_next = p->batch_last + 1;
            p->batch_first = -1;
            p->batch_last = -1;
        }
    }

    ht_commit_to_kafka(c);
    ht_batch_reset(&c->batch);

    return 0;
}


/* after a failure: resynchronize from the database after a backoff */
static void
ht_fail(ht_consumer_t *c)
{
    c->need_resync = 1;
    c->retry_at = ht_now_ms(CLOCK_MONOTONIC) + c->backoff;

    c->backoff *= 2;

    if (c->backoff > HT_BACKOFF_MAX_MS) {
        c->backoff = HT_BACKOFF_MAX_MS;
    }
}


/* forgets the batch; its partitions will be read again from rewind_to */
static void
ht_drop_batch(ht_consumer_t *c, const char *why)
{
    int32_t     i;
    ht_part_t  *p;

    if (why != NULL && c->batch.records > 0) {
        ht_log_info("dropping %lld unwritten records: %s",
                    (long long) c->batch.records, why);
    }

    for (i = 0; i < c->nparts; i++) {
        p = &c->parts[i];

        if (p->batch_first < 0) {
            continue;
        }

        if (p->rewind_to < 0 || p->batch_first < p->rewind_to) {
            p->rewind_to = p->batch_first;
        }

        p->batch_first = -1;
        p->batch_last = -1;
    }

    ht_batch_reset(&c->batch);
}


/*
 * Reads back the offsets of the partitions we hold and seeks each to the
 * database's next_offset (or, if it never wrote one, to the first record
 * we dropped).  A partition whose lease moved on is fenced and paused.
 */
static int
ht_resync(ht_consumer_t *c)
{
    int                                rc;
    size_t                             n, k;
    int32_t                            i;
    int64_t                            target;
    ht_part_t                         *p;
    ht_offset_t                       *offs;
    rd_kafka_error_t                  *error;
    rd_kafka_topic_partition_t        *tp;
    rd_kafka_topic_partition_list_t   *seek, *pause;

    offs = malloc((c->nparts + 1) * sizeof(ht_offset_t));
    if (offs == NULL) {
        return -1;
    }

    for (n = 0, i = 0; i < c->nparts; i++) {
        p = &c->parts[i];

        if (p->assigned && p->claimed && !p->fenced) {
            offs[n++].partition = i;
        }
    }

    if (n > 0
        && c->store->ops->read(c->store, c->o->topic, offs, n) != HT_STORE_OK)
    {
        ht_log_error("reading offsets: %s; retrying in %lldms",
                     c->store->err, (long long) c->backoff);
        free(offs);
        return -1;
    }

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

    free(offs);

    if (pause->cnt > 0) {
        rd_kafka_pause_partitions(c->rk, pause);
    }

    rd_kafka_topic_partition_list_destroy(pause);

    rc = 0;

    if (seek->cnt > 0) {
        error = rd_kafka_seek_partitions(c->rk, seek, HT_SEEK_TIMEOUT_MS);

        if (error != NULL) {
            ht_log_error("seeking back: %s", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
            rc = -1;
        }

        for (k = 0; rc == 0 && k < (size_t) seek->cnt; k++) {
            if (seek->elems[k].err) {
                ht_log_error("seeking partition %d: %s",
                             (int) seek->elems[k].partition,
                             rd_kafka_err2str(seek->elems[k].err));
                rc = -1;
            }
        }

        if (rc == 0) {
            for (k = 0; k < (size_t) seek->cnt; k++) {
                ht_log_info("partition %d: resuming at offset %lld",
                            (int) seek->elems[k].partition,
                            (long long) seek->elems[k].offset);
            }
        }
    }

    rd_kafka_topic_partition_list_destroy(seek);

    if (rc == 0) {
        for (i = 0; i < c->nparts; i++) {
            c->parts[i].rewind_to = -1;
        }
    }

    return rc;
}


/* for lag monitors only: the database holds the offsets that count */
static void
ht_commit_to_kafka(ht_consumer_t *c)
{
    int32_t                            i;
    ht_part_t                         *p;
    rd_kafka_topic_partition_t        *tp;
    rd_kafka_topic_partition_list_t   *list;

    list = rd_kafka_topic_partition_list_new(c->nparts + 1);

    for (i = 0; i < c->nparts; i++) {
        p = &c->parts[i];

        if (p->assigned && p->claimed && !p->fenced && p->db_next >= 0) {
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


static void
ht_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *partitions, void *opaque)
{
    int             cooperative;
    ht_consumer_t  *c = opaque;

    cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;

    switch (err) {

    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        ht_assign(c, partitions, cooperative);
        break;

    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        ht_revoke(c, partitions, cooperative);
        break;

    default:
        ht_log_error("rebalance: %s", rd_kafka_err2str(err));
        ht_revoke(c, partitions, cooperative);
        break;
    }
}


static void
ht_assign(ht_consumer_t *c, rd_kafka_topic_partition_list_t *partitions,
    int cooperative)
{
    int                          i, claimed;
    size_t                       n;
    int64_t                      backoff;
    ht_part_t                   *p;
    ht_offset_t                 *offs;
    rd_kafka_error_t            *error;
    rd_kafka_topic_partition_t  *tp;

    offs = calloc(partitions->cnt + 1, sizeof(ht_offset_t));

    for (n = 0, i = 0; offs != NULL && i < partitions->cnt; i++) {
        if (ht_part(c, partitions->elems[i].partition, 1) == NULL) {
            free(offs);
            offs = NULL;
            break;
        }

        offs[n++].partition = partitions->elems[i].partition;
    }

    if (offs == NULL) {
        ht_log_error("out of memory on assignment");
        c->fatal = 1;
        n = 0;
    }

    claimed = 0;
    backoff = HT_BACKOFF_MIN_MS;

    /* without a lease nothing can be written: wait for the database, but
     * give up on shutdown (the partitions then stay unclaimed and idle) */
    while (offs != NULL && ht_running) {
        if (c->store->ops->claim(c->store, c->o->topic, c->owner, offs, n)
            == HT_STORE_OK)
        {
            claimed = 1;
            break;
        }

        ht_log_error("claiming %zu partitions: %s; retrying in %lldms",
                     n, c->store->err, (long long) backoff);
        ht_sleep_ms(backoff);

        backoff = backoff * 2 > HT_BACKOFF_MAX_MS ? HT_BACKOFF_MAX_MS
                                                  : backoff * 2;
    }

    for (i = 0; i < partitions->cnt; i++) {
        tp = &partitions->elems[i];
        p = ht_part(c, tp->partition, 0);

        if (p == NULL) {
            continue;
        }

        p->assigned = 1;
        p->claimed = claimed;
        p->fenced = 0;
        p->batch_first = -1;
        p->batch_last = -1;
        p->rewind_to = -1;

        if (claimed) {
            p->lease_epoch = offs[i].lease_epoch;
            p->db_next = offs[i].next_offset;

            /* INVALID: Kafka's committed offset, else auto.offset.reset */
            tp->offset = p->db_next >= 0 ? p->db_next
                                         : RD_KAFKA_OFFSET_INVALID;

            if (p->db_next >= 0) {
                ht_log_info("partition %d: lease %lld, starting at offset "
                            "%lld", (int) tp->partition,
                            (long long) p->lease_epoch,
                            (long long) p->db_next);

            } else {
                ht_log_info("partition %d: lease %lld, new to the database, "
                            "starting at the committed offset or earliest",
                            (int) tp->partition, (long long) p->lease_epoch);
            }
        }
    }

    free(offs);

    c->ever_assigned = 1;
    c->last_activity = ht_now_ms(CLOCK_MONOTONIC);

    if (cooperative) {
        error = rd_kafka_incremental_assign(c->rk, partitions);

        if (error != NULL) {
            ht_log_error("incremental assign: %s",
                         rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }

    } else {
        rd_kafka_assign(c->rk, partitions);
    }

    /* a partition fenced and paused in an earlier generation */
    rd_kafka_resume_partitions(c->rk, partitions);
}


static void
ht_revoke(ht_consumer_t *c, rd_kafka_topic_partition_list_t *partitions,
    int cooperative)
{
    int                 i;
    ht_part_t          *p;
    rd_kafka_error_t   *error;

    if (c->batch.records > 0) {
        /* nothing of the batch is written yet: dropping it is exact, and
         * the partitions we keep are sought back to the database's
         * offsets by ht_resync() */
        ht_drop_batch(c, rd_kafka_assignment_lost(c->rk)
                         ? "assignment lost" : "partitions revoked");
        c->need_resync = 1;
        c->retry_at = 0;
    }

    for (i = 0; i < partitions->cnt; i++) {
        p = ht_part(c, partitions->elems[i].partition, 0);

        if (p == NULL) {
            continue;
        }

        p->assigned = 0;
        p->claimed = 0;
        p->fenced = 0;
        p->batch_first = -1;
        p->batch_last = -1;
        p->rewind_to = -1;
    }

    if (cooperative) {
        error = rd_kafka_incremental_unassign(c->rk, partitions);

        if (error != NULL) {
            ht_log_error("incremental unassign: %s",
                         rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }

    } else {
        rd_kafka_assign(c->rk, NULL);
    }
}


static int
ht_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    int32_t         i, assigned;
    int64_t         lag, rebalances;
    ht_consumer_t  *c = opaque;

    ht_stats_parse(json, c->o->topic, &lag, &rebalances);

    for (assigned = 0, i = 0; i < c->nparts; i++) {
        assigned += c->parts[i].assigned;
    }

    ht_log_info("stats: consumed=%lld counted=%lld refused=%lld "
                "batches=%lld db_errors=%lld leases_lost=%lld "
                "partitions=%d lag=%lld rebalances=%lld",
                (long long) c->consumed, (long long) c->written,
                (long long) c->rejected, (long long) c->batches,
                (long long) c->db_errors, (long long) c->leases_lost,
                (int) assigned, (long long) lag, (long long) rebalances);

    /* 0: librdkafka frees json */
    return 0;
}


static void
ht_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    ht_consumer_t  *c = opaque;

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        ht_log_error("kafka fatal error: %s", reason);
        c->fatal = 1;
        return;
    }

    ht_log_warn("kafka: %s: %s", rd_kafka_err2name(err), reason);
}


/* librdkafka's own log lines (another thread): syslog levels */
static void
ht_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
    ht_log(level <= 3 ? HT_LOG_ERROR : level == 4 ? HT_LOG_WARN
           : level <= 6 ? HT_LOG_INFO : HT_LOG_DEBUG,
           "librdkafka %s: %s", fac, buf);
}
