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


static int ht_consume_opt_set(ht_consume_opts_t *o, const char *name,
    const char *value, char *err, size_t errlen);
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

    if (o->kconf != NULL) {
        rd_kafka_conf_destroy(o->kconf);
    }

    memset(o, 0, sizeof(*o));
}


int
ht_consume_opts_parse(ht_consume_opts_t *o, int argc, char **argv, char *err,
    size_t errlen)
{
    int          c, idx;
    char        *eq, name[256];
    const char  *opt_name;

    static const struct option  longopts[] = {
        { "brokers",        required_argument, NULL, 'b' },
        { "topic",          required_argument, NULL, 't' },
        { "group",          required_argument, NULL, 'g' },
        { "db",             required_argument, NULL, 'd' },
        { "config",         required_argument, NULL, 'c' },
        { "batch-size",     required_argument, NULL, 1 },
        { "batch-time",     required_argument, NULL, 2 },
        { "exit-idle",      required_argument, NULL, 3 },
        { "stats-interval", required_argument, NULL, 4 },
        { "bucket",         required_argument, NULL, 5 },
        { "dead-letter",    required_argument, NULL, 6 },
        { "help",           no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    /* 0, not 1: makes glibc forget the state of a previous parse */
    optind = 0;
    opterr = 0;

    for ( ;; ) {
        idx = -1;
        c = getopt_long(argc, argv, ":b:t:g:d:c:X:h", longopts, &idx);

        if (c == -1) {
            break;
        }

        opt_name = NULL;

        switch (c) {

        case 'h':
            o->help = 1;
            return 0;

        case 'b':
            opt_name = "brokers";
            break;

        case 't':
            opt_name = "topic";
            break;

        case 'g':
            opt_name = "group";
            break;

        case 'd':
            opt_name = "db";
            break;

        case 1: case 2: case 3: case 4: case 5: case 6:
            opt_name = longopts[idx].name;
            break;

        case 'c':
            if (ht_consume_opts_file(o, optarg, err, errlen) != 0) {
                return -1;
            }

            continue;

        case 'X':
            if (strcmp(optarg, "list") == 0) {
                o->list_properties = 1;
                continue;
            }

            eq = strchr(optarg, '=');

            if (eq == NULL || eq == optarg
                || (size_t) (eq - optarg) >= sizeof(name))
            {
                snprintf(err, errlen, "-X expects name=value, not \"%s\"",
                         optarg);
                return -1;
            }

            memcpy(name, optarg, eq - optarg);
            name[eq - optarg] = '\0';

            if (ht_kconf_set(o, name, eq + 1, err, errlen) != 0) {
                return -1;
            }

            continue;

        default:
            return ht_getopt_error(c, argv, err, errlen);
        }

        if (ht_consume_opt_set(o, opt_name, optarg, err, errlen) != 0) {
            return -1;
        }
    }

    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument \"%s\"", argv[optind]);
        return -1;
    }

    return 0;
}


int
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
    int     c;
    char  **hotels;

    static const struct option  longopts[] = {
        { "db",       required_argument, NULL, 'd' },
        { "hotel",    required_argument, NULL, 1 },
        { "currency", required_argument, NULL, 2 },
        { "format",   required_argument, NULL, 3 },
        { "since",    required_argument, NULL, 4 },
        { "until",    required_argument, NULL, 5 },
        { "now",      required_argument, NULL, 6 },
        { "plot",     required_argument, NULL, 7 },
        { "window",   required_argument, NULL, 8 },
        { "help",     no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(o, 0, sizeof(*o));
    o->since = INT64_MIN;
    o->until = INT64_MAX;
    o->now = (int64_t) time(NULL);
    o->window_s = HT_DEFAULT_WINDOW;

    optind = 0;
    opterr = 0;

    while ((c = getopt_long(argc, argv, ":d:h", longopts, NULL)) != -1) {

        switch (c) {

        case 'h':
            o->help = 1;
            return 0;

        case 'd':
            if (ht_set_string(&o->db, optarg, err, errlen) != 0) {
                return -1;
            }

            break;

        case 1:
            hotels = realloc(o->hotels, (o->nhotels + 1) * sizeof(char *));
            if (hotels == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }

            o->hotels = hotels;
            o->hotels[o->nhotels] = NULL;

            if (ht_set_string(&o->hotels[o->nhotels], optarg, err, errlen)
                != 0)
            {
                return -1;
            }

            o->nhotels++;
            break;

        case 2:
            if (strlen(optarg) != 3
                || strspn(optarg, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
            {
                snprintf(err, errlen, "--currency expects three upper-case "
                         "letters, not \"%s\"", optarg);
                return -1;
            }

            memcpy(o->currency, optarg, 4);
            break;

        case 3:
            if (strcmp(optarg, "table") == 0) {
                o->format = HT_FORMAT_TABLE;

            } else if (strcmp(optarg, "csv") == 0) {
                o->format = HT_FORMAT_CSV;

            } else if (strcmp(optarg, "json") == 0) {
                o->format = HT_FORMAT_JSON;

            } else {
                snprintf(err, errlen, "--format expects table, csv or json, "
                         "not \"%s\"", optarg);
                return -1;
            }

            break;

        case 4: case 5: case 6:
            if (ht_parse_time(optarg, c == 4 ? &o->since
                                     : c == 5 ? &o->until : &o->now) != 0)
            {
                snprintf(err, errlen, "%s expects unix seconds or "
                         "YYYY-MM-DD[THH:MM[:SS]] (UTC), not \"%s\"",
                         longopts[c].name, optarg);
                return -1;
            }

            break;

        case 7:
            if (ht_set_string(&o->plot, optarg, err, errlen) != 0) {
                return -1;
            }

            break;

        case 8:
            if (ht_parse_int(optarg, HT_WINDOW_MIN, HT_WINDOW_MAX,
                             &o->window_s) != 0)
            {
                snprintf(err, errlen, "--window expects a number of seconds "
                         "from %d to %d, not \"%s\"", HT_WINDOW_MIN,
                         HT_WINDOW_MAX, optarg);
                return -1;
            }

            break;

        default:
            return ht_getopt_error(c, argv, err, errlen);
        }
    }

    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument \"%s\"", argv[optind]);
        return -1;
    }

    if (o->plot != NULL && (o->nhotels == 0 || o->nhotels > 12)) {
        snprintf(err, errlen, "--plot draws 1 to 12 hotels: "
                 "name them with --hotel");
        return -1;
    }

    if (o->db == NULL && ht_set_string(&o->db, HT_DEFAULT_DB, err, errlen)) {
        return -1;
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
