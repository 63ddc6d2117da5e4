
/*
 * One librdkafka producer per nginx worker, served on the nginx event loop.
 *
 * librdkafka signals its main queue through an eventfd that nginx watches
 * like any socket, and its logs go to that same queue (log.queue), so
 * delivery reports, errors and log lines are all handled by
 * rd_kafka_poll() on the worker's own thread: no nginx function ever runs
 * on a librdkafka thread, and reports are served with or without traffic.
 * A slow timer polls too, as a safety net.
 *
 * The producer holds no pointer into a cycle's memory (topic names are
 * copied), so that it outlives a reload in single-process mode, where
 * nginx builds a new cycle without restarting the process.
 */


#include "ngx_http_hotel_kafka_module.h"
#include "hk_kafka.h"

#include <sys/eventfd.h>

#if (__GLIBC__)
#include <malloc.h>
#endif


typedef struct {
    char                         *name;        /* ngx_alloc()ed copy */
    size_t                        len;
    rd_kafka_topic_t             *rkt;
} ngx_http_hotel_kafka_topic_t;


/*
 * A log line per kind of trouble and error code at most every few
 * seconds, with a count of what was held back.  Per code, so that a
 * first error of one kind (a timeout) cannot hide a different one (a
 * certificate refused) for the whole window.  Codes beyond the table
 * share its last entry, still limited.
 */

#define NGX_HTTP_HOTEL_KAFKA_LIMIT_CODES  8

typedef struct {
    int                           err;
    ngx_uint_t                    used;
    time_t                        logged;
    ngx_uint_t                    suppressed;
} ngx_http_hotel_kafka_limit_t;


typedef struct {
    ngx_http_hotel_kafka_limit_t  codes[NGX_HTTP_HOTEL_KAFKA_LIMIT_CODES];
} ngx_http_hotel_kafka_limits_t;


typedef struct {
    rd_kafka_t                   *rk;
    rd_kafka_conf_t              *conf;        /* template for rd_kafka_new() */
    rd_kafka_queue_t             *queue;
    ngx_connection_t             *notify;
    ngx_event_t                   poll_timer;
    ngx_event_t                   recreate;
    ngx_http_hotel_kafka_topic_t *topics;      /* ngx_alloc()ed */
    ngx_uint_t                    ntopics;
    ngx_uint_t                    topics_size;
    ngx_msec_t                    flush_timeout;
    ngx_flag_t                    schema_headers;
    size_t                        max_record;  /* a page record's bytes */
    u_char                       *scratch;     /* a page record, encoded */
    size_t                        scratch_size;
    ngx_uint_t                    backlog;     /* deepest queue since empty */
    ngx_uint_t                    exiting;
    ngx_http_hotel_kafka_limits_t delivery_limits;
    ngx_http_hotel_kafka_limits_t drop_limits;
    ngx_http_hotel_kafka_limits_t error_limits;
} ngx_http_hotel_kafka_producer_t;


#define NGX_HTTP_HOTEL_KAFKA_LOG_EVERY  10

/*
 * The safety-net poll, in ms: the eventfd wakes the worker for every
 * report, so this only matters if the notification could not be set up.
 */
#define NGX_HTTP_HOTEL_KAFKA_POLL_EVERY  1000

/* queued records past which a drained queue gives memory back */
#define NGX_HTTP_HOTEL_KAFKA_TRIM_BACKLOG  10000


static ngx_int_t ngx_http_hotel_kafka_create(ngx_cycle_t *cycle,
    ngx_http_hotel_kafka_producer_t *p);
static void ngx_http_hotel_kafka_destroy(ngx_cycle_t *cycle,
    ngx_http_hotel_kafka_producer_t *p, ngx_msec_t flush_timeout);
static void ngx_http_hotel_kafka_recreate_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_hotel_kafka_notify_init(ngx_cycle_t *cycle,
    ngx_http_hotel_kafka_producer_t *p);
static void ngx_http_hotel_kafka_notify_handler(ngx_event_t *rev);
static void ngx_http_hotel_kafka_poll_handler(ngx_event_t *ev);
static void ngx_http_hotel_kafka_poll(ngx_http_hotel_kafka_producer_t *p);
static void ngx_http_hotel_kafka_dr_cb(rd_kafka_t *rk,
    const rd_kafka_message_t *msg, void *opaque);
