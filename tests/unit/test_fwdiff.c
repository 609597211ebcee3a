// SPDX-License-Identifier: GPL-2.0
/* test_fwdiff.c: nft listings parsed, and the added/removed entries and summary of a change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "firewall/diff.h"
#include "firewall/listing.h"

/* As `nft -a -s list ruleset` prints it (nftables 1.0.6). */
static const char base_listing[] =
	"table inet filter { # handle 1\n"
	"\tset blk { # handle 4\n"
	"\t\ttype ipv4_addr\n"
	"\t\telements = { 10.0.0.1, 10.0.0.2 }\n"
	"\t}\n"
	"\n"
	"\tchain input { # handle 1\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\ttcp dport 22 counter accept comment \"a # handle 99\" # handle 6\n"
	"\t\tip saddr @blk drop # handle 7\n"
	"\t\ttcp dport { 8001, 8002 } drop # handle 9\n"
	"\t\tjump sub # handle 10\n"
	"\t}\n"
	"\n"
	"\tchain sub { # handle 2\n"
	"\t\tudp dport 53 accept # handle 11\n"
	"\t}\n"
	"}\n"
	"table ip nat { # handle 2\n"
	"\tchain post { # handle 1\n"
	"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	"\t\tmasquerade # handle 2\n"
	"\t}\n"
	"}\n";

static void parse(const char *text, struct pc_nft_listing *l)
{
	assert_int_equal(pc_nft_listing_parse(text, l), 0);
}

/* diff(before, after) into d. */
static void diff(const char *before, const char *after, struct pc_fw_diff *d)
{
	struct pc_nft_listing b, a;

	parse(before, &b);
	parse(after, &a);
	assert_int_equal(pc_fw_diff(&b, &a, d), 0);
	pc_nft_listing_free(&b);
	pc_nft_listing_free(&a);
}

/* The listing with one line replaced (old must occur once); a malloc'd copy. */
static char *edit(const char *text, const char *old, const char *new)
{
	const char *p = strstr(text, old);
	size_t n = strlen(text) - strlen(old) + strlen(new) + 1;
	char *out = malloc(n);

	assert_non_null(p);
	snprintf(out, n, "%.*s%s%s", (int)(p - text), text, new, p + strlen(old));
	return out;
}

static void test_parse(void **state)
{
	struct pc_nft_listing l;
	char pol[16];
	int i, rules = 0;

	(void)state;
	parse(base_listing, &l);
	assert_int_equal(l.n, 2 + 3 + 1 + 5 + 1); /* tables, chains, set, rules ... */
	assert_int_equal(l.o[0].kind, PC_NFT_TABLE);
	assert_string_equal(l.o[0].family, "inet");
	assert_string_equal(l.o[0].name, "filter");
	assert_int_equal(l.o[0].handle, 1);
	assert_int_equal(l.o[0].nchains, 2);
	assert_int_equal(l.o[0].nrules, 5);
	assert_int_equal(l.o[0].nsets, 1);
	assert_int_equal(l.o[1].kind, PC_NFT_SET);
	assert_string_equal(l.o[1].name, "blk");
	assert_string_equal(l.o[1].type, "set");
	assert_string_equal(l.o[1].text, "type ipv4_addr");
	assert_int_equal(l.o[1].nelems, 2);
	assert_string_equal(l.o[1].elems[1], "10.0.0.2");
	assert_int_equal(l.o[2].kind, PC_NFT_CHAIN);
	assert_string_equal(l.o[2].text, "type filter hook input priority filter; policy accept;");
	assert_string_equal(pc_nft_chain_policy(&l.o[2], pol, sizeof(pol)), "accept");
	for (i = 0; i < l.n; i++)
		if (l.o[i].kind == PC_NFT_RULE)
			rules++;
	assert_int_equal(rules, 6);
	/* The last " # handle": the comment keeps its words. */
	assert_string_equal(l.o[3].text, "tcp dport 22 counter accept comment \"a # handle 99\"");
	assert_int_equal(l.o[3].handle, 6);
	assert_int_equal(l.o[3].chain, 2);
	assert_int_equal(l.o[3].table, 0);
	assert_string_equal(l.o[l.n - 1].text, "masquerade");
	assert_string_equal(l.o[l.n - 1].family, "ip");
	pc_nft_listing_free(&l);
}

