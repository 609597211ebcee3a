// SPDX-License-Identifier: GPL-2.0
/* detector.c: where a port turns "down": judgements, baseline, collapse, hysteresis, damping. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "detector.h"

/* Float comparisons against thresholds computed from sums of interval lengths:
 * 10 intervals of 0.1 s must count as 1 s. */
#define EPS 1e-9

/* The detail is one line for a human: cut rather than fail when it is long. */
static void __attribute__((format(printf, 3, 4))) setf(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
}

static const char *const state_names[PC_STATE_MAX] = {
	[PC_STATE_UNKNOWN] = "unknown",	  [PC_STATE_IDLE] = "idle", [PC_STATE_OK] = "ok",
	[PC_STATE_DEGRADED] = "degraded", [PC_STATE_DOWN] = "down",
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
		/* 4 SYNs and 5 sigma: silence is judged over the fewest intervals in
		 * which the baseline expects 4 SYNs and silence is 5 standard
		 * deviations away. Steady traffic at 5 SYN/s: 1 interval (with room
		 * for the baseline to sag to 4), so down at the 2nd silent one.
		 * Poisson-like traffic (variance = mean): 25 expected SYNs, i.e. 5 s
		 * at 5 SYN/s, where fewer than 5 has a probability of 1e-6; two such
		 * judgements in a row make an alert. */
		.collapse_min_expected = 4.0,
		.collapse_z = 5.0,
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
	    !(c->collapse_min_baseline > 0) || !(c->collapse_min_expected > 0) ||
	    !(c->collapse_z >= 0))
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
	setf(p->detail, sizeof(p->detail), "learning");
}

/* What one judgement found. */
struct judgement {
	bool have;
	enum pc_state sev; /* IDLE (too little traffic), OK, DEGRADED or DOWN */
	enum pc_cause cause;
	struct pc_det_input ev; /* the counts judged (interval_s: their span) */
	uint64_t requests, answered;
	double expected; /* collapse: SYNs the baseline expected over ev's span */
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
	p->hist[p->hist_pos].dt = (float)dt;
	p->hist[p->hist_pos].syn = syn > UINT32_MAX ? UINT32_MAX : (uint32_t)syn;
	p->hist_pos = (p->hist_pos + 1) % PC_DET_HIST;
	if (p->hist_n < PC_DET_HIST)
		p->hist_n++;
}

/* Collapse: over the last k intervals, fewer than collapse_fraction of the SYNs the
 * baseline expects. Over k intervals the count's standard deviation is about
 * sqrt(k) times one interval's, so silence is z deviations away once
 * k >= z^2 * var / mean^2: the noisier the traffic, the longer the look back. */
static bool check_collapse(const struct pc_det_cfg *cfg, const struct pc_det_port *p,
			   struct judgement *j, uint32_t *lookback)
{
	double m = p->baseline_rate, need_k, span = 0, expected = 0;
	uint64_t syn = 0;
	uint32_t k, i;

