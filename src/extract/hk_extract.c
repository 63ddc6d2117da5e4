/*
 * The streaming extractor: yajl's events turned into one callback per
 * element of the results array.  See hk_extract.h for the rules.
 *
 * yajl reports every scalar, key and container as an event, with no idea
 * of where in the document it is; that bookkeeping is ours and costs a
 * few counters, never a copy of the document:
 *
 *   - before the results array, path_depth counts the open objects that
 *     lie on results_path and path_key says whether the current key of
 *     the deepest of them is the next path component;
 *   - inside one result, a bit per field (id, rate, currency) says which
 *     fields a key may still lead to, for each object level on a field
 *     path (at most HK_EXTRACT_MAX_PATH levels), so "price.amount" is
 *     followed while "amenities" or "location" subtrees are only counted.
 *
 * yajl buffers a token that spans two chunks in full, so a giant string
 * would grow it without limit.  It has no such limit itself and no way to
 * ask how much it holds, so the document is fed to it in slices of
 * HK_EXTRACT_SLICE bytes and a slice with no event at all adds to a count
 * of bytes without progress; beyond max_token the document is rejected.
 * Nesting is bounded the same way, by our own depth count in the
 * container callbacks, which stop yajl before its state stack grows.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "hk_extract_rules.h"
#include "hk_utf8.h"


/*
 * Small enough to bound what yajl may buffer beyond max_token, large
 * enough that the per-slice overhead vanishes.
 */
#define HK_EXTRACT_SLICE  4096

#define HK_EXTRACT_ERROR_LEN  128


static const unsigned char  hk_extract_bom[] = { 0xef, 0xbb, 0xbf };


typedef enum {
    HK_PHASE_SEARCH,                /* looking for results_path */
    HK_PHASE_RESULTS,               /* inside the results array */
    HK_PHASE_DONE                   /* after it: validating only */
} hk_extract_phase_t;


/* what the allocator puts before each block: the size, for realloc/free */
typedef union {
    size_t       size;
    max_align_t  align;
} hk_extract_block_t;


struct hk_extract_s {
    yajl_handle             yajl;
    hk_extract_handlers_t   handlers;
    void                   *data;

    hk_extract_rc_t         rc;
    int                     finished;
    char                    error[HK_EXTRACT_ERROR_LEN];

    const hk_extract_rules_t
                           *rules;

    size_t                  bom;            /* bytes of a BOM seen so far */
    uint64_t                offset;         /* bytes fed before the slice */
    size_t                  no_event;       /* bytes fed with no event */
    int                     event;          /* an event in this slice */

    size_t                  depth;          /* open containers */
    hk_extract_phase_t      phase;
    size_t                  path_depth;
    int                     path_key;
    int                     results_not_array;
    size_t                  results_depth;  /* the array's depth */
    uint32_t                position;

    /* the current result, when in_result */
    int                     in_result;
    size_t                  field_depth;
    unsigned char           mask[HK_EXTRACT_MAX_PATH];
    unsigned char           key_mask[HK_EXTRACT_MAX_PATH];
    hk_extract_fields_t     fields;
    char                    id[HK_RECORD_MAX_ID];  /* the id, kept */

    size_t                  bytes;
    size_t                  peak_bytes;
};


static hk_extract_rc_t hk_extract_bom_done(hk_extract_t *x);
static hk_extract_rc_t hk_extract_parse(hk_extract_t *x,
    const unsigned char *buf, size_t len);
static void hk_extract_set_error(hk_extract_t *x, hk_extract_rc_t rc,
    const char *fmt, ...);
static void hk_extract_set_yajl_error(hk_extract_t *x, uint64_t at);

static void *hk_extract_malloc(void *ctx, size_t size);
static void *hk_extract_realloc(void *ctx, void *ptr, size_t size);
static void hk_extract_free(void *ctx, void *ptr);

static int hk_extract_value(hk_extract_t *x, hk_json_type_t type,
    const char *s, size_t len);
static void hk_extract_search_value(hk_extract_t *x, hk_json_type_t type);
static void hk_extract_element(hk_extract_t *x, hk_json_type_t type);
static void hk_extract_field_value(hk_extract_t *x, hk_json_type_t type,
    const char *s, size_t len);
static void hk_extract_set_field(hk_extract_t *x, int field,
    hk_json_type_t type, const char *s, size_t len);
static void hk_extract_end_result(hk_extract_t *x);
static void hk_extract_skip(hk_extract_t *x, hk_skip_reason_t reason);

