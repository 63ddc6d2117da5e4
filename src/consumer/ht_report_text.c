/*
 * The report as text: an aligned table, CSV, or JSON, one row per line
 * of the report's order.  The JSON also carries each line's exact
 * integers (sums, counts, minimum and maximum in micros, per window), so
 * that a total or a trend can be recomputed without rounding.
 */

#include <string.h>

#include "ht_report_state.h"


typedef struct {
    FILE  *out;
    int    first;
} ht_json_ctx_t;


static void ht_json_exact(const ht_report_t *r, const ht_line_t *l,
    FILE *out);
static void ht_json_window(const char *count, const char *sum,
    const ht_window_t *w, FILE *out);
static void ht_csv_field(const char *s, FILE *out);
static void ht_json_string(const char *s, FILE *out);
static void ht_json_value(const char *s, FILE *out);
static void ht_report_rejected_line(const char *reason, int64_t count,
    void *ctx);
static void ht_report_rejected_json(const char *reason, int64_t count,
    void *ctx);


/* the table, then the rejected counts as "# rejected" lines */
int
ht_report_table(const ht_report_t *r, FILE *out, char *err, size_t errlen)
{
    int          width[HT_NCOLUMNS], len;
    size_t       i, k;
    ht_cells_t   c;
    const char  *v[HT_NCOLUMNS];

    for (k = 0; k < HT_NCOLUMNS; k++) {
        width[k] = strlen(r->columns[k]);
    }

    for (i = 0; i < r->norder; i++) {
        ht_report_cells(r->order[i], &c);
        ht_report_cells_list(r->order[i], &c, v);

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

    for (i = 0; i < r->norder; i++) {
        ht_report_cells(r->order[i], &c);
        ht_report_cells_list(r->order[i], &c, v);

        for (k = 0; k < HT_NCOLUMNS; k++) {
            fprintf(out, "%s%*s", k ? "  " : "",
                    k < 2 ? -width[k] : width[k], v[k]);
        }

        fputc('\n', out);
    }

    return r->store->ops->rejected(r->store, ht_report_rejected_line, out,
                                   err, errlen);
}


void
ht_report_csv(const ht_report_t *r, FILE *out)
{
    size_t       i, k;
    ht_cells_t   c;
    const char  *v[HT_NCOLUMNS];

    for (k = 0; k < HT_NCOLUMNS; k++) {
        fprintf(out, "%s%s", k ? "," : "", r->columns[k]);
    }

    fputc('\n', out);

    for (i = 0; i < r->norder; i++) {
        ht_report_cells(r->order[i], &c);
        ht_report_cells_list(r->order[i], &c, v);

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


int
ht_report_json(const ht_report_t *r, FILE *out, char *err, size_t errlen)
{
    int             rc;
    size_t          i, k;
    ht_cells_t      c;
    const char     *v[HT_NCOLUMNS];
    ht_json_ctx_t   jc;

    fprintf(out, "{\"rows\":[");

    for (i = 0; i < r->norder; i++) {
        ht_report_cells(r->order[i], &c);
        ht_report_cells_list(r->order[i], &c, v);

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

        ht_json_exact(r, r->order[i], out);

        fputc('}', out);
    }

    fprintf(out, "%s],\"rejected\":{", r->norder ? "\n" : "");

    jc.out = out;
    jc.first = 1;
    rc = r->store->ops->rejected(r->store, ht_report_rejected_json, &jc, err,
                                 errlen);

    fprintf(out, "},\"now\":%lld,\"window\":%lld}\n", (long long) r->o->now,
            (long long) r->window);

    return rc;
}


/*
 * The integers behind a row's figures: sum, minimum and maximum in
 * micros over the period, and each window's count and sum, named after
 * the window ("count_24h", "sum_micros_prev_24h", "count_7d"...).
 */
static void
ht_json_exact(const ht_report_t *r, const ht_line_t *l, FILE *out)
{
    char                num[HT_MONEY_LEN], count[48], sum[48];
    const ht_window_t  *all = &l->win[HT_WIN_ALL];

    fprintf(out, ",\"sum_micros\":%s,\"min_micros\":%lld,"
            "\"max_micros\":%lld", ht_int128_format(num, sizeof(num),
                                                    all->sum),
            (long long) all->min, (long long) all->max);

    snprintf(count, sizeof(count), "count_%s", r->label);
    snprintf(sum, sizeof(sum), "sum_micros_%s", r->label);
    ht_json_window(count, sum, &l->win[HT_WIN_DAY], out);

    snprintf(count, sizeof(count), "count_prev_%s", r->label);
    snprintf(sum, sizeof(sum), "sum_micros_prev_%s", r->label);
    ht_json_window(count, sum, &l->win[HT_WIN_PREV_DAY], out);

    ht_json_window("count_7d", "sum_micros_7d", &l->win[HT_WIN_WEEK], out);
    ht_json_window("count_prev_7d", "sum_micros_prev_7d",
                   &l->win[HT_WIN_PREV_WEEK], out);
}


static void
ht_json_window(const char *count, const char *sum, const ht_window_t *w,
    FILE *out)
{
    char  num[HT_MONEY_LEN];

    fprintf(out, ",\"%s\":%lld,\"%s\":%s", count, (long long) w->count, sum,
            ht_int128_format(num, sizeof(num), w->sum));
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
