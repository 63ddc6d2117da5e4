/*
 * Which lines a report shows, and in which order:
 *
 *   --min-count N  a line needs N records in each of the two windows of
 *                  the trend it is ordered by (the short window and the
 *                  one before it; the two 7-day windows for trend_7d), so
 *                  that a hotel searched twice cannot top the list;
 *   --sort KEY     hotel (id, then currency), trend, trend_7d, avg or
 *                  count;
 *   --order        ascending or descending;
 *   --top N        the first N lines of that order (the page takes both
 *                  ends itself).
 *
 * Figures are compared exactly, as fractions of the integer sums and
 * counts, never through a rounded percentage or a double: two trends that
 * both print as +1.0% still come in the order of their true values.  A
 * line without the figure (a trend with an empty window) comes after
 * every line that has one, in either direction.  Ties go by hotel id and
 * currency, ascending, so that one stream always gives one report.
 */

#include <stdlib.h>
#include <string.h>

#include "ht_report_state.h"


typedef struct {
    ht_sort_e   sort;
    int         desc;
} ht_order_ctx_t;


static int ht_line_kept(const ht_report_t *r, const ht_line_t *l);
static int ht_line_cmp(const void *a, const void *b, void *ctx);
static int ht_line_figure_cmp(const ht_line_t *a, const ht_line_t *b,
    ht_sort_e sort, int *missing);
static int ht_line_trend(const ht_line_t *l, ht_sort_e sort,
    unsigned __int128 *num, unsigned __int128 *den);
static int ht_frac_cmp(unsigned __int128 a, unsigned __int128 b,
    unsigned __int128 c, unsigned __int128 d);


