// SPDX-License-Identifier: GPL-2.0
/* manage.c: the control requests of change management, the operation's client, its records. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <json-c/json.h>

#include "control.h"
#include "firewall/manage.h"
#include "firewall/nft.h"
#include "log.h"
#include "report.h"

const char *pc_rollback_reason_name(enum pc_rollback_reason r)
{
	static const char *const names[PC_RB_MAX] = {"port_down", "firewall_blocks_port",
						     "requested"};

	return (unsigned int)r < PC_RB_MAX ? names[r] : "requested";
}

int pc_fwm_init(struct pc_fw_manager *m, const struct pc_fw_env *env)
{
	int err;

	memset(m, 0, sizeof(*m));
	m->env = *env;
	m->op.fd = -1;
	m->op.trial.fd = -1;
	err = pc_history_open(&m->hist, env->state_dir);
	if (err) {
		pc_warn("firewall history: cannot use %s/%s (%s): no history, rollback or "
			"revert",
			env->state_dir, PC_HISTORY_DIR, strerror(-err));
		return err;
	}
	m->hist_on = true;
	/* The revert-loop guard outlives a restart: what was reverted is in the records. */
	for (int i = 0; i < m->hist.n; i++) {
		struct json_object *v;
		const char *fp;

		if (strcmp(m->hist.recs[i].kind, "revert") ||
		    !json_object_object_get_ex(m->hist.recs[i].doc, "reverted_fingerprint", &v) ||
		    !(fp = json_object_get_string(v)))
			continue;
		snprintf(m->reverted[m->nreverted % PC_REVERT_GUARD], 17, "%s", fp);
		m->reverted_gen[m->nreverted % PC_REVERT_GUARD] = m->hist.recs[i].undid;
		m->nreverted++;
	}
	return 0;
}

struct json_object *pc_port_obj(int proto, int port, int dir)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "proto", json_object_new_string(pc_proto_name(proto)));
	json_object_object_add(o, "port", json_object_new_int(port));
	json_object_object_add(o, "direction", json_object_new_string(pc_dir_name(dir)));
	return o;
}

struct json_object *pc_op_requester(const struct pc_op *op)
{
	struct json_object *o;
	struct pc_fw_who w;

	if (op->requester)
		return json_object_get(op->requester);
	o = json_object_new_object();
	pc_who_read(&w, op->pid, NULL, "/proc", "/etc/passwd");
	json_object_object_add(o, "pid", json_object_new_int64(op->pid));
	json_object_object_add(o, "uid", json_object_new_int64(op->uid));
	json_object_object_add(o, "user", w.user[0] ? json_object_new_string(w.user) : NULL);
	json_object_object_add(o, "command",
			       w.command[0] ? json_object_new_string(w.command) : NULL);
	json_object_object_add(o, "login_uid",
			       w.login_uid >= 0 ? json_object_new_int64(w.login_uid) : NULL);
	return o;
}

void pc_op_say(struct pc_fw_manager *m, struct json_object *line)
{
	struct pc_op *op = &m->op;

	if (op->fd >= 0 && pc_control_send_line(op->fd, json_object_to_json_string_ext(
								line, JSON_C_TO_STRING_PLAIN))) {
		/* The client died or hung up: the operation is the daemon's and goes on. */
		pc_info("firewall: the %s client (pid %d) went away; the daemon carries on",
			op->kind == PC_OP_APPLY ? "apply" : "rollback", op->pid);
		close(op->fd);
		op->fd = -1;
	}
	json_object_put(line);
}

static void op_free(struct pc_op *op)
{
	if (op->fd >= 0)
		close(op->fd);
	pc_trial_free(&op->trial);
	pc_trial_groups_free(op->groups, op->ngroups);
	free(op->text);
	free(op->saved);
	free(op->candidate);
	free(op->target);
	json_object_put(op->foreign);
	json_object_put(op->preflight);
	json_object_put(op->requester);
	memset(op, 0, sizeof(*op));
	op->fd = -1;
	op->trial.fd = -1; /* never 0: that is stdin */
}

