// SPDX-License-Identifier: GPL-2.0
/* control.c: a one-request-per-connection unix socket between `portcanary status` and the daemon. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "log.h"

static int sock_path(const char *dir, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir, PC_CONTROL_SOCK) >=
	    (int)sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int pc_control_listen(const char *dir)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd, err;

	err = sock_path(dir, &sa);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(sa.sun_path); /* a stale socket of a daemon that died; the state-dir lock is ours */
	old = umask(0077);
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (err || chmod(sa.sun_path, 0600) || listen(fd, 16)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int pc_control_accept(int lfd, char *req, size_t len)
{
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	ssize_t n;
	size_t got = 0;
	int cfd;

	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd < 0)
		return -errno;
	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* A byte at a time up to the newline: what follows it (an apply's ruleset) stays in
	 * the socket for the request's own reader. A line is a few hundred bytes. */
	while (got + 1 < len) {
		n = recv(cfd, req + got, 1, 0);
		if (n <= 0 || req[got] == '\n')
			break;
		got++;
	}
	req[got] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	return cfd;
}

int pc_control_peer(int cfd, uid_t *uid, pid_t *pid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return -errno;
	*uid = cr.uid;
	*pid = cr.pid;
	return 0;
}

int pc_control_send_line(int cfd, const char *line)
{
	size_t len = strlen(line), off = 0;
	struct pollfd p = {.fd = cfd, .events = POLLOUT};
	ssize_t n;

	/* A progress line to a client that may be gone or stuck: the daemon's work goes
	 * on without it, so give up on it after a short wait. */
	while (off <= len) {
		const char *b = off < len ? line + off : "\n";
		size_t want = off < len ? len - off : 1;

		n = send(cfd, b, want, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && poll(&p, 1, 200) == 1)
			continue;
		return n < 0 ? -errno : -EPIPE;
	}
	return 0;
}

int pc_control_connect(const char *dir, double timeout_s)
{
	struct timeval tv = {.tv_sec = (time_t)timeout_s,
			     .tv_usec = (long)((timeout_s - (time_t)timeout_s) * 1e6)};
	struct sockaddr_un sa;
	int fd, err;

	err = sock_path(dir, &sa);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int pc_control_read_line(struct pc_line_reader *r, int fd, char **line)
{
	for (;;) {
		char *nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
		ssize_t n;

		if (nl) {
			size_t k = nl - r->buf;

			/* Hand out the line; the rest moves down at the next call. */
			memmove(r->line, r->buf, k);
			r->line[k] = '\0';
			memmove(r->buf, nl + 1, r->len - k - 1);
			r->len -= k + 1;
			*line = r->line;
			return 0;
		}
		if (r->len == sizeof(r->buf))
			return -E2BIG;
		n = recv(fd, r->buf + r->len, sizeof(r->buf) - r->len, 0);
		if (n == 0)
			return -EPIPE;
		if (n < 0)
			return errno == EINTR ? -EINTR : -errno;
		r->len += n;
	}
}

void pc_control_reply(int cfd, const char *text)
{
	size_t len = strlen(text), off = 0;
	ssize_t n;

	while (off < len) {
		n = send(cfd, text + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += n;
	}
	close(cfd);
}

void pc_control_unlink(const char *dir)
{
	struct sockaddr_un sa;

	if (!sock_path(dir, &sa))
		unlink(sa.sun_path);
}

void pc_control_explain(const char *dir, int err)
{
	if (err == ENOENT || err == ECONNREFUSED)
		pc_err("no portcanary daemon is running with state dir %s "
		       "(start one with `portcanary run`, or pass its --state-dir)",
		       dir);
	else if (err == EACCES)
		pc_err("permission denied on %s/%s: the control socket is root's only (sudo)", dir,
		       PC_CONTROL_SOCK);
	else
		pc_err("cannot talk to the daemon in %s: %s", dir, strerror(err));
}

char *pc_control_request(const char *dir, const char *req)
{
	struct timeval tv = {.tv_sec = 5};
	size_t len = 0, cap = 65536;
	struct sockaddr_un sa;
	char *buf;
	ssize_t n;
	int fd, err;

	err = sock_path(dir, &sa);
	if (err) {
		errno = -err;
		return NULL;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return NULL;
	}
	buf = malloc(cap);
	while (buf && (n = recv(fd, buf + len, cap - len - 1, 0)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	err = errno;
	close(fd);
	if (buf)
		buf[len] = '\0';
	if (buf && len == 0) {
		free(buf);
		buf = NULL;
		errno = err ? err : EPIPE;
	}
	return buf;
}
