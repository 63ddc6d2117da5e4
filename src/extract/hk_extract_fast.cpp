/*
 * A whole result page read with simdjson, for hk_extract_document(): the
 * same handler calls as the streaming (yajl) extractor, faster, or none
 * at all.
 *
 * The streaming extractor is the reference.  This reading must give
 * exactly its outcome, so it validates what yajl validates, and whenever
 * it meets anything it cannot be sure to read as yajl does it gives up
 * before calling a handler, and the streaming extractor reads the page:
 *
 *   - validation is simdjson's DOM parser, which checks the whole
 *     document (the grammar, UTF-8, unescaped control characters in
 *     strings, escapes and their surrogates, numbers) and fails where
 *     yajl would (or where yajl would not: a number beyond a double, a
 *     surrogate pair yajl decodes otherwise), nesting deeper than the
 *     rules' max_depth included.  Measured: the On-Demand API alone
 *     does not validate; it ended an array at a missing comma without an
 *     error (fuzz/fuzz_document.c found it in seconds);
 *   - the values are then read from the DOM parser's tape (the parsed
 *     document as an array of words, containers pointing past their
 *     ends, so that what is not on a path is skipped in one step).  A
 *     rate must be converted exactly from its text, and the tape holds a
 *     number only as a double or an integer: the text is found through
 *     stage 1's structural indexes, which name, in the same order as the
 *     tape's entries, where each token starts in the page.  The two are
 *     walked together once, each token's first byte checked against its
 *     tape entry's type, so that a change of these internals in another
 *     simdjson declines every page rather than reading wrongly.  (The
 *     On-Demand API keeps a number's text, but reading with it after the
 *     validation cost more than the validation itself: 67k instructions
 *     a page of 20 hotels against the tape's few thousand.)
 *   - a root that is not an object or an array, a page without a results
 *     array: left to yajl, which makes the error (and its message);
 *   - results are collected first and handed over only when the whole
 *     document has been read, so that a fault found after some results
 *     calls no handler twice.
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
              "hk_extract_fast.cpp reads simdjson 3's tape: check its format");
static_assert(HK_EXTRACT_PADDING >= simdjson::SIMDJSON_PADDING,
              "hk_extract_document() promises simdjson its padding");


namespace {

using simdjson::SUCCESS;


/* a result or a skip, in the order the streaming extractor reports them */
struct hk_fast_event {
    int                  skip;
    hk_skip_reason_t     reason;
    uint32_t             position;
    hk_extract_fields_t  fields;
};


struct hk_fast_state {
    simdjson::dom::parser  *parser;
    size_t                  depth;       /* the parser's max_depth */
    uint32_t               *at;          /* a tape entry's byte in the page */
    size_t                  at_size;
    hk_fast_event          *events;
    size_t                  nevents;
    size_t                  events_size;
};


thread_local hk_fast_state  hk_fast;


/* the tape's words: the type in the top byte, a value below it */

inline char
hk_tape_type(const uint64_t *tape, size_t i)
{
    return (char) (tape[i] >> 56);
}


/* the entry after the value at i: past a container's end, a number's two */

inline size_t
hk_tape_after(const uint64_t *tape, size_t i)
{
    switch (hk_tape_type(tape, i)) {
    case '{':
    case '[':
        return (uint32_t) tape[i];
    case 'l':
    case 'u':
    case 'd':
        return i + 2;
    default:
        return i + 1;
    }
}


class hk_fast_reader {
public:
    hk_fast_reader(const hk_extract_rules_t *rules, const uint64_t *tape,
                   const uint8_t *strings, const unsigned char *page)
        : rules_(rules), tape_(tape), strings_(strings), page_(page),
          found_(false), position_(0) {}

    bool search(size_t i, size_t level);
    bool found() const { return found_; }

private:
    bool results(size_t i);
    bool element(size_t i);
    bool fields(size_t i, size_t level, unsigned mask,
                hk_extract_fields_t &f);
    void scalar(size_t i, hk_json_type_t &type, const char *&s,
                size_t &len);
    void string(size_t i, const char *&s, size_t &len);
    bool push(int skip, hk_skip_reason_t reason,
              const hk_extract_fields_t *f);

    const hk_extract_rules_t  *rules_;
    const uint64_t            *tape_;
    const uint8_t             *strings_;
    const unsigned char       *page_;
    bool                       found_;
    uint32_t                   position_;
};


/* a value reached along results_path[0..level), while none was found */

