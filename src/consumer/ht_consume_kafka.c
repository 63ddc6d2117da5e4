/*
 * The consumer's Kafka side: the properties it sets on the user's conf,
 * joining the group and leaving it, and the callbacks librdkafka calls
 * with its statistics, its errors and its own log lines.
 */

#include <stdio.h>

#include "hk_kafka.h"
#include "ht_consume_state.h"
#include "ht_log.h"
#include "ht_stats.h"


static int ht_consume_stats_cb(rd_kafka_t *rk, char *json, size_t len,
    void *opaque);
static void ht_consume_error_cb(rd_kafka_t *rk, int err, const char *reason,
    void *opaque);
static void ht_consume_kafka_log_cb(const rd_kafka_t *rk, int level,
    const char *fac, const char *buf);


/* what the consumer sets on c->o->kconf, on top of the user's properties */
int
ht_consume_configure(ht_consumer_t *c, char *err, size_t errlen)
{
    char              num[24];
    int64_t           interval;
    const char       *caveat;
    rd_kafka_conf_t  *conf = c->o->kconf;

    caveat = hk_kafka_conf_caveat(conf);

    if (caveat != NULL) {
        ht_log_warn("%s (librdkafka %s)", caveat, rd_kafka_version_str());
    }

    /* offsets are ours to store: in the database, after each batch */
    if (rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
                          errlen) != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", err,
                             errlen) != RD_KAFKA_CONF_OK)
    {
        return -1;
    }

    /* the statistics come as often as the stats line or the metrics
     * file needs them, whichever is sooner */
    interval = c->o->stats_interval_s;

    if (c->o->metrics_file != NULL
        && (interval == 0 || c->o->metrics_interval_s < interval))
    {
        interval = c->o->metrics_interval_s;
    }

    c->observed.stats_ms = interval * 1000;

    if (interval > 0) {
        snprintf(num, sizeof(num), "%lld", (long long) interval * 1000);

        if (rd_kafka_conf_set(conf, "statistics.interval.ms", num, err,
                              errlen) != RD_KAFKA_CONF_OK)
        {
            return -1;
        }

        rd_kafka_conf_set_stats_cb(conf, ht_consume_stats_cb);
    }

    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_rebalance_cb(conf, ht_consume_rebalance_cb);
    rd_kafka_conf_set_error_cb(conf, ht_consume_error_cb);
    rd_kafka_conf_set_log_cb(conf, ht_consume_kafka_log_cb);

    return 0;
}


/* the consumer handle, subscribed to the topic; ht_consume_leave() ends
 * it, whether this succeeded or not */
int
ht_consume_join(ht_consumer_t *c, char *err, size_t errlen)
{
    rd_kafka_resp_err_t                kerr;
    rd_kafka_topic_partition_list_t   *topics;

    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, c->o->kconf, err, errlen);
    if (c->rk == NULL) {
        return -1;
    }

    /* rd_kafka_new() took the conf: it is destroyed with the handle */
    c->o->kconf = NULL;

    rd_kafka_poll_set_consumer(c->rk);

    topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, c->o->topic,
                                      RD_KAFKA_PARTITION_UA);

    kerr = rd_kafka_subscribe(c->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);

    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "subscribing to %s: %s", c->o->topic,
                 rd_kafka_err2str(kerr));
        return -1;
    }

    c->subscribed = 1;

    return 0;
}


void
ht_consume_leave(ht_consumer_t *c)
{
    if (c->rk == NULL) {
        return;
    }

    /* runs the final revoke through ht_consume_rebalance_cb() */
    if (c->subscribed) {
        rd_kafka_consumer_close(c->rk);
    }

    rd_kafka_destroy(c->rk);
    c->rk = NULL;
}


/*
 * The statistics: each partition's offsets for the metrics file, and,
 * every --stats-interval, one line of the totals with what only
 * librdkafka knows (the lag, the rebalances).  Served by the poll, on
 * the loop's thread.
 */
static int
ht_consume_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    int64_t            lag, rebalances, now, every;
    ht_totals_t       *t;
    ht_consumer_t     *c = opaque;
    ht_stats_part_t   *parts;

    t = &c->totals;

    parts = ht_consume_metrics_kafka(c);

    ht_stats_parse(json, c->o->topic, &lag, &rebalances, parts,
                   parts != NULL ? c->nparts : 0);

    /* the callbacks may come more often than the line, for the metrics
     * file, and a little early: half of their interval is slack */
    now = ht_now_ms(CLOCK_MONOTONIC);
    every = c->o->stats_interval_s * 1000;

    if (every == 0
        || (c->observed.stats_logged_at != 0
            && now - c->observed.stats_logged_at
               < every - c->observed.stats_ms / 2))
    {
        return 0;
    }

    c->observed.stats_logged_at = now;

    ht_log_info("stats: consumed=%lld counted=%lld rejected=%lld "
                "batches=%lld db_errors=%lld leases_lost=%lld "
                "partitions=%d lag=%lld rebalances=%lld",
                (long long) t->consumed, (long long) t->counted,
                (long long) t->rejected, (long long) t->batches,
                (long long) t->db_errors, (long long) t->leases_lost,
                (int) ht_consume_parts_held(c), (long long) lag,
                (long long) rebalances);

    /* 0: librdkafka frees json */
    return 0;
}


static void
ht_consume_error_cb(rd_kafka_t *rk, int err, const char *reason,
    void *opaque)
{
    ht_consumer_t  *c = opaque;

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        ht_log_error("kafka fatal error: %s", reason);
        c->fatal = 1;
        return;
    }

    ht_log_warn("kafka: %s: %s", rd_kafka_err2name(err), reason);
}


/* librdkafka's own log lines (another thread): syslog levels */
static void
ht_consume_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
    ht_log(level <= 3 ? HT_LOG_ERROR : level == 4 ? HT_LOG_WARN
           : level <= 6 ? HT_LOG_INFO : HT_LOG_DEBUG,
           "librdkafka %s: %s", fac, buf);
}
