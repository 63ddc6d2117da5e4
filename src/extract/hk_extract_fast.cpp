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

#include <simdjson.h>

#include <cstdlib>
#include <cstring>

extern "C" {
#include "hk_extract_rules.h"
}


static_assert(simdjson::SIMDJSON_VERSION_MAJOR == 3,
              "hk_extract_fast.cpp reads simdjson 3's structural indexes: "
              "check them");
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "hk_fast_backslash() reads a string's first byte as the "
              "low byte of a word");
static_assert(HK_EXTRACT_PADDING >= simdjson::SIMDJSON_PADDING,
              "hk_extract_document() promises simdjson its padding");


/* the walk's small steps, inlined into the loops that take them */
#define HK_FAST_INLINE  inline __attribute__((always_inline))


namespace {

/* deeper pages are left to yajl: the open containers' kinds are bits */
constexpr size_t  HK_FAST_MAX_DEPTH = 1024;


/* a result or a skip, in the order the streaming extractor reports them */
struct hk_fast_event {
    int                  skip;
    hk_skip_reason_t     reason;
    uint32_t             position;
    hk_extract_fields_t  fields;
};


struct hk_fast_state {
    simdjson::dom::parser  *parser;
    hk_fast_event          *events;
    size_t                  nevents;
    size_t                  events_size;
};


thread_local hk_fast_state  hk_fast;


inline bool
hk_fast_space(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}


inline bool
hk_fast_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}


/*
 * Whether p[0..len) holds a backslash, eight bytes at a time: strings
 * are short, and libc's memchr costs more to call than to run on them.
 * A string is followed by its closing quote and at least one more token,
 * or the padding: the last word may be read whole and the bytes past the
 * string masked off.  (A byte flagged wrongly by the borrow in the test
 * always sits above a byte flagged rightly.)
 */

inline bool
hk_fast_backslash(const unsigned char *p, size_t len)
{
    uint64_t  w;

    static const uint64_t  ones = 0x0101010101010101ULL;
    static const uint64_t  highs = 0x8080808080808080ULL;
    static const uint64_t  slashes = 0x5c5c5c5c5c5c5c5cULL;

    for ( ;; ) {
        memcpy(&w, p, 8);
        w ^= slashes;
        w = (w - ones) & ~w & highs;

        if (len <= 8) {
            return len != 0 && (w & (~0ULL >> (64 - 8 * len))) != 0;
        }

        if (w) {
            return true;
        }

        p += 8;
        len -= 8;
    }
}


inline int
hk_fast_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}


/* a \uXXXX escape at p, before end: its code unit */

inline bool
hk_fast_utf16(const unsigned char *p, const unsigned char *end,
    unsigned &cp)
{
    int  i, h;

    if (end - p < 6 || p[0] != '\\' || p[1] != 'u') {
        return false;
    }

    cp = 0;

    for (i = 2; i < 6; i++) {
        h = hk_fast_hex(p[i]);

        if (h < 0) {
            return false;
        }

        cp = cp << 4 | (unsigned) h;
    }

    return true;
}


/*
 * Whether a key, k[0..len) in the page, is the name: eight bytes at once
 * (a key is followed by its quote, its colon and a value, or the
 * padding), the rest of a longer name byte by byte.
 */

inline bool
hk_fast_same(const hk_extract_name_t *name, const char *k, size_t len)
{
    uint64_t  w;

    if (name->len != len) {
        return false;
    }

    memcpy(&w, k, 8);

    if (len < 8) {
        w &= ~0ULL >> (64 - 8 * len);
    }

    return w == name->head
           && (len <= 8 || memcmp(name->name + 8, k + 8, len - 8) == 0);
}


/*
 * The walk.  k_ is the token being read; each method that reads a value
 * leaves k_ on the token after it.  false: the page is declined.
 */

