/*
** serve_plan.c - one query's plan as a graph, for `sluice serve`'s GET
** /queries/ID (the console draws it) and DESCRIBE qN: the structure EXPLAIN
** prints (plan.h), restricted to what feeds that query.  Nodes are its
** sources, the named streams between them and it (computed once, fanned
** out), the operators of the streams' own queries and of its own chain, in
** order; edges go from input to operator.
*/
#include <stdlib.h>
#include <string.h>

#include "serve_plan.h"

/* The node with id in graph g's "nodes", or NULL. */
static cJSON *find_node(cJSON *g, const char *id) {
  cJSON *n;
  cJSON_ArrayForEach(n, cJSON_GetObjectItem(g, "nodes")) {
    const char *x = cJSON_GetStringValue(cJSON_GetObjectItem(n, "id"));
    if (x && !strcmp(x, id)) return n;
  }
  return NULL;
}

/* Add a node {id, kind, name, label, detail} to g (strings copied; detail
** may be NULL). */
static void add_node(cJSON *g, const char *id, const char *kind, const char *name,
                     const char *label, const char *detail) {
  cJSON *n = cJSON_CreateObject();
  cJSON_AddStringToObject(n, "id", id);
  cJSON_AddStringToObject(n, "kind", kind);
  cJSON_AddStringToObject(n, "name", name);
  cJSON_AddStringToObject(n, "label", label);
  if (detail && *detail) cJSON_AddStringToObject(n, "detail", detail);
  cJSON_AddItemToArray(cJSON_GetObjectItem(g, "nodes"), n);
}

/* Add an edge from node id a to node id b. */
static void add_edge(cJSON *g, const char *a, const char *b) {
  cJSON *e = cJSON_CreateArray();
  cJSON_AddItemToArray(e, cJSON_CreateString(a));
  cJSON_AddItemToArray(e, cJSON_CreateString(b));
  cJSON_AddItemToArray(cJSON_GetObjectItem(g, "edges"), e);
}

/* Add source i of plan (once) and write its node id into id (cap bytes). */
static void add_source(cJSON *g, const sl_plan *plan, int i, char *id, size_t cap) {
  snprintf(id, cap, "source%d", i);
  if (find_node(g, id)) return;
  const sl_psource *s = plan->sources[i];
  const sl_source *d = s->desc;
  sl_buf b;
  sl_buf_init(&b);
  sl_buf_printf(&b, "source %s", d->vt->name);
  if (!d->vt->read_rows) sl_buf_printf(&b, ", format %s", d->format->name);
  sl_plan_source_detail(plan, i, &b);
  sl_buf_printf(&b, ", %d column%s", d->schema.ncol, d->schema.ncol == 1 ? "" : "s");
  sl_buf cols;
  sl_buf_init(&cols);
  for (int c = 0; c < d->schema.ncol; c++)
    sl_buf_printf(&cols, "%s%s", c ? ", " : "", d->schema.cols[c].name);
  add_node(g, id, "source", d->vt->name, b.z, cols.z);
  sl_buf_free(&b);
  sl_buf_free(&cols);
}

static void add_chain(cJSON *g, const sl_plan *plan, int qi, char *last, size_t cap);

/* Add stream i of plan (once), and what feeds it, and write its node id
** into id. */
static void add_stream(cJSON *g, const sl_plan *plan, int i, char *id, size_t cap) {
  const sl_pstream *st = plan->streams[i];
  snprintf(id, cap, "stream:%s", st->def->name);
  if (find_node(g, id)) return;
  char in[300];
  if (st->query >= 0)
    add_chain(g, plan, st->query, in, sizeof in);
  else
    add_source(g, plan, st->source, in, sizeof in);
  sl_buf b;
  sl_buf_init(&b);
  sl_buf_printf(&b, "stream %s: computed once, fanout", st->def->name);
  add_node(g, id, "stream", st->def->name, b.z, NULL);
  sl_buf_free(&b);
  add_edge(g, in, id);
}

/* Add query qi's operators (and, first, its inputs) to g; write the id of
** its last operator into last. */
static void add_chain(cJSON *g, const sl_plan *plan, int qi, char *last, size_t cap) {
  const sl_pquery *q = plan->queries[qi];
  char in[300], in2[300] = "";
  if (q->in_stream >= 0)
    add_stream(g, plan, q->in_stream, in, sizeof in);
  else
    add_source(g, plan, q->source, in, sizeof in);
  if (q->in_stream2 >= 0)
    add_stream(g, plan, q->in_stream2, in2, sizeof in2);
  else if (q->source2 >= 0)
    add_source(g, plan, q->source2, in2, sizeof in2);
  for (int k = 0; k < q->nops; k++) {
    char id[300];
    snprintf(id, sizeof id, "%s.%d", q->id, k);
    sl_buf b;
    sl_buf_init(&b);
    q->ops[k].kind->explain(q->ops[k].spec, &b);
    /* the first line sums it up; the rest are its programs */
    const char *text = b.z ? b.z : "";
    size_t n = strcspn(text, "\n");
    char *label = sl_strndup(text, n);
    add_node(g, id, "operator", q->ops[k].kind->name, label, text[n] ? text + n + 1 : NULL);
    free(label);
    sl_buf_free(&b);
    add_edge(g, in, id);
    if (!k && in2[0]) add_edge(g, in2, id);
    snprintf(in, sizeof in, "%s", id);
  }
  snprintf(last, cap, "%s", in);
}

cJSON *sl_plan_graph(const sl_plan *plan, const char *id) {
  for (int i = 0; plan && i < plan->nquery; i++) {
    if (!plan->queries[i]->top || strcmp(plan->queries[i]->id, id)) continue;
    cJSON *g = cJSON_CreateObject();
    cJSON_AddArrayToObject(g, "nodes");
    cJSON_AddArrayToObject(g, "edges");
    char last[300];
    add_chain(g, plan, i, last, sizeof last);
    return g;
  }
  return NULL;
}

void sl_plan_graph_text(const cJSON *g, sl_buf *out) {
  const cJSON *n;
  int k = 0;
  cJSON_ArrayForEach(n, cJSON_GetObjectItem(g, "nodes")) {
    sl_buf_printf(out, "%s%s", k++ ? " -> " : "",
                  cJSON_GetStringValue(cJSON_GetObjectItem(n, "label")));
  }
}
