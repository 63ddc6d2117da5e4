/*
 * What both ways of reading a page share, inside src/extract: the rules
 * compiled from a configuration (the paths split into components), and
 * the one place that turns a field's JSON value into its state and a
 * closed result into a record or a skip.  hk_extract.c (yajl, streaming)
 * and hk_extract_fast.cpp (simdjson, a whole document) differ only in how
 * they walk the JSON; what a value means is decided here, once.
 *
 * Not part of the extractor's interface (hk_extract.h).
 */

#ifndef HK_EXTRACT_RULES_H
#define HK_EXTRACT_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "hk_extract.h"

#ifdef __cplusplus
extern "C" {
#endif


/* the fields of one result, also bit numbers in the masks */
enum {
    HK_FIELD_ID = 0,
    HK_FIELD_RATE,
    HK_FIELD_CURRENCY,
    HK_NFIELDS
};

#define HK_FIELDS_ALL  ((1u << HK_NFIELDS) - 1)


/* the state of one field of the current result */
enum {
    HK_VALUE_ABSENT = 0,
    HK_VALUE_OK,
    HK_VALUE_BAD,
    HK_VALUE_NEGATIVE
};


/* what a JSON value is */
typedef enum {
    HK_JSON_NULL,
    HK_JSON_BOOL,
    HK_JSON_NUMBER,
    HK_JSON_STRING,
    HK_JSON_MAP,
    HK_JSON_ARRAY
} hk_json_type_t;


typedef struct {
    const char  *name;
    size_t       len;
} hk_extract_comp_t;


typedef struct {
    hk_extract_comp_t  comp[HK_EXTRACT_MAX_PATH];
    size_t             ncomps;
} hk_extract_path_t;


/*
 * A name the field paths have at one level below a result object, once
 * however many paths share it (price.amount, price.currency): a reader
 * compares a key with each name of its level once, not with each path.
 */
typedef struct {
    const char  *name;
    size_t       len;
    uint64_t     head;       /* its first 8 bytes, little-endian, 0-padded */
    uint64_t     mask;       /* the bits of a word that head holds */
    unsigned     fields;     /* the fields whose path has it here */
    unsigned     leaves;     /* those of them whose path ends here */
    unsigned     plain;      /* no quote, no backslash: its JSON is itself */
} hk_extract_name_t;


typedef struct {
    hk_extract_name_t   name[HK_NFIELDS];
    size_t              nnames;
} hk_extract_level_t;


struct hk_extract_rules_s {
    hk_extract_path_t   results_path;
    hk_extract_path_t   fields[HK_NFIELDS];
    hk_extract_level_t  levels[HK_EXTRACT_MAX_PATH];
    char                default_currency[HK_RECORD_CURRENCY_LEN + 1];
    size_t              max_depth;
    size_t              max_token;
    char               *names;             /* the copied paths */
};


/* the fields of the result being read */
typedef struct {
    int                 value[HK_NFIELDS];
    const char         *id;                /* valid while the value is */
    size_t              id_len;
    int64_t             rate;
    char                currency[HK_RECORD_CURRENCY_LEN + 1];
} hk_extract_fields_t;


/*
 * The state of one field from its JSON value: s[0..len) is a string's
 * decoded text or a number's text, NULL for other types.  Sets
 * f->value[field] and, when it is usable, the value itself (the id as a
 * pointer to s).
 */
void hk_extract_field_set(hk_extract_fields_t *f, int field,
    hk_json_type_t type, const char *s, size_t len);

/*
 * The same for a string known to be UTF-8 without a character below
 * 0x20, or a number (hk_record_id_valid_text()): the fast reading's, of
 * a page whose stage 1 checked both.
 */
void hk_extract_field_set_text(hk_extract_fields_t *f, int field,
    hk_json_type_t type, const char *s, size_t len);

/*
 * A result object closed: calls h->result with what it holds, or
 * h->skip with the first reason it cannot be a record (id, rate,
 * currency, in that order).
 */
void hk_extract_field_end(const hk_extract_rules_t *rules,
    const hk_extract_fields_t *f, uint32_t position,
    const hk_extract_handlers_t *h, void *data);


/*
 * The simdjson reading of a whole document, the first try of
 * hk_extract_document(): 1 if it read buf[0..len) (followed by
 * HK_EXTRACT_PADDING readable bytes) and called the handlers, exactly as
 * the streaming extractor would have; 0 if it called none because the
 * document is not one it is sure to read the same way (malformed, too
 * deep, without a results array, strings it does not decode as yajl
 * does...), for the streaming extractor to read.
 */
int hk_extract_fast(const hk_extract_rules_t *rules,
    const hk_extract_handlers_t *h, void *data, const unsigned char *buf,
    size_t len);


#ifdef __cplusplus
}
#endif

#endif /* HK_EXTRACT_RULES_H */
