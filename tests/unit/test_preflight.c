// SPDX-License-Identifier: GPL-2.0
/* test_preflight.c: the pure parts of preflight: trace events to rules, rule texts, JSON and table. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "portcanary.h"
#include "preflight/preflight.h"

/* An IPv4 header (20 bytes) and the first 4 bytes of a TCP/UDP header. */
static void mk_v4(uint8_t nh[20], uint8_t th[4], const char *src, const char *dst, uint8_t l4,
		  uint16_t sport, uint16_t dport)
{
	memset(nh, 0, 20);
	nh[0] = 0x45;
	nh[9] = l4;
	inet_pton(AF_INET, src, nh + 12);
	inet_pton(AF_INET, dst, nh + 16);
	th[0] = sport >> 8;
	th[1] = sport & 0xff;
	th[2] = dport >> 8;
	th[3] = dport & 0xff;
}

static void book_init(struct pc_trace_book *b, int family, const char *client)
{
	memset(b, 0, sizeof(*b));
	b->family = family;
	inet_pton(family, client, b->client);
}

static void test_pkt_ports(void **state)
{
	struct pc_trace_book b;
	uint8_t nh[40], th[4], proto = 9;
	uint16_t port = 0;

	(void)state;
	book_init(&b, AF_INET, "192.0.2.1");
	/* The client's SYN: the probed port is its destination. */
	mk_v4(nh, th, "192.0.2.1", "192.0.2.2", 6, 40000, 8080);
	assert_int_equal(pc_trace_pkt_ports(&b, NFPROTO_IPV4, nh, 20, th, 4, &proto, &port), 0);
	assert_int_equal(proto, PC_PROTO_TCP);
	assert_int_equal(port, 8080);
	/* The server's answer: its source. */
	mk_v4(nh, th, "192.0.2.2", "192.0.2.1", 17, 53, 40001);
	assert_int_equal(pc_trace_pkt_ports(&b, NFPROTO_IPV4, nh, 20, th, 4, &proto, &port), 0);
	assert_int_equal(proto, PC_PROTO_UDP);
	assert_int_equal(port, 53);
	/* ICMP, a truncated transport header, another family: not a probe. */
	mk_v4(nh, th, "192.0.2.1", "192.0.2.2", 1, 0, 0);
	assert_int_equal(pc_trace_pkt_ports(&b, NFPROTO_IPV4, nh, 20, th, 4, &proto, &port),
			 -ENOENT);
	mk_v4(nh, th, "192.0.2.1", "192.0.2.2", 6, 1, 2);
	assert_int_equal(pc_trace_pkt_ports(&b, NFPROTO_IPV4, nh, 20, th, 3, &proto, &port),
			 -ENOENT);
	assert_int_equal(pc_trace_pkt_ports(&b, NFPROTO_IPV6, nh, 20, th, 4, &proto, &port),
			 -ENOENT);

	/* IPv6: next header at 6, source at 8. */
	book_init(&b, AF_INET6, "2001:db8::1");
	memset(nh, 0, sizeof(nh));
	nh[0] = 0x60;
	nh[6] = 6;
	inet_pton(AF_INET6, "2001:db8::2", nh + 8);
	th[0] = 0x01; /* source port 443 */
	th[1] = 0xbb;
	th[2] = 0x9c;
	th[3] = 0x40;
	assert_int_equal(pc_trace_pkt_ports(&b, NFPROTO_IPV6, nh, 40, th, 4, &proto, &port), 0);
	assert_int_equal(port, 443);
}

static struct pc_trace_ev ev_of(uint32_t id, uint32_t type, const char *table, const char *chain)
{
	struct pc_trace_ev ev = {.id = id, .type = type};

	snprintf(ev.family, sizeof(ev.family), "inet");
	snprintf(ev.table, sizeof(ev.table), "%s", table);
	snprintf(ev.chain, sizeof(ev.chain), "%s", chain);
	return ev;
}

