/*
 * libFuzzer target for hk_extract: any bytes, any chunking.
 *
 * Input layout: byte 0 picks the configuration, byte 1 the chunking, the
 * rest is the document.  The document is fed as a first chunk cut at a
 * point chosen by byte 1, then the remainder in small steps or at once,
 * and finished.  Checked on every input:
 *
 *   - the handlers' invariants: positions 0, 1, 2, ... with no gap, rate
 *     > 0, currency three upper case letters, id non-empty, within
 *     HK_RECORD_MAX_ID, valid UTF-8 without control characters;
 *   - the status is sticky: one more feed and finish return it again;
 *   - memory stays under its bound (about 2 * max_token + slices);
 *   - with the default limits (no token can reach 64 KiB in a fuzz
 *     input), the same document fed whole gives the same callbacks and
 *     the same status: chunking never matters.  (Not the same message:
 *     yajl's error offsets depend on how a token was buffered.)
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_pages.h"


/* feeds doc split as described above; returns the final status */

static hk_extract_rc_t
fuzz_run(const hk_extract_conf_t *conf, const unsigned char *doc,
    size_t len, int whole, unsigned char split, fuzz_seen_t *seen,
    char *error, size_t error_size)
{
    size_t               cut, step, n, peak, bound, max_token;
    hk_extract_t        *x;
    hk_extract_rc_t      st;
    hk_extract_rules_t  *rules;

    fuzz_seen_init(seen);

    rules = hk_extract_rules(conf);
    x = rules ? hk_extract_create(rules, &fuzz_handlers, seen) : NULL;
    if (x == NULL) {
        abort();
    }

    if (whole) {
        st = hk_extract_feed(x, doc, len);

    } else {
        cut = (size_t) split * len / 256;
        step = (split & 7) ? (size_t) (split & 7) * 3 : len;

        st = hk_extract_feed(x, doc, cut);

        while (st == HK_EXTRACT_OK && cut < len) {
            n = len - cut < step ? len - cut : step;
            st = hk_extract_feed(x, doc + cut, n);
            cut += n;
        }
    }

    if (st == HK_EXTRACT_OK) {
        st = hk_extract_finish(x);
    }

    if ((st == HK_EXTRACT_OK) != (hk_extract_error(x)[0] == '\0')) {
        abort();
    }

    snprintf(error, error_size, "%s", hk_extract_error(x));

    /* sticky: more data and another finish change nothing */
    if (st != HK_EXTRACT_OK) {
        if (hk_extract_feed(x, (const unsigned char *) "]}", 2) != st
            || hk_extract_finish(x) != st
            || strcmp(hk_extract_error(x), error) != 0)
        {
            abort();
        }

    } else if (hk_extract_finish(x) != HK_EXTRACT_OK) {
        abort();
    }

    max_token = conf->max_token ? conf->max_token
                                : HK_EXTRACT_DEFAULT_MAX_TOKEN;
    bound = 2 * (max_token + 3 * 4096) + 16384;
    peak = hk_extract_peak_bytes(x);

    if (peak > bound) {
        abort();
    }

    hk_extract_destroy(x);
    hk_extract_rules_free(rules);

    return st;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                 e1[256], e2[256];
    fuzz_seen_t          s1, s2;
    hk_extract_conf_t    conf;
    hk_extract_rc_t      st1, st2;

    if (size < 2) {
        return 0;
    }

    fuzz_conf(&conf, data[0]);

    st1 = fuzz_run(&conf, data + 2, size - 2, 0, data[1], &s1,
                   e1, sizeof(e1));

    if (conf.max_token == 0 && size - 2 < HK_EXTRACT_DEFAULT_MAX_TOKEN) {
        st2 = fuzz_run(&conf, data + 2, size - 2, 1, 0, &s2, e2, sizeof(e2));

        if (st1 != st2 || s1.hash != s2.hash
            || s1.next_position != s2.next_position)
        {
            abort();
        }
    }

    return 0;
}
