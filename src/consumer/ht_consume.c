/*
 * The consumer loop of "hotel-trends consume": a driver over four steps,
 * open, one turn, idle and close.
 *
 * The database is the source of truth for where each partition stands:
 *
 *   - on assignment, one transaction claims the partitions (bumps each
 *     lease_epoch, records the owner) and reads next_offset; the
 *     partitions are assigned at those offsets (or at Kafka's committed
 *     offset / earliest when the database has never written them);
 *   - records are pre-aggregated in memory for up to --batch-size records
 *     or --batch-time milliseconds, then one transaction applies the
 *     aggregates, the rejected counts and, per partition, a
 *     compare-and-set of next_offset on (lease_epoch, previous
 *     next_offset);
 *   - when that transaction fails or a compare-and-set does not match, the
 *     batch is dropped (nothing of it was written), the offsets are read
 *     back from the database and the partitions are sought there: a record
 *     is either in a committed transaction with its offset, or read again.
 *
 * A partition whose lease was taken by another member is "fenced": its
 * records are dropped and it is paused until the group takes it away.
 * ht_consume_state.h says which file does what.
 */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht_consume.h"
#include "ht_consume_state.h"
#include "ht_log.h"


#define HT_POLL_MS          100
/* records taken per turn of the loop without waiting: the clocks, the
 * flush and the idle checks are per turn, not per record */
#define HT_POLL_BURST       1000
/* before the first assignment, --exit-idle waits at least this long: a
 * join waits for members that died to time out (session.timeout.ms, 45 s
 * by default) */
#define HT_JOIN_GRACE_MS    60000
/* a database that is not there yet: one line per window at most */
#define HT_DB_WAIT_LOG_MS   10000


static int ht_consume_open(ht_consumer_t *c, ht_consume_opts_t *o);
static void ht_consume_owner(char *owner, size_t size);
static int ht_consume_open_store(ht_consumer_t *c);
static int ht_consume_try_store(ht_consumer_t *c, char *err, size_t errlen);
static void ht_one_line(char *s);
static void ht_consume_turn(ht_consumer_t *c);
static void ht_consume_poll(ht_consumer_t *c);
static int ht_consume_idle(ht_consumer_t *c);
static int ht_consume_close(ht_consumer_t *c, int rc);


int
ht_consume_run(ht_consume_opts_t *o)
{
    int            rc;
    ht_consumer_t  c;

    rc = ht_consume_open(&c, o);

    while (rc == HT_EXIT_OK && !ht_consume_stopping() && !c.fatal) {
        ht_consume_turn(&c);

        if (ht_consume_idle(&c)) {
            break;
        }
    }

    return ht_consume_close(&c, rc);
}


/*
 * Everything the loop needs, in the order it can fail; whatever was
 * opened before a failure is closed by ht_consume_close().  Returns an
 * exit code, the failure logged.
 */
static int
ht_consume_open(ht_consumer_t *c, ht_consume_opts_t *o)
{
    int   rc;
    char  err[512];

    memset(c, 0, sizeof(ht_consumer_t));
    c->o = o;
    c->backoff = HT_BACKOFF_MIN_MS;

    ht_consume_metrics_start(c);

    ht_consume_owner(c->owner, sizeof(c->owner));

    /* from here on, SIGTERM ends the wait for the database too */
    ht_consume_catch_signals();

    if (ht_batch_init(&c->batch) != 0) {
        ht_log_error("out of memory");
        return HT_EXIT_FAILURE;
    }

    rc = ht_consume_open_store(c);

    if (rc != HT_EXIT_OK || ht_consume_stopping()) {
        return rc;
    }

    if (ht_consume_configure(c, err, sizeof(err)) != 0) {
        ht_log_error("%s", err);
        return HT_EXIT_FAILURE;
    }

    /* read from the conf, so before ht_consume_join() gives it away */
    if (o->dead_letter != NULL) {
        c->dlq = ht_deadletter_new(o->kconf, o->dead_letter, err,
                                   sizeof(err));
        if (c->dlq == NULL) {
            ht_log_error("dead-letter producer: %s", err);
            return HT_EXIT_FAILURE;
        }
    }

    if (ht_consume_join(c, err, sizeof(err)) != 0) {
        ht_log_error("%s", err);
        return HT_EXIT_FAILURE;
    }

    ht_log_info("consuming %s as %s into a %s database", o->topic, c->owner,
                c->store->ops->name);

    c->now = ht_now_ms(CLOCK_MONOTONIC);
    c->last_activity = c->now;

    return HT_EXIT_OK;
}


