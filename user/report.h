/* SPDX-License-Identifier: GPL-2.0 */
/* report.h: the status document (JSON, as `status --json` prints it) and its table rendering. */
#ifndef PC_REPORT_H
#define PC_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

#include "portcanary.h"
#include "sampler.h"

#define PC_VIEW_HISTORY 60 /* intervals of SYN-rate history per port, for status --watch */

/* A firewall rule as the outputs show it (DESIGN.md's RULE). Strings are borrowed. */
struct pc_rule_view {
	const char *family, *table, *chain;
	bool has_handle; /* false: the chain's policy */
	uint64_t handle;
	const char *text; /* "policy drop" for a policy */
};

/* RULE as JSON: {"family","table","chain","handle","text"}, handle null for a policy. */
struct json_object *pc_rule_view_json(const struct pc_rule_view *r);
/* "inet filter input handle 7: tcp dport 8001 drop" */
void pc_rule_view_line(const struct pc_rule_view *r, char *buf, size_t len);

/* One monitored port as the daemon sees it at the last sample. */
struct pc_port_view {
	uint16_t slot; /* counter slot (internal) */
	uint16_t port;
	uint8_t proto;
	uint8_t dir;
	const char *state;     /* unknown|idle|ok|degraded|down */
	const char *cause;     /* NULL when healthy */
	const char *detail;    /* NULL or a human sentence */
	double since;	       /* unix time of the last state change, 0 = start */
	double syn_rate;       /* requests per second (IN: SYN in; OUT: SYN out) */
	double answered_ratio; /* SYN-ACK / SYN over the interval; NAN without SYNs */
	double baseline_rate;  /* learned SYN rate; NAN while unknown */
	double drops_rate;
	uint64_t drops_total;
	const char *top_drop_reason;	 /* most frequent recent drop reason, or NULL */
	double top_drop_rate;		 /* its drops per second over the recent window */
	const struct pc_rule_view *rule; /* down/degraded by netfilter: the rule, or NULL */
	const char *rule_note;		 /* ... why it is not known (NULL: not such a port) */
	const float *history; /* SYN/s of the last intervals: a ring of PC_VIEW_HISTORY */
	int n_history;	      /* values in it */
	int history_head;     /* where the oldest is: value i is history[(head + i) % size] */
	struct pc_counters total; /* raw counters since the slot was created */
};

#define PC_IFACE_WHY_LEN 256

struct pc_iface_view {
	const char *name;
	int ifindex;
	const char *ingress;  /* "xdp" or "tc" */
	const char *xdp_mode; /* native|generic (xdp), else NULL */
	bool adopted;
	const char *driver;    /* ethtool's driver name, or NULL */
	const char *kind;      /* software device kind (veth, bridge ...), or NULL */
	const char *reason;    /* why this hook: a code (pc_hook_reason_code) */
	const char *why;       /* ... and a sentence */
	const char *xdp_ahead; /* a foreign XDP program ahead of our TC ingress, or NULL */
};

#define PC_SAMPLING_RECENT 64

/* What the daemon's sampling passes cost (each: read, sum, detect, hand over), in CPU time of
 * the sampling thread, since start. */
struct pc_sampling_stats {
	uint64_t passes;
	double total_s; /* all passes together */
	double max_s;	/* the longest */
	double last_s;
	double wall; /* unix time the last pass ended */
	/* The last passes, for a median that an interrupt charged to one pass does not move. */
	float recent_s[PC_SAMPLING_RECENT];
	unsigned int n_recent;
};
/* The median of the recent passes (0 before any). Pure. */
double pc_sampling_median(const struct pc_sampling_stats *s);

struct pc_status_meta {
	const struct pc_sampling_stats *sampling; /* or NULL */
	double interval;
	double started; /* unix time */
	const char *state_dir;
	bool auto_ports; /* ports come from the host's listeners */
	const struct pc_iface_view *ifaces;
	int n_ifaces;
	const struct pc_global *global; /* PC_HOOK_MAX entries, or NULL */
	/* The last few firewall changes, newest first (pc_fw_recent_json()), or NULL.
	 * pc_report_status() takes it over. */
	struct json_object *firewall_changes;
	/* An apply or rollback under way (pc_fwm_status_json()), or NULL; taken over too. */
	struct json_object *firewall_operation;
};

/* Request counters of a port in its direction (see struct pc_counters). */
uint64_t pc_view_syn(const struct pc_port_view *v);
uint64_t pc_view_synack(const struct pc_port_view *v);
uint64_t pc_view_rst(const struct pc_port_view *v);
uint64_t pc_view_icmp(const struct pc_port_view *v);

/* The document `status --json` prints; the caller owns the result. */
struct json_object *pc_report_status(const struct pc_status_meta *meta,
				     const struct pc_port_view *ports, int n);
/* Render a status document as the human table (with sparklines of the SYN-rate
 * history when sparklines is set). Returns 0 or -EINVAL on a bad document. */
int pc_report_table(FILE *out, struct json_object *status, bool sparklines);
/* The "recent firewall changes" part of the table (from the status document). */
void pc_report_fw_changes(FILE *out, struct json_object *status);
/* A sparkline of values (oldest first) in UTF-8 block characters, width at most max. */
void pc_sparkline(const double *v, int n, int max, char *buf, size_t len);
/* A JSON number with at most 3 decimals, printed short ("2.311", "50"); null for
 * NaN/inf, which JSON cannot carry. */
struct json_object *pc_json_num(double v);
/* RFC 3339 UTC with milliseconds. */
void pc_format_time(double unix_time, char *buf, size_t len);

#endif
