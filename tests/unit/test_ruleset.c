// SPDX-License-Identifier: GPL-2.0
/* test_ruleset.c: nft listings read as chains of rules; what a sandbox copy of a ruleset can reproduce. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "preflight/ruleset.h"

/* As `nft -a list ruleset` prints it (nftables 1.0.6), iptables-nft's table included. */
static const char listing[] =
	"table inet filter { # handle 1\n"
	"\tset allowed { # handle 5\n"
	"\t\ttype ipv4_addr\n"
	"\t\telements = { 10.1.1.1 }\n"
	"\t}\n"
	"\n"
	"\tchain input { # handle 1\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tiif \"lo\" accept # handle 2\n"
	"\t\tip saddr 10.0.0.0/8 tcp dport { 8001, 8002 } counter packets 12 bytes 720 drop # "
	"handle 4\n"
	"\t\ttcp dport 9 jump \"my-chain\" comment \"see # handle 99\" # handle 6\n"
	"\t}\n"
	"\n"
	"\tchain \"my-chain\" { # handle 3\n"
	"\t\tip saddr @allowed accept # handle 7\n"
	"\t}\n"
	"}\n"
	"# Warning: table ip filter is managed by iptables-nft, do not touch!\n"
	"table ip filter { # handle 2\n"
	"\tchain INPUT { # handle 1\n"
	"\t\ttype filter hook input priority filter; policy drop;\n"
	"\t\tip saddr 198.51.100.0/24 tcp dport 8005 counter packets 0 bytes 0 drop # handle "
	"2\n"
	"\t}\n"
	"}\n";

static void test_parse(void **state)
{
	const struct pc_nft_chain *c;
	struct pc_nft_rules l;

	(void)state;
	assert_int_equal(pc_nft_rules_parse(listing, &l), 0);
	assert_int_equal(l.nchains, 3);
	c = pc_nft_chain_find(&l, "inet", "filter", "input");
	assert_non_null(c);
	assert_int_equal(c->nrules, 3);
	assert_int_equal(c->rules[0]->handle, 2);
	assert_string_equal(c->rules[0]->text, "iif \"lo\" accept");
	assert_int_equal(c->rules[1]->handle, 4);
	/* The handle is the last one on the line: a comment may say "# handle" too. */
	assert_int_equal(c->rules[2]->handle, 6);
	assert_string_equal(c->rules[2]->text,
			    "tcp dport 9 jump \"my-chain\" comment \"see # handle 99\"");
	assert_int_equal(pc_nft_rule_pos(c, 4), 1);
	assert_int_equal(pc_nft_rule_pos(c, 5), -1);
	assert_int_equal(pc_nft_rule_pos(NULL, 4), -1);
	/* Quoted names; a set's lines are not rules; the table of the next family. */
	c = pc_nft_chain_find(&l, "inet", "filter", "my-chain");
	assert_non_null(c);
	assert_int_equal(c->nrules, 1);
	assert_int_equal(c->rules[0]->handle, 7);
	c = pc_nft_chain_find(&l, "ip", "filter", "INPUT");
	assert_non_null(c);
	assert_int_equal(c->nrules, 1);
	assert_int_equal(c->rules[0]->handle, 2);
	assert_null(pc_nft_chain_find(&l, "ip6", "filter", "INPUT"));
	assert_false(l.sets_marks);
	pc_nft_rules_free(&l);

	/* Without handles (`nft list ruleset`): chains, no rules. */
	assert_int_equal(pc_nft_rules_parse("table ip t {\n\tchain c {\n\t\tdrop\n\t}\n}\n", &l),
			 0);
	assert_int_equal(l.nchains, 1);
	assert_int_equal(l.chains[0].nrules, 0);
	pc_nft_rules_free(&l);
	assert_int_equal(pc_nft_rules_parse("", &l), 0);
	assert_int_equal(l.nchains, 0);
	pc_nft_rules_free(&l);

	assert_int_equal(pc_nft_rules_parse("table inet m { # handle 1\n\tchain c { # handle 1\n"
					    "\t\tmeta mark set 0x1 # handle 2\n\t}\n}\n",
					    &l),
			 0);
	assert_true(l.sets_marks);
	pc_nft_rules_free(&l);
}

