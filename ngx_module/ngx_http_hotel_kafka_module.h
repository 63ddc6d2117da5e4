
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
#include "hk_page.h"
#include "hk_record.h"


/* why a record that was due was not handed to Kafka */
typedef enum {
    NGX_HTTP_HOTEL_KAFKA_DROP_QUEUE_FULL = 0,
    NGX_HTTP_HOTEL_KAFKA_DROP_TOO_LARGE,
    NGX_HTTP_HOTEL_KAFKA_DROP_NO_PRODUCER,
    NGX_HTTP_HOTEL_KAFKA_DROP_OTHER,
    NGX_HTTP_HOTEL_KAFKA_DROP_N
} ngx_http_hotel_kafka_drop_e;


/*
 * Why a response that was to be read as a result page was not read to
 * its end (and may have given fewer records than it showed hotels).
 */
typedef enum {
    NGX_HTTP_HOTEL_KAFKA_PAGE_SYNTAX = 0,
    NGX_HTTP_HOTEL_KAFKA_PAGE_DEPTH,
    NGX_HTTP_HOTEL_KAFKA_PAGE_TOKEN,
    NGX_HTTP_HOTEL_KAFKA_PAGE_NO_RESULTS,
    NGX_HTTP_HOTEL_KAFKA_PAGE_COMPRESSED,
    NGX_HTTP_HOTEL_KAFKA_PAGE_NOMEM,
    NGX_HTTP_HOTEL_KAFKA_PAGE_PARTIAL,      /* 206: a slice of the page */
    NGX_HTTP_HOTEL_KAFKA_PAGE_TRUNCATED,    /* the response never ended */
    NGX_HTTP_HOTEL_KAFKA_PAGE_NOT_IN_MEMORY, /* a body buffer in a file */
    NGX_HTTP_HOTEL_KAFKA_PAGE_N
} ngx_http_hotel_kafka_page_e;


/*
 * What a worker counts.  Every field is a counter of the same type, so
 * that the sums over the workers can treat the struct as an array.  A
 * record is produced (accepted by librdkafka), then either delivered or
 * failed; a record that never reached librdkafka is dropped.
 */
typedef struct {
    ngx_atomic_uint_t             produced;
    ngx_atomic_uint_t             delivered;
    ngx_atomic_uint_t             failed;
    ngx_atomic_uint_t             delivered_bytes;
    ngx_atomic_uint_t             dropped[NGX_HTTP_HOTEL_KAFKA_DROP_N];
    ngx_atomic_uint_t             skipped[HK_SKIP_NREASONS];
    ngx_atomic_uint_t             pages;
    ngx_atomic_uint_t             pages_failed[NGX_HTTP_HOTEL_KAFKA_PAGE_N];
} ngx_http_hotel_kafka_counters_t;

#define NGX_HTTP_HOTEL_KAFKA_NCOUNTERS                                        \
    (sizeof(ngx_http_hotel_kafka_counters_t) / sizeof(ngx_atomic_uint_t))


/*
 * One worker process's counters, on cache lines of their own: the
 * worker is their only writer, so it adds without atomics or traffic
 * between cores.  A slot shared by several processes (the table was
 * full) is added to atomically.
 */
typedef struct {
    ngx_http_hotel_kafka_counters_t
                                  counters;
    ngx_atomic_uint_t             queue_depth;
    ngx_atomic_t                  pid;            /* 0: a free slot */
    ngx_uint_t                    worker;         /* its ngx_worker */
    ngx_uint_t                    shared;
} ngx_http_hotel_kafka_slot_t;


/*
 * The shared memory zone: a slot per worker process, and what workers
 * that have exited counted, so that totals survive reloads.  A status
 * page sums them under the zone's mutex.
 */
typedef struct {
    ngx_uint_t                    nslots;
    size_t                        slot_size;      /* cache-line aligned */
    u_char                       *slots;
    ngx_http_hotel_kafka_slot_t   overflow;       /* when slots are full */
    ngx_http_hotel_kafka_counters_t
                                  retired;
    ngx_atomic_t                  last_error_time;
    u_char                        last_error[128];
} ngx_http_hotel_kafka_stats_t;


typedef struct {
    ngx_array_t                  *kafka_conf;     /* of ngx_keyval_t */
    ngx_msec_t                    flush_timeout;
    ngx_flag_t                    schema_headers; /* on every record */
    ngx_shm_zone_t               *shm_zone;
    ngx_int_t                     search_id_index;
    ngx_flag_t                    used;           /* a producer is needed */
    ngx_flag_t                    status_used;    /* a location shows them */
    ngx_flag_t                    log;            /* hotel_kafka_log is used */
    ngx_uint_t                    nslots;         /* in the zone */
} ngx_http_hotel_kafka_main_conf_t;


