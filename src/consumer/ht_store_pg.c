/*
 * The PostgreSQL backend of ht_store.h (libpq).
 *
 * Several members of the consumer group may write at once, so every
 * writer touches rows in the same order: the batch arrives sorted by key
 * and the offsets rows are updated in partition order, which keeps two
 * transactions from waiting on each other's locks.  A batch's aggregates
 * go in as one INSERT ... SELECT FROM unnest(arrays) ON CONFLICT: one
 * round trip per batch, and pre-aggregation guarantees that no key
 * appears twice in it (PostgreSQL refuses that).
 *
 * The offsets compare-and-set runs under READ COMMITTED: a concurrent
 * claim of the same partition holds the row lock, and our UPDATE then
 * re-checks lease_epoch against the claimed row, so it fails as it must.
 *
 * A broken connection is reset before the next transaction; the consumer
 * retries, and the offsets in the database tell it where to start again.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "ht_store.h"


typedef struct {
    ht_store_t   store;         /* first: a ht_store_t * is a ht_pg_t * */
    PGconn      *conn;
    int64_t      lock_ms;       /* the session limits, set again after */
    int64_t      idle_ms;       /* a reconnection; 0: the server's */
} ht_pg_t;


/* a growing string, for array literals; its owner frees buf with free() */
typedef struct {
    char    *buf;
    size_t   len;
    size_t   cap;
    int      oom;
} ht_str_t;


/* the seven columns of hotel_rate_hourly, as array literals for unnest() */
#define HT_PG_COLUMNS  7


static int ht_pg_claim(ht_store_t *s, const char *topic, const char *owner,
    ht_offset_t *parts, size_t n, char *err, size_t errlen);
static int ht_pg_read(ht_store_t *s, const char *topic, ht_offset_t *parts,
    size_t n, char *err, size_t errlen);
static int ht_pg_begin(ht_store_t *s, char *err, size_t errlen);
static int ht_pg_cas(ht_store_t *s, const char *topic,
    const ht_offset_cas_t *cas, size_t n, char *err, size_t errlen);
static int ht_pg_upsert(ht_store_t *s, const ht_batch_t *b, int each,
    int64_t *overflowed, char *err, size_t errlen);
static void ht_pg_agg_arrays(const ht_batch_t *b, ht_str_t *arr);
static int ht_pg_add_rejected(ht_store_t *s, const char *reason,
    int64_t count, char *err, size_t errlen);
static int ht_pg_commit(ht_store_t *s, char *err, size_t errlen);
static void ht_pg_rollback(ht_store_t *s);
static int ht_pg_scan(ht_store_t *s, const ht_filter_t *f, ht_row_cb cb,
    void *ctx, char *err, size_t errlen);
static int ht_pg_rejected(ht_store_t *s, ht_rejected_cb cb, void *ctx,
    char *err, size_t errlen);
static int ht_pg_bucket(ht_store_t *s, int64_t want, int64_t *stored,
    char *err, size_t errlen);
static int ht_pg_limits(ht_store_t *s, int64_t lock_ms, int64_t idle_ms,
    char *err, size_t errlen);
static int ht_pg_set_limits(ht_pg_t *p, char *err, size_t errlen);
static void ht_pg_close(ht_store_t *s);
static int ht_pg_ready(ht_pg_t *p, char *err, size_t errlen);
static int ht_pg_command(ht_pg_t *p, const char *sql, int nparams,
    const char *const *params, int64_t *affected, char *err, size_t errlen);
static PGresult *ht_pg_query(ht_pg_t *p, const char *sql, int nparams,
    const char *const *params, char *err, size_t errlen);
static void ht_str_add(ht_str_t *s, const char *data, size_t len);
static void ht_str_text_elem(ht_str_t *s, const char *text, size_t len);
static void ht_str_int_elem(ht_str_t *s, int64_t v);


static const ht_store_ops_t  ht_pg_ops = {
    "postgresql",
    ht_pg_claim,
    ht_pg_read,
    ht_pg_begin,
    ht_pg_cas,
    ht_pg_upsert,
    ht_pg_add_rejected,
    ht_pg_commit,
    ht_pg_rollback,
    ht_pg_scan,
    ht_pg_rejected,
    ht_pg_bucket,
    ht_pg_limits,
    ht_pg_close
};


