// SPDX-License-Identifier: GPL-2.0
/* test_liverule.c: the pure parts of the live rule: samples picked, packet roles, paths judged, handles mapped, messages. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <linux/netfilter/nf_tables.h>

#include "drops.h"
#include "firewall/liverule.h"
#include "portcanary.h"
#include "preflight/replay.h"

#define NF 77 /* NETFILTER_DROP's value on some kernel */

static struct pc_drop_sample smp(uint64_t t, uint32_t reason, uint8_t flags, uint16_t sport)
{
	struct pc_drop_sample s = {.time_ns = t,
				   .reason = reason,
				   .tcp_flags = flags,
				   .sport = sport,
				   .dport = 8001,
				   .proto = PC_PROTO_TCP,
				   .flags = PC_SAMPLE_RX};

	return s;
}

static void test_pick(void **state)
{
	struct pc_drop_sample in[6], out[6];
	int n;

	(void)state;
	in[0] = smp(100, NF, 0x10, 1); /* an ACK */
	in[1] = smp(300, NF, 0x02, 2); /* a SYN */
	in[2] = smp(200, 5, 0x02, 3);  /* another reason */
	in[3] = smp(50, NF, 0x02, 4);  /* too old */
	in[4] = smp(400, NF, 0x10, 5); /* the newest ACK */
	in[5] = smp(250, NF, 0x12, 6); /* a SYN-ACK is no opening */
	n = pc_drops_samples_pick(in, 6, NF, 60, out);
	assert_int_equal(n, 4);
	/* Openings first, then the newest first. */
	assert_int_equal(out[0].sport, 2);
	assert_int_equal(out[1].sport, 5);
	assert_int_equal(out[2].sport, 6);
	assert_int_equal(out[3].sport, 1);
	assert_int_equal(pc_drops_samples_pick(in, 6, 9, 0, out), 0);
}

static void test_pkt_and_generation(void **state)
{
	struct pc_drop_sample s = smp(1, NF, 0x02, 40000);
	struct pc_replay_pkt p;
	char a[INET6_ADDRSTRLEN];

	(void)state;
	s.flags = PC_SAMPLE_RX | PC_SAMPLE_IPV6;
	inet_pton(AF_INET6, "2001:db8::1", s.saddr);
	inet_pton(AF_INET6, "2001:db8::2", s.daddr);
	pc_liverule_pkt(&s, "eth0", &p);
	assert_int_equal(p.family, AF_INET6);
	assert_true(p.rx);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 8001);
	assert_int_equal(p.tcp_flags, 0x02);
	assert_string_equal(p.ifname, "eth0");
	inet_ntop(AF_INET6, &p.saddr, a, sizeof(a));
	assert_string_equal(a, "2001:db8::1");

	memset(s.saddr, 0, 16);
	memset(s.daddr, 0, 16);
	s.flags = 0;
	inet_pton(AF_INET, "10.0.0.9", s.saddr);
	inet_pton(AF_INET, "10.0.0.1", s.daddr);
	pc_liverule_pkt(&s, "lo", &p);
	assert_int_equal(p.family, AF_INET);
	assert_false(p.rx);
	inet_ntop(AF_INET, &p.daddr, a, sizeof(a));
	assert_string_equal(a, "10.0.0.1");

	assert_true(pc_liverule_current(5, 5));
	assert_true(pc_liverule_current(6, 5));
	assert_false(pc_liverule_current(4, 5));
	assert_true(pc_liverule_current(3, 0));		  /* no change heard of */
	assert_true(pc_liverule_current(2, 0xfffffffeu)); /* wrapped */
}

static void addr(int family, const char *s, union pc_sb_addr *a)
{
	assert_int_equal(pc_sb_addr_parse(s, a), family);
}

