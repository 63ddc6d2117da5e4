
/*
 * ngx_http_hotel_kafka_module: every hotel of a search result page, as a
 * protobuf record, to Kafka, from a body filter that never holds up the
 * response.  This header is what the module's files share.
 */


#ifndef _NGX_HTTP_HOTEL_KAFKA_MODULE_H_INCLUDED_
#define _NGX_HTTP_HOTEL_KAFKA_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <librdkafka/rdkafka.h>

#include "hk_extract.h"
#include "hk_record.h"


#define NGX_HTTP_HOTEL_KAFKA_MAX_WORKERS  64


/* why a record that was due was not handed to Kafka */
typedef enum {
    NGX_HTTP_HOTEL_KAFKA_DROP_QUEUE_FULL = 0,
    NGX_HTTP_HOTEL_KAFKA_DROP_TOO_LARGE,
    NGX_HTTP_HOTEL_KAFKA_DROP_NO_PRODUCER,
    NGX_HTTP_HOTEL_KAFKA_DROP_OTHER,
    NGX_HTTP_HOTEL_KAFKA_DROP_N
} ngx_http_hotel_kafka_drop_e;


/* why a result page gave fewer records than it showed hotels */
typedef enum {
    NGX_HTTP_HOTEL_KAFKA_PAGE_SYNTAX = 0,
    NGX_HTTP_HOTEL_KAFKA_PAGE_DEPTH,
    NGX_HTTP_HOTEL_KAFKA_PAGE_TOKEN,
    NGX_HTTP_HOTEL_KAFKA_PAGE_NO_RESULTS,
    NGX_HTTP_HOTEL_KAFKA_PAGE_COMPRESSED,
    NGX_HTTP_HOTEL_KAFKA_PAGE_NOMEM,
    NGX_HTTP_HOTEL_KAFKA_PAGE_N
} ngx_http_hotel_kafka_page_e;


typedef struct {
    ngx_atomic_t                  pid;
    ngx_atomic_t                  produced;
    ngx_atomic_t                  delivered;
    ngx_atomic_t                  failed;
    ngx_atomic_t                  dropped;
    ngx_atomic_t                  queue_depth;
} ngx_http_hotel_kafka_worker_stats_t;


/*
 * Counters in shared memory, so that the status handler of any worker
 * sees all of them and they outlive a reload.  A record is produced
 * (accepted by librdkafka), then either delivered or failed; a record
 * that never reached librdkafka is dropped.
 */
typedef struct {
    ngx_atomic_t                  produced;
    ngx_atomic_t                  delivered;
    ngx_atomic_t                  failed;
    ngx_atomic_t                  delivered_bytes;
    ngx_atomic_t                  dropped[NGX_HTTP_HOTEL_KAFKA_DROP_N];
    ngx_atomic_t                  skipped[HK_SKIP_NREASONS];
    ngx_atomic_t                  pages;
    ngx_atomic_t                  bad_pages[NGX_HTTP_HOTEL_KAFKA_PAGE_N];
    ngx_atomic_t                  last_error_time;
    u_char                        last_error[128];
    ngx_http_hotel_kafka_worker_stats_t
                                  workers[NGX_HTTP_HOTEL_KAFKA_MAX_WORKERS];
} ngx_http_hotel_kafka_stats_t;


typedef struct {
    ngx_array_t                  *kafka_conf;     /* of ngx_keyval_t */
    ngx_msec_t                    flush_timeout;
    ngx_flag_t                    schema_headers; /* on every record */
    ngx_shm_zone_t               *shm_zone;
    ngx_int_t                     request_id_index;
    ngx_flag_t                    used;           /* a producer is needed */
    ngx_flag_t                    status_used;    /* a location shows them */
    ngx_flag_t                    log;            /* hotel_kafka_log is used */
} ngx_http_hotel_kafka_main_conf_t;


#define NGX_HTTP_HOTEL_KAFKA_STATUS_OFF         0
#define NGX_HTTP_HOTEL_KAFKA_STATUS_JSON        1
#define NGX_HTTP_HOTEL_KAFKA_STATUS_PROMETHEUS  2



typedef struct {
    ngx_flag_t                    search_results;
    ngx_uint_t                    status_format;  /* 0: no status page */
    ngx_array_t                  *page_codes;     /* of ngx_uint_t */
    ngx_array_t                  *logs;           /* hotel_kafka_log */
    ngx_str_t                     topic;
    ngx_str_t                     results_path;
    ngx_str_t                     id_field;
    ngx_str_t                     rate_field;
    ngx_str_t                     currency_field;
    ngx_str_t                     default_currency;
    hk_extract_conf_t             extract;
} ngx_http_hotel_kafka_loc_conf_t;


/* one per response being parsed */
typedef struct {
    ngx_http_request_t           *request;
    ngx_http_hotel_kafka_loc_conf_t
                                 *conf;
    hk_extract_t                 *extract;
    ngx_str_t                     search_id;
    int64_t                       search_time_ms;
    ngx_uint_t                    produced;
    ngx_uint_t                    skipped;
    unsigned                      done:1;
} ngx_http_hotel_kafka_ctx_t;


ngx_int_t ngx_http_hotel_kafka_filter_init(ngx_conf_t *cf);
ngx_int_t ngx_http_hotel_kafka_add_variables(ngx_conf_t *cf);
char *ngx_http_hotel_kafka_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_hotel_kafka_log(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_hotel_kafka_log_init(ngx_conf_t *cf);

ngx_int_t ngx_http_hotel_kafka_producer_start(ngx_cycle_t *cycle,
    ngx_http_hotel_kafka_main_conf_t *hmcf);
void ngx_http_hotel_kafka_producer_stop(ngx_cycle_t *cycle);
ngx_int_t ngx_http_hotel_kafka_produce(ngx_str_t *topic, hk_record_t *rec,
    ngx_log_t *log);
rd_kafka_conf_t *ngx_http_hotel_kafka_conf_build(ngx_array_t *props,
    ngx_log_t *log);

ngx_int_t ngx_http_hotel_kafka_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
ngx_http_hotel_kafka_stats_t *ngx_http_hotel_kafka_stats(void);
void ngx_http_hotel_kafka_stats_error(const char *fmt, ...);
void ngx_http_hotel_kafka_count_skip(hk_skip_reason_t reason);
void ngx_http_hotel_kafka_count_page(ngx_http_hotel_kafka_page_e page);


extern ngx_module_t  ngx_http_hotel_kafka_module;


#endif /* _NGX_HTTP_HOTEL_KAFKA_MODULE_H_INCLUDED_ */
