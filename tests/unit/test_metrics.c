// SPDX-License-Identifier: GPL-2.0
/* test_metrics.c: the Prometheus exposition: exact lines, escaping, HELP/TYPE, labels. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "portcanary.h"

static struct pc_port_view views[3];
static struct pc_metrics_port ports[3];
static struct pc_global global[PC_HOOK_MAX];
static const struct pc_alert_drop drops443[] = {
	{"NETFILTER_DROP", 40},
	{"NO_SOCKET", 3},
	{"NETFILTER_DROP", 8},
	{NULL, 99},
};
static const char *const zero[] = {
	"NETFILTER_DROP",
	"TCP_LISTEN_OVERFLOW",
	"TCP_LISTEN_OVERFLOW",
};
static struct pc_iface_view ifaces[1] = {
	{.name = "eth0",
	 .ifindex = 2,
	 .ingress = "xdp",
	 .xdp_mode = "native",
	 .driver = "ice",
	 .reason = "native_xdp"},
};
static struct pc_metrics_input in;
static const struct pc_sampling_stats sampling = {.passes = 100, .total_s = 0.0625, .max_s = 0.004};

static int setup(void **state)
{
	int h;

	(void)state;
	memset(views, 0, sizeof(views));
	views[0] = (struct pc_port_view){
		.port = 443,
		.proto = PC_PROTO_TCP,
		.dir = PC_DIR_IN,
		.state = "down",
		.cause = "netfilter_drop",
		.since = 1795000000.25,
		.syn_rate = 50,
		.answered_ratio = 0.04,
		.baseline_rate = 49.5,
		.drops_total = 51,
	};
	views[0].total.rx_syn = 1000;
	views[0].total.tx_synack = 900;
	views[0].total.tx_rst = 3;
	views[0].total.tx_icmp_unreach = 2;
	views[0].total.tx_syn = 77;    /* not a request of an IN port */
	views[0].total.rx_synack = 66; /* not an answer of an IN port */
	views[0].total.rx_packets = 5000;
	views[0].total.tx_packets = 4000;
	views[0].total.rx_bytes = 300000;
	views[0].total.tx_bytes = 200000;
	views[1] = (struct pc_port_view){
		.port = 5432,
		.proto = PC_PROTO_TCP,
		.dir = PC_DIR_OUT,
		.state = NULL,
		.answered_ratio = NAN,
		.baseline_rate = NAN,
	};
	views[1].total.tx_syn = 7;
	views[1].total.rx_synack = 6;
	views[1].total.rx_rst = 1;
	views[1].total.rx_icmp_unreach = 2;
	views[1].total.rx_syn = 1234; /* not a request of an OUT port */
	views[2] = (struct pc_port_view){
		.port = 65535,
		.proto = PC_PROTO_UDP,
		.dir = PC_DIR_IN,
		.state = "ok",
		.answered_ratio = 1,
		.baseline_rate = 0.1,
	};
	views[2].total.rx_packets = UINT64_MAX;
	ports[0] = (struct pc_metrics_port){.view = &views[0], .drops = drops443, .n_drops = 4};
	ports[1] = (struct pc_metrics_port){.view = &views[1]};
	ports[2] = (struct pc_metrics_port){.view = &views[2]};
	for (h = 0; h < PC_HOOK_MAX; h++)
		global[h] = (struct pc_global){.packets = 100 + h,
					       .not_ip = 10 + h,
					       .malformed = 20 + h,
					       .frag_nonfirst = 30 + h,
					       .other_l4 = 40 + h,
					       .monitored = 50 + h,
					       .icmp_errors = 60 + h,
					       .foreign_netns = 70 + h,
					       .invalid_flags = 80 + h};
	in = (struct pc_metrics_input){
		.version = "0.1.0",
		.start_time = 1795000000,
		.sample_time = 1795000100.5,
		.interval = 1,
		.ports = ports,
		.n_ports = 3,
		.zero_reasons = zero,
		.n_zero_reasons = 3,
		.global = global,
		.ifaces = ifaces,
		.n_ifaces = 1,
		.sampling = &sampling,
	};
	return 0;
}

/* The line must be in text as a whole line. */
static void assert_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p++;
	}
	fail_msg("line missing: %s", line);
}

