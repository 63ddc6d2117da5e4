
/*
 * ngx_http_hotel_kafka_module: directives, configuration and the worker
 * lifecycle.  The body filter is in ngx_http_hotel_kafka_filter.c, the
 * per-worker producer in ngx_http_hotel_kafka_producer.c.
 */


#include "ngx_http_hotel_kafka_module.h"
#include "hk_kafka.h"


static ngx_int_t ngx_http_hotel_kafka_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_hotel_kafka_conf_check(ngx_conf_t *cf,
    ngx_http_hotel_kafka_main_conf_t *hmcf);
static void *ngx_http_hotel_kafka_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_hotel_kafka_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_hotel_kafka_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_hotel_kafka_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_hotel_kafka_brokers(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_hotel_kafka_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_hotel_kafka_add_prop(ngx_conf_t *cf,
    ngx_http_hotel_kafka_main_conf_t *hmcf, ngx_str_t *name,
    ngx_str_t *value);
static char *ngx_http_hotel_kafka_codes(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_hotel_kafka_check_currency(ngx_conf_t *cf,
    void *post, void *data);
static void ngx_http_hotel_kafka_rules_free(void *data);
static ngx_int_t ngx_http_hotel_kafka_init_process(ngx_cycle_t *cycle);
static void ngx_http_hotel_kafka_exit_process(ngx_cycle_t *cycle);


static ngx_conf_post_handler_pt  ngx_http_hotel_kafka_currency_post =
    ngx_http_hotel_kafka_check_currency;


static ngx_conf_enum_t  ngx_http_hotel_kafka_records[] = {
    { ngx_string("result"), NGX_HTTP_HOTEL_KAFKA_RECORD_RESULT },
    { ngx_string("page"), NGX_HTTP_HOTEL_KAFKA_RECORD_PAGE },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_hotel_kafka_commands[] = {

    { ngx_string("hotel_kafka_brokers"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_hotel_kafka_brokers,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hotel_kafka_conf"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_hotel_kafka_conf,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hotel_kafka_flush_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_hotel_kafka_main_conf_t, flush_timeout),
      NULL },

    { ngx_string("hotel_kafka_schema_headers"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_hotel_kafka_main_conf_t, schema_headers),
      NULL },

    { ngx_string("hotel_kafka_search_results"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_hotel_kafka_search_results,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hotel_kafka_page_buffer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_hotel_kafka_loc_conf_t, page_buffer),
      NULL },

    { ngx_string("hotel_kafka_record"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_hotel_kafka_loc_conf_t, record),
      &ngx_http_hotel_kafka_records },

    { ngx_string("hotel_kafka_search_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_hotel_kafka_loc_conf_t, search_id),
      NULL },

    { ngx_string("hotel_kafka_topic"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_hotel_kafka_loc_conf_t, topic),
      NULL },

    { ngx_string("hotel_kafka_json_results"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_hotel_kafka_loc_conf_t, results_path),
      NULL },

    { ngx_string("hotel_kafka_json_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_hotel_kafka_loc_conf_t, id_field),
      NULL },

    { ngx_string("hotel_kafka_json_rate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_hotel_kafka_loc_conf_t, rate_field),
      NULL },

    { ngx_string("hotel_kafka_json_currency"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_hotel_kafka_loc_conf_t, currency_field),
      NULL },

    { ngx_string("hotel_kafka_default_currency"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_hotel_kafka_loc_conf_t, default_currency),
      &ngx_http_hotel_kafka_currency_post },

    { ngx_string("hotel_kafka_status_codes"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_hotel_kafka_codes,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hotel_kafka_log"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_hotel_kafka_log,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hotel_kafka_status"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_hotel_kafka_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_hotel_kafka_module_ctx = {
    ngx_http_hotel_kafka_add_variables,    /* preconfiguration */
    ngx_http_hotel_kafka_postconfiguration, /* postconfiguration */

    ngx_http_hotel_kafka_create_main_conf, /* create main configuration */
    ngx_http_hotel_kafka_init_main_conf,   /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_hotel_kafka_create_loc_conf,  /* create location configuration */
    ngx_http_hotel_kafka_merge_loc_conf    /* merge location configuration */
};


ngx_module_t  ngx_http_hotel_kafka_module = {
    NGX_MODULE_V1,
    &ngx_http_hotel_kafka_module_ctx,      /* module context */
    ngx_http_hotel_kafka_commands,         /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_hotel_kafka_init_process,     /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_hotel_kafka_exit_process,     /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_hotel_kafka_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_hotel_kafka_main_conf_t  *hmcf;

    hmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_hotel_kafka_main_conf_t));
    if (hmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     hmcf->kafka_conf = NULL;
     *     hmcf->shm_zone = NULL;
     *     hmcf->used = 0;
     */

    hmcf->flush_timeout = NGX_CONF_UNSET_MSEC;
    hmcf->schema_headers = NGX_CONF_UNSET;
    hmcf->search_id_index = NGX_ERROR;

    return hmcf;
}


static char *
ngx_http_hotel_kafka_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_hotel_kafka_main_conf_t *hmcf = conf;

    ngx_conf_init_msec_value(hmcf->flush_timeout, 5000);
    ngx_conf_init_value(hmcf->schema_headers, 0);

    return NGX_CONF_OK;
}


static void *
ngx_http_hotel_kafka_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_hotel_kafka_loc_conf_t  *hlcf;

    hlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_hotel_kafka_loc_conf_t));
    if (hlcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     hlcf->topic = { 0, NULL };
     *     hlcf->results_path = { 0, NULL };
     *     hlcf->id_field = { 0, NULL };
     *     hlcf->rate_field = { 0, NULL };
     *     hlcf->currency_field = { 0, NULL };
     *     hlcf->default_currency = { 0, NULL };
     *     hlcf->extract = { 0 };
     */

    hlcf->search_results = NGX_CONF_UNSET;
    hlcf->search_results_if = NGX_CONF_UNSET_PTR;
    hlcf->page_buffer = NGX_CONF_UNSET_SIZE;
    hlcf->record = NGX_CONF_UNSET_UINT;
    hlcf->search_id = NGX_CONF_UNSET_PTR;
    hlcf->status_format = NGX_CONF_UNSET_UINT;
    hlcf->page_codes = NGX_CONF_UNSET_PTR;
    hlcf->logs = NGX_CONF_UNSET_PTR;

    return hlcf;
}


static char *
ngx_http_hotel_kafka_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_hotel_kafka_loc_conf_t *prev = parent;
    ngx_http_hotel_kafka_loc_conf_t *conf = child;

    const char                        *err;
    ngx_pool_cleanup_t                *cln;
    ngx_http_hotel_kafka_main_conf_t  *hmcf;

    ngx_conf_merge_value(conf->search_results, prev->search_results, 0);
    ngx_conf_merge_size_value(conf->page_buffer, prev->page_buffer,
                              HK_EXTRACT_DEFAULT_MAX_TOKEN);
    ngx_conf_merge_uint_value(conf->record, prev->record,
                              NGX_HTTP_HOTEL_KAFKA_RECORD_RESULT);
    ngx_conf_merge_ptr_value(conf->search_id, prev->search_id, NULL);
    ngx_conf_merge_ptr_value(conf->search_results_if,
                             prev->search_results_if, NULL);
    ngx_conf_merge_uint_value(conf->status_format, prev->status_format,
                              NGX_HTTP_HOTEL_KAFKA_STATUS_OFF);
    ngx_conf_merge_ptr_value(conf->page_codes, prev->page_codes, NULL);
    ngx_conf_merge_ptr_value(conf->logs, prev->logs, NULL);
    ngx_conf_merge_str_value(conf->topic, prev->topic, "hotel-data");
    ngx_conf_merge_str_value(conf->results_path, prev->results_path,
                             "results");
    ngx_conf_merge_str_value(conf->id_field, prev->id_field, "hotel_id");
    ngx_conf_merge_str_value(conf->rate_field, prev->rate_field, "rate");
    ngx_conf_merge_str_value(conf->currency_field, prev->currency_field,
                             "currency");
    ngx_conf_merge_str_value(conf->default_currency, prev->default_currency,
                             "");

    /*
     * ngx_conf_merge_str_value() leaves values that came from the
     * configuration file or from string literals, both NUL-terminated,
     * as the extractor needs.
     */

    conf->extract.results_path = (char *) conf->results_path.data;
    conf->extract.id_field = (char *) conf->id_field.data;
    conf->extract.rate_field = (char *) conf->rate_field.data;
    conf->extract.currency_field = (char *) conf->currency_field.data;
    conf->extract.default_currency = conf->default_currency.len
                                     ? (char *) conf->default_currency.data
                                     : NULL;
    conf->extract.max_depth = HK_EXTRACT_DEFAULT_MAX_DEPTH;
    conf->extract.max_token = HK_EXTRACT_DEFAULT_MAX_TOKEN;

    err = hk_extract_conf_check(&conf->extract);
    if (err != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid JSON paths: %s", err);
        return NGX_CONF_ERROR;
    }

    /* a page longer than a JSON token is read by the streaming path */

    if (conf->page_buffer > HK_EXTRACT_DEFAULT_MAX_TOKEN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"hotel_kafka_page_buffer\" must be at most %uz",
                           (size_t) HK_EXTRACT_DEFAULT_MAX_TOKEN);
        return NGX_CONF_ERROR;
    }

    if (!conf->search_results) {
        return NGX_CONF_OK;
    }

    hmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_hotel_kafka_module);
    hmcf->used = 1;

    /* the paths are split once, here, not for every page */

    conf->rules = hk_extract_rules(&conf->extract);
    if (conf->rules == NULL) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        hk_extract_rules_free(conf->rules);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_hotel_kafka_rules_free;
    cln->data = conf->rules;

    return NGX_CONF_OK;
}


static char *
ngx_http_hotel_kafka_codes(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_hotel_kafka_loc_conf_t *hlcf = conf;

    ngx_int_t    code;
    ngx_str_t   *value;
    ngx_uint_t   i, *c;

    if (hlcf->page_codes != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    hlcf->page_codes = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                          sizeof(ngx_uint_t));
    if (hlcf->page_codes == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        code = ngx_atoi(value[i].data, value[i].len);

        if (code < 200 || code > 599) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid status code \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        c = ngx_array_push(hlcf->page_codes);
        if (c == NULL) {
            return NGX_CONF_ERROR;
        }

        *c = (ngx_uint_t) code;
    }

    return NGX_CONF_OK;
}


/* the record's rule (hk_record.h), and the code kept upper case */

static char *
ngx_http_hotel_kafka_check_currency(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *currency = data;

    char  code[HK_RECORD_CURRENCY_LEN + 1];

    if (hk_record_currency((char *) currency->data, currency->len, code)
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid currency \"%V\", "
                           "expected 3 letters (ISO 4217)", currency);
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(currency->data, code, HK_RECORD_CURRENCY_LEN);

    return NGX_CONF_OK;
}


static char *
ngx_http_hotel_kafka_brokers(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *value;

    static ngx_str_t  name = ngx_string("bootstrap.servers");

    value = cf->args->elts;

    return ngx_http_hotel_kafka_add_prop(cf, conf, &name, &value[1]);
}


static char *
ngx_http_hotel_kafka_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *value;

    value = cf->args->elts;

    return ngx_http_hotel_kafka_add_prop(cf, conf, &value[1], &value[2]);
}


/*
 * Each property is tried on a scratch librdkafka configuration now, so
 * that "nginx -t" rejects an unknown name or a bad value with librdkafka's
 * own words; the worker builds its real configuration from the list.
 */

static char *
ngx_http_hotel_kafka_add_prop(ngx_conf_t *cf,
    ngx_http_hotel_kafka_main_conf_t *hmcf, ngx_str_t *name,
    ngx_str_t *value)
{
    char             err[512];
    ngx_uint_t       i;
    ngx_keyval_t    *kv;
    rd_kafka_conf_t  *scratch;

    if (hmcf->kafka_conf == NULL) {
        hmcf->kafka_conf = ngx_array_create(cf->pool, 8,
                                            sizeof(ngx_keyval_t));
        if (hmcf->kafka_conf == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    kv = hmcf->kafka_conf->elts;

    for (i = 0; i < hmcf->kafka_conf->nelts; i++) {
        if (kv[i].key.len == name->len
            && ngx_strncmp(kv[i].key.data, name->data, name->len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "Kafka property \"%V\" is duplicate", name);
            return NGX_CONF_ERROR;
        }
    }

    scratch = rd_kafka_conf_new();
    if (scratch == NULL) {
        return NGX_CONF_ERROR;
    }

    if (hk_kafka_conf_set(scratch, (char *) name->data, (char *) value->data,
                          err, sizeof(err))
        != 0)
    {
        rd_kafka_conf_destroy(scratch);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Kafka property \"%V\": %s", name, err);
        return NGX_CONF_ERROR;
    }

    rd_kafka_conf_destroy(scratch);

    kv = ngx_array_push(hmcf->kafka_conf);
    if (kv == NULL) {
        return NGX_CONF_ERROR;
    }

    kv->key = *name;
    kv->value = *value;

    return NGX_CONF_OK;
}


/*
 * Builds the producer's librdkafka configuration: our defaults, then the
 * user's properties.  The caller owns the result (rd_kafka_new() takes
 * it, or rd_kafka_conf_destroy() frees it).
 */

rd_kafka_conf_t *
ngx_http_hotel_kafka_conf_build(ngx_array_t *props, ngx_log_t *log)
{
    char                    err[512];
    ngx_uint_t              i;
    ngx_keyval_t           *kv;
    rd_kafka_conf_t        *rconf;
    const hk_kafka_prop_t  *d;

    rconf = rd_kafka_conf_new();
    if (rconf == NULL) {
        return NULL;
    }

    for (d = hk_kafka_producer_defaults; d->name; d++) {
        if (hk_kafka_conf_set(rconf, d->name, d->value, err, sizeof(err))
            != 0)
        {
            goto failed;
        }
    }

    if (props == NULL) {
        return rconf;
    }

    kv = props->elts;

    for (i = 0; i < props->nelts; i++) {
        if (hk_kafka_conf_set(rconf, (char *) kv[i].key.data,
                              (char *) kv[i].value.data, err, sizeof(err))
            != 0)
        {
            goto failed;
        }
    }

    return rconf;

failed:

    ngx_log_error(NGX_LOG_EMERG, log, 0, "hotel kafka: %s", err);
    rd_kafka_conf_destroy(rconf);

    return NULL;
}


static ngx_int_t
ngx_http_hotel_kafka_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_hotel_kafka_main_conf_t  *hmcf;

    static ngx_str_t  search_id = ngx_string("hotel_kafka_search_id");

    hmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_hotel_kafka_module);

    if (ngx_http_hotel_kafka_filter_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (hmcf->log && ngx_http_hotel_kafka_log_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    /*
     * Properties are checked whenever there are any, not only when a
     * producer is needed: a configuration that "nginx -t" accepts must
     * not start failing once a location begins to use it.
     */

    if ((hmcf->used || hmcf->kafka_conf != NULL)
        && ngx_http_hotel_kafka_conf_check(cf, hmcf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!hmcf->used && !hmcf->status_used) {
        return NGX_OK;
    }

    if (ngx_http_hotel_kafka_stats_zone(cf, hmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (!hmcf->used) {
        return NGX_OK;
    }

    hmcf->search_id_index = ngx_http_get_variable_index(cf, &search_id);
    if (hmcf->search_id_index == NGX_ERROR) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Properties that are each valid may still contradict each other
 * (acks=1 with idempotence, say); only rd_kafka_new() tells.  A producer
 * is created and destroyed here, before any fork, so that "nginx -t"
 * catches that too and the workers never start broken.
 */

static ngx_int_t
ngx_http_hotel_kafka_conf_check(ngx_conf_t *cf,
    ngx_http_hotel_kafka_main_conf_t *hmcf)
{
    char              err[512];
    size_t            size;
    rd_kafka_t       *rk;
    const char       *caveat;
    rd_kafka_conf_t  *rconf;

    rconf = ngx_http_hotel_kafka_conf_build(hmcf->kafka_conf, cf->log);
    if (rconf == NULL) {
        return NGX_ERROR;
    }

    size = sizeof(err);

    if (hmcf->used
        && (rd_kafka_conf_get(rconf, "bootstrap.servers", err, &size)
            != RD_KAFKA_CONF_OK
            || err[0] == '\0'))
    {
        rd_kafka_conf_destroy(rconf);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no Kafka brokers: \"hotel_kafka_brokers\" "
                           "is required where \"hotel_kafka_search_results\" "
                           "or \"hotel_kafka_log\" is used");
        return NGX_ERROR;
    }

    caveat = hk_kafka_conf_caveat(rconf);

    if (caveat != NULL) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0, "hotel kafka: %s "
                      "(librdkafka %s)", caveat, rd_kafka_version_str());
    }

    /* the trial producer neither logs nor connects */

    rd_kafka_conf_set_log_cb(rconf, NULL);

    size = sizeof(err);

    if (rd_kafka_conf_set(rconf, "bootstrap.servers", "", err, size)
        != RD_KAFKA_CONF_OK)
    {
        rd_kafka_conf_destroy(rconf);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NGX_ERROR;
    }

    rk = rd_kafka_new(RD_KAFKA_PRODUCER, rconf, err, sizeof(err));
    if (rk == NULL) {
        rd_kafka_conf_destroy(rconf);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Kafka configuration: %s", err);
        return NGX_ERROR;
    }

    rd_kafka_destroy(rk);

    return NGX_OK;
}


static void
ngx_http_hotel_kafka_rules_free(void *data)
{
    hk_extract_rules_free(data);
}


static ngx_int_t
ngx_http_hotel_kafka_init_process(ngx_cycle_t *cycle)
{
    ngx_http_hotel_kafka_main_conf_t  *hmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    if (ngx_http_cycle_get_module_main_conf(cycle, ngx_http_core_module)
        == NULL)
    {
        return NGX_OK;
    }

    hmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_hotel_kafka_module);

    if (hmcf == NULL || !hmcf->used) {
        return NGX_OK;
    }

    ngx_http_hotel_kafka_stats_attach(cycle);
    ngx_http_hotel_kafka_search_id_init();

    /*
     * A producer that cannot start must not stop nginx from serving:
     * records are then dropped and counted as "no_producer".
     */

    (void) ngx_http_hotel_kafka_producer_start(cycle, hmcf);

    return NGX_OK;
}


/* the last delivery reports are counted before the slot is folded */

static void
ngx_http_hotel_kafka_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_hotel_kafka_producer_stop(cycle);
    ngx_http_hotel_kafka_stats_detach(cycle);
}
