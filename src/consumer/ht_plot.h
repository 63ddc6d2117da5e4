/*
 * "hotel-trends report --plot FILE.png": the chosen hotels' average
 * nightly rate per bucket as a picture, drawn by gnuplot (Debian's
 * gnuplot-nox), since people would rather look at a trend than read one.
 */

#ifndef HT_PLOT_H
#define HT_PLOT_H

#include "ht_options.h"
#include "ht_store.h"


/*
 * Draws o->plot from the rows matching the report's filters, one line per
 * hotel and currency (o->nhotels is 1 to HT_PLOT_MAX_HOTELS: the options
 * see to it).  0, or -1 with a message in err.
 */
int ht_plot_run(ht_store_t *store, const ht_report_opts_t *o, char *err,
    size_t errlen);


#endif /* HT_PLOT_H */