static void assert_no_prefix(const char *text, const char *prefix)
{
	const char *p = text;

	while ((p = strstr(p, prefix))) {
		if (p == text || p[-1] == '\n')
			fail_msg("unexpected line starting: %s", prefix);
		p++;
	}
}

static int count(const char *text, const char *needle)
{
	int n = 0;
	const char *p = text;

	while ((p = strstr(p, needle))) {
		n++;
		p += strlen(needle);
	}
	return n;
}

static void test_exact_document_without_ports(void **state)
{
	struct pc_metrics_input min = {.version = "1.2.3", .start_time = 1795000000.5};
	const char *expect =
		"# HELP portcanary_build_info A metric with a constant '1' value labeled by the "
		"portcanary version.\n"
		"# TYPE portcanary_build_info gauge\n"
		"portcanary_build_info{version=\"1.2.3\"} 1\n"
		"# HELP portcanary_start_time_seconds Start time of the portcanary daemon since "
		"unix epoch in seconds.\n"
		"# TYPE portcanary_start_time_seconds gauge\n"
		"portcanary_start_time_seconds 1795000000.5\n"
		"# HELP portcanary_interface_info Interfaces portcanary is attached to: ingress "
		"hook (xdp|tc), XDP mode, driver and why the hook was chosen.\n"
		"# TYPE portcanary_interface_info gauge\n"
		"# HELP portcanary_port_up 1 unless the port is down (ok, idle, degraded, unknown: "
		"1; down: 0).\n"
		"# TYPE portcanary_port_up gauge\n"
		"# HELP portcanary_port_state Health state of the port: one series, for the current "
		"state, at 1.\n"
		"# TYPE portcanary_port_state gauge\n"
		"# HELP portcanary_port_cause Why the port is degraded or down (1, present only "
		"while it is).\n"
		"# TYPE portcanary_port_cause gauge\n"
		"# HELP portcanary_port_rule_info The live nftables rule that drops the clients "
		"of a port down or degraded by the firewall (1, present only while it is and the "
		"rule is known).\n"
		"# TYPE portcanary_port_rule_info gauge\n"
		"# HELP portcanary_port_state_change_timestamp_seconds When the port entered its "
		"current state, since unix epoch in seconds.\n"
		"# TYPE portcanary_port_state_change_timestamp_seconds gauge\n"
		"# HELP portcanary_syn_total Connection requests of the port in its direction: "
		"SYNs received (in) or sent (out).\n"
		"# TYPE portcanary_syn_total counter\n"
		"# HELP portcanary_synack_total Handshake answers: SYN-ACKs sent (in) or received "
		"(out).\n"
		"# TYPE portcanary_synack_total counter\n"
		"# HELP portcanary_rst_total Resets answering the port's requests: RSTs sent (in) "
		"or received (out).\n"
		"# TYPE portcanary_rst_total counter\n"
		"# HELP portcanary_icmp_unreachable_total ICMP/ICMPv6 destination-unreachable "
		"errors about the port, sent (in) or received (out).\n"
		"# TYPE portcanary_icmp_unreachable_total counter\n"
		"# HELP portcanary_packets_total Packets of the port, both ways (ingress and "
		"egress).\n"
		"# TYPE portcanary_packets_total counter\n"
		"# HELP portcanary_bytes_total Bytes of the port's packets at layer 2, both ways "
		"(ingress and egress).\n"
		"# TYPE portcanary_bytes_total counter\n"
		"# HELP portcanary_drops_total Packets of the port the kernel dropped, by "
		"skb_drop_reason (kfree_skb).\n"
		"# TYPE portcanary_drops_total counter\n"
		"# HELP portcanary_syn_baseline_per_second Learned request (SYN) rate of the port, "
		"per second; absent while learning.\n"
		"# TYPE portcanary_syn_baseline_per_second gauge\n"
		"# HELP portcanary_firewall_changes_total Firewall ruleset changes seen, by "
		"source, and whether they went through portcanary apply or rollback (vetted).\n"
		"# TYPE portcanary_firewall_changes_total counter\n"
		"portcanary_firewall_changes_total{source=\"nftables\",vetted=\"false\"} 0\n"
		"portcanary_firewall_changes_total{source=\"nftables\",vetted=\"true\"} 0\n"
		"# HELP portcanary_firewall_last_change_timestamp_seconds Time of the latest "
		"firewall ruleset change, by source, since unix epoch in seconds.\n"
		"# TYPE portcanary_firewall_last_change_timestamp_seconds gauge\n"
		"# HELP portcanary_firewall_last_change_info The latest firewall change: who made "
		"it "
		"and what it did (always 1).\n"
		"# TYPE portcanary_firewall_last_change_info gauge\n";
	char *text;

	(void)state;
	text = pc_metrics_format(&min);
	assert_non_null(text);
	assert_string_equal(text, expect);
	free(text);
}