/*
 * CREATE TABLE IF NOT EXISTS is not safe against itself: two members
 * starting together on an empty database both find no table, and the
 * second one fails on pg_type's unique index ("duplicate key value").
 * The string runs as one implicit transaction, so a transaction-level
 * advisory lock taken first makes the members create the schema one
 * after the other.
 */
static const char  ht_pg_schema[] =
    "SELECT pg_advisory_xact_lock(hashtext('hotel-trends schema'));"
    "CREATE TABLE IF NOT EXISTS hotel_rate_hourly ("
    " hotel_id text NOT NULL,"
    " currency text NOT NULL,"
    " bucket_start bigint NOT NULL,"
    " count bigint NOT NULL,"
    " sum_micros bigint NOT NULL,"
    " min_micros bigint NOT NULL,"
    " max_micros bigint NOT NULL,"
    " PRIMARY KEY (hotel_id, currency, bucket_start))"
    " WITH (fillfactor = 50);"
    "CREATE TABLE IF NOT EXISTS kafka_offsets ("
    " topic text NOT NULL,"
    " partition integer NOT NULL,"
    " next_offset bigint NOT NULL,"
    " lease_epoch bigint NOT NULL,"
    " owner text NOT NULL,"
    " PRIMARY KEY (topic, partition));"
    "CREATE TABLE IF NOT EXISTS rejected_records ("
    " reason text PRIMARY KEY,"
    " count bigint NOT NULL);"
    "CREATE TABLE IF NOT EXISTS hotel_trends_meta ("
    " name text PRIMARY KEY,"
    " value text NOT NULL);";


/*
 * The upsert returns how many records it could not add because a
 * bucket's sum would overflow bigint (those rows are left unchanged).
 *
 * Every batch updates the same rows again: with pages left half empty
 * (fillfactor 50 above) an update stays on its page (a HOT update, no new
 * index entry) and the dead versions are pruned as it goes; full pages
 * made every update a new index entry, and a batch twice as slow.  The
 * overflow test is in bigint, not numeric, and the anti-join that finds
 * the rejected keys (two sorts of the whole batch) only runs when fewer
 * rows were written than given.
 */
static const char  ht_pg_upsert_sql[] =
    "WITH input AS ("
    " SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[],"
    " $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])"
    " AS u(hotel_id, currency, bucket_start, count, sum_micros,"
    " min_micros, max_micros)"
    "), up AS ("
    " INSERT INTO hotel_rate_hourly AS t (hotel_id, currency, bucket_start,"
    " count, sum_micros, min_micros, max_micros)"
    " SELECT * FROM input"
    " ON CONFLICT (hotel_id, currency, bucket_start) DO UPDATE SET"
    " count = t.count + excluded.count,"
    " sum_micros = t.sum_micros + excluded.sum_micros,"
    " min_micros = least(t.min_micros, excluded.min_micros),"
    " max_micros = greatest(t.max_micros, excluded.max_micros)"
    " WHERE CASE WHEN excluded.sum_micros >= 0"
    " THEN t.sum_micros <= 9223372036854775807 - excluded.sum_micros"
    " ELSE t.sum_micros >= -9223372036854775808 - excluded.sum_micros END"
    " RETURNING hotel_id, currency, bucket_start"
    ")"
    " SELECT CASE WHEN (SELECT count(*) FROM up) = (SELECT count(*) FROM input)"
    " THEN 0 ELSE"
    " (SELECT coalesce(sum(i.count), 0)::bigint FROM input i"
    " WHERE NOT EXISTS (SELECT 1 FROM up WHERE up.hotel_id = i.hotel_id"
    " AND up.currency = i.currency AND up.bucket_start = i.bucket_start))"
    " END";


