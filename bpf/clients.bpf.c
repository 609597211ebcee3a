// SPDX-License-Identifier: GPL-2.0
/* clients.bpf.c: tp_btf/inet_sock_set_state: the addresses of each port's working clients. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "portcanary.h"

#define PC_AF_INET  2
#define PC_AF_INET6 10
#define PC_SOL_TCP  6

/* Inode of the daemon's network namespace (0: any); set by user space before load. */
const volatile __u32 pc_clients_netns = 0;

/* pc_clients: (port, direction) → per-CPU ring of the last established connections.
 * Written here once per TCP connection (never per packet), read by the daemon when it
 * preflights a change (portcanary apply). LRU: ports nobody asks about age out. Per-CPU:
 * no other writer of a CPU's ring, so no atomics and no torn addresses. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, PC_CLIENT_KEYS);
	__type(key, struct pc_client_key);
	__type(value, struct pc_client_ring);
} pc_clients SEC(".maps");

/* A zeroed ring for a key seen the first time (too big for the 512-byte stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pc_client_ring);
} pc_clients_zero SEC(".maps");

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(pc_sock_state, const struct sock *sk, const int oldstate, const int newstate)
{
	struct pc_client_key key = {};
	struct pc_client_entry *e;
	struct pc_client_ring *r;
	bool passive;
	__u16 family;
	__u32 zero = 0;

	/* Only a handshake that completed: a client the firewall let through. */
	if (newstate != TCP_ESTABLISHED || (oldstate != TCP_SYN_RECV && oldstate != TCP_SYN_SENT))
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) != PC_SOL_TCP)
		return 0;
	if (pc_clients_netns &&
	    BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum) != pc_clients_netns)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != PC_AF_INET && family != PC_AF_INET6)
		return 0;
	passive = oldstate == TCP_SYN_RECV;
	key.dir = passive ? PC_DIR_IN : PC_DIR_OUT;
	key.port = passive ? BPF_CORE_READ(sk, __sk_common.skc_num)
			   : bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	r = bpf_map_lookup_elem(&pc_clients, &key);
	if (!r) {
		struct pc_client_ring *z = bpf_map_lookup_elem(&pc_clients_zero, &zero);

		if (!z)
			return 0;
		bpf_map_update_elem(&pc_clients, &key, z, BPF_NOEXIST);
		r = bpf_map_lookup_elem(&pc_clients, &key);
		if (!r)
			return 0;
	}
	e = &r->e[r->next % PC_CLIENTS_PER_KEY];
	r->next++; /* per-CPU value: no other writer, no atomics */
	e->seen_ns = bpf_ktime_get_ns();
	e->family = family;
	/* IN: the remote end is the client; OUT: this host is. */
	if (family == PC_AF_INET) {
		__be32 local = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__be32 remote = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		__builtin_memset(e->client, 0, sizeof(e->client));
		__builtin_memset(e->server, 0, sizeof(e->server));
		__builtin_memcpy(e->client, passive ? &remote : &local, 4);
		__builtin_memcpy(e->server, passive ? &local : &remote, 4);
	} else {
		struct in6_addr local = BPF_CORE_READ(sk, __sk_common.skc_v6_rcv_saddr);
		struct in6_addr remote = BPF_CORE_READ(sk, __sk_common.skc_v6_daddr);

		__builtin_memcpy(e->client, passive ? &remote : &local, 16);
		__builtin_memcpy(e->server, passive ? &local : &remote, 16);
	}
	return 0;
}
