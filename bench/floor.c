/*
 * floor: librdkafka's own cost per record, the floor the module's goals
 * are measured against (issue 12).
 *
 *   floor -b BROKERS -t TOPIC [-n RECORDS] [-H HOTELS] [-p EVERY] [-S]
 *         [-X name=value ...]
 *
 * A producer with exactly the module's properties (hk_kafka_producer_
 * defaults, then the -X ones, as hotel_kafka_conf lines would be), keyed
 * records of about 60 bytes encoded beforehand (the module's own encoder,
 * hotel ids drawn from HOTELS, so nothing but librdkafka is timed),
 * RD_KAFKA_MSG_F_COPY, the two schema headers unless -S, delivery reports
 * counted by a callback.  The calling thread produces RECORDS records,
 * polls once every EVERY records (20: one page) and waits on a full queue
 * with rd_kafka_poll(rk, 1), then flushes until every record is delivered.
 *
 * Run it with all its threads on one core (taskset -c N floor ...): the
 * librdkafka threads are created by rd_kafka_new() and inherit the
 * affinity.  Prints one line of name=value pairs:
 *
 *   thread_ns   CPU of the calling thread per record, from the first
 *               producev to the last delivery report served (producev,
 *               polls, delivery reports, the flush)
 *   loop_ns     the same up to the last producev only
 *   process_ns  CPU of the whole process per record (librdkafka's threads:
 *               batching, lz4, sending, reports), until all are delivered
 *   per_sec     records delivered per second of wall time, first producev
 *               to last delivery report
 *
 * The producer is warmed up first (connection, metadata, producer id, the
 * topic created): one record per partition is produced and flushed before
 * the clocks start, and is not counted.
 */

#define _GNU_SOURCE

#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "bench_kafka.h"
#include "hk_kafka.h"
#include "hk_record.h"


#define FLOOR_VALUES  4096          /* distinct records, cycled */
#define FLOOR_WARMUP  64


typedef struct {
    char      key[16];
    size_t    key_len;
    uint8_t   value[HK_RECORD_MAX_SIZE];
    size_t    len;
} floor_record_t;


static const char  *brokers = "127.0.0.1:9092";
static const char  *topic = "bench-floor";
static long long    records = 1000000;
static long         hotels = 10000;
static long         poll_every = 20;
static int          schema_headers = 1;
static char        *xprops[64];
static int          nxprops;




/* records as a 20-hotel page makes them: one search id per page */
static void
make_records(floor_record_t *recs)
{
    int           i;
    char          sid[40];
    uint64_t      seed = 88172645463325252ULL;
    hk_record_t   rec;

    for (i = 0; i < FLOOR_VALUES; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;

        if (i % 20 == 0) {
            snprintf(sid, sizeof(sid), "%016" PRIx64 "%016" PRIx64,
                     seed, seed * 2654435761u);
        }

        recs[i].key_len = snprintf(recs[i].key, sizeof(recs[i].key),
                                   "h%05ld",
                                   (long) (seed % (uint64_t) hotels));

        rec.hotel_id = recs[i].key;
        rec.hotel_id_len = recs[i].key_len;
        rec.rate_micros = (int64_t) (4000 + (seed >> 20) % 50000) * 10000;
        rec.currency = "EUR";
        rec.search_time_ms = 1764000000000LL + i / 20;
        rec.search_id = sid;
        rec.search_id_len = 32;
        rec.position = (uint32_t) (i % 20);

        recs[i].len = hk_record_encode(&rec, recs[i].value);
        if (recs[i].len == 0) {
            bench_die("%s", "a record did not encode");
        }
    }
}


static rd_kafka_resp_err_t
produce(rd_kafka_t *rk, rd_kafka_topic_t *rkt, floor_record_t *r)
{
    rd_kafka_headers_t   *hdrs;
    rd_kafka_resp_err_t   err;

    /* as the module produces: a header list per record, or none */
    hdrs = schema_headers ? hk_kafka_schema_headers(HK_RECORD_SCHEMA) : NULL;

    err = rd_kafka_producev(rk,
                            RD_KAFKA_V_RKT(rkt),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_KEY(r->key, r->key_len),
                            RD_KAFKA_V_VALUE(r->value, r->len),
                            RD_KAFKA_V_HEADERS(hdrs),
                            RD_KAFKA_V_END);

    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && hdrs != NULL) {
        rd_kafka_headers_destroy(hdrs);
    }

    return err;
}