static void ngx_http_hotel_kafka_error_cb(rd_kafka_t *rk, int err,
    const char *reason, void *opaque);
static void ngx_http_hotel_kafka_log_cb(const rd_kafka_t *rk, int level,
    const char *fac, const char *buf);
static ngx_inline rd_kafka_topic_t *ngx_http_hotel_kafka_ready(
    ngx_http_hotel_kafka_producer_t *p, ngx_str_t *topic, ngx_log_t *log);
static rd_kafka_topic_t *ngx_http_hotel_kafka_topic(
    ngx_http_hotel_kafka_producer_t *p, ngx_str_t *name);
static ngx_http_hotel_kafka_limit_t *ngx_http_hotel_kafka_limit(
    ngx_http_hotel_kafka_limits_t *limits, int err);
static rd_kafka_resp_err_t ngx_http_hotel_kafka_producev(
    ngx_http_hotel_kafka_producer_t *p, rd_kafka_topic_t *rkt,
    const char *key, size_t key_len, const u_char *value, size_t len,
    const char *schema);
static void ngx_http_hotel_kafka_drop_err(ngx_http_hotel_kafka_producer_t *p,
    rd_kafka_resp_err_t err, ngx_log_t *log);
static void ngx_http_hotel_kafka_max_record(
    ngx_http_hotel_kafka_producer_t *p);
static void ngx_http_hotel_kafka_drop(ngx_http_hotel_kafka_producer_t *p,
    ngx_http_hotel_kafka_drop_e reason, const char *why, ngx_log_t *log);


static ngx_http_hotel_kafka_producer_t  ngx_http_hotel_kafka_producer;


ngx_int_t
ngx_http_hotel_kafka_producer_start(ngx_cycle_t *cycle,
    ngx_http_hotel_kafka_main_conf_t *hmcf)
{
    char                              err[512];
    const char                       *caveat;
    ngx_http_hotel_kafka_producer_t  *p;

    p = &ngx_http_hotel_kafka_producer;

    if (p->conf) {
        return NGX_OK;
    }

    ngx_memzero(p, sizeof(ngx_http_hotel_kafka_producer_t));

    p->flush_timeout = hmcf->flush_timeout;
    p->schema_headers = hmcf->schema_headers;

    p->conf = ngx_http_hotel_kafka_conf_build(hmcf->kafka_conf, cycle->log);
    if (p->conf == NULL) {
        return NGX_ERROR;
    }

    if (rd_kafka_conf_set(p->conf, "log.queue", "true", err, sizeof(err))
        != RD_KAFKA_CONF_OK)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "hotel kafka: %s", err);
        rd_kafka_conf_destroy(p->conf);
        p->conf = NULL;
        return NGX_ERROR;
    }

    ngx_http_hotel_kafka_max_record(p);

    /*
     * Said at start (and by "nginx -t") but also here, in the error log,
     * where the refusals it explains will appear.
     */

    caveat = hk_kafka_conf_caveat(p->conf);

    if (caveat != NULL) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0, "hotel kafka: %s "
                      "(librdkafka %s)", caveat, rd_kafka_version_str());
    }

    rd_kafka_conf_set_dr_msg_cb(p->conf, ngx_http_hotel_kafka_dr_cb);
    rd_kafka_conf_set_error_cb(p->conf, ngx_http_hotel_kafka_error_cb);
    rd_kafka_conf_set_log_cb(p->conf, ngx_http_hotel_kafka_log_cb);
    rd_kafka_conf_set_opaque(p->conf, p);

    p->poll_timer.handler = ngx_http_hotel_kafka_poll_handler;
    p->poll_timer.data = p;
    p->poll_timer.log = cycle->log;
    p->poll_timer.cancelable = 1;

    p->recreate.handler = ngx_http_hotel_kafka_recreate_handler;
    p->recreate.data = p;
    p->recreate.log = cycle->log;

    return ngx_http_hotel_kafka_create(cycle, p);
}


