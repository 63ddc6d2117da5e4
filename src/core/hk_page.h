/*
 * One search result page as Kafka record values: the protobuf message
 * hotelsearch.v1.SearchPage (proto/hotel_search_result.proto), encoded
 * as protobuf-c would encode it (fuzz/fuzz_page.c compares the two), for
 * "hotel_kafka_record page".
 *
 * A page is built result by result as its results are read, then encoded
 * once, after its last one.  A page too large for one record is encoded
 * as several, each a SearchPage with the page's search id and time and a
 * run of its results: hk_page_fit() says how many fit.
 *
 * Memory comes from the caller's allocator and is never freed here: it is
 * meant for an arena that lives as long as the page (nginx's request
 * pool).  A page belongs to one thread.
 */

#ifndef HK_PAGE_H
#define HK_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "hk_record.h"


#define HK_PAGE_SCHEMA  "hotelsearch.v1.SearchPage"


/* an arena's allocation: NULL when memory is short */
typedef void *(*hk_page_alloc_pt)(void *ctx, size_t size);


typedef struct hk_page_s  hk_page_t;


/*
 * An empty page; the search id (at most HK_RECORD_MAX_SEARCH_ID bytes) is
 * copied.  NULL if memory is short or the id is too long.
 */
hk_page_t *hk_page_create(const char *search_id, size_t search_id_len,
    int64_t search_time_ms, hk_page_alloc_pt alloc, void *ctx);

/*
 * Adds a result that meets the record's rules (hk_record.h): the id and
 * currency are copied.  0, or -1 if memory is short (or the id is longer
 * than a record's).
 */
int hk_page_add(hk_page_t *page, const char *hotel_id, size_t hotel_id_len,
    int64_t rate_micros, const char *currency, uint32_t position);

/* the results added so far */
size_t hk_page_results(const hk_page_t *page);

/*
 * How many results from first on fit in one record of at most max bytes:
 * at least one while any is left (a single result is far below any
 * sensible record size), 0 when first is past the last.
 */
size_t hk_page_fit(const hk_page_t *page, size_t first, size_t max);

/* the encoded size of the record holding results [first, first + n) */
size_t hk_page_size(const hk_page_t *page, size_t first, size_t n);

/*
 * Encodes the record holding results [first, first + n) into out, which
 * holds hk_page_size() bytes; returns that length.  Allocates nothing.
 */
size_t hk_page_encode(const hk_page_t *page, size_t first, size_t n,
    uint8_t *out);


#endif /* HK_PAGE_H */
