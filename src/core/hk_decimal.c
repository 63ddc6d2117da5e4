/*
 * Exact decimal text to int64 micros (the inverse is in
 * hk_decimal_format.c).
 *
 * The parser never builds a floating point value.  It splits the text into
 * a digit string, a decimal point position and an exponent, drops leading
 * and trailing zeros, and then knows the exact power of ten the remaining
 * significant digits must be scaled by to give micros.  A negative power
 * means a non-zero digit below one micro: rejected, never rounded.  A
 * positive one is applied with overflow checks.  So "1e400" costs no more
 * than "1" and "0.000000000000000000000000000000001" is rejected without
 * any big-number arithmetic.
 */

#include "hk_decimal.h"


/*
 * Exponent digits beyond this are not accumulated: the value is then far
 * outside int64 micros anyway (or zero), and the sum with the digit count
 * below stays far from int64 overflow.
 */
#define HK_DECIMAL_EXP_CAP  1000000000000000LL

/* 10^19 > INT64_MAX: more significant digits than this always overflow */
#define HK_DECIMAL_MAX_DIGITS  19


/* a number's text cut into its parts, before any arithmetic */
typedef struct {
    int          neg;
    const char  *int_part;
    size_t       int_len;
    const char  *frac_part;
    size_t       frac_len;
    int64_t      exp;              /* capped at +-HK_DECIMAL_EXP_CAP */
} hk_decimal_parts_t;


static int hk_decimal_short(const char *s, size_t len, int64_t *out);
static size_t hk_decimal_run(const char **pp, const char *end, uint64_t *v);
static int hk_decimal_split(const char *s, size_t len, hk_decimal_parts_t *d);
static int64_t hk_decimal_exponent(const char **pp, const char *end);
static int hk_decimal_scale(const hk_decimal_parts_t *d, int64_t *out);
static int hk_decimal_is_digit(char c);
static char hk_decimal_digit_at(const hk_decimal_parts_t *d, size_t i);


int
hk_decimal_to_micros(const char *s, size_t len, int64_t *out)
{
    hk_decimal_parts_t  d;

    if (s == NULL) {
        return -1;
    }

    if (hk_decimal_short(s, len, out)) {
        return 0;
    }

    if (hk_decimal_split(s, len, &d) != 0) {
        return -1;
    }

    return hk_decimal_scale(&d, out);
}


/*
 * A rate as pages write it, [-]digits[.digits] with at most 12 integer
 * and 6 fractional digits: its micros at once, below 10^18, so without
 * the general path's splitting and checks (which were 7 % of a page's
 * reading, perf of hk-bench micro).  0 for anything else, which the
 * general path reads or rejects.  fuzz/fuzz_decimal.c holds the two to
 * the same value: it compares each number without an exponent, read
 * here, with the same number followed by "e0", read by the general path.
 */

static int
hk_decimal_short(const char *s, size_t len, int64_t *out)
{
    int          neg;
    size_t       n;
    uint64_t     mag, frac;
    const char  *p, *end;

    static const uint64_t  scale[] = {
        1000000, 100000, 10000, 1000, 100, 10, 1
    };

    p = s;
    end = s + len;

    neg = p < end && *p == '-';
    p += neg;

    n = hk_decimal_run(&p, end, &mag);

    if (n == 0 || n > 12) {
        return 0;
    }

    mag *= HK_DECIMAL_MICROS_PER_UNIT;

    if (p < end && *p == '.') {
        p++;
        n = hk_decimal_run(&p, end, &frac);

        if (n == 0 || n > 6) {
            return 0;
        }

        mag += frac * scale[n];
    }

    if (p != end) {
        return 0;
    }

    *out = neg ? -(int64_t) mag : (int64_t) mag;

    return 1;
}


/*
 * The run of digits at *pp, which moves past it: its length, and its
 * value in *v.  Unsigned: the value of a longer run than the short path
 * takes wraps harmlessly before its length refuses it.
 */

static size_t
hk_decimal_run(const char **pp, const char *end, uint64_t *v)
{
    const char  *p, *start;

    start = *pp;
    *v = 0;

    for (p = start; p < end && hk_decimal_is_digit(*p); p++) {
        *v = *v * 10 + (uint64_t) (*p - '0');
    }

    *pp = p;

    return (size_t) (p - start);
}


