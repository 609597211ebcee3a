/* SPDX-License-Identifier: GPL-2.0 */
/* cli.h: the subcommands (one function each) that main.c dispatches to. */
#ifndef PC_CLI_H
#define PC_CLI_H

int pc_cmd_run(int argc, char **argv);
int pc_cmd_status(int argc, char **argv);
int pc_cmd_preflight(int argc, char **argv);

/* Exit codes of the command-line contract. */
#define PC_EXIT_OK    0
#define PC_EXIT_FAIL  1 /* a check failed */
#define PC_EXIT_USAGE 2 /* usage or environment error */

#endif
