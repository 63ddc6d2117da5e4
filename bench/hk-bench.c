/*
 * hk-bench: the benchmarks' helper, built with the project's own record
 * encoder and JSON extractor (src/core, src/extract) and Debian's librdkafka.
 *
 *   hk-bench produce -b BROKERS -t TOPIC -n N [-H HOTELS] [-r PER_SEC]
 *                    [-X name=value ...]
 *       N protobuf records (hk_record_encode), keys = hotel ids drawn from
 *       HOTELS (10000), search time = now; waits for every delivery report.
 *       -r paces the records (for the end-to-end benchmark).  -P R: the
 *       N results as page records of R results each (hk_page_encode, the
 *       page schema headers, no key), as "hotel_kafka_record page" writes.
 *
 *   hk-bench count -b BROKERS -t TOPIC
 *       records stored at the broker: the sum over partitions of
 *       high - low watermark (an idempotent, non-transactional producer
 *       writes no control records, so offsets are records).
 *
 *   hk-bench micro -b BROKERS -t TOPIC -f PAGE.json -n PAGES
 *       the module's per-result work without HTTP: each page is copied
 *       into a padded buffer and read whole (hk_extract_document(), as the
 *       body filter does for a page within hotel_kafka_page_buffer; -Y:
 *       by the streaming yajl extractor instead, as for a longer page);
 *       each result is encoded and handed to
 *       rd_kafka_producev() with F_COPY and the two schema headers, with
 *       the module's producer defaults.  Prints ns per result for parse
 *       only, parse + encode, parse + encode + enqueue (CPU time of the
 *       calling thread, what the nginx event loop pays) and the whole
 *       process's CPU per result (librdkafka's threads included).
 *       -m 0 or -m 1 stops after parse or encode (for profilers); -S
 *       sends no schema headers (hotel_kafka_schema_headers off).
 *
 * Output is one line of name=value pairs on stdout, for bench/run.
 */

#define _GNU_SOURCE

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "hk_extract.h"
#include "bench_kafka.h"
#include "hk_kafka.h"
#include "hk_page.h"
#include "hk_record.h"


static const char  *brokers = "127.0.0.1:9092";
static const char  *topic = "hotel-data";
static const char  *page_file;
static long long    count_n = 100000;
static long         hotels = 10000;
static double       per_sec;
static int          last_mode = 2;
static int          schema_headers = 1;
static int          streaming;
static long         page_results;       /* -P: results per page record */
static char        *xprops[64];
static int          nxprops;




static rd_kafka_resp_err_t
enqueue(rd_kafka_t *rk, rd_kafka_topic_t *rkt, const hk_record_t *rec,
    const uint8_t *value, size_t len)
{
    rd_kafka_headers_t   *hdrs;
    rd_kafka_resp_err_t   err;

    /* as ngx_http_hotel_kafka_produce() does; -S: schema headers off */

    hdrs = schema_headers ? hk_kafka_schema_headers(HK_RECORD_SCHEMA) : NULL;

    err = rd_kafka_producev(rk,
                            RD_KAFKA_V_RKT(rkt),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_KEY(rec->hotel_id, rec->hotel_id_len),
                            RD_KAFKA_V_VALUE((void *) value, len),
                            RD_KAFKA_V_HEADERS(hdrs),
                            RD_KAFKA_V_END);

    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && hdrs != NULL) {
        rd_kafka_headers_destroy(hdrs);
    }

    return err;
}


/* ---- produce ---------------------------------------------------------- */

/*
 * The next result both producers write, from a xorshift generator so that
 * every run writes the same ones: a hotel id of HOTELS (10000) into id,
 * its length returned; a rate of 40.00 to 539.99 in whole cents.
 */
static size_t
next_result(uint64_t *seed, char *id, size_t size, int64_t *rate_micros)
{
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;

    *rate_micros = (int64_t) (4000 + (*seed >> 20) % 50000) * 10000;

    return snprintf(id, size, "h%05ld", (long) (*seed % (uint64_t) hotels));
}


