/*
 * Streaming extraction of hotel results from a JSON search result page.
 *
 * The nginx body filter sees the page in chunks of any size, as they pass
 * through to the client.  An extractor is fed those chunks as they come
 * and calls back once per element of the results array, as soon as that
 * element closes: result() with the hotel id, the exact rate in micros and
 * the currency, or skip() with the reason the element was unusable.  The
 * page is never buffered, and memory stays bounded whatever the document
 * (limits on nesting depth and token length, see below), so a hostile or
 * broken backend cannot make a worker grow.
 *
 * The JSON is parsed and validated by yajl 2: no comments, exactly one
 * top-level value.  Every string and key must moreover be valid UTF-8
 * after unescaping, checked strictly here (yajl lets overlong forms and
 * surrogates through): no overlong forms, no UTF-16 surrogates, nothing
 * above U+10FFFF.  Numbers are never converted by yajl, so a huge one
 * elsewhere in the page is no error.
 *
 * Where the fields are found
 *
 *   results_path is a dotted path of object keys from the document root
 *   to the results array ("results", "data.hotels"); "" means the root is
 *   the array.  The fields are dotted paths inside one result
 *   ("rate", "price.amount").  Only object keys are followed: a key of the
 *   same name anywhere else (the page's metadata, a nested "location",
 *   an "amenities" array) is not a match.  A key that contains a dot
 *   cannot be named.  Only the first array found at results_path is
 *   extracted; a later duplicate is parsed but ignored.
 *
 * Rules for one result (a JSON object), beside the record's own rules
 * (hk_record.h), which decide what a valid value is
 *
 *   hotel id  a string, or an integer number (its text, e.g. "12345");
 *             another type or an invalid id is HK_SKIP_BAD_ID.
 *   rate      a number, or a string holding one, converted exactly by
 *             hk_decimal_to_micros(); not convertible: HK_SKIP_BAD_RATE;
 *             zero or negative: HK_SKIP_NEGATIVE_RATE.
 *   currency  a string; not a currency: HK_SKIP_BAD_CURRENCY.  When
 *             absent, default_currency is used, or the result is skipped
 *             with HK_SKIP_NO_CURRENCY if there is none.
 *
 *   A field whose value is null, or whose dotted path is interrupted by
 *   a non-object ("price": 12 when the path is "price.amount"), is absent.
 *
 *   Duplicate keys: the last one wins, as with JavaScript's JSON.parse(),
 *   which is what the page's own client most likely shows: {"rate": 1,
 *   "rate": 2} has rate 2, {"rate": 1, "rate": "x"} is HK_SKIP_BAD_RATE,
 *   and {"price": {"amount": 1}, "price": {}} has no rate.
 *
 *   When several things are wrong, one reason is reported, the first of:
 *   not an object, id, rate, currency.  A non-object element is skipped
 *   when it starts; every element, used or skipped, takes one position.
 *
 * Errors
 *
 *   Any error stops extraction for good: the return code is sticky, further
 *   feeds and finish() return it at once without parsing.  Results
 *   already reported stay reported (they were on the page).  The rest of
 *   the document after the results array is still parsed, so a syntax
 *   error there is still an error to count, even though every
 *   result has been delivered.
 *
 * Memory
 *
 *   Everything comes from malloc()/free() through a counting wrapper;
 *   nothing is allocated after hk_extract_create() except by yajl, whose
 *   buffers are bounded by max_token and max_depth.  Measured peaks with
 *   the defaults: about 6 KiB for a search page, 4 KiB for 100 MB of
 *   small results, 130 KiB when a giant token is cut off, 195 KiB for a
 *   64 KiB string that needs unescaping; the bound is about 4 * max_token
 *   plus a few KiB (yajl's token buffer and its decoded copy, each of
 *   which may grow to twice what it holds).
 *
 * Threads: an extractor belongs to one thread; distinct extractors are
 * independent.  Handlers must not call feed, finish or destroy on the
 * extractor that calls them.
 */

#ifndef HK_EXTRACT_H
#define HK_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "hk_record.h"


#define HK_EXTRACT_DEFAULT_MAX_DEPTH   64
#define HK_EXTRACT_DEFAULT_MAX_TOKEN   65536

/* at most this many components in any dotted path */
#define HK_EXTRACT_MAX_PATH            16


/*
 * A NULL string or a zero limit means its default, so a zeroed conf is a
 * valid default conf.  The strings are copied by hk_extract_rules().
 */
typedef struct {
    const char  *results_path;      /* "results"; "" for a root array */
    const char  *id_field;          /* "hotel_id" */
    const char  *rate_field;        /* "rate"; may be dotted */
    const char  *currency_field;    /* "currency"; may be dotted */
    const char  *default_currency;  /* NULL: skip results without one */
    size_t       max_depth;         /* nesting deeper aborts: 64 */
    size_t       max_token;         /* a longer token aborts: 64 KiB */
                                    /* (and so does a run of blanks) */
} hk_extract_conf_t;


