// SPDX-License-Identifier: GPL-2.0
/* cli_preflight.c: `portcanary preflight`: what a candidate ruleset would block, tested in a sandbox. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cli.h"
#include "firewall/check.h"
#include "firewall/nft.h"
#include "log.h"
#include "portspec.h"
#include "preflight/preflight.h"

#define PF_MAX_SPECS 64

static void preflight_usage(FILE *out)
{
	fprintf(out,
		"usage: portcanary preflight (--nft FILE | --iptables FILE) -p SPEC... [--json]\n"
		"                            [--from ADDR] [--to ADDR] [--baseline FILE]\n"
		"                            [--iface NAME] [--timeout SEC] [-v]\n\n"
		"Load a candidate firewall ruleset in a throwaway sandbox (two anonymous network\n"
		"namespaces and a veth pair; never the host's ruleset), open listeners on the "
		"ports,\n"
		"connect to each for real, and report every port reachable or blocked, with the\n"
		"kernel's drop reason and the rule that dropped it.\n\n"
		"  -n, --nft FILE        candidate ruleset in nft syntax (as for nft -f)\n"
		"  -I, --iptables FILE   candidate ruleset in iptables-save syntax "
		"(iptables-restore;\n"
		"                        ip6tables-restore with IPv6 addresses)\n"
		"  -p, --port SPEC       [tcp/|udp/]PORT[-PORT][:in|:out] (repeatable; every port "
		"of a\n"
		"                        range is tested, at most %d ports per run). in: a service "
		"on\n"
		"                        this host, the ruleset is on the server side; out: a "
		"service\n"
		"                        this host calls, the ruleset is on the client side\n"
		"  -f, --from ADDR       the client's address (default 192.0.2.1, or 2001:db8::1)\n"
		"  -t, --to ADDR         the server's address (default 192.0.2.2, or 2001:db8::2)\n"
		"  -b, --baseline FILE   the ruleset in force now (same syntax): report only the "
		"ports\n"
		"                        the candidate newly blocks; `current` (with --nft) takes\n"
		"                        this host's live nftables ruleset\n"
		"      --iface NAME      name of the sandbox host's interface, for rules that "
		"match\n"
		"                        iifname/oifname (default eth0)\n"
		"      --timeout SEC     how long a handshake or UDP answer may take, 0.1-30 "
		"(default\n"
		"                        1); each port gets two attempts\n"
		"  -j, --json            print one JSON object\n"
		"  -v, --verbose         more logging\n\n"
		"exit status: 0 every port reachable (or none newly blocked), 1 some port "
		"blocked,\n"
		"2 usage error, unreadable file, a ruleset that does not load, no permission.\n\n"
		"examples:\n"
		"  portcanary preflight --nft new.nft -p 22 -p tcp/443 -p udp/53\n"
		"  portcanary preflight --nft new.nft -p 5432 --from 198.51.100.7  # a client "
		"subnet\n"
		"  portcanary preflight --nft new.nft --baseline current -p 443    # vs what runs "
		"now\n"
		"  portcanary preflight --nft new.nft --baseline current.nft -p 8000-8010 --json\n"
		"  portcanary preflight --iptables rules.v4 -p 22 -p tcp/9000:out\n"
		"  nft list ruleset > now.nft && portcanary preflight --nft new.nft --baseline "
		"now.nft -p 443\n",
		PC_PREFLIGHT_MAX_PORTS);
}

enum {
	OPT_IFACE = 256,
	OPT_TIMEOUT,
};

static const struct option preflight_options[] = {
	{"nft", required_argument, NULL, 'n'},
	{"iptables", required_argument, NULL, 'I'},
	{"port", required_argument, NULL, 'p'},
	{"from", required_argument, NULL, 'f'},
	{"to", required_argument, NULL, 't'},
	{"baseline", required_argument, NULL, 'b'},
	{"iface", required_argument, NULL, OPT_IFACE},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"json", no_argument, NULL, 'j'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{},
};

int pc_cmd_preflight(int argc, char **argv)
{
	static struct pc_portspec specs[PF_MAX_SPECS];
	struct pc_preflight_opts o = {};
	struct pc_preflight_result r;
	struct pc_ruleset baseline = {};
	char *live = NULL; /* --baseline current: the host's ruleset, listed */
	const char *nft = NULL, *ipt = NULL, *base = NULL;
	int c, verbose = 0, ret;
	bool json = false;
	double timeout;
	char err[160];

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:I:p:f:t:b:jvh", preflight_options, NULL)) != -1) {
		switch (c) {
		case 'n':
		case 'I':
			if (nft || ipt) {
				pc_err("give one ruleset: --nft FILE or --iptables FILE, once");
				return PC_EXIT_USAGE;
			}
			*(c == 'n' ? &nft : &ipt) = optarg;
			break;
		case 'p':
			if (o.nspecs == PF_MAX_SPECS) {
				pc_err("too many -p options: at most %d (use ranges)",
				       PF_MAX_SPECS);
				return PC_EXIT_USAGE;
			}
			if (pc_portspec_parse(optarg, &specs[o.nspecs], err, sizeof(err))) {
				pc_err("bad port spec '%s': %s; expected "
				       "[tcp/|udp/]PORT[-PORT][:in|:out], "
				       "e.g. tcp/443 or udp/53:out",
				       optarg, err);
				return PC_EXIT_USAGE;
			}
			o.nspecs++;
			break;
		case 'f':
			o.from = optarg;
			break;
		case 't':
			o.to = optarg;
			break;
		case 'b':
			base = optarg;
			break;
		case OPT_IFACE:
			if (!*optarg || strlen(optarg) >= 16 || strchr(optarg, '/') ||
			    strchr(optarg, ' ') || !strcmp(optarg, "lo")) {
				pc_err("bad --iface '%s': an interface name of 1-15 characters",
				       optarg);
				return PC_EXIT_USAGE;
			}
			o.iface = optarg;
			break;
		case OPT_TIMEOUT:
			if (pc_parse_double(optarg, 0.1, 30, &timeout)) {
				pc_err("bad --timeout '%s': a number of seconds from 0.1 to 30",
				       optarg);
				return PC_EXIT_USAGE;
			}
			o.timeout_ms = (unsigned int)(timeout * 1000 + 0.5);
			break;
		case 'j':
			json = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			preflight_usage(stdout);
			return PC_EXIT_OK;
		case ':':
			pc_err("option %s needs an argument (see portcanary preflight --help)",
			       argv[optind - 1]);
			return PC_EXIT_USAGE;
		default:
			pc_err("unknown option '%s' (see portcanary preflight --help)",
			       argv[optind - 1]);
			return PC_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		pc_err("unexpected argument '%s' (see portcanary preflight --help)", argv[optind]);
		return PC_EXIT_USAGE;
	}
	if (!nft && !ipt) {
		pc_err("no ruleset: give --nft FILE or --iptables FILE (see portcanary preflight "
		       "--help)");
		return PC_EXIT_USAGE;
	}
	if (!o.nspecs) {
		pc_err("no ports: give the critical ports with -p SPEC, e.g. -p 22 -p tcp/443");
		return PC_EXIT_USAGE;
	}
	pc_log_set_level(PC_LOG_INFO + verbose);
	pc_log_hook_libs();
	o.candidate = (struct pc_ruleset){.kind = nft ? PC_RULESET_NFT : PC_RULESET_IPTABLES,
					  .path = nft ? nft : ipt};
	if (base && !strcmp(base, "current")) {
		if (!nft) {
			pc_err("--baseline current compares with the live nftables ruleset: use it "
			       "with --nft (for iptables: iptables-save > now.v4, --baseline "
			       "now.v4)");
			return PC_EXIT_USAGE;
		}
		/* Read only: the host's ruleset is listed, never loaded or changed. */
		live = pc_nft_list(0);
		if (!live) {
			pc_err("cannot list this host's nftables ruleset for --baseline current: "
			       "%s "
			       "(needs CAP_NET_ADMIN)",
			       strerror(errno));
			return PC_EXIT_USAGE;
		}
		baseline = (struct pc_ruleset){
			.kind = PC_RULESET_NFT, .text = live, .name = "current"};
		o.baseline = &baseline;
	} else if (base) {
		baseline = (struct pc_ruleset){.kind = o.candidate.kind, .path = base};
		o.baseline = &baseline;
	}
	o.specs = specs;

	ret = pc_preflight_run(&o, &r);
	if (ret) {
		pc_err("%s", r.error[0] ? r.error : strerror(-ret));
		pc_preflight_result_free(&r);
		free(live);
		return PC_EXIT_USAGE;
	}
	if (json) {
		struct json_object *doc = pc_preflight_json(&r, o.candidate.path, base);

		printf("%s\n",
		       json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(doc);
	} else {
		pc_preflight_table(stdout, &r, o.candidate.path, base);
	}
	ret = r.blocked ? PC_EXIT_FAIL : PC_EXIT_OK;
	pc_preflight_result_free(&r);
	free(live);
	return ret;
}
