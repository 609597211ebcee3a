// SPDX-License-Identifier: GPL-2.0
/* detector.c: where a port turns "down": judgements, baseline, collapse, hysteresis and flap damping. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "detector.h"

/* Float comparisons against thresholds computed from sums of interval lengths:
 * 10 intervals of 0.1 s must count as 1 s. */
#define EPS 1e-9

static const char *const state_names[PC_STATE_MAX] = {
	[PC_STATE_UNKNOWN] = "unknown",
	[PC_STATE_IDLE] = "idle",
	[PC_STATE_OK] = "ok",
	[PC_STATE_DEGRADED] = "degraded",
	[PC_STATE_DOWN] = "down",
};

static const char *const cause_names[PC_CAUSE_MAX] = {
	[PC_CAUSE_NONE] = "none",
	[PC_CAUSE_NETFILTER_DROP] = "netfilter_drop",
	[PC_CAUSE_NO_LISTENER] = "no_listener",
	[PC_CAUSE_LISTEN_OVERFLOW] = "listen_overflow",
	[PC_CAUSE_RESET] = "reset",
	[PC_CAUSE_ICMP_UNREACHABLE] = "icmp_unreachable",
	[PC_CAUSE_UNANSWERED] = "unanswered",
	[PC_CAUSE_COLLAPSE] = "collapse",
};

const char *pc_state_name(enum pc_state state)
{
	if ((unsigned int)state >= PC_STATE_MAX)
		return "?";
	return state_names[state];
}

const char *pc_cause_name(enum pc_cause cause)
{
	if ((unsigned int)cause >= PC_CAUSE_MAX)
		return "?";
	return cause_names[cause];
}

int pc_state_from_name(const char *name)
{
	int i;

	for (i = 0; name && i < PC_STATE_MAX; i++)
		if (!strcmp(name, state_names[i]))
			return i;
	return -EINVAL;
}

int pc_cause_from_name(const char *name)
{
	int i;

	for (i = 0; name && i < PC_CAUSE_MAX; i++)
		if (!strcmp(name, cause_names[i]))
			return i;
	return -EINVAL;
}

struct pc_det_cfg pc_det_cfg_default(void)
{
	return (struct pc_det_cfg){
		/* 4 SYNs: one handshake split across an interval boundary moves the
		 * answered share by at most 25%, under the 30% degraded line, so a
		 * healthy port is not judged degraded by sampling alone; and a port at
		 * 5 SYN/s is still judged every 1 s interval. */
		.min_syns = 4,
		/* 10 s: ports slower than min_syns per interval are judged over several
		 * intervals; slower than 0.4 SYN/s (4 in 10 s) is idle, too little
		 * traffic to tell a failure from a quiet client. */
		.judge_max_s = 10.0,
		/* 30%: a healthy port answers ~100%; a third unanswered is a partial
		 * failure (one of several backends, some source ranges blocked). */
		.degraded_fail_ratio = 0.3,
		/* 80%: a blocked port answers ~0%, but the interval in which the
		 * block lands still carries some answers; 80% keeps "down" for
		 * "almost nobody gets through". */
		.down_fail_ratio = 0.8,
		/* 20%: a cause must explain at least a fifth of the failures, so a
		 * stray NO_SOCKET drop (a late segment of a closed connection) does
		 * not name the cause of a port whose SYNs go unanswered. */
		.cause_min_share = 0.2,
		/* 2 judgements: one bad interval is never an alert, and a port at
		 * >= 5 SYN/s blocked mid-interval is down at the 2nd full interval,
		 * within the 3 the design asks for. */
		.down_after = 2,
		/* 3 judgements: recovery must be seen to last a little longer than
		 * a failure takes to be believed, so a port that answers one second
		 * in two stays reported. */
		.up_after = 3,
		/* 4 of the last 10: a port failing every other interval never has
		 * down_after bad judgements in a row, yet is broken for its users:
		 * it is degraded (once: recovery needs up_after good in a row). */
		.intermittent_window = 10,
		.intermittent_bad = 4,
		/* 10 s: enough 1 s samples for a baseline within 25% at steady load,
		 * and, with low-rate ports judged every few seconds, out of unknown
		 * well within the 20 s the design allows. */
		.learn_s = 10.0,
		/* 60 s: a few seconds of burst or lull barely move the baseline,
		 * while a daily ramp (tens of minutes) is followed closely enough
		 * that a natural decline never looks like a collapse. */
		.baseline_tau_s = 60.0,
		/* 20%: traffic that merely halves (a client restarting, a quiet
		 * hour) stays far above it; a block upstream brings it to ~0. */
		.collapse_fraction = 0.2,
		/* 1 SYN/s: below that, silence for a while is normal for many ports
		 * (cron jobs, retries), so silence is not evidence. */
		.collapse_min_baseline = 1.0,
		/* 10 SYNs: the span checked must expect at least 10, so Poisson
		 * noise rarely looks like a collapse (P(<2 | 10) = 0.05%, and two
		 * judgements in a row are needed); that is 2 intervals at 5 SYN/s,
		 * 1 at >= 10 SYN/s. */
		.collapse_min_expected = 10.0,
		/* Damping: every change scores 1 and leaks 1 per 20 s. An outage and
		 * its recovery score < 2.5; a third change within ~10 s passes 2.5
		 * and the port is held at degraded at best, until it has been quiet
		 * long enough to fall under 1 point (30 s or more). */
		.flap_enter = 2.5,
		.flap_exit = 1.0,
		.flap_leak_s = 20.0,
		/* 10 judgements: while flapping, "down" must be steady for 10 s,
		 * not two bad seconds among good ones. */
		.flap_down_after = 10,
	};
}

