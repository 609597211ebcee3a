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
	while (got + 1 < len) {
		n = recv(cfd, req + got, len - got - 1, 0);
		if (n <= 0)
			break;
		got += n;
		if (memchr(req, '\n', got))
			break;
	}
	req[got] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	return cfd;
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
