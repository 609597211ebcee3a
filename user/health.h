/* SPDX-License-Identifier: GPL-2.0 */
/* health.h: per-port health each interval: counters + drops → detector → alerts and status views. */
#ifndef PC_HEALTH_H
#define PC_HEALTH_H

#include "alerts.h"
#include "detector.h"
#include "firewall/liverule.h"
#include "firewall/watch.h"
#include "drops.h"
#include "portset.h"
#include "report.h"
#include "sampler.h"

#define PC_HEALTH_HISTORY PC_VIEW_HISTORY

struct pc_health {
	struct pc_det_cfg cfg;
	float history[PC_MAX_SLOTS][PC_HEALTH_HISTORY]; /* a ring per slot: no move per interval */
	uint8_t n_history[PC_MAX_SLOTS];
	uint8_t history_head[PC_MAX_SLOTS]; /* the oldest value's index */
	/* The used slots in the order views are listed (proto, port, direction), sorted when the
	 * port set changes (order_gen: the portset's generation), not every interval. */
	uint16_t order[PC_MAX_SLOTS];
	int n_order;
	uint64_t order_gen;
	struct pc_alert_drop top_drop[PC_MAX_SLOTS];
	struct pc_det_port det[PC_MAX_SLOTS];
	struct pc_slot_info owner[PC_MAX_SLOTS]; /* the port each detector belongs to */
	double wall_minus_mono;			 /* to print monotonic times as UTC */
	double dt;				 /* the last interval's length (0 before one) */
	const struct pc_fw_history *fw;		 /* firewall changes, or NULL */
	double fw_window;			 /* how long a change is blamed */
	const struct pc_liverule *liverule;	 /* the live rule per port, or NULL */
	struct pc_rule_view rule[PC_MAX_SLOTS];	 /* what views and events point at */
};

void pc_health_init(struct pc_health *h, const struct pc_det_cfg *cfg, double mono_now,
		    double wall_now);

/* The detector's input for one slot's interval (pure). TCP: requests are SYNs,
 * answers SYN-ACKs/RSTs. UDP has no handshake: requests are the packets towards
 * the service, answers the packets back (a request/response service such as DNS). */
void pc_health_input(int proto, int dir, const struct pc_counters *delta,
		     const uint64_t drop_class[PC_DROP_CLASS_MAX], double dt,
		     struct pc_det_input *in);

/* Feed every monitored slot one interval; emit an event per state change. This is the
 * sampling pass's work: nothing is formatted or listed here. Returns the ports judged. */
int pc_health_update(struct pc_health *h, const struct pc_portset *ps, const struct pc_sampler *s,
		     const struct pc_drops *d, struct pc_alerts *al, double mono_now);

/* The ports as of the last interval, for status and /metrics (built only when one of them
 * asks): views sorted by proto, port, direction. Returns the number of views. */
int pc_health_views(struct pc_health *h, const struct pc_portset *ps, const struct pc_sampler *s,
		    const struct pc_drops *d, struct pc_port_view *views);

/* Event name of a transition, or NULL when it is not an alert (unknown → ok …). */
const char *pc_health_event_name(enum pc_state from, enum pc_state to);

#endif
