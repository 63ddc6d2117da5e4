
/*
 * The counters, in a shared memory zone: a slot per worker process, which
 * only that worker writes (plain additions on cache lines of its own), and
 * the sum of what exited workers counted.  Any worker's status handler
 * adds them up, and a reload finds them where the previous cycle left
 * them.
 *
 * Slots are taken by processes, not by worker numbers: after a reload the
 * old worker 0 and the new worker 0 both count until the old one exits,
 * and must not share a slot.  The zone is sized for twice the configured
 * workers; a process that finds no free slot counts in the overflow slot,
 * atomically, so totals stay exact whatever happens.  A slot whose process
 * died without folding its counters (SIGKILL) is folded by the next
 * process that needs a slot.
 */


#include "ngx_http_hotel_kafka_module.h"


static ngx_int_t ngx_http_hotel_kafka_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_hotel_kafka_slot_t *ngx_http_hotel_kafka_slot_at(
    ngx_http_hotel_kafka_stats_t *stats, ngx_uint_t i);
static ngx_http_hotel_kafka_slot_t *ngx_http_hotel_kafka_slot_take(
    ngx_http_hotel_kafka_stats_t *stats);
static void ngx_http_hotel_kafka_slot_fold(ngx_http_hotel_kafka_stats_t *stats,
    ngx_http_hotel_kafka_slot_t *slot);
static void ngx_http_hotel_kafka_counters_add(
    ngx_http_hotel_kafka_counters_t *to, ngx_http_hotel_kafka_counters_t *from);


/* the reasons' names: status fields and metric labels */

const char  *ngx_http_hotel_kafka_drop_names[] = {
    "queue_full", "too_large", "no_producer", "other"
};

const char  *ngx_http_hotel_kafka_page_names[] = {
    "syntax", "depth", "token", "no_results", "compressed", "nomem",
    "partial", "truncated", "not_in_memory"
};


static ngx_str_t  ngx_http_hotel_kafka_zone_name =
    ngx_string("hotel_kafka_stats");

static ngx_shm_zone_t                *ngx_http_hotel_kafka_shm_zone;
static ngx_http_hotel_kafka_stats_t  *ngx_http_hotel_kafka_shm_stats;

static ngx_http_hotel_kafka_slot_t    ngx_http_hotel_kafka_private_slot;

ngx_http_hotel_kafka_slot_t  *ngx_http_hotel_kafka_slot =
    &ngx_http_hotel_kafka_private_slot;


/*
 * The zone is sized at configuration time from worker_processes, which
 * nginx.conf sets before the http block by convention; if it comes after,
 * the zone is sized as for "worker_processes auto" (workers beyond count
 * in the overflow slot).  A single process needs one slot.
 */

ngx_int_t
ngx_http_hotel_kafka_stats_zone(ngx_conf_t *cf,
    ngx_http_hotel_kafka_main_conf_t *hmcf)
{
    size_t            size;
    ngx_int_t         workers;
    ngx_core_conf_t  *ccf;

    ccf = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                           ngx_core_module);

    workers = ccf->worker_processes;

    if (workers == NGX_CONF_UNSET) {
        workers = ngx_max(ngx_ncpu, 1);
    }

    hmcf->nslots = (ccf->master == 0) ? 1 : 2 * (ngx_uint_t) workers;

    size = 8 * ngx_pagesize + sizeof(ngx_http_hotel_kafka_stats_t)
           + NGX_CPU_CACHE_LINE
           + hmcf->nslots * ngx_align(sizeof(ngx_http_hotel_kafka_slot_t),
                                      NGX_CPU_CACHE_LINE);

    hmcf->shm_zone = ngx_shared_memory_add(cf, &ngx_http_hotel_kafka_zone_name,
                                           size, &ngx_http_hotel_kafka_module);
    if (hmcf->shm_zone == NULL) {
        return NGX_ERROR;
    }

    hmcf->shm_zone->init = ngx_http_hotel_kafka_init_zone;
    hmcf->shm_zone->data = hmcf;

    return NGX_OK;
}


static ngx_int_t
ngx_http_hotel_kafka_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_hotel_kafka_stats_t *ostats = data;

    u_char                            *slots;
    ngx_slab_pool_t                   *shpool;
    ngx_http_hotel_kafka_stats_t      *stats;
    ngx_http_hotel_kafka_main_conf_t  *hmcf;

    hmcf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    ngx_http_hotel_kafka_shm_zone = shm_zone;

    /* a reload keeps the counters of the previous cycle */

    if (ostats) {
        shm_zone->data = ostats;
        ngx_http_hotel_kafka_shm_stats = ostats;
        return NGX_OK;
    }

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        ngx_http_hotel_kafka_shm_stats = shpool->data;
        return NGX_OK;
    }

    stats = ngx_slab_calloc(shpool, sizeof(ngx_http_hotel_kafka_stats_t));
    slots = ngx_slab_calloc(shpool, NGX_CPU_CACHE_LINE + hmcf->nslots
                            * ngx_align(sizeof(ngx_http_hotel_kafka_slot_t),
                                        NGX_CPU_CACHE_LINE));

    if (stats == NULL || slots == NULL) {
        return NGX_ERROR;
    }

    stats->nslots = hmcf->nslots;
    stats->slot_size = ngx_align(sizeof(ngx_http_hotel_kafka_slot_t),
                                 NGX_CPU_CACHE_LINE);
    stats->slots = ngx_align_ptr(slots, NGX_CPU_CACHE_LINE);
    stats->overflow.shared = 1;

    shpool->data = stats;
    shm_zone->data = stats;
    ngx_http_hotel_kafka_shm_stats = stats;

    return NGX_OK;
}


