// SPDX-License-Identifier: GPL-2.0
/* test_fwhistory.c: the firewall history in a directory: records, rulesets stored once, bounds, reload. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "firewall/history.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/pc-test-history.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static struct pc_fw_change change(uint32_t gen, bool vetted)
{
	struct pc_fw_change c = {
		.time = 1795000000 + gen, .generation = gen, .vetted = vetted, .resolved = true};

	c.by.uid = c.by.login_uid = -1;
	snprintf(c.summary, sizeof(c.summary), "change %u", gen);
	return c;
}

/* Ruleset files in the history dir. */
static int rulesets(void)
{
	char path[128];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, PC_HISTORY_DIR);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, "rs-", 3);
	closedir(d);
	return n;
}

static void test_record_and_reload(void **state)
{
	struct pc_history h;
	struct pc_fw_change c;
	const struct pc_history_rec *r;
	struct json_object *extra = json_object_new_object(), *doc, *arr;
	char *text;

	(void)state;
	assert_int_equal(pc_history_open(&h, dir), 0);
	assert_int_equal(h.n, 0);
	c = change(5, false);
	assert_int_equal(pc_history_add(&h, &c, NULL, "A\n", "B\n", "change", NULL), 0);
	c = change(6, true);
	json_object_object_add(extra, "undid", json_object_new_int(5));
	assert_int_equal(pc_history_add(&h, &c, NULL, "B\n", "A\n", "rollback", extra), 0);
	/* Two distinct rulesets, each stored once. */
	assert_int_equal(rulesets(), 2);
	assert_int_equal(h.bytes, 4);
	pc_history_close(&h);

	assert_int_equal(pc_history_open(&h, dir), 0);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.next_seq, 3);
	r = pc_history_find(&h, 0);
	assert_int_equal(r->generation, 6);
	assert_true(r->vetted);
	assert_string_equal(r->kind, "rollback");
	assert_int_equal(r->undid, 5);
	r = pc_history_find(&h, 5);
	assert_non_null(r);
	assert_int_equal(r->seq, 1);
	text = pc_history_ruleset(&h, r->before);
	assert_string_equal(text, "A\n");
	free(text);
	assert_null(pc_history_find(&h, 7));
	assert_null(pc_history_ruleset(&h, "../etc/passwd"));
	doc = pc_history_json(&h);
	assert_true(json_object_object_get_ex(doc, "changes", &arr));
	assert_int_equal(json_object_array_length(arr), 2);
	/* Newest first. */
	assert_int_equal(json_object_get_int(json_object_object_get(
				 json_object_array_get_idx(arr, 0), "generation")),
			 6);
	json_object_put(doc);
	pc_history_close(&h);
}

static void test_bounds(void **state)
{
	struct pc_history h;
	struct pc_fw_change c;
	char before[64], after[64];
	uint32_t g;

	(void)state;
	assert_int_equal(pc_history_open(&h, dir), 0);
	h.max_changes = 3;
	for (g = 1; g <= 5; g++) {
		snprintf(before, sizeof(before), "ruleset %u\n", g - 1);
		snprintf(after, sizeof(after), "ruleset %u\n", g);
		c = change(g, false);
		assert_int_equal(pc_history_add(&h, &c, NULL, before, after, NULL, NULL), 0);
	}
	assert_int_equal(h.n, 3);
	assert_int_equal(h.recs[0].generation, 3);
	/* Records 3..5 refer to rulesets 2..5: the others are gone. */
	assert_int_equal(rulesets(), 4);
	/* A byte bound: two more changes of 1 KiB rulesets, bound just above the last two. */
	h.max_bytes = 2050;
	memset(before, 'x', sizeof(before));
	{
		char *big1 = malloc(1025), *big2 = malloc(1025);

		memset(big1, 'a', 1024);
		memset(big2, 'b', 1024);
		big1[1024] = big2[1024] = '\0';
		c = change(6, false);
		assert_int_equal(pc_history_add(&h, &c, NULL, "ruleset 5\n", big1, NULL, NULL), 0);
		c = change(7, false);
		assert_int_equal(pc_history_add(&h, &c, NULL, big1, big2, NULL, NULL), 0);
		free(big1);
		free(big2);
	}
	assert_int_equal(h.bytes, 2048);
	assert_int_equal(h.recs[h.n - 1].generation, 7);
	assert_int_equal(h.n, 1);
	assert_int_equal(rulesets(), 2);
	pc_history_close(&h);
	/* What was trimmed stays trimmed. */
	assert_int_equal(pc_history_open(&h, dir), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.next_seq, 8);
	pc_history_close(&h);
}

static void test_damaged_line_skipped(void **state)
{
	struct pc_history h;
	struct pc_fw_change c = change(9, false);
	char path[128];
	FILE *f;

	(void)state;
	assert_int_equal(pc_history_open(&h, dir), 0);
	assert_int_equal(pc_history_add(&h, &c, NULL, "A\n", "B\n", NULL, NULL), 0);
	pc_history_close(&h);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, PC_HISTORY_DIR, PC_HISTORY_FILE);
	f = fopen(path, "a");
	fputs("{\"seq\": 2, trunc", f);
	fclose(f);
	assert_int_equal(pc_history_open(&h, dir), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.bad_lines, 1);
	pc_history_close(&h);
}

static void test_fingerprint(void **state)
{
	struct pc_fw_diff a = {0}, b = {0}, c = {0};
	char fa[17], fb[17], fc[17];

	(void)state;
	/* The same rule added again gets another handle: the same change. */
	a.n_added = b.n_added = c.n_added = 1;
	a.added_total = b.added_total = c.added_total = 1;
	a.added[0] = (struct pc_fw_entry){.kind = PC_FWE_RULE,
					  .has_handle = true,
					  .handle = 4,
					  .text = "tcp dport 8001 drop"};
	b.added[0] = a.added[0];
	b.added[0].handle = 9;
	c.added[0] = a.added[0];
	c.added[0].text = "tcp dport 8002 drop";
	pc_fw_diff_fingerprint(&a, fa);
	pc_fw_diff_fingerprint(&b, fb);
	pc_fw_diff_fingerprint(&c, fc);
	assert_string_equal(fa, fb);
	assert_string_not_equal(fa, fc);
	assert_int_equal(strlen(fa), 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_and_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_line_skipped, setup, teardown),
		cmocka_unit_test(test_fingerprint),
	};

	return cmocka_run_group_tests_name("fwhistory", tests, NULL, NULL);
}