static void test_flow(void **state)
{
	struct pc_replay_req in = {.proto = PC_PROTO_TCP, .dir = PC_DIR_IN, .port = 8001};
	struct pc_replay_req out = {.proto = PC_PROTO_TCP, .dir = PC_DIR_OUT, .port = 5432};
	struct pc_replay_pkt p = {.family = AF_INET};
	struct pc_replay_flow f;
	union pc_sb_addr c;

	(void)state;
	/* Inbound: a client's SYN received. */
	addr(AF_INET, "198.51.100.1", &p.saddr);
	addr(AF_INET, "198.51.100.2", &p.daddr);
	p.sport = 40000;
	p.dport = 8001;
	p.tcp_flags = 0x02;
	p.rx = true;
	assert_int_equal(pc_replay_flow_of(&in, &p, &f), 0);
	addr(AF_INET, "198.51.100.1", &c);
	assert_memory_equal(&f.client, &c, 4);
	assert_int_equal(f.client_port, 40000);
	assert_int_equal(f.server_port, 8001);
	assert_false(f.client_is_host);
	assert_true(f.from_client);
	assert_int_equal(f.kind, PC_KIND_SYN);
	/* Inbound: our SYN-ACK sent back. */
	p.saddr = f.server;
	p.daddr = f.client;
	p.sport = 8001;
	p.dport = 40000;
	p.tcp_flags = 0x12;
	p.rx = false;
	assert_int_equal(pc_replay_flow_of(&in, &p, &f), 0);
	assert_memory_equal(&f.client, &c, 4);
	assert_false(f.from_client);
	assert_int_equal(f.kind, PC_KIND_SYNACK);
	/* Outbound: our SYN to the database, sent. */
	p.sport = 41000;
	p.dport = 5432;
	p.tcp_flags = 0x02;
	assert_int_equal(pc_replay_flow_of(&out, &p, &f), 0);
	assert_true(f.client_is_host);
	assert_true(f.from_client);
	assert_int_equal(f.client_port, 41000);
	assert_int_equal(f.server_port, 5432);
	/* Outbound: its answer, received. */
	p.rx = true;
	p.sport = 5432;
	p.dport = 41000;
	p.tcp_flags = 0x14;
	assert_int_equal(pc_replay_flow_of(&out, &p, &f), 0);
	assert_false(f.from_client);
	assert_int_equal(f.kind, PC_KIND_RST);
	/* Not this port's. */
	p.sport = 5433;
	assert_int_equal(pc_replay_flow_of(&out, &p, &f), -EINVAL);
	assert_int_equal(pc_replay_kind(PC_PROTO_UDP, 0x02), PC_KIND_DATA);
	assert_int_equal(pc_replay_kind(PC_PROTO_TCP, 0x18), PC_KIND_DATA);
}

/* The copy, as the sandbox lists it: its own handles. */
static const char copy_text[] =
	"table inet filter { # handle 1\n"
	"\tchain input { # handle 1\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tiif \"lo\" accept # handle 3\n"
	"\t\ttcp dport 9 jump blocked # handle 5\n"
	"\t\tip saddr 10.0.0.0/8 tcp dport 8001 counter packets 0 bytes 0 drop # handle 6\n"
	"\t\tmeta mark 0x1 drop # handle 7\n"
	"\t}\n"
	"\tchain blocked { # handle 2\n"
	"\t\tct state established accept # handle 8\n"
	"\t\tdrop # handle 9\n"
	"\t}\n"
	"}\n";
/* The live ruleset it was loaded from: other handles, the same order. */
static const char live_text[] =
	"table inet filter { # handle 1\n"
	"\tchain input { # handle 1\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tiif \"lo\" accept # handle 2\n"
	"\t\ttcp dport 9 jump blocked # handle 11\n"
	"\t\tip saddr 10.0.0.0/8 tcp dport 8001 counter packets 5 bytes 300 drop # handle 12\n"
	"\t\tmeta mark 0x1 drop # handle 14\n"
	"\t}\n"
	"\tchain blocked { # handle 4\n"
	"\t\tct state established accept # handle 15\n"
	"\t\tdrop # handle 16\n"
	"\t}\n"
	"}\n";

static struct pc_replay_ev ev(uint32_t type, const char *chain, int64_t handle, int32_t verdict)
{
	struct pc_replay_ev e = {.type = type, .verdict = verdict};

	snprintf(e.family, sizeof(e.family), "inet");
	snprintf(e.table, sizeof(e.table), "filter");
	snprintf(e.chain, sizeof(e.chain), "%s", chain);
	e.has_handle = handle >= 0;
	e.handle = handle >= 0 ? (uint64_t)handle : 0;
	return e;
}

