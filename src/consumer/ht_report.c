/*
 * The report: one pass over the hourly rows of the chosen hotels, in key
 * order, folding each (hotel, currency) run of rows into a few time
 * windows, then one of three renderings (aligned table, CSV, JSON).
 *
 * Windows end at "now" (the clock, or --until/--now): the last --window
 * seconds (24 hours by default), the same length before, the last 7 days
 * and the 7 days before.  A bucket belongs to a window when its start
 * lies inside it.
 */

#include <stdlib.h>
#include <string.h>

#include "ht_log.h"
#include "ht_money.h"
#include "ht_report.h"


#define HT_DAY  86400

#define HT_NCOLUMNS  10


/* "DAY" is the --window, a day unless told otherwise */
typedef enum {
    HT_WIN_ALL = 0,
    HT_WIN_DAY,
    HT_WIN_PREV_DAY,
    HT_WIN_WEEK,
    HT_WIN_PREV_WEEK,
    HT_WIN_MAX
} ht_window_e;


typedef struct {
    int64_t   count;
    __int128  sum;              /* many buckets may exceed int64 */
    int64_t   min;
    int64_t   max;
} ht_window_t;


typedef struct {
    char         *hotel_id;     /* owned by the line */
    char          currency[4];
    ht_window_t   win[HT_WIN_MAX];
} ht_line_t;


typedef struct {
    ht_line_t   *lines;         /* owned, freed by ht_report_run() */
    size_t       nlines;
    size_t       cap;
    int64_t      lo[HT_WIN_MAX];
    int64_t      hi[HT_WIN_MAX];
    const char  *columns[HT_NCOLUMNS];
    char         avg_col[32];   /* "avg_24h", after the --window */
    char         trend_col[32];
} ht_report_t;


/* the rendered cells of one line: "-" marks an empty window */
typedef struct {
    char   count[24];
    char   avg[HT_MONEY_LEN];
    char   min[HT_MONEY_LEN];
    char   max[HT_MONEY_LEN];
    char   avg_day[HT_MONEY_LEN];
    char   trend_day[24];
    char   avg_week[HT_MONEY_LEN];
    char   trend_week[24];
} ht_cells_t;


typedef struct {
    FILE  *out;
    int    first;
} ht_json_ctx_t;


static void ht_report_columns(ht_report_t *r, int64_t window);
static void ht_report_windows(ht_report_t *r, int64_t now, int64_t window);
static void ht_report_check_window(ht_store_t *store, int64_t window);
static int ht_report_render(const ht_report_t *r, ht_store_t *store,
    ht_format_e format, FILE *out, char *err, size_t errlen);
static int ht_report_row(const ht_row_t *row, void *ctx, char *err,
    size_t errlen);
static void ht_cells_list(const ht_line_t *l, ht_cells_t *c,
    const char **v);
static void ht_report_cells(const ht_line_t *l, ht_cells_t *c);
static void ht_avg_cell(char *buf, size_t size, const ht_window_t *w);
static void ht_trend_cell(char *buf, size_t size, const ht_window_t *now,
    const ht_window_t *before);
static void ht_report_table(const ht_report_t *r, FILE *out);
static void ht_report_csv(const ht_report_t *r, FILE *out);
static int ht_report_json(const ht_report_t *r, ht_store_t *store,
    FILE *out, char *err, size_t errlen);
static void ht_csv_field(const char *s, FILE *out);
static void ht_json_string(const char *s, FILE *out);
static void ht_json_value(const char *s, FILE *out);
static void ht_report_rejected_line(const char *reason, int64_t count,
    void *ctx);
static void ht_report_rejected_json(const char *reason, int64_t count,
    void *ctx);


/* the column names, avg_24h and trend_24h being the default --window's */
static const char  *ht_columns[HT_NCOLUMNS] = {
    "hotel", "currency", "count", "avg", "min", "max",
    "avg_24h", "trend_24h", "avg_7d", "trend_7d"
};