static void test_trace_feed(void **state)
{
	struct pc_trace_book b;
	struct pc_trace_ev ev;
	struct pc_rule_ref rule;
	uint8_t nh[20], th[4], proto = 0;
	uint16_t port = 0;

	(void)state;
	book_init(&b, AF_INET, "192.0.2.1");
	mk_v4(nh, th, "192.0.2.1", "192.0.2.2", 6, 40000, 8080);

	/* Our own trace chain sees the packet first: headers, no verdict of interest. */
	ev = ev_of(7, NFT_TRACETYPE_POLICY, PC_PREFLIGHT_TRACE_TABLE, "pre");
	ev.has_verdict = true;
	ev.verdict = NF_ACCEPT;
	ev.nfproto = NFPROTO_IPV4;
	ev.nh = nh;
	ev.nhlen = 20;
	ev.th = th;
	ev.thlen = 4;
	assert_int_equal(pc_trace_feed(&b, &ev, &proto, &port, &rule), 0);

	/* An accepting rule is not evidence. */
	ev = ev_of(7, NFT_TRACETYPE_RULE, "filter", "input");
	ev.has_verdict = true;
	ev.verdict = NF_ACCEPT;
	ev.has_handle = true;
	ev.handle = 2;
	assert_int_equal(pc_trace_feed(&b, &ev, &proto, &port, &rule), 0);

	/* The drop of the same packet (same id, no headers): rule handle 3 dropped tcp/8080. */
	ev = ev_of(7, NFT_TRACETYPE_RULE, "filter", "input");
	ev.has_verdict = true;
	ev.verdict = NF_DROP;
	ev.has_handle = true;
	ev.handle = 3;
	assert_int_equal(pc_trace_feed(&b, &ev, &proto, &port, &rule), 1);
	assert_int_equal(proto, PC_PROTO_TCP);
	assert_int_equal(port, 8080);
	assert_true(rule.known);
	assert_string_equal(rule.family, "inet");
	assert_string_equal(rule.table, "filter");
	assert_string_equal(rule.chain, "input");
	assert_true(rule.has_handle);
	assert_int_equal(rule.handle, 3);

	/* A drop of a packet never seen with headers cannot be attributed. */
	ev.id = 8;
	assert_int_equal(pc_trace_feed(&b, &ev, &proto, &port, &rule), 0);

	/* A chain policy drop: no handle, the text says so. */
	mk_v4(nh, th, "192.0.2.1", "192.0.2.2", 17, 40002, 53);
	ev = ev_of(9, NFT_TRACETYPE_POLICY, "filter", "input");
	ev.has_verdict = true;
	ev.verdict = NF_DROP;
	ev.nfproto = NFPROTO_IPV4;
	ev.nh = nh;
	ev.nhlen = 20;
	ev.th = th;
	ev.thlen = 4;
	assert_int_equal(pc_trace_feed(&b, &ev, &proto, &port, &rule), 1);
	assert_int_equal(proto, PC_PROTO_UDP);
	assert_int_equal(port, 53);
	assert_false(rule.has_handle);
	assert_string_equal(rule.text, "policy drop");

	/* A drop inside our own trace table is never blamed on the ruleset. */
	ev = ev_of(9, NFT_TRACETYPE_RULE, PC_PREFLIGHT_TRACE_TABLE, "pre");
	ev.has_verdict = true;
	ev.verdict = NF_DROP;
	assert_int_equal(pc_trace_feed(&b, &ev, &proto, &port, &rule), 0);
}

static const char listing[] = "table ip nat { # handle 1\n"
			      "\tchain input { # handle 1\n"
			      "\t\ttype nat hook input priority 100; policy accept;\n"
			      "\t\ttcp dport 8080 drop # handle 3\n"
			      "\t}\n"
			      "}\n"
			      "table inet filter { # handle 2\n"
			      "\tset blocked { # handle 4\n"
			      "\t\ttype ipv4_addr\n"
			      "\t\telements = { 10.0.0.1 } # handle 3\n"
			      "\t}\n"
			      "\tchain input { # handle 1\n"
			      "\t\ttype filter hook input priority filter; policy accept;\n"
			      "\t\tip saddr @blocked drop # handle 2\n"
			      "\t\ttcp dport 8080 drop # handle 3\n"
			      "\t\ttcp dport 80 accept comment \"web # handle 9\" # handle 5\n"
			      "\t}\n"
			      "\tchain \"my chain\" { # handle 6\n"
			      "\t\tudp dport 53 reject # handle 7\n"
			      "\t}\n"
			      "}\n";

