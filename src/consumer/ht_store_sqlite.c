/*
 * The SQLite backend of ht_store.h: one database file, WAL journal.
 *
 * SQLite allows one writer per file, so every write transaction starts
 * with BEGIN IMMEDIATE (take the write lock now, not at the first write,
 * which could fail with SQLITE_BUSY halfway through) and waits up to
 * busy_timeout for another writer.  synchronous=NORMAL is enough for
 * exactly-once: a power cut may lose the last commits, but it loses their
 * offsets with them, so those records are simply read again.
 *
 * Integer overflow: SQLite silently turns an overflowing integer sum into
 * a REAL, which would make sums inexact forever.  The upsert refuses the
 * update when the new sum or count would pass INT64_MAX, and its records
 * are rejected as sum_overflow.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ht_store.h"


#define HT_SQLITE_BUSY_MS  10000

/* the switch to WAL tried again this often while another connection
 * holds the file (ht_sqlite_wal()) */
#define HT_SQLITE_WAL_RETRY_MS  20

/* the aggregates one statement of upsert_rows takes (7 values each) */
#define HT_SQLITE_ROWS  64


typedef struct {
    ht_store_t     store;       /* first: a ht_store_t * is a ht_sqlite_t * */
    sqlite3       *db;
    sqlite3_stmt  *upsert;
    sqlite3_stmt  *upsert_rows;     /* HT_SQLITE_ROWS aggregates at once */
    sqlite3_stmt  *reject;
    sqlite3_stmt  *cas;
    sqlite3_stmt  *claim;
    sqlite3_stmt  *read;
} ht_sqlite_t;


static int ht_sqlite_claim(ht_store_t *s, const char *topic,
    const char *owner, ht_offset_t *parts, size_t n, char *err,
    size_t errlen);
static int ht_sqlite_read(ht_store_t *s, const char *topic,
    ht_offset_t *parts, size_t n, char *err, size_t errlen);
static int ht_sqlite_begin(ht_store_t *s, char *err, size_t errlen);
static int ht_sqlite_cas(ht_store_t *s, const char *topic,
    const ht_offset_cas_t *cas, size_t n, char *err, size_t errlen);
static int ht_sqlite_upsert(ht_store_t *s, const ht_batch_t *b, int each,
    int64_t *overflowed, char *err, size_t errlen);
static int ht_sqlite_add_rejected(ht_store_t *s, const char *reason,
    int64_t count, char *err, size_t errlen);
static int ht_sqlite_commit(ht_store_t *s, char *err, size_t errlen);
static void ht_sqlite_rollback(ht_store_t *s);
static int ht_sqlite_scan(ht_store_t *s, const ht_filter_t *f, ht_row_cb cb,
    void *ctx, char *err, size_t errlen);
static char *ht_sqlite_scan_sql(const ht_filter_t *f);
static int ht_sqlite_rejected(ht_store_t *s, ht_rejected_cb cb, void *ctx,
    char *err, size_t errlen);
static int ht_sqlite_bucket(ht_store_t *s, int64_t want, int64_t *stored,
    char *err, size_t errlen);
static int ht_sqlite_limits(ht_store_t *s, int64_t lock_ms, int64_t idle_ms,
    char *err, size_t errlen);
static void ht_sqlite_close(ht_store_t *s);
static int ht_sqlite_upsert_rows(ht_sqlite_t *q, const ht_agg_t *a);
static int ht_sqlite_upsert_each(ht_sqlite_t *q, const ht_batch_t *b,
    size_t from, int64_t *overflowed, char *err, size_t errlen);
static void ht_sqlite_bind_agg(sqlite3_stmt *st, int at, const ht_agg_t *a);
static int ht_sqlite_prepare(ht_sqlite_t *q, char *err, size_t errlen);
static char *ht_sqlite_upsert_sql(size_t rows);
static int ht_sqlite_wal(ht_sqlite_t *q, char *err, size_t errlen);
static int ht_sqlite_exec(ht_sqlite_t *q, const char *sql, char *err,
    size_t errlen);
static int ht_sqlite_fail(ht_sqlite_t *q, const char *what, char *err,
    size_t errlen);