static void test_parse_multiline_elements(void **state)
{
	static const char text[] = "table ip t { # handle 3\n"
				   "\tset s { # handle 1\n"
				   "\t\ttype ipv4_addr\n"
				   "\t\tflags interval\n"
				   "\t\telements = { 10.0.0.0/8, 192.168.0.1,\n"
				   "\t\t\t     192.168.0.2, { 1.2.3.4 } }\n"
				   "\t}\n"
				   "}\n";
	struct pc_nft_listing l;

	(void)state;
	parse(text, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.o[1].text, "type ipv4_addr; flags interval");
	assert_int_equal(l.o[1].nelems, 4);
	assert_string_equal(l.o[1].elems[0], "10.0.0.0/8");
	assert_string_equal(l.o[1].elems[2], "192.168.0.2");
	assert_string_equal(l.o[1].elems[3], "{ 1.2.3.4 }");
	pc_nft_listing_free(&l);
}

/* A stored listing (with counter values) against a live stateless one: no change. */
static void test_state_is_not_a_change(void **state)
{
	static const char stateful[] =
		"table inet t {\n"
		"\tcounter c {\n"
		"\t\tpackets 12 bytes 3400\n"
		"\t}\n"
		"\tquota q {\n"
		"\t\t100 mbytes used 5 mbytes\n"
		"\t}\n"
		"\tchain input {\n"
		"\t\ttype filter hook input priority filter; policy accept;\n"
		"\t\ttcp dport 22 counter packets 5 bytes 300 accept\n"
		"\t}\n"
		"}\n";
	static const char stateless[] =
		"table inet t { # handle 4\n"
		"\tcounter c { # handle 1\n"
		"\t}\n"
		"\tquota q { # handle 2\n"
		"\t\t100 mbytes\n"
		"\t}\n"
		"\tchain input { # handle 3\n"
		"\t\ttype filter hook input priority filter; policy accept;\n"
		"\t\ttcp dport 22 counter accept # handle 5\n"
		"\t}\n"
		"}\n";
	struct pc_fw_diff d;

	(void)state;
	diff(stateful, stateless, &d);
	assert_string_equal(d.summary, "no rule changes");
	pc_fw_diff_free(&d);
}

static void test_no_change(void **state)
{
	struct pc_fw_diff d;

	(void)state;
	diff(base_listing, base_listing, &d);
	assert_int_equal(d.added_total + d.removed_total, 0);
	assert_string_equal(d.summary, "no rule changes");
	pc_fw_diff_free(&d);
}

static void test_rule_added(void **state)
{
	char *after = edit(base_listing, "\t\tjump sub # handle 10\n",
			   "\t\tjump sub # handle 10\n\t\ttcp dport 8031 drop # handle 12\n");
	struct pc_fw_diff d;

	(void)state;
	diff(base_listing, after, &d);
	assert_int_equal(d.added_total, 1);
	assert_int_equal(d.removed_total, 0);
	assert_int_equal(d.added[0].kind, PC_FWE_RULE);
	assert_string_equal(d.added[0].family, "inet");
	assert_string_equal(d.added[0].table, "filter");
	assert_string_equal(d.added[0].chain, "input");
	assert_true(d.added[0].has_handle);
	assert_int_equal(d.added[0].handle, 12);
	assert_string_equal(d.added[0].text, "tcp dport 8031 drop");
	assert_string_equal(d.summary,
			    "added rule inet filter input handle 12: tcp dport 8031 drop");
	pc_fw_diff_free(&d);
	free(after);
}

