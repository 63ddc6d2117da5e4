/*
 * The report: one pass over the bucket rows of the chosen hotels, in key
 * order, folding each (hotel, currency) run of rows into a few time
 * windows; then the lines to show, in their order (ht_report_order.c);
 * then one rendering (ht_report_text.c, ht_report_html.c).
 *
 * Windows end at "now" (the clock, or --until/--now): the last --window
 * seconds (24 hours by default), the same length before, the last 7 days
 * and the 7 days before.  A bucket belongs to a window when its start
 * lies inside it.
 */

#include <stdlib.h>
#include <string.h>

#include "ht_log.h"
#include "ht_report.h"
#include "ht_report_state.h"


static void ht_report_columns(ht_report_t *r);
static void ht_report_windows(ht_report_t *r, int64_t now);
static void ht_report_check_window(ht_report_t *r);
static int ht_report_render(const ht_report_t *r, FILE *out, char *err,
    size_t errlen);
static int ht_report_row(const ht_row_t *row, void *ctx, char *err,
    size_t errlen);
static void ht_avg_cell(char *buf, size_t size, const ht_window_t *w);
static void ht_trend_cell(char *buf, size_t size, const ht_window_t *now,
    const ht_window_t *before);


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
    ht_filter_t   f;
    ht_report_t   r;

    memset(&r, 0, sizeof(r));

    r.o = o;
    r.store = store;
    r.window = (o->window_s > 0) ? o->window_s : HT_DEFAULT_WINDOW;
    r.first = INT64_MAX;
    r.last = INT64_MIN;

    ht_report_columns(&r);
    ht_report_windows(&r, o->now);
    ht_report_check_window(&r);

    f.hotels = o->hotels;
    f.nhotels = o->nhotels;
    f.currency = o->currency[0] ? o->currency : NULL;
    f.since = o->since;
    f.until = o->until;

    rc = store->ops->scan(store, &f, ht_report_row, &r, msg, sizeof(msg));

    if (rc == HT_STORE_OK) {
        rc = ht_report_order(&r, msg, sizeof(msg));
    }

    if (rc == HT_STORE_OK) {
        rc = ht_report_render(&r, out, msg, sizeof(msg));
    }

    if (rc != HT_STORE_OK) {
        snprintf(err, errlen, "report: %s", msg);
    }

    for (i = 0; i < r.nlines; i++) {
        free(r.lines[i].hotel_id);
    }

    free(r.lines);
    free(r.order);

    return rc == HT_STORE_OK ? 0 : -1;
}


/* the column names, with the --window's label in two of them */
static void
ht_report_columns(ht_report_t *r)
{
    size_t  i;

    ht_duration_label(r->label, sizeof(r->label), r->window);
    snprintf(r->avg_col, sizeof(r->avg_col), "avg_%s", r->label);
    snprintf(r->trend_col, sizeof(r->trend_col), "trend_%s", r->label);

    for (i = 0; i < HT_NCOLUMNS; i++) {
        r->columns[i] = ht_columns[i];
    }

    r->columns[6] = r->avg_col;
    r->columns[7] = r->trend_col;
}


static void
ht_report_windows(ht_report_t *r, int64_t now)
{
    r->lo[HT_WIN_ALL] = INT64_MIN;
    r->hi[HT_WIN_ALL] = INT64_MAX;
    r->lo[HT_WIN_DAY] = now - r->window;
    r->hi[HT_WIN_DAY] = now;
    r->lo[HT_WIN_PREV_DAY] = now - 2 * r->window;
    r->hi[HT_WIN_PREV_DAY] = now - r->window;
    r->lo[HT_WIN_WEEK] = now - 7 * HT_DAY;
    r->hi[HT_WIN_WEEK] = now;
    r->lo[HT_WIN_PREV_WEEK] = now - 14 * HT_DAY;
    r->hi[HT_WIN_PREV_WEEK] = now - 7 * HT_DAY;
}


/*
 * A window of part buckets still counts whole ones: say so rather than
 * let uneven windows pass for a trend.  Only a warning: the report is
 * still right about what it says, and a size that cannot be read will
 * fail the scan anyway.  The size is kept for the page, which names it.
 */
static void
ht_report_check_window(ht_report_t *r)
{
    char     msg[512];
    int64_t  bucket;

    if (r->store->ops->bucket(r->store, 0, &bucket, msg, sizeof(msg))
        != HT_STORE_OK)
    {
        return;
    }

    r->bucket = bucket;

    if (bucket > 0 && r->window % bucket != 0) {
        ht_log_warn("report: --window %lld is not a multiple of the "
                    "database's %lld-second buckets: each bucket counts in "
                    "the window its start lies in", (long long) r->window,
                    (long long) bucket);
    }
}


static int
ht_report_render(const ht_report_t *r, FILE *out, char *err, size_t errlen)
{
    switch (r->o->format) {

    case HT_FORMAT_CSV:
        ht_report_csv(r, out);
        return HT_STORE_OK;

    case HT_FORMAT_JSON:
        return ht_report_json(r, out, err, errlen);

    case HT_FORMAT_HTML:
        return ht_report_html(r, out, err, errlen);

    default:
        return ht_report_table(r, out, err, errlen);
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

    if (row->bucket_start < r->first) {
        r->first = row->bucket_start;
    }

    if (row->bucket_start > r->last) {
        r->last = row->bucket_start;
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


void
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


/* the cells in column order, v[HT_NCOLUMNS] pointing into l and c */
void
ht_report_cells_list(const ht_line_t *l, ht_cells_t *c, const char **v)
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
