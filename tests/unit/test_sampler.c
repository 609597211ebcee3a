// SPDX-License-Identifier: GPL-2.0
/* test_sampler.c: per-CPU sums, derived port and hook counts, deltas, /proc/net/tcp listeners. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "netinfo.h"
#include "portcanary.h"
#include "sampler.h"

static void test_sum_percpu(void **state)
{
	struct pc_slot_counters pc[3] = {}, out;
	struct pc_hook_stats g[2] = {}, gout;

	(void)state;
	pc[0].hook[PC_HOOK_XDP].cls[PC_CLS_SYN] = 1;
	pc[1].hook[PC_HOOK_XDP].cls[PC_CLS_SYN] = 10;
	pc[2].hook[PC_HOOK_XDP].cls[PC_CLS_SYN] = 100;
	pc[2].hook[PC_HOOK_TC_EGRESS].cls[PC_CLS_ICMP_UNREACH] = 5;
	pc[1].hook[PC_HOOK_TC_INGRESS].bytes = 1ull << 40;
	pc_slot_sum(pc, 3, 1, &out); /* three CPUs, consecutive */
	assert_int_equal(out.hook[PC_HOOK_XDP].cls[PC_CLS_SYN], 111);
	assert_int_equal(out.hook[PC_HOOK_TC_EGRESS].cls[PC_CLS_ICMP_UNREACH], 5);
	assert_int_equal(out.hook[PC_HOOK_TC_INGRESS].bytes, 1ull << 40);
	assert_int_equal(out.hook[PC_HOOK_TC_EGRESS].cls[PC_CLS_SYNACK], 0);
	g[0].malformed = 2;
	g[1].malformed = 3;
	g[1].dup[PC_CLS_OTHER] = 9;
	pc_hook_stats_sum(g, 2, &gout);
	assert_int_equal(gout.malformed, 5);
	assert_int_equal(gout.dup[PC_CLS_OTHER], 9);
}

/* A port's view: ingress is XDP and TC ingress together; packets are every class but ICMP. */
static void test_port_view(void **state)
{
	struct pc_slot_counters raw = {};
	struct pc_counters v;

	(void)state;
	raw.hook[PC_HOOK_XDP].cls[PC_CLS_SYN] = 7;
	raw.hook[PC_HOOK_TC_INGRESS].cls[PC_CLS_SYN] = 3;
	raw.hook[PC_HOOK_XDP].cls[PC_CLS_OTHER] = 20;
	raw.hook[PC_HOOK_XDP].cls[PC_CLS_BADFLAGS] = 2;
	raw.hook[PC_HOOK_XDP].cls[PC_CLS_ICMP_UNREACH] = 4;
	raw.hook[PC_HOOK_XDP].bytes = 1000;
	raw.hook[PC_HOOK_TC_INGRESS].bytes = 500;
	raw.hook[PC_HOOK_TC_EGRESS].cls[PC_CLS_SYNACK] = 9;
	raw.hook[PC_HOOK_TC_EGRESS].cls[PC_CLS_RST] = 1;
	raw.hook[PC_HOOK_TC_EGRESS].bytes = 740;
	pc_counters_from_slot(&raw, &v);
	assert_int_equal(v.rx_syn, 10);
	assert_int_equal(v.rx_packets, 32); /* 10 SYN + 20 other + 2 bad flags, not the 4 ICMP */
	assert_int_equal(v.rx_badflags, 2);
	assert_int_equal(v.rx_icmp_unreach, 4);
	assert_int_equal(v.rx_bytes, 1500);
	assert_int_equal(v.rx_synack, 0);
	assert_int_equal(v.tx_synack, 9);
	assert_int_equal(v.tx_rst, 1);
	assert_int_equal(v.tx_packets, 10);
	assert_int_equal(v.tx_bytes, 740);
	assert_int_equal(v.tx_syn, 0);
}

