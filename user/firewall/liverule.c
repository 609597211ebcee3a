// SPDX-License-Identifier: GPL-2.0
/* liverule.c: the daemon's side of the live rule: samples of dropped packets out, the rule per port back. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "clock.h"
#include "firewall/liverule.h"
#include "firewall/replayer.h"
#include "linebuf.h"
#include "log.h"
#include "portspec.h"
#include "preflight/replay.h"

/* Starts that end within this long count as failures; after a few, we stop trying. */
#define LR_EARLY_EXIT_S	 10.0
#define LR_MAX_FAILURES	 3
#define LR_RESTART_AFTER 5.0

bool pc_liverule_current(uint32_t have, uint32_t want)
{
	/* Generations only grow (and wrap): an answer at least as new as the daemon's
	 * latest news is current. 0: the daemon has heard of no change. */
	return !want || (int32_t)(have - want) >= 0;
}

void pc_liverule_pkt(const struct pc_drop_sample *s, const char *ifname, struct pc_replay_pkt *p)
{
	bool v6 = s->flags & PC_SAMPLE_IPV6;

	memset(p, 0, sizeof(*p));
	p->family = v6 ? AF_INET6 : AF_INET;
	memcpy(&p->saddr, s->saddr, v6 ? 16 : 4);
	memcpy(&p->daddr, s->daddr, v6 ? 16 : 4);
	p->sport = s->sport;
	p->dport = s->dport;
	p->tcp_flags = s->tcp_flags;
	p->rx = s->flags & PC_SAMPLE_RX;
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
}

static int spawn(struct pc_liverule *lr, double now)
{
	pid_t pid = pc_replayer_spawn(lr->ifnames, lr->nifs, &lr->fd);

	if (pid < 0) {
		lr->fd = -1;
		return pid;
	}
	lr->pid = pid;
	lr->started = now;
	pc_linebuf_free(&lr->in);
	return 0;
}

int pc_liverule_start(struct pc_liverule *lr, const char ifnames[][IF_NAMESIZE], int n,
		      int samples_fd)
{
	memset(lr, 0, sizeof(*lr));
	lr->fd = -1;
	lr->samples_fd = samples_fd;
	lr->nifs = n < PC_MAX_IFACES ? n : PC_MAX_IFACES;
	memcpy(lr->ifnames, ifnames, lr->nifs * sizeof(lr->ifnames[0]));
	return spawn(lr, pc_mono_now());
}

int pc_liverule_fd(const struct pc_liverule *lr)
{
	return lr->fd;
}

static void reap(struct pc_liverule *lr, double now, const char *why)
{
	if (lr->pid) {
		kill(lr->pid, SIGKILL);
		waitpid(lr->pid, NULL, 0);
	}
	if (lr->fd >= 0)
		close(lr->fd);
	lr->pid = 0;
	lr->fd = -1;
	for (int s = 0; s < PC_MAX_SLOTS; s++)
		if (lr->slots[s])
			lr->slots[s]->in_flight = false;
	if (lr->gave_up)
		return;
	if (now - lr->started < LR_EARLY_EXIT_S && ++lr->failures >= LR_MAX_FAILURES) {
		lr->gave_up = true;
		pc_warn("live rule: the sandbox replayer keeps failing (%s): alerts will not name "
			"the rule that drops a port's clients",
			why);
		return;
	}
	pc_warn("live rule: the sandbox replayer stopped (%s); starting it again", why);
	lr->started = now; /* the restart waits LR_RESTART_AFTER from here */
}

static struct pc_lr_slot *slot_of(struct pc_liverule *lr, int slot, const struct pc_slot_info *si)
{
	struct pc_lr_slot *s = lr->slots[slot];

	if (!s) {
		s = lr->slots[slot] = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
	}
	/* A slot given to another port starts afresh. */
	if (s->port.port != si->port || s->port.proto != si->proto || s->port.dir != si->dir ||
	    !s->port.used) {
		memset(s, 0, sizeof(*s));
		s->port = *si;
	}
	return s;
}

