/*
 * What the two benchmark tools share; see bench_kafka.h.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench_kafka.h"
#include "hk_kafka.h"


long long  bench_delivered;
long long  bench_failed;


void
bench_die(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", program_invocation_short_name);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(1);
}


double
bench_clock_s(clockid_t clock)
{
    struct timespec  ts;

    clock_gettime(clock, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


double
bench_process_cpu_s(void)
{
    struct rusage  ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
           + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}


static void
bench_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    if (m->err) {
        bench_failed++;
    } else {
        bench_delivered++;
    }
}


static void
bench_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char  err[512];

    if (hk_kafka_conf_set(conf, name, value, err, sizeof(err)) != 0) {
        bench_die("%s", err);
    }
}


rd_kafka_t *
bench_producer(const char *brokers, char **xprops, int nxprops)
{
    int                     i;
    char                    err[512], *eq;
    rd_kafka_t             *rk;
    rd_kafka_conf_t        *conf;
    const hk_kafka_prop_t  *p;

    conf = rd_kafka_conf_new();

    /* the module's defaults, from the one table the module reads */
    for (p = hk_kafka_producer_defaults; p->name; p++) {
        bench_conf_set(conf, p->name, p->value);
    }

    bench_conf_set(conf, "bootstrap.servers", brokers);

    for (i = 0; i < nxprops; i++) {
        eq = strchr(xprops[i], '=');
        if (eq == NULL) {
            bench_die("-X %s: want name=value", xprops[i]);
        }

        *eq = '\0';
        bench_conf_set(conf, xprops[i], eq + 1);
        *eq = '=';
    }

    rd_kafka_conf_set_dr_msg_cb(conf, bench_dr);

    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL) {
        bench_die("%s", err);
    }

    return rk;
}
