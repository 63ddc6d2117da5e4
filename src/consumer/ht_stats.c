/*
 * Parsing librdkafka statistics with yajl's tree API: the document is a
 * few kilobytes every few seconds, so a tree is simplest.
 */

#include <stdio.h>
#include <stdlib.h>

#include <yajl/yajl_tree.h>

#include "ht_stats.h"


static int64_t ht_stats_int(yajl_val obj, const char *name);


int
ht_stats_parse(const char *json, const char *topic, int64_t *lag,
    int64_t *rebalances, ht_stats_part_t *parts, int32_t nparts)
{
    char              errbuf[128], *end;
    size_t            i;
    int32_t           k;
    int64_t           v, ls;
    yajl_val          root, tparts, node, p;
    ht_stats_part_t  *sp;
    const char       *cgrp_path[] = { "cgrp", "rebalance_cnt", NULL };
    const char       *parts_path[] = { "topics", topic, "partitions", NULL };

    *lag = -1;
    *rebalances = -1;

    for (k = 0; parts != NULL && k < nparts; k++) {
        parts[k].end = -1;
        parts[k].committed = -1;
        parts[k].lo = -1;
    }

    root = yajl_tree_parse(json, errbuf, sizeof(errbuf));
    if (root == NULL) {
        return -1;
    }

    node = yajl_tree_get(root, cgrp_path, yajl_t_number);
    if (node != NULL && YAJL_IS_INTEGER(node)) {
        *rebalances = YAJL_GET_INTEGER(node);
    }

    tparts = yajl_tree_get(root, parts_path, yajl_t_object);

    for (i = 0; tparts != NULL && i < tparts->u.object.len; i++) {
        p = tparts->u.object.values[i];

        /* -1 means "not known", e.g. the internal partition -1 */
        v = ht_stats_int(p, "consumer_lag");

        if (v >= 0) {
            *lag = (*lag < 0 ? 0 : *lag) + v;
        }

        /* the object's key is the partition number */
        k = (int32_t) strtol(tparts->u.object.keys[i], &end, 10);

        if (parts == NULL || *end != '\0' || k < 0 || k >= nparts) {
            continue;
        }

        sp = &parts[k];

        ls = ht_stats_int(p, "ls_offset");
        sp->end = ls >= 0 ? ls : ht_stats_int(p, "hi_offset");
        sp->committed = ht_stats_int(p, "committed_offset");
        sp->lo = ht_stats_int(p, "lo_offset");
    }

    yajl_tree_free(root);

    return 0;
}


/* the integer obj.name, -1 if there is none */
static int64_t
ht_stats_int(yajl_val obj, const char *name)
{
    yajl_val     node;
    const char  *path[] = { name, NULL };

    node = yajl_tree_get(obj, path, yajl_t_number);

    if (node == NULL || !YAJL_IS_INTEGER(node)) {
        return -1;
    }

    return YAJL_GET_INTEGER(node);
}
