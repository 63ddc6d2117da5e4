/*
 * HotelSearchResult written straight in protobuf's wire format
 * (hk_wire.h), for a result record and for each result of a page record
 * (hk_page.c): one writer of the message.
 *
 * protobuf-c wrote result records before: it wants NUL-terminated strings
 * while ids arrive as slices of a response body, so each id was copied
 * first, and each string measured again with strlen at each pack.  The
 * bytes are the same (fuzz/fuzz_page.c compares them with protobuf-c's
 * pack, which stays the reference); an id is written whole, as its
 * length says: ids hold no NUL (the record's rules refuse control
 * characters), so protobuf-c's strlen cut nothing either.
 */

#include <string.h>

#include "hk_record.h"
#include "hk_wire.h"


#define HK_RECORD_TAG_HOTEL_ID     hk_wire_tag(1, HK_WIRE_BYTES)
#define HK_RECORD_TAG_RATE         hk_wire_tag(2, HK_WIRE_VARINT)
#define HK_RECORD_TAG_CURRENCY     hk_wire_tag(3, HK_WIRE_BYTES)
#define HK_RECORD_TAG_SEARCH_TIME  hk_wire_tag(4, HK_WIRE_VARINT)
#define HK_RECORD_TAG_SEARCH_ID    hk_wire_tag(5, HK_WIRE_BYTES)
#define HK_RECORD_TAG_POSITION     hk_wire_tag(6, HK_WIRE_VARINT)


/*
 * The currency's length: its bytes up to a NUL or the third.  Counted
 * here, not by strnlen(), whose call was a sixth of hk_record_encode()
 * for a page's results (callgrind of the worker, page mode).
 */

static inline size_t
hk_record_currency_len(const char *currency)
{
    size_t  n;

    for (n = 0; n < HK_RECORD_CURRENCY_LEN && currency[n] != '\0'; n++) {
        /* void */
    }

    return n;
}


size_t
hk_record_size(const hk_record_t *rec)
{
    size_t  size, currency_len;

    currency_len = hk_record_currency_len(rec->currency);
    size = 0;

    if (rec->hotel_id_len) {
        size += hk_wire_bytes_size(rec->hotel_id_len);
    }

    if (rec->rate_micros) {
        size += hk_wire_varint_size((uint64_t) rec->rate_micros);
    }

    if (currency_len) {
        size += hk_wire_bytes_size(currency_len);
    }

    if (rec->search_time_ms) {
        size += hk_wire_varint_size((uint64_t) rec->search_time_ms);
    }

    if (rec->search_id_len) {
        size += hk_wire_bytes_size(rec->search_id_len);
    }

    if (rec->position) {
        size += hk_wire_varint_size(rec->position);
    }

    return size;
}


size_t
hk_record_encode(const hk_record_t *rec, uint8_t *out)
{
    size_t    currency_len;
    uint8_t  *p;

    if (rec->hotel_id_len > HK_RECORD_MAX_ID
        || rec->search_id_len > HK_RECORD_MAX_SEARCH_ID)
    {
        return 0;
    }

    currency_len = hk_record_currency_len(rec->currency);
    p = out;

    if (rec->hotel_id_len) {
        p = hk_wire_bytes_field(p, HK_RECORD_TAG_HOTEL_ID, rec->hotel_id,
                                rec->hotel_id_len);
    }

    if (rec->rate_micros) {
        p = hk_wire_varint_field(p, HK_RECORD_TAG_RATE,
                                 (uint64_t) rec->rate_micros);
    }

    if (currency_len) {
        p = hk_wire_bytes_field(p, HK_RECORD_TAG_CURRENCY, rec->currency,
                                currency_len);
    }

    if (rec->search_time_ms) {
        p = hk_wire_varint_field(p, HK_RECORD_TAG_SEARCH_TIME,
                                 (uint64_t) rec->search_time_ms);
    }

    if (rec->search_id_len) {
        p = hk_wire_bytes_field(p, HK_RECORD_TAG_SEARCH_ID, rec->search_id,
                                rec->search_id_len);
    }

    if (rec->position) {
        p = hk_wire_varint_field(p, HK_RECORD_TAG_POSITION, rec->position);
    }

    return (size_t) (p - out);
}
