// SPDX-License-Identifier: GPL-2.0
/* trial.c: preflight of a candidate against the live ruleset per client group, in a child. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <json-c/json.h>

#include "clock.h"
#include "firewall/trial.h"
#include "log.h"
#include "spawn.h"
#include "jsonutil.h"

static bool loopback(const struct pc_client_addr *a)
{
	static const uint8_t v6lo[16] = {[15] = 1};

	return a->family == AF_INET ? a->client[0] == 127 : !memcmp(a->client, v6lo, 16);
}

static int add_spec(struct pc_trial_group *g, const struct pc_trial_input *p)
{
	struct pc_portspec *ns = realloc(g->specs, (g->nspecs + 1) * sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	g->specs = ns;
	g->specs[g->nspecs++] = (struct pc_portspec){
		.proto = p->proto, .dir = p->dir, .first = p->port, .last = p->port};
	return 0;
}

int pc_trial_groups(const struct pc_trial_input *in, int n, struct pc_trial_group *g, int max)
{
	int ng = 0, i, s, k, def = -1;

	memset(g, 0, max * sizeof(*g));
	for (i = 0; i < n; i++) {
		bool placed = false;

		for (s = 0; s < in[i].nsrc; s++) {
			char from[46], to[46];

			if (loopback(&in[i].src[s]))
				continue;
			pc_client_addr_str(&in[i].src[s], false, from, sizeof(from));
			pc_client_addr_str(&in[i].src[s], true, to, sizeof(to));
			for (k = 0; k < ng; k++)
				if (!strcmp(g[k].from, from) && !strcmp(g[k].to, to))
					break;
			/* Keep one group for the defaults while other groups are made. */
			if (k == ng && ng < max - (def < 0 ? 1 : 0)) {
				snprintf(g[k].from, sizeof(g[k].from), "%s", from);
				snprintf(g[k].to, sizeof(g[k].to), "%s", to);
				ng++;
			}
			if (k < ng) {
				if (add_spec(&g[k], &in[i]))
					return -ENOMEM;
				placed = true;
			}
		}
		if (placed)
			continue;
		if (def < 0) {
			def = ng++;
			g[def].from[0] = g[def].to[0] = '\0';
		}
		if (add_spec(&g[def], &in[i]))
			return -ENOMEM;
	}
	return ng;
}

void pc_trial_groups_free(struct pc_trial_group *g, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(g[i].specs);
		g[i].specs = NULL;
		g[i].nspecs = 0;
	}
}

static struct json_object *port_json(const struct pc_trial_port *p)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "proto", json_object_new_string(pc_proto_name(p->proto)));
	json_object_object_add(o, "port", json_object_new_int(p->port));
	json_object_object_add(o, "direction", json_object_new_string(pc_dir_name(p->dir)));
	json_object_object_add(o, "verdict",
			       json_object_new_string(p->blocked ? "blocked" : "reachable"));
	json_object_object_add(o, "already_blocked", json_object_new_boolean(p->already_blocked));
	json_object_object_add(o, "from", p->from[0] ? json_object_new_string(p->from) : NULL);
	json_object_object_add(o, "to", p->to[0] ? json_object_new_string(p->to) : NULL);
	json_object_object_add(o, "failure",
			       p->failure[0] ? json_object_new_string(p->failure) : NULL);
	json_object_object_add(o, "rule", pc_rule_ref_json(&p->rule));
	return o;
}

struct json_object *pc_trial_json(const struct pc_trial *t)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	int i;

	for (i = 0; i < t->nports; i++)
		json_object_array_add(arr, port_json(&t->ports[i]));
	json_object_object_add(o, "ports", arr);
	json_object_object_add(o, "newly_blocked", json_object_new_int(t->newly_blocked));
	json_object_object_add(o, "groups", json_object_new_int(t->ngroups));
	json_object_object_add(o, "error", t->error[0] ? json_object_new_string(t->error) : NULL);
	return o;
}

