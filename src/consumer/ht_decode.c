/*
 * Decoding and validating one HotelSearchResult, or one SearchPage and
 * each of its results: first by ht_decode_wire.c, which reads the wire
 * format itself, then, for whatever it declines, with the protobuf-c code
 * generated from proto/hotel_search_result.proto, the reference
 * (fuzz/fuzz_decode.c holds the first to the second).
 *
 * Validation is stricter than protobuf itself for the fields we key on:
 * a hotel id that is not UTF-8 would make PostgreSQL refuse the whole
 * transaction again and again, stalling the partition, so it is rejected
 * here, once.
 */

#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "hotel_search_result.pb-c.h"
#include "hk_record.h"
#include "ht_decode.h"
#include "ht_decode_check.h"


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


/*
 * protobuf-c allocates the message and each string separately: at a few
 * hundred thousand records a second, malloc() and free() were a fifth of
 * the consumer's time.  A record is unpacked into a buffer on the stack
 * instead; only what does not fit (a hostile or a very long value) goes
 * to malloc(), and only that is freed.
 */
#define HT_DECODE_ARENA  2048

/*
 * A page of 20 results unpacks into about 3 KiB (the results, their
 * strings, the array of pointers); 32 KiB holds some 200 of them before
 * anything spills.
 */
#define HT_DECODE_PAGE_ARENA  32768

/*
 * Under AddressSanitizer (make SANITIZE=1, the fuzzer) the free part of
 * the arena is poisoned and blocks are kept apart by a red zone, so that
 * a read or write past a block is still reported as it was with malloc().
 */
#if defined(__SANITIZE_ADDRESS__)
#define HT_DECODE_ASAN  1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HT_DECODE_ASAN  1
#endif
#endif

#ifdef HT_DECODE_ASAN
#include <sanitizer/asan_interface.h>
#define HT_DECODE_REDZONE        16
#define ht_decode_poison(p, n)   ASAN_POISON_MEMORY_REGION(p, n)
#define ht_decode_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define HT_DECODE_REDZONE        0
#define ht_decode_poison(p, n)
#define ht_decode_unpoison(p, n)
#endif

typedef struct {
    size_t              used;
    size_t              size;
    int                 spilled;    /* something went to malloc() */
    unsigned char      *buf;        /* the caller's, aligned for any type */
    ProtobufCAllocator  allocator;  /* protobuf-c's way to it */
} ht_decode_arena_t;


/* the string fields of a result whose text we key on */
#define HT_FIELD_HOTEL_ID  1
#define HT_FIELD_CURRENCY  3

/* a SearchPage's results */
#define HT_FIELD_RESULTS   3


static ProtobufCMessage *ht_decode_unpack(
    const ProtobufCMessageDescriptor *d, const void *value, size_t len,
    ht_decode_arena_t *a, unsigned char *buf, size_t size);
static void ht_decode_release(ht_decode_arena_t *a, ProtobufCMessage *m);
static void ht_decode_values(const Hotelsearch__V1__HotelSearchResult *m,
    unsigned nul_fields, ht_decode_values_t *v);
static unsigned ht_decode_nul_fields(const uint8_t *p, size_t len);
static int ht_decode_next_field(const uint8_t *p, size_t len, size_t *i,
    uint64_t field, const uint8_t **value, size_t *value_len);
static int ht_decode_next_bytes(const uint8_t *p, size_t len, size_t *i,
    uint64_t *field, const uint8_t **value, size_t *value_len);
static int ht_decode_varint(const uint8_t *p, size_t len, size_t *i,
    uint64_t *v);
static void *ht_decode_alloc(void *data, size_t size);
static void ht_decode_free(void *data, void *p);


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
    int  rc;

    rc = ht_decode_wire(value, len, now_ms, bucket_s, rec);

    if (rc != HT_DECODE_DECLINED) {
        return (ht_reject_e) rc;
    }

    return ht_decode_protobuf_c(value, len, now_ms, bucket_s, rec);
}


int
ht_decode_page(const void *value, size_t len, int64_t now_ms,
    int64_t bucket_s, ht_decode_result_pt each, void *ctx)
{
    int  rc;

    rc = ht_decode_page_wire(value, len, now_ms, bucket_s, each, ctx);

    if (rc != HT_DECODE_DECLINED) {
        return rc;
    }

    return ht_decode_page_protobuf_c(value, len, now_ms, bucket_s, each, ctx);
}


