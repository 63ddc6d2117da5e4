
/*
 * The status handler: the shared counters as JSON (the default) or as
 * Prometheus text ("hotel_kafka_status prometheus;", or "?format=
 * prometheus" on any status location).  Totals first, then one entry per
 * worker slot that has run a producer.
 *
 * Nothing here reveals configuration: no property value, so no secret,
 * is ever part of the output.
 */


#include "ngx_http_hotel_kafka_module.h"


static ngx_int_t ngx_http_hotel_kafka_status_handler(ngx_http_request_t *r);
static u_char *ngx_http_hotel_kafka_status_json(u_char *p, u_char *last,
    ngx_http_hotel_kafka_stats_t *st, ngx_http_hotel_kafka_counters_t *c);
static u_char *ngx_http_hotel_kafka_status_workers_json(u_char *p,
    u_char *last, ngx_http_hotel_kafka_stats_t *st);
static u_char *ngx_http_hotel_kafka_status_prometheus(u_char *p,
    u_char *last, ngx_http_hotel_kafka_stats_t *st,
    ngx_http_hotel_kafka_counters_t *c);
static u_char *ngx_http_hotel_kafka_status_labelled(u_char *p, u_char *last,
    const char *metric, const char **labels, ngx_atomic_uint_t *values,
    ngx_uint_t n);
static u_char *ngx_http_hotel_kafka_json_string(u_char *p, u_char *last,
    u_char *s);



/*
 * The output's size: the totals and the last error (escaped, at most 6
 * bytes a byte), then each worker slot at most.
 */
#define NGX_HTTP_HOTEL_KAFKA_STATUS_FIXED  (8 * 1024)
#define NGX_HTTP_HOTEL_KAFKA_STATUS_SLOT   512


