/*
 * Option parsing for "hotel-trends consume" and "hotel-trends report".
 *
 * One setter, ht_consume_opt_set(), serves the command line and the
 * config file, so that both accept exactly the same names and values and
 * the last setting wins wherever it came from.
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ht_decode.h"
#include "ht_options.h"


/*
 * The codes getopt_long() returns for the options that have no short
 * form: above any character, so that they never meet a short option's.
 * A code is only ever turned back into its name by ht_opt_name(), which
 * looks it up: neither the values nor the order of a table matter.
 */
enum {
    HT_OPT_BATCH_SIZE = 256,
    HT_OPT_BATCH_TIME,
    HT_OPT_EXIT_IDLE,
    HT_OPT_STATS_INTERVAL,
    HT_OPT_BUCKET,
    HT_OPT_DEAD_LETTER,
    HT_OPT_LOCK_TIMEOUT,
    HT_OPT_IDLE_TXN,
    HT_OPT_METRICS_FILE,
    HT_OPT_METRICS_INTERVAL,
    HT_OPT_HOTEL,
    HT_OPT_CURRENCY,
    HT_OPT_FORMAT,
    HT_OPT_SINCE,
    HT_OPT_UNTIL,
    HT_OPT_NOW,
    HT_OPT_PLOT,
    HT_OPT_WINDOW,
    HT_OPT_SORT,
    HT_OPT_ORDER,
    HT_OPT_TOP,
    HT_OPT_MIN_COUNT
};


static const struct option  ht_consume_longopts[] = {
    { "brokers",        required_argument, NULL, 'b' },
    { "topic",          required_argument, NULL, 't' },
    { "group",          required_argument, NULL, 'g' },
    { "db",             required_argument, NULL, 'd' },
    { "config",         required_argument, NULL, 'c' },
    { "batch-size",     required_argument, NULL, HT_OPT_BATCH_SIZE },
    { "batch-time",     required_argument, NULL, HT_OPT_BATCH_TIME },
    { "exit-idle",      required_argument, NULL, HT_OPT_EXIT_IDLE },
    { "stats-interval", required_argument, NULL, HT_OPT_STATS_INTERVAL },
    { "bucket",         required_argument, NULL, HT_OPT_BUCKET },
    { "dead-letter",    required_argument, NULL, HT_OPT_DEAD_LETTER },
    { "lock-timeout",   required_argument, NULL, HT_OPT_LOCK_TIMEOUT },
    { "idle-in-transaction-timeout",
                        required_argument, NULL, HT_OPT_IDLE_TXN },
    { "metrics-file",   required_argument, NULL, HT_OPT_METRICS_FILE },
    { "metrics-interval", required_argument, NULL, HT_OPT_METRICS_INTERVAL },
    { "help",           no_argument,       NULL, 'h' },
    { NULL, 0, NULL, 0 }
};


static const struct option  ht_report_longopts[] = {
    { "db",             required_argument, NULL, 'd' },
    { "hotel",          required_argument, NULL, HT_OPT_HOTEL },
    { "currency",       required_argument, NULL, HT_OPT_CURRENCY },
    { "format",         required_argument, NULL, HT_OPT_FORMAT },
    { "since",          required_argument, NULL, HT_OPT_SINCE },
    { "until",          required_argument, NULL, HT_OPT_UNTIL },
    { "now",            required_argument, NULL, HT_OPT_NOW },
    { "plot",           required_argument, NULL, HT_OPT_PLOT },
    { "window",         required_argument, NULL, HT_OPT_WINDOW },
    { "sort",           required_argument, NULL, HT_OPT_SORT },
    { "order",          required_argument, NULL, HT_OPT_ORDER },
    { "top",            required_argument, NULL, HT_OPT_TOP },
    { "min-count",      required_argument, NULL, HT_OPT_MIN_COUNT },
    { "help",           no_argument,       NULL, 'h' },
    { NULL, 0, NULL, 0 }
};


static const char *ht_opt_name(const struct option *opts, int code);
static int ht_consume_opts_file(ht_consume_opts_t *o, const char *path,
    char *err, size_t errlen);
static int ht_consume_opt_set(ht_consume_opts_t *o, const char *name,
    const char *value, char *err, size_t errlen);
static int ht_consume_opt_x(ht_consume_opts_t *o, const char *arg,
    char *err, size_t errlen);
