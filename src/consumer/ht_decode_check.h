/*
 * Inside the decoding (ht_decode.c, ht_decode_wire.c): a result's values
 * as either reading found them, the one check of the record's rules both
 * apply, and the faster reading's entry points.  Not part of the
 * consumer's interface (ht_decode.h).
 */

#ifndef HT_DECODE_CHECK_H
#define HT_DECODE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "ht_decode.h"


typedef struct {
    const char  *hotel_id;         /* hotel_id_len bytes, no NUL needed */
    size_t       hotel_id_len;
    int          hotel_id_nul;     /* the id holds a NUL byte: set by */
                                   /* protobuf-c's reading only (see */
                                   /* ht_wire_result()) */
    int64_t      rate_micros;
    const char  *currency;
    size_t       currency_len;
    int          currency_nul;
} ht_decode_values_t;


/* ht_decode_wire(), ht_decode_page_wire(): not a value it reads itself */
#define HT_DECODE_DECLINED  -2


/*
 * The values checked by the record's rules (hk_record.h), at time_ms:
 * HT_REJECT_NONE and rec filled, or the first reason they are not a
 * record.
 */
ht_reject_e ht_decode_check(const ht_decode_values_t *v, int64_t time_ms,
    int64_t now_ms, int64_t bucket_s, ht_record_t *rec);

/*
 * ht_decode() and ht_decode_page() reading the wire format themselves,
 * or HT_DECODE_DECLINED, having called nothing, for any value they are
 * not sure to read exactly as protobuf-c does (see ht_decode_wire.c).
 */
int ht_decode_wire(const void *value, size_t len, int64_t now_ms,
    int64_t bucket_s, ht_record_t *rec);
int ht_decode_page_wire(const void *value, size_t len, int64_t now_ms,
    int64_t bucket_s, ht_decode_result_pt each, void *ctx);


#endif /* HT_DECODE_CHECK_H */
