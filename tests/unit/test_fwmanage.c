// SPDX-License-Identifier: GPL-2.0
/* test_fwmanage.c: what apply refuses to run, how ports are grouped by their real clients, config. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "config.h"
#include "firewall/manage.h"

static int check(const char *text, char *err)
{
	return pc_apply_text_check(text, err, 300);
}

static void test_text_check(void **state)
{
	char err[300];

	(void)state;
	assert_int_equal(check("add rule inet filter input tcp dport 22 accept\n", err), 0);
	/* The words inside comments, strings and names are not commands. */
	assert_int_equal(check("# include \"/etc/shadow\"\n"
			       "add rule inet filter input accept comment \"include \\\"x\\\"\"\n"
			       "add chain inet filter monitor\n"
			       "add table inet monitoring\n"
			       "add chain inet filter include_list\n",
			       err),
			 0);
	assert_int_equal(check("flush ruleset\ninclude \"/etc/passwd\"\n", err), -EINVAL);
	assert_non_null(strstr(err, "line 2: `include` is not accepted"));
	assert_int_equal(check("table inet t {\n\tinclude \"/etc/x.nft\"\n}\n", err), -EINVAL);
	assert_non_null(strstr(err, "line 2"));
	assert_int_equal(check("add table inet t; monitor\n", err), -EINVAL);
	assert_non_null(strstr(err, "`monitor` is not a change"));
}

static struct pc_client_addr addr(const char *client, const char *server)
{
	struct pc_client_addr a = {.seen_ns = 1};

	a.family = strchr(client, ':') ? AF_INET6 : AF_INET;
	inet_pton(a.family, client, a.client);
	inet_pton(a.family, server, a.server);
	return a;
}

static void test_groups(void **state)
{
	struct pc_trial_input in[4] = {
		{.proto = 0, .dir = 0, .port = 8001, .nsrc = 2},
		{.proto = 0, .dir = 0, .port = 8002, .nsrc = 1},
		{.proto = 0, .dir = 0, .port = 8003, .nsrc = 0}, /* no clients seen yet */
		{.proto = 0, .dir = 0, .port = 8004, .nsrc = 1},
	};
	struct pc_trial_group g[PC_TRIAL_MAX_GROUPS];
	int n;

	(void)state;
	in[0].src[0] = addr("198.51.100.1", "198.51.100.2");
	in[0].src[1] = addr("2001:db8:100::1", "2001:db8:100::2");
	in[1].src[0] = addr("198.51.100.1", "198.51.100.2");
	in[3].src[0] = addr("127.0.0.1", "127.0.0.1"); /* loopback: the defaults */
	n = pc_trial_groups(in, 4, g, PC_TRIAL_MAX_GROUPS);
	assert_int_equal(n, 3);
	assert_string_equal(g[0].from, "198.51.100.1");
	assert_string_equal(g[0].to, "198.51.100.2");
	assert_int_equal(g[0].nspecs, 2);
	assert_int_equal(g[0].specs[1].first, 8002);
	assert_string_equal(g[1].from, "2001:db8:100::1");
	assert_int_equal(g[1].nspecs, 1);
	assert_string_equal(g[2].from, "");
	assert_int_equal(g[2].nspecs, 2);
	assert_int_equal(g[2].specs[0].first, 8003);
	assert_int_equal(g[2].specs[1].first, 8004);
	pc_trial_groups_free(g, n);
}

static void test_groups_bounded(void **state)
{
	struct pc_trial_input in[10];
	struct pc_trial_group g[3];
	char c[32];
	int i, n, total = 0;

	(void)state;
	memset(in, 0, sizeof(in));
	for (i = 0; i < 10; i++) {
		snprintf(c, sizeof(c), "10.0.%d.1", i);
		in[i].port = 9000 + i;
		in[i].nsrc = 1;
		in[i].src[0] = addr(c, "10.1.0.1");
	}
	/* 3 groups: two of real clients, one left for the ports whose clients did not fit. */
	n = pc_trial_groups(in, 10, g, 3);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++)
		total += g[i].nspecs;
	assert_int_equal(total, 10); /* every port is tried */
	assert_string_equal(g[2].from, "");
	assert_int_equal(g[2].nspecs, 8);
	pc_trial_groups_free(g, n);
}

static void test_port_line(void **state)
{
	struct pc_trial_port p = {.proto = 0, .dir = 0, .port = 8002, .blocked = true};
	char line[256];

	(void)state;
	snprintf(p.from, sizeof(p.from), "198.51.100.1");
	p.rule = (struct pc_rule_ref){.known = true, .has_handle = true, .handle = 7};
	snprintf(p.rule.family, sizeof(p.rule.family), "inet");
	snprintf(p.rule.table, sizeof(p.rule.table), "filter");
	snprintf(p.rule.chain, sizeof(p.rule.chain), "input");
	snprintf(p.rule.text, sizeof(p.rule.text), "tcp dport 8002 drop");
	pc_trial_port_line(&p, line, sizeof(line));
	assert_string_equal(
		line,
		"tcp/8002:in from 198.51.100.1: inet filter input handle 7: tcp dport 8002 drop");
	p.rule.known = false;
	p.from[0] = '\0';
	snprintf(p.failure, sizeof(p.failure), "timeout");
	pc_trial_port_line(&p, line, sizeof(line));
	assert_string_equal(line, "tcp/8002:in from the sandbox: timeout (rule unknown)");
}

static void test_config_key(void **state)
{
	struct pc_run_opts o;
	char err[300];

	(void)state;
	pc_run_opts_default(&o);
	assert_false(o.revert_blocking);
	assert_int_equal(pc_config_parse("[daemon]\nrevert_blocking_changes = true\n", "t", &o, err,
					 sizeof(err)),
			 0);
	assert_true(o.revert_blocking);
	assert_int_equal(pc_config_parse("[daemon]\nrevert_blocking_changes = maybe\n", "t", &o,
					 err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "t:2: revert_blocking_changes 'maybe': use true or false"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_check),     cmocka_unit_test(test_groups),
		cmocka_unit_test(test_groups_bounded), cmocka_unit_test(test_port_line),
		cmocka_unit_test(test_config_key),
	};

	return cmocka_run_group_tests_name("fwmanage", tests, NULL, NULL);
}
