/*
 * libFuzzer target: the two readings of a page must agree.  Any bytes
 * are read by the streaming extractor (yajl, the reference) and by
 * hk_extract_document() (simdjson first, yajl when it declines); the
 * return codes and every handler call, in order, must be the same, or the
 * target aborts.
 *
 * Input layout: byte 0 picks the configuration (fuzz_pages.c), the rest
 * is the document.  The document is copied into a buffer of exactly its
 * size plus the padding hk_extract_document() may read, so that
 * AddressSanitizer catches a read past it.
 *
 * At exit it prints how many inputs simdjson read itself (-print_final
 * stats does not know): a target that always fell back would prove
 * nothing.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_pages.h"
#include "hk_extract_rules.h"


static size_t  fuzz_inputs;
static size_t  fuzz_fast;


static void
fuzz_report(void)
{
    fprintf(stderr, "fuzz_document: %zu inputs, %zu read by simdjson\n",
            fuzz_inputs, fuzz_fast);
}


static hk_extract_rc_t
fuzz_stream(const hk_extract_rules_t *rules, const unsigned char *doc,
    size_t len, fuzz_seen_t *seen)
{
    hk_extract_t     *x;
    hk_extract_rc_t   rc;

    fuzz_seen_init(seen);

    x = hk_extract_create(rules, &fuzz_handlers, seen);
    if (x == NULL) {
        abort();
    }

    rc = hk_extract_feed(x, doc, len);

    if (rc == HK_EXTRACT_OK) {
        rc = hk_extract_finish(x);
    }

    hk_extract_destroy(x);

    return rc;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                 error[256];
    size_t               len;
    fuzz_seen_t          s1, s2, s3;
    unsigned char       *doc;
    hk_extract_rc_t      rc1, rc2;
    hk_extract_conf_t    conf;
    hk_extract_rules_t  *rules;

    if (size < 1) {
        return 0;
    }

    if (fuzz_inputs++ == 0) {
        atexit(fuzz_report);
    }

    fuzz_conf(&conf, data[0]);

    rules = hk_extract_rules(&conf);
    len = size - 1;
    doc = malloc(len + HK_EXTRACT_PADDING);

    if (rules == NULL || doc == NULL) {
        abort();
    }

    memcpy(doc, data + 1, len);
    memset(doc + len, 0, HK_EXTRACT_PADDING);

    rc1 = fuzz_stream(rules, doc, len, &s1);

    fuzz_seen_init(&s2);
    rc2 = hk_extract_document(rules, &fuzz_handlers, &s2, doc, len, error,
                              sizeof(error));

    if (rc1 != rc2 || s1.hash != s2.hash
        || s1.next_position != s2.next_position
        || (rc2 != HK_EXTRACT_OK && error[0] == '\0'))
    {
        abort();
    }

    /* what simdjson read by itself, it must have read as yajl did */

    fuzz_seen_init(&s3);

    if (len <= rules->max_token
        && hk_extract_fast(rules, &fuzz_handlers, &s3, doc, len))
    {
        fuzz_fast++;

        if (rc1 != HK_EXTRACT_OK || s3.hash != s1.hash
            || s3.next_position != s1.next_position)
        {
            abort();
        }
    }

    free(doc);
    hk_extract_rules_free(rules);

    return 0;
}
