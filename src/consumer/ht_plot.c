/*
 * The picture: one pass over the bucket rows writes a gnuplot data file,
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
    char     path[64];      /* the data file, unlinked by ht_plot_run() */
    char     hotel[HT_HOTEL_ID_MAX + 1];
    char     currency[4];
    size_t   series;
    int64_t  first;         /* the earliest and latest bucket drawn */
    int64_t  last;
} ht_plot_ctx_t;


/* x tic steps that read well, in seconds: a minute to a year */
static const int64_t  ht_plot_steps[] = {
    60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
    172800, 604800, 2592000, 7776000, 31536000
};


static int ht_plot_data(ht_store_t *store, const ht_report_opts_t *o,
    ht_plot_ctx_t *ctx, char *err, size_t errlen);
static int ht_plot_row(const ht_row_t *row, void *ctx, char *err,
    size_t errlen);
static void ht_plot_per(ht_store_t *store, int64_t *bucket, char *per,
    size_t size);
static int ht_plot_draw(const ht_plot_ctx_t *ctx, const char *png,
    int64_t bucket, const char *per, char *err, size_t errlen);
static void ht_plot_xtics(FILE *gp, int64_t bucket, int64_t first,
    int64_t last);
static void ht_plot_quote(FILE *out, const char *s);


int
ht_plot_run(ht_store_t *store, const ht_report_opts_t *o, char *err,
    size_t errlen)
{
    int             rc;
    char            per[40];
    int64_t         bucket;
    ht_plot_ctx_t   ctx;

    memset(&ctx, 0, sizeof(ctx));

    if (ht_plot_data(store, o, &ctx, err, errlen) != 0) {
        return -1;
    }

    ht_plot_per(store, &bucket, per, sizeof(per));

    rc = ht_plot_draw(&ctx, o->plot, bucket, per, err, errlen);

    unlink(ctx.path);

    if (rc == 0) {
        ht_log_info("plot: %zu hotel line(s) drawn to %s", ctx.series,
                    o->plot);
    }

    return rc;
}


/*
 * Writes the rows matching the report's filters to a new temporary file,
 * ctx->path, one block per hotel and currency.  On success the caller
 * unlinks the file; on failure it is gone already.
 */
static int
ht_plot_data(ht_store_t *store, const ht_report_opts_t *o,
    ht_plot_ctx_t *ctx, char *err, size_t errlen)
{
    int          fd, rc;
    char         msg[512];
    ht_filter_t  f;

    snprintf(ctx->path, sizeof(ctx->path), "/tmp/hotel-trends-plot-XXXXXX");

    fd = mkstemp(ctx->path);
    if (fd == -1) {
        snprintf(err, errlen, "plot data file: %s", strerror(errno));
        return -1;
    }

    ctx->data = fdopen(fd, "w");
    if (ctx->data == NULL) {
        snprintf(err, errlen, "plot data file: %s", strerror(errno));
        close(fd);
        unlink(ctx->path);
        return -1;
    }

    f.hotels = o->hotels;
    f.nhotels = o->nhotels;
    f.currency = o->currency[0] ? o->currency : NULL;
    f.since = o->since;
    f.until = o->until;

    rc = store->ops->scan(store, &f, ht_plot_row, ctx, msg, sizeof(msg));

    if (fclose(ctx->data) != 0 && rc == HT_STORE_OK) {
        snprintf(msg, sizeof(msg), "%s", strerror(errno));
        rc = HT_STORE_ERROR;
    }

    if (rc != HT_STORE_OK) {
        snprintf(err, errlen, "plot: reading the aggregates failed: %s", msg);
        unlink(ctx->path);
        return -1;
    }

    if (ctx->series == 0) {
        snprintf(err, errlen, "plot: no data for the chosen hotels");
        unlink(ctx->path);
        return -1;
    }

    return 0;
}


static int
ht_plot_row(const ht_row_t *row, void *data, char *err, size_t errlen)
{
    char            avg[HT_MONEY_LEN];
    const char     *p;
    ht_plot_ctx_t  *ctx = data;

    if (ctx->series == 0 || row->bucket_start < ctx->first) {
        ctx->first = row->bucket_start;
    }

    if (ctx->series == 0 || row->bucket_start > ctx->last) {
        ctx->last = row->bucket_start;
    }

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


/* the title names the database's bucket: one point per bucket */
static void
ht_plot_per(ht_store_t *store, int64_t *bucket, char *per, size_t size)
{
    char  msg[512];

    /* unknown, the picture is only less precise: "per bucket" */
    if (store->ops->bucket(store, 0, bucket, msg, sizeof(msg))
        != HT_STORE_OK)
    {
        *bucket = 0;
    }

    if (*bucket == 60 || *bucket == 3600 || *bucket == 86400) {
        snprintf(per, size, "%s", *bucket == 60 ? "minute"
                                  : *bucket == 3600 ? "hour" : "day");

    } else if (*bucket > 0) {
        ht_duration_label(per, size, *bucket);
        strncat(per, " bucket", size - strlen(per) - 1);

    } else {
        snprintf(per, size, "bucket");
    }
}


/* gnuplot reads its script from the pipe; the data file is ours */
static int
ht_plot_draw(const ht_plot_ctx_t *ctx, const char *png, int64_t bucket,
    const char *per, char *err, size_t errlen)
{
    int    status;
    FILE  *gp;

    gp = popen("gnuplot", "w");
    if (gp == NULL) {
        snprintf(err, errlen, "plot: gnuplot: %s (apt-get install "
                 "gnuplot-nox)", strerror(errno));
        return -1;
    }

    fprintf(gp, "set terminal pngcairo size 1200,600 font \"sans,10\"\n");

    ht_plot_xtics(gp, bucket, ctx->first, ctx->last);

    fprintf(gp, "set output ");
    ht_plot_quote(gp, png);
    fprintf(gp, "\n"
                "set title \"Average nightly rate per %s\"\n"
                "set xdata time\n"
                "set timefmt \"%%s\"\n"
                "set format x \"%%m-%%d\\n%%H:%%M\"\n"
                "set xlabel \"%s (UTC)\"\n"
                "set ylabel \"average nightly rate\"\n"
                "set key outside right top\n"
                "set grid\n"
                "plot for [i=0:%zu] ", per, per, ctx->series - 1);
    ht_plot_quote(gp, ctx->path);
    fprintf(gp, " index i using 1:2 with linespoints "
                "title columnheader(1)\n");

    status = pclose(gp);

    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errlen, "plot: gnuplot failed (is gnuplot-nox "
                 "installed?)");
        return -1;
    }

    return 0;
}


/*
 * Tics on whole buckets, ten or so: left to itself, gnuplot ticks a few
 * minutes every 12 seconds, and "%H:%M" labels the same minute five
 * times.  Past a year of buckets, or with the bucket unknown, gnuplot
 * chooses.
 */
static void
ht_plot_xtics(FILE *gp, int64_t bucket, int64_t first, int64_t last)
{
    size_t   i;
    int64_t  step;

    for (i = 0; bucket > 0 && i < sizeof(ht_plot_steps) / sizeof(int64_t);
         i++)
    {
        step = ht_plot_steps[i];

        if (step % bucket == 0 && (last - first) / step <= 10) {
            fprintf(gp, "set xtics %lld\n", (long long) step);
            return;
        }
    }
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