ht_store_t *
ht_store_pg_open(const char *conninfo, char *err, size_t errlen)
{
    ht_pg_t   *p;
    PGresult  *res;

    p = calloc(1, sizeof(ht_pg_t));
    if (p == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    p->store.ops = &ht_pg_ops;
    p->conn = PQconnectdb(conninfo);

    if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK) {
        snprintf(err, errlen, "postgresql: %s",
                 p->conn ? PQerrorMessage(p->conn) : "out of memory");
        ht_pg_close(&p->store);
        return NULL;
    }

    /* our own messages say what failed; NOTICEs ("already exists") would
     * only be noise on stderr */
    res = PQexec(p->conn, "SET client_min_messages = warning");
    PQclear(res);

    res = PQexec(p->conn, ht_pg_schema);

    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        snprintf(err, errlen, "postgresql: creating the schema: %s",
                 PQerrorMessage(p->conn));
        PQclear(res);
        ht_pg_close(&p->store);
        return NULL;
    }

    PQclear(res);

    return &p->store;
}


static int
ht_pg_limits(ht_store_t *s, int64_t lock_ms, int64_t idle_ms, char *err,
    size_t errlen)
{
    ht_pg_t  *p = (ht_pg_t *) s;

    p->lock_ms = lock_ms;
    p->idle_ms = idle_ms;

    if (ht_pg_ready(p, err, errlen) != HT_STORE_OK) {
        return HT_STORE_ERROR;
    }

    return ht_pg_set_limits(p, err, errlen);
}


/*
 * SET, not SET LOCAL: for the session, so for every transaction of it.
 * An idle-in-transaction timeout ends the session of a member frozen
 * between two statements of a batch, and with it the batch and its row
 * locks; when the member wakes, its commit finds the connection gone, and
 * the lease it reads back on reconnecting is its successor's.
 */
static int
ht_pg_set_limits(ht_pg_t *p, char *err, size_t errlen)
{
    int        n;
    char       sql[160];
    PGresult  *res;

    n = 0;
    sql[0] = '\0';

    if (p->lock_ms > 0) {
        n += snprintf(sql + n, sizeof(sql) - n, "SET lock_timeout = %lld;",
                      (long long) p->lock_ms);
    }

    if (p->idle_ms > 0) {
        n += snprintf(sql + n, sizeof(sql) - n,
                      "SET idle_in_transaction_session_timeout = %lld;",
                      (long long) p->idle_ms);
    }

    if (n == 0) {
        return HT_STORE_OK;
    }

    /* two statements: the simple protocol, not PQexecParams() */
    res = PQexec(p->conn, sql);

    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        snprintf(err, errlen, "setting the session's timeouts: %s",
                 PQerrorMessage(p->conn));
        PQclear(res);
        return HT_STORE_ERROR;
    }

    PQclear(res);

    return HT_STORE_OK;
}


static void
ht_pg_close(ht_store_t *s)
{
    ht_pg_t  *p = (ht_pg_t *) s;

    if (p->conn != NULL) {
        PQfinish(p->conn);
    }

    free(p);
}


static int
ht_pg_claim(ht_store_t *s, const char *topic, const char *owner,
    ht_offset_t *parts, size_t n, char *err, size_t errlen)
{
    char         part[16];
    size_t       i;
    ht_pg_t     *p = (ht_pg_t *) s;
    PGresult    *res;
    const char  *params[3];

    if (ht_pg_begin(s, err, errlen) != HT_STORE_OK) {
        return HT_STORE_ERROR;
    }

    for (i = 0; i < n; i++) {
        snprintf(part, sizeof(part), "%d", (int) parts[i].partition);

        params[0] = topic;
        params[1] = part;
        params[2] = owner;

        res = ht_pg_query(p,
            "INSERT INTO kafka_offsets"
            " (topic, partition, next_offset, lease_epoch, owner)"
            " VALUES ($1, $2, -1, 1, $3)"
            " ON CONFLICT (topic, partition) DO UPDATE SET"
            " lease_epoch = kafka_offsets.lease_epoch + 1,"
            " owner = excluded.owner"
            " RETURNING next_offset, lease_epoch", 3, params, err, errlen);

        if (res == NULL) {
            goto failed;
        }

        parts[i].next_offset = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        parts[i].lease_epoch = strtoll(PQgetvalue(res, 0, 1), NULL, 10);

        PQclear(res);
    }

    if (ht_pg_commit(s, err, errlen) != HT_STORE_OK) {
        goto failed;
    }

    return HT_STORE_OK;

failed:

    ht_pg_rollback(s);

    return HT_STORE_ERROR;
}


