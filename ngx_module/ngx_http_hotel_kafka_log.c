
/*
 * The variables way: "hotel_kafka_log" builds one record per request, in
 * the log phase, from nginx variables (an upstream response header, an
 * argument, a map...), for backends that can say what they showed without
 * a JSON page to read.  Like access_log, it takes "if=" and is inherited
 * by locations that have none of their own.
 */


#include "ngx_http_hotel_kafka_module.h"
#include "hk_decimal.h"
#include "hk_utf8.h"


typedef struct {
    ngx_http_complex_value_t     *id;
    ngx_http_complex_value_t     *rate;
    ngx_http_complex_value_t     *currency;
    ngx_http_complex_value_t     *position;
    ngx_http_complex_value_t     *filter;
    ngx_str_t                     topic;       /* empty: hotel_kafka_topic */
} ngx_http_hotel_kafka_log_t;


static ngx_int_t ngx_http_hotel_kafka_log_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_hotel_kafka_log_one(ngx_http_request_t *r,
    ngx_http_hotel_kafka_loc_conf_t *hlcf, ngx_http_hotel_kafka_log_t *log,
    ngx_str_t *search_id);
static ngx_int_t ngx_http_hotel_kafka_log_value(ngx_http_request_t *r,
    ngx_http_complex_value_t *cv, ngx_str_t *value);
static ngx_int_t ngx_http_hotel_kafka_log_position(ngx_str_t *value);


char *
ngx_http_hotel_kafka_log(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_hotel_kafka_loc_conf_t *hlcf = conf;

    ngx_str_t                          *value, s;
    ngx_uint_t                          i;
    ngx_http_complex_value_t          **cv;
    ngx_http_hotel_kafka_log_t         *log;
    ngx_http_compile_complex_value_t    ccv;
    ngx_http_hotel_kafka_main_conf_t   *hmcf;

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            i = 2;
            goto invalid;
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

        if (ngx_strncmp(value[i].data, "topic=", 6) == 0) {

            /* a second "topic=" is as wrong as a second "id=" */

            if (log->topic.data != NULL || value[i].len == 6) {
                goto invalid;
            }

            log->topic.data = value[i].data + 6;
            log->topic.len = value[i].len - 6;

            continue;
        }

        if (ngx_strncmp(value[i].data, "id=", 3) == 0) {
            cv = &log->id;
            s.data = value[i].data + 3;

        } else if (ngx_strncmp(value[i].data, "rate=", 5) == 0) {
            cv = &log->rate;
            s.data = value[i].data + 5;

        } else if (ngx_strncmp(value[i].data, "currency=", 9) == 0) {
            cv = &log->currency;
            s.data = value[i].data + 9;

        } else if (ngx_strncmp(value[i].data, "position=", 9) == 0) {
            cv = &log->position;
            s.data = value[i].data + 9;

        } else if (ngx_strncmp(value[i].data, "if=", 3) == 0) {
            cv = &log->filter;
            s.data = value[i].data + 3;

        } else {
            goto invalid;
        }

        s.len = value[i].data + value[i].len - s.data;

        if (*cv != NULL || s.len == 0) {
            goto invalid;
        }

        *cv = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (*cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &s;
        ccv.complex_value = *cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        /* a constant position is checked now, a variable one per request */

        if (cv == &log->position
            && (*cv)->lengths == NULL
            && ngx_http_hotel_kafka_log_position(&s) == NGX_ERROR)
        {
            goto invalid;
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

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);

    return NGX_CONF_ERROR;
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

    vv = ngx_http_get_indexed_variable(r, hmcf->request_id_index);
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
    u_char             currency[4];
    int64_t            micros;
    ngx_int_t          position;
    ngx_str_t          val, *topic;
    ngx_uint_t         i;
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

    if (ngx_http_hotel_kafka_log_value(r, log->id, &val) != NGX_OK) {
        return NGX_ERROR;
    }

    if (val.len == 0) {
        reason = HK_SKIP_NO_ID;
        goto skip;
    }

    /*
     * The rule for an id on a page (see hk_extract.h): a variable can
     * hold any byte, and one id that is not UTF-8 would make the whole
     * topic unreadable to protoc and other languages' decoders.
     */

    if (val.len > HK_RECORD_MAX_ID
        || !hk_utf8_valid(val.data, val.len)
        || hk_utf8_has_control(val.data, val.len))
    {
        reason = HK_SKIP_BAD_ID;
        goto skip;
    }

    rec.hotel_id = (char *) val.data;
    rec.hotel_id_len = val.len;

    if (ngx_http_hotel_kafka_log_value(r, log->rate, &val) != NGX_OK) {
        return NGX_ERROR;
    }

    if (val.len == 0) {
        reason = HK_SKIP_NO_RATE;
        goto skip;
    }

    if (hk_decimal_to_micros((char *) val.data, val.len, &micros) != 0) {
        reason = HK_SKIP_BAD_RATE;
        goto skip;
    }

    if (micros <= 0) {
        reason = HK_SKIP_NEGATIVE_RATE;
        goto skip;
    }

    rec.rate_micros = micros;

    ngx_str_null(&val);

    if (log->currency) {
        if (ngx_http_hotel_kafka_log_value(r, log->currency, &val) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (val.len == 0) {
        val = hlcf->default_currency;
    }

    if (val.len == 0) {
        reason = HK_SKIP_NO_CURRENCY;
        goto skip;
    }

    if (val.len != 3) {
        reason = HK_SKIP_BAD_CURRENCY;
        goto skip;
    }

    for (i = 0; i < 3; i++) {
        currency[i] = ngx_toupper(val.data[i]);

        if (currency[i] < 'A' || currency[i] > 'Z') {
            reason = HK_SKIP_BAD_CURRENCY;
            goto skip;
        }
    }

    currency[3] = '\0';
    rec.currency = (char *) currency;

    position = 0;

    if (log->position) {
        if (ngx_http_hotel_kafka_log_value(r, log->position, &val) != NGX_OK)
        {
            return NGX_ERROR;
        }

        /*
         * The position is informational: a value that is not one (an
         * empty variable, a header with junk) gives 0, and the record
         * with its hotel and rate is still produced.
         */

        position = ngx_http_hotel_kafka_log_position(&val);

        if (position == NGX_ERROR) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "hotel kafka: position \"%V\" is not one, 0 "
                           "recorded", &val);
            position = 0;
        }
    }

    rec.position = (uint32_t) position;

    tp = ngx_timeofday();
    rec.search_time_ms = (int64_t) tp->sec * 1000 + tp->msec;
    rec.search_id = (char *) search_id->data;
    rec.search_id_len = search_id->len;

    topic = log->topic.len ? &log->topic : &hlcf->topic;

    return ngx_http_hotel_kafka_produce(topic, &rec, r->connection->log);

skip:

    ngx_http_hotel_kafka_count_skip(reason);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "hotel kafka: no record from variables: %s",
                   hk_skip_reason_name(reason));

    return NGX_DECLINED;
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