ngx_http_hotel_kafka_stats_t *
ngx_http_hotel_kafka_stats(void)
{
    return ngx_http_hotel_kafka_shm_stats;
}


/* a worker (or the single process) takes its slot when it starts */

void
ngx_http_hotel_kafka_stats_attach(ngx_cycle_t *cycle)
{
    ngx_slab_pool_t               *shpool;
    ngx_http_hotel_kafka_slot_t   *slot;
    ngx_http_hotel_kafka_stats_t  *stats;

    stats = ngx_http_hotel_kafka_shm_stats;

    if (stats == NULL
        || ngx_http_hotel_kafka_slot != &ngx_http_hotel_kafka_private_slot)
    {
        return;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_hotel_kafka_shm_zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    slot = ngx_http_hotel_kafka_slot_take(stats);

    ngx_shmtx_unlock(&shpool->mutex);

    if (slot == &stats->overflow) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "hotel kafka: all %ui worker slots of the "
                      "\"hotel_kafka_stats\" zone are taken, this worker "
                      "is counted in the totals only", stats->nslots);
    }

    ngx_http_hotel_kafka_slot = slot;
}


static ngx_http_hotel_kafka_slot_t *
ngx_http_hotel_kafka_slot_take(ngx_http_hotel_kafka_stats_t *stats)
{
    ngx_uint_t                    i;
    ngx_http_hotel_kafka_slot_t  *slot;

    for (i = 0; i < stats->nslots; i++) {
        slot = ngx_http_hotel_kafka_slot_at(stats, i);

        if (slot->pid != 0
            && (kill((ngx_pid_t) slot->pid, 0) == 0 || ngx_errno != NGX_ESRCH))
        {
            continue;
        }

        /* free, or left by a process that died without folding it */

        ngx_http_hotel_kafka_slot_fold(stats, slot);

        slot->pid = ngx_pid;
        slot->worker = ngx_worker;

        return slot;
    }

    return &stats->overflow;
}


/* an exiting worker leaves its figures to the totals, and its slot free */

void
ngx_http_hotel_kafka_stats_detach(ngx_cycle_t *cycle)
{
    ngx_slab_pool_t               *shpool;
    ngx_http_hotel_kafka_slot_t   *slot;
    ngx_http_hotel_kafka_stats_t  *stats;

    stats = ngx_http_hotel_kafka_shm_stats;
    slot = ngx_http_hotel_kafka_slot;

    if (stats == NULL
        || slot == &ngx_http_hotel_kafka_private_slot
        || slot == &stats->overflow)
    {
        return;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_hotel_kafka_shm_zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    ngx_http_hotel_kafka_slot_fold(stats, slot);

    ngx_shmtx_unlock(&shpool->mutex);

    ngx_http_hotel_kafka_slot = &ngx_http_hotel_kafka_private_slot;
}


/* the zone's mutex is held */

static void
ngx_http_hotel_kafka_slot_fold(ngx_http_hotel_kafka_stats_t *stats,
    ngx_http_hotel_kafka_slot_t *slot)
{
    ngx_http_hotel_kafka_counters_add(&stats->retired, &slot->counters);

    ngx_memzero(slot, sizeof(ngx_http_hotel_kafka_slot_t));
}


/* every counter of every process since the zone was made */

void
ngx_http_hotel_kafka_stats_sum(ngx_http_hotel_kafka_stats_t *stats,
    ngx_http_hotel_kafka_counters_t *total)
{
    ngx_uint_t        i;
    ngx_slab_pool_t  *shpool;

    shpool = (ngx_slab_pool_t *) ngx_http_hotel_kafka_shm_zone->shm.addr;

    ngx_memzero(total, sizeof(ngx_http_hotel_kafka_counters_t));

    ngx_shmtx_lock(&shpool->mutex);

    ngx_http_hotel_kafka_counters_add(total, &stats->retired);
    ngx_http_hotel_kafka_counters_add(total, &stats->overflow.counters);

    for (i = 0; i < stats->nslots; i++) {
        ngx_http_hotel_kafka_counters_add(total,
                          &ngx_http_hotel_kafka_slot_at(stats, i)->counters);
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


static ngx_http_hotel_kafka_slot_t *
ngx_http_hotel_kafka_slot_at(ngx_http_hotel_kafka_stats_t *stats,
    ngx_uint_t i)
{
    return (ngx_http_hotel_kafka_slot_t *) (stats->slots
                                            + i * stats->slot_size);
}


static void
ngx_http_hotel_kafka_counters_add(ngx_http_hotel_kafka_counters_t *to,
    ngx_http_hotel_kafka_counters_t *from)
{
    ngx_uint_t          i;
    ngx_atomic_uint_t  *t, *f;

    t = (ngx_atomic_uint_t *) to;
    f = (ngx_atomic_uint_t *) from;

    for (i = 0; i < NGX_HTTP_HOTEL_KAFKA_NCOUNTERS; i++) {
        t[i] += f[i];
    }
}


void
ngx_http_hotel_kafka_stats_error(const char *fmt, ...)
{
    u_char                        *last;
    va_list                        args;
    ngx_http_hotel_kafka_stats_t  *stats;

    stats = ngx_http_hotel_kafka_shm_stats;
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
