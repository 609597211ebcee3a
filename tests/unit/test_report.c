// SPDX-License-Identifier: GPL-2.0
/* test_report.c: the status JSON document (types and names of the contract) and its table. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "portcanary.h"
#include "report.h"

static struct pc_port_view sample_views[2];

static int setup(void **state)
{
	(void)state;
	memset(sample_views, 0, sizeof(sample_views));
	sample_views[0] = (struct pc_port_view){
		.port = 443,
		.proto = PC_PROTO_TCP,
		.dir = PC_DIR_IN,
		.state = "down",
		.cause = "netfilter_drop",
		.detail = "nftables dropped 48 of 50 SYNs (drop)",
		.since = 1795000000.25,
		.syn_rate = 50,
		.answered_ratio = 0.04,
		.baseline_rate = 49.5,
		.drops_rate = 48,
		.drops_total = 96,
	};
	static const float hist[3] = {0, 25, 50};

	sample_views[0].top_drop_reason = "NETFILTER_DROP";
	sample_views[0].top_drop_rate = 48;
	sample_views[0].history = hist;
	sample_views[0].n_history = 3;
	sample_views[0].total.rx_syn = 1000;
	sample_views[0].total.tx_synack = 900;
	sample_views[0].total.tx_rst = 3;
	sample_views[0].total.rx_packets = 5000;
	sample_views[0].total.tx_packets = 4000;
	sample_views[0].total.rx_bytes = 300000;
	sample_views[0].total.tx_bytes = 200000;
	sample_views[1] = (struct pc_port_view){
		.port = 5432,
		.proto = PC_PROTO_TCP,
		.dir = PC_DIR_OUT,
		.state = "unknown",
		.syn_rate = NAN,
		.answered_ratio = NAN,
		.baseline_rate = NAN,
		.drops_rate = NAN,
	};
	sample_views[1].total.tx_syn = 7;
	sample_views[1].total.rx_synack = 6;
	sample_views[1].total.rx_rst = 1;
	sample_views[1].total.rx_icmp_unreach = 2;
	return 0;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("key '%s' missing", key);
	return v;
}

static void test_status_document(void **state)
{
	struct pc_iface_view ifs[1] = {{.name = "eth0",
					.ifindex = 2,
					.ingress = "xdp",
					.xdp_mode = "native",
					.driver = "ice",
					.reason = "native_xdp",
					.why = "ice has native XDP"}};
	struct pc_status_meta m = {.interval = 1, .ifaces = ifs, .n_ifaces = 1};
	struct json_object *doc, *ports, *p, *q;

	(void)state;
	doc = pc_report_status(&m, sample_views, 2);
	ports = get(doc, "ports");
	assert_int_equal(json_object_array_length(ports), 2);

	p = json_object_array_get_idx(ports, 0);
	assert_true(json_object_is_type(get(p, "port"), json_type_int));
	assert_int_equal(json_object_get_int(get(p, "port")), 443);
	assert_string_equal(json_object_get_string(get(p, "proto")), "tcp");
	assert_string_equal(json_object_get_string(get(p, "direction")), "in");
	assert_string_equal(json_object_get_string(get(p, "state")), "down");
	assert_string_equal(json_object_get_string(get(p, "cause")), "netfilter_drop");
	assert_string_equal(json_object_get_string(get(p, "since")), "2026-11-18T11:06:40.250Z");
	assert_true(json_object_get_double(get(p, "syn_rate")) == 50.0);
	assert_true(json_object_get_double(get(p, "answered_ratio")) == 0.04);
	assert_true(json_object_get_double(get(p, "baseline_rate")) == 49.5);
	assert_int_equal(json_object_get_int64(get(p, "drops_total")), 96);
	/* inbound: requests are SYNs in, answers go out */
	assert_int_equal(json_object_get_int64(get(p, "syn_total")), 1000);
	assert_int_equal(json_object_get_int64(get(p, "synack_total")), 900);
	assert_int_equal(json_object_get_int64(get(p, "rst_total")), 3);
	assert_int_equal(json_object_get_int64(get(p, "packets_total")), 9000);
	assert_int_equal(json_object_get_int64(get(p, "bytes_total")), 500000);

	q = json_object_array_get_idx(ports, 1);
	assert_string_equal(json_object_get_string(get(q, "direction")), "out");
	/* outbound: requests are SYNs out, answers come in */
	assert_int_equal(json_object_get_int64(get(q, "syn_total")), 7);
	assert_int_equal(json_object_get_int64(get(q, "synack_total")), 6);
	assert_int_equal(json_object_get_int64(get(q, "rst_total")), 1);
	assert_int_equal(json_object_get_int64(get(q, "icmp_unreach_total")), 2);
	/* unknown numbers are null, never NaN (which JSON cannot carry) */
	assert_null(get(q, "syn_rate"));
	assert_null(get(q, "answered_ratio"));
	assert_null(get(q, "baseline_rate"));
	assert_null(get(q, "cause"));
	assert_null(get(q, "since"));

	p = json_object_array_get_idx(get(doc, "interfaces"), 0);
	assert_string_equal(json_object_get_string(get(p, "xdp_mode")), "native");
	assert_string_equal(json_object_get_string(get(p, "ingress")), "xdp");
	assert_string_equal(json_object_get_string(get(p, "driver")), "ice");
	assert_string_equal(json_object_get_string(get(p, "reason")), "native_xdp");
	assert_string_equal(json_object_get_string(get(p, "why")), "ice has native XDP");
	assert_null(get(p, "kind"));
	assert_null(get(p, "xdp_ahead"));
	assert_false(json_object_get_boolean(get(p, "adopted")));
	assert_non_null(strstr(json_object_to_json_string(doc), "\"ports\""));
	json_object_put(doc);
}

