/*
 * The state of one "hotel-trends report", and what the files of the
 * report offer each other; nothing outside them includes this.
 *
 *   ht_report.c        the driver: one scan folds the bucket rows into
 *                      lines, then order, then one rendering
 *   ht_report_order.c  which lines, in which order: --min-count, --sort,
 *                      --order, --top, with exact comparisons
 *   ht_report_text.c   the table, CSV and JSON renderings
 *   ht_report_html.c   the page: risers and fallers, each drawn
 *   ht_svg.c           the small chart of one line (ht_svg.h)
 */

#ifndef HT_REPORT_STATE_H
#define HT_REPORT_STATE_H

#include <stdint.h>
#include <stdio.h>

#include "ht_money.h"
#include "ht_options.h"
#include "ht_store.h"


#define HT_DAY        86400
#define HT_NCOLUMNS   10


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
    int64_t    count;
    __int128   sum;             /* many buckets may exceed int64 */
    int64_t    min;
    int64_t    max;
} ht_window_t;


/* one hotel and currency: what the report prints a row of */
typedef struct {
    char         *hotel_id;     /* owned by the line */
    char          currency[4];
    ht_window_t   win[HT_WIN_MAX];
} ht_line_t;


typedef struct {
    const ht_report_opts_t  *o;
    ht_store_t              *store;
    int64_t                  window;        /* the short one, seconds */
    int64_t                  bucket;        /* the database's; 0 unknown */

    ht_line_t               *lines;         /* owned, in key order */
    size_t                   nlines;
    size_t                   cap;

    ht_line_t              **order;         /* owned array: the lines the
                                             * report shows, in its order */
    size_t                   norder;
    size_t                   nkept;         /* before --top cut them */

    int64_t                  first;         /* the earliest and latest */
    int64_t                  last;          /* bucket read; first > last
                                             * when none */
    int64_t                  lo[HT_WIN_MAX];
    int64_t                  hi[HT_WIN_MAX];
    const char              *columns[HT_NCOLUMNS];
    char                     label[24];     /* "24h", after --window */
    char                     avg_col[32];   /* "avg_24h" */
    char                     trend_col[32];
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


/* ht_report.c */
void ht_report_cells(const ht_line_t *l, ht_cells_t *c);
void ht_report_cells_list(const ht_line_t *l, ht_cells_t *c,
    const char **v);

/* ht_report_order.c */
int ht_report_order(ht_report_t *r, char *err, size_t errlen);
void ht_report_trend_windows(ht_sort_e sort, ht_window_e *now,
    ht_window_e *before);
int ht_line_trend_sign(const ht_line_t *l, ht_sort_e sort);

/* ht_report_text.c */
int ht_report_table(const ht_report_t *r, FILE *out, char *err,
    size_t errlen);
void ht_report_csv(const ht_report_t *r, FILE *out);
int ht_report_json(const ht_report_t *r, FILE *out, char *err,
    size_t errlen);

/* ht_report_html.c */
int ht_report_html(const ht_report_t *r, FILE *out, char *err,
    size_t errlen);


#endif /* HT_REPORT_STATE_H */