static void test_paths(void **state)
{
	struct pc_nft_rules copy;
	struct pc_replay_ev path[4];
	char why[320];

	(void)state;
	assert_int_equal(pc_nft_rules_parse(copy_text, &copy), 0);
	/* Dropped by handle 6: rules 3, 5, 6 were evaluated; the mark rule after it was not. */
	path[0] = ev(NFT_TRACETYPE_RULE, "input", 6, 0 /* NF_DROP */);
	assert_false(pc_replay_path_outside(&copy, path, 1, why, sizeof(why)));
	assert_false(pc_replay_path_conn_state(&copy, path, 1, why, sizeof(why)));
	/* Through to the policy: the whole chain, the mark rule with it. */
	path[0] = ev(NFT_TRACETYPE_POLICY, "input", -1, 1);
	assert_true(pc_replay_path_outside(&copy, path, 1, why, sizeof(why)));
	assert_non_null(strstr(why, "a packet mark set outside the ruleset (meta mark) in inet "
				    "filter input"));
	/* Jumped to "blocked", dropped there: its ct rule was evaluated. */
	path[0] = ev(NFT_TRACETYPE_RULE, "input", 5, -3 /* NFT_JUMP */);
	path[1] = ev(NFT_TRACETYPE_RULE, "blocked", 9, 0);
	assert_false(pc_replay_path_outside(&copy, path, 2, why, sizeof(why)));
	assert_true(pc_replay_path_conn_state(&copy, path, 2, why, sizeof(why)));
	assert_non_null(strstr(why, "conntrack state (ct ...) in inet filter blocked"));
	/* Chains the packet never met do not count. */
	path[0] = ev(NFT_TRACETYPE_RULE, "input", 3, 1);
	assert_false(pc_replay_path_conn_state(&copy, path, 1, why, sizeof(why)));
	pc_nft_rules_free(&copy);
}

static void test_live_rule(void **state)
{
	struct pc_nft_rules copy, live, other;
	struct pc_rule_ref r = {.known = true, .has_handle = true, .handle = 6};

	(void)state;
	assert_int_equal(pc_nft_rules_parse(copy_text, &copy), 0);
	assert_int_equal(pc_nft_rules_parse(live_text, &live), 0);
	snprintf(r.family, sizeof(r.family), "inet");
	snprintf(r.table, sizeof(r.table), "filter");
	snprintf(r.chain, sizeof(r.chain), "input");
	/* The copy's third rule is the live third rule: its handle, its text for people. */
	assert_int_equal(pc_replay_live_rule(&live, &copy, &r), 0);
	assert_int_equal(r.handle, 12);
	assert_string_equal(r.text, "ip saddr 10.0.0.0/8 tcp dport 8001 counter drop");
	/* A jumped-to chain. */
	snprintf(r.chain, sizeof(r.chain), "blocked");
	r.handle = 9;
	assert_int_equal(pc_replay_live_rule(&live, &copy, &r), 0);
	assert_int_equal(r.handle, 16);
	assert_string_equal(r.text, "drop");
	/* A policy. */
	r.has_handle = false;
	assert_int_equal(pc_replay_live_rule(&live, &copy, &r), 0);
	assert_string_equal(r.text, "policy drop");
	/* A copy that does not line up names nothing. */
	assert_int_equal(pc_nft_rules_parse("table inet filter { # handle 1\n\tchain blocked { # "
					      "handle 2\n\t\tdrop # handle 9\n\t}\n}\n",
					      &other),
			 0);
	r.has_handle = true;
	r.handle = 9;
	assert_int_equal(pc_replay_live_rule(&live, &other, &r), -ENOENT);
	r.handle = 99;
	assert_int_equal(pc_replay_live_rule(&live, &copy, &r), -ENOENT);
	pc_nft_rules_free(&copy);
	pc_nft_rules_free(&live);
	pc_nft_rules_free(&other);
}

