// SPDX-License-Identifier: GPL-2.0
/* main.c: the portcanary command table: run, status, preflight, apply, firewall, version. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"

struct pc_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("portcanary %s\n", PC_VERSION);
	return PC_EXIT_OK;
}

static const struct pc_command commands[] = {
	{"run", pc_cmd_run, "attach to interfaces and watch ports (the daemon)"},
	{"status", pc_cmd_status, "show the live health of every monitored port"},
	{"preflight", pc_cmd_preflight, "test a candidate firewall ruleset in a sandbox"},
	{"apply", pc_cmd_apply, "change the firewall: preflight, one transaction, watch, rollback"},
	{"firewall", pc_cmd_firewall, "the firewall's history; roll a change back"},
	{"version", cmd_version, "print the version"},
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: portcanary COMMAND [OPTIONS]\n\n"
		     "A per-port connectivity canary: counts SYNs, answers and drops per\n"
		     "critical port in the kernel (XDP, TC, kfree_skb) and says which port\n"
		     "fails, how, and which firewall change did it.\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'portcanary COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return PC_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return PC_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cmd_version(0, NULL);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	pc_err("unknown command '%s': see portcanary --help", argv[1]);
	return PC_EXIT_USAGE;
}