bool
hk_fast_reader::search(size_t i, size_t level)
{
    size_t                    j, end, klen;
    const char               *k;
    const hk_extract_comp_t  *c;

    if (found_) {
        return true;
    }

    if (level == rules_->results_path.ncomps) {
        return hk_tape_type(tape_, i) != '[' || results(i);
    }

    if (hk_tape_type(tape_, i) != '{') {
        return true;
    }

    c = &rules_->results_path.comp[level];
    end = hk_tape_after(tape_, i) - 1;

    for (j = i + 1; j < end; j = hk_tape_after(tape_, j + 1)) {
        string(j, k, klen);

        if (klen == c->len && memcmp(k, c->name, klen) == 0
            && !search(j + 1, level + 1))
        {
            return false;
        }
    }

    return true;
}


bool
hk_fast_reader::results(size_t i)
{
    size_t  j, end;

    found_ = true;
    end = hk_tape_after(tape_, i) - 1;

    for (j = i + 1; j < end; j = hk_tape_after(tape_, j)) {
        if (!element(j)) {
            return false;
        }
    }

    return true;
}


bool
hk_fast_reader::element(size_t i)
{
    hk_extract_fields_t  f;

    if (hk_tape_type(tape_, i) != '{') {
        return push(1, HK_SKIP_NOT_OBJECT, NULL);
    }

    memset(&f, 0, sizeof(f));

    return fields(i, 0, HK_FIELDS_ALL, f) && push(0, HK_SKIP_NREASONS, &f);
}


/*
 * The keys of the object at i, at a level of the field paths; mask: the
 * fields whose path still runs through it.  The rules of hk_extract.c's
 * hk_extract_on_map_key() and hk_extract_field_value(): a key on a
 * field's path forgets that field's earlier value (the last duplicate
 * wins), a value at a path's end is the field's, and only an object
 * continues a path.
 */

bool
hk_fast_reader::fields(size_t i, size_t level, unsigned mask,
    hk_extract_fields_t &f)
{
    int             n;
    char            t;
    size_t          j, end, klen, len;
    unsigned        leaf, deeper;
    const char     *k, *s;
    hk_json_type_t  type;

    end = hk_tape_after(tape_, i) - 1;

    for (j = i + 1; j < end; j = hk_tape_after(tape_, j + 1)) {
        string(j, k, klen);

        leaf = 0;
        deeper = 0;

        for (n = 0; n < HK_NFIELDS; n++) {
            const hk_extract_comp_t  *c;

            if (!(mask & (1u << n))) {
                continue;
            }

            c = &rules_->fields[n].comp[level];

            if (c->len != klen || c->name[0] != k[0]
                || memcmp(c->name, k, klen) != 0)
            {
                continue;
            }

            f.value[n] = HK_VALUE_ABSENT;

            if (rules_->fields[n].ncomps == level + 1) {
                leaf |= 1u << n;

            } else {
                deeper |= 1u << n;
            }
        }

        if (leaf == 0 && deeper == 0) {
            continue;
        }

        t = hk_tape_type(tape_, j + 1);

        if (t == '{' || t == '[') {
            for (n = 0; n < HK_NFIELDS; n++) {
                if (leaf & (1u << n)) {
                    hk_extract_field_set(&f, n,
                                         t == '{' ? HK_JSON_MAP
                                                  : HK_JSON_ARRAY,
                                         NULL, 0);
                }
            }

            if (t == '{' && deeper && !fields(j + 1, level + 1, deeper, f)) {
                return false;
            }

            continue;
        }

        scalar(j + 1, type, s, len);

        for (n = 0; n < HK_NFIELDS; n++) {
            if (leaf & (1u << n)) {
                hk_extract_field_set(&f, n, type, s, len);
            }
        }
    }

    return true;
}


/*
 * A scalar's type and text: a string's decoded text (from the tape's
 * string buffer), a number's text as it stands in the page, NULL for a
 * literal.
 */

void
hk_fast_reader::scalar(size_t i, hk_json_type_t &type, const char *&s,
    size_t &len)
{
    const unsigned char  *p, *q;

    s = NULL;
    len = 0;

    switch (hk_tape_type(tape_, i)) {

    case '"':
        type = HK_JSON_STRING;
        string(i, s, len);
        return;

    case 'l':
    case 'u':
    case 'd':
        type = HK_JSON_NUMBER;

        p = page_ + hk_fast.at[i];

        for (q = p; (*q >= '0' && *q <= '9') || *q == '-' || *q == '+'
                    || *q == '.' || *q == 'e' || *q == 'E'; q++)
        {
            /* void */
        }

        s = (const char *) p;
        len = (size_t) (q - p);
        return;

    case 't':
    case 'f':
        type = HK_JSON_BOOL;
        return;

    default:
        type = HK_JSON_NULL;
        return;
    }
}


