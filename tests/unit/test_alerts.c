// SPDX-License-Identifier: GPL-2.0
/* test_alerts.c: event JSON (the DESIGN.md contract), the log line, and detector inputs per direction. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "alerts.h"
#include "health.h"
#include "portcanary.h"
#include "report.h"

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("key '%s' missing", key);
	return v;
}

static const struct pc_firewall_ref fw = {
	.time = 1795000000.0,
	.seconds_before = 1.4,
	.source = "nftables",
	.what = "table inet filter chain input",
};

static struct pc_alert down_alert(void)
{
	struct pc_alert a = {
		.time = 1795000001.4,
		.event = "port_down",
		.proto = PC_PROTO_TCP,
		.dir = PC_DIR_IN,
		.port = 8443,
		.state = "down",
		.old_state = "ok",
		.old_state_s = 120,
		.cause = "netfilter_drop",
		.detail = "netfilter dropped 96 of 100 SYNs (drop)",
		.syn_rate = 48.0,
		.baseline_rate = 50.25,
		.answered_ratio = 0.0,
		.n_drops = 2,
		.drops = {{"NETFILTER_DROP", 96}, {"NO_SOCKET", 1}},
		.firewall = &fw,
	};
	return a;
}

static void test_event_json(void **state)
{
	struct pc_alert a = down_alert();
	struct json_object *o = pc_alert_json(&a), *drops, *f;

	(void)state;
	assert_string_equal(json_object_get_string(get(o, "time")), "2026-11-18T11:06:41.400Z");
	assert_string_equal(json_object_get_string(get(o, "event")), "port_down");
	assert_string_equal(json_object_get_string(get(o, "proto")), "tcp");
	assert_true(json_object_is_type(get(o, "port"), json_type_int));
	assert_int_equal(json_object_get_int(get(o, "port")), 8443);
	assert_string_equal(json_object_get_string(get(o, "direction")), "in");
	assert_string_equal(json_object_get_string(get(o, "cause")), "netfilter_drop");
	assert_string_equal(json_object_get_string(get(o, "detail")),
			    "netfilter dropped 96 of 100 SYNs (drop)");
	assert_true(json_object_get_double(get(o, "syn_rate")) == 48.0);
	assert_true(json_object_get_double(get(o, "baseline_rate")) == 50.25);
	assert_true(json_object_get_double(get(o, "answered_ratio")) == 0.0);
	drops = get(o, "drops");
	assert_int_equal(json_object_get_int64(get(drops, "NETFILTER_DROP")), 96);
	assert_int_equal(json_object_get_int64(get(drops, "NO_SOCKET")), 1);
	f = get(o, "firewall_change");
	assert_string_equal(json_object_get_string(get(f, "source")), "nftables");
	assert_true(json_object_get_double(get(f, "seconds_before")) == 1.4);
	assert_string_equal(json_object_get_string(get(f, "time")), "2026-11-18T11:06:40.000Z");
	json_object_put(o);

	a.firewall = NULL;
	a.baseline_rate = NAN;
	a.answered_ratio = NAN;
	a.n_drops = 0;
	o = pc_alert_json(&a);
	assert_null(get(o, "firewall_change"));
	assert_null(get(o, "baseline_rate"));
	assert_null(get(o, "answered_ratio"));
	assert_int_equal(json_object_object_length(get(o, "drops")), 0);
	json_object_put(o);
}

static void test_log_line(void **state)
{
	struct pc_alert a = down_alert();
	char line[512];

	(void)state;
	pc_alert_line(&a, line, sizeof(line));
	assert_string_equal(line,
			    "tcp/8443:in DOWN (netfilter_drop): netfilter dropped 96 of 100 "
			    "SYNs (drop); SYN 48.0/s (baseline 50.2/s), answered 0%; drops "
			    "NETFILTER_DROP=96, NO_SOCKET=1; firewall (nftables) changed 1.4 s "
			    "before: table inet filter chain input");
	a.event = "port_recovered";
	a.firewall = NULL;
	a.n_drops = 0;
	a.detail = NULL;
	a.answered_ratio = 1;
	pc_alert_line(&a, line, sizeof(line));
	assert_string_equal(line, "tcp/8443:in RECOVERED (was netfilter_drop); SYN 48.0/s "
				  "(baseline 50.2/s), answered 100%");
	/* UDP: datagrams and the share that got through */
	a.proto = PC_PROTO_UDP;
	pc_alert_line(&a, line, sizeof(line));
	assert_string_equal(line, "udp/8443:in RECOVERED (was netfilter_drop); datagrams 48.0/s "
				  "(baseline 50.2/s), got through 100%");
}