class hk_fast_reader {
public:
    hk_fast_reader(hk_fast_state *state, const hk_extract_rules_t *rules,
                   const unsigned char *page, size_t len, const uint32_t *si,
                   size_t n)
        : state_(state), rules_(rules), page_(page), si_(si), n_(n), k_(0),
          depth_(0),
          backslashes_(memchr(page, '\\', len) != NULL), found_(false),
          position_(0) {}

    bool document();

private:
    unsigned char token() const { return k_ < n_ ? page_[si_[k_]] : 0; }

    bool search(size_t level);
    bool results();
    bool element();
    bool fields(size_t level, unsigned mask, hk_extract_fields_t &f);
    bool field(const hk_extract_level_t *l, size_t level, unsigned mask,
               hk_extract_fields_t &f, const char *k, size_t klen);
    bool skip();
    bool open(unsigned char c);
    bool key(const char *&s, size_t &len, bool &escaped);
    bool skip_key();
    bool skip_scalar();
    bool skip_string();
    bool scalar(hk_json_type_t &type, const char *&s, size_t &len,
                bool &escaped);
    bool string(const char *&s, size_t &len, bool &escaped);
    bool number(const char *&s, size_t &len);
    bool literal(const char *word, size_t len);
    bool escapes(const unsigned char *p, const unsigned char *end);
    bool push(int skip, hk_skip_reason_t reason,
              const hk_extract_fields_t *f);

    template <typename Member> bool members(Member member);

    hk_fast_state             *state_;     /* the thread's, looked up once */
    const hk_extract_rules_t  *rules_;
    const unsigned char       *page_;
    const uint32_t            *si_;
    size_t                     n_;
    size_t                     k_;
    size_t                     depth_;      /* open containers */
    bool                       backslashes_;  /* anywhere in the page */
    bool                       found_;
    uint32_t                   position_;
};


/* the root, then nothing after it */

bool
hk_fast_reader::document()
{
    unsigned char  c;

    c = token();

    if (c != '{' && c != '[') {
        return false;
    }

    return search(0) && k_ == n_ && found_;
}


/*
 * A value reached along results_path[0..level): the first array at the
 * path's end, in the document's order, is the results array; every other
 * value is only checked.  A key the path compares must be compared as
 * yajl decodes it: one with an escape is declined.
 */

bool
hk_fast_reader::search(size_t level)
{
    const hk_extract_comp_t  *c;

    if (found_) {
        return skip();
    }

    if (level == rules_->results_path.ncomps) {
        return token() == '[' ? results() : skip();
    }

    if (token() != '{') {
        return skip();
    }

    c = &rules_->results_path.comp[level];

    return members([&](const char *k, size_t klen, bool escaped) {
        if (found_) {
            return skip();
        }

        if (escaped) {
            return false;
        }

        if (klen == c->len && memcmp(k, c->name, klen) == 0) {
            return search(level + 1);
        }

        return skip();
    });
}


/* the members of the object at k_, each value read by member() */

template <typename Member>
bool
hk_fast_reader::members(Member member)
{
    bool            escaped;
    size_t          klen;
    const char     *k;
    unsigned char   c;

    if (!open('{')) {
        return false;
    }

    if (token() == '}') {
        k_++;
        depth_--;
        return true;
    }

    for ( ;; ) {
        if (!key(k, klen, escaped) || !member(k, klen, escaped)) {
            return false;
        }

        c = token();
        k_++;

        if (c == ',') {
            continue;
        }

        if (c == '}') {
            depth_--;
            return true;
        }

        return false;
    }
}


bool
hk_fast_reader::results()
{
    unsigned char  c;

    found_ = true;

    if (!open('[')) {
        return false;
    }

    if (token() == ']') {
        k_++;
        depth_--;
        return true;
    }

    for ( ;; ) {
        if (!element()) {
            return false;
        }

        c = token();
        k_++;

        if (c == ',') {
            continue;
        }

        if (c == ']') {
            depth_--;
            return true;
        }

        return false;
    }
}


