// SPDX-License-Identifier: GPL-2.0
/* empty_tc.bpf.c: the drop benchmark's floor, a TC program that gives no verdict: what the
 * kernel's TC ingress hook costs before portcanary's program does anything. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "compat.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tc")
int bench_empty_tc(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_UNSPEC;
}