static const ht_store_ops_t  ht_sqlite_ops = {
    "sqlite",
    ht_sqlite_claim,
    ht_sqlite_read,
    ht_sqlite_begin,
    ht_sqlite_cas,
    ht_sqlite_upsert,
    ht_sqlite_add_rejected,
    ht_sqlite_commit,
    ht_sqlite_rollback,
    ht_sqlite_scan,
    ht_sqlite_rejected,
    ht_sqlite_bucket,
    ht_sqlite_limits,
    ht_sqlite_close
};


static const char  ht_sqlite_schema[] =
    "CREATE TABLE IF NOT EXISTS hotel_rate_hourly ("
    " hotel_id TEXT NOT NULL,"
    " currency TEXT NOT NULL,"
    " bucket_start BIGINT NOT NULL,"
    " count BIGINT NOT NULL,"
    " sum_micros BIGINT NOT NULL,"
    " min_micros BIGINT NOT NULL,"
    " max_micros BIGINT NOT NULL,"
    " PRIMARY KEY (hotel_id, currency, bucket_start)"
    ") WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS kafka_offsets ("
    " topic TEXT NOT NULL,"
    " partition INTEGER NOT NULL,"
    " next_offset BIGINT NOT NULL,"
    " lease_epoch BIGINT NOT NULL,"
    " owner TEXT NOT NULL,"
    " PRIMARY KEY (topic, partition)"
    ");"
    "CREATE TABLE IF NOT EXISTS rejected_records ("
    " reason TEXT PRIMARY KEY,"
    " count BIGINT NOT NULL"
    ");"
    "CREATE TABLE IF NOT EXISTS hotel_trends_meta ("
    " name TEXT PRIMARY KEY,"
    " value TEXT NOT NULL"
    ");";


/*
 * hotel-trends uses SQLite from one thread: without its mutexes and its
 * count of memory in use, each bind, step and allocation of a batch's
 * upserts no longer takes a lock.  perf: 6 % of the consumer reading
 * page records went to those locks.  Both are process-wide and only
 * taken before SQLite's first use (later calls are refused), hence
 * here, once, rather than in each open.
 */
void
ht_store_sqlite_init_process(void)
{
    (void) sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
    (void) sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}


ht_store_t *
ht_store_sqlite_open(const char *path, char *err, size_t errlen)
{
    int           rc;
    char          msg[512];
    ht_sqlite_t  *q;

    q = calloc(1, sizeof(ht_sqlite_t));
    if (q == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    q->store.ops = &ht_sqlite_ops;

    rc = sqlite3_open_v2(path, &q->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "sqlite %s: %s", path,
                 q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
        ht_sqlite_close(&q->store);
        return NULL;
    }

    sqlite3_busy_timeout(q->db, HT_SQLITE_BUSY_MS);

    if (ht_sqlite_wal(q, msg, sizeof(msg)) != HT_STORE_OK
        || ht_sqlite_exec(q, "PRAGMA synchronous=NORMAL", msg, sizeof(msg))
           != HT_STORE_OK
        || ht_sqlite_exec(q, ht_sqlite_schema, msg, sizeof(msg))
           != HT_STORE_OK
        || ht_sqlite_prepare(q, msg, sizeof(msg)) != HT_STORE_OK)
    {
        snprintf(err, errlen, "sqlite %s: %s", path, msg);
        ht_sqlite_close(&q->store);
        return NULL;
    }

    return &q->store;
}


/*
 * Two consumers opening a new file at once (one per topic, say): the
 * switch to WAL needs the file to itself and SQLite reports "database is
 * locked" at once, without its busy handler, while the other connection
 * makes the same switch.  It is tried again for as long as the busy
 * timeout would have waited.
 */
static int
ht_sqlite_wal(ht_sqlite_t *q, char *err, size_t errlen)
{
    int  waited;

    for (waited = 0; /* void */; waited += HT_SQLITE_WAL_RETRY_MS) {
        if (sqlite3_exec(q->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL)
            == SQLITE_OK)
        {
            return HT_STORE_OK;
        }

        if ((sqlite3_errcode(q->db) & 0xff) != SQLITE_BUSY
            || waited >= HT_SQLITE_BUSY_MS)
        {
            return ht_sqlite_fail(q, "PRAGMA journal_mode=WAL", err, errlen);
        }

        sqlite3_sleep(HT_SQLITE_WAL_RETRY_MS);
    }
}


/* the statements every batch runs, prepared once */
static int
ht_sqlite_prepare(ht_sqlite_t *q, char *err, size_t errlen)
{
    int    rc;
    char  *sql, *sql_rows;

#define HT_PREPARE(stmt, sql)                                                 \
    if (sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT,         \
                           &q->stmt, NULL) != SQLITE_OK)                      \
    {                                                                         \
        return ht_sqlite_fail(q, "prepare " #stmt, err, errlen);              \
    }

    sql = ht_sqlite_upsert_sql(1);
    sql_rows = ht_sqlite_upsert_sql(HT_SQLITE_ROWS);

    if (sql == NULL || sql_rows == NULL) {
        free(sql);
        free(sql_rows);
        snprintf(err, errlen, "out of memory");
        return HT_STORE_ERROR;
    }

    rc = sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                            &q->upsert, NULL);

    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v3(q->db, sql_rows, -1,
                                SQLITE_PREPARE_PERSISTENT, &q->upsert_rows,
                                NULL);
    }

    free(sql);
    free(sql_rows);

    if (rc != SQLITE_OK) {
        return ht_sqlite_fail(q, "prepare upsert", err, errlen);
    }

    HT_PREPARE(reject,
        "INSERT INTO rejected_records (reason, count) VALUES (?1, ?2)"
        " ON CONFLICT (reason) DO UPDATE SET count = count + excluded.count");

    HT_PREPARE(cas,
        "UPDATE kafka_offsets SET next_offset = ?1"
        " WHERE topic = ?2 AND partition = ?3"
        " AND lease_epoch = ?4 AND next_offset = ?5");

    HT_PREPARE(claim,
        "INSERT INTO kafka_offsets"
        " (topic, partition, next_offset, lease_epoch, owner)"
        " VALUES (?1, ?2, -1, 1, ?3)"
        " ON CONFLICT (topic, partition) DO UPDATE SET"
        " lease_epoch = lease_epoch + 1, owner = excluded.owner"
        " RETURNING next_offset, lease_epoch");

    HT_PREPARE(read,
        "SELECT next_offset, lease_epoch FROM kafka_offsets"
        " WHERE topic = ?1 AND partition = ?2");