static void test_rule_replaced_and_removed(void **state)
{
	/* handle 9 replaced in place (same handle, new text), handle 11 deleted. */
	char *a1 = edit(base_listing, "tcp dport { 8001, 8002 } drop # handle 9",
			"tcp dport { 8001, 8003 } drop # handle 9");
	char *a2 = edit(a1, "\t\tudp dport 53 accept # handle 11\n", "");
	struct pc_fw_diff d;
	struct json_object *arr, *e, *v;

	(void)state;
	diff(base_listing, a2, &d);
	assert_int_equal(d.added_total, 1);
	assert_int_equal(d.removed_total, 2);
	assert_string_equal(d.added[0].text, "tcp dport { 8001, 8003 } drop");
	assert_int_equal(d.added[0].handle, 9);
	assert_string_equal(d.removed[0].text, "tcp dport { 8001, 8002 } drop");
	assert_string_equal(d.removed[1].text, "udp dport 53 accept");
	assert_string_equal(d.removed[1].chain, "sub");
	assert_string_equal(d.summary, "+1 -2 in inet filter input, inet filter sub");
	/* The contract's RULE objects. */
	arr = pc_fw_entries_json(d.removed, d.n_removed);
	assert_int_equal(json_object_array_length(arr), 2);
	e = json_object_array_get_idx(arr, 1);
	assert_true(json_object_object_get_ex(e, "handle", &v));
	assert_int_equal(json_object_get_int(v), 11);
	assert_true(json_object_object_get_ex(e, "family", &v));
	assert_string_equal(json_object_get_string(v), "inet");
	assert_true(json_object_object_get_ex(e, "kind", &v));
	assert_string_equal(json_object_get_string(v), "rule");
	assert_false(json_object_object_get_ex(e, "count", &v));
	json_object_put(arr);
	pc_fw_diff_free(&d);
	free(a1);
	free(a2);
}

static void test_one_place_summary(void **state)
{
	char *a1 = edit(base_listing, "\t\tjump sub # handle 10\n",
			"\t\tjump sub # handle 10\n\t\ttcp dport 1 drop # handle 12\n"
			"\t\ttcp dport 2 drop # handle 13\n");
	struct pc_fw_diff d;

	(void)state;
	diff(base_listing, a1, &d);
	assert_string_equal(d.summary,
			    "+2 -0 in inet filter input: +tcp dport 1 drop +tcp dport 2 drop");
	pc_fw_diff_free(&d);
	free(a1);
}

static void test_reload_recreates_handles(void **state)
{
	/* flush ruleset + the same file: every handle is new, nothing changed but one rule. */
	static const char reloaded[] =
		"table inet filter { # handle 7\n"
		"\tset blk { # handle 3\n"
		"\t\ttype ipv4_addr\n"
		"\t\telements = { 10.0.0.2, 10.0.0.1 }\n"
		"\t}\n"
		"\tchain input { # handle 1\n"
		"\t\ttype filter hook input priority filter; policy accept;\n"
		"\t\ttcp dport 22 counter accept comment \"a # handle 99\" # handle 4\n"
		"\t\tip saddr @blk drop # handle 5\n"
		"\t\ttcp dport { 8001, 8002 } drop # handle 6\n"
		"\t\tjump sub # handle 9\n"
		"\t}\n"
		"\tchain sub { # handle 2\n"
		"\t\tudp dport 53 drop # handle 8\n"
		"\t}\n"
		"}\n"
		"table ip nat { # handle 8\n"
		"\tchain post { # handle 1\n"
		"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		"\t\tmasquerade # handle 2\n"
		"\t}\n"
		"}\n";
	struct pc_fw_diff d;

	(void)state;
	diff(base_listing, reloaded, &d);
	assert_int_equal(d.added_total, 1);
	assert_int_equal(d.removed_total, 1);
	assert_string_equal(d.added[0].text, "udp dport 53 drop");
	assert_int_equal(d.added[0].handle, 8);
	assert_string_equal(d.removed[0].text, "udp dport 53 accept");
	assert_int_equal(d.removed[0].handle, 11);
	pc_fw_diff_free(&d);
}

static void test_same_handle_is_not_matched_across_incarnations(void **state)
{
	/* Table recreated (handle 1 -> 5): handle 9 in the new table is another rule. */
	char *a1 = edit(base_listing, "table inet filter { # handle 1",
			"table inet filter { # handle 5");
	char *a2 =
		edit(a1, "tcp dport { 8001, 8002 } drop # handle 9", "tcp dport 9 drop # handle 9");
	struct pc_fw_diff d;

	(void)state;
	diff(base_listing, a2, &d);
	assert_int_equal(d.added_total, 1);
	assert_int_equal(d.removed_total, 1);
	assert_string_equal(d.added[0].text, "tcp dport 9 drop");
	pc_fw_diff_free(&d);
	free(a1);
	free(a2);
}

