/*
 * "hotel-trends report": the aggregates read back per hotel and currency,
 * over all time and over the last day and week, with the trend against
 * the day and week before.  Every figure is computed exactly from the
 * integer sums (see ht_money.h).
 */

#ifndef HT_REPORT_H
#define HT_REPORT_H

#include <stdio.h>

#include "ht_options.h"
#include "ht_store.h"


/* Writes the report to out; 0, or -1 with a message in err. */
int ht_report_run(ht_store_t *store, const ht_report_opts_t *o, FILE *out,
    char *err, size_t errlen);


#endif /* HT_REPORT_H */
