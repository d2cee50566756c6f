/*
** shell.h - the interactive SQL shell of the sluice command line.
*/
#ifndef SLUICE_SHELL_H
#define SLUICE_SHELL_H

#include "engine.h"
#include "output.h"

/* Run the interactive shell on the terminal until .quit or end of input.
** Returns the process exit status. */
int sl_shell_run(sluice *db, sl_printer *out);
/* 1 if text holds at least one complete statement ending in ';' (outside
** strings and comments) and nothing after the last one but space. */
int sl_sql_complete(const char *text);
/* Run a script file through the engine as `sluice run` does (deferred
** start).  Prints errors as "file:line:col: message".  Returns 0 or 1. */
int sl_run_script(sluice *db, const char *label, const char *sql, sl_printer *out, int show_stats);

#endif /* SLUICE_SHELL_H */
