/*
 * "hotel-trends report --format html": one page a person reads at a
 * glance.  The risers (the lines whose average rose most, the first end
 * of the order by trend) beside the fallers (the other end), each a card
 * with its trend, its two averages and a chart of its average per
 * bucket across the two windows; the period and windows in words and
 * UTC dates; then the report's table for those lines.
 *
 * One self-contained file: our own style sheet inline, the charts inline
 * SVG (ht_svg.c), no script, and a Content-Security-Policy that lets the
 * browser load nothing else at all, so that nothing on the page can come
 * from elsewhere or call out.
 *
 * The charts need each mover's buckets: a second scan, of those hotels
 * only, over the two windows.
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ht_report_state.h"
#include "ht_svg.h"


typedef struct {
    const ht_line_t   *line;
    int                direction;   /* 1 a riser, -1 a faller */
    int                rank;        /* 1 for the biggest move */
    ht_svg_point_t    *points;      /* owned, in time order */
    size_t             npoints;
    size_t             cap;
} ht_mover_t;


typedef struct {
    const ht_report_t  *r;
    ht_mover_t         *movers;     /* owned: the risers, then the
                                     * fallers */
    size_t              nmovers;
    size_t              nrisers;
    ht_window_e         now_w;      /* the trend's two windows */
    ht_window_e         before_w;
    int64_t             from;       /* [from, mid) before, [mid, to) */
    int64_t             mid;        /* the last */
    int64_t             to;
    char                words[32];  /* "5 minutes" */
} ht_page_t;


static int ht_page_pick(ht_page_t *pg);
static int ht_page_series(ht_page_t *pg, char *err, size_t errlen);
static int ht_page_row(const ht_row_t *row, void *ctx, char *err,
    size_t errlen);
static void ht_page_head(const ht_page_t *pg, FILE *out);
static void ht_page_intro(const ht_page_t *pg, FILE *out);
static void ht_page_section(const ht_page_t *pg, int direction, FILE *out);
static void ht_page_card(const ht_page_t *pg, const ht_mover_t *m,
    FILE *out);
static void ht_page_table(const ht_page_t *pg, FILE *out);
static void ht_page_foot(const ht_page_t *pg, FILE *out);
static void ht_html_text(const char *s, FILE *out);
static char *ht_html_escape(char *buf, size_t size, const char *s);
static char *ht_html_words(char *buf, size_t size, int64_t seconds,
    int one);
static char *ht_html_range(char *buf, size_t size, int64_t from,
    int64_t to);


static const char  ht_page_style[] =
":root{--up:#b42318;--down:#067647;--ink:#101828;--muted:#475467;"
"--rule:#eaecf0;--card:#fff;--page:#f9fafb}\n"
"*{box-sizing:border-box}\n"
"body{margin:0;background:var(--page);color:var(--ink);"
"font:15px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,"
"\"Helvetica Neue\",\"Liberation Sans\",\"DejaVu Sans\",Arial,sans-serif}\n"
"header,main,footer{max-width:1160px;margin:0 auto;padding:0 28px}\n"
"header{padding-top:28px;padding-bottom:8px}\n"
"h1{font-size:28px;line-height:1.2;margin:0 0 8px;"
"letter-spacing:-.01em}\n"
"h2{font-size:18px;margin:0 0 12px}\n"
"p{margin:0 0 8px;max-width:72em}\n"
".lead{font-size:17px}\n"
".muted,.note{color:var(--muted)}\n"
".note{font-size:13px}\n"
".movers{display:grid;grid-template-columns:1fr 1fr;gap:28px;"
"margin:20px 0 32px}\n"
"@media (max-width:820px){.movers{grid-template-columns:1fr}}\n"
"h2.up{color:var(--up)}h2.down{color:var(--down)}\n"
"ol.cards{list-style:none;margin:0;padding:0;display:grid;gap:12px}\n"
".card{background:var(--card);border:1px solid var(--rule);"
"border-left:4px solid var(--muted);border-radius:8px;padding:8px 12px;"
"display:grid;grid-template-columns:minmax(0,1fr) minmax(0,300px);"
"column-gap:14px;align-items:center}\n"
".card.up{border-left-color:var(--up)}"
".card.down{border-left-color:var(--down)}\n"
".who{grid-area:1/1;font-size:16px;line-height:1.3;min-width:0;"
"overflow-wrap:anywhere}\n"
".rank{color:var(--muted);font-size:13px;margin-right:6px;"
"font-variant-numeric:tabular-nums}\n"
".name{font-weight:600}.cur{color:var(--muted);margin-left:6px}\n"
".trend{grid-area:2/1;font-size:26px;line-height:1.25;font-weight:700;"
"white-space:nowrap;font-variant-numeric:tabular-nums}\n"
".up .trend,td.up{color:var(--up)}.down .trend,td.down{color:var(--down)}\n"
".avgs{grid-area:3/1;color:var(--muted);font-size:13px;line-height:1.4;"
"font-variant-numeric:tabular-nums}\n"
".avgs b{color:var(--ink);font-weight:600}\n"
".chart{grid-area:1/2/4/3;width:100%;height:auto;display:block}\n"
".chart text{font-size:11px;fill:#667085}\n"
".chart .wl{font-size:10px;text-transform:uppercase;letter-spacing:.06em}\n"
".empty{color:var(--muted);background:var(--card);"
"border:1px dashed var(--rule);border-radius:8px;padding:14px}\n"
"table{border-collapse:collapse;width:100%;background:var(--card);"
"font-size:14px;font-variant-numeric:tabular-nums;"
"border:1px solid var(--rule)}\n"
"th,td{padding:6px 10px;text-align:right;white-space:nowrap;"
"border-bottom:1px solid var(--rule)}\n"
"th{font-weight:600;background:#f2f4f7}\n"
"th:nth-child(-n+2),td:nth-child(-n+2){text-align:left}\n"
"td:first-child{white-space:normal;overflow-wrap:anywhere}\n"
".scroll{overflow-x:auto}\n"
"footer{padding-top:16px;padding-bottom:36px}\n";