static void test_exact_port_lines(void **state)
{
	char *text;

	(void)state;
	text = pc_metrics_format(&in);
	assert_non_null(text);
	/* IN port: requests are SYNs in, answers SYN-ACK/RST/ICMP out. */
	assert_line(text, "portcanary_syn_total{proto=\"tcp\",port=\"443\",direction=\"in\"} 1000");
	assert_line(text,
		    "portcanary_synack_total{proto=\"tcp\",port=\"443\",direction=\"in\"} 900");
	assert_line(text, "portcanary_rst_total{proto=\"tcp\",port=\"443\",direction=\"in\"} 3");
	assert_line(
		text,
		"portcanary_icmp_unreachable_total{proto=\"tcp\",port=\"443\",direction=\"in\"} 2");
	assert_line(text,
		    "portcanary_packets_total{proto=\"tcp\",port=\"443\",direction=\"in\"} 9000");
	assert_line(text,
		    "portcanary_bytes_total{proto=\"tcp\",port=\"443\",direction=\"in\"} 500000");
	/* OUT port: requests are SYNs out, answers come in. */
	assert_line(text, "portcanary_syn_total{proto=\"tcp\",port=\"5432\",direction=\"out\"} 7");
	assert_line(text,
		    "portcanary_synack_total{proto=\"tcp\",port=\"5432\",direction=\"out\"} 6");
	assert_line(text, "portcanary_rst_total{proto=\"tcp\",port=\"5432\",direction=\"out\"} 1");
	assert_line(text, "portcanary_icmp_unreachable_total{proto=\"tcp\",port=\"5432\",direction="
			  "\"out\"} 2");
	/* Counters are printed exactly, up to the largest. */
	assert_line(text, "portcanary_packets_total{proto=\"udp\",port=\"65535\",direction=\"in\"} "
			  "18446744073709551615");
	assert_line(text, "portcanary_port_up{proto=\"tcp\",port=\"443\",direction=\"in\"} 0");
	assert_line(text, "portcanary_port_up{proto=\"tcp\",port=\"5432\",direction=\"out\"} 1");
	assert_line(text, "portcanary_port_up{proto=\"udp\",port=\"65535\",direction=\"in\"} 1");
	assert_line(text, "portcanary_port_cause{proto=\"tcp\",port=\"443\",direction=\"in\",cause="
			  "\"netfilter_drop\"} 1");
	assert_int_equal(count(text, "portcanary_port_cause{"), 1);
	assert_line(text, "portcanary_port_state_change_timestamp_seconds{proto=\"tcp\",port="
			  "\"443\",direction=\"in\"} 1795000000.25");
	/* since 0: since the start. */
	assert_line(text, "portcanary_port_state_change_timestamp_seconds{proto=\"tcp\",port="
			  "\"5432\",direction=\"out\"} 1795000000");
	/* The answered ratio is derived from the counters, not exported. */
	assert_no_prefix(text, "portcanary_answered_ratio");
	assert_line(text, "portcanary_syn_baseline_per_second{proto=\"tcp\",port=\"443\",direction="
			  "\"in\"} 49.5");
	assert_line(text, "portcanary_syn_baseline_per_second{proto=\"udp\",port=\"65535\","
			  "direction=\"in\"} 0.1");
	/* NaN (no SYNs, still learning) is no series at all, so rules find nothing to compare. */
	assert_no_prefix(text, "portcanary_syn_baseline_per_second{proto=\"tcp\",port=\"5432\"");
	assert_int_equal(count(text, "NaN"), 0);
	assert_line(text, "portcanary_build_info{version=\"0.1.0\"} 1");
	assert_line(text, "portcanary_start_time_seconds 1795000000");
	assert_line(text, "portcanary_last_sample_timestamp_seconds 1795000100.5");
	assert_line(text, "portcanary_sample_interval_seconds 1");
	assert_line(text, "portcanary_interface_info{device=\"eth0\",ingress_hook=\"xdp\",xdp_mode="
			  "\"native\",driver=\"ice\",reason=\"native_xdp\"} 1");
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
}