static int hk_extract_on_null(void *ctx);
static int hk_extract_on_boolean(void *ctx, int value);
static int hk_extract_on_number(void *ctx, const char *s, size_t len);
static int hk_extract_on_string(void *ctx, const unsigned char *s,
    size_t len);
static int hk_extract_bad_utf8(hk_extract_t *x);
static uint64_t hk_extract_at(hk_extract_t *x);
static int hk_extract_on_start_map(void *ctx);
static int hk_extract_on_map_key(void *ctx, const unsigned char *key,
    size_t len);
static int hk_extract_on_end_map(void *ctx);
static int hk_extract_on_start_array(void *ctx);
static int hk_extract_on_end_array(void *ctx);
static int hk_extract_start_container(hk_extract_t *x, hk_json_type_t type);
static void hk_extract_end_container(hk_extract_t *x);


static const yajl_callbacks  hk_extract_callbacks = {
    hk_extract_on_null,
    hk_extract_on_boolean,
    NULL,                           /* integer: the number text instead */
    NULL,                           /* double: the number text instead */
    hk_extract_on_number,
    hk_extract_on_string,
    hk_extract_on_start_map,
    hk_extract_on_map_key,
    hk_extract_on_end_map,
    hk_extract_on_start_array,
    hk_extract_on_end_array
};


static const char  *hk_extract_rc_names[] = {
    "ok",
    "syntax",
    "depth",
    "token",
    "no_results",
    "nomem"
};


const char *
hk_extract_rc_name(hk_extract_rc_t rc)
{
    if ((unsigned) rc >= HK_EXTRACT_NRCS) {
        return "unknown";
    }

    return hk_extract_rc_names[rc];
}


hk_extract_t *
hk_extract_create(const hk_extract_rules_t *rules,
    const hk_extract_handlers_t *h, void *data)
{
    hk_extract_t      *x;
    yajl_alloc_funcs   afs;

    /* the struct itself is counted by hand: the allocator needs it */
    x = calloc(1, sizeof(hk_extract_t));
    if (x == NULL) {
        return NULL;
    }

    x->bytes = sizeof(hk_extract_t);
    x->peak_bytes = x->bytes;

    if (h != NULL) {
        x->handlers = *h;
    }

    x->data = data;
    x->rules = rules;

    afs.malloc = hk_extract_malloc;
    afs.realloc = hk_extract_realloc;
    afs.free = hk_extract_free;
    afs.ctx = x;

    x->yajl = yajl_alloc(&hk_extract_callbacks, &afs, x);
    if (x->yajl == NULL) {
        hk_extract_destroy(x);
        return NULL;
    }

    /* yajl's defaults, stated: one value, strict UTF-8, no comments */
    yajl_config(x->yajl, yajl_allow_comments, 0);
    yajl_config(x->yajl, yajl_dont_validate_strings, 0);
    yajl_config(x->yajl, yajl_allow_trailing_garbage, 0);
    yajl_config(x->yajl, yajl_allow_multiple_values, 0);
    yajl_config(x->yajl, yajl_allow_partial_values, 0);

    /* the root value is on results_path by definition */
    x->path_key = 1;

    return x;
}


/*
 * RFC 8259 lets a parser ignore a UTF-8 byte order mark before the
 * document, and pages with one exist.  It may come split over feeds; a
 * partial one followed by anything else is handed to yajl as it was.
 */

hk_extract_rc_t
hk_extract_feed(hk_extract_t *x, const unsigned char *buf, size_t len)
{
    if (x->rc != HK_EXTRACT_OK) {
        return x->rc;
    }

    while (x->bom < sizeof(hk_extract_bom) && len > 0) {
        if (buf[0] != hk_extract_bom[x->bom]) {
            if (hk_extract_bom_done(x) != HK_EXTRACT_OK) {
                return x->rc;
            }

            break;
        }

        x->bom++;
        x->offset++;
        buf++;
        len--;
    }

    return hk_extract_parse(x, buf, len);
}


/* no more of a byte order mark can come: what was held of one is parsed */

static hk_extract_rc_t
hk_extract_bom_done(hk_extract_t *x)
{
    size_t  held;

    held = (x->bom < sizeof(hk_extract_bom)) ? x->bom : 0;

    x->bom = sizeof(hk_extract_bom) + 1;

    if (held == 0) {
        return HK_EXTRACT_OK;
    }

    x->offset -= held;

    return hk_extract_parse(x, hk_extract_bom, held);
}