#undef HT_PREPARE

    return HT_STORE_OK;
}


/*
 * The upsert of rows aggregates, in the order given (the batch's, which
 * every writer follows); the caller frees it.  An update is refused when
 * the new sum or count would pass INT64_MAX (see the top of this file):
 * that row is then not changed.
 *
 * The test is "a <= INT64_MAX - b", b being the batch's sum or count,
 * never below 1 (a rate is at least 1 micro-unit, bad_rate otherwise),
 * so that the subtraction cannot overflow; it refuses exactly what
 * typeof(a + b) = 'integer' refused when a and b are positive, as every
 * sum and count is.  min and max by CASE.  Both without a function call
 * (typeof, min, max): callgrind, 1 M page results, 100,000 updated rows:
 * the upserts 997 M -> 929 M instructions.
 */
static char *
ht_sqlite_upsert_sql(size_t rows)
{
    char    *sql, *p;
    size_t   i;

    static const char  head[] =
        "INSERT INTO hotel_rate_hourly (hotel_id, currency, bucket_start,"
        " count, sum_micros, min_micros, max_micros) VALUES ";
    static const char  row[] = "(?,?,?,?,?,?,?)";
    static const char  tail[] =
        " ON CONFLICT (hotel_id, currency, bucket_start) DO UPDATE SET"
        " count = count + excluded.count,"
        " sum_micros = sum_micros + excluded.sum_micros,"
        " min_micros = CASE WHEN excluded.min_micros < min_micros"
        " THEN excluded.min_micros ELSE min_micros END,"
        " max_micros = CASE WHEN excluded.max_micros > max_micros"
        " THEN excluded.max_micros ELSE max_micros END"
        " WHERE sum_micros <= 9223372036854775807 - excluded.sum_micros"
        " AND count <= 9223372036854775807 - excluded.count";

    sql = malloc(sizeof(head) + rows * sizeof(row) + sizeof(tail));
    if (sql == NULL) {
        return NULL;
    }

    memcpy(sql, head, sizeof(head) - 1);
    p = sql + sizeof(head) - 1;

    for (i = 0; i < rows; i++) {
        if (i > 0) {
            *p++ = ',';
        }

        memcpy(p, row, sizeof(row) - 1);
        p += sizeof(row) - 1;
    }

    memcpy(p, tail, sizeof(tail));

    return sql;
}