static void test_event_names(void **state)
{
	(void)state;
	assert_string_equal(pc_health_event_name(PC_STATE_OK, PC_STATE_DOWN), "port_down");
	assert_string_equal(pc_health_event_name(PC_STATE_UNKNOWN, PC_STATE_DOWN), "port_down");
	assert_string_equal(pc_health_event_name(PC_STATE_OK, PC_STATE_DEGRADED), "port_degraded");
	assert_string_equal(pc_health_event_name(PC_STATE_DOWN, PC_STATE_DEGRADED),
			    "port_degraded");
	assert_string_equal(pc_health_event_name(PC_STATE_DOWN, PC_STATE_OK), "port_recovered");
	assert_string_equal(pc_health_event_name(PC_STATE_DEGRADED, PC_STATE_IDLE),
			    "port_recovered");
	assert_null(pc_health_event_name(PC_STATE_UNKNOWN, PC_STATE_OK));
	assert_null(pc_health_event_name(PC_STATE_UNKNOWN, PC_STATE_IDLE));
	assert_null(pc_health_event_name(PC_STATE_OK, PC_STATE_IDLE));
}

static void test_inputs(void **state)
{
	struct pc_counters dl = {
		.rx_syn = 10,
		.rx_synack = 7,
		.rx_rst = 2,
		.rx_icmp_unreach = 1,
		.rx_packets = 40,
		.tx_syn = 20,
		.tx_synack = 9,
		.tx_rst = 4,
		.tx_icmp_unreach = 3,
		.tx_packets = 30,
	};
	uint64_t cls[PC_DROP_CLASS_MAX] = {0, 5, 6, 7, 8};
	struct pc_det_input in;

	(void)state;
	pc_health_input(PC_PROTO_TCP, PC_DIR_IN, &dl, cls, 1.0, &in);
	assert_int_equal(in.syn, 10);
	assert_int_equal(in.synack, 9);
	assert_int_equal(in.rst, 4);
	assert_int_equal(in.icmp_unreach, 3);
	assert_int_equal(in.drops_other, 5);
	assert_int_equal(in.drops_netfilter, 6);
	assert_int_equal(in.drops_no_socket, 7);
	assert_int_equal(in.drops_listen_overflow, 8);
	assert_int_equal(in.reject_rst, 4); /* sent while the firewall dropped */
	assert_int_equal(in.reject_icmp, 3);
	assert_true(in.interval_s == 1.0);

	pc_health_input(PC_PROTO_TCP, PC_DIR_OUT, &dl, cls, 2.0, &in);
	assert_int_equal(in.syn, 20);
	assert_int_equal(in.synack, 7);
	assert_int_equal(in.rst, 2);
	assert_int_equal(in.icmp_unreach, 1);
	assert_int_equal(in.reject_rst, 0);

	cls[PC_DROP_CLASS_NETFILTER] = 0;
	pc_health_input(PC_PROTO_TCP, PC_DIR_IN, &dl, cls, 1.0, &in);
	assert_int_equal(in.reject_rst, 0); /* no firewall drop: a RST is just a RST */

	/* UDP: silence is not failure; ICMP errors and drops are */
	pc_health_input(PC_PROTO_UDP, PC_DIR_IN, &dl, NULL, 1.0, &in);
	assert_int_equal(in.syn, 40);
	assert_int_equal(in.synack, 40 - 3);
	assert_int_equal(in.rst, 0);
	assert_int_equal(in.drops_netfilter, 0);
	cls[PC_DROP_CLASS_NETFILTER] = 30;
	pc_health_input(PC_PROTO_UDP, PC_DIR_OUT, &dl, cls, 1.0, &in);
	assert_int_equal(in.syn, 30);
	assert_int_equal(in.synack, 0); /* 1 ICMP + 30 + 5 + 7 + 8 drops exceed 30 */
}