static int
ht_pg_read(ht_store_t *s, const char *topic, ht_offset_t *parts, size_t n,
    char *err, size_t errlen)
{
    char         part[16];
    size_t       i;
    ht_pg_t     *p = (ht_pg_t *) s;
    PGresult    *res;
    const char  *params[2];

    if (ht_pg_ready(p, err, errlen) != HT_STORE_OK) {
        return HT_STORE_ERROR;
    }

    for (i = 0; i < n; i++) {
        snprintf(part, sizeof(part), "%d", (int) parts[i].partition);

        params[0] = topic;
        params[1] = part;

        res = ht_pg_query(p, "SELECT next_offset, lease_epoch"
                          " FROM kafka_offsets"
                          " WHERE topic = $1 AND partition = $2", 2, params,
                          err, errlen);
        if (res == NULL) {
            return HT_STORE_ERROR;
        }

        if (PQntuples(res) == 1) {
            parts[i].next_offset = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
            parts[i].lease_epoch = strtoll(PQgetvalue(res, 0, 1), NULL, 10);

        } else {
            parts[i].next_offset = -1;
            parts[i].lease_epoch = 0;
        }

        PQclear(res);
    }

    return HT_STORE_OK;
}


static int
ht_pg_begin(ht_store_t *s, char *err, size_t errlen)
{
    ht_pg_t  *p = (ht_pg_t *) s;

    if (ht_pg_ready(p, err, errlen) != HT_STORE_OK) {
        return HT_STORE_ERROR;
    }

    return ht_pg_command(p, "BEGIN", 0, NULL, NULL, err, errlen);
}


static int
ht_pg_commit(ht_store_t *s, char *err, size_t errlen)
{
    return ht_pg_command((ht_pg_t *) s, "COMMIT", 0, NULL, NULL, err, errlen);
}


/* the compare-and-set of each partition's next_offset, in the order the
 * batch gives them: partition order, see the top of the file */
static int
ht_pg_cas(ht_store_t *s, const char *topic, const ht_offset_cas_t *cas,
    size_t n, char *err, size_t errlen)
{
    char         next[24], part[16], epoch[24], expected[24];
    size_t       i;
    int64_t      affected;
    ht_pg_t     *p = (ht_pg_t *) s;
    const char  *params[5];

    params[0] = next;
    params[1] = topic;
    params[2] = part;
    params[3] = epoch;
    params[4] = expected;

    for (i = 0; i < n; i++) {
        snprintf(next, sizeof(next), "%" PRId64, cas[i].next_offset);
        snprintf(part, sizeof(part), "%d", (int) cas[i].partition);
        snprintf(epoch, sizeof(epoch), "%" PRId64, cas[i].lease_epoch);
        snprintf(expected, sizeof(expected), "%" PRId64, cas[i].expected);

        if (ht_pg_command(p, "UPDATE kafka_offsets SET next_offset = $1"
                          " WHERE topic = $2 AND partition = $3"
                          " AND lease_epoch = $4 AND next_offset = $5",
                          5, params, &affected, err, errlen) != HT_STORE_OK)
        {
            return HT_STORE_ERROR;
        }

        if (affected != 1) {
            snprintf(err, errlen, "partition %d: lease %" PRId64
                     " or offset %" PRId64 " no longer current",
                     (int) cas[i].partition, cas[i].lease_epoch,
                     cas[i].expected);
            return HT_STORE_LOST;
        }
    }

    return HT_STORE_OK;
}


/* the aggregates in one statement, which says which it refused (each
 * changes nothing); *overflowed: see ht_pg_upsert_sql */