/* host:pid, the owner kafka_offsets names for a lease */
static void
ht_consume_owner(char *owner, size_t size)
{
    char  host[64];

    if (gethostname(host, sizeof(host)) != 0) {
        snprintf(host, sizeof(host), "unknown");
    }

    host[sizeof(host) - 1] = '\0';
    snprintf(owner, size, "%s:%d", host, (int) getpid());
}


/*
 * The database, before the group is joined: a member joins only once it
 * can store offsets, or it would hold partitions it cannot write.  A
 * PostgreSQL server that is not up yet (started after us, restarting) is
 * waited for, with a growing wait between tries and a log line a window;
 * SIGTERM ends the wait (exit 0, nothing joined).  A SQLite file that
 * cannot be opened is a mistake in the configuration, not an outage, and
 * so is a database of another bucket size, which must not get a single
 * row of ours: HT_EXIT_USAGE for both.
 */
static int
ht_consume_open_store(ht_consumer_t *c)
{
    int          rc;
    char         err[512];
    int64_t      backoff, tries, logged, now;
    const char  *path;

    path = ht_store_sqlite_path(c->o->db);
    backoff = HT_BACKOFF_MIN_MS;
    tries = 0;
    logged = 0;

    for ( ;; ) {
        rc = ht_consume_try_store(c, err, sizeof(err));

        if (rc == HT_STORE_OK) {
            if (tries > 0) {
                ht_log_info("the database is there after %lld tries",
                            (long long) tries + 1);
            }

            return HT_EXIT_OK;
        }

        if (rc == HT_STORE_MISMATCH) {
            ht_log_error("%s", err);
            return HT_EXIT_USAGE;
        }

        if (path != NULL) {
            ht_log_error("%s: a SQLite database that cannot be opened is "
                         "a configuration error (the path given with -d, "
                         "its directory, their permissions)", err);
            return HT_EXIT_USAGE;
        }

        tries++;
        now = ht_now_ms(CLOCK_MONOTONIC);
        ht_one_line(err);

        if (tries == 1 || now - logged >= HT_DB_WAIT_LOG_MS) {
            ht_log_error("the database is not available (%lld %s): %s; "
                         "not joining the group until it is, retrying "
                         "every %llds at most", (long long) tries,
                         tries == 1 ? "try" : "tries", err,
                         (long long) HT_BACKOFF_MAX_MS / 1000);
            logged = now;
        }

        ht_sleep_ms(backoff);
        backoff = ht_backoff_next(backoff);

        /* the metrics file says so meanwhile: no partition held */
        c->now = ht_now_ms(CLOCK_MONOTONIC);
        ht_consume_metrics_write(c, 0);

        if (ht_consume_stopping()) {
            ht_log_info("stopped while waiting for the database");
            return HT_EXIT_OK;
        }
    }
}


/* one try: opened, the bucket size checked, the session limits set; an
 * HT_STORE_* code, with nothing left open unless HT_STORE_OK */
static int
ht_consume_try_store(ht_consumer_t *c, char *err, size_t errlen)
{
    int  rc;

    c->store = ht_store_open(c->o->db, err, errlen);
    if (c->store == NULL) {
        return HT_STORE_ERROR;
    }

    rc = ht_store_check_bucket(c->store, c->o->bucket_s, err, errlen);

    if (rc == HT_STORE_OK) {
        rc = c->store->ops->limits(c->store, c->o->lock_timeout_ms,
                                   c->o->idle_txn_ms, err, errlen);
    }

    if (rc != HT_STORE_OK) {
        c->store->ops->close(c->store);
        c->store = NULL;
    }

    return rc;
}


/* one turn of the loop: a resync that is due, the records at hand, a
 * batch that is full or due, and what is to be logged or served */
static void
ht_consume_turn(ht_consumer_t *c)
{
    if (c->need_resync && c->now >= c->retry_at) {
        ht_consume_resync(c);
    }

    ht_consume_poll(c);

    if (c->batch.records > 0
        && (c->batch.records >= c->o->batch_size
            || c->now >= c->batch_deadline))
    {
        ht_consume_flush(c);
    }

    ht_consume_log_rejected(c, 0);
    ht_consume_metrics_write(c, 0);

    if (c->dlq != NULL) {
        ht_deadletter_poll(c->dlq);
    }
}


/*
 * Waits for a record (HT_POLL_MS at most, less when the batch is due
 * sooner), then takes those already fetched, without waiting.  Each poll
 * may run the rebalance callback: a batch that reaches its size, or a
 * resync to do, ends the turn.  The clock is read once per turn: at a few
 * hundred thousand records a second, clock_gettime() shows in a profile.
 */
