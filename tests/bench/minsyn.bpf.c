// SPDX-License-Identifier: GPL-2.0
/* minsyn.bpf.c: the reference point, a minimal IPv4-only SYN counter in a per-CPU array. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

/*
 * bench_syn: TCP destination port → per-CPU count of SYNs (no ACK); this program
 * writes, nobody reads. One entry per port, so the lookup is the same kind of work
 * a canary does per packet; with no VLAN, IPv6, options or byte accounting, it is
 * the floor any per-port SYN counter sits on.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} bench_syn SEC(".maps");

SEC("xdp")
int bench_minsyn(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *th;
	__u32 port;
	__u64 *n;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(0x0800) || ip->protocol != 6)
		return XDP_PASS;
	th = (void *)ip + ip->ihl * 4;
	if ((void *)(th + 1) > data_end || (((__u8 *)th)[13] & 0x12) != 0x02)
		return XDP_PASS;
	port = bpf_ntohs(th->dest);
	n = bpf_map_lookup_elem(&bench_syn, &port);
	if (n)
		(*n)++;
	return XDP_PASS;
}