static void test_state_series(void **state)
{
	static const char *const names[] = {"unknown", "idle", "ok", "degraded", "down"};
	char line[200], *text;
	size_t s, t;

	(void)state;
	for (s = 0; s < 5; s++) {
		views[0].state = names[s];
		text = pc_metrics_format(&in);
		assert_non_null(text);
		/* The current state's series only, at 1; none for the other four. */
		for (t = 0; t < 5; t++) {
			snprintf(line, sizeof(line),
				 "portcanary_port_state{proto=\"tcp\",port=\"443\",direction="
				 "\"in\",state=\"%s\"} 1",
				 names[t]);
			if (s == t)
				assert_line(text, line);
			else
				assert_null(strstr(text, line));
		}
		snprintf(line, sizeof(line),
			 "portcanary_port_up{proto=\"tcp\",port=\"443\",direction=\"in\"} %d",
			 s != 4);
		assert_line(text, line);
		assert_int_equal(count(text, "portcanary_port_state{"), 3); /* one per port */
		free(text);
	}
	/* A view without a state is unknown. */
	text = pc_metrics_format(&in);
	assert_line(text, "portcanary_port_state{proto=\"tcp\",port=\"5432\",direction=\"out\","
			  "state=\"unknown\"} 1");
	free(text);
	assert_int_equal(pc_metrics_port_up("down"), 0);
	assert_int_equal(pc_metrics_port_up("degraded"), 1);
	assert_int_equal(pc_metrics_port_up("idle"), 1);
	assert_int_equal(pc_metrics_port_up("unknown"), 1);
	assert_int_equal(pc_metrics_port_up(NULL), 1);
}

static void test_drops(void **state)
{
	char *text;

	(void)state;
	text = pc_metrics_format(&in);
	assert_non_null(text);
	/* A repeated reason is one series with the sum; a NULL reason is skipped. */
	assert_line(text, "portcanary_drops_total{proto=\"tcp\",port=\"443\",direction=\"in\","
			  "reason=\"NETFILTER_DROP\"} 48");
	assert_line(text, "portcanary_drops_total{proto=\"tcp\",port=\"443\",direction=\"in\","
			  "reason=\"NO_SOCKET\"} 3");
	assert_int_equal(count(text, "port=\"443\",direction=\"in\",reason=\"NETFILTER_DROP\"}"),
			 1);
	/* Zero reasons: on every port, once, without hiding a real count. */
	assert_line(text, "portcanary_drops_total{proto=\"tcp\",port=\"443\",direction=\"in\","
			  "reason=\"TCP_LISTEN_OVERFLOW\"} 0");
	assert_line(text, "portcanary_drops_total{proto=\"tcp\",port=\"5432\",direction=\"out\","
			  "reason=\"NETFILTER_DROP\"} 0");
	assert_line(text, "portcanary_drops_total{proto=\"tcp\",port=\"5432\",direction=\"out\","
			  "reason=\"TCP_LISTEN_OVERFLOW\"} 0");
	assert_int_equal(count(text, "portcanary_drops_total{"), 3 + 2 + 2);
	free(text);

	in.n_zero_reasons = 0;
	text = pc_metrics_format(&in);
	assert_int_equal(count(text, "portcanary_drops_total{"), 2);
	free(text);
}

static void test_escaping(void **state)
{
	char buf[64], *text;
	size_t n;

	(void)state;
	n = pc_metrics_escape(buf, sizeof(buf), "a\"b\\c\nd");
	assert_string_equal(buf, "a\\\"b\\\\c\\nd");
	assert_int_equal(n, strlen("a\\\"b\\\\c\\nd"));
	/* Like snprintf: the needed length, a truncated but terminated buffer. */
	n = pc_metrics_escape(buf, 4, "\"\"\"");
	assert_int_equal(n, 6);
	assert_string_equal(buf, "\\\"\\");
	assert_int_equal(pc_metrics_escape(NULL, 0, "\n"), 2);
	pc_metrics_escape(buf, sizeof(buf), NULL);
	assert_string_equal(buf, "");
	/* Other bytes, UTF-8 and tabs included, pass through. */
	pc_metrics_escape(buf, sizeof(buf), "é\tx");
	assert_string_equal(buf, "é\tx");

	in.version = "1.0 \"rc\\1\"\nbuild";
	ifaces[0].name = "we\"ird";
	{
		struct pc_metrics_fw fw[] = {{"ipt\\ables", 2, 0}};

		in.fw = fw;
		in.n_fw = 1;
		text = pc_metrics_format(&in);
	}
	assert_non_null(text);
	assert_line(text, "portcanary_build_info{version=\"1.0 \\\"rc\\\\1\\\"\\nbuild\"} 1");
	assert_line(text, "portcanary_interface_info{device=\"we\\\"ird\",ingress_hook=\"xdp\",xdp_"
			  "mode=\"native\",driver=\"ice\",reason=\"native_xdp\"} 1");
	assert_line(
		text,
		"portcanary_firewall_changes_total{source=\"ipt\\\\ables\",vetted=\"false\"} 2");
	free(text);
	ifaces[0].name = "eth0";
	in.fw = NULL;
	in.n_fw = 0;
}