static int
cmd_produce(void)
{
    char                 id[32], sid[24];
    size_t               len;
    uint8_t              value[HK_RECORD_MAX_SIZE];
    double               t0, t1, due;
    uint64_t             seed = 88172645463325252ULL;
    long long            i, qfull = 0;
    hk_record_t          rec;
    rd_kafka_t          *rk;
    rd_kafka_topic_t    *rkt;
    rd_kafka_resp_err_t  err;

    rk = bench_producer(brokers, xprops, nxprops);
    rkt = rd_kafka_topic_new(rk, topic, NULL);

    t0 = bench_clock_s(CLOCK_MONOTONIC);

    for (i = 0; i < count_n; i++) {
        rec.hotel_id_len = next_result(&seed, id, sizeof(id),
                                       &rec.rate_micros);
        rec.hotel_id = id;

        /* a page of 20 results shares a search id and a time */
        if (i % 20 == 0) {
            snprintf(sid, sizeof(sid), "bench-%016" PRIx64, seed);
            rec.search_time_ms =
                (int64_t) (bench_clock_s(CLOCK_REALTIME) * 1000);
        }

        rec.currency = "EUR";
        rec.search_id = sid;
        rec.search_id_len = strlen(sid);
        rec.position = (uint32_t) (i % 20);

        len = hk_record_encode(&rec, value);

        if (per_sec > 0) {
            due = t0 + i / per_sec;
            while (bench_clock_s(CLOCK_MONOTONIC) < due) {
                rd_kafka_poll(rk, 1);
            }
        }

        while ((err = enqueue(rk, rkt, &rec, value, len))
               == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        {
            qfull++;
            rd_kafka_poll(rk, 5);
        }

        if (err) {
            bench_die("produce: %s", rd_kafka_err2str(err));
        }

        if (i % 1000 == 0) {
            rd_kafka_poll(rk, 0);
        }
    }

    rd_kafka_flush(rk, 120000);
    t1 = bench_clock_s(CLOCK_MONOTONIC);

    printf("records=%lld delivered=%lld failed=%lld seconds=%.3f "
           "per_sec=%.0f queue_full_waits=%lld\n",
           count_n, bench_delivered, bench_failed, t1 - t0,
           bench_delivered / (t1 - t0), qfull);

    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);

    return bench_delivered == count_n ? 0 : 1;
}


/* ---- produce -P -------------------------------------------------------- */

/* a page's arena: reset for every page */
static unsigned char  page_arena[1 << 20];
static size_t         page_used;


static void *
page_alloc(void *ctx, size_t size)
{
    void  *p;

    size = (size + 15) & ~(size_t) 15;

    if (size > sizeof(page_arena) - page_used) {
        return NULL;
    }

    p = page_arena + page_used;
    page_used += size;

    return p;
}


static int
cmd_produce_pages(void)
{
    char                  id[32], sid[24];
    size_t                len;
    uint8_t              *value;
    double                t0, t1;
    uint64_t              seed = 88172645463325252ULL;
    hk_page_t            *page;
    int64_t               rate, now_ms;
    long long             i, n, records, qfull = 0;
    rd_kafka_t           *rk;
    rd_kafka_topic_t     *rkt;
    rd_kafka_headers_t   *hdrs;
    rd_kafka_resp_err_t   err;

    rk = bench_producer(brokers, xprops, nxprops);
    rkt = rd_kafka_topic_new(rk, topic, NULL);
    page = NULL;
    records = 0;

    t0 = bench_clock_s(CLOCK_MONOTONIC);

    for (i = 0; i < count_n; i++) {
        n = next_result(&seed, id, sizeof(id), &rate);

        if (page == NULL) {
            page_used = 0;
            snprintf(sid, sizeof(sid), "bench-%016" PRIx64, seed);
            now_ms = (int64_t) (bench_clock_s(CLOCK_REALTIME) * 1000);
            page = hk_page_create(sid, strlen(sid), now_ms, page_alloc, NULL);
            if (page == NULL) {
                bench_die("%s", "page: out of memory");
            }
        }

        if (hk_page_add(page, id, n, rate, "EUR",
                        (uint32_t) hk_page_results(page))
            != 0)
        {
            bench_die("%s", "page: out of memory");
        }

        if ((long) hk_page_results(page) < page_results && i + 1 < count_n) {
            continue;
        }

        n = hk_page_results(page);
        len = hk_page_size(page, 0, n);
        value = page_alloc(NULL, len);
        if (value == NULL) {
            bench_die("%s", "page: too large for the arena");
        }
        len = hk_page_encode(page, 0, n, value);
        page = NULL;

        for ( ;; ) {
            hdrs = hk_kafka_schema_headers(HK_PAGE_SCHEMA);

            err = rd_kafka_producev(rk,
                                    RD_KAFKA_V_RKT(rkt),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_VALUE(value, len),
                                    RD_KAFKA_V_HEADERS(hdrs),
                                    RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                break;
            }

            rd_kafka_headers_destroy(hdrs);

            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                bench_die("produce: %s", rd_kafka_err2str(err));
            }

            qfull++;
            rd_kafka_poll(rk, 5);
        }

        if (++records % 100 == 0) {
            rd_kafka_poll(rk, 0);
        }
    }

    rd_kafka_flush(rk, 120000);
    t1 = bench_clock_s(CLOCK_MONOTONIC);

    printf("records=%lld results=%lld delivered=%lld failed=%lld "
           "seconds=%.3f per_sec=%.0f queue_full_waits=%lld\n",
           records, count_n, bench_delivered, bench_failed, t1 - t0,
           bench_delivered / (t1 - t0), qfull);

    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);

    return bench_delivered == records ? 0 : 1;
}


