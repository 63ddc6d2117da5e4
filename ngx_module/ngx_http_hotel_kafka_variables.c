
/*
 * Variables for log_format and headers: what the module made of this
 * request's result page.
 *
 *   $hotel_kafka_records    results handed to Kafka for this request
 *   $hotel_kafka_skipped    results of the page that gave no record
 *   $hotel_kafka_search_id  the search id of this request's records
 *
 * The first two are empty when the module did not read the response.
 *
 * The search id is hotel_kafka_search_id's value when it is set (for
 * instance $request_id), else an id of the module's own, in the same form
 * (32 hex digits): a per-worker prefix (its pid and start time, mixed)
 * and a counter.  It is what a log line needs to find a search's records,
 * at a fraction of $request_id's cost: $request_id draws 16 bytes from
 * OpenSSL's RAND_bytes() on every request, which the profile of
 * hotel_kafka_log showed as 6,800 instructions a request, a third of all
 * the worker did.  The variable is cached per request, so the records
 * and the log line agree.
 */


#include "ngx_http_hotel_kafka_module.h"


static ngx_int_t ngx_http_hotel_kafka_count_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_hotel_kafka_search_id_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


static uint64_t  ngx_http_hotel_kafka_id_prefix;
static uint64_t  ngx_http_hotel_kafka_id_next;


static ngx_http_variable_t  ngx_http_hotel_kafka_vars[] = {

    { ngx_string("hotel_kafka_records"), NULL,
      ngx_http_hotel_kafka_count_variable,
      offsetof(ngx_http_hotel_kafka_ctx_t, produced),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("hotel_kafka_skipped"), NULL,
      ngx_http_hotel_kafka_count_variable,
      offsetof(ngx_http_hotel_kafka_ctx_t, skipped),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("hotel_kafka_search_id"), NULL,
      ngx_http_hotel_kafka_search_id_variable, 0, 0, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_hotel_kafka_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_hotel_kafka_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_hotel_kafka_count_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                      *p;
    ngx_uint_t                  *count;
    ngx_http_hotel_kafka_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_hotel_kafka_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    count = (ngx_uint_t *) ((char *) ctx + data);

    v->len = ngx_sprintf(p, "%ui", *count) - p;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = p;

    return NGX_OK;
}


/* in a worker: its ids' prefix, and a counter that starts anywhere */

void
ngx_http_hotel_kafka_search_id_init(void)
{
    uint64_t  x;

    x = ((uint64_t) ngx_pid << 32) ^ (uint64_t) ngx_time()
        ^ ((uint64_t) ngx_random() << 16);

    /* splitmix64's finaliser: nearby pids and times, distant prefixes */

    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;

    ngx_http_hotel_kafka_id_prefix = x;
    ngx_http_hotel_kafka_id_next = ((uint64_t) ngx_random() << 31)
                                   ^ (uint64_t) ngx_random();
}


static ngx_int_t
ngx_http_hotel_kafka_search_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                           *p;
    ngx_str_t                         id;
    ngx_http_hotel_kafka_loc_conf_t  *hlcf;

    hlcf = ngx_http_get_module_loc_conf(r, ngx_http_hotel_kafka_module);

    if (hlcf->search_id) {
        if (ngx_http_complex_value(r, hlcf->search_id, &id) != NGX_OK) {
            return NGX_ERROR;
        }

        v->data = id.data;
        v->len = id.len;

    } else {
        p = ngx_pnalloc(r->pool, 32);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->data = p;
        v->len = ngx_sprintf(p, "%016uxL%016uxL",
                             ngx_http_hotel_kafka_id_prefix,
                             ngx_http_hotel_kafka_id_next++) - p;
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
