/* SPDX-License-Identifier: GPL-2.0 */
/* clients.h: each port's recent working clients (bpf/clients.bpf.c), as source prefixes. */
#ifndef PC_CLIENTS_H
#define PC_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portcanary.h"

struct pc_loader;
struct bpf_link;

/* One client (and the server address it reached), the newest of its prefix. */
struct pc_client_addr {
	uint8_t family; /* AF_INET, AF_INET6 */
	uint8_t client[16];
	uint8_t server[16];
	uint64_t seen_ns;
};

#define PC_CLIENT_PREFIX4 24 /* clients within one /24 (IPv4) or /64 (IPv6) count once */
#define PC_CLIENT_PREFIX6 64

struct pc_clients {
	int map_fd; /* -1: not sampling */
	struct bpf_link *link;
	int ncpus;
};

/* Before the object is loaded: sample only in this network namespace. */
void pc_clients_configure(struct pc_loader *ld, unsigned int netns_ino);
/* Attach the tracepoint program (needs CAP_PERFMON: before the capability drop).
 * Failure is not fatal: preflights then use the sandbox's default addresses. */
int pc_clients_attach(struct pc_clients *c, struct pc_loader *ld);
/* The recent clients of a port, newest first, one per prefix; the count (0..max). */
int pc_clients_read(const struct pc_clients *c, uint8_t dir, uint16_t port,
		    struct pc_client_addr *out, int max);
void pc_clients_detach(struct pc_clients *c);

/* ---- pure parts (unit-tested) ---- */

/* The entries of every CPU's ring (seen_ns 0 = empty), newest first, one per prefix. */
int pc_clients_merge(const struct pc_client_entry *e, int n, struct pc_client_addr *out, int max);
/* The client's (or the server's) address as text. */
void pc_client_addr_str(const struct pc_client_addr *a, bool server, char *buf, size_t len);

#endif
