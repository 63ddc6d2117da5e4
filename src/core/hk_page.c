/*
 * Page records with the protobuf-c code generated from
 * proto/hotel_search_result.proto; see hk_page.h.
 *
 * The page keeps protobuf-c's own structs, one per result, so that
 * encoding a run of them is one pack of a SearchPage pointing into the
 * array, and a run's size is known from the results' packed sizes, kept
 * as they are added.
 */

#include <string.h>

#include "hk_page.h"
#include "hotel_search_result.pb-c.h"


struct hk_page_s {
    Hotelsearch__V1__HotelSearchResult   *results;
    Hotelsearch__V1__HotelSearchResult  **pointers;
    size_t                               *sizes;    /* in a SearchPage */
    size_t                                n;
    size_t                                size;     /* of the arrays */
    char                                  search_id[HK_RECORD_MAX_SEARCH_ID
                                                    + 1];
    int64_t                               search_time_ms;
    hk_page_alloc_pt                      alloc;
    void                                 *ctx;
};


static int hk_page_grow(hk_page_t *page);
static size_t hk_page_varint_len(size_t v);


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
    page->search_id[search_id_len] = '\0';
    page->search_time_ms = search_time_ms;
    page->alloc = alloc;
    page->ctx = ctx;

    return page;
}


int
hk_page_add(hk_page_t *page, const char *hotel_id, size_t hotel_id_len,
    int64_t rate_micros, const char *currency, uint32_t position)
{
    char                                *id, *cur;
    size_t                               len;
    Hotelsearch__V1__HotelSearchResult  *r;

    if (page->n == page->size && hk_page_grow(page) != 0) {
        return -1;
    }

    /* protobuf-c takes NUL-terminated strings */

    id = page->alloc(page->ctx, hotel_id_len + 1 + HK_RECORD_CURRENCY_LEN
                                + 1);
    if (id == NULL) {
        return -1;
    }

    memcpy(id, hotel_id, hotel_id_len);
    id[hotel_id_len] = '\0';

    cur = id + hotel_id_len + 1;
    memcpy(cur, currency, HK_RECORD_CURRENCY_LEN);
    cur[HK_RECORD_CURRENCY_LEN] = '\0';

    r = &page->results[page->n];

    hotelsearch__v1__hotel_search_result__init(r);
    r->hotel_id = id;
    r->rate_micros = rate_micros;
    r->currency = cur;
    r->position = position;

    /* in a SearchPage: the field's tag, the message's length, the message */

    len = hotelsearch__v1__hotel_search_result__get_packed_size(r);

    page->sizes[page->n] = 1 + hk_page_varint_len(len) + len;
    page->pointers[page->n] = r;
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
        size += page->sizes[first + n];

        if (size > max && n > 0) {
            break;
        }
    }

    return n;
}


size_t
hk_page_size(const hk_page_t *page, size_t first, size_t n)
{
    size_t                      i, size;
    Hotelsearch__V1__SearchPage  msg = HOTELSEARCH__V1__SEARCH_PAGE__INIT;

    msg.search_id = (char *) page->search_id;
    msg.search_time_ms = page->search_time_ms;

    size = hotelsearch__v1__search_page__get_packed_size(&msg);

    for (i = first; i < first + n; i++) {
        size += page->sizes[i];
    }

    return size;
}


size_t
hk_page_encode(const hk_page_t *page, size_t first, size_t n, uint8_t *out)
{
    Hotelsearch__V1__SearchPage  msg = HOTELSEARCH__V1__SEARCH_PAGE__INIT;

    msg.search_id = (char *) page->search_id;
    msg.search_time_ms = page->search_time_ms;
    msg.n_results = n;
    msg.results = page->pointers + first;

    return hotelsearch__v1__search_page__pack(&msg, out);
}


/* the arrays twice as large, copied: the arena frees nothing */

static int
hk_page_grow(hk_page_t *page)
{
    size_t                                i, size;
    size_t                               *sizes;
    Hotelsearch__V1__HotelSearchResult   *results;
    Hotelsearch__V1__HotelSearchResult  **pointers;

    size = page->size ? 2 * page->size : 32;

    results = page->alloc(page->ctx, size * sizeof(*results));
    pointers = page->alloc(page->ctx, size * sizeof(*pointers));
    sizes = page->alloc(page->ctx, size * sizeof(*sizes));

    if (results == NULL || pointers == NULL || sizes == NULL) {
        return -1;
    }

    if (page->n) {
        memcpy(results, page->results, page->n * sizeof(*results));
        memcpy(sizes, page->sizes, page->n * sizeof(*sizes));
    }

    /* the pointers point into the array, which moved */

    for (i = 0; i < page->n; i++) {
        pointers[i] = &results[i];
    }

    page->results = results;
    page->pointers = pointers;
    page->sizes = sizes;
    page->size = size;

    return 0;
}


static size_t
hk_page_varint_len(size_t v)
{
    size_t  n;

    for (n = 1; v >= 0x80; v >>= 7) {
        n++;
    }

    return n;
}
