// SPDX-License-Identifier: GPL-2.0
/* empty.bpf.c: the benchmark's baseline, an XDP program that only passes the packet. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int bench_empty(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}