static void test_messages(void **state)
{
	struct pc_replay_req req = {.proto = PC_PROTO_UDP, .dir = PC_DIR_OUT, .port = 53}, back;
	struct pc_replay_result res = {.reproduced = 2, .replayed = 3, .ms = 4.25, .generation = 9},
				rback;
	struct json_object *o, *t;
	uint32_t id;
	int slot;

	(void)state;
	req.npkts = 2;
	req.pkts[0] = (struct pc_replay_pkt){
		.family = AF_INET6, .sport = 41000, .dport = 53, .rx = false, .ifname = "eth0"};
	addr(AF_INET6, "2001:db8::1", &req.pkts[0].saddr);
	addr(AF_INET6, "2001:db8::53", &req.pkts[0].daddr);
	req.pkts[1] = (struct pc_replay_pkt){
		.family = AF_INET, .sport = 53, .dport = 41000, .rx = true, .tcp_flags = 0x12};
	addr(AF_INET, "192.0.2.53", &req.pkts[1].saddr);
	addr(AF_INET, "192.0.2.1", &req.pkts[1].daddr);
	snprintf(req.pkts[1].ifname, IF_NAMESIZE, "lo");
	o = json_tokener_parse(json_object_to_json_string(t = pc_replay_req_json(&req, 42, 17)));
	json_object_put(t);
	assert_int_equal(pc_replay_req_parse(o, &back, &id, &slot), 0);
	json_object_put(o);
	assert_int_equal(id, 42);
	assert_int_equal(slot, 17);
	assert_int_equal(back.proto, PC_PROTO_UDP);
	assert_int_equal(back.dir, PC_DIR_OUT);
	assert_int_equal(back.port, 53);
	assert_int_equal(back.npkts, 2);
	assert_memory_equal(&back.pkts[0], &req.pkts[0], sizeof(req.pkts[0]));
	assert_memory_equal(&back.pkts[1], &req.pkts[1], sizeof(req.pkts[1]));

	res.rule = (struct pc_rule_ref){.known = true, .has_handle = true, .handle = 7};
	snprintf(res.rule.family, sizeof(res.rule.family), "ip");
	snprintf(res.rule.table, sizeof(res.rule.table), "filter");
	snprintf(res.rule.chain, sizeof(res.rule.chain), "INPUT");
	snprintf(res.rule.text, sizeof(res.rule.text), "ip saddr 10.0.0.0/8 counter drop");
	o = json_tokener_parse(json_object_to_json_string(t = pc_replay_result_json(&res, 43, 18)));
	json_object_put(t);
	assert_int_equal(pc_replay_result_parse(o, &rback, &id, &slot), 0);
	json_object_put(o);
	assert_int_equal(id, 43);
	assert_int_equal(slot, 18);
	assert_memory_equal(&rback.rule, &res.rule, sizeof(res.rule));
	assert_int_equal(rback.reproduced, 2);
	assert_int_equal(rback.replayed, 3);
	assert_int_equal(rback.generation, 9);
	assert_true(rback.ms > 4.24 && rback.ms < 4.26);

	/* No rule: null, and why; a bad outcome number is an error, not an index. */
	o = json_tokener_parse("{\"op\":\"result\",\"id\":1,\"slot\":2,\"rule\":null,\"outcome\":"
			       "99,\"why\":\"because\"}");
	assert_int_equal(pc_replay_result_parse(o, &rback, &id, &slot), 0);
	json_object_put(o);
	assert_false(rback.rule.known);
	assert_int_equal(rback.outcome, PC_REPLAY_ERROR);
	assert_string_equal(rback.why, "because");
	o = json_tokener_parse("{\"op\":\"replay\",\"id\":1,\"slot\":2,\"packets\":[{\"saddr\":"
			       "\"1.2.3.4\",\"daddr\":\"::1\"}]}");
	assert_int_equal(pc_replay_req_parse(o, &back, &id, &slot), -EINVAL);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick),	  cmocka_unit_test(test_pkt_and_generation),
		cmocka_unit_test(test_flow),	  cmocka_unit_test(test_paths),
		cmocka_unit_test(test_live_rule), cmocka_unit_test(test_messages),
	};

	return cmocka_run_group_tests_name("liverule", tests, NULL, NULL);
}