static ngx_int_t
ngx_http_hotel_kafka_create(ngx_cycle_t *cycle,
    ngx_http_hotel_kafka_producer_t *p)
{
    char              err[512];
    rd_kafka_conf_t  *rconf;

    rconf = rd_kafka_conf_dup(p->conf);
    if (rconf == NULL) {
        return NGX_ERROR;
    }

    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, rconf, err, sizeof(err));
    if (p->rk == NULL) {
        rd_kafka_conf_destroy(rconf);
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "hotel kafka: producer not created: %s", err);
        return NGX_ERROR;
    }

    /* rd_kafka_new() owns rconf now */

    /* logs are queued on the main queue, served by our rd_kafka_poll() */

    if (rd_kafka_set_log_queue(p->rk, NULL) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "hotel kafka: librdkafka logs not forwarded");
    }

    p->queue = rd_kafka_queue_get_main(p->rk);

    if (ngx_http_hotel_kafka_notify_init(cycle, p) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "hotel kafka: no event notification, polling every %M ms",
                      NGX_HTTP_HOTEL_KAFKA_POLL_EVERY);
    }

    ngx_add_timer(&p->poll_timer, NGX_HTTP_HOTEL_KAFKA_POLL_EVERY);

    ngx_log_error(NGX_LOG_INFO, cycle->log, 0,
                  "hotel kafka: producer started (librdkafka %s)",
                  rd_kafka_version_str());

    return NGX_OK;
}


/*
 * A fatal error (the idempotent producer's sequence state is broken, say)
 * leaves the producer refusing every record.  Rather than waiting for a
 * reload, it is rebuilt: what it still held is purged and counted as
 * failed, and a new one takes over.  librdkafka cannot be destroyed from
 * its own callback, hence the posted event.
 */

static void
ngx_http_hotel_kafka_recreate_handler(ngx_event_t *ev)
{
    char                              reason[512];
    ngx_http_hotel_kafka_producer_t  *p;

    p = ev->data;

    if (p->rk == NULL || p->exiting) {
        return;
    }

    (void) rd_kafka_fatal_error(p->rk, reason, sizeof(reason));

    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "hotel kafka: fatal producer error: %s; "
                  "creating a new producer", reason);

    ngx_http_hotel_kafka_destroy((ngx_cycle_t *) ngx_cycle, p, 0);

    (void) ngx_http_hotel_kafka_create((ngx_cycle_t *) ngx_cycle, p);
}


static ngx_int_t
ngx_http_hotel_kafka_notify_init(ngx_cycle_t *cycle,
    ngx_http_hotel_kafka_producer_t *p)
{
    int                fd;
    uint64_t           one;
    ngx_connection_t  *c;

    /* librdkafka#2932: the fd must not block its threads */

    fd = eventfd(0, EFD_NONBLOCK|EFD_CLOEXEC);
    if (fd == -1) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno, "eventfd() failed");
        return NGX_ERROR;
    }

    c = ngx_get_connection(fd, cycle->log);
    if (c == NULL) {
        close(fd);
        return NGX_ERROR;
    }

    c->data = p;
    c->read->handler = ngx_http_hotel_kafka_notify_handler;
    c->read->log = cycle->log;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_close_connection(c);
        return NGX_ERROR;
    }

    one = 1;
    rd_kafka_queue_io_event_enable(p->queue, fd, &one, sizeof(one));

    p->notify = c;

    return NGX_OK;
}


static void
ngx_http_hotel_kafka_notify_handler(ngx_event_t *rev)
{
    uint64_t                          n;
    ngx_connection_t                 *c;
    ngx_http_hotel_kafka_producer_t  *p;

    c = rev->data;
    p = c->data;

    /* an eventfd read returns the whole count and resets it; EAGAIN is
     * a wakeup with nothing counted */

    if (read(c->fd, &n, sizeof(n)) == -1 && ngx_errno != NGX_EAGAIN) {
        ngx_log_error(NGX_LOG_ALERT, c->log, ngx_errno,
                      "hotel kafka: read() of the eventfd failed");
    }

    ngx_http_hotel_kafka_poll(p);
}


static void
ngx_http_hotel_kafka_poll_handler(ngx_event_t *ev)
{
    ngx_http_hotel_kafka_producer_t  *p;

    p = ev->data;

    ngx_http_hotel_kafka_poll(p);

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_HTTP_HOTEL_KAFKA_POLL_EVERY);
    }
}


