/*
 * librdkafka configuration shared by the nginx module and the consumer:
 * the producer defaults a user-facing path wants, property checking with
 * librdkafka's own messages, and the schema headers.
 */

#ifndef HK_KAFKA_H
#define HK_KAFKA_H

#include <stddef.h>
#include <librdkafka/rdkafka.h>


typedef struct {
    const char  *name;
    const char  *value;
} hk_kafka_prop_t;


/* NULL-terminated; applied before the user's own properties */
extern const hk_kafka_prop_t  hk_kafka_producer_defaults[];


/*
 * Sets one property on conf.  On failure returns -1 and writes
 * librdkafka's explanation into err.
 */
int hk_kafka_conf_set(rd_kafka_conf_t *conf, const char *name,
    const char *value, char *err, size_t err_size);

/*
 * What an operator must hear about conf with the librdkafka loaded, or
 * NULL: a known incompatibility that no property check reveals (one
 * sentence, no property value in it).
 */
const char *hk_kafka_conf_caveat(rd_kafka_conf_t *conf);

/*
 * A new list of the two headers that name a record's schema, the message
 * (HK_RECORD_SCHEMA or HK_PAGE_SCHEMA) and HK_RECORD_SCHEMA_VERSION, for
 * RD_KAFKA_V_HEADERS(): librdkafka owns it once producev accepts the
 * record, the caller frees it otherwise.
 */
rd_kafka_headers_t *hk_kafka_schema_headers(const char *schema);


#endif /* HK_KAFKA_H */