	*lookback = 0;
	if (!p->baseline_valid || m < cfg->collapse_min_baseline - EPS)
		return false;
	need_k = cfg->collapse_z * cfg->collapse_z * p->baseline_var / (m * m);
	for (k = 0, i = p->hist_pos; k < p->hist_n; k++) {
		i = i ? i - 1 : PC_DET_HIST - 1; /* newest first, no division per step */
		span += p->hist[i].dt;
		syn += p->hist[i].syn;
		expected = m * span;
		if (k + 1 >= need_k - EPS && expected >= cfg->collapse_min_expected - EPS)
			break;
	}
	if (k == p->hist_n)
		return false; /* too little history, or too noisy a port, to tell */
	*lookback = k + 1;
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

const struct pc_det_words *pc_det_words(bool udp)
{
	static const struct pc_det_words words_tcp = {"SYNs", "answered", "SYN/s", "SYN"};
	static const struct pc_det_words words_udp = {"datagrams", "got through", "datagrams/s",
						      "datagrams"};

	return udp ? &words_udp : &words_tcp;
}

/* "3 of 10 SYNs answered in 1.0 s": how many requests of a span were answered. */
static void answered_text(char *buf, size_t len, const struct pc_det_words *w, uint64_t answered,
			  uint64_t requests, double span)
{
	snprintf(buf, len, "%llu of %llu %s %s in %.1f s", (unsigned long long)answered,
		 (unsigned long long)requests, w->reqs, w->answered, span);
}

/* One line of evidence for a failing judgement (or a run of them, summed). */
static void describe_failure(char *buf, size_t len, const struct pc_det_words *w,
			     enum pc_cause cause, const struct pc_det_input *a, uint64_t requests,
			     uint64_t answered, double expected, double baseline)
{
	double span = a->interval_s;
	char ans[96];

	answered_text(ans, sizeof(ans), w, answered, requests, span);
	switch (cause) {
	case PC_CAUSE_NETFILTER_DROP:
		snprintf(buf, len, "netfilter dropped %llu packets (%s); %s",
			 (unsigned long long)a->drops_netfilter, reject_mode(a), ans);
		break;
	case PC_CAUSE_NO_LISTENER:
		snprintf(buf, len,
			 "nothing listens: %llu packets dropped as NO_SOCKET, %llu RSTs; %s",
			 (unsigned long long)a->drops_no_socket, (unsigned long long)a->rst, ans);
		break;
	case PC_CAUSE_LISTEN_OVERFLOW:
		snprintf(buf, len, "accept queue full: %llu dropped as TCP_LISTEN_OVERFLOW; %s",
			 (unsigned long long)a->drops_listen_overflow, ans);
		break;
	case PC_CAUSE_RESET:
		snprintf(buf, len, "answered with reset: %llu RSTs; %s",
			 (unsigned long long)sub0(a->rst, a->reject_rst), ans);
		break;
	case PC_CAUSE_ICMP_UNREACHABLE:
		snprintf(buf, len, "%llu ICMP unreachable errors; %s",
			 (unsigned long long)sub0(a->icmp_unreach, a->reject_icmp), ans);
		break;
	case PC_CAUSE_COLLAPSE:
		snprintf(buf, len,
			 "%llu %s in %.1f s where the baseline of %.1f %s expects %.0f "
			 "(%d%%): blocked upstream, or the clients stopped",
			 (unsigned long long)a->syn, w->reqs, span, baseline, w->rate, expected,
			 expected > 0 ? pct((double)a->syn / expected) : 0);
		break;
	default:
		if (a->drops_other)
			snprintf(buf, len,
				 "%s; no firewall or socket drop seen, %llu packets dropped for "
				 "other reasons",
				 ans, (unsigned long long)a->drops_other);
		else
			snprintf(buf, len, "%s; no local drop seen", ans);
		break;
	}
}

static void window_push(struct pc_det_port *p, const struct pc_det_cfg *cfg, bool bad)
{
	p->window = p->window << 1 | bad;
	if (p->window_n < cfg->intermittent_window)
		p->window_n++;
}

/* Bad judgements among the last min(window_n, intermittent_window). */
static uint32_t window_bad(const struct pc_det_port *p, const struct pc_det_cfg *cfg)
{
	uint32_t n =
		p->window_n < cfg->intermittent_window ? p->window_n : cfg->intermittent_window;

	return (uint32_t)__builtin_popcountll(n >= 64 ? p->window : p->window & ((1ULL << n) - 1));
}

static bool is_bad(enum pc_state s)
{
	return s == PC_STATE_DEGRADED || s == PC_STATE_DOWN;
}

static void forget_baseline(struct pc_det_port *p)
{
	p->baseline_valid = false;
	p->baseline_rate = 0;
	p->baseline_var = 0;
	p->learned_s = 0;
	p->learn_n = 0;
}

/* EWMA of the rate and its variance, with plain means while warming up so the
 * first samples count fully. */
static void learn(const struct pc_det_cfg *cfg, struct pc_det_port *p, double dt, double rate)
{
	double alpha = dt / cfg->baseline_tau_s, d = rate - p->baseline_rate;

	p->learn_n++;
	if (alpha < 1.0 / p->learn_n)
		alpha = 1.0 / p->learn_n;
	if (alpha > 1)
		alpha = 1;
	p->baseline_rate += alpha * d;
	p->baseline_var = (1 - alpha) * (p->baseline_var + alpha * d * d);
	p->learned_s += dt;
	if (p->learned_s >= cfg->learn_s - EPS)
		p->baseline_valid = true;
}

/* Learn the intervals not learned yet up to `upto` intervals ago, oldest first. */
static void learn_hist(const struct pc_det_cfg *cfg, struct pc_det_port *p, uint32_t upto)
{
	uint64_t from = p->learned_seq, to;
	uint32_t back;

	if (upto >= p->hist_n || p->seq - upto <= from)
		return;
	to = p->seq - upto;
	if (to - from > p->hist_n)
		from = to - p->hist_n;
	for (; from < to; from++) {
		uint32_t i;

		back = (uint32_t)(p->seq - from); /* 1 = the interval just fed */
		i = (p->hist_pos + PC_DET_HIST - back) % PC_DET_HIST;
		learn(cfg, p, p->hist[i].dt, (double)p->hist[i].syn / p->hist[i].dt);
	}
	p->learned_seq = to;
}

/* Intervals spent unhealthy are never learned. */
static void skip_hist(struct pc_det_port *p)
{
	p->learned_seq = p->seq;
}

static void reset_runs(struct pc_det_port *p)
{
	p->bad_run = p->down_run = p->better_run = 0;
	p->better_worst = PC_STATE_OK;
	p->better_cause = PC_CAUSE_NONE;
}

static bool learning(enum pc_state s)
{
	return s == PC_STATE_UNKNOWN || s == PC_STATE_IDLE;
}

/* Count one judgement into the runs the transitions look at. */
static void count_runs(const struct pc_det_cfg *cfg, struct pc_det_port *p,
		       const struct judgement *j)
{
	bool bad = is_bad(j->sev);
	/* A collapse span overlaps the previous one: its counts are never summed. */
	bool sum = j->cause != PC_CAUSE_COLLAPSE;

	if (j->sev == PC_STATE_IDLE) {
		/* Too little traffic is no evidence either way: runs start over. */
		reset_runs(p);
		return;
	}
	window_push(p, cfg, bad);
	if (bad) {
		if (!p->bad_run)
			memset(&p->bad_ev, 0, sizeof(p->bad_ev));
		p->bad_run++;
		if (sum)
			input_add(&p->bad_ev, &j->ev);
	} else {
		p->bad_run = 0;
	}
	if (j->sev == PC_STATE_DOWN) {
		if (!p->down_run)
			memset(&p->down_ev, 0, sizeof(p->down_ev));
		p->down_run++;
		if (sum)
			input_add(&p->down_ev, &j->ev);
	} else {
		p->down_run = 0;
	}
	if (is_bad(p->state) && j->sev < p->state) {
		if (!p->better_run) {
			memset(&p->better_ev, 0, sizeof(p->better_ev));
			p->better_worst = PC_STATE_OK;
			p->better_cause = PC_CAUSE_NONE;
		}
		p->better_run++;
		input_add(&p->better_ev, &j->ev);
		/* The judgement a fix lands in is mixed by nature (half the interval
		 * before it): it starts the run, but the state reached is the worst of
		 * the ones after it, so a clean rollback reads as one recovery. */
		if (p->better_run > 1 || cfg->up_after == 1) {
			if (j->sev > p->better_worst)
				p->better_worst = j->sev;
			if (bad)
				p->better_cause = j->cause;
		}
	} else {
		p->better_run = 0;
	}
}

/* Counts summed over a run, judged with the same rules as one judgement. */
static void judge_sum(const struct pc_det_cfg *cfg, const struct pc_det_input *a,
		      uint64_t *requests, uint64_t *answered)
{
	struct judgement sum;

	judge(cfg, a, &sum);
	*requests = sum.requests;
	*answered = sum.answered;
}

/* Describe a failing judgement (or run of them) as the port's detail. A collapse
 * that follows a specific failure is reported under that failure's cause. */
static void describe(const struct pc_det_cfg *cfg, struct pc_det_port *p, enum pc_cause cause,
		     const struct judgement *j, const struct pc_det_input *run, const char *prefix)
{
	char buf[PC_DET_DETAIL_LEN];
	uint64_t req = j->requests, ans = j->answered;
	const struct pc_det_input *e = &j->ev;

	if (j->cause != PC_CAUSE_COLLAPSE && run && run->interval_s > 0) {
		e = run;
		judge_sum(cfg, run, &req, &ans);
	}
	describe_failure(buf, sizeof(buf), pc_det_words(p->udp), j->cause, e, req, ans, j->expected,
			 p->baseline_rate);
	if (j->cause == PC_CAUSE_COLLAPSE && cause != PC_CAUSE_COLLAPSE)
		setf(p->detail, sizeof(p->detail), "%safter %s: %s", prefix ? prefix : "",
		     pc_cause_name(cause), buf);
	else
		setf(p->detail, sizeof(p->detail), "%s%s", prefix ? prefix : "", buf);
}

bool pc_det_step(const struct pc_det_cfg *cfg, struct pc_det_port *p, const struct pc_det_input *in,
		 double now, struct pc_det_event *ev)
{
	enum pc_state old, target;
	enum pc_cause old_cause, cause;
	const struct pc_det_input *run = NULL;
	const struct pc_det_words *w = pc_det_words(p->udp);
	struct judgement j = {0}, c;
	bool collapse, bad, intermittent = false;
	char prefix[96] = "";
	uint32_t steps, lookback;
	double dt;

	if (!cfg || !p || !in || !(in->interval_s > 0))
		return false;
	old = target = p->state;
	old_cause = cause = p->cause;
	dt = in->interval_s;
	p->syn_rate = (double)in->syn / dt;
	input_add(&p->acc, in);
	p->acc_steps++;
	hist_push(p, dt, in->syn);
	p->seq++;

	p->flap_points -= dt / cfg->flap_leak_s;
	if (p->flap_points < 0)
		p->flap_points = 0;
	if (p->flapping && p->flap_points < cfg->flap_exit)
		p->flapping = false;

	/* 1. Judge the accumulated counts once there are enough of them. */
	steps = p->acc_steps;
	if (p->acc.syn >= cfg->min_syns || p->acc.drops_netfilter >= cfg->min_syns) {
		judge(cfg, &p->acc, &j);
		memset(&p->acc, 0, sizeof(p->acc));
		p->acc_steps = 0;
	} else if (p->acc.interval_s >= cfg->judge_max_s - EPS) {
		j.have = true;
		j.sev = PC_STATE_IDLE;
		j.ev = p->acc;
		memset(&p->acc, 0, sizeof(p->acc));
		p->acc_steps = 0;
	}
	if (j.have && j.sev != PC_STATE_IDLE)
		p->answered_ratio = j.requests ? (double)j.answered / (double)j.requests : -1;

	/* 2. Collapse. A failing judgement keeps its more specific cause, but with
	 * the traffic collapsed as well it is down. */
	collapse = check_collapse(cfg, p, &c, &lookback);
	if (collapse) {
		if (j.have && is_bad(j.sev))
			j.sev = PC_STATE_DOWN;
		else
			j = c;
	}
	bad = j.have && is_bad(j.sev);

	/* 3. Baseline, from healthy traffic only. While learning: the intervals of a
	 * judgement found ok (so their SYNs were seen answered). Once ok: each
	 * interval once it has left the collapse look-back with no collapse found,
	 * so a silence is never learned while it is still being judged. */
	if (learning(p->state) && j.have) {
		if (j.sev == PC_STATE_OK) {
			p->learned_seq = p->seq - (steps < p->seq ? steps : p->seq);
			learn_hist(cfg, p, 0);
		} else {
			forget_baseline(p); /* learning needs steady healthy traffic */
			skip_hist(p);
		}
	} else if (p->state == PC_STATE_OK && !collapse && !bad && !p->bad_run) {
		learn_hist(cfg, p, lookback ? lookback - 1 : 0);
	} else if (!learning(p->state)) {
		skip_hist(p);
	}

	if (!j.have)
		return false; /* nothing judged this interval: runs carry on */

	/* 4. Runs of judgements, then 5. transitions. */
	count_runs(cfg, p, &j);
	switch (p->state) {
	case PC_STATE_UNKNOWN:
	case PC_STATE_IDLE:
	case PC_STATE_OK:
		if (bad && p->bad_run >= cfg->down_after) {
			target = j.sev;
			cause = j.cause;
			run = &p->bad_ev;
		} else if (bad && window_bad(p, cfg) >= cfg->intermittent_bad) {
			target = PC_STATE_DEGRADED;
			cause = j.cause;
			intermittent = true;
			snprintf(prefix, sizeof(prefix),
				 "intermittent: %u of the last %u judgements failed; ",
				 window_bad(p, cfg), p->window_n);
		} else if (j.sev == PC_STATE_IDLE &&
			   (p->state != PC_STATE_OK || !p->baseline_valid ||
			    p->baseline_rate * cfg->judge_max_s < cfg->min_syns)) {
			/* An ok port whose usual traffic is judgeable just had a quiet
			 * spell: silence is the collapse check's business, not idleness. */
			target = PC_STATE_IDLE;
		} else if (j.sev == PC_STATE_OK && learning(p->state) && p->baseline_valid) {
			target = PC_STATE_OK;
		}
		break;
	case PC_STATE_DEGRADED:
		if (p->down_run >= (p->flapping ? cfg->flap_down_after : cfg->down_after)) {
			target = PC_STATE_DOWN;
			cause = j.cause;
			run = &p->down_ev;
		} else if (p->better_run >= cfg->up_after && !p->flapping) {
			target = PC_STATE_OK;
		}
		break;
	case PC_STATE_DOWN:
		if (p->better_run >= cfg->up_after) {
			target = p->better_worst;
			if (p->flapping && target == PC_STATE_OK) {
				target = PC_STATE_DEGRADED;
				snprintf(prefix, sizeof(prefix), "flapping, held at degraded; ");
			}
			/* Better, not well: name what still fails. */
			if (p->better_cause != PC_CAUSE_NONE)
				cause = p->better_cause;
			run = &p->better_ev;
		}
		break;
	default:
		break;
	}
	/* A collapse after a specific failure says the clients gave up: the failure
	 * that made them give up stays the better explanation. */
	if (cause == PC_CAUSE_COLLAPSE && is_bad(old) && old_cause != PC_CAUSE_NONE)
		cause = old_cause;

	if (target == old) {
		/* The state holds: keep its cause and evidence fresh for status. */
		if (bad && is_bad(old)) {
			if (j.cause != PC_CAUSE_COLLAPSE || old_cause == PC_CAUSE_COLLAPSE)
				p->cause = j.cause;
			describe(cfg, p, p->cause, &j, NULL, NULL);
		} else if (j.sev == PC_STATE_IDLE && old == PC_STATE_IDLE) {
			forget_baseline(p);
		}
		return false;
	}

	/* 6. A change: describe it. */
	if (is_bad(target)) {
		if (target < old && old_cause != PC_CAUSE_NONE && cause == PC_CAUSE_NONE)
			cause = old_cause;
		if (target < old && !is_bad(j.sev)) {
			/* down -> degraded on an ok judgement: describe the run. */
			uint64_t req, ans;
			char buf[PC_DET_DETAIL_LEN];

			judge_sum(cfg, run, &req, &ans);
			answered_text(buf, sizeof(buf), w, ans, req, run->interval_s);
			setf(p->detail, sizeof(p->detail), "%spartly recovered from %s: %s", prefix,
			     pc_cause_name(cause), buf);
		} else {
			describe(cfg, p, cause, &j, run, prefix);
		}
	} else if (target == PC_STATE_IDLE) {
		setf(p->detail, sizeof(p->detail), "%llu %s in %.1f s: too little traffic to judge",
		     (unsigned long long)j.ev.syn, w->reqs, j.ev.interval_s);
		forget_baseline(p);
	} else if (is_bad(old)) {
		uint64_t req, ans;
		char buf[PC_DET_DETAIL_LEN];

		run = &p->better_ev;
		judge_sum(cfg, run, &req, &ans);
		answered_text(buf, sizeof(buf), w, ans, req, run->interval_s);
		setf(p->detail, sizeof(p->detail), "recovered from %s: %s",
		     pc_cause_name(old_cause), buf);
	} else {
		setf(p->detail, sizeof(p->detail), "baseline %.1f %s learned over %.0f s",
		     p->baseline_rate, w->rate, p->learned_s);
	}

	if (ev) {
		uint64_t req, ans;

		memset(ev, 0, sizeof(*ev));
		ev->old_state = old;
		ev->new_state = target;
		ev->cause = is_bad(target) ? cause : (is_bad(old) ? old_cause : PC_CAUSE_NONE);
		ev->time = now;
		ev->prev_since = p->since;
		setf(ev->detail, sizeof(ev->detail), "%s", p->detail);
		ev->baseline_rate = p->baseline_valid ? p->baseline_rate : 0;
		if (j.cause == PC_CAUSE_COLLAPSE && is_bad(target) && !intermittent)
			ev->evidence = j.ev;
		else if (run && !intermittent)
			ev->evidence = *run;
		else
			ev->evidence = j.ev;
		ev->syn_rate = ev->evidence.interval_s > 0
				       ? (double)ev->evidence.syn / ev->evidence.interval_s
				       : 0;
		judge_sum(cfg, &ev->evidence, &req, &ans);
		ev->answered_ratio = req ? (double)ans / (double)req : -1;
	}

	/* Damping scores failures and recoveries, not learning or idling. */
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
	if (is_bad(old))
		skip_hist(p);
	/* After a change only new judgements count, and history before a recovery is
	 * closed: one stray failure just after it is not "intermittent". */
	reset_runs(p);
	p->window = 0;
	p->window_n = 0;
	return true;
}