int
ht_report_html(const ht_report_t *r, FILE *out, char *err, size_t errlen)
{
    int        rc;
    size_t     i;
    ht_page_t  pg;

    memset(&pg, 0, sizeof(pg));
    pg.r = r;

    ht_report_trend_windows(r->o->sort, &pg.now_w, &pg.before_w);

    pg.to = r->hi[pg.now_w];
    pg.mid = r->lo[pg.now_w];
    pg.from = r->lo[pg.before_w];
    ht_html_words(pg.words, sizeof(pg.words), pg.to - pg.mid, 0);

    rc = ht_page_pick(&pg);

    if (rc != 0) {
        snprintf(err, errlen, "out of memory");

    } else {
        rc = ht_page_series(&pg, err, errlen);
    }

    if (rc == 0) {
        ht_page_head(&pg, out);
        ht_page_intro(&pg, out);

        fprintf(out, "<section class=\"movers\">\n");
        ht_page_section(&pg, 1, out);
        ht_page_section(&pg, -1, out);
        fprintf(out, "</section>\n");

        ht_page_table(&pg, out);
        ht_page_foot(&pg, out);
    }

    for (i = 0; i < pg.nmovers; i++) {
        free(pg.movers[i].points);
    }

    free(pg.movers);

    return rc == 0 ? HT_STORE_OK : HT_STORE_ERROR;
}


/*
 * The risers from the top of the order (descending by trend), the
 * fallers from its bottom, past the lines without a trend; --top of
 * each at most.  An unchanged average is neither.
 */
static int
ht_page_pick(ht_page_t *pg)
{
    int                 sign;
    size_t              i, n, top;
    const ht_report_t  *r = pg->r;

    top = (size_t) r->o->top;

    pg->movers = calloc(2 * top + 1, sizeof(ht_mover_t));
    if (pg->movers == NULL) {
        return -1;
    }

    for (i = 0; i < r->norder && pg->nmovers < top; i++) {
        if (ht_line_trend_sign(r->order[i], r->o->sort) <= 0) {
            break;
        }

        pg->movers[pg->nmovers].line = r->order[i];
        pg->movers[pg->nmovers].direction = 1;
        pg->movers[pg->nmovers].rank = pg->nmovers + 1;
        pg->nmovers++;
    }

    pg->nrisers = pg->nmovers;

    for (n = 0, i = r->norder; i > 0 && n < top; i--) {
        sign = ht_line_trend_sign(r->order[i - 1], r->o->sort);

        if (sign > 0) {
            break;
        }

        if (sign < 0) {
            pg->movers[pg->nmovers].line = r->order[i - 1];
            pg->movers[pg->nmovers].direction = -1;
            pg->movers[pg->nmovers].rank = ++n;
            pg->nmovers++;
        }
    }

    return 0;
}