void pc_trial_port_line(const struct pc_trial_port *p, char *buf, size_t len)
{
	size_t n = snprintf(buf, len, "%s/%u:%s", pc_proto_name(p->proto), p->port,
			    pc_dir_name(p->dir));

	if (n < len)
		n += snprintf(buf + n, len - n, " from %s", p->from[0] ? p->from : "the sandbox");
	if (p->rule.known && n < len) {
		n += snprintf(buf + n, len - n, ": %s %s %s", p->rule.family, p->rule.table,
			      p->rule.chain);
		if (p->rule.has_handle && n < len)
			n += snprintf(buf + n, len - n, " handle %llu",
				      (unsigned long long)p->rule.handle);
		if (n < len)
			n += snprintf(buf + n, len - n, ": %s", p->rule.text);
	} else if (n < len) {
		n += snprintf(buf + n, len - n, ": %s (rule unknown)",
			      p->failure[0] ? p->failure : "blocked");
	}
}

/* The child: a user namespace of its own with a network namespace inside (as the
 * ruleset check does), so nothing here can reach the host's ruleset. */
static void child(const char *baseline, const char *candidate, const struct pc_trial_group *g,
		  int ng, const char *iface, int fd)
{
	struct pc_ruleset base = {.kind = PC_RULESET_NFT, .text = baseline, .name = "live"};
	struct json_object *doc = json_object_new_object(), *groups = json_object_new_array();
	const char *text;
	int i, j;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (unshare(CLONE_NEWUSER) || unshare(CLONE_NEWNET)) {
		char msg[160];

		snprintf(msg, sizeof(msg), "cannot create a user namespace for the sandbox: %s",
			 strerror(errno));
		json_object_object_add(doc, "error", json_object_new_string(msg));
		goto out;
	}
	for (i = 0; i < ng; i++) {
		struct pc_preflight_opts o = {
			.candidate = {.kind = PC_RULESET_NFT,
				      .text = candidate,
				      .name = "candidate"},
			.baseline = &base,
			.specs = g[i].specs,
			.nspecs = g[i].nspecs,
			.from = g[i].from[0] ? g[i].from : NULL,
			.to = g[i].to[0] ? g[i].to : NULL,
			.iface = iface,
			.flags = PC_PREFLIGHT_NO_BPF,
		};
		struct pc_preflight_result r = {};
		struct json_object *gj = json_object_new_object(), *ports = json_object_new_array();

		json_object_object_add(gj, "from", json_object_new_string(g[i].from));
		json_object_object_add(gj, "to", json_object_new_string(g[i].to));
		if (pc_preflight_run(&o, &r)) {
			json_object_object_add(gj, "error", json_object_new_string(r.error));
			json_object_object_add(doc, "error", json_object_new_string(r.error));
		}
		for (j = 0; j < r.nports; j++) {
			const struct pc_preflight_port *p = &r.ports[j];
			struct pc_trial_port tp = {
				.proto = p->proto, .dir = p->dir, .port = p->port};

			tp.blocked = p->verdict == PC_VERDICT_BLOCKED &&
				     p->baseline_verdict != PC_VERDICT_BLOCKED;
			tp.already_blocked = p->verdict == PC_VERDICT_BLOCKED && !tp.blocked;
			snprintf(tp.from, sizeof(tp.from), "%s", r.from);
			snprintf(tp.to, sizeof(tp.to), "%s", r.to);
			if (p->verdict == PC_VERDICT_BLOCKED)
				snprintf(tp.failure, sizeof(tp.failure), "%s",
					 pc_failure_name(p->failure));
			tp.rule = p->rule;
			json_object_array_add(ports, port_json(&tp));
		}
		pc_preflight_result_free(&r);
		json_object_object_add(gj, "ports", ports);
		json_object_array_add(groups, gj);
	}
out:
	json_object_object_add(doc, "groups", groups);
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	pc_write_all(fd, text, strlen(text)); /* a reader gone: nobody to tell */
	_exit(0);
}

int pc_trial_start(struct pc_trial *t, const char *baseline, const char *candidate,
		   const struct pc_trial_group *g, int ng, const char *iface)
{
	int p[2], err;
	pid_t pid;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->ngroups = ng;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = pc_fork_child();
	if (pid == 0) {
		close(p[0]);
		child(baseline, candidate, g, ng, iface, p[1]);
	}
	err = -errno;
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return err;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	t->pid = pid;
	t->fd = p[0];
	t->started = pc_mono_now();
	return 0;
}

int pc_trial_fd(const struct pc_trial *t)
{
	return t->pid ? t->fd : -1;
}

static void copy(char *dst, size_t len, const char *s)
{
	snprintf(dst, len, "%s", s ?: "");
}

