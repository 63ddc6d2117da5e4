/*
 * The metrics file: the families in a fixed order, each with its HELP
 * and TYPE, every reason of rejection written even at zero (a counter
 * that appears only once it moves cannot be graphed or alerted on from
 * its start).  Names follow Prometheus' conventions: a unit suffix,
 * _total for counters, seconds and Unix time in seconds.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht_metrics.h"


static const double  ht_commit_bounds[HT_METRICS_NBUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10
};


static void ht_metrics_family(FILE *out, const char *name, const char *type,
    const char *help);
static void ht_metrics_label(FILE *out, const char *value);


void
ht_histogram_add(ht_histogram_t *h, double seconds)
{
    int  i;

    for (i = 0; i < HT_METRICS_NBUCKETS; i++) {
        if (seconds <= ht_commit_bounds[i]) {
            break;
        }
    }

    h->counts[i]++;
    h->count++;
    h->sum += seconds;
}


void
ht_metrics_print(FILE *out, const ht_metrics_t *m, const char *topic)
{
    int           i;
    int32_t       k;
    int64_t       cumulative, lag;
    ht_reject_e   r;

    ht_metrics_family(out, "hotel_trends_records_consumed_total", "counter",
                      "Records taken from the topic (read again after a "
                      "dropped batch, counted again).");
    fprintf(out, "hotel_trends_records_consumed_total %lld\n",
            (long long) m->consumed);

    ht_metrics_family(out, "hotel_trends_records_counted_total", "counter",
                      "Records added to the aggregates by committed "
                      "batches.");
    fprintf(out, "hotel_trends_records_counted_total %lld\n",
            (long long) m->counted);

    ht_metrics_family(out, "hotel_trends_records_rejected_total", "counter",
                      "Records rejected by committed batches, by reason.");

    for (r = HT_REJECT_NONE + 1; r < HT_REJECT_MAX; r++) {
        if (r != HT_REJECT_OFFSET_GAP) {
            fprintf(out, "hotel_trends_records_rejected_total"
                    "{reason=\"%s\"} %lld\n", ht_reject_name(r),
                    (long long) m->rejected[r]);
        }
    }

    ht_metrics_family(out, "hotel_trends_offsets_skipped_total", "counter",
                      "Offsets that never reached the consumer "
                      "(retention, compaction): rejected_records' "
                      "offset_gap.");
    fprintf(out, "hotel_trends_offsets_skipped_total %lld\n",
            (long long) m->rejected[HT_REJECT_OFFSET_GAP]);

    ht_metrics_family(out, "hotel_trends_batch_commit_seconds", "histogram",
                      "Database time of each committed batch: offsets, "
                      "aggregates and rejected counts in one "
                      "transaction.");

    for (cumulative = 0, i = 0; i <= HT_METRICS_NBUCKETS; i++) {
        cumulative += m->commit.counts[i];

        if (i < HT_METRICS_NBUCKETS) {
            fprintf(out, "hotel_trends_batch_commit_seconds_bucket"
                    "{le=\"%g\"} %lld\n", ht_commit_bounds[i],
                    (long long) cumulative);

        } else {
            fprintf(out, "hotel_trends_batch_commit_seconds_bucket"
                    "{le=\"+Inf\"} %lld\n", (long long) cumulative);
        }
    }

    fprintf(out, "hotel_trends_batch_commit_seconds_sum %.6f\n"
            "hotel_trends_batch_commit_seconds_count %lld\n",
            m->commit.sum, (long long) m->commit.count);

    ht_metrics_family(out, "hotel_trends_batches_dropped_total", "counter",
                      "Batches dropped, their records read again: the "
                      "transaction failed (db_error) or another member "
                      "took a partition's lease (lease_lost).");
    fprintf(out, "hotel_trends_batches_dropped_total{reason=\"db_error\"} "
            "%lld\n"
            "hotel_trends_batches_dropped_total{reason=\"lease_lost\"} "
            "%lld\n", (long long) m->db_errors, (long long) m->leases_lost);

    ht_metrics_family(out, "hotel_trends_last_commit_timestamp_seconds",
                      "gauge", "Unix time of the last committed batch (of "
                      "the start, before the first): the trends are as "
                      "old as the lag since then.");
    fprintf(out, "hotel_trends_last_commit_timestamp_seconds %lld.%03d\n",
            (long long) (m->last_commit_ms / 1000),
            (int) (m->last_commit_ms % 1000));

    ht_metrics_family(out, "hotel_trends_partitions_assigned", "gauge",
                      "Partitions of the topic this member holds.");
    fprintf(out, "hotel_trends_partitions_assigned %d\n", (int) m->nparts);

    ht_metrics_family(out, "hotel_trends_partition_lag_records", "gauge",
                      "Records of a held partition not yet in the "
                      "database: its end offset minus the consumer's next "
                      "offset.");

    for (k = 0; k < m->nparts; k++) {
        if (m->parts[k].end_offset < 0 || m->parts[k].next_offset < 0) {
            continue;
        }

        lag = m->parts[k].end_offset - m->parts[k].next_offset;

        fprintf(out, "hotel_trends_partition_lag_records{topic=");
        ht_metrics_label(out, topic);
        fprintf(out, ",partition=\"%d\"} %lld\n", (int) m->parts[k].partition,
                (long long) (lag > 0 ? lag : 0));
    }

    ht_metrics_family(out, "hotel_trends_metrics_timestamp_seconds", "gauge",
                      "Unix time this file was written: older than a few "
                      "intervals, the consumer is gone or stuck.");
    fprintf(out, "hotel_trends_metrics_timestamp_seconds %lld.%03d\n",
            (long long) (m->written_ms / 1000), (int) (m->written_ms % 1000));
}


int
ht_metrics_write(const char *path, const ht_metrics_t *m, const char *topic,
    char *err, size_t errlen)
{
    int     fd;
    char   *tmp;
    FILE   *f;
    size_t  len;

    len = strlen(path);

    tmp = malloc(len + sizeof(".tmp-XXXXXX"));
    if (tmp == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp-XXXXXX", sizeof(".tmp-XXXXXX"));

    fd = mkstemp(tmp);
    if (fd == -1) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }

    /* mkstemp() makes it 0600: the collector runs as another user */
    if (fchmod(fd, 0644) != 0 || (f = fdopen(fd, "w")) == NULL) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return -1;
    }

    ht_metrics_print(f, m, topic);

    /* a full disk shows at the flush, or at the close */
    if (ferror(f) || fflush(f) != 0) {
        snprintf(err, errlen, "writing %s: %s", tmp, strerror(errno));
        fclose(f);
        unlink(tmp);
        free(tmp);
        return -1;
    }

    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "replacing %s: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }

    free(tmp);

    return 0;
}


static void
ht_metrics_family(FILE *out, const char *name, const char *type,
    const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}


/* a label value in double quotes, with \, " and newlines escaped */
static void
ht_metrics_label(FILE *out, const char *value)
{
    fputc('"', out);

    for ( /* void */ ; *value; value++) {
        if (*value == '\\' || *value == '"') {
            fprintf(out, "\\%c", *value);

        } else if (*value == '\n') {
            fputs("\\n", out);

        } else {
            fputc(*value, out);
        }
    }

    fputc('"', out);
}