/* The interface name the rules saw: the sample's, else the daemon's first. */
static void sample_ifname(const struct pc_liverule *lr, const struct pc_drop_sample *s,
			  char name[IF_NAMESIZE])
{
	if (!s->ifindex || !if_indextoname(s->ifindex, name))
		snprintf(name, IF_NAMESIZE, "%s", lr->nifs ? lr->ifnames[0] : "lo");
}

static int send_request(struct pc_liverule *lr, int slot, struct pc_lr_slot *s,
			const struct pc_drop_sample *smp, int n)
{
	static struct pc_replay_req req;
	struct json_object *o;
	const char *t;
	ssize_t w;
	size_t len;
	int i;

	memset(&req, 0, sizeof(req));
	req.proto = s->port.proto;
	req.dir = s->port.dir;
	req.port = s->port.port;
	for (i = 0; i < n && i < PC_REPLAY_MAX_PKTS; i++) {
		char ifname[IF_NAMESIZE];

		sample_ifname(lr, &smp[i], ifname);
		pc_liverule_pkt(&smp[i], ifname, &req.pkts[req.npkts++]);
	}
	o = pc_replay_req_json(&req, ++lr->next_id, slot);
	t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(t);
	/* Small next to the socket's buffer; if it is full the lister is stuck: try later. */
	w = write(lr->fd, t, len);
	if (w == (ssize_t)len)
		w = write(lr->fd, "\n", 1) == 1 ? w : -1;
	json_object_put(o);
	if (w != (ssize_t)len)
		return -EAGAIN;
	s->asked_id = lr->next_id;
	lr->requests++;
	return 0;
}

/* Ask for the slots whose packets netfilter dropped in the last interval; after a change
 * (`changed`), also for those asked about lately, whose answer the change made stale. */
/* Send one slot its question: its recent NETFILTER_DROP samples. */
static void ask_slot(struct pc_liverule *lr, int slot, struct pc_lr_slot *s, double now,
		     bool for_change)
{
	const struct pc_drops *d = lr->drops;
	long nf = d && d->names ? pc_dropreason_value(d->names, "NETFILTER_DROP") : -1;
	struct pc_drop_sample all[PC_DROP_SAMPLES], pick[PC_DROP_SAMPLES];
	double from = now > PC_LIVERULE_SAMPLE_S ? now - PC_LIVERULE_SAMPLE_S : 0;
	uint64_t since;
	int n;

	if (nf < 0)
		return;
	/* The packets dropped under the ruleset asked about: since the last commit heard of.
	 * A question because of a commit asks about older ones, and answers quietly. */
	if (!for_change && lr->changed_at > from)
		from = lr->changed_at;
	since = from * 1e9;
	n = pc_drops_samples(lr->samples_fd, slot, all);
	n = n > 0 ? pc_drops_samples_pick(all, n, (uint32_t)nf, since, pick) : 0;
	if (!n || send_request(lr, slot, s, pick, n))
		return; /* counted, not sampled yet; or the lister is stuck: the next interval */
	s->in_flight = true;
	s->asked = now;
	s->asked_for_change = for_change;
}

/* Ask for the slots whose packets netfilter dropped in the last interval; after a change
 * (`changed`), also for those asked about lately, whose answer the change made stale. */
static void ask(struct pc_liverule *lr, const struct pc_portset *ps, const struct pc_drops *d,
		uint32_t generation, double now, bool changed)
{
	int slot;

	lr->drops = d;
	lr->generation = generation;
	if (lr->gave_up || !d || !d->t)
		return;
	if (!lr->pid && now - lr->started >= LR_RESTART_AFTER && spawn(lr, now))
		return;
	if (lr->fd < 0)
		return;
	for (slot = 1; slot < PC_MAX_SLOTS; slot++) {
		const struct pc_slot_info *si = &ps->slots[slot];
		struct pc_lr_slot *s = lr->slots[slot];
		bool dropping = si->used && d->delta_class[slot][PC_DROP_CLASS_NETFILTER];
		bool lately = changed && s && s->asked && now - s->asked < PC_LIVERULE_REFRESH_S;

		if (!si->used || !(dropping || lately))
			continue;
		s = slot_of(lr, slot, si);
		/* One question in flight per port: a burst of commits asks once, and an answer
		 * made stale by a commit while it was asked is asked again when it comes. */
		if (!s || (s->in_flight && now - s->asked < PC_LIVERULE_RETRY_S))
			continue;
		if (!changed && s->answered && pc_liverule_current(s->generation, generation) &&
		    now - s->answered_at < PC_LIVERULE_REFRESH_S)
			continue;
		s->reasked = 0;
		/* Asked because of a commit: its samples were dropped before it. */
		ask_slot(lr, slot, s, now, changed);
	}
}

