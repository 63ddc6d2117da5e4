
/*
 * The body filter: reads a JSON search result page as it streams to the
 * client and hands one record per hotel to the producer.
 *
 * The filter only looks at the buffers it passes on; it never changes,
 * holds or delays them, so the client gets the response byte for byte and
 * as fast as without the module.  It copies them: a page of up to
 * hotel_kafka_page_buffer bytes is read whole at its end, by simdjson
 * (hk_extract_document()); a longer one by the streaming extractor as it
 * passes, from the copy of its start on, so that memory per request stays
 * bounded whatever the page.
 */


#include "ngx_http_hotel_kafka_module.h"


static ngx_int_t ngx_http_hotel_kafka_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_hotel_kafka_start(ngx_http_request_t *r,
    ngx_http_hotel_kafka_loc_conf_t *hlcf);
static ngx_int_t ngx_http_hotel_kafka_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static void ngx_http_hotel_kafka_feed(ngx_http_hotel_kafka_ctx_t *ctx,
    ngx_buf_t *b);
static ngx_int_t ngx_http_hotel_kafka_keep(ngx_http_hotel_kafka_ctx_t *ctx,
    u_char *data, size_t len);
static ngx_int_t ngx_http_hotel_kafka_stream(ngx_http_hotel_kafka_ctx_t *ctx);
static void ngx_http_hotel_kafka_finish(ngx_http_hotel_kafka_ctx_t *ctx);
static void ngx_http_hotel_kafka_parse_failed(ngx_http_hotel_kafka_ctx_t *ctx,
    hk_extract_rc_t rc);
static ngx_http_hotel_kafka_page_e ngx_http_hotel_kafka_page_reason(
    hk_extract_rc_t rc);
static void ngx_http_hotel_kafka_page_failed(ngx_http_hotel_kafka_ctx_t *ctx,
    ngx_http_hotel_kafka_page_e e, const char *why);
static void ngx_http_hotel_kafka_result(void *data, const hk_result_t *res);
static void ngx_http_hotel_kafka_page_add(ngx_http_hotel_kafka_ctx_t *ctx,
    const hk_result_t *res);
static void *ngx_http_hotel_kafka_palloc(void *pool, size_t size);
static void ngx_http_hotel_kafka_page_end(ngx_http_hotel_kafka_ctx_t *ctx);
static void ngx_http_hotel_kafka_skip(void *data, hk_skip_reason_t reason,
    uint32_t position);
static void ngx_http_hotel_kafka_cleanup(void *data);
static ngx_uint_t ngx_http_hotel_kafka_code_wanted(
    ngx_http_hotel_kafka_loc_conf_t *hlcf, ngx_uint_t status);
static ngx_uint_t ngx_http_hotel_kafka_wanted(ngx_http_request_t *r,
    ngx_http_hotel_kafka_loc_conf_t *hlcf);


/* an empty page, and the padding the whole-page reader may look at */
static u_char  ngx_http_hotel_kafka_empty[HK_EXTRACT_PADDING];


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static hk_extract_handlers_t  ngx_http_hotel_kafka_handlers = {
    ngx_http_hotel_kafka_result,
    ngx_http_hotel_kafka_skip
};


/* hotel_kafka_search_results on | off [if=condition] */

