
/*
 * The counters, in a shared memory zone: every worker adds to them with
 * atomics, any worker's status handler reads them, and a reload finds
 * them where the previous cycle left them.
 */


#include "ngx_http_hotel_kafka_module.h"


static ngx_http_hotel_kafka_stats_t  *ngx_http_hotel_kafka_shm_stats;


ngx_int_t
ngx_http_hotel_kafka_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t  *shpool;

    /* a reload keeps the counters of the previous cycle */

    if (data) {
        shm_zone->data = data;
        ngx_http_hotel_kafka_shm_stats = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        ngx_http_hotel_kafka_shm_stats = shpool->data;
        return NGX_OK;
    }

    ngx_http_hotel_kafka_shm_stats =
        ngx_slab_calloc(shpool, sizeof(ngx_http_hotel_kafka_stats_t));
    if (ngx_http_hotel_kafka_shm_stats == NULL) {
        return NGX_ERROR;
    }

    shpool->data = ngx_http_hotel_kafka_shm_stats;
    shm_zone->data = ngx_http_hotel_kafka_shm_stats;

    return NGX_OK;
}


ngx_http_hotel_kafka_stats_t *
ngx_http_hotel_kafka_stats(void)
{
    return ngx_http_hotel_kafka_shm_stats;
}


void
ngx_http_hotel_kafka_count_skip(hk_skip_reason_t reason)
{
    ngx_http_hotel_kafka_stats_t  *stats;

    stats = ngx_http_hotel_kafka_shm_stats;

    if (stats && reason < HK_SKIP_NREASONS) {
        (void) ngx_atomic_fetch_add(&stats->skipped[reason], 1);
    }
}


void
ngx_http_hotel_kafka_count_page(ngx_http_hotel_kafka_page_e e)
{
    ngx_http_hotel_kafka_stats_t  *stats;

    stats = ngx_http_hotel_kafka_stats();
    if (stats) {
        (void) ngx_atomic_fetch_add(&stats->bad_pages[e], 1);
    }
}


void
ngx_http_hotel_kafka_stats_error(const char *fmt, ...)
{
    u_char                        *last;
    va_list                        args;
    ngx_http_hotel_kafka_stats_t  *stats;

    stats = ngx_http_hotel_kafka_stats();
    if (stats == NULL) {
        return;
    }

    /*
     * Written without a lock: two workers writing at once may mix their
     * texts, which a status display can live with.
     */

    va_start(args, fmt);
    last = ngx_vslprintf(stats->last_error,
                         stats->last_error + sizeof(stats->last_error) - 1,
                         fmt, args);
    va_end(args);

    *last = '\0';
    stats->last_error_time = ngx_time();
}