static void test_moved_rule(void **state)
{
	/* The accept of 22 moved after the drops (same handles): order is behaviour. */
	static const char before[] = "table ip t { # handle 1\n"
				     "\tchain c { # handle 1\n"
				     "\t\ttype filter hook input priority filter; policy accept;\n"
				     "\t\ttcp dport 22 accept # handle 2\n"
				     "\t\ttcp dport 1-1000 drop # handle 3\n"
				     "\t\ttcp dport 2000 drop # handle 4\n"
				     "\t}\n"
				     "}\n";
	static const char after[] = "table ip t { # handle 1\n"
				    "\tchain c { # handle 1\n"
				    "\t\ttype filter hook input priority filter; policy accept;\n"
				    "\t\ttcp dport 1-1000 drop # handle 3\n"
				    "\t\ttcp dport 2000 drop # handle 4\n"
				    "\t\ttcp dport 22 accept # handle 5\n"
				    "\t}\n"
				    "}\n";
	struct pc_fw_diff d;

	(void)state;
	diff(before, after, &d);
	assert_int_equal(d.added_total, 1);
	assert_int_equal(d.removed_total, 1);
	assert_string_equal(d.removed[0].text, "tcp dport 22 accept");
	assert_int_equal(d.removed[0].handle, 2);
	assert_int_equal(d.added[0].handle, 5);
	pc_fw_diff_free(&d);
}