/* each mover's buckets in the two windows, for its chart */
static int
ht_page_series(ht_page_t *pg, char *err, size_t errlen)
{
    int                 rc;
    char                msg[512], **ids;
    size_t              i;
    ht_filter_t         f;
    const ht_report_t  *r = pg->r;

    if (pg->nmovers == 0) {
        return 0;
    }

    ids = malloc(pg->nmovers * sizeof(char *));
    if (ids == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    for (i = 0; i < pg->nmovers; i++) {
        ids[i] = pg->movers[i].line->hotel_id;
    }

    f.hotels = ids;
    f.nhotels = pg->nmovers;
    f.currency = r->o->currency[0] ? r->o->currency : NULL;
    f.since = pg->from > r->o->since ? pg->from : r->o->since;
    f.until = pg->to < r->o->until ? pg->to : r->o->until;

    rc = r->store->ops->scan(r->store, &f, ht_page_row, pg, msg,
                             sizeof(msg));
    free(ids);

    if (rc != HT_STORE_OK) {
        snprintf(err, errlen, "reading the movers' buckets: %s", msg);
        return -1;
    }

    return 0;
}


static int
ht_page_row(const ht_row_t *row, void *ctx, char *err, size_t errlen)
{
    size_t           i;
    ht_page_t       *pg = ctx;
    ht_mover_t      *m;
    ht_svg_point_t  *p;

    for (i = 0; i < pg->nmovers; i++) {
        m = &pg->movers[i];

        if (strcmp(m->line->hotel_id, row->hotel_id) != 0
            || strcmp(m->line->currency, row->currency) != 0)
        {
            continue;
        }

        if (m->npoints == m->cap) {
            m->cap = m->cap ? m->cap * 2 : 32;

            p = realloc(m->points, m->cap * sizeof(ht_svg_point_t));
            if (p == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }

            m->points = p;
        }

        p = &m->points[m->npoints++];
        p->start = row->bucket_start;
        p->count = row->count;
        p->sum = row->sum_micros;

        return 0;
    }

    return 0;
}


static void
ht_page_head(const ht_page_t *pg, FILE *out)
{
    char  range[128];

    ht_html_range(range, sizeof(range), pg->mid, pg->to);

    fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
            "<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, "
            "initial-scale=1\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" "
            "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
            "<title>Hotel price trends: the last %s, %s</title>\n"
            "<style>\n%s</style>\n</head>\n<body>\n", pg->words, range,
            ht_page_style);
}


/* what the page covers, in words, every time in UTC */
static void
ht_page_intro(const ht_page_t *pg, FILE *out)
{
    char                last[128], before[128], data[128], per[32];
    const ht_report_t  *r = pg->r;

    ht_html_range(last, sizeof(last), pg->mid, pg->to);
    ht_html_range(before, sizeof(before), pg->from, pg->mid);

    fprintf(out, "<header>\n<h1>Hotel price trends</h1>\n"
            "<p class=\"lead\">The average nightly rate of each hotel in "
            "the last %s, <b>%s</b>, against the %s before, %s.</p>\n",
            pg->words, last, pg->words, before);

    fprintf(out, "<p class=\"muted\">");

    if (r->o->min_count > 0) {
        fprintf(out, "%zu of %zu hotels (per currency) have at least "
                "%lld records in each of the two windows and are "
                "ranked. ", r->nkept, r->nlines,
                (long long) r->o->min_count);

    } else {
        fprintf(out, "%zu hotels (per currency) are ranked; those without "
                "records in both windows have no trend. ", r->nlines);
    }

    if (r->first <= r->last) {
        ht_html_range(data, sizeof(data), r->first,
                      r->last + (r->bucket > 0 ? r->bucket : 0));
        fprintf(out, "Records read: %s", data);

        if (r->bucket > 0) {
            ht_html_words(per, sizeof(per), r->bucket, 1);
            fprintf(out, ", in buckets of %s", per);
        }

        fprintf(out, ".");

    } else {
        fprintf(out, "No records in the period.");
    }

    fprintf(out, "</p>\n</header>\n<main>\n");
}