/* the syntax: [-]digits[.digits][(e|E)[+|-]digits], nothing else */

static int
hk_decimal_split(const char *s, size_t len, hk_decimal_parts_t *d)
{
    const char  *p, *end;

    p = s;
    end = s + len;

    d->neg = 0;

    if (p < end && *p == '-') {
        d->neg = 1;
        p++;
    }

    d->int_part = p;

    while (p < end && hk_decimal_is_digit(*p)) {
        p++;
    }

    d->int_len = (size_t) (p - d->int_part);

    if (d->int_len == 0) {
        /* "", "-", ".5", "NaN", "Infinity", "+1" */
        return -1;
    }

    d->frac_part = p;
    d->frac_len = 0;

    if (p < end && *p == '.') {
        p++;
        d->frac_part = p;

        while (p < end && hk_decimal_is_digit(*p)) {
            p++;
        }

        d->frac_len = (size_t) (p - d->frac_part);

        if (d->frac_len == 0) {
            /* "1." is not a JSON number */
            return -1;
        }
    }

    d->exp = 0;

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;

        d->exp = hk_decimal_exponent(&p, end);

        if (p == NULL) {
            return -1;
        }
    }

    /* trailing garbage, whitespace, a second '.', "1e5x" */

    return (p == end) ? 0 : -1;
}


/*
 * The exponent's [+|-]digits at *pp, capped; *pp moves past them, or is
 * set to NULL if there are no digits.
 */

static int64_t
hk_decimal_exponent(const char **pp, const char *end)
{
    int          neg;
    int64_t      exp;
    const char  *p;

    p = *pp;
    neg = 0;

    if (p < end && (*p == '+' || *p == '-')) {
        neg = (*p == '-');
        p++;
    }

    if (p == end || !hk_decimal_is_digit(*p)) {
        *pp = NULL;
        return 0;
    }

    exp = 0;

    while (p < end && hk_decimal_is_digit(*p)) {
        if (exp < HK_DECIMAL_EXP_CAP) {
            exp = exp * 10 + (*p - '0');
        }

        p++;
    }

    *pp = p;

    return neg ? -exp : exp;
}


/* the value in micros, exactly, or -1 */

static int
hk_decimal_scale(const hk_decimal_parts_t *d, int64_t *out)
{
    size_t    ndigits, first, last, i;
    int64_t   scale;
    uint64_t  mag, limit;

    ndigits = d->int_len + d->frac_len;

    for (first = 0; first < ndigits; first++) {
        if (hk_decimal_digit_at(d, first) != '0') {
            break;
        }
    }

    if (first == ndigits) {
        /* zero, whatever the exponent or sign */
        *out = 0;
        return 0;
    }

    for (last = ndigits - 1; last > first; last--) {
        if (hk_decimal_digit_at(d, last) != '0') {
            break;
        }
    }

    /*
     * The value in micros is digits[first..last] * 10^scale: the exponent,
     * plus 6 for micros, minus the fractional digits, plus the trailing
     * zeros dropped after "last".
     */
    scale = d->exp + 6 - (int64_t) d->frac_len
            + (int64_t) (ndigits - 1 - last);

    if (scale < 0) {
        /* a non-zero digit below one micro */
        return -1;
    }

    if ((int64_t) (last - first + 1) + scale > HK_DECIMAL_MAX_DIGITS) {
        return -1;
    }

    mag = 0;

    for (i = first; i <= last; i++) {
        mag = mag * 10 + (uint64_t) (hk_decimal_digit_at(d, i) - '0');
    }

    /* at most 19 digits in all: below 10^19 < 2^64, no wrap possible */
    while (scale-- > 0) {
        mag *= 10;
    }

    limit = d->neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;

    if (mag > limit) {
        return -1;
    }

    /* -(2^63) has no positive counterpart: negate in unsigned */

    *out = d->neg ? (int64_t) (0 - mag) : (int64_t) mag;

    return 0;
}


static int
hk_decimal_is_digit(char c)
{
    return c >= '0' && c <= '9';
}


/* digit i of the integer part followed by the fractional part */

static char
hk_decimal_digit_at(const hk_decimal_parts_t *d, size_t i)
{
    return i < d->int_len ? d->int_part[i] : d->frac_part[i - d->int_len];
}
