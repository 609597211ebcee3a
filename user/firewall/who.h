/* SPDX-License-Identifier: GPL-2.0 */
/* who.h: the process that committed a firewall change, read from /proc while it still exists. */
#ifndef PC_FWWHO_H
#define PC_FWWHO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

#define PC_WHO_CMD_LEN	  512 /* a command line, truncated */
#define PC_WHO_PARENT_LEN 160
#define PC_WHO_NAME_LEN	  64
#define PC_WHO_UNIT_LEN	  160

/*
 * Who committed: the kernel says pid and comm (NFTA_GEN_PROC_PID/NAME); the rest is
 * read from /proc at once, best effort. Empty strings and -1 ids mean unknown: the
 * process had exited (nft often has, a few hundred microseconds after its commit), or
 * the value does not exist (no login uid, no unit, no container).
 */
struct pc_fw_who {
	uint32_t pid; /* 0: unknown */
	char comm[16];
	bool read;		      /* its command line was read while it still ran */
	char command[PC_WHO_CMD_LEN]; /* argv joined by spaces */
	long long uid;		      /* real uid, -1 unknown */
	char user[PC_WHO_NAME_LEN];   /* from /etc/passwd */
	long long login_uid;	      /* audit login uid, -1 unknown or unset */
	char login_user[PC_WHO_NAME_LEN];
	char unit[PC_WHO_UNIT_LEN];	 /* systemd unit (service, scope) */
	char container[PC_WHO_UNIT_LEN]; /* "docker:0123456789ab", "lxc:web", ... */
	uint32_t ppid;			 /* 0: unknown */
	char parent_command[PC_WHO_PARENT_LEN];
};

/* ---- pure parts (unit-tested) ---- */

/* /proc/PID/cmdline (NUL-separated argv) as one line: arguments joined by spaces,
 * control characters as '?', cut at outlen - 1 bytes on a character boundary. */
void pc_who_cmdline(const char *raw, size_t len, char *out, size_t outlen);
/* Real uid and parent pid from /proc/PID/status text. 0, or -ENOENT when absent. */
int pc_who_status(const char *text, long long *uid, uint32_t *ppid);
/* The systemd unit and the container a process belongs to, from /proc/PID/cgroup text
 * (cgroup v2 "0::/path", else the v1 name=systemd hierarchy). Empty when none. */
void pc_who_cgroup(const char *text, char *unit, size_t ulen, char *container, size_t clen);
/* The name of uid in /etc/passwd text. 0, or -ENOENT. */
int pc_passwd_name(const char *passwd, long long uid, char *name, size_t len);
/* Cut s to at most max bytes without splitting a UTF-8 character. */
void pc_utf8_cut(char *s, size_t max);

/* ---- I/O ---- */

/* Fill w for the process pid that the kernel named comm. Reads proc_root/PID/...
 * ("/proc") and passwd ("/etc/passwd": never NSS, which may block on a network
 * directory). A pid whose comm differs was reused: only pid and comm are kept. */
void pc_who_read(struct pc_fw_who *w, uint32_t pid, const char *comm, const char *proc_root,
		 const char *passwd);

/* The event's "by" object: pid, command, uid, user, unit (null where unknown) and
 * comm, login_uid, login_user, container, parent {pid, command}, process_gone. */
struct json_object *pc_who_json(const struct pc_fw_who *w);
/* "nft -f new.nft (pid 9656, user deploy uid 1001, login uid 1001, unit session-12.scope)" */
void pc_who_line(const struct pc_fw_who *w, char *buf, size_t len);

#endif
