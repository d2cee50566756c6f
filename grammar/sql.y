/*
** sql.y - the grammar of sluice's SQL dialect, for the lemon parser generator.
**
** Actions are one line that calls a builder in ast.c; the parser never
** prints and never allocates except through the parse context's arena, so
** no %destructor is needed (the arena frees the whole tree at once).
** Precedence follows SQLite's (lang_expr.html "Operators").
*/
%token_prefix TK_
%token_type {sl_token}
%default_type {sl_token}
%extra_argument {sl_parse *pParse}
%name sl_parser

%include {
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "ast.h"
#define YYNOERRORRECOVERY 1
#define YYPARSEFREENEVERNULL 1
}

%syntax_error {
  sl_parse_error(pParse, &TOKEN, NULL);
}
%stack_overflow {
  sl_parse_error(pParse, NULL, "expression nested too deeply");
}

/* Tokens the tokenizer produces that the grammar itself never uses. */
%token SPACE ILLEGAL.

/* Keywords that can also be used as identifiers.  Not those that may follow
** a FROM item (GROUP, EMIT, LIMIT, JOIN, INNER, LEFT, RIGHT, FULL, OUTER): there an
** identifier is the item's alias, and lemon would take the keyword for one;
** ORDER neither: FROM t ORDER BY x). */
%fallback ID
  ABORT ASC BY CAST COLUMNS DESC DESCRIBE DESCRIPTOR DISTINCT DROP END EXISTS EXPLAIN
  FILTER FIRST FUNCTIONS GLOB IF INTERVAL KEY LAST LIKE_KW LOAD MATCH MODEL MODELS NULLS OFFSET
  QUERIES QUERY REPLACE SET SHOW STREAM STREAMS TABLE TABLES TEMP WATERMARK
  CHANGES CLOSE ALL EXPORT TYPE WITH TERMINATE VIEW OF SYSTEM_TIME
  CURRENT FOLLOWING GROUPS PARTITION PRECEDING RANGE ROW ROWS UNBOUNDED.

/* WINDOW and OVER are not in the list: the tokenizer's driver makes them
** identifiers except where a WINDOW clause or a call's OVER starts
** (tokenize.c, window_keyword), as SQLite's does. */

%left UNION EXCEPT INTERSECT.
%left OR.
%left AND.
%right NOT.
%left IS MATCH LIKE_KW BETWEEN IN ISNULL NOTNULL NE EQ.
%left GT LE LT GE.
%right ESCAPE.
%left BITAND BITOR LSHIFT RSHIFT.
%left PLUS MINUS.
%left STAR SLASH REM.
%left CONCAT PTR.
%left COLLATE.
%right BITNOT.

/* ---- a script is a list of statements separated by semicolons ---- */
input ::= cmdlist.
cmdlist ::= cmdlist ecmd.
cmdlist ::= ecmd.
ecmd ::= SEMI.
ecmd ::= cmd(S) SEMI(E). { sl_parse_stmt_done(pParse, S, E.z); }

%type cmd {sl_stmt*}
%type select {sl_select*}
%type selectcore {sl_select*}

cmd(S) ::= select(X). { S = sl_stmt_new(pParse, S_SELECT); S->select = X; }
cmd(S) ::= insertcmd(R) INTO tcall(K) select(X). { S = sl_stmt_new(pParse, S_SELECT); S->select = X; X->into = K; S->or_replace = R; }
/* INSERT, INSERT OR REPLACE, REPLACE (1: a row whose PRIMARY KEY is taken replaces the old) */
%type insertcmd {int}
insertcmd(R) ::= INSERT. { R = 0; }
insertcmd(R) ::= INSERT OR REPLACE. { R = 1; }
insertcmd(R) ::= REPLACE. { R = 1; }
cmd(S) ::= EXPLAIN cmd(X). { S = sl_stmt_new(pParse, S_EXPLAIN); S->inner = X; }

/* ---- SELECT ---- */
select(S) ::= SELECT distinct(D) sclist(C) from(F) where(W) groupby(G) having(H) windowclause(N) emit(M) orderby(O) limit(L) into(I).
  { S = sl_arena_alloc(&pParse->arena, sizeof *S); memset(S, 0, sizeof *S);
    S->distinct = D; S->cols = C; S->from = F; S->where = W; S->group = G; S->having = H; S->windows = N;
    S->emit_changes = M; S->limit = L.limit; S->offset = L.offset; S->into = I; S->order = O;
    sl_select_window_tvf(pParse, S); }

/* compound SELECTs (SQLite's: one precedence, left to right); the last
** SELECT's LIMIT and INTO are the compound's (sl_select_compound) */
select(S) ::= select(A) multiselect_op(O) select(B). [UNION] { S = sl_select_compound(pParse, A, O, B); }
%type multiselect_op {int}
multiselect_op(A) ::= UNION. { A = SL_UNION; }
multiselect_op(A) ::= UNION ALL. { A = SL_UNION_ALL; }
multiselect_op(A) ::= EXCEPT. { A = SL_EXCEPT; }
multiselect_op(A) ::= INTERSECT. { A = SL_INTERSECT; }

