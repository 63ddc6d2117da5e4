/*
 * "hotel-trends consume": the consumer-group member that reads
 * HotelSearchResult records and adds them, exactly once, to the hourly
 * aggregates of a database.
 *
 * Exactly once because the offsets live in the database, next to the
 * aggregates, and change in the same transaction; Kafka's own committed
 * offsets are only written afterwards, for lag monitoring.
 */

#ifndef HT_CONSUME_H
#define HT_CONSUME_H

#include "ht_options.h"


/*
 * Runs until SIGINT/SIGTERM or --exit-idle.  Takes o->kconf (sets it to
 * NULL): librdkafka owns it from then on.  Returns the process exit code.
 */
int ht_consume_run(ht_consume_opts_t *o);


#endif /* HT_CONSUME_H */
