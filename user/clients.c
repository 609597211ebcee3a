// SPDX-License-Identifier: GPL-2.0
/* clients.c: attaches the connection sampler and reads a port's rings back, merged across CPUs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clients.h"
#include "loader.h"
#include "log.h"
#include "portcanary.skel.h"

void pc_clients_configure(struct pc_loader *ld, unsigned int netns_ino)
{
	ld->skel->rodata->pc_clients_netns = netns_ino;
}

int pc_clients_attach(struct pc_clients *c, struct pc_loader *ld)
{
	int err;

	c->map_fd = -1;
	c->link = bpf_program__attach(ld->skel->progs.pc_sock_state);
	err = libbpf_get_error(c->link);
	if (err) {
		c->link = NULL;
		pc_warn("cannot attach the connection sampler (%s): apply will preflight from the "
			"sandbox's default addresses, not the real clients'",
			strerror(-err));
		return err;
	}
	c->ncpus = libbpf_num_possible_cpus();
	c->map_fd = bpf_map__fd(ld->skel->maps.pc_clients);
	return 0;
}

static bool same_prefix(const struct pc_client_addr *a, const struct pc_client_entry *e)
{
	int bits = e->family == AF_INET ? PC_CLIENT_PREFIX4 : PC_CLIENT_PREFIX6;

	return a->family == e->family && !memcmp(a->client, e->client, bits / 8);
}

static int cmp_newest(const void *x, const void *y)
{
	const struct pc_client_entry *a = x, *b = y;

	return a->seen_ns < b->seen_ns ? 1 : a->seen_ns > b->seen_ns ? -1 : 0;
}

int pc_clients_merge(const struct pc_client_entry *in, int n, struct pc_client_addr *out, int max)
{
	struct pc_client_entry *e = malloc((n + 1) * sizeof(*e));
	int i, j, k = 0;

	if (!e)
		return 0;
	memcpy(e, in, n * sizeof(*e));
	qsort(e, n, sizeof(*e), cmp_newest);
	for (i = 0; i < n && k < max; i++) {
		if (!e[i].seen_ns || (e[i].family != AF_INET && e[i].family != AF_INET6))
			continue;
		for (j = 0; j < k && !same_prefix(&out[j], &e[i]); j++)
			;
		if (j < k)
			continue;
		out[k].family = e[i].family;
		memcpy(out[k].client, e[i].client, 16);
		memcpy(out[k].server, e[i].server, 16);
		out[k].seen_ns = e[i].seen_ns;
		k++;
	}
	free(e);
	return k;
}

int pc_clients_read(const struct pc_clients *c, uint8_t dir, uint16_t port,
		    struct pc_client_addr *out, int max)
{
	struct pc_client_key key = {.port = port, .dir = dir};
	struct pc_client_ring *rings;
	struct pc_client_entry *all;
	int i, n = 0;

	if (c->map_fd < 0 || c->ncpus <= 0)
		return 0;
	rings = calloc(c->ncpus, sizeof(*rings));
	all = calloc(c->ncpus * PC_CLIENTS_PER_KEY, sizeof(*all));
	if (rings && all && !bpf_map_lookup_elem(c->map_fd, &key, rings)) {
		for (i = 0; i < c->ncpus; i++) {
			memcpy(all + n, rings[i].e, sizeof(rings[i].e));
			n += PC_CLIENTS_PER_KEY;
		}
		n = pc_clients_merge(all, n, out, max);
	} else {
		n = 0;
	}
	free(rings);
	free(all);
	return n;
}

void pc_clients_detach(struct pc_clients *c)
{
	if (c->link)
		bpf_link__destroy(c->link);
	c->link = NULL;
	c->map_fd = -1;
}

void pc_client_addr_str(const struct pc_client_addr *a, bool server, char *buf, size_t len)
{
	if (!inet_ntop(a->family, server ? a->server : a->client, buf, len))
		snprintf(buf, len, "?");
}
