// SPDX-License-Identifier: GPL-2.0
/* exporter_probe.c: test_prometheus.sh's helper: prints a sample exposition, or serves one under abuse. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exporter.h"
#include "log.h"
#include "metrics.h"
#include "portspec.h"
#include "report.h"

/*
 * usage: exporter_probe sample [NPORTS]
 *          the formatter's exposition of a synthetic sample, on stdout
 *        exporter_probe serve LISTEN [NPORTS]
 *          serve that sample on LISTEN; print "port N" once listening; republish a fresh
 *          sample every 50 ms, as the daemon does every interval, until SIGTERM/SIGINT;
 *          then print "publishes N max_publish_us M" (M: the longest publish, which a
 *          scrape must never lengthen) and exit 0
 */

#define MAX_PORTS 4096

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A sample touching every family: ports in each state, a cause, NaN rates, repeated
 * drop reasons, every hook, two firewall sources, and label values needing escapes. */
static char *make_sample(int nports, uint64_t tick)
{
	static struct pc_port_view views[MAX_PORTS];
	static struct pc_metrics_port ports[MAX_PORTS];
	static const char *const states[] = {"ok", "down", "unknown", "idle", "degraded"};
	static const char *const zero[] = PC_METRICS_ZERO_REASONS;
	/* The live rule of a port down by the firewall: its text needs escapes. */
	static const struct pc_rule_view rule = {
		.family = "inet",
		.table = "filter",
		.chain = "input",
		.has_handle = true,
		.handle = 7,
		.text = "ip saddr 10.0.0.0/8 tcp dport { 8001, 8002 } counter drop comment \"no "
			"\\\"x\\\"\"",
	};
	static const struct pc_alert_drop drops[] = {
		{"NETFILTER_DROP", 40},
		{"NO_SOCKET", 3},
		{"NETFILTER_DROP", 2},
	};
	struct pc_global global[PC_HOOK_MAX];
	struct pc_metrics_fw fw[] = {
		{"nftables", 3 + tick, 1795000000.5},
		{"iptables-legacy", 0, 0},
	};
	/* the latest change, with a label value needing escapes */
	static const struct pc_metrics_fw_last last = {
		.source = "nftables",
		.generation = 12,
		.command = "nft -f \"/etc/nftables.d/new.nft\"",
		.user = "deploy",
		.unit = "session-12.scope",
		.summary = "added rule inet filter input handle 7: tcp dport 8001 drop",
	};
	static const struct pc_metrics_rollbacks rollbacks = {2, 1, 0};
	struct pc_sampling_stats sampling = {.passes = 100 + tick, .total_s = 0.25, .max_s = 0.01};
	struct pc_iface_view ifaces[] = {
		{.name = "eth0", .ingress = "xdp", .xdp_mode = "native"},
		{.name = "we\"ird\\if", .ingress = "tc"},
	};
	struct pc_metrics_input in = {
		.version = "0.1.0-test \"quoted\" back\\slash\nline2",
		.start_time = 1795000000.0,
		.sample_time = 1795000100.25 + tick,
		.interval = 1,
		.ports = ports,
		.n_ports = nports,
		.zero_reasons = zero,
		.n_zero_reasons = sizeof(zero) / sizeof(zero[0]),
		.global = global,
		.fw = fw,
		.n_fw = 2,
		.ifaces = ifaces,
		.n_ifaces = 2,
		.fw_last = &last,
		.rollbacks = &rollbacks,
		.sampling = &sampling,
	};
	int i, h;

	for (h = 0; h < PC_HOOK_MAX; h++)
		global[h] = (struct pc_global){.packets = 1000 * (h + 1) + tick,
					       .not_ip = 5,
					       .malformed = h,
					       .frag_nonfirst = 1,
					       .other_l4 = 2,
					       .monitored = 900 + tick,
					       .icmp_errors = 3,
					       .foreign_netns = 7};
	for (i = 0; i < nports; i++) {
		struct pc_port_view *v = &views[i];
		const char *st = states[i % 5];

		*v = (struct pc_port_view){
			.port = (uint16_t)(8000 + i / 3),
			.proto = i % 3 == 2 ? PC_PROTO_UDP : PC_PROTO_TCP,
			.dir = i % 3 == 1 ? PC_DIR_OUT : PC_DIR_IN,
			.state = st,
			.cause = !strcmp(st, "down")	   ? "netfilter_drop"
				 : !strcmp(st, "degraded") ? "reset"
							   : NULL,
			.since = i % 2 ? 1795000050.5 : 0,
			.syn_rate = 10,
			.answered_ratio = !strcmp(st, "unknown") ? NAN : 0.25 * (i % 5),
			.baseline_rate = !strcmp(st, "unknown") ? NAN : 9.75,
			.rule = !strcmp(st, "down") ? &rule : NULL,
		};
		v->total.rx_syn = v->total.tx_syn = 100 + tick;
		v->total.rx_synack = v->total.tx_synack = 90 + tick;
		v->total.rx_rst = 1;
		v->total.rx_packets = 500 + tick;
		v->total.tx_bytes = 30000 + tick;
		ports[i] = (struct pc_metrics_port){
			.view = v, .drops = drops, .n_drops = i % 5 == 1 ? 3 : 0};
	}
	return pc_metrics_format(&in);
}

int main(int argc, char **argv)
{
	struct pc_exporter *ex;
	double worst = 0, t0, next;
	uint64_t tick = 0, nports = 9;
	char *text;
	int ret;

	if (argc >= 2 && !strcmp(argv[1], "sample")) {
		if (argc >= 3 && pc_parse_u64(argv[2], 0, MAX_PORTS, &nports))
			return 2;
		text = make_sample((int)nports, 0);
		if (!text)
			return 1;
		fputs(text, stdout);
		free(text);
		return 0;
	}
	if (argc < 3 || strcmp(argv[1], "serve")) {
		fprintf(stderr, "usage: %s sample [NPORTS] | serve LISTEN [NPORTS]\n", argv[0]);
		return 2;
	}
	if (argc >= 4 && pc_parse_u64(argv[3], 0, MAX_PORTS, &nports))
		return 2;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	ret = pc_exporter_start(argv[2], &ex);
	if (ret)
		return ret == -EINVAL ? 2 : 1;
	pc_exporter_publish(ex, make_sample((int)nports, tick++));
	printf("port %d\n", pc_exporter_port(ex));
	fflush(stdout);
	next = now_s(CLOCK_MONOTONIC);
	while (!stop) {
		/* Formatting is outside the timed part: only the hand-over could wait on a scrape. */
		text = make_sample((int)nports, tick++);
		t0 = now_s(CLOCK_MONOTONIC);
		pc_exporter_publish(ex, text);
		if (now_s(CLOCK_MONOTONIC) - t0 > worst)
			worst = now_s(CLOCK_MONOTONIC) - t0;
		next += 0.05;
		while (!stop && now_s(CLOCK_MONOTONIC) < next)
			usleep(5000);
	}
	pc_exporter_stop(ex);
	printf("publishes %llu max_publish_us %.0f\n", (unsigned long long)tick, worst * 1e6);
	return 0;
}
