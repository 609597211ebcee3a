/* SPDX-License-Identifier: GPL-2.0 */
/* detector.h: per-port health state machine fed each interval's deltas (no BPF, I/O or clock). */
#ifndef PC_DETECTOR_H
#define PC_DETECTOR_H

#include <stdbool.h>
#include <stdint.h>

/*
 * How it works, per monitored port and direction, once per sampling interval:
 *
 * 1. Judgement. The interval's counts are added to an accumulator. Once it holds
 *    min_syns SYNs it is judged: the share of SYNs left unanswered (no SYN-ACK)
 *    makes it ok, degraded (>= degraded_fail_ratio) or down (>= down_fail_ratio),
 *    and a failing judgement gets the most specific cause its evidence supports.
 *    Low-rate ports are judged over several intervals; if judge_max_s pass with
 *    fewer than min_syns SYNs the judgement is "idle" (too little traffic).
 * 2. Collapse. Once a baseline is learned, every interval checks the SYN count
 *    over the last k intervals; below collapse_fraction of what the baseline expects
 *    is a "down" judgement with cause collapse (the only signal when the block is
 *    upstream and no SYN reaches the host). k is the fewest intervals in which the
 *    baseline expects collapse_min_expected SYNs and silence is collapse_z standard
 *    deviations away, the deviation learned with the baseline: steady traffic is
 *    judged on one interval, bursty or Poisson-like traffic on more.
 * 3. Hysteresis. One bad judgement is never an alert: a port gets worse after
 *    down_after consecutive bad judgements, or when intermittent_bad of the last
 *    intermittent_window judgements failed (a port failing every other second);
 *    it gets better after up_after consecutive better judgements.
 * 4. Flap damping. Each state change scores a point; points leak away at one per
 *    flap_leak_s. From flap_enter points the port is flapping: it is held at
 *    degraded at best (no recovery, no going back down without flap_down_after
 *    consecutive down judgements) until the points leak below flap_exit.
 * 5. Baseline. An EWMA of the per-interval SYN rate and of its variance, learned
 *    only while the port is healthy (unknown and idle: intervals judged ok; ok: no
 *    bad judgement pending, no collapse); frozen otherwise.
 *
 * States: unknown (just started, learning) -> ok after learn_s of traffic judged ok;
 * -> idle when a judgement finds too little traffic; ok <-> degraded <-> down.
 * A port that starts during an outage goes straight from unknown to down/degraded:
 * a failing handshake needs no baseline. Only collapse needs one, so a port idle
 * from the start can never collapse.
 */

enum pc_state {
	PC_STATE_UNKNOWN = 0,
	PC_STATE_IDLE,
	PC_STATE_OK,
	PC_STATE_DEGRADED,
	PC_STATE_DOWN,
	PC_STATE_MAX,
};

/* Most specific first: when several have evidence, the first one names the failure. */
enum pc_cause {
	PC_CAUSE_NONE = 0,
	PC_CAUSE_NETFILTER_DROP,   /* the host firewall dropped or rejected them */
	PC_CAUSE_NO_LISTENER,	   /* NO_SOCKET drops: nothing listens (RST) */
	PC_CAUSE_LISTEN_OVERFLOW,  /* TCP_LISTEN_OVERFLOW drops: accept backlog full */
	PC_CAUSE_RESET,		   /* answered with RST, no local drop seen */
	PC_CAUSE_ICMP_UNREACHABLE, /* ICMP destination unreachable errors */
	PC_CAUSE_UNANSWERED,	   /* SYNs with no answer and no local drop seen */
	PC_CAUSE_COLLAPSE,	   /* SYN rate fell below a fraction of its baseline */
	PC_CAUSE_MAX,
};

/* One interval's deltas for one port and direction. For an inbound port syn is SYNs
 * in and synack/rst are sent by this host; for an outbound port syn is SYNs out and
 * synack/rst/icmp_unreach are received. drops_* are kfree_skb drops of packets to or
 * from the port, summed by pc_dropreason_class(). reject_rst/reject_icmp are the RSTs
 * and ICMP errors this host sent on the port's behalf while netfilter was dropping
 * (nft/iptables "reject"): they only choose the wording of a netfilter_drop detail. */
struct pc_det_input {
	double interval_s; /* > 0; steps with interval_s <= 0 are ignored */
	uint64_t syn;
	uint64_t synack;
	uint64_t rst;
	uint64_t icmp_unreach;
	uint64_t drops_netfilter;
	uint64_t drops_no_socket;
	uint64_t drops_listen_overflow;
	uint64_t drops_other;
	uint64_t reject_rst;
	uint64_t reject_icmp;
};

/* Every threshold; pc_det_cfg_default() gives each value and, in detector.c, its reason. */
struct pc_det_cfg {
	uint32_t min_syns;	      /* SYNs a judgement needs */
	double judge_max_s;	      /* longest span one judgement may cover; then idle */
	double degraded_fail_ratio;   /* unanswered share making a judgement degraded */
	double down_fail_ratio;	      /* unanswered share making a judgement down */
	double cause_min_share;	      /* share of the failures a cause must explain */
	uint32_t down_after;	      /* consecutive bad judgements to get worse */
	uint32_t up_after;	      /* consecutive better judgements to get better */
	uint32_t intermittent_window; /* judgements looked back on for intermittence */
	uint32_t intermittent_bad;    /* bad ones among them that make an ok port degraded */
	double learn_s;		      /* seconds judged ok before unknown/idle -> ok */
	double baseline_tau_s;	      /* EWMA time constant of the baseline SYN rate */
	double collapse_fraction;     /* rate below this fraction of the baseline: collapse */
	double collapse_min_baseline; /* SYN/s a baseline needs for silence to count */
	double collapse_min_expected; /* SYNs the baseline must expect over the look back */
	double collapse_z;	      /* std deviations silence must be from the baseline */
	double flap_enter;	      /* damping points from which a port is flapping */
	double flap_exit;	      /* ... and below which it no longer is */
	double flap_leak_s;	      /* seconds for one damping point to leak away */
	uint32_t flap_down_after;     /* down judgements for degraded -> down when flapping */
};