static void test_table(void **state)
{
	/* Interfaces of one daemon may differ: one line each, with its hook and why. */
	struct pc_iface_view ifs[2] = {
		{.name = "eth0",
		 .ingress = "xdp",
		 .xdp_mode = "native",
		 .why = "ice has native XDP"},
		{.name = "veth7",
		 .ingress = "tc",
		 .adopted = true,
		 .why = "native XDP on veth would take TSO/GSO off its peer",
		 .xdp_ahead = "'xdpfilt_alw_all' (id 7)"},
	};
	struct pc_status_meta m = {.interval = 1, .ifaces = ifs, .n_ifaces = 2};
	/* and a DNS server: UDP has no SYNs; its rate and share are its datagrams' */
	struct pc_port_view views[3] = {sample_views[0],
					sample_views[1],
					{.port = 53,
					 .proto = PC_PROTO_UDP,
					 .dir = PC_DIR_IN,
					 .state = "ok",
					 .syn_rate = 6,
					 .answered_ratio = 1,
					 .baseline_rate = 6,
					 .drops_rate = 0}};
	struct json_object *doc;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	doc = pc_report_status(&m, sample_views, 2);
	f = open_memstream(&buf, &len);
	assert_int_equal(pc_report_table(f, doc, true), 0);
	fclose(f);
	assert_null(strstr(buf, "udp ports:"));
	free(buf);
	json_object_put(doc);
	doc = pc_report_status(&m, views, 3);
	f = open_memstream(&buf, &len);
	assert_int_equal(pc_report_table(f, doc, true), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\nudp ports: SYN/s counts datagrams, ANSWERED is the share "
				    "that got through; they have no SYN or SYN-ACK\n"));
	assert_non_null(strstr(buf, "100.0%"));
	/* its SYN and SYN-ACK columns say "none", not 0 */
	assert_non_null(strstr(buf, "        -          -\n"));
	assert_non_null(strstr(buf, "PORT"));
	assert_non_null(strstr(buf, "tcp/443:in      down      netfilter_drop"));
	assert_non_null(strstr(buf, "48.0 (NETFILTER_DROP)"));
	assert_non_null(strstr(buf, "▁▅█"));
	assert_non_null(strstr(buf, "4.0%"));
	assert_non_null(strstr(buf, "nftables dropped 48 of 50 SYNs (drop)"));
	assert_non_null(strstr(buf, "tcp/5432:out    unknown"));
	assert_non_null(strstr(
		buf, "interfaces:\n"
		     "  eth0            xdp native ingress  + tc egress: ice has native XDP\n"
		     "  veth7           tc ingress          + tc egress (adopted): native XDP "
		     "on veth would take TSO/GSO off its peer\n"
		     "                  XDP program 'xdpfilt_alw_all' (id 7) runs ahead: "
		     "what it drops is not counted\n"));
	free(buf);
	json_object_put(doc);

	doc = json_tokener_parse("{\"ports\": 3}");
	f = open_memstream(&buf, &len);
	assert_int_equal(pc_report_table(f, doc, false), -22);
	fclose(f);
	free(buf);
	json_object_put(doc);
}

/* A port down by the firewall: its rule in the document and under its table row. */
static void test_rule(void **state)
{
	struct pc_rule_view rule = {.family = "inet",
				    .table = "filter",
				    .chain = "input",
				    .has_handle = true,
				    .handle = 7,
				    .text = "tcp dport 443 drop"};
	struct pc_status_meta m = {.interval = 1};
	struct json_object *doc, *p, *r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	sample_views[0].rule = &rule;
	sample_views[1].rule_note = "its path reads a packet mark";
	doc = pc_report_status(&m, sample_views, 2);
	p = json_object_array_get_idx(get(doc, "ports"), 0);
	r = get(p, "rule");
	assert_int_equal(json_object_get_int64(get(r, "handle")), 7);
	assert_string_equal(json_object_get_string(get(r, "text")), "tcp dport 443 drop");
	assert_false(json_object_object_get_ex(p, "rule_note", NULL));
	p = json_object_array_get_idx(get(doc, "ports"), 1);
	assert_null(get(p, "rule"));
	assert_string_equal(json_object_get_string(get(p, "rule_note")),
			    "its path reads a packet mark");
	f = open_memstream(&buf, &len);
	assert_int_equal(pc_report_table(f, doc, false), 0);
	fclose(f);
	assert_non_null(
		strstr(buf, "\n    rule: inet filter input handle 7: tcp dport 443 drop\n"));
	assert_non_null(strstr(buf, "\n    rule: unknown: its path reads a packet mark\n"));
	free(buf);
	json_object_put(doc);
}

static void test_time_format(void **state)
{
	char buf[40];

	(void)state;
	pc_format_time(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	pc_format_time(1795000000.999, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-18T11:06:40.999Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_status_document, setup),
		cmocka_unit_test_setup(test_table, setup),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test_setup(test_rule, setup),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