%type distinct {int}
distinct(D) ::= DISTINCT. { D = 1; }
distinct(D) ::= ALL. { D = 0; }
distinct(D) ::= . { D = 0; }

%type sclist {sl_exprlist*}
sclist(L) ::= sclist(A) COMMA scitem(B). { L = A; sl_list_append(pParse, L, B.e, B.alias.n ? &B.alias : NULL); }
sclist(L) ::= scitem(B). { L = sl_list_append(pParse, NULL, B.e, B.alias.n ? &B.alias : NULL); }

%type scitem {sl_scitem}
%include {
typedef struct sl_scitem { sl_expr *e; sl_token alias; } sl_scitem;
}
scitem(I) ::= expr(E) as(A). { I.e = E; I.alias = A; }
scitem(I) ::= STAR(T). { I.e = sl_expr_new(pParse, E_STAR, &T); I.alias.n = 0; I.alias.z = 0; }
scitem(I) ::= nm(T) DOT STAR. { I.e = sl_expr_new(pParse, E_STAR, &T); I.e->tab = sl_token_name(pParse, &T); I.alias.n = 0; I.alias.z = 0; }

%type as {sl_token}
as(A) ::= AS nm(N). { A = N; }
as(A) ::= ID(N). { A = N; }
as(A) ::= STRING(N). { A = N; }
as(A) ::= . { A.n = 0; A.z = 0; A.line = 0; A.col = 0; }

%type from {sl_call*}
from(F) ::= . { F = NULL; }
from(F) ::= FROM seltablist(L). { F = L; }
/* A FROM list: items joined left to right (a comma is an inner join); a
** parenthesised list is flattened into it (sl_join_add). */
%type seltablist {sl_call*}
seltablist(L) ::= fromitem(X). { L = X; }
seltablist(L) ::= seltablist(A) joinop(J) fromitem(X) onusing(O). { L = A; sl_join_add(pParse, A, X, J, &O); }
%type fromitem {sl_call*}
fromitem(X) ::= tcall(C) as(A). { X = C; if (A.n) C->alias = sl_token_name(pParse, &A); }
/* Flink's lookup join: JOIN t FOR SYSTEM_TIME AS OF s.proc_time (checked by the planner) */
fromitem(X) ::= tcall(C) FOR SYSTEM_TIME AS OF expr(E) as(A).
  { X = C; C->as_of = E; if (A.n) C->alias = sl_token_name(pParse, &A); }
fromitem(X) ::= LP seltablist(L) RP. { X = L; }
%type joinop {int}
joinop(J) ::= COMMA. { J = SL_JT_INNER; }
joinop(J) ::= JOIN. { J = SL_JT_INNER; }
joinop(J) ::= INNER JOIN. { J = SL_JT_INNER; }
joinop(J) ::= CROSS JOIN. { J = SL_JT_INNER; }
joinop(J) ::= LEFT JOIN. { J = SL_JT_LEFT; }
joinop(J) ::= LEFT OUTER JOIN. { J = SL_JT_LEFT; }
joinop(J) ::= RIGHT JOIN. { J = SL_JT_RIGHT; }
joinop(J) ::= RIGHT OUTER JOIN. { J = SL_JT_RIGHT; }
joinop(J) ::= FULL JOIN. { J = SL_JT_LEFT | SL_JT_RIGHT; }
joinop(J) ::= FULL OUTER JOIN. { J = SL_JT_LEFT | SL_JT_RIGHT; }
joinop(J) ::= NATURAL JOIN. { J = SL_JT_NATURAL; }
joinop(J) ::= NATURAL INNER JOIN. { J = SL_JT_NATURAL; }
joinop(J) ::= NATURAL CROSS JOIN. { J = SL_JT_NATURAL; }
joinop(J) ::= NATURAL LEFT JOIN. { J = SL_JT_NATURAL | SL_JT_LEFT; }
joinop(J) ::= NATURAL LEFT OUTER JOIN. { J = SL_JT_NATURAL | SL_JT_LEFT; }
%type onusing {sl_onusing}
onusing(O) ::= . { O.on = NULL; O.using = NULL; }
onusing(O) ::= ON expr(E). { O.on = E; O.using = NULL; }
onusing(O) ::= USING LP idlist(L) RP. { O.on = NULL; O.using = L; }
%type idlist {sl_exprlist*}
idlist(L) ::= idlist(A) COMMA nm(N). { L = sl_list_append(pParse, A, sl_expr_column(pParse, NULL, &N), NULL); }
idlist(L) ::= nm(N). { L = sl_list_append(pParse, NULL, sl_expr_column(pParse, NULL, &N), NULL); }