/* one writer at a time: a lock wait is the busy timeout's */
static int
ht_sqlite_limits(ht_store_t *s, int64_t lock_ms, int64_t idle_ms, char *err,
    size_t errlen)
{
    return HT_STORE_OK;
}


static void
ht_sqlite_close(ht_store_t *s)
{
    ht_sqlite_t  *q = (ht_sqlite_t *) s;

    sqlite3_finalize(q->upsert);
    sqlite3_finalize(q->upsert_rows);
    sqlite3_finalize(q->reject);
    sqlite3_finalize(q->cas);
    sqlite3_finalize(q->claim);
    sqlite3_finalize(q->read);

    if (q->db != NULL) {
        sqlite3_close(q->db);
    }

    free(q);
}


static int
ht_sqlite_claim(ht_store_t *s, const char *topic, const char *owner,
    ht_offset_t *parts, size_t n, char *err, size_t errlen)
{
    size_t        i;
    ht_sqlite_t  *q = (ht_sqlite_t *) s;

    if (ht_sqlite_begin(s, err, errlen) != HT_STORE_OK) {
        return HT_STORE_ERROR;
    }

    for (i = 0; i < n; i++) {
        sqlite3_reset(q->claim);
        sqlite3_bind_text(q->claim, 1, topic, -1, SQLITE_STATIC);
        sqlite3_bind_int(q->claim, 2, parts[i].partition);
        sqlite3_bind_text(q->claim, 3, owner, -1, SQLITE_STATIC);

        if (sqlite3_step(q->claim) != SQLITE_ROW) {
            goto failed;
        }

        parts[i].next_offset = sqlite3_column_int64(q->claim, 0);
        parts[i].lease_epoch = sqlite3_column_int64(q->claim, 1);

        /* RETURNING hands the row out before the statement completes */
        if (sqlite3_step(q->claim) != SQLITE_DONE) {
            goto failed;
        }
    }

    sqlite3_reset(q->claim);

    if (ht_sqlite_commit(s, err, errlen) != HT_STORE_OK) {
        ht_sqlite_rollback(s);
        return HT_STORE_ERROR;
    }

    return HT_STORE_OK;

failed:

    ht_sqlite_fail(q, "claim", err, errlen);
    ht_sqlite_rollback(s);

    return HT_STORE_ERROR;
}


static int
ht_sqlite_read(ht_store_t *s, const char *topic, ht_offset_t *parts,
    size_t n, char *err, size_t errlen)
{
    int           rc;
    size_t        i;
    ht_sqlite_t  *q = (ht_sqlite_t *) s;

    for (i = 0; i < n; i++) {
        sqlite3_reset(q->read);
        sqlite3_bind_text(q->read, 1, topic, -1, SQLITE_STATIC);
        sqlite3_bind_int(q->read, 2, parts[i].partition);

        rc = sqlite3_step(q->read);

        if (rc == SQLITE_ROW) {
            parts[i].next_offset = sqlite3_column_int64(q->read, 0);
            parts[i].lease_epoch = sqlite3_column_int64(q->read, 1);

        } else if (rc == SQLITE_DONE) {
            parts[i].next_offset = -1;
            parts[i].lease_epoch = 0;

        } else {
            ht_sqlite_fail(q, "read offsets", err, errlen);
            sqlite3_reset(q->read);
            return HT_STORE_ERROR;
        }
    }

    sqlite3_reset(q->read);

    return HT_STORE_OK;
}


/* the write lock now, not at the first write, which could fail with
 * SQLITE_BUSY halfway through */
static int
ht_sqlite_begin(ht_store_t *s, char *err, size_t errlen)
{
    return ht_sqlite_exec((ht_sqlite_t *) s, "BEGIN IMMEDIATE", err, errlen);
}


static int
ht_sqlite_commit(ht_store_t *s, char *err, size_t errlen)
{
    return ht_sqlite_exec((ht_sqlite_t *) s, "COMMIT", err, errlen);
}