static void
ht_consume_poll(ht_consumer_t *c)
{
    int                  n;
    int64_t              timeout, wall_ms;
    rd_kafka_message_t  *m;

    timeout = HT_POLL_MS;

    if (c->batch.records > 0 && c->batch_deadline - c->now < timeout) {
        timeout = c->batch_deadline > c->now ? c->batch_deadline - c->now
                                             : 0;
    }

    m = rd_kafka_consumer_poll(c->rk, (int) timeout);

    c->now = ht_now_ms(CLOCK_MONOTONIC);

    if (m == NULL) {
        return;
    }

    wall_ms = ht_now_ms(CLOCK_REALTIME);

    for (n = 1; /* void */; n++) {
        ht_consume_record(c, m, wall_ms);
        rd_kafka_message_destroy(m);

        if (n == HT_POLL_BURST || c->fatal || c->need_resync
            || c->batch.records >= c->o->batch_size)
        {
            return;
        }

        m = rd_kafka_consumer_poll(c->rk, 0);

        if (m == NULL) {
            return;
        }
    }
}


/*
 * --exit-idle: 1 when the loop should end.  Idle means the partitions we
 * hold have nothing more: while we hold none (the session was lost to a
 * broker outage, a rebalance is under way) the clock waits for them to
 * come back.  Before the first assignment the wait is HT_JOIN_GRACE_MS at
 * least, and its end is a failure: not an empty topic, a group never
 * joined.
 */
static int
ht_consume_idle(ht_consumer_t *c)
{
    int64_t  idle_ms, waited;

    if (c->ever_assigned && ht_consume_parts_held(c) == 0) {
        c->last_activity = c->now;
    }

    if (c->o->exit_idle_s <= 0 || c->batch.records > 0 || c->need_resync) {
        return 0;
    }

    idle_ms = c->o->exit_idle_s * 1000;

    if (!c->ever_assigned && idle_ms < HT_JOIN_GRACE_MS) {
        idle_ms = HT_JOIN_GRACE_MS;
    }

    waited = c->now - c->last_activity;

    if (waited < idle_ms) {
        return 0;
    }

    if (!c->ever_assigned) {
        ht_log_error("never joined the consumer group in %llds: are the "
                     "brokers reachable, and the security settings right "
                     "(see the errors above)?", (long long) waited / 1000);
        c->fatal = 1;
        return 1;
    }

    ht_log_info("idle for %llds, exiting", (long long) waited / 1000);

    return 1;
}


/*
 * The one teardown, from wherever ht_consume_open() got to; returns the
 * exit code.  A signal stops the batch early: its records are written
 * once, or (if that fails) read again by whoever owns the partitions
 * next.
 */
static int
ht_consume_close(ht_consumer_t *c, int rc)
{
    char          err[512];
    ht_totals_t  *t = &c->totals;

    if (c->subscribed) {
        if (c->batch.records > 0 && !c->need_resync && !c->fatal) {
            ht_consume_flush(c);
        }

        c->now = ht_now_ms(CLOCK_MONOTONIC);
        ht_consume_log_rejected(c, 1);

        ht_log_info("closing: %lld records consumed, %lld counted, "
                    "%lld rejected, %lld batches", (long long) t->consumed,
                    (long long) t->counted, (long long) t->rejected,
                    (long long) t->batches);

        /* the last figures, while the partitions are still held */
        ht_consume_metrics_write(c, 1);
    }

    /* runs the final revoke through the rebalance callback */
    ht_consume_leave(c);

    if (c->dlq != NULL && ht_deadletter_close(c->dlq, err, sizeof(err)) != 0)
    {
        ht_log_error("%s", err);
    }

    if (c->store != NULL) {
        c->store->ops->close(c->store);
    }

    ht_batch_free(&c->batch);
    ht_consume_metrics_free(c);
    free(c->parts);

    if (rc == HT_EXIT_OK && c->fatal) {
        rc = HT_EXIT_FAILURE;
    }

    return rc;
}


int64_t
ht_now_ms(clockid_t clock)
{
    struct timespec  ts;

    clock_gettime(clock, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* libpq's messages span lines: one log line each */
static void
ht_one_line(char *s)
{
    char  *p;

    for (p = s; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\t') {
            *p = ' ';
        }
    }

    while (p > s && p[-1] == ' ') {
        *--p = '\0';
    }
}


void
ht_sleep_ms(int64_t ms)
{
    struct timespec  ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000;

    /* a signal cuts the sleep short, which is what shutdown wants */
    nanosleep(&ts, NULL);
}


/* the wait after the next failure */
int64_t
ht_backoff_next(int64_t ms)
{
    return ms * 2 > HT_BACKOFF_MAX_MS ? HT_BACKOFF_MAX_MS : ms * 2;
}