static void
ngx_http_hotel_kafka_poll(ngx_http_hotel_kafka_producer_t *p)
{
    ngx_uint_t  depth;

    if (p->rk == NULL) {
        return;
    }

    (void) rd_kafka_poll(p->rk, 0);

    depth = rd_kafka_outq_len(p->rk);

    ngx_http_hotel_kafka_slot->queue_depth = depth;

    if (depth > p->backlog) {
        p->backlog = depth;
        return;
    }

    /*
     * A backlog (the brokers were away) has drained: glibc keeps the
     * freed records' memory in the worker unless told to give it back.
     */

    if (depth == 0 && p->backlog >= NGX_HTTP_HOTEL_KAFKA_TRIM_BACKLOG) {
        p->backlog = 0;

#if (__GLIBC__)
        (void) malloc_trim(0);
#endif
    }
}


void
ngx_http_hotel_kafka_producer_stop(ngx_cycle_t *cycle)
{
    ngx_http_hotel_kafka_producer_t  *p;

    p = &ngx_http_hotel_kafka_producer;

    if (p->conf == NULL) {
        return;
    }

    p->exiting = 1;

    if (p->recreate.posted) {
        ngx_delete_posted_event(&p->recreate);
    }

    ngx_http_hotel_kafka_destroy(cycle, p, p->flush_timeout);

    rd_kafka_conf_destroy(p->conf);
    p->conf = NULL;

    if (p->topics) {
        ngx_free(p->topics);
        p->topics = NULL;
        p->topics_size = 0;
    }

    if (p->scratch) {
        ngx_free(p->scratch);
        p->scratch = NULL;
        p->scratch_size = 0;
    }
}


/*
 * Waits up to flush_timeout for the queue to drain, then purges what is
 * left: its delivery reports, served by the short flush that follows,
 * count it as failed.
 */

static void
ngx_http_hotel_kafka_destroy(ngx_cycle_t *cycle,
    ngx_http_hotel_kafka_producer_t *p, ngx_msec_t flush_timeout)
{
    int         left;
    ngx_uint_t  i;

    if (p->rk == NULL) {
        return;
    }

    if (p->poll_timer.timer_set) {
        ngx_del_timer(&p->poll_timer);
    }

    /* librdkafka must stop writing to the fd before nginx closes it */

    rd_kafka_queue_io_event_enable(p->queue, -1, NULL, 0);

    if (p->notify) {
        ngx_close_connection(p->notify);
        p->notify = NULL;
    }

    if (flush_timeout) {
        (void) rd_kafka_flush(p->rk, (int) flush_timeout);

        /* the flush may have blocked for seconds: keep log times honest */

        ngx_time_update();
    }

    left = rd_kafka_outq_len(p->rk);

    if (left > 0) {
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE
                              |RD_KAFKA_PURGE_F_INFLIGHT);
        (void) rd_kafka_flush(p->rk, 1000);

        if (flush_timeout) {
            ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                          "hotel kafka: %d records not delivered within "
                          "hotel_kafka_flush_timeout %M ms, purged and "
                          "counted as failed", left, flush_timeout);

        } else {
            ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                          "hotel kafka: %d records of the failed producer "
                          "purged and counted as failed", left);
        }

    } else {
        ngx_log_error(NGX_LOG_INFO, cycle->log, 0,
                      "hotel kafka: producer flushed");
    }

    for (i = 0; i < p->ntopics; i++) {
        rd_kafka_topic_destroy(p->topics[i].rkt);
        ngx_free(p->topics[i].name);
    }

    p->ntopics = 0;

    rd_kafka_queue_destroy(p->queue);
    rd_kafka_destroy(p->rk);

    p->rk = NULL;
    p->queue = NULL;

    ngx_http_hotel_kafka_slot->queue_depth = 0;
}


