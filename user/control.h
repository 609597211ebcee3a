/* SPDX-License-Identifier: GPL-2.0 */
/* control.h: the daemon's control socket (<state-dir>/portcanary.sock, mode 0600) and its client. */
#ifndef PC_CONTROL_H
#define PC_CONTROL_H

#include <stddef.h>

#define PC_CONTROL_SOCK "portcanary.sock"

/* Server: a listening, non-blocking socket. Returns the fd or -errno. */
int pc_control_listen(const char *state_dir);
/* Server: accept one client, read its one-line request into req, return the
 * client fd (with short send/receive timeouts, so a stuck client cannot stall
 * the daemon) or -errno. */
int pc_control_accept(int lfd, char *req, size_t len);
/* Server: send the whole reply and close the client. */
void pc_control_reply(int cfd, const char *text);
void pc_control_unlink(const char *state_dir);

/* Client: send `req`, return the malloc'd reply or NULL with errno set
 * (ENOENT/ECONNREFUSED: no daemon is running with that state dir). */
char *pc_control_request(const char *state_dir, const char *req);

#endif