typedef struct {
    const char  *hotel_id;          /* not NUL-terminated, valid only */
    size_t       hotel_id_len;      /* during the callback */
    int64_t      rate_micros;       /* > 0 */
    char         currency[4];       /* "EUR", NUL-terminated, upper case */
    uint32_t     position;          /* in the results array, 0-based */
} hk_result_t;


typedef enum {
    HK_EXTRACT_OK,
    HK_EXTRACT_ERROR_SYNTAX,        /* malformed or truncated JSON, */
                                    /* invalid UTF-8 */
    HK_EXTRACT_ERROR_DEPTH,         /* nested deeper than max_depth */
    HK_EXTRACT_ERROR_TOKEN,         /* a token longer than max_token */
    HK_EXTRACT_ERROR_NO_RESULTS,    /* document complete, but no array */
                                    /* at results_path */
    HK_EXTRACT_ERROR_NOMEM,         /* memory is short (yajl cannot */
                                    /* report a failed allocation, so */
                                    /* feed never returns it) */
    HK_EXTRACT_NRCS
} hk_extract_rc_t;


typedef struct {
    /* a usable result; r and its strings are valid during the call only */
    void  (*result)(void *data, const hk_result_t *r);
    /* an unusable element of the results array */
    void  (*skip)(void *data, hk_skip_reason_t reason, uint32_t position);
} hk_extract_handlers_t;


typedef struct hk_extract_s  hk_extract_t;

/* a configuration compiled once, shared by any number of extractors */
typedef struct hk_extract_rules_s  hk_extract_rules_t;


/* readable bytes hk_extract_document() needs after a document */
#define HK_EXTRACT_PADDING  64


/* "ok", "syntax", "depth", "token", "no_results", "nomem": the same */
const char *hk_extract_rc_name(hk_extract_rc_t rc);

/*
 * NULL if conf is usable, else a static message saying what is wrong
 * ("empty component in rate_field"): for configuration-time checks.
 */
const char *hk_extract_conf_check(const hk_extract_conf_t *conf);

/*
 * conf compiled (its paths split, its strings copied), or NULL if it is
 * invalid (see hk_extract_conf_check) or memory is short.  conf may be
 * NULL for all defaults; it is not kept.  The caller frees the rules with
 * hk_extract_rules_free(), after the last extractor that uses them.
 */
hk_extract_rules_t *hk_extract_rules(const hk_extract_conf_t *conf);
void hk_extract_rules_free(hk_extract_rules_t *rules);

/*
 * A new streaming extractor, or NULL if memory is short.  rules are not
 * copied and must outlive it.  h is copied; either handler may be NULL.
 * data is passed to the handlers.  The caller frees the extractor with
 * hk_extract_destroy().
 */
hk_extract_t *hk_extract_create(const hk_extract_rules_t *rules,
    const hk_extract_handlers_t *h, void *data);

/*
 * A whole document in memory, buf[0..len), followed by at least
 * HK_EXTRACT_PADDING readable bytes that start with a zero (callers zero
 * them all; with anything else the streaming extractor reads the page,
 * slower), with len at most the rules' max_token: the same handler calls
 * in the same order and the same code as creating an extractor, feeding
 * it the document and finishing it.
 * A well-formed page is read by simdjson, several times faster than
 * yajl; anything simdjson might read differently (a malformed page, an
 * escaped UTF-16 surrogate, no results array...) by the streaming
 * extractor, so that the outcome is that of the streaming extractor for
 * every input (fuzz/fuzz_document.c compares them).  On an error,
 * error[0..error_size) receives hk_extract_error()'s text.
 */
hk_extract_rc_t hk_extract_document(const hk_extract_rules_t *rules,
    const hk_extract_handlers_t *h, void *data, const unsigned char *buf,
    size_t len, char *error, size_t error_size);

/*
 * Parses the next len bytes of the document, in chunks of any size (even
 * one byte at a time), calling the handlers for each element of the
 * results array that closes in them.  buf is not kept.
 */
hk_extract_rc_t hk_extract_feed(hk_extract_t *x, const unsigned char *buf,
    size_t len);

/*
 * The document is complete: a truncated one is HK_EXTRACT_ERROR_SYNTAX,
 * one without a results array HK_EXTRACT_ERROR_NO_RESULTS.  May be called
 * again; it returns the same code.
 */
hk_extract_rc_t hk_extract_finish(hk_extract_t *x);

/*
 * A short reason for the current code, "invalid JSON near byte 123:
 * lexical error: invalid char in json text", without document content,
 * so safe for logs; "" when the code is OK.  The offset of a syntax
 * error found by yajl is approximate (it may depend on the chunking);
 * the others are exact.  Owned by x, valid until the next call on x.
 */
const char *hk_extract_error(hk_extract_t *x);

/*
 * The most bytes this extractor and its yajl have held at once: what the
 * memory bound above is tested against.
 */
size_t hk_extract_peak_bytes(hk_extract_t *x);

/* frees x and everything it holds; NULL is a no-op */
void hk_extract_destroy(hk_extract_t *x);


#endif /* HK_EXTRACT_H */