%type tcall {sl_call*}
tcall(C) ::= nm(N). { C = sl_call_new(pParse, &N, NULL, 1); }
tcall(C) ::= nm(N) LP RP. { C = sl_call_new(pParse, &N, NULL, 0); }
tcall(C) ::= nm(N) LP targs(A) RP. { C = sl_call_new(pParse, &N, A, 0); }
/* FROM (SELECT ...): a subquery, planned as an anonymous stream */
tcall(C) ::= LP(L) select(X) RP. { C = sl_call_new(pParse, &L, NULL, 1); C->name = "(subquery)"; C->sub = X; }
/* Flink's windowing table functions: TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), size)),
** HOP(..., slide, size), SESSION(..., gap); the item is t, its GROUP BY
** window_start, window_end becomes the window call (sl_select_window_tvf). */
tcall(C) ::= TABLE LP nm(W) LP TABLE nm(T) COMMA DESCRIPTOR LP nm(D) RP COMMA nexprlist(A) RP RP.
  { C = sl_call_window_tvf(pParse, &W, &T, &D, A); }

%type targs {sl_exprlist*}
targs(L) ::= targs(A) COMMA targ(B). { L = sl_list_append(pParse, A, B, NULL); }
targs(L) ::= targ(B). { L = sl_list_append(pParse, NULL, B, NULL); }
%type targ {sl_expr*}
targ(E) ::= expr(X). { E = X; }
targ(E) ::= nm(N) ARROW expr(X). { E = sl_expr_option(pParse, &N, X); }
targ(E) ::= STRING(N) ARROW expr(X). { E = sl_expr_option(pParse, &N, X); }
/* keywords that are not identifiers elsewhere, as option names: group => 'g' */
targ(E) ::= optkw(N) ARROW expr(X). { E = sl_expr_option(pParse, &N, X); }
%type optkw {sl_token}
optkw(A) ::= GROUP(X). { A = X; }
optkw(A) ::= LIMIT(X). { A = X; }
optkw(A) ::= EMIT(X). { A = X; }
optkw(A) ::= LEFT(X). { A = X; }

%type where {sl_expr*}
where(W) ::= . { W = NULL; }
where(W) ::= WHERE expr(X). { W = X; }

%type groupby {sl_exprlist*}
groupby(G) ::= . { G = NULL; }
groupby(G) ::= GROUP BY nexprlist(L). { G = L; }

%type having {sl_expr*}
having(H) ::= . { H = NULL; }
having(H) ::= HAVING expr(X). { H = X; }

/* WINDOW name AS (definition), ...: windows a call's OVER names */
%type windowclause {sl_window*}
windowclause(N) ::= . { N = NULL; }
windowclause(N) ::= WINDOW windowlist(L). { N = L; }
%type windowlist {sl_window*}
windowlist(L) ::= nm(N) AS LP windowdefn(W) RP. { L = W; sl_window_name(pParse, W, &N); }
windowlist(L) ::= windowlist(A) COMMA nm(N) AS LP windowdefn(W) RP. { L = sl_window_append(pParse, A, W, &N); }

/* A window: [base] [PARTITION BY ...] [ORDER BY ...] [frame] (SQLite's forms) */
%type windowdefn {sl_window*}
windowdefn(W) ::= PARTITION(P) BY nexprlist(X) orderby(O) frameopt(F). { W = sl_window_new(pParse, &P, NULL, X, O, &F); }
windowdefn(W) ::= nm(B) PARTITION BY nexprlist(X) orderby(O) frameopt(F). { W = sl_window_new(pParse, &B, &B, X, O, &F); }
windowdefn(W) ::= ORDER(P) BY sortlist(O) frameopt(F). { W = sl_window_new(pParse, &P, NULL, NULL, O, &F); }
windowdefn(W) ::= nm(B) ORDER BY sortlist(O) frameopt(F). { W = sl_window_new(pParse, &B, &B, NULL, O, &F); }
windowdefn(W) ::= frameopt(F). { W = sl_window_new(pParse, &F.at, NULL, NULL, NULL, &F); }
windowdefn(W) ::= nm(B) frameopt(F). { W = sl_window_new(pParse, &B, &B, NULL, NULL, &F); }