/* A hook's totals: slots' classes, less what was counted twice, plus the off-path categories. */
static void test_global_derive(void **state)
{
	struct pc_hook_counters all = {}, slot0 = {};
	struct pc_hook_stats st = {};
	struct pc_global g;

	(void)state;
	/* 100 packets of no monitored port (5 with bad flags), 40 of monitored ports, of which
	 * 3 were counted on two slots (IN by one port, OUT by the other); 2 ICMP errors about
	 * a monitored port, 1 about a packet without ports; 6 malformed, 1 not IP. */
	slot0.cls[PC_CLS_OTHER] = 95;
	slot0.cls[PC_CLS_BADFLAGS] = 5;
	all = slot0;
	all.cls[PC_CLS_SYN] += 43;
	all.cls[PC_CLS_ICMP_UNREACH] += 2;
	st.dup[PC_CLS_SYN] = 3;
	st.icmp_noport = 1;
	st.malformed = 6;
	st.not_ip = 1;
	pc_global_derive(&all, &slot0, &st, &g);
	assert_int_equal(g.packets, 100 + 40 + 2 + 1 + 6 + 1);
	assert_int_equal(g.monitored, 40 + 2);
	assert_int_equal(g.icmp_errors, 3);
	assert_int_equal(g.invalid_flags, 5);
	assert_int_equal(g.malformed, 6);
	assert_int_equal(g.not_ip, 1);

	/* the drop hook counts its own totals */
	memset(&st, 0, sizeof(st));
	st.seen = 12;
	st.monitored = 4;
	st.foreign_netns = 7;
	pc_global_derive(NULL, NULL, &st, &g);
	assert_int_equal(g.packets, 12);
	assert_int_equal(g.monitored, 4);
	assert_int_equal(g.foreign_netns, 7);
	assert_int_equal(g.invalid_flags, 0);
}

static void test_delta(void **state)
{
	struct pc_slot_counters prev = {}, cur = {}, d;
	struct pc_counters vp = {.rx_syn = 100, .tx_synack = 90};
	struct pc_counters vc = {.rx_syn = 150, .tx_synack = 20}, vd;

	(void)state;
	prev.hook[PC_HOOK_XDP].cls[PC_CLS_SYN] = 100;
	prev.hook[PC_HOOK_TC_EGRESS].cls[PC_CLS_SYNACK] = 90;
	cur.hook[PC_HOOK_XDP].cls[PC_CLS_SYN] = 150;
	cur.hook[PC_HOOK_TC_EGRESS].cls[PC_CLS_SYNACK] = 20;
	pc_slot_delta(&cur, &prev, &d);
	assert_int_equal(d.hook[PC_HOOK_XDP].cls[PC_CLS_SYN], 50);
	/* went back: a fresh slot, counts from 0 */
	assert_int_equal(d.hook[PC_HOOK_TC_EGRESS].cls[PC_CLS_SYNACK], 20);
	assert_int_equal(d.hook[PC_HOOK_TC_EGRESS].cls[PC_CLS_RST], 0);
	pc_counters_delta(&vc, &vp, &vd);
	assert_int_equal(vd.rx_syn, 50);
	assert_int_equal(vd.tx_synack, 20);
	assert_int_equal(vd.rx_rst, 0);
}

static void test_listeners(void **state)
{
	static const char text[] =
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   "
		"uid\n"
		"   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0\n"
		"   1: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0\n"
		"   2: 0200A8C0:1F90 0100A8C0:D431 01 00000000:00000000 00:00000000 00000000 0\n"
		"   3: 0200A8C0:2710 0100A8C0:D432 06 00000000:00000000 00:00000000 00000000 0\n"
		"   4: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 "
		"0A 0\n"
		"   5: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0\n";
	unsigned char *seen = calloc(PC_NR_PORTS, 1);

	(void)state;
	assert_int_equal(pc_parse_proc_net_tcp(text, seen), 3);
	assert_int_equal(seen[8080], 1);
	assert_int_equal(seen[22], 1);
	assert_int_equal(seen[443], 1);
	assert_int_equal(seen[10000], 0); /* TIME_WAIT, not a listener */
	assert_int_equal(pc_parse_proc_net_tcp("garbage\n\n", seen), 0);
	free(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sum_percpu),    cmocka_unit_test(test_port_view),
		cmocka_unit_test(test_global_derive), cmocka_unit_test(test_delta),
		cmocka_unit_test(test_listeners),
	};

	return cmocka_run_group_tests_name("sampler", tests, NULL, NULL);
}
