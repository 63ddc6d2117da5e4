/*
 * What the backends share: choosing one from the -d argument, the order
 * of a batch's transaction, and the bucket size check.
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht_store.h"


static int ht_store_is_conninfo(const char *spec);
static void ht_store_test_stop(void);


void
ht_store_init_process(void)
{
    ht_store_sqlite_init_process();
}


ht_store_t *
ht_store_open(const char *spec, char *err, size_t errlen)
{
    const char  *path;

    path = ht_store_sqlite_path(spec);

    if (path == NULL) {
        return ht_store_pg_open(spec, err, errlen);
    }

    return ht_store_sqlite_open(path, err, errlen);
}


const char *
ht_store_sqlite_path(const char *spec)
{
    if (strncmp(spec, "postgresql://", 13) == 0
        || strncmp(spec, "postgres://", 11) == 0
        || ht_store_is_conninfo(spec))
    {
        return NULL;
    }

    if (strncmp(spec, "sqlite:", 7) == 0) {
        spec += 7;
    }

    return spec;
}


/*
 * HT_STORE_AGAIN from the upsert (a refused aggregate among several in a
 * statement) runs the transaction once more, one aggregate a statement:
 * rolled back, nothing of it stays, and the offsets are compared again.
 */
int
ht_store_apply(ht_store_t *s, const char *topic, const ht_batch_t *b,
    const ht_offset_cas_t *cas, size_t n, char *err, size_t errlen)
{
    int                    rc, each;
    int64_t                overflowed, count;
    ht_reject_e            r;
    const ht_store_ops_t  *ops = s->ops;

    for (each = 0; /* void */; each = 1) {
        if (ops->begin(s, err, errlen) != HT_STORE_OK) {
            return HT_STORE_ERROR;
        }

        rc = ops->cas(s, topic, cas, n, err, errlen);

        if (rc == HT_STORE_OK) {
            if (!each) {
                ht_store_test_stop();
            }

            rc = ops->upsert(s, b, each, &overflowed, err, errlen);
        }

        if (rc != HT_STORE_AGAIN || each) {
            break;
        }

        ops->rollback(s);
    }

    if (rc == HT_STORE_AGAIN) {
        snprintf(err, errlen, "upsert: refused aggregates not told apart");
        rc = HT_STORE_ERROR;
    }

    for (r = HT_REJECT_NONE + 1; rc == HT_STORE_OK && r < HT_REJECT_MAX; r++)
    {
        count = b->rejected[r];

        if (r == HT_REJECT_SUM_OVERFLOW) {
            count += overflowed;
        }

        if (count != 0) {
            rc = ops->add_rejected(s, ht_reject_name(r), count, err, errlen);
        }
    }

    if (rc == HT_STORE_OK) {
        rc = ops->commit(s, err, errlen);
    }

    if (rc != HT_STORE_OK) {
        ops->rollback(s);
    }

    return rc;
}


int
ht_store_check_bucket(ht_store_t *s, int64_t bucket_s, char *err,
    size_t errlen)
{
    char     msg[512];
    int64_t  stored;

    if (s->ops->bucket(s, bucket_s, &stored, msg, sizeof(msg))
        != HT_STORE_OK)
    {
        snprintf(err, errlen, "reading the bucket size: %s", msg);
        return HT_STORE_ERROR;
    }

    if (stored < HT_BUCKET_MIN || stored > HT_BUCKET_MAX
        || HT_BUCKET_MAX % stored != 0)
    {
        snprintf(err, errlen, "hotel_trends_meta: bucket_seconds %lld is "
                 "not a bucket size", (long long) stored);
        return HT_STORE_ERROR;
    }

    if (stored == bucket_s) {
        return HT_STORE_OK;
    }

    /* the rows are sums per bucket: buckets of two sizes overlap, and no
     * report could tell them apart afterwards */
    snprintf(err, errlen, "the database holds %lld-second buckets, this "
             "consumer makes %lld-second ones (--bucket, %d unless given): "
             "mixing bucket sizes would corrupt the aggregates; consume "
             "with --bucket %lld, or into another database",
             (long long) stored, (long long) bucket_s, HT_BUCKET_SECONDS,
             (long long) stored);

    return HT_STORE_MISMATCH;
}


/*
 * For the test of a member frozen inside a transaction (t/215): with
 * HOTEL_TRENDS_TEST_STOP_IN_BATCH=N in the environment, the Nth batch of
 * the process stops it (SIGSTOP) right after its offsets compare-and-set,
 * the offsets rows locked, until a SIGCONT.  Deterministic where a
 * signal sent from outside could land between two batches.
 */
static void
ht_store_test_stop(void)
{
    const char  *v;

    static long  batches, stop_at = -1;

    if (stop_at < 0) {
        v = getenv("HOTEL_TRENDS_TEST_STOP_IN_BATCH");
        stop_at = (v != NULL) ? strtol(v, NULL, 10) : 0;
    }

    if (stop_at > 0 && ++batches == stop_at) {
        raise(SIGSTOP);
    }
}


/* a libpq "keyword = value ..." string starts with a keyword and '=' */
static int
ht_store_is_conninfo(const char *spec)
{
    size_t  n;

    n = strspn(spec, "abcdefghijklmnopqrstuvwxyz_");
    if (n == 0) {
        return 0;
    }

    spec += n;
    spec += strspn(spec, " \t");

    return *spec == '=';
}
