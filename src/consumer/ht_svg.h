/*
 * A small chart of one hotel's average nightly rate per bucket across
 * two windows, the one before and the last, as inline SVG for the
 * report's page: drawn by our own code, nothing fetched, no script.
 *
 * The shaded half is the window before; a dashed level in each half is
 * that window's average, the two figures the trend compares; the line
 * joins the buckets' averages.  Only the drawing is approximate (doubles
 * place the points); every figure written on it is formatted exactly.
 */

#ifndef HT_SVG_H
#define HT_SVG_H

#include <stdint.h>
#include <stdio.h>


typedef struct {
    int64_t    start;           /* the bucket's start, Unix seconds */
    int64_t    count;
    int64_t    sum;             /* micros; a bucket's sum fits int64 */
} ht_svg_point_t;


typedef struct {
    const ht_svg_point_t  *points;      /* in time order */
    size_t                 npoints;
    int64_t                from;        /* the window before: [from, mid) */
    int64_t                mid;         /* the last window: [mid, to) */
    int64_t                to;
    int64_t                bucket;      /* seconds; 0 if unknown */
    __int128               sum_before;  /* the two windows' totals */
    int64_t                count_before;
    __int128               sum_now;
    int64_t                count_now;
    int                    direction;   /* 1 up, -1 down, 0 neither */
    const char            *label;       /* aria-label text, HTML-escaped */
} ht_svg_chart_t;


/* Writes one <svg> element to out. */
void ht_svg_chart(FILE *out, const ht_svg_chart_t *ch);

/* "14:05", or "12-02" when the span is days; UTC.  Returns buf. */
char *ht_svg_tick(char *buf, size_t size, int64_t t, int64_t span);


#endif /* HT_SVG_H */