int
ht_report_order(ht_report_t *r, char *err, size_t errlen)
{
    size_t           i;
    ht_order_ctx_t   ctx;

    r->order = malloc((r->nlines + 1) * sizeof(ht_line_t *));
    if (r->order == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    for (i = 0; i < r->nlines; i++) {
        if (ht_line_kept(r, &r->lines[i])) {
            r->order[r->norder++] = &r->lines[i];
        }
    }

    r->nkept = r->norder;

    ctx.sort = (r->o->sort == HT_SORT_DEFAULT) ? HT_SORT_HOTEL : r->o->sort;
    ctx.desc = (r->o->order == HT_ORDER_DESC
                || (r->o->order == HT_ORDER_DEFAULT
                    && ctx.sort != HT_SORT_HOTEL));

    /* the scan gave them in key order: nothing to do for that */
    if (ctx.sort != HT_SORT_HOTEL || ctx.desc) {
        qsort_r(r->order, r->norder, sizeof(ht_line_t *), ht_line_cmp,
                &ctx);
    }

    if (r->o->format != HT_FORMAT_HTML && r->o->top > 0
        && (size_t) r->o->top < r->norder)
    {
        r->norder = r->o->top;
    }

    return 0;
}


/* the two windows a trend compares: the short ones unless trend_7d */
void
ht_report_trend_windows(ht_sort_e sort, ht_window_e *now,
    ht_window_e *before)
{
    if (sort == HT_SORT_TREND_WEEK) {
        *now = HT_WIN_WEEK;
        *before = HT_WIN_PREV_WEEK;

    } else {
        *now = HT_WIN_DAY;
        *before = HT_WIN_PREV_DAY;
    }
}


/* 1 when the average rose, -1 when it fell, 0 unchanged or unknown */
int
ht_line_trend_sign(const ht_line_t *l, ht_sort_e sort)
{
    unsigned __int128  num, den;

    if (ht_line_trend(l, sort, &num, &den) != 0 || num == den) {
        return 0;
    }

    return num > den ? 1 : -1;
}


static int
ht_line_kept(const ht_report_t *r, const ht_line_t *l)
{
    ht_window_e  now, before;

    if (r->o->min_count <= 0) {
        return 1;
    }

    ht_report_trend_windows(r->o->sort, &now, &before);

    return l->win[now].count >= r->o->min_count
           && l->win[before].count >= r->o->min_count;
}


static int
ht_line_cmp(const void *a, const void *b, void *data)
{
    int                    c, missing;
    ht_order_ctx_t        *ctx = data;
    const ht_line_t       *la = *(ht_line_t *const *) a;
    const ht_line_t       *lb = *(ht_line_t *const *) b;

    if (ctx->sort != HT_SORT_HOTEL) {
        c = ht_line_figure_cmp(la, lb, ctx->sort, &missing);

        /* a line without the figure goes last, whatever the direction */
        if (missing) {
            return c;
        }

        if (c != 0) {
            return ctx->desc ? -c : c;
        }

        /* equal figures: by name, ascending, in either direction */
        c = strcmp(la->hotel_id, lb->hotel_id);

        return c != 0 ? c : strcmp(la->currency, lb->currency);
    }

    c = strcmp(la->hotel_id, lb->hotel_id);

    if (c == 0) {
        c = strcmp(la->currency, lb->currency);
    }

    return ctx->desc ? -c : c;
}


/*
 * a's figure against b's: <0, 0, >0.  When one of them has none, *missing
 * is set and the result puts that one last (both none: by name).
 */
static int
ht_line_figure_cmp(const ht_line_t *a, const ht_line_t *b, ht_sort_e sort,
    int *missing)
{
    int                 ha, hb, c;
    unsigned __int128   an, ad, bn, bd;
    const ht_window_t  *wa, *wb;

    *missing = 0;

    switch (sort) {

    case HT_SORT_COUNT:
        wa = &a->win[HT_WIN_ALL];
        wb = &b->win[HT_WIN_ALL];
        return (wa->count > wb->count) - (wa->count < wb->count);

    case HT_SORT_AVG:
        wa = &a->win[HT_WIN_ALL];
        wb = &b->win[HT_WIN_ALL];
        return ht_frac_cmp(wa->sum, wa->count, wb->sum, wb->count);

    default:
        ha = (ht_line_trend(a, sort, &an, &ad) == 0);
        hb = (ht_line_trend(b, sort, &bn, &bd) == 0);

        if (ha && hb) {
            return ht_frac_cmp(an, ad, bn, bd);
        }

        *missing = 1;

        if (ha != hb) {
            return ha ? -1 : 1;
        }

        c = strcmp(a->hotel_id, b->hotel_id);

        return c != 0 ? c : strcmp(a->currency, b->currency);
    }
}


/*
 * The trend as the fraction num/den of the two averages, new over old:
 * (new_sum * old_count) / (old_sum * new_count), the same products
 * ht_trend_permille() rounds (a 2^63 sum times a 2^40 count stays below
 * 2^127).  -1 when a window is empty: no trend.
 */
static int
ht_line_trend(const ht_line_t *l, ht_sort_e sort, unsigned __int128 *num,
    unsigned __int128 *den)
{
    ht_window_e         now, before;
    const ht_window_t  *n, *b;

    ht_report_trend_windows(sort, &now, &before);

    n = &l->win[now];
    b = &l->win[before];

    if (n->count <= 0 || b->count <= 0 || b->sum <= 0 || n->sum < 0) {
        return -1;
    }

    *num = (unsigned __int128) n->sum * (unsigned __int128) b->count;
    *den = (unsigned __int128) b->sum * (unsigned __int128) n->count;

    return 0;
}


/*
 * a/b against c/d (b, d > 0) exactly, without a product that could
 * overflow: the whole parts first; if equal, the remainders, whose order
 * is the reverse of that of their inverses, b/ra and d/rc.  Euclid's
 * steps: a few dozen at most.
 */
static int
ht_frac_cmp(unsigned __int128 a, unsigned __int128 b, unsigned __int128 c,
    unsigned __int128 d)
{
    int                sign;
    unsigned __int128  qa, qc, t;

    for (sign = 1; /* void */; sign = -sign) {
        qa = a / b;
        qc = c / d;

        if (qa != qc) {
            return qa < qc ? -sign : sign;
        }

        a -= qa * b;
        c -= qc * d;

        if (a == 0 || c == 0) {
            return (a == 0 && c == 0) ? 0 : (a == 0 ? -sign : sign);
        }

        /* a/b < c/d  <=>  b/a > d/c */
        t = a;
        a = b;
        b = t;
        t = c;
        c = d;
        d = t;
    }
}
