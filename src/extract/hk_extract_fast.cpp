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
 *     does not validate, it ended an array at a missing comma without an
 *     error (fuzz/fuzz_document.c found it in seconds);
 *   - the values are then read with the On-Demand API, which keeps a
 *     number's text (the DOM has only its double, and a rate must be
 *     converted exactly from its text), visiting only the results path
 *     and the fields' paths;
 *   - a root that is not an object or an array, a page without a results
 *     array: left to yajl, which makes the error (and its message);
 *   - results are collected first and handed over only when the whole
 *     document has been walked, so that a fault found after some results
 *     calls no handler twice.
 *
 * What a value means (an id, a rate, a currency, the skip reasons) is
 * decided by hk_extract_rules.c for both readings.  fuzz/fuzz_document.c
 * feeds the same inputs to both and compares every call.
 *
 * No C++ exception exists here (simdjson's error codes, no std
 * containers): nothing can unwind into nginx's C.  Both parsers and the
 * result buffer are per thread, allocated on first use and kept.
 */

#include <simdjson.h>

#include <cstdlib>
#include <cstring>
#include <utility>

extern "C" {
#include "hk_extract_rules.h"
}


static_assert(HK_EXTRACT_PADDING >= simdjson::SIMDJSON_PADDING,
              "hk_extract_document() promises simdjson its padding");


namespace {

using simdjson::SUCCESS;
namespace od = simdjson::ondemand;


/* a result or a skip, in the order the streaming extractor reports them */
struct hk_fast_event {
    int                  skip;
    hk_skip_reason_t     reason;
    uint32_t             position;
    hk_extract_fields_t  fields;
};


struct hk_fast_state {
    simdjson::dom::parser  *validator;
    od::parser             *reader;
    size_t                  depth;       /* the validator's max_depth */
    hk_fast_event          *events;
    size_t                  nevents;
    size_t                  size;
};


thread_local hk_fast_state  hk_fast;


/*
 * Reads a validated document: the results array at the results path
 * (the first one, as the streaming extractor takes), and in each result
 * the fields' paths; every other value is skipped by simdjson unread.
 */
class hk_fast_reader {
public:
    explicit hk_fast_reader(const hk_extract_rules_t *rules)
        : rules_(rules), found_(false), position_(0) {}

    bool search(od::value v, size_t level);
    bool found() const { return found_; }

private:
    bool results(od::array a);
    bool element(od::value v);
    bool fields(od::object o, size_t level, unsigned mask,
                hk_extract_fields_t &f);
    bool scalar(od::value v, od::json_type t, hk_json_type_t &type,
                const char *&s, size_t &len);
    bool key(od::field &field, const char *&s, size_t &len);
    bool push(int skip, hk_skip_reason_t reason,
              const hk_extract_fields_t *f);

    const hk_extract_rules_t  *rules_;
    bool                       found_;
    uint32_t                   position_;
};


/* a token's text without the blanks simdjson leaves after it */

std::string_view
hk_fast_trim(std::string_view t)
{
    while (!t.empty()) {
        char  c = t.back();

        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            break;
        }

        t.remove_suffix(1);
    }

    return t;
}


/*
 * The length of a validated string's raw text from just after its
 * opening quote, and whether it holds an escape (then only simdjson's
 * unescaping gives its text).
 */

size_t
hk_fast_raw_string(const char *p, bool *escaped)
{
    size_t  i;

    *escaped = false;

    for (i = 0; p[i] != '"'; i++) {
        if (p[i] == '\\') {
            *escaped = true;
            i++;
        }
    }

    return i;
}


/* a value reached along results_path[0..level), while none was found */

