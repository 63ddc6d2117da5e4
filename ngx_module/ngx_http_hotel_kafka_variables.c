
/*
 * Variables for log_format and headers: what the module made of this
 * request's result page.
 *
 *   $hotel_kafka_records   records handed to Kafka for this request
 *   $hotel_kafka_skipped   results of the page that gave no record
 *
 * Both are empty when the module did not read the response.
 */


#include "ngx_http_hotel_kafka_module.h"


static ngx_int_t ngx_http_hotel_kafka_count_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_hotel_kafka_vars[] = {

    { ngx_string("hotel_kafka_records"), NULL,
      ngx_http_hotel_kafka_count_variable,
      offsetof(ngx_http_hotel_kafka_ctx_t, produced),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("hotel_kafka_skipped"), NULL,
      ngx_http_hotel_kafka_count_variable,
      offsetof(ngx_http_hotel_kafka_ctx_t, skipped),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

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
