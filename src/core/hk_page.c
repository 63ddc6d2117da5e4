/*
 * Page records written straight in protobuf's wire format; see hk_page.h.
 *
 * Why not protobuf-c: a page is one message holding many, and protobuf-c
 * measures each result again on every pack (its packed size, then its
 * bytes, each string's strlen each time).  perf of the worker under the
 * page-mode load put protobuf-c's packing at about 4 % of the worker,
 * and hk_page_add()'s own sizing beside it.
 *
 * A page is its search id and time, then its results, each a field
 * holding a HotelSearchResult written by hk_record.c without the search
 * id and time (the page's).  Each result is written as it is added, into
 * one buffer of the page's entries, and its end kept: the id need not be
 * copied to outlive the response's buffers, nothing is measured twice,
 * and a record of a run of results is the page's header and one copy.
 * fuzz/fuzz_page.c compares the bytes with protobuf-c's pack of the same
 * page, which stays the reference.
 */

#include <string.h>

#include "hk_page.h"
#include "hk_wire.h"


#define HK_PAGE_TAG_SEARCH_ID     hk_wire_tag(1, HK_WIRE_BYTES)
#define HK_PAGE_TAG_SEARCH_TIME   hk_wire_tag(2, HK_WIRE_VARINT)
#define HK_PAGE_TAG_RESULT        hk_wire_tag(3, HK_WIRE_BYTES)

/* a result's entry: its tag, its length (below 2^14: two bytes), itself */
#define HK_PAGE_ENTRY_MAX         (1 + 2 + HK_RECORD_MAX_SIZE)


struct hk_page_s {
    uint8_t           *entries;    /* the results' entries, one after another */
    size_t             len;
    size_t             room;
    uint32_t          *ends;       /* where result i's entry ends */
    size_t             n;
    size_t             size;       /* of ends */
    char               search_id[HK_RECORD_MAX_SEARCH_ID];
    size_t             search_id_len;
    int64_t            search_time_ms;
    hk_page_alloc_pt   alloc;
    void              *ctx;
};


static int hk_page_grow(hk_page_t *page);
static size_t hk_page_header_size(const hk_page_t *page);
static size_t hk_page_start(const hk_page_t *page, size_t i);


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
    size_t        len;
    uint8_t      *entry, *body;
    hk_record_t   rec;

    if (hotel_id_len > HK_RECORD_MAX_ID) {
        return -1;
    }

    if ((page->n == page->size || page->room - page->len < HK_PAGE_ENTRY_MAX)
        && hk_page_grow(page) != 0)
    {
        return -1;
    }

    rec.hotel_id = hotel_id;
    rec.hotel_id_len = hotel_id_len;
    rec.rate_micros = rate_micros;
    rec.currency = currency;
    rec.search_time_ms = 0;
    rec.search_id = NULL;
    rec.search_id_len = 0;
    rec.position = position;

    /*
     * The result is written in place, after room for its tag and a
     * one-byte length: most results are shorter than 128 bytes, and a
     * longer one is moved up by the length's second byte.
     */

    entry = page->entries + page->len;
    body = entry + 2;
    len = hk_record_encode(&rec, body);

    if (len >= 0x80) {
        memmove(body + 1, body, len);
    }

    body = hk_wire_varint(hk_wire_varint(entry, HK_PAGE_TAG_RESULT), len);

    page->len = (size_t) (body + len - page->entries);
    page->ends[page->n++] = (uint32_t) page->len;

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
    size_t  n, header, start;

    if (first >= page->n) {
        return 0;
    }

    header = hk_page_header_size(page);
    start = hk_page_start(page, first);

    for (n = 0; first + n < page->n; n++) {
        if (n > 0 && header + page->ends[first + n] - start > max) {
            break;
        }
    }

    return n;
}


size_t
hk_page_size(const hk_page_t *page, size_t first, size_t n)
{
    return hk_page_header_size(page)
           + hk_page_start(page, first + n) - hk_page_start(page, first);
}


size_t
hk_page_encode(const hk_page_t *page, size_t first, size_t n, uint8_t *out)
{
    size_t    start, end;
    uint8_t  *p;

    p = out;

    if (page->search_id_len) {
        p = hk_wire_bytes_field(p, HK_PAGE_TAG_SEARCH_ID, page->search_id,
                                page->search_id_len);
    }

    if (page->search_time_ms) {
        p = hk_wire_varint_field(p, HK_PAGE_TAG_SEARCH_TIME,
                                 (uint64_t) page->search_time_ms);
    }

    start = hk_page_start(page, first);
    end = hk_page_start(page, first + n);

    if (end > start) {
        memcpy(p, page->entries + start, end - start);
    }

    return (size_t) (p - out) + end - start;
}


/*
 * Room for one more result and its entry, the arrays twice as large,
 * copied: the arena frees nothing.
 */

static int
hk_page_grow(hk_page_t *page)
{
    size_t     size;
    uint8_t   *entries;
    uint32_t  *ends;

    if (page->n == page->size) {
        size = page->size ? 2 * page->size : 32;

        ends = page->alloc(page->ctx, size * sizeof(uint32_t));
        if (ends == NULL) {
            return -1;
        }

        if (page->n) {
            memcpy(ends, page->ends, page->n * sizeof(uint32_t));
        }

        page->ends = ends;
        page->size = size;
    }

    if (page->room - page->len < HK_PAGE_ENTRY_MAX) {
        size = page->room ? 2 * page->room : 32 * 32;

        if (size - page->len < HK_PAGE_ENTRY_MAX) {
            size = page->len + HK_PAGE_ENTRY_MAX;
        }

        entries = page->alloc(page->ctx, size);
        if (entries == NULL) {
            return -1;
        }

        if (page->len) {
            memcpy(entries, page->entries, page->len);
        }

        page->entries = entries;
        page->room = size;
    }

    return 0;
}


static size_t
hk_page_header_size(const hk_page_t *page)
{
    size_t  size;

    size = 0;

    if (page->search_id_len) {
        size += hk_wire_bytes_size(page->search_id_len);
    }

    if (page->search_time_ms) {
        size += hk_wire_varint_size((uint64_t) page->search_time_ms);
    }

    return size;
}


/* where result i's entry starts: where the one before it ends */

static size_t
hk_page_start(const hk_page_t *page, size_t i)
{
    return i == 0 ? 0 : page->ends[i - 1];
}