int
ht_report_run(ht_store_t *store, const ht_report_opts_t *o, FILE *out,
    char *err, size_t errlen)
{
    int           rc;
    char          msg[512];
    size_t        i;
    int64_t       window;
    ht_filter_t   f;
    ht_report_t   r;

    memset(&r, 0, sizeof(r));

    window = (o->window_s > 0) ? o->window_s : HT_DEFAULT_WINDOW;

    ht_report_columns(&r, window);
    ht_report_windows(&r, o->now, window);
    ht_report_check_window(store, window);

    f.hotels = o->hotels;
    f.nhotels = o->nhotels;
    f.currency = o->currency[0] ? o->currency : NULL;
    f.since = o->since;
    f.until = o->until;

    rc = store->ops->scan(store, &f, ht_report_row, &r, msg, sizeof(msg));

    if (rc == HT_STORE_OK) {
        rc = ht_report_render(&r, store, o->format, out, msg, sizeof(msg));
    }

    if (rc != HT_STORE_OK) {
        snprintf(err, errlen, "report: %s", msg);
    }

    for (i = 0; i < r.nlines; i++) {
        free(r.lines[i].hotel_id);
    }

    free(r.lines);

    return rc == HT_STORE_OK ? 0 : -1;
}


/* the column names, with the --window's label in two of them */
static void
ht_report_columns(ht_report_t *r, int64_t window)
{
    char    label[24];
    size_t  i;

    ht_duration_label(label, sizeof(label), window);
    snprintf(r->avg_col, sizeof(r->avg_col), "avg_%s", label);
    snprintf(r->trend_col, sizeof(r->trend_col), "trend_%s", label);

    for (i = 0; i < HT_NCOLUMNS; i++) {
        r->columns[i] = ht_columns[i];
    }

    r->columns[6] = r->avg_col;
    r->columns[7] = r->trend_col;
}


static void
ht_report_windows(ht_report_t *r, int64_t now, int64_t window)
{
    r->lo[HT_WIN_ALL] = INT64_MIN;
    r->hi[HT_WIN_ALL] = INT64_MAX;
    r->lo[HT_WIN_DAY] = now - window;
    r->hi[HT_WIN_DAY] = now;
    r->lo[HT_WIN_PREV_DAY] = now - 2 * window;
    r->hi[HT_WIN_PREV_DAY] = now - window;
    r->lo[HT_WIN_WEEK] = now - 7 * HT_DAY;
    r->hi[HT_WIN_WEEK] = now;
    r->lo[HT_WIN_PREV_WEEK] = now - 14 * HT_DAY;
    r->hi[HT_WIN_PREV_WEEK] = now - 7 * HT_DAY;
}


/*
 * A window of part buckets still counts whole ones: say so rather than
 * let uneven windows pass for a trend.  Only a warning: the report is
 * still right about what it says, and a size that cannot be read will
 * fail the scan anyway.
 */
static void
ht_report_check_window(ht_store_t *store, int64_t window)
{
    char     msg[512];
    int64_t  bucket;

    if (store->ops->bucket(store, 0, &bucket, msg, sizeof(msg))
        == HT_STORE_OK
        && bucket > 0 && window % bucket != 0)
    {
        ht_log_warn("report: --window %lld is not a multiple of the "
                    "database's %lld-second buckets: each bucket counts in "
                    "the window its start lies in", (long long) window,
                    (long long) bucket);
    }
}


static int
ht_report_render(const ht_report_t *r, ht_store_t *store, ht_format_e format,
    FILE *out, char *err, size_t errlen)
{
    switch (format) {

    case HT_FORMAT_CSV:
        ht_report_csv(r, out);
        return HT_STORE_OK;

    case HT_FORMAT_JSON:
        return ht_report_json(r, store, out, err, errlen);

    default:
        ht_report_table(r, out);
        return store->ops->rejected(store, ht_report_rejected_line, out,
                                    err, errlen);
    }
}


