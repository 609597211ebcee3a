// SPDX-License-Identifier: GPL-2.0
/* cli_firewall.c: `portcanary firewall history` and `portcanary firewall rollback [--to GEN]`. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <json-c/json.h>

#include "cli.h"
#include "control.h"
#include "daemon.h"
#include "firewall/history.h"
#include "log.h"
#include "portspec.h"
#include "jsonutil.h"

static void firewall_usage(FILE *out)
{
	fprintf(out,
		"usage: portcanary firewall history [--json] [--state-dir DIR]\n"
		"       portcanary firewall rollback [--to GENERATION] [--force] [--json]\n"
		"                                    [--state-dir DIR]\n\n"
		"history   every firewall change the daemon heard, newest first: generation, "
		"time,\n"
		"          who, whether it went through portcanary (vetted), what it added and\n"
		"          removed. The last %d are kept in DIR/%s with the rulesets before and\n"
		"          after each (at most %u MiB of rulesets), across daemon restarts.\n"
		"rollback  restore the ruleset as it was before change GENERATION (default: the\n"
		"          last change), in one transaction, after trying it on every monitored\n"
		"          port: refused (exit 1) if it blocks a port that works now, unless\n"
		"          --force. Recorded as a vetted change.\n\n"
		"examples:\n"
		"  portcanary firewall history\n"
		"  portcanary firewall rollback            # undo the last change\n"
		"  portcanary firewall rollback --to 42    # back to before generation 42\n",
		PC_HISTORY_MAX_CHANGES, PC_HISTORY_DIR, PC_HISTORY_MAX_BYTES >> 20);
}

static void entries(struct json_object *rec, const char *key, const char *sign, int *shown)
{
	struct json_object *arr, *e, *h;
	size_t i, n;

	if (!json_object_object_get_ex(rec, key, &arr) || !arr)
		return;
	n = json_object_array_length(arr);
	for (i = 0; i < n && *shown < 6; i++, (*shown)++) {
		e = json_object_array_get_idx(arr, i);
		if (json_object_object_get_ex(e, "handle", &h) && h)
			printf("        %s %s %s %s handle %s: %s\n", sign,
			       pc_json_str(e, "family", ""), pc_json_str(e, "table", ""),
			       pc_json_str(e, "chain", ""), json_object_get_string(h),
			       pc_json_str(e, "text", ""));
		else
			printf("        %s %s\n", sign, pc_json_str(e, "text", ""));
	}
}

static void print_history(struct json_object *doc)
{
	struct json_object *arr, *rec, *by, *v;
	size_t i, n;

	if (!json_object_object_get_ex(doc, "changes", &arr)) {
		pc_err("%s", pc_json_str(doc, "error", "the daemon sent no history"));
		return;
	}
	n = json_object_array_length(arr);
	printf("%-8s %-20s %-9s %-8s %s\n", "GEN", "TIME (UTC)", "KIND", "VETTED", "BY");
	for (i = 0; i < n; i++) {
		const char *t, *cmd = "?";
		long long added, removed;
		int shown = 0;
		char ts[40];

		rec = json_object_array_get_idx(arr, i);
		t = pc_json_str(rec, "time", "?");
		snprintf(ts, sizeof(ts), "%.10s %.8s", t, strlen(t) > 11 ? t + 11 : "");
		if (json_object_object_get_ex(rec, "by", &by) && by)
			cmd = pc_json_str(by, "command", NULL) ?: pc_json_str(by, "comm", "?");
		/* The daemon committed it: for whom is what matters. */
		if (json_object_object_get_ex(rec, "requested_by", &v) && v) {
			by = v;
			cmd = pc_json_str(v, "command", NULL) ?: "?";
		} else if (!strcmp(pc_json_str(rec, "kind", ""), "revert")) {
			by = NULL;
			cmd = "portcanary (--revert-blocking-changes)";
		}
		if (json_object_object_get_ex(rec, "offline", &v) && json_object_get_boolean(v))
			cmd = "(while portcanary was not running)";
		printf("%-8s %-20s %-9s %-8s %s", pc_json_str(rec, "generation", "?"), ts,
		       pc_json_str(rec, "kind", "change"),
		       json_object_object_get_ex(rec, "vetted", &v) && json_object_get_boolean(v)
			       ? "yes"
			       : "NO",
		       cmd);
		if (by && pc_json_str(by, "user", NULL))
			printf(" (user %s)", pc_json_str(by, "user", ""));
		printf("\n        %s\n", pc_json_str(rec, "summary", ""));
		entries(rec, "removed", "-", &shown);
		entries(rec, "added", "+", &shown);
		added = json_object_object_get_ex(rec, "added_total", &v) ? json_object_get_int64(v)
									  : 0;
		removed = json_object_object_get_ex(rec, "removed_total", &v)
				  ? json_object_get_int64(v)
				  : 0;
		if (added + removed > shown)
			printf("        ... and %lld more\n", added + removed - shown);
	}
	if (!n)
		printf("(no change recorded yet)\n");
	printf("%zu change%s kept (at most %s, rulesets %s of %s bytes) in %s\n", n,
	       n == 1 ? "" : "s", pc_json_str(doc, "max_changes", "?"),
	       pc_json_str(doc, "bytes", "?"), pc_json_str(doc, "max_bytes", "?"),
	       pc_json_str(doc, "dir", "?"));
}

