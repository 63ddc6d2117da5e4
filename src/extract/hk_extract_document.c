/*
 * A whole document in memory: simdjson's reading first, the streaming
 * extractor whenever that one declines; see hk_extract.h.
 */

#include <stdio.h>
#include <string.h>

#include "hk_extract_rules.h"


hk_extract_rc_t
hk_extract_document(const hk_extract_rules_t *rules,
    const hk_extract_handlers_t *h, void *data, const unsigned char *buf,
    size_t len, char *error, size_t error_size)
{
    size_t                skip;
    hk_extract_t         *x;
    hk_extract_rc_t       rc;
    hk_extract_handlers_t none;

    /* a byte order mark, as hk_extract_feed() ignores it */

    skip = (len >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf)
           ? 3 : 0;

    if (h == NULL) {
        memset(&none, 0, sizeof(none));
        h = &none;
    }

    if (len <= rules->max_token
        && hk_extract_fast(rules, h, data, buf + skip, len - skip))
    {
        return HK_EXTRACT_OK;
    }

    x = hk_extract_create(rules, h, data);
    if (x == NULL) {
        snprintf(error, error_size, "out of memory");
        return HK_EXTRACT_ERROR_NOMEM;
    }

    rc = hk_extract_feed(x, buf, len);

    if (rc == HK_EXTRACT_OK) {
        rc = hk_extract_finish(x);
    }

    if (rc != HK_EXTRACT_OK) {
        snprintf(error, error_size, "%s", hk_extract_error(x));
    }

    hk_extract_destroy(x);

    return rc;
}
