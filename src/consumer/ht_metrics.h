/*
 * The consumer's health in Prometheus' text format (version 0.0.4), in a
 * file that node_exporter's textfile collector serves: what was read,
 * counted and rejected, the batches and their database time, each
 * partition's lag, and when a batch was last committed, the figure that
 * says the trends are stale.
 *
 * A file rather than an HTTP endpoint: the consumer listens on nothing
 * and starts no thread, the figures are taken on the loop's own thread
 * between two polls, and the collector that already serves the host's
 * metrics serves these too.  The file is replaced whole (a temporary
 * file renamed over it), so that a scrape never reads half of one.
 *
 * This part only keeps the figures and writes them;
 * ht_consume_metrics.c takes them from the running consumer.
 */

#ifndef HT_METRICS_H
#define HT_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "ht_decode.h"


/* the commit time histogram's upper bounds, seconds: a few ms on SQLite
 * to seconds for a large batch on a busy PostgreSQL */
#define HT_METRICS_NBUCKETS  12


typedef struct {
    int64_t   counts[HT_METRICS_NBUCKETS + 1];  /* per bucket, the last
                                                 * for +Inf; not summed */
    int64_t   count;
    double    sum;
} ht_histogram_t;


/* one partition this member holds; offsets -1 where unknown */
typedef struct {
    int32_t   partition;
    int64_t   next_offset;      /* where the consumer stands: the
                                 * database's, else where it starts */
    int64_t   end_offset;       /* what it can read up to */
} ht_metrics_part_t;


typedef struct {
    int64_t             consumed;
    int64_t             counted;
    int64_t             rejected[HT_REJECT_MAX];
    int64_t             db_errors;
    int64_t             leases_lost;
    ht_histogram_t      commit;
    int64_t             last_commit_ms;     /* wall clock; the start
                                             * before the first batch */
    int64_t             written_ms;         /* wall clock of this write */
    const ht_metrics_part_t  *parts;        /* the partitions held */
    int32_t             nparts;
} ht_metrics_t;


/* Adds one observation, in seconds. */
void ht_histogram_add(ht_histogram_t *h, double seconds);

/* Writes m in the text format; topic labels the partitions. */
void ht_metrics_print(FILE *out, const ht_metrics_t *m, const char *topic);

/*
 * Writes m to path atomically: a temporary file beside it (its name does
 * not end in .prom, so that the collector never reads it), renamed over
 * path.  0, or -1 with a message in err and path as it was.
 */
int ht_metrics_write(const char *path, const ht_metrics_t *m,
    const char *topic, char *err, size_t errlen);


#endif /* HT_METRICS_H */
