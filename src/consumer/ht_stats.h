/*
 * Reading the two figures hotel-trends reports from librdkafka's
 * statistics JSON (statistics.interval.ms): the consumer lag summed over
 * the topic's partitions, and the number of rebalances so far.
 */

#ifndef HT_STATS_H
#define HT_STATS_H

#include <stddef.h>
#include <stdint.h>


/* Fills *lag (-1 if unknown) and *rebalances (-1 if unknown); 0 or -1
 * if json does not parse.  Allocates nothing that outlives the call. */
int ht_stats_parse(const char *json, const char *topic, int64_t *lag,
    int64_t *rebalances);


#endif /* HT_STATS_H */
