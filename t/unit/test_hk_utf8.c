/*
 * hk_utf8_valid(): the strict rules at every offset, so that the
 * eight-bytes-at-a-time ASCII path and the byte path agree wherever a
 * sequence starts or ends; and random buffers against a reference that
 * decodes code points one at a time.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hk_utf8.h"
#include "tap.h"


typedef struct {
    const char  *bytes;
    int          valid;
    const char  *name;
} seq_t;


static const seq_t  seqs[] = {
    { "\xc3\xa9",         1, "two bytes" },
    { "\xe2\x82\xac",     1, "three bytes" },
    { "\xf0\x9f\x8f\xa8", 1, "four bytes" },
    { "\xf4\x8f\xbf\xbf", 1, "U+10FFFF" },
    { "\xc0\xaf",         0, "overlong two" },
    { "\xe0\x80\xaf",     0, "overlong three" },
    { "\xf0\x80\x80\xaf", 0, "overlong four" },
    { "\xed\xa0\x80",     0, "surrogate" },
    { "\xf4\x90\x80\x80", 0, "above U+10FFFF" },
    { "\x80",             0, "lone continuation" },
    { "\xff",             0, "0xff" },
    { "\xe2\x82",         0, "truncated" },
};


/*
 * The reference: decode one code point, then judge it by its value and
 * by the length it was written with.
 */

static int
reference_valid(const unsigned char *s, size_t len)
{
    size_t    i, n, k;
    uint32_t  cp, min;

    for (i = 0; i < len; i += n + 1) {

        if (s[i] < 0x80) {
            n = 0;
            continue;
        }

        if ((s[i] & 0xe0) == 0xc0) {
            n = 1; cp = s[i] & 0x1f; min = 0x80;
        } else if ((s[i] & 0xf0) == 0xe0) {
            n = 2; cp = s[i] & 0x0f; min = 0x800;
        } else if ((s[i] & 0xf8) == 0xf0) {
            n = 3; cp = s[i] & 0x07; min = 0x10000;
        } else {
            return 0;
        }

        if (len - i - 1 < n) {
            return 0;
        }

        for (k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }

        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
    }

    return 1;
}


int
main(void)
{
    int            bad, trial;
    char           name[128];
    size_t         i, at, n, len;
    unsigned char  buf[40];

    /* each sequence at each offset of 24 ASCII bytes, and at the end */

    for (i = 0; i < nelts(seqs); i++) {
        n = strlen(seqs[i].bytes);
        bad = 0;

        for (at = 0; at + n <= 24; at++) {
            memset(buf, 'a', 24);
            memcpy(buf + at, seqs[i].bytes, n);

            if (hk_utf8_valid(buf, 24) != seqs[i].valid) {
                bad++;
            }

            /* cut right after the sequence: it ends the string */
            if (hk_utf8_valid(buf, at + n) != seqs[i].valid) {
                bad++;
            }
        }

        snprintf(name, sizeof(name), "%s, at every offset", seqs[i].name);
        is_int(bad, 0, name);
    }

    ok(hk_utf8_valid((const unsigned char *) "", 0), "empty");
    ok(hk_utf8_valid((const unsigned char *) "12345678", 8), "one word");

    /* random buffers, mostly ASCII with a few high bytes, as pages are */

    srand(20261125);
    bad = 0;

    for (trial = 0; trial < 200000; trial++) {
        len = (size_t) rand() % sizeof(buf);

        for (i = 0; i < len; i++) {
            buf[i] = (rand() % 4 == 0) ? (unsigned char) (0x80 + rand() % 0x80)
                                       : (unsigned char) (rand() % 0x80);
        }

        if (hk_utf8_valid(buf, len) != reference_valid(buf, len)) {
            bad++;
        }
    }

    is_int(bad, 0, "200,000 random buffers agree with the reference");

    return done_testing();
}
