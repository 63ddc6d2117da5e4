
/*
 * The variables way: "hotel_kafka_log" builds one record per request, in
 * the log phase, from nginx variables (an upstream response header, an
 * argument, a map...), for backends that can say what they showed without
 * a JSON page to read.  Like access_log, it takes "if=" and is inherited
 * by locations that have none of their own.
 */


#include "ngx_http_hotel_kafka_module.h"
#include "hk_decimal.h"


typedef struct {
    ngx_http_complex_value_t     *id;
    ngx_http_complex_value_t     *rate;
    ngx_http_complex_value_t     *currency;
    ngx_http_complex_value_t     *position;
    ngx_http_complex_value_t     *filter;
    ngx_str_t                     topic;       /* empty: hotel_kafka_topic */
} ngx_http_hotel_kafka_log_t;


static ngx_int_t ngx_http_hotel_kafka_log_param(ngx_conf_t *cf,
    ngx_http_hotel_kafka_log_t *log, ngx_str_t *param);
static ngx_int_t ngx_http_hotel_kafka_log_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_hotel_kafka_log_one(ngx_http_request_t *r,
    ngx_http_hotel_kafka_loc_conf_t *hlcf, ngx_http_hotel_kafka_log_t *log,
    ngx_str_t *search_id);
static ngx_int_t ngx_http_hotel_kafka_log_fields(ngx_http_request_t *r,
    ngx_http_hotel_kafka_loc_conf_t *hlcf, ngx_http_hotel_kafka_log_t *log,
    hk_record_t *rec, char *currency, hk_skip_reason_t *reason);
static ngx_int_t ngx_http_hotel_kafka_log_value(ngx_http_request_t *r,
    ngx_http_complex_value_t *cv, ngx_str_t *value);
static ngx_int_t ngx_http_hotel_kafka_log_position(ngx_str_t *value);


char *
ngx_http_hotel_kafka_log(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_hotel_kafka_loc_conf_t *hlcf = conf;

    ngx_str_t                         *value;
    ngx_uint_t                         i;
    ngx_http_hotel_kafka_log_t        *log;
    ngx_http_hotel_kafka_main_conf_t  *hmcf;

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        if (hlcf->logs != NGX_CONF_UNSET_PTR) {
            return "is duplicate";
        }

        hlcf->logs = NULL;
        return NGX_CONF_OK;
    }

    if (hlcf->logs == NULL) {
        return "is duplicate";
    }

    if (hlcf->logs == NGX_CONF_UNSET_PTR) {
        hlcf->logs = ngx_array_create(cf->pool, 1,
                                      sizeof(ngx_http_hotel_kafka_log_t));
        if (hlcf->logs == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    log = ngx_array_push(hlcf->logs);
    if (log == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(log, sizeof(ngx_http_hotel_kafka_log_t));

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_http_hotel_kafka_log_param(cf, log, &value[i]) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (log->id == NULL || log->rate == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"hotel_kafka_log\" requires "
                           "\"id=\" and \"rate=\" parameters");
        return NGX_CONF_ERROR;
    }

    hmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_hotel_kafka_module);
    hmcf->used = 1;
    hmcf->log = 1;

    return NGX_CONF_OK;
}


/* one "name=value" of the directive, each name at most once */

