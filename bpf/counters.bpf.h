/* SPDX-License-Identifier: GPL-2.0 */
/* counters.bpf.h: the datapath maps and the code that turns a parsed packet into counters. */
#ifndef PC_COUNTERS_BPF_H
#define PC_COUNTERS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "portcanary.h"
#include "parse.bpf.h"

/*
 * The maps and the load-time config are defined here, once: in portcanary.bpf.c.
 * Another .bpf.c of the same object (e.g. the drop tracer) defines PC_MAPS_EXTERN
 * before including this header and gets extern declarations instead, which
 * `bpftool gen object` resolves to the one definition when it links the object.
 * No pinning attributes: the loader pins the maps under its state dir.
 */
#ifdef PC_MAPS_EXTERN
#define PC_SHARED extern
#else
#define PC_SHARED
#endif

/* Load-time options, set by the loader between open and load (read-only after). */
PC_SHARED const volatile struct pc_bpf_cfg pc_cfg;

/* pc_ports: key 0 → port table (slot by proto/dir/port); user space writes (mmap), BPF reads. */
PC_SHARED struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pc_port_table);
} pc_ports SEC(".maps");

/* pc_counters: slot → per-CPU struct pc_counters; programs write, the sampler reads and sums. */
PC_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PC_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct pc_counters);
} pc_counters SEC(".maps");

/* pc_global: enum pc_hook → per-CPU struct pc_global; programs write, sampler and status read. */
PC_SHARED struct {
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

/* What a slot counts for one packet: its TCP flags byte, or PC_KIND_ICMP for an ICMP error. */
#define PC_KIND_ICMP 0x100

/*
 * Counters are per-CPU and a program runs to completion on one CPU, so plain
 * increments are enough: no atomics, no locks.
 */
static __always_inline void pc_bump(__u32 slot, __u32 kind, __u64 bytes, bool egress)
{
	struct pc_counters *cnt;
	struct pc_half *h;

	cnt = bpf_map_lookup_elem(&pc_counters, &slot);
	if (!cnt)
		return;
	h = egress ? (struct pc_half *)&cnt->tx_packets : (struct pc_half *)&cnt->rx_packets;
	if (kind & PC_KIND_ICMP) {
		h->icmp_unreach++;
		return;
	}
	h->packets++;
	h->bytes += bytes;
	/* one test skips the rest for the bulk of traffic (data and ACKs); then a plain SYN */
	if (kind & (PC_TCP_SYN | PC_TCP_RST)) {
		if ((kind & (PC_TCP_SYN | PC_TCP_ACK | PC_TCP_RST)) == PC_TCP_SYN) {
			h->syn++;
			return;
		}
		if (kind & PC_TCP_SYN) {
			if (kind & PC_TCP_ACK)
				h->synack++;
			else
				h->syn++;
		}
		if (kind & PC_TCP_RST)
			h->rst++;
	}
}

/*
 * Attribute a TCP/UDP packet or an ICMP error (ports pre-swapped by the parser).
 * Ingress: dport → IN slot, sport → OUT slot; egress: sport → IN, dport → OUT.
 * The port table t was looked up once per packet, so an unmonitored packet
 * costs no more than reading two entries of it. Returns whether a slot counted it.
 */
static __always_inline bool pc_attribute(const struct pc_port_table *t, const struct pc_pkt *p,
					 __u32 kind, __u64 bytes, bool egress)
{
	__u32 in_port, out_port, s_in, s_out;

	in_port = egress ? p->sport : p->dport;
	out_port = egress ? p->dport : p->sport;
	/* proto is 0 or 1 by construction; the mask makes that visible to the verifier. */
	s_in = t->slot[p->proto & 1][PC_DIR_IN][in_port & 0xffff];
	s_out = t->slot[p->proto & 1][PC_DIR_OUT][out_port & 0xffff];
	if (!(s_in | s_out))
		return false;
	if (s_in)
		pc_bump(s_in, kind, bytes, egress);
	if (s_out)
		pc_bump(s_out, kind, bytes, egress);
	return true;
}

/*
 * Count one parsed packet on the hook's global counters and, if watched, on its
 * slots. The caller looks up the port table and the hook's global counters before
 * parsing: map lookups are calls to the compiler, and with both pointers taken
 * early nothing else has to be kept alive across them (no stack spills).
 */
static __always_inline void pc_account(const struct pc_port_table *t, struct pc_global *g,
				       const struct pc_pkt *p, __u64 bytes, bool egress)
{
	bool monitored = false;

	g->packets++;
	switch (p->verdict) {
	case PC_V_L4:
		monitored = pc_attribute(t, p, p->tcp_flags, bytes, egress);
		break;
	case PC_V_ICMP_ERR:
		g->icmp_errors++;
		monitored = pc_attribute(t, p, PC_KIND_ICMP, bytes, egress);
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
	if (monitored)
		g->monitored++;
}

/*
 * pc_account() for what pc_parse_fast() accepted (PC_V_L4), with its own map
 * lookups, ordered for the shortest path: a lookup is a call to the compiler,
 * which clobbers r1-r5, and BPF has four callee-saved registers. Parsing first
 * leaves the ports, flags and length alive across the port table's lookup; the
 * two slots are read before the global counters' lookup; the global counters are
 * settled before the first counter lookup. Nothing spills, and an unmonitored
 * packet is done after the port table read and one increment.
 */
static __always_inline void pc_account_l4(const struct pc_pkt *p, __u64 bytes, __u32 hook,
					  bool egress)
{
	__u32 s_in, s_out, zero = 0, key = hook;
	__u64 in_idx, out_idx;
	struct pc_port_table *t;
	struct pc_global *g;
	__u16 *slots;

	/*
	 * Flat indexes into t->slot, computed before the lookup: two registers to keep
	 * across it instead of three (proto and both ports), which with the flags and
	 * the length fit the four callee-saved ones. The masks bound them for the
	 * verifier; the barriers stop clang from sinking the arithmetic below the call,
	 * which brings the three registers back and spills the length.
	 */
	in_idx = (p->proto & 1) * (PC_DIR_MAX * PC_NR_PORTS) +
		 ((egress ? p->sport : p->dport) & 0xffff);
	out_idx = (p->proto & 1) * (PC_DIR_MAX * PC_NR_PORTS) + PC_DIR_OUT * PC_NR_PORTS +
		  ((egress ? p->dport : p->sport) & 0xffff);
	barrier_var(in_idx);
	barrier_var(out_idx);
	t = bpf_map_lookup_elem(&pc_ports, &zero);
	if (!t)
		return;
	slots = &t->slot[0][0][0];
	s_in = slots[in_idx];
	s_out = slots[out_idx];
	/* hook 0 (XDP) shares the key already on the stack */
	g = bpf_map_lookup_elem(&pc_global, hook ? &key : &zero);
	if (!g)
		return;
	g->packets++;
	if (!(s_in | s_out))
		return;
	g->monitored++;
	if (s_in)
		pc_bump(s_in, p->tcp_flags, bytes, egress);
	if (s_out)
		pc_bump(s_out, p->tcp_flags, bytes, egress);
}

#endif /* PC_COUNTERS_BPF_H */
