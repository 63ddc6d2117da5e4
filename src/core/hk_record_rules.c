/*
 * The rules of a record's fields (see hk_record.h), apart from the
 * encoding so that whoever checks values needs no protobuf code.
 */

#include <string.h>

#include "hk_record.h"
#include "hk_utf8.h"


static const char  *hk_skip_reason_names[] = {
    "no_id",
    "bad_id",
    "no_rate",
    "bad_rate",
    "negative_rate",
    "no_currency",
    "bad_currency",
    "not_object"
};


const char *
hk_skip_reason_name(hk_skip_reason_t reason)
{
    if ((unsigned) reason >= HK_SKIP_NREASONS) {
        return "unknown";
    }

    return hk_skip_reason_names[reason];
}


int
hk_record_id_valid(const char *id, size_t len)
{
    const unsigned char  *p = (const unsigned char *) id;

    return len > 0
           && len <= HK_RECORD_MAX_ID
           && !hk_utf8_has_control(p, len)
           && hk_utf8_valid(p, len);
}


int
hk_record_id_valid_text(const char *id, size_t len)
{
    return len > 0
           && len <= HK_RECORD_MAX_ID
           && memchr(id, 0x7f, len) == NULL;
}


int
hk_record_currency(const char *s, size_t len, char *out)
{
    size_t  i;
    char    c;

    if (len != HK_RECORD_CURRENCY_LEN) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        c = (char) (s[i] & ~0x20);

        if (c < 'A' || c > 'Z') {
            return -1;
        }

        out[i] = c;
    }

    out[len] = '\0';

    return 0;
}
