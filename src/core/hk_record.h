/*
 * One hotel search result as a Kafka record value: the protobuf message
 * hotelsearch.v1.HotelSearchResult (proto/hotel_search_result.proto),
 * encoded with protobuf-c.
 *
 * The module encodes one per hotel of a result page; the consumer decodes
 * them.  The schema name and version travel as Kafka record headers so a
 * reader can tell what it holds before decoding.
 */

#ifndef HK_RECORD_H
#define HK_RECORD_H

#include <stddef.h>
#include <stdint.h>


#define HK_RECORD_SCHEMA          "hotelsearch.v1.HotelSearchResult"
#define HK_RECORD_SCHEMA_VERSION  "1"
#define HK_RECORD_HEADER_SCHEMA   "schema"
#define HK_RECORD_HEADER_VERSION  "schema-version"

/* Longest hotel id and search id accepted; they bound a record's size. */
#define HK_RECORD_MAX_ID          128
#define HK_RECORD_MAX_SEARCH_ID   64

/*
 * Enough for any record within the limits above: the two strings, a
 * currency code, four varints and their tags and lengths.
 */
#define HK_RECORD_MAX_SIZE                                                   \
    (HK_RECORD_MAX_ID + HK_RECORD_MAX_SEARCH_ID + 3 + 6 * 12)


typedef struct {
    const char  *hotel_id;        /* not NUL-terminated */
    size_t       hotel_id_len;
    int64_t      rate_micros;
    const char  *currency;        /* NUL-terminated, 3 letters */
    int64_t      search_time_ms;
    const char  *search_id;       /* not NUL-terminated */
    size_t       search_id_len;
    uint32_t     position;
} hk_record_t;


/*
 * Encodes rec into out, which holds at least HK_RECORD_MAX_SIZE bytes.
 * Returns the encoded length, or 0 if an id is longer than allowed.
 * Nothing is allocated.
 */
size_t hk_record_encode(const hk_record_t *rec, uint8_t *out);


#endif /* HK_RECORD_H */
