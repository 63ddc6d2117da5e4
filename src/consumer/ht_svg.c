/*
 * The chart of one line of the report's page, in SVG user units: a plot
 * of PW x PH with room on the left for the two rate labels and below for
 * the three times (the start of the window before, the boundary, the
 * end).  Colours are the page's: red for a rise, green for a fall, since
 * a rate that rises costs the traveller more; the arrow and the sign
 * beside every figure say the same to whoever does not see colours.
 */

#include <string.h>
#include <time.h>

#include "ht_money.h"
#include "ht_svg.h"


#define HT_SVG_WIDTH  320
#define HT_SVG_HEIGHT 104
#define HT_SVG_LEFT   52        /* the plot's edges */
#define HT_SVG_RIGHT  312
#define HT_SVG_TOP    16
#define HT_SVG_BOTTOM 84

/* dots on the points while they are this few; a line beyond */
#define HT_SVG_MAX_DOTS  72


typedef struct {
    double     v;               /* for the drawing */
    __int128   sum;             /* for the label, exact */
    int64_t    count;
} ht_svg_level_t;


static const char *ht_svg_colour(int direction);
static void ht_svg_range(const ht_svg_chart_t *ch, ht_svg_level_t *lo,
    ht_svg_level_t *hi);
static void ht_svg_consider(ht_svg_level_t *lo, ht_svg_level_t *hi,
    int *any, __int128 sum, int64_t count);
static double ht_svg_x(const ht_svg_chart_t *ch, int64_t t);
static double ht_svg_y(double v, double lo, double hi);
static void ht_svg_line(FILE *out, const ht_svg_chart_t *ch, double lo,
    double hi, const char *colour);


void
ht_svg_chart(FILE *out, const ht_svg_chart_t *ch)
{
    char             a[HT_MONEY_LEN], b[HT_MONEY_LEN], t[3][32];
    double           xmid, ybefore, ynow, lo, hi, pad;
    const char      *colour;
    ht_svg_level_t   vlo, vhi;

    colour = ht_svg_colour(ch->direction);

    ht_svg_range(ch, &vlo, &vhi);

    /* a tenth of the range above and below; a flat line mid-height */
    pad = (vhi.v - vlo.v) / 10;

    if (pad <= 0) {
        pad = vhi.v > 0 ? vhi.v / 100 : 1;
    }

    lo = vlo.v - pad;
    hi = vhi.v + pad;

    xmid = ht_svg_x(ch, ch->mid);

    fprintf(out, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
            "aria-label=\"%s\"><title>%s</title>\n", HT_SVG_WIDTH,
            HT_SVG_HEIGHT, ch->label, ch->label);

    /* the window before, shaded; each window named above its half */
    fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
            "fill=\"#f2f4f7\"/>\n", HT_SVG_LEFT, HT_SVG_TOP,
            xmid - HT_SVG_LEFT, HT_SVG_BOTTOM - HT_SVG_TOP);
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
            "stroke=\"#d0d5dd\"/>\n", HT_SVG_LEFT, HT_SVG_BOTTOM,
            HT_SVG_RIGHT, HT_SVG_BOTTOM);
    fprintf(out, "<text class=\"wl\" x=\"%.1f\" y=\"%d\" "
            "text-anchor=\"middle\">before</text>\n"
            "<text class=\"wl\" x=\"%.1f\" y=\"%d\" "
            "text-anchor=\"middle\">last</text>\n",
            (HT_SVG_LEFT + xmid) / 2, HT_SVG_TOP - 6,
            (xmid + HT_SVG_RIGHT) / 2, HT_SVG_TOP - 6);

    /* each window's average, the two figures the trend compares */
    if (ch->count_before > 0) {
        ybefore = ht_svg_y((double) ch->sum_before / ch->count_before / 1e6,
                           lo, hi);
        fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#667085\" stroke-width=\"1.5\" "
                "stroke-dasharray=\"5 3\"/>\n", HT_SVG_LEFT, ybefore, xmid,
                ybefore);
    }

    if (ch->count_now > 0) {
        ynow = ht_svg_y((double) ch->sum_now / ch->count_now / 1e6, lo, hi);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
                "stroke=\"%s\" stroke-width=\"1.5\" "
                "stroke-dasharray=\"5 3\"/>\n", xmid, ynow, HT_SVG_RIGHT,
                ynow, colour);
    }

    ht_svg_line(out, ch, lo, hi, colour);

    /* the highest and lowest figure drawn, exactly, at their height */
    ht_money_format(a, sizeof(a), vhi.sum, vhi.count);
    ht_money_format(b, sizeof(b), vlo.sum, vlo.count);

    fprintf(out, "<text class=\"yl\" x=\"%d\" y=\"%.1f\" "
            "text-anchor=\"end\">%s</text>\n", HT_SVG_LEFT - 6,
            ht_svg_y(vhi.v, lo, hi) + 4, a);

    if (strcmp(a, b) != 0) {
        fprintf(out, "<text class=\"yl\" x=\"%d\" y=\"%.1f\" "
                "text-anchor=\"end\">%s</text>\n", HT_SVG_LEFT - 6,
                ht_svg_y(vlo.v, lo, hi) + 4, b);
    }

    ht_svg_tick(t[0], sizeof(t[0]), ch->from, ch->to - ch->from);
    ht_svg_tick(t[1], sizeof(t[1]), ch->mid, ch->to - ch->from);
    ht_svg_tick(t[2], sizeof(t[2]), ch->to, ch->to - ch->from);

    fprintf(out, "<text class=\"xl\" x=\"%d\" y=\"%d\" "
            "text-anchor=\"start\">%s</text>\n"
            "<text class=\"xl\" x=\"%.1f\" y=\"%d\" "
            "text-anchor=\"middle\">%s</text>\n"
            "<text class=\"xl\" x=\"%d\" y=\"%d\" "
            "text-anchor=\"end\">%s</text>\n</svg>\n",
            HT_SVG_LEFT, HT_SVG_BOTTOM + 16, t[0], xmid, HT_SVG_BOTTOM + 16,
            t[1], HT_SVG_RIGHT, HT_SVG_BOTTOM + 16, t[2]);
}


