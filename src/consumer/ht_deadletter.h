/*
 * The dead-letter topic ("consume --dead-letter TOPIC"): each record the
 * consumer rejects is copied there, key, value and headers as they were,
 * with headers saying why and where it came from, so that someone can look
 * at the poison and replay what was rejected for a fixable reason.
 *
 * The copy is at least once: a crash between the copy and the database
 * commit that records the rejection replays the batch and copies again; the
 * source-topic/-partition/-offset headers identify duplicates.
 */

#ifndef HT_DEADLETTER_H
#define HT_DEADLETTER_H

#include <librdkafka/rdkafka.h>

#include "ht_decode.h"


typedef struct ht_deadletter_s  ht_deadletter_t;


/*
 * A producer for topic, with the brokers and the security settings of the
 * consumer's conf (read, not taken).  NULL with a message in err.
 * ht_deadletter_close() frees it.
 */
ht_deadletter_t *ht_deadletter_new(const rd_kafka_conf_t *consumer_conf,
    const char *topic, char *err, size_t errlen);

/* Copies m with its reason: 0, or -1 with a message in err when the copy
 * cannot be queued.  A copy not delivered is logged when its report
 * comes. */
int ht_deadletter_send(ht_deadletter_t *d, const rd_kafka_message_t *m,
    ht_reject_e reason, char *err, size_t errlen);

/* Serves delivery reports; call from the poll loop. */
void ht_deadletter_poll(ht_deadletter_t *d);

/* Flushes (10 s at most) and frees d: 0, or -1 with a message in err
 * when copies failed or were left undelivered. */
int ht_deadletter_close(ht_deadletter_t *d, char *err, size_t errlen);


#endif /* HT_DEADLETTER_H */
