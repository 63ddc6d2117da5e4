/*
 * The partition table: where each partition of the topic stands, indexed
 * by partition number.  A partition's state is changed here only, by
 * name: reset (never assigned, or revoked), rewound (records to read
 * again), and the end of a batch, written or dropped.
 */

#include <stdlib.h>
#include <string.h>

#include "ht_consume_state.h"


ht_part_t *
ht_consume_part(ht_consumer_t *c, int32_t partition)
{
    if (partition < 0 || partition >= c->nparts) {
        return NULL;
    }

    return &c->parts[partition];
}


/* the partition, the table grown to hold it; NULL if out of memory */
ht_part_t *
ht_consume_part_add(ht_consumer_t *c, int32_t partition)
{
    int32_t     i, n;
    ht_part_t  *parts;

    if (partition < 0) {
        return NULL;
    }

    if (partition >= c->nparts) {
        n = partition + 1;

        parts = realloc(c->parts, n * sizeof(ht_part_t));
        if (parts == NULL) {
            return NULL;
        }

        for (i = c->nparts; i < n; i++) {
            ht_part_reset(&parts[i]);
        }

        c->parts = parts;
        c->nparts = n;
    }

    return &c->parts[partition];
}


/* how many partitions librdkafka has given us */
int32_t
ht_consume_parts_held(const ht_consumer_t *c)
{
    int32_t  i, held;

    for (held = 0, i = 0; i < c->nparts; i++) {
        held += c->parts[i].assigned;
    }

    return held;
}


/* as never assigned: no lease, no offsets, nothing in the batch */
void
ht_part_reset(ht_part_t *p)
{
    memset(p, 0, sizeof(ht_part_t));

    p->db_next = -1;
    p->batch_first = -1;
    p->batch_last = -1;
    p->rewind_to = -1;
}


/* ours to write: held, its lease claimed and not lost since */
int
ht_part_writable(const ht_part_t *p)
{
    return p->assigned && p->claimed && !p->fenced;
}


/* offset is to be read again: the seek goes to the lowest such offset */
void
ht_part_rewind(ht_part_t *p, int64_t offset)
{
    if (p->rewind_to < 0 || offset < p->rewind_to) {
        p->rewind_to = offset;
    }
}


/* the batch is in the database: the partition's offset moves on */
void
ht_part_written(ht_part_t *p)
{
    if (p->batch_first < 0) {
        return;
    }

    p->db_next = p->batch_last + 1;
    p->batch_first = -1;
    p->batch_last = -1;
}


/* the batch was dropped: its records of the partition are read again */
void
ht_part_dropped(ht_part_t *p)
{
    if (p->batch_first < 0) {
        return;
    }

    ht_part_rewind(p, p->batch_first);
    p->batch_first = -1;
    p->batch_last = -1;
}
