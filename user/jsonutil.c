// SPDX-License-Identifier: GPL-2.0
/* jsonutil.c: the shared json-c reads and writes, and the write loop of the daemon's children. */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "jsonutil.h"

const char *pc_json_str(struct json_object *o, const char *k, const char *dflt)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : dflt;
}

int64_t pc_json_int(struct json_object *o, const char *k, int64_t dflt)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && v ? json_object_get_int64(v) : dflt;
}

struct json_object *pc_json_str_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

int pc_write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t w = write(fd, s, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};

			poll(&p, 1, 1000);
			continue;
		}
		if (w <= 0)
			return -1;
		s += w;
		len -= w;
	}
	return 0;
}