void pc_op_finish(struct pc_fw_manager *m, const char *outcome, int exit_code,
		  struct json_object *result)
{
	struct pc_op *op = &m->op;

	/* The watch ends here (not when the daemon merely stops: it resumes then). */
	if (op->kind == PC_OP_APPLY && op->state == PC_OP_WATCHING && !m->stopping)
		pc_apply_forget(m);
	if (!result)
		result = json_object_new_object();
	json_object_object_add(result, "step", json_object_new_string("result"));
	json_object_object_add(result, "outcome", json_object_new_string(outcome));
	json_object_object_add(result, "exit", json_object_new_int(exit_code));
	if (op->preflight && !json_object_object_get_ex(result, "preflight", NULL))
		json_object_object_add(result, "preflight", json_object_get(op->preflight));
	pc_op_say(m, result);
	op_free(op);
}

void pc_op_fail(struct pc_fw_manager *m, const char *fmt, ...)
{
	struct json_object *r = json_object_new_object();
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pc_warn("firewall: %s %s: %s", m->op.kind == PC_OP_APPLY ? "apply" : "rollback",
		m->op.name[0] ? m->op.name : "", msg);
	json_object_object_add(r, "error", json_object_new_string(msg));
	pc_op_finish(m, "error", 2, r);
}

void pc_fwm_annotate(struct pc_fw_manager *m, const char *kind, uint32_t undid,
		     struct json_object *extra)
{
	struct pc_annot *a;

	if (m->annot_tail - m->annot_head == sizeof(m->annot) / sizeof(m->annot[0])) {
		/* Never happens (one commit at a time): drop the oldest rather than grow. */
		json_object_put(m->annot[m->annot_head % 8].extra);
		m->annot_head++;
	}
	a = &m->annot[m->annot_tail++ % 8];
	snprintf(a->kind, sizeof(a->kind), "%s", kind);
	a->undid = undid;
	a->extra = extra;
}

int pc_fwm_groups(struct pc_fw_manager *m, struct pc_trial_group *g, int max)
{
	static struct pc_trial_input in[PC_MAX_SLOTS];
	int s, n = 0;

	for (s = 1; s < PC_MAX_SLOTS && n < PC_PREFLIGHT_MAX_PORTS; s++) {
		const struct pc_slot_info *si = &m->env.ps->slots[s];

		if (!si->used)
			continue;
		in[n] = (struct pc_trial_input){
			.proto = si->proto, .dir = si->dir, .port = si->port};
		if (si->proto == PC_PROTO_TCP && m->env.clients)
			in[n].nsrc = pc_clients_read(m->env.clients, si->dir, si->port, in[n].src,
						     PC_TRIAL_SOURCES);
		n++;
	}
	return pc_trial_groups(in, n, g, max);
}

/* An answer to a request that has no operation: one result line, then close. */
static void answer(int cfd, const char *outcome, int exit_code, const char *error)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "step", json_object_new_string("result"));
	json_object_object_add(r, "outcome", json_object_new_string(outcome));
	json_object_object_add(r, "exit", json_object_new_int(exit_code));
	if (error)
		json_object_object_add(r, "error", json_object_new_string(error));
	pc_control_send_line(cfd, json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
	json_object_put(r);
	close(cfd);
}

static void busy_answer(struct pc_fw_manager *m, int cfd)
{
	char msg[300];

	snprintf(msg, sizeof(msg),
		 "the firewall is busy: %s %s is under way (requested by pid %d); wait for it, "
		 "or end it with `portcanary firewall rollback`",
		 m->op.kind == PC_OP_APPLY ? "an apply of" : "a rollback", m->op.name, m->op.pid);
	answer(cfd, "error", 2, msg);
}