char *
ngx_http_hotel_kafka_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_hotel_kafka_loc_conf_t *hlcf = conf;

    ngx_str_t                         *value;
    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_hotel_kafka_main_conf_t  *hmcf;

    if (hlcf->status_format != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    hlcf->status_format = NGX_HTTP_HOTEL_KAFKA_STATUS_JSON;

    if (cf->args->nelts == 2) {
        value = cf->args->elts;

        if (ngx_strcmp(value[1].data, "prometheus") == 0) {
            hlcf->status_format = NGX_HTTP_HOTEL_KAFKA_STATUS_PROMETHEUS;

        } else if (ngx_strcmp(value[1].data, "json") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    hmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_hotel_kafka_module);
    hmcf->status_used = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_hotel_kafka_status_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_hotel_kafka_status_handler(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_str_t                         format;
    ngx_buf_t                        *b;
    ngx_uint_t                        prometheus;
    ngx_chain_t                       out;
    ngx_http_hotel_kafka_stats_t     *st;
    ngx_http_hotel_kafka_counters_t   total;
    ngx_http_hotel_kafka_loc_conf_t  *hlcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    st = ngx_http_hotel_kafka_stats();
    if (st == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    hlcf = ngx_http_get_module_loc_conf(r, ngx_http_hotel_kafka_module);

    prometheus = (hlcf->status_format == NGX_HTTP_HOTEL_KAFKA_STATUS_PROMETHEUS);

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK) {
        if (format.len == 10
            && ngx_strncmp(format.data, "prometheus", 10) == 0)
        {
            prometheus = 1;

        } else if (format.len == 4
                   && ngx_strncmp(format.data, "json", 4) == 0)
        {
            prometheus = 0;
        }
    }

    b = ngx_create_temp_buf(r->pool, NGX_HTTP_HOTEL_KAFKA_STATUS_FIXED
                                     + st->nslots
                                       * NGX_HTTP_HOTEL_KAFKA_STATUS_SLOT);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_hotel_kafka_stats_sum(st, &total);

    if (prometheus) {
        b->last = ngx_http_hotel_kafka_status_prometheus(b->pos, b->end, st,
                                                         &total);
        ngx_str_set(&r->headers_out.content_type,
                    "text/plain; version=0.0.4");

    } else {
        b->last = ngx_http_hotel_kafka_status_json(b->pos, b->end, st,
                                                   &total);
        ngx_str_set(&r->headers_out.content_type, "application/json");
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * The buffer is sized for the largest output (every worker slot in use,
 * the longest error text); ngx_slprintf() stops at "last" regardless.
 */

static u_char *
ngx_http_hotel_kafka_status_json(u_char *p, u_char *last,
    ngx_http_hotel_kafka_stats_t *st, ngx_http_hotel_kafka_counters_t *c)
{
    ngx_uint_t  i;

    p = ngx_slprintf(p, last,
                     "{\"produced\":%uA,\"delivered\":%uA,\"failed\":%uA,"
                     "\"delivered_bytes\":%uA,\"dropped\":{",
                     c->produced, c->delivered, c->failed,
                     c->delivered_bytes);

    for (i = 0; i < NGX_HTTP_HOTEL_KAFKA_DROP_N; i++) {
        p = ngx_slprintf(p, last, "%s\"%s\":%uA", i ? "," : "",
                         ngx_http_hotel_kafka_drop_names[i], c->dropped[i]);
    }

    p = ngx_slprintf(p, last, "},\"skipped\":{");

    for (i = 0; i < HK_SKIP_NREASONS; i++) {
        p = ngx_slprintf(p, last, "%s\"%s\":%uA", i ? "," : "",
                         hk_skip_reason_name(i), c->skipped[i]);
    }

    p = ngx_slprintf(p, last, "},\"pages\":%uA,\"pages_failed\":{",
                     c->pages);

    for (i = 0; i < NGX_HTTP_HOTEL_KAFKA_PAGE_N; i++) {
        p = ngx_slprintf(p, last, "%s\"%s\":%uA", i ? "," : "",
                         ngx_http_hotel_kafka_page_names[i],
                         c->pages_failed[i]);
    }

    p = ngx_slprintf(p, last, "},\"last_error\":");
    p = ngx_http_hotel_kafka_json_string(p, last, st->last_error);
    p = ngx_slprintf(p, last, ",\"last_error_time\":%uA,\"workers\":[",
                     st->last_error_time);

    p = ngx_http_hotel_kafka_status_workers_json(p, last, st);

    return ngx_slprintf(p, last, "]}\n");
}


/* the processes that hold a slot now, each once */

static u_char *
ngx_http_hotel_kafka_status_workers_json(u_char *p, u_char *last,
    ngx_http_hotel_kafka_stats_t *st)
{
    ngx_uint_t                        i, j, first;
    ngx_atomic_uint_t                 dropped;
    ngx_http_hotel_kafka_slot_t      *w;

    first = 1;

    for (i = 0; i < st->nslots; i++) {
        w = (ngx_http_hotel_kafka_slot_t *) (st->slots + i * st->slot_size);

        if (w->pid == 0) {
            continue;
        }

        dropped = 0;

        for (j = 0; j < NGX_HTTP_HOTEL_KAFKA_DROP_N; j++) {
            dropped += w->counters.dropped[j];
        }

        p = ngx_slprintf(p, last,
                         "%s{\"worker\":%ui,\"pid\":%uA,\"produced\":%uA,"
                         "\"delivered\":%uA,\"failed\":%uA,\"dropped\":%uA,"
                         "\"queue_depth\":%uA}",
                         first ? "" : ",", w->worker, w->pid,
                         w->counters.produced, w->counters.delivered,
                         w->counters.failed, dropped, w->queue_depth);
        first = 0;
    }

    return p;
}


static u_char *
ngx_http_hotel_kafka_status_prometheus(u_char *p, u_char *last,
    ngx_http_hotel_kafka_stats_t *st, ngx_http_hotel_kafka_counters_t *c)
{
    ngx_uint_t                     i;
    const char                    *skip_names[HK_SKIP_NREASONS];
    ngx_http_hotel_kafka_slot_t   *w;

    for (i = 0; i < HK_SKIP_NREASONS; i++) {
        skip_names[i] = hk_skip_reason_name(i);
    }

    p = ngx_slprintf(p, last,
        "# HELP hotel_kafka_records_produced_total "
        "Records accepted by the producer.\n"
        "# TYPE hotel_kafka_records_produced_total counter\n"
        "hotel_kafka_records_produced_total %uA\n"
        "# HELP hotel_kafka_records_delivered_total "
        "Records acknowledged by the brokers.\n"
        "# TYPE hotel_kafka_records_delivered_total counter\n"
        "hotel_kafka_records_delivered_total %uA\n"
        "# HELP hotel_kafka_records_failed_total "
        "Records produced but not delivered (timeout, purge, error).\n"
        "# TYPE hotel_kafka_records_failed_total counter\n"
        "hotel_kafka_records_failed_total %uA\n"
        "# HELP hotel_kafka_delivered_bytes_total "
        "Bytes of record values delivered.\n"
        "# TYPE hotel_kafka_delivered_bytes_total counter\n"
        "hotel_kafka_delivered_bytes_total %uA\n"
        "# HELP hotel_kafka_records_dropped_total "
        "Records never handed to the producer, by reason.\n"
        "# TYPE hotel_kafka_records_dropped_total counter\n",
        c->produced, c->delivered, c->failed, c->delivered_bytes);

    p = ngx_http_hotel_kafka_status_labelled(p, last,
                                    "hotel_kafka_records_dropped_total",
                                    ngx_http_hotel_kafka_drop_names,
                                    c->dropped, NGX_HTTP_HOTEL_KAFKA_DROP_N);

    p = ngx_slprintf(p, last,
        "# HELP hotel_kafka_results_skipped_total "
        "Search results that could not become records, by reason.\n"
        "# TYPE hotel_kafka_results_skipped_total counter\n");

    p = ngx_http_hotel_kafka_status_labelled(p, last,
                                    "hotel_kafka_results_skipped_total",
                                    skip_names,
                                    c->skipped, HK_SKIP_NREASONS);

    p = ngx_slprintf(p, last,
        "# HELP hotel_kafka_pages_total Result pages read to the end.\n"
        "# TYPE hotel_kafka_pages_total counter\n"
        "hotel_kafka_pages_total %uA\n"
        "# HELP hotel_kafka_pages_failed_total "
        "Result pages not read to the end, by reason.\n"
        "# TYPE hotel_kafka_pages_failed_total counter\n", c->pages);

    p = ngx_http_hotel_kafka_status_labelled(p, last,
                                    "hotel_kafka_pages_failed_total",
                                    ngx_http_hotel_kafka_page_names,
                                    c->pages_failed,
                                    NGX_HTTP_HOTEL_KAFKA_PAGE_N);

    p = ngx_slprintf(p, last,
        "# HELP hotel_kafka_worker_queue_depth "
        "Records and events waiting in a worker's producer.\n"
        "# TYPE hotel_kafka_worker_queue_depth gauge\n");

    for (i = 0; i < st->nslots; i++) {
        w = (ngx_http_hotel_kafka_slot_t *) (st->slots + i * st->slot_size);

        if (w->pid == 0) {
            continue;
        }

        p = ngx_slprintf(p, last,
                         "hotel_kafka_worker_queue_depth"
                         "{worker=\"%ui\",pid=\"%uA\"} %uA\n",
                         w->worker, w->pid, w->queue_depth);
    }

    return p;
}


static u_char *
ngx_http_hotel_kafka_status_labelled(u_char *p, u_char *last,
    const char *metric, const char **labels, ngx_atomic_uint_t *values,
    ngx_uint_t n)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        p = ngx_slprintf(p, last, "%s{reason=\"%s\"} %uA\n",
                         metric, labels[i], values[i]);
    }

    return p;
}


static u_char *
ngx_http_hotel_kafka_json_string(u_char *p, u_char *last, u_char *s)
{
    size_t  len;

    len = ngx_strlen(s);

    if (p + 2 + len + ngx_escape_json(NULL, s, len) > last) {
        return ngx_slprintf(p, last, "\"\"");
    }

    *p++ = '"';
    p = (u_char *) ngx_escape_json(p, s, len);
    *p++ = '"';

    return p;
}