static void ht_report_opts_init(ht_report_opts_t *o);
static int ht_report_opt_set(ht_report_opts_t *o, int code,
    const char *value, char *err, size_t errlen);
static int ht_report_add_hotel(ht_report_opts_t *o, const char *id,
    char *err, size_t errlen);
static int ht_report_set_currency(ht_report_opts_t *o, const char *code,
    char *err, size_t errlen);
static int ht_report_set_format(ht_report_opts_t *o, const char *name,
    char *err, size_t errlen);
static int ht_report_set_time(int64_t *field, const char *name,
    const char *value, char *err, size_t errlen);
static int ht_report_set_sort(ht_report_opts_t *o, const char *name,
    char *err, size_t errlen);
static int ht_report_set_order(ht_report_opts_t *o, const char *name,
    char *err, size_t errlen);
static int ht_report_check_html(ht_report_opts_t *o, char *err,
    size_t errlen);
static int ht_report_opts_check(ht_report_opts_t *o, char *err,
    size_t errlen);
static int ht_set_string(char **field, const char *value, char *err,
    size_t errlen);
static int ht_getopt_error(int c, char **argv, char *err, size_t errlen);
static int ht_kconf_set(ht_consume_opts_t *o, const char *name,
    const char *value, char *err, size_t errlen);
static char *ht_trim(char *s);


int
ht_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char       *end;
    long long   v;

    if (s == NULL || *s == '\0' || *s == ' ' || *s == '+') {
        return -1;
    }

    errno = 0;
    v = strtoll(s, &end, 10);

    if (errno != 0 || *end != '\0' || v < min || v > max) {
        return -1;
    }

    *out = v;

    return 0;
}


int
ht_parse_time(const char *s, int64_t *out)
{
    size_t       i;
    struct tm    tm;
    const char  *end, *const *f;

    static const char  *formats[] = {
        "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%MZ",
        "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
        "%Y-%m-%d", NULL
    };

    for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
        /* void */
    }

    if (i > 0 && s[i] == '\0') {
        return ht_parse_int(s, 0, INT64_MAX / 2, out);
    }

    for (f = formats; *f; f++) {
        memset(&tm, 0, sizeof(tm));

        end = strptime(s, *f, &tm);

        if (end != NULL && *end == '\0') {
            *out = (int64_t) timegm(&tm);
            return 0;
        }
    }

    return -1;
}


void
ht_duration_label(char *buf, size_t size, int64_t seconds)
{
    if (seconds > 0 && seconds % 3600 == 0) {
        snprintf(buf, size, "%lldh", (long long) (seconds / 3600));

    } else if (seconds > 0 && seconds % 60 == 0) {
        snprintf(buf, size, "%lldm", (long long) (seconds / 60));

    } else {
        snprintf(buf, size, "%llds", (long long) seconds);
    }
}


int
ht_consume_opts_init(ht_consume_opts_t *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));

    o->batch_size = HT_DEFAULT_BATCH_SIZE;
    o->batch_time_ms = HT_DEFAULT_BATCH_MS;
    o->bucket_s = HT_BUCKET_SECONDS;
    o->lock_timeout_ms = HT_DEFAULT_LOCK_TIMEOUT_MS;
    o->idle_txn_ms = HT_DEFAULT_IDLE_TXN_MS;
    o->metrics_interval_s = HT_DEFAULT_METRICS_INTERVAL;

    o->kconf = rd_kafka_conf_new();

    if (ht_set_string(&o->topic, HT_DEFAULT_TOPIC, err, errlen) != 0
        || ht_set_string(&o->db, HT_DEFAULT_DB, err, errlen) != 0
        || ht_kconf_set(o, "bootstrap.servers", HT_DEFAULT_BROKERS,
                        err, errlen) != 0
        || ht_kconf_set(o, "group.id", HT_DEFAULT_GROUP, err, errlen) != 0
        || ht_kconf_set(o, "auto.offset.reset", "earliest", err, errlen) != 0
        || ht_kconf_set(o, "queued.min.messages", HT_DEFAULT_QUEUED_MIN,
                        err, errlen) != 0)
    {
        return -1;
    }

    return 0;
}


void
ht_consume_opts_free(ht_consume_opts_t *o)
{
    free(o->topic);
    free(o->db);
    free(o->dead_letter);
    free(o->metrics_file);

    if (o->kconf != NULL) {
        rd_kafka_conf_destroy(o->kconf);
    }

    memset(o, 0, sizeof(*o));
}


