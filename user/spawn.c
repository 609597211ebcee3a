// SPDX-License-Identifier: GPL-2.0
/* spawn.c: fork with a clean signal mask for the daemon's children. */
#include <signal.h>
#include <unistd.h>

#include "spawn.h"

pid_t pc_fork_child(void)
{
	sigset_t all, old;
	pid_t pid;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		return 0;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pid;
}