char *
ngx_http_hotel_kafka_search_results(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_hotel_kafka_loc_conf_t *hlcf = conf;

    ngx_str_t                         *value, s;
    ngx_http_compile_complex_value_t   ccv;

    if (hlcf->search_results != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcasecmp(value[1].data, (u_char *) "on") == 0) {
        hlcf->search_results = 1;

    } else if (ngx_strcasecmp(value[1].data, (u_char *) "off") == 0) {
        hlcf->search_results = 0;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%s\" in \"%s\" directive, "
                           "it must be \"on\" or \"off\"",
                           value[1].data, cmd->name.data);
        return NGX_CONF_ERROR;
    }

    hlcf->search_results_if = NULL;

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    if (!hlcf->search_results
        || ngx_strncmp(value[2].data, "if=", 3) != 0
        || value[2].len == 3)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    s.data = value[2].data + 3;
    s.len = value[2].len - 3;

    hlcf->search_results_if = ngx_palloc(cf->pool,
                                         sizeof(ngx_http_complex_value_t));
    if (hlcf->search_results_if == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &s;
    ccv.complex_value = hlcf->search_results_if;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


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
    ngx_http_hotel_kafka_loc_conf_t  *hlcf;

    hlcf = ngx_http_get_module_loc_conf(r, ngx_http_hotel_kafka_module);

    /* a status location inherits search_results but is no result page */

    if (!hlcf->search_results
        || hlcf->status_format != NGX_HTTP_HOTEL_KAFKA_STATUS_OFF
        || r != r->main
        || r->header_only
        || !ngx_http_hotel_kafka_code_wanted(hlcf, r->headers_out.status)
        || !ngx_http_hotel_kafka_wanted(r, hlcf))
    {
        return ngx_http_next_header_filter(r);
    }

    /* a slice of the page from the upstream is not a page */

    if (r->headers_out.status == NGX_HTTP_PARTIAL_CONTENT) {
        ngx_http_hotel_kafka_count(
                 pages_failed[NGX_HTTP_HOTEL_KAFKA_PAGE_PARTIAL], 1);
        return ngx_http_next_header_filter(r);
    }

    /*
     * A body that is still compressed here (gunzip, which runs before
     * this filter, did not undo it) is passed on unread, and counted.
     */

    if (r->headers_out.content_encoding
        && r->headers_out.content_encoding->value.len
        && ngx_strcasecmp(r->headers_out.content_encoding->value.data,
                          (u_char *) "identity") != 0)
    {
        ngx_http_hotel_kafka_count(
                 pages_failed[NGX_HTTP_HOTEL_KAFKA_PAGE_COMPRESSED], 1);
        return ngx_http_next_header_filter(r);
    }

    if (ngx_http_hotel_kafka_start(r, hlcf) != NGX_OK) {
        ngx_http_hotel_kafka_count(
                 pages_failed[NGX_HTTP_HOTEL_KAFKA_PAGE_NOMEM], 1);
    }

    return ngx_http_next_header_filter(r);
}


/* the page's parser and what its records share */

