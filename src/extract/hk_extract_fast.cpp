/*
 * A whole result page read in one pass over simdjson's structural
 * indexes, for hk_extract_document(): the same handler calls as the
 * streaming (yajl) extractor, faster, or none at all.
 *
 * The streaming extractor is the reference.  This reading must give
 * exactly its outcome, so it rejects everything yajl rejects, and
 * whenever it meets anything it cannot be sure to read as yajl does it
 * gives up before calling a handler, and the streaming extractor reads
 * the page (and makes the error, with its message):
 *
 *   - simdjson's stage 1 checks the whole document's UTF-8 and the
 *     control characters inside its strings, and lists where every token
 *     starts (the structural indexes: brackets, braces, commas, colons
 *     and the first byte of each string, number and literal).  The walk
 *     below checks the grammar on that list (what may follow what, the
 *     brackets matching, nothing after the root) and each scalar's own
 *     syntax: a number's digits, a literal's letters, a string's escapes;
 *   - what yajl would decode differently or that needs decoding to be
 *     compared (an escaped UTF-16 surrogate or NUL, an escape in a key
 *     the paths compare or in a value a result keeps), nesting deeper
 *     than the rules allow, a root that is not an object or an array, a
 *     page without a results array: declined;
 *   - results are collected first and handed over only when the whole
 *     document has been read, so that a fault found after some results
 *     calls no handler twice.
 *
 * A page's first result is read token by token and its shape learned;
 * its next results are read against that shape (hk_extract_fast_shape.cpp)
 * and walked again only if they are unlike it.
 *
 * Why not simdjson's DOM parser, which this file used first: it builds a
 * tape of the whole page, every number converted to a double and every
 * string copied, most of which a page's reading never looks at.  perf of
 * hk-bench micro on the 20-hotel bench page: its stage 2 was a third of
 * the reading, and finding the rates' text again (the tape keeps numbers
 * only as doubles, and a rate must be converted exactly from its text)
 * and walking the tape most of the rest.  Nor its On-Demand API: it does
 * not validate what it skips (fuzz/fuzz_document.c found a missing comma
 * accepted within seconds).
 *
 * What a value means (an id, a rate, a currency, the skip reasons) is
 * decided by hk_extract_rules.c for both readings.  fuzz/fuzz_document.c
 * feeds the same inputs to both and compares every call.
 *
 * No C++ exception exists here (simdjson's error codes, no std
 * containers): nothing can unwind into nginx's C.  The parser and the
 * buffers are per thread, allocated on first use and kept.
 */
#include "hk_extract_fast.h"


using namespace hk_fast;


