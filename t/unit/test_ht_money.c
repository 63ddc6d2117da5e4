/*
 * Exact decimal formatting of averages and trends: rounding half up in
 * integer arithmetic, no floating point.
 */

#include "ht_money.h"
#include "tap.h"


int
main(void)
{
    char      buf[HT_MONEY_LEN];
    int64_t   pm;
    __int128  big;

    is_str(ht_money_format(buf, sizeof(buf), 129990000, 1), "129.99",
           "129.99 EUR");
    is_str(ht_money_format(buf, sizeof(buf), 0, 1), "0.00", "zero");
    is_str(ht_money_format(buf, sizeof(buf), 1, 1), "0.00", "one micro");
    is_str(ht_money_format(buf, sizeof(buf), 4999, 1), "0.00",
           "just below half a cent");
    is_str(ht_money_format(buf, sizeof(buf), 5000, 1), "0.01",
           "half a cent rounds up");
    is_str(ht_money_format(buf, sizeof(buf), 1234565000, 1), "1234.57",
           "x.xx5 rounds up");
    is_str(ht_money_format(buf, sizeof(buf), 1234564999, 1), "1234.56",
           "x.xx4999 rounds down");

    /* averages: (100 + 100.01) / 2 = 100.005 -> 100.01 */
    is_str(ht_money_format(buf, sizeof(buf), 200010000, 2), "100.01",
           "average rounds half up");
    /* 10 / 3 = 3.333.. */
    is_str(ht_money_format(buf, sizeof(buf), 10000000, 3), "3.33",
           "average 10/3");
    /* 20 / 3 = 6.666.. */
    is_str(ht_money_format(buf, sizeof(buf), 20000000, 3), "6.67",
           "average 20/3");

    is_str(ht_money_format(buf, sizeof(buf), INT64_MAX, 1),
           "9223372036854.78", "INT64_MAX micros");

    /* a sum past int64 (many buckets), average still exact */
    big = (__int128) INT64_MAX * 4;
    is_str(ht_money_format(buf, sizeof(buf), big, 4), "9223372036854.78",
           "128-bit sum");

    is_str(ht_money_format(buf, sizeof(buf), -5000, 1), "-0.01",
           "negative half away from zero");
    is_str(ht_money_format(buf, sizeof(buf), -4999, 1), "0.00",
           "negative below half");

    is_int((int64_t) ht_div_round(7, 2), 4, "7/2 -> 4");
    is_int((int64_t) ht_div_round(-7, 2), -4, "-7/2 -> -4");
    is_int((int64_t) ht_div_round(5, 3), 2, "5/3 -> 2");

    ok(ht_trend_permille(110, 1, 100, 1, &pm) == 0 && pm == 100,
       "+10.0%");
    is_str(ht_permille_format(buf, sizeof(buf), pm), "+10.0%",
           "format +10.0%");
    ok(ht_trend_permille(90, 1, 100, 1, &pm) == 0 && pm == -100, "-10.0%");
    is_str(ht_permille_format(buf, sizeof(buf), pm), "-10.0%",
           "format -10.0%");
    /* averages 200/2 = 100 vs 300/2 = 150: -33.33% -> -333 */
    ok(ht_trend_permille(200, 2, 300, 2, &pm) == 0 && pm == -333,
       "-33.3% with counts");
    /* 1.0005 -> +0.05% -> rounds to +0.1% (half up) */
    ok(ht_trend_permille(20010, 2, 10000, 1, &pm) == 0 && pm == 1,
       "half a permille rounds up");
    ok(ht_trend_permille(10, 1, 0, 0, &pm) == -1, "no old window");
    is_str(ht_permille_format(buf, sizeof(buf), 0), "+0.0%", "zero trend");

    /* exact integers for the JSON report's sums */
    is_str(ht_int128_format(buf, sizeof(buf), 0), "0", "int128 0");
    is_str(ht_int128_format(buf, sizeof(buf), -1), "-1", "int128 -1");
    is_str(ht_int128_format(buf, sizeof(buf), (__int128) INT64_MAX * 4 + 3),
           "36893488147419103231", "int128 past int64");
    is_str(ht_int128_format(buf, sizeof(buf),
                            (__int128) (((unsigned __int128) 1 << 127) - 1)),
           "170141183460469231731687303715884105727", "int128 max");
    is_str(ht_int128_format(buf, sizeof(buf),
                            -(__int128) (((unsigned __int128) 1 << 127) - 1)
                            - 1),
           "-170141183460469231731687303715884105728", "int128 min");

    return done_testing();
}
