/*
 * The metrics file: the text of known figures (every family with its
 * HELP and TYPE, every reason at zero too, a cumulative histogram, lag
 * only for partitions whose offsets are known and never below zero),
 * written atomically with nothing left beside it, a failed write that
 * leaves the old file alone and says why; and the partitions' offsets
 * read from a librdkafka statistics document.
 */

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht_metrics.h"
#include "ht_stats.h"
#include "tap.h"


static char  text[16384];


static char *
print(const ht_metrics_t *m)
{
    size_t   n;
    FILE    *f;

    f = tmpfile();
    ht_metrics_print(f, m, "hotel-data");
    rewind(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);

    return text;
}


static char *
slurp(const char *path)
{
    static char  buf[16384];
    size_t       n;
    FILE        *f;

    buf[0] = '\0';
    f = fopen(path, "r");

    if (f != NULL) {
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
    }

    return buf;
}


/* a statistics document as librdkafka 2.0 writes it, cut down */
static const char  stats_json[] =
"{\"name\":\"rdkafka#consumer-1\",\"type\":\"consumer\","
"\"cgrp\":{\"state\":\"up\",\"rebalance_cnt\":3},"
"\"topics\":{\"hotel-data\":{\"topic\":\"hotel-data\",\"partitions\":{"
"\"0\":{\"partition\":0,\"hi_offset\":120,\"ls_offset\":118,"
"\"lo_offset\":5,\"committed_offset\":100,\"consumer_lag\":18},"
"\"2\":{\"partition\":2,\"hi_offset\":40,\"ls_offset\":-1,"
"\"lo_offset\":0,\"committed_offset\":-1001,\"consumer_lag\":-1},"
"\"-1\":{\"partition\":-1,\"hi_offset\":-1,\"ls_offset\":-1,"
"\"lo_offset\":-1,\"committed_offset\":-1001,\"consumer_lag\":-1}}},"
"\"other\":{\"partitions\":{\"1\":{\"hi_offset\":999}}}}}";