static void
ht_page_section(const ht_page_t *pg, int direction, FILE *out)
{
    size_t  i, n;

    fprintf(out, "<div class=\"side\" id=\"%s\">\n<h2 class=\"%s\">"
            "<span aria-hidden=\"true\">%s</span> %s</h2>\n",
            direction > 0 ? "risers" : "fallers",
            direction > 0 ? "up" : "down", direction > 0 ? "▲" : "▼",
            direction > 0 ? "Risers: the biggest rises first"
                          : "Fallers: the biggest falls first");

    for (n = 0, i = 0; i < pg->nmovers; i++) {
        n += (pg->movers[i].direction == direction);
    }

    if (n == 0) {
        fprintf(out, "<p class=\"empty\">No hotel's average %s in the "
                "last %s.</p>\n</div>\n", direction > 0 ? "rose" : "fell",
                pg->words);
        return;
    }

    fprintf(out, "<ol class=\"cards\">\n");

    for (i = 0; i < pg->nmovers; i++) {
        if (pg->movers[i].direction == direction) {
            ht_page_card(pg, &pg->movers[i], out);
        }
    }

    fprintf(out, "</ol>\n</div>\n");
}


static void
ht_page_card(const ht_page_t *pg, const ht_mover_t *m, FILE *out)
{
    char                trend[24], now[HT_MONEY_LEN], before[HT_MONEY_LEN];
    char                id[1024], label[1400];
    int64_t             permille;
    ht_svg_chart_t      ch;
    const ht_line_t    *l = m->line;
    const ht_window_t  *wn, *wb;

    wn = &l->win[pg->now_w];
    wb = &l->win[pg->before_w];

    ht_money_format(now, sizeof(now), wn->sum, wn->count);
    ht_money_format(before, sizeof(before), wb->sum, wb->count);

    if (ht_trend_permille(wn->sum, wn->count, wb->sum, wb->count,
                          &permille) != 0)
    {
        /* not a mover: ht_page_pick() took lines with a trend only */
        return;
    }

    ht_permille_format(trend, sizeof(trend), permille);
    ht_html_escape(id, sizeof(id), l->hotel_id);

    fprintf(out, "<li class=\"card %s\" data-hotel=\"%s\" "
            "data-currency=\"%s\" data-trend=\"%s\">\n"
            "<div class=\"who\"><span class=\"rank\">%d</span>"
            "<span class=\"name\">%s</span><span class=\"cur\">%s</span>"
            "</div>\n<div class=\"trend\"><span aria-hidden=\"true\">%s"
            "</span> %s</div>\n", m->direction > 0 ? "up" : "down", id,
            l->currency, trend, m->rank, id, l->currency,
            m->direction > 0 ? "▲" : "▼", trend);

    fprintf(out, "<div class=\"avgs\"><b>%s %s</b>, was %s<br>"
            "%lld records, %lld before</div>\n", now, l->currency, before,
            (long long) wn->count, (long long) wb->count);

    snprintf(label, sizeof(label), "Average nightly rate of %s in %s per "
             "bucket: %s before, %s in the last %s (%s)", id, l->currency,
             before, now, pg->words, trend);

    memset(&ch, 0, sizeof(ch));
    ch.points = m->points;
    ch.npoints = m->npoints;
    ch.from = pg->from;
    ch.mid = pg->mid;
    ch.to = pg->to;
    ch.bucket = pg->r->bucket;
    ch.sum_before = wb->sum;
    ch.count_before = wb->count;
    ch.sum_now = wn->sum;
    ch.count_now = wn->count;
    ch.direction = m->direction;
    ch.label = label;

    ht_svg_chart(out, &ch);

    fprintf(out, "</li>\n");
}


/* the report's table, for the lines on the page */
static void
ht_page_table(const ht_page_t *pg, FILE *out)
{
    int                 sign;
    size_t              i, k;
    ht_cells_t          c;
    const char         *v[HT_NCOLUMNS];
    const ht_line_t    *l;
    const ht_report_t  *r = pg->r;

    fprintf(out, "<section id=\"figures\">\n<h2>The figures</h2>\n"
            "<p class=\"note\">count, avg, min and max: over the whole "
            "period read; %s and %s: the last %s against the %s before; "
            "avg_7d and trend_7d: the last 7 days against the 7 before. "
            "A dash: no records in a window.</p>\n"
            "<div class=\"scroll\"><table>\n<thead><tr>",
            r->avg_col, r->trend_col, pg->words, pg->words);

    for (k = 0; k < HT_NCOLUMNS; k++) {
        fprintf(out, "<th scope=\"col\">%s</th>", r->columns[k]);
    }

    fprintf(out, "</tr></thead>\n<tbody>\n");

    for (i = 0; i < pg->nmovers; i++) {
        l = pg->movers[i].line;

        ht_report_cells(l, &c);
        ht_report_cells_list(l, &c, v);

        fprintf(out, "<tr>");

        for (k = 0; k < HT_NCOLUMNS; k++) {
            sign = (k == 7) ? ht_line_trend_sign(l, HT_SORT_TREND)
                   : (k == 9) ? ht_line_trend_sign(l, HT_SORT_TREND_WEEK)
                   : 0;

            fprintf(out, "<td%s>", sign > 0 ? " class=\"up\""
                                   : sign < 0 ? " class=\"down\"" : "");
            ht_html_text(v[k], out);
            fprintf(out, "</td>");
        }

        fprintf(out, "</tr>\n");
    }

    if (pg->nmovers == 0) {
        fprintf(out, "<tr><td colspan=\"%d\">No hotel rose or fell.</td>"
                "</tr>\n", HT_NCOLUMNS);
    }

    fprintf(out, "</tbody>\n</table></div>\n</section>\n</main>\n");
}


