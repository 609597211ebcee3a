/* SPDX-License-Identifier: GPL-2.0 */
/* counters.bpf.h: the datapath maps and the code that turns a parsed packet into counters. */
#ifndef PC_COUNTERS_BPF_H
#define PC_COUNTERS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "portcanary.h"
#include "compat.bpf.h"
#include "parse.bpf.h"

/*
 * The maps, the port table and the load-time config are defined here, once: in
 * portcanary.bpf.c. Another .bpf.c of the same object (e.g. the drop tracer) defines
 * PC_MAPS_EXTERN before including this header and gets extern declarations instead, which
 * `bpftool gen object` resolves to the one definition when it links the object. No pinning
 * attributes: the loader pins the maps under its state dir.
 */
#ifdef PC_MAPS_EXTERN
#define PC_SHARED extern
#else
#define PC_SHARED
#endif

/* Load-time options, set by the loader between open and load (read-only after). */
PC_SHARED const volatile struct pc_bpf_cfg pc_cfg;

/*
 * pc_port_table: slot by port/proto/dir; user space writes (mmap of the .bss map), BPF reads.
 * Global data: the program reaches it with one ld_imm64, with no lookup and no NULL check.
 * It must stay the only variable in .bss, which the loader pins as PC_PIN_PORTS.
 */
PC_SHARED struct pc_port_table pc_port_table;

/*
 * pc_counters: PC_COUNTERS_KEY(cpu, slot) → struct pc_slot_counters; programs write, the
 * sampler sums the CPUs (reading the mmap). Per CPU by its key rather than a PERCPU_ARRAY:
 * the value's address is then arithmetic on the CPU number (an inlined helper) and the slot,
 * where a per-CPU array loads the slot's per-CPU pointer first, one more load in the
 * packet's dependent chain. The loader sizes it for the possible CPUs before load.
 */
PC_SHARED struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PC_MAX_SLOTS); /* x possible CPUs, set by the loader */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pc_slot_counters);
} pc_counters SEC(".maps");

/* pc_global: enum pc_hook → per-CPU struct pc_hook_stats; written off the fast path only
 * (parse failures, non-TCP/UDP, a packet on two slots, the drop tracer); the sampler reads. */
PC_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PC_HOOK_MAX);
	__type(key, __u32);
	__type(value, struct pc_hook_stats);
} pc_global SEC(".maps");

/*
 * The class of a TCP segment by its FIN, SYN, RST and ACK bits: a SYN that also carries RST
 * or FIN is no connection request (a listener discards it: tcp_rcv_state_process) and no
 * answer, however a scanner sets its other bits; PSH, URG, ECE and CWR do not change what a
 * segment is. UDP's "flags" are 0: OTHER.
 *
 * Computed in registers, from a 64-bit constant: nibble i holds 1 + the class of the flags
 * whose FIN, SYN and RST are i's bits 0-2 and ACK its bit 3. No load: a table in .rodata
 * cost as much as the port table's read (measured, issue 10). pc_cls_off() gives the
 * class's byte offset in struct pc_hook_counters (8 * (1 + class)).
 */
#define PC_CLS_OF(f)                                                                               \
	(((f)&PC_TCP_SYN)   ? (((f) & (PC_TCP_RST | PC_TCP_FIN)) ? PC_CLS_BADFLAGS                 \
			       : ((f)&PC_TCP_ACK)		 ? PC_CLS_SYNACK                   \
								 : PC_CLS_SYN)                                    \
	 : ((f)&PC_TCP_RST) ? PC_CLS_RST                                                           \
			    : PC_CLS_OTHER)
