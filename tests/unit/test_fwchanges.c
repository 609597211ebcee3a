// SPDX-License-Identifier: GPL-2.0
/* test_fwchanges.c: the firewall_change event, its log line, the status listing, the port events' reference. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "alerts.h"
#include "firewall/changes.h"
#include "report.h"

static struct pc_fw_change chg;

static int setup(void **state)
{
	(void)state;
	memset(&chg, 0, sizeof(chg));
	chg.time = 1795000000.25;
	chg.source = PC_FW_NFTABLES;
	chg.generation = 42;
	chg.pid = 9656;
	snprintf(chg.what, sizeof(chg.what), "table inet filter chain input: rule added");
	chg.by = (struct pc_fw_who){
		.pid = 9656, .read = true, .uid = 1001, .login_uid = 1000, .ppid = 9650};
	snprintf(chg.by.comm, sizeof(chg.by.comm), "nft");
	snprintf(chg.by.command, sizeof(chg.by.command), "nft -f /etc/nftables.d/new.nft");
	snprintf(chg.by.user, sizeof(chg.by.user), "deploy");
	snprintf(chg.by.login_user, sizeof(chg.by.login_user), "alice");
	snprintf(chg.by.unit, sizeof(chg.by.unit), "session-12.scope");
	snprintf(chg.by.parent_command, sizeof(chg.by.parent_command), "bash");
	chg.resolved = true;
	snprintf(chg.summary, sizeof(chg.summary),
		 "added rule inet filter input handle 7: tcp dport 8031 drop");
	chg.added_total = 1;
	return 0;
}

static const char *str(struct json_object *o, const char *path)
{
	static char buf[512];
	char copy[128], *k, *save = NULL;
	struct json_object *v = o;

	snprintf(copy, sizeof(copy), "%s", path);
	for (k = strtok_r(copy, ".", &save); k; k = strtok_r(NULL, ".", &save))
		if (!v || !json_object_object_get_ex(v, k, &v))
			return "(absent)";
	snprintf(buf, sizeof(buf), "%s", v ? json_object_get_string(v) : "null");
	return buf;
}

static void test_event(void **state)
{
	struct pc_fw_diff d = {.n_added = 1, .added_total = 1};
	struct json_object *o, *arr;

	(void)state;
	d.added[0] = (struct pc_fw_entry){.kind = PC_FWE_RULE,
					  .has_handle = true,
					  .handle = 7,
					  .text = "tcp dport 8031 drop",
					  .count = 1};
	snprintf(d.added[0].family, sizeof(d.added[0].family), "inet");
	snprintf(d.added[0].table, sizeof(d.added[0].table), "filter");
	snprintf(d.added[0].chain, sizeof(d.added[0].chain), "input");
	o = pc_fw_change_json(&chg, &d);
	assert_string_equal(str(o, "event"), "firewall_change");
	assert_string_equal(str(o, "time"), "2026-11-18T11:06:40.250Z");
	assert_string_equal(str(o, "source"), "nftables");
	assert_string_equal(str(o, "generation"), "42");
	assert_string_equal(str(o, "vetted"), "false");
	assert_string_equal(str(o, "by.pid"), "9656");
	assert_string_equal(str(o, "by.command"), "nft -f /etc/nftables.d/new.nft");
	assert_string_equal(str(o, "by.uid"), "1001");
	assert_string_equal(str(o, "by.user"), "deploy");
	assert_string_equal(str(o, "by.unit"), "session-12.scope");
	assert_string_equal(str(o, "by.login_uid"), "1000");
	assert_string_equal(str(o, "by.parent.pid"), "9650");
	assert_string_equal(str(o, "summary"), chg.summary);
	assert_true(json_object_object_get_ex(o, "added", &arr));
	assert_int_equal(json_object_array_length(arr), 1);
	assert_string_equal(str(json_object_array_get_idx(arr, 0), "text"), "tcp dport 8031 drop");
	assert_string_equal(str(json_object_array_get_idx(arr, 0), "handle"), "7");
	assert_true(json_object_object_get_ex(o, "removed", &arr));
	assert_int_equal(json_object_array_length(arr), 0);
	json_object_put(o);
	/* Folded changes and unlisted ones carry empty lists, never a missing key. */
	o = pc_fw_change_json(&chg, NULL);
	assert_true(json_object_object_get_ex(o, "added", &arr));
	assert_int_equal(json_object_array_length(arr), 0);
	json_object_put(o);
}