int
ht_consume_opts_parse(ht_consume_opts_t *o, int argc, char **argv, char *err,
    size_t errlen)
{
    int          c;
    const char  *name;

    /* 0, not 1: makes glibc forget the state of a previous parse */
    optind = 0;
    opterr = 0;

    while ((c = getopt_long(argc, argv, ":b:t:g:d:c:X:h", ht_consume_longopts,
                            NULL))
           != -1)
    {
        switch (c) {

        case 'h':
            o->help = 1;
            return 0;

        case 'c':
            if (ht_consume_opts_file(o, optarg, err, errlen) != 0) {
                return -1;
            }

            break;

        case 'X':
            if (ht_consume_opt_x(o, optarg, err, errlen) != 0) {
                return -1;
            }

            break;

        default:
            /* the others are set by name, as in a config file */
            name = ht_opt_name(ht_consume_longopts, c);

            if (name == NULL) {
                return ht_getopt_error(c, argv, err, errlen);
            }

            if (ht_consume_opt_set(o, name, optarg, err, errlen) != 0) {
                return -1;
            }

            break;
        }
    }

    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument \"%s\"", argv[optind]);
        return -1;
    }

    return 0;
}


/* -X name=value, or -X list */
static int
ht_consume_opt_x(ht_consume_opts_t *o, const char *arg, char *err,
    size_t errlen)
{
    char        name[256];
    const char *eq;

    if (strcmp(arg, "list") == 0) {
        o->list_properties = 1;
        return 0;
    }

    eq = strchr(arg, '=');

    if (eq == NULL || eq == arg || (size_t) (eq - arg) >= sizeof(name)) {
        snprintf(err, errlen, "-X expects name=value, not \"%s\"", arg);
        return -1;
    }

    memcpy(name, arg, eq - arg);
    name[eq - arg] = '\0';

    return ht_kconf_set(o, name, eq + 1, err, errlen);
}


/* the long name of the option whose getopt code is code, NULL if none */
static const char *
ht_opt_name(const struct option *opts, int code)
{
    for ( /* void */ ; opts->name != NULL; opts++) {
        if (opts->val == code) {
            return opts->name;
        }
    }

    return NULL;
}


/* a file of name=value lines; errors are "file:line: ..." */
static int
ht_consume_opts_file(ht_consume_opts_t *o, const char *path, char *err,
    size_t errlen)
{
    int      rc;
    char    *line, *name, *value, *eq, msg[512];
    FILE    *f;
    size_t   cap, lineno;

    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }

    line = NULL;
    cap = 0;
    lineno = 0;
    rc = 0;

    while (getline(&line, &cap, f) != -1) {
        lineno++;

        name = ht_trim(line);

        if (*name == '\0' || *name == '#') {
            continue;
        }

        eq = strchr(name, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "%s:%zu: expected name=value", path, lineno);
            rc = -1;
            break;
        }

        *eq = '\0';
        name = ht_trim(name);
        value = ht_trim(eq + 1);

        if (ht_consume_opt_set(o, name, value, msg, sizeof(msg)) != 0) {
            snprintf(err, errlen, "%s:%zu: %s", path, lineno, msg);
            rc = -1;
            break;
        }
    }

    free(line);
    fclose(f);

    return rc;
}


