/*
** serve_plan.h - one query's plan as a graph (serve_plan.c), for `sluice
** serve` (GET /queries/ID, DESCRIBE qN) and its console.
*/
#ifndef SLUICE_SERVE_PLAN_H
#define SLUICE_SERVE_PLAN_H

#include <cjson/cJSON.h>

#include "plan.h"

/* The graph of query id (a query the caller planned) of plan:
** {"nodes": [{"id", "kind": "source"|"stream"|"operator", "name" (the
** connector or operator kind), "label" (EXPLAIN's first line for it),
** "detail" (the rest: columns, programs)}], "edges": [["from", "to"]]},
** nodes in an order where every input comes before what it feeds.  NULL
** when plan (may be NULL) has no such query.  The caller owns the result. */
cJSON *sl_plan_graph(const sl_plan *plan, const char *id);
/* Append the labels of graph g's nodes, in order, joined by " -> ". */
void sl_plan_graph_text(const cJSON *g, sl_buf *out);

#endif /* SLUICE_SERVE_PLAN_H */
