/*
 * libFuzzer target: the module's wire format (hk_page.c, hk_record.c)
 * against protobuf-c's, the reference.  The input is read as a page: a
 * search id and time, then results (an id, a rate, a currency, a
 * position), each value taken from the next bytes.  Each result is
 * encoded as a result record (hk_record_encode(), with the page's search
 * id and time), whose bytes and size must be protobuf-c's pack and packed
 * size of the same HotelSearchResult.  The page is encoded whole and in
 * the runs hk_page_fit() cuts it into for a size limit also taken from
 * the input; each record's bytes and size must be protobuf-c's of the
 * same SearchPage, and each run must fit unless it is one result.
 *
 * Strings hold no NUL (protobuf-c measures them with strlen; the
 * record's rules refuse control characters in ids and currencies).
 */

#include <stdlib.h>
#include <string.h>

#include "hk_page.h"
#include "hotel_search_result.pb-c.h"


typedef struct {
    const uint8_t  *p;
    size_t          left;
} fuzz_input_t;


static void *
fuzz_alloc(void *ctx, size_t size)
{
    void  **list = ctx, **block;

    /* a list of blocks, freed at the end: the arena of the test */

    block = malloc(sizeof(void *) + size);
    if (block == NULL) {
        abort();
    }

    block[0] = *list;
    *list = block;

    return block + 1;
}


static uint64_t
fuzz_take(fuzz_input_t *in, size_t n)
{
    uint64_t  v = 0;

    while (n-- && in->left) {
        v = v << 8 | *in->p++;
        in->left--;
    }

    return v;
}


/* a string of at most max bytes, NUL-free, copied to out */

static size_t
fuzz_string(fuzz_input_t *in, char *out, size_t max)
{
    size_t  i, len;

    len = (size_t) fuzz_take(in, 1) % (max + 1);

    for (i = 0; i < len; i++) {
        out[i] = (char) fuzz_take(in, 1);

        if (out[i] == '\0') {
            out[i] = 'x';
        }
    }

    out[len] = '\0';

    return len;
}


/* a result record, with the page's search id and time, as protobuf-c's */

static void
fuzz_record(const Hotelsearch__V1__HotelSearchResult *result,
    const char *sid, int64_t time)
{
    size_t                              len;
    uint8_t                             mine[HK_RECORD_MAX_SIZE], *ref;
    hk_record_t                         rec;
    Hotelsearch__V1__HotelSearchResult  msg;

    msg = *result;
    msg.search_id = (char *) sid;
    msg.search_time_ms = time;

    rec.hotel_id = msg.hotel_id;
    rec.hotel_id_len = strlen(msg.hotel_id);
    rec.rate_micros = msg.rate_micros;
    rec.currency = msg.currency;
    rec.search_time_ms = time;
    rec.search_id = sid;
    rec.search_id_len = strlen(sid);
    rec.position = msg.position;

    len = hotelsearch__v1__hotel_search_result__get_packed_size(&msg);

    ref = malloc(len + 1);
    if (ref == NULL
        || hotelsearch__v1__hotel_search_result__pack(&msg, ref) != len)
    {
        abort();
    }

    if (hk_record_size(&rec) != len || hk_record_encode(&rec, mine) != len
        || memcmp(mine, ref, len) != 0)
    {
        abort();
    }

    free(ref);
}


/* protobuf-c's record of results [first, first + n) */

static size_t
fuzz_reference(const char *sid, int64_t time,
    Hotelsearch__V1__HotelSearchResult **results, size_t n, uint8_t **out)
{
    size_t                        len;
    Hotelsearch__V1__SearchPage   msg = HOTELSEARCH__V1__SEARCH_PAGE__INIT;

    msg.search_id = (char *) sid;
    msg.search_time_ms = time;
    msg.n_results = n;
    msg.results = results;

    len = hotelsearch__v1__search_page__get_packed_size(&msg);

    *out = malloc(len + 1);
    if (*out == NULL
        || hotelsearch__v1__search_page__pack(&msg, *out) != len)
    {
        abort();
    }

    return len;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                                  sid[HK_RECORD_MAX_SEARCH_ID + 1];
    char                                  ids[64][40], cur[64][4];
    void                                 *arena, **block;
    size_t                                i, n, first, max, len, ref_len;
    int64_t                               time;
    uint8_t                              *mine, *ref;
    hk_page_t                            *page;
    fuzz_input_t                          in = { data, size };
    Hotelsearch__V1__HotelSearchResult    results[64], *pointers[64];

    arena = NULL;

    fuzz_string(&in, sid, HK_RECORD_MAX_SEARCH_ID);
    time = (int64_t) fuzz_take(&in, 8);
    max = (size_t) fuzz_take(&in, 2);

    page = hk_page_create(sid, strlen(sid), time, fuzz_alloc, &arena);
    if (page == NULL) {
        abort();
    }

    for (n = 0; n < 64 && in.left; n++) {
        hotelsearch__v1__hotel_search_result__init(&results[n]);

        fuzz_string(&in, ids[n], sizeof(ids[n]) - 1);
        fuzz_string(&in, cur[n], HK_RECORD_CURRENCY_LEN);

        results[n].hotel_id = ids[n];
        results[n].currency = cur[n];
        results[n].rate_micros = (int64_t) fuzz_take(&in, 8);
        results[n].position = (uint32_t) fuzz_take(&in, 4);
        pointers[n] = &results[n];

        fuzz_record(&results[n], sid, time);

        /* hk_page_add() copies exactly the record's three letters */
        if (hk_page_add(page, ids[n], strlen(ids[n]), results[n].rate_micros,
                        cur[n], results[n].position)
            != 0)
        {
            abort();
        }
    }

    if (hk_page_results(page) != n) {
        abort();
    }

    /* the whole page, then the runs a size limit cuts it into */

    for (first = 0; first <= n; first += i) {
        i = first == 0 && max % 2 ? n - first : hk_page_fit(page, first, max);

        len = hk_page_size(page, first, i);
        ref_len = fuzz_reference(sid, time, pointers + first, i, &ref);

        mine = malloc(len + 1);
        if (mine == NULL) {
            abort();
        }

        if (len != ref_len || hk_page_encode(page, first, i, mine) != len
            || memcmp(mine, ref, len) != 0)
        {
            abort();
        }

        if (first != 0 || max % 2 == 0) {
            if (i > 1 && len > max) {
                abort();
            }
        }

        free(mine);
        free(ref);

        if (i == 0) {
            break;
        }
    }

    while (arena != NULL) {
        block = arena;
        arena = block[0];
        free(block);
    }

    return 0;
}
