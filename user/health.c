// SPDX-License-Identifier: GPL-2.0
/* health.c: each interval, per port: detector input from the counters, events from its changes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "log.h"
#include "portspec.h"

void pc_health_init(struct pc_health *h, const struct pc_det_cfg *cfg, double mono_now,
		    double wall_now)
{
	memset(h, 0, sizeof(*h));
	h->cfg = *cfg;
	h->wall_minus_mono = wall_now - mono_now;
}

void pc_health_input(int proto, int dir, const struct pc_counters *dl,
		     const uint64_t cls[PC_DROP_CLASS_MAX], double dt, struct pc_det_input *in)
{
	bool out = dir == PC_DIR_OUT;

	memset(in, 0, sizeof(*in));
	in->interval_s = dt;
	if (proto == PC_PROTO_TCP) {
		in->syn = out ? dl->tx_syn : dl->rx_syn;
		in->synack = out ? dl->rx_synack : dl->tx_synack;
		in->rst = out ? dl->rx_rst : dl->tx_rst;
	}
	in->icmp_unreach = out ? dl->rx_icmp_unreach : dl->tx_icmp_unreach;
	if (cls) {
		in->drops_netfilter = cls[PC_DROP_CLASS_NETFILTER];
		in->drops_no_socket = cls[PC_DROP_CLASS_NO_SOCKET];
		in->drops_listen_overflow = cls[PC_DROP_CLASS_LISTEN_OVERFLOW];
		in->drops_other = cls[PC_DROP_CLASS_OTHER];
	}
	if (proto == PC_PROTO_UDP) {
		/* Many UDP services never answer (syslog, metrics), so silence is not a
		 * failure: a datagram counts as unanswered only when the host dropped it
		 * or an ICMP error says it was refused. */
		uint64_t failed = in->icmp_unreach + in->drops_netfilter + in->drops_no_socket +
				  in->drops_listen_overflow + in->drops_other;

		in->syn = out ? dl->tx_packets : dl->rx_packets;
		in->synack = in->syn > failed ? in->syn - failed : 0;
	}
	/* What this host sent back while its firewall dropped: the words of a reject. */
	if (!out && in->drops_netfilter) {
		in->reject_rst = dl->tx_rst;
		in->reject_icmp = dl->tx_icmp_unreach;
	}
}

const char *pc_health_event_name(enum pc_state from, enum pc_state to)
{
	if (to == PC_STATE_DOWN)
		return "port_down";
	if (to == PC_STATE_DEGRADED)
		return "port_degraded";
	if ((from == PC_STATE_DOWN || from == PC_STATE_DEGRADED) &&
	    (to == PC_STATE_OK || to == PC_STATE_IDLE))
		return "port_recovered";
	return NULL;
}

static bool same_port(const struct pc_slot_info *a, const struct pc_slot_info *b)
{
	return a->used && b->used && a->port == b->port && a->proto == b->proto && a->dir == b->dir;
}

/*
 * The live rule of a port the firewall drops (down or degraded with cause netfilter_drop):
 * *rule points at it, or is NULL with *note saying why. False for any other port.
 */
static bool live_rule(struct pc_health *h, const struct pc_slot_info *si, int slot,
		      enum pc_state state, enum pc_cause cause, const struct pc_rule_view **rule,
		      const char **note)
{
	const struct pc_fw_change *last = h->fw ? pc_fw_history_last(h->fw) : NULL;
	const struct pc_rule_ref *r;

	*rule = NULL;
	*note = NULL;
	if ((state != PC_STATE_DOWN && state != PC_STATE_DEGRADED) ||
	    cause != PC_CAUSE_NETFILTER_DROP)
		return false;
	if (!h->liverule) {
		*note = "rules are named only with the drop tracer and nftables";
		return true;
	}
	r = pc_liverule_get(h->liverule, slot, si, last ? last->generation : 0, note);
	if (!r) {
		if (!*note)
			*note = "no dropped packet of the port was sampled yet";
		return true;
	}
	pc_liverule_view(r, &h->rule[slot]);
	*rule = &h->rule[slot];
	return true;
}

static void emit(struct pc_health *h, const struct pc_slot_info *si, int slot,
		 const struct pc_det_event *ev, const struct pc_drops *d, struct pc_alerts *al,
		 double mono_now)
{
	const char *name = pc_health_event_name(ev->old_state, ev->new_state);
	struct pc_alert a = {
		.time = ev->time + h->wall_minus_mono,
		.event = name,
		.proto = si->proto,
		.dir = si->dir,
		.port = si->port,
		.state = pc_state_name(ev->new_state),
		.old_state = pc_state_name(ev->old_state),
		.old_state_s = ev->time - ev->prev_since,
		.cause = ev->cause != PC_CAUSE_NONE ? pc_cause_name(ev->cause) : NULL,
		.detail = ev->detail,
		.syn_rate = ev->syn_rate,
		.baseline_rate = ev->baseline_rate > 0 ? ev->baseline_rate : NAN,
		.answered_ratio = ev->answered_ratio >= 0 ? ev->answered_ratio : NAN,
	};

	if (!name) {
		pc_info("%s/%u:%s is %s%s%s", pc_proto_name(si->proto), si->port,
			pc_dir_name(si->dir), pc_state_name(ev->new_state),
			ev->new_state == PC_STATE_OK ? ": baseline learned" : "",
			ev->new_state == PC_STATE_IDLE ? " (too little traffic to judge)" : "");
		return;
	}
	struct pc_firewall_ref fw;
	const struct pc_fw_change *c;

	if (d)
		a.n_drops = pc_drops_recent(d, slot, a.drops, PC_ALERT_MAX_DROPS);
	a.has_rule = live_rule(h, si, slot, ev->new_state, ev->cause, &a.rule, &a.rule_note);
	/* A port that got worse: was there a firewall change just before? */
	if (h->fw && ev->new_state > ev->old_state && ev->new_state >= PC_STATE_DEGRADED) {
		c = pc_fw_history_before(h->fw, a.time, h->fw_window);
		if (c) {
			pc_fw_ref(c, a.time, &fw);
			a.firewall = &fw;
		}
	}
	pc_alerts_emit(al, &a, mono_now);
}