ht_reject_e
ht_decode_protobuf_c(const void *value, size_t len, int64_t now_ms,
    int64_t bucket_s, ht_record_t *rec)
{
    ht_reject_e                          rc;
    ht_decode_values_t                   v;
    ht_decode_arena_t                    arena;
    Hotelsearch__V1__HotelSearchResult  *m;
    alignas(max_align_t) unsigned char   buf[HT_DECODE_ARENA];

    m = (Hotelsearch__V1__HotelSearchResult *)
        ht_decode_unpack(&hotelsearch__v1__hotel_search_result__descriptor,
                         value, len, &arena, buf, sizeof(buf));

    if (m == NULL) {
        return HT_REJECT_UNDECODABLE;
    }

    ht_decode_values(m, ht_decode_nul_fields(value, len), &v);
    rc = ht_decode_check(&v, m->search_time_ms, now_ms, bucket_s, rec);

    ht_decode_release(&arena, &m->base);

    return rc;
}


int
ht_decode_page_protobuf_c(const void *value, size_t len, int64_t now_ms,
    int64_t bucket_s, ht_decode_result_pt each, void *ctx)
{
    int                           rc;
    size_t                        i, at, sub_len;
    ht_record_t                   rec;
    ht_reject_e                   reason;
    ht_decode_values_t            v;
    const uint8_t                *sub;
    ht_decode_arena_t             arena;
    Hotelsearch__V1__SearchPage  *m;
    alignas(max_align_t) unsigned char  buf[HT_DECODE_PAGE_ARENA];

    m = (Hotelsearch__V1__SearchPage *)
        ht_decode_unpack(&hotelsearch__v1__search_page__descriptor, value,
                         len, &arena, buf, sizeof(buf));

    if (m == NULL) {
        return HT_REJECT_UNDECODABLE;
    }

    rc = HT_REJECT_NONE;
    at = 0;

    for (i = 0; i < m->n_results; i++) {

        /*
         * protobuf-c keeps the results in the order of their fields on
         * the wire: the i-th results field is m->results[i], and its own
         * bytes say which of its strings hold a NUL
         */

        if (ht_decode_next_field(value, len, &at, HT_FIELD_RESULTS, &sub,
                                 &sub_len)
            != 0)
        {
            /* cannot happen once protobuf-c took the value */
            sub = NULL;
            sub_len = 0;
        }

        /* the results' time is the page's (the schema leaves theirs
         * unset) */

        ht_decode_values(m->results[i], ht_decode_nul_fields(sub, sub_len),
                         &v);
        reason = ht_decode_check(&v, m->search_time_ms, now_ms, bucket_s,
                                 &rec);

        if (each(ctx, reason, &rec) != 0) {
            rc = HT_DECODE_STOPPED;
            break;
        }
    }

    ht_decode_release(&arena, &m->base);

    return rc;
}


/*
 * value unpacked as a message of descriptor d into the arena on the
 * caller's stack (buf, size bytes); NULL when it is not one, with
 * nothing left to release.  A NULL value (a tombstone) is an empty one:
 * proto3 reads it as all defaults, which the checks reject anyway.
 */
static ProtobufCMessage *
ht_decode_unpack(const ProtobufCMessageDescriptor *d, const void *value,
    size_t len, ht_decode_arena_t *a, unsigned char *buf, size_t size)
{
    ProtobufCMessage  *m;

    if (value == NULL) {
        value = "";
        len = 0;
    }

    a->used = 0;
    a->size = size;
    a->spilled = 0;
    a->buf = buf;
    a->allocator.alloc = ht_decode_alloc;
    a->allocator.free = ht_decode_free;
    a->allocator.allocator_data = a;

    ht_decode_poison(buf, size);

    m = protobuf_c_message_unpack(d, &a->allocator, len, value);

    if (m == NULL) {
        /* protobuf-c has freed what it allocated */
        ht_decode_unpoison(buf, size);
    }

    return m;
}


/* m done with: the blocks that spilled to malloc() freed (ht_decode_free()
 * skips the arena's), the arena's stack open to the next call of any
 * function */
static void
ht_decode_release(ht_decode_arena_t *a, ProtobufCMessage *m)
{
    if (a->spilled) {
        protobuf_c_message_free_unpacked(m, &a->allocator);
    }

    ht_decode_unpoison(a->buf, a->size);
}


/*
 * The values of a result as protobuf-c unpacked them.  nul_fields: bit n
 * set when string field n holds a NUL byte: protobuf-c hands strings out
 * NUL-terminated without their length, so "h1\0x" would otherwise be read
 * as "h1" and added to another hotel's (or currency's) aggregates.
 */
static void
ht_decode_values(const Hotelsearch__V1__HotelSearchResult *m,
    unsigned nul_fields, ht_decode_values_t *v)
{
    v->hotel_id = m->hotel_id;
    v->hotel_id_len = (m->hotel_id != NULL) ? strlen(m->hotel_id) : 0;
    v->hotel_id_nul = (nul_fields & (1u << HT_FIELD_HOTEL_ID)) != 0;
    v->rate_micros = m->rate_micros;
    v->currency = m->currency;
    v->currency_len = (m->currency != NULL) ? strlen(m->currency) : 0;
    v->currency_nul = (nul_fields & (1u << HT_FIELD_CURRENCY)) != 0;
}