void pc_liverule_tick(struct pc_liverule *lr, const struct pc_portset *ps, const struct pc_drops *d,
		      uint32_t generation, double now)
{
	ask(lr, ps, d, generation, now, false);
}

void pc_liverule_changed(struct pc_liverule *lr, const struct pc_portset *ps,
			 const struct pc_drops *d, uint32_t generation, double now)
{
	lr->changed_at = now;
	ask(lr, ps, d, generation, now, true);
}

void pc_liverule_view(const struct pc_rule_ref *r, struct pc_rule_view *v)
{
	*v = (struct pc_rule_view){
		.family = r->family,
		.table = r->table,
		.chain = r->chain,
		.has_handle = r->has_handle,
		.handle = r->handle,
		.text = r->text,
	};
}

/* One line per finding: a port's rule, or why it cannot be named, each said once. */
static void log_once(struct pc_lr_slot *s)
{
	char line[sizeof(s->logged)], rl[800];
	const char *port = pc_proto_name(s->port.proto);
	struct pc_rule_view v;

	if (s->rule.known) {
		pc_liverule_view(&s->rule, &v);
		pc_rule_view_line(&v, rl, sizeof(rl));
		snprintf(line, sizeof(line), "its clients are dropped by %s", rl);
	} else {
		snprintf(line, sizeof(line), "cannot name the rule that drops its clients: %s",
			 s->why);
	}
	if (!strcmp(line, s->logged))
		return;
	snprintf(s->logged, sizeof(s->logged), "%s", line);
	if (s->rule.known)
		pc_info("%s/%u:%s: %s (%d of %d sampled peers replayed in %.1f ms, answered %.1f "
			"ms "
			"after the question)",
			port, s->port.port, pc_dir_name(s->port.dir), line, s->reproduced,
			s->replayed, s->ms, (s->answered_at - s->asked) * 1e3);
	else
		pc_warn("%s/%u:%s: %s", port, s->port.port, pc_dir_name(s->port.dir), line);
}

static void on_loaded(struct pc_liverule *lr, struct json_object *o)
{
	struct json_object *v;
	bool ok = json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v);
	const char *err =
		json_object_object_get_ex(o, "error", &v) && v ? json_object_get_string(v) : "";
	long long us = json_object_object_get_ex(o, "us", &v) ? json_object_get_int64(v) : 0;

	if (ok) {
		lr->last_load_error[0] = '\0';
		pc_debug("live rule: the sandbox copy of the live ruleset is renewed (%.1f ms)",
			 us / 1000.0);
		return;
	}
	if (strcmp(err, lr->last_load_error))
		pc_warn("live rule: the live ruleset does not load in the sandbox, so rules "
			"cannot be named: %s",
			err);
	snprintf(lr->last_load_error, sizeof(lr->last_load_error), "%s", err);
}

