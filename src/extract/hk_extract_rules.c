/*
 * The rules of a configuration, compiled once per location, and what a
 * result's values mean; see hk_extract_rules.h.
 */

#include <stdlib.h>
#include <string.h>

#include "hk_decimal.h"
#include "hk_extract_rules.h"


static int hk_extract_parse_path(hk_extract_path_t *path, const char *s,
    char **names);
static void hk_extract_levels(hk_extract_rules_t *r);


const char *
hk_extract_conf_check(const hk_extract_conf_t *conf)
{
    int                i;
    char               currency[HK_RECORD_CURRENCY_LEN + 1];
    const char        *s;
    hk_extract_path_t  path;

    static const char  *names[] = {
        "invalid results_path",
        "invalid id_field",
        "invalid rate_field",
        "invalid currency_field"
    };

    if (conf == NULL) {
        return NULL;
    }

    for (i = 0; i < 4; i++) {
        s = i == 0 ? conf->results_path
            : i == 1 ? conf->id_field
            : i == 2 ? conf->rate_field : conf->currency_field;

        if (s == NULL) {
            continue;
        }

        if (i > 0 && s[0] == '\0') {
            return names[i];
        }

        if (hk_extract_parse_path(&path, s, NULL) != 0) {
            return names[i];
        }
    }

    s = conf->default_currency;

    if (s != NULL && hk_record_currency(s, strlen(s), currency) != 0) {
        return "default_currency is not a currency";
    }

    if (conf->max_depth > 1000000) {
        return "max_depth is too large";
    }

    if (conf->max_token > 64 * 1024 * 1024) {
        return "max_token is too large";
    }

    return NULL;
}


hk_extract_rules_t *
hk_extract_rules(const hk_extract_conf_t *conf)
{
    int                  i;
    char                *names;
    size_t               names_len;
    const char          *paths[1 + HK_NFIELDS];
    hk_extract_conf_t    defaults;
    hk_extract_rules_t  *r;

    if (conf == NULL) {
        memset(&defaults, 0, sizeof(defaults));
        conf = &defaults;
    }

    if (hk_extract_conf_check(conf) != NULL) {
        return NULL;
    }

    paths[0] = conf->results_path ? conf->results_path : "results";
    paths[1 + HK_FIELD_ID] = conf->id_field ? conf->id_field : "hotel_id";
    paths[1 + HK_FIELD_RATE] = conf->rate_field ? conf->rate_field : "rate";
    paths[1 + HK_FIELD_CURRENCY] = conf->currency_field
                                   ? conf->currency_field : "currency";

    names_len = 0;

    for (i = 0; i < 1 + HK_NFIELDS; i++) {
        names_len += strlen(paths[i]) + 1;
    }

    r = calloc(1, sizeof(hk_extract_rules_t) + names_len);
    if (r == NULL) {
        return NULL;
    }

    r->names = (char *) (r + 1);
    r->max_depth = conf->max_depth ? conf->max_depth
                                   : HK_EXTRACT_DEFAULT_MAX_DEPTH;
    r->max_token = conf->max_token ? conf->max_token
                                   : HK_EXTRACT_DEFAULT_MAX_TOKEN;

    if (conf->default_currency != NULL) {
        (void) hk_record_currency(conf->default_currency,
                                  strlen(conf->default_currency),
                                  r->default_currency);
    }

    names = r->names;
    (void) hk_extract_parse_path(&r->results_path, paths[0], &names);

    for (i = 0; i < HK_NFIELDS; i++) {
        (void) hk_extract_parse_path(&r->fields[i], paths[1 + i], &names);
    }

    hk_extract_levels(r);

    return r;
}


/* the field paths' names by level: see hk_extract_name_t */

static void
hk_extract_levels(hk_extract_rules_t *r)
{
    int                       f;
    size_t                    level, i, j;
    hk_extract_name_t        *n;
    hk_extract_level_t       *l;
    const hk_extract_comp_t  *c;

    for (f = 0; f < HK_NFIELDS; f++) {
        for (level = 0; level < r->fields[f].ncomps; level++) {
            c = &r->fields[f].comp[level];
            l = &r->levels[level];

            for (i = 0; i < l->nnames; i++) {
                n = &l->name[i];

                if (n->len == c->len && memcmp(n->name, c->name, c->len) == 0)
                {
                    break;
                }
            }

            n = &l->name[i];

            if (i == l->nnames) {
                l->nnames++;
                n->name = c->name;
                n->len = c->len;

                n->plain = 1;

                for (j = 0; j < c->len; j++) {
                    if (c->name[j] == '"' || c->name[j] == '\\') {
                        n->plain = 0;
                    }

                    if (j < 8) {
                        n->head |= (uint64_t) (unsigned char) c->name[j]
                                   << (8 * j);
                        n->mask |= (uint64_t) 0xff << (8 * j);
                    }
                }
            }

            n->fields |= 1u << f;

            if (level + 1 == r->fields[f].ncomps) {
                n->leaves |= 1u << f;
            }
        }
    }
}


