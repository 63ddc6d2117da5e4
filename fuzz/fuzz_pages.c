/*
 * What the extractor's fuzz targets share: the configurations an input's
 * first byte picks, and handlers that check every call's invariants and
 * hash the calls, so that two readings of one input can be compared.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_pages.h"


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


const hk_extract_handlers_t  fuzz_handlers = {
    fuzz_result,
    fuzz_skip
};


void
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

    /*
     * names longer than the eight bytes a reader compares at once, and
     * names a key can hold only escaped (a quote, a backslash)
     */

    if (sel & 64) {
        conf->id_field = "hotel_identifier";
        conf->currency_field = (sel & 32) ? "price.cur\\rency"
                                          : "price.\"currency\"";
    }
}


void
fuzz_seen_init(fuzz_seen_t *seen)
{
    memset(seen, 0, sizeof(fuzz_seen_t));
    seen->hash = 0xcbf29ce484222325ULL;
}
