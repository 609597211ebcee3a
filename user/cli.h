/* SPDX-License-Identifier: GPL-2.0 */
/* cli.h: the subcommands (one function each) that main.c dispatches to. */
#ifndef PC_CLI_H
#define PC_CLI_H

int pc_cmd_run(int argc, char **argv);
int pc_cmd_status(int argc, char **argv);
int pc_cmd_preflight(int argc, char **argv);
int pc_cmd_apply(int argc, char **argv);
int pc_cmd_firewall(int argc, char **argv);

/* Exit codes of the command-line contract. */
#define PC_EXIT_OK    0
#define PC_EXIT_FAIL  1 /* a check failed */
#define PC_EXIT_USAGE 2 /* usage or environment error */

#include <stdbool.h>
#include <stddef.h>

/* Send header (one line) and body to the daemon and show its progress lines until the
 * result (cli_stream.c); returns the result's exit code (2 when the daemon is gone).
 * json: the result as one object on stdout, the progress on stderr. */
int pc_cli_stream(const char *dir, const char *header, const char *body, size_t len, bool json);

#endif