/* ---- count ------------------------------------------------------------ */

static int
cmd_count(void)
{
    int                              i, tries;
    char                             err[512];
    int64_t                          lo, hi, total = 0;
    rd_kafka_t                      *rk;
    rd_kafka_conf_t                 *conf;
    rd_kafka_resp_err_t              e;
    rd_kafka_topic_t                *rkt;
    const struct rd_kafka_metadata  *md;

    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err))
        != RD_KAFKA_CONF_OK)
    {
        bench_die("%s", err);
    }

    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL) {
        bench_die("%s", err);
    }

    /* producers may auto-create: never create the topic just to count it */
    rkt = rd_kafka_topic_new(rk, topic, NULL);

    for (tries = 0; ; tries++) {
        e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1
            && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        {
            break;
        }

        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            e = md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN;
            rd_kafka_metadata_destroy(md);
        }

        if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || tries >= 5) {
            /* a topic nobody wrote to holds nothing */
            printf("records=0 partitions=0 error=%s\n", rd_kafka_err2name(e));
            rd_kafka_topic_destroy(rkt);
            rd_kafka_destroy(rk);
            return e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ? 0 : 1;
        }

        usleep(200000);
    }

    for (i = 0; i < md->topics[0].partition_cnt; i++) {
        e = rd_kafka_query_watermark_offsets(rk, topic,
                                             md->topics[0].partitions[i].id,
                                             &lo, &hi, 10000);
        if (e) {
            bench_die("watermarks: %s", rd_kafka_err2str(e));
        }
        total += hi - lo;
    }

    printf("records=%" PRId64 " partitions=%d\n", total,
           md->topics[0].partition_cnt);

    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);

    return 0;
}


/* ---- micro ------------------------------------------------------------ */

typedef struct {
    int                mode;         /* 0 parse, 1 + encode, 2 + enqueue */
    rd_kafka_t        *rk;
    rd_kafka_topic_t  *rkt;
    long long          results;
    long long          dropped;
    long long          waits;        /* queue full, waited for room */
    size_t             bytes;
} micro_t;


static void
micro_result(void *data, const hk_result_t *r)
{
    micro_t              *m = data;
    size_t                len;
    uint8_t               value[HK_RECORD_MAX_SIZE];
    hk_record_t           rec;
    rd_kafka_resp_err_t   err;

    m->results++;

    if (m->mode == 0) {
        return;
    }

    rec.hotel_id = r->hotel_id;
    rec.hotel_id_len = r->hotel_id_len;
    rec.rate_micros = r->rate_micros;
    rec.currency = r->currency;
    rec.search_time_ms = 1700000000000LL;
    rec.search_id = "0123456789abcdef0123456789abcdef";
    rec.search_id_len = 32;
    rec.position = r->position;

    len = hk_record_encode(&rec, value);
    m->bytes += len;

    if (m->mode != 2) {
        return;
    }

    /*
     * Faster than the broker thread on the same core, the loop fills the
     * queue: wait for room, as the cost measured is that of an accepted
     * record (waiting is not thread CPU time).
     */
    while ((err = enqueue(m->rk, m->rkt, &rec, value, len))
           == RD_KAFKA_RESP_ERR__QUEUE_FULL)
    {
        m->waits++;
        rd_kafka_poll(m->rk, 1);
    }

    if (err) {
        m->dropped++;
    }
}


static void
micro_skip(void *data, hk_skip_reason_t reason, uint32_t position)
{
    bench_die("page result skipped: %s", hk_skip_reason_name(reason));
}