/* Limits of the fixed-size history in struct pc_det_port. */
#define PC_DET_WINDOW_MAX 64 /* intermittent_window at most */
#define PC_DET_HIST	  64 /* intervals the collapse check can look back on */
#define PC_DET_DETAIL_LEN 256

/* Health of one port and direction. Initialise with pc_det_init(); the fields are
 * for reading (status, metrics); only pc_det_step() writes them. */
struct pc_det_port {
	enum pc_state state;
	enum pc_cause cause;		/* of the current degraded/down state, NONE otherwise */
	double since;			/* `now` of the step that entered the state */
	double syn_rate;		/* SYN/s of the last interval */
	double answered_ratio;		/* SYN-ACKs/SYNs, last judgement; -1 before any */
	double baseline_rate;		/* learned SYN/s; meaningful when baseline_valid */
	double baseline_var;		/* learned variance of the per-interval SYN rate */
	bool baseline_valid;		/* learned for learn_s while healthy */
	bool flapping;			/* flap damping holds the state at degraded at best */
	bool udp;			/* details in UDP's words; set after pc_det_init() */
	double flap_points;

	/* Private from here on: the state machine's memory. */
	double learned_s;	    /* seconds of healthy traffic in the baseline */
	uint32_t learn_n;	    /* samples in the baseline (EWMA warm-up) */
	uint32_t bad_run;	    /* consecutive judgements at degraded or worse */
	uint32_t down_run;	    /* consecutive judgements at down */
	uint32_t better_run;	    /* consecutive judgements better than the (bad) state */
	enum pc_state better_worst; /* worst of those */
	enum pc_cause better_cause; /* cause of the last failing one of those */
	struct pc_det_input acc;    /* counts not judged yet */
	uint32_t acc_steps;	    /* intervals in acc */
	struct pc_det_input bad_ev; /* counts behind bad_run, down_run, better_run */
	struct pc_det_input down_ev;
	struct pc_det_input better_ev;
	uint64_t window; /* last judgements, newest in bit 0: 1 bad, 0 not */
	uint32_t window_n;
	uint32_t hist_n, hist_pos;
	uint64_t seq;	      /* intervals fed so far */
	uint64_t learned_seq; /* intervals up to here are learned or skipped */
	/* Last intervals, for the collapse check: 8 bytes each (an interval's SYNs fit 32 bits),
	 * so that thousands of ports' detectors stay in the cache a pass walks through. */
	struct {
		float dt;
		uint32_t syn;
	} hist[PC_DET_HIST];
	/* Written on a state change or while bad, read for status: last, out of the hot lines. */
	char detail[PC_DET_DETAIL_LEN]; /* evidence behind the current state */
};

/* One state change, with its evidence. */
struct pc_det_event {
	enum pc_state old_state;
	enum pc_state new_state;
	/* Getting worse: the cause found. Getting better (recovery, degraded from down):
	 * the cause of the state left, so "recovered from netfilter_drop" can be said.
	 * NONE for unknown/idle/ok transitions that were never a failure. */
	enum pc_cause cause;
	double time;			/* `now` of the step */
	double prev_since;		/* when the old state began: how long it lasted */
	char detail[PC_DET_DETAIL_LEN]; /* one line: "netfilter dropped 48 packets ..." */
	double syn_rate;		/* SYN/s over the judgements behind the change */
	double baseline_rate;		/* 0 when no baseline is learned */
	double answered_ratio;		/* over the same judgements; -1 with no SYNs */
	bool flapping;
	struct pc_det_input evidence; /* counts summed over those judgements */
};

/* Defaults, documented with their reasons in detector.c. */
struct pc_det_cfg pc_det_cfg_default(void);
/* 0, or -EINVAL when a threshold is out of range or inconsistent (e.g. degraded >= down). */
int pc_det_cfg_validate(const struct pc_det_cfg *cfg);

/* A port the detector has never seen: unknown since `now`. */
void pc_det_init(struct pc_det_port *port, double now);
/* Feed one interval (now = seconds on any monotonic clock, at the end of the interval).
 * Returns true when the state changed, with *ev filled (ev may be NULL). */
bool pc_det_step(const struct pc_det_cfg *cfg, struct pc_det_port *port,
		 const struct pc_det_input *in, double now, struct pc_det_event *ev);

/* Names as in DESIGN.md: "unknown|idle|ok|degraded|down" and
 * "netfilter_drop|no_listener|listen_overflow|reset|icmp_unreachable|unanswered|collapse";
 * PC_CAUSE_NONE is "none". */
const char *pc_state_name(enum pc_state state);
const char *pc_cause_name(enum pc_cause cause);

/* The words a port's texts count in: TCP counts SYNs and the answered ones; UDP, which has no
 * handshake, datagrams and the ones that got through (neither dropped nor refused). */
struct pc_det_words {
	const char *reqs;     /* "SYNs" */
	const char *answered; /* "answered" */
	const char *rate;     /* "SYN/s" */
	const char *label;    /* "SYN", before a rate in the log line */
};
const struct pc_det_words *pc_det_words(bool udp);
/* The enum value of a name (exact, lower case), or -EINVAL. */
int pc_state_from_name(const char *name);
int pc_cause_from_name(const char *name);

#endif