static void
ht_page_foot(const ht_page_t *pg, FILE *out)
{
    fprintf(out, "<footer>\n<p class=\"note\">Made by hotel-trends report "
            "from the exact aggregates: an average is the sum of the rates "
            "over their number, rounded half up to the cent; a trend is "
            "the change of the average against the window before, to a "
            "tenth of a percent, and the order compares trends exactly. "
            "Rises in red, falls in green. Times are UTC.</p>\n"
            "</footer>\n</body>\n</html>\n");
}


static void
ht_html_text(const char *s, FILE *out)
{
    char  buf[1024];

    fputs(ht_html_escape(buf, sizeof(buf), s), out);
}


/* s with & < > " ' as entities; an id is 255 bytes, 1530 escaped at most:
 * a longer result is cut at a whole entity */
static char *
ht_html_escape(char *buf, size_t size, const char *s)
{
    size_t       n, len;
    const char  *e;
    char         one[2];

    n = 0;

    for ( /* void */ ; *s; s++) {
        switch (*s) {
        case '&':  e = "&amp;"; break;
        case '<':  e = "&lt;"; break;
        case '>':  e = "&gt;"; break;
        case '"':  e = "&quot;"; break;
        case '\'': e = "&#39;"; break;
        default:
            one[0] = *s;
            one[1] = '\0';
            e = one;
        }

        len = strlen(e);

        if (n + len >= size) {
            break;
        }

        memcpy(buf + n, e, len);
        n += len;
    }

    buf[n] = '\0';

    return buf;
}


/*
 * "5 minutes", "24 hours", "7 days", "90 seconds"; for one unit, "1
 * minute" if one is set, else "minute" ("the last minute")
 */
static char *
ht_html_words(char *buf, size_t size, int64_t s, int one)
{
    int64_t      n;
    const char  *unit;

    if (s >= 2 * 86400 && s % 86400 == 0) {
        n = s / 86400;
        unit = "day";

    } else if (s % 3600 == 0) {
        n = s / 3600;
        unit = "hour";

    } else if (s % 60 == 0) {
        n = s / 60;
        unit = "minute";

    } else {
        n = s;
        unit = "second";
    }

    if (n == 1 && !one) {
        snprintf(buf, size, "%s", unit);

    } else {
        snprintf(buf, size, "%lld %s%s", (long long) n, unit,
                 n == 1 ? "" : "s");
    }

    return buf;
}


/* "2026-12-02 13:55 to 14:05 UTC"; both dates when they differ */
static char *
ht_html_range(char *buf, size_t size, int64_t from, int64_t to)
{
    char         a[16], b[16];
    time_t       ta, tb;
    struct tm    fa, fb;
    const char  *fmt;

    ta = (time_t) from;
    tb = (time_t) to;
    gmtime_r(&ta, &fa);
    gmtime_r(&tb, &fb);

    fmt = (from % 60 != 0 || to % 60 != 0) ? "%H:%M:%S" : "%H:%M";

    strftime(a, sizeof(a), fmt, &fa);
    strftime(b, sizeof(b), fmt, &fb);

    if (fa.tm_year == fb.tm_year && fa.tm_yday == fb.tm_yday) {
        snprintf(buf, size, "%04d-%02d-%02d %s to %s UTC",
                 fa.tm_year + 1900, fa.tm_mon + 1, fa.tm_mday, a, b);

    } else {
        snprintf(buf, size, "%04d-%02d-%02d %s to %04d-%02d-%02d %s UTC",
                 fa.tm_year + 1900, fa.tm_mon + 1, fa.tm_mday, a,
                 fb.tm_year + 1900, fb.tm_mon + 1, fb.tm_mday, b);
    }

    return buf;
}