static int
cmd_micro(void)
{
    int                    mode;
    long                   size;
    FILE                  *f;
    char                  *page, error[128];
    unsigned char         *copy;
    hk_extract_rc_t        rc;
    hk_extract_rules_t    *rules;
    double                 t0, c0, ns[3], proc_ns = 0;
    long long              i;
    micro_t                m;
    hk_extract_t          *x;
    hk_extract_conf_t      xc;
    hk_extract_handlers_t  h = { micro_result, micro_skip };
    const char            *names[] = { "parse", "encode", "enqueue" };

    if (page_file == NULL) {
        bench_die("%s", "micro needs -f PAGE");
    }

    f = fopen(page_file, "rb");
    if (f == NULL) {
        bench_die("cannot open %s", page_file);
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    page = malloc(size);
    if (page == NULL || fread(page, 1, size, f) != (size_t) size) {
        bench_die("cannot read %s", page_file);
    }
    fclose(f);

    memset(&xc, 0, sizeof(xc));
    xc.results_path = "results";
    xc.id_field = "hotel_id";
    xc.rate_field = "price.amount";
    xc.currency_field = "price.currency";
    xc.max_depth = HK_EXTRACT_DEFAULT_MAX_DEPTH;
    xc.max_token = HK_EXTRACT_DEFAULT_MAX_TOKEN;

    rules = hk_extract_rules(&xc);
    copy = malloc(size + HK_EXTRACT_PADDING);
    if (rules == NULL || copy == NULL) {
        bench_die("%s", "no memory");
    }

    memset(&m, 0, sizeof(m));
    m.rk = bench_producer(brokers, xprops, nxprops);
    m.rkt = rd_kafka_topic_new(m.rk, topic, NULL);

    for (mode = 0; mode <= last_mode; mode++) {
        m.mode = mode;
        m.results = 0;

        t0 = bench_clock_s(CLOCK_THREAD_CPUTIME_ID);
        c0 = bench_process_cpu_s();

        for (i = 0; i < count_n; i++) {
            if (streaming) {
                x = hk_extract_create(rules, &h, &m);
                rc = x ? hk_extract_feed(x, (unsigned char *) page, size)
                       : HK_EXTRACT_ERROR_NOMEM;
                if (rc == HK_EXTRACT_OK) {
                    rc = hk_extract_finish(x);
                }
                hk_extract_destroy(x);

            } else {
                memcpy(copy, page, size);
                memset(copy + size, 0, HK_EXTRACT_PADDING);
                rc = hk_extract_document(rules, &h, &m, copy, size, error,
                                         sizeof(error));
            }

            if (rc != HK_EXTRACT_OK) {
                bench_die("%s: page not read", page_file);
            }

            if (mode == 2) {
                /* what the worker's eventfd handler does, amortised */
                rd_kafka_poll(m.rk, 0);
            }
        }

        ns[mode] = (bench_clock_s(CLOCK_THREAD_CPUTIME_ID) - t0) * 1e9
                   / m.results;

        if (mode == 2) {
            /* the process's CPU, librdkafka's threads and their delivery
             * work included: wait for the deliveries first */
            rd_kafka_flush(m.rk, 60000);
            proc_ns = (bench_process_cpu_s() - c0) * 1e9 / m.results;
        }
    }

    printf("page_bytes=%ld results_per_page=%lld pages=%lld",
           size, m.results / count_n, count_n);
    for (mode = 0; mode <= last_mode; mode++) {
        printf(" %s_ns=%.0f", names[mode], ns[mode]);
    }
    printf(" process_ns=%.0f delivered=%lld failed=%lld dropped=%lld"
           " queue_full_waits=%lld\n",
           proc_ns, bench_delivered, bench_failed, m.dropped, m.waits);

    rd_kafka_topic_destroy(m.rkt);
    rd_kafka_destroy(m.rk);
    hk_extract_rules_free(rules);
    free(copy);
    free(page);

    return m.dropped || bench_failed ? 1 : 0;
}


int
main(int argc, char **argv)
{
    int          c;
    const char  *cmd;

    if (argc < 2) {
        fprintf(stderr, "usage: hk-bench produce|count|micro [options]\n");
        return 2;
    }

    cmd = argv[1];
    argv++;
    argc--;

    while ((c = getopt(argc, argv, "b:t:n:H:r:f:m:P:SYX:")) != -1) {
        switch (c) {
        case 'b': brokers = optarg; break;
        case 't': topic = optarg; break;
        case 'n': count_n = atoll(optarg); break;
        case 'H': hotels = atol(optarg); break;
        case 'r': per_sec = atof(optarg); break;
        case 'f': page_file = optarg; break;
        case 'm': last_mode = atoi(optarg) % 3; break;
        case 'S': schema_headers = 0; break;
        case 'Y': streaming = 1; break;
        case 'P': page_results = atol(optarg); break;
        case 'X':
            if (nxprops == 64) {
                bench_die("%s", "too many -X");
            }
            xprops[nxprops++] = optarg;
            break;
        default:
            return 2;
        }
    }

    if (hotels < 1 || count_n < 1) {
        bench_die("%s", "-n and -H must be positive");
    }

    if (strcmp(cmd, "produce") == 0) {
        return page_results > 0 ? cmd_produce_pages() : cmd_produce();
    }
    if (strcmp(cmd, "count") == 0) {
        return cmd_count();
    }
    if (strcmp(cmd, "micro") == 0) {
        return cmd_micro();
    }

    bench_die("unknown command %s", cmd);
    return 2;
}