/* Every family: HELP and TYPE exactly once, TYPE right after HELP, every sample between
 * its own TYPE and the next family, counters (only) ending in _total. */
static void test_families(void **state)
{
	static const struct {
		const char *name, *type;
	} fams[] = {
		{"portcanary_build_info", "gauge"},
		{"portcanary_start_time_seconds", "gauge"},
		{"portcanary_last_sample_timestamp_seconds", "gauge"},
		{"portcanary_sampling_duration_seconds", "summary"},
		{"portcanary_sample_interval_seconds", "gauge"},
		{"portcanary_interface_info", "gauge"},
		{"portcanary_port_up", "gauge"},
		{"portcanary_port_state", "gauge"},
		{"portcanary_port_cause", "gauge"},
		{"portcanary_port_rule_info", "gauge"},
		{"portcanary_port_state_change_timestamp_seconds", "gauge"},
		{"portcanary_syn_total", "counter"},
		{"portcanary_synack_total", "counter"},
		{"portcanary_rst_total", "counter"},
		{"portcanary_icmp_unreachable_total", "counter"},
		{"portcanary_packets_total", "counter"},
		{"portcanary_bytes_total", "counter"},
		{"portcanary_drops_total", "counter"},
		{"portcanary_syn_baseline_per_second", "gauge"},
		{"portcanary_datapath_packets_total", "counter"},
		{"portcanary_datapath_monitored_packets_total", "counter"},
		{"portcanary_datapath_not_ip_packets_total", "counter"},
		{"portcanary_datapath_malformed_packets_total", "counter"},
		{"portcanary_datapath_fragment_packets_total", "counter"},
		{"portcanary_datapath_other_l4_packets_total", "counter"},
		{"portcanary_datapath_icmp_unreachable_packets_total", "counter"},
		{"portcanary_datapath_invalid_tcp_flags_packets_total", "counter"},
		{"portcanary_datapath_foreign_netns_drops_total", "counter"},
		{"portcanary_firewall_changes_total", "counter"},
		{"portcanary_firewall_last_change_timestamp_seconds", "gauge"},
		{"portcanary_firewall_last_change_info", "gauge"},
	};
	size_t nf = sizeof(fams) / sizeof(fams[0]), f;
	char *text, *copy, *line, *save = NULL, cur[128] = "", help[128] = "", buf[200];
	int families = 0;

	(void)state;
	text = pc_metrics_format(&in);
	assert_non_null(text);
	for (f = 0; f < nf; f++) {
		snprintf(buf, sizeof(buf), "# HELP %s ", fams[f].name);
		assert_int_equal(count(text, buf), 1);
		snprintf(buf, sizeof(buf), "# TYPE %s %s\n", fams[f].name, fams[f].type);
		assert_int_equal(count(text, buf), 1);
		assert_int_equal(
			strcmp(fams[f].type, "counter") == 0,
			strlen(fams[f].name) > 6 &&
				!strcmp(fams[f].name + strlen(fams[f].name) - 6, "_total"));
	}
	copy = strdup(text);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128];

		if (!strncmp(line, "# HELP ", 7)) {
			sscanf(line + 7, "%127s", help);
			cur[0] = '\0';
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			sscanf(line + 7, "%127s", cur);
			assert_string_equal(cur, help);
			families++;
			continue;
		}
		assert_int_not_equal(line[0], '#');
		sscanf(line, "%127[^{ ]", name);
		/* a summary's samples are FAMILY_sum and FAMILY_count */
		if (strcmp(name, cur) && !(!strncmp(name, cur, strlen(cur)) &&
					   (!strcmp(name + strlen(cur), "_sum") ||
					    !strcmp(name + strlen(cur), "_count"))))
			fail_msg("sample of %s outside its family (in %s)", name, cur);
	}
	assert_int_equal(families, (int)nf);
	free(copy);
	free(text);
}

