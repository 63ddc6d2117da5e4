/*
 * Choosing a storage backend from the -d argument.
 */

#include <stdio.h>
#include <string.h>

#include "ht_store.h"


static int ht_store_is_conninfo(const char *spec);


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


int
ht_store_check_bucket(ht_store_t *s, int64_t bucket_s, char *err,
    size_t errlen)
{
    int64_t  stored;

    if (s->ops->bucket(s, bucket_s, &stored) != HT_STORE_OK) {
        snprintf(err, errlen, "reading the bucket size: %s", s->err);
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