static void test_line(void **state)
{
	char line[1024];

	(void)state;
	pc_fw_change_line(&chg, line, sizeof(line));
	assert_string_equal(line,
			    "firewall: nftables ruleset changed (generation 42, unvetted) by nft "
			    "-f /etc/nftables.d/new.nft (pid 9656, user deploy uid 1001, login "
			    "alice uid 1000, unit session-12.scope, parent 9650 bash): added rule "
			    "inet filter input handle 7: tcp dport 8031 drop");
}

static void test_recent_and_table(void **state)
{
	struct pc_fw_history h = {0};
	struct pc_status_meta m = {.interval = 1};
	struct json_object *doc, *arr;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int i;

	(void)state;
	for (i = 0; i < 7; i++) {
		chg.generation = 40 + i;
		chg.vetted = i == 6;
		pc_fw_history_add(&h, &chg);
	}
	assert_int_equal(h.vetted[PC_FW_NFTABLES], 1);
	m.firewall_changes = pc_fw_recent_json(&h, 5);
	doc = pc_report_status(&m, NULL, 0);
	assert_true(json_object_object_get_ex(doc, "firewall_changes", &arr));
	assert_int_equal(json_object_array_length(arr), 5);
	assert_string_equal(str(json_object_array_get_idx(arr, 0), "generation"), "46");
	assert_string_equal(str(json_object_array_get_idx(arr, 0), "vetted"), "true");
	assert_string_equal(str(json_object_array_get_idx(arr, 4), "generation"), "42");
	f = open_memstream(&buf, &len);
	assert_int_equal(pc_report_table(f, doc, false), 0);
	fclose(f);
	assert_non_null(strstr(buf,
			       "\nrecent firewall changes (newest first):\n"
			       "  2026-11-18 11:06:40  gen 46     vetted   nft -f "
			       "/etc/nftables.d/new.nft (pid 9656, user deploy uid 1001, "
			       "session-12.scope)\n"
			       "      added rule inet filter input handle 7: tcp dport 8031 drop\n"
			       "  2026-11-18 11:06:40  gen 45     UNVETTED nft -f"));
	free(buf);
	json_object_put(doc);
}

static void test_port_event_reference(void **state)
{
	struct pc_firewall_ref fw;
	struct pc_alert a = {
		.time = 1795000001.65,
		.event = "port_down",
		.proto = 0,
		.port = 8031,
		.state = "down",
		.old_state = "ok",
		.cause = "netfilter_drop",
		.syn_rate = 10,
		.baseline_rate = 10,
		.answered_ratio = 0,
		.firewall = &fw,
	};
	struct json_object *o;
	char line[2048];

	(void)state;
	pc_fw_ref(&chg, a.time, &fw);
	o = pc_alert_json(&a);
	assert_string_equal(str(o, "firewall_change.generation"), "42");
	assert_string_equal(str(o, "firewall_change.by.command"), "nft -f /etc/nftables.d/new.nft");
	assert_string_equal(str(o, "firewall_change.by.user"), "deploy");
	assert_string_equal(str(o, "firewall_change.vetted"), "false");
	assert_string_equal(str(o, "firewall_change.summary"), chg.summary);
	assert_string_equal(str(o, "firewall_change.seconds_before"), "1.4");
	json_object_put(o);
	pc_alert_line(&a, line, sizeof(line));
	assert_non_null(strstr(line,
			       "; firewall (nftables) changed 1.4 s before: table inet filter "
			       "chain input: rule added (generation 42, by nft -f "
			       "/etc/nftables.d/new.nft (pid 9656, user deploy uid 1001"));
	assert_non_null(
		strstr(line, "): added rule inet filter input handle 7: tcp dport 8031 drop)"));
	/* Not listed yet: no summary, never a stale one. */
	chg.resolved = false;
	pc_fw_ref(&chg, a.time, &fw);
	assert_null(fw.summary);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_event, setup),
		cmocka_unit_test_setup(test_line, setup),
		cmocka_unit_test_setup(test_recent_and_table, setup),
		cmocka_unit_test_setup(test_port_event_reference, setup),
	};

	return cmocka_run_group_tests_name("fwchanges", tests, NULL, NULL);
}