/* the compare-and-set of each partition's next_offset */
static int
ht_sqlite_cas(ht_store_t *s, const char *topic, const ht_offset_cas_t *cas,
    size_t n, char *err, size_t errlen)
{
    size_t        i;
    ht_sqlite_t  *q = (ht_sqlite_t *) s;

    for (i = 0; i < n; i++) {
        sqlite3_reset(q->cas);
        sqlite3_bind_int64(q->cas, 1, cas[i].next_offset);
        sqlite3_bind_text(q->cas, 2, topic, -1, SQLITE_STATIC);
        sqlite3_bind_int(q->cas, 3, cas[i].partition);
        sqlite3_bind_int64(q->cas, 4, cas[i].lease_epoch);
        sqlite3_bind_int64(q->cas, 5, cas[i].expected);

        if (sqlite3_step(q->cas) != SQLITE_DONE) {
            return ht_sqlite_fail(q, "offsets", err, errlen);
        }

        if (sqlite3_changes(q->db) != 1) {
            snprintf(err, errlen, "partition %d: lease %lld or offset %lld "
                     "no longer current", (int) cas[i].partition,
                     (long long) cas[i].lease_epoch,
                     (long long) cas[i].expected);
            return HT_STORE_LOST;
        }
    }

    sqlite3_reset(q->cas);

    return HT_STORE_OK;
}


/*
 * *overflowed: the records of the aggregates whose sums the table would
 * have overflowed, and did not take.
 *
 * HT_SQLITE_ROWS aggregates a statement unless each is set: callgrind put
 * the single-row upsert at 13,000 instructions an aggregate, much of it
 * the statement's own start and end (its cursors opened and closed, its
 * halt) rather than the row.  An aggregate the table refuses shows as a
 * statement that changed fewer rows than it was given, without saying
 * which: HT_STORE_AGAIN, and ht_store_apply() runs the transaction again
 * with each set.  That is rare (a sum near 2^63).  A savepoint to go
 * back to instead would cost every batch: SQLite copies each page the
 * upserts change into a temporary file (strace: 3.5 times the writes).
 */
static int
ht_sqlite_upsert(ht_store_t *s, const ht_batch_t *b, int each,
    int64_t *overflowed, char *err, size_t errlen)
{
    int           rc;
    size_t        i;
    ht_sqlite_t  *q = (ht_sqlite_t *) s;

    *overflowed = 0;

    for (i = 0; !each && i + HT_SQLITE_ROWS <= b->naggs; i += HT_SQLITE_ROWS)
    {
        rc = ht_sqlite_upsert_rows(q, &b->aggs[i]);

        if (rc < 0) {
            return ht_sqlite_fail(q, "upsert", err, errlen);
        }

        if (rc != HT_SQLITE_ROWS) {
            snprintf(err, errlen, "upsert: an aggregate refused");
            return HT_STORE_AGAIN;
        }
    }

    return ht_sqlite_upsert_each(q, b, i, overflowed, err, errlen);
}


/* HT_SQLITE_ROWS aggregates from a: the rows changed, or -1 */
static int
ht_sqlite_upsert_rows(ht_sqlite_t *q, const ht_agg_t *a)
{
    int  i, rc;

    sqlite3_reset(q->upsert_rows);

    for (i = 0; i < HT_SQLITE_ROWS; i++) {
        ht_sqlite_bind_agg(q->upsert_rows, i * 7, &a[i]);
    }

    rc = sqlite3_step(q->upsert_rows);
    sqlite3_reset(q->upsert_rows);

    if (rc != SQLITE_DONE) {
        return -1;
    }

    return sqlite3_changes(q->db);
}


/* the aggregates from from on, one a statement */
static int
ht_sqlite_upsert_each(ht_sqlite_t *q, const ht_batch_t *b, size_t from,
    int64_t *overflowed, char *err, size_t errlen)
{
    size_t  i;

    for (i = from; i < b->naggs; i++) {
        sqlite3_reset(q->upsert);
        ht_sqlite_bind_agg(q->upsert, 0, &b->aggs[i]);

        if (sqlite3_step(q->upsert) != SQLITE_DONE) {
            return ht_sqlite_fail(q, "upsert", err, errlen);
        }

        if (sqlite3_changes(q->db) == 0) {
            *overflowed += b->aggs[i].count;
        }
    }

    sqlite3_reset(q->upsert);

    return HT_STORE_OK;
}


