/*
** plan_int.h - what the planner's files share (plan.c, plan_expr.c,
** plan_group.c, plan_join.c); nothing outside the planner includes it.
*/
#ifndef SLUICE_PLAN_INT_H
#define SLUICE_PLAN_INT_H

#include "expr.h"
#include "plan.h"
#include "settings.h"

/* Where a query's first operator goes, and what it binds against. */
typedef struct sl_input {
  int source;        /* the source feeding (directly or through streams) */
  int stream;        /* >= 0: the stream whose fanout feeds the query */
  sl_schema *schema; /* columns to bind against, NULL for no columns */
  const char *name;  /* qualifier the columns may be written with */
  int64_t lateness;  /* the stream's WATERMARK ts - INTERVAL: allowed lateness (ms) */
  /* FROM s JOIN t: where t's columns and s's are in the joined rows */
  sl_schema *schema2;
  const char *name2;
  int base1, base2;
  /* FROM a, b, ... (plan_join.c): every item, the input first (base1 its
  ** base), for the binder; NULL otherwise */
  const sl_bind_tab *tabs;
  int ntabs;
  sl_changes changes; /* what its rows carry: a stream's, its query's output's */
  /* 1 + the column that is its stream query's PROCTIME() (a window over
  ** it is in processing time), 0 none */
  int proctime1;
  /* the name of its event-time column: the column of its stream's
  ** WATERMARK (a stream over a source), or NULL */
  const char *evtime;
  /* per column of schema: a window bound that never goes down (a stream's
  ** query's sl_pquery.wtime), or NULL */
  const unsigned char *wtime;
} sl_input;

/* A list of expressions (collected calls, arguments). */
typedef struct sl_exprs {
  sl_expr **a;
  int n;
} sl_exprs;

/* ---- plan_util.c (below the other planner files) ---- */
/* Append an operator spec (owned from now on) to q's chain. */
void sl_plan_add_op(sl_pquery *q, const sl_op_kind *kind, void *spec);
/* A binder over in's columns with the catalog's functions (the rest zero). */
sl_bind sl_plan_binder(const sl_plan *plan, const sl_input *in, sl_err *err);
/* Columns of the input's rows (both sides of a join), once binding is done
** (an open schema grows while binding). */
int sl_plan_input_width(const sl_input *in);
/* q's output columns: names and affinities of cols. */
void sl_plan_set_columns(sl_pquery *q, const sl_exprlist *cols);
/* Evaluate a connector call's options (with the connector's SET defaults)
** and check them by opening it with check_only: returns the descriptor (a
** source or sink, never read or written; the caller closes it) and leaves
** the evaluated options in keep (the caller frees them).  NULL with err set. */
void *sl_plan_check(sl_plan *plan, const sl_call *call, int sink, const sl_schema *declared,
                    sl_options *keep, sl_err *err);
/* SET processing.guarantee = 'exactly_once' (else at-least-once). */
int sl_plan_exactly_once(const sl_plan *plan);
/* What source `source` of plan gives: SL_UPDATING when it is read as a
** changelog (changelog => 'op' or 'upsert'), else SL_APPEND_ONLY. */
sl_changes sl_plan_source_changes(const sl_plan *plan, int source);
/* 0 when changes is SL_APPEND_ONLY; else -1 with err set at line:col:
** `what` (e.g. "a join") cannot fold take-backs in, for the reason why. */
int sl_plan_append_only(sl_changes changes, const char *what, const char *why, int line, int col,
                        sl_err *err);

/* ---- plan_expr.c ---- */
/* A program that skips the row unless where holds (when where is not NULL)
** and computes the n expressions e[] into consecutive registers from its
** result_reg.  mcall_base: see sl_compiler.  NULL with err set. */
sl_program *sl_plan_row_program(sl_expr *where, sl_expr **e, int n, int mcall_base, sl_err *err);
/* The same, window calls read as input columns from wcall_base on
** (sl_compiler.wcall_base). */
sl_program *sl_plan_row_program_w(sl_expr *where, sl_expr **e, int n, int mcall_base,
                                  int wcall_base, sl_err *err);
/* Add op_score to q for the model calls collected while binding (and where,
** a WHERE that uses no model, so rows it drops are not scored).  Takes
** mcalls' slot references on success (mcalls is zeroed); on failure the
** caller frees them. */
int sl_plan_score(const sl_plan *plan, sl_pquery *q, sl_mcalls *mcalls, sl_expr *where, int ncol_in,
                  int strict, sl_err *err);
/* A SELECT without GROUP BY: bind the select list and WHERE, add op_score
** for model calls and op_project.  0, or -1 with err set. */
int sl_plan_project(sl_plan *plan, const sl_select *sel, sl_pquery *q, sl_input *in,
                    sl_exprlist *cols, sl_err *err);