#define PC_CLS_NIBBLE(i) ((__u64)(1 + PC_CLS_OF(((i)&7) | (((i)&8) << 1))) << (4 * (i)))
#define PC_CLS_NIBBLES                                                                             \
	(PC_CLS_NIBBLE(0) | PC_CLS_NIBBLE(1) | PC_CLS_NIBBLE(2) | PC_CLS_NIBBLE(3) |               \
	 PC_CLS_NIBBLE(4) | PC_CLS_NIBBLE(5) | PC_CLS_NIBBLE(6) | PC_CLS_NIBBLE(7) |               \
	 PC_CLS_NIBBLE(8) | PC_CLS_NIBBLE(9) | PC_CLS_NIBBLE(10) | PC_CLS_NIBBLE(11) |             \
	 PC_CLS_NIBBLE(12) | PC_CLS_NIBBLE(13) | PC_CLS_NIBBLE(14) | PC_CLS_NIBBLE(15))
_Static_assert(PC_CLS_NIBBLES == 0x5544531155445211ULL, "the class nibbles");

/* A byte offset into struct pc_hook_counters, bounded for the verifier (within cls[]). */
#define PC_CLS_OFF_MASK 0x38

static __always_inline __u32 pc_cls_off(__u32 flags)
{
	__u32 i = (flags & (PC_TCP_FIN | PC_TCP_SYN | PC_TCP_RST)) | ((flags & PC_TCP_ACK) >> 1);

	return (__u32)((PC_CLS_NIBBLES >> (i << 2)) << 3) & PC_CLS_OFF_MASK;
}

/*
 * Count a packet of class-offset `off` (pc_cls_off() or the ICMP class's) on one slot, at
 * one hook. Counters are per CPU (the entry of this CPU) and a program runs to completion on
 * one CPU, so plain increments are enough: no atomics, no locks.
 */
static __always_inline void pc_bump(__u32 slot, __u32 off, __u64 bytes, __u32 segs, const int hook)
{
	/* this CPU's entry; a program runs on one CPU start to end (no preemption) */
	__u32 key = PC_COUNTERS_KEY(bpf_get_smp_processor_id(), slot);
	struct pc_slot_counters *c;
	struct pc_hook_counters *h;

	c = bpf_map_lookup_elem(&pc_counters, &key);
	if (!c)
		return;
	h = &c->hook[hook];
	h->bytes += bytes;
	*(__u64 *)((void *)h + (off & PC_CLS_OFF_MASK)) += segs;
}

/*
 * A packet that names a monitored IN port by one of its ports and a monitored OUT port by
 * the other is counted on both slots, and its second count noted in the hook's dup[], so
 * that user space counts it once in the hook's totals. Rare (NTP, IKE, BGP peers): out of
 * line, so it costs the fast path no registers.
 */
static __noinline void pc_count_both(__u32 s_in, __u32 s_out, __u32 off_hook, __u64 bytes,
				     __u32 segs)
{
	/* five arguments at most for a BPF-to-BPF call: the class offset and the hook in one */
	__u32 off = off_hook & 0xff, key = off_hook >> 8;
	struct pc_hook_stats *g;

	/* hook is 0..2; each value its own call, so that pc_bump's hook stays a constant */
	if (key == PC_HOOK_XDP) {
		pc_bump(s_in, off, bytes, segs, PC_HOOK_XDP);
		pc_bump(s_out, off, bytes, segs, PC_HOOK_XDP);
	} else if (key == PC_HOOK_TC_INGRESS) {
		pc_bump(s_in, off, bytes, segs, PC_HOOK_TC_INGRESS);
		pc_bump(s_out, off, bytes, segs, PC_HOOK_TC_INGRESS);
	} else {
		pc_bump(s_in, off, bytes, segs, PC_HOOK_TC_EGRESS);
		pc_bump(s_out, off, bytes, segs, PC_HOOK_TC_EGRESS);
	}
	g = bpf_map_lookup_elem(&pc_global, &key);
	if (g)
		*(__u64 *)((void *)&g->dup[0] + ((off - 8) & PC_CLS_OFF_MASK)) += segs;
}

