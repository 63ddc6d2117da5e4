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


static int hk_decimal_is_digit(char c);
static char hk_decimal_digit_at(const char *int_part, size_t int_len,
    const char *frac_part, size_t i);


int
hk_decimal_to_micros(const char *s, size_t len, int64_t *out)
{
    int          neg, exp_neg;
    char         c;
    size_t       int_len, frac_len, ndigits, first, last, i;
    int64_t      exp, scale;
    uint64_t     mag, limit;
    const char  *p, *end, *int_part, *frac_part;

    if (s == NULL) {
        return -1;
    }

    p = s;
    end = s + len;

    neg = 0;

    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }

    int_part = p;

    while (p < end && hk_decimal_is_digit(*p)) {
        p++;
    }

    int_len = (size_t) (p - int_part);

    if (int_len == 0) {
        /* "", "-", ".5", "NaN", "Infinity", "+1" */
        return -1;
    }

    frac_part = p;
    frac_len = 0;

    if (p < end && *p == '.') {
        p++;
        frac_part = p;

        while (p < end && hk_decimal_is_digit(*p)) {
            p++;
        }

        frac_len = (size_t) (p - frac_part);

        if (frac_len == 0) {
            /* "1." is not a JSON number */
            return -1;
        }
    }

    exp = 0;

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        exp_neg = 0;

        if (p < end && (*p == '+' || *p == '-')) {
            exp_neg = (*p == '-');
            p++;
        }

        if (p == end || !hk_decimal_is_digit(*p)) {
            return -1;
        }

        while (p < end && hk_decimal_is_digit(*p)) {
            if (exp < HK_DECIMAL_EXP_CAP) {
                exp = exp * 10 + (*p - '0');
            }

            p++;
        }

        if (exp_neg) {
            exp = -exp;
        }
    }

    if (p != end) {
        /* trailing garbage, whitespace, a second '.', "1e5x" */
        return -1;
    }

    ndigits = int_len + frac_len;

    for (first = 0; first < ndigits; first++) {
        if (hk_decimal_digit_at(int_part, int_len, frac_part, first) != '0') {
            break;
        }
    }

    if (first == ndigits) {
        /* zero, whatever the exponent or sign */
        *out = 0;
        return 0;
    }

    for (last = ndigits - 1; last > first; last--) {
        if (hk_decimal_digit_at(int_part, int_len, frac_part, last) != '0') {
            break;
        }
    }

    /*
     * The value in micros is digits[first..last] * 10^scale: the exponent,
     * plus 6 for micros, minus the fractional digits, plus the trailing
     * zeros dropped after "last".
     */
    scale = exp + 6 - (int64_t) frac_len + (int64_t) (ndigits - 1 - last);

    if (scale < 0) {
        /* a non-zero digit below one micro */
        return -1;
    }

    if ((int64_t) (last - first + 1) + scale > HK_DECIMAL_MAX_DIGITS) {
        return -1;
    }

    mag = 0;

    for (i = first; i <= last; i++) {
        c = hk_decimal_digit_at(int_part, int_len, frac_part, i);
        mag = mag * 10 + (uint64_t) (c - '0');
    }

    /* at most 19 digits in all: below 10^19 < 2^64, no wrap possible */
    while (scale-- > 0) {
        mag *= 10;
    }

    limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;

    if (mag > limit) {
        return -1;
    }

    if (neg) {
        /* -(2^63) has no positive counterpart: negate in unsigned */
        *out = (int64_t) (0 - mag);

    } else {
        *out = (int64_t) mag;
    }

    return 0;
}


static int
hk_decimal_is_digit(char c)
{
    return c >= '0' && c <= '9';
}


/* digit i of the integer part followed by the fractional part */

static char
hk_decimal_digit_at(const char *int_part, size_t int_len,
    const char *frac_part, size_t i)
{
    return i < int_len ? int_part[i] : frac_part[i - int_len];
}