/* Without a daemon, the history is read from the state dir itself. */
static struct json_object *offline_history(const char *dir)
{
	struct pc_history h;
	struct json_object *doc;
	char path[400];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, PC_HISTORY_DIR, PC_HISTORY_FILE);
	if (stat(path, &st) || pc_history_open(&h, dir))
		return NULL;
	doc = pc_history_json(&h);
	pc_history_close(&h);
	return doc;
}

static int history(const char *dir, bool json)
{
	char *text = pc_control_request(dir, "history");
	struct json_object *doc;

	if (!text) {
		int err = errno;

		doc = offline_history(dir);
		if (!doc) {
			pc_control_explain(dir, err);
			return PC_EXIT_USAGE;
		}
		fprintf(stderr, "(no daemon running: the history as kept in %s/%s)\n", dir,
			PC_HISTORY_DIR);
	} else {
		doc = json_tokener_parse(text);
		free(text);
	}
	if (!doc) {
		pc_err("the daemon sent a reply that is not JSON");
		return PC_EXIT_FAIL;
	}
	if (json)
		printf("%s\n", json_object_to_json_string_ext(
				       doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
	else
		print_history(doc);
	json_object_put(doc);
	return PC_EXIT_OK;
}

static const struct option fw_options[] = {
	{"json", no_argument, NULL, 'j'},  {"to", required_argument, NULL, 't'},
	{"force", no_argument, NULL, 'f'}, {"state-dir", required_argument, NULL, 's'},
	{"help", no_argument, NULL, 'h'},  {},
};

int pc_cmd_firewall(int argc, char **argv)
{
	const char *dir = PC_DEFAULT_STATE_DIR, *sub;
	bool json = false, force = false, is_history;
	uint64_t to = 0;
	int c, ret;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		firewall_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? PC_EXIT_USAGE : PC_EXIT_OK;
	}
	sub = argv[1];
	is_history = !strcmp(sub, "history");
	if (!is_history && strcmp(sub, "rollback")) {
		pc_err("unknown firewall command '%s': history or rollback (see portcanary "
		       "firewall "
		       "--help)",
		       sub);
		return PC_EXIT_USAGE;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc - 1, argv + 1, ":h", fw_options, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 't':
			if (is_history || pc_parse_u64(optarg, 1, UINT32_MAX, &to)) {
				pc_err(is_history ? "--to goes with rollback, not history"
						  : "bad --to '%s': a generation number, from "
						    "`portcanary firewall history`",
				       optarg);
				return PC_EXIT_USAGE;
			}
			break;
		case 'f':
			if (is_history) {
				pc_err("--force goes with rollback, not history");
				return PC_EXIT_USAGE;
			}
			force = true;
			break;
		case 's':
			dir = optarg;
			break;
		case 'h':
			firewall_usage(stdout);
			return PC_EXIT_OK;
		case ':':
			pc_err("option %s needs an argument (see portcanary firewall --help)",
			       argv[optind]);
			return PC_EXIT_USAGE;
		default:
			pc_err("unknown option '%s' (see portcanary firewall --help)",
			       argv[optind]);
			return PC_EXIT_USAGE;
		}
	}
	if (optind < argc - 1) {
		pc_err("unexpected argument '%s' (see portcanary firewall --help)",
		       argv[optind + 1]);
		return PC_EXIT_USAGE;
	}
	if (is_history)
		return history(dir, json);
	{
		struct json_object *h = json_object_new_object();
		char *header = NULL;

		json_object_object_add(h, "to", to ? json_object_new_int64(to) : NULL);
		json_object_object_add(h, "force", json_object_new_boolean(force));
		if (asprintf(&header, "rollback %s",
			     json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN)) < 0)
			header = NULL;
		json_object_put(h);
		ret = header ? pc_cli_stream(dir, header, NULL, 0, json) : PC_EXIT_USAGE;
		free(header);
	}
	return ret;
}