/* an aggregate's 7 values, after the first at of the statement's */
static void
ht_sqlite_bind_agg(sqlite3_stmt *st, int at, const ht_agg_t *a)
{
    sqlite3_bind_text(st, at + 1, a->hotel_id, (int) a->id_len,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, at + 2, a->currency, 3, SQLITE_STATIC);
    sqlite3_bind_int64(st, at + 3, a->bucket_start);
    sqlite3_bind_int64(st, at + 4, a->count);
    sqlite3_bind_int64(st, at + 5, a->sum_micros);
    sqlite3_bind_int64(st, at + 6, a->min_micros);
    sqlite3_bind_int64(st, at + 7, a->max_micros);
}


static int
ht_sqlite_add_rejected(ht_store_t *s, const char *reason, int64_t count,
    char *err, size_t errlen)
{
    ht_sqlite_t  *q = (ht_sqlite_t *) s;

    sqlite3_reset(q->reject);
    sqlite3_bind_text(q->reject, 1, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q->reject, 2, count);

    if (sqlite3_step(q->reject) != SQLITE_DONE) {
        return ht_sqlite_fail(q, "rejected_records", err, errlen);
    }

    sqlite3_reset(q->reject);

    return HT_STORE_OK;
}


static int
ht_sqlite_scan(ht_store_t *s, const ht_filter_t *f, ht_row_cb cb, void *ctx,
    char *err, size_t errlen)
{
    int            rc;
    char          *sql;
    size_t         i;
    ht_row_t       row;
    ht_sqlite_t   *q = (ht_sqlite_t *) s;
    sqlite3_stmt  *st;

    sql = ht_sqlite_scan_sql(f);
    if (sql == NULL) {
        snprintf(err, errlen, "out of memory");
        return HT_STORE_ERROR;
    }

    rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
    free(sql);

    if (rc != SQLITE_OK) {
        return ht_sqlite_fail(q, "report", err, errlen);
    }

    sqlite3_bind_int64(st, 1, f->since);
    sqlite3_bind_int64(st, 2, f->until);

    if (f->currency != NULL) {
        sqlite3_bind_text(st, 3, f->currency, -1, SQLITE_STATIC);
    }

    for (i = 0; i < f->nhotels; i++) {
        sqlite3_bind_text(st, 4 + i, f->hotels[i], -1, SQLITE_STATIC);
    }

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        row.hotel_id = (const char *) sqlite3_column_text(st, 0);
        row.currency = (const char *) sqlite3_column_text(st, 1);
        row.bucket_start = sqlite3_column_int64(st, 2);
        row.count = sqlite3_column_int64(st, 3);
        row.sum_micros = sqlite3_column_int64(st, 4);
        row.min_micros = sqlite3_column_int64(st, 5);
        row.max_micros = sqlite3_column_int64(st, 6);

        if (cb(&row, ctx, err, errlen) != 0) {
            sqlite3_finalize(st);
            return HT_STORE_ERROR;
        }
    }

    if (rc != SQLITE_DONE) {
        ht_sqlite_fail(q, "report", err, errlen);
        sqlite3_finalize(st);
        return HT_STORE_ERROR;
    }

    sqlite3_finalize(st);

    return HT_STORE_OK;
}


/* the scan's SELECT, with one "?" per hotel; the caller frees it */
static char *
ht_sqlite_scan_sql(const ht_filter_t *f)
{
    char    *sql, *p;
    size_t   i, len;

    len = 512 + f->nhotels * 4;

    sql = malloc(len);
    if (sql == NULL) {
        return NULL;
    }

    p = sql + snprintf(sql, len,
        "SELECT hotel_id, currency, bucket_start, count, sum_micros,"
        " min_micros, max_micros FROM hotel_rate_hourly"
        " WHERE bucket_start >= ?1 AND bucket_start < ?2"
        " AND (?3 IS NULL OR currency = ?3)");

    if (f->nhotels > 0) {
        p += sprintf(p, " AND hotel_id IN (");

        for (i = 0; i < f->nhotels; i++) {
            p += sprintf(p, i ? ",?" : "?");
        }

        p += sprintf(p, ")");
    }

    sprintf(p, " ORDER BY hotel_id, currency, bucket_start");

    return sql;
}


