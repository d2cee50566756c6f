/*
** ast.h - the syntax tree built by the parser (grammar/sql.y) and annotated by
** the binder (bind.c).
**
** Memory: every node, list and string of a parsed script lives in the arena of
** its sl_parse, freed all at once by sl_parse_free.  Nothing in the tree is
** freed on its own, which is why the grammar needs no %destructor for memory.
** The binder writes its results into the nodes (affinity, resolved column or
** function) so the compiler reads one tree.
*/
#ifndef SLUICE_AST_H
#define SLUICE_AST_H

#include "func.h"
#include "util.h"

/* A token as the tokenizer produces it. */
typedef struct sl_token {
  const char *z; /* start in the SQL text (not terminated) */
  int n;         /* length in bytes */
  int line, col; /* 1-based position of the first byte */
} sl_token;

typedef enum sl_expr_kind {
  E_NULL,
  E_INT,      /* i */
  E_REAL,     /* r */
  E_STRING,   /* z, n (unescaped) */
  E_BLOB,     /* z, n (decoded bytes) */
  E_COLUMN,   /* name (and table qualifier in tab); bound: col */
  E_STAR,     /* `*` in a select list or count(*) */
  E_UNARY,    /* op in {'-', '+', '~', TK_NOT}; left */
  E_BINARY,   /* op is a TK_* code; left, right */
  E_AND,      /* left AND right */
  E_OR,       /* left OR right */
  E_IS,       /* left IS right (not = IS NOT); also IS [NOT] DISTINCT FROM */
  E_ISNULL,   /* left IS NULL (not = NOTNULL) */
  E_BETWEEN,  /* left BETWEEN list[0] AND list[1] (not) */
  E_IN,       /* left IN (list) (not) */
  E_LIKE,     /* left LIKE/GLOB right [ESCAPE list[0]] (not); op TK_LIKE_KW variant */
  E_CAST,     /* CAST(left AS typename in z) */
  E_CASE,     /* CASE [left] WHEN list[2i] THEN list[2i+1] ... [ELSE right] END */
  E_CALL,     /* name(list) [FILTER (WHERE right)]; distinct; star for f(*) */
  E_COLLATE,  /* left COLLATE name */
  E_INTERVAL, /* INTERVAL 'n' unit: left is the amount, name the unit; i = milliseconds */
  E_OPTION,   /* name => left, in a table-function call */
  /* a subquery (plan_subquery.c): op is SL_SUBQ_*: (sub) a scalar, EXISTS
  ** (sub), left [NOT] IN (sub) (not); bound: subq, and list holds the
  ** outer values a correlated one reads (bound in the outer query) */
  E_SUBQUERY
} sl_expr_kind;

/* E_SUBQUERY's op */
enum { SL_SUBQ_SCALAR, SL_SUBQ_EXISTS, SL_SUBQ_IN };
/* sl_select.op of a compound SELECT */
enum { SL_UNION = 1, SL_UNION_ALL, SL_EXCEPT, SL_INTERSECT };

typedef struct sl_expr sl_expr;
typedef struct sl_exprlist sl_exprlist;
struct sl_orderby;

/* A window frame's bound (OVER (... ROWS BETWEEN start AND end)); the
** kinds (sl_fbound_kind) and frame types are func.h's. */
typedef struct sl_fbound {
  int kind;   /* sl_fbound_kind */
  sl_expr *n; /* n PRECEDING / FOLLOWING: the offset, else NULL */
  int line, col;
} sl_fbound;
typedef struct sl_frame {
  int kind;
  sl_token at; /* ROWS / RANGE / GROUPS as written */
  sl_fbound start, end;
} sl_frame;

/* A window (OVER (...), or WINDOW name AS (...)): its partition, order and
** frame, and the named window it starts from (base), as SQLite reads them.
** The binder merges a base's clauses into the window (sl_bind.windows). */
typedef struct sl_window {
  const char *name; /* WINDOW name AS (...): its name, else NULL */
  const char *base; /* OVER name / OVER (name ...): the window it builds on, or NULL */
  sl_exprlist *partition;
  struct sl_orderby *order;
  sl_frame frame;
  int line, col;          /* where it was written */
  const char *end;        /* just past its text (the call's span) */
  struct sl_window *next; /* the next of a WINDOW clause */
  int resolved;           /* the binder merged its base in */
} sl_window;

