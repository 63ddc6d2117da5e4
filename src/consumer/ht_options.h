/*
 * Command-line and config-file options of the two hotel-trends commands.
 *
 * Parsing is kept apart from running so that it can be unit-tested and so
 * that every mistake is reported, with its place, before anything
 * connects anywhere.  librdkafka properties given with -X or in a config
 * file are set on a rd_kafka_conf_t at once, so that a misspelt property
 * is reported as file:line too.
 */

#ifndef HT_OPTIONS_H
#define HT_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>


#define HT_DEFAULT_BROKERS  "127.0.0.1:9092"
#define HT_DEFAULT_TOPIC    "hotel-data"
#define HT_DEFAULT_GROUP    "hotel-trends"
#define HT_DEFAULT_DB       "hotel-trends.db"

/*
 * --batch-size: records folded into one transaction at most.  The cost of
 * a transaction grows with the keys it touches, not with its records, so
 * a big batch is what makes a backlog cheap to read (10,000 hotels: a
 * batch of 1,000 records is ~1,000 upserts, one of 100,000 is ~10,000);
 * memory grows with the distinct keys only.  --batch-time still ends a
 * batch after a second at low rates.
 */
#define HT_DEFAULT_BATCH_SIZE  100000
#define HT_DEFAULT_BATCH_MS    1000

/*
 * librdkafka 2.0.2 stops fetching when its queue holds queued.min.messages
 * (100,000 by default) and looks again only about once a second: a
 * consumer that empties 100,000 records in a quarter of a second then
 * waits, capped near 200,000 records/s.  A queue that holds most of a
 * second's worth keeps the fetches going (300,000: ~450,000 records/s
 * before the fetcher waits); it costs ~330 bytes a queued record (the
 * message and librdkafka's own): a peak RSS of ~150 MB instead of ~90 MB
 * reading a backlog.  -X overrides it.
 */
#define HT_DEFAULT_QUEUED_MIN  "300000"

/*
 * --lock-timeout and --idle-in-transaction-timeout, PostgreSQL's
 * lock_timeout and idle_in_transaction_session_timeout for each of the
 * consumer's sessions, in ms (0: the server's setting).  A member stopped
 * inside a transaction (SIGSTOP, a frozen VM) holds its offsets rows'
 * locks until the server ends its session: the idle timeout bounds that,
 * and the lock timeout makes the member waiting for those rows give up,
 * say so and try again rather than wait without end.  A batch's
 * statements follow one another without a pause, so 30 s idle is never a
 * working member; 10 s on a lock is far beyond any batch's.
 */
#define HT_DEFAULT_LOCK_TIMEOUT_MS  10000
#define HT_DEFAULT_IDLE_TXN_MS      30000

/* report --window: the default, a day, and the longest, a year */
#define HT_DEFAULT_WINDOW   86400
#define HT_WINDOW_MIN       60
#define HT_WINDOW_MAX       (365 * 86400)

/* report --plot: the most lines one picture shows legibly */
#define HT_PLOT_MAX_HOTELS  12

/* report --top: the longest cut; --format html shows this many movers at
 * each end unless told, and at most HT_HTML_MAX_TOP (a page, not a
 * listing: the csv is for that) */
#define HT_TOP_MAX          1000000
#define HT_HTML_TOP         10
#define HT_HTML_MAX_TOP     100

/* consume --metrics-interval: seconds between two writes of the file */
#define HT_DEFAULT_METRICS_INTERVAL  5

/* the exit codes of hotel-trends */
#define HT_EXIT_OK       0
#define HT_EXIT_FAILURE  1
#define HT_EXIT_USAGE    2  /* a wrong option, or one the database refuses */


typedef struct {
    char              *topic;           /* strings: owned, freed by */
    char              *db;              /* ht_consume_opts_free() */
    rd_kafka_conf_t   *kconf;           /* owned until rd_kafka_new() */
    int64_t            batch_size;
    int64_t            batch_time_ms;
    int64_t            exit_idle_s;     /* 0: run until signalled */
    int64_t            stats_interval_s;
    int64_t            bucket_s;        /* aggregation bucket, seconds */
    int64_t            lock_timeout_ms; /* PostgreSQL session limits */
    int64_t            idle_txn_ms;
    char              *dead_letter;     /* topic for rejected records, owned */
    char              *metrics_file;    /* Prometheus text file, owned;
                                         * NULL: none */
    int64_t            metrics_interval_s;
    int                help;
    int                list_properties; /* -X list */
} ht_consume_opts_t;


typedef enum {
    HT_FORMAT_TABLE = 0,
    HT_FORMAT_CSV,
    HT_FORMAT_JSON,
    HT_FORMAT_HTML
} ht_format_e;


/* report --sort: the hotel id, or a figure of each line */
typedef enum {
    HT_SORT_DEFAULT = 0,        /* until parsed: by trend for html, else
                                 * by hotel */
    HT_SORT_HOTEL,
    HT_SORT_TREND,              /* of the short window (--window) */
    HT_SORT_TREND_WEEK,         /* of the 7-day window */
    HT_SORT_AVG,                /* over the period */
    HT_SORT_COUNT               /* over the period */
} ht_sort_e;


/* report --order; the default is descending for figures, ascending for
 * the hotel id */
typedef enum {
    HT_ORDER_DEFAULT = 0,
    HT_ORDER_ASC,
    HT_ORDER_DESC
} ht_order_e;


typedef struct {
    char         *db;           /* owned */
    char        **hotels;       /* owned array of owned strings */
    size_t        nhotels;
    char          currency[4];  /* empty: all */
    ht_format_e   format;
    int64_t       since;        /* unix seconds; INT64_MIN: no bound */
    int64_t       until;        /* unix seconds; INT64_MAX: no bound */
    int64_t       now;          /* end of the windows */
    int64_t       window_s;     /* the short window; 0: the default */
    char         *plot;         /* owned; NULL: no picture */
    ht_sort_e     sort;
    ht_order_e    order;        /* never HT_ORDER_DEFAULT once parsed */
    int64_t       top;          /* 0: every line */
    int64_t       min_count;    /* in both windows of the trend */
    int           help;
} ht_report_opts_t;


/* Sets the defaults; 0 or -1 (out of memory, err says so). */
int ht_consume_opts_init(ht_consume_opts_t *o, char *err, size_t errlen);

/*
 * Parses argv (argv[0] is the command name, "consume").  Returns 0, or -1
 * with a message in err; the caller prints it and exits 2.
 */
int ht_consume_opts_parse(ht_consume_opts_t *o, int argc, char **argv,
    char *err, size_t errlen);

/* Frees what the options own, including kconf unless it was taken. */
void ht_consume_opts_free(ht_consume_opts_t *o);

int ht_report_opts_parse(ht_report_opts_t *o, int argc, char **argv,
    char *err, size_t errlen);
void ht_report_opts_free(ht_report_opts_t *o);

/* Strict decimal integer in [min, max]; 0 or -1. */
int ht_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* Unix seconds, "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS]" (UTC); 0 or -1. */
int ht_parse_time(const char *s, int64_t *out);

/*
 * A short label for a duration, in the largest unit that divides it
 * exactly, hours at most: "24h", "1h", "5m", "90s".  The report's column
 * names (avg_24h) and the picture's title use it.
 */
void ht_duration_label(char *buf, size_t size, int64_t seconds);


#endif /* HT_OPTIONS_H */
