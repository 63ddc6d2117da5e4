/*
 * Reading what hotel-trends reports from librdkafka's statistics JSON
 * (statistics.interval.ms): the consumer lag summed over the topic's
 * partitions, the number of rebalances so far, and, for the metrics
 * file, each partition's offsets as the brokers last told them.
 */

#ifndef HT_STATS_H
#define HT_STATS_H

#include <stddef.h>
#include <stdint.h>


/* one partition's offsets, -1 where unknown */
typedef struct {
    int64_t   end;          /* the last stable offset (the high watermark
                             * if librdkafka gives none): what a consumer
                             * can read up to */
    int64_t   committed;    /* the group's offset committed to Kafka */
    int64_t   lo;           /* the first offset still in the log */
} ht_stats_part_t;


/*
 * Fills *lag (-1 if unknown) and *rebalances (-1 if unknown), and, when
 * parts is not NULL, parts[0 .. nparts) by partition number (-1 for a
 * partition the statistics do not have).  0, or -1 if json does not
 * parse.  Allocates nothing that outlives the call.
 */
int ht_stats_parse(const char *json, const char *topic, int64_t *lag,
    int64_t *rebalances, ht_stats_part_t *parts, int32_t nparts);


#endif /* HT_STATS_H */
