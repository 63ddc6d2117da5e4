/*
 * The inverse of hk_decimal_to_micros(), for output: micros as a decimal
 * text that converts back to the same micros.  Neither program puts it on
 * the request path; it lives in its own file so that the module, which
 * never formats an amount, does not carry it.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hk_decimal.h"


size_t
hk_decimal_format_micros(int64_t micros, char *buf, size_t size)
{
    int       n;
    char      tmp[HK_DECIMAL_FORMAT_LEN];
    size_t    len;
    uint64_t  mag;

    mag = micros < 0 ? 0 - (uint64_t) micros : (uint64_t) micros;

    n = snprintf(tmp, sizeof(tmp), "%s%" PRIu64 ".%06" PRIu64,
                 micros < 0 ? "-" : "",
                 mag / HK_DECIMAL_MICROS_PER_UNIT,
                 mag % HK_DECIMAL_MICROS_PER_UNIT);

    len = (size_t) n;

    /* keep two decimals, as prices are usually read */
    while (tmp[len - 1] == '0' && tmp[len - 3] != '.') {
        len--;
    }

    tmp[len] = '\0';

    if (size > 0) {
        n = (int) (len < size ? len : size - 1);
        memcpy(buf, tmp, (size_t) n);
        buf[n] = '\0';
    }

    return len;
}