void
hk_extract_rules_free(hk_extract_rules_t *rules)
{
    free(rules);
}


/*
 * Splits the dotted path s into path; with names, s is first copied
 * there (and *names moved past the copy) so the path outlives s.
 */

static int
hk_extract_parse_path(hk_extract_path_t *path, const char *s, char **names)
{
    size_t       len, n;
    const char  *p, *dot;

    path->ncomps = 0;

    if (s[0] == '\0') {
        return 0;
    }

    if (names != NULL) {
        len = strlen(s);
        memcpy(*names, s, len + 1);
        s = *names;
        *names += len + 1;
    }

    p = s;

    for ( ;; ) {
        dot = strchr(p, '.');
        n = dot ? (size_t) (dot - p) : strlen(p);

        if (n == 0 || path->ncomps == HK_EXTRACT_MAX_PATH) {
            return -1;
        }

        path->comp[path->ncomps].name = p;
        path->comp[path->ncomps].len = n;
        path->ncomps++;

        if (dot == NULL) {
            return 0;
        }

        p = dot + 1;
    }
}


/*
 * One field's rules for both: text says whether the id's UTF-8 and
 * control characters are already known good.
 */

static inline void
hk_extract_field(hk_extract_fields_t *f, int field, hk_json_type_t type,
    const char *s, size_t len, int text)
{
    int      state;
    size_t   i;
    int64_t  micros;

    if (type == HK_JSON_NULL) {
        f->value[field] = HK_VALUE_ABSENT;
        return;
    }

    state = HK_VALUE_BAD;

    switch (field) {

    case HK_FIELD_ID:
        if (type == HK_JSON_NUMBER) {
            /* an integer: the parser has checked the syntax */
            for (i = 0; i < len; i++) {
                if (s[i] == '.' || s[i] == 'e' || s[i] == 'E') {
                    break;
                }
            }

            if (i < len) {
                break;
            }

        } else if (type != HK_JSON_STRING) {
            break;
        }

        if (text ? hk_record_id_valid_text(s, len)
                 : hk_record_id_valid(s, len))
        {
            f->id = s;
            f->id_len = len;
            state = HK_VALUE_OK;
        }

        break;

    case HK_FIELD_RATE:
        if (type != HK_JSON_NUMBER && type != HK_JSON_STRING) {
            break;
        }

        if (hk_decimal_to_micros(s, len, &micros) != 0) {
            break;
        }

        if (!hk_record_rate_valid(micros)) {
            state = HK_VALUE_NEGATIVE;
            break;
        }

        f->rate = micros;
        state = HK_VALUE_OK;
        break;

    case HK_FIELD_CURRENCY:
        if (type == HK_JSON_STRING
            && hk_record_currency(s, len, f->currency) == 0)
        {
            state = HK_VALUE_OK;
        }

        break;
    }

    f->value[field] = state;
}


void
hk_extract_field_set(hk_extract_fields_t *f, int field, hk_json_type_t type,
    const char *s, size_t len)
{
    hk_extract_field(f, field, type, s, len, 0);
}


void
hk_extract_field_set_text(hk_extract_fields_t *f, int field,
    hk_json_type_t type, const char *s, size_t len)
{
    hk_extract_field(f, field, type, s, len, 1);
}


void
hk_extract_field_end(const hk_extract_rules_t *rules,
    const hk_extract_fields_t *f, uint32_t position,
    const hk_extract_handlers_t *h, void *data)
{
    hk_result_t       r;
    hk_skip_reason_t  reason;

    switch (f->value[HK_FIELD_ID]) {
    case HK_VALUE_ABSENT:
        reason = HK_SKIP_NO_ID;
        goto skip;
    case HK_VALUE_OK:
        break;
    default:
        reason = HK_SKIP_BAD_ID;
        goto skip;
    }

    switch (f->value[HK_FIELD_RATE]) {
    case HK_VALUE_ABSENT:
        reason = HK_SKIP_NO_RATE;
        goto skip;
    case HK_VALUE_NEGATIVE:
        reason = HK_SKIP_NEGATIVE_RATE;
        goto skip;
    case HK_VALUE_OK:
        break;
    default:
        reason = HK_SKIP_BAD_RATE;
        goto skip;
    }

    switch (f->value[HK_FIELD_CURRENCY]) {
    case HK_VALUE_ABSENT:
        if (rules->default_currency[0] == '\0') {
            reason = HK_SKIP_NO_CURRENCY;
            goto skip;
        }

        memcpy(r.currency, rules->default_currency, sizeof(r.currency));
        break;
    case HK_VALUE_OK:
        memcpy(r.currency, f->currency, sizeof(r.currency));
        break;
    default:
        reason = HK_SKIP_BAD_CURRENCY;
        goto skip;
    }

    r.hotel_id = f->id;
    r.hotel_id_len = f->id_len;
    r.rate_micros = f->rate;
    r.position = position;

    if (h->result != NULL) {
        h->result(data, &r);
    }

    return;

skip:

    if (h->skip != NULL) {
        h->skip(data, reason, position);
    }
}
