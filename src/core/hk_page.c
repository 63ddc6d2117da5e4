/*
 * Page records written straight in protobuf's wire format; see hk_page.h.
 *
 * Why not protobuf-c: a page is one message holding many, and protobuf-c
 * measures each result again on every pack (its packed size, then its
 * bytes, each string's strlen each time).  perf of the worker under the
 * page-mode load put protobuf-c's packing at about 4 % of the worker,
 * and hk_page_add()'s own sizing beside it.  A page is its search id and
 * time, then each result as a HotelSearchResult written by hk_record.c
 * without the search id and time (the page's), each measured once when
 * it is added.  fuzz/fuzz_page.c compares the bytes with protobuf-c's
 * pack of the same page, which stays the reference.
 */

#include <string.h>

#include "hk_page.h"
#include "hk_wire.h"


#define HK_PAGE_TAG_SEARCH_ID     hk_wire_tag(1, HK_WIRE_BYTES)
#define HK_PAGE_TAG_SEARCH_TIME   hk_wire_tag(2, HK_WIRE_VARINT)
#define HK_PAGE_TAG_RESULT        hk_wire_tag(3, HK_WIRE_BYTES)


/* one result; in a page the search id and time are the page's, left out */
typedef struct {
    const char  *hotel_id;
    size_t       hotel_id_len;
    int64_t      rate_micros;
    char         currency[HK_RECORD_CURRENCY_LEN];
    uint32_t     position;
    size_t       size;         /* of the HotelSearchResult message */
} hk_page_result_t;


struct hk_page_s {
    hk_page_result_t  *results;
    size_t             n;
    size_t             size;       /* of the array */
    char               search_id[HK_RECORD_MAX_SEARCH_ID];
    size_t             search_id_len;
    int64_t            search_time_ms;
    hk_page_alloc_pt   alloc;
    void              *ctx;
};


static int hk_page_grow(hk_page_t *page);
static void hk_page_record(const hk_page_result_t *r, hk_record_t *rec);
static size_t hk_page_entry_size(const hk_page_result_t *r);


hk_page_t *
hk_page_create(const char *search_id, size_t search_id_len,
    int64_t search_time_ms, hk_page_alloc_pt alloc, void *ctx)
{
    hk_page_t  *page;

    if (search_id_len > HK_RECORD_MAX_SEARCH_ID) {
        return NULL;
    }

    page = alloc(ctx, sizeof(hk_page_t));
    if (page == NULL) {
        return NULL;
    }

    memset(page, 0, sizeof(hk_page_t));

    memcpy(page->search_id, search_id, search_id_len);
    page->search_id_len = search_id_len;
    page->search_time_ms = search_time_ms;
    page->alloc = alloc;
    page->ctx = ctx;

    return page;
}


int
hk_page_add(hk_page_t *page, const char *hotel_id, size_t hotel_id_len,
    int64_t rate_micros, const char *currency, uint32_t position)
{
    char              *id;
    hk_record_t        rec;
    hk_page_result_t  *r;

    if (hotel_id_len > HK_RECORD_MAX_ID) {
        return -1;
    }

    if (page->n == page->size && hk_page_grow(page) != 0) {
        return -1;
    }

    id = page->alloc(page->ctx, hotel_id_len ? hotel_id_len : 1);
    if (id == NULL) {
        return -1;
    }

    memcpy(id, hotel_id, hotel_id_len);

    r = &page->results[page->n];

    r->hotel_id = id;
    r->hotel_id_len = hotel_id_len;
    r->rate_micros = rate_micros;
    memcpy(r->currency, currency, HK_RECORD_CURRENCY_LEN);
    r->position = position;

    hk_page_record(r, &rec);
    r->size = hk_record_size(&rec);

    page->n++;

    return 0;
}


size_t
hk_page_results(const hk_page_t *page)
{
    return page->n;
}


size_t
hk_page_fit(const hk_page_t *page, size_t first, size_t max)
{
    size_t  n, size;

    size = hk_page_size(page, first, 0);

    for (n = 0; first + n < page->n; n++) {
        size += hk_page_entry_size(&page->results[first + n]);

        if (size > max && n > 0) {
            break;
        }
    }

    return n;
}


size_t
hk_page_size(const hk_page_t *page, size_t first, size_t n)
{
    size_t  i, size;

    size = 0;

    if (page->search_id_len) {
        size += hk_wire_bytes_size(page->search_id_len);
    }

    if (page->search_time_ms) {
        size += hk_wire_varint_size((uint64_t) page->search_time_ms);
    }

    for (i = first; i < first + n; i++) {
        size += hk_page_entry_size(&page->results[i]);
    }

    return size;
}


size_t
hk_page_encode(const hk_page_t *page, size_t first, size_t n, uint8_t *out)
{
    size_t                   i;
    uint8_t                 *p;
    hk_record_t              rec;
    const hk_page_result_t  *r;

    p = out;

    if (page->search_id_len) {
        p = hk_wire_bytes_field(p, HK_PAGE_TAG_SEARCH_ID, page->search_id,
                                page->search_id_len);
    }

    if (page->search_time_ms) {
        p = hk_wire_varint_field(p, HK_PAGE_TAG_SEARCH_TIME,
                                 (uint64_t) page->search_time_ms);
    }

    for (i = first; i < first + n; i++) {
        r = &page->results[i];

        hk_page_record(r, &rec);

        p = hk_wire_varint_field(p, HK_PAGE_TAG_RESULT, r->size);
        p += hk_record_encode(&rec, p);
    }

    return (size_t) (p - out);
}


/* the array twice as large, copied: the arena frees nothing */

static int
hk_page_grow(hk_page_t *page)
{
    size_t             size;
    hk_page_result_t  *results;

    size = page->size ? 2 * page->size : 32;

    results = page->alloc(page->ctx, size * sizeof(hk_page_result_t));
    if (results == NULL) {
        return -1;
    }

    if (page->n) {
        memcpy(results, page->results, page->n * sizeof(hk_page_result_t));
    }

    page->results = results;
    page->size = size;

    return 0;
}


/* the result as a record without the page's search id and time */

static void
hk_page_record(const hk_page_result_t *r, hk_record_t *rec)
{
    rec->hotel_id = r->hotel_id;
    rec->hotel_id_len = r->hotel_id_len;
    rec->rate_micros = r->rate_micros;
    rec->currency = r->currency;
    rec->search_time_ms = 0;
    rec->search_id = NULL;
    rec->search_id_len = 0;
    rec->position = r->position;
}


/* a result in a SearchPage: its tag, its length, the message */

static size_t
hk_page_entry_size(const hk_page_result_t *r)
{
    return hk_wire_bytes_size(r->size);
}
