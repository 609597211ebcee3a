// SPDX-License-Identifier: GPL-2.0
/* portspec.c: port SPEC parsing ("tcp/443", "udp/53", "tcp/9000:out", "8000-8010"), strict numbers. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portcanary.h"
#include "portspec.h"

const char *pc_proto_name(int proto)
{
	return proto == PC_PROTO_UDP ? "udp" : "tcp";
}

const char *pc_dir_name(int dir)
{
	return dir == PC_DIR_OUT ? "out" : "in";
}

int pc_proto_from_name(const char *s)
{
	if (!strcmp(s, "tcp"))
		return PC_PROTO_TCP;
	if (!strcmp(s, "udp"))
		return PC_PROTO_UDP;
	return -EINVAL;
}

int pc_dir_from_name(const char *s)
{
	if (!strcmp(s, "in"))
		return PC_DIR_IN;
	if (!strcmp(s, "out"))
		return PC_DIR_OUT;
	return -EINVAL;
}

int pc_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int pc_parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v))
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int parse_port(const char *s, size_t len, const char *what, uint16_t *port, char *err,
		      size_t errlen)
{
	char buf[16];
	uint64_t v;
	int ret;

	if (len == 0 || len >= sizeof(buf)) {
		snprintf(err, errlen, "%s is %s", what, len ? "too long" : "missing");
		return -EINVAL;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	ret = pc_parse_u64(buf, 1, 65535, &v);
	if (ret == -ERANGE) {
		snprintf(err, errlen, "%s %s is out of range (1-65535)", what, buf);
		return -EINVAL;
	}
	if (ret) {
		snprintf(err, errlen, "%s '%s' is not a number", what, buf);
		return -EINVAL;
	}
	*port = v;
	return 0;
}

int pc_portspec_parse(const char *s, struct pc_portspec *spec, char *err, size_t errlen)
{
	const char *p = s, *colon, *dash, *end;
	struct pc_portspec r = {.proto = PC_PROTO_TCP, .dir = PC_DIR_IN};

	if (!s || !*s) {
		snprintf(err, errlen, "empty port spec");
		return -EINVAL;
	}
	if (!strncmp(p, "tcp/", 4)) {
		p += 4;
	} else if (!strncmp(p, "udp/", 4)) {
		r.proto = PC_PROTO_UDP;
		p += 4;
	} else if (strchr(p, '/')) {
		snprintf(err, errlen, "unknown protocol in '%s' (use tcp/ or udp/)", s);
		return -EINVAL;
	}
	colon = strchr(p, ':');
	end = colon ? colon : p + strlen(p);
	if (colon) {
		int dir = pc_dir_from_name(colon + 1);

		if (dir < 0) {
			snprintf(err, errlen, "unknown direction in '%s' (use :in or :out)", s);
			return -EINVAL;
		}
		r.dir = dir;
	}
	dash = memchr(p, '-', end - p);
	if (parse_port(p, (dash ? dash : end) - p, dash ? "first port" : "port", &r.first, err,
		       errlen))
		return -EINVAL;
	r.last = r.first;
	if (dash) {
		if (parse_port(dash + 1, end - dash - 1, "last port", &r.last, err, errlen))
			return -EINVAL;
		if (r.last < r.first) {
			snprintf(err, errlen, "range %u-%u in '%s' is reversed", r.first, r.last,
				 s);
			return -EINVAL;
		}
	}
	*spec = r;
	return 0;
}

void pc_portspec_format(const struct pc_portspec *spec, char *buf, size_t len)
{
	if (spec->first == spec->last)
		snprintf(buf, len, "%s/%u:%s", pc_proto_name(spec->proto), spec->first,
			 pc_dir_name(spec->dir));
	else
		snprintf(buf, len, "%s/%u-%u:%s", pc_proto_name(spec->proto), spec->first,
			 spec->last, pc_dir_name(spec->dir));
}