static void test_display(void **state)
{
	char out[200];

	(void)state;
	pc_nft_rule_display("ip saddr 10.0.0.0/8 counter packets 12 bytes 720 drop", out,
			    sizeof(out));
	assert_string_equal(out, "ip saddr 10.0.0.0/8 counter drop");
	pc_nft_rule_display("counter packets 0 bytes 0", out, sizeof(out));
	assert_string_equal(out, "counter");
	/* Only the statement: not a word that happens to contain it. */
	pc_nft_rule_display("comment \"xcounter packets 1 bytes 2\" accept", out, sizeof(out));
	assert_string_equal(out, "comment \"xcounter packets 1 bytes 2\" accept");
	pc_nft_rule_display("tcp dport 8001 drop", out, 8);
	assert_string_equal(out, "tcp dpo");
}

static void test_outside_state(void **state)
{
	static const struct {
		const char *rule;
		bool marks_set;
		bool outside;
	} cases[] = {
		{"ip saddr 10.0.0.0/8 tcp dport 8001 drop", false, false},
		{"iif \"lo\" accept", false, false},
		{"iifname \"eth0\" tcp dport 22 accept", false, false},
		{"ct state established,related accept", false, false},
		{"ip saddr @blocked drop", false, false},
		{"tcp dport vmap { 22 : accept, 8004 : drop }", false, false},
		{"fib saddr . iif oif missing drop", false, false},
		{"meta mark 0x0000002a drop", false, true},
		{"meta mark 0x0000002a drop", true, false}, /* the ruleset sets it itself */
		{"meta mark set 0x1", false, false},
		{"ct mark 0x1 accept", false, true},
		{"meta skuid 1000 accept", false, true},
		{"socket transparent 1 accept", false, true},
		{"iif 7 drop", false, true},
		{"meta iif != 3 drop", false, true},
		{"ip ttl < 10 drop", false, true},
		{"tcp option maxseg size < 500 drop", false, true},
		{"@th,16,16 8001 drop", false, true},
		{"limit rate over 10/second drop", false, true},
		{"numgen random mod 2 0 drop", false, true},
		{"ct count over 10 drop", false, true},
		{"meta priority set 1", false, false},
		/* A comment's words are not expressions. */
		{"tcp dport 22 accept comment \"limit the ttl of socket mark\"", false, false},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *what = pc_nft_outside_state(cases[i].rule, cases[i].marks_set);

		if ((what != NULL) != cases[i].outside)
			fail_msg("'%s': expected %s, got %s", cases[i].rule,
				 cases[i].outside ? "outside state" : "clean", what ?: "clean");
	}
	assert_string_equal(pc_nft_outside_state("meta mark 0x1 drop", false),
			    "a packet mark set outside the ruleset (meta mark)");
	assert_string_equal(pc_nft_outside_state("iif 7 drop", false),
			    "an interface by index (iif/oif)");
}

static void test_conn_state(void **state)
{
	(void)state;
	assert_null(pc_nft_conn_state("ip saddr 10.0.0.0/8 tcp dport 8001 drop"));
	assert_non_null(pc_nft_conn_state("ct state established,related accept"));
	assert_non_null(pc_nft_conn_state("tcp flags & (fin|syn|rst|ack) == syn drop"));
	assert_non_null(pc_nft_conn_state("ct status dnat accept"));
	assert_null(pc_nft_conn_state("ct mark set 0x1"));
}