static int
ht_pg_upsert(ht_store_t *s, const ht_batch_t *b, int each,
    int64_t *overflowed, char *err, size_t errlen)
{
    int          k, rc;
    ht_pg_t     *p = (ht_pg_t *) s;
    ht_str_t     arr[HT_PG_COLUMNS];
    PGresult    *res;
    const char  *params[HT_PG_COLUMNS];

    *overflowed = 0;

    if (b->naggs == 0) {
        return HT_STORE_OK;
    }

    memset(arr, 0, sizeof(arr));
    ht_pg_agg_arrays(b, arr);

    rc = HT_STORE_OK;

    for (k = 0; k < HT_PG_COLUMNS; k++) {
        if (arr[k].oom) {
            snprintf(err, errlen, "out of memory");
            rc = HT_STORE_ERROR;
        }

        params[k] = arr[k].buf;
    }

    if (rc == HT_STORE_OK) {
        res = ht_pg_query(p, ht_pg_upsert_sql, HT_PG_COLUMNS, params, err,
                          errlen);

        if (res == NULL) {
            rc = HT_STORE_ERROR;

        } else {
            *overflowed = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
            PQclear(res);
        }
    }

    for (k = 0; k < HT_PG_COLUMNS; k++) {
        free(arr[k].buf);
    }

    return rc;
}


/* one array literal per column, "{...}" with its NUL; the caller frees
 * each arr[k].buf, and checks arr[k].oom */
static void
ht_pg_agg_arrays(const ht_batch_t *b, ht_str_t *arr)
{
    int              k;
    size_t           i;
    const ht_agg_t  *a;

    for (k = 0; k < HT_PG_COLUMNS; k++) {
        ht_str_add(&arr[k], "{", 1);
    }

    for (i = 0; i < b->naggs; i++) {
        a = &b->aggs[i];

        if (i > 0) {
            for (k = 0; k < HT_PG_COLUMNS; k++) {
                ht_str_add(&arr[k], ",", 1);
            }
        }

        ht_str_text_elem(&arr[0], a->hotel_id, a->id_len);
        ht_str_text_elem(&arr[1], a->currency, 3);
        ht_str_int_elem(&arr[2], a->bucket_start);
        ht_str_int_elem(&arr[3], a->count);
        ht_str_int_elem(&arr[4], a->sum_micros);
        ht_str_int_elem(&arr[5], a->min_micros);
        ht_str_int_elem(&arr[6], a->max_micros);
    }

    for (k = 0; k < HT_PG_COLUMNS; k++) {
        ht_str_add(&arr[k], "}", 2);     /* with the NUL */
    }
}


static int
ht_pg_add_rejected(ht_store_t *s, const char *reason, int64_t count,
    char *err, size_t errlen)
{
    char         total[24];
    const char  *params[2];

    snprintf(total, sizeof(total), "%" PRId64, count);

    params[0] = reason;
    params[1] = total;

    return ht_pg_command((ht_pg_t *) s,
                         "INSERT INTO rejected_records (reason, count)"
                         " VALUES ($1, $2) ON CONFLICT (reason) DO UPDATE"
                         " SET count = rejected_records.count"
                         " + excluded.count", 2, params, NULL, err, errlen);
}


