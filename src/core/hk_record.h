/*
 * One hotel search result as a Kafka record value: the protobuf message
 * hotelsearch.v1.HotelSearchResult (proto/hotel_search_result.proto),
 * encoded as protobuf-c encodes it.
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

/*
 * The rules of a record's fields, in one place for whoever writes or
 * reads one: the module's page extractor and its log directive check a
 * value with them before it becomes a record, and hotel-trends checks
 * every record it reads with the same functions, so that what one side
 * accepts the other never refuses.
 *
 *   hotel id   1 to HK_RECORD_MAX_ID bytes of UTF-8 (hk_utf8.h) without
 *              control characters
 *   rate       more than zero micros (hk_decimal.h converts the text)
 *   currency   three ASCII letters; lower case is accepted and recorded
 *              upper case (ISO 4217 codes are upper case, pages and
 *              headers are not always)
 *
 * The longest hotel id and search id also bound a record's size.
 */
#define HK_RECORD_MAX_ID          128
#define HK_RECORD_MAX_SEARCH_ID   64
#define HK_RECORD_CURRENCY_LEN    3

/*
 * Enough for any record within the limits above: the two strings, a
 * currency code, four varints and their tags and lengths.
 */
#define HK_RECORD_MAX_SIZE                                                   \
    (HK_RECORD_MAX_ID + HK_RECORD_MAX_SEARCH_ID + 3 + 6 * 12)


/* why a result gives no record; also the status page's "skipped" keys */
typedef enum {
    HK_SKIP_NO_ID,
    HK_SKIP_BAD_ID,
    HK_SKIP_NO_RATE,
    HK_SKIP_BAD_RATE,               /* not a number, NaN, overflow, more */
                                    /* than 6 decimals, wrong type */
    HK_SKIP_NEGATIVE_RATE,          /* <= 0 */
    HK_SKIP_NO_CURRENCY,
    HK_SKIP_BAD_CURRENCY,
    HK_SKIP_NOT_OBJECT,             /* a page's result is not an object */
    HK_SKIP_NREASONS
} hk_skip_reason_t;


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


/* "no_id", "bad_id", ..., "not_object": stable, usable as metric labels */
const char *hk_skip_reason_name(hk_skip_reason_t reason);

/* 1 if id[0..len) may be a hotel id, else 0 */
int hk_record_id_valid(const char *id, size_t len);

/*
 * The same verdict for text known to be UTF-8 without a character below
 * 0x20 (a string of a page simdjson's stage 1 has checked, or a number's
 * digits): only its length and DEL are left to look at.  The fast
 * reading's; fuzz/fuzz_document.c holds it to hk_record_id_valid(), which
 * the streaming reading's ids go through.
 */
int hk_record_id_valid_text(const char *id, size_t len);

/*
 * 0 if s[0..len) is a currency: its code, upper case and NUL-terminated,
 * is then in out (HK_RECORD_CURRENCY_LEN + 1 bytes).  -1 if it is not.
 */
int hk_record_currency(const char *s, size_t len, char *out);

/* 1 if micros may be a nightly rate, else 0 */
#define hk_record_rate_valid(micros)  ((micros) > 0)

/*
 * Encodes rec into out, which holds at least HK_RECORD_MAX_SIZE bytes,
 * as protobuf-c packs the message.  Returns the encoded length, or 0 if
 * an id is longer than allowed.  Nothing is allocated.  The currency is
 * read up to its NUL or its third letter.
 */
size_t hk_record_encode(const hk_record_t *rec, uint8_t *out);

/* the length hk_record_encode() gives rec, its ids' limits aside */
size_t hk_record_size(const hk_record_t *rec);


#endif /* HK_RECORD_H */
