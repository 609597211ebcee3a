/* SPDX-License-Identifier: GPL-2.0 */
/* spawn.h: forking a child of the daemon (hooks, ruleset checks) with a clean signal state. */
#ifndef PC_SPAWN_H
#define PC_SPAWN_H

#include <sys/types.h>

/* fork(), with the child's signal mask empty and SIGPIPE back to its default: the
 * daemon blocks its signals for signalfd and ignores SIGPIPE, and a child must not
 * inherit either. All signals stay blocked in the parent across the fork, so none
 * reaches the child before it has reset. Returns what fork() returns. */
pid_t pc_fork_child(void);

#endif
