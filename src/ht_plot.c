/*
 * The picture: one pass over the hourly rows writes a gnuplot data file,
 * a block per hotel and currency (blocks separated by two blank lines, as
 * gnuplot's "index" expects), then gnuplot draws them.  The averages are
 * formatted exactly by ht_money_format(); only the drawing is approximate.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ht_decode.h"
#include "ht_log.h"
#include "ht_money.h"
#include "ht_plot.h"


typedef struct {
    FILE    *data;
    char     hotel[HT_HOTEL_ID_MAX + 1];
    char     currency[4];
    size_t   series;
} ht_plot_ctx_t;


static int ht_plot_row(const ht_row_t *row, void *ctx);
static void ht_plot_quote(FILE *out, const char *s);


int
ht_plot_run(ht_store_t *store, const ht_report_opts_t *o)
{
    int             fd, rc, status;
    char            path[] = "/tmp/hotel-trends-plot-XXXXXX";
    FILE           *gp;
    ht_filter_t     f;
    ht_plot_ctx_t   ctx;

    if (o->nhotels == 0 || o->nhotels > HT_PLOT_MAX_HOTELS) {
        ht_log_error("--plot draws 1 to %d hotels: name them with --hotel",
                     HT_PLOT_MAX_HOTELS);
        return -1;
    }

    fd = mkstemp(path);
    if (fd == -1) {
        ht_log_error("plot data file: %s", strerror(errno));
        return -1;
    }

    memset(&ctx, 0, sizeof(ctx));

    ctx.data = fdopen(fd, "w");
    if (ctx.data == NULL) {
        close(fd);
        unlink(path);
        return -1;
    }

    f.hotels = o->hotels;
    f.nhotels = o->nhotels;
    f.currency = o->currency[0] ? o->currency : NULL;
    f.since = o->since;
    f.until = o->until;

    rc = store->ops->scan(store, &f, ht_plot_row, &ctx);

    if (fclose(ctx.data) != 0 || rc != 0) {
        ht_log_error("plot: reading the aggregates failed: %s", store->err);
        unlink(path);
        return -1;
    }

    if (ctx.series == 0) {
        ht_log_error("plot: no data for the chosen hotels");
        unlink(path);
        return -1;
    }

    /* gnuplot reads its script from the pipe; the data file is ours */

    gp = popen("gnuplot", "w");
    if (gp == NULL) {
        ht_log_error("plot: gnuplot: %s (apt-get install gnuplot-nox)",
                     strerror(errno));
        unlink(path);
        return -1;
    }

    fprintf(gp, "set terminal pngcairo size 1200,600 font \"sans,10\"\n"
                "set output ");
    ht_plot_quote(gp, o->plot);
    fprintf(gp, "\n"
                "set title \"Average nightly rate per hour\"\n"
                "set xdata time\n"
                "set timefmt \"%%s\"\n"
                "set format x \"%%m-%%d\\n%%H:%%M\"\n"
                "set xlabel \"hour (UTC)\"\n"
                "set ylabel \"average nightly rate\"\n"
                "set key outside right top\n"
                "set grid\n"
                "plot for [i=0:%zu] ", ctx.series - 1);
    ht_plot_quote(gp, path);
    fprintf(gp, " index i using 1:2 with linespoints "
                "title columnheader(1)\n");

    status = pclose(gp);
    unlink(path);

    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        ht_log_error("plot: gnuplot failed (is gnuplot-nox installed?)");
        return -1;
    }

    ht_log_info("plot: %zu hotel line(s) drawn to %s", ctx.series, o->plot);

    return 0;
}


static int
ht_plot_row(const ht_row_t *row, void *data)
{
    char            avg[HT_MONEY_LEN];
    const char     *p;
    ht_plot_ctx_t  *ctx = data;

    if (ctx->series == 0
        || strncmp(ctx->hotel, row->hotel_id, sizeof(ctx->hotel)) != 0
        || strcmp(ctx->currency, row->currency) != 0)
    {
        /* a new series: its first line is its title (columnheader) */

        if (ctx->series) {
            fprintf(ctx->data, "\n\n");
        }

        snprintf(ctx->hotel, sizeof(ctx->hotel), "%s", row->hotel_id);
        snprintf(ctx->currency, sizeof(ctx->currency), "%s", row->currency);

        fputc('"', ctx->data);

        for (p = row->hotel_id; *p; p++) {
            fputc(*p == '"' ? '\'' : *p, ctx->data);
        }

        fprintf(ctx->data, " %s\" x\n", row->currency);
        ctx->series++;
    }

    ht_money_format(avg, sizeof(avg), row->sum_micros, row->count);

    fprintf(ctx->data, "%lld %s\n", (long long) row->bucket_start, avg);

    return 0;
}


/* a gnuplot string: double quotes, with \ and " escaped */

static void
ht_plot_quote(FILE *out, const char *s)
{
    fputc('"', out);

    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            fputc('\\', out);
        }

        fputc(*s, out);
    }

    fputc('"', out);
}
