// SPDX-License-Identifier: GPL-2.0
/* cli_status.c: `portcanary status [--json]`: ask the daemon over its control socket. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
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
	{"json", no_argument, NULL, 'j'},
	{"watch", no_argument, NULL, 'w'},
	{"state-dir", required_argument, NULL, 's'},
	{"help", no_argument, NULL, 'h'},
	{},
};

static int fetch(const char *dir, struct json_object **doc)
{
	char *text = pc_control_request(dir, "status");

	if (!text) {
		pc_control_explain(dir, errno);
		return PC_EXIT_USAGE;
	}
	*doc = json_tokener_parse(text);
	free(text);
	if (!*doc) {
		pc_err("the daemon sent a reply that is not JSON");
		return PC_EXIT_FAIL;
	}
	return 0;
}

static volatile sig_atomic_t stop_watch;

static void on_stop(int sig)
{
	(void)sig;
	stop_watch = 1;
}

/* Like top: clear, draw, wait an interval; until Ctrl-C or the daemon goes away. */
static int watch(const char *dir)
{
	struct json_object *doc, *iv;
	double interval = 1;
	char ts[40];
	int ret;

	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	while (!stop_watch) {
		ret = fetch(dir, &doc);
		if (ret)
			return ret;
		if (json_object_object_get_ex(doc, "interval", &iv))
			interval = json_object_get_double(iv);
		pc_format_time(time(NULL), ts, sizeof(ts));
		printf("\033[H\033[2J\033[3Jportcanary %s   %s   every %.1f s   Ctrl-C quits\n\n",
		       PC_VERSION, ts, interval);
		pc_report_table(stdout, doc, true);
		fflush(stdout);
		json_object_put(doc);
		usleep((useconds_t)(interval * 1e6));
	}
	return PC_EXIT_OK;
}

int pc_cmd_status(int argc, char **argv)
{
	const char *dir = PC_DEFAULT_STATE_DIR;
	struct json_object *doc;
	bool json = false, watching = false;
	int c, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", status_options, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'w':
			watching = true;
			break;
		case 's':
			dir = optarg;
			break;
		case 'h':
			printf("usage: portcanary status [--json | --watch] [--state-dir DIR]\n\n"
			       "Show every monitored port of the daemon running with state dir "
			       "DIR\n"
			       "(default %s): state, cause, since when, SYN/s, answered %%, "
			       "drops/s\n"
			       "by top reason, baseline and the raw counters.\n\n"
			       "  --json       one JSON object, for scripts\n"
			       "  --watch      redraw every interval, with a SYN/s history per "
			       "port\n\n"
			       "examples:\n  portcanary status\n  portcanary status --watch\n"
			       "  portcanary status --json | jq '.ports[] | "
			       "select(.state==\"down\")'\n",
			       PC_DEFAULT_STATE_DIR);
			return PC_EXIT_OK;
		default:
			pc_err("unknown option '%s' (see portcanary status --help)",
			       argv[optind - 1]);
			return PC_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		pc_err("unexpected argument '%s' (see portcanary status --help)", argv[optind]);
		return PC_EXIT_USAGE;
	}
	if (json && watching) {
		pc_err("--json and --watch do not go together: --watch is for people, --json for "
		       "scripts");
		return PC_EXIT_USAGE;
	}
	if (watching)
		return watch(dir);
	ret = fetch(dir, &doc);
	if (ret)
		return ret;
	if (json)
		printf("%s\n", json_object_to_json_string_ext(
				       doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
	else
		pc_report_table(stdout, doc, false);
	json_object_put(doc);
	return PC_EXIT_OK;
}
