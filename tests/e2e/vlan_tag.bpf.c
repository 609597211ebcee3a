// SPDX-License-Identifier: GPL-2.0
/* vlan_tag.bpf.c: test-only VLAN on a veth wire for a kernel without 802.1Q devices:
 * the client's TC egress writes a real 802.1Q tag into each IP frame, the server's TC
 * ingress (which runs after XDP) pops it so that the stack delivers the packet. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_8021Q 0x8100
#define VLAN_ID	    100

char LICENSE[] SEC("license") = "GPL";

SEC("tc")
int vlan_push(struct __sk_buff *skb)
{
	__u16 tag[2] = {bpf_htons(ETH_P_8021Q), bpf_htons(VLAN_ID)};
	__u16 proto = 0;

	if (bpf_skb_load_bytes(skb, 12, &proto, 2) ||
	    (proto != bpf_htons(0x0800) && proto != bpf_htons(0x86DD)))
		return 0; /* TC_ACT_OK: ARP/ND stay untagged */
	/* Room after the MAC addresses, then TPID + TCI where the ethertype was. */
	if (bpf_skb_adjust_room(skb, 4, BPF_ADJ_ROOM_MAC, 0))
		return 0;
	bpf_skb_store_bytes(skb, 12, tag, sizeof(tag), 0);
	bpf_skb_store_bytes(skb, 16, &proto, sizeof(proto), 0);
	return 0;
}

/* Tagged frames that arrived: proof for the test that the wire carried the tag. */
__u64 vlan_popped = 0;

SEC("tc")
int vlan_pop(struct __sk_buff *skb)
{
	/* The core already moved the tag into skb metadata (no 802.1Q device to take it). */
	if (skb->vlan_present && skb->vlan_tci == VLAN_ID) {
		bpf_skb_vlan_pop(skb);
		__sync_fetch_and_add(&vlan_popped, 1);
	}
	return 0;
}