bool
hk_fast_reader::element()
{
    hk_extract_fields_t  f;

    if (token() != '{') {
        return push(1, HK_SKIP_NOT_OBJECT, NULL) && skip();
    }

    memset(&f, 0, sizeof(f));

    return fields(0, HK_FIELDS_ALL, f) && push(0, HK_SKIP_NREASONS, &f);
}


/* the object at k_, at a level of the field paths; mask: see field() */

bool
hk_fast_reader::fields(size_t level, unsigned mask, hk_extract_fields_t &f)
{
    const hk_extract_level_t  *l;

    /* by value, so that the inlined loop keeps them in registers */

    l = &rules_->levels[level];

    return members([this, l, level, mask, &f](const char *k, size_t klen,
                                              bool escaped)
    {
        return !escaped && field(l, level, mask, f, k, klen);
    });
}


/*
 * The value at k_ of key k in an object at a level of the field paths
 * (l: that level's names); mask: the fields whose path still runs through that object.  The rules
 * of hk_extract.c's hk_extract_on_map_key() and hk_extract_field_value():
 * a key on a field's path forgets that field's earlier value (the last
 * duplicate wins), a value at a path's end is the field's, and only an
 * object continues a path.
 */

bool
hk_fast_reader::field(const hk_extract_level_t *l, size_t level,
    unsigned mask, hk_extract_fields_t &f, const char *k, size_t klen)
{
    int              n;
    bool             escaped;
    size_t           i, len;
    unsigned         leaf, deeper;
    const char      *s;
    unsigned char    t;
    hk_json_type_t   type;

    leaf = 0;
    deeper = 0;

    for (i = 0; i < l->nnames; i++) {
        const hk_extract_name_t  *name = &l->name[i];

        if (!(name->fields & mask) || !hk_fast_same(name, k, klen)) {
            continue;
        }

        for (n = 0; n < HK_NFIELDS; n++) {
            if (name->fields & mask & (1u << n)) {
                f.value[n] = HK_VALUE_ABSENT;
            }
        }

        leaf = name->leaves & mask;
        deeper = name->fields & ~name->leaves & mask;
        break;
    }

    if (leaf == 0 && deeper == 0) {
        return skip();
    }

    t = token();

    if (t == '{' || t == '[') {
        for (n = 0; n < HK_NFIELDS; n++) {
            if (leaf & (1u << n)) {
                hk_extract_field_set(&f, n,
                                     t == '{' ? HK_JSON_MAP : HK_JSON_ARRAY,
                                     NULL, 0);
            }
        }

        if (t == '{' && deeper) {
            return fields(level + 1, deeper, f);
        }

        return skip();
    }

    /* a kept string is the page's bytes: one with an escape is declined */

    if (!scalar(type, s, len, escaped) || (escaped && leaf)) {
        return false;
    }

    for (n = 0; n < HK_NFIELDS; n++) {
        if (leaf & (1u << n)) {
            hk_extract_field_set(&f, n, type, s, len);
        }
    }

    return true;
}


/*
 * Any value, only checked.  Not recursive: the kinds of the containers
 * opened here are bits, one per level, so that a deep page costs no
 * stack.
 */

bool
hk_fast_reader::skip()
{
    bool            object;
    size_t          base, level;
    uint64_t        kinds[HK_FAST_MAX_DEPTH / 64];
    unsigned char   c;

    base = depth_;

    for ( ;; ) {

        /* a value */

        c = token();

        if (c == '{' || c == '[') {
            if (!open(c) || depth_ - base > HK_FAST_MAX_DEPTH) {
                return false;
            }

            level = depth_ - base - 1;

            if (c == '{') {
                kinds[level / 64] |= (uint64_t) 1 << (level % 64);

            } else {
                kinds[level / 64] &= ~((uint64_t) 1 << (level % 64));
            }

            if (token() == (c == '{' ? '}' : ']')) {
                k_++;
                depth_--;

            } else {
                if (c == '{' && !skip_key()) {
                    return false;
                }

                continue;
            }

        } else if (!skip_scalar()) {
            return false;
        }

        /* what follows it: the containers it closes, or the next value */

        for ( ;; ) {
            if (depth_ == base) {
                return true;
            }

            level = depth_ - base - 1;
            object = (kinds[level / 64] >> (level % 64)) & 1;

            c = token();
            k_++;

            if (c == ',') {
                if (object && !skip_key()) {
                    return false;
                }

                break;
            }

            if (c != (object ? '}' : ']')) {
                return false;
            }

            depth_--;
        }
    }
}


