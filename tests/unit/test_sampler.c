// SPDX-License-Identifier: GPL-2.0
/* test_sampler.c: per-CPU sums, deltas across a slot reset, and /proc/net/tcp listener parsing. */
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
	struct pc_counters pc[3] = {}, out;
	struct pc_global g[2] = {}, gout;

	(void)state;
	pc[0].rx_syn = 1;
	pc[1].rx_syn = 10;
	pc[2].rx_syn = 100;
	pc[2].tx_icmp_unreach = 5;
	pc[1].rx_bytes = 1ull << 40;
	pc_counters_sum(pc, 3, &out);
	assert_int_equal(out.rx_syn, 111);
	assert_int_equal(out.tx_icmp_unreach, 5);
	assert_int_equal(out.rx_bytes, 1ull << 40);
	assert_int_equal(out.tx_synack, 0);
	g[0].malformed = 2;
	g[1].malformed = 3;
	g[1].packets = 9;
	pc_global_sum(g, 2, &gout);
	assert_int_equal(gout.malformed, 5);
	assert_int_equal(gout.packets, 9);
}

static void test_delta(void **state)
{
	struct pc_counters prev = {.rx_syn = 100, .tx_synack = 90};
	struct pc_counters cur = {.rx_syn = 150, .tx_synack = 20}, d;

	(void)state;
	pc_counters_delta(&cur, &prev, &d);
	assert_int_equal(d.rx_syn, 50);
	assert_int_equal(d.tx_synack, 20); /* went back: a fresh slot, counts from 0 */
	assert_int_equal(d.rx_rst, 0);
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
		cmocka_unit_test(test_sum_percpu),
		cmocka_unit_test(test_delta),
		cmocka_unit_test(test_listeners),
	};

	return cmocka_run_group_tests_name("sampler", tests, NULL, NULL);
}
