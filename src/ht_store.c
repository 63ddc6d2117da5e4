/*
 * Choosing a storage backend from the -d argument.
 */

#include <string.h>

#include "ht_store.h"


static int ht_store_is_conninfo(const char *spec);


ht_store_t *
ht_store_open(const char *spec, char *err, size_t errlen)
{
    const char  *path;

    path = ht_store_sqlite_path(spec);

    if (path == NULL) {
        return ht_store_pg_open(spec, err, errlen);
    }

    return ht_store_sqlite_open(path, err, errlen);
}


const char *
ht_store_sqlite_path(const char *spec)
{
    if (strncmp(spec, "postgresql://", 13) == 0
        || strncmp(spec, "postgres://", 11) == 0
        || ht_store_is_conninfo(spec))
    {
        return NULL;
    }

    if (strncmp(spec, "sqlite:", 7) == 0) {
        spec += 7;
    }

    return spec;
}


/* a libpq "keyword = value ..." string starts with a keyword and '=' */
static int
ht_store_is_conninfo(const char *spec)
{
    size_t  n;

    n = strspn(spec, "abcdefghijklmnopqrstuvwxyz_");
    if (n == 0) {
        return 0;
    }

    spec += n;
    spec += strspn(spec, " \t");

    return *spec == '=';
}