/*
 * The container at k_ opens, if the nesting allows: yajl's limit (the
 * rules' max_depth, open containers included this one).
 */

HK_FAST_INLINE bool
hk_fast_reader::open(unsigned char c)
{
    if (token() != c || depth_ == rules_->max_depth) {
        return false;
    }

    k_++;
    depth_++;

    return true;
}


/* a member's key and its colon */

HK_FAST_INLINE bool
hk_fast_reader::key(const char *&s, size_t &len, bool &escaped)
{
    if (token() != '"' || !string(s, len, escaped) || token() != ':') {
        return false;
    }

    k_++;

    return true;
}


/* a key only checked */

HK_FAST_INLINE bool
hk_fast_reader::skip_key()
{
    if (token() != '"' || !skip_string() || token() != ':') {
        return false;
    }

    k_++;

    return true;
}


/* a scalar only checked */

HK_FAST_INLINE bool
hk_fast_reader::skip_scalar()
{
    size_t       len;
    const char  *s;

    switch (token()) {

    case '"':
        return skip_string();

    case 't':
        return literal("true", 4);

    case 'f':
        return literal("false", 5);

    case 'n':
        return literal("null", 4);

    default:
        return number(s, len);
    }
}


/*
 * A string only checked: stage 1 has checked its end, its UTF-8 and its
 * control characters, and without a backslash in the page it has no
 * escape to check.
 */

HK_FAST_INLINE bool
hk_fast_reader::skip_string()
{
    bool         escaped;
    size_t       len;
    const char  *s;

    if (!backslashes_) {
        k_++;
        return true;
    }

    return string(s, len, escaped);
}


/* a scalar's type and text: a string's bytes, a number's text */

HK_FAST_INLINE bool
hk_fast_reader::scalar(hk_json_type_t &type, const char *&s, size_t &len,
    bool &escaped)
{
    escaped = false;
    s = NULL;
    len = 0;

    switch (token()) {

    case '"':
        type = HK_JSON_STRING;
        return string(s, len, escaped);

    case 't':
        type = HK_JSON_BOOL;
        return literal("true", 4);

    case 'f':
        type = HK_JSON_BOOL;
        return literal("false", 5);

    case 'n':
        type = HK_JSON_NULL;
        return literal("null", 4);

    default:
        type = HK_JSON_NUMBER;
        return number(s, len);
    }
}


/*
 * The string at k_.  It ends at its closing quote, the last byte before
 * the next token but for white space: stage 1 starts a token at anything
 * but white space after a string.  Without a next token the page is
 * malformed (its root is a container).  Its UTF-8 and control
 * characters are stage 1's; its escapes are checked here.
 */

HK_FAST_INLINE bool
hk_fast_reader::string(const char *&s, size_t &len, bool &escaped)
{
    size_t                start, end;
    const unsigned char  *p;

    if (k_ + 1 >= n_) {
        return false;
    }

    start = si_[k_];
    end = si_[k_ + 1];

    while (end > start + 1 && hk_fast_space(page_[end - 1])) {
        end--;
    }

    if (end < start + 2 || page_[end - 1] != '"') {
        return false;
    }

    p = page_ + start + 1;
    len = end - start - 2;
    s = (const char *) p;

    escaped = backslashes_ && hk_fast_backslash(p, len);

    if (escaped && !escapes(p, p + len)) {
        return false;
    }

    k_++;

    return true;
}