bool
hk_fast_reader::search(od::value v, size_t level)
{
    size_t                    klen;
    const char               *k;
    od::json_type             t;
    od::object                o;
    od::array                 a;
    const hk_extract_comp_t  *c;

    if (found_) {
        return true;
    }

    if (v.type().get(t) != SUCCESS) {
        return false;
    }

    if (level == rules_->results_path.ncomps) {
        if (t != od::json_type::array) {
            return true;
        }

        return v.get_array().get(a) == SUCCESS && results(a);
    }

    if (t != od::json_type::object) {
        return true;
    }

    if (v.get_object().get(o) != SUCCESS) {
        return false;
    }

    c = &rules_->results_path.comp[level];

    for (auto field_result : o) {
        od::field  field;

        if (std::move(field_result).get(field) != SUCCESS
            || !key(field, k, klen))
        {
            return false;
        }

        if (klen == c->len && memcmp(k, c->name, klen) == 0
            && !search(field.value(), level + 1))
        {
            return false;
        }
    }

    return true;
}


bool
hk_fast_reader::results(od::array a)
{
    found_ = true;

    for (auto element_result : a) {
        od::value  e;

        if (element_result.get(e) != SUCCESS || !element(e)) {
            return false;
        }
    }

    return true;
}


bool
hk_fast_reader::element(od::value v)
{
    od::json_type        t;
    od::object           o;
    hk_extract_fields_t  f;

    if (v.type().get(t) != SUCCESS) {
        return false;
    }

    if (t != od::json_type::object) {
        return push(1, HK_SKIP_NOT_OBJECT, NULL);
    }

    if (v.get_object().get(o) != SUCCESS) {
        return false;
    }

    memset(&f, 0, sizeof(f));

    return fields(o, 0, HK_FIELDS_ALL, f) && push(0, HK_SKIP_NREASONS, &f);
}


/*
 * The keys of an object at a level of the field paths; mask: the fields
 * whose path still runs through it.  The rules of hk_extract.c's
 * hk_extract_on_map_key() and hk_extract_field_value(): a key on a
 * field's path forgets that field's earlier value (the last duplicate
 * wins), a value at a path's end is the field's, and only an object
 * continues a path.
 */

bool
hk_fast_reader::fields(od::object o, size_t level, unsigned mask,
    hk_extract_fields_t &f)
{
    int             i;
    size_t          klen, len;
    unsigned        leaf, deeper;
    const char     *k, *s;
    od::json_type   t;
    od::object      sub;
    hk_json_type_t  type;

    for (auto field_result : o) {
        od::field  field;

        if (std::move(field_result).get(field) != SUCCESS
            || !key(field, k, klen))
        {
            return false;
        }

        leaf = 0;
        deeper = 0;

        for (i = 0; i < HK_NFIELDS; i++) {
            const hk_extract_comp_t  *c;

            if (!(mask & (1u << i))) {
                continue;
            }

            c = &rules_->fields[i].comp[level];

            if (c->len != klen || memcmp(c->name, k, klen) != 0) {
                continue;
            }

            f.value[i] = HK_VALUE_ABSENT;

            if (rules_->fields[i].ncomps == level + 1) {
                leaf |= 1u << i;

            } else {
                deeper |= 1u << i;
            }
        }

        if (leaf == 0 && deeper == 0) {
            continue;
        }

        od::value  v = field.value();

        if (v.type().get(t) != SUCCESS) {
            return false;
        }

        if (t == od::json_type::object || t == od::json_type::array) {
            for (i = 0; i < HK_NFIELDS; i++) {
                if (leaf & (1u << i)) {
                    hk_extract_field_set(&f, i,
                                         t == od::json_type::object
                                         ? HK_JSON_MAP : HK_JSON_ARRAY,
                                         NULL, 0);
                }
            }

            if (t == od::json_type::object && deeper
                && (v.get_object().get(sub) != SUCCESS
                    || !fields(sub, level + 1, deeper, f)))
            {
                return false;
            }

            continue;
        }

        if (!scalar(v, t, type, s, len)) {
            return false;
        }

        for (i = 0; i < HK_NFIELDS; i++) {
            if (leaf & (1u << i)) {
                hk_extract_field_set(&f, i, type, s, len);
            }
        }
    }

    return true;
}


/*
 * A scalar's type and text: a string's decoded text (in the input when it
 * has no escape, else in the reader's string buffer), a number's text as
 * it stands in the page, NULL for a literal.
 */