static ngx_int_t
ngx_http_hotel_kafka_log_param(ngx_conf_t *cf,
    ngx_http_hotel_kafka_log_t *log, ngx_str_t *param)
{
    ngx_str_t                          s;
    ngx_uint_t                         i;
    ngx_http_complex_value_t         **cv;
    ngx_http_compile_complex_value_t   ccv;

    static struct {
        ngx_str_t                      name;
        size_t                         offset;
    }  params[] = {
        { ngx_string("id="),
          offsetof(ngx_http_hotel_kafka_log_t, id) },
        { ngx_string("rate="),
          offsetof(ngx_http_hotel_kafka_log_t, rate) },
        { ngx_string("currency="),
          offsetof(ngx_http_hotel_kafka_log_t, currency) },
        { ngx_string("position="),
          offsetof(ngx_http_hotel_kafka_log_t, position) },
        { ngx_string("if="),
          offsetof(ngx_http_hotel_kafka_log_t, filter) },
        { ngx_null_string, 0 }
    };

    if (ngx_strncmp(param->data, "topic=", 6) == 0) {

        /* a constant: topics are known before the workers start */

        if (log->topic.data != NULL || param->len == 6) {
            goto invalid;
        }

        log->topic.data = param->data + 6;
        log->topic.len = param->len - 6;

        return NGX_OK;
    }

    for (i = 0; params[i].name.len; i++) {
        if (ngx_strncmp(param->data, params[i].name.data, params[i].name.len)
            == 0)
        {
            break;
        }
    }

    if (params[i].name.len == 0) {
        goto invalid;
    }

    cv = (ngx_http_complex_value_t **) ((char *) log + params[i].offset);

    s.data = param->data + params[i].name.len;
    s.len = param->len - params[i].name.len;

    if (*cv != NULL || s.len == 0) {
        goto invalid;
    }

    *cv = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (*cv == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &s;
    ccv.complex_value = *cv;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_ERROR;
    }

    /* a constant position is checked now, a variable one per request */

    if (cv == &log->position
        && (*cv)->lengths == NULL
        && ngx_http_hotel_kafka_log_position(&s) == NGX_ERROR)
    {
        goto invalid;
    }

    return NGX_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", param);

    return NGX_ERROR;
}


