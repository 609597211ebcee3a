// SPDX-License-Identifier: GPL-2.0
/* mark_set.bpf.c: test-only: a packet mark set outside the ruleset, as tc or another BPF
 * program would: TC ingress marks IPv4 TCP packets to port 8006 with 0x2a. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MARK_PORT 8006
#define MARK	  0x2a

char LICENSE[] SEC("license") = "GPL";

SEC("tc")
int mark_set(struct __sk_buff *skb)
{
	__u8 ihl_proto[2];
	__u16 proto = 0, dport = 0;

	if (bpf_skb_load_bytes(skb, 12, &proto, 2) || proto != bpf_htons(0x0800) ||
	    bpf_skb_load_bytes(skb, 14, &ihl_proto[0], 1) ||
	    bpf_skb_load_bytes(skb, 14 + 9, &ihl_proto[1], 1) || ihl_proto[1] != 6)
		return -1; /* TC_ACT_UNSPEC: the next filter, if any, decides */
	if (bpf_skb_load_bytes(skb, 14 + (ihl_proto[0] & 0xf) * 4 + 2, &dport, 2))
		return -1;
	if (dport == bpf_htons(MARK_PORT))
		skb->mark = MARK;
	return -1;
}
