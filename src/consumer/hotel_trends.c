/*
 * hotel-trends: reads the HotelSearchResult records that
 * ngx_http_hotel_kafka_module publishes and keeps exact hourly aggregates
 * of the rates per hotel and currency ("consume"), and prints them with
 * their trends ("report").
 *
 * This file only dispatches the command line; each command lives in its
 * own file (ht_consume.c, ht_report.c).
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "ht_consume.h"
#include "ht_log.h"
#include "ht_options.h"
#include "ht_plot.h"
#include "ht_report.h"
#include "ht_store.h"


static int ht_main_consume(int argc, char **argv);
static int ht_main_report(int argc, char **argv);
static void ht_usage(FILE *out);


static const char  ht_usage_text[] =
"usage: hotel-trends consume [options]\n"
"       hotel-trends report [options]\n"
"\n"
"consume: add the records of a topic, exactly once, to aggregates per\n"
"         hotel, currency and time bucket\n"
"  -b, --brokers LIST      bootstrap brokers (" HT_DEFAULT_BROKERS ")\n"
"  -t, --topic NAME        topic (" HT_DEFAULT_TOPIC ")\n"
"  -g, --group NAME        consumer group (" HT_DEFAULT_GROUP ")\n"
"  -d, --db DB             SQLite file, sqlite:PATH, postgresql://... or\n"
"                          \"host=... dbname=...\" (" HT_DEFAULT_DB ")\n"
"  -X NAME=VALUE           librdkafka property; -X list shows them all\n"
"  -c, --config FILE       name=value lines: the options above by long\n"
"                          name (brokers, batch-size, ...) or librdkafka\n"
"                          properties\n"
"      --batch-size N      records per transaction at most (100000)\n"
"      --batch-time MS     milliseconds a batch waits at most (1000)\n"
"      --exit-idle S       exit 0 after S seconds without records (1 if\n"
"                          the group was never joined within 60 s)\n"
"      --stats-interval S  one line of statistics on stderr every S seconds\n"
"      --dead-letter TOPIC copy each rejected record there, with its\n"
"                          reason and origin in headers\n"
"      --bucket S          bucket size in seconds (3600): a divisor of a\n"
"                          day, 60 to 86400; fixed by the first consume\n"
"                          into a database, refused if another is given\n"
"      --lock-timeout MS   PostgreSQL: give up a lock wait after MS and\n"
"                          retry (10000; 0: the server's setting)\n"
"      --idle-in-transaction-timeout MS\n"
"                          PostgreSQL: the server ends a session idle\n"
"                          inside a transaction for MS, releasing its\n"
"                          locks (30000; 0: the server's setting)\n"
"      --metrics-file FILE write the consumer's metrics to FILE in\n"
"                          Prometheus' text format, replaced atomically\n"
"                          (node_exporter's textfile collector reads it)\n"
"      --metrics-interval S  seconds between two writes of it (5)\n"
"\n"
"report: print the aggregates per hotel and currency\n"
"  -d, --db DB             as above\n"
"      --hotel ID          only this hotel (repeatable)\n"
"      --currency CODE     only this currency\n"
"      --format FMT        table (default), csv, json, or html: a page\n"
"                          of the risers and fallers, each with a chart\n"
"      --since TIME        only buckets from TIME (unix seconds or\n"
"      --until TIME        YYYY-MM-DD[THH:MM[:SS]] UTC) to before --until\n"
"      --now TIME          end of the windows (the clock)\n"
"      --window S          the short window, in seconds (86400); its\n"
"                          columns are avg_<w> and trend_<w>, w being\n"
"                          24h, 1h, 5m, 90s...; the 7d window stays\n"
"      --sort KEY          order by hotel (the default; trend for html),\n"
"                          trend (of the short window), trend_7d, avg or\n"
"                          count\n"
"      --order DIR         asc or desc (desc for a figure, asc for hotel)\n"
"      --top N             only the first N lines of that order (html: N\n"
"                          risers and N fallers, 10 unless given)\n"
"      --min-count N       only lines with N records or more in each of\n"
"                          the two windows of the trend (0)\n"
"      --plot FILE.png     also draw the --hotel hotels' average rate per\n"
"                          bucket over time (gnuplot)\n"
"\n"
"  -h, --help              this text\n";


int
main(int argc, char **argv)
{
    ht_store_init_process();

    if (argc < 2) {
        ht_usage(stderr);
        return HT_EXIT_USAGE;
    }

    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0
        || strcmp(argv[1], "help") == 0)
    {
        ht_usage(stdout);
        return HT_EXIT_OK;
    }

    if (strcmp(argv[1], "consume") == 0) {
        return ht_main_consume(argc - 1, argv + 1);
    }

    if (strcmp(argv[1], "report") == 0) {
        return ht_main_report(argc - 1, argv + 1);
    }

    fprintf(stderr, "hotel-trends: unknown command \"%s\"\n", argv[1]);
    ht_usage(stderr);

    return HT_EXIT_USAGE;
}


static void
ht_usage(FILE *out)
{
    fputs(ht_usage_text, out);
}


static int
ht_main_consume(int argc, char **argv)
{
    int                 rc;
    char                err[512];
    ht_consume_opts_t   o;

    if (ht_consume_opts_init(&o, err, sizeof(err)) != 0) {
        fprintf(stderr, "hotel-trends: %s\n", err);
        ht_consume_opts_free(&o);
        return HT_EXIT_FAILURE;
    }

    if (ht_consume_opts_parse(&o, argc, argv, err, sizeof(err)) != 0) {
        fprintf(stderr, "hotel-trends consume: %s\n"
                "try \"hotel-trends --help\"\n", err);
        ht_consume_opts_free(&o);
        return HT_EXIT_USAGE;
    }

    if (o.help) {
        ht_usage(stdout);
        ht_consume_opts_free(&o);
        return HT_EXIT_OK;
    }

    if (o.list_properties) {
        rd_kafka_conf_properties_show(stdout);
        ht_consume_opts_free(&o);
        return HT_EXIT_OK;
    }

    /* takes o.kconf */
    rc = ht_consume_run(&o);

    ht_consume_opts_free(&o);

    return rc;
}