/* One port of one group into the merged list: blocked from any client is blocked. */
static void merge_port(struct pc_trial *t, struct json_object *e)
{
	struct json_object *v, *rule;
	struct pc_trial_port p = {0}, *q;
	int i;

	p.proto = pc_proto_from_name(pc_json_str(e, "proto", NULL) ?: "tcp");
	p.dir = pc_dir_from_name(pc_json_str(e, "direction", NULL) ?: "in");
	p.port = json_object_object_get_ex(e, "port", &v) ? json_object_get_int(v) : 0;
	p.blocked = !strcmp(pc_json_str(e, "verdict", NULL) ?: "", "blocked");
	p.already_blocked =
		json_object_object_get_ex(e, "already_blocked", &v) && json_object_get_boolean(v);
	copy(p.from, sizeof(p.from), pc_json_str(e, "from", NULL));
	copy(p.to, sizeof(p.to), pc_json_str(e, "to", NULL));
	copy(p.failure, sizeof(p.failure), pc_json_str(e, "failure", NULL));
	if (json_object_object_get_ex(e, "rule", &rule) && rule) {
		p.rule.known = true;
		copy(p.rule.family, sizeof(p.rule.family), pc_json_str(rule, "family", NULL));
		copy(p.rule.table, sizeof(p.rule.table), pc_json_str(rule, "table", NULL));
		copy(p.rule.chain, sizeof(p.rule.chain), pc_json_str(rule, "chain", NULL));
		copy(p.rule.text, sizeof(p.rule.text), pc_json_str(rule, "text", NULL));
		p.rule.has_handle = json_object_object_get_ex(rule, "handle", &v) && v;
		p.rule.handle = p.rule.has_handle ? json_object_get_uint64(v) : 0;
	}
	for (i = 0; i < t->nports; i++)
		if (t->ports[i].proto == p.proto && t->ports[i].dir == p.dir &&
		    t->ports[i].port == p.port)
			break;
	if (i == t->nports) {
		q = realloc(t->ports, (t->nports + 1) * sizeof(*q));
		if (!q)
			return;
		t->ports = q;
		t->ports[t->nports++] = p;
		t->newly_blocked += p.blocked;
		return;
	}
	if (p.blocked && !t->ports[i].blocked) {
		t->ports[i] = p;
		t->newly_blocked++;
	}
}

static void finish(struct pc_trial *t)
{
	struct json_object *doc, *groups, *g, *ports;
	size_t i, j;

	waitpid(t->pid, NULL, 0);
	t->pid = 0;
	close(t->fd);
	t->fd = -1;
	t->done = true;
	doc = t->len ? json_tokener_parse(t->out) : NULL;
	if (!doc) {
		snprintf(t->error, sizeof(t->error), "the preflight ended without a result");
		return;
	}
	copy(t->error, sizeof(t->error), pc_json_str(doc, "error", NULL));
	if (json_object_object_get_ex(doc, "groups", &groups))
		for (i = 0; i < json_object_array_length(groups); i++) {
			g = json_object_array_get_idx(groups, i);
			if (!json_object_object_get_ex(g, "ports", &ports))
				continue;
			for (j = 0; j < json_object_array_length(ports); j++)
				merge_port(t, json_object_array_get_idx(ports, j));
		}
	json_object_put(doc);
}

bool pc_trial_read(struct pc_trial *t)
{
	ssize_t n;

	if (t->done)
		return true;
	if (t->fd < 0)
		return false;
	for (;;) {
		if (t->cap - t->len < 65536) {
			char *nb = realloc(t->out, t->cap * 2 + 65536);

			if (!nb)
				return false;
			t->out = nb;
			t->cap = t->cap * 2 + 65536;
		}
		n = read(t->fd, t->out + t->len, t->cap - t->len - 1);
		if (n > 0) {
			t->len += n;
			t->out[t->len] = '\0';
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return false;
		break;
	}
	finish(t);
	return true;
}

void pc_trial_free(struct pc_trial *t)
{
	/* A trial never started is all zeros: its fd is not 0 (stdin) but none. */
	if (!t->pid && !t->out && !t->ports && !t->done)
		t->fd = -1;
	if (t->pid) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
	}
	if (t->fd >= 0)
		close(t->fd);
	free(t->out);
	free(t->ports);
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}
