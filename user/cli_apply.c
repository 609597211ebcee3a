// SPDX-License-Identifier: GPL-2.0
/* cli_apply.c: `portcanary apply --nft FILE`: sends the file's text to the daemon, which does the rest. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cli.h"
#include "daemon.h"
#include "firewall/manage.h"
#include "log.h"
#include "portspec.h"

static void apply_usage(FILE *out)
{
	fprintf(out,
		"usage: portcanary apply --nft FILE [--confirm SEC] [--force] [--json]\n"
		"                        [--state-dir DIR]\n\n"
		"Change the firewall through the running daemon, which: checks that FILE loads\n"
		"(nft -c); tries it on every monitored port in a sandbox, from the ports' real\n"
		"clients, and refuses it if it blocks one that works now; saves the live ruleset;\n"
		"loads FILE as `nft -f FILE` would, in one transaction; then watches every port\n"
		"for SEC seconds and rolls the saved ruleset back, in one transaction, if one\n"
		"goes down or degraded because of the firewall. The daemon owns the watch: the\n"
		"rollback happens even if this command is killed.\n\n"
		"  --nft FILE        the change, in nft -f syntax (- reads stdin; at most %u KiB;\n"
		"                    no include)\n"
		"  --confirm SEC     watch for SEC seconds, 1-3600 (default 60)\n"
		"  --force           apply even if the preflight says it blocks a monitored port\n"
		"                    (those ports are then not watched: their block is meant)\n"
		"  --json            one JSON object at the end (progress goes to stderr)\n"
		"  --state-dir DIR   the daemon's state dir (default %s)\n\n"
		"exit status: 0 kept, 1 refused or rolled back, 2 error (no daemon, a file that\n"
		"does not load)\n\n"
		"examples:\n"
		"  portcanary apply --nft /etc/nftables.d/new.nft\n"
		"  portcanary apply --nft new.nft --confirm 300 --json > apply.json\n",
		PC_APPLY_MAX_BYTES >> 10, PC_DEFAULT_STATE_DIR);
}

static const struct option apply_options[] = {
	{"nft", required_argument, NULL, 'n'},
	{"confirm", required_argument, NULL, 'c'},
	{"force", no_argument, NULL, 'f'},
	{"json", no_argument, NULL, 'j'},
	{"state-dir", required_argument, NULL, 's'},
	{"help", no_argument, NULL, 'h'},
	{},
};

/* The whole file, bounded: more than the limit is an error, never cut. */
static char *read_text(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	size_t cap = PC_APPLY_MAX_BYTES + 2, n = 0, r;
	char *buf;

	if (!f) {
		pc_err("cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(cap);
	while (buf && n < cap - 1 && (r = fread(buf + n, 1, cap - 1 - n, f)) > 0)
		n += r;
	if (f != stdin)
		fclose(f);
	if (!buf)
		return NULL;
	if (n > PC_APPLY_MAX_BYTES) {
		pc_err("%s is larger than %u KiB: apply takes at most that much nft text", path,
		       PC_APPLY_MAX_BYTES >> 10);
		free(buf);
		return NULL;
	}
	if (!n) {
		pc_err("%s is empty: nothing to apply", path);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

int pc_cmd_apply(int argc, char **argv)
{
	const char *dir = PC_DEFAULT_STATE_DIR, *file = NULL;
	double confirm = PC_APPLY_DEFAULT_CONFIRM;
	bool force = false, json = false;
	struct json_object *h;
	char *text, *header;
	size_t len = 0;
	int c, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", apply_options, NULL)) != -1) {
		switch (c) {
		case 'n':
			file = optarg;
			break;
		case 'c':
			if (pc_parse_double(optarg, 1, PC_APPLY_MAX_CONFIRM, &confirm)) {
				pc_err("bad --confirm '%s': seconds from 1 to 3600", optarg);
				return PC_EXIT_USAGE;
			}
			break;
		case 'f':
			force = true;
			break;
		case 'j':
			json = true;
			break;
		case 's':
			dir = optarg;
			break;
		case 'h':
			apply_usage(stdout);
			return PC_EXIT_OK;
		case ':':
			pc_err("option %s needs an argument (see portcanary apply --help)",
			       argv[optind - 1]);
			return PC_EXIT_USAGE;
		default:
			pc_err("unknown option '%s' (see portcanary apply --help)",
			       argv[optind - 1]);
			return PC_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		pc_err("unexpected argument '%s' (see portcanary apply --help)", argv[optind]);
		return PC_EXIT_USAGE;
	}
	if (!file) {
		pc_err("apply needs --nft FILE, the change to make (see portcanary apply --help)");
		return PC_EXIT_USAGE;
	}
	text = read_text(file, &len);
	if (!text)
		return PC_EXIT_USAGE;
	h = json_object_new_object();
	json_object_object_add(h, "bytes", json_object_new_uint64(len));
	json_object_object_add(h, "confirm", json_object_new_double(confirm));
	json_object_object_add(h, "force", json_object_new_boolean(force));
	json_object_object_add(h, "name", json_object_new_string(file));
	if (asprintf(&header, "apply %s",
		     json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN)) < 0)
		header = NULL;
	json_object_put(h);
	ret = header ? pc_cli_stream(dir, header, text, len, json) : PC_EXIT_USAGE;
	free(header);
	free(text);
	return ret;
}