/* One bounded series: the labels of the contract, cut to 120 bytes on a character. */
static void test_firewall_last_change_info(void **state)
{
	char cmd[300], expect[1024], *text;
	struct pc_metrics_fw_last last = {
		.source = "nftables",
		.generation = 42,
		.vetted = false,
		.command = cmd,
		.user = "deploy",
		.unit = "",
		.summary = "added rule inet filter input handle 7: tcp dport { 8001, 8002 } drop "
			   "comment \"say \\\"no\\\"\"",
	};
	int i;

	(void)state;
	/* 118 x, then a 3-byte character that does not fit in 120. */
	for (i = 0; i < 118; i++)
		cmd[i] = 'x';
	snprintf(cmd + 118, sizeof(cmd) - 118, "\xe2\x82\xac tail");
	in.fw_last = &last;
	text = pc_metrics_format(&in);
	assert_non_null(text);
	snprintf(expect, sizeof(expect),
		 "portcanary_firewall_last_change_info{source=\"nftables\",generation=\"42\","
		 "vetted=\"false\",command=\"%.118s\",user=\"deploy\",unit=\"\",summary=\"added "
		 "rule inet filter input handle 7: tcp dport { 8001, 8002 } drop comment "
		 "\\\"say \\\\\\\"no\\\\\\\"\\\"\"} 1",
		 cmd);
	assert_line(text, expect);
	assert_int_equal(count(text, "portcanary_firewall_last_change_info{"), 1);
	free(text);
	last.vetted = true;
	last.command = "short";
	text = pc_metrics_format(&in);
	assert_non_null(strstr(text, "vetted=\"true\",command=\"short\""));
	free(text);
	in.fw_last = NULL;
}

/* The live rule: one bounded info series while down or degraded by netfilter, exactly. */
static void test_rule_info(void **state)
{
	struct pc_rule_view rule = {.family = "inet",
				    .table = "filter",
				    .chain = "input",
				    .has_handle = true,
				    .handle = 7,
				    .text = "ip saddr 10.0.0.0/8 tcp dport { 8001, 8002 } drop"};
	struct pc_rule_view policy = {
		.family = "ip6", .table = "v6", .chain = "in \"x\"", .text = "policy drop"};
	char *text, label[200], longtext[300];
	size_t i;

	(void)state;
	views[0].rule = &rule;
	text = pc_metrics_format(&in);
	assert_line(text, "portcanary_port_rule_info{proto=\"tcp\",port=\"443\",direction=\"in\","
			  "family=\"inet\",table=\"filter\",chain=\"input\",handle=\"7\",rule="
			  "\"ip saddr 10.0.0.0/8 tcp dport { 8001, 8002 } drop\"} 1");
	assert_int_equal(count(text, "portcanary_port_rule_info{"), 1);
	free(text);

	/* A policy: handle "", its text; label values escaped. */
	views[0].rule = &policy;
	views[0].state = "degraded";
	text = pc_metrics_format(&in);
	assert_line(text, "portcanary_port_rule_info{proto=\"tcp\",port=\"443\",direction=\"in\","
			  "family=\"ip6\",table=\"v6\",chain=\"in \\\"x\\\"\",handle=\"\",rule="
			  "\"policy drop\"} 1");
	free(text);

	/* Not while recovering, nor for another cause, nor with no rule. */
	views[0].state = "ok";
	text = pc_metrics_format(&in);
	assert_int_equal(count(text, "portcanary_port_rule_info{"), 0);
	free(text);
	views[0].state = "down";
	views[0].cause = "no_listener";
	text = pc_metrics_format(&in);
	assert_int_equal(count(text, "portcanary_port_rule_info{"), 0);
	free(text);
	views[0].cause = "netfilter_drop";
	views[0].rule = NULL;
	text = pc_metrics_format(&in);
	assert_int_equal(count(text, "portcanary_port_rule_info{"), 0);
	free(text);

	/* The rule label: at most 120 bytes, never half a character. */
	for (i = 0; i < sizeof(longtext) - 1; i++)
		longtext[i] = 'a' + i % 26;
	longtext[sizeof(longtext) - 1] = '\0';
	memcpy(longtext + 119, "\xc3\xa9", 2); /* é across the cut: bytes 119 and 120 */
	rule.text = longtext;
	views[0].rule = &rule;
	text = pc_metrics_format(&in);
	snprintf(label, sizeof(label), "%.119s\"} 1", longtext);
	assert_non_null(strstr(text, label));
	assert_null(strstr(text, "\xc3\"} 1"));
	free(text);
}

