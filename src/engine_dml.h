/*
** engine_dml.h - statements that change the rows of catalog tables
** (engine_dml.c): INSERT, REPLACE, UPDATE, DELETE, CREATE TABLE AS.
** Each returns 0, or -1 with err set; the engine runs them inside a
** savepoint, so a failure leaves the catalog as it was.
*/
#ifndef SLUICE_ENGINE_DML_H
#define SLUICE_ENGINE_DML_H

#include "engine_int.h"

/* INSERT [OR REPLACE] INTO t [(cols)] VALUES (...), ... */
int sl_dml_insert_values(sluice *db, const sl_stmt *st, sl_err *err);
/* 1 when the S_SELECT st writes INTO a catalog table (or a view: an error
** then), not a sink. */
int sl_dml_writes_table(sluice *db, const sl_stmt *st);
/* INSERT [OR REPLACE] INTO t [(cols)] SELECT ...: the query runs to its end,
** then its rows are added. */
int sl_dml_insert_select(sluice *db, const sl_stmt *st, sl_err *err);
/* CREATE TABLE t AS SELECT ... (st->select). */
int sl_dml_create_table_as(sluice *db, const sl_stmt *st, sl_err *err);
int sl_dml_update(sluice *db, const sl_stmt *st, sl_err *err);
int sl_dml_delete(sluice *db, const sl_stmt *st, sl_err *err);

/* engine.c: plan st's SELECT (its INTO ignored) and run it now to its end,
** its rows to fn(ud, ...); cols (if not NULL) gets its output columns'
** names and affinities.  0, or -1 with err. */
int sl_engine_run_select(sluice *db, const sl_stmt *st, sl_row_fn fn, void *ud, sl_schema *cols,
                         sl_err *err);

#endif /* SLUICE_ENGINE_DML_H */