static ngx_int_t
ngx_http_hotel_kafka_start(ngx_http_request_t *r,
    ngx_http_hotel_kafka_loc_conf_t *hlcf)
{
    ngx_time_t                        *tp;
    ngx_pool_cleanup_t                *cln;
    ngx_http_variable_value_t         *vv;
    ngx_http_hotel_kafka_ctx_t        *ctx;
    ngx_http_hotel_kafka_main_conf_t  *hmcf;

    hmcf = ngx_http_get_module_main_conf(r, ngx_http_hotel_kafka_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_hotel_kafka_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    ctx->request = r;
    ctx->pool = r->pool;
    ctx->conf = hlcf;

    cln->handler = ngx_http_hotel_kafka_cleanup;
    cln->data = ctx;

    vv = ngx_http_get_indexed_variable(r, hmcf->search_id_index);
    if (vv && !vv->not_found) {
        ctx->search_id.data = vv->data;
        ctx->search_id.len = vv->len;
    }

    tp = ngx_timeofday();
    ctx->search_time_ms = (int64_t) tp->sec * 1000 + tp->msec;

    ngx_http_set_ctx(r, ctx, ngx_http_hotel_kafka_module);

    /*
     * A body buffered to a temporary file, here or in a subrequest of
     * SSI, is read into memory for us by the copy filter.
     */

    r->filter_need_in_memory = 1;
    r->main_filter_need_in_memory = 1;

    return NGX_OK;
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

    /*
     * The range filter answers a Range request after this header filter
     * has run, so a 206 shows only now: the body is then a slice.
     */

    if (!ctx->started) {
        ctx->started = 1;

        if (r->headers_out.status == NGX_HTTP_PARTIAL_CONTENT) {
            ngx_http_hotel_kafka_page_failed(ctx,
                                      NGX_HTTP_HOTEL_KAFKA_PAGE_PARTIAL,
                                      "a range of the page was asked for");
            return ngx_http_next_body_filter(r, in);
        }
    }

    for (cl = in; cl; cl = cl->next) {
        ngx_http_hotel_kafka_feed(ctx, cl->buf);

        if (ctx->done) {
            break;
        }

        if (cl->buf->last_buf) {
            ngx_http_hotel_kafka_finish(ctx);
            break;
        }
    }

    return ngx_http_next_body_filter(r, in);
}


static void
ngx_http_hotel_kafka_feed(ngx_http_hotel_kafka_ctx_t *ctx, ngx_buf_t *b)
{
    size_t           len;
    hk_extract_rc_t  rc;

    if (ngx_buf_special(b)) {
        return;
    }

    if (!ngx_buf_in_memory(b)) {
        /* filter_need_in_memory was not honoured by whoever made it */
        ngx_http_hotel_kafka_page_failed(ctx,
                                      NGX_HTTP_HOTEL_KAFKA_PAGE_NOT_IN_MEMORY,
                                      "a body buffer is not in memory");
        return;
    }

    len = b->last - b->pos;

    if (len == 0) {
        return;
    }

    if (ctx->extract == NULL
        && ngx_http_hotel_kafka_keep(ctx, b->pos, len) == NGX_OK)
    {
        return;
    }

    if (ctx->extract == NULL && ngx_http_hotel_kafka_stream(ctx) != NGX_OK) {
        return;
    }

    rc = hk_extract_feed(ctx->extract, b->pos, len);

    if (rc != HK_EXTRACT_OK) {
        ngx_http_hotel_kafka_parse_failed(ctx, rc);
    }
}


/*
 * Copies len bytes to the page, or NGX_DECLINED when the page would
 * outgrow hotel_kafka_page_buffer: it is then streamed.  The copy grows
 * by doubling, from the response's length when it is known.
 */

static ngx_int_t
ngx_http_hotel_kafka_keep(ngx_http_hotel_kafka_ctx_t *ctx, u_char *data,
    size_t len)
{
    off_t    known;
    size_t   size;
    u_char  *page;

    if (ctx->len + len > ctx->conf->page_buffer) {
        return NGX_DECLINED;
    }

    if (ctx->len + len > ctx->size) {
        known = ctx->request->headers_out.content_length_n;

        size = (ctx->size == 0 && known > 0) ? (size_t) known
                                             : ngx_max(2 * ctx->size, 4096);

        size = ngx_max(size, ctx->len + len);
        size = ngx_min(size, ctx->conf->page_buffer);

        page = ngx_palloc(ctx->pool, size + HK_EXTRACT_PADDING);
        if (page == NULL) {
            return NGX_DECLINED;
        }

        if (ctx->len) {
            ngx_memcpy(page, ctx->body, ctx->len);
        }

        ctx->body = page;
        ctx->size = size;
    }

    ngx_memcpy(ctx->body + ctx->len, data, len);
    ctx->len += len;

    return NGX_OK;
}


/* the page is too long to be kept whole: what was kept is parsed now */

static ngx_int_t
ngx_http_hotel_kafka_stream(ngx_http_hotel_kafka_ctx_t *ctx)
{
    hk_extract_rc_t  rc;

    ctx->extract = hk_extract_create(ctx->conf->rules,
                                     &ngx_http_hotel_kafka_handlers, ctx);

    if (ctx->extract == NULL) {
        ngx_http_hotel_kafka_page_failed(ctx, NGX_HTTP_HOTEL_KAFKA_PAGE_NOMEM,
                                         "no memory for the parser");
        return NGX_ERROR;
    }

    if (ctx->len == 0) {
        return NGX_OK;
    }

    rc = hk_extract_feed(ctx->extract, ctx->body, ctx->len);

    ctx->len = 0;

    if (rc != HK_EXTRACT_OK) {
        ngx_http_hotel_kafka_parse_failed(ctx, rc);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_hotel_kafka_finish(ngx_http_hotel_kafka_ctx_t *ctx)
{
    u_char           error[128];
    hk_extract_rc_t  rc;

    if (ctx->extract) {
        rc = hk_extract_finish(ctx->extract);

        if (rc != HK_EXTRACT_OK) {
            ngx_http_hotel_kafka_parse_failed(ctx, rc);
            return;
        }

        hk_extract_destroy(ctx->extract);
        ctx->extract = NULL;

    } else {
        /*
         * simdjson reads into the padding (and decides on what it finds
         * there, valgrind says): zeroes, as the differential fuzzer feeds
         */

        if (ctx->body) {
            ngx_memzero(ctx->body + ctx->len, HK_EXTRACT_PADDING);

        } else {
            ctx->body = ngx_http_hotel_kafka_empty;
        }

        rc = hk_extract_document(ctx->conf->rules,
                                 &ngx_http_hotel_kafka_handlers, ctx,
                                 ctx->body, ctx->len,
                                 (char *) error, sizeof(error));

        if (rc != HK_EXTRACT_OK) {
            ngx_http_hotel_kafka_page_failed(ctx,
                                     ngx_http_hotel_kafka_page_reason(rc),
                                     (char *) error);
            return;
        }
    }

    ctx->done = 1;

    ngx_http_hotel_kafka_page_end(ctx);
    ngx_http_hotel_kafka_count(pages, 1);
}


static void
ngx_http_hotel_kafka_parse_failed(ngx_http_hotel_kafka_ctx_t *ctx,
    hk_extract_rc_t rc)
{
    ngx_http_hotel_kafka_page_failed(ctx,
                                     ngx_http_hotel_kafka_page_reason(rc),
                                     hk_extract_error(ctx->extract));
}


static ngx_http_hotel_kafka_page_e
ngx_http_hotel_kafka_page_reason(hk_extract_rc_t rc)
{
    switch (rc) {

    case HK_EXTRACT_ERROR_DEPTH:
        return NGX_HTTP_HOTEL_KAFKA_PAGE_DEPTH;

    case HK_EXTRACT_ERROR_TOKEN:
        return NGX_HTTP_HOTEL_KAFKA_PAGE_TOKEN;

    case HK_EXTRACT_ERROR_NO_RESULTS:
        return NGX_HTTP_HOTEL_KAFKA_PAGE_NO_RESULTS;

    case HK_EXTRACT_ERROR_NOMEM:
        return NGX_HTTP_HOTEL_KAFKA_PAGE_NOMEM;

    default:
        return NGX_HTTP_HOTEL_KAFKA_PAGE_SYNTAX;
    }
}


/*
 * The page is passed on untouched whatever the parser thinks of it; the
 * records of results already read stay produced, the rest of the page is
 * not read, and the reason is counted.
 */

static void
ngx_http_hotel_kafka_page_failed(ngx_http_hotel_kafka_ctx_t *ctx,
    ngx_http_hotel_kafka_page_e e, const char *why)
{
    ngx_http_hotel_kafka_page_end(ctx);

    ngx_http_hotel_kafka_count(pages_failed[e], 1);

    ngx_log_error(NGX_LOG_INFO, ctx->request->connection->log, 0,
                  "hotel kafka: search results not read (%s): %s",
                  ngx_http_hotel_kafka_page_names[e], why);

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

    if (ctx->conf->record == NGX_HTTP_HOTEL_KAFKA_RECORD_PAGE) {
        ngx_http_hotel_kafka_page_add(ctx, res);
        return;
    }

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


/* "hotel_kafka_record page": the result waits for the page's end */

static void
ngx_http_hotel_kafka_page_add(ngx_http_hotel_kafka_ctx_t *ctx,
    const hk_result_t *res)
{
    if (ctx->page == NULL) {
        ctx->page = hk_page_create((char *) ctx->search_id.data,
                                   ctx->search_id.len, ctx->search_time_ms,
                                   ngx_http_hotel_kafka_palloc, ctx->pool);
    }

    if (ctx->page == NULL
        || hk_page_add(ctx->page, res->hotel_id, res->hotel_id_len,
                       res->rate_micros, res->currency, res->position)
           != 0)
    {
        ngx_http_hotel_kafka_drop_result(ctx->request->connection->log);
    }
}


static void *
ngx_http_hotel_kafka_palloc(void *pool, size_t size)
{
    return ngx_palloc(pool, size);
}


/*
 * The page ended, read whole or not: its results, if any, are produced
 * as page records (several if the page is larger than a record may be).
 */

static void
ngx_http_hotel_kafka_page_end(ngx_http_hotel_kafka_ctx_t *ctx)
{
    if (ctx->page == NULL) {
        return;
    }

    ctx->produced += ngx_http_hotel_kafka_produce_page(&ctx->conf->topic,
                                             ctx->page,
                                             ctx->request->connection->log);
    ctx->page = NULL;
}


static void
ngx_http_hotel_kafka_skip(void *data, hk_skip_reason_t reason,
    uint32_t position)
{
    ngx_http_hotel_kafka_ctx_t *ctx = data;

    ctx->skipped++;

    ngx_http_hotel_kafka_count(skipped[reason], 1);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ctx->request->connection->log, 0,
                   "hotel kafka: result %uD skipped: %s",
                   position, hk_skip_reason_name(reason));
}


/*
 * The request ends: a page whose end never came (the upstream reset the
 * connection, the client went away) is counted now.
 */

static void
ngx_http_hotel_kafka_cleanup(void *data)
{
    ngx_http_hotel_kafka_ctx_t *ctx = data;

    if (ctx->done) {
        return;
    }

    /*
     * The results of the part that came are the client's too: the kept
     * part is read now (without finishing: it is no whole document).
     */

    if (ctx->extract == NULL && ctx->len > 0) {
        (void) ngx_http_hotel_kafka_stream(ctx);
    }

    if (!ctx->done) {
        ngx_http_hotel_kafka_page_failed(ctx,
                                      NGX_HTTP_HOTEL_KAFKA_PAGE_TRUNCATED,
                                      "the response was cut short");
    }
}


/* if= of hotel_kafka_search_results: neither empty nor "0" */

static ngx_uint_t
ngx_http_hotel_kafka_wanted(ngx_http_request_t *r,
    ngx_http_hotel_kafka_loc_conf_t *hlcf)
{
    ngx_str_t  val;

    if (hlcf->search_results_if == NULL) {
        return 1;
    }

    if (ngx_http_complex_value(r, hlcf->search_results_if, &val) != NGX_OK) {
        return 0;
    }

    return !(val.len == 0 || (val.len == 1 && val.data[0] == '0'));
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