%type frameopt {sl_frame}
frameopt(F) ::= . { memset(&F, 0, sizeof F); }
frameopt(F) ::= rangeorrows(K) framebound(S). { F = K; F.start = S; F.end.kind = SL_FB_CURRENT; F.end.n = NULL; F.end.line = S.line; F.end.col = S.col; }
frameopt(F) ::= rangeorrows(K) BETWEEN framebound(S) AND framebound(E). { F = K; F.start = S; F.end = E; }
%type rangeorrows {sl_frame}
rangeorrows(A) ::= ROWS(X). { memset(&A, 0, sizeof A); A.kind = SL_FRAME_ROWS; A.at = X; }
rangeorrows(A) ::= RANGE(X). { memset(&A, 0, sizeof A); A.kind = SL_FRAME_RANGE; A.at = X; }
rangeorrows(A) ::= GROUPS(X). { memset(&A, 0, sizeof A); A.kind = SL_FRAME_GROUPS; A.at = X; }
%type framebound {sl_fbound}
framebound(B) ::= UNBOUNDED(X) PRECEDING. { B.kind = SL_FB_UNBOUNDED_PRECEDING; B.n = NULL; B.line = X.line; B.col = X.col; }
framebound(B) ::= UNBOUNDED(X) FOLLOWING. { B.kind = SL_FB_UNBOUNDED_FOLLOWING; B.n = NULL; B.line = X.line; B.col = X.col; }
framebound(B) ::= CURRENT(X) ROW. { B.kind = SL_FB_CURRENT; B.n = NULL; B.line = X.line; B.col = X.col; }
framebound(B) ::= expr(X) PRECEDING. { B.kind = SL_FB_PRECEDING; B.n = X; B.line = X->line; B.col = X->pos_col; }
framebound(B) ::= expr(X) FOLLOWING. { B.kind = SL_FB_FOLLOWING; B.n = X; B.line = X->line; B.col = X->pos_col; }

%type emit {int}
emit(M) ::= . { M = 0; }
emit(M) ::= EMIT CHANGES. { M = 1; }
emit(M) ::= EMIT ON CLOSE. { M = 0; }

/* ORDER BY terms: expr [COLLATE c] [ASC | DESC] [NULLS FIRST | LAST] */
%type orderby {sl_orderby*}
orderby(O) ::= . { O = NULL; }
orderby(O) ::= ORDER BY sortlist(L). { O = L; }
%type sortlist {sl_orderby*}
sortlist(L) ::= sortlist(A) COMMA expr(E) sortorder(D) nullsorder(N). { L = sl_orderby_append(pParse, A, E, D, N); }
sortlist(L) ::= expr(E) sortorder(D) nullsorder(N). { L = sl_orderby_append(pParse, NULL, E, D, N); }
%type sortorder {int}
sortorder(D) ::= ASC. { D = 0; }
sortorder(D) ::= DESC. { D = 1; }
sortorder(D) ::= . { D = 0; }
%type nullsorder {int}
nullsorder(N) ::= . { N = SL_NULLS_DEFAULT; }
nullsorder(N) ::= NULLS FIRST. { N = SL_NULLS_FIRST; }
nullsorder(N) ::= NULLS LAST. { N = SL_NULLS_LAST; }

%type limit {sl_limitc}
limit(L) ::= . { L.limit = NULL; L.offset = NULL; }
limit(L) ::= LIMIT expr(X). { L.limit = X; L.offset = NULL; }
limit(L) ::= LIMIT expr(X) OFFSET expr(Y). { L.limit = X; L.offset = Y; }
/* SQLite's other spelling: LIMIT offset, count */
limit(L) ::= LIMIT expr(Y) COMMA expr(X). { L.limit = X; L.offset = Y; }

%type into {sl_call*}
into(I) ::= . { I = NULL; }
into(I) ::= INTO tcall(C). { I = C; }

/* ---- DDL and commands ---- */
cmd(S) ::= CREATE orreplace(R) STREAM ifnotexists(I) nm(N) LP coldefs(C) RP FROM tcall(F) watermark(W).
  { S = C; S->kind = S_CREATE_STREAM; S->name = sl_token_name(pParse, &N); S->source = F;
    S->watermark = W; S->or_replace = R; S->if_exists = I; }
cmd(S) ::= CREATE orreplace(R) STREAM ifnotexists(I) nm(N) FROM tcall(F) watermark(W).
  { S = sl_stmt_new(pParse, S_CREATE_STREAM); S->name = sl_token_name(pParse, &N); S->source = F;
    S->watermark = W; S->or_replace = R; S->if_exists = I; }
cmd(S) ::= CREATE orreplace(R) STREAM ifnotexists(I) nm(N) AS select(X).
  { S = sl_stmt_new(pParse, S_CREATE_STREAM); S->name = sl_token_name(pParse, &N); S->select = X;
    S->or_replace = R; S->if_exists = I; }
cmd(S) ::= CREATE orreplace(R) MODEL ifnotexists(I) nm(N) FROM STRING(P).
  { S = sl_stmt_new(pParse, S_CREATE_MODEL); S->name = sl_token_name(pParse, &N); S->or_replace = R;
    S->if_exists = I; S->value = sl_expr_literal(pParse, TK_STRING, &P); }
cmd(S) ::= CREATE orreplace(R) MODEL ifnotexists(I) nm(N) TYPE nm(T) modelwith(A).
  { S = sl_stmt_new(pParse, S_CREATE_MODEL); S->name = sl_token_name(pParse, &N); S->or_replace = R;
    S->if_exists = I; S->source = sl_call_new(pParse, &T, A, 0); }
%type modelwith {sl_exprlist*}
modelwith(A) ::= . { A = NULL; }
modelwith(A) ::= WITH LP RP. { A = NULL; }
modelwith(A) ::= WITH LP targs(L) RP. { A = L; }
cmd(S) ::= EXPORT MODEL nm(N) TO STRING(P).
  { S = sl_stmt_new(pParse, S_EXPORT_MODEL); S->name = sl_token_name(pParse, &N);
    S->value = sl_expr_literal(pParse, TK_STRING, &P); }