int pc_det_cfg_validate(const struct pc_det_cfg *c)
{
	if (!c)
		return -EINVAL;
	if (c->min_syns < 1 || !(c->judge_max_s > 0))
		return -EINVAL;
	if (!(c->degraded_fail_ratio > 0) || !(c->degraded_fail_ratio < c->down_fail_ratio) ||
	    !(c->down_fail_ratio <= 1))
		return -EINVAL;
	if (!(c->cause_min_share >= 0) || !(c->cause_min_share <= 1))
		return -EINVAL;
	if (c->down_after < 1 || c->up_after < 1 || c->flap_down_after < c->down_after)
		return -EINVAL;
	if (c->intermittent_window < 1 || c->intermittent_window > PC_DET_WINDOW_MAX ||
	    c->intermittent_bad < 1 || c->intermittent_bad > c->intermittent_window)
		return -EINVAL;
	if (!(c->learn_s >= 0) || !(c->baseline_tau_s > 0))
		return -EINVAL;
	if (!(c->collapse_fraction > 0) || !(c->collapse_fraction < 1) ||
	    !(c->collapse_min_baseline > 0) || !(c->collapse_min_expected > 0))
		return -EINVAL;
	if (!(c->flap_exit > 0) || !(c->flap_enter > c->flap_exit) || !(c->flap_leak_s > 0))
		return -EINVAL;
	return 0;
}

void pc_det_init(struct pc_det_port *p, double now)
{
	memset(p, 0, sizeof(*p));
	p->state = PC_STATE_UNKNOWN;
	p->cause = PC_CAUSE_NONE;
	p->since = now;
	p->answered_ratio = -1;
	p->better_worst = PC_STATE_OK;
	snprintf(p->detail, sizeof(p->detail), "learning");
}

/* What one judgement found. */
struct judgement {
	bool have;
	enum pc_state sev;		/* IDLE (too little traffic), OK, DEGRADED or DOWN */
	enum pc_cause cause;
	struct pc_det_input ev;		/* the counts judged (interval_s: their span) */
	uint64_t requests, answered;
	double expected;		/* collapse: SYNs the baseline expected over ev's span */
	bool intermittent;
};

