// SPDX-License-Identifier: GPL-2.0
/* linebuf.c: a growing buffer over a pipe's reads, cut into lines. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linebuf.h"

int pc_linebuf_fill(struct pc_linebuf *l, int fd)
{
	ssize_t n;

	if (l->cap - l->len < 65536) {
		char *nb = realloc(l->buf, l->cap * 2 + 65536);

		if (!nb)
			return -1;
		l->buf = nb;
		l->cap = l->cap * 2 + 65536;
		l->buf[l->len] = '\0';
	}
	n = read(fd, l->buf + l->len, l->cap - l->len - 1);
	if (n > 0) {
		l->len += n;
		l->buf[l->len] = '\0';
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return -1;
}

char *pc_linebuf_next(struct pc_linebuf *l)
{
	char *nl;

	/* Drop what was handed out before: the caller is done with it. */
	if (l->used) {
		memmove(l->buf, l->buf + l->used, l->len - l->used + 1);
		l->len -= l->used;
		l->used = 0;
	}
	nl = l->len ? memchr(l->buf, '\n', l->len) : NULL;
	if (!nl)
		return NULL;
	*nl = '\0';
	l->used = nl + 1 - l->buf;
	return l->buf;
}

void pc_linebuf_free(struct pc_linebuf *l)
{
	free(l->buf);
	memset(l, 0, sizeof(*l));
}
