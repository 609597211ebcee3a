/* SPDX-License-Identifier: GPL-2.0 */
/* linebuf.h: what a child process writes on a pipe, gathered and cut into lines. */
#ifndef PC_LINEBUF_H
#define PC_LINEBUF_H

#include <stddef.h>

struct pc_linebuf {
	char *buf; /* NUL-terminated: buf[len] == '\0' */
	size_t len, cap;
	size_t used; /* bytes of the lines already handed out */
};

/* Read what the fd has (one read). 1 read something, 0 nothing yet (EAGAIN/EINTR),
 * -1 end of file, an error, or out of memory. */
int pc_linebuf_fill(struct pc_linebuf *l, int fd);
/* The next complete line without its newline, or NULL; valid until the next call. */
char *pc_linebuf_next(struct pc_linebuf *l);
void pc_linebuf_free(struct pc_linebuf *l);

#endif