static int
ht_report_row(const ht_row_t *row, void *ctx, char *err, size_t errlen)
{
    int           w;
    ht_line_t    *l, *lines;
    ht_report_t  *r = ctx;
    ht_window_t  *win;

    l = r->nlines ? &r->lines[r->nlines - 1] : NULL;

    if (l == NULL || strcmp(l->hotel_id, row->hotel_id) != 0
        || strcmp(l->currency, row->currency) != 0)
    {
        if (r->nlines == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 64;

            lines = realloc(r->lines, r->cap * sizeof(ht_line_t));
            if (lines == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }

            r->lines = lines;
        }

        l = &r->lines[r->nlines];
        memset(l, 0, sizeof(*l));

        l->hotel_id = strdup(row->hotel_id);
        if (l->hotel_id == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }

        snprintf(l->currency, sizeof(l->currency), "%s", row->currency);
        r->nlines++;
    }

    for (w = 0; w < HT_WIN_MAX; w++) {
        if (row->bucket_start < r->lo[w] || row->bucket_start >= r->hi[w]) {
            continue;
        }

        win = &l->win[w];

        if (win->count == 0 || row->min_micros < win->min) {
            win->min = row->min_micros;
        }

        if (win->count == 0 || row->max_micros > win->max) {
            win->max = row->max_micros;
        }

        win->count += row->count;
        win->sum += row->sum_micros;
    }

    return 0;
}


static void
ht_report_cells(const ht_line_t *l, ht_cells_t *c)
{
    const ht_window_t  *all = &l->win[HT_WIN_ALL];

    snprintf(c->count, sizeof(c->count), "%lld", (long long) all->count);
    ht_avg_cell(c->avg, sizeof(c->avg), all);
    ht_money_format(c->min, sizeof(c->min), all->min, 1);
    ht_money_format(c->max, sizeof(c->max), all->max, 1);
    ht_avg_cell(c->avg_day, sizeof(c->avg_day), &l->win[HT_WIN_DAY]);
    ht_trend_cell(c->trend_day, sizeof(c->trend_day), &l->win[HT_WIN_DAY],
                  &l->win[HT_WIN_PREV_DAY]);
    ht_avg_cell(c->avg_week, sizeof(c->avg_week), &l->win[HT_WIN_WEEK]);
    ht_trend_cell(c->trend_week, sizeof(c->trend_week), &l->win[HT_WIN_WEEK],
                  &l->win[HT_WIN_PREV_WEEK]);
}


static void
ht_avg_cell(char *buf, size_t size, const ht_window_t *w)
{
    if (w->count == 0) {
        snprintf(buf, size, "-");
        return;
    }

    ht_money_format(buf, size, w->sum, w->count);
}


static void
ht_trend_cell(char *buf, size_t size, const ht_window_t *now,
    const ht_window_t *before)
{
    int64_t  permille;

    if (ht_trend_permille(now->sum, now->count, before->sum, before->count,
                          &permille) != 0)
    {
        snprintf(buf, size, "-");
        return;
    }

    ht_permille_format(buf, size, permille);
}


static void
ht_cells_list(const ht_line_t *l, ht_cells_t *c, const char **v)
{
    v[0] = l->hotel_id;
    v[1] = l->currency;
    v[2] = c->count;
    v[3] = c->avg;
    v[4] = c->min;
    v[5] = c->max;
    v[6] = c->avg_day;
    v[7] = c->trend_day;
    v[8] = c->avg_week;
    v[9] = c->trend_week;
}


static void
ht_report_table(const ht_report_t *r, FILE *out)
{
    int          width[HT_NCOLUMNS], len;
    size_t       i, k;
    ht_cells_t   c;
    const char  *v[HT_NCOLUMNS];

    for (k = 0; k < HT_NCOLUMNS; k++) {
        width[k] = strlen(r->columns[k]);
    }

    for (i = 0; i < r->nlines; i++) {
        ht_report_cells(&r->lines[i], &c);
        ht_cells_list(&r->lines[i], &c, v);

        for (k = 0; k < HT_NCOLUMNS; k++) {
            len = strlen(v[k]);

            if (len > width[k]) {
                width[k] = len;
            }
        }
    }

    /* text columns to the left, numbers to the right */
    for (k = 0; k < HT_NCOLUMNS; k++) {
        fprintf(out, "%s%*s", k ? "  " : "", k < 2 ? -width[k] : width[k],
                r->columns[k]);
    }

    fputc('\n', out);

    for (i = 0; i < r->nlines; i++) {
        ht_report_cells(&r->lines[i], &c);
        ht_cells_list(&r->lines[i], &c, v);

        for (k = 0; k < HT_NCOLUMNS; k++) {
            fprintf(out, "%s%*s", k ? "  " : "",
                    k < 2 ? -width[k] : width[k], v[k]);
        }

        fputc('\n', out);
    }
}


