/*
 * Decoding and validating one HotelSearchResult with the protobuf-c code
 * generated from proto/hotel_search_result.proto.
 *
 * Validation is stricter than protobuf itself for the fields we key on:
 * a hotel id that is not UTF-8 would make PostgreSQL refuse the whole
 * transaction again and again, stalling the partition, so it is refused
 * here, once, and counted.
 */

#include <string.h>

#include "hotel_search_result.pb-c.h"
#include "hk_utf8.h"
#include "ht_decode.h"


static const char  *ht_reject_names[HT_REJECT_MAX] = {
    "none",
    "undecodable",
    "unknown_schema",
    "missing_hotel_id",
    "bad_hotel_id",
    "bad_rate",
    "bad_currency",
    "bad_time",
    "sum_overflow",
    "offset_gap",
};


/* the string fields whose text we key on */
#define HT_FIELD_HOTEL_ID  1
#define HT_FIELD_CURRENCY  3


static ht_reject_e ht_decode_check(const Hotelsearch__V1__HotelSearchResult *m,
    unsigned nul_fields, int64_t now_ms, int64_t bucket_s, ht_record_t *rec);
static unsigned ht_decode_nul_fields(const uint8_t *p, size_t len);
static int ht_decode_varint(const uint8_t *p, size_t len, size_t *i,
    uint64_t *v);


const char *
ht_reject_name(ht_reject_e reason)
{
    if ((unsigned) reason >= HT_REJECT_MAX) {
        return "unknown";
    }

    return ht_reject_names[reason];
}


ht_reject_e
ht_decode(const void *value, size_t len, int64_t now_ms, int64_t bucket_s,
    ht_record_t *rec)
{
    ht_reject_e                          rc;
    Hotelsearch__V1__HotelSearchResult  *m;

    if (value == NULL) {
        /* a tombstone or an empty value: proto3 would read it as all
         * defaults, which the checks below refuse anyway */
        value = "";
        len = 0;
    }

    m = hotelsearch__v1__hotel_search_result__unpack(NULL, len, value);
    if (m == NULL) {
        return HT_REJECT_UNDECODABLE;
    }

    rc = ht_decode_check(m, ht_decode_nul_fields(value, len), now_ms,
                         bucket_s, rec);

    hotelsearch__v1__hotel_search_result__free_unpacked(m, NULL);

    return rc;
}


/*
 * nul_fields: bit n set when string field n holds a NUL byte.  protobuf-c
 * hands strings out NUL-terminated without their length, so "h1\0x"
 * would otherwise be read as "h1" and added to another hotel's (or
 * currency's) aggregates.
 */
static ht_reject_e
ht_decode_check(const Hotelsearch__V1__HotelSearchResult *m,
    unsigned nul_fields, int64_t now_ms, int64_t bucket_s, ht_record_t *rec)
{
    size_t       len;
    int64_t      secs;
    const char  *c;

    if (nul_fields & (1u << HT_FIELD_HOTEL_ID)) {
        return HT_REJECT_BAD_HOTEL_ID;
    }

    len = (m->hotel_id != NULL) ? strlen(m->hotel_id) : 0;

    if (len == 0) {
        return HT_REJECT_MISSING_HOTEL_ID;
    }

    if (len > HT_HOTEL_ID_MAX || !hk_utf8_valid((const unsigned char *) m->hotel_id, len)) {
        return HT_REJECT_BAD_HOTEL_ID;
    }

    if (m->rate_micros <= 0) {
        return HT_REJECT_BAD_RATE;
    }

    c = m->currency;

    if (c == NULL || (nul_fields & (1u << HT_FIELD_CURRENCY))
        || strlen(c) != 3
        || c[0] < 'A' || c[0] > 'Z'
        || c[1] < 'A' || c[1] > 'Z'
        || c[2] < 'A' || c[2] > 'Z')
    {
        return HT_REJECT_BAD_CURRENCY;
    }

    if (m->search_time_ms < HT_MIN_TIME_MS
        || m->search_time_ms > now_ms + HT_MAX_FUTURE_MS)
    {
        return HT_REJECT_BAD_TIME;
    }

    memcpy(rec->hotel_id, m->hotel_id, len + 1);
    memcpy(rec->currency, c, 4);
    rec->rate_micros = m->rate_micros;

    /* search_time_ms >= HT_MIN_TIME_MS: positive, so % rounds down */
    secs = m->search_time_ms / 1000;
    rec->bucket_start = secs - secs % bucket_s;

    return HT_REJECT_NONE;
}


/*
 * Walks the wire format of a value that protobuf-c has already unpacked
 * (so it is well formed; the walk still checks every bound) and returns
 * the fields of HT_FIELD_* whose last occurrence, the one protobuf-c
 * keeps, contains a NUL byte.
 */
static unsigned
ht_decode_nul_fields(const uint8_t *p, size_t len)
{
    size_t    i;
    uint64_t  key, n, field;
    unsigned  nul;

    nul = 0;

    for (i = 0; i < len; /* void */) {
        if (ht_decode_varint(p, len, &i, &key) != 0) {
            return nul;
        }

        switch (key & 7) {

        case 0:
            if (ht_decode_varint(p, len, &i, &n) != 0) {
                return nul;
            }

            break;

        case 1:
            i += 8;
            break;

        case 5:
            i += 4;
            break;

        case 2:
            if (ht_decode_varint(p, len, &i, &n) != 0 || n > len - i) {
                return nul;
            }

            field = key >> 3;

            if (field == HT_FIELD_HOTEL_ID || field == HT_FIELD_CURRENCY) {
                if (memchr(p + i, '\0', n) != NULL) {
                    nul |= 1u << field;

                } else {
                    nul &= ~(1u << field);
                }
            }

            i += n;
            break;

        default:
            /* groups: protobuf-c refuses them before we get here */
            return nul;
        }
    }

    return nul;
}


static int
ht_decode_varint(const uint8_t *p, size_t len, size_t *i, uint64_t *v)
{
    int  shift;

    *v = 0;

    for (shift = 0; shift < 64 && *i < len; shift += 7) {
        *v |= (uint64_t) (p[*i] & 0x7f) << shift;

        if ((p[(*i)++] & 0x80) == 0) {
            return 0;
        }
    }

    return -1;
}
