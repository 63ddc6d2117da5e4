/*
 * Exact money arithmetic for reports: rates are int64 micro-units, sums
 * of them are added in 128 bits, and every division rounds half up in
 * integer arithmetic.  No floating point ever touches an amount.
 */

#ifndef HT_MONEY_H
#define HT_MONEY_H

#include <stddef.h>
#include <stdint.h>


/* room for "-92233720368547.76" and a NUL, with margin */
#define HT_MONEY_LEN  48


/*
 * num / den rounded to the nearest integer, halves away from zero
 * ("half up" for the positive amounts we deal in).  den must be > 0.
 */
__int128 ht_div_round(__int128 num, __int128 den);

/* Formats num / (den * 1e6) units as a decimal with two places, e.g.
 * sum_micros / count as "129.99".  den must be > 0.  Returns buf. */
char *ht_money_format(char *buf, size_t size, __int128 num, __int128 den);

/*
 * The change from the average old_sum/old_count to new_sum/new_count, in
 * tenths of a percent, rounded half away from zero: 1234 means +123.4%.
 * Returns -1 when there is no old average to compare with.
 */
int ht_trend_permille(__int128 new_sum, int64_t new_count,
    __int128 old_sum, int64_t old_count, int64_t *permille);

/* Formats tenths of a percent as "+12.3%" / "-0.5%".  Returns buf. */
char *ht_permille_format(char *buf, size_t size, int64_t permille);

/* Formats a 128-bit integer in decimal, exactly: a sum of many int64
 * rates, for the JSON report (HT_MONEY_LEN holds any).  Returns buf. */
char *ht_int128_format(char *buf, size_t size, __int128 v);


#endif /* HT_MONEY_H */