static hk_extract_rc_t
hk_extract_parse(hk_extract_t *x, const unsigned char *buf, size_t len)
{
    size_t       n;
    yajl_status  ys;

    while (len > 0) {
        n = len < HK_EXTRACT_SLICE ? len : HK_EXTRACT_SLICE;

        x->event = 0;

        ys = yajl_parse(x->yajl, buf, n);

        if (ys != yajl_status_ok) {
            if (x->rc == HK_EXTRACT_OK) {
                /* yajl's own error, not a callback that stopped it */
                hk_extract_set_yajl_error(x,
                    x->offset + yajl_get_bytes_consumed(x->yajl));
            }

            return x->rc;
        }

        /*
         * Without an event, all of the slice may sit in yajl's token
         * buffer.  With one, the pending token started after it, inside
         * this slice: counting from zero errs by under a slice, so a
         * token of max_token bytes always passes.
         */
        if (x->event) {
            x->no_event = 0;

        } else {
            x->no_event += n;
        }

        x->offset += n;

        if (x->no_event > x->rules->max_token) {
            hk_extract_set_error(x, HK_EXTRACT_ERROR_TOKEN,
                                 "JSON token longer than %zu bytes "
                                 "before byte %llu", x->rules->max_token,
                                 (unsigned long long) x->offset);
            return x->rc;
        }

        buf += n;
        len -= n;
    }

    return HK_EXTRACT_OK;
}


hk_extract_rc_t
hk_extract_finish(hk_extract_t *x)
{
    yajl_status  ys;

    if (x->rc != HK_EXTRACT_OK || x->finished) {
        return x->rc;
    }

    x->finished = 1;

    if (hk_extract_bom_done(x) != HK_EXTRACT_OK) {
        return x->rc;
    }

    ys = yajl_complete_parse(x->yajl);

    if (ys != yajl_status_ok) {
        if (x->rc == HK_EXTRACT_OK) {
            hk_extract_set_yajl_error(x, x->offset);
        }

        return x->rc;
    }

    if (x->phase == HK_PHASE_SEARCH) {
        hk_extract_set_error(x, HK_EXTRACT_ERROR_NO_RESULTS,
                             x->results_not_array
                             ? "the value at results_path is not an array"
                             : "results_path not found");
    }

    return x->rc;
}


const char *
hk_extract_error(hk_extract_t *x)
{
    return x->error;
}


size_t
hk_extract_peak_bytes(hk_extract_t *x)
{
    return x->peak_bytes;
}


void
hk_extract_destroy(hk_extract_t *x)
{
    if (x == NULL) {
        return;
    }

    if (x->yajl != NULL) {
        yajl_free(x->yajl);
    }

    free(x);
}


static void
hk_extract_set_error(hk_extract_t *x, hk_extract_rc_t rc,
    const char *fmt, ...)
{
    va_list  args;

    x->rc = rc;

    va_start(args, fmt);
    vsnprintf(x->error, sizeof(x->error), fmt, args);
    va_end(args);
}


/*
 * yajl's terse message, never its verbose one: that one quotes the
 * document, which may hold personal data and is not ours to log.
 */

static void
hk_extract_set_yajl_error(hk_extract_t *x, uint64_t at)
{
    size_t          len;
    unsigned char  *msg;

    msg = yajl_get_error(x->yajl, 0, NULL, 0);

    len = msg ? strlen((char *) msg) : 0;

    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '.'
                       || msg[len - 1] == ' '))
    {
        len--;
    }

    hk_extract_set_error(x, HK_EXTRACT_ERROR_SYNTAX,
                         "invalid JSON near byte %llu: %.*s",
                         (unsigned long long) at, (int) len,
                         msg ? (char *) msg : "");

    if (msg != NULL) {
        yajl_free_error(x->yajl, msg);
    }
}


/*
 * The allocator given to yajl: malloc() with a size header, so that the
 * bytes held and their peak can be counted.
 */

static void *
hk_extract_malloc(void *ctx, size_t size)
{
    hk_extract_t        *x = ctx;
    hk_extract_block_t  *b;

    if (size > SIZE_MAX - sizeof(hk_extract_block_t)) {
        return NULL;
    }

    b = malloc(sizeof(hk_extract_block_t) + size);
    if (b == NULL) {
        return NULL;
    }

    b->size = size;

    x->bytes += sizeof(hk_extract_block_t) + size;

    if (x->bytes > x->peak_bytes) {
        x->peak_bytes = x->bytes;
    }

    return b + 1;
}


static void *
hk_extract_realloc(void *ctx, void *ptr, size_t size)
{
    size_t               old;
    hk_extract_t        *x = ctx;
    hk_extract_block_t  *b;

    if (ptr == NULL) {
        return hk_extract_malloc(ctx, size);
    }

    if (size > SIZE_MAX - sizeof(hk_extract_block_t)) {
        return NULL;
    }

    b = (hk_extract_block_t *) ptr - 1;
    old = b->size;

    b = realloc(b, sizeof(hk_extract_block_t) + size);
    if (b == NULL) {
        return NULL;
    }

    b->size = size;

    x->bytes = x->bytes - old + size;

    if (x->bytes > x->peak_bytes) {
        x->peak_bytes = x->bytes;
    }

    return b + 1;
}