static int
cpus_allowed(void)
{
    cpu_set_t  set;

    if (sched_getaffinity(0, sizeof(set), &set) != 0) {
        return -1;
    }

    return CPU_COUNT(&set);
}


int
main(int argc, char **argv)
{
    int                   c;
    size_t                bytes = 0;
    double                w0, w1, t0, t1, t2, p0, p1;
    long long             i, waits = 0;
    rd_kafka_t           *rk;
    floor_record_t       *recs;
    rd_kafka_topic_t     *rkt;
    rd_kafka_resp_err_t   err;

    while ((c = getopt(argc, argv, "b:t:n:H:p:SX:")) != -1) {
        switch (c) {
        case 'b': brokers = optarg; break;
        case 't': topic = optarg; break;
        case 'n': records = atoll(optarg); break;
        case 'H': hotels = atol(optarg); break;
        case 'p': poll_every = atol(optarg); break;
        case 'S': schema_headers = 0; break;
        case 'X':
            if (nxprops == 64) {
                bench_die("%s", "too many -X");
            }
            xprops[nxprops++] = optarg;
            break;
        default:
            fprintf(stderr, "usage: floor -b BROKERS -t TOPIC [-n RECORDS] "
                    "[-H HOTELS] [-p EVERY] [-S] [-X name=value]\n");
            return 2;
        }
    }

    if (records < 1 || hotels < 1 || poll_every < 1) {
        bench_die("%s", "-n, -H and -p must be positive");
    }

    recs = malloc(FLOOR_VALUES * sizeof(floor_record_t));
    if (recs == NULL) {
        bench_die("%s", "out of memory");
    }
    make_records(recs);

    rk = bench_producer(brokers, xprops, nxprops);
    rkt = rd_kafka_topic_new(rk, topic, NULL);

    for (i = 0; i < FLOOR_WARMUP; i++) {
        while (produce(rk, rkt, &recs[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_poll(rk, 10);
        }
    }
    rd_kafka_flush(rk, 60000);
    if (bench_delivered != FLOOR_WARMUP) {
        bench_die("%s", "warm-up records not delivered: is the broker there?");
    }
    bench_delivered = 0;

    w0 = bench_clock_s(CLOCK_MONOTONIC);
    t0 = bench_clock_s(CLOCK_THREAD_CPUTIME_ID);
    p0 = bench_process_cpu_s();

    for (i = 0; i < records; i++) {
        floor_record_t  *r = &recs[i % FLOOR_VALUES];

        /*
         * On one core the calling thread outruns the broker thread and
         * fills the queue: then it gives the core away for a moment, as
         * a failed producev is not the cost of a record.
         */
        while ((err = produce(rk, rkt, r)) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            waits++;
            rd_kafka_poll(rk, 1);
        }

        if (err) {
            bench_die("produce: %s", rd_kafka_err2str(err));
        }

        bytes += r->len;

        if (i % poll_every == poll_every - 1) {
            rd_kafka_poll(rk, 0);
        }
    }

    t1 = bench_clock_s(CLOCK_THREAD_CPUTIME_ID);

    while (bench_delivered + bench_failed < records) {
        rd_kafka_poll(rk, 100);
        if (bench_clock_s(CLOCK_MONOTONIC) - w0 > 300) {
            break;
        }
    }

    t2 = bench_clock_s(CLOCK_THREAD_CPUTIME_ID);
    p1 = bench_process_cpu_s();
    w1 = bench_clock_s(CLOCK_MONOTONIC);

    printf("FLOOR headers=%d records=%lld delivered=%lld failed=%lld "
           "thread_ns=%.1f loop_ns=%.1f process_ns=%.1f per_sec=%.0f "
           "seconds=%.3f queue_full_waits=%lld value_bytes=%.1f "
           "poll_every=%ld warmup=%d cpus=%d\n",
           schema_headers, records, bench_delivered, bench_failed,
           (t2 - t0) * 1e9 / records, (t1 - t0) * 1e9 / records,
           (p1 - p0) * 1e9 / records, bench_delivered / (w1 - w0), w1 - w0,
           waits, (double) bytes / records, poll_every, FLOOR_WARMUP,
           cpus_allowed());

    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    free(recs);

    return bench_delivered == records ? 0 : 1;
}