namespace {

thread_local hk_fast_state  hk_fast_thread;


/*
 * This thread's state, from a function the compiler may not see into: a
 * thread-local in a shared object costs a call to __tls_get_addr() on
 * each access, and with its address known at compile time GCC
 * specialised the walk for it and made that call at each of the walk's
 * uses of the state, some forty per page (callgrind of the worker).
 */

__attribute__((noipa)) hk_fast_state *
hk_fast_get(void)
{
    return &hk_fast_thread;
}


/*
 * Whether a key, k[0..len) in the page, is the name: eight bytes at once
 * (a key is followed by its quote, its colon and a value, or the
 * padding), the rest of a longer name after them.
 */

inline bool
hk_fast_same(const hk_extract_name_t *name, const char *k, size_t len)
{
    uint64_t  w;

    if (name->len != len) {
        return false;
    }

    memcpy(&w, k, 8);

    return (w & name->mask) == name->head
           && (len <= 8 || memcmp(name->name + 8, k + 8, len - 8) == 0);
}


/*
 * The same in a page without a backslash, where a key's string is its
 * bytes up to the first quote: the key at k, whose first eight bytes are
 * w and whose opening quote is room bytes before the next token, is the
 * name if it starts with the name's bytes and a quote follows them.  Its
 * end need not be looked for, and a name with a quote or a backslash is
 * no key of such a page.
 */

inline bool
hk_fast_named(const hk_extract_name_t *name, uint64_t w, const char *k,
    size_t room)
{
    return (w & name->mask) == name->head
           && name->len + 1 < room
           && k[name->len] == '"'
           && name->plain
           && (name->len <= 8
               || memcmp(name->name + 8, k + 8, name->len - 8) == 0);
}


/* a result or a skip, kept until the whole page has been read */

bool
hk_fast_push(hk_fast_state *st, int skip, hk_skip_reason_t reason,
    uint32_t position, const hk_extract_fields_t *f)
{
    hk_fast_event  *e;

    if (st->nevents == st->events_size) {
        size_t  size = st->events_size ? 2 * st->events_size : 64;

        e = (hk_fast_event *) realloc(st->events,
                                      size * sizeof(hk_fast_event));
        if (e == NULL) {
            return false;
        }

        st->events = e;
        st->events_size = size;
    }

    e = &st->events[st->nevents++];

    e->skip = skip;
    e->reason = reason;
    e->position = position;

    if (f != NULL) {
        e->fields = *f;
    }

    return true;
}


/* what an open container is read for */

enum {
    HK_FAST_SKIP,          /* only checked */
    HK_FAST_SEARCH,        /* an object on the results path, at level */
    HK_FAST_RESULTS,       /* the results array */
    HK_FAST_FIELDS         /* an object at a level of the field paths */
};                         /* (0: a result), mask: the paths through it */


struct hk_fast_frame {
    uint8_t  object;
    uint8_t  mode;
    uint8_t  level;
    uint8_t  mask;
};


/* what the value about to be read is */

enum {
    HK_FAST_VALUE,         /* any value, only checked */
    HK_FAST_PATH,          /* at level of the results path */
    HK_FAST_ELEMENT,       /* an element of the results array */
    HK_FAST_FIELD          /* a key's value at level of the field paths: */
};                         /* leaf and deeper say for which fields */


/*
 * The container at the token, c, opens on frames[depth]: what it is read
 * for follows from what the value is (as in hk_fast_walk()).  false if it
 * is nested deeper than yajl allows (the rules' max_depth, open
 * containers this one included) or than the frames hold.
 */

HK_FAST_INLINE bool
hk_fast_open(hk_fast_state *st, const hk_extract_rules_t *rules,
    unsigned char c, unsigned what, size_t level, unsigned leaf,
    unsigned deeper, bool &found, uint32_t &position, hk_extract_fields_t &f,
    hk_fast_frame *frames, size_t &depth)
{
    unsigned        b;
    hk_fast_frame  *fr;

    if (depth == rules->max_depth || depth == HK_FAST_MAX_DEPTH) {
        return false;
    }

    fr = &frames[depth++];
    fr->object = c == '{';
    fr->mode = HK_FAST_SKIP;

    switch (what) {

    case HK_FAST_PATH:
        if (found) {
            break;
        }

        if (level == rules->results_path.ncomps) {
            if (c == '[') {
                fr->mode = HK_FAST_RESULTS;
                found = true;
            }

        } else if (c == '{') {
            fr->mode = HK_FAST_SEARCH;
            fr->level = (uint8_t) level;
        }

        break;

    case HK_FAST_ELEMENT:
        if (c == '{') {
            memset(&f, 0, sizeof(f));
            fr->mode = HK_FAST_FIELDS;
            fr->level = 0;
            fr->mask = HK_FIELDS_ALL;

        } else if (!hk_fast_push(st, 1, HK_SKIP_NOT_OBJECT, position++,
                                 NULL))
        {
            return false;
        }

        break;

    case HK_FAST_FIELD:
        for (b = leaf; b; b &= b - 1) {
            hk_extract_field_set(&f, __builtin_ctz(b),
                                 c == '{' ? HK_JSON_MAP : HK_JSON_ARRAY,
                                 NULL, 0);
        }

        if (c == '{' && deeper) {
            fr->mode = HK_FAST_FIELDS;
            fr->level = (uint8_t) (level + 1);
            fr->mask = (uint8_t) deeper;
        }

        break;
    }

    return true;
}


/*
 * The scalar at *at, c its first byte: checked, given to the fields whose
 * path it ends (what, leaf as in hk_fast_walk()), or skipped as an
 * element of the results array.  A string a result keeps is the page's
 * bytes: one with an escape, which yajl would decode, is declined.
 */

HK_FAST_INLINE bool
hk_fast_scalar(hk_fast_state *st, const unsigned char *page,
    const uint32_t *at, bool backslashes, unsigned char c, unsigned what,
    unsigned leaf, hk_extract_fields_t &f, uint32_t &position)
{
    unsigned        b;
    bool            escaped;
    size_t          len;
    const char     *s;
    hk_json_type_t  type;

    s = NULL;
    len = 0;

    switch (c) {

    case '"':
        type = HK_JSON_STRING;

        if (what == HK_FAST_FIELD && leaf) {
            if (!hk_fast_string(page, at, backslashes, s, len,
                                escaped)
                || escaped)
            {
                return false;
            }

        } else if (backslashes
                   && !hk_fast_string(page, at, true, s, len, escaped))
        {
            return false;
        }

        break;

    case 't':
    case 'f':
    case 'n':
        type = c == 'n' ? HK_JSON_NULL : HK_JSON_BOOL;

        if (!hk_fast_literal(page, at, c)) {
            return false;
        }

        break;

    default:
        type = HK_JSON_NUMBER;

        if (!hk_fast_number(page, at, s, len)) {
            return false;
        }

        break;
    }

    if (what == HK_FAST_FIELD) {
        for (b = leaf; b; b &= b - 1) {
            hk_extract_field_set_text(&f, __builtin_ctz(b), type, s, len);
        }

    } else if (what == HK_FAST_ELEMENT) {
        return hk_fast_push(st, 1, HK_SKIP_NOT_OBJECT, position++, NULL);
    }

    return true;
}


/*
 * The key of a member of the object fr is the name: its value is on the
 * paths of the name's fields that go through fr (what, level, leaf,
 * deeper, as in hk_fast_walk()), and those fields forget their earlier
 * values in f (the last duplicate wins).
 */

HK_FAST_INLINE void
hk_fast_match(const hk_extract_name_t *name, const hk_fast_frame *fr,
    hk_extract_fields_t &f, unsigned &what, size_t &level, unsigned &leaf,
    unsigned &deeper)
{
    unsigned  b, fields;

    fields = name->fields & fr->mask;

    for (b = fields; b; b &= b - 1) {
        f.value[__builtin_ctz(b)] = HK_VALUE_ABSENT;
    }

    what = HK_FAST_FIELD;
    level = fr->level;
    leaf = name->leaves & fields;
    deeper = fields & ~name->leaves;
}


/*
 * A key in an object of the field paths, fr, of a page without a
 * backslash: compared without looking for its end (hk_fast_named()).
 * Most keys of a result are of this kind, and the most frequent tokens
 * the walk compares.
 */

HK_FAST_INLINE void
hk_fast_field_key(const hk_extract_rules_t *rules, const unsigned char *page,
    const uint32_t *at, const hk_fast_frame *fr, hk_extract_fields_t &f,
    unsigned &what, size_t &level, unsigned &leaf, unsigned &deeper)
{
    size_t                     room;
    uint64_t                   w;
    const char                *k;
    const hk_extract_name_t   *name, *end;
    const hk_extract_level_t  *l;

    /* the key's first word once, the level's names from locals */

    l = &rules->levels[fr->level];
    k = (const char *) page + at[0] + 1;
    room = at[1] - at[0];
    memcpy(&w, k, 8);

    for (name = l->name, end = name + l->nnames; name < end; name++) {
        if (hk_fast_named(name, w, k, room) && (name->fields & fr->mask)) {
            hk_fast_match(name, fr, f, what, level, leaf, deeper);
            return;
        }
    }
}


/*
 * The key at *at of a member of the object fr: what its value is (what,
 * level, leaf, deeper, as in hk_fast_walk()); a key on a field's path
 * forgets that field's earlier value in f.  A key that must be compared
 * is compared as the page's bytes: one with an escape, which yajl would
 * decode, is declined.  Inlined: its state stays in the walk's registers.
 */

HK_FAST_INLINE bool
hk_fast_key(const hk_extract_rules_t *rules, const unsigned char *page,
    const uint32_t *at, bool backslashes, bool found,
    const hk_fast_frame *fr, hk_extract_fields_t &f, unsigned &what,
    size_t &level, unsigned &leaf, unsigned &deeper)
{
    bool                       escaped;
    size_t                     len, n;
    const char                *k;
    const hk_extract_comp_t   *comp;
    const hk_extract_name_t   *name;
    const hk_extract_level_t  *l;

    what = HK_FAST_VALUE;

    if (fr->mode == HK_FAST_SKIP || (fr->mode == HK_FAST_SEARCH && found)) {
        return !backslashes
               || hk_fast_string(page, at, true, k, len, escaped);
    }

    if (fr->mode == HK_FAST_FIELDS && !backslashes) {
        hk_fast_field_key(rules, page, at, fr, f, what, level, leaf, deeper);
        return true;
    }

    if (!hk_fast_string(page, at, backslashes, k, len, escaped)
        || escaped)
    {
        return false;
    }

    if (fr->mode == HK_FAST_SEARCH) {
        comp = &rules->results_path.comp[fr->level];

        if (len == comp->len && memcmp(k, comp->name, len) == 0) {
            what = HK_FAST_PATH;
            level = fr->level + 1;
        }

        return true;
    }

    l = &rules->levels[fr->level];

    for (n = 0; n < l->nnames; n++) {
        name = &l->name[n];

        if ((name->fields & fr->mask) && hk_fast_same(name, k, len)) {
            hk_fast_match(name, fr, f, what, level, leaf, deeper);
            break;
        }
    }

    return true;
}


/*
 * The walk: the page's tokens in one loop, the open containers on a
 * stack of frames (no recursion, so a deep page costs no stack beyond
 * the frames).  The rules of hk_extract.c: the first array at the
 * results path's end, in the page's order, is the results array; in a
 * result, a key on a field's path forgets that field's earlier value
 * (the last duplicate wins), a value at a path's end is the field's, and
 * only an object continues a path.  A key that must be compared, or a
 * string a result keeps, is compared or kept as the page's bytes: one
 * with an escape, which yajl would decode, is declined.
 *
 * One function, longer than the house's others, so that its state stays
 * in registers: the same walk with its state in a struct, split into
 * more functions, cost 9 % more instructions (callgrind, hk-bench micro).
 *
 * false: the page is declined (nothing is handed over).
 */

bool
hk_fast_walk(hk_fast_state *st, const hk_extract_rules_t *rules,
    const unsigned char *page, size_t len, const uint32_t *si, size_t n)
{
    bool                  found, backslashes;
    size_t                depth, level;
    unsigned              what, leaf, deeper;
    uint32_t              position;
    unsigned char         c;
    const uint32_t       *at, *last;
    hk_fast_shape_key    *key;
    hk_fast_step         *learn;
    hk_fast_frame        *fr;
    hk_fast_shape        *sh;
    hk_extract_fields_t   f;
    hk_fast_frame         frames[HK_FAST_MAX_DEPTH];

    /*
     * The token at *at: past the last one, simdjson's sentinel index
     * (the page's length) points at the padding's first byte, a zero
     * (hk_extract_fast() makes sure), which no rule accepts.  No bounds
     * check per token, then, and at[1] is always there.
     */
#define hk_fast_token()  page[*at]

    /*
     * While a result is learned (learn not NULL), each token is written
     * down as a step: what it is and what the walk did with it.
     */
#define hk_fast_learn(k, ch, fl)                                              \
    if (learn != NULL) {                                                      \
        if (sh->ntokens == HK_FAST_MAX_STEPS) {                               \
            learn = NULL;                                                     \
        } else {                                                              \
            sh->care[sh->ntokens] = (k) == HK_FAST_STEP_NUMBER ? 0 : 0xff;    \
            sh->first[sh->ntokens] = (k) == HK_FAST_STEP_NUMBER ? 0 : (ch);   \
            if ((k) != HK_FAST_STEP_CHAR) {                                   \
                learn->token = (uint16_t) sh->ntokens;                        \
                learn->kind = (k);                                            \
                learn->fields = (uint8_t) (fl);                               \
                learn++;                                                      \
            }                                                                 \
            sh->ntokens++;                                                    \
        }                                                                     \
    }

    at = si;
    last = si + n;
    depth = 0;
    found = false;
    position = 0;
    backslashes = memchr(page, '\\', len) != NULL;

    sh = &st->shape;
    sh->ntokens = 0;
    learn = NULL;
    key = NULL;

    memset(&f, 0, sizeof(f));

    /* the root: the results path's level 0 */

    c = hk_fast_token();

    if (c != '{' && c != '[') {
        return false;
    }

    what = HK_FAST_PATH;
    level = 0;
    leaf = 0;
    deeper = 0;

value:

    c = hk_fast_token();

    if (c != '{' && c != '[') {
        if (!hk_fast_scalar(st, page, at, backslashes, c, what, leaf,
                            f, position))
        {
            return false;
        }

        leaf = what == HK_FAST_FIELD ? leaf : 0;

        if (c == '"') {
            hk_fast_learn(leaf ? HK_FAST_STEP_STRING : HK_FAST_STEP_CHAR,
                          c, leaf);

        } else if (c == 't' || c == 'f' || c == 'n') {
            hk_fast_learn(HK_FAST_STEP_LITERAL, c, leaf);

        } else {
            hk_fast_learn(HK_FAST_STEP_NUMBER, c, leaf);
        }

        at++;
        goto next;
    }

    /*
     * A result: read against the shape of the page's last result read
     * token by token, if it has one; else read token by token, and its
     * shape learned.  (A page with a backslash has no shape: its strings
     * are checked token by token.)
     */

    if (what == HK_FAST_ELEMENT && c == '{' && !backslashes) {
        if (sh->ntokens != 0 && (size_t) (last - at) >= sh->ntokens
            && hk_fast_like(sh, page, at, f))
        {
            if (!hk_fast_push(st, 0, HK_SKIP_NREASONS, position++, &f)) {
                return false;
            }

            at += sh->ntokens;
            goto next;
        }

        sh->ntokens = 0;
        learn = sh->step;
        key = sh->key;
    }

    if (!hk_fast_open(st, rules, c, what, level, leaf, deeper, found,
                      position, f, frames, depth))
    {
        return false;
    }

    if (what == HK_FAST_FIELD && leaf) {
        hk_fast_learn(HK_FAST_STEP_OPEN, c, leaf);

    } else {
        hk_fast_learn(HK_FAST_STEP_CHAR, c, 0);
    }

    fr = &frames[depth - 1];
    at++;

    if (hk_fast_token() == (c == '{' ? '}' : ']')) {
        hk_fast_learn(HK_FAST_STEP_CHAR, hk_fast_token(), 0);
        at++;
        goto close;
    }

    if (c == '{') {
        goto key;
    }

    what = fr->mode == HK_FAST_RESULTS ? HK_FAST_ELEMENT : HK_FAST_VALUE;
    goto value;

next:

    /* a value was read: a comma, or the end of its container */

    if (depth == 0) {
        return at == last && found;
    }

    fr = &frames[depth - 1];
    c = hk_fast_token();
    at++;

    hk_fast_learn(HK_FAST_STEP_CHAR, c, 0);

    if (c == ',') {
        if (fr->object) {
            goto key;
        }

        what = fr->mode == HK_FAST_RESULTS ? HK_FAST_ELEMENT : HK_FAST_VALUE;
        goto value;
    }

    if (c != (fr->object ? '}' : ']')) {
        return false;
    }

close:

    fr = &frames[--depth];

    if (fr->mode == HK_FAST_FIELDS && fr->level == 0) {
        if (!hk_fast_push(st, 0, HK_SKIP_NREASONS, position++, &f)) {
            return false;
        }

        /* a result learned whole: its shape is the page's */

        if (learn != NULL) {
            sh->nsteps = (size_t) (learn - sh->step);
            sh->nkeys = (size_t) (key - sh->key);
            learn = NULL;

            for (size_t j = sh->ntokens; j % 8; j++) {
                sh->first[j] = 0;
                sh->care[j] = 0;
            }

        } else {
            sh->ntokens = 0;
        }
    }

    goto next;

key:

    /* a member of the object frames[depth - 1]: its key, its colon */

    fr = &frames[depth - 1];

    if (hk_fast_token() != '"') {
        return false;
    }

    if (!hk_fast_key(rules, page, at, backslashes, found, fr, f,
                     what, level, leaf, deeper))
    {
        return false;
    }

    if (learn != NULL) {
        if (fr->mode != HK_FAST_FIELDS) {
            hk_fast_learn(HK_FAST_STEP_CHAR, '"', 0);

        } else if (key == sh->key + HK_FAST_MAX_KEYS) {
            learn = NULL;

        } else {
            hk_fast_learn_key(key++, page, at);
            hk_fast_learn(HK_FAST_STEP_KEY, '"',
                          what == HK_FAST_FIELD ? leaf | deeper : 0);
        }
    }

    at++;

    if (hk_fast_token() != ':') {
        return false;
    }

    hk_fast_learn(HK_FAST_STEP_CHAR, ':', 0);

    at++;
    goto value;

#undef hk_fast_learn
#undef hk_fast_token
}


/*
 * The parser, allocated once per thread and grown to the largest page:
 * only its stage 1 and its structural indexes are used, so the depth it
 * is sized for does not matter.
 */

bool
hk_fast_parser(hk_fast_state *st, size_t len)
{
    if (st->parser == NULL) {
        st->parser = new (std::nothrow) simdjson::dom::parser();

        if (st->parser == NULL) {
            return false;
        }
    }

    if (st->parser->capacity() < len) {
        return st->parser->allocate(len, 1) == simdjson::SUCCESS;
    }

    return true;
}

}  /* namespace */

extern "C" int
hk_extract_fast(const hk_extract_rules_t *rules,
    const hk_extract_handlers_t *h, void *data, const unsigned char *buf,
    size_t len)
{
    size_t                                       i;
    hk_fast_event                               *e;
    hk_fast_state                                 *st;
    simdjson::internal::dom_parser_implementation  *impl;

    st = hk_fast_get();

    /* the walk's end of tokens (hk_fast_token()); callers zero it */

    if (len == 0 || buf[len] != '\0' || !hk_fast_parser(st, len)) {
        return 0;
    }

    impl = st->parser->implementation.get();

    if (impl->stage1(buf, len, simdjson::stage1_mode::regular)
        != simdjson::SUCCESS)
    {
        return 0;
    }

    st->nevents = 0;

    if (!hk_fast_walk(st, rules, buf, len, impl->structural_indexes.get(),
                      impl->n_structural_indexes))
    {
        return 0;
    }

    for (i = 0; i < st->nevents; i++) {
        e = &st->events[i];

        if (e->skip) {
            if (h->skip != NULL) {
                h->skip(data, e->reason, e->position);
            }

        } else {
            hk_extract_field_end(rules, &e->fields, e->position, h, data);
        }
    }

    return 1;
}