/* hotel_kafka_record: a record per result, or per page */
#define NGX_HTTP_HOTEL_KAFKA_RECORD_RESULT      0
#define NGX_HTTP_HOTEL_KAFKA_RECORD_PAGE        1


#define NGX_HTTP_HOTEL_KAFKA_STATUS_OFF         0
#define NGX_HTTP_HOTEL_KAFKA_STATUS_JSON        1
#define NGX_HTTP_HOTEL_KAFKA_STATUS_PROMETHEUS  2



typedef struct {
    ngx_flag_t                    search_results;
    ngx_http_complex_value_t     *search_results_if;
    ngx_uint_t                    status_format;  /* 0: no status page */
    ngx_array_t                  *page_codes;     /* of ngx_uint_t */
    ngx_array_t                  *logs;           /* hotel_kafka_log */
    ngx_http_complex_value_t     *search_id;      /* NULL: our own */
    ngx_str_t                     topic;
    ngx_str_t                     results_path;
    ngx_str_t                     id_field;
    ngx_str_t                     rate_field;
    ngx_str_t                     currency_field;
    ngx_str_t                     default_currency;
    size_t                        page_buffer;    /* read whole up to it */
    ngx_uint_t                    record;         /* RESULT or PAGE */
    hk_extract_conf_t             extract;
    hk_extract_rules_t           *rules;          /* with search_results */
} ngx_http_hotel_kafka_loc_conf_t;


/* one per response being parsed */
typedef struct {
    ngx_http_request_t           *request;
    ngx_pool_t                   *pool;           /* r->pool, which the */
                                                  /* request forgets */
                                                  /* before its cleanups */
    ngx_http_hotel_kafka_loc_conf_t
                                 *conf;
    u_char                       *body;           /* the page so far, */
    size_t                        len;            /* followed by */
    size_t                        size;           /* HK_EXTRACT_PADDING */
    hk_extract_t                 *extract;        /* when it outgrew it */
    hk_page_t                    *page;           /* its results, */
                                                  /* with RECORD_PAGE */
    ngx_str_t                     search_id;
    int64_t                       search_time_ms;
    ngx_uint_t                    produced;
    ngx_uint_t                    skipped;
    unsigned                      started:1;      /* a body buffer came */
    unsigned                      done:1;         /* counted as a page */
} ngx_http_hotel_kafka_ctx_t;


ngx_int_t ngx_http_hotel_kafka_filter_init(ngx_conf_t *cf);
ngx_int_t ngx_http_hotel_kafka_add_variables(ngx_conf_t *cf);
void ngx_http_hotel_kafka_search_id_init(void);
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
ngx_uint_t ngx_http_hotel_kafka_produce_page(ngx_str_t *topic,
    hk_page_t *page, ngx_log_t *log);
void ngx_http_hotel_kafka_drop_result(ngx_log_t *log);
rd_kafka_conf_t *ngx_http_hotel_kafka_conf_build(ngx_array_t *props,
    ngx_log_t *log);

char *ngx_http_hotel_kafka_search_results(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

ngx_int_t ngx_http_hotel_kafka_stats_zone(ngx_conf_t *cf,
    ngx_http_hotel_kafka_main_conf_t *hmcf);
void ngx_http_hotel_kafka_stats_attach(ngx_cycle_t *cycle);
void ngx_http_hotel_kafka_stats_detach(ngx_cycle_t *cycle);
ngx_http_hotel_kafka_stats_t *ngx_http_hotel_kafka_stats(void);
void ngx_http_hotel_kafka_stats_sum(ngx_http_hotel_kafka_stats_t *stats,
    ngx_http_hotel_kafka_counters_t *total);
void ngx_http_hotel_kafka_stats_error(const char *fmt, ...);


extern const char  *ngx_http_hotel_kafka_drop_names[];
extern const char  *ngx_http_hotel_kafka_page_names[];


/*
 * This process's slot: a private one until the process has a slot in the
 * zone (or if there is no zone), so that counting never needs a test.
 */
extern ngx_http_hotel_kafka_slot_t  *ngx_http_hotel_kafka_slot;


static ngx_inline void
ngx_http_hotel_kafka_add(ngx_atomic_uint_t *counter, ngx_atomic_uint_t n)
{
    if (ngx_http_hotel_kafka_slot->shared) {
        (void) ngx_atomic_fetch_add(counter, n);

    } else {
        *counter += n;
    }
}


#define ngx_http_hotel_kafka_count(field, n)                                  \
    ngx_http_hotel_kafka_add(&ngx_http_hotel_kafka_slot->counters.field, n)


extern ngx_module_t  ngx_http_hotel_kafka_module;


#endif /* _NGX_HTTP_HOTEL_KAFKA_MODULE_H_INCLUDED_ */
