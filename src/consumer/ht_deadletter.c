/*
 * The dead-letter producer; see ht_deadletter.h.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht_deadletter.h"
#include "ht_log.h"


#define HT_DEADLETTER_FLUSH_MS  10000


struct ht_deadletter_s {
    rd_kafka_t        *rk;
    rd_kafka_topic_t  *rkt;
    int64_t            sent;
    int64_t            failed;
};


static int ht_deadletter_wanted(const char *name);
static void ht_deadletter_dr(rd_kafka_t *rk, const rd_kafka_message_t *m,
    void *opaque);


/*
 * Only what reaching the same cluster takes: the consumer's own properties
 * (group.id and the like) would make librdkafka warn about each of them.
 */

static int
ht_deadletter_wanted(const char *name)
{
    return strcmp(name, "bootstrap.servers") == 0
           || strcmp(name, "metadata.broker.list") == 0
           || strcmp(name, "client.id") == 0
           || strcmp(name, "security.protocol") == 0
           || strncmp(name, "ssl.", 4) == 0
           || strncmp(name, "sasl.", 5) == 0;
}


ht_deadletter_t *
ht_deadletter_new(const rd_kafka_conf_t *consumer_conf, const char *topic,
    char *err, size_t errlen)
{
    size_t             i, k, n, ndefaults;
    const char       **dump, **defaults;
    rd_kafka_conf_t   *conf;
    ht_deadletter_t   *d;

    d = calloc(1, sizeof(ht_deadletter_t));
    if (d == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    /*
     * Only the properties the user set: copying a default back may fail
     * (a Windows-only one, say), so each is compared with a fresh conf's.
     */

    conf = rd_kafka_conf_new();
    defaults = rd_kafka_conf_dump(conf, &ndefaults);
    dump = rd_kafka_conf_dump((rd_kafka_conf_t *) consumer_conf, &n);

    for (i = 0; i + 1 < n; i += 2) {
        if (!ht_deadletter_wanted(dump[i])) {
            continue;
        }

        for (k = 0; k + 1 < ndefaults; k += 2) {
            if (strcmp(defaults[k], dump[i]) == 0) {
                break;
            }
        }

        if (k + 1 < ndefaults && strcmp(defaults[k + 1], dump[i + 1]) == 0) {
            continue;
        }

        if (rd_kafka_conf_set(conf, dump[i], dump[i + 1], err, errlen)
            != RD_KAFKA_CONF_OK)
        {
            rd_kafka_conf_dump_free(defaults, ndefaults);
            rd_kafka_conf_dump_free(dump, n);
            rd_kafka_conf_destroy(conf);
            free(d);
            return NULL;
        }
    }

    rd_kafka_conf_dump_free(defaults, ndefaults);
    rd_kafka_conf_dump_free(dump, n);

    /* idempotence: the producer's own retries copy nothing twice */
    if (rd_kafka_conf_set(conf, "enable.idempotence", "true", err, errlen)
        != RD_KAFKA_CONF_OK)
    {
        rd_kafka_conf_destroy(conf);
        free(d);
        return NULL;
    }

    rd_kafka_conf_set_dr_msg_cb(conf, ht_deadletter_dr);
    rd_kafka_conf_set_opaque(conf, d);

    d->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
    if (d->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        free(d);
        return NULL;
    }

    /* rd_kafka_new() took conf */

    d->rkt = rd_kafka_topic_new(d->rk, topic, NULL);
    if (d->rkt == NULL) {
        snprintf(err, errlen, "dead-letter topic %s: %s", topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_destroy(d->rk);
        free(d);
        return NULL;
    }

    return d;
}


int
ht_deadletter_send(ht_deadletter_t *d, const rd_kafka_message_t *m,
    ht_reject_e reason, char *err, size_t errlen)
{
    char                  num[24];
    const char           *name;
    rd_kafka_headers_t   *hdrs, *orig;
    rd_kafka_resp_err_t   kerr;

    if (rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        hdrs = rd_kafka_headers_copy(orig);

    } else {
        hdrs = rd_kafka_headers_new(4);
    }

    name = ht_reject_name(reason);
    rd_kafka_header_add(hdrs, "hotel-trends-reason", -1, name, -1);

    name = rd_kafka_topic_name(m->rkt);
    rd_kafka_header_add(hdrs, "source-topic", -1, name, -1);

    snprintf(num, sizeof(num), "%d", (int) m->partition);
    rd_kafka_header_add(hdrs, "source-partition", -1, num, -1);

    snprintf(num, sizeof(num), "%lld", (long long) m->offset);
    rd_kafka_header_add(hdrs, "source-offset", -1, num, -1);

    /* F_COPY: the consumer's message is destroyed after this batch */
    kerr = rd_kafka_producev(d->rk,
                            RD_KAFKA_V_RKT(d->rkt),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_KEY(m->key, m->key_len),
                            RD_KAFKA_V_VALUE(m->payload, m->len),
                            RD_KAFKA_V_HEADERS(hdrs),
                            RD_KAFKA_V_END);

    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* the headers are still ours when the produce failed */
        rd_kafka_headers_destroy(hdrs);
        d->failed++;
        snprintf(err, errlen, "dead-letter copy of partition %d offset %lld: "
                 "%s", (int) m->partition, (long long) m->offset,
                 rd_kafka_err2str(kerr));
        return -1;
    }

    return 0;
}


void
ht_deadletter_poll(ht_deadletter_t *d)
{
    (void) rd_kafka_poll(d->rk, 0);
}


int
ht_deadletter_close(ht_deadletter_t *d, char *err, size_t errlen)
{
    int  rc, left;

    (void) rd_kafka_flush(d->rk, HT_DEADLETTER_FLUSH_MS);

    left = rd_kafka_outq_len(d->rk);
    rc = 0;

    if (left > 0 || d->failed > 0) {
        snprintf(err, errlen, "dead-letter topic: %lld copied, %lld failed, "
                 "%d not delivered at exit", (long long) d->sent,
                 (long long) d->failed, left);
        rc = -1;

    } else if (d->sent > 0) {
        ht_log_info("dead-letter topic: %lld records copied",
                    (long long) d->sent);
    }

    rd_kafka_topic_destroy(d->rkt);
    rd_kafka_destroy(d->rk);
    free(d);

    return rc;
}


static void
ht_deadletter_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    ht_deadletter_t  *d = opaque;

    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        d->sent++;
        return;
    }

    d->failed++;
    ht_log_error("dead-letter copy not delivered: %s",
                 rd_kafka_err2str(m->err));
}
