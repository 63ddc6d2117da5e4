/*
 * --metrics-file: the consumer's figures written every
 * --metrics-interval seconds, from the loop's own thread, and once more
 * on the way out.  A write that fails (a full disk, a directory that
 * went away) is logged at most once a minute and tried again at the
 * next interval: metrics never stop the consumer.
 */

#include <stdlib.h>
#include <string.h>

#include "ht_consume_state.h"
#include "ht_log.h"


#define HT_METRICS_WARN_MS  60000


static int64_t ht_consume_metrics_next(const ht_consumer_t *c, int32_t i);


/* before the first batch, the trends are as old as the process */
void
ht_consume_metrics_start(ht_consumer_t *c)
{
    c->observed.last_commit_ms = ht_now_ms(CLOCK_REALTIME);
}


/* a committed batch, from ht_consume_observe() */
void
ht_consume_metrics_batch(ht_consumer_t *c)
{
    int             r;
    ht_observed_t  *ob = &c->observed;

    for (r = 0; r < HT_REJECT_MAX; r++) {
        ob->rejected[r] += c->batch.rejected[r];
    }

    ht_histogram_add(&ob->commit, ob->apply_s);
    ob->last_commit_ms = ht_now_ms(CLOCK_REALTIME);
}


/*
 * Room for the statistics of each partition we know of, for the stats
 * callback to fill; NULL (the figures unknown) if out of memory.
 */
ht_stats_part_t *
ht_consume_metrics_kafka(ht_consumer_t *c)
{
    ht_stats_part_t  *k;
    ht_observed_t    *ob = &c->observed;

    if (ob->nkafka < c->nparts) {
        k = realloc(ob->kafka, c->nparts * sizeof(ht_stats_part_t));
        if (k == NULL) {
            return NULL;
        }

        ob->kafka = k;
        ob->nkafka = c->nparts;
    }

    return ob->kafka;
}


/* the file, when it is due (or force); c->now is this turn's clock */
void
ht_consume_metrics_write(ht_consumer_t *c, int force)
{
    char                err[512];
    int32_t             i, n;
    ht_metrics_t        m;
    ht_observed_t      *ob = &c->observed;
    ht_metrics_part_t  *parts;

    if (c->o->metrics_file == NULL || (!force && c->now < ob->due)) {
        return;
    }

    ob->due = c->now + c->o->metrics_interval_s * 1000;

    parts = malloc((c->nparts + 1) * sizeof(ht_metrics_part_t));
    if (parts == NULL) {
        return;
    }

    for (n = 0, i = 0; i < c->nparts; i++) {
        if (!c->parts[i].assigned) {
            continue;
        }

        parts[n].partition = i;
        parts[n].next_offset = ht_consume_metrics_next(c, i);
        parts[n].end_offset = (i < ob->nkafka) ? ob->kafka[i].end : -1;
        n++;
    }

    memset(&m, 0, sizeof(m));
    m.consumed = c->totals.consumed;
    m.counted = c->totals.counted;
    memcpy(m.rejected, ob->rejected, sizeof(m.rejected));
    m.db_errors = c->totals.db_errors;
    m.leases_lost = c->totals.leases_lost;
    m.commit = ob->commit;
    m.last_commit_ms = ob->last_commit_ms;
    m.written_ms = ht_now_ms(CLOCK_REALTIME);
    m.parts = parts;
    m.nparts = n;

    if (ht_metrics_write(c->o->metrics_file, &m, c->o->topic, err,
                         sizeof(err)) != 0
        && (ob->warned_at == 0
            || c->now - ob->warned_at >= HT_METRICS_WARN_MS))
    {
        ht_log_warn("metrics file: %s; trying again every %llds",
                    err, (long long) c->o->metrics_interval_s);
        ob->warned_at = c->now;
    }

    free(parts);
}


void
ht_consume_metrics_free(ht_consumer_t *c)
{
    free(c->observed.kafka);
    c->observed.kafka = NULL;
    c->observed.nkafka = 0;
}


/*
 * Where partition i stands: the database's next_offset; before the
 * database has one, where the consumer started, Kafka's committed offset
 * or else the log's start (auto.offset.reset=earliest); -1 unknown.
 */
static int64_t
ht_consume_metrics_next(const ht_consumer_t *c, int32_t i)
{
    const ht_stats_part_t  *k;

    if (c->parts[i].db_next >= 0) {
        return c->parts[i].db_next;
    }

    if (i >= c->observed.nkafka) {
        return -1;
    }

    k = &c->observed.kafka[i];

    return k->committed >= 0 ? k->committed : k->lo;
}
