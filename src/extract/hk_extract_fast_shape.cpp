/*
 * A page's results read against a shape: the walk (hk_extract_fast.cpp)
 * reads a page's first result token by token and writes down its shape,
 * each token's first byte and a step for each token that is more than
 * its first byte (a key the walk compares, a number, a string a result
 * keeps, a literal, a container a field is); the page's next results are
 * read here against it, and any that is unlike it goes back to the walk,
 * which learns it as the page's shape.
 *
 * Why: a page's results are written by one template, so they share one
 * shape, and reading one against it is a check of every token's first
 * byte, eight at a time, and of the few steps; the walk decides at each
 * token what may follow and what it is read for.  callgrind of hk-bench
 * micro on the 20-hotel bench page: the walk with its calls went from
 * 36.3k to 26.8k instructions a page.
 */

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "hk_extract_fast.h"


namespace hk_fast {

/*
 * Whether the key token at p, len bytes up to the next token, is the
 * learned one byte for byte: the walk would then compare it with the
 * names as it did that one, with the same outcome (hk_fast_named() reads
 * nothing past the token).  16 bytes are read at once: a key is
 * followed by its colon, a value and a closing bracket at least, or the
 * padding.
 */

HK_FAST_INLINE bool
hk_fast_same_key(const hk_fast_shape_key *k, const unsigned char *page,
    const unsigned char *p, size_t len)
{
    uint64_t  w[2];

    if (len != k->len) {
        return false;
    }

    memcpy(w, p, 16);

    return (((w[0] ^ k->word[0]) & k->mask[0])
            | ((w[1] ^ k->word[1]) & k->mask[1])) == 0
           && (len <= 16
               || memcmp(p + 16, page + k->offset + 16, len - 16) == 0);
}


/* the key token at *at as learned */

void
hk_fast_learn_key(hk_fast_shape_key *k, const unsigned char *page,
    const uint32_t *at)
{
    size_t  len, i;

    len = at[1] - at[0];

    k->offset = at[0];
    k->len = (uint32_t) len;

    memcpy(k->word, page + at[0], 16);

    for (i = 0; i < 2; i++) {
        k->mask[i] = len >= 8 * (i + 1) ? ~0ULL
                     : len <= 8 * i ? 0
                     : ~0ULL >> (64 - 8 * (len - 8 * i));
        k->word[i] &= k->mask[i];
    }
}


/*
 * The tokens' first bytes as learned, eight at a time: a gather of the
 * eight words the tokens start with (a token is followed by at least
 * three bytes, of the page or of its padding), their first bytes masked
 * and compared.  Indexes past the result's last token are not loaded:
 * the structural indexes may end there.
 */

#if defined(__x86_64__)

static const bool  hk_fast_avx2 = __builtin_cpu_supports("avx2");

static __attribute__((target("avx2"))) bool
hk_fast_firsts_avx2(const hk_fast_shape *sh, const unsigned char *page,
    const uint32_t *at)
{
    size_t   j, left;
    __m256i  idx, lanes, live, got, bad;

    static const int32_t  ramp[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };

    bad = _mm256_setzero_si256();
    lanes = _mm256_loadu_si256((const __m256i *) ramp);

    for (j = 0; j < sh->ntokens; j += 8) {
        left = sh->ntokens - j;

        live = left >= 8 ? _mm256_set1_epi32(-1)
                         : _mm256_cmpgt_epi32(_mm256_set1_epi32((int) left),
                                              lanes);

        idx = _mm256_maskload_epi32((const int *) (at + j), live);
        got = _mm256_mask_i32gather_epi32(_mm256_setzero_si256(),
                                          (const int *) page, idx, live, 1);

        got = _mm256_and_si256(got,
                  _mm256_loadu_si256((const __m256i *) (sh->care + j)));
        bad = _mm256_or_si256(bad,
                  _mm256_xor_si256(got,
                      _mm256_loadu_si256((const __m256i *) (sh->first + j))));
    }

    return _mm256_testz_si256(bad, bad);
}

#else

static const bool  hk_fast_avx2 = false;

static bool
hk_fast_firsts_avx2(const hk_fast_shape *sh, const unsigned char *page,
    const uint32_t *at)
{
    return false;
}

#endif


/*
 * The result object whose '{' is at *at, read against the page's learned
 * shape: true, with its fields in f, if each of its tokens is as learned.
 * The walk would then have taken the same steps through it as through
 * the learned one (what it does with a token follows from the tokens
 * before it, their first bytes and the compared keys), and the checks it
 * would have made of each token are made here.  false (f spoilt) as soon
 * as one is not, for the walk to read the result itself.
 */

bool
hk_fast_like(const hk_fast_shape *sh, const unsigned char *page,
    const uint32_t *at, hk_extract_fields_t &f)
{
    bool                      escaped;
    size_t                    j, len;
    unsigned                  b, bad;
    const char               *s;
    const uint32_t           *t;
    const hk_fast_step       *step, *end;
    const hk_fast_shape_key  *key;

    /* the first bytes, without a branch: most tokens are only that */

    if (hk_fast_avx2) {
        if (!hk_fast_firsts_avx2(sh, page, at)) {
            return false;
        }

    } else {
        bad = 0;

        for (j = 0; j < sh->ntokens; j++) {
            bad |= (page[at[j]] & sh->care[j]) ^ sh->first[j];
        }

        if (bad) {
            return false;
        }
    }

    memset(&f, 0, sizeof(f));
    key = sh->key;

    for (step = sh->step, end = step + sh->nsteps; step < end; step++) {
        t = at + step->token;

        switch (step->kind) {

        case HK_FAST_STEP_KEY:
            if (!hk_fast_same_key(key++, page, page + t[0], t[1] - t[0])) {
                return false;
            }

            for (b = step->fields; b; b &= b - 1) {
                f.value[__builtin_ctz(b)] = HK_VALUE_ABSENT;
            }

            break;

        case HK_FAST_STEP_OPEN:
            for (b = step->fields; b; b &= b - 1) {
                hk_extract_field_set(&f, __builtin_ctz(b),
                                     page[t[0]] == '{' ? HK_JSON_MAP
                                                       : HK_JSON_ARRAY,
                                     NULL, 0);
            }

            break;

        case HK_FAST_STEP_NUMBER:
            if (!hk_fast_number(page, t, s, len)) {
                return false;
            }

            for (b = step->fields; b; b &= b - 1) {
                hk_extract_field_set_text(&f, __builtin_ctz(b),
                                          HK_JSON_NUMBER, s, len);
            }

            break;

        case HK_FAST_STEP_STRING:
            if (!hk_fast_string(page, t, false, s, len, escaped)) {
                return false;
            }

            for (b = step->fields; b; b &= b - 1) {
                hk_extract_field_set_text(&f, __builtin_ctz(b),
                                          HK_JSON_STRING, s, len);
            }

            break;

        default: /* HK_FAST_STEP_LITERAL */
            if (!hk_fast_literal(page, t, page[t[0]])) {
                return false;
            }

            for (b = step->fields; b; b &= b - 1) {
                hk_extract_field_set_text(&f, __builtin_ctz(b),
                                          page[t[0]] == 'n' ? HK_JSON_NULL
                                                            : HK_JSON_BOOL,
                                          NULL, 0);
            }

            break;
        }
    }

    return true;
}

}  /* namespace hk_fast */