static void test_nft_rule_text(void **state)
{
	struct pc_rule_ref r = {.known = true,
				.family = "inet",
				.table = "filter",
				.chain = "input",
				.has_handle = true,
				.handle = 3};

	(void)state;
	assert_int_equal(pc_nft_rule_text(listing, &r), 0);
	assert_string_equal(r.text, "tcp dport 8080 drop");

	r.handle = 5;
	assert_int_equal(pc_nft_rule_text(listing, &r), 0);
	assert_string_equal(r.text, "tcp dport 80 accept comment \"web # handle 9\"");

	snprintf(r.chain, sizeof(r.chain), "my chain");
	r.handle = 7;
	assert_int_equal(pc_nft_rule_text(listing, &r), 0);
	assert_string_equal(r.text, "udp dport 53 reject");

	/* The same handle in another table is another rule. */
	snprintf(r.family, sizeof(r.family), "ip");
	snprintf(r.table, sizeof(r.table), "nat");
	snprintf(r.chain, sizeof(r.chain), "input");
	r.handle = 3;
	r.text[0] = '\0';
	assert_int_equal(pc_nft_rule_text(listing, &r), 0);
	assert_string_equal(r.text, "tcp dport 8080 drop");
	r.handle = 4; /* handle 4 is a set, not a rule */
	r.text[0] = '\0';
	assert_int_equal(pc_nft_rule_text(listing, &r), -ENOENT);
	assert_string_equal(r.text, "");
}

static const char save_c[] = "# Generated by iptables-save v1.8.9 (nf_tables)\n"
			     "*filter\n"
			     ":INPUT DROP [4:240]\n"
			     ":FORWARD ACCEPT [0:0]\n"
			     ":OUTPUT ACCEPT [10:600]\n"
			     "[0:0] -A INPUT -p tcp -m tcp --dport 22 -j DROP\n"
			     "[2:120] -A INPUT -p tcp -m tcp --dport 8080 -j DROP\n"
			     "[2:120] -A INPUT -p tcp -m multiport --dports 9000:9010,9100 -j "
			     "REJECT --reject-with tcp-reset\n"
			     "[6:300] -A INPUT -p tcp -m tcp --dport 443 -j ACCEPT\n"
			     "COMMIT\n";

static void test_ipt_find_rule(void **state)
{
	struct pc_rule_ref r;

	(void)state;
	assert_int_equal(pc_ipt_find_rule(save_c, "ip", PC_PROTO_TCP, 8080, &r), 0);
	assert_string_equal(r.text, "-A INPUT -p tcp -m tcp --dport 8080 -j DROP");
	assert_string_equal(r.table, "filter");
	assert_string_equal(r.chain, "INPUT");
	assert_string_equal(r.family, "ip");
	assert_false(r.has_handle);

	assert_int_equal(pc_ipt_find_rule(save_c, "ip", PC_PROTO_TCP, 9005, &r), 0);
	assert_non_null(strstr(r.text, "--dports 9000:9010,9100 -j REJECT"));
	assert_int_equal(pc_ipt_find_rule(save_c, "ip", PC_PROTO_TCP, 9100, &r), 0);
	assert_non_null(strstr(r.text, "REJECT"));

	/* Port 22's rule never counted a packet: the DROP policy that did is the answer. */
	assert_int_equal(pc_ipt_find_rule(save_c, "ip", PC_PROTO_TCP, 22, &r), 0);
	assert_string_equal(r.chain, "INPUT");
	assert_string_equal(r.text, "policy DROP");

	/* A UDP probe does not match -p tcp rules. */
	assert_int_equal(pc_ipt_find_rule(save_c, "ip", PC_PROTO_UDP, 8080, &r), 0);
	assert_string_equal(r.text, "policy DROP");

	/* A single incremented rule without ports (a source range) is the answer. */
	assert_int_equal(pc_ipt_find_rule("*filter\n:INPUT ACCEPT [0:0]\n"
					  "[3:180] -A INPUT -s 10.0.0.0/8 -j DROP\nCOMMIT\n",
					  "ip", PC_PROTO_UDP, 53, &r),
			 0);
	assert_string_equal(r.text, "-A INPUT -s 10.0.0.0/8 -j DROP");
	/* Nothing moved: unknown. */
	assert_int_equal(pc_ipt_find_rule("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n", "ip",
					  PC_PROTO_TCP, 53, &r),
			 -ENOENT);
}

static struct pc_preflight_port ports3[3];

static void fill_result(struct pc_preflight_result *r, bool baseline)
{
	memset(r, 0, sizeof(*r));
	memset(ports3, 0, sizeof(ports3));
	ports3[0] = (struct pc_preflight_port){.proto = PC_PROTO_TCP, .dir = PC_DIR_IN, .port = 22};
	ports3[1] = (struct pc_preflight_port){.proto = PC_PROTO_TCP,
					       .dir = PC_DIR_IN,
					       .port = 8080,
					       .verdict = PC_VERDICT_BLOCKED,
					       .failure = PC_FAIL_TIMEOUT,
					       .drop_reason = "NETFILTER_DROP"};
	ports3[1].rule = (struct pc_rule_ref){.known = true,
					      .family = "inet",
					      .table = "filter",
					      .chain = "input",
					      .has_handle = true,
					      .handle = 3,
					      .text = "tcp dport 8080 drop"};
	ports3[2] = (struct pc_preflight_port){.proto = PC_PROTO_UDP,
					       .dir = PC_DIR_OUT,
					       .port = 53,
					       .verdict = PC_VERDICT_BLOCKED,
					       .failure = PC_FAIL_TIMEOUT};
	r->ports = ports3;
	r->nports = 3;
	r->blocked = 2;
	r->bpf_evidence = true;
	snprintf(r->from, sizeof(r->from), "192.0.2.1");
	snprintf(r->to, sizeof(r->to), "192.0.2.2");
	if (baseline) {
		r->has_baseline = true;
		ports3[2].baseline_verdict = PC_VERDICT_BLOCKED;
		r->blocked = 1;
		r->baseline_blocked = 1;
	}
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("key '%s' missing", key);
	return v;
}

