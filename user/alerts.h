/* SPDX-License-Identifier: GPL-2.0 */
/* alerts.h: one event per state change: a log line, a JSON line (--events) and a hook (--exec). */
#ifndef PC_ALERTS_H
#define PC_ALERTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "report.h"

#define PC_ALERT_MAX_DROPS	8
#define PC_ALERT_MAX_HOOKS	8    /* hooks running at once; more are skipped, with a warning */
#define PC_ALERT_HOOK_TIMEOUT_S 30.0 /* a hook still running then is killed */

struct pc_alert_drop {
	const char *reason; /* kernel name, e.g. "NETFILTER_DROP" */
	uint64_t count;
};

struct pc_fw_who;

struct pc_firewall_ref {
	double time;		    /* unix time of the change */
	double seconds_before;	    /* how long before the event */
	const char *source;	    /* "nftables", "iptables-legacy" */
	const char *what;	    /* e.g. "table inet filter chain input", or NULL */
	uint32_t generation;	    /* the ruleset generation it made; 0 unknown */
	const struct pc_fw_who *by; /* who committed it, or NULL */
	bool vetted;
	const char *summary; /* one line: what it added and removed, or NULL (not listed yet) */
};

/* One event. Strings are borrowed for the duration of the call. */
struct pc_alert {
	double time;	   /* unix time */
	const char *event; /* port_down | port_degraded | port_recovered */
	uint8_t proto;
	uint8_t dir;
	uint16_t port;
	const char *state; /* new state */
	const char *old_state;
	double old_state_s; /* how long the old state lasted */
	const char *cause;  /* the failure (for a recovery: the one recovered from) */
	const char *detail;
	double syn_rate;
	double baseline_rate;  /* NAN: none learned */
	double answered_ratio; /* NAN: no SYNs */
	int n_drops;
	struct pc_alert_drop drops[PC_ALERT_MAX_DROPS];
	const struct pc_firewall_ref *firewall; /* NULL: no change within the window */
	/* A port down or degraded with cause netfilter_drop carries "rule": the live rule
	 * that drops its real clients, or null with rule_note saying why. */
	bool has_rule;
	const struct pc_rule_view *rule;
	const char *rule_note;
};

/* A firewall change that would block a monitored port (found in the preflight sandbox). */
struct pc_fw_block_alert {
	double time;
	uint8_t proto;
	uint8_t dir;
	uint16_t port;
	bool rule_known;
	const char *family, *table, *chain, *text;
	bool has_handle;
	uint64_t handle;
	const struct pc_firewall_ref *firewall;
};

/* Pure formatting (unit-tested). */
struct json_object *pc_alert_json(const struct pc_alert *a);
void pc_alert_line(const struct pc_alert *a, char *buf, size_t len);
struct json_object *pc_fw_block_json(const struct pc_fw_block_alert *b);
void pc_fw_block_line(const struct pc_fw_block_alert *b, char *buf, size_t len);

struct pc_alert_hook {
	pid_t pid;
	double started; /* CLOCK_MONOTONIC seconds */
	bool term_sent;
};

/* Sees every port and firewall_blocks_port event as it is emitted (one of a, b is set). */
typedef void (*pc_alert_observer)(void *ctx, const struct pc_alert *a,
				  const struct pc_fw_block_alert *b, double mono_now);

struct pc_alerts {
	FILE *events; /* --events: NULL, stdout or the file */
	bool events_is_stdout;
	const char *exec_cmd; /* --exec */
	struct pc_alert_hook hooks[PC_ALERT_MAX_HOOKS];
	uint64_t emitted;
	uint64_t hooks_skipped;
	uint64_t hooks_failed;
	pc_alert_observer observer; /* change management: rollbacks on port events */
	void *observer_ctx;
};

/* Open the sinks. Returns 0 or -errno after one clear line. */
int pc_alerts_open(struct pc_alerts *al, const char *events_path, const char *exec_cmd);
/* Log, write and start the hook for one event; never waits for the hook. */
void pc_alerts_emit(struct pc_alerts *al, const struct pc_alert *a, double mono_now);
/* The same for a firewall_blocks_port event. */
void pc_alerts_emit_block(struct pc_alerts *al, const struct pc_fw_block_alert *b, double mono_now);
/* An event about no single port (firewall_change, firewall_rollback ...): the log line at
 * level, the JSON object (not consumed) written, and the hook run with env in its
 * environment (NULL-terminated "NAME=value" strings, or NULL). */
void pc_alerts_emit_event(struct pc_alerts *al, int level, const char *line, struct json_object *o,
			  const char *const *env, double mono_now);
/* Reap finished hooks, kill overdue ones; call every interval. */
void pc_alerts_reap(struct pc_alerts *al, double mono_now);
void pc_alerts_close(struct pc_alerts *al);

#endif
