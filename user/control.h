/* SPDX-License-Identifier: GPL-2.0 */
/* control.h: the daemon's control socket (<state-dir>/portcanary.sock, mode 0600) and its client. */
#ifndef PC_CONTROL_H
#define PC_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#define PC_CONTROL_SOCK "portcanary.sock"

/* Server: a listening, non-blocking socket. Returns the fd or -errno. */
int pc_control_listen(const char *state_dir);
/* Server: accept one client, read its one-line request into req, return the
 * client fd (with short send/receive timeouts, so a stuck client cannot stall
 * the daemon) or -errno. */
int pc_control_accept(int lfd, char *req, size_t len);
/* Server: who is asking (SO_PEERCRED). 0 or -errno. */
int pc_control_peer(int cfd, uid_t *uid, pid_t *pid);
/* Server, for requests that stream progress: one line (a newline is added) to a client
 * that may have gone away; waits 200 ms at most on a full socket. 0 or -errno (then the
 * caller stops writing to it and closes it). */
int pc_control_send_line(int cfd, const char *line);
/* Server: send the whole reply and close the client. */
void pc_control_reply(int cfd, const char *text);
void pc_control_unlink(const char *state_dir);

/* Client: a connection with send and receive timeouts. fd or -errno. */
int pc_control_connect(const char *dir, double timeout_s);

/* Client: a streamed reply read line by line (lines up to 64 KiB). */
struct pc_line_reader {
	char buf[65536];
	size_t len;
	char line[65536];
};
/* The next line, without its newline (valid until the next call). 0, -EPIPE at the end,
 * -EAGAIN on the receive timeout, -E2BIG for a longer line, or -errno. */
int pc_control_read_line(struct pc_line_reader *r, int fd, char **line);

/* Client: one line on stderr saying why the daemon could not be asked (err: an errno),
 * and what to do. */
void pc_control_explain(const char *dir, int err);

/* Client: send `req`, return the malloc'd reply or NULL with errno set
 * (ENOENT/ECONNREFUSED: no daemon is running with that state dir). */
char *pc_control_request(const char *state_dir, const char *req);

#endif