bool pc_fwm_request(struct pc_fw_manager *m, int cfd, const char *req, double wall, double mono)
{
	const char *args = strchr(req, ' ');
	size_t wlen = args ? (size_t)(args - req) : strlen(req);
	struct json_object *j = NULL;
	bool apply = wlen == 5 && !strncmp(req, "apply", 5);
	bool rollback = wlen == 8 && !strncmp(req, "rollback", 8);
	uid_t uid = (uid_t)-1;
	pid_t pid = 0;
	int err;

	(void)wall;
	if (wlen == 7 && !strncmp(req, "history", 7)) {
		struct json_object *doc;

		if (!m->hist_on) {
			pc_control_reply(cfd,
					 "{\"error\":\"no firewall history: the state dir is not "
					 "usable\"}");
			return true;
		}
		doc = pc_history_json(&m->hist);
		pc_control_reply(cfd, json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
		json_object_put(doc);
		return true;
	}
	if (!apply && !rollback)
		return false;
	/* The socket is root's (0600); the peer's credentials say it again. */
	if (pc_control_peer(cfd, &uid, &pid) || uid != 0) {
		pc_warn("firewall: %s refused: uid %d is not root", apply ? "apply" : "rollback",
			(int)uid);
		answer(cfd, "error", 2, "only root may apply or roll back firewall changes");
		return true;
	}
	j = args ? json_tokener_parse(args + 1) : json_object_new_object();
	if (!j || !json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		answer(cfd, "error", 2,
		       "a request the daemon does not understand (versions differ?)");
		return true;
	}
	if (m->op.kind != PC_OP_NONE) {
		/* A rollback while an apply is watched ends the watch by rolling it back. */
		if (rollback && m->op.kind == PC_OP_APPLY && m->op.state == PC_OP_WATCHING) {
			struct json_object *to;

			if (!json_object_object_get_ex(j, "to", &to) || !to ||
			    (uint32_t)json_object_get_int64(to) == m->op.gen) {
				json_object_put(j);
				pc_apply_requested_rollback(m, cfd, uid, pid, mono);
				return true;
			}
		}
		json_object_put(j);
		busy_answer(m, cfd);
		return true;
	}
	m->op.fd = cfd;
	m->op.uid = uid;
	m->op.pid = pid;
	m->op.kind = apply ? PC_OP_APPLY : PC_OP_ROLLBACK;
	m->op.requester = pc_op_requester(&m->op); /* now, while the client runs */
	err = apply ? pc_apply_begin(m, j, mono) : pc_rollback_begin(m, j, mono);
	json_object_put(j);
	(void)err;
	return true;
}

int pc_fwm_pollfds(const struct pc_fw_manager *m, struct pollfd *pfd, int max)
{
	const struct pc_op *op = &m->op;
	int n = 0;

	if (op->kind == PC_OP_NONE || max < 1)
		return 0;
	if (op->state == PC_OP_RECEIVING && op->fd >= 0)
		pfd[n++] = (struct pollfd){.fd = op->fd, .events = POLLIN};
	else if (op->state == PC_OP_TRIAL && pc_trial_fd(&op->trial) >= 0)
		pfd[n++] = (struct pollfd){.fd = pc_trial_fd(&op->trial), .events = POLLIN};
	return n;
}

static void receive(struct pc_fw_manager *m, double wall, double mono)
{
	struct pc_op *op = &m->op;
	ssize_t n;

	while (op->got < op->want) {
		n = recv(op->fd, op->text + op->got, op->want - op->got, MSG_DONTWAIT);
		if (n > 0) {
			op->got += n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		pc_op_fail(m,
			   "the client went away before sending the whole ruleset (%zu of %zu "
			   "bytes)",
			   op->got, op->want);
		return;
	}
	op->text[op->got] = '\0';
	pc_apply_received(m, wall, mono);
}

static void tick(struct pc_fw_manager *m, double wall, double mono)
{
	struct pc_op *op = &m->op;
	struct json_object *t;

	if (op->kind == PC_OP_NONE)
		return;
	if (op->state == PC_OP_RECEIVING) {
		if (mono > op->recv_deadline)
			pc_op_fail(m, "the ruleset did not arrive within %.0f s", PC_APPLY_RECV_S);
		else if (mono - op->last_tick >= 1.0)
			op->last_tick = mono; /* the poll timeout runs on it */
		return;
	}
	if (op->state == PC_OP_WATCHING) {
		pc_apply_tick(m, wall, mono);
		return;
	}
	if (op->state == PC_OP_TRIAL && mono - op->trial.started > PC_TRIAL_MAX_S) {
		pc_op_fail(m, "the preflight did not finish within %.0f s: nothing was changed",
			   PC_TRIAL_MAX_S);
		return;
	}
	if (op->state == PC_OP_TRIAL && mono - op->last_tick >= 1.0) {
		op->last_tick = mono;
		t = json_object_new_object();
		json_object_object_add(t, "step", json_object_new_string("tick"));
		json_object_object_add(t, "state", json_object_new_string("preflight"));
		json_object_object_add(t, "seconds", json_object_new_int(mono - op->trial.started));
		pc_op_say(m, t);
	}
}

void pc_fwm_poll(struct pc_fw_manager *m, const struct pollfd *pfd, int n, double wall, double mono)
{
	struct pc_op *op = &m->op;
	int i;

	for (i = 0; i < n && op->kind != PC_OP_NONE; i++) {
		if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (op->state == PC_OP_RECEIVING && pfd[i].fd == op->fd)
			receive(m, wall, mono);
		else if (op->state == PC_OP_TRIAL && pfd[i].fd == pc_trial_fd(&op->trial) &&
			 pc_trial_read(&op->trial)) {
			if (op->kind == PC_OP_APPLY)
				pc_apply_trial_done(m, wall, mono);
			else
				pc_rollback_trial_done(m, wall, mono);
		}
	}
	tick(m, wall, mono);
}

int pc_fwm_timeout_ms(const struct pc_fw_manager *m, double mono)
{
	double next;

	if (m->op.kind == PC_OP_NONE)
		return -1;
	next = m->op.last_tick + 1.0 - mono;
	if (m->op.state == PC_OP_WATCHING && m->op.deadline_mono > mono &&
	    m->op.deadline_mono - mono < next)
		next = m->op.deadline_mono - mono;
	return next <= 0 ? 0 : (int)(next * 1000) + 1;
}

void pc_fwm_alert(void *ctx, const struct pc_alert *a, const struct pc_fw_block_alert *b,
		  double mono)
{
	struct pc_fw_manager *m = ctx;

	if (m->op.kind == PC_OP_APPLY && m->op.state == PC_OP_WATCHING)
		pc_apply_alert(m, a, b, mono);
	if (m->env.revert_blocking && *m->env.revert_blocking)
		pc_revert_alert(m, a, b, mono);
}

struct json_object *pc_fwm_changed(struct pc_fw_manager *m, struct pc_fw_change *c,
				   const struct pc_fw_diff *d, const char *before,
				   const char *after)
{
	struct json_object *extra = NULL, *ev = NULL;
	const char *kind = "change";
	char kbuf[16];

	if (c->vetted && m->annot_head != m->annot_tail) {
		struct pc_annot *a = &m->annot[m->annot_head++ % 8];

		snprintf(kbuf, sizeof(kbuf), "%s", a->kind);
		kind = kbuf;
		extra = a->extra ?: json_object_new_object();
		if (a->undid)
			json_object_object_add(extra, "undid", json_object_new_int64(a->undid));
		/* The apply's generation, as the kernel numbered it. */
		if (!strcmp(kind, "apply") && m->op.kind == PC_OP_APPLY)
			m->op.gen = c->generation;
	} else if (!c->vetted && m->op.kind == PC_OP_APPLY && m->op.state == PC_OP_WATCHING) {
		pc_apply_foreign(m, c);
	}
	if (extra) {
		/* The event says it too: what the daemon did, for whom. */
		ev = json_object_new_object();
		json_object_object_add(ev, "kind", json_object_new_string(kind));
		json_object_object_foreach(extra, k, v)
		{
			json_object_object_add(ev, k, json_object_get(v));
		}
	}
	if (m->hist_on)
		pc_history_add(&m->hist, c, d, before, after, kind, extra);
	else
		json_object_put(extra);
	return ev;
}

void pc_fwm_check_offline(struct pc_fw_manager *m, struct pc_fw_changes *ch, double wall,
			  double mono)
{
	const struct pc_history_rec *last = m->hist_on ? pc_history_find(&m->hist, 0) : NULL;
	struct pc_nft_listing was;
	struct pc_fw_diff *d;
	struct pc_fw_change c = {.time = wall, .source = PC_FW_NFTABLES, .resolved = true};
	char *text;

	if (!last || !last->after[0] || !ch->have_last)
		return;
	text = pc_history_ruleset(&m->hist, last->after);
	d = calloc(1, sizeof(*d));
	if (!text || !d || pc_nft_listing_parse(text, &was)) {
		free(text);
		free(d);
		return;
	}
	if (!pc_fw_diff(&was, &ch->parsed, d)) {
		if (d->added_total + d->removed_total) {
			struct json_object *o, *extra = json_object_new_object();
			char line[600];

			c.generation = ch->last.generation;
			c.by.uid = c.by.login_uid = -1;
			snprintf(c.summary, sizeof(c.summary), "%s", d->summary);
			c.added_total = d->added_total;
			c.removed_total = d->removed_total;
			snprintf(line, sizeof(line),
				 "firewall: the ruleset changed while portcanary was not running "
				 "(now generation %u): %s",
				 c.generation, c.summary);
			o = pc_fw_change_json(&c, d);
			json_object_object_add(o, "offline", json_object_new_boolean(true));
			pc_alerts_emit_event(m->env.alerts, PC_LOG_WARN, line, o, NULL, mono);
			json_object_put(o);
			json_object_object_add(extra, "offline", json_object_new_boolean(true));
			pc_history_add(&m->hist, &c, d, text, ch->last.full, "offline", extra);
		}
		pc_fw_diff_free(d);
	}
	pc_nft_listing_free(&was);
	free(d);
	free(text);
}

struct json_object *pc_fwm_status_json(const struct pc_fw_manager *m, double mono)
{
	static const char *const states[] = {"receiving", "preflight", "watching"};
	const struct pc_op *op = &m->op;
	struct json_object *o;

	if (op->kind == PC_OP_NONE)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(
		o, "kind", json_object_new_string(op->kind == PC_OP_APPLY ? "apply" : "rollback"));
	json_object_object_add(o, "state", json_object_new_string(states[op->state]));
	json_object_object_add(o, "file", json_object_new_string(op->name));
	json_object_object_add(o, "generation",
			       op->state == PC_OP_WATCHING ? json_object_new_int64(op->gen) : NULL);
	json_object_object_add(
		o, "seconds_left",
		op->state == PC_OP_WATCHING
			? json_object_new_int(op->deadline_mono > mono
						      ? (int)(op->deadline_mono - mono + 0.999)
						      : 0)
			: NULL);
	json_object_object_add(o, "requested_by",
			       op->requester ? json_object_get(op->requester) : NULL);
	return o;
}

void pc_fwm_stop(struct pc_fw_manager *m)
{
	m->stopping = true;
	if (m->op.kind != PC_OP_NONE && m->op.state == PC_OP_WATCHING)
		pc_op_fail(m,
			   "the daemon is stopping: generation %u stays in place; a daemon started "
			   "again within the window watches the rest of it",
			   m->op.gen);
	else if (m->op.kind != PC_OP_NONE)
		pc_op_fail(m, "the daemon is stopping: nothing was changed");
	for (; m->annot_head != m->annot_tail; m->annot_head++)
		json_object_put(m->annot[m->annot_head % 8].extra);
	if (m->hist_on)
		pc_history_close(&m->hist);
}
