/*
 * Result and page records read straight from protobuf's wire format,
 * before protobuf-c is asked (ht_decode.c).
 *
 * Why: perf of hotel-trends reading page records into SQLite put
 * protobuf-c's unpack at 13 % of the consumer, and the walk that then
 * finds which strings hold a NUL (protobuf-c hands strings out
 * NUL-terminated, without their length) at 5 % more.  The messages are
 * small and fixed; this reading takes each field once, where it lies.
 *
 * It reads only what it is sure protobuf-c reads the same way, and
 * declines anything else before calling anything, for protobuf-c to
 * decide (and usually refuse):
 *
 *   - a field number of 1 to 15 (a one-byte key), with the wire type
 *     protobuf-c requires of a known field (varint for the numbers,
 *     length-delimited for the strings and the results) and any of the
 *     four it skips for an unknown one;
 *   - varints of at most 10 bytes and lengths of at most 5, every length
 *     within the value: protobuf-c's own limits;
 *   - the last occurrence of a field is its value, as protobuf-c keeps it;
 *     a varint is taken modulo 2^64, as protobuf-c takes it.
 *
 * A page is read whole before anything is handed over, so that nothing
 * is for a page that is then declined: every result checked, the page's
 * time found (wherever it lies) and the first HT_WIRE_KEPT results' values
 * kept; a longer page's further results are read again to be handed
 * over.
 * fuzz/fuzz_decode.c holds every outcome to protobuf-c's.
 */

#include <limits.h>
#include <string.h>

#include "ht_decode.h"
#include "ht_decode_check.h"


/* the wire types */
#define HT_WIRE_VARINT  0
#define HT_WIRE_64BIT   1
#define HT_WIRE_BYTES   2
#define HT_WIRE_32BIT   5

/* the results whose values a page's first reading keeps (on the stack) */
#define HT_WIRE_KEPT    64


typedef struct {
    const uint8_t  *p;
    const uint8_t  *end;
} ht_wire_t;


typedef struct {
    unsigned        number;
    unsigned        type;
    uint64_t        varint;
    const uint8_t  *bytes;
    size_t          len;
} ht_wire_field_t;


static inline int ht_wire_next(ht_wire_t *w, ht_wire_field_t *f);
static int ht_wire_result(const uint8_t *p, size_t len,
    ht_decode_values_t *v, int64_t *time_ms);
static int ht_wire_page(const uint8_t *p, size_t len, int64_t *time_ms,
    ht_decode_values_t *kept, size_t *nresults);


int
ht_decode_wire(const void *value, size_t len, int64_t now_ms,
    int64_t bucket_s, ht_record_t *rec)
{
    int64_t             time_ms;
    ht_decode_values_t  v;

    if (value == NULL || ht_wire_result(value, len, &v, &time_ms) != 0) {
        return HT_DECODE_DECLINED;
    }

    return ht_decode_check(&v, time_ms, now_ms, bucket_s, rec);
}


int
ht_decode_page_wire(const void *value, size_t len, int64_t now_ms,
    int64_t bucket_s, ht_decode_result_pt each, void *ctx)
{
    size_t              i, n;
    int64_t             time_ms, unused;
    ht_wire_t           w;
    ht_record_t         rec;
    ht_reject_e         reason;
    ht_wire_field_t     f;
    ht_decode_values_t  v, kept[HT_WIRE_KEPT];

    if (value == NULL || ht_wire_page(value, len, &time_ms, kept, &n) != 0) {
        return HT_DECODE_DECLINED;
    }

    /* every result was read: each one handed over, in order; the kept
     * ones without reading the page again */

    for (i = 0; i < n && i < HT_WIRE_KEPT; i++) {
        reason = ht_decode_check(&kept[i], time_ms, now_ms, bucket_s, &rec);

        if (each(ctx, reason, &rec) != 0) {
            return HT_DECODE_STOPPED;
        }
    }

    if (n <= HT_WIRE_KEPT) {
        return HT_REJECT_NONE;
    }

    w.p = value;
    w.end = w.p + len;
    i = 0;

    /* a results field is bytes (ht_wire_page() saw to it), which the
     * compiler cannot see: f.bytes is never read unset */
    memset(&f, 0, sizeof(ht_wire_field_t));

    while (ht_wire_next(&w, &f) == 1) {
        if (f.number != 3 || i++ < HT_WIRE_KEPT) {
            continue;
        }

        (void) ht_wire_result(f.bytes, f.len, &v, &unused);

        reason = ht_decode_check(&v, time_ms, now_ms, bucket_s, &rec);

        if (each(ctx, reason, &rec) != 0) {
            return HT_DECODE_STOPPED;
        }
    }

    return HT_REJECT_NONE;
}


/*
 * A SearchPage: 0 if every field and every result is read, its time, its
 * first HT_WIRE_KEPT results' values in kept, and in *n its number of
 * results.
 */

