// SPDX-License-Identifier: GPL-2.0
/* cli_preflight.c: `portcanary preflight`: test a candidate ruleset in a sandbox (not yet built). */
#include <stdio.h>

#include "cli.h"
#include "log.h"

int pc_cmd_preflight(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	pc_err("preflight is not available in this version yet (see the README's roadmap)");
	return PC_EXIT_USAGE;
}
