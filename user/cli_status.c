// SPDX-License-Identifier: GPL-2.0
/* cli_status.c: `portcanary status [--json]`: ask the daemon over its control socket. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cli.h"
#include "control.h"
#include "daemon.h"
#include "log.h"
#include "report.h"

static const struct option status_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "state-dir", required_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

int pc_cmd_status(int argc, char **argv)
{
	const char *dir = PC_DEFAULT_STATE_DIR;
	struct json_object *doc;
	bool json = false;
	char *text;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", status_options, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 's':
			dir = optarg;
			break;
		case 'h':
			printf("usage: portcanary status [--json] [--state-dir DIR]\n\n"
			       "Show every monitored port of the daemon running with state dir DIR\n"
			       "(default %s): state, cause, since when, SYN/s, answered %%, drops,\n"
			       "baseline and the raw counters.\n\n"
			       "examples:\n  portcanary status\n"
			       "  portcanary status --json | jq '.ports[] | select(.state==\"down\")'\n",
			       PC_DEFAULT_STATE_DIR);
			return PC_EXIT_OK;
		default:
			pc_err("unknown option '%s' (see portcanary status --help)", argv[optind - 1]);
			return PC_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		pc_err("unexpected argument '%s' (see portcanary status --help)", argv[optind]);
		return PC_EXIT_USAGE;
	}
	text = pc_control_request(dir, "status");
	if (!text) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			pc_err("no portcanary daemon is running with state dir %s "
			       "(start one with `portcanary run`, or pass its --state-dir)", dir);
		else if (errno == EACCES)
			pc_err("permission denied on %s/%s: the control socket is root's only (sudo)",
			       dir, PC_CONTROL_SOCK);
		else
			pc_err("cannot talk to the daemon in %s: %s", dir, strerror(errno));
		return PC_EXIT_USAGE;
	}
	doc = json_tokener_parse(text);
	if (!doc) {
		pc_err("the daemon sent a reply that is not JSON");
		free(text);
		return PC_EXIT_FAIL;
	}
	if (json)
		printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_SPACED));
	else
		pc_report_table(stdout, doc);
	json_object_put(doc);
	free(text);
	return PC_EXIT_OK;
}