static void test_rollbacks(void **state)
{
	struct pc_metrics_rollbacks rb = {.port_down = 2, .firewall_blocks_port = 1};
	char *text;

	(void)state;
	text = pc_metrics_format(&in);
	assert_null(strstr(text, "portcanary_firewall_rollbacks_total"));
	free(text);
	in.rollbacks = &rb;
	text = pc_metrics_format(&in);
	assert_line(text, "# TYPE portcanary_firewall_rollbacks_total counter");
	assert_line(text, "portcanary_firewall_rollbacks_total{reason=\"port_down\"} 2");
	assert_line(text, "portcanary_firewall_rollbacks_total{reason=\"firewall_blocks_port\"} 1");
	assert_line(text, "portcanary_firewall_rollbacks_total{reason=\"requested\"} 0");
	free(text);
	in.rollbacks = NULL;
}

static void test_label_types(void **state)
{
	char *text, *p;

	(void)state;
	text = pc_metrics_format(&in);
	assert_non_null(text);
	/* Every per-port series names proto, port (a quoted decimal string) and direction,
	 * in that order, with the contract's values. */
	for (p = text; (p = strstr(p, "{proto=\"")); p++) {
		unsigned int port;
		char proto[8], dir[8];
		int n = 0;

		assert_int_equal(sscanf(p, "{proto=\"%7[a-z]\",port=\"%u\",direction=\"%7[a-z]\"%n",
					proto, &port, dir, &n),
				 3);
		assert_true(n > 0);
		assert_true(!strcmp(proto, "tcp") || !strcmp(proto, "udp"));
		assert_true(!strcmp(dir, "in") || !strcmp(dir, "out"));
		assert_true(port >= 1 && port <= 65535);
		assert_true(p[n] == '}' || p[n] == ',');
	}
	assert_non_null(strstr(text, "port=\"65535\""));
	assert_null(strstr(text, "port=65535"));
	free(text);
}

static void test_global_and_firewall(void **state)
{
	struct pc_metrics_fw fw[] = {
		{"iptables-legacy", 4, 1795000001.5},
		{"nftables", 9, 1795000002, 3},
		{"nftables", 1, 5}, /* repeated: the first one counts */
	};
	char *text;

	(void)state;
	text = pc_metrics_format(&in);
	assert_line(text, "portcanary_datapath_packets_total{hook=\"xdp\"} 100");
	assert_line(text, "portcanary_datapath_packets_total{hook=\"tc_ingress\"} 101");
	assert_line(text, "portcanary_datapath_packets_total{hook=\"tc_egress\"} 102");
	assert_line(text, "portcanary_datapath_packets_total{hook=\"kfree_skb\"} 103");
	assert_line(text, "portcanary_datapath_not_ip_packets_total{hook=\"xdp\"} 10");
	assert_line(text, "portcanary_datapath_malformed_packets_total{hook=\"tc_ingress\"} 21");
	assert_line(text, "portcanary_datapath_fragment_packets_total{hook=\"tc_egress\"} 32");
	assert_line(text, "portcanary_datapath_other_l4_packets_total{hook=\"xdp\"} 40");
	assert_line(text, "portcanary_datapath_monitored_packets_total{hook=\"xdp\"} 50");
	assert_line(text, "portcanary_datapath_icmp_unreachable_packets_total{hook=\"xdp\"} 60");
	assert_line(text, "portcanary_datapath_invalid_tcp_flags_packets_total{hook=\"tc_egress\"} 82");
	assert_line(text, "portcanary_sampling_duration_seconds_sum 0.0625");
	assert_line(text, "portcanary_sampling_duration_seconds_count 100");
	assert_line(text, "portcanary_datapath_foreign_netns_drops_total 73");
	/* No firewall input: nftables is there, at 0, and has no last-change time. */
	assert_line(text,
		    "portcanary_firewall_changes_total{source=\"nftables\",vetted=\"false\"} 0");
	assert_line(text,
		    "portcanary_firewall_changes_total{source=\"nftables\",vetted=\"true\"} 0");
	assert_int_equal(count(text, "portcanary_firewall_changes_total{"), 2);
	assert_int_equal(count(text, "portcanary_firewall_last_change_timestamp_seconds{"), 0);
	free(text);

	in.global = NULL;
	in.fw = fw;
	in.n_fw = 3;
	text = pc_metrics_format(&in);
	assert_null(strstr(text, "portcanary_datapath_"));
	assert_line(
		text,
		"portcanary_firewall_changes_total{source=\"iptables-legacy\",vetted=\"false\"} 4");
	assert_line(text,
		    "portcanary_firewall_changes_total{source=\"nftables\",vetted=\"false\"} 6");
	assert_line(text,
		    "portcanary_firewall_changes_total{source=\"nftables\",vetted=\"true\"} 3");
	assert_int_equal(count(text, "portcanary_firewall_changes_total{"), 4);
	assert_line(text, "portcanary_firewall_last_change_timestamp_seconds{source=\"iptables-"
			  "legacy\"} 1795000001.5");
	assert_line(text, "portcanary_firewall_last_change_timestamp_seconds{source=\"nftables\"} "
			  "1795000002");
	assert_int_equal(count(text, "portcanary_firewall_last_change_timestamp_seconds{"), 2);
	free(text);
	assert_string_equal(pc_metrics_hook_name(PC_HOOK_DROP), "kfree_skb");
	assert_string_equal(pc_metrics_hook_name(PC_HOOK_MAX), "unknown");
}

