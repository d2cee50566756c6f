/*
** shell.h - the interactive SQL shell of the sluice command line, on the
** local engine or attached to a running `sluice serve`, and the script
** runners of `sluice run FILE`, `-e` and `sluice < file`.
*/
#ifndef SLUICE_SHELL_H
#define SLUICE_SHELL_H

#include <signal.h>

#include "client.h"
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

/* The interactive shell attached to the server r names (`sluice --connect`):
** the same loop and dot-commands, every statement sent as POST /query and
** its answer printed as it arrives; Ctrl-C stops a streaming answer and
** returns to the prompt.  Returns the process exit status.  r and out stay
** owned by the caller. */
int sl_shell_remote(const sl_remote *r, sl_printer *out);
/* Send sql (a script's text, whole) to the server r names as one POST
** /query and print its answer; errors are printed as sl_run_script prints
** them ("label:line:col: error: message").  *stop (may be NULL; a SIGINT
** flag) ends the request.  Returns 0 (also when stopped) or 1 on an error. */
int sl_remote_script(const sl_remote *r, const char *label, const char *sql, sl_printer *out,
                     volatile sig_atomic_t *stop);

#endif /* SLUICE_SHELL_H */