static int
ht_consume_opt_set(ht_consume_opts_t *o, const char *name, const char *value,
    char *err, size_t errlen)
{
    int64_t  *field, min, max, v;

    if (strcmp(name, "brokers") == 0) {
        return ht_kconf_set(o, "bootstrap.servers", value, err, errlen);
    }

    if (strcmp(name, "group") == 0) {
        return ht_kconf_set(o, "group.id", value, err, errlen);
    }

    if (strcmp(name, "topic") == 0 || strcmp(name, "db") == 0) {
        if (*value == '\0') {
            snprintf(err, errlen, "%s must not be empty", name);
            return -1;
        }

        return ht_set_string(name[0] == 't' ? &o->topic : &o->db, value,
                             err, errlen);
    }

    if (strcmp(name, "dead-letter") == 0) {
        if (*value == '\0') {
            snprintf(err, errlen, "dead-letter must name a topic");
            return -1;
        }

        return ht_set_string(&o->dead_letter, value, err, errlen);
    }

    if (strcmp(name, "metrics-file") == 0) {
        if (*value == '\0') {
            snprintf(err, errlen, "metrics-file must name a file");
            return -1;
        }

        return ht_set_string(&o->metrics_file, value, err, errlen);
    }

    if (strcmp(name, "bucket") == 0) {
        /* buckets must tile a day exactly: a day's and a week's windows
         * then hold whole buckets only */
        if (ht_parse_int(value, HT_BUCKET_MIN, HT_BUCKET_MAX, &v) != 0
            || HT_BUCKET_MAX % v != 0)
        {
            snprintf(err, errlen, "bucket must be a number of seconds from "
                     "%d to %d that divides a day (60, 300, 600, 900, "
                     "1800, 3600, 86400...), not \"%s\"", HT_BUCKET_MIN,
                     HT_BUCKET_MAX, value);
            return -1;
        }

        o->bucket_s = v;

        return 0;
    }

    min = 1;

    if (strcmp(name, "batch-size") == 0) {
        field = &o->batch_size;
        max = 1000000;

    } else if (strcmp(name, "batch-time") == 0) {
        field = &o->batch_time_ms;
        max = 3600 * 1000;

    } else if (strcmp(name, "exit-idle") == 0) {
        field = &o->exit_idle_s;
        min = 0;
        max = 86400 * 365;

    } else if (strcmp(name, "stats-interval") == 0) {
        field = &o->stats_interval_s;
        min = 0;
        max = 86400;

    } else if (strcmp(name, "lock-timeout") == 0) {
        field = &o->lock_timeout_ms;
        min = 0;
        max = 86400 * 1000;

    } else if (strcmp(name, "idle-in-transaction-timeout") == 0) {
        field = &o->idle_txn_ms;
        min = 0;
        max = 86400 * 1000;
    } else if (strcmp(name, "metrics-interval") == 0) {
        field = &o->metrics_interval_s;
        max = 3600;

    } else if (strchr(name, '.') != NULL) {
        /* every librdkafka property has a dot; our own names have none */
        return ht_kconf_set(o, name, value, err, errlen);

    } else {
        snprintf(err, errlen, "unknown option \"%s\"", name);
        return -1;
    }

    if (ht_parse_int(value, min, max, field) != 0) {
        snprintf(err, errlen, "%s must be an integer from %lld to %lld, "
                 "not \"%s\"", name, (long long) min, (long long) max, value);
        return -1;
    }

    return 0;
}


/* getopt_long()'s complaint ('?' or ':') in our words; returns -1 */

static int
ht_getopt_error(int c, char **argv, char *err, size_t errlen)
{
    if (c == ':') {
        snprintf(err, errlen, "option \"%s\" needs a value",
                 argv[optind - 1]);

    } else if (optopt != 0) {
        snprintf(err, errlen, "unknown option \"-%c\"", optopt);

    } else {
        snprintf(err, errlen, "unknown option \"%s\"", argv[optind - 1]);
    }

    return -1;
}


static int
ht_kconf_set(ht_consume_opts_t *o, const char *name, const char *value,
    char *err, size_t errlen)
{
    char  msg[512];

    if (rd_kafka_conf_set(o->kconf, name, value, msg, sizeof(msg))
        != RD_KAFKA_CONF_OK)
    {
        snprintf(err, errlen, "%s", msg);
        return -1;
    }

    return 0;
}


static int
ht_set_string(char **field, const char *value, char *err, size_t errlen)
{
    char  *s;

    s = strdup(value);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    free(*field);
    *field = s;

    return 0;
}


/* trims in place; returns a pointer into s */
static char *
ht_trim(char *s)
{
    size_t  len;

    while (*s == ' ' || *s == '\t') {
        s++;
    }

    len = strlen(s);

    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'
                       || s[len - 1] == '\n' || s[len - 1] == '\r'))
    {
        s[--len] = '\0';
    }

    return s;
}


int
ht_report_opts_parse(ht_report_opts_t *o, int argc, char **argv, char *err,
    size_t errlen)
{
    int  c;

    ht_report_opts_init(o);

    optind = 0;
    opterr = 0;

    while ((c = getopt_long(argc, argv, ":d:h", ht_report_longopts, NULL))
           != -1)
    {
        if (c == 'h') {
            o->help = 1;
            return 0;
        }

        if (ht_opt_name(ht_report_longopts, c) == NULL) {
            return ht_getopt_error(c, argv, err, errlen);
        }

        if (ht_report_opt_set(o, c, optarg, err, errlen) != 0) {
            return -1;
        }
    }

    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument \"%s\"", argv[optind]);
        return -1;
    }

    return ht_report_opts_check(o, err, errlen);
}