static void
hk_extract_free(void *ctx, void *ptr)
{
    hk_extract_t        *x = ctx;
    hk_extract_block_t  *b;

    if (ptr == NULL) {
        return;
    }

    b = (hk_extract_block_t *) ptr - 1;

    x->bytes -= sizeof(hk_extract_block_t) + b->size;

    free(b);
}


/*
 * Every value, scalar or container start, goes through here before the
 * depth changes: x->depth is the depth of its parent (0: the root).
 */

static int
hk_extract_value(hk_extract_t *x, hk_json_type_t type, const char *s,
    size_t len)
{
    x->event = 1;

    switch (x->phase) {

    case HK_PHASE_SEARCH:
        hk_extract_search_value(x, type);
        break;

    case HK_PHASE_RESULTS:
        if (x->depth == x->results_depth) {
            hk_extract_element(x, type);

        } else if (x->in_result) {
            hk_extract_field_value(x, type, s, len);
        }

        break;

    case HK_PHASE_DONE:
        break;
    }

    return 1;
}


static void
hk_extract_search_value(hk_extract_t *x, hk_json_type_t type)
{
    if (x->depth != x->path_depth || !x->path_key) {
        return;
    }

    if (x->depth == x->rules->results_path.ncomps) {

        if (type == HK_JSON_ARRAY) {
            x->phase = HK_PHASE_RESULTS;
            x->results_depth = x->depth + 1;

        } else {
            x->results_not_array = 1;
        }

        return;
    }

    if (type == HK_JSON_MAP) {
        x->path_depth = x->depth + 1;
        x->path_key = 0;
    }
}


/* a new element of the results array starts */

static void
hk_extract_element(hk_extract_t *x, hk_json_type_t type)
{
    int  i;

    if (type != HK_JSON_MAP) {
        /* an array element's subtree is then ignored: in_result is 0 */
        hk_extract_skip(x, HK_SKIP_NOT_OBJECT);
        return;
    }

    x->in_result = 1;
    x->field_depth = 1;
    x->mask[0] = HK_FIELDS_ALL;
    x->key_mask[0] = 0;

    for (i = 0; i < HK_NFIELDS; i++) {
        x->fields.value[i] = HK_VALUE_ABSENT;
    }
}


/* a value inside the current result, at any depth */

static void
hk_extract_field_value(hk_extract_t *x, hk_json_type_t type, const char *s,
    size_t len)
{
    int       f;
    size_t    level;
    unsigned  key_mask, deeper;

    /* the parent's level below the result object, 0 for the object */
    level = x->depth - x->results_depth - 1;

    if (level + 1 != x->field_depth) {
        return;
    }

    key_mask = x->key_mask[level];
    deeper = 0;

    for (f = 0; f < HK_NFIELDS; f++) {
        if (!(key_mask & (1u << f))) {
            continue;
        }

        if (x->rules->fields[f].ncomps == level + 1) {
            hk_extract_set_field(x, f, type, s, len);

        } else {
            deeper |= 1u << f;
        }
    }

    /* only an object continues a dotted path */
    if (type == HK_JSON_MAP && deeper) {
        x->mask[level + 1] = (unsigned char) deeper;
        x->key_mask[level + 1] = 0;
        x->field_depth++;
    }
}


/* the shared rule decides; an id is kept, yajl's buffer is not */

static void
hk_extract_set_field(hk_extract_t *x, int field, hk_json_type_t type,
    const char *s, size_t len)
{
    hk_extract_field_set(&x->fields, field, type, s, len);

    if (field == HK_FIELD_ID && x->fields.value[field] == HK_VALUE_OK) {
        memcpy(x->id, s, len);
        x->fields.id = x->id;
    }
}


/* the current result object closed: report it, one way or the other */

static void
hk_extract_end_result(hk_extract_t *x)
{
    x->in_result = 0;

    hk_extract_field_end(x->rules, &x->fields, x->position++,
                         &x->handlers, x->data);
}


static void
hk_extract_skip(hk_extract_t *x, hk_skip_reason_t reason)
{
    uint32_t  position;

    position = x->position++;

    if (x->handlers.skip != NULL) {
        x->handlers.skip(x->data, reason, position);
    }
}


