/* SPDX-License-Identifier: GPL-2.0 */
/* counters.bpf.h: the datapath maps and the code that turns a parsed packet into counters. */
#ifndef PC_COUNTERS_BPF_H
#define PC_COUNTERS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "portcanary.h"
#include "parse.bpf.h"

/*
 * The maps are defined here, once, and this header is included by one .bpf.c only.
 * No pinning attributes: the loader pins them under its state dir.
 */

/* pc_ports: key 0 → struct pc_port_table (slot per proto/dir/port); user space writes it through mmap, every program reads it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pc_port_table);
} pc_ports SEC(".maps");

/* pc_counters: slot → per-CPU struct pc_counters; the programs write, the sampler reads and sums the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PC_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct pc_counters);
} pc_counters SEC(".maps");

/* pc_global: enum pc_hook → per-CPU struct pc_global; the programs write, the sampler and status read. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PC_HOOK_MAX);
	__type(key, __u32);
	__type(value, struct pc_global);
} pc_global SEC(".maps");

/*
 * One direction's half of struct pc_counters: rx_* and tx_* are laid out alike,
 * so a pointer to rx_packets or tx_packets selects the half at compile time.
 */
struct pc_half {
	__u64 packets;
	__u64 bytes;
	__u64 syn;
	__u64 synack;
	__u64 rst;
	__u64 icmp_unreach;
};
_Static_assert(__builtin_offsetof(struct pc_counters, tx_packets) == sizeof(struct pc_half),
	       "rx_* and tx_* halves of pc_counters must match struct pc_half");
_Static_assert(__builtin_offsetof(struct pc_counters, rx_icmp_unreach) ==
		       __builtin_offsetof(struct pc_half, icmp_unreach),
	       "pc_half field order");

/*
 * Counters are per-CPU and a program runs to completion on one CPU, so plain
 * increments are enough: no atomics, no locks.
 */
static __always_inline void pc_bump(__u32 slot, const struct pc_pkt *p, __u64 bytes, bool egress)
{
	struct pc_counters *cnt;
	struct pc_half *h;

	cnt = bpf_map_lookup_elem(&pc_counters, &slot);
	if (!cnt)
		return;
	h = egress ? (struct pc_half *)&cnt->tx_packets : (struct pc_half *)&cnt->rx_packets;
	if (p->verdict == PC_V_ICMP_ERR) {
		h->icmp_unreach++;
		return;
	}
	h->packets++;
	h->bytes += bytes;
	if (p->tcp_flags & PC_TCP_SYN) {
		if (p->tcp_flags & PC_TCP_ACK)
			h->synack++;
		else
			h->syn++;
	}
	if (p->tcp_flags & PC_TCP_RST)
		h->rst++;
}

/*
 * Attribute a TCP/UDP packet or an ICMP error (ports pre-swapped by the parser).
 * Ingress: dport → IN slot, sport → OUT slot; egress: sport → IN, dport → OUT.
 * An unmonitored packet costs exactly one lookup here: the port table.
 */
static __always_inline void pc_attribute(struct pc_global *g, const struct pc_pkt *p, __u64 bytes,
					 bool egress)
{
	struct pc_port_table *t;
	__u32 zero = 0, in_port, out_port, s_in, s_out;

	t = bpf_map_lookup_elem(&pc_ports, &zero);
	if (!t)
		return;
	in_port = egress ? p->sport : p->dport;
	out_port = egress ? p->dport : p->sport;
	/* proto is 0 or 1 by construction; the mask makes that visible to the verifier. */
	s_in = t->slot[p->proto & 1][PC_DIR_IN][in_port & 0xffff];
	s_out = t->slot[p->proto & 1][PC_DIR_OUT][out_port & 0xffff];
	if (!(s_in | s_out))
		return;
	g->monitored++;
	if (s_in)
		pc_bump(s_in, p, bytes, egress);
	if (s_out)
		pc_bump(s_out, p, bytes, egress);
}

/* Count one parsed packet on the hook's global counters and, if watched, its slots. */
static __always_inline void pc_account(struct pc_global *g, const struct pc_pkt *p, __u64 bytes,
				       bool egress)
{
	switch (p->verdict) {
	case PC_V_L4:
		pc_attribute(g, p, bytes, egress);
		break;
	case PC_V_ICMP_ERR:
		g->icmp_errors++;
		pc_attribute(g, p, bytes, egress);
		break;
	case PC_V_ICMP_NOPORT:
		g->icmp_errors++;
		break;
	case PC_V_NOT_IP:
		g->not_ip++;
		break;
	case PC_V_FRAG:
		g->frag_nonfirst++;
		break;
	case PC_V_OTHER:
		g->other_l4++;
		break;
	default:
		g->malformed++;
		break;
	}
}

#endif /* PC_COUNTERS_BPF_H */
