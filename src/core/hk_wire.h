/*
 * Protobuf's wire format, the writing side, for the two messages the
 * module writes by hand (hk_record.c, hk_page.c): a field is a tag byte,
 * then a varint, or a length and that many bytes.  Every field number of
 * proto/hotel_search_result.proto is below 16, so each tag is one byte.
 *
 * Writers of a message write its fields in field-number order and leave
 * out a field that holds its default (0, empty), as protobuf-c packs a
 * proto3 message: fuzz/fuzz_page.c holds both writers to protobuf-c's
 * bytes.
 */

#ifndef HK_WIRE_H
#define HK_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>


/* field number << 3 | wire type: 0 a varint, 2 a length and bytes */
#define hk_wire_tag(field, type)  ((uint8_t) ((field) << 3 | (type)))

#define HK_WIRE_VARINT  0
#define HK_WIRE_BYTES   2


static inline size_t
hk_wire_varint_len(uint64_t v)
{
    size_t  n;

    for (n = 1; v >= 0x80; v >>= 7) {
        n++;
    }

    return n;
}


static inline uint8_t *
hk_wire_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t) (v | 0x80);
        v >>= 7;
    }

    *p++ = (uint8_t) v;

    return p;
}


/* a field's size on the wire: its tag, then a varint or bytes */

static inline size_t
hk_wire_varint_size(uint64_t v)
{
    return 1 + hk_wire_varint_len(v);
}


static inline size_t
hk_wire_bytes_size(size_t len)
{
    return 1 + hk_wire_varint_len(len) + len;
}


static inline uint8_t *
hk_wire_varint_field(uint8_t *p, uint8_t tag, uint64_t v)
{
    *p++ = tag;

    return hk_wire_varint(p, v);
}


static inline uint8_t *
hk_wire_bytes_field(uint8_t *p, uint8_t tag, const void *s, size_t len)
{
    *p++ = tag;
    p = hk_wire_varint(p, len);
    memcpy(p, s, len);

    return p + len;
}


#endif /* HK_WIRE_H */
