/*
 * The SQLite store on a temporary file: claiming partitions, applying
 * batches with the offsets compare-and-set, refusing a stale lease or a
 * stale offset (and writing nothing then), refused counts, the guard
 * against integer sums turning into REAL, reading rows back, and the
 * bucket size kept in hotel_trends_meta (a consumer with another one is
 * refused).
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ht_store.h"
#include "tap.h"


typedef struct {
    int      rows;
    int64_t  count;
    int64_t  sum;
    int64_t  min;
    int64_t  max;
    char     first[64];
} scan_t;


static int
scan_cb(const ht_row_t *row, void *ctx, char *err, size_t errlen)
{
    scan_t  *s = ctx;

    if (s->rows++ == 0) {
        snprintf(s->first, sizeof(s->first), "%s/%s/%lld", row->hotel_id,
                 row->currency, (long long) row->bucket_start);
    }

    /*
     * summed in unsigned, wrapping: a scan of every row may meet one
     * whose sum is near INT64_MAX (the overflow tests), and only the
     * scans of one hotel read sum
     */
    s->count += row->count;
    s->sum = (int64_t) ((uint64_t) s->sum + (uint64_t) row->sum_micros);
    s->min = row->min_micros;
    s->max = row->max_micros;

    return 0;
}


static void
rej_cb(const char *reason, int64_t count, void *ctx)
{
    char  *out = ctx;
    char   line[64];

    snprintf(line, sizeof(line), "%s=%lld;", reason, (long long) count);
    strcat(out, line);
}


static void
add(ht_batch_t *b, const char *hotel, const char *cur, int64_t bucket,
    int64_t rate)
{
    ht_record_t  r;

    snprintf(r.hotel_id, sizeof(r.hotel_id), "%s", hotel);
    snprintf(r.currency, sizeof(r.currency), "%s", cur);
    r.bucket_start = bucket;
    r.rate_micros = rate;

    ht_batch_add(b, &r);
}


static scan_t
scan(ht_store_t *s, const char *hotel)
{
    char         *hotels[1];
    char          err[512];
    scan_t        r;
    ht_filter_t   f;

    memset(&r, 0, sizeof(r));
    memset(&f, 0, sizeof(f));

    hotels[0] = (char *) hotel;
    f.hotels = hotel ? hotels : NULL;
    f.nhotels = hotel ? 1 : 0;
    f.since = INT64_MIN;
    f.until = INT64_MAX;

    s->ops->scan(s, &f, scan_cb, &r, err, sizeof(err));

    return r;
}