struct sl_exprlist {
  int n, cap;
  sl_expr **a;
  char **names; /* select list: alias (or NULL) per item; NULL array otherwise */
  /* an INSERT's row of literals, kept as its n values (sl_stmt_add_row; a
  ** TEXT's or BLOB's bytes in the parse's arena), a and names then NULL;
  ** else NULL */
  sl_value *lit;
};

struct sl_expr {
  uint8_t kind; /* sl_expr_kind */
  uint8_t not_; /* negated form (NOT BETWEEN, NOT IN, IS NOT, NOT LIKE...) */
  uint8_t distinct;
  uint8_t star;      /* f(*) */
  int op;            /* operator token code for E_UNARY / E_BINARY / E_LIKE */
  int line, pos_col; /* position of the expression's first token */
  int height;        /* 1 for a leaf, else 1 + the tallest child (sl_expr_height) */
  sl_expr *left, *right;
  sl_exprlist *list;
  const char *name; /* E_COLUMN / E_CALL / E_COLLATE / E_INTERVAL / E_OPTION name */
  const char *tab;  /* E_COLUMN qualifier, or NULL */
  const char *z;    /* E_STRING / E_BLOB bytes (arena), E_CAST type name */
  int n;            /* bytes at z */
  int64_t i;        /* E_INT */
  double r;         /* E_REAL */
  const char *span; /* the expression's source text (for default column names) */
  int spanlen;

  /* ---- filled in by the binder ---- */
  int col;             /* E_COLUMN: input column index */
  int agg;             /* E_CALL of an aggregate: index into the query's aggregates, else -1 */
  int mcall;           /* E_CALL of a model function: index into the query's model calls, else -1 */
  int bcall;           /* E_CALL evaluated by op_project for a whole batch: its index, else -1 */
  const sl_func *func; /* E_CALL: resolved function */
  uint8_t aff;         /* sl_affinity of the expression's value */
  uint8_t coll;        /* sl_coll attached by COLLATE or the column */
  uint8_t has_coll;    /* an explicit COLLATE appears (takes precedence) */
  uint8_t is_const;    /* no column reference and only deterministic calls */
  struct sl_select *sub; /* E_SUBQUERY: the subquery */
  sl_window *win;        /* E_CALL with OVER: its window, else NULL */
  int wcall;             /* bound: a window call's index in the query's (sl_bind.wcalls), else -1 */
  void *subq;            /* E_SUBQUERY bound: its plan (an sl_psubq, owned by the plan) */
};

/* A table function call: file('x', format => 'json'), or a bare name. */
typedef struct sl_call {
  const char *name;
  int line, col;
  sl_exprlist *args;    /* positional exprs and E_OPTION items; NULL for a bare name */
  int bare;             /* written without parentheses (a stream/table name, or stdout) */
  const char *alias;    /* FROM x AS alias, or NULL */
  struct sl_call *join; /* FROM x [LEFT] JOIN join ON on: the table joined, or NULL */
  struct sl_expr *on;
  int left_join;
  int right_join; /* RIGHT JOIN (with left_join: FULL JOIN) */
  /* A FROM list is a chain of items linked by join: x's on, left_join,
  ** natural and using describe how x->join is joined to the items before
  ** it (sl_join_add).  On the first item only: extra, conditions of a
  ** parenthesised inner join's ON that hold over the whole FROM (as WHERE
  ** terms), and unsupported, a reason the list cannot be planned, or NULL. */
  int natural;
  sl_exprlist *using; /* USING (a, b): E_COLUMN names, or NULL */
  struct sl_expr *extra;
  const char *unsupported;
  /* an item inside a parenthesised list, not its first: that first item
  ** (the innermost list's), whose items alone its ON and USING see */
  const struct sl_call *group;
  /* set by the planner when it moved a stream to the front of the FROM
  ** list: the item's place as written, plus one (0: not moved) */
  int pos1;
  /* set by the planner on the FROM subquery it made of a FROM list's first
  ** items when every item is a stream (sl_plan_join_nest): the query still
  ** names those items' columns, which the subquery's rows hold in order */
  int nest;
  struct sl_select *sub; /* FROM (SELECT ...): the subquery (name "(subquery)"), else NULL */
  /* set by the planner: FROM this stream, made by the planner and not in
  ** the catalog (a repartitioned query's stage 2 reading its topic:
  ** plan_repart.c), else NULL */
  const struct sl_stream *stream;
  /* FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), ...)): the item t with the
  ** window call TUMBLE(ts, ...) (also HOP, SESSION) its SELECT's GROUP BY
  ** window_start, window_end stands for (sl_select_window_tvf); else NULL */
  struct sl_expr *window;
  /* JOIN t FOR SYSTEM_TIME AS OF x (a lookup join): x, else NULL */
  struct sl_expr *as_of;
} sl_call;

