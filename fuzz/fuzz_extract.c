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

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hk_extract.h"


typedef struct {
    int64_t   next_position;
    uint64_t  hash;
} fuzz_seen_t;


static void
fuzz_hash(fuzz_seen_t *s, const void *p, size_t n)
{
    size_t               i;
    const unsigned char *b = p;

    for (i = 0; i < n; i++) {
        s->hash = (s->hash ^ b[i]) * 0x100000001b3ULL;
    }
}


static int
fuzz_utf8_ok(const unsigned char *s, size_t len)
{
    size_t    i, n, k;
    uint32_t  cp;

    for (i = 0; i < len; i += n) {
        if (s[i] < 0x80) {
            if (s[i] < 0x20 || s[i] == 0x7f) {
                return 0;
            }

            n = 1;
            continue;
        }

        n = s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : s[i] >= 0xc0 ? 2 : 0;

        if (n == 0 || s[i] > 0xf4 || i + n > len) {
            return 0;
        }

        cp = s[i] & (0x7f >> n);

        for (k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }

            cp = (cp << 6) | (s[i + k] & 0x3f);
        }

        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800)
            || (n == 4 && cp < 0x10000) || cp > 0x10ffff
            || (cp >= 0xd800 && cp <= 0xdfff))
        {
            return 0;
        }
    }

    return 1;
}


static void
fuzz_result(void *data, const hk_result_t *r)
{
    int           i;
    fuzz_seen_t  *s = data;

    if ((int64_t) r->position != s->next_position) {
        abort();
    }

    s->next_position++;

    if (r->rate_micros <= 0) {
        abort();
    }

    for (i = 0; i < 3; i++) {
        if (r->currency[i] < 'A' || r->currency[i] > 'Z') {
            abort();
        }
    }

    if (r->currency[3] != '\0') {
        abort();
    }

    if (r->hotel_id_len == 0 || r->hotel_id_len > HK_RECORD_MAX_ID
        || !fuzz_utf8_ok((const unsigned char *) r->hotel_id,
                         r->hotel_id_len))
    {
        abort();
    }

    fuzz_hash(s, "R", 1);
    fuzz_hash(s, &r->position, sizeof(r->position));
    fuzz_hash(s, r->hotel_id, r->hotel_id_len);
    fuzz_hash(s, &r->rate_micros, sizeof(r->rate_micros));
    fuzz_hash(s, r->currency, 3);
}


static void
fuzz_skip(void *data, hk_skip_reason_t reason, uint32_t position)
{
    fuzz_seen_t  *s = data;

    if ((int64_t) position != s->next_position
        || (unsigned) reason >= HK_SKIP_NREASONS)
    {
        abort();
    }

    s->next_position++;

    fuzz_hash(s, "S", 1);
    fuzz_hash(s, &position, sizeof(position));
    fuzz_hash(s, &reason, sizeof(reason));
}


static const hk_extract_handlers_t  fuzz_handlers = {
    fuzz_result,
    fuzz_skip
};


static void
fuzz_conf(hk_extract_conf_t *conf, unsigned char sel)
{
    static const char  *results[] = {
        "results", "data.hotels", "", "r"
    };

    memset(conf, 0, sizeof(hk_extract_conf_t));

    conf->results_path = results[sel & 3];

    if (sel & 4) {
        conf->rate_field = "price.amount";
        conf->currency_field = "price.currency";
    }

    if (sel & 8) {
        conf->default_currency = "eur";
    }

    if (sel & 16) {
        conf->max_depth = 8;
        conf->max_token = 32;
    }

    if (sel & 32) {
        conf->id_field = "id";
    }
}


/* feeds doc split as described above; returns the final status */

static hk_extract_rc_t
fuzz_run(const hk_extract_conf_t *conf, const unsigned char *doc,
    size_t len, int whole, unsigned char split, fuzz_seen_t *seen,
    char *error, size_t error_size)
{
    size_t               cut, step, n, peak, bound, max_token;
    hk_extract_t        *x;
    hk_extract_rc_t  st;

    memset(seen, 0, sizeof(fuzz_seen_t));
    seen->hash = 0xcbf29ce484222325ULL;

    x = hk_extract_create(conf, &fuzz_handlers, seen);
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

    return st;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                 e1[256], e2[256];
    fuzz_seen_t          s1, s2;
    hk_extract_conf_t    conf;
    hk_extract_rc_t  st1, st2;

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
