
/*
 * The body filter: reads a JSON search result page as it streams to the
 * client and hands one record per hotel to the producer.
 *
 * The filter only looks at the buffers it passes on; it never changes,
 * holds or delays them, so the client gets the response byte for byte and
 * as fast as without the module.  The parser keeps a bounded state per
 * request whatever the size of the page.
 */


#include "ngx_http_hotel_kafka_module.h"


static ngx_int_t ngx_http_hotel_kafka_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_hotel_kafka_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static void ngx_http_hotel_kafka_feed(ngx_http_hotel_kafka_ctx_t *ctx,
    ngx_buf_t *b);
static void ngx_http_hotel_kafka_finish(ngx_http_hotel_kafka_ctx_t *ctx);
static void ngx_http_hotel_kafka_page_failed(ngx_http_hotel_kafka_ctx_t *ctx,
    hk_extract_rc_t rc);
static void ngx_http_hotel_kafka_result(void *data, const hk_result_t *res);
static void ngx_http_hotel_kafka_skip(void *data, hk_skip_reason_t reason,
    uint32_t position);
static void ngx_http_hotel_kafka_cleanup(void *data);
static ngx_uint_t ngx_http_hotel_kafka_code_wanted(
    ngx_http_hotel_kafka_loc_conf_t *hlcf, ngx_uint_t status);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static hk_extract_handlers_t  ngx_http_hotel_kafka_handlers = {
    ngx_http_hotel_kafka_result,
    ngx_http_hotel_kafka_skip
};


ngx_int_t
ngx_http_hotel_kafka_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_hotel_kafka_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_hotel_kafka_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_hotel_kafka_header_filter(ngx_http_request_t *r)
{
    ngx_time_t                        *tp;
    ngx_pool_cleanup_t                *cln;
    ngx_http_variable_value_t         *vv;
    ngx_http_hotel_kafka_ctx_t        *ctx;
    ngx_http_hotel_kafka_loc_conf_t   *hlcf;
    ngx_http_hotel_kafka_main_conf_t  *hmcf;

    hlcf = ngx_http_get_module_loc_conf(r, ngx_http_hotel_kafka_module);

    /* a status location inherits search_results but is no result page */

    if (!hlcf->search_results
        || hlcf->status_format != NGX_HTTP_HOTEL_KAFKA_STATUS_OFF
        || r != r->main
        || r->header_only
        || !ngx_http_hotel_kafka_code_wanted(hlcf, r->headers_out.status))
    {
        return ngx_http_next_header_filter(r);
    }

    /* a body compressed upstream is passed on unread, and counted */

    if (r->headers_out.content_encoding
        && r->headers_out.content_encoding->value.len
        && ngx_strcasecmp(r->headers_out.content_encoding->value.data,
                          (u_char *) "identity") != 0)
    {
        ngx_http_hotel_kafka_count_page(NGX_HTTP_HOTEL_KAFKA_PAGE_COMPRESSED);
        return ngx_http_next_header_filter(r);
    }

    hmcf = ngx_http_get_module_main_conf(r, ngx_http_hotel_kafka_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_hotel_kafka_ctx_t));
    if (ctx == NULL) {
        return ngx_http_next_header_filter(r);
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return ngx_http_next_header_filter(r);
    }

    ctx->request = r;
    ctx->conf = hlcf;
    ctx->extract = hk_extract_create(&hlcf->extract,
                                     &ngx_http_hotel_kafka_handlers, ctx);

    if (ctx->extract == NULL) {
        ngx_http_hotel_kafka_count_page(NGX_HTTP_HOTEL_KAFKA_PAGE_NOMEM);
        return ngx_http_next_header_filter(r);
    }

    cln->handler = ngx_http_hotel_kafka_cleanup;
    cln->data = ctx;

    vv = ngx_http_get_indexed_variable(r, hmcf->request_id_index);
    if (vv && !vv->not_found) {
        ctx->search_id.data = vv->data;
        ctx->search_id.len = vv->len;
    }

    tp = ngx_timeofday();
    ctx->search_time_ms = (int64_t) tp->sec * 1000 + tp->msec;

    ngx_http_set_ctx(r, ctx, ngx_http_hotel_kafka_module);

    /* a body buffered to a temporary file is read back for us */

    r->filter_need_in_memory = 1;

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_hotel_kafka_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t                 *cl;
    ngx_http_hotel_kafka_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_hotel_kafka_module);

    if (ctx == NULL || ctx->done) {
        return ngx_http_next_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {
        ngx_http_hotel_kafka_feed(ctx, cl->buf);

        if (cl->buf->last_buf) {
            ngx_http_hotel_kafka_finish(ctx);
            break;
        }

        if (ctx->done) {
            break;
        }
    }

    return ngx_http_next_body_filter(r, in);
}