/* Join types as the grammar reads them (bits). */
#define SL_JT_INNER 0
#define SL_JT_LEFT 1
#define SL_JT_NATURAL 2
#define SL_JT_RIGHT 4
/* ON expr or USING (names) after a FROM item. */
typedef struct sl_onusing {
  struct sl_expr *on;
  sl_exprlist *using;
} sl_onusing;

typedef enum sl_stmt_kind {
  S_SELECT,        /* SELECT ... [FROM src] [WHERE] [GROUP BY] [HAVING] [INTO sink] */
  S_CREATE_STREAM, /* CREATE STREAM name (cols) FROM src | AS SELECT */
  S_CREATE_TABLE,  /* CREATE TABLE name (cols) */
  S_INSERT_VALUES, /* INSERT INTO table [(cols)] VALUES (...), ... */
  S_DROP,          /* DROP STREAM|TABLE [IF EXISTS] name */
  S_SET,           /* SET name = value */
  S_SHOW,          /* SHOW FUNCTIONS|STREAMS|TABLES|QUERIES */
  S_DESCRIBE,      /* DESCRIBE name */
  S_EXPLAIN,       /* EXPLAIN stmt */
  S_CREATE_MODEL,  /* CREATE [OR REPLACE] MODEL [IF NOT EXISTS] name FROM 'path' (value)
                      | TYPE type [WITH (options)] (source: the type and options as a call) */
  S_DROP_MODEL,    /* DROP MODEL [IF EXISTS] name */
  S_EXPORT_MODEL,  /* EXPORT MODEL name TO 'path' (value) */
  S_LOAD,          /* LOAD 'path' (value): an extension of C functions */
  S_TERMINATE,     /* TERMINATE id | ALL (name "ALL"): queries of a running engine */
  S_UPDATE,        /* UPDATE name SET sets WHERE where (sets: values named by column) */
  S_DELETE         /* DELETE FROM name WHERE where */
} sl_stmt_kind;

/* LIMIT and OFFSET as the grammar reads them. */
typedef struct sl_limitc {
  struct sl_expr *limit, *offset;
} sl_limitc;

/* ORDER BY's terms as the grammar reads them (the rule `orderby`, for
** any clause that sorts). */
typedef enum sl_nulls { SL_NULLS_DEFAULT = 0, SL_NULLS_FIRST = 1, SL_NULLS_LAST = 2 } sl_nulls;
typedef struct sl_orderterm {
  struct sl_expr *e; /* COLLATE is part of it (E_COLLATE) */
  int desc;
  sl_nulls nulls;
} sl_orderterm;
typedef struct sl_orderby {
  sl_orderterm *a; /* arena */
  int n, cap;
} sl_orderby;

typedef struct sl_select {
  sl_exprlist *cols; /* result columns with aliases */
  sl_call *from;     /* NULL: SELECT without FROM */
  sl_expr *where;
  sl_exprlist *group;
  sl_expr *having;
  sl_call *into;   /* NULL: rows go to the caller */
  sl_expr *limit;  /* LIMIT n, or NULL */
  sl_expr *offset; /* OFFSET m (or LIMIT m, n), or NULL */
  int distinct;
  int emit_changes;  /* EMIT CHANGES */
  sl_orderby *order; /* ORDER BY, or NULL */
  /* a compound: op (SL_UNION...) of prior (the SELECTs to its left) and
  ** arm (the one to its right); limit, offset and into are the whole
  ** compound's, cols the first SELECT's; op 0: a simple SELECT */
  int op;
  struct sl_select *prior, *arm;
  sl_window *windows; /* WINDOW name AS (...), ...: the named windows, or NULL */
  /* set by the planner: the query reading this one as FROM (SELECT ...)
  ** keeps the rows whose rank (column topn_col of this select list) is at
  ** most topn (a Top-N, planned incrementally: plan_window.c); 0: none */
  int64_t topn;
  int topn_col;
} sl_select;

typedef struct sl_coldef {
  const char *name;
  const char *type; /* declared type text or NULL */
  int pk;           /* declared PRIMARY KEY */
} sl_coldef;

