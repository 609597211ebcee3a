// SPDX-License-Identifier: GPL-2.0
/* tc_drop.bpf.c: test-only TC filter: drops every IPv4 TCP packet (another filter behind ours). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

/* Dropped so far: the test reads it (.bss) to see the filter ran. */
__u64 tc_dropped;

SEC("tc")
int tc_drop_tcp(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(0x0800) || ip->protocol != 6)
		return -1; /* TC_ACT_UNSPEC: not ours to judge */
	__sync_fetch_and_add(&tc_dropped, 1);
	return 2; /* TC_ACT_SHOT */
}