static void push_history(struct pc_health *h, int slot, double rate)
{
	float *hist = h->history[slot];

	if (h->n_history[slot] == PC_HEALTH_HISTORY) {
		/* full: the oldest goes, its place takes the newest */
		hist[h->history_head[slot]] = rate;
		h->history_head[slot] = (h->history_head[slot] + 1) % PC_HEALTH_HISTORY;
		return;
	}
	hist[(h->history_head[slot] + h->n_history[slot]) % PC_HEALTH_HISTORY] = rate;
	h->n_history[slot]++;
}

static const struct pc_portset *sort_ps; /* for slot_cmp: qsort has no context argument */

/* Views are listed by proto, port, direction. */
static int slot_cmp(const void *a, const void *b)
{
	const struct pc_slot_info *x = &sort_ps->slots[*(const uint16_t *)a];
	const struct pc_slot_info *y = &sort_ps->slots[*(const uint16_t *)b];

	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->port != y->port)
		return x->port - y->port;
	return x->dir - y->dir;
}

/* The used slots in view order, anew only when the port set changed. */
static void order_slots(struct pc_health *h, const struct pc_portset *ps)
{
	int slot;

	if (h->order_gen == ps->gen && h->n_order == ps->nused)
		return;
	h->n_order = 0;
	for (slot = 1; slot < PC_MAX_SLOTS; slot++)
		if (ps->slots[slot].used)
			h->order[h->n_order++] = slot;
	sort_ps = ps;
	qsort(h->order, h->n_order, sizeof(h->order[0]), slot_cmp);
	h->order_gen = ps->gen;
}

int pc_health_update(struct pc_health *h, const struct pc_portset *ps, const struct pc_sampler *s,
		     const struct pc_drops *d, struct pc_alerts *al, double mono_now)
{
	int i;

	order_slots(h, ps);
	h->dt = s->dt;
	for (i = 0; i < h->n_order; i++) {
		int slot = h->order[i];
		const struct pc_slot_info *si = &ps->slots[slot];
		struct pc_det_port *det = &h->det[slot];
		struct pc_det_event ev;
		struct pc_det_input in;

		if (!same_port(&h->owner[slot], si)) {
			/* A new port in this slot: a new detector; its first delta is history. */
			pc_det_init(det, mono_now);
			det->udp = si->proto == PC_PROTO_UDP;
			h->owner[slot] = *si;
			h->n_history[slot] = h->history_head[slot] = 0;
		} else if (s->dt > 0) {
			pc_health_input(si->proto, si->dir, &s->delta[slot],
					d ? d->delta_class[slot] : NULL, s->dt, &in);
			if (pc_det_step(&h->cfg, det, &in, mono_now, &ev))
				emit(h, si, slot, &ev, d, al, mono_now);
			push_history(h, slot, in.syn / s->dt);
		}
	}
	return h->n_order;
}

int pc_health_views(struct pc_health *h, const struct pc_portset *ps, const struct pc_sampler *s,
		    const struct pc_drops *d, struct pc_port_view *views)
{
	int i, n = 0;

	order_slots(h, ps);
	for (i = 0; i < h->n_order; i++) {
		int slot = h->order[i];
		const struct pc_slot_info *si = &ps->slots[slot];
		const struct pc_det_port *det = &h->det[slot];
		struct pc_port_view *v = &views[n];

		if (!same_port(&h->owner[slot], si))
			continue; /* not judged yet: listed from the next interval on */
		memset(v, 0, sizeof(*v));
		v->slot = slot;
		v->port = si->port;
		v->proto = si->proto;
		v->dir = si->dir;
		v->state = pc_state_name(det->state);
		v->cause = det->cause != PC_CAUSE_NONE ? pc_cause_name(det->cause) : NULL;
		v->detail = det->detail[0] ? det->detail : NULL;
		v->since = det->since + h->wall_minus_mono;
		v->syn_rate = h->dt > 0 ? det->syn_rate : NAN;
		v->answered_ratio = det->answered_ratio >= 0 ? det->answered_ratio : NAN;
		v->baseline_rate = det->baseline_valid ? det->baseline_rate : NAN;
		v->drops_total = d ? d->slot_total[slot] : 0;
		v->drops_rate = d && h->dt > 0 ? d->slot_delta[slot] / h->dt : NAN;
		if (d && h->dt > 0 &&
		    pc_drops_recent_specific(d, slot, &h->top_drop[slot], 1) == 1) {
			v->top_drop_reason = h->top_drop[slot].reason;
			v->top_drop_rate = h->top_drop[slot].count / (PC_DROPS_HIST * h->dt);
		}
		live_rule(h, si, slot, det->state, det->cause, &v->rule, &v->rule_note);
		v->history = h->history[slot];
		v->n_history = h->n_history[slot];
		v->history_head = h->history_head[slot];
		pc_sampler_total(s, slot, &v->total);
		n++;
	}
	return n; /* in order already (order_slots) */
}