/* a string entry's decoded text: its length, then its bytes */

void
hk_fast_reader::string(size_t i, const char *&s, size_t &len)
{
    uint32_t        n;
    const uint8_t  *p;

    p = strings_ + (tape_[i] & simdjson::internal::JSON_VALUE_MASK);

    memcpy(&n, p, sizeof(n));

    s = (const char *) p + sizeof(n);
    len = n;
}


bool
hk_fast_reader::push(int skip, hk_skip_reason_t reason,
    const hk_extract_fields_t *f)
{
    hk_fast_event  *e;

    if (hk_fast.nevents == hk_fast.events_size) {
        size_t  size = hk_fast.events_size ? 2 * hk_fast.events_size : 64;

        e = (hk_fast_event *) realloc(hk_fast.events,
                                      size * sizeof(hk_fast_event));
        if (e == NULL) {
            return false;
        }

        hk_fast.events = e;
        hk_fast.events_size = size;
    }

    e = &hk_fast.events[hk_fast.nevents++];

    e->skip = skip;
    e->reason = reason;
    e->position = position_++;

    if (f != NULL) {
        e->fields = *f;
    }

    return true;
}


/*
 * Where each tape entry's token starts in the page, from stage 1's
 * structural indexes: the tape has an entry for each of them in order,
 * but for commas and colons.  false if they do not line up.
 */

bool
hk_fast_positions(const uint64_t *tape, size_t last,
    const unsigned char *page)
{
    char             t;
    size_t           i, k, n;
    uint32_t        *at;
    unsigned char    c;
    const uint32_t  *si;

    if (hk_fast.at_size < last) {
        at = (uint32_t *) realloc(hk_fast.at, last * sizeof(uint32_t));
        if (at == NULL) {
            return false;
        }

        hk_fast.at = at;
        hk_fast.at_size = last;
    }

    at = hk_fast.at;
    si = hk_fast.parser->implementation->structural_indexes.get();
    n = hk_fast.parser->implementation->n_structural_indexes;
    i = 1;

    for (k = 0; k < n && i < last; k++) {
        c = page[si[k]];

        if (c == ',' || c == ':') {
            continue;
        }

        t = hk_tape_type(tape, i);
        at[i] = si[k];

        if (c == '-' || (c >= '0' && c <= '9')) {
            if (t != 'l' && t != 'u' && t != 'd') {
                return false;
            }

            i += 2;

        } else if ((char) c == t) {
            i++;

        } else {
            return false;
        }
    }

    return i == last;
}


/* the parser, allocated once per thread and grown to the largest page */

bool
hk_fast_parser(const hk_extract_rules_t *rules, size_t len)
{
    if (hk_fast.parser == NULL) {
        hk_fast.parser = new (std::nothrow) simdjson::dom::parser();

        if (hk_fast.parser == NULL) {
            return false;
        }
    }

    /*
     * Its nesting limit is the streaming extractor's: a deeper document
     * is refused, and yajl then says why.
     */

    if (hk_fast.parser->capacity() < len || hk_fast.depth != rules->max_depth)
    {
        if (hk_fast.parser->allocate(len, rules->max_depth) != SUCCESS) {
            hk_fast.depth = 0;
            return false;
        }

        hk_fast.depth = rules->max_depth;
    }

    return true;
}


}  /* namespace */


extern "C" int
hk_extract_fast(const hk_extract_rules_t *rules,
    const hk_extract_handlers_t *h, void *data, const unsigned char *buf,
    size_t len)
{
    size_t                  i, last;
    hk_fast_event          *e;
    const uint64_t         *tape;
    simdjson::dom::element  root;

    if (!hk_fast_parser(rules, len)
        || hk_fast.parser->parse(buf, len, false).get(root) != SUCCESS
        || !(root.is_object() || root.is_array()))
    {
        return 0;
    }

    /* word 0 is the root, pointing past the last word, the root again */

    tape = hk_fast.parser->doc.tape.get();
    last = (size_t) (tape[0] & simdjson::internal::JSON_VALUE_MASK) - 1;

    if (!hk_fast_positions(tape, last, buf)) {
        return 0;
    }

    hk_fast.nevents = 0;

    hk_fast_reader  r(rules, tape, hk_fast.parser->doc.string_buf.get(), buf);

    if (!r.search(1, 0) || !r.found()) {
        return 0;
    }

    for (i = 0; i < hk_fast.nevents; i++) {
        e = &hk_fast.events[i];

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