static int
ht_pg_scan(ht_store_t *s, const ht_filter_t *f, ht_row_cb cb, void *ctx,
    char *err, size_t errlen)
{
    int          rc, i, nrows;
    char         since[24], until[24];
    size_t       h;
    ht_pg_t     *p = (ht_pg_t *) s;
    ht_row_t     row;
    ht_str_t     hotels;
    PGresult    *res;
    const char  *params[4];

    if (ht_pg_ready(p, err, errlen) != HT_STORE_OK) {
        return HT_STORE_ERROR;
    }

    memset(&hotels, 0, sizeof(hotels));

    if (f->nhotels > 0) {
        ht_str_add(&hotels, "{", 1);

        for (h = 0; h < f->nhotels; h++) {
            if (h > 0) {
                ht_str_add(&hotels, ",", 1);
            }

            ht_str_text_elem(&hotels, f->hotels[h], strlen(f->hotels[h]));
        }

        ht_str_add(&hotels, "}", 2);

        if (hotels.oom) {
            free(hotels.buf);
            snprintf(err, errlen, "out of memory");
            return HT_STORE_ERROR;
        }
    }

    snprintf(since, sizeof(since), "%" PRId64, f->since);
    snprintf(until, sizeof(until), "%" PRId64, f->until);

    params[0] = since;
    params[1] = until;
    params[2] = f->currency;
    params[3] = hotels.buf;

    /* byte order, like SQLite, so that both backends report alike */
    res = ht_pg_query(p,
        "SELECT hotel_id, currency, bucket_start, count, sum_micros,"
        " min_micros, max_micros FROM hotel_rate_hourly"
        " WHERE bucket_start >= $1 AND bucket_start < $2"
        " AND ($3::text IS NULL OR currency = $3)"
        " AND ($4::text[] IS NULL OR hotel_id = ANY ($4))"
        " ORDER BY hotel_id COLLATE \"C\", currency, bucket_start",
        4, params, err, errlen);

    free(hotels.buf);

    if (res == NULL) {
        return HT_STORE_ERROR;
    }

    nrows = PQntuples(res);
    rc = HT_STORE_OK;

    for (i = 0; i < nrows && rc == HT_STORE_OK; i++) {
        row.hotel_id = PQgetvalue(res, i, 0);
        row.currency = PQgetvalue(res, i, 1);
        row.bucket_start = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        row.count = strtoll(PQgetvalue(res, i, 3), NULL, 10);
        row.sum_micros = strtoll(PQgetvalue(res, i, 4), NULL, 10);
        row.min_micros = strtoll(PQgetvalue(res, i, 5), NULL, 10);
        row.max_micros = strtoll(PQgetvalue(res, i, 6), NULL, 10);

        if (cb(&row, ctx, err, errlen) != 0) {
            rc = HT_STORE_ERROR;
        }
    }

    PQclear(res);

    return rc;
}


static int
ht_pg_rejected(ht_store_t *s, ht_rejected_cb cb, void *ctx, char *err,
    size_t errlen)
{
    int        i;
    ht_pg_t   *p = (ht_pg_t *) s;
    PGresult  *res;

    if (ht_pg_ready(p, err, errlen) != HT_STORE_OK) {
        return HT_STORE_ERROR;
    }

    res = ht_pg_query(p, "SELECT reason, count FROM rejected_records"
                      " ORDER BY reason COLLATE \"C\"", 0, NULL, err, errlen);
    if (res == NULL) {
        return HT_STORE_ERROR;
    }

    for (i = 0; i < PQntuples(res); i++) {
        cb(PQgetvalue(res, i, 0), strtoll(PQgetvalue(res, i, 1), NULL, 10),
           ctx);
    }

    PQclear(res);

    return HT_STORE_OK;
}


/*
 * As in SQLite: rows written before the size was recorded are hourly.
 * Two members inserting at once: the second waits on the first's key,
 * then does nothing, and (READ COMMITTED) its SELECT sees the first's
 * row, so both compare against the same size.
 */
static int
ht_pg_bucket(ht_store_t *s, int64_t want, int64_t *stored, char *err,
    size_t errlen)
{
    char         num[24];
    ht_pg_t     *p = (ht_pg_t *) s;
    PGresult    *res;
    const char  *params[1];

    if (ht_pg_ready(p, err, errlen) != HT_STORE_OK) {
        return HT_STORE_ERROR;
    }

    if (want > 0) {
        snprintf(num, sizeof(num), "%" PRId64, want);
        params[0] = num;

        if (ht_pg_command(p, "BEGIN", 0, NULL, NULL, err, errlen)
            != HT_STORE_OK
            || ht_pg_command(p, "INSERT INTO hotel_trends_meta (name, value)"
                             " SELECT 'bucket_seconds', CASE WHEN EXISTS"
                             " (SELECT 1 FROM hotel_rate_hourly)"
                             " THEN '3600' ELSE $1::text END"
                             " ON CONFLICT (name) DO NOTHING",
                             1, params, NULL, err, errlen) != HT_STORE_OK)
        {
            goto failed;
        }
    }

    res = ht_pg_query(p, "SELECT coalesce((SELECT value FROM hotel_trends_meta"
                      " WHERE name = 'bucket_seconds'), CASE WHEN EXISTS"
                      " (SELECT 1 FROM hotel_rate_hourly) THEN '3600'"
                      " ELSE '0' END)", 0, NULL, err, errlen);
    if (res == NULL) {
        goto failed;
    }

    *stored = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);

    if (want > 0
        && ht_pg_command(p, "COMMIT", 0, NULL, NULL, err, errlen)
           != HT_STORE_OK)
    {
        goto failed;
    }

    return HT_STORE_OK;