ngx_int_t
ngx_http_hotel_kafka_log_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_hotel_kafka_log_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_hotel_kafka_log_handler(ngx_http_request_t *r)
{
    ngx_str_t                          search_id;
    ngx_uint_t                         i;
    ngx_http_variable_value_t         *vv;
    ngx_http_hotel_kafka_log_t        *log;
    ngx_http_hotel_kafka_loc_conf_t   *hlcf;
    ngx_http_hotel_kafka_main_conf_t  *hmcf;

    hlcf = ngx_http_get_module_loc_conf(r, ngx_http_hotel_kafka_module);

    if (hlcf->logs == NULL) {
        return NGX_OK;
    }

    hmcf = ngx_http_get_module_main_conf(r, ngx_http_hotel_kafka_module);

    ngx_str_null(&search_id);

    vv = ngx_http_get_indexed_variable(r, hmcf->search_id_index);
    if (vv && !vv->not_found) {
        search_id.data = vv->data;
        search_id.len = vv->len;
    }

    log = hlcf->logs->elts;

    for (i = 0; i < hlcf->logs->nelts; i++) {
        (void) ngx_http_hotel_kafka_log_one(r, hlcf, &log[i], &search_id);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_hotel_kafka_log_one(ngx_http_request_t *r,
    ngx_http_hotel_kafka_loc_conf_t *hlcf, ngx_http_hotel_kafka_log_t *log,
    ngx_str_t *search_id)
{
    char               currency[HK_RECORD_CURRENCY_LEN + 1];
    ngx_int_t          rc;
    ngx_str_t          val, *topic;
    ngx_time_t        *tp;
    hk_record_t        rec;
    hk_skip_reason_t   reason;

    if (log->filter) {
        if (ngx_http_complex_value(r, log->filter, &val) != NGX_OK) {
            return NGX_ERROR;
        }

        if (val.len == 0 || (val.len == 1 && val.data[0] == '0')) {
            return NGX_DECLINED;
        }
    }

    ngx_memzero(&rec, sizeof(hk_record_t));

    rc = ngx_http_hotel_kafka_log_fields(r, hlcf, log, &rec, currency,
                                         &reason);

    if (rc == NGX_DECLINED) {
        ngx_http_hotel_kafka_count(skipped[reason], 1);

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "hotel kafka: no record from variables: %s",
                       hk_skip_reason_name(reason));
    }

    if (rc != NGX_OK) {
        return rc;
    }

    tp = ngx_timeofday();
    rec.search_time_ms = (int64_t) tp->sec * 1000 + tp->msec;
    rec.search_id = (char *) search_id->data;
    rec.search_id_len = search_id->len;

    topic = log->topic.len ? &log->topic : &hlcf->topic;

    return ngx_http_hotel_kafka_produce(topic, &rec, r->connection->log);
}


/*
 * Fills rec from the directive's values under the record's rules
 * (hk_record.h), the same a page's results meet: NGX_DECLINED with the
 * reason when there is no record to make.  currency holds rec's code.
 */

static ngx_int_t
ngx_http_hotel_kafka_log_fields(ngx_http_request_t *r,
    ngx_http_hotel_kafka_loc_conf_t *hlcf, ngx_http_hotel_kafka_log_t *log,
    hk_record_t *rec, char *currency, hk_skip_reason_t *reason)
{
    int64_t    micros;
    ngx_int_t  position;
    ngx_str_t  val;

    if (ngx_http_hotel_kafka_log_value(r, log->id, &val) != NGX_OK) {
        return NGX_ERROR;
    }

    if (val.len == 0) {
        *reason = HK_SKIP_NO_ID;
        return NGX_DECLINED;
    }

    if (!hk_record_id_valid((char *) val.data, val.len)) {
        *reason = HK_SKIP_BAD_ID;
        return NGX_DECLINED;
    }

    rec->hotel_id = (char *) val.data;
    rec->hotel_id_len = val.len;

    if (ngx_http_hotel_kafka_log_value(r, log->rate, &val) != NGX_OK) {
        return NGX_ERROR;
    }

    if (val.len == 0) {
        *reason = HK_SKIP_NO_RATE;
        return NGX_DECLINED;
    }

    if (hk_decimal_to_micros((char *) val.data, val.len, &micros) != 0) {
        *reason = HK_SKIP_BAD_RATE;
        return NGX_DECLINED;
    }

    if (!hk_record_rate_valid(micros)) {
        *reason = HK_SKIP_NEGATIVE_RATE;
        return NGX_DECLINED;
    }

    rec->rate_micros = micros;

    ngx_str_null(&val);

    if (log->currency
        && ngx_http_hotel_kafka_log_value(r, log->currency, &val) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (val.len == 0) {
        val = hlcf->default_currency;
    }

    if (val.len == 0) {
        *reason = HK_SKIP_NO_CURRENCY;
        return NGX_DECLINED;
    }

    if (hk_record_currency((char *) val.data, val.len, currency) != 0) {
        *reason = HK_SKIP_BAD_CURRENCY;
        return NGX_DECLINED;
    }

    rec->currency = currency;

    if (log->position == NULL) {
        return NGX_OK;
    }

    if (ngx_http_hotel_kafka_log_value(r, log->position, &val) != NGX_OK) {
        return NGX_ERROR;
    }

    /*
     * The position is informational: a value that is not one (an empty
     * variable, a header with junk) gives 0, and the record with its
     * hotel and rate is still produced.
     */

    position = ngx_http_hotel_kafka_log_position(&val);

    if (position == NGX_ERROR) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "hotel kafka: position \"%V\" is not one, 0 "
                       "recorded", &val);
        position = 0;
    }

    rec->position = (uint32_t) position;

    return NGX_OK;
}


static ngx_int_t
ngx_http_hotel_kafka_log_value(ngx_http_request_t *r,
    ngx_http_complex_value_t *cv, ngx_str_t *value)
{
    if (ngx_http_complex_value(r, cv, value) != NGX_OK) {
        return NGX_ERROR;
    }

    /* an unset variable may come as "-" from some modules */

    if (value->len == 1 && value->data[0] == '-') {
        value->len = 0;
    }

    return NGX_OK;
}


/* a place on the page, 0 to 4294967295 (a proto uint32), or NGX_ERROR */

static ngx_int_t
ngx_http_hotel_kafka_log_position(ngx_str_t *value)
{
    ngx_int_t  n;

    n = ngx_atoi(value->data, value->len);

    if (n == NGX_ERROR || n > 0xffffffff) {
        return NGX_ERROR;
    }

    return n;
}