static int
hk_extract_on_null(void *ctx)
{
    return hk_extract_value(ctx, HK_JSON_NULL, NULL, 0);
}


static int
hk_extract_on_boolean(void *ctx, int value)
{
    return hk_extract_value(ctx, HK_JSON_BOOL, NULL, 0);
}


static int
hk_extract_on_number(void *ctx, const char *s, size_t len)
{
    return hk_extract_value(ctx, HK_JSON_NUMBER, s, len);
}


static int
hk_extract_on_string(void *ctx, const unsigned char *s, size_t len)
{
    if (!hk_utf8_valid(s, len)) {
        return hk_extract_bad_utf8(ctx);
    }

    return hk_extract_value(ctx, HK_JSON_STRING, (const char *) s, len);
}


/*
 * The document offset just past the current token, for messages: within
 * a callback yajl's count of bytes consumed is the slice's so far.
 */

static uint64_t
hk_extract_at(hk_extract_t *x)
{
    return x->offset + yajl_get_bytes_consumed(x->yajl);
}


static int
hk_extract_bad_utf8(hk_extract_t *x)
{
    hk_extract_set_error(x, HK_EXTRACT_ERROR_SYNTAX,
                         "invalid UTF-8 in a string ending at byte %llu",
                         (unsigned long long) hk_extract_at(x));
    return 0;
}


static int
hk_extract_on_start_map(void *ctx)
{
    return hk_extract_start_container(ctx, HK_JSON_MAP);
}


static int
hk_extract_on_start_array(void *ctx)
{
    return hk_extract_start_container(ctx, HK_JSON_ARRAY);
}


static int
hk_extract_start_container(hk_extract_t *x, hk_json_type_t type)
{
    if (x->depth == x->rules->max_depth) {
        hk_extract_set_error(x, HK_EXTRACT_ERROR_DEPTH,
                             "JSON nested deeper than %zu levels "
                             "at byte %llu", x->rules->max_depth,
                             (unsigned long long) hk_extract_at(x));
        return 0;
    }

    hk_extract_value(x, type, NULL, 0);

    x->depth++;

    return 1;
}


static int
hk_extract_on_map_key(void *ctx, const unsigned char *key, size_t len)
{
    int                       f;
    size_t                    level;
    unsigned                  mask, key_mask;
    hk_extract_t             *x = ctx;
    const hk_extract_comp_t  *c;

    x->event = 1;

    if (!hk_utf8_valid(key, len)) {
        return hk_extract_bad_utf8(x);
    }

    if (x->phase == HK_PHASE_SEARCH) {
        if (x->depth == x->path_depth) {
            c = &x->rules->results_path.comp[x->depth - 1];
            x->path_key = c->len == len && memcmp(c->name, key, len) == 0;
        }

        return 1;
    }

    if (x->phase != HK_PHASE_RESULTS || !x->in_result) {
        return 1;
    }

    level = x->depth - x->results_depth - 1;

    if (level + 1 != x->field_depth) {
        return 1;
    }

    mask = x->mask[level];
    key_mask = 0;

    for (f = 0; f < HK_NFIELDS; f++) {
        if (!(mask & (1u << f))) {
            continue;
        }

        c = &x->rules->fields[f].comp[level];

        if (c->len == len && memcmp(c->name, key, len) == 0) {
            key_mask |= 1u << f;

            /* a duplicate key replaces the earlier subtree: last wins */
            x->fields.value[f] = HK_VALUE_ABSENT;
        }
    }

    x->key_mask[level] = (unsigned char) key_mask;

    return 1;
}


static int
hk_extract_on_end_map(void *ctx)
{
    hk_extract_end_container(ctx);

    return 1;
}


static int
hk_extract_on_end_array(void *ctx)
{
    hk_extract_end_container(ctx);

    return 1;
}


/* x->depth is still the depth of the closing container */

static void
hk_extract_end_container(hk_extract_t *x)
{
    size_t  level;

    x->event = 1;

    switch (x->phase) {

    case HK_PHASE_SEARCH:
        if (x->depth == x->path_depth) {
            x->path_depth--;
            x->path_key = 0;
        }

        break;

    case HK_PHASE_RESULTS:
        if (x->depth == x->results_depth) {
            x->phase = HK_PHASE_DONE;
            break;
        }

        if (!x->in_result) {
            break;
        }

        if (x->depth == x->results_depth + 1) {
            hk_extract_end_result(x);
            break;
        }

        level = x->depth - x->results_depth - 1;

        if (level + 1 == x->field_depth) {
            x->field_depth--;
        }

        break;

    case HK_PHASE_DONE:
        break;
    }

    x->depth--;
}