static void test_json(void **state)
{
	struct pc_preflight_result r;
	struct json_object *doc, *ports, *p, *ev, *rule;

	(void)state;
	fill_result(&r, false);
	doc = pc_preflight_json(&r, "new.nft", NULL);
	assert_string_equal(json_object_get_string(get(doc, "ruleset")), "new.nft");
	assert_int_equal(json_object_get_int(get(doc, "blocked")), 2);
	ports = get(doc, "ports");
	assert_int_equal(json_object_array_length(ports), 3);

	p = json_object_array_get_idx(ports, 0);
	assert_string_equal(json_object_get_string(get(p, "proto")), "tcp");
	assert_true(json_object_is_type(get(p, "port"), json_type_int));
	assert_int_equal(json_object_get_int(get(p, "port")), 22);
	assert_string_equal(json_object_get_string(get(p, "direction")), "in");
	assert_string_equal(json_object_get_string(get(p, "verdict")), "reachable");
	assert_null(get(p, "evidence"));

	p = json_object_array_get_idx(ports, 1);
	assert_string_equal(json_object_get_string(get(p, "verdict")), "blocked");
	ev = get(p, "evidence");
	assert_string_equal(json_object_get_string(get(ev, "drop_reason")), "NETFILTER_DROP");
	rule = get(ev, "rule");
	assert_string_equal(json_object_get_string(get(rule, "family")), "inet");
	assert_string_equal(json_object_get_string(get(rule, "table")), "filter");
	assert_string_equal(json_object_get_string(get(rule, "chain")), "input");
	assert_true(json_object_is_type(get(rule, "handle"), json_type_int));
	assert_int_equal(json_object_get_int64(get(rule, "handle")), 3);
	assert_string_equal(json_object_get_string(get(rule, "text")), "tcp dport 8080 drop");

	/* Unknown evidence is null, not missing. */
	p = json_object_array_get_idx(ports, 2);
	assert_string_equal(json_object_get_string(get(p, "proto")), "udp");
	assert_string_equal(json_object_get_string(get(p, "direction")), "out");
	ev = get(p, "evidence");
	assert_null(get(ev, "drop_reason"));
	assert_null(get(ev, "rule"));
	json_object_put(doc);

	/* With a baseline only the newly blocked port is listed. */
	fill_result(&r, true);
	doc = pc_preflight_json(&r, "new.nft", "old.nft");
	assert_string_equal(json_object_get_string(get(doc, "baseline")), "old.nft");
	ports = get(doc, "ports");
	assert_int_equal(json_object_array_length(ports), 1);
	assert_int_equal(json_object_get_int(get(json_object_array_get_idx(ports, 0), "port")),
			 8080);
	assert_int_equal(json_object_get_int(get(doc, "blocked")), 1);
	assert_int_equal(json_object_get_int(get(doc, "already_blocked")), 1);
	json_object_put(doc);
}

static void test_table(void **state)
{
	struct pc_preflight_result r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	fill_result(&r, false);
	f = open_memstream(&buf, &len);
	pc_preflight_table(f, &r, "new.nft", NULL);
	fclose(f);
	assert_non_null(strstr(buf, "tcp/22:in          reachable\n"));
	assert_non_null(strstr(buf, "tcp/8080:in        BLOCKED    timeout      NETFILTER_DROP"
				    "         inet filter input handle 3: tcp dport 8080 drop\n"));
	assert_non_null(strstr(buf, "udp/53:out         BLOCKED    timeout      -"));
	assert_non_null(strstr(buf, "2 of 3 ports blocked\n"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkt_ports),     cmocka_unit_test(test_trace_feed),
		cmocka_unit_test(test_nft_rule_text), cmocka_unit_test(test_ipt_find_rule),
		cmocka_unit_test(test_json),	      cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
