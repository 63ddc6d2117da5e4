/*
 * Exact money arithmetic and decimal formatting for the reports.
 */

#include <stdio.h>

#include "ht_money.h"


__int128
ht_div_round(__int128 num, __int128 den)
{
    if (num >= 0) {
        return (num + den / 2) / den;
    }

    return -((-num + den / 2) / den);
}


char *
ht_money_format(char *buf, size_t size, __int128 num, __int128 den)
{
    __int128   cents;
    int64_t    whole;
    unsigned   frac;

    /* micro-units to cents: one cent is 10000 micros */
    cents = ht_div_round(num, den * 10000);

    whole = (int64_t) (cents / 100);
    frac = (unsigned) (cents < 0 ? -(cents % 100) : cents % 100);

    if (cents < 0 && whole == 0) {
        snprintf(buf, size, "-0.%02u", frac);

    } else {
        snprintf(buf, size, "%lld.%02u", (long long) whole, frac);
    }

    return buf;
}


int
ht_trend_permille(__int128 new_sum, int64_t new_count, __int128 old_sum,
    int64_t old_count, int64_t *permille)
{
    __int128  num, den;

    if (old_count <= 0 || new_count <= 0 || old_sum <= 0) {
        return -1;
    }

    /*
     * (new/nc - old/oc) / (old/oc) = (new*oc - old*nc) / (old*nc); the
     * products of a 2^63 sum and a 2^40 count stay far below 2^127.
     */
    num = (new_sum * old_count - old_sum * new_count) * 1000;
    den = old_sum * new_count;

    *permille = (int64_t) ht_div_round(num, den);

    return 0;
}


char *
ht_permille_format(char *buf, size_t size, int64_t permille)
{
    int64_t  a;

    a = permille < 0 ? -permille : permille;

    snprintf(buf, size, "%c%lld.%lld%%", permille < 0 ? '-' : '+',
             (long long) (a / 10), (long long) (a % 10));

    return buf;
}


char *
ht_int128_format(char *buf, size_t size, __int128 v)
{
    char                digits[48], *p;
    unsigned __int128   u;

    u = v < 0 ? -(unsigned __int128) v : (unsigned __int128) v;

    p = digits + sizeof(digits);
    *--p = '\0';

    do {
        *--p = (char) ('0' + (int) (u % 10));
        u /= 10;
    } while (u != 0);

    snprintf(buf, size, "%s%s", v < 0 ? "-" : "", p);

    return buf;
}