/* the record's own rules (hk_record.h), as the module applies them */

ht_reject_e
ht_decode_check(const ht_decode_values_t *v, int64_t time_ms,
    int64_t now_ms, int64_t bucket_s, ht_record_t *rec)
{
    int64_t  secs;

    if (v->hotel_id_nul) {
        return HT_REJECT_BAD_HOTEL_ID;
    }

    if (v->hotel_id_len == 0) {
        return HT_REJECT_MISSING_HOTEL_ID;
    }

    if (!hk_record_id_valid(v->hotel_id, v->hotel_id_len)) {
        return HT_REJECT_BAD_HOTEL_ID;
    }

    if (!hk_record_rate_valid(v->rate_micros)) {
        return HT_REJECT_BAD_RATE;
    }

    if (v->currency_nul
        || hk_record_currency(v->currency, v->currency_len, rec->currency)
           != 0)
    {
        return HT_REJECT_BAD_CURRENCY;
    }

    if (time_ms < HT_MIN_TIME_MS || time_ms > now_ms + HT_MAX_FUTURE_MS) {
        return HT_REJECT_BAD_TIME;
    }

    memcpy(rec->hotel_id, v->hotel_id, v->hotel_id_len);
    rec->hotel_id[v->hotel_id_len] = '\0';
    rec->rate_micros = v->rate_micros;

    /* time_ms >= HT_MIN_TIME_MS: positive, so % rounds down */
    secs = time_ms / 1000;
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
    size_t          i, n;
    uint64_t        field;
    unsigned        nul;
    const uint8_t  *v;

    nul = 0;
    i = 0;

    while (ht_decode_next_bytes(p, len, &i, &field, &v, &n) == 0) {
        if (field != HT_FIELD_HOTEL_ID && field != HT_FIELD_CURRENCY) {
            continue;
        }

        if (memchr(v, '\0', n) != NULL) {
            nul |= 1u << field;

        } else {
            nul &= ~(1u << field);
        }
    }

    return nul;
}


/*
 * The next length-delimited field numbered field from *i on, in *value
 * and *value_len, *i past it; -1 when there is none.
 */
static int
ht_decode_next_field(const uint8_t *p, size_t len, size_t *i, uint64_t field,
    const uint8_t **value, size_t *value_len)
{
    uint64_t  f;

    while (ht_decode_next_bytes(p, len, i, &f, value, value_len) == 0) {
        if (f == field) {
            return 0;
        }
    }

    return -1;
}


/*
 * The wire format walked from *i to the next length-delimited field (the
 * strings and messages), skipping numbers: its number in *field, its
 * bytes in *value and *value_len, *i past it.  -1 at the end, or where
 * the wire is broken (every bound is checked, though protobuf-c has
 * taken the value before we walk it); groups, which protobuf-c refuses,
 * end the walk too.
 */
static int
ht_decode_next_bytes(const uint8_t *p, size_t len, size_t *i,
    uint64_t *field, const uint8_t **value, size_t *value_len)
{
    uint64_t  key, n;

    while (*i < len) {
        if (ht_decode_varint(p, len, i, &key) != 0) {
            return -1;
        }

        switch (key & 7) {

        case 0:
            if (ht_decode_varint(p, len, i, &n) != 0) {
                return -1;
            }

            break;

        case 1:
            *i += 8;
            break;

        case 5:
            *i += 4;
            break;

        case 2:
            if (ht_decode_varint(p, len, i, &n) != 0 || n > len - *i) {
                return -1;
            }

            *field = key >> 3;
            *value = p + *i;
            *value_len = n;
            *i += n;

            return 0;

        default:
            return -1;
        }
    }

    return -1;
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


static void *
ht_decode_alloc(void *data, size_t size)
{
    void               *p;
    size_t              n;
    ht_decode_arena_t  *a = data;

    n = (size + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);

    if (n >= size && n <= a->size - a->used) {
        p = a->buf + a->used;
        ht_decode_unpoison(p, size);

        a->used += n + HT_DECODE_REDZONE;

        if (a->used > a->size) {
            a->used = a->size;
        }

        return p;
    }

    a->spilled = 1;

    return malloc(size);
}


static void
ht_decode_free(void *data, void *p)
{
    uintptr_t           u;
    ht_decode_arena_t  *a = data;

    u = (uintptr_t) p;

    /* a block of the arena goes with the arena */
    if (u >= (uintptr_t) a->buf && u < (uintptr_t) a->buf + a->size) {
        return;
    }

    free(p);
}