static int
ht_sqlite_rejected(ht_store_t *s, ht_rejected_cb cb, void *ctx, char *err,
    size_t errlen)
{
    int            rc;
    ht_sqlite_t   *q = (ht_sqlite_t *) s;
    sqlite3_stmt  *st;

    if (sqlite3_prepare_v2(q->db, "SELECT reason, count FROM rejected_records"
                           " ORDER BY reason", -1, &st, NULL) != SQLITE_OK)
    {
        return ht_sqlite_fail(q, "rejected_records", err, errlen);
    }

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cb((const char *) sqlite3_column_text(st, 0),
           sqlite3_column_int64(st, 1), ctx);
    }

    sqlite3_finalize(st);

    if (rc != SQLITE_DONE) {
        return ht_sqlite_fail(q, "rejected_records", err, errlen);
    }

    return HT_STORE_OK;
}


/*
 * Rows written before the size was recorded are hourly: the size was
 * fixed at 3600 then.  The insert and the read are one transaction, so
 * two consumers starting together on a new file agree on one size.
 */
static int
ht_sqlite_bucket(ht_store_t *s, int64_t want, int64_t *stored, char *err,
    size_t errlen)
{
    ht_sqlite_t   *q = (ht_sqlite_t *) s;
    sqlite3_stmt  *st;

    st = NULL;

    if (want > 0) {
        if (ht_sqlite_begin(s, err, errlen) != HT_STORE_OK) {
            return HT_STORE_ERROR;
        }

        if (sqlite3_prepare_v2(q->db,
                "INSERT OR IGNORE INTO hotel_trends_meta (name, value)"
                " VALUES ('bucket_seconds', CASE WHEN EXISTS"
                " (SELECT 1 FROM hotel_rate_hourly) THEN 3600 ELSE ?1 END)",
                -1, &st, NULL) != SQLITE_OK)
        {
            goto failed;
        }

        sqlite3_bind_int64(st, 1, want);

        if (sqlite3_step(st) != SQLITE_DONE) {
            goto failed;
        }

        sqlite3_finalize(st);
        st = NULL;
    }

    if (sqlite3_prepare_v2(q->db,
            "SELECT coalesce((SELECT value FROM hotel_trends_meta"
            " WHERE name = 'bucket_seconds'), CASE WHEN EXISTS"
            " (SELECT 1 FROM hotel_rate_hourly) THEN 3600 ELSE 0 END)",
            -1, &st, NULL) != SQLITE_OK
        || sqlite3_step(st) != SQLITE_ROW)
    {
        goto failed;
    }

    *stored = sqlite3_column_int64(st, 0);

    sqlite3_finalize(st);
    st = NULL;

    if (want > 0 && ht_sqlite_commit(s, err, errlen) != HT_STORE_OK) {
        ht_sqlite_rollback(s);
        return HT_STORE_ERROR;
    }

    return HT_STORE_OK;

failed:

    ht_sqlite_fail(q, "hotel_trends_meta", err, errlen);
    sqlite3_finalize(st);
    ht_sqlite_rollback(s);

    return HT_STORE_ERROR;
}


static int
ht_sqlite_exec(ht_sqlite_t *q, const char *sql, char *err, size_t errlen)
{
    if (sqlite3_exec(q->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        return ht_sqlite_fail(q, sql, err, errlen);
    }

    return HT_STORE_OK;
}


/*
 * After a failure: the statements are reset and the transaction, if one
 * is open, rolled back.  A failed ROLLBACK is not reported: the failure
 * that led here is the one the caller is told, and SQLite rolls back on
 * its own when the connection closes.
 */
static void
ht_sqlite_rollback(ht_store_t *s)
{
    ht_sqlite_t  *q = (ht_sqlite_t *) s;

    sqlite3_reset(q->cas);
    sqlite3_reset(q->upsert);
    sqlite3_reset(q->upsert_rows);
    sqlite3_reset(q->reject);
    sqlite3_reset(q->claim);
    sqlite3_reset(q->read);

    if (!sqlite3_get_autocommit(q->db)) {
        (void) sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    }
}


/* what failed and SQLite's own words for it; returns HT_STORE_ERROR */
static int
ht_sqlite_fail(ht_sqlite_t *q, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%.60s: %s", what, sqlite3_errmsg(q->db));

    return HT_STORE_ERROR;
}