/* ---- plan_group.c ---- */
/* GROUP BY [keys], [TUMBLE | HOP | SESSION]: bind, compile the step and
** output programs, and add op_aggregate (and op_score) to q.  cols: the
** result columns, the first nvis the query's own (GROUP BY 1 names one of
** them), then ORDER BY's hidden ones. */
int sl_plan_grouped(sl_plan *plan, const sl_select *sel, sl_pquery *q, sl_input *in,
                    sl_exprlist *cols, int nvis, sl_err *err);
/* 1 when every source feeding q ends (sl_source.bounded): its GROUP BY
** gives final rows at the end, which can be sorted and made distinct. */
int sl_plan_bounded(const sl_plan *plan, const sl_pquery *q);
/* 1 when sel aggregates without GROUP BY: an aggregate call in the select
** list cols (or HAVING). */
int sl_plan_is_aggregate(const sl_plan *plan, const sl_select *sel, const sl_exprlist *cols);

/* ---- plan_join.c ---- */
/* 1 when sel's FROM joins two streams within a time bound (its ON has a
** BETWEEN at the top level), else 0 (a stream-table join, or no join). */
int sl_plan_is_interval_join(const sl_select *sel);
/* 1 if sel is FROM a JOIN b ON ... where b is a stream (a catalog stream, or
** a connector call whose input does not end): a join of two streams
** (op_ijoin; without a time bound in ON, on keys alone, with SET state_ttl). */
int sl_plan_is_stream_join(sl_plan *plan, const sl_select *sel);
/* FROM s [LEFT] JOIN t ON ... (rin NULL): a FROM list of any length, s
** the driving input and every later item a bounded table joined by an
** op_join (a chain); *body becomes sel with the WHERE terms that moved
** into the joins left out.  FROM a JOIN b ON ... AND b.ts BETWEEN ... (an
** interval join of two streams; rin the right input, already planned,
** feeding query qi's port): op_ijoin.  0, or -1 with err set. */
int sl_plan_join(sl_plan *plan, const sl_select *sel, int qi, sl_input *in, sl_input *rin,
                 const sl_select **body, sl_err *err);
/* sel itself, or a copy whose FROM list starts with its one stream when
** it has one after a table and only inner joins without USING, NATURAL or
** parentheses (the stream drives the chain; every ON becomes a WHERE term
** and `*` keeps the order as written).  The copy lives in plan's arena. */
const sl_select *sl_plan_join_reorder(sl_plan *plan, const sl_select *sel);
/* sel itself, or, when its FROM list is three or more streams joined
** (a JOIN b ON ... JOIN c ON ...), a copy whose FROM is a subquery of all
** items but the last (SELECT a.*, b.* FROM a JOIN b ON ..., marked nest)
** joined to the last one: a join of two streams fed by another.  NULL with
** err set when such a list cannot be nested (a join without ON, two items
** of one name).  The copy lives in plan's arena. */
const sl_select *sl_plan_join_nest(sl_plan *plan, const sl_select *sel, sl_err *err);
/* The error of `*` or `t.*` (e) over an open schema, into err. */
void sl_plan_star_open(const sl_expr *e, sl_err *err);
/* After in (FROM item from, a nest subquery) is planned: in->tabs, the
** items whose columns its rows hold (kept with its stream too, for a nest
** within a nest). */
void sl_plan_nest_tabs(sl_plan *plan, const sl_call *from, sl_input *in);
/* `*` and `t.*` of cols over a FROM list's items (in->tabs), in order, a
** USING column once.  NULL with err set. */
sl_exprlist *sl_plan_expand_star_tabs(sl_plan *plan, const sl_exprlist *cols, const sl_input *in,
                                      sl_err *err);

/* An empty expression list with room for cap items and their names, in
** the plan's arena (freed with the plan). */
sl_exprlist *sl_plan_list(sl_plan *plan, int cap);

/* A GROUP BY split in two queries through a repartition topic
** (plan_repart.c): the SELECTs of stage 1 and stage 2 and the topic, all
** in the plan's arena. */
typedef struct sl_repart {
  sl_select *stage1, *stage2;
  const char *topic;
} sl_repart;
/* With SET repartition on, split sel (a query whose identity is ident)
** when it is a GROUP BY over a continuous Kafka read (directly or through
** a stream over one, joined with tables only) whose keys are not just the
** message key, and nothing in it needs more than the columns stage 1
** projects (no subqueries, no window functions): 1 with *out filled, else
** 0 (plan it whole).  No I/O; nothing of sel changes. */
int sl_plan_repart_split(sl_plan *plan, const sl_select *sel, const char *ident, sl_repart *out);