static int
ht_main_report(int argc, char **argv)
{
    int                rc;
    char               err[512];
    const char        *path;
    ht_store_t        *store;
    ht_report_opts_t   o;

    if (ht_report_opts_parse(&o, argc, argv, err, sizeof(err)) != 0) {
        fprintf(stderr, "hotel-trends report: %s\n"
                "try \"hotel-trends --help\"\n", err);
        ht_report_opts_free(&o);
        return HT_EXIT_USAGE;
    }

    if (o.help) {
        ht_usage(stdout);
        ht_report_opts_free(&o);
        return HT_EXIT_OK;
    }

    /* a report must not leave an empty database behind a typo */
    path = ht_store_sqlite_path(o.db);

    if (path != NULL && access(path, R_OK) != 0) {
        fprintf(stderr, "hotel-trends report: %s: %s\n", path,
                strerror(errno));
        ht_report_opts_free(&o);
        return HT_EXIT_FAILURE;
    }

    store = ht_store_open(o.db, err, sizeof(err));
    if (store == NULL) {
        fprintf(stderr, "hotel-trends report: %s\n", err);
        ht_report_opts_free(&o);
        return HT_EXIT_FAILURE;
    }

    rc = ht_report_run(store, &o, stdout, err, sizeof(err));

    if (rc == 0 && o.plot != NULL) {
        rc = ht_plot_run(store, &o, err, sizeof(err));
    }

    if (rc != 0) {
        ht_log_error("%s", err);
    }

    store->ops->close(store);
    ht_report_opts_free(&o);

    return rc == 0 ? HT_EXIT_OK : HT_EXIT_FAILURE;
}
