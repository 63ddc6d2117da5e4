/*
 * libFuzzer target for hk_decimal: any text either is rejected or gives
 * a value that formats to text parsing back to the same value, and that
 * the parser agrees with itself on equivalent spellings (an exponent
 * moved into the digits, trailing fractional zeros added).
 *
 * The second is also the differential test of the parser's two paths: a
 * number without an exponent may be read by its short path, the same
 * number followed by "e0" never is, and both must give the same value or
 * both be rejected.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hk_decimal.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char     buf[HK_DECIMAL_FORMAT_LEN], *more;
    size_t   n;
    int64_t  v, back, v2;

    if (hk_decimal_to_micros((const char *) data, size, &v) != 0) {
        return 0;
    }

    n = hk_decimal_format_micros(v, buf, sizeof(buf));

    if (n >= sizeof(buf) || n != strlen(buf)) {
        abort();
    }

    if (hk_decimal_to_micros(buf, n, &back) != 0 || back != v) {
        abort();
    }

    /* "x" and "x" followed by "e0" are the same number (no exponent yet) */
    if (memchr(data, 'e', size) == NULL && memchr(data, 'E', size) == NULL) {
        more = malloc(size + 2);
        memcpy(more, data, size);
        memcpy(more + size, "e0", 2);

        if (hk_decimal_to_micros(more, size + 2, &v2) != 0 || v2 != v) {
            abort();
        }

        free(more);
    }

    return 0;
}
