// SPDX-License-Identifier: GPL-2.0
/* cli_run.c: option parsing of `portcanary run` (strict; every option has a long name). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "daemon.h"
#include "log.h"

static void run_usage(FILE *out)
{
	fprintf(out,
		"usage: portcanary run [-i IFACE]... [-p SPEC]... [-c FILE] [--interval SEC]\n"
		"                      [--events FILE|-] [--exec CMD] [--listen ADDR:PORT]\n"
		"                      [--ingress-hook auto|xdp|tc] [--xdp-mode "
		"auto|native|generic]\n"
		"                      [--state-dir DIR] [--revert-blocking-changes] [-v]\n\n"
		"Attach the canary to interfaces and watch ports until SIGINT/SIGTERM.\n\n"
		"  -i, --interface IFACE   interface to watch (repeatable; default: the default "
		"route's)\n"
		"  -p, --port SPEC         [tcp/|udp/]PORT[-PORT][:in|:out] (repeatable; default: "
		"every\n"
		"                          TCP port with a listener, refreshed as listeners come "
		"and go)\n"
		"  -c, --config FILE       configuration file (default %s if it exists);\n"
		"                          options given here win over it; SIGHUP reloads it\n"
		"      --interval SEC      sampling interval, 0.1-60 (default 1)\n"
		"      --events FILE|-     write one JSON object per event line\n"
		"      --exec CMD          run CMD on each event\n"
		"      --listen ADDR:PORT  serve Prometheus /metrics\n"
		"      --ingress-hook HOOK auto (default): per interface, native XDP on a NIC "
		"that\n"
		"                          keeps its offloads with XDP, TC ingress on veth, "
		"virtio-net,\n"
		"                          software devices and NICs with LRO/rx-gro-hw on (the "
		"log\n"
		"                          and status say which and why); xdp: XDP everywhere "
		"(native,\n"
		"                          then generic); tc: TC ingress everywhere (beside an "
		"XDP\n"
		"                          program that cannot be shared)\n"
		"      --xdp-mode MODE     native or generic: XDP everywhere, in that mode only;\n"
		"                          auto (default): as --ingress-hook says\n"
		"      --state-dir DIR     pinned maps and control socket (default %s)\n"
		"      --firewall-window SEC  an alert names a firewall change made up to SEC\n"
		"                          before it (default 300)\n"
		"      --revert-blocking-changes  roll back at once an unvetted firewall change\n"
		"                          (not made through `portcanary apply`) that blocks a\n"
		"                          monitored port; a change that comes back after a\n"
		"                          revert is left in place and alerted\n"
		"  -v, --verbose           more logging (twice: libbpf debug)\n\n"
		"examples:\n"
		"  portcanary run                                  # default route's interface, "
		"all listeners\n"
		"  portcanary run -i eth0 -p tcp/443 -p 8000-8010  # two inbound services\n"
		"  portcanary run -i eth0 -p tcp/5432:out          # a database this host calls\n"
		"  portcanary run -i eth0 --ingress-hook tc -p 443 # beside a legacy XDP program\n"
		"  portcanary run -i eth0 -i veth0 -p 443          # XDP on eth0 if free, TC on "
		"veth0\n"
		"  portcanary run -c /etc/portcanary/portcanary.conf --events -\n",
		PC_DEFAULT_CONFIG, PC_DEFAULT_STATE_DIR);
}

enum {
	OPT_INTERVAL = 256,
	OPT_EVENTS,
	OPT_EXEC,
	OPT_LISTEN,
	OPT_XDP_MODE,
	OPT_INGRESS,
	OPT_STATE_DIR,
	OPT_FW_WINDOW,
	OPT_REVERT,
};

static const struct option run_options[] = {
	{"interface", required_argument, NULL, 'i'},
	{"port", required_argument, NULL, 'p'},
	{"config", required_argument, NULL, 'c'},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"events", required_argument, NULL, OPT_EVENTS},
	{"exec", required_argument, NULL, OPT_EXEC},
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"xdp-mode", required_argument, NULL, OPT_XDP_MODE},
	{"ingress-hook", required_argument, NULL, OPT_INGRESS},
	{"state-dir", required_argument, NULL, OPT_STATE_DIR},
	{"firewall-window", required_argument, NULL, OPT_FW_WINDOW},
	{"revert-blocking-changes", no_argument, NULL, OPT_REVERT},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{},
};

int pc_cmd_run(int argc, char **argv)
{
	static struct pc_run_opts cli, opts;
	char err[600];
	int c;

	pc_run_opts_default(&cli);
	snprintf(cli.config_path, sizeof(cli.config_path), "%s", PC_DEFAULT_CONFIG);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:p:c:vh", run_options, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (pc_opt_iface(optarg, &cli, err, sizeof(err)))
				goto bad;
			cli.cli_set |= PC_OPT_IFACES;
			break;
		case 'p':
			if (pc_opt_port(optarg, &cli, err, sizeof(err)))
				goto bad;
			cli.cli_set |= PC_OPT_PORTS;
			break;
		case 'c':
			if (snprintf(cli.config_path, sizeof(cli.config_path), "%s", optarg) >=
			    (int)sizeof(cli.config_path)) {
				pc_err("-c: path too long");
				return PC_EXIT_USAGE;
			}
			cli.config_required = true;
			break;
		case OPT_INTERVAL:
			if (pc_parse_double(optarg, PC_INTERVAL_MIN_S, PC_INTERVAL_MAX_S,
					    &cli.interval)) {
				pc_err("bad --interval '%s': a number of seconds from 0.1 to 60",
				       optarg);
				return PC_EXIT_USAGE;
			}
			cli.cli_set |= PC_OPT_INTERVAL;
			break;
		case OPT_EVENTS:
			snprintf(cli.events_path, sizeof(cli.events_path), "%s", optarg);
			cli.cli_set |= PC_OPT_EVENTS;
			break;
		case OPT_EXEC:
			snprintf(cli.exec_cmd, sizeof(cli.exec_cmd), "%s", optarg);
			cli.cli_set |= PC_OPT_EXEC;
			break;
		case OPT_LISTEN:
			snprintf(cli.listen_addr, sizeof(cli.listen_addr), "%s", optarg);
			cli.cli_set |= PC_OPT_LISTEN;
			break;
		case OPT_XDP_MODE:
			if (pc_opt_xdp_mode(optarg, &cli.xdp_mode)) {
				pc_err("bad --xdp-mode '%s': use auto, native or generic", optarg);
				return PC_EXIT_USAGE;
			}
			cli.cli_set |= PC_OPT_XDP_MODE;
			break;
		case OPT_INGRESS:
			if (pc_opt_ingress(optarg, &cli.ingress)) {
				pc_err("bad --ingress-hook '%s': use auto, xdp or tc", optarg);
				return PC_EXIT_USAGE;
			}
			cli.cli_set |= PC_OPT_INGRESS;
			break;
		case OPT_STATE_DIR:
			if (!*optarg || optarg[0] != '/' ||
			    strlen(optarg) >= sizeof(cli.state_dir) - 40) {
				pc_err("bad --state-dir '%s': give an absolute path", optarg);
				return PC_EXIT_USAGE;
			}
			snprintf(cli.state_dir, sizeof(cli.state_dir), "%s", optarg);
			cli.cli_set |= PC_OPT_STATE_DIR;
			break;
		case OPT_FW_WINDOW:
			if (pc_parse_double(optarg, 0, PC_FW_WINDOW_MAX_S, &cli.fw_window)) {
				pc_err("bad --firewall-window '%s': seconds from 0 to 86400",
				       optarg);
				return PC_EXIT_USAGE;
			}
			cli.cli_set |= PC_OPT_FW_WINDOW;
			break;
		case OPT_REVERT:
			cli.revert_blocking = true;
			cli.cli_set |= PC_OPT_REVERT;
			break;
		case 'v':
			cli.verbose++;
			cli.cli_set |= PC_OPT_VERBOSE;
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
	/* Defaults, then the config file, then the command line. */
	if (pc_config_resolve(&cli, &opts, err, sizeof(err))) {
		pc_err("%s", err);
		return PC_EXIT_USAGE;
	}
	pc_log_set_level(PC_LOG_INFO + opts.verbose);
	pc_log_hook_libs();
	return pc_daemon_run(&opts);

bad:
	pc_err("%s", err);
	return PC_EXIT_USAGE;
}
