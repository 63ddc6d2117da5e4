/*
 * What the two benchmark tools (hk-bench.c, floor.c) share: a producer
 * with exactly the module's properties, its delivery reports counted,
 * the clocks they time with, and how they die.
 */

#ifndef BENCH_KAFKA_H
#define BENCH_KAFKA_H

#include <time.h>

#include <librdkafka/rdkafka.h>


/* delivery reports served so far, by outcome */
extern long long  bench_delivered;
extern long long  bench_failed;


/* "TOOL: " and fmt with arg on stderr, exit status 1 */
void bench_die(const char *fmt, const char *arg) __attribute__((noreturn));

/* the clock in seconds */
double bench_clock_s(clockid_t clock);

/* the whole process's CPU in seconds, user and system, all threads */
double bench_process_cpu_s(void);

/*
 * A producer for brokers with hk_kafka_producer_defaults, then each
 * "name=value" of xprops (as hotel_kafka_conf lines would set them), its
 * delivery reports counted; dies on any refusal.
 */
rd_kafka_t *bench_producer(const char *brokers, char **xprops, int nxprops);

#endif /* BENCH_KAFKA_H */