/*
 * Count a TCP/UDP packet or an ICMP error (its ports pre-swapped by the parser) on its slot.
 * Ingress: dport → IN slot, sport → OUT slot; egress: sport → IN, dport → OUT; ports in
 * network byte order, as the table is indexed (no byte swap on the fast path). A packet of no
 * monitored port has both slots 0 and counts on slot 0, so every packet takes the same path:
 * two table reads, one lookup, two increments. `proto` is p->proto, or a constant where the
 * caller knows it (pc_count_fast); `off` is the class's offset; bytes 0 for an ICMP error;
 * segs the packets it stands for: 1, or at TC a GSO/GRO skb's segments (the class counts
 * wire packets, so a coalesced stream of 45 segments is 45 packets, not one).
 */
static __always_inline void pc_count(const struct pc_pkt *p, int proto, __u32 off, __u64 bytes,
				     __u32 segs, const int hook)
{
	const bool egress = hook == PC_HOOK_TC_EGRESS;
	__u32 s_in, s_out;

	/* proto is 0 or 1 by construction; the masks make the bounds visible to the verifier */
	s_in = pc_port_table.slot[egress ? p->sport : p->dport][proto & 1][PC_DIR_IN];
	s_out = pc_port_table.slot[egress ? p->dport : p->sport][proto & 1][PC_DIR_OUT];
	/*
	 * The one-slot case laid out as the straight line: left to itself clang makes the rare
	 * two-slot call the fall-through, and every packet jumps to its increment; now only a
	 * packet of no monitored port jumps, over the second test.
	 */
	if (__builtin_expect(!s_in || !s_out, 1)) {
		pc_bump(s_in | s_out, off, bytes, segs, hook);
		return;
	}
	pc_count_both(s_in, s_out, off | hook << 8, bytes, segs);
}

/*
 * Count what pc_parse_fast() accepted; r is what it returned (-1: nothing counted, the slow
 * path's frame). One copy of the counting per protocol, each with its protocol a constant:
 * the port table's rows are then fixed addresses, and UDP, always class OTHER, computes no
 * class: 14 of the 86 instructions a UDP datagram ran, 3 of a TCP segment's 89
 * (scripts/bench.sh --count).
 */
static __always_inline int pc_count_fast(int r, const struct pc_pkt *p, __u64 bytes, __u32 segs,
					 const int hook)
{
	if (r == PC_PROTO_TCP)
		pc_count(p, PC_PROTO_TCP, pc_cls_off(p->tcp_flags), bytes, segs, hook);
	else if (r == PC_PROTO_UDP)
		pc_count(p, PC_PROTO_UDP, 8 + 8 * PC_CLS_OTHER, bytes, segs, hook);
	else
		return -1;
	return 0;
}

/* The hook's off-path counter of one category (a field of struct pc_hook_stats). */
#define pc_stat(hook, field)                                                                       \
	do {                                                                                       \
		__u32 __k = (hook);                                                                \
		struct pc_hook_stats *__g = bpf_map_lookup_elem(&pc_global, &__k);                 \
		if (__g)                                                                           \
			__g->field++;                                                              \
	} while (0)

/* Count what pc_parse() concluded about a packet the fast path did not take. */
static __always_inline void pc_account(const struct pc_pkt *p, __u64 bytes, __u32 segs,
				       const int hook)
{
	switch (p->verdict) {
	case PC_V_L4:
		pc_count(p, p->proto, pc_cls_off(p->tcp_flags), bytes, segs, hook);
		break;
	case PC_V_ICMP_ERR:
		pc_count(p, p->proto, 8 + 8 * PC_CLS_ICMP_UNREACH, 0, 1, hook);
		break;
	case PC_V_ICMP_NOPORT:
		pc_stat(hook, icmp_noport);
		break;
	case PC_V_NOT_IP:
		pc_stat(hook, not_ip);
		break;
	case PC_V_FRAG:
		pc_stat(hook, frag_nonfirst);
		break;
	case PC_V_OTHER:
		pc_stat(hook, other_l4);
		break;
	default:
		pc_stat(hook, malformed);
		break;
	}
}

#endif /* PC_COUNTERS_BPF_H */