static void test_flush_ruleset_is_one_entry(void **state)
{
	struct pc_fw_diff d;
	struct json_object *arr, *e, *v;

	(void)state;
	diff(base_listing, "", &d);
	assert_int_equal(d.removed_total, 1);
	assert_int_equal(d.added_total, 0);
	assert_int_equal(d.removed[0].kind, PC_FWE_FLUSH);
	assert_int_equal(d.removed[0].count, 6);
	assert_string_equal(d.removed[0].text, "flush ruleset (2 tables, 6 rules)");
	assert_string_equal(d.summary, "flush ruleset (2 tables, 6 rules)");
	arr = pc_fw_entries_json(d.removed, d.n_removed);
	e = json_object_array_get_idx(arr, 0);
	assert_true(json_object_object_get_ex(e, "table", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(e, "handle", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(e, "count", &v));
	assert_int_equal(json_object_get_int(v), 6);
	json_object_put(arr);
	pc_fw_diff_free(&d);
}

static void test_flush_chain_and_table(void **state)
{
	char *a1 = edit(base_listing,
			"\t\ttcp dport 22 counter accept comment \"a # handle 99\" # handle 6\n"
			"\t\tip saddr @blk drop # handle 7\n"
			"\t\ttcp dport { 8001, 8002 } drop # handle 9\n"
			"\t\tjump sub # handle 10\n",
			"");
	char *a2 = edit(a1, "\t\tudp dport 53 accept # handle 11\n", "");
	struct pc_fw_diff d;

	(void)state;
	diff(base_listing, a1, &d);
	assert_int_equal(d.removed_total, 1);
	assert_int_equal(d.removed[0].kind, PC_FWE_FLUSH);
	assert_string_equal(d.removed[0].chain, "input");
	assert_string_equal(d.summary, "flush chain inet filter input (4 rules)");
	pc_fw_diff_free(&d);
	diff(base_listing, a2, &d);
	assert_int_equal(d.removed_total, 1);
	assert_string_equal(d.summary, "flush table inet filter (5 rules)");
	pc_fw_diff_free(&d);
	free(a1);
	free(a2);
}

static void test_table_added_and_deleted(void **state)
{
	static const char extra[] = "table inet pcblock { # handle 9\n"
				    "\tchain input { # handle 1\n"
				    "\t\ttype filter hook input priority filter; policy accept;\n"
				    "\t\ttcp dport { 8001, 8002 } drop # handle 2\n"
				    "\t}\n"
				    "}\n";
	char *after = malloc(sizeof(base_listing) + sizeof(extra));
	struct pc_fw_diff d;

	(void)state;
	snprintf(after, sizeof(base_listing) + sizeof(extra), "%s%s", base_listing, extra);
	diff(base_listing, after, &d);
	assert_int_equal(d.added_total, 1);
	assert_int_equal(d.removed_total, 0);
	assert_int_equal(d.added[0].kind, PC_FWE_TABLE);
	assert_string_equal(d.added[0].table, "pcblock");
	assert_string_equal(d.summary, "added table inet pcblock (1 chain, 1 rule, 0 sets)");
	pc_fw_diff_free(&d);
	diff(after, base_listing, &d);
	assert_int_equal(d.removed_total, 1);
	assert_int_equal(d.added_total, 0);
	assert_int_equal(d.removed[0].kind, PC_FWE_TABLE);
	assert_string_equal(d.summary, "removed table inet pcblock (1 chain, 1 rule, 0 sets)");
	pc_fw_diff_free(&d);
	free(after);
}

static void test_policy_and_elements(void **state)
{
	char *a1 = edit(base_listing, "priority filter; policy accept;\n\t\ttcp",
			"priority filter; policy drop;\n\t\ttcp");
	char *a2 = edit(a1, "elements = { 10.0.0.1, 10.0.0.2 }",
			"elements = { 10.0.0.2, 10.0.0.3, 10.0.0.4 }");
	struct pc_fw_diff d;

	(void)state;
	diff(base_listing, a1, &d);
	assert_int_equal(d.added_total, 1);
	assert_int_equal(d.removed_total, 1);
	assert_int_equal(d.added[0].kind, PC_FWE_POLICY);
	assert_false(d.added[0].has_handle);
	assert_string_equal(d.added[0].text, "policy drop");
	assert_string_equal(d.summary, "inet filter input: policy accept -> drop");
	pc_fw_diff_free(&d);
	diff(a1, a2, &d);
	assert_int_equal(d.added_total, 1);
	assert_int_equal(d.removed_total, 1);
	assert_int_equal(d.added[0].kind, PC_FWE_ELEMENTS);
	assert_string_equal(d.added[0].object, "blk");
	assert_int_equal(d.added[0].count, 2);
	assert_string_equal(d.added[0].text, "10.0.0.3, 10.0.0.4");
	assert_string_equal(d.removed[0].text, "10.0.0.1");
	pc_fw_diff_free(&d);
	free(a1);
	free(a2);
}

static void test_many_rules_bounded(void **state)
{
	size_t cap = 1 << 20, n;
	char *big = malloc(cap);
	struct pc_fw_diff d;
	int i;

	(void)state;
	n = snprintf(big, cap,
		     "table inet filter { # handle 1\n\tchain input { # handle 1\n"
		     "\t\ttype filter hook input priority filter; policy accept;\n");
	for (i = 0; i < 3000; i++)
		n += snprintf(big + n, cap - n, "\t\ttcp dport %d drop # handle %d\n", i + 1,
			      i + 2);
	snprintf(big + n, cap - n, "\t}\n}\n");
	diff("table inet filter { # handle 1\n\tchain input { # handle 1\n"
	     "\t\ttype filter hook input priority filter; policy accept;\n\t}\n}\n",
	     big, &d);
	assert_int_equal(d.added_total, 3000);
	assert_int_equal(d.n_added, PC_FW_DIFF_MAX);
	assert_true(strlen(d.summary) < PC_FW_SUMMARY_LEN);
	assert_true(!strncmp(d.summary, "+3000 -0 in inet filter input: +tcp dport 1 drop", 48));
	pc_fw_diff_free(&d);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_multiline_elements),
		cmocka_unit_test(test_no_change),
		cmocka_unit_test(test_state_is_not_a_change),
		cmocka_unit_test(test_rule_added),
		cmocka_unit_test(test_rule_replaced_and_removed),
		cmocka_unit_test(test_one_place_summary),
		cmocka_unit_test(test_reload_recreates_handles),
		cmocka_unit_test(test_same_handle_is_not_matched_across_incarnations),
		cmocka_unit_test(test_moved_rule),
		cmocka_unit_test(test_flush_ruleset_is_one_entry),
		cmocka_unit_test(test_flush_chain_and_table),
		cmocka_unit_test(test_table_added_and_deleted),
		cmocka_unit_test(test_policy_and_elements),
		cmocka_unit_test(test_many_rules_bounded),
	};

	return cmocka_run_group_tests_name("fwdiff", tests, NULL, NULL);
}