static void
ht_report_csv(const ht_report_t *r, FILE *out)
{
    size_t       i, k;
    ht_cells_t   c;
    const char  *v[HT_NCOLUMNS];

    for (k = 0; k < HT_NCOLUMNS; k++) {
        fprintf(out, "%s%s", k ? "," : "", r->columns[k]);
    }

    fputc('\n', out);

    for (i = 0; i < r->nlines; i++) {
        ht_report_cells(&r->lines[i], &c);
        ht_cells_list(&r->lines[i], &c, v);

        for (k = 0; k < HT_NCOLUMNS; k++) {
            if (k) {
                fputc(',', out);
            }

            if (strcmp(v[k], "-") != 0) {
                ht_csv_field(v[k], out);
            }
        }

        fputc('\n', out);
    }
}


static int
ht_report_json(const ht_report_t *r, ht_store_t *store, FILE *out, char *err,
    size_t errlen)
{
    int             rc;
    size_t          i, k;
    ht_cells_t      c;
    const char     *v[HT_NCOLUMNS];
    ht_json_ctx_t   jc;

    fprintf(out, "{\"rows\":[");

    for (i = 0; i < r->nlines; i++) {
        ht_report_cells(&r->lines[i], &c);
        ht_cells_list(&r->lines[i], &c, v);

        fprintf(out, "%s\n{", i ? "," : "");

        for (k = 0; k < HT_NCOLUMNS; k++) {
            fprintf(out, "%s\"%s\":", k ? "," : "", r->columns[k]);

            if (k < 2 || k == 7 || k == 9) {
                /* ids and "+1.5%" trends are strings */
                if (strcmp(v[k], "-") == 0) {
                    fputs("null", out);

                } else {
                    ht_json_string(v[k], out);
                }

            } else {
                ht_json_value(v[k], out);
            }
        }

        fputc('}', out);
    }

    fprintf(out, "%s],\"rejected\":{", r->nlines ? "\n" : "");

    jc.out = out;
    jc.first = 1;
    rc = store->ops->rejected(store, ht_report_rejected_json, &jc, err,
                              errlen);

    fprintf(out, "}}\n");

    return rc;
}


static void
ht_report_rejected_line(const char *reason, int64_t count, void *ctx)
{
    FILE  *out = ctx;

    fprintf(out, "# rejected %s: %lld\n", reason, (long long) count);
}


static void
ht_report_rejected_json(const char *reason, int64_t count, void *ctx)
{
    ht_json_ctx_t  *jc = ctx;

    if (!jc->first) {
        fputc(',', jc->out);
    }

    ht_json_string(reason, jc->out);
    fprintf(jc->out, ":%lld", (long long) count);

    jc->first = 0;
}


/* a number as is, "-" as null: amounts stay exact decimal literals */
static void
ht_json_value(const char *s, FILE *out)
{
    fputs(strcmp(s, "-") == 0 ? "null" : s, out);
}


static void
ht_json_string(const char *s, FILE *out)
{
    fputc('"', out);

    for ( /* void */ ; *s; s++) {
        if (*s == '"' || *s == '\\') {
            fprintf(out, "\\%c", *s);

        } else if ((unsigned char) *s < 0x20) {
            fprintf(out, "\\u%04x", (unsigned char) *s);

        } else {
            fputc(*s, out);
        }
    }

    fputc('"', out);
}


static void
ht_csv_field(const char *s, FILE *out)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, out);
        return;
    }

    fputc('"', out);

    for ( /* void */ ; *s; s++) {
        if (*s == '"') {
            fputc('"', out);
        }

        fputc(*s, out);
    }

    fputc('"', out);
}
