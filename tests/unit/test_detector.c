// SPDX-License-Identifier: GPL-2.0
/* test_detector.c: the health state machine on synthetic series: exact states, causes, timing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "detector.h"

/* cmocka's float assertion rounds to float: compare doubles exactly as doubles. */
#define assert_near(a, b, eps)                                                                     \
	do {                                                                                       \
		double _a = (a), _b = (b);                                                         \
		if (!(_a - _b <= (eps) && _b - _a <= (eps)))                                       \
			fail_msg("%s is %.12g, expected %.12g", #a, _a, _b);                       \
	} while (0)

/* A port under test: the detector, its clock and every event it produced. */
struct sim {
	struct pc_det_cfg cfg;
	struct pc_det_port port;
	double now;
	unsigned int steps;
	unsigned int nev;
	struct pc_det_event ev[256];
	unsigned int ev_step[256]; /* step (1-based) at which each event came */
};

static void sim_init(struct sim *s)
{
	memset(s, 0, sizeof(*s));
	s->cfg = pc_det_cfg_default();
	s->now = 1000;
	pc_det_init(&s->port, s->now);
}

/* Feed n intervals of the same input; returns the number of events they made. */
static unsigned int feed(struct sim *s, const struct pc_det_input *in, unsigned int n)
{
	unsigned int before = s->nev, i;
	struct pc_det_event ev;

	for (i = 0; i < n; i++) {
		s->now += in->interval_s;
		s->steps++;
		memset(&ev, 0xa5, sizeof(ev));
		if (pc_det_step(&s->cfg, &s->port, in, s->now, &ev)) {
			assert_true(s->nev < 256);
			assert_int_equal(ev.new_state, s->port.state);
			assert_true(ev.old_state != ev.new_state);
			s->ev[s->nev] = ev;
			s->ev_step[s->nev] = s->steps;
			s->nev++;
		}
	}
	return s->nev - before;
}

static struct pc_det_input healthy(uint64_t syn)
{
	return (struct pc_det_input){.interval_s = 1, .syn = syn, .synack = syn};
}

static struct pc_det_input unanswered(uint64_t syn)
{
	return (struct pc_det_input){.interval_s = 1, .syn = syn};
}

static struct pc_det_input nf_drop(uint64_t syn)
{
	return (struct pc_det_input){.interval_s = 1, .syn = syn, .drops_netfilter = syn};
}

static struct pc_det_input quiet(void)
{
	return (struct pc_det_input){.interval_s = 1};
}

/* 30 s of 5 SYN/s, all answered: ok with a 5 SYN/s baseline. */
static void warm(struct sim *s, uint64_t syn)
{
	struct pc_det_input h = healthy(syn);

	feed(s, &h, 30);
	assert_int_equal(s->port.state, PC_STATE_OK);
	assert_true(s->port.baseline_valid);
	assert_near(s->port.baseline_rate, (double)syn, 1e-9);
	s->nev = 0;
	s->steps = 0;
}

static const struct pc_det_event *last(const struct sim *s)
{
	assert_true(s->nev > 0);
	return &s->ev[s->nev - 1];
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

static void test_names(void **state)
{
	static const char *const states[] = {"unknown", "idle", "ok", "degraded", "down"};
	static const char *const causes[] = {
		"none",	 "netfilter_drop",   "no_listener", "listen_overflow",
		"reset", "icmp_unreachable", "unanswered",  "collapse"};
	int i;
	(void)state;

	for (i = 0; i < PC_STATE_MAX; i++) {
		assert_string_equal(pc_state_name(i), states[i]);
		assert_int_equal(pc_state_from_name(states[i]), i);
	}
	for (i = 0; i < PC_CAUSE_MAX; i++) {
		assert_string_equal(pc_cause_name(i), causes[i]);
		assert_int_equal(pc_cause_from_name(causes[i]), i);
	}
	assert_int_equal(PC_STATE_MAX, 5);
	assert_int_equal(PC_CAUSE_MAX, 8);
	assert_string_equal(pc_state_name(PC_STATE_MAX), "?");
	assert_string_equal(pc_cause_name(PC_CAUSE_MAX), "?");
	assert_int_equal(pc_state_from_name("DOWN"), -EINVAL);
	assert_int_equal(pc_state_from_name("up"), -EINVAL);
	assert_int_equal(pc_state_from_name(""), -EINVAL);
	assert_int_equal(pc_state_from_name(NULL), -EINVAL);
	assert_int_equal(pc_cause_from_name("netfilter"), -EINVAL);
	assert_int_equal(pc_cause_from_name("collapse "), -EINVAL);
	assert_int_equal(pc_cause_from_name(NULL), -EINVAL);
}

static void test_cfg_validate(void **state)
{
	struct pc_det_cfg c = pc_det_cfg_default(), d;
	(void)state;

	assert_int_equal(pc_det_cfg_validate(&c), 0);
	assert_int_equal(pc_det_cfg_validate(NULL), -EINVAL);
	d = c;
	d.min_syns = 0;
	assert_int_equal(pc_det_cfg_validate(&d), -EINVAL);
	d = c;
	d.degraded_fail_ratio = 0.8;
	assert_int_equal(pc_det_cfg_validate(&d), -EINVAL);
	d = c;
	d.down_fail_ratio = 1.1;
	assert_int_equal(pc_det_cfg_validate(&d), -EINVAL);
	d = c;
	d.down_after = 0;
	assert_int_equal(pc_det_cfg_validate(&d), -EINVAL);
	d = c;
	d.intermittent_window = PC_DET_WINDOW_MAX + 1;
	assert_int_equal(pc_det_cfg_validate(&d), -EINVAL);
	d = c;
	d.intermittent_bad = 11;
	assert_int_equal(pc_det_cfg_validate(&d), -EINVAL);
	d = c;
	d.collapse_fraction = 1;
	assert_int_equal(pc_det_cfg_validate(&d), -EINVAL);
	d = c;
	d.baseline_tau_s = 0;
	assert_int_equal(pc_det_cfg_validate(&d), -EINVAL);
	d = c;
	d.flap_exit = 3;
	assert_int_equal(pc_det_cfg_validate(&d), -EINVAL);
	d = c;
	d.flap_down_after = 1;
	assert_int_equal(pc_det_cfg_validate(&d), -EINVAL);
	d = c;
	d.judge_max_s = 0.0 / 0.0;
	assert_int_equal(pc_det_cfg_validate(&d), -EINVAL);
}

static void test_init(void **state)
{
	struct pc_det_port p;
	(void)state;

	memset(&p, 0x5a, sizeof(p));
	pc_det_init(&p, 42.5);
	assert_int_equal(p.state, PC_STATE_UNKNOWN);
	assert_int_equal(p.cause, PC_CAUSE_NONE);
	assert_near(p.since, 42.5, 0);
	assert_near(p.answered_ratio, -1, 0);
	assert_false(p.baseline_valid);
	assert_false(p.flapping);
}

/* Steady 5 SYN/s: out of unknown at 10 s, with the baseline it learned. */
static void test_leaves_unknown_with_baseline(void **state)
{
	struct pc_det_input h = healthy(5);
	struct sim s;
	(void)state;

	sim_init(&s);
	assert_int_equal(feed(&s, &h, 9), 0);
	assert_int_equal(s.port.state, PC_STATE_UNKNOWN);
	assert_false(s.port.baseline_valid);
	assert_int_equal(feed(&s, &h, 1), 1);
	assert_int_equal(s.ev_step[0], 10);
	assert_int_equal(s.ev[0].old_state, PC_STATE_UNKNOWN);
	assert_int_equal(s.ev[0].new_state, PC_STATE_OK);
	assert_int_equal(s.ev[0].cause, PC_CAUSE_NONE);
	assert_near(s.ev[0].baseline_rate, 5.0, 1e-9);
	assert_near(s.ev[0].prev_since, 1000, 0);
	assert_near(s.ev[0].time, 1010, 0);
	assert_string_equal(s.ev[0].detail, "baseline 5.0 SYN/s learned over 10 s");
	assert_true(s.port.baseline_valid);
	assert_near(s.port.baseline_rate, 5.0, 1e-9);
	assert_near(s.port.answered_ratio, 1.0, 0);
	assert_near(s.port.syn_rate, 5.0, 0);
	assert_near(s.port.since, 1010, 0);
	assert_int_equal(feed(&s, &h, 100), 0);
}

/* Slower ports are judged over several intervals, and still leave unknown within 20 s. */
static void test_leaves_unknown_low_rates(void **state)
{
	struct pc_det_input two = healthy(2);
	struct pc_det_input half[2] = {healthy(1), healthy(0)};
	struct pc_det_input fast = {.interval_s = 0.25, .syn = 5, .synack = 5};
	struct sim s;
	unsigned int i;
	(void)state;

	sim_init(&s);
	feed(&s, &two, 20);
	assert_int_equal(s.nev, 1);
	assert_int_equal(s.ev[0].new_state, PC_STATE_OK);
	assert_int_equal(s.ev_step[0], 10);
	assert_near(s.port.baseline_rate, 2.0, 1e-9);

	/* 0.5 SYN/s: 4 SYNs take 7-8 s, so ok comes with the 2nd judgement, at 15 s;
	 * the baseline is the mean of those 15 intervals. */
	sim_init(&s);
	for (i = 0; i < 10; i++) {
		feed(&s, &half[0], 1);
		feed(&s, &half[1], 1);
	}
	assert_int_equal(s.nev, 1);
	assert_int_equal(s.ev[0].new_state, PC_STATE_OK);
	assert_int_equal(s.ev_step[0], 15);
	assert_near(s.port.baseline_rate, 0.5, 1e-9);

	/* 0.25 s intervals at 20 SYN/s: thresholds are in seconds, not steps. */
	sim_init(&s);
	feed(&s, &fast, 80);
	assert_int_equal(s.nev, 1);
	assert_int_equal(s.ev_step[0], 40);
	assert_near(s.port.baseline_rate, 20.0, 1e-9);
}

/* The outage: steady traffic, then the firewall drops every SYN. */
static void test_netfilter_drop_down_within_3(void **state)
{
	struct pc_det_input d = nf_drop(6); /* 5 SYN/s plus client retransmissions */
	struct pc_det_input partial = {
		.interval_s = 1, .syn = 5, .synack = 2, .drops_netfilter = 3};
	struct sim s;
	(void)state;

	/* Block at an interval boundary: down at the 2nd interval. */
	sim_init(&s);
	warm(&s, 5);
	assert_int_equal(feed(&s, &d, 1), 0);
	assert_int_equal(feed(&s, &d, 1), 1);
	assert_int_equal(last(&s)->old_state, PC_STATE_OK);
	assert_int_equal(last(&s)->new_state, PC_STATE_DOWN);
	assert_int_equal(last(&s)->cause, PC_CAUSE_NETFILTER_DROP);
	assert_string_equal(last(&s)->detail,
			    "netfilter dropped 12 packets (drop); 0 of 12 SYNs answered in 2.0 s");
	assert_near(last(&s)->syn_rate, 6.0, 1e-9);
	assert_near(last(&s)->baseline_rate, 5.0, 1e-9);
	assert_near(last(&s)->answered_ratio, 0.0, 0);
	assert_int_equal(last(&s)->evidence.syn, 12);
	assert_int_equal(last(&s)->evidence.drops_netfilter, 12);
	assert_false(last(&s)->flapping);
	assert_int_equal(s.port.cause, PC_CAUSE_NETFILTER_DROP);
	assert_near(s.port.answered_ratio, 0.0, 0);
	/* Stays down, no more events, while the block lasts. */
	assert_int_equal(feed(&s, &d, 60), 0);
	assert_int_equal(s.port.state, PC_STATE_DOWN);

	/* Block in the middle of an interval: that interval is only degraded, the
	 * next one is down, and down is reported there (the 2nd interval). */
	sim_init(&s);
	warm(&s, 5);
	assert_int_equal(feed(&s, &partial, 1), 0);
	assert_int_equal(feed(&s, &d, 1), 1);
	assert_int_equal(s.ev_step[0], 2);
	assert_int_equal(last(&s)->new_state, PC_STATE_DOWN);
	assert_int_equal(last(&s)->cause, PC_CAUSE_NETFILTER_DROP);
	assert_string_equal(last(&s)->detail,
			    "netfilter dropped 9 packets (drop); 2 of 11 SYNs answered in 2.0 s");
}

static void test_netfilter_reject_wording(void **state)
{
	struct pc_det_input rst = {
		.interval_s = 1, .syn = 5, .rst = 5, .drops_netfilter = 5, .reject_rst = 5};
	struct pc_det_input icmp = {.interval_s = 1,
				    .syn = 5,
				    .icmp_unreach = 5,
				    .drops_netfilter = 5,
				    .reject_icmp = 5};
	struct sim s;
	(void)state;

	sim_init(&s);
	warm(&s, 5);
	feed(&s, &rst, 2);
	assert_int_equal(s.nev, 1);
	assert_int_equal(last(&s)->cause, PC_CAUSE_NETFILTER_DROP);
	assert_string_equal(last(&s)->detail,
			    "netfilter dropped 10 packets (reject with tcp reset); "
			    "0 of 10 SYNs answered in 2.0 s");

	sim_init(&s);
	warm(&s, 5);
	feed(&s, &icmp, 2);
	assert_int_equal(s.nev, 1);
	assert_int_equal(last(&s)->cause, PC_CAUSE_NETFILTER_DROP);
	assert_contains(last(&s)->detail, "(reject with icmp)");
}

/* Each cause, from its own evidence; the most specific one wins. */
static void check_cause(const struct pc_det_input *in, enum pc_cause want, const char *detail)
{
	struct sim s;

	sim_init(&s);
	warm(&s, 5);
	assert_int_equal(feed(&s, in, 2), 1);
	assert_int_equal(s.ev_step[0], 2);
	assert_int_equal(last(&s)->new_state, PC_STATE_DOWN);
	assert_int_equal(last(&s)->cause, want);
	assert_string_equal(last(&s)->detail, detail);
}

/* A UDP port's details in UDP's words: datagrams that got through, not SYNs answered. */
static void test_udp_words(void **state)
{
	struct pc_det_input d = {.interval_s = 1, .syn = 6, .drops_netfilter = 6};
	struct pc_det_input ok = {.interval_s = 1, .syn = 5, .synack = 5};
	struct sim s;
	(void)state;

	sim_init(&s);
	s.port.udp = true;
	warm(&s, 5);
	assert_string_equal(s.port.detail, "baseline 5.0 datagrams/s learned over 10 s");
	assert_int_equal(feed(&s, &d, 2), 1);
	assert_int_equal(last(&s)->cause, PC_CAUSE_NETFILTER_DROP);
	assert_string_equal(last(&s)->detail, "netfilter dropped 12 packets (drop); 0 of 12 "
					      "datagrams got through in 2.0 s");
	assert_int_equal(feed(&s, &ok, 3), 1);
	assert_string_equal(last(&s)->detail, "recovered from netfilter_drop: 15 of 15 "
					      "datagrams got through in 3.0 s");
}

static void test_causes(void **state)
{
	struct pc_det_input in;
	(void)state;

	/* Nothing listens: the kernel drops the SYN as NO_SOCKET and answers RST. */
	in = (struct pc_det_input){.interval_s = 1, .syn = 5, .rst = 5, .drops_no_socket = 5};
	check_cause(&in, PC_CAUSE_NO_LISTENER,
		    "nothing listens: 10 packets dropped as NO_SOCKET, "
		    "10 RSTs; 0 of 10 SYNs answered in 2.0 s");
	in = (struct pc_det_input){.interval_s = 1, .syn = 5, .drops_listen_overflow = 5};
	check_cause(&in, PC_CAUSE_LISTEN_OVERFLOW,
		    "accept queue full: 10 dropped as "
		    "TCP_LISTEN_OVERFLOW; 0 of 10 SYNs answered in 2.0 s");
	in = (struct pc_det_input){.interval_s = 1, .syn = 5, .rst = 5};
	check_cause(&in, PC_CAUSE_RESET,
		    "answered with reset: 10 RSTs; 0 of 10 SYNs answered in 2.0 s");
	in = (struct pc_det_input){.interval_s = 1, .syn = 5, .icmp_unreach = 5};
	check_cause(&in, PC_CAUSE_ICMP_UNREACHABLE,
		    "10 ICMP unreachable errors; 0 of 10 SYNs answered in 2.0 s");
	in = unanswered(5);
	check_cause(&in, PC_CAUSE_UNANSWERED, "0 of 10 SYNs answered in 2.0 s; no local drop seen");
	in = (struct pc_det_input){.interval_s = 1, .syn = 5, .drops_other = 2};
	check_cause(&in, PC_CAUSE_UNANSWERED,
		    "0 of 10 SYNs answered in 2.0 s; no firewall or "
		    "socket drop seen, 4 packets dropped for other reasons");

	/* Most specific first: netfilter beats no_socket beats RST. */
	in = (struct pc_det_input){
		.interval_s = 1, .syn = 5, .rst = 5, .drops_no_socket = 5, .drops_netfilter = 5};
	check_cause(&in, PC_CAUSE_NETFILTER_DROP,
		    "netfilter dropped 10 packets (drop); 0 of 10 SYNs answered in 2.0 s");
	in = (struct pc_det_input){.interval_s = 1,
				   .syn = 5,
				   .rst = 5,
				   .drops_listen_overflow = 5,
				   .drops_no_socket = 5};
	check_cause(&in, PC_CAUSE_NO_LISTENER,
		    "nothing listens: 10 packets dropped as NO_SOCKET, "
		    "10 RSTs; 0 of 10 SYNs answered in 2.0 s");
	/* A stray drop explains less than cause_min_share of 10 failures: not the cause. */
	in = (struct pc_det_input){.interval_s = 1, .syn = 10, .drops_no_socket = 1, .rst = 10};
	{
		struct sim s;

		sim_init(&s);
		warm(&s, 10);
		feed(&s, &in, 2);
		assert_int_equal(s.nev, 1);
		assert_int_equal(last(&s)->cause, PC_CAUSE_RESET);
	}
	/* RSTs sent by a netfilter reject are not the service resetting. */
	in = (struct pc_det_input){.interval_s = 1, .syn = 5, .rst = 5, .reject_rst = 5};
	check_cause(&in, PC_CAUSE_UNANSWERED, "0 of 10 SYNs answered in 2.0 s; no local drop seen");
}

/* An outbound port blocked by this host's OUTPUT chain: SYNs die before TC egress. */
static void test_outbound_local_block(void **state)
{
	struct pc_det_input in = {.interval_s = 1, .drops_netfilter = 5};
	struct sim s;
	(void)state;

	sim_init(&s);
	warm(&s, 5);
	assert_int_equal(feed(&s, &in, 2), 1);
	assert_int_equal(last(&s)->new_state, PC_STATE_DOWN);
	assert_int_equal(last(&s)->cause, PC_CAUSE_NETFILTER_DROP);
	assert_string_equal(last(&s)->detail,
			    "netfilter dropped 10 packets (drop); 0 of 10 SYNs answered in 2.0 s");
}

static void test_partial_failure_degraded(void **state)
{
	struct pc_det_input half = {.interval_s = 1, .syn = 10, .synack = 5};
	struct pc_det_input third = {.interval_s = 1, .syn = 10, .synack = 7};
	struct pc_det_input seventy = {
		.interval_s = 1, .syn = 10, .synack = 3, .drops_netfilter = 7};
	struct pc_det_input eighty = {.interval_s = 1, .syn = 10, .synack = 2};
	struct pc_det_input quarter = {.interval_s = 1, .syn = 12, .synack = 9};
	struct sim s;
	(void)state;

	sim_init(&s);
	warm(&s, 10);
	assert_int_equal(feed(&s, &half, 30), 1);
	assert_int_equal(s.ev_step[0], 2);
	assert_int_equal(last(&s)->new_state, PC_STATE_DEGRADED);
	assert_int_equal(last(&s)->cause, PC_CAUSE_UNANSWERED);
	assert_near(last(&s)->answered_ratio, 0.5, 1e-9);
	assert_string_equal(last(&s)->detail,
			    "10 of 20 SYNs answered in 2.0 s; no local drop seen");
	/* Getting worse: degraded -> down after down_after down judgements. */
	assert_int_equal(feed(&s, &eighty, 2), 1);
	assert_int_equal(last(&s)->old_state, PC_STATE_DEGRADED);
	assert_int_equal(last(&s)->new_state, PC_STATE_DOWN);
	assert_int_equal(last(&s)->cause, PC_CAUSE_UNANSWERED);

	sim_init(&s);
	warm(&s, 10);
	assert_int_equal(feed(&s, &third, 2), 1);
	assert_int_equal(last(&s)->new_state, PC_STATE_DEGRADED);

	sim_init(&s);
	warm(&s, 10);
	assert_int_equal(feed(&s, &seventy, 2), 1);
	assert_int_equal(last(&s)->new_state, PC_STATE_DEGRADED);
	assert_int_equal(last(&s)->cause, PC_CAUSE_NETFILTER_DROP);

	/* 25% unanswered is under the degraded line. */
	sim_init(&s);
	warm(&s, 12);
	assert_int_equal(feed(&s, &quarter, 60), 0);
	assert_int_equal(s.port.state, PC_STATE_OK);
	assert_near(s.port.answered_ratio, 0.75, 1e-9);
}

/* Upstream block: SYNs stop reaching the host. */
static void test_collapse(void **state)
{
	struct pc_det_input q = quiet(), ten = healthy(10);
	struct sim s;
	(void)state;

	/* Steady 5 SYN/s: one silent interval is a collapse judgement; down at the 2nd. */
	sim_init(&s);
	warm(&s, 5);
	assert_int_equal(feed(&s, &q, 1), 0);
	assert_int_equal(feed(&s, &q, 1), 1);
	assert_int_equal(last(&s)->old_state, PC_STATE_OK);
	assert_int_equal(last(&s)->new_state, PC_STATE_DOWN);
	assert_int_equal(last(&s)->cause, PC_CAUSE_COLLAPSE);
	assert_near(last(&s)->syn_rate, 0.0, 0);
	assert_near(last(&s)->baseline_rate, 5.0, 1e-9);
	assert_string_equal(last(&s)->detail,
			    "0 SYNs in 1.0 s where the baseline of 5.0 SYN/s "
			    "expects 5 (0%): blocked upstream, or the clients stopped");
	assert_int_equal(feed(&s, &q, 60), 0);
	/* Traffic comes back: recovery after up_after good judgements. */
	feed(&s, &(struct pc_det_input){.interval_s = 1, .syn = 5, .synack = 5}, 3);
	assert_int_equal(s.nev, 2);
	assert_int_equal(last(&s)->new_state, PC_STATE_OK);
	assert_int_equal(last(&s)->cause, PC_CAUSE_COLLAPSE);
	/* The baseline did not learn the silence. */
	assert_near(s.port.baseline_rate, 5.0, 1e-9);

	/* Blocked in the middle of an interval: down by the 3rd interval. */
	sim_init(&s);
	warm(&s, 5);
	feed(&s, &(struct pc_det_input){.interval_s = 1, .syn = 2, .synack = 2}, 1);
	feed(&s, &q, 2);
	assert_int_equal(s.nev, 1);
	assert_int_equal(s.ev_step[0], 3);
	assert_int_equal(last(&s)->cause, PC_CAUSE_COLLAPSE);

	/* 20 SYN/s blocked in the middle of an interval: down by the 3rd interval. */
	sim_init(&s);
	warm(&s, 20);
	feed(&s, &ten, 1);
	feed(&s, &q, 2);
	assert_int_equal(s.nev, 1);
	assert_int_equal(s.ev_step[0], 3);
	assert_int_equal(last(&s)->cause, PC_CAUSE_COLLAPSE);
}

/* A dip by half, or a slow decline, is not a collapse. */
static void test_dip_by_half_not_reported(void **state)
{
	struct pc_det_input half = healthy(5), low = healthy(2), one = healthy(1);
	struct sim s;
	(void)state;

	sim_init(&s);
	warm(&s, 10);
	assert_int_equal(feed(&s, &half, 120), 0);
	assert_int_equal(s.port.state, PC_STATE_OK);
	/* The baseline follows the new level (tau 60 s: ~87% of the way in 120 s). */
	assert_true(s.port.baseline_rate < 6.0 && s.port.baseline_rate > 5.0);
	/* Halving again, and again: still never a collapse. */
	assert_int_equal(feed(&s, &low, 300), 0);
	assert_int_equal(feed(&s, &one, 300), 0);
	assert_int_equal(s.port.state, PC_STATE_OK);

	/* 25% of the baseline: not a collapse either (the line is at 20%). */
	sim_init(&s);
	warm(&s, 20);
	assert_int_equal(feed(&s, &half, 5), 0);
	assert_int_equal(s.port.state, PC_STATE_OK);
}

static void test_one_bad_interval_no_alert(void **state)
{
	struct pc_det_input h = healthy(5), b = nf_drop(5), q = quiet();
	struct sim s;
	unsigned int i;
	(void)state;

	sim_init(&s);
	warm(&s, 5);
	feed(&s, &b, 1);
	feed(&s, &h, 10);
	/* One silent interval is not a collapse. */
	feed(&s, &q, 1);
	feed(&s, &h, 10);
	/* A bad interval every 5 s: 2 in any 10, under intermittent_bad. */
	for (i = 0; i < 12; i++) {
		feed(&s, &b, 1);
		feed(&s, &h, 4);
	}
	assert_int_equal(s.nev, 0);
	assert_int_equal(s.port.state, PC_STATE_OK);
}

/* Failing every other interval: degraded once, not an alert per interval. */
static void test_flapping_alternating(void **state)
{
	struct pc_det_input h = healthy(5), b = nf_drop(5);
	struct sim s;
	unsigned int i;
	(void)state;

	sim_init(&s);
	warm(&s, 5);
	for (i = 0; i < 30; i++) {
		feed(&s, &h, 1);
		feed(&s, &b, 1);
	}
	assert_int_equal(s.nev, 1);
	assert_int_equal(s.ev_step[0], 8);
	assert_int_equal(s.ev[0].new_state, PC_STATE_DEGRADED);
	assert_int_equal(s.ev[0].cause, PC_CAUSE_NETFILTER_DROP);
	assert_string_equal(s.ev[0].detail,
			    "intermittent: 4 of the last 10 judgements failed; "
			    "netfilter dropped 5 packets (drop); 0 of 5 SYNs answered in 1.0 s");
	assert_int_equal(s.port.state, PC_STATE_DEGRADED);
	/* Once it steadies, it recovers. */
	feed(&s, &h, 3);
	assert_int_equal(s.nev, 2);
	assert_int_equal(last(&s)->new_state, PC_STATE_OK);
	assert_int_equal(last(&s)->cause, PC_CAUSE_NETFILTER_DROP);
}

/* Down for 2 s, up for 3 s, over and over: a few events, then held at degraded. */
static void test_flapping_damped(void **state)
{
	struct pc_det_input h = healthy(5), b = nf_drop(5);
	struct sim s;
	unsigned int i;
	(void)state;

	sim_init(&s);
	warm(&s, 5);
	for (i = 0; i < 12; i++) {
		feed(&s, &b, 2);
		feed(&s, &h, 3);
	}
	assert_int_equal(s.steps, 60);
	/* down, ok, down (now flapping), degraded; then held. */
	assert_int_equal(s.nev, 4);
	assert_int_equal(s.ev[0].new_state, PC_STATE_DOWN);
	assert_int_equal(s.ev[1].new_state, PC_STATE_OK);
	assert_int_equal(s.ev[2].new_state, PC_STATE_DOWN);
	assert_true(s.ev[2].flapping);
	assert_int_equal(s.ev[3].old_state, PC_STATE_DOWN);
	assert_int_equal(s.ev[3].new_state, PC_STATE_DEGRADED);
	assert_int_equal(s.ev[3].cause, PC_CAUSE_NETFILTER_DROP);
	assert_int_equal(s.ev_step[3], 10);
	assert_contains(s.ev[3].detail, "flapping, held at degraded; ");
	assert_int_equal(s.port.state, PC_STATE_DEGRADED);
}

/* While flapping a steady outage still becomes down, and a real fix still ends as ok. */
static void test_flapping_then_steady(void **state)
{
	struct pc_det_input h = healthy(5), b = nf_drop(5);
	struct sim s;
	unsigned int i;
	(void)state;

	sim_init(&s);
	warm(&s, 5);
	for (i = 0; i < 4; i++) {
		feed(&s, &b, 2);
		feed(&s, &h, 3);
	}
	assert_int_equal(s.nev, 4);
	assert_true(s.port.flapping);
	/* Down takes flap_down_after down judgements, not down_after. */
	feed(&s, &b, 9);
	assert_int_equal(s.nev, 4);
	feed(&s, &b, 1);
	assert_int_equal(s.nev, 5);
	assert_int_equal(s.ev_step[4], 30);
	assert_int_equal(last(&s)->new_state, PC_STATE_DOWN);
	/* Fixed: degraded while the damping lasts, then ok. */
	feed(&s, &h, 120);
	assert_int_equal(s.nev, 7);
	assert_int_equal(s.ev[5].new_state, PC_STATE_DEGRADED);
	assert_int_equal(s.ev_step[5], 33);
	assert_int_equal(s.ev[6].new_state, PC_STATE_OK);
	assert_false(s.ev[6].flapping);
	assert_false(s.port.flapping);
	assert_int_equal(s.port.state, PC_STATE_OK);
}

/* Bursty traffic is judged over a longer look back than steady traffic. */
static void test_collapse_noisy_traffic(void **state)
{
	struct pc_det_input lo = healthy(2), hi = healthy(8), q = quiet();
	struct sim s;
	unsigned int i;
	(void)state;

	sim_init(&s);
	for (i = 0; i < 30; i++) {
		feed(&s, &lo, 1);
		feed(&s, &hi, 1);
	}
	assert_int_equal(s.port.state, PC_STATE_OK);
	assert_near(s.port.baseline_rate, 5.0, 0.2);
	/* Variance 9, mean 5: the look back is z^2 * 9 / 25 = 9 intervals. */
	assert_true(s.port.baseline_var > 8 && s.port.baseline_var < 10);
	s.nev = 0;
	s.steps = 0;
	/* Silent for 3 s: a steady 5 SYN/s port would be down; this one is not. */
	feed(&s, &q, 3);
	assert_int_equal(s.nev, 0);
	assert_int_equal(s.port.state, PC_STATE_OK);
	feed(&s, &q, 20);
	assert_int_equal(s.nev, 1);
	assert_int_equal(last(&s)->cause, PC_CAUSE_COLLAPSE);
	assert_true(s.ev_step[0] > 5 && s.ev_step[0] <= 10);
	print_message("bursty 5 SYN/s: collapse reported after %u silent intervals\n",
		      s.ev_step[0]);
}

/* Knuth's Poisson sampler on a fixed LCG: the same series on every run. */
static uint64_t poisson(uint64_t *state, double exp_neg_lambda)
{
	double prod = 1;
	uint64_t n = 0;

	for (;;) {
		*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
		prod *= (double)(*state >> 11) / 9007199254740992.0;
		if (prod <= exp_neg_lambda)
			return n;
		n++;
	}
}

/* Healthy Poisson traffic for an hour: never an alert; then an upstream block is
 * still found, over the longer look back such traffic needs. */
static void test_poisson_traffic_no_false_alarm(void **state)
{
	static const struct {
		double lambda, exp_neg;
		unsigned int max_steps; /* to report the block; 0: too slow to tell */
	} rates[] = {
		{1, 0.36787944117144233, 0},
		{2, 0.1353352832366127, 20},
		{5, 0.006737946999085467, 8},
		{20, 2.061153622438558e-09, 3},
	};
	struct pc_det_input q = quiet();
	unsigned int r, i;
	(void)state;

	for (r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		uint64_t rng = 42 + r;
		struct sim s;

		sim_init(&s);
		for (i = 0; i < 3600; i++) {
			uint64_t n = poisson(&rng, rates[r].exp_neg);
			struct pc_det_input in = healthy(n);

			feed(&s, &in, 1);
			if (s.port.state != PC_STATE_OK && s.port.state != PC_STATE_UNKNOWN)
				fail_msg("%.0f SYN/s Poisson: %s at step %u", rates[r].lambda,
					 pc_state_name(s.port.state), s.steps);
		}
		assert_int_equal(s.nev, 1);
		assert_int_equal(s.ev[0].new_state, PC_STATE_OK);
		s.nev = 0;
		s.steps = 0;
		if (!rates[r].max_steps) {
			/* At the collapse_min_baseline edge: silence may end as idle, never
			 * as an alert. */
			feed(&s, &q, 120);
			assert_int_equal(s.port.state, PC_STATE_IDLE);
			assert_int_equal(s.nev, 1);
			print_message("%.0f SYN/s Poisson: 3600 s without an alert; silence "
				      "becomes idle after %u s\n",
				      rates[r].lambda, s.ev_step[0]);
			continue;
		}
		feed(&s, &q, rates[r].max_steps);
		assert_int_equal(s.nev, 1);
		assert_int_equal(last(&s)->cause, PC_CAUSE_COLLAPSE);
		print_message("%.0f SYN/s Poisson: 3600 s without an alert; upstream block "
			      "reported after %u intervals\n",
			      rates[r].lambda, s.ev_step[0]);
	}
}

/* Any pattern: the number of events over 60 intervals stays small. */
static void test_flapping_bounded(void **state)
{
	struct pc_det_input h = healthy(5), b = nf_drop(5);
	unsigned int seed, i;
	(void)state;

	for (seed = 1; seed <= 200; seed++) {
		struct sim s;
		unsigned int x = seed;

		sim_init(&s);
		warm(&s, 5);
		for (i = 0; i < 60; i++) {
			x = x * 1103515245u + 12345u;
			feed(&s, (x >> 16) & 1 ? &b : &h, 1);
		}
		if (s.nev > 6)
			fail_msg("seed %u: %u events in 60 intervals", seed, s.nev);
	}
}

static void test_recovery_needs_good_intervals(void **state)
{
	struct pc_det_input h = healthy(5), b = nf_drop(5);
	struct sim s;
	(void)state;

	sim_init(&s);
	warm(&s, 5);
	feed(&s, &b, 5);
	assert_int_equal(s.nev, 1);
	feed(&s, &h, 1);
	feed(&s, &b, 1);
	feed(&s, &h, 2);
	feed(&s, &b, 1);
	assert_int_equal(s.nev, 1);
	assert_int_equal(s.port.state, PC_STATE_DOWN);
	feed(&s, &h, 2);
	assert_int_equal(s.nev, 1);
	feed(&s, &h, 1);
	assert_int_equal(s.nev, 2);
	assert_int_equal(last(&s)->old_state, PC_STATE_DOWN);
	assert_int_equal(last(&s)->new_state, PC_STATE_OK);
	assert_int_equal(last(&s)->cause, PC_CAUSE_NETFILTER_DROP);
	assert_near(last(&s)->prev_since, 1032, 0);
	assert_near(last(&s)->answered_ratio, 1.0, 0);
	assert_string_equal(last(&s)->detail,
			    "recovered from netfilter_drop: 15 of 15 SYNs answered in 3.0 s");
	assert_int_equal(s.port.cause, PC_CAUSE_NONE);
}

/* down -> degraded -> ok when a fix is partial first. */
static void test_partial_recovery(void **state)
{
	struct pc_det_input b = nf_drop(10), h = healthy(10);
	struct pc_det_input half = {.interval_s = 1, .syn = 10, .synack = 5, .drops_netfilter = 5};
	struct sim s;
	(void)state;

	sim_init(&s);
	warm(&s, 10);
	feed(&s, &b, 2);
	feed(&s, &half, 3);
	assert_int_equal(s.nev, 2);
	assert_int_equal(last(&s)->old_state, PC_STATE_DOWN);
	assert_int_equal(last(&s)->new_state, PC_STATE_DEGRADED);
	assert_int_equal(last(&s)->cause, PC_CAUSE_NETFILTER_DROP);
	assert_string_equal(last(&s)->detail,
			    "netfilter dropped 15 packets (drop); 15 of 30 SYNs answered in 3.0 s");
	feed(&s, &h, 3);
	assert_int_equal(s.nev, 3);
	assert_int_equal(last(&s)->new_state, PC_STATE_OK);
	assert_int_equal(last(&s)->cause, PC_CAUSE_NETFILTER_DROP);
}

/* A rollback lands mid-interval: that interval is half answered, the next ones are
 * healthy. One event, down -> ok, not down -> degraded -> ok. */
static void test_rollback_mid_interval(void **state)
{
	struct pc_det_input b = nf_drop(10), h = healthy(10);
	struct pc_det_input half = {.interval_s = 1, .syn = 10, .synack = 5, .drops_netfilter = 5};
	struct sim s;
	(void)state;

	sim_init(&s);
	warm(&s, 10);
	feed(&s, &b, 4);
	assert_int_equal(s.nev, 1);
	assert_int_equal(s.port.state, PC_STATE_DOWN);
	feed(&s, &half, 1);
	feed(&s, &h, 1);
	assert_int_equal(s.nev, 1); /* not yet: 3 better judgements needed */
	feed(&s, &h, 1);
	assert_int_equal(s.nev, 2);
	assert_int_equal(last(&s)->old_state, PC_STATE_DOWN);
	assert_int_equal(last(&s)->new_state, PC_STATE_OK);
	assert_int_equal(last(&s)->cause, PC_CAUSE_NETFILTER_DROP);
	feed(&s, &h, 20);
	assert_int_equal(s.nev, 2);
}

/* No or little traffic: idle, and never an alert, whatever the answers. */
static void test_idle_never_alerts(void **state)
{
	struct pc_det_input q = quiet(), one = unanswered(1), h = healthy(5);
	struct sim s;
	unsigned int i;
	(void)state;

	sim_init(&s);
	assert_int_equal(feed(&s, &q, 9), 0);
	assert_int_equal(feed(&s, &q, 1), 1);
	assert_int_equal(s.ev[0].old_state, PC_STATE_UNKNOWN);
	assert_int_equal(s.ev[0].new_state, PC_STATE_IDLE);
	assert_int_equal(s.ev[0].cause, PC_CAUSE_NONE);
	assert_string_equal(s.ev[0].detail, "0 SYNs in 10.0 s: too little traffic to judge");
	assert_int_equal(feed(&s, &q, 300), 0);
	assert_int_equal(s.port.state, PC_STATE_IDLE);
	assert_near(s.port.answered_ratio, -1, 0);

	/* A SYN every 4 s, never answered: too little to judge. */
	for (i = 0; i < 100; i++) {
		feed(&s, &one, 1);
		feed(&s, &q, 3);
	}
	assert_int_equal(s.nev, 1);
	assert_int_equal(s.port.state, PC_STATE_IDLE);

	/* Traffic arrives: ok after learning, with a baseline of the new traffic only. */
	feed(&s, &h, 30);
	assert_int_equal(s.nev, 2);
	assert_int_equal(last(&s)->new_state, PC_STATE_OK);
	assert_int_equal(last(&s)->old_state, PC_STATE_IDLE);
	assert_true(s.port.baseline_rate > 4.5 && s.port.baseline_rate <= 5.0);
}

/* A port that goes quiet with a low baseline is idle, not collapsed; one with a
 * high baseline is collapsed, not idle. */
static void test_idle_vs_collapse(void **state)
{
	struct pc_det_input q = quiet();
	struct pc_det_input slow[2] = {healthy(1), healthy(0)}; /* 0.5 SYN/s */
	struct sim s;
	unsigned int i;
	(void)state;

	sim_init(&s);
	for (i = 0; i < 20; i++) {
		feed(&s, &slow[0], 1);
		feed(&s, &slow[1], 1);
	}
	assert_int_equal(s.port.state, PC_STATE_OK);
	s.nev = 0;
	feed(&s, &q, 30);
	assert_int_equal(s.nev, 1);
	assert_int_equal(last(&s)->new_state, PC_STATE_IDLE);
	assert_false(s.port.baseline_valid);

	sim_init(&s);
	warm(&s, 2);
	feed(&s, &q, 30);
	assert_int_equal(s.nev, 1);
	assert_int_equal(last(&s)->new_state, PC_STATE_DOWN);
	assert_int_equal(last(&s)->cause, PC_CAUSE_COLLAPSE);
	/* 2 SYN/s: the check spans 2 intervals (4 SYNs expected), and it must hold
	 * for 2 judgements. */
	assert_int_equal(s.ev_step[0], 3);
}

static void test_baseline_not_learned_while_unhealthy(void **state)
{
	struct pc_det_input retrans = nf_drop(20), h = healthy(5);
	struct pc_det_input deg = {.interval_s = 1, .syn = 40, .synack = 20};
	struct sim s;
	(void)state;

	sim_init(&s);
	warm(&s, 5);
	feed(&s, &retrans, 100);
	assert_int_equal(s.port.state, PC_STATE_DOWN);
	assert_near(s.port.baseline_rate, 5.0, 1e-9);
	feed(&s, &deg, 100);
	assert_int_equal(s.port.state, PC_STATE_DEGRADED);
	assert_near(s.port.baseline_rate, 5.0, 1e-9);
	/* Nor from the bad judgement that has not become an alert yet. */
	sim_init(&s);
	warm(&s, 5);
	feed(&s, &retrans, 1);
	assert_int_equal(s.port.state, PC_STATE_OK);
	assert_near(s.port.baseline_rate, 5.0, 1e-9);
	feed(&s, &h, 3);
	assert_near(s.port.baseline_rate, 5.0, 1e-9);
}

/* Started in the middle of an outage: no baseline needed to see a failing handshake. */
static void test_born_down(void **state)
{
	struct pc_det_input b = nf_drop(5), h = healthy(5), q = quiet();
	struct sim s;
	(void)state;

	sim_init(&s);
	assert_int_equal(feed(&s, &b, 2), 1);
	assert_int_equal(last(&s)->old_state, PC_STATE_UNKNOWN);
	assert_int_equal(last(&s)->new_state, PC_STATE_DOWN);
	assert_int_equal(last(&s)->cause, PC_CAUSE_NETFILTER_DROP);
	assert_near(last(&s)->baseline_rate, 0, 0);
	/* Clients give up: with no baseline, silence says nothing; still down. */
	assert_int_equal(feed(&s, &q, 60), 0);
	assert_int_equal(s.port.state, PC_STATE_DOWN);
	assert_int_equal(s.port.cause, PC_CAUSE_NETFILTER_DROP);
	/* Fixed: ok; the baseline is learned from then on. */
	assert_int_equal(feed(&s, &h, 3), 1);
	assert_int_equal(last(&s)->new_state, PC_STATE_OK);
	assert_false(s.port.baseline_valid);
	feed(&s, &h, 10);
	assert_true(s.port.baseline_valid);
	assert_near(s.port.baseline_rate, 5.0, 1e-9);
}

/* Clients giving up during a firewall outage do not turn it into a "collapse". */
static void test_collapse_keeps_specific_cause(void **state)
{
	struct pc_det_input b = nf_drop(5), q = quiet();
	struct sim s;
	(void)state;

	sim_init(&s);
	warm(&s, 5);
	feed(&s, &b, 2);
	feed(&s, &q, 20);
	assert_int_equal(s.nev, 1);
	assert_int_equal(s.port.state, PC_STATE_DOWN);
	assert_int_equal(s.port.cause, PC_CAUSE_NETFILTER_DROP);
	assert_contains(s.port.detail, "after netfilter_drop: 0 SYNs in 1.0 s");
}

/* Every threshold comes from the configuration. */
static void test_cfg_respected(void **state)
{
	struct pc_det_input b = nf_drop(5), h = healthy(5), q = quiet();
	struct pc_det_input thirty = {.interval_s = 1, .syn = 10, .synack = 7};
	struct sim s;
	(void)state;

	sim_init(&s);
	s.cfg.down_after = 4;
	warm(&s, 5);
	feed(&s, &b, 3);
	assert_int_equal(s.nev, 0);
	feed(&s, &b, 1);
	assert_int_equal(s.nev, 1);
	s.cfg.up_after = 5;
	feed(&s, &h, 4);
	assert_int_equal(s.nev, 1);
	feed(&s, &h, 1);
	assert_int_equal(s.nev, 2);

	sim_init(&s);
	s.cfg.learn_s = 20;
	feed(&s, &h, 19);
	assert_int_equal(s.port.state, PC_STATE_UNKNOWN);
	feed(&s, &h, 1);
	assert_int_equal(s.port.state, PC_STATE_OK);

	sim_init(&s);
	s.cfg.degraded_fail_ratio = 0.4;
	warm(&s, 10);
	feed(&s, &thirty, 10);
	assert_int_equal(s.nev, 0);

	/* collapse_min_expected 30 at a steady 5 SYN/s: the check spans 6 intervals,
	 * so it first finds under 6 SYNs at the 5th silent one; down at the 6th. */
	sim_init(&s);
	s.cfg.collapse_min_expected = 30;
	warm(&s, 5);
	feed(&s, &q, 5);
	assert_int_equal(s.nev, 0);
	feed(&s, &q, 1);
	assert_int_equal(s.nev, 1);
	assert_int_equal(last(&s)->cause, PC_CAUSE_COLLAPSE);

	/* collapse_fraction 0.6: a drop to half is a collapse. */
	sim_init(&s);
	s.cfg.collapse_fraction = 0.6;
	warm(&s, 10);
	feed(&s, &h, 2);
	assert_int_equal(s.nev, 1);
	assert_int_equal(last(&s)->cause, PC_CAUSE_COLLAPSE);

	/* collapse_min_baseline above the port's rate: silence is never an alert; the
	 * baseline follows it down and the port ends idle. */
	sim_init(&s);
	s.cfg.collapse_min_baseline = 6;
	warm(&s, 5);
	feed(&s, &q, 300);
	assert_int_equal(s.nev, 1);
	assert_int_equal(last(&s)->new_state, PC_STATE_IDLE);

	/* min_syns 10 at 5 SYN/s: judged every 2 intervals, so down at the 4th. */
	sim_init(&s);
	s.cfg.min_syns = 10;
	warm(&s, 5);
	feed(&s, &b, 3);
	assert_int_equal(s.nev, 0);
	feed(&s, &b, 1);
	assert_int_equal(s.nev, 1);
}

static void test_ignores_bad_input(void **state)
{
	struct pc_det_input zero = {.interval_s = 0, .syn = 100};
	struct pc_det_input neg = {.interval_s = -1, .syn = 100};
	struct pc_det_input nan = {.interval_s = 0.0 / 0.0, .syn = 100};
	struct pc_det_event ev;
	struct sim s;
	(void)state;

	sim_init(&s);
	assert_false(pc_det_step(&s.cfg, &s.port, &zero, 1, &ev));
	assert_false(pc_det_step(&s.cfg, &s.port, &neg, 1, &ev));
	assert_false(pc_det_step(&s.cfg, &s.port, &nan, 1, &ev));
	assert_false(pc_det_step(NULL, &s.port, &zero, 1, &ev));
	assert_false(pc_det_step(&s.cfg, &s.port, NULL, 1, &ev));
	assert_int_equal(s.port.acc.syn, 0);
	assert_int_equal(s.port.hist_n, 0);
	/* ev may be NULL. */
	for (int i = 0; i < 10; i++)
		pc_det_step(&s.cfg, &s.port,
			    &(struct pc_det_input){.interval_s = 1, .syn = 5, .synack = 5},
			    1001 + i, NULL);
	assert_int_equal(s.port.state, PC_STATE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_cfg_validate),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_leaves_unknown_with_baseline),
		cmocka_unit_test(test_leaves_unknown_low_rates),
		cmocka_unit_test(test_netfilter_drop_down_within_3),
		cmocka_unit_test(test_netfilter_reject_wording),
		cmocka_unit_test(test_causes),
		cmocka_unit_test(test_udp_words),
		cmocka_unit_test(test_outbound_local_block),
		cmocka_unit_test(test_partial_failure_degraded),
		cmocka_unit_test(test_collapse),
		cmocka_unit_test(test_dip_by_half_not_reported),
		cmocka_unit_test(test_one_bad_interval_no_alert),
		cmocka_unit_test(test_flapping_alternating),
		cmocka_unit_test(test_flapping_damped),
		cmocka_unit_test(test_flapping_then_steady),
		cmocka_unit_test(test_collapse_noisy_traffic),
		cmocka_unit_test(test_poisson_traffic_no_false_alarm),
		cmocka_unit_test(test_flapping_bounded),
		cmocka_unit_test(test_recovery_needs_good_intervals),
		cmocka_unit_test(test_partial_recovery),
		cmocka_unit_test(test_rollback_mid_interval),
		cmocka_unit_test(test_idle_never_alerts),
		cmocka_unit_test(test_idle_vs_collapse),
		cmocka_unit_test(test_baseline_not_learned_while_unhealthy),
		cmocka_unit_test(test_born_down),
		cmocka_unit_test(test_collapse_keeps_specific_cause),
		cmocka_unit_test(test_cfg_respected),
		cmocka_unit_test(test_ignores_bad_input),
	};

	return cmocka_run_group_tests_name("detector", tests, NULL, NULL);
}