/*
 * A string's escapes are those yajl accepts.  \u0000 (which yajl's
 * decoding drops) and a UTF-16 surrogate that is not the first half of
 * a pair (which yajl pairs its own way) are declined.
 */

bool
hk_fast_reader::escapes(const unsigned char *p, const unsigned char *end)
{
    unsigned  cp;

    while ((p = (const unsigned char *) memchr(p, '\\', end - p)) != NULL) {
        if (end - p < 2) {
            return false;
        }

        switch (p[1]) {

        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            p += 2;
            break;

        case 'u':
            if (!hk_fast_utf16(p, end, cp)
                || cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
            {
                return false;
            }

            p += 6;

            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (!hk_fast_utf16(p, end, cp)
                    || cp < 0xdc00 || cp > 0xdfff)
                {
                    return false;
                }

                p += 6;
            }

            break;

        default:
            return false;
        }
    }

    return true;
}


/*
 * The number at k_, JSON's grammar (yajl's): it must end at white space
 * or at the next token, as a token of stage 1 holds no other token.
 */

HK_FAST_INLINE bool
hk_fast_reader::number(const char *&s, size_t &len)
{
    const unsigned char  *p, *q, *end;

    if (k_ + 1 >= n_) {
        return false;
    }

    p = page_ + si_[k_];
    end = page_ + si_[k_ + 1];
    q = p;

    if (*q == '-') {
        q++;
    }

    if (q < end && *q == '0') {
        q++;

    } else if (q < end && hk_fast_digit(*q)) {
        while (q < end && hk_fast_digit(*q)) {
            q++;
        }

    } else {
        return false;
    }

    if (q < end && *q == '.') {
        q++;

        if (q == end || !hk_fast_digit(*q)) {
            return false;
        }

        while (q < end && hk_fast_digit(*q)) {
            q++;
        }
    }

    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;

        if (q < end && (*q == '+' || *q == '-')) {
            q++;
        }

        if (q == end || !hk_fast_digit(*q)) {
            return false;
        }

        while (q < end && hk_fast_digit(*q)) {
            q++;
        }
    }

    if (q < end && !hk_fast_space(*q)) {
        return false;
    }

    s = (const char *) p;
    len = (size_t) (q - p);
    k_++;

    return true;
}


/* true, false or null, ending as a number does */

HK_FAST_INLINE bool
hk_fast_reader::literal(const char *word, size_t len)
{
    size_t                room;
    const unsigned char  *p;

    if (k_ + 1 >= n_) {
        return false;
    }

    p = page_ + si_[k_];
    room = si_[k_ + 1] - si_[k_];

    if (room < len || memcmp(p, word, len) != 0
        || (room > len && !hk_fast_space(p[len])))
    {
        return false;
    }

    k_++;

    return true;
}


bool
hk_fast_reader::push(int skip, hk_skip_reason_t reason,
    const hk_extract_fields_t *f)
{
    hk_fast_event  *e;

    if (state_->nevents == state_->events_size) {
        size_t  size = state_->events_size ? 2 * state_->events_size : 64;

        e = (hk_fast_event *) realloc(state_->events,
                                      size * sizeof(hk_fast_event));
        if (e == NULL) {
            return false;
        }

        state_->events = e;
        state_->events_size = size;
    }

    e = &state_->events[state_->nevents++];

    e->skip = skip;
    e->reason = reason;
    e->position = position_++;

    if (f != NULL) {
        e->fields = *f;
    }

    return true;
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

    /* a thread-local in a shared object costs a call on each access */

    st = &hk_fast;

    if (len == 0 || !hk_fast_parser(st, len)) {
        return 0;
    }

    impl = st->parser->implementation.get();

    if (impl->stage1(buf, len, simdjson::stage1_mode::regular)
        != simdjson::SUCCESS)
    {
        return 0;
    }

    st->nevents = 0;

    hk_fast_reader  r(st, rules, buf, len, impl->structural_indexes.get(),
                      impl->n_structural_indexes);

    if (!r.document()) {
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