int
main(void)
{
    char               dir[] = "/tmp/test_ht_metrics_XXXXXX", path[128];
    char               err[512], cmd[256], *t;
    int64_t            lag, reb;
    struct stat        st;
    ht_metrics_t       m;
    ht_stats_part_t    sp[3];
    ht_metrics_part_t  parts[3];

    memset(&m, 0, sizeof(m));
    m.consumed = 1203;
    m.counted = 1190;
    m.rejected[HT_REJECT_BAD_RATE] = 2;
    m.rejected[HT_REJECT_UNDECODABLE] = 11;
    m.rejected[HT_REJECT_OFFSET_GAP] = 7;
    m.db_errors = 1;
    m.last_commit_ms = 1750000000123LL;
    m.written_ms = 1750000004005LL;

    ht_histogram_add(&m.commit, 0.0004);
    ht_histogram_add(&m.commit, 0.001);         /* le is inclusive */
    ht_histogram_add(&m.commit, 0.3);
    ht_histogram_add(&m.commit, 42);            /* past the last bound */

    parts[0].partition = 0;
    parts[0].next_offset = 100;
    parts[0].end_offset = 118;
    parts[1].partition = 2;
    parts[1].next_offset = 50;
    parts[1].end_offset = 40;                   /* stale statistics */
    parts[2].partition = 5;
    parts[2].next_offset = 3;
    parts[2].end_offset = -1;                   /* unknown: no line */
    m.parts = parts;
    m.nparts = 3;

    t = print(&m);

    ok(strstr(t, "# HELP hotel_trends_records_consumed_total ") == t,
       "the first family first");
    ok(strstr(t, "\nhotel_trends_records_consumed_total 1203\n"
                 "# HELP hotel_trends_records_counted_total ") != NULL
       && strstr(t, "\nhotel_trends_records_counted_total 1190\n") != NULL,
       "consumed, counted");
    ok(strstr(t, "# TYPE hotel_trends_records_rejected_total counter\n"
                 "hotel_trends_records_rejected_total{reason=\"undecodable\"}"
                 " 11\n"
                 "hotel_trends_records_rejected_total"
                 "{reason=\"unknown_schema\"} 0\n") != NULL
       && strstr(t, "{reason=\"bad_rate\"} 2\n") != NULL
       && strstr(t, "{reason=\"sum_overflow\"} 0\n") != NULL
       && strstr(t, "reason=\"offset_gap\"") == NULL,
       "rejected by reason, every reason, offset_gap apart");
    ok(strstr(t, "\nhotel_trends_offsets_skipped_total 7\n") != NULL,
       "offsets skipped");
    ok(strstr(t, "# TYPE hotel_trends_batch_commit_seconds histogram\n"
                 "hotel_trends_batch_commit_seconds_bucket{le=\"0.001\"} 2\n"
                 "hotel_trends_batch_commit_seconds_bucket{le=\"0.0025\"} 2\n")
       != NULL
       && strstr(t, "_bucket{le=\"0.25\"} 2\n"
                    "hotel_trends_batch_commit_seconds_bucket{le=\"0.5\"} 3\n")
          != NULL
       && strstr(t, "_bucket{le=\"10\"} 3\n"
                    "hotel_trends_batch_commit_seconds_bucket{le=\"+Inf\"} 4\n"
                    "hotel_trends_batch_commit_seconds_sum 42.301400\n"
                    "hotel_trends_batch_commit_seconds_count 4\n") != NULL,
       "commit time: a cumulative histogram");
    ok(strstr(t, "{reason=\"db_error\"} 1\n") != NULL
       && strstr(t, "{reason=\"lease_lost\"} 0\n") != NULL,
       "batches dropped by reason");
    ok(strstr(t, "\nhotel_trends_last_commit_timestamp_seconds "
                 "1750000000.123\n") != NULL, "last commit, in seconds");
    ok(strstr(t, "\nhotel_trends_partitions_assigned 3\n") != NULL,
       "partitions assigned");
    ok(strstr(t, "\nhotel_trends_partition_lag_records{topic=\"hotel-data\","
                 "partition=\"0\"} 18\n"
                 "hotel_trends_partition_lag_records{topic=\"hotel-data\","
                 "partition=\"2\"} 0\n# HELP") != NULL,
       "lag per partition: end - next, never negative, unknown left out");
    ok(strstr(t, "\nhotel_trends_metrics_timestamp_seconds 1750000004.005\n")
       != NULL && t[strlen(t) - 1] == '\n', "written at, last");

    /* the file, replaced whole */
    ok(mkdtemp(dir) != NULL, "temp dir");
    snprintf(path, sizeof(path), "%s/hotel-trends.prom", dir);

    is_int(ht_metrics_write(path, &m, "hotel-data", err, sizeof(err)), 0,
           "write");
    is_str(slurp(path), t, "the file holds the text");
    ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644,
       "readable by the collector");
    m.counted = 1191;
    is_int(ht_metrics_write(path, &m, "hotel-data", err, sizeof(err)), 0,
           "write again");
    ok(strstr(slurp(path), "\nhotel_trends_records_counted_total 1191\n")
       != NULL, "replaced");
    snprintf(cmd, sizeof(cmd), "test \"$(ls -A '%s')\" = hotel-trends.prom",
             dir);
    ok(system(cmd) == 0, "nothing left beside it");

    snprintf(cmd, sizeof(cmd), "%s/gone/hotel-trends.prom", dir);
    ok(ht_metrics_write(cmd, &m, "hotel-data", err, sizeof(err)) == -1
       && strstr(err, "/gone/hotel-trends.prom.tmp-") != NULL
       && strstr(err, "No such file or directory") != NULL,
       "a directory that is not there: -1, and why");

    /* the rename fails (a directory in the way): the temporary goes */
    snprintf(cmd, sizeof(cmd), "%s/dir.prom", dir);
    ok(mkdir(cmd, 0755) == 0, "a directory where the file would go");
    ok(ht_metrics_write(cmd, &m, "hotel-data", err, sizeof(err)) == -1
       && strstr(err, "replacing ") != NULL, "rename refused: -1, and why");
    snprintf(cmd, sizeof(cmd), "test \"$(ls -A '%s' | tr '\\n' ' ')\" = "
             "'dir.prom hotel-trends.prom '", dir);
    ok(system(cmd) == 0, "no temporary file left behind");

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ok(system(cmd) == 0, "cleanup");

    /* the statistics */
    is_int(ht_stats_parse(stats_json, "hotel-data", &lag, &reb, sp, 3), 0,
           "stats parse");
    is_int(lag, 18, "lag summed over known partitions");
    is_int(reb, 3, "rebalances");
    ok(sp[0].end == 118 && sp[0].committed == 100 && sp[0].lo == 5,
       "partition 0: the last stable offset, committed, lo");
    ok(sp[1].end == -1 && sp[1].committed == -1 && sp[1].lo == -1,
       "partition 1: not in this topic's statistics, unknown");
    ok(sp[2].end == 40 && sp[2].committed == -1001 && sp[2].lo == 0,
       "partition 2: no last stable offset, the high watermark");
    is_int(ht_stats_parse(stats_json, "hotel-data", &lag, &reb, NULL, 0), 0,
           "without partitions");
    is_int(ht_stats_parse("{\"topics\":", "hotel-data", &lag, &reb, sp, 3),
           -1, "not JSON");

    return done_testing();
}
