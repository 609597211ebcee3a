/* SPDX-License-Identifier: GPL-2.0 */
/* metrics.h: the Prometheus text exposition (format 0.0.4) of one sample; pure, no I/O. */
#ifndef PC_METRICS_H
#define PC_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "alerts.h"
#include "portcanary.h"
#include "report.h"

/* One monitored port: its view at the last sample and its all-time drops by kernel reason. */
struct pc_metrics_port {
	const struct pc_port_view *view;
	const struct pc_alert_drop *drops; /* may repeat a reason: counts are summed */
	int n_drops;
};

/* Firewall changes seen by the watcher, by source ("nftables", "iptables-legacy"). */
struct pc_metrics_fw {
	const char *source;
	uint64_t changes;
	double last_change; /* unix time of the latest change; 0 = none */
	uint64_t vetted;    /* of changes, those made through apply / rollback */
};

/* Rollbacks the daemon made, by reason (the firewall_rollback event's). */
struct pc_metrics_rollbacks {
	uint64_t port_down, firewall_blocks_port, requested;
};

/* The latest firewall change, as one info series (labels truncated to
 * PC_METRICS_LABEL_MAX bytes on a character boundary; "" where unknown). */
#define PC_METRICS_LABEL_MAX 120
struct pc_metrics_fw_last {
	const char *source;
	uint32_t generation;
	bool vetted;
	const char *command, *user, *unit, *summary;
};

/* Everything one exposition is made of. Strings and arrays are borrowed for the call. */
struct pc_metrics_input {
	const char *version; /* portcanary_build_info{version} */
	double start_time;   /* unix time the daemon started */
	double sample_time;  /* unix time of this sample; 0 = do not export */
	double interval;     /* sampling interval, seconds; 0 = do not export */
	const struct pc_metrics_port *ports;
	int n_ports;
	/* Reasons exported for every port even when 0, so that rate() sees a port's very
	 * first drops (a series born with value 50 shows no increase). Names as the running
	 * kernel spells them; a name this kernel lacks only costs an always-0 series. */
	const char *const *zero_reasons;
	int n_zero_reasons;
	const struct pc_global *global; /* PC_HOOK_MAX entries, or NULL */
	const struct pc_metrics_fw *fw;
	int n_fw;
	const struct pc_metrics_fw_last *fw_last;     /* NULL: no change heard yet */
	const struct pc_metrics_rollbacks *rollbacks; /* NULL: not exported */
	const struct pc_iface_view *ifaces;
	int n_ifaces;
	const struct pc_sampling_stats *sampling; /* NULL: not exported */
};

/* The reasons the shipped rules and the detector's causes care about. */
#define PC_METRICS_ZERO_REASONS                                                                    \
	{                                                                                          \
		"NETFILTER_DROP", "NO_SOCKET", "TCP_LISTEN_OVERFLOW"                               \
	}

/* The firewall source always exported (0 before the first change). */
#define PC_METRICS_FW_DEFAULT_SOURCE "nftables"

/* Names of the label values, as the rules and the dashboard use them. */
const char *pc_metrics_hook_name(int hook); /* xdp|tc_ingress|tc_egress|kfree_skb */

/* portcanary_port_up of a state: 0 only for "down". Degraded ports still answer part of
 * their requests (alert on portcanary_port_state{state="degraded"}); unknown ports are
 * learning, and a failing handshake reaches "down" without a baseline, so neither is 0. */
int pc_metrics_port_up(const char *state);

/* Append a label value escaped per the exposition format (\\, \", \n) to buf.
 * Returns the length the escaped value needs (like snprintf); buf is NUL-terminated. */
size_t pc_metrics_escape(char *buf, size_t len, const char *value);

/* The exposition of one sample: a malloc'd NUL-terminated string the caller owns (to
 * hand to pc_exporter_publish), or NULL when out of memory. */
char *pc_metrics_format(const struct pc_metrics_input *in);

#endif