char *
ht_svg_tick(char *buf, size_t size, int64_t t, int64_t span)
{
    time_t      tt;
    struct tm   tm;

    tt = (time_t) t;
    gmtime_r(&tt, &tm);

    strftime(buf, size, span >= 2 * 86400 ? "%m-%d"
                        : (t % 60 != 0) ? "%H:%M:%S" : "%H:%M", &tm);

    return buf;
}


static const char *
ht_svg_colour(int direction)
{
    return direction > 0 ? "#b42318" : direction < 0 ? "#067647" : "#475467";
}


/* the lowest and highest of the buckets' averages and the two levels */
static void
ht_svg_range(const ht_svg_chart_t *ch, ht_svg_level_t *lo,
    ht_svg_level_t *hi)
{
    int     any;
    size_t  i;

    any = 0;
    memset(lo, 0, sizeof(*lo));
    memset(hi, 0, sizeof(*hi));

    for (i = 0; i < ch->npoints; i++) {
        ht_svg_consider(lo, hi, &any, ch->points[i].sum,
                        ch->points[i].count);
    }

    ht_svg_consider(lo, hi, &any, ch->sum_before, ch->count_before);
    ht_svg_consider(lo, hi, &any, ch->sum_now, ch->count_now);

    if (!any) {
        lo->count = 1;
        hi->count = 1;
    }
}


static void
ht_svg_consider(ht_svg_level_t *lo, ht_svg_level_t *hi, int *any,
    __int128 sum, int64_t count)
{
    double  v;

    if (count <= 0) {
        return;
    }

    v = (double) sum / count / 1e6;

    if (!*any || v < lo->v) {
        lo->v = v;
        lo->sum = sum;
        lo->count = count;
    }

    if (!*any || v > hi->v) {
        hi->v = v;
        hi->sum = sum;
        hi->count = count;
    }

    *any = 1;
}


/* a bucket is drawn at its middle, within the two windows */
static double
ht_svg_x(const ht_svg_chart_t *ch, int64_t t)
{
    double  f;

    if (ch->to <= ch->from) {
        return HT_SVG_LEFT;
    }

    f = (double) (t - ch->from) / (double) (ch->to - ch->from);

    if (f < 0) {
        f = 0;
    }

    if (f > 1) {
        f = 1;
    }

    return HT_SVG_LEFT + f * (HT_SVG_RIGHT - HT_SVG_LEFT);
}


static double
ht_svg_y(double v, double lo, double hi)
{
    return HT_SVG_BOTTOM - (v - lo) / (hi - lo)
                           * (HT_SVG_BOTTOM - HT_SVG_TOP);
}


/*
 * The buckets' averages joined, the line broken where buckets are
 * missing; a dot on each while they are few, and on a bucket alone
 * between two gaps, which no line would show.
 */
static void
ht_svg_line(FILE *out, const ht_svg_chart_t *ch, double lo, double hi,
    const char *colour)
{
    size_t                 i, j, k;
    const ht_svg_point_t  *p;

    for (i = 0; i < ch->npoints; i = j) {
        for (j = i + 1; j < ch->npoints; j++) {
            if (ch->bucket > 0
                && ch->points[j].start - ch->points[j - 1].start
                   > ch->bucket)
            {
                break;
            }
        }

        if (j - i >= 2) {
            fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" "
                    "stroke-width=\"2\" stroke-linejoin=\"round\" "
                    "stroke-linecap=\"round\" points=\"", colour);

            for (k = i; k < j; k++) {
                p = &ch->points[k];
                fprintf(out, "%s%.1f,%.1f", k > i ? " " : "",
                        ht_svg_x(ch, p->start + ch->bucket / 2),
                        ht_svg_y((double) p->sum / p->count / 1e6, lo, hi));
            }

            fprintf(out, "\"/>\n");
        }

        for (k = i; k < j; k++) {
            if (ch->npoints > HT_SVG_MAX_DOTS && j - i >= 2) {
                break;
            }

            p = &ch->points[k];
            fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.4\" "
                    "fill=\"%s\"/>\n",
                    ht_svg_x(ch, p->start + ch->bucket / 2),
                    ht_svg_y((double) p->sum / p->count / 1e6, lo, hi),
                    colour);
        }
    }
}
