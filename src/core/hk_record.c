/*
 * Encoding of hk_record_t with the protobuf-c code generated from
 * proto/hotel_search_result.proto.
 *
 * protobuf-c wants NUL-terminated strings while ids arrive as slices of a
 * response body, so they are copied into bounded buffers on the stack: the
 * encoder allocates nothing and is safe to call on the request path.
 */

#include <string.h>

#include "hk_record.h"
#include "hotel_search_result.pb-c.h"


size_t
hk_record_encode(const hk_record_t *rec, uint8_t *out)
{
    char                           hotel_id[HK_RECORD_MAX_ID + 1];
    char                           search_id[HK_RECORD_MAX_SEARCH_ID + 1];
    char                           currency[4];
    Hotelsearch__V1__HotelSearchResult  msg =
                                   HOTELSEARCH__V1__HOTEL_SEARCH_RESULT__INIT;

    if (rec->hotel_id_len > HK_RECORD_MAX_ID
        || rec->search_id_len > HK_RECORD_MAX_SEARCH_ID)
    {
        return 0;
    }

    memcpy(hotel_id, rec->hotel_id, rec->hotel_id_len);
    hotel_id[rec->hotel_id_len] = '\0';

    memcpy(search_id, rec->search_id, rec->search_id_len);
    search_id[rec->search_id_len] = '\0';

    /* a currency is 3 letters; anything longer is cut, never overread */
    strncpy(currency, rec->currency, sizeof(currency) - 1);
    currency[sizeof(currency) - 1] = '\0';

    msg.hotel_id = hotel_id;
    msg.rate_micros = rec->rate_micros;
    msg.currency = currency;
    msg.search_time_ms = rec->search_time_ms;
    msg.search_id = search_id;
    msg.position = rec->position;

    return hotelsearch__v1__hotel_search_result__pack(&msg, out);
}