static void
ht_report_opts_init(ht_report_opts_t *o)
{
    memset(o, 0, sizeof(*o));

    o->since = INT64_MIN;
    o->until = INT64_MAX;
    o->now = (int64_t) time(NULL);
    o->window_s = HT_DEFAULT_WINDOW;
}


/* one option of ht_report_longopts, by its code */
static int
ht_report_opt_set(ht_report_opts_t *o, int code, const char *value,
    char *err, size_t errlen)
{
    const char  *name;

    name = ht_opt_name(ht_report_longopts, code);

    switch (code) {

    case 'd':
        return ht_set_string(&o->db, value, err, errlen);

    case HT_OPT_HOTEL:
        return ht_report_add_hotel(o, value, err, errlen);

    case HT_OPT_CURRENCY:
        return ht_report_set_currency(o, value, err, errlen);

    case HT_OPT_FORMAT:
        return ht_report_set_format(o, value, err, errlen);

    case HT_OPT_SINCE:
        return ht_report_set_time(&o->since, name, value, err, errlen);

    case HT_OPT_UNTIL:
        return ht_report_set_time(&o->until, name, value, err, errlen);

    case HT_OPT_NOW:
        return ht_report_set_time(&o->now, name, value, err, errlen);

    case HT_OPT_PLOT:
        return ht_set_string(&o->plot, value, err, errlen);

    case HT_OPT_WINDOW:
        if (ht_parse_int(value, HT_WINDOW_MIN, HT_WINDOW_MAX, &o->window_s)
            != 0)
        {
            snprintf(err, errlen, "--window expects a number of seconds "
                     "from %d to %d, not \"%s\"", HT_WINDOW_MIN,
                     HT_WINDOW_MAX, value);
            return -1;
        }

        return 0;

    case HT_OPT_SORT:
        return ht_report_set_sort(o, value, err, errlen);

    case HT_OPT_ORDER:
        return ht_report_set_order(o, value, err, errlen);

    case HT_OPT_TOP:
        if (ht_parse_int(value, 1, HT_TOP_MAX, &o->top) != 0) {
            snprintf(err, errlen, "--top expects a number of lines from 1 "
                     "to %d, not \"%s\"", HT_TOP_MAX, value);
            return -1;
        }

        return 0;

    case HT_OPT_MIN_COUNT:
        if (ht_parse_int(value, 0, INT64_MAX, &o->min_count) != 0) {
            snprintf(err, errlen, "--min-count expects a number of records, "
                     "not \"%s\"", value);
            return -1;
        }

        return 0;

    default:
        snprintf(err, errlen, "unknown option \"%s\"", name);
        return -1;
    }
}


static int
ht_report_add_hotel(ht_report_opts_t *o, const char *id, char *err,
    size_t errlen)
{
    char  **hotels;

    hotels = realloc(o->hotels, (o->nhotels + 1) * sizeof(char *));
    if (hotels == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    o->hotels = hotels;
    o->hotels[o->nhotels] = NULL;

    if (ht_set_string(&o->hotels[o->nhotels], id, err, errlen) != 0) {
        return -1;
    }

    o->nhotels++;

    return 0;
}


static int
ht_report_set_currency(ht_report_opts_t *o, const char *code, char *err,
    size_t errlen)
{
    if (strlen(code) != 3
        || strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
    {
        snprintf(err, errlen, "--currency expects three upper-case "
                 "letters, not \"%s\"", code);
        return -1;
    }

    memcpy(o->currency, code, 4);

    return 0;
}


static int
ht_report_set_format(ht_report_opts_t *o, const char *name, char *err,
    size_t errlen)
{
    if (strcmp(name, "table") == 0) {
        o->format = HT_FORMAT_TABLE;

    } else if (strcmp(name, "csv") == 0) {
        o->format = HT_FORMAT_CSV;

    } else if (strcmp(name, "json") == 0) {
        o->format = HT_FORMAT_JSON;

    } else if (strcmp(name, "html") == 0) {
        o->format = HT_FORMAT_HTML;

    } else {
        snprintf(err, errlen, "--format expects table, csv, json or html, "
                 "not \"%s\"", name);
        return -1;
    }

    return 0;
}


static int
ht_report_set_sort(ht_report_opts_t *o, const char *name, char *err,
    size_t errlen)
{
    size_t  i;

    static const struct {
        const char  *name;
        ht_sort_e    sort;
    }  keys[] = {
        { "hotel", HT_SORT_HOTEL },
        { "trend", HT_SORT_TREND },
        { "trend_7d", HT_SORT_TREND_WEEK },
        { "avg", HT_SORT_AVG },
        { "count", HT_SORT_COUNT }
    };

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcmp(name, keys[i].name) == 0) {
            o->sort = keys[i].sort;
            return 0;
        }
    }

    snprintf(err, errlen, "--sort expects hotel, trend, trend_7d, avg or "
             "count, not \"%s\"", name);

    return -1;
}


