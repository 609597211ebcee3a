// SPDX-License-Identifier: GPL-2.0
/* portcanary.bpf.c: the datapath programs: XDP ingress, TC ingress and TC egress counters. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <xdp/xdp_helpers.h>
#include "portcanary.h"
#include "compat.bpf.h"
#include "parse.bpf.h"
#include "counters.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * libxdp's dispatcher reads this: run early (a low number) so that programs that
 * drop (filters, load balancers) cannot hide packets from the canary, and go on
 * to the next program on XDP_PASS, which is all we ever return.
 */
#define PC_XDP_RUN_PRIO 5
struct {
	__uint(priority, PC_XDP_RUN_PRIO);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(pc_xdp_ingress);

/* How much of a non-linear skb we make linear when its headers straddle the linear end. */
#define PC_TC_PULL_MAX 256

/*
 * The frame's length. Where the kernel can, the loader makes the program frags-aware
 * (pc_bpf_prepare): a frame longer than a buffer (a jumbo MTU, receive coalescing into XDP)
 * then comes in several, and direct access reaches the first, which holds the headers. Its
 * length is less than the frame's, so the fast path's length checks (the IP lengths within
 * it) send such a frame here, where the kernel gives the whole. Before 5.18 there is one
 * buffer, and no helper to ask.
 */
static __always_inline __u64 pc_xdp_len(struct xdp_md *ctx)
{
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_xdp_get_buff_len))
		return bpf_xdp_get_buff_len(ctx);
	return ctx->data_end - ctx->data;
}

/*
 * Everything pc_parse_fast() leaves: the general walk (two tags, IPv4 options, IPv6
 * extension headers, ICMP errors, every malformed frame) and its accounting. A function of
 * its own (a BPF-to-BPF call, a few instructions on this rare path) so that the registers
 * it needs do not push the fast path's into stack slots: clang allocates registers per
 * function.
 */
static __noinline int pc_xdp_slow(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = pc_xdp_len(ctx);
	struct pc_cursor c = {.pos = data, .end = data_end, .rem = len};
	struct pc_pkt p;

	pc_parse(&c, &p, false);
	pc_account(&p, len, 1, PC_HOOK_XDP);
	return 0;
}

/*
 * The fast path, start to end: parse the common frame shapes at fixed offsets, read the
 * two slots from the port table (global data: no lookup), one per-CPU lookup, add the
 * bytes and one to the packet's class. Nothing else is written: the hook's totals are
 * derived by user space from the slots (slot 0 takes the packets of no monitored port).
 */
SEC("xdp")
int pc_xdp_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pc_pkt p;

	if (pc_count_fast(pc_parse_fast(data, data_end, data_end - data, &p), &p, data_end - data,
			  1, PC_HOOK_XDP))
		pc_xdp_slow(ctx);
	return XDP_PASS;
}

/* The wire packets a TC skb stands for: its GSO segments (GRO at ingress, TSO/GSO at
 * egress), 1 for a plain skb (gso_segs 0 or 1). */
static __always_inline __u32 pc_segs(struct __sk_buff *skb)
{
	__u32 segs = skb->gso_segs;

	return segs ? segs : 1;
}

/*
 * The general parse of an skb (pc_parse() from its data, with its length). A global
 * function: the verifier checks it once, on its own, where a static one is checked again
 * in every caller's context at every call. pc_tc_slow() calls it twice (before and after a
 * pull) in each of two programs, which inlined made each TC program most of the verifier's
 * million-instruction budget (722,210 processed, kernel 6.18); other kernels prune less.
 * Returns p->verdict.
 */
__noinline int pc_tc_parse(struct __sk_buff *skb, struct pc_pkt *p)
{
	struct pc_cursor c;

	if (!p)
		return PC_V_MALFORMED;
	c.pos = (void *)(long)skb->data;
	c.end = (void *)(long)skb->data_end;
	c.rem = skb->len;
	pc_parse(&c, p, true);
	return p->verdict;
}

/*
 * TC sees skbs whose headers can straddle the end of the linear data (GRO,
 * tunnels). Direct packet access reads only the linear part, so a packet that
 * parses as malformed while the skb holds more bytes is made linear for its first
 * bytes and parsed again. Pulling changes where the bytes live, never what they are;
 * doing it only after a failed parse keeps the common path (headers linear, payload
 * in fragments, skb often a clone at egress) free of any copy.
 */
static __always_inline void pc_tc_slow(struct __sk_buff *skb, const int hook)
{
	struct pc_pkt p = {};
	__u32 pull;

	if (pc_tc_parse(skb, &p) == PC_V_MALFORMED && skb->data_end - skb->data < skb->len) {
		pull = skb->len < PC_TC_PULL_MAX ? skb->len : PC_TC_PULL_MAX;
		if (skb->data_end - skb->data < pull && !bpf_skb_pull_data(skb, pull))
			pc_tc_parse(skb, &p);
	}
	pc_account(&p, skb->len, pc_segs(skb), hook);
}

static __noinline int pc_tc_ingress_slow(struct __sk_buff *skb)
{
	pc_tc_slow(skb, PC_HOOK_TC_INGRESS);
	return 0;
}

static __noinline int pc_tc_egress_slow(struct __sk_buff *skb)
{
	pc_tc_slow(skb, PC_HOOK_TC_EGRESS);
	return 0;
}

/*
 * The TC programs: the same fast path as XDP's, with the skb's length. They return
 * TC_ACT_UNSPEC, "no verdict": the next filter on the hook runs as if we were not there, and
 * with none the packet goes on. TC_ACT_OK would be a verdict (pass, stop classifying): from
 * the head of the chain it would switch off every filter behind ours.
 */
static __always_inline int pc_tc(struct __sk_buff *skb, const int hook)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct pc_pkt p;

	if (!pc_count_fast(pc_parse_fast(data, data_end, skb->len, &p), &p, skb->len, pc_segs(skb),
			   hook))
		return TC_ACT_UNSPEC;
	if (hook == PC_HOOK_TC_EGRESS)
		pc_tc_egress_slow(skb);
	else
		pc_tc_ingress_slow(skb);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int pc_tc_ingress(struct __sk_buff *skb)
{
	return pc_tc(skb, PC_HOOK_TC_INGRESS);
}

SEC("tc")
int pc_tc_egress(struct __sk_buff *skb)
{
	return pc_tc(skb, PC_HOOK_TC_EGRESS);
}
