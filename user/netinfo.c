// SPDX-License-Identifier: GPL-2.0
/* netinfo.c: default route interface and TCP listeners, read from procfs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "portcanary.h"
#include "netinfo.h"

static int route_iface(const char *path, int dst_col, int ifname_col, char name[IF_NAMESIZE])
{
	char line[512];
	FILE *f = fopen(path, "r");
	int found = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *tok[12] = {};
		char *save = NULL, *p = line;
		int n = 0;

		while (n < 12 && (tok[n] = strtok_r(p, " \t\n", &save)))
			p = NULL, n++;
		if (n <= dst_col || n <= ifname_col)
			continue;
		/* IPv4: destination 00000000 and mask 00000000; IPv6: ::/0 */
		if (dst_col == 1 && !strcmp(tok[1], "00000000") && !strcmp(tok[7], "00000000")) {
			snprintf(name, IF_NAMESIZE, "%s", tok[0]);
			found = 0;
			break;
		}
		if (dst_col == 0 && !strcmp(tok[0], "00000000000000000000000000000000") &&
		    !strcmp(tok[1], "00") && strcmp(tok[ifname_col], "lo")) {
			snprintf(name, IF_NAMESIZE, "%s", tok[ifname_col]);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

int pc_default_route_iface(char name[IF_NAMESIZE])
{
	if (route_iface("/proc/net/route", 1, 0, name) == 0)
		return 0;
	return route_iface("/proc/net/ipv6_route", 0, 9, name);
}

int pc_parse_proc_net_tcp(const char *text, unsigned char *seen)
{
	const char *line = text;
	int n = 0;

	while (line && *line) {
		unsigned int port, state;
		char local[64];

		/* "  0: 0100007F:1F90 00000000:0000 0A ..." — state 0A is LISTEN. */
		if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", local, &port,
			   &state) == 3 &&
		    state == 0x0A && port > 0 && port < PC_NR_PORTS && !seen[port]) {
			seen[port] = 1;
			n++;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return n;
}

static char *slurp(const char *path)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	FILE *f = fopen(path, "r");
	size_t r;

	if (!buf || !f) {
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	while ((r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += r;
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

int pc_tcp_listeners(struct pc_portspec *out, int max)
{
	static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	unsigned char *seen = calloc(PC_NR_PORTS, 1);
	int i, n = 0, port;

	if (!seen)
		return -ENOMEM;
	for (i = 0; i < 2; i++) {
		char *text = slurp(files[i]);

		if (text)
			pc_parse_proc_net_tcp(text, seen);
		free(text);
	}
	for (port = 1; port < PC_NR_PORTS && n < max; port++)
		if (seen[port])
			out[n++] = (struct pc_portspec){.proto = PC_PROTO_TCP,
							.dir = PC_DIR_IN,
							.first = port,
							.last = port};
	free(seen);
	return n;
}

unsigned int pc_netns_ino(void)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return 0;
	return st.st_ino;
}
