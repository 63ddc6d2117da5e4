/*
 * Strict UTF-8 validation; see hk_utf8.h.
 */

#include <stdint.h>
#include <string.h>

#include "hk_utf8.h"


/* the high bit of each byte of a word: set in any non-ASCII byte */
#define HK_UTF8_HIGH_BITS  0x8080808080808080ULL


int
hk_utf8_valid(const unsigned char *s, size_t len)
{
    size_t         i, n, k;
    uint64_t       word;
    unsigned char  c, lo, hi;

    i = 0;

    for ( ;; ) {

        /*
         * Keys and values on a search page are nearly all ASCII, and
         * mostly short: eight bytes at a time while they are (memcpy,
         * since s need not be aligned; it compiles to one load), then
         * byte by byte up to the next non-ASCII byte or the end.
         */

        while (len - i >= sizeof(word)) {
            memcpy(&word, s + i, sizeof(word));

            if (word & HK_UTF8_HIGH_BITS) {
                break;
            }

            i += sizeof(word);
        }

        while (i < len && s[i] < 0x80) {
            i++;
        }

        if (i == len) {
            return 1;
        }

        c = s[i];

        /* the second byte's range carries the overlong and surrogate rules */

        lo = 0x80;
        hi = 0xbf;

        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;

        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            lo = (c == 0xe0) ? 0xa0 : 0x80;
            hi = (c == 0xed) ? 0x9f : 0xbf;

        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            lo = (c == 0xf0) ? 0x90 : 0x80;
            hi = (c == 0xf4) ? 0x8f : 0xbf;

        } else {
            return 0;
        }

        if (len - i - 1 < n || s[i + 1] < lo || s[i + 1] > hi) {
            return 0;
        }

        for (k = 2; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }
        }

        i += n + 1;
    }
}


int
hk_utf8_has_control(const unsigned char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f) {
            return 1;
        }
    }

    return 0;
}