int
main(void)
{
    int              fd, i;
    char             dir[] = "/tmp/test_ht_store_XXXXXX", path[128];
    char             spec[160], err[512], rej[512], wal[160], shm[160];
    char             path2[128], id[16];
    int64_t          bucket;
    scan_t           sc;
    ht_batch_t       b;
    ht_store_t      *s, *s2, *s3;
    ht_offset_t      offs[2];
    ht_offset_cas_t  cas[2];

    /* as hotel-trends runs SQLite: one thread, no mutexes */
    ht_store_init_process();

    ok(mkdtemp(dir) != NULL, "temp dir");
    snprintf(path, sizeof(path), "%s/t.db", dir);
    snprintf(spec, sizeof(spec), "sqlite:%s", path);

    s = ht_store_open(spec, err, sizeof(err));
    ok(s != NULL, "open sqlite: prefix");
    is_str(s->ops->name, "sqlite", "sqlite backend");

    s2 = ht_store_open("/nonexistent/dir/x.db", err, sizeof(err));
    ok(s2 == NULL, "unopenable path fails");

    /* claim: new rows, next_offset -1, epoch 1; again: epoch 2 */
    offs[0].partition = 0;
    offs[1].partition = 3;
    is_int(s->ops->claim(s, "topic", "me:1", offs, 2, err, sizeof(err)),
           HT_STORE_OK, "claim");
    is_int(offs[0].next_offset, -1, "new partition has no offset");
    is_int(offs[0].lease_epoch, 1, "first lease is 1");
    is_int(s->ops->claim(s, "topic", "me:1", offs, 2, err, sizeof(err)),
           HT_STORE_OK, "claim again");
    is_int(offs[1].lease_epoch, 2, "lease bumped");

    ht_batch_init(&b);
    add(&b, "h1", "EUR", 3600, 100000000);
    add(&b, "h1", "EUR", 3600, 200000000);
    add(&b, "h2", "USD", 7200, 5);
    ht_batch_reject(&b, HT_REJECT_BAD_CURRENCY, 2);
    ht_batch_reject(&b, HT_REJECT_UNDECODABLE, 1);
    ht_batch_sort(&b);

    cas[0].partition = 0;
    cas[0].lease_epoch = 2;
    cas[0].expected = -1;
    cas[0].next_offset = 10;
    cas[1].partition = 3;
    cas[1].lease_epoch = 2;
    cas[1].expected = -1;
    cas[1].next_offset = 4;

    is_int(ht_store_apply(s, "topic", &b, cas, 2, err, sizeof(err)),
           HT_STORE_OK, "apply first batch");

    sc = scan(s, "h1");
    is_int(sc.rows, 1, "one h1 row");
    is_int(sc.count, 2, "h1 count");
    is_int(sc.sum, 300000000, "h1 sum");
    is_int(sc.min, 100000000, "h1 min");
    is_int(sc.max, 200000000, "h1 max");

    s->ops->read(s, "topic", offs, 2, err, sizeof(err));
    is_int(offs[0].next_offset, 10, "partition 0 at 10");
    is_int(offs[1].next_offset, 4, "partition 3 at 4");

    /* the same batch again with the same expectations: refused, and not
     * a single row changes */
    is_int(ht_store_apply(s, "topic", &b, cas, 2, err, sizeof(err)),
           HT_STORE_LOST, "replay with stale expected offset refused");
    ok(strncmp(err, "partition 0:", 12) == 0, "partition 0 reported lost");
    sc = scan(s, "h1");
    is_int(sc.count, 2, "h1 unchanged after refusal");

    /* another member claims partition 3 (epoch 3): our epoch 2 is stale */
    offs[0].partition = 3;
    s2 = ht_store_open(path, err, sizeof(err));
    ok(s2 != NULL, "second connection");
    is_int(s2->ops->claim(s2, "topic", "other:2", offs, 1, err,
                          sizeof(err)),
           HT_STORE_OK, "other member claims partition 3");
    is_int(offs[0].lease_epoch, 3, "its lease is 3");
    is_int(offs[0].next_offset, 4, "it starts where we stopped");

    cas[0].expected = 10;
    cas[0].next_offset = 20;
    cas[1].expected = 4;
    cas[1].next_offset = 8;
    is_int(ht_store_apply(s, "topic", &b, cas, 2, err, sizeof(err)),
           HT_STORE_LOST, "stale lease refused");
    ok(strncmp(err, "partition 3:", 12) == 0, "partition 3 reported lost");
    sc = scan(s, NULL);
    is_int(sc.count, 3, "nothing written by the zombie");
    offs[0].partition = 0;
    s->ops->read(s, "topic", offs, 1, err, sizeof(err));
    is_int(offs[0].next_offset, 10, "partition 0 rolled back too");

    /* with only partition 0 (still ours) it goes through */
    is_int(ht_store_apply(s, "topic", &b, cas, 1, err, sizeof(err)),
           HT_STORE_OK, "apply for the partition still owned");
    sc = scan(s, "h1");
    is_int(sc.count, 4, "h1 count 4");
    is_int(sc.sum, 600000000, "h1 sum exact");

    rej[0] = '\0';
    s->ops->rejected(s, rej_cb, rej, err, sizeof(err));
    is_str(rej, "bad_currency=4;undecodable=2;", "rejected counts add up");

    /* overflow in the table: refused, counted, the row stays an integer */
    ht_batch_reset(&b);
    add(&b, "big", "EUR", 0, INT64_MAX - 10);
    cas[0].expected = 20;
    cas[0].next_offset = 21;
    is_int(ht_store_apply(s, "topic", &b, cas, 1, err, sizeof(err)),
           HT_STORE_OK, "near-max sum stored");
    ht_batch_reset(&b);
    add(&b, "big", "EUR", 0, 11);
    add(&b, "ok", "EUR", 0, 11);
    cas[0].expected = 21;
    cas[0].next_offset = 22;
    is_int(ht_store_apply(s, "topic", &b, cas, 1, err, sizeof(err)),
           HT_STORE_OK, "overflowing batch still commits");
    sc = scan(s, "big");
    is_int(sc.count, 1, "overflowing record not added");
    is_int(sc.sum, INT64_MAX - 10, "sum unchanged");
    sc = scan(s, "ok");
    is_int(sc.count, 1, "the other key was added");

    rej[0] = '\0';
    s->ops->rejected(s, rej_cb, rej, err, sizeof(err));
    is_str(rej, "bad_currency=4;sum_overflow=1;undecodable=2;",
           "sum_overflow counted");

    /*
     * more aggregates than one statement takes: whole statements and a
     * tail; then one refused among them (the 101st in the key order,
     * in the second statement), which sends the transaction back to be
     * run again, one aggregate a statement
     */
    ht_batch_reset(&b);

    for (i = 0; i < 200; i++) {
        snprintf(id, sizeof(id), "%c%03d", i < 100 ? 'a' : 'c', i);
        add(&b, id, "EUR", 0, 1);
    }

    add(&b, "ok", "EUR", 0, 11);
    ht_batch_sort(&b);
    cas[0].expected = 22;
    cas[0].next_offset = 23;
    is_int(ht_store_apply(s, "topic", &b, cas, 1, err, sizeof(err)),
           HT_STORE_OK, "a batch of 201 aggregates");
    sc = scan(s, NULL);
    is_int(sc.rows, 204, "every aggregate a row");
    is_int(sc.count, 209, "every record counted");

    ht_batch_reset(&b);
    add(&b, "big", "EUR", 0, 11);

    for (i = 0; i < 200; i++) {
        snprintf(id, sizeof(id), "%c%03d", i < 100 ? 'a' : 'c', i);
        add(&b, id, "EUR", 0, 2);
    }

    add(&b, "ok", "EUR", 0, 11);
    ht_batch_sort(&b);
    cas[0].expected = 23;
    cas[0].next_offset = 24;
    is_int(ht_store_apply(s, "topic", &b, cas, 1, err, sizeof(err)),
           HT_STORE_OK, "a batch of 202 aggregates, one refused");
    sc = scan(s, NULL);
    is_int(sc.rows, 204, "no row more");
    is_int(sc.count, 410, "every record but the refused one counted");
    sc = scan(s, "big");
    is_int(sc.count, 1, "the refused aggregate not added");
    is_int(sc.sum, INT64_MAX - 10, "its sum unchanged");
    sc = scan(s, "a010");
    is_int(sc.sum, 3, "an aggregate of the statement before added once");
    sc = scan(s, "c110");
    is_int(sc.sum, 3, "an aggregate of the same statement added once");
    sc = scan(s, "ok");
    is_int(sc.count, 3, "the tail added once");

    rej[0] = '\0';
    s->ops->rejected(s, rej_cb, rej, err, sizeof(err));
    is_str(rej, "bad_currency=4;sum_overflow=2;undecodable=2;",
           "the refused aggregate counted as sum_overflow");

    /* a sum that reaches INT64_MAX exactly is taken */
    ht_batch_reset(&b);
    add(&b, "edge", "EUR", 0, INT64_MAX - 10);
    cas[0].expected = 24;
    cas[0].next_offset = 25;
    ht_store_apply(s, "topic", &b, cas, 1, err, sizeof(err));
    ht_batch_reset(&b);
    add(&b, "edge", "EUR", 0, 10);
    cas[0].expected = 25;
    cas[0].next_offset = 26;
    is_int(ht_store_apply(s, "topic", &b, cas, 1, err, sizeof(err)),
           HT_STORE_OK, "a batch that brings a sum to INT64_MAX");
    sc = scan(s, "edge");
    is_int(sc.count, 2, "taken");
    is_int(sc.sum, INT64_MAX, "the sum is INT64_MAX");

    rej[0] = '\0';
    s->ops->rejected(s, rej_cb, rej, err, sizeof(err));
    is_str(rej, "bad_currency=4;sum_overflow=2;undecodable=2;",
           "nothing more refused");

    {
        sqlite3       *db;
        sqlite3_stmt  *st;

        sqlite3_open(path, &db);
        sqlite3_prepare_v2(db, "SELECT count(*) FROM hotel_rate_hourly"
                           " WHERE typeof(sum_micros) <> 'integer'",
                           -1, &st, NULL);
        sqlite3_step(st);
        is_int(sqlite3_column_int64(st, 0), 0, "every sum is an integer");
        sqlite3_finalize(st);
        sqlite3_close(db);
    }

    /* rows written before the bucket size was recorded are hourly */
    is_int(s->ops->bucket(s, 0, &bucket, err, sizeof(err)), HT_STORE_OK,
           "read bucket size");
    is_int(bucket, 3600, "old rows: hourly");
    is_int(ht_store_check_bucket(s, 60, err, sizeof(err)), HT_STORE_MISMATCH,
           "minute buckets refused on an hourly database");
    ok(strstr(err, "holds 3600-second buckets, this consumer makes "
                   "60-second ones (--bucket, 3600 unless given)")
       != NULL, "the refusal says both sizes");
    ok(strstr(err, "would corrupt the aggregates") != NULL,
       "the refusal says why");
    is_int(ht_store_check_bucket(s, 3600, err, sizeof(err)), HT_STORE_OK,
           "hourly accepted");

    /* a new database takes the first consumer's size and keeps it */
    snprintf(path2, sizeof(path2), "%s/m.db", dir);
    s3 = ht_store_open(path2, err, sizeof(err));
    ok(s3 != NULL, "open a new database");
    is_int(s3->ops->bucket(s3, 0, &bucket, err, sizeof(err)), HT_STORE_OK,
           "read, new");
    is_int(bucket, 0, "no size before a consumer");
    is_int(ht_store_check_bucket(s3, 60, err, sizeof(err)), HT_STORE_OK,
           "first consumer records minute buckets");
    s3->ops->close(s3);

    s3 = ht_store_open(path2, err, sizeof(err));
    is_int(ht_store_check_bucket(s3, 60, err, sizeof(err)), HT_STORE_OK,
           "same size again: accepted");
    is_int(ht_store_check_bucket(s3, 3600, err, sizeof(err)),
           HT_STORE_MISMATCH, "another size: refused");
    ok(strstr(err, "consume with --bucket 60") != NULL,
       "the refusal names the size to use");
    is_int(s3->ops->bucket(s3, 0, &bucket, err, sizeof(err)), HT_STORE_OK,
           "read again");
    is_int(bucket, 60, "the refused size was not written");

    {
        sqlite3       *db;
        sqlite3_stmt  *st;

        sqlite3_open(path2, &db);
        sqlite3_prepare_v2(db, "SELECT value FROM hotel_trends_meta"
                           " WHERE name = 'bucket_seconds'", -1, &st, NULL);
        sqlite3_step(st);
        is_str((const char *) sqlite3_column_text(st, 0), "60",
               "hotel_trends_meta row bucket_seconds");
        sqlite3_finalize(st);
        sqlite3_exec(db, "UPDATE hotel_trends_meta SET value = 'x'", NULL,
                     NULL, NULL);
        sqlite3_close(db);
    }

    is_int(ht_store_check_bucket(s3, 60, err, sizeof(err)), HT_STORE_ERROR,
           "a broken meta row is an error");
    ok(strstr(err, "not a bucket size") != NULL, "and says so");
    s3->ops->close(s3);

    ht_batch_free(&b);
    s->ops->close(s);
    s2->ops->close(s2);

    snprintf(wal, sizeof(wal), "%s-wal", path2);
    snprintf(shm, sizeof(shm), "%s-shm", path2);
    unlink(wal);
    unlink(shm);
    unlink(path2);

    snprintf(wal, sizeof(wal), "%s-wal", path);
    snprintf(shm, sizeof(shm), "%s-shm", path);
    unlink(wal);
    unlink(shm);
    unlink(path);
    rmdir(dir);

    (void) fd;

    return done_testing();
}