failed:

    if (want > 0) {
        ht_pg_rollback(s);
    }

    return HT_STORE_ERROR;
}


/* reconnects a broken connection; HT_STORE_OK when it is usable */
static int
ht_pg_ready(ht_pg_t *p, char *err, size_t errlen)
{
    if (PQstatus(p->conn) == CONNECTION_OK) {
        return HT_STORE_OK;
    }

    PQreset(p->conn);

    if (PQstatus(p->conn) != CONNECTION_OK) {
        snprintf(err, errlen, "reconnecting: %s", PQerrorMessage(p->conn));
        return HT_STORE_ERROR;
    }

    /* a new session: without its limits again */
    return ht_pg_set_limits(p, err, errlen);
}


/* runs a statement that returns no rows; *affected gets PQcmdTuples */
static int
ht_pg_command(ht_pg_t *p, const char *sql, int nparams,
    const char *const *params, int64_t *affected, char *err, size_t errlen)
{
    PGresult  *res;

    res = PQexecParams(p->conn, sql, nparams, NULL, params, NULL, NULL, 0);

    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        snprintf(err, errlen, "%.40s: %s", sql, PQerrorMessage(p->conn));
        PQclear(res);
        return HT_STORE_ERROR;
    }

    if (affected != NULL) {
        *affected = strtoll(PQcmdTuples(res), NULL, 10);
    }

    PQclear(res);

    return HT_STORE_OK;
}


/* runs a query; the result is the caller's to PQclear(), NULL on error */
static PGresult *
ht_pg_query(ht_pg_t *p, const char *sql, int nparams,
    const char *const *params, char *err, size_t errlen)
{
    PGresult  *res;

    res = PQexecParams(p->conn, sql, nparams, NULL, params, NULL, NULL, 0);

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%.40s: %s", sql, PQerrorMessage(p->conn));
        PQclear(res);
        return NULL;
    }

    return res;
}


/* after a failure; the failure that led here is the one reported */
static void
ht_pg_rollback(ht_store_t *s)
{
    ht_pg_t   *p = (ht_pg_t *) s;
    PGresult  *res;

    if (PQstatus(p->conn) != CONNECTION_OK) {
        return;
    }

    res = PQexec(p->conn, "ROLLBACK");
    PQclear(res);
}


static void
ht_str_add(ht_str_t *s, const char *data, size_t len)
{
    char    *buf;
    size_t   cap;

    if (s->oom) {
        return;
    }

    if (s->len + len > s->cap) {
        cap = s->cap ? s->cap : 256;

        while (cap < s->len + len) {
            cap *= 2;
        }

        buf = realloc(s->buf, cap);
        if (buf == NULL) {
            s->oom = 1;
            return;
        }

        s->buf = buf;
        s->cap = cap;
    }

    memcpy(s->buf + s->len, data, len);
    s->len += len;
}


/* an array element in double quotes, backslash before '"' and '\' */
static void
ht_str_text_elem(ht_str_t *s, const char *text, size_t len)
{
    size_t  i, start;

    ht_str_add(s, "\"", 1);

    for (start = 0, i = 0; i < len; i++) {
        if (text[i] == '"' || text[i] == '\\') {
            ht_str_add(s, text + start, i - start);
            ht_str_add(s, "\\", 1);
            start = i;
        }
    }

    ht_str_add(s, text + start, len - start);
    ht_str_add(s, "\"", 1);
}


static void
ht_str_int_elem(ht_str_t *s, int64_t v)
{
    int   n;
    char  num[24];

    n = snprintf(num, sizeof(num), "%" PRId64, v);
    ht_str_add(s, num, n);
}