static void test_fw_block(void **state)
{
	struct pc_fw_block_alert b = {
		.time = 1795000002.3,
		.proto = PC_PROTO_TCP,
		.dir = PC_DIR_IN,
		.port = 8031,
		.rule_known = true,
		.family = "inet",
		.table = "filter",
		.chain = "input",
		.has_handle = true,
		.handle = 7,
		.text = "tcp dport 8031 drop",
		.firewall = &fw,
	};
	struct json_object *o = pc_fw_block_json(&b), *r, *f;
	char line[512];

	(void)state;
	assert_string_equal(json_object_get_string(get(o, "event")), "firewall_blocks_port");
	assert_int_equal(json_object_get_int(get(o, "port")), 8031);
	assert_string_equal(json_object_get_string(get(o, "direction")), "in");
	r = get(o, "rule");
	assert_string_equal(json_object_get_string(get(r, "family")), "inet");
	assert_string_equal(json_object_get_string(get(r, "table")), "filter");
	assert_string_equal(json_object_get_string(get(r, "chain")), "input");
	assert_int_equal(json_object_get_int64(get(r, "handle")), 7);
	assert_string_equal(json_object_get_string(get(r, "text")), "tcp dport 8031 drop");
	f = get(o, "firewall_change");
	assert_string_equal(json_object_get_string(get(f, "source")), "nftables");
	/* numbers print short: 1.4, not 1.3999999999999999 */
	assert_non_null(strstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			       "\"seconds_before\":1.4,"));
	json_object_put(o);
	pc_fw_block_line(&b, line, sizeof(line));
	assert_string_equal(line,
			    "tcp/8031:in BLOCKED BY FIREWALL CHANGE: rule 'tcp dport 8031 "
			    "drop' in inet filter chain input (handle 7); the ruleset changed "
			    "1.4 s before: table inet filter chain input");
	b.rule_known = b.has_handle = false;
	o = pc_fw_block_json(&b);
	assert_null(get(o, "rule"));
	json_object_put(o);
}

/* A port down by the firewall carries "rule": the live rule, or null with a note. */
static void test_event_rule(void **state)
{
	struct pc_rule_view rule = {.family = "inet",
				    .table = "filter",
				    .chain = "input",
				    .has_handle = true,
				    .handle = 7,
				    .text = "ip saddr 10.0.0.0/8 tcp dport { 8001, 8002 } drop"};
	struct pc_alert a = down_alert();
	struct json_object *o, *r;
	char line[2048];

	(void)state;
	/* Not an event with a rule (another cause, a recovery): no "rule" at all. */
	o = pc_alert_json(&a);
	assert_false(json_object_object_get_ex(o, "rule", NULL));
	json_object_put(o);

	a.has_rule = true;
	a.rule = &rule;
	o = pc_alert_json(&a);
	r = get(o, "rule");
	assert_string_equal(json_object_get_string(get(r, "family")), "inet");
	assert_string_equal(json_object_get_string(get(r, "table")), "filter");
	assert_string_equal(json_object_get_string(get(r, "chain")), "input");
	assert_true(json_object_is_type(get(r, "handle"), json_type_int));
	assert_int_equal(json_object_get_int64(get(r, "handle")), 7);
	assert_string_equal(json_object_get_string(get(r, "text")),
			    "ip saddr 10.0.0.0/8 tcp dport { 8001, 8002 } drop");
	assert_int_equal(json_object_object_length(r), 5);
	assert_false(json_object_object_get_ex(o, "rule_note", NULL));
	json_object_put(o);
	pc_alert_line(&a, line, sizeof(line));
	assert_non_null(strstr(line, "; dropped by inet filter input handle 7: ip saddr 10.0.0.0/8 "
				     "tcp dport { 8001, 8002 } drop"));

	/* A chain's policy: handle null. */
	rule = (struct pc_rule_view){
		.family = "ip6", .table = "v6", .chain = "input", .text = "policy drop"};
	o = pc_alert_json(&a);
	r = get(o, "rule");
	assert_null(get(r, "handle"));
	assert_string_equal(json_object_get_string(get(r, "text")), "policy drop");
	json_object_put(o);
	pc_alert_line(&a, line, sizeof(line));
	assert_non_null(strstr(line, "; dropped by ip6 v6 input: policy drop"));

	/* Unknown: null, and why. */
	a.rule = NULL;
	a.rule_note = "its path reads a packet mark";
	o = pc_alert_json(&a);
	assert_null(get(o, "rule"));
	assert_string_equal(json_object_get_string(get(o, "rule_note")),
			    "its path reads a packet mark");
	json_object_put(o);
	pc_alert_line(&a, line, sizeof(line));
	assert_non_null(strstr(line, "; rule unknown: its path reads a packet mark"));
}

static void test_json_num(void **state)
{
	struct json_object *o;

	(void)state;
	o = pc_json_num(2.311);
	assert_string_equal(json_object_to_json_string(o), "2.311");
	json_object_put(o);
	o = pc_json_num(50);
	assert_string_equal(json_object_to_json_string(o), "50");
	json_object_put(o);
	o = pc_json_num(0.12349);
	assert_string_equal(json_object_to_json_string(o), "0.123");
	json_object_put(o);
	assert_null(pc_json_num(NAN));
	assert_null(pc_json_num(INFINITY));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_json),  cmocka_unit_test(test_log_line),
		cmocka_unit_test(test_event_names), cmocka_unit_test(test_inputs),
		cmocka_unit_test(test_fw_block),    cmocka_unit_test(test_json_num),
		cmocka_unit_test(test_event_rule),
	};

	return cmocka_run_group_tests_name("alerts", tests, NULL, NULL);
}
