/*
 * Parsing librdkafka statistics with yajl's tree API: the document is a
 * few kilobytes every few seconds, so a tree is simplest.
 */

#include <stdio.h>

#include <yajl/yajl_tree.h>

#include "ht_stats.h"


int
ht_stats_parse(const char *json, const char *topic, int64_t *lag,
    int64_t *rebalances)
{
    char         errbuf[128];
    size_t       i;
    int64_t      v;
    yajl_val     root, parts, node;
    const char  *cgrp_path[] = { "cgrp", "rebalance_cnt", NULL };
    const char  *parts_path[] = { "topics", topic, "partitions", NULL };
    const char  *lag_path[] = { "consumer_lag", NULL };

    *lag = -1;
    *rebalances = -1;

    root = yajl_tree_parse(json, errbuf, sizeof(errbuf));
    if (root == NULL) {
        return -1;
    }

    node = yajl_tree_get(root, cgrp_path, yajl_t_number);
    if (node != NULL && YAJL_IS_INTEGER(node)) {
        *rebalances = YAJL_GET_INTEGER(node);
    }

    parts = yajl_tree_get(root, parts_path, yajl_t_object);

    if (parts != NULL) {
        for (i = 0; i < parts->u.object.len; i++) {
            node = yajl_tree_get(parts->u.object.values[i], lag_path,
                                 yajl_t_number);

            /* -1 means "not known", e.g. the internal partition -1 */
            if (node == NULL || !YAJL_IS_INTEGER(node)) {
                continue;
            }

            v = YAJL_GET_INTEGER(node);

            if (v >= 0) {
                *lag = (*lag < 0 ? 0 : *lag) + v;
            }
        }
    }

    yajl_tree_free(root);

    return 0;
}
