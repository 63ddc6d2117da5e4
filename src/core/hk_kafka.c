/*
 * librdkafka configuration helpers; see hk_kafka.h.
 *
 * The producer defaults favour never losing or doubling a record on a
 * user-facing path: idempotence (acks=all, retries without duplicates,
 * which would distort averages), a finite delivery timeout so a dead
 * cluster turns into counted failures rather than an ever-growing queue,
 * and a bounded queue per worker instead of librdkafka's 1 GB.
 */

#include <string.h>
#include <strings.h>

#include "hk_kafka.h"
#include "hk_record.h"


/* rd_kafka_version() of the first release with librdkafka#4895 */
#define HK_KAFKA_SCRAM_FIXED  0x020601ff


const hk_kafka_prop_t  hk_kafka_producer_defaults[] = {
    { "enable.idempotence",            "true" },
    /* a search page is many small records: at 5 ms the broker thread
     * and the broker itself spent most of their CPU on small produce
     * requests (bench/README.md); a price trend does not miss 50 ms */
    { "linger.ms",                     "50" },
    { "compression.type",              "lz4" },
    { "message.timeout.ms",            "30000" },
    /* a queued record costs about 600 bytes of worker memory, while
     * max.kbytes counts values only: the record bound is the real one */
    { "queue.buffering.max.kbytes",    "65536" },
    { "queue.buffering.max.messages",  "100000" },
    /* the Java client's partitioner: one hotel lands on the same
     * partition whichever client produced it */
    { "partitioner",                   "murmur2_random" },
    { "client.id",                     "nginx-hotel-kafka" },
    { NULL, NULL }
};


int
hk_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
    char *err, size_t err_size)
{
    if (rd_kafka_conf_set(conf, name, value, err, err_size)
        != RD_KAFKA_CONF_OK)
    {
        return -1;
    }

    return 0;
}


/*
 * librdkafka before 2.6.1 (Debian bookworm has 2.0.2) appends the client
 * nonce to the server's once more in its SCRAM client-final message.
 * Brokers before 3.8.1 did not check it; Apache Kafka 4.0 and later
 * compare it exactly, as RFC 5802 says, and refuse the exchange as
 * invalid credentials, which reads like a wrong password.  PLAIN over
 * TLS works with every version.
 */

const char *
hk_kafka_conf_caveat(rd_kafka_conf_t *conf)
{
    char    value[128];
    size_t  size;

    if (rd_kafka_version() >= HK_KAFKA_SCRAM_FIXED) {
        return NULL;
    }

    size = sizeof(value);

    if (rd_kafka_conf_get(conf, "security.protocol", value, &size)
        != RD_KAFKA_CONF_OK
        || strncasecmp(value, "sasl_", 5) != 0)
    {
        return NULL;
    }

    size = sizeof(value);

    if (rd_kafka_conf_get(conf, "sasl.mechanisms", value, &size)
        != RD_KAFKA_CONF_OK
        || strncasecmp(value, "SCRAM-", 6) != 0)
    {
        return NULL;
    }

    return "SASL SCRAM from librdkafka before 2.6.1 is refused by Apache "
           "Kafka 4.0 and later brokers as invalid credentials "
           "(librdkafka#4895); with them, use sasl.mechanisms PLAIN over "
           "TLS (security.protocol sasl_ssl) or a newer librdkafka";
}


rd_kafka_headers_t *
hk_kafka_schema_headers(const char *schema)
{
    rd_kafka_headers_t  *hdrs;

    hdrs = rd_kafka_headers_new(2);

    rd_kafka_header_add(hdrs, HK_RECORD_HEADER_SCHEMA, -1, schema, -1);
    rd_kafka_header_add(hdrs, HK_RECORD_HEADER_VERSION, -1,
                        HK_RECORD_SCHEMA_VERSION, -1);

    return hdrs;
}
