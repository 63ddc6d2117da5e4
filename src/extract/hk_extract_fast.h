/*
 * What the two halves of the simdjson reading share (hk_extract_fast.cpp,
 * the walk; hk_extract_fast_shape.cpp, the results read against a learned
 * shape): the per-thread state, and the scalars' own syntax, inlined into
 * both.  Internal to src/extract, C++.
 */

#ifndef HK_EXTRACT_FAST_H
#define HK_EXTRACT_FAST_H

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


/* hidden: nothing here is the module's interface */
namespace hk_fast __attribute__((visibility("hidden"))) {

/* deeper pages are left to yajl: the walk's frames are on the stack */
constexpr size_t  HK_FAST_MAX_DEPTH = 1024;


/* a result or a skip, in the order the streaming extractor reports them */
struct hk_fast_event {
    int                  skip;
    hk_skip_reason_t     reason;
    uint32_t             position;
    hk_extract_fields_t  fields;
};


/*
 * A result's shape, learned from the first result of a page the walk
 * reads token by token (hk_fast_walk()), for the page's next results to
 * be read against (hk_fast_like()): each token's first byte, and a step
 * for each token that is more than its first byte.
 */

enum {
    HK_FAST_STEP_CHAR,     /* the token's first byte is c: nothing else */
    HK_FAST_STEP_KEY,      /* a compared key: the same bytes as the one */
                           /* learned; fields: those it forgets */
    HK_FAST_STEP_OPEN,     /* c opens a container the fields are (MAP, */
                           /* ARRAY) */
    HK_FAST_STEP_NUMBER,   /* a number, the fields' value (or none's) */
    HK_FAST_STEP_STRING,   /* a string, the fields' value */
    HK_FAST_STEP_LITERAL   /* c's literal, the fields' value (or none's) */
};


struct hk_fast_step {
    uint16_t  token;       /* from the result's first */
    uint8_t   kind;
    uint8_t   fields;
};


/* a compared key: its token's bytes, up to the next token, as learned */
struct hk_fast_shape_key {
    uint32_t  offset;      /* in the page, for a key longer than 16 */
    uint32_t  len;
    uint64_t  word[2];     /* its first 16 bytes, 0-padded */
    uint64_t  mask[2];     /* the bits of word a key of len holds */
};


/* a result of more tokens or keys is read token by token, every time */
constexpr size_t  HK_FAST_MAX_STEPS = 512;
constexpr size_t  HK_FAST_MAX_KEYS = 128;


struct hk_fast_shape {
    size_t             ntokens;        /* 0: none learned */
    size_t             nsteps;
    size_t             nkeys;

    /*
     * Each token's first byte, and the bits of it to compare: 0xff, or
     * none for a number (its first byte is one of eleven, and the number
     * is checked whole).  Zero past the last token, to whole vectors.
     */
    uint32_t           first[HK_FAST_MAX_STEPS];
    uint32_t           care[HK_FAST_MAX_STEPS];

    hk_fast_step       step[HK_FAST_MAX_STEPS];
    hk_fast_shape_key  key[HK_FAST_MAX_KEYS];
};


struct hk_fast_state {
    simdjson::dom::parser  *parser;
    hk_fast_event          *events;
    size_t                  nevents;
    size_t                  events_size;
    hk_fast_shape           shape;
};


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
 * A string's escapes are those yajl accepts.  \u0000 (which yajl's
 * decoding drops) and a UTF-16 surrogate that is not the first half of
 * a pair (which yajl pairs its own way) are declined.
 */

HK_FAST_INLINE bool
hk_fast_escapes(const unsigned char *p, const unsigned char *end)
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
 * The scalars' own syntax.  Each reads the token at *at, the next token
 * starting at at[1]: after the last token, simdjson's sentinel, the
 * page's end.
 */

HK_FAST_INLINE bool
hk_fast_string(const unsigned char *page, const uint32_t *at,
    bool backslashes, const char *&s, size_t &len, bool &escaped)
{
    size_t  start, end;

    /*
     * A string ends at its closing quote, the last byte before the next
     * token but for white space: stage 1 starts a token at anything but
     * white space after a string.  Its UTF-8 and control characters are
     * stage 1's; its escapes are checked here.
     */

    start = at[0];
    end = at[1];

    while (end > start + 1 && hk_fast_space(page[end - 1])) {
        end--;
    }

    if (end < start + 2 || page[end - 1] != '"') {
        return false;
    }

    s = (const char *) page + start + 1;
    len = end - start - 2;
    escaped = backslashes
              && hk_fast_backslash((const unsigned char *) s, len);

    return !escaped
           || hk_fast_escapes((const unsigned char *) s,
                              (const unsigned char *) s + len);
}