typedef struct sl_stmt sl_stmt;
struct sl_stmt {
  sl_stmt_kind kind;
  int line, col;   /* first token */
  const char *sql; /* the statement's text (in the script) */
  int sqllen;
  sl_select *select;    /* S_SELECT, S_CREATE_STREAM AS, S_EXPLAIN of a select */
  const char *name;     /* CREATE/DROP/DESCRIBE/SET/SHOW target */
  int if_exists;        /* DROP ... IF EXISTS / CREATE ... IF NOT EXISTS */
  int or_replace;       /* CREATE OR REPLACE */
  sl_coldef *cols;      /* CREATE STREAM/TABLE column list */
  int ncols, capcols;   /* columns, and room for them at cols */
  sl_call *source;      /* CREATE STREAM ... FROM source */
  sl_expr *watermark;   /* CREATE STREAM ... WATERMARK expr */
  int nrows, caprows;   /* S_INSERT_VALUES: number of rows, and room for them */
  sl_exprlist **values; /* S_INSERT_VALUES: the rows (arena array of nrows lists) */
  sl_expr *value;       /* S_SET value */
  sl_stmt *inner;       /* S_EXPLAIN */
  sl_stmt *next;        /* next statement of the script */
  sl_exprlist *sets;    /* S_UPDATE: the new values, each named by its column */
  sl_expr *where;       /* S_UPDATE / S_DELETE: which rows, or NULL for all */
  int view;             /* CREATE VIEW (an S_CREATE_STREAM) / DROP VIEW (an S_DROP) */
};

/* The parse context: what the grammar's actions build into. */
typedef struct sl_parse {
  sl_arena arena;  /* owns the whole tree */
  const char *sql; /* the script text (borrowed) */
  sl_stmt *first, *last;
  sl_err err;             /* first syntax error, with line:column */
  const char *stmt_start; /* start of the statement being parsed */
  int stmt_line, stmt_col;
  /* the arena as it was after row_stmt's last VALUES row: a next row of
  ** literals goes back there to keep only its values (sl_stmt_add_row) */
  sl_stmt *row_stmt;
  sl_arena_mark row_mark;
} sl_parse;

/* Parse a whole script.  Returns 0 and fills p (statements in order), or -1
** with p->err set ("near \"x\": syntax error").  p must be freed with
** sl_parse_free either way; the script text must outlive p. */
int sl_parse_script(sl_parse *p, const char *sql);
void sl_parse_free(sl_parse *p);

/* ---- builders called from grammar actions (ast.c) ---- */
sl_expr *sl_expr_new(sl_parse *p, int kind, const sl_token *at);
sl_expr *sl_expr_binary(sl_parse *p, int kind, int op, sl_expr *l, sl_expr *r);
sl_expr *sl_expr_unary(sl_parse *p, int op, sl_expr *e, const sl_token *at);
/* l AND r; as SQLite's parser does, the integer 0 when either side is an
** integer literal 0 (not the keyword FALSE, which SQLite resolves later):
** the other side is then never evaluated, its errors and calls do not
** happen. */
sl_expr *sl_expr_and(sl_parse *p, sl_expr *l, sl_expr *r);
sl_expr *sl_expr_literal(sl_parse *p, int tk, const sl_token *t);
sl_expr *sl_expr_column(sl_parse *p, const sl_token *tab, const sl_token *name);
sl_expr *sl_expr_call(sl_parse *p, const sl_token *name, sl_exprlist *args, int distinct, int star);
sl_expr *sl_expr_option(sl_parse *p, const sl_token *name, sl_expr *value);
sl_expr *sl_expr_interval(sl_parse *p, sl_expr *amount, const sl_token *unit, const sl_token *at);
/* WATERMARK x at kw: x is the event time, or the event time minus a
** lateness (a constant INTERVAL or number of milliseconds, 0 or more); a
** sum or difference at its top with another right side is a syntax error
** at kw.  Returns x (the stream keeps it). */
sl_expr *sl_expr_watermark(sl_parse *p, const sl_token *kw, sl_expr *x);
/* EXTRACT(field FROM x) at kw (the EXTRACT token), end just past its ')':
** the call extract('field', x). */
sl_expr *sl_expr_extract(sl_parse *p, const sl_token *kw, const sl_token *field, sl_expr *x,
                         const char *end);
/* A subquery expression (op SL_SUBQ_*; left: IN's operand, else NULL),
** from the token at (or left's start) to end. */
sl_expr *sl_expr_subquery(sl_parse *p, int op, sl_expr *left, struct sl_select *sub,
                          const sl_token *at, const char *end);