static void test_ifnames(void **state)
{
	char names[8][IF_NAMESIZE];
	const char *text = "table netdev n {\n"
			   "\tflowtable ft {\n"
			   "\t\thook ingress priority filter\n"
			   "\t\tdevices = { eth1, \"eth2\" }\n"
			   "\t}\n"
			   "\tchain c {\n"
			   "\t\ttype filter hook ingress device \"eth0\" priority filter; policy "
			   "accept;\n"
			   "\t\tiif \"lo\" accept\n"
			   "\t\toif != \"vs\" accept\n"
			   "\t\tiif { \"eth0\", \"wg0\" } accept\n"
			   "\t\tiif 7 drop\n"
			   "\t\tiifname \"notneeded\" drop\n"
			   "\t}\n"
			   "}\n";
	int n;

	(void)state;
	n = pc_nft_ifnames(text, names, 8);
	assert_int_equal(n, 6);
	assert_string_equal(names[0], "eth1");
	assert_string_equal(names[1], "eth2");
	assert_string_equal(names[2], "eth0");
	assert_string_equal(names[3], "lo");
	assert_string_equal(names[4], "vs");
	assert_string_equal(names[5], "wg0");
	/* Bounded. */
	assert_int_equal(pc_nft_ifnames(text, names, 2), 2);
}

static void test_copyable(void **state)
{
	const char *in = "# Warning: table ip filter is managed by iptables-nft, do not touch!\n"
			 "table ip filter { # handle 1\n"
			 "\tchain INPUT { # handle 1\n"
			 "\t\ttype filter hook input priority filter; policy accept;\n"
			 "\t\ttcp dport 8005 xt match recent counter packets 0 bytes 0 # handle 2\n"
			 "\t\txt match string counter packets 0 bytes 0 drop # handle 3\n"
			 "\t\tip saddr 10.0.0.0/8 counter packets 0 bytes 0 drop # handle 4\n"
			 "\t}\n"
			 "}\n"
			 "table inet other { # handle 2\n"
			 "\tchain c { # handle 1\n"
			 "\t\ttcp dport 22 accept comment \"not xt match x\" # handle 2\n"
			 "\t}\n"
			 "}\n";
	const char *want = "# Warning: table ip filter is managed by iptables-nft, do not touch!\n"
			   "table ip filter { # handle 1\n"
			   "\tchain INPUT { # handle 1\n"
			   "\t\ttype filter hook input priority filter; policy accept;\n"
			   "\t\ttcp dport 8005 jump " PC_NFT_XT_CHAIN "\n"
			   "\t\tjump " PC_NFT_XT_CHAIN "\n"
			   "\t\tip saddr 10.0.0.0/8 counter packets 0 bytes 0 drop # handle 4\n"
			   "\t}\n"
			   "\tchain " PC_NFT_XT_CHAIN " {\n\t\tdrop\n\t}\n"
			   "}\n"
			   "table inet other { # handle 2\n"
			   "\tchain c { # handle 1\n"
			   "\t\ttcp dport 22 accept comment \"not xt match x\" # handle 2\n"
			   "\t}\n"
			   "}\n";
	struct pc_nft_rules l;
	char *out;
	int n;

	(void)state;
	out = pc_nft_copyable(in, &n);
	assert_non_null(out);
	assert_string_equal(out, want);
	/* Only the comment said "xt match": that rule stays. */
	assert_int_equal(n, 2);
	/* The rules keep their places: the copy's third rule is the live third rule. */
	assert_int_equal(pc_nft_rules_parse(in, &l), 0);
	assert_int_equal(pc_nft_chain_find(&l, "ip", "filter", "INPUT")->nrules, 3);
	pc_nft_rules_free(&l);
	free(out);
	out = pc_nft_copyable("table inet t { # handle 1\n}\n", &n);
	assert_string_equal(out, "table inet t { # handle 1\n}\n");
	assert_int_equal(n, 0);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),	      cmocka_unit_test(test_display),
		cmocka_unit_test(test_outside_state), cmocka_unit_test(test_conn_state),
		cmocka_unit_test(test_ifnames),	      cmocka_unit_test(test_copyable),
	};

	return cmocka_run_group_tests_name("ruleset", tests, NULL, NULL);
}