cmd(S) ::= CREATE temp TABLE ifnotexists(I) nm(N) LP coldefs(C) RP.
  { S = C; S->kind = S_CREATE_TABLE; S->name = sl_token_name(pParse, &N); S->if_exists = I; }

temp ::= .
temp ::= TEMP.

%type orreplace {int}
orreplace(R) ::= . { R = 0; }
orreplace(R) ::= OR REPLACE. { R = 1; }

%type ifnotexists {int}
ifnotexists(I) ::= . { I = 0; }
ifnotexists(I) ::= IF NOT EXISTS. { I = 1; }

%type watermark {sl_expr*}
watermark(W) ::= . { W = NULL; }
watermark(W) ::= WATERMARK(K) expr(X). { W = sl_expr_watermark(pParse, &K, X); }

%type coldefs {sl_stmt*}
coldefs(S) ::= coldefs(A) COMMA coldef(C). { S = A; sl_stmt_add_col(pParse, S, &C.name, C.type); S->cols[S->ncols - 1].pk = C.pk; }
coldefs(S) ::= coldef(C). { S = sl_stmt_new(pParse, S_CREATE_TABLE); sl_stmt_add_col(pParse, S, &C.name, C.type); S->cols[0].pk = C.pk; }

%type coldef {sl_coldef_tok}
%include {
typedef struct sl_coldef_tok { sl_token name; const char *type; int pk; } sl_coldef_tok;
}
coldef(C) ::= nm(N) typetoken(T) colconstraints(K). { C.name = N; C.type = T; C.pk = K; }

%type typetoken {const char*}
typetoken(T) ::= . { T = NULL; }
typetoken(T) ::= typename(X). { T = sl_arena_strndup(&pParse->arena, X.z, (size_t)X.n); }
typetoken(T) ::= typename(X) LP signed RP(E). { T = sl_arena_strndup(&pParse->arena, X.z, (size_t)(E.z + 1 - X.z)); }
typetoken(T) ::= typename(X) LP signed COMMA signed RP(E). { T = sl_arena_strndup(&pParse->arena, X.z, (size_t)(E.z + 1 - X.z)); }
%type typename {sl_token}
typename(A) ::= ID|STRING(X). { A = X; }
typename(A) ::= typename(X) ID|STRING(Y). { A = X; A.n = (int)(Y.z + Y.n - X.z); }
signed ::= INTEGER.
signed ::= PLUS INTEGER.
signed ::= MINUS INTEGER.

%type colconstraints {int}
colconstraints(K) ::= . { K = 0; }
colconstraints(K) ::= colconstraints(A) colconstraint(B). { K = A | B; }
%type colconstraint {int}
colconstraint(K) ::= PRIMARY KEY. { K = 1; }
colconstraint(K) ::= NOT NULL. { K = 0; }
colconstraint(K) ::= NULL. { K = 0; }

/* INSERT INTO t [(cols)] VALUES ...: the column list is read as t's call arguments (engine.c) */
cmd(S) ::= insertcmd(R) INTO tcall(K) VALUES rowlist(L).
  { S = L; S->kind = S_INSERT_VALUES; S->name = K->name; S->source = K; S->or_replace = R; }

/* UPDATE t SET a = x, b = y [WHERE w]; DELETE FROM t [WHERE w] (catalog tables, engine_dml.c) */
cmd(S) ::= UPDATE nm(N) SET setlist(L) where(W).
  { S = sl_stmt_new(pParse, S_UPDATE); S->name = sl_token_name(pParse, &N); S->sets = L; S->where = W; }
cmd(S) ::= DELETE FROM nm(N) where(W).
  { S = sl_stmt_new(pParse, S_DELETE); S->name = sl_token_name(pParse, &N); S->where = W; }
%type setlist {sl_exprlist*}
setlist(L) ::= setlist(A) COMMA nm(N) EQ expr(X). { L = sl_list_append(pParse, A, X, &N); }
setlist(L) ::= nm(N) EQ expr(X). { L = sl_list_append(pParse, NULL, X, &N); }

/* CREATE TABLE t AS SELECT (bounded input); CREATE VIEW v AS SELECT: a stream defined by its
** select, marked as a view; DROP VIEW */
cmd(S) ::= CREATE temp TABLE ifnotexists(I) nm(N) AS select(X).
  { S = sl_stmt_new(pParse, S_CREATE_TABLE); S->name = sl_token_name(pParse, &N); S->if_exists = I; S->select = X; }
cmd(S) ::= CREATE temp VIEW ifnotexists(I) nm(N) AS select(X).
  { S = sl_stmt_new(pParse, S_CREATE_STREAM); S->name = sl_token_name(pParse, &N); S->select = X;
    S->if_exists = I; S->view = 1; }
