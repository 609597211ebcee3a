// SPDX-License-Identifier: GPL-2.0
/* portcanary.bpf.c: the datapath programs: XDP ingress, TC ingress and TC egress counters. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
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
 * The two per-packet lookups with constant keys, done first (see pc_account).
 * Returns 0, or -1 if a map is missing, which cannot happen once loaded.
 */
static __always_inline int pc_maps(__u32 hook, struct pc_port_table **t, struct pc_global **g)
{
	__u32 zero = 0;

	*t = bpf_map_lookup_elem(&pc_ports, &zero);
	*g = bpf_map_lookup_elem(&pc_global, &hook);
	return *t && *g ? 0 : -1;
}

/*
 * Everything pc_parse_fast() leaves: the general walk and accounting. A function of
 * its own (a BPF-to-BPF call, a few instructions on this rare path) so that the
 * registers it needs across its map lookups do not push the fast path's into
 * stack slots: clang allocates registers per function.
 */
static __noinline int pc_xdp_slow(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pc_cursor c = {.pos = data, .end = data_end, .rem = data_end - data};
	struct pc_port_table *t;
	struct pc_global *g;
	struct pc_pkt p;

	if (pc_maps(PC_HOOK_XDP, &t, &g))
		return 0;
	pc_parse(&c, &p);
	pc_account(t, g, &p, data_end - data, false);
	return 0;
}

SEC("xdp")
int pc_xdp_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pc_pkt p;

	/* the common frames: parse first, then the lookups (see pc_account_l4) */
	if (!pc_parse_fast(data, data_end, data_end - data, &p))
		pc_account_l4(&p, data_end - data, PC_HOOK_XDP, false);
	else
		pc_xdp_slow(ctx);
	return XDP_PASS;
}

/*
 * TC sees skbs whose headers can straddle the end of the linear data (GRO,
 * tunnels). Direct packet access reads only the linear part, so a packet that
 * parses as malformed while the skb holds more bytes is made linear for its first
 * bytes and parsed again. Pulling changes where the bytes live, never what they are;
 * doing it only after a failed parse keeps the common path (headers linear, payload
 * in fragments, skb often a clone at egress) free of any copy.
 */
static __always_inline void pc_tc(struct __sk_buff *skb, __u32 hook, bool egress)
{
	struct pc_port_table *t;
	struct pc_global *g;
	struct pc_cursor c;
	struct pc_pkt p;
	__u32 pull;

	c.pos = (void *)(long)skb->data;
	c.end = (void *)(long)skb->data_end;
	c.rem = skb->len;
	if (!pc_parse_fast(c.pos, c.end, c.rem, &p)) {
		pc_account_l4(&p, skb->len, hook, egress);
		return;
	}
	if (pc_maps(hook, &t, &g))
		return;
	pc_parse(&c, &p);
	if (p.verdict == PC_V_MALFORMED && skb->data_end - skb->data < skb->len) {
		pull = skb->len < PC_TC_PULL_MAX ? skb->len : PC_TC_PULL_MAX;
		if (skb->data_end - skb->data < pull && !bpf_skb_pull_data(skb, pull)) {
			c.pos = (void *)(long)skb->data;
			c.end = (void *)(long)skb->data_end;
			c.rem = skb->len;
			pc_parse(&c, &p);
		}
	}
	pc_account(t, g, &p, skb->len, egress);
}

SEC("tc")
int pc_tc_ingress(struct __sk_buff *skb)
{
	pc_tc(skb, PC_HOOK_TC_INGRESS, false);
	return TC_ACT_OK;
}

SEC("tc")
int pc_tc_egress(struct __sk_buff *skb)
{
	pc_tc(skb, PC_HOOK_TC_EGRESS, true);
	return TC_ACT_OK;
}