bool
hk_fast_reader::scalar(od::value v, od::json_type t, hk_json_type_t &type,
    const char *&s, size_t &len)
{
    bool              escaped;
    std::string_view  text;

    s = NULL;
    len = 0;

    switch (t) {

    case od::json_type::string:
        type = HK_JSON_STRING;
        text = v.raw_json_token();
        len = hk_fast_raw_string(text.data() + 1, &escaped);

        if (!escaped) {
            s = text.data() + 1;
            return true;
        }

        if (v.get_string().get(text) != SUCCESS) {
            return false;
        }

        s = text.data();
        len = text.size();
        return true;

    case od::json_type::number:
        type = HK_JSON_NUMBER;
        text = hk_fast_trim(v.raw_json_token());
        s = text.data();
        len = text.size();
        return true;

    case od::json_type::boolean:
        type = HK_JSON_BOOL;
        return true;

    case od::json_type::null:
        type = HK_JSON_NULL;
        return true;

    default:
        return false;
    }
}


/* a key's decoded text, as a string's */

bool
hk_fast_reader::key(od::field &field, const char *&s, size_t &len)
{
    bool              escaped;
    const char       *raw;
    std::string_view  text;

    raw = field.key().raw();
    len = hk_fast_raw_string(raw, &escaped);

    if (!escaped) {
        s = raw;
        return true;
    }

    if (field.unescaped_key().get(text) != SUCCESS) {
        return false;
    }

    s = text.data();
    len = text.size();

    return true;
}


bool
hk_fast_reader::push(int skip, hk_skip_reason_t reason,
    const hk_extract_fields_t *f)
{
    hk_fast_event  *e;

    if (hk_fast.nevents == hk_fast.size) {
        size_t  size = hk_fast.size ? 2 * hk_fast.size : 64;

        e = (hk_fast_event *) realloc(hk_fast.events,
                                      size * sizeof(hk_fast_event));
        if (e == NULL) {
            return false;
        }

        hk_fast.events = e;
        hk_fast.size = size;
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


/* the parsers, allocated once per thread and grown to the largest page */

bool
hk_fast_parsers(const hk_extract_rules_t *rules, size_t len)
{
    if (hk_fast.validator == NULL) {
        hk_fast.validator = new (std::nothrow) simdjson::dom::parser();
        hk_fast.reader = new (std::nothrow) od::parser();

        if (hk_fast.validator == NULL || hk_fast.reader == NULL) {
            return false;
        }
    }

    /*
     * The validator's nesting limit is the streaming extractor's: a
     * deeper document is refused, and yajl then says why.
     */

    if (hk_fast.validator->capacity() < len
        || hk_fast.depth != rules->max_depth)
    {
        if (hk_fast.validator->allocate(len, rules->max_depth) != SUCCESS) {
            hk_fast.depth = 0;
            return false;
        }

        hk_fast.depth = rules->max_depth;
    }

    return hk_fast.reader->capacity() >= len
           || hk_fast.reader->allocate(len) == SUCCESS;
}


}  /* namespace */


extern "C" int
hk_extract_fast(const hk_extract_rules_t *rules,
    const hk_extract_handlers_t *h, void *data, const unsigned char *buf,
    size_t len)
{
    size_t                  i;
    od::value               root;
    od::json_type           t;
    od::document            doc;
    hk_fast_event          *e;
    simdjson::dom::element  validated;

    if (!hk_fast_parsers(rules, len)) {
        return 0;
    }

    if (hk_fast.validator->parse(buf, len, false).get(validated) != SUCCESS
        || !(validated.is_object() || validated.is_array()))
    {
        return 0;
    }

    hk_fast.nevents = 0;

    hk_fast_reader  r(rules);

    if (hk_fast.reader->iterate((const char *) buf, len,
                                len + HK_EXTRACT_PADDING).get(doc)
        != SUCCESS
        || doc.type().get(t) != SUCCESS
        || doc.get_value().get(root) != SUCCESS
        || !r.search(root, 0)
        || !r.found())
    {
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