/* ---- plan_order.c ---- */
struct sl_sortkey;
/* ORDER BY resolved against a query's output columns. */
typedef struct sl_order_plan {
  struct sl_sortkey *keys;      /* per term: its column and order (owned until sl_plan_sort) */
  unsigned char *explicit_coll; /* per term: COLLATE written on an ordinal or a name */
  int nkeys;
  int nvis; /* the query's own columns */
  int ncol; /* with the hidden ones the sort needs */
} sl_order_plan;
/* Which of the first nvis result columns e names: an ordinal (1-based; out
** of range is an error naming clause and the term's index), or a bare name
** equal to a column's alias; *col -1 when neither.  0, or -1 with err set. */
int sl_plan_result_column(const sl_exprlist *cols, int nvis, const sl_expr *e, const char *clause,
                          int term, int *col, sl_err *err);
/* Resolve ORDER BY ob against the result columns cols into op: returns cols
** extended with a hidden column per term that is not a result column (the
** body computes them; a list in the plan's arena), or NULL with err set. */
sl_exprlist *sl_plan_order_cols(sl_plan *plan, const sl_orderby *ob, sl_exprlist *cols,
                                sl_order_plan *op, sl_err *err);
/* ORDER BY over the rows q already makes (a compound's): terms may only
** name its result columns (ordinals or names), as SQLite's compounds; the
** columns for sl_plan_sort, or NULL with err set ("1st ORDER BY term does
** not match any column in the result set"). */
sl_exprlist *sl_plan_order_result(sl_plan *plan, const sl_orderby *ob, const sl_pquery *q,
                                  sl_order_plan *op, sl_err *err);
/* Add op_sort to q over the columns cols (bound: the collations are read
** from them) as op says; rows [offset, offset + limit) pass (limit < 0:
** all); per_batch: each batch sorted on its own.  q's output columns become
** the visible ones.  Takes op's keys.  0. */
int sl_plan_sort(sl_plan *plan, sl_pquery *q, sl_order_plan *op, const sl_exprlist *cols,
                 int64_t limit, int64_t offset, int per_batch);
void sl_order_plan_free(sl_order_plan *op);

/* ---- plan_window.c ---- */
/* 1 when e calls a function over a window (f(...) OVER (...)), not
** looking into subqueries. */
int sl_plan_has_window(const sl_expr *e);
/* A SELECT whose result columns cols call functions over windows: bind
** them, add op_window (bounded input), op_topn (a stream read by a Top-N:
** sel->topn) or op_over (a stream ordered by event time), and op_project
** for the select list.  agg: the select list also aggregates (refused).
** 0, or -1 with err set. */
int sl_plan_window(sl_plan *plan, const sl_select *sel, sl_pquery *q, sl_input *in,
                   sl_exprlist *cols, int agg, sl_err *err);
/* sel reads FROM (SELECT ..., ROW_NUMBER() OVER (...) AS rn FROM stream)
** WHERE rn <= N (also RANK, DENSE_RANK; rn < N, rn = 1): note N and the
** column in the subquery (sub->topn, topn_col), which plans it as a Top-N. */
void sl_plan_note_topn(const sl_plan *plan, const sl_select *sel);
/* sel itself, or, when it reads FROM s WHERE rn <= N with s a named stream
** whose SELECT ranks (ROW_NUMBER() OVER (...) AS rn over a stream), a copy
** reading FROM (s's SELECT) AS s: the Top-N over s's definition, planned
** for this query alone as a view is (sl_plan_note_topn then notes N).  The
** copy lives in plan's arena. */
const sl_select *sl_plan_topn_view(sl_plan *plan, const sl_select *sel);

/* ---- plan_subquery.c ---- */
/* The binder's hook for E_SUBQUERY (sl_bind.plan_subq; ud the plan): plan
** the subquery, bind IN's operand and the outer values it reads. */
int sl_plan_subquery(void *ud, sl_bind *b, sl_expr *e);
/* A compound SELECT (sel->op): each arm a subquery, op_compound added to
** q (whose input is one empty row); q's columns are the first arm's. */
int sl_plan_compound(sl_plan *plan, const sl_select *sel, sl_pquery *q, sl_err *err);
/* 1 when sel reads only inputs that end (tables, files, sqlite(),
** postgres(), no FROM), looking into streams' definitions and subqueries
** in FROM; else 0 (a stream). */
int sl_plan_select_bounded(const sl_plan *plan, const sl_select *sel);
/* Free a subquery: its plan and the outer values it reads. */
void sl_psubq_free(sl_psubq *s);
/* Append the EXPLAIN text of plan's subqueries (and theirs). */
void sl_plan_explain_subqueries(const sl_plan *plan, sl_buf *out);

#endif /* SLUICE_PLAN_INT_H */