ngx_int_t
ngx_http_hotel_kafka_produce(ngx_str_t *topic, hk_record_t *rec,
    ngx_log_t *log)
{
    u_char                            value[HK_RECORD_MAX_SIZE];
    size_t                            len;
    rd_kafka_topic_t                 *rkt;
    rd_kafka_resp_err_t               err;
    ngx_http_hotel_kafka_producer_t  *p;

    p = &ngx_http_hotel_kafka_producer;

    rkt = ngx_http_hotel_kafka_ready(p, topic, log);
    if (rkt == NULL) {
        return NGX_DECLINED;
    }

    len = hk_record_encode(rec, value);
    if (len == 0) {
        ngx_http_hotel_kafka_drop(p, NGX_HTTP_HOTEL_KAFKA_DROP_TOO_LARGE,
                                  "the search id is too long", log);
        return NGX_DECLINED;
    }

    /*
     * The two schema headers are more than half of what producev costs
     * (callgrind: about 1,060 instructions a record without headers,
     * 2,300 with them: a header list and each header are allocations,
     * freed again at delivery), hence hotel_kafka_schema_headers off by
     * default.
     */

    err = ngx_http_hotel_kafka_producev(p, rkt, rec->hotel_id,
                                        rec->hotel_id_len, value, len,
                                        p->schema_headers ? HK_RECORD_SCHEMA
                                                          : NULL);

    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ngx_http_hotel_kafka_count(produced, 1);
        return NGX_OK;
    }

    ngx_http_hotel_kafka_drop_err(p, err, log);

    return NGX_DECLINED;
}


/*
 * A page's results as page records: as many records as it takes to keep
 * each within message.max.bytes.  Returns the results that went into
 * produced records; the others are counted as dropped, by their
 * records.
 */

ngx_uint_t
ngx_http_hotel_kafka_produce_page(ngx_str_t *topic, hk_page_t *page,
    ngx_log_t *log)
{
    size_t                            first, n, len, size;
    ngx_uint_t                        produced;
    rd_kafka_topic_t                 *rkt;
    rd_kafka_resp_err_t               err;
    ngx_http_hotel_kafka_producer_t  *p;

    p = &ngx_http_hotel_kafka_producer;

    rkt = ngx_http_hotel_kafka_ready(p, topic, log);
    if (rkt == NULL) {
        return 0;
    }

    produced = 0;

    for (first = 0; first < hk_page_results(page); first += n) {
        n = hk_page_fit(page, first, p->max_record);
        size = hk_page_size(page, first, n);

        if (size > p->scratch_size) {
            if (p->scratch) {
                ngx_free(p->scratch);
            }

            p->scratch = ngx_alloc(size, log);
            p->scratch_size = p->scratch ? size : 0;

            if (p->scratch == NULL) {
                ngx_http_hotel_kafka_drop(p, NGX_HTTP_HOTEL_KAFKA_DROP_OTHER,
                                          "no memory for a page record",
                                          log);
                continue;
            }
        }

        len = hk_page_encode(page, first, n, p->scratch);

        /* no key: librdkafka's sticky partitioner fills whole batches */

        err = ngx_http_hotel_kafka_producev(p, rkt, NULL, 0, p->scratch, len,
                                            HK_PAGE_SCHEMA);

        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            ngx_http_hotel_kafka_count(produced, 1);
            produced += n;

        } else {
            ngx_http_hotel_kafka_drop_err(p, err, log);
        }
    }

    return produced;
}


void
ngx_http_hotel_kafka_drop_result(ngx_log_t *log)
{
    ngx_http_hotel_kafka_drop(&ngx_http_hotel_kafka_producer,
                              NGX_HTTP_HOTEL_KAFKA_DROP_OTHER,
                              "no memory for the page's results", log);
}


/*
 * The topic's handle for a record about to be produced, or NULL with one
 * drop counted: the worker has no producer (it failed, or is exiting), or
 * no memory for the handle.  Inline, as the checks were before they were
 * shared: as a call they cost 6 instructions a record (callgrind).
 */

static ngx_inline rd_kafka_topic_t *
ngx_http_hotel_kafka_ready(ngx_http_hotel_kafka_producer_t *p,
    ngx_str_t *topic, ngx_log_t *log)
{
    rd_kafka_topic_t  *rkt;

    if (p->rk == NULL || p->exiting) {
        ngx_http_hotel_kafka_drop(p, NGX_HTTP_HOTEL_KAFKA_DROP_NO_PRODUCER,
                                  "no producer", log);
        return NULL;
    }

    rkt = ngx_http_hotel_kafka_topic(p, topic);
    if (rkt == NULL) {
        ngx_http_hotel_kafka_drop(p, NGX_HTTP_HOTEL_KAFKA_DROP_OTHER,
                                  "no topic handle (out of memory)", log);
    }

    return rkt;
}


