/* SPDX-License-Identifier: GPL-2.0 */
/* privs.h: after attaching, the daemon keeps only the capabilities it still needs. */
#ifndef PC_PRIVS_H
#define PC_PRIVS_H

#include <stdbool.h>

/* Keep CAP_BPF (every bpf() call needs it while unprivileged BPF is disabled) and
 * CAP_NET_ADMIN (detach at SIGTERM); drop the rest from the effective, permitted,
 * inheritable and bounding sets, and lock SECBIT_NOROOT so --exec hooks run
 * without capabilities. 0 or -errno (the caller logs and goes on). */
int pc_privs_drop(bool keep_admin_for_exit);
/* Make the kept-for-exit capabilities effective again (just before detaching). */
void pc_privs_raise_for_exit(void);
/* "CAP_BPF CAP_NET_ADMIN": what this process holds, effective set (for the log). */
void pc_privs_describe(char *buf, unsigned long len);

#endif