static void test_interfaces(void **state)
{
	struct pc_iface_view two[] = {
		{.name = "eth0",
		 .ingress = "tc",
		 .xdp_mode = "native",
		 .driver = "veth",
		 .reason = "veth"},
		{.name = "eth1", .ingress = "xdp", .xdp_mode = "generic", .reason = "option"},
	};
	char *text;

	(void)state;
	in.ifaces = two;
	in.n_ifaces = 2;
	in.sample_time = 0;
	in.interval = 0;
	text = pc_metrics_format(&in);
	/* The XDP mode only means something with an XDP ingress hook. */
	assert_line(text, "portcanary_interface_info{device=\"eth0\",ingress_hook=\"tc\",xdp_mode="
			  "\"\",driver=\"veth\",reason=\"veth\"} 1");
	/* Interfaces of one daemon may differ; an unknown driver is an empty label. */
	assert_line(text, "portcanary_interface_info{device=\"eth1\",ingress_hook=\"xdp\",xdp_mode="
			  "\"generic\",driver=\"\",reason=\"option\"} 1");
	/* 0 means "not known": no series. */
	assert_null(strstr(text, "portcanary_last_sample_timestamp_seconds"));
	assert_null(strstr(text, "portcanary_sample_interval_seconds"));
	free(text);
}

/* PC_METRICS_SAMPLE=FILE: also write the exposition of this sample there (for
 * promtool check metrics by hand; tests/e2e/test_prometheus.sh uses exporter_probe). */
static void test_dump_sample(void **state)
{
	const char *path = getenv("PC_METRICS_SAMPLE");
	char *text;
	FILE *f;

	(void)state;
	text = pc_metrics_format(&in);
	assert_non_null(text);
	if (path && *path) {
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(text, f);
		assert_int_equal(fclose(f), 0);
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_exact_document_without_ports, setup),
		cmocka_unit_test_setup(test_exact_port_lines, setup),
		cmocka_unit_test_setup(test_state_series, setup),
		cmocka_unit_test_setup(test_drops, setup),
		cmocka_unit_test_setup(test_escaping, setup),
		cmocka_unit_test_setup(test_families, setup),
		cmocka_unit_test_setup(test_label_types, setup),
		cmocka_unit_test_setup(test_firewall_last_change_info, setup),
		cmocka_unit_test_setup(test_rule_info, setup),
		cmocka_unit_test_setup(test_rollbacks, setup),
		cmocka_unit_test_setup(test_global_and_firewall, setup),
		cmocka_unit_test_setup(test_interfaces, setup),
		cmocka_unit_test_setup(test_dump_sample, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
