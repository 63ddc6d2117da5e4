/*
 * hk_decimal: exact conversion of decimal text to int64 micros and back.
 *
 * Each accepted spelling is checked for its exact value and each
 * rejected one for the rejection, including the ones that a double would
 * silently round (1.0000001, 9223372036854.775808).
 */

#include <stdint.h>
#include <string.h>

#include "hk_decimal.h"
#include "tap.h"


static void
accept(const char *s, int64_t want)
{
    int      rc;
    char     name[160];
    int64_t  got;

    got = -12345;
    rc = hk_decimal_to_micros(s, strlen(s), &got);

    snprintf(name, sizeof(name), "\"%.100s\" is %" PRId64 " micros", s, want);

    if (!ok(rc == 0 && got == want, name)) {
        printf("#   rc %d, got %" PRId64 "\n", rc, got);
    }
}


static void
reject(const char *s)
{
    int      rc;
    char     name[160];
    int64_t  got;

    got = -12345;
    rc = hk_decimal_to_micros(s, strlen(s), &got);

    snprintf(name, sizeof(name), "\"%.100s\" is rejected", s);

    if (!ok(rc == -1 && got == -12345, name)) {
        printf("#   rc %d, got %" PRId64 "\n", rc, got);
    }
}


static void
format(int64_t micros, const char *want)
{
    char    buf[HK_DECIMAL_FORMAT_LEN], name[96];
    size_t  n;

    n = hk_decimal_format_micros(micros, buf, sizeof(buf));

    snprintf(name, sizeof(name), "%" PRId64 " formats as %s", micros, want);
    is_str(buf, want, name);
    is_int(n, strlen(want), "  and its length is returned");
}


int
main(void)
{
    int      i;
    char     big[2000], buf[HK_DECIMAL_FORMAT_LEN];
    size_t   n;
    int64_t  v;

    /* plain decimals */
    accept("129.99", 129990000);
    accept("0.000001", 1);
    accept("0.01", 10000);
    accept("1", 1000000);
    accept("0", 0);
    accept("-0", 0);
    accept("-0.0", 0);
    accept("-12.5", -12500000);
    accept("129.990", 129990000);
    accept("129.990000000000", 129990000);
    accept("1.0000000", 1000000);
    accept("0129.99", 129990000);

    /* exponents */
    accept("1e2", 100000000);
    accept("1E2", 100000000);
    accept("1.5E+1", 15000000);
    accept("1.2999e2", 129990000);
    accept("12999e-2", 129990000);
    accept("1e-6", 1);
    accept("100e-8", 1);
    accept("0.0000001e1", 1);
    accept("0e400", 0);
    accept("0.0e-99999999999999999999", 0);
    accept("1e+0", 1000000);
    accept("1e12", INT64_C(1000000000000000000));
    accept("9.223372036854775807e12", INT64_MAX);

    /* the ends of the range */
    accept("9223372036854.775807", INT64_MAX);
    accept("-9223372036854.775808", INT64_MIN);
    accept("-9223372036854.775807", -INT64_MAX);

    /* below one micro: rejected, not rounded */
    reject("1.0000001");
    reject("0.0000001");
    reject("129.9999999");
    reject("1e-7");
    reject("1.23e-5");
    reject("0.00000000000000000000000000001");

    /* overflow */
    reject("9223372036854.775808");
    reject("-9223372036854.775809");
    reject("9223372036855");
    reject("10000000000000000000");
    reject("1e13");
    reject("1e400");
    reject("-1e400");
    reject("1e99999999999999999999999999");
    reject("18446744073709.551616");
    reject("99999999999999999999.999999");

    /* not numbers */
    reject("");
    reject("-");
    reject("NaN");
    reject("nan");
    reject("Infinity");
    reject("-Infinity");
    reject("inf");
    reject("+1");
    reject(".5");
    reject("1.");
    reject("1..2");
    reject("1.2.3");
    reject("1e");
    reject("1e+");
    reject("1e-");
    reject("e5");
    reject(" 1");
    reject("1 ");
    reject("1,5");
    reject("0x10");
    reject("12abc");
    reject("1e5x");
    reject("--1");
    reject("-+1");

    ok(hk_decimal_to_micros(NULL, 0, &v) == -1, "NULL is rejected");

    /* the length is honoured, no NUL needed */
    ok(hk_decimal_to_micros("129.99xyz", 6, &v) == 0 && v == 129990000,
       "only len bytes are read");

    /* a long run of zeros around a few digits */
    memset(big, '0', sizeof(big));
    big[0] = '0';
    big[1] = '.';
    big[5] = '5';
    big[sizeof(big) - 1] = '\0';
    accept(big, 500);

    memset(big, '0', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    big[0] = '1';
    big[1500] = '.';
    reject(big);

    memset(big, '0', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    big[1800] = '.';
    big[1801] = '7';
    accept(big, 700000);

    /* formatting */
    format(129990000, "129.99");
    format(100000000, "100.00");
    format(1, "0.000001");
    format(0, "0.00");
    format(10000, "0.01");
    format(123456789, "123.456789");
    format(-5, "-0.000005");
    format(-12500000, "-12.50");
    format(INT64_MAX, "9223372036854.775807");
    format(INT64_MIN, "-9223372036854.775808");

    n = hk_decimal_format_micros(129990000, buf, 4);
    ok(n == 6 && strcmp(buf, "129") == 0, "a short buffer truncates");

    n = hk_decimal_format_micros(129990000, NULL, 0);
    is_int(n, 6, "size 0 writes nothing and gives the length");

    /* format then parse gives the same value back */
    for (i = 0; i < 64; i++) {
        int64_t  m, back;

        m = (int64_t) ((uint64_t) 0x9e3779b97f4a7c15ULL * (uint64_t) (i + 1));

        hk_decimal_format_micros(m, buf, sizeof(buf));

        if (hk_decimal_to_micros(buf, strlen(buf), &back) != 0 || back != m) {
            break;
        }
    }

    is_int(i, 64, "format and parse round-trip 64 values");

    return done_testing();
}