/*
 * The one call to rd_kafka_producev(): F_COPY, as the value lives on the
 * caller's stack or scratch and the key in the response buffer, both
 * gone long before delivery; never F_BLOCK, as a full queue drops the
 * record rather than stalling every request of the worker; the opaque is
 * NULL, as no request memory outlives the request.  schema: the headers
 * that name it, or NULL for none.
 */

static rd_kafka_resp_err_t
ngx_http_hotel_kafka_producev(ngx_http_hotel_kafka_producer_t *p,
    rd_kafka_topic_t *rkt, const char *key, size_t key_len,
    const u_char *value, size_t len, const char *schema)
{
    rd_kafka_resp_err_t   err;
    rd_kafka_headers_t   *hdrs;

    hdrs = schema ? hk_kafka_schema_headers(schema) : NULL;

    err = rd_kafka_producev(p->rk,
                            RD_KAFKA_V_RKT(rkt),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_KEY(key, key_len),
                            RD_KAFKA_V_VALUE((void *) value, len),
                            RD_KAFKA_V_HEADERS(hdrs),
                            RD_KAFKA_V_END);

    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && hdrs != NULL) {
        rd_kafka_headers_destroy(hdrs);
    }

    return err;
}


static void
ngx_http_hotel_kafka_drop_err(ngx_http_hotel_kafka_producer_t *p,
    rd_kafka_resp_err_t err, ngx_log_t *log)
{
    ngx_http_hotel_kafka_drop(p,
                              err == RD_KAFKA_RESP_ERR__QUEUE_FULL
                              ? NGX_HTTP_HOTEL_KAFKA_DROP_QUEUE_FULL
                              : err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE
                              ? NGX_HTTP_HOTEL_KAFKA_DROP_TOO_LARGE
                              : NGX_HTTP_HOTEL_KAFKA_DROP_OTHER,
                              rd_kafka_err2str(err), log);
}


/*
 * A page record stays under the producer's message.max.bytes, less room
 * for what librdkafka adds around the value (the headers, its own
 * framing): 1 KiB, or half of it for the smallest sizes (1000 bytes is
 * librdkafka's least).
 */

static void
ngx_http_hotel_kafka_max_record(ngx_http_hotel_kafka_producer_t *p)
{
    char    value[32];
    size_t  size;

    size = sizeof(value);
    p->max_record = 1000000;

    if (rd_kafka_conf_get(p->conf, "message.max.bytes", value, &size)
        == RD_KAFKA_CONF_OK)
    {
        p->max_record = (size_t) ngx_atoi((u_char *) value, ngx_strlen(value));
    }

    p->max_record -= ngx_min(1024, p->max_record / 2);
}


/* counted always, logged at most once a window per reason */

static void
ngx_http_hotel_kafka_drop(ngx_http_hotel_kafka_producer_t *p,
    ngx_http_hotel_kafka_drop_e reason, const char *why, ngx_log_t *log)
{
    ngx_http_hotel_kafka_limit_t  *limit;

    ngx_http_hotel_kafka_count(dropped[reason], 1);

    limit = ngx_http_hotel_kafka_limit(&p->drop_limits, reason);

    if (limit) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "hotel kafka: records dropped (%s): %s (%ui more "
                      "since the last report)",
                      ngx_http_hotel_kafka_drop_names[reason], why,
                      limit->suppressed);
        limit->suppressed = 0;
    }
}


/*
 * Topics are few (one per configured location at most), so a short array
 * searched linearly beats a hash; each topic handle is created once per
 * worker.
 */