static int
ht_wire_page(const uint8_t *p, size_t len, int64_t *time_ms,
    ht_decode_values_t *kept, size_t *nresults)
{
    int                 rc;
    size_t              n;
    int64_t             unused;
    ht_wire_t           w;
    ht_wire_field_t     f;
    ht_decode_values_t  v;

    w.p = p;
    w.end = p + len;
    *time_ms = 0;
    n = 0;

    while ((rc = ht_wire_next(&w, &f)) == 1) {
        switch (f.number) {

        case 1:                                 /* search_id */
            if (f.type != HT_WIRE_BYTES) {
                return -1;
            }

            break;

        case 2:                                 /* search_time_ms */
            if (f.type != HT_WIRE_VARINT) {
                return -1;
            }

            *time_ms = (int64_t) f.varint;
            break;

        case 3:                                 /* results */
            if (f.type != HT_WIRE_BYTES
                || ht_wire_result(f.bytes, f.len,
                                  n < HT_WIRE_KEPT ? &kept[n] : &v, &unused)
                   != 0)
            {
                return -1;
            }

            n++;
            break;
        }
    }

    *nresults = n;

    return rc;
}


/* a HotelSearchResult: 0 if every field is read, its values and time */

static int
ht_wire_result(const uint8_t *p, size_t len, ht_decode_values_t *v,
    int64_t *time_ms)
{
    int              rc;
    ht_wire_t        w;
    ht_wire_field_t  f;

    memset(v, 0, sizeof(ht_decode_values_t));
    *time_ms = 0;

    w.p = p;
    w.end = p + len;

    while ((rc = ht_wire_next(&w, &f)) == 1) {
        switch (f.number) {

        case 1:                                 /* hotel_id */
            if (f.type != HT_WIRE_BYTES) {
                return -1;
            }

            v->hotel_id = (const char *) f.bytes;
            v->hotel_id_len = f.len;
            break;

        case 3:                                 /* currency */
            if (f.type != HT_WIRE_BYTES) {
                return -1;
            }

            v->currency = (const char *) f.bytes;
            v->currency_len = f.len;
            break;

        case 5:                                 /* search_id */
            if (f.type != HT_WIRE_BYTES) {
                return -1;
            }

            break;

        case 2:                                 /* rate_micros */
        case 4:                                 /* search_time_ms */
        case 6:                                 /* position */
            if (f.type != HT_WIRE_VARINT) {
                return -1;
            }

            if (f.number == 2) {
                v->rate_micros = (int64_t) f.varint;

            } else if (f.number == 4) {
                *time_ms = (int64_t) f.varint;
            }

            break;
        }
    }

    /*
     * hotel_id_nul and currency_nul stay 0, unlike protobuf-c's reading,
     * whose strings end at their first NUL and need them: here every
     * byte is checked, and the record's rules refuse a NUL anyway (a
     * control character in an id: bad_hotel_id; not a letter in a
     * currency: bad_currency), under the same reason as the flags would.
     * Looking for it cost two memchr() calls a result.
     */

    return rc == 0 ? 0 : -1;
}


/*
 * The next field: 1, 0 at the end, -1 for what this reading leaves to
 * protobuf-c (see above).  Inlined: callgrind of the consumer over page
 * records put this function, called some six times a result, at 15 % of
 * the process, about 70 instructions a field, its field written out to
 * memory and read back by each caller.
 */

static inline int
ht_wire_next(ht_wire_t *w, ht_wire_field_t *f)
{
    unsigned        b, shift;
    uint64_t        n;
    const uint8_t  *p, *stop;

    p = w->p;

    if (p == w->end) {
        return 0;
    }

    b = *p++;

    /* a longer key (a field number over 15), or field number 0 */

    if ((b & 0x80) || (b >> 3) == 0) {
        return -1;
    }

    f->number = b >> 3;
    f->type = b & 7;

    switch (f->type) {

    case HT_WIRE_VARINT:
    case HT_WIRE_BYTES:

        /* protobuf-c's limits: 10 bytes of a varint, 5 of a length */

        n = (f->type == HT_WIRE_VARINT) ? 10 : 5;
        stop = ((uint64_t) (w->end - p) < n) ? w->end : p + n;

        n = 0;
        shift = 0;

        do {
            if (p == stop) {
                return -1;
            }

            b = *p++;
            n |= (uint64_t) (b & 0x7f) << shift;
            shift += 7;

        } while (b & 0x80);

        if (f->type == HT_WIRE_VARINT) {
            f->varint = n;
            w->p = p;
            return 1;
        }

        if (n > INT_MAX || n > (uint64_t) (w->end - p)) {
            return -1;
        }

        f->bytes = p;
        f->len = (size_t) n;
        w->p = p + n;

        return 1;

    case HT_WIRE_64BIT:
    case HT_WIRE_32BIT:
        n = (f->type == HT_WIRE_64BIT) ? 8 : 4;

        if ((uint64_t) (w->end - p) < n) {
            return -1;
        }

        /* skipped, as protobuf-c skips them: no value, but a defined one
         * for the compiler, which cannot see that no caller reads it */
        f->varint = 0;
        f->bytes = NULL;
        f->len = 0;
        w->p = p + n;

        return 1;

    default:
        return -1;
    }
}