/* SELECT * FROM name (x IN name). */
struct sl_select *sl_select_table(sl_parse *p, const sl_token *name);
/* left op right as one compound SELECT: right's LIMIT and INTO move to the
** compound; one on left is an error, as in SQLite. */
struct sl_select *sl_select_compound(sl_parse *p, struct sl_select *left, int op,
                                     struct sl_select *right);
sl_exprlist *sl_list_append(sl_parse *p, sl_exprlist *l, sl_expr *e, const sl_token *alias);
/* Append an ORDER BY term to l (a new list when NULL), in p's arena. */
sl_orderby *sl_orderby_append(sl_parse *p, sl_orderby *l, sl_expr *e, int desc, int nulls);
void sl_expr_span(sl_parse *p, sl_expr *e, const char *start, const char *end);
/* The most levels an expression tree may have (SQLite's default
** SQLITE_MAX_EXPR_DEPTH): the binder, the compiler and the evaluation of
** constants recurse over the tree, so its height bounds their stack. */
#define SL_MAX_EXPR_DEPTH 1000
/* Set e->height from its children (left, right, list), already built, and
** report "expression tree is too deep" at e's position when it passes
** SL_MAX_EXPR_DEPTH.  Every builder of an expression with children calls
** it; a grammar action that adds children after the builder calls it again. */
void sl_expr_height(sl_parse *p, sl_expr *e);
char *sl_token_name(sl_parse *p, const sl_token *t); /* identifier text, dequoted */
char *sl_token_str(sl_parse *p, const sl_token *t);  /* string literal text, unescaped */
sl_call *sl_call_new(sl_parse *p, const sl_token *name, sl_exprlist *args, int bare);
/* A windowing table function fn(TABLE tab, DESCRIPTOR(ts), args): the FROM
** item tab whose window is the call fn(ts, args).  fn must be TUMBLE, HOP
** or SESSION (else a syntax error at fn). */
sl_call *sl_call_window_tvf(sl_parse *p, const sl_token *fn, const sl_token *tab,
                            const sl_token *ts, sl_exprlist *args);
/* Called for every SELECT core as it is parsed: when its FROM is a
** windowing table function, the GROUP BY terms window_start and
** window_end (both required, as in Flink) are replaced by the window
** call, the form the planner knows (GROUP BY k, TUMBLE(ts, size)).  A
** windowing function that is not the only FROM item, or whose SELECT does
** not group by both, is an error at its position. */
void sl_select_window_tvf(sl_parse *p, struct sl_select *s);
sl_stmt *sl_stmt_new(sl_parse *p, int kind);
/* Append item x (a FROM item, or the first of a parenthesised list) to the
** FROM list headed by head, joined by jt (SL_JT_* bits) with o's ON or
** USING. */
void sl_join_add(sl_parse *p, sl_call *head, sl_call *x, int jt, const sl_onusing *o);
void sl_stmt_add_col(sl_parse *p, sl_stmt *s, const sl_token *name, const char *type);
void sl_stmt_add_row(sl_parse *p, sl_stmt *s, sl_exprlist *row);
void sl_parse_stmt_done(sl_parse *p, sl_stmt *s, const char *end);
/* A window written at `at`: base (a named window it builds on, or NULL),
** its partition, order and frame (NULL: none). */
sl_window *sl_window_new(sl_parse *p, const sl_token *at, const sl_token *base,
                         sl_exprlist *partition, struct sl_orderby *order, const sl_frame *frame);
/* Name w (WINDOW name AS (w)). */
void sl_window_name(sl_parse *p, sl_window *w, const sl_token *name);
/* Append w, named name, to the WINDOW clause list l; returns l. */
sl_window *sl_window_append(sl_parse *p, sl_window *l, sl_window *w, const sl_token *name);
void sl_parse_error(sl_parse *p, const sl_token *t, const char *msg);

/* ---- tokenizer (tokenize.c) ---- */
/* Read the token at z; sets *tk to its TK_* code (TK_SPACE for whitespace and
** comments, TK_ILLEGAL for garbage) and returns its length in bytes. */
int sl_get_token(const char *z, int *tk);
/* Keyword code for an identifier-like word, or TK_ID. */
int sl_keyword_code(const char *z, int n);
/* The i-th keyword (upper case), or NULL past the last (shell completion). */
const char *sl_keyword_name(int i);

#endif /* SLUICE_AST_H */