cmd(S) ::= DROP VIEW ifexists(I) nm(N). { S = sl_stmt_new(pParse, S_DROP); S->name = sl_token_name(pParse, &N); S->if_exists = I; S->view = 1; }

%type rowlist {sl_stmt*}
rowlist(S) ::= rowlist(A) COMMA LP nexprlist(L) RP. { S = A; sl_stmt_add_row(pParse, S, L); }
rowlist(S) ::= LP nexprlist(L) RP. { S = sl_stmt_new(pParse, S_INSERT_VALUES); sl_stmt_add_row(pParse, S, L); }

cmd(S) ::= DROP STREAM ifexists(I) nm(N). { S = sl_stmt_new(pParse, S_DROP); S->name = sl_token_name(pParse, &N); S->if_exists = I; S->or_replace = 0; }
cmd(S) ::= DROP TABLE ifexists(I) nm(N). { S = sl_stmt_new(pParse, S_DROP); S->name = sl_token_name(pParse, &N); S->if_exists = I; S->or_replace = 1; }
cmd(S) ::= DROP MODEL ifexists(I) nm(N). { S = sl_stmt_new(pParse, S_DROP_MODEL); S->name = sl_token_name(pParse, &N); S->if_exists = I; }
%type ifexists {int}
ifexists(I) ::= . { I = 0; }
ifexists(I) ::= IF EXISTS. { I = 1; }

cmd(S) ::= SET setname(N) EQ expr(X). { S = sl_stmt_new(pParse, S_SET); S->name = sl_arena_strndup(&pParse->arena, N.z, (size_t)N.n); S->value = X; }
cmd(S) ::= SET setname(N) TO expr(X). { S = sl_stmt_new(pParse, S_SET); S->name = sl_arena_strndup(&pParse->arena, N.z, (size_t)N.n); S->value = X; }
%type setname {sl_token}
setname(A) ::= nm(X). { A = X; }
setname(A) ::= setname(X) DOT nm(Y). { A = X; A.n = (int)(Y.z + Y.n - X.z); }
setname(A) ::= STRING(X). { A = X; A.z++; A.n -= 2; }

cmd(S) ::= LOAD STRING(P). { S = sl_stmt_new(pParse, S_LOAD); S->value = sl_expr_literal(pParse, TK_STRING, &P); }

cmd(S) ::= SHOW nm(N). { S = sl_stmt_new(pParse, S_SHOW); S->name = sl_token_name(pParse, &N); }
/* SHOW SCHEMA name: value is the name (a column reference, never bound) */
cmd(S) ::= SHOW nm(N) nm(M). { S = sl_stmt_new(pParse, S_SHOW); S->name = sl_token_name(pParse, &N); S->value = sl_expr_column(pParse, NULL, &M); }
cmd(S) ::= DESCRIBE nm(N). { S = sl_stmt_new(pParse, S_DESCRIBE); S->name = sl_token_name(pParse, &N); }
cmd(S) ::= TERMINATE nm(N). { S = sl_stmt_new(pParse, S_TERMINATE); S->name = sl_token_name(pParse, &N); }
cmd(S) ::= TERMINATE ALL. { S = sl_stmt_new(pParse, S_TERMINATE); S->name = "ALL"; }

/* ---- expressions ---- */
%type expr {sl_expr*}
%type term {sl_expr*}
%type nexprlist {sl_exprlist*}
%type exprlist {sl_exprlist*}

nm(A) ::= ID(X). { A = X; }

expr(A) ::= term(X). { A = X; }
expr(A) ::= LP(L) expr(X) RP(R). { A = X; sl_expr_span(pParse, A, L.z, R.z + 1); }
expr(A) ::= nm(N). { A = sl_expr_column(pParse, NULL, &N); }
expr(A) ::= nm(T) DOT nm(N). { A = sl_expr_column(pParse, &T, &N); }
term(A) ::= NULL(X). { A = sl_expr_literal(pParse, TK_NULL, &X); }
term(A) ::= FLOAT(X). { A = sl_expr_literal(pParse, TK_FLOAT, &X); }
term(A) ::= BLOB(X). { A = sl_expr_literal(pParse, TK_BLOB, &X); }
term(A) ::= STRING(X). { A = sl_expr_literal(pParse, TK_STRING, &X); }
term(A) ::= INTEGER(X). { A = sl_expr_literal(pParse, TK_INTEGER, &X); }
term(A) ::= TRUE(X). { A = sl_expr_literal(pParse, TK_TRUE, &X); }
term(A) ::= FALSE(X). { A = sl_expr_literal(pParse, TK_FALSE, &X); }

expr(A) ::= CAST(C) LP expr(E) AS typetoken(T) RP(R).
  { A = sl_expr_new(pParse, E_CAST, &C); A->left = E; A->z = T ? T : ""; sl_expr_span(pParse, A, C.z, R.z + 1); sl_expr_height(pParse, A); }