static void
ngx_http_hotel_kafka_feed(ngx_http_hotel_kafka_ctx_t *ctx, ngx_buf_t *b)
{
    hk_extract_rc_t  rc;

    if (ngx_buf_special(b)) {
        return;
    }

    if (!ngx_buf_in_memory(b)) {
        /* filter_need_in_memory was not honoured by whoever made it */
        ngx_http_hotel_kafka_page_failed(ctx, HK_EXTRACT_ERROR_NOMEM);
        return;
    }

    if (b->last == b->pos) {
        return;
    }

    rc = hk_extract_feed(ctx->extract, b->pos, b->last - b->pos);

    if (rc != HK_EXTRACT_OK) {
        ngx_http_hotel_kafka_page_failed(ctx, rc);
    }
}


static void
ngx_http_hotel_kafka_finish(ngx_http_hotel_kafka_ctx_t *ctx)
{
    hk_extract_rc_t                rc;
    ngx_http_hotel_kafka_stats_t  *stats;

    if (ctx->done) {
        return;
    }

    rc = hk_extract_finish(ctx->extract);

    if (rc != HK_EXTRACT_OK) {
        ngx_http_hotel_kafka_page_failed(ctx, rc);
        return;
    }

    ctx->done = 1;

    stats = ngx_http_hotel_kafka_stats();
    if (stats) {
        (void) ngx_atomic_fetch_add(&stats->pages, 1);
    }

    hk_extract_destroy(ctx->extract);
    ctx->extract = NULL;
}


/*
 * The page is passed on untouched whatever the parser thinks of it; the
 * records of results already read stay produced, the rest of the page is
 * not read, and the reason is counted.
 */

static void
ngx_http_hotel_kafka_page_failed(ngx_http_hotel_kafka_ctx_t *ctx,
    hk_extract_rc_t rc)
{
    ngx_http_hotel_kafka_page_e  e;

    switch (rc) {

    case HK_EXTRACT_ERROR_DEPTH:
        e = NGX_HTTP_HOTEL_KAFKA_PAGE_DEPTH;
        break;

    case HK_EXTRACT_ERROR_TOKEN:
        e = NGX_HTTP_HOTEL_KAFKA_PAGE_TOKEN;
        break;

    case HK_EXTRACT_ERROR_NO_RESULTS:
        e = NGX_HTTP_HOTEL_KAFKA_PAGE_NO_RESULTS;
        break;

    case HK_EXTRACT_ERROR_NOMEM:
        e = NGX_HTTP_HOTEL_KAFKA_PAGE_NOMEM;
        break;

    default:
        e = NGX_HTTP_HOTEL_KAFKA_PAGE_SYNTAX;
        break;
    }

    ngx_http_hotel_kafka_count_page(e);

    ngx_log_error(NGX_LOG_INFO, ctx->request->connection->log, 0,
                  "hotel kafka: search results not read: %s",
                  ctx->extract ? hk_extract_error(ctx->extract) : "no parser");

    ctx->done = 1;

    if (ctx->extract) {
        hk_extract_destroy(ctx->extract);
        ctx->extract = NULL;
    }
}


static void
ngx_http_hotel_kafka_result(void *data, const hk_result_t *res)
{
    ngx_http_hotel_kafka_ctx_t *ctx = data;

    hk_record_t  rec;

    rec.hotel_id = res->hotel_id;
    rec.hotel_id_len = res->hotel_id_len;
    rec.rate_micros = res->rate_micros;
    rec.currency = res->currency;
    rec.search_time_ms = ctx->search_time_ms;
    rec.search_id = (char *) ctx->search_id.data;
    rec.search_id_len = ctx->search_id.len;
    rec.position = res->position;

    if (ngx_http_hotel_kafka_produce(&ctx->conf->topic, &rec,
                                     ctx->request->connection->log)
        == NGX_OK)
    {
        ctx->produced++;
    }
}


static void
ngx_http_hotel_kafka_skip(void *data, hk_skip_reason_t reason,
    uint32_t position)
{
    ngx_http_hotel_kafka_ctx_t *ctx = data;

    ctx->skipped++;

    ngx_http_hotel_kafka_count_skip(reason);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ctx->request->connection->log, 0,
                   "hotel kafka: result %uD skipped: %s",
                   position, hk_skip_reason_name(reason));
}


static void
ngx_http_hotel_kafka_cleanup(void *data)
{
    ngx_http_hotel_kafka_ctx_t *ctx = data;

    if (ctx->extract) {
        hk_extract_destroy(ctx->extract);
        ctx->extract = NULL;
    }
}


/* hotel_kafka_status_codes, or any 2xx */

static ngx_uint_t
ngx_http_hotel_kafka_code_wanted(ngx_http_hotel_kafka_loc_conf_t *hlcf,
    ngx_uint_t status)
{
    ngx_uint_t   i, *code;

    if (hlcf->page_codes == NULL) {
        return status >= NGX_HTTP_OK && status < NGX_HTTP_SPECIAL_RESPONSE;
    }

    code = hlcf->page_codes->elts;

    for (i = 0; i < hlcf->page_codes->nelts; i++) {
        if (code[i] == status) {
            return 1;
        }
    }

    return 0;
}