static int
ht_report_set_order(ht_report_opts_t *o, const char *name, char *err,
    size_t errlen)
{
    if (strcmp(name, "asc") == 0) {
        o->order = HT_ORDER_ASC;

    } else if (strcmp(name, "desc") == 0) {
        o->order = HT_ORDER_DESC;

    } else {
        snprintf(err, errlen, "--order expects asc or desc, not \"%s\"",
                 name);
        return -1;
    }

    return 0;
}


/* --since, --until or --now (name) */
static int
ht_report_set_time(int64_t *field, const char *name, const char *value,
    char *err, size_t errlen)
{
    if (ht_parse_time(value, field) != 0) {
        snprintf(err, errlen, "--%s expects unix seconds or "
                 "YYYY-MM-DD[THH:MM[:SS]] (UTC), not \"%s\"", name, value);
        return -1;
    }

    return 0;
}


/* what holds between options, once all are read */
static int
ht_report_opts_check(ht_report_opts_t *o, char *err, size_t errlen)
{
    if (o->plot != NULL
        && (o->nhotels == 0 || o->nhotels > HT_PLOT_MAX_HOTELS))
    {
        snprintf(err, errlen, "--plot draws 1 to %d hotels: "
                 "name them with --hotel", HT_PLOT_MAX_HOTELS);
        return -1;
    }

    if (o->db == NULL && ht_set_string(&o->db, HT_DEFAULT_DB, err, errlen)) {
        return -1;
    }

    if (o->format == HT_FORMAT_HTML) {
        if (ht_report_check_html(o, err, errlen) != 0) {
            return -1;
        }

    } else if (o->sort == HT_SORT_DEFAULT) {
        o->sort = HT_SORT_HOTEL;
    }

    /* the biggest figures first, names from A */
    if (o->order == HT_ORDER_DEFAULT) {
        o->order = (o->sort == HT_SORT_HOTEL) ? HT_ORDER_ASC : HT_ORDER_DESC;
    }

    if (o->since >= o->until) {
        snprintf(err, errlen, "--since must be before --until");
        return -1;
    }

    /* windows end at --until when one is given and "now" was not */
    if (o->until != INT64_MAX && o->now > o->until) {
        o->now = o->until;
    }

    return 0;
}


/*
 * The page shows the two ends of an order by trend, the risers and the
 * fallers: --order would pick one end, and an order by name, average or
 * count has no risers.
 */
static int
ht_report_check_html(ht_report_opts_t *o, char *err, size_t errlen)
{
    if (o->sort == HT_SORT_DEFAULT) {
        o->sort = HT_SORT_TREND;
    }

    if (o->sort != HT_SORT_TREND && o->sort != HT_SORT_TREND_WEEK) {
        snprintf(err, errlen, "--format html shows the risers and fallers "
                 "of a trend: --sort trend (the default) or trend_7d");
        return -1;
    }

    if (o->order != HT_ORDER_DEFAULT) {
        snprintf(err, errlen, "--format html shows both ends of the order: "
                 "leave --order out");
        return -1;
    }

    if (o->top == 0) {
        o->top = HT_HTML_TOP;
    }

    if (o->top > HT_HTML_MAX_TOP) {
        snprintf(err, errlen, "--format html shows at most %d risers and "
                 "%d fallers (--top)", HT_HTML_MAX_TOP, HT_HTML_MAX_TOP);
        return -1;
    }

    o->order = HT_ORDER_DESC;

    return 0;
}


void
ht_report_opts_free(ht_report_opts_t *o)
{
    size_t  i;

    for (i = 0; i < o->nhotels; i++) {
        free(o->hotels[i]);
    }

    free(o->hotels);
    free(o->db);
    free(o->plot);

    memset(o, 0, sizeof(*o));
}