/*
 * The usual number, [-]digits[.digits] in at most eight bytes with the
 * next token right after it, checked in one word: a page's rates and
 * coordinates, most of its numbers.  false is no verdict: the number is
 * then read byte by byte (hk_fast_number()).
 */

HK_FAST_INLINE bool
hk_fast_short_number(const unsigned char *p, size_t n, const char *&s,
    size_t &len)
{
    size_t    i, d;
    uint64_t  w, x, other;

    static const uint64_t  zeros = 0x3030303030303030ULL;
    static const uint64_t  lows = 0x7f7f7f7f7f7f7f7fULL;
    static const uint64_t  sixes = 0x7676767676767676ULL;
    static const uint64_t  highs = 0x8080808080808080ULL;

    if (n == 0 || n > 8) {
        return false;
    }

    /*
     * A byte less '0' is a digit if below 10: adding 0x76 to its low
     * seven bits sets the high bit of any other (no carry leaves a
     * byte), as does its own high bit.  other: the non-digits' high bits
     * in the number's n bytes, a leading minus left out.
     */

    memcpy(&w, p, 8);
    x = w ^ zeros;
    other = (((x & lows) + sixes) | x) & highs & (~0ULL >> (64 - 8 * n));

    i = p[0] == '-';
    other &= ~((uint64_t) i << 7);

    if (other == 0) {
        /* an integer: a digit at least, no leading zero but "0" itself */
        if (n == i || (p[i] == '0' && n > i + 1)) {
            return false;
        }

    } else {
        /* one point, with digits on both sides, "0" or no zero before */

        if (other & (other - 1)) {
            return false;
        }

        d = (size_t) __builtin_ctzll(other) / 8;

        if (p[d] != '.' || d == i || d == n - 1
            || (p[i] == '0' && d > i + 1))
        {
            return false;
        }
    }

    s = (const char *) p;
    len = n;

    return true;
}


/* JSON's grammar for a number (yajl's), ending at white space or a token */

HK_FAST_INLINE bool
hk_fast_number(const unsigned char *page, const uint32_t *at,
    const char *&s, size_t &len)
{
    const unsigned char  *p, *q, *end;

    p = page + at[0];
    end = page + at[1];

    if (hk_fast_short_number(p, (size_t) (end - p), s, len)) {
        return true;
    }

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

    s = (const char *) p;
    len = (size_t) (q - p);

    return q == end || hk_fast_space(*q);
}


/* the literal word of len bytes at *at, ending as a number does */

HK_FAST_INLINE bool
hk_fast_word(const unsigned char *page, const uint32_t *at,
    const char *word, size_t len)
{
    size_t  room;

    room = at[1] - at[0];

    return room >= len && memcmp(page + at[0], word, len) == 0
           && (room == len || hk_fast_space(page[at[0] + len]));
}


/*
 * true, false or null as its first byte c says.  Each word is given
 * with its length as constants: memcmp() is then a compare or two
 * inlined, not a call (callgrind: 29 instructions a literal more when
 * the word was chosen at run time).
 */

HK_FAST_INLINE bool
hk_fast_literal(const unsigned char *page, const uint32_t *at,
    unsigned char c)
{
    switch (c) {
    case 't':
        return hk_fast_word(page, at, "true", 4);
    case 'f':
        return hk_fast_word(page, at, "false", 5);
    default:
        return hk_fast_word(page, at, "null", 4);
    }
}


/*
 * The key token at *at written down for a shape (hk_fast_walk() learning
 * a result), and the result whose '{' is at *at read against the shape
 * (hk_extract_fast_shape.cpp).
 */

void hk_fast_learn_key(hk_fast_shape_key *k, const unsigned char *page,
    const uint32_t *at);
bool hk_fast_like(const hk_fast_shape *sh, const unsigned char *page,
    const uint32_t *at, hk_extract_fields_t &f);

}  /* namespace hk_fast */

#endif /* HK_EXTRACT_FAST_H */
