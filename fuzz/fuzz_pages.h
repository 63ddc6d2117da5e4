/*
 * Shared by fuzz_extract.c and fuzz_document.c; see fuzz_pages.c.
 */

#ifndef FUZZ_PAGES_H
#define FUZZ_PAGES_H

#include <stddef.h>
#include <stdint.h>

#include "hk_extract.h"


/* what the handlers saw: positions in order, and a hash of every call */
typedef struct {
    int64_t   next_position;
    uint64_t  hash;
} fuzz_seen_t;


/* they abort() on a broken invariant; data is a fuzz_seen_t */
extern const hk_extract_handlers_t  fuzz_handlers;

void fuzz_seen_init(fuzz_seen_t *seen);

/* one of 64 configurations, by the bits of sel */
void fuzz_conf(hk_extract_conf_t *conf, unsigned char sel);


#endif /* FUZZ_PAGES_H */