static void on_result(struct pc_liverule *lr, const struct pc_portset *ps, struct json_object *o,
		      double now)
{
	struct pc_replay_result res;
	struct pc_lr_slot *s;
	uint32_t id;
	int slot;

	if (pc_replay_result_parse(o, &res, &id, &slot) || slot <= 0 || slot >= PC_MAX_SLOTS)
		return;
	s = lr->slots[slot];
	/* Only the answer to the last question of the port that still owns the slot. */
	if (!s || !s->in_flight || s->asked_id != id || !ps->slots[slot].used ||
	    ps->slots[slot].port != s->port.port || ps->slots[slot].proto != s->port.proto ||
	    ps->slots[slot].dir != s->port.dir)
		return;
	s->in_flight = false;
	/* Already stale (a commit came while it was replayed): once more, at once. */
	if (!pc_liverule_current(res.generation, lr->generation) && s->reasked < 2) {
		s->reasked++; /* bounded: a generation that cannot be read looks stale forever */
		ask_slot(lr, slot, s, now, s->asked_for_change);
		if (s->in_flight)
			return;
	}
	s->answered = true;
	s->answered_at = now;
	s->generation = res.generation;
	s->rule = res.rule;
	snprintf(s->why, sizeof(s->why), "%s", res.why);
	s->ms = res.ms;
	s->reproduced = res.reproduced;
	s->replayed = res.replayed;
	lr->answers++;
	lr->found += res.rule.known;
	/* Packets dropped before a change (asked because of it, or before it was heard of),
	 * replayed after it: a rule found is news; none found says little (the change may have
	 * let them through), so it is kept quietly and the next interval that still has drops
	 * asks again, with packets of its own. */
	if ((s->asked_for_change || lr->changed_at >= s->asked) && !res.rule.known) {
		s->answered_at = 0;
		if (res.outcome == PC_REPLAY_PASSED)
			snprintf(s->why, sizeof(s->why),
				 "the ruleset changed after its packets were dropped and lets them "
				 "through now");
		return;
	}
	log_once(s);
}

void pc_liverule_read(struct pc_liverule *lr, const struct pc_portset *ps, double now)
{
	char *line;
	int r;

	if (lr->fd < 0)
		return;
	while ((r = pc_linebuf_fill(&lr->in, lr->fd)) > 0)
		;
	while ((line = pc_linebuf_next(&lr->in))) {
		struct json_object *o = json_tokener_parse(line), *v;
		const char *op;

		op = o && json_object_object_get_ex(o, "op", &v) ? json_object_get_string(v) : "";
		if (!strcmp(op, "result"))
			on_result(lr, ps, o, now);
		else if (!strcmp(op, "loaded"))
			on_loaded(lr, o);
		else if (!strcmp(op, "failed")) {
			/* It cannot build its sandbox (user namespaces not allowed ...): that
			 * does not pass by itself, so no restarts. */
			pc_warn("live rule: %s: alerts will not name the rule that drops a port's "
				"clients",
				json_object_object_get_ex(o, "error", &v)
					? json_object_get_string(v)
					: "the sandbox failed");
			lr->gave_up = true;
		}
		json_object_put(o);
	}
	if (r < 0 || lr->gave_up)
		reap(lr, now, "it exited");
}

const struct pc_rule_ref *pc_liverule_get(const struct pc_liverule *lr, int slot,
					  const struct pc_slot_info *port, uint32_t generation,
					  const char **why)
{
	const struct pc_lr_slot *s = slot > 0 && slot < PC_MAX_SLOTS ? lr->slots[slot] : NULL;

	*why = NULL;
	if (lr->gave_up) {
		*why = "the sandbox replayer is not running";
		return NULL;
	}
	if (!s || s->port.port != port->port || s->port.proto != port->proto ||
	    s->port.dir != port->dir)
		return NULL;
	if (!s->answered || !pc_liverule_current(s->generation, generation)) {
		*why = s->in_flight ? "the replay of its dropped packets has not answered yet"
				    : NULL;
		return NULL;
	}
	if (!s->rule.known) {
		*why = s->why;
		return NULL;
	}
	return &s->rule;
}

void pc_liverule_stop(struct pc_liverule *lr)
{
	int s;

	if (lr->pid) {
		kill(lr->pid, SIGKILL);
		waitpid(lr->pid, NULL, 0);
	}
	if (lr->fd >= 0)
		close(lr->fd);
	for (s = 0; s < PC_MAX_SLOTS; s++)
		free(lr->slots[s]);
	pc_linebuf_free(&lr->in);
	memset(lr, 0, sizeof(*lr));
	lr->fd = -1;
}