static rd_kafka_topic_t *
ngx_http_hotel_kafka_topic(ngx_http_hotel_kafka_producer_t *p,
    ngx_str_t *name)
{
    ngx_uint_t                     i;
    ngx_http_hotel_kafka_topic_t  *t;

    for (i = 0; i < p->ntopics; i++) {
        t = &p->topics[i];

        if (t->len == name->len
            && ngx_strncmp(t->name, name->data, name->len) == 0)
        {
            return t->rkt;
        }
    }

    if (p->ntopics == p->topics_size) {
        t = ngx_alloc((2 * p->topics_size + 4)
                      * sizeof(ngx_http_hotel_kafka_topic_t), ngx_cycle->log);
        if (t == NULL) {
            return NULL;
        }

        if (p->topics) {
            ngx_memcpy(t, p->topics,
                       p->ntopics * sizeof(ngx_http_hotel_kafka_topic_t));
            ngx_free(p->topics);
        }

        p->topics = t;
        p->topics_size = 2 * p->topics_size + 4;
    }

    t = &p->topics[p->ntopics];

    t->name = ngx_alloc(name->len + 1, ngx_cycle->log);
    if (t->name == NULL) {
        return NULL;
    }

    ngx_memcpy(t->name, name->data, name->len);
    t->name[name->len] = '\0';
    t->len = name->len;

    t->rkt = rd_kafka_topic_new(p->rk, t->name, NULL);
    if (t->rkt == NULL) {
        ngx_free(t->name);
        return NULL;
    }

    p->ntopics++;

    return t->rkt;
}


/* served by rd_kafka_poll() on the worker's thread */

static void
ngx_http_hotel_kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg,
    void *opaque)
{
    ngx_http_hotel_kafka_producer_t *p = opaque;

    ngx_http_hotel_kafka_limit_t  *limit;

    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ngx_http_hotel_kafka_count(delivered, 1);
        ngx_http_hotel_kafka_count(delivered_bytes, msg->len);
        return;
    }

    ngx_http_hotel_kafka_count(failed, 1);

    ngx_http_hotel_kafka_stats_error("delivery failed: %s",
                                     rd_kafka_err2str(msg->err));

    if (p->exiting) {
        return;
    }

    limit = ngx_http_hotel_kafka_limit(&p->delivery_limits, msg->err);

    if (limit) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "hotel kafka: delivery failed: %s "
                      "(%ui more failures since the last report)",
                      rd_kafka_err2str(msg->err), limit->suppressed);
        limit->suppressed = 0;
    }
}


static void
ngx_http_hotel_kafka_error_cb(rd_kafka_t *rk, int err, const char *reason,
    void *opaque)
{
    ngx_http_hotel_kafka_producer_t *p = opaque;

    ngx_http_hotel_kafka_limit_t  *limit;

    ngx_http_hotel_kafka_stats_error("%s", reason);

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        if (!p->recreate.posted) {
            ngx_post_event(&p->recreate, &ngx_posted_events);
        }

        return;
    }

    limit = ngx_http_hotel_kafka_limit(&p->error_limits, err);

    if (limit) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "hotel kafka: %s: %s (%ui more errors since the "
                      "last report)", rd_kafka_err2name(err), reason,
                      limit->suppressed);
        limit->suppressed = 0;
    }
}


static void
ngx_http_hotel_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
    ngx_uint_t  ngx_level;

    /*
     * syslog levels are nginx levels less one; librdkafka's own errors
     * are logged as warnings because error_cb reports the same trouble,
     * rate-limited, at the error level
     */

    ngx_level = (level < 0) ? NGX_LOG_EMERG : (ngx_uint_t) level + 1;

    if (ngx_level < NGX_LOG_WARN) {
        ngx_level = NGX_LOG_WARN;
    }

    if (ngx_level > NGX_LOG_DEBUG) {
        ngx_level = NGX_LOG_DEBUG;
    }

    ngx_log_error(ngx_level, ngx_cycle->log, 0, "hotel kafka: %s: %s",
                  fac, buf);
}


/* the entry of err if a line may be logged now, else NULL (counted) */

static ngx_http_hotel_kafka_limit_t *
ngx_http_hotel_kafka_limit(ngx_http_hotel_kafka_limits_t *limits, int err)
{
    ngx_uint_t                     i;
    ngx_http_hotel_kafka_limit_t  *limit;

    for (i = 0; i < NGX_HTTP_HOTEL_KAFKA_LIMIT_CODES - 1; i++) {
        limit = &limits->codes[i];

        if (!limit->used || limit->err == err) {
            break;
        }
    }

    limit = &limits->codes[i];

    if (!limit->used) {
        limit->used = 1;
        limit->err = err;
    }

    if (ngx_time() - limit->logged < NGX_HTTP_HOTEL_KAFKA_LOG_EVERY) {
        limit->suppressed++;
        return NULL;
    }

    limit->logged = ngx_time();

    return limit;
}
