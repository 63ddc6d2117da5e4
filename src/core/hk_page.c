/*
 * Page records written straight in protobuf's wire format; see hk_page.h.
 *
 * Why not protobuf-c, as hk_record.c does: a page is one message holding
 * many, and protobuf-c measures each result again on every pack (its
 * packed size, then its bytes, each string's strlen each time).  perf of
 * the worker under the page-mode load put protobuf-c's packing at about
 * 4 % of the worker, and hk_page_add()'s own sizing beside it.  The
 * format of these two messages is small and fixed: each field is a tag
 * byte and a varint or a length and bytes, written in field-number order
 * and left out when it holds its default (proto3), as protobuf-c writes
 * them.  fuzz/fuzz_page.c compares the bytes with protobuf-c's pack of
 * the same page, which stays the reference.
 */

#include <string.h>

#include "hk_page.h"


/* the tags: field number << 3 | wire type (0 varint, 2 length-delimited) */
#define HK_PAGE_TAG_SEARCH_ID     (1 << 3 | 2)
#define HK_PAGE_TAG_SEARCH_TIME   (2 << 3 | 0)
#define HK_PAGE_TAG_RESULT        (3 << 3 | 2)

#define HK_PAGE_TAG_HOTEL_ID      (1 << 3 | 2)
#define HK_PAGE_TAG_RATE          (2 << 3 | 0)
#define HK_PAGE_TAG_CURRENCY      (3 << 3 | 2)
#define HK_PAGE_TAG_POSITION      (6 << 3 | 0)


/* one result; in a page the search id and time are the page's, left out */
typedef struct {
    const char  *hotel_id;
    size_t       hotel_id_len;
    int64_t      rate_micros;
    char         currency[HK_RECORD_CURRENCY_LEN];
    size_t       currency_len;
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
static size_t hk_page_varint_len(uint64_t v);
static uint8_t *hk_page_varint(uint8_t *p, uint64_t v);
static uint8_t *hk_page_bytes(uint8_t *p, unsigned tag, const char *s,
    size_t len);
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
    size_t             size;
    hk_page_result_t  *r;

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
    r->currency_len = strnlen(currency, HK_RECORD_CURRENCY_LEN);
    r->position = position;

    size = 0;

    if (hotel_id_len) {
        size += 1 + hk_page_varint_len(hotel_id_len) + hotel_id_len;
    }

    if (rate_micros) {
        size += 1 + hk_page_varint_len((uint64_t) rate_micros);
    }

    if (r->currency_len) {
        size += 1 + hk_page_varint_len(r->currency_len) + r->currency_len;
    }

    if (position) {
        size += 1 + hk_page_varint_len(position);
    }

    r->size = size;
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
        size += 1 + hk_page_varint_len(page->search_id_len)
                + page->search_id_len;
    }

    if (page->search_time_ms) {
        size += 1 + hk_page_varint_len((uint64_t) page->search_time_ms);
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
    const hk_page_result_t  *r;

    p = out;

    if (page->search_id_len) {
        p = hk_page_bytes(p, HK_PAGE_TAG_SEARCH_ID, page->search_id,
                          page->search_id_len);
    }

    if (page->search_time_ms) {
        *p++ = HK_PAGE_TAG_SEARCH_TIME;
        p = hk_page_varint(p, (uint64_t) page->search_time_ms);
    }

    for (i = first; i < first + n; i++) {
        r = &page->results[i];

        *p++ = HK_PAGE_TAG_RESULT;
        p = hk_page_varint(p, r->size);

        if (r->hotel_id_len) {
            p = hk_page_bytes(p, HK_PAGE_TAG_HOTEL_ID, r->hotel_id,
                              r->hotel_id_len);
        }

        if (r->rate_micros) {
            *p++ = HK_PAGE_TAG_RATE;
            p = hk_page_varint(p, (uint64_t) r->rate_micros);
        }

        if (r->currency_len) {
            p = hk_page_bytes(p, HK_PAGE_TAG_CURRENCY, r->currency,
                              r->currency_len);
        }

        if (r->position) {
            *p++ = HK_PAGE_TAG_POSITION;
            p = hk_page_varint(p, r->position);
        }
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


/* a result in a SearchPage: its tag, its length, the message */

static size_t
hk_page_entry_size(const hk_page_result_t *r)
{
    return 1 + hk_page_varint_len(r->size) + r->size;
}


static size_t
hk_page_varint_len(uint64_t v)
{
    size_t  n;

    for (n = 1; v >= 0x80; v >>= 7) {
        n++;
    }

    return n;
}


static uint8_t *
hk_page_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t) (v | 0x80);
        v >>= 7;
    }

    *p++ = (uint8_t) v;

    return p;
}


static uint8_t *
hk_page_bytes(uint8_t *p, unsigned tag, const char *s, size_t len)
{
    *p++ = (uint8_t) tag;
    p = hk_page_varint(p, len);
    memcpy(p, s, len);

    return p + len;
}
