// SPDX-License-Identifier: GPL-2.0
/* cli_run.c: option parsing of `portcanary run` (strict; every option has a long name). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "daemon.h"
#include "log.h"

static void run_usage(FILE *out)
{
	fprintf(out,
		"usage: portcanary run [-i IFACE]... [-p SPEC]... [-c FILE] [--interval SEC]\n"
		"                      [--events FILE|-] [--exec CMD] [--listen ADDR:PORT]\n"
		"                      [--xdp-mode auto|native|generic] [--ingress-hook xdp|tc]\n"
		"                      [--state-dir DIR] [-v]\n\n"
		"Attach the canary to interfaces and watch ports until SIGINT/SIGTERM.\n\n"
		"  -i, --interface IFACE   interface to watch (repeatable; default: the default route's)\n"
		"  -p, --port SPEC         [tcp/|udp/]PORT[-PORT][:in|:out] (repeatable; default: every\n"
		"                          TCP port with a listener, refreshed as listeners come and go)\n"
		"  -c, --config FILE       configuration file\n"
		"      --interval SEC      sampling interval, 0.1-60 (default 1)\n"
		"      --events FILE|-     write one JSON object per event line\n"
		"      --exec CMD          run CMD on each event\n"
		"      --listen ADDR:PORT  serve Prometheus /metrics\n"
		"      --xdp-mode MODE     auto (native, then generic), native or generic (default auto)\n"
		"      --ingress-hook HOOK xdp (default) or tc: count ingress with a TC program, for\n"
		"                          interfaces whose XDP hook holds a program that cannot be shared\n"
		"      --state-dir DIR     pinned maps and control socket (default %s)\n"
		"  -v, --verbose           more logging (twice: libbpf debug)\n\n"
		"examples:\n"
		"  portcanary run                                  # default route's interface, all listeners\n"
		"  portcanary run -i eth0 -p tcp/443 -p 8000-8010  # two inbound services\n"
		"  portcanary run -i eth0 -p tcp/5432:out          # a database this host calls\n"
		"  portcanary run -i eth0 --ingress-hook tc -p 443 # beside a legacy XDP program\n",
		PC_DEFAULT_STATE_DIR);
}

enum {
	OPT_INTERVAL = 256,
	OPT_EVENTS,
	OPT_EXEC,
	OPT_LISTEN,
	OPT_XDP_MODE,
	OPT_INGRESS,
	OPT_STATE_DIR,
};

static const struct option run_options[] = {
	{ "interface", required_argument, NULL, 'i' },
	{ "port", required_argument, NULL, 'p' },
	{ "config", required_argument, NULL, 'c' },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "events", required_argument, NULL, OPT_EVENTS },
	{ "exec", required_argument, NULL, OPT_EXEC },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "xdp-mode", required_argument, NULL, OPT_XDP_MODE },
	{ "ingress-hook", required_argument, NULL, OPT_INGRESS },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

int pc_cmd_run(int argc, char **argv)
{
	static struct pc_run_opts o;
	char err[160];
	int c, verbose = 0;

	memset(&o, 0, sizeof(o));
	o.interval = 1.0;
	o.state_dir = PC_DEFAULT_STATE_DIR;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:p:c:vh", run_options, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (o.n_ifaces == PC_MAX_IFACES) {
				pc_err("too many interfaces: at most %d", PC_MAX_IFACES);
				return PC_EXIT_USAGE;
			}
			if (!*optarg || strlen(optarg) >= IF_NAMESIZE || strchr(optarg, '/')) {
				pc_err("invalid interface name '%s'", optarg);
				return PC_EXIT_USAGE;
			}
			snprintf(o.ifaces[o.n_ifaces++], IF_NAMESIZE, "%s", optarg);
			break;
		case 'p':
			if (o.n_specs == PC_MAX_SPECS) {
				pc_err("too many -p options: at most %d (use ranges)", PC_MAX_SPECS);
				return PC_EXIT_USAGE;
			}
			if (pc_portspec_parse(optarg, &o.specs[o.n_specs], err, sizeof(err))) {
				pc_err("bad port spec '%s': %s; expected [tcp/|udp/]PORT[-PORT][:in|:out], "
				       "e.g. tcp/443 or udp/53:out", optarg, err);
				return PC_EXIT_USAGE;
			}
			o.n_specs++;
			break;
		case 'c':
			pc_err("-c %s: configuration files are not supported by this version yet; "
			       "give the options on the command line", optarg);
			return PC_EXIT_USAGE;
		case OPT_INTERVAL:
			if (pc_parse_double(optarg, 0.1, 60, &o.interval)) {
				pc_err("bad --interval '%s': a number of seconds from 0.1 to 60", optarg);
				return PC_EXIT_USAGE;
			}
			break;
		case OPT_EVENTS:
			o.events_path = optarg;
			break;
		case OPT_EXEC:
			o.exec_cmd = optarg;
			break;
		case OPT_LISTEN:
			o.listen_addr = optarg;
			break;
		case OPT_XDP_MODE:
			if (!strcmp(optarg, "auto"))
				o.xdp_mode = PC_XDP_AUTO;
			else if (!strcmp(optarg, "native"))
				o.xdp_mode = PC_XDP_NATIVE;
			else if (!strcmp(optarg, "generic"))
				o.xdp_mode = PC_XDP_GENERIC;
			else {
				pc_err("bad --xdp-mode '%s': use auto, native or generic", optarg);
				return PC_EXIT_USAGE;
			}
			break;
		case OPT_INGRESS:
			if (!strcmp(optarg, "xdp"))
				o.ingress = PC_INGRESS_XDP;
			else if (!strcmp(optarg, "tc"))
				o.ingress = PC_INGRESS_TC;
			else {
				pc_err("bad --ingress-hook '%s': use xdp or tc", optarg);
				return PC_EXIT_USAGE;
			}
			break;
		case OPT_STATE_DIR:
			if (!*optarg || optarg[0] != '/') {
				pc_err("bad --state-dir '%s': give an absolute path", optarg);
				return PC_EXIT_USAGE;
			}
			o.state_dir = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			run_usage(stdout);
			return PC_EXIT_OK;
		case ':':
			pc_err("option %s needs an argument (see portcanary run --help)",
			       argv[optind - 1]);
			return PC_EXIT_USAGE;
		default:
			pc_err("unknown option '%s' (see portcanary run --help)", argv[optind - 1]);
			return PC_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		pc_err("unexpected argument '%s' (see portcanary run --help)", argv[optind]);
		return PC_EXIT_USAGE;
	}
	pc_log_set_level(PC_LOG_INFO + verbose);
	pc_log_hook_libs();
	return pc_daemon_run(&o);
}