expr(A) ::= nm(N) LP(L) distinct(D) exprlist(Y) RP(R) filter(F).
  { A = sl_expr_call(pParse, &N, Y, D, 0); A->right = F; sl_expr_span(pParse, A, N.z, R.z + 1); sl_expr_height(pParse, A); (void)L; }
expr(A) ::= nm(N) LP STAR RP(R) filter(F).
  { A = sl_expr_call(pParse, &N, NULL, 0, 1); A->right = F; sl_expr_span(pParse, A, N.z, R.z + 1); sl_expr_height(pParse, A); }
/* a window function's call: f(args) [FILTER (WHERE ...)] OVER (window) | OVER name */
expr(A) ::= nm(N) LP distinct(D) exprlist(Y) RP filter(F) over(W).
  { A = sl_expr_call(pParse, &N, Y, D, 0); A->right = F; A->win = W; sl_expr_span(pParse, A, N.z, W->end); sl_expr_height(pParse, A); }
expr(A) ::= nm(N) LP STAR RP filter(F) over(W).
  { A = sl_expr_call(pParse, &N, NULL, 0, 1); A->right = F; A->win = W; sl_expr_span(pParse, A, N.z, W->end); sl_expr_height(pParse, A); }
%type over {sl_window*}
over(W) ::= OVER LP windowdefn(X) RP(R). { W = X; W->end = R.z + 1; }
over(W) ::= OVER nm(B). { W = sl_window_new(pParse, &B, &B, NULL, NULL, NULL); W->end = B.z + B.n; }
%type filter {sl_expr*}
filter(F) ::= . { F = NULL; }
filter(F) ::= FILTER LP WHERE expr(X) RP. { F = X; }

expr(A) ::= INTERVAL(I) term(X) nm(U). { A = sl_expr_interval(pParse, X, &U, &I); }
/* EXTRACT(field FROM x): the call extract('field', x) (func_date.c) */
expr(A) ::= EXTRACT(K) LP nm(F) FROM expr(X) RP(R). { A = sl_expr_extract(pParse, &K, &F, X, R.z + 1); }
expr(A) ::= EXTRACT(K) LP exprlist(Y) RP(R).
  { A = sl_expr_call(pParse, &K, Y, 0, 0); A->name = "extract"; sl_expr_span(pParse, A, K.z, R.z + 1); }

expr(A) ::= expr(X) AND expr(Y). { A = sl_expr_and(pParse, X, Y); }
expr(A) ::= expr(X) OR expr(Y). { A = sl_expr_binary(pParse, E_OR, TK_OR, X, Y); }
expr(A) ::= expr(X) LT|GT|GE|LE(O) expr(Y). { A = sl_expr_binary(pParse, E_BINARY, @O, X, Y); }
expr(A) ::= expr(X) EQ|NE(O) expr(Y). { A = sl_expr_binary(pParse, E_BINARY, @O, X, Y); }
expr(A) ::= expr(X) BITAND|BITOR|LSHIFT|RSHIFT(O) expr(Y). { A = sl_expr_binary(pParse, E_BINARY, @O, X, Y); }
expr(A) ::= expr(X) PLUS|MINUS(O) expr(Y). { A = sl_expr_binary(pParse, E_BINARY, @O, X, Y); }
expr(A) ::= expr(X) STAR|SLASH|REM(O) expr(Y). { A = sl_expr_binary(pParse, E_BINARY, @O, X, Y); }
expr(A) ::= expr(X) CONCAT(O) expr(Y). { A = sl_expr_binary(pParse, E_BINARY, @O, X, Y); }
expr(A) ::= expr(X) PTR(O) expr(Y). { A = sl_expr_binary(pParse, E_BINARY, TK_PTR, X, Y); A->n = O.n; }

%type likeop {sl_token}
likeop(A) ::= LIKE_KW|MATCH(X). { A = X; A.line = 0; }
likeop(A) ::= NOT LIKE_KW|MATCH(X). { A = X; A.line = -1; }
expr(A) ::= expr(X) likeop(O) expr(Y). [LIKE_KW]
  { A = sl_expr_binary(pParse, E_LIKE, 0, X, Y); A->not_ = O.line < 0; A->name = sl_token_name(pParse, &O); }
expr(A) ::= expr(X) likeop(O) expr(Y) ESCAPE expr(E). [LIKE_KW]
  { A = sl_expr_binary(pParse, E_LIKE, 0, X, Y); A->not_ = O.line < 0; A->name = sl_token_name(pParse, &O);
    A->list = sl_list_append(pParse, NULL, E, NULL); sl_expr_span(pParse, A, X->span, E->span + E->spanlen); sl_expr_height(pParse, A); }

