// SPDX-License-Identifier: GPL-2.0
/* tc_linear.bpf.c: test-only probes on either side of the TC programs: how much of a
 * frame is linear when it reaches them, and when they are done with it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define TC_ACT_UNSPEC (-1)

char LICENSE[] SEC("license") = "GPL";

/* Frames shorter than this are not the test's (the probes run on every frame). */
#define PROBE_MIN_LEN 1000

/* What a probe saw of the test's frames; the test's C side has the same layout. */
struct probe_seen {
	__u32 frames;
	__u32 linear; /* data_end - data of the last one */
	__u32 len;    /* skb->len of the last one */
	__u32 pad;
};

/* probe_seen: enum tc_probe (below) → what that probe saw; the probes write, the test reads. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct probe_seen);
} probe_seen SEC(".maps");

enum tc_probe { BEFORE_IN, AFTER_IN, BEFORE_OUT, AFTER_OUT };

static __always_inline int record(struct __sk_buff *skb, __u32 which)
{
	struct probe_seen *s;

	if (skb->len < PROBE_MIN_LEN)
		return TC_ACT_UNSPEC;
	s = bpf_map_lookup_elem(&probe_seen, &which);
	if (s) {
		s->linear = skb->data_end - skb->data;
		s->len = skb->len;
		__sync_fetch_and_add(&s->frames, 1);
	}
	/* no verdict: the next filter on the hook (portcanary's, or nothing) runs */
	return TC_ACT_UNSPEC;
}

SEC("tc")
int before_in(struct __sk_buff *skb)
{
	return record(skb, BEFORE_IN);
}

SEC("tc")
int after_in(struct __sk_buff *skb)
{
	return record(skb, AFTER_IN);
}

SEC("tc")
int before_out(struct __sk_buff *skb)
{
	return record(skb, BEFORE_OUT);
}

SEC("tc")
int after_out(struct __sk_buff *skb)
{
	return record(skb, AFTER_OUT);
}