static void input_add(struct pc_det_input *a, const struct pc_det_input *b)
{
	a->interval_s += b->interval_s;
	a->syn += b->syn;
	a->synack += b->synack;
	a->rst += b->rst;
	a->icmp_unreach += b->icmp_unreach;
	a->drops_netfilter += b->drops_netfilter;
	a->drops_no_socket += b->drops_no_socket;
	a->drops_listen_overflow += b->drops_listen_overflow;
	a->drops_other += b->drops_other;
	a->reject_rst += b->reject_rst;
	a->reject_icmp += b->reject_icmp;
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* Most specific first; a cause needs evidence for cause_min_share of the failures. */
static enum pc_cause pick_cause(const struct pc_det_cfg *cfg, const struct pc_det_input *a,
				uint64_t failed)
{
	double need = cfg->cause_min_share * (double)failed;

	if (need < 1)
		need = 1;
	if ((double)a->drops_netfilter >= need)
		return PC_CAUSE_NETFILTER_DROP;
	if ((double)a->drops_no_socket >= need)
		return PC_CAUSE_NO_LISTENER;
	if ((double)a->drops_listen_overflow >= need)
		return PC_CAUSE_LISTEN_OVERFLOW;
	/* RSTs and ICMP errors netfilter sent in a reject are not the service's answers. */
	if ((double)sub0(a->rst, a->reject_rst) >= need)
		return PC_CAUSE_RESET;
	if ((double)sub0(a->icmp_unreach, a->reject_icmp) >= need)
		return PC_CAUSE_ICMP_UNREACHABLE;
	return PC_CAUSE_UNANSWERED;
}

/* Judge accumulated counts: the share of requests left without a SYN-ACK. */
static void judge(const struct pc_det_cfg *cfg, const struct pc_det_input *a, struct judgement *j)
{
	uint64_t requests = a->syn, answered, failed;
	double fail;

	/* A SYN-ACK retransmitted for a lost ACK, or answering a SYN of the previous
	 * interval, may outnumber the SYNs: that is not more than full health. */
	answered = a->synack < a->syn ? a->synack : a->syn;
	failed = requests - answered;
	/* An outbound port blocked by this host's own OUTPUT chain: the SYNs die in
	 * netfilter before TC egress counts them. The drops are the requests then. */
	if (a->syn < cfg->min_syns && a->drops_netfilter > failed) {
		failed = a->drops_netfilter;
		requests = answered + failed;
	}
	memset(j, 0, sizeof(*j));
	j->have = true;
	j->ev = *a;
	j->requests = requests;
	j->answered = answered;
	fail = requests ? (double)failed / (double)requests : 0;
	if (fail >= cfg->down_fail_ratio - EPS)
		j->sev = PC_STATE_DOWN;
	else if (fail >= cfg->degraded_fail_ratio - EPS)
		j->sev = PC_STATE_DEGRADED;
	else
		j->sev = PC_STATE_OK;
	j->cause = j->sev == PC_STATE_OK ? PC_CAUSE_NONE : pick_cause(cfg, a, failed);
}

static void hist_push(struct pc_det_port *p, double dt, uint64_t syn)
{
	p->hist[p->hist_pos].dt = dt;
	p->hist[p->hist_pos].syn = syn;
	p->hist_pos = (p->hist_pos + 1) % PC_DET_HIST;
	if (p->hist_n < PC_DET_HIST)
		p->hist_n++;
}

/* Collapse: over the shortest recent span where the baseline expects
 * collapse_min_expected SYNs, fewer than collapse_fraction of them came. */
static bool check_collapse(const struct pc_det_cfg *cfg, const struct pc_det_port *p,
			   struct judgement *j)
{
	double span = 0, expected = 0;
	uint64_t syn = 0;
	uint32_t k;

	if (!p->baseline_valid || p->baseline_rate < cfg->collapse_min_baseline - EPS)
		return false;
	for (k = 0; k < p->hist_n; k++) {
		uint32_t i = (p->hist_pos + PC_DET_HIST - 1 - k) % PC_DET_HIST;

		span += p->hist[i].dt;
		syn += p->hist[i].syn;
		expected = p->baseline_rate * span;
		if (expected >= cfg->collapse_min_expected - EPS)
			break;
	}
	if (k == p->hist_n)
		return false;	/* not enough history yet to expect enough SYNs */
	if ((double)syn >= cfg->collapse_fraction * expected)
		return false;
	memset(j, 0, sizeof(*j));
	j->have = true;
	j->sev = PC_STATE_DOWN;
	j->cause = PC_CAUSE_COLLAPSE;
	j->ev.interval_s = span;
	j->ev.syn = syn;
	j->expected = expected;
	return true;
}

static int pct(double x)
{
	return (int)(x * 100 + 0.5);
}

static const char *reject_mode(const struct pc_det_input *a)
{
	if (a->reject_rst && a->reject_rst >= a->reject_icmp)
		return "reject with tcp reset";
	if (a->reject_icmp)
		return "reject with icmp";
	return "drop";
}

/* One line of evidence for a failing judgement (or a run of them, summed). */
static void describe_failure(char *buf, size_t len, enum pc_cause cause,
			     const struct pc_det_input *a, uint64_t requests, uint64_t answered,
			     double expected, double baseline)
{
	unsigned long long req = requests, ans = answered;
	double span = a->interval_s;

	switch (cause) {
	case PC_CAUSE_NETFILTER_DROP:
		snprintf(buf, len, "netfilter dropped %llu packets (%s); %llu of %llu SYNs answered in %.1f s",
			 (unsigned long long)a->drops_netfilter, reject_mode(a), ans, req, span);
		break;
	case PC_CAUSE_NO_LISTENER:
		snprintf(buf, len, "nothing listens: %llu packets dropped as NO_SOCKET, %llu RSTs; "
			 "%llu of %llu SYNs answered in %.1f s",
			 (unsigned long long)a->drops_no_socket, (unsigned long long)a->rst,
			 ans, req, span);
		break;
	case PC_CAUSE_LISTEN_OVERFLOW:
		snprintf(buf, len, "accept queue full: %llu dropped as TCP_LISTEN_OVERFLOW; "
			 "%llu of %llu SYNs answered in %.1f s",
			 (unsigned long long)a->drops_listen_overflow, ans, req, span);
		break;
	case PC_CAUSE_RESET:
		snprintf(buf, len, "answered with reset: %llu RSTs; %llu of %llu SYNs answered in %.1f s",
			 (unsigned long long)sub0(a->rst, a->reject_rst), ans, req, span);
		break;
	case PC_CAUSE_ICMP_UNREACHABLE:
		snprintf(buf, len, "%llu ICMP unreachable errors; %llu of %llu SYNs answered in %.1f s",
			 (unsigned long long)sub0(a->icmp_unreach, a->reject_icmp), ans, req, span);
		break;
	case PC_CAUSE_COLLAPSE:
		snprintf(buf, len, "%llu SYNs in %.1f s where the baseline of %.1f SYN/s expects %.0f "
			 "(%d%%): blocked upstream, or the clients stopped",
			 (unsigned long long)a->syn, span, baseline, expected,
			 expected > 0 ? pct((double)a->syn / expected) : 0);
		break;
	default:
		if (a->drops_other)
			snprintf(buf, len, "%llu of %llu SYNs answered in %.1f s; no firewall or socket "
				 "drop seen, %llu packets dropped for other reasons",
				 ans, req, span, (unsigned long long)a->drops_other);
		else
			snprintf(buf, len, "%llu of %llu SYNs answered in %.1f s; no local drop seen",
				 ans, req, span);
		break;
	}
}

static void window_push(struct pc_det_port *p, const struct pc_det_cfg *cfg, bool bad)
{
	uint32_t w = cfg->intermittent_window;

	p->window[p->window_pos % w] = bad;
	p->window_pos = (p->window_pos + 1) % w;
	if (p->window_n < w)
		p->window_n++;
}

static uint32_t window_bad(const struct pc_det_port *p, const struct pc_det_cfg *cfg)
{
	uint32_t i, n = 0;

	for (i = 0; i < p->window_n && i < cfg->intermittent_window; i++)
		n += p->window[i];
	return n;
}

static bool is_bad(enum pc_state s)
{
	return s == PC_STATE_DEGRADED || s == PC_STATE_DOWN;
}

static void forget_baseline(struct pc_det_port *p)
{
	p->baseline_valid = false;
	p->baseline_rate = 0;
	p->learned_s = 0;
	p->learn_n = 0;
	p->ok_s = 0;
}

/* EWMA, with a plain mean while it warms up so the first samples count fully. */
static void learn(const struct pc_det_cfg *cfg, struct pc_det_port *p, double dt, double rate)
{
	double alpha = dt / cfg->baseline_tau_s;

	p->learn_n++;
	if (alpha < 1.0 / p->learn_n)
		alpha = 1.0 / p->learn_n;
	if (alpha > 1)
		alpha = 1;
	p->baseline_rate += alpha * (rate - p->baseline_rate);
	p->learned_s += dt;
	if (p->learned_s >= cfg->learn_s - EPS)
		p->baseline_valid = true;
}

static void reset_runs(struct pc_det_port *p)
{
	p->bad_run = p->down_run = p->better_run = 0;
	p->better_worst = PC_STATE_OK;
	memset(&p->run_ev, 0, sizeof(p->run_ev));
	p->run_steps = 0;
}

bool pc_det_step(const struct pc_det_cfg *cfg, struct pc_det_port *p,
		 const struct pc_det_input *in, double now, struct pc_det_event *ev)
{
	enum pc_state old = p->state, target = p->state;
	enum pc_cause old_cause = p->cause, cause = p->cause;
	struct judgement j = { 0 }, c;
	bool collapse, bad, changed;
	char buf[PC_DET_DETAIL_LEN];
	double dt;

	if (!cfg || !p || !in || !(in->interval_s > 0))
		return false;
	dt = in->interval_s;
	p->syn_rate = (double)in->syn / dt;
	input_add(&p->acc, in);
	hist_push(p, dt, in->syn);

	p->flap_points -= dt / cfg->flap_leak_s;
	if (p->flap_points < 0)
		p->flap_points = 0;
	if (p->flapping && p->flap_points < cfg->flap_exit)
		p->flapping = false;

	/* 1. Judge the accumulated counts once there are enough of them. */
	if (p->acc.syn >= cfg->min_syns || p->acc.drops_netfilter >= cfg->min_syns) {
		judge(cfg, &p->acc, &j);
		memset(&p->acc, 0, sizeof(p->acc));
	} else if (p->acc.interval_s >= cfg->judge_max_s - EPS) {
		j.have = true;
		j.sev = PC_STATE_IDLE;
		j.ev = p->acc;
		memset(&p->acc, 0, sizeof(p->acc));
	}
	if (j.have && j.sev != PC_STATE_IDLE)
		p->answered_ratio = j.requests ? (double)j.answered / (double)j.requests : -1;

	/* 2. Collapse. A failing judgement keeps its more specific cause, but
	 * with the traffic collapsed as well it is down. */
	collapse = check_collapse(cfg, p, &c);
	if (collapse) {
		if (j.have && is_bad(j.sev))
			j.sev = PC_STATE_DOWN;
		else
			j = c;
	}
	bad = j.have && is_bad(j.sev);

	/* 3. Baseline: only from healthy intervals (see detector.h). */
	if ((p->state == PC_STATE_UNKNOWN || p->state == PC_STATE_IDLE || p->state == PC_STATE_OK) &&
	    !collapse && !bad && p->bad_run == 0)
		learn(cfg, p, dt, p->syn_rate);

	if (!j.have)
		return false;	/* nothing judged this interval: runs carry on */

	/* 4. Runs of judgements. */
	if (j.sev == PC_STATE_IDLE) {
		reset_runs(p);
	} else {
		window_push(p, cfg, bad);
		if (bad) {
			if (p->bad_run == 0) {
				memset(&p->run_ev, 0, sizeof(p->run_ev));
				p->run_steps = 0;
			}
			p->bad_run++;
		} else {
			p->bad_run = 0;
		}
		p->down_run = j.sev == PC_STATE_DOWN ? p->down_run + 1 : 0;
		if (is_bad(p->state) && j.sev < p->state) {
			if (p->better_run == 0) {
				memset(&p->run_ev, 0, sizeof(p->run_ev));
				p->run_steps = 0;
				p->better_worst = PC_STATE_OK;
			}
			p->better_run++;
			if (j.sev > p->better_worst)
				p->better_worst = j.sev;
		} else {
			p->better_run = 0;
		}
		/* A collapse span overlaps the previous one: never sum it. */
		if (j.cause != PC_CAUSE_COLLAPSE) {
			input_add(&p->run_ev, &j.ev);
			p->run_steps++;
		}
	}
	if (j.sev == PC_STATE_OK && (p->state == PC_STATE_UNKNOWN || p->state == PC_STATE_IDLE))
		p->ok_s += j.ev.interval_s;

	/* 5. Transitions. */
	switch (p->state) {
	case PC_STATE_UNKNOWN:
	case PC_STATE_IDLE:
	case PC_STATE_OK:
		if (bad && p->bad_run >= cfg->down_after) {
			target = j.sev;
			cause = j.cause;
		} else if (bad && p->state == PC_STATE_OK &&
			   window_bad(p, cfg) >= cfg->intermittent_bad) {
			target = PC_STATE_DEGRADED;
			cause = j.cause;
			j.intermittent = true;
		} else if (j.sev == PC_STATE_IDLE) {
			target = PC_STATE_IDLE;
			forget_baseline(p);
		} else if (j.sev == PC_STATE_OK && p->state != PC_STATE_OK &&
			   p->ok_s >= cfg->learn_s - EPS && p->baseline_valid) {
			target = PC_STATE_OK;
		}
		break;
	case PC_STATE_DEGRADED:
		if (p->down_run >= (p->flapping ? cfg->flap_down_after : cfg->down_after)) {
			target = PC_STATE_DOWN;
			cause = j.cause;
		} else if (p->better_run >= cfg->up_after && !p->flapping) {
			target = PC_STATE_OK;
		}
		break;
	case PC_STATE_DOWN:
		if (p->better_run >= cfg->up_after) {
			target = p->better_worst;
			if (p->flapping && target == PC_STATE_OK)
				target = PC_STATE_DEGRADED;
		}
		break;
	default:
		break;
	}
	/* While down, a collapse says the clients gave up: the cause that made them
	 * give up stays the better explanation. */
	if (target == PC_STATE_DOWN && old == PC_STATE_DOWN && cause == PC_CAUSE_COLLAPSE &&
	    old_cause != PC_CAUSE_NONE)
		cause = old_cause;

	/* Keep the status fresh while the state holds: the latest evidence. */
	if (target == old) {
		if (bad && is_bad(old)) {
			if (j.cause != PC_CAUSE_COLLAPSE || p->cause == PC_CAUSE_COLLAPSE)
				p->cause = j.cause;
			describe_failure(buf, sizeof(buf), p->cause == j.cause ? j.cause : p->cause,
					 &j.ev, j.requests, j.answered, j.expected, p->baseline_rate);
			if (p->cause == j.cause)
				snprintf(p->detail, sizeof(p->detail), "%s", buf);
		}
		return false;
	}

	/* 6. A change: describe it, score it for flap damping. */
	changed = true;
	if (is_bad(target)) {
		const struct pc_det_input *e = j.cause == PC_CAUSE_COLLAPSE ? &j.ev : &p->run_ev;
		uint64_t req = 0, ans = 0;

		if (j.cause != PC_CAUSE_COLLAPSE) {
			/* Summed over the run, with the same rules as one judgement. */
			struct judgement sum;

			judge(cfg, e, &sum);
			req = sum.requests;
			ans = sum.answered;
		}
		if (target < old) {
			/* Better, but not well (down -> degraded): the failure still shows. */
			cause = old_cause;
		}
		describe_failure(buf, sizeof(buf), cause == j.cause ? j.cause : cause, e, req, ans,
				 j.expected, p->baseline_rate);
		if (j.intermittent)
			snprintf(p->detail, sizeof(p->detail), "intermittent: %u of the last %u judgements failed; %s",
				 window_bad(p, cfg), p->window_n, buf);
		else if (p->flapping && target < old)
			snprintf(p->detail, sizeof(p->detail), "flapping, held at degraded; %s", buf);
		else
			snprintf(p->detail, sizeof(p->detail), "%s", buf);
	} else if (target == PC_STATE_IDLE) {
		cause = PC_CAUSE_NONE;
		snprintf(p->detail, sizeof(p->detail), "%llu SYNs in %.1f s: too little traffic to judge",
			 (unsigned long long)j.ev.syn, j.ev.interval_s);
	} else if (is_bad(old)) {
		cause = PC_CAUSE_NONE;
		{
			struct judgement sum;

			judge(cfg, &p->run_ev, &sum);
			snprintf(p->detail, sizeof(p->detail), "recovered: %llu of %llu SYNs answered in %.1f s",
				 (unsigned long long)sum.answered, (unsigned long long)sum.requests,
				 p->run_ev.interval_s);
		}
	} else {
		cause = PC_CAUSE_NONE;
		snprintf(p->detail, sizeof(p->detail), "baseline %.1f SYN/s learned over %.0f s",
			 p->baseline_rate, p->learned_s);
	}

	if (ev) {
		memset(ev, 0, sizeof(*ev));
		ev->old_state = old;
		ev->new_state = target;
		ev->cause = is_bad(target) ? cause : (is_bad(old) ? old_cause : PC_CAUSE_NONE);
		ev->time = now;
		ev->prev_since = p->since;
		snprintf(ev->detail, sizeof(ev->detail), "%s", p->detail);
		ev->baseline_rate = p->baseline_valid ? p->baseline_rate : 0;
		if (j.cause == PC_CAUSE_COLLAPSE && is_bad(target)) {
			ev->evidence = j.ev;
		} else if (is_bad(target) || is_bad(old)) {
			ev->evidence = p->run_ev;
		} else {
			ev->evidence = j.ev;
		}
		ev->syn_rate = ev->evidence.interval_s > 0 ?
			(double)ev->evidence.syn / ev->evidence.interval_s : 0;
		{
			struct judgement sum;

			judge(cfg, &ev->evidence, &sum);
			ev->answered_ratio = sum.requests ?
				(double)sum.answered / (double)sum.requests : -1;
		}
	}

	/* Damping counts failures and recoveries, not learning or idling. */
	if (is_bad(old) || is_bad(target)) {
		p->flap_points += 1;
		if (p->flap_points >= cfg->flap_enter - EPS)
			p->flapping = true;
	}
	if (ev)
		ev->flapping = p->flapping;
	p->state = target;
	p->cause = is_bad(target) ? cause : PC_CAUSE_NONE;
	p->since = now;
	if (target == PC_STATE_OK && (old == PC_STATE_UNKNOWN || old == PC_STATE_IDLE))
		p->ok_s = 0;
	/* After a change, only new judgements count (and history before a recovery
	 * is closed: one stray failure just after it is not "intermittent"). */
	reset_runs(p);
	p->window_n = p->window_pos = 0;
	return changed;
}