expr(A) ::= expr(X) ISNULL|NOTNULL(O). { A = sl_expr_binary(pParse, E_ISNULL, 0, X, NULL); A->not_ = @O == TK_NOTNULL; sl_expr_span(pParse, A, X->span, O.z + O.n); }
expr(A) ::= expr(X) NOT NULL(E). { A = sl_expr_binary(pParse, E_ISNULL, 0, X, NULL); A->not_ = 1; sl_expr_span(pParse, A, X->span, E.z + E.n); }
expr(A) ::= expr(X) IS expr(Y). { A = sl_expr_binary(pParse, E_IS, 0, X, Y); }
expr(A) ::= expr(X) IS NOT expr(Y). { A = sl_expr_binary(pParse, E_IS, 0, X, Y); A->not_ = 1; }
expr(A) ::= expr(X) IS NOT DISTINCT FROM expr(Y). [IS] { A = sl_expr_binary(pParse, E_IS, 0, X, Y); }
expr(A) ::= expr(X) IS DISTINCT FROM expr(Y). [IS] { A = sl_expr_binary(pParse, E_IS, 0, X, Y); A->not_ = 1; }

expr(A) ::= NOT(B) expr(X). { A = sl_expr_unary(pParse, TK_NOT, X, &B); }
expr(A) ::= BITNOT(B) expr(X). { A = sl_expr_unary(pParse, TK_BITNOT, X, &B); }
expr(A) ::= PLUS|MINUS(B) expr(X). [BITNOT] { A = sl_expr_unary(pParse, @B, X, &B); }

%type between_op {int}
between_op(A) ::= BETWEEN. { A = 0; }
between_op(A) ::= NOT BETWEEN. { A = 1; }
expr(A) ::= expr(X) between_op(N) expr(Y) AND expr(Z). [BETWEEN]
  { A = sl_expr_binary(pParse, E_BETWEEN, 0, X, NULL); A->not_ = N;
    A->list = sl_list_append(pParse, sl_list_append(pParse, NULL, Y, NULL), Z, NULL);
    sl_expr_span(pParse, A, X->span, Z->span + Z->spanlen); sl_expr_height(pParse, A); }

%type in_op {int}
in_op(A) ::= IN. { A = 0; }
in_op(A) ::= NOT IN. { A = 1; }
expr(A) ::= expr(X) in_op(N) LP exprlist(Y) RP(E). [IN]
  { A = sl_expr_binary(pParse, E_IN, 0, X, NULL); A->not_ = N; A->list = Y; sl_expr_span(pParse, A, A->span, E.z + 1); sl_expr_height(pParse, A); }

/* subqueries: (SELECT ...), EXISTS (SELECT ...), x [NOT] IN (SELECT ...), x [NOT] IN t */
expr(A) ::= LP(L) select(X) RP(R). { A = sl_expr_subquery(pParse, SL_SUBQ_SCALAR, NULL, X, &L, R.z + 1); }
expr(A) ::= EXISTS(L) LP select(X) RP(R). { A = sl_expr_subquery(pParse, SL_SUBQ_EXISTS, NULL, X, &L, R.z + 1); }
expr(A) ::= expr(X) in_op(N) LP select(Y) RP(E). [IN]
  { A = sl_expr_subquery(pParse, SL_SUBQ_IN, X, Y, NULL, E.z + 1); A->not_ = N; }
expr(A) ::= expr(X) in_op(N) nm(T). [IN]
  { A = sl_expr_subquery(pParse, SL_SUBQ_IN, X, sl_select_table(pParse, &T), NULL, T.z + T.n); A->not_ = N; }

expr(A) ::= CASE(C) case_operand(X) case_exprlist(Y) case_else(Z) END(E).
  { A = sl_expr_new(pParse, E_CASE, &C); A->left = X; A->list = Y; A->right = Z; sl_expr_span(pParse, A, C.z, E.z + E.n); sl_expr_height(pParse, A); }
%type case_exprlist {sl_exprlist*}
case_exprlist(A) ::= case_exprlist(X) WHEN expr(Y) THEN expr(Z).
  { A = sl_list_append(pParse, sl_list_append(pParse, X, Y, NULL), Z, NULL); }
case_exprlist(A) ::= WHEN expr(Y) THEN expr(Z).
  { A = sl_list_append(pParse, sl_list_append(pParse, NULL, Y, NULL), Z, NULL); }
%type case_else {sl_expr*}
case_else(A) ::= ELSE expr(X). { A = X; }
case_else(A) ::= . { A = NULL; }
%type case_operand {sl_expr*}
case_operand(A) ::= expr(X). { A = X; }
case_operand(A) ::= . { A = NULL; }

expr(A) ::= expr(X) COLLATE ID|STRING(C).
  { A = sl_expr_new(pParse, E_COLLATE, &C); A->left = X; A->name = sl_token_name(pParse, &C); sl_expr_span(pParse, A, X->span, C.z + C.n); sl_expr_height(pParse, A); }

exprlist(A) ::= nexprlist(X). { A = X; }
exprlist(A) ::= . { A = NULL; }
nexprlist(A) ::= nexprlist(X) COMMA expr(Y). { A = sl_list_append(pParse, X, Y, NULL); }
nexprlist(A) ::= expr(Y). { A = sl_list_append(pParse, NULL, Y, NULL); }
