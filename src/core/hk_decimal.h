/*
 * Exact decimal money amounts as int64 millionths ("micros").
 *
 * A nightly rate is read from JSON text, never through a double: 129.99
 * is not representable in binary floating point and averages of millions
 * of rates must not drift.  A value is accepted only when it is exactly a
 * whole number of micros that fits in an int64; everything else (more
 * than six non-zero fractional digits, overflow, NaN, Infinity, garbage)
 * is rejected rather than rounded.
 *
 * Both functions are pure and thread-safe; they allocate nothing.
 */

#ifndef HK_DECIMAL_H
#define HK_DECIMAL_H

#include <stddef.h>
#include <stdint.h>


/* micros in one unit */
#define HK_DECIMAL_MICROS_PER_UNIT  1000000

/* room for the longest formatted value, "-9223372036854.775808" and NUL */
#define HK_DECIMAL_FORMAT_LEN       24


/*
 * Converts the decimal text s[0..len) (no NUL needed) to micros.
 *
 * Accepted: [-]digits[.digits][(e|E)[+|-]digits], that is a JSON number
 * except that leading zeros are allowed.  "1.2999e2" is 129990000 micros,
 * "0e999999" is 0, "1.0000001" is rejected, "1.0000000" is 1000000.
 * "-0" gives 0.  The range is INT64_MIN..INT64_MAX micros.
 *
 * Returns 0 and sets *out, or -1 (and leaves *out alone) when the text is
 * not such a number or its value is not exactly representable.
 */
int hk_decimal_to_micros(const char *s, size_t len, int64_t *out);

/*
 * Formats micros as a decimal with at least two and at most six
 * fractional digits and no other trailing zeros: 129990000 is "129.99",
 * 100000000 is "100.00", 1 is "0.000001", -5 is "-0.000005".
 *
 * Like snprintf: writes at most size bytes including the NUL (nothing if
 * size is 0) and returns the length of the full text, excluding the NUL;
 * HK_DECIMAL_FORMAT_LEN is always enough.
 */
size_t hk_decimal_format_micros(int64_t micros, char *buf, size_t size);


#endif /* HK_DECIMAL_H */
