// SPDX-License-Identifier: GPL-2.0
/* apply.c: `portcanary apply`: check, preflight, save, commit in one transaction, watch, roll back. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "control.h"
#include "firewall/manage.h"
#include "firewall/nft.h"
#include "log.h"
#include "report.h"

/* Is the character at p the start of a word (not part of a longer name)? */
static bool word_at(const char *text, const char *p, const char *w)
{
	size_t n = strlen(w);
	char after = p[n];

	if (strncmp(p, w, n))
		return false;
	if (p > text && (p[-1] == '_' || p[-1] == '-' || (p[-1] >= 'a' && p[-1] <= 'z') ||
			 (p[-1] >= 'A' && p[-1] <= 'Z') || (p[-1] >= '0' && p[-1] <= '9')))
		return false;
	return after == ' ' || after == '\t' || after == '\n' || after == '"' || after == '\0';
}

int pc_apply_text_check(const char *text, char *err, size_t errlen)
{
	const char *p;
	bool comment = false, quoted = false, start = true;
	int depth = 0, line = 1;

	for (p = text; *p; p++) {
		if (*p == '\n') {
			line++;
			comment = false;
			start = true;
			continue;
		}
		if (comment)
			continue;
		if (quoted) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				quoted = false;
			continue;
		}
		switch (*p) {
		case '#':
			comment = true;
			continue;
		case '"':
			quoted = true;
			start = false;
			continue;
		case ';':
			start = true;
			continue;
		case '{':
			depth++;
			start = true;
			continue;
		case '}':
			depth--;
			continue;
		case ' ':
		case '\t':
		case '\r':
			continue;
		}
		/* The daemon never opens a path it is given, and never blocks on a command. */
		if (word_at(text, p, "include")) {
			snprintf(err, errlen,
				 "line %d: `include` is not accepted: the daemon opens no file it "
				 "is "
				 "given; put the included rules in the file itself",
				 line);
			return -EINVAL;
		}
		if (start && depth == 0 && word_at(text, p, "monitor")) {
			snprintf(err, errlen, "line %d: `monitor` is not a change: leave it out",
				 line);
			return -EINVAL;
		}
		start = false;
	}
	return 0;
}

int pc_apply_begin(struct pc_fw_manager *m, struct json_object *req, double mono)
{
	struct pc_op *op = &m->op;
	struct json_object *v;
	int64_t bytes = 0;

	op->confirm_s = PC_APPLY_DEFAULT_CONFIRM;
	if (json_object_object_get_ex(req, "bytes", &v))
		bytes = json_object_get_int64(v);
	if (json_object_object_get_ex(req, "confirm", &v))
		op->confirm_s = json_object_get_double(v);
	op->force = json_object_object_get_ex(req, "force", &v) && json_object_get_boolean(v);
	snprintf(op->name, sizeof(op->name), "%s",
		 json_object_object_get_ex(req, "name", &v) ? json_object_get_string(v) : "-");
	if (bytes <= 0 || bytes > PC_APPLY_MAX_BYTES) {
		pc_op_fail(m, "the ruleset must be 1 byte to %u KiB (got %lld bytes)",
			   PC_APPLY_MAX_BYTES >> 10, (long long)bytes);
		return -EINVAL;
	}
	if (!(op->confirm_s > 0 && op->confirm_s <= PC_APPLY_MAX_CONFIRM)) {
		pc_op_fail(m, "--confirm must be 1 to %.0f seconds", PC_APPLY_MAX_CONFIRM);
		return -EINVAL;
	}
	op->want = bytes;
	op->text = malloc(bytes + 1);
	if (!op->text) {
		pc_op_fail(m, "out of memory");
		return -ENOMEM;
	}
	op->state = PC_OP_RECEIVING;
	op->recv_deadline = mono + PC_APPLY_RECV_S;
	op->last_tick = mono;
	return 0;
}

static struct json_object *step(const char *name)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "step", json_object_new_string(name));
	return o;
}

static struct json_object *groups_json(const struct pc_trial_group *g, int n)
{
	struct json_object *arr = json_object_new_array();
	int i;

	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "from",
				       g[i].from[0] ? json_object_new_string(g[i].from) : NULL);
		json_object_object_add(o, "to",
				       g[i].to[0] ? json_object_new_string(g[i].to) : NULL);
		json_object_object_add(o, "ports", json_object_new_int(g[i].nspecs));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* Save the live ruleset and make sure it can be put back: without that, no change. */
int pc_op_save_live(struct pc_fw_manager *m)
{
	struct pc_op *op = &m->op;
	char err[2048], *restore;
	int e;

	op->saved = pc_nft_list(0);
	if (!op->saved || pc_nft_genid(&op->saved_gen)) {
		pc_op_fail(m, "cannot read the live ruleset: %s", strerror(errno));
		return -EIO;
	}
	restore = pc_nft_restore_text(op->saved);
	e = restore ? pc_nft_run(restore, true, err, sizeof(err)) : -ENOMEM;
	free(restore);
	if (e) {
		pc_op_fail(m,
			   "the live ruleset cannot be restored from its own listing, so a "
			   "rollback would be impossible; nothing was changed (nft: %s)",
			   err);
		return e;
	}
	return 0;
}

/* Start the trial of op->candidate against op->saved for every monitored port. */
int pc_op_start_trial(struct pc_fw_manager *m, double mono)
{
	struct pc_op *op = &m->op;
	struct json_object *s;
	int err;

	op->ngroups = pc_fwm_groups(m, op->groups, PC_TRIAL_MAX_GROUPS);
	if (op->ngroups < 0) {
		op->ngroups = 0;
		pc_op_fail(m, "out of memory");
		return -ENOMEM;
	}
	s = step("preflight");
	json_object_object_add(s, "ports", json_object_new_int(m->env.ps->nused));
	json_object_object_add(s, "groups", groups_json(op->groups, op->ngroups));
	pc_op_say(m, s);
	if (!op->ngroups) {
		op->trial.done = true; /* nothing monitored: nothing to try */
		return 1;
	}
	err = pc_trial_start(&op->trial, op->saved, op->candidate, op->groups, op->ngroups,
			     m->env.iface);
	if (err) {
		pc_op_fail(m, "cannot start the preflight: %s", strerror(-err));
		return err;
	}
	op->state = PC_OP_TRIAL;
	op->last_tick = mono;
	return 0;
}

void pc_apply_received(struct pc_fw_manager *m, double wall, double mono)
{
	struct pc_op *op = &m->op;
	char err[2048];
	struct json_object *s;
	size_t n;
	int r;

	if (strlen(op->text) != op->got) {
		pc_op_fail(m, "%s holds a NUL byte: it is not nft text", op->name);
		return;
	}
	if (pc_apply_text_check(op->text, err, sizeof(err))) {
		pc_op_fail(m, "%s: %s", op->name, err);
		return;
	}
	s = step("received");
	json_object_object_add(s, "bytes", json_object_new_uint64(op->got));
	pc_op_say(m, s);
	/* Does it load here at all, as `nft -c -f` would tell? */
	if (pc_nft_run(op->text, true, err, sizeof(err))) {
		struct json_object *res = json_object_new_object();
		char msg[2300];

		snprintf(msg, sizeof(msg), "%s does not load (nft says):\n%s", op->name, err);
		pc_warn("firewall: apply of %s refused: it does not load", op->name);
		json_object_object_add(res, "error", json_object_new_string(msg));
		json_object_object_add(res, "nft_error", json_object_new_string(err));
		pc_op_finish(m, "error", 2, res);
		return;
	}
	pc_op_say(m, step("loads"));
	if (pc_op_save_live(m))
		return;
	n = strlen(op->saved) + op->got + 2;
	op->candidate = malloc(n);
	if (!op->candidate) {
		pc_op_fail(m, "out of memory");
		return;
	}
	/* The sandbox starts empty: the live ruleset, then the file, as nft -f on the host. */
	snprintf(op->candidate, n, "%s\n%s", op->saved, op->text);
	r = pc_op_start_trial(m, mono);
	if (r == 1)
		pc_apply_trial_done(m, wall, mono);
}

static bool accepted(const struct pc_op *op, int proto, int port, int dir)
{
	int i;

	for (i = 0; i < op->naccepted; i++)
		if (op->accepted[i].proto == proto && op->accepted[i].first == port &&
		    op->accepted[i].dir == dir)
			return true;
	return false;
}

static struct json_object *blocked_lines(const struct pc_trial *t)
{
	struct json_object *arr = json_object_new_array();
	char line[1024];
	int i;

	for (i = 0; i < t->nports; i++) {
		if (!t->ports[i].blocked)
			continue;
		pc_trial_port_line(&t->ports[i], line, sizeof(line));
		json_object_array_add(arr, json_object_new_string(line));
	}
	return arr;
}

static struct json_object *watched_json(const struct pc_fw_manager *m)
{
	struct json_object *arr = json_object_new_array();
	int s;

	for (s = 1; s < PC_MAX_SLOTS; s++) {
		const struct pc_slot_info *si = &m->env.ps->slots[s];

		if (si->used && !accepted(&m->op, si->proto, si->port, si->dir))
			json_object_array_add(arr, pc_port_obj(si->proto, si->port, si->dir));
	}
	return arr;
}

static void commit(struct pc_fw_manager *m, double wall, double mono)
{
	struct pc_op *op = &m->op;
	struct json_object *s, *extra;
	uint32_t now;
	char err[2048];

	if (pc_nft_genid(&now) || now != op->saved_gen) {
		pc_op_fail(m,
			   "the ruleset changed during the preflight (generation %u, now %u): "
			   "nothing was applied; try again",
			   op->saved_gen, now);
		return;
	}
	if (pc_nft_run(op->text, false, err, sizeof(err))) {
		pc_op_fail(m, "nft refused %s (nothing was applied):\n%s", op->name, err);
		return;
	}
	/* Ours unless another commit slipped in: corrected when our own commit is heard. */
	op->gen = pc_nft_genid(&now) ? op->saved_gen + 1 : now;
	extra = json_object_new_object();
	json_object_object_add(extra, "file", json_object_new_string(op->name));
	json_object_object_add(extra, "bytes", json_object_new_uint64(op->got));
	json_object_object_add(extra, "confirm", json_object_new_double(op->confirm_s));
	json_object_object_add(extra, "forced", json_object_new_boolean(op->naccepted > 0));
	json_object_object_add(extra, "requested_by", pc_op_requester(op));
	pc_fwm_annotate(m, "apply", 0, extra);
	op->applied_wall = wall;
	op->deadline_mono = mono + op->confirm_s;
	op->grace_until = op->deadline_mono + PC_APPLY_CHECK_GRACE_S;
	op->state = PC_OP_WATCHING;
	op->last_tick = mono;
	op->foreign = json_object_new_array();
	pc_apply_persist(m, wall);
	s = step("applied");
	json_object_object_add(s, "generation", json_object_new_int64(op->gen));
	json_object_object_add(s, "previous_generation", json_object_new_int64(op->saved_gen));
	pc_op_say(m, s);
	s = step("watching");
	json_object_object_add(s, "seconds", json_object_new_double(op->confirm_s));
	json_object_object_add(s, "ports", watched_json(m));
	pc_op_say(m, s);
	pc_info("firewall: apply of %s (pid %d) committed as generation %u (was %u) in one "
		"transaction; watching %d port%s for %.0f s",
		op->name, op->pid, op->gen, op->saved_gen, m->env.ps->nused,
		m->env.ps->nused == 1 ? "" : "s", op->confirm_s);
}

void pc_apply_trial_done(struct pc_fw_manager *m, double wall, double mono)
{
	struct pc_op *op = &m->op;
	struct pc_trial *t = &op->trial;
	struct json_object *s;
	int i;

	op->preflight = pc_trial_json(t);
	s = step("preflight_done");
	json_object_object_add(s, "preflight", json_object_get(op->preflight));
	pc_op_say(m, s);
	if (t->error[0] && !op->force) {
		pc_op_fail(m,
			   "the preflight could not try %s: %s (nothing was applied; --force "
			   "applies it untried)",
			   op->name, t->error);
		return;
	}
	if (t->newly_blocked && !op->force) {
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "blocked", blocked_lines(t));
		pc_warn("firewall: apply of %s refused: it blocks %d monitored port%s", op->name,
			t->newly_blocked, t->newly_blocked == 1 ? "" : "s");
		pc_op_finish(m, "refused", 1, r);
		return;
	}
	/* --force: the ports it blocks are meant to be blocked; the others are watched. */
	for (i = 0; i < t->nports && op->naccepted < 64; i++)
		if (t->ports[i].blocked)
			op->accepted[op->naccepted++] =
				(struct pc_portspec){.proto = t->ports[i].proto,
						     .dir = t->ports[i].dir,
						     .first = t->ports[i].port,
						     .last = t->ports[i].port};
	commit(m, wall, mono);
}

/* The rules the change added (from its record), to name it when it is rolled back. */
static struct json_object *change_added(struct pc_fw_manager *m, uint32_t gen)
{
	const struct pc_history_rec *r = m->hist_on ? pc_history_find(&m->hist, gen) : NULL;
	struct json_object *arr;

	if (r && json_object_object_get_ex(r->doc, "added", &arr))
		return json_object_get(arr);
	return json_object_new_array();
}

/* Roll the apply back to the saved ruleset; the apply client's result. */
static void roll_back(struct pc_fw_manager *m, enum pc_rollback_reason why,
		      struct json_object *port, double mono)
{
	struct pc_op *op = &m->op;
	struct json_object *undid = json_object_new_array(), *u, *res, *ports;
	uint32_t gen = 0;
	size_t i;
	int err;

	u = json_object_new_object();
	json_object_object_add(u, "generation", json_object_new_int64(op->gen));
	json_object_object_add(u, "kind", json_object_new_string("apply"));
	json_object_object_add(u, "file", json_object_new_string(op->name));
	json_object_array_add(undid, u);
	for (i = 0; i < json_object_array_length(op->foreign); i++)
		json_object_array_add(undid,
				      json_object_get(json_object_array_get_idx(op->foreign, i)));
	ports = json_object_new_array();
	if (port)
		json_object_array_add(ports, json_object_get(port));
	err = pc_fw_restore(m, op->saved, why, "rollback", op->gen, op->saved_gen, ports,
			    json_object_get(undid), &gen, mono);
	res = json_object_new_object();
	json_object_object_add(res, "reason", json_object_new_string(pc_rollback_reason_name(why)));
	json_object_object_add(res, "port", port);
	json_object_object_add(res, "generation", json_object_new_int64(op->gen));
	json_object_object_add(res, "change_added", change_added(m, op->gen));
	json_object_object_add(res, "undid", undid);
	if (err) {
		json_object_object_add(
			res, "error",
			json_object_new_string("the rollback failed: the change is "
					       "still in place (see the daemon log)"));
		pc_op_finish(m, "error", 2, res);
		return;
	}
	json_object_object_add(res, "to_generation", json_object_new_int64(gen));
	json_object_object_add(res, "restored_generation", json_object_new_int64(op->saved_gen));
	pc_op_finish(m, "rolled_back", 1, res);
}

void pc_apply_tick(struct pc_fw_manager *m, double wall, double mono)
{
	struct pc_op *op = &m->op;
	struct json_object *s;

	(void)wall;
	if (mono >= op->deadline_mono) {
		/* Not kept before the change's own ruleset check has spoken. */
		if (m->env.check_busy && m->env.check_busy(m->env.ctx) && mono < op->grace_until) {
			op->last_tick = mono; /* look again in a second */
			if (!op->check_wait_said) {
				op->check_wait_said = true;
				s = step("waiting");
				json_object_object_add(
					s, "why",
					json_object_new_string(
						"the ruleset check of this change is "
						"still running"));
				pc_op_say(m, s);
			}
			return;
		}
		s = json_object_new_object();
		json_object_object_add(s, "generation", json_object_new_int64(op->gen));
		json_object_object_add(s, "previous_generation",
				       json_object_new_int64(op->saved_gen));
		json_object_object_add(s, "seconds", json_object_new_double(op->confirm_s));
		json_object_object_add(s, "watched", watched_json(m));
		json_object_object_add(s, "foreign", json_object_get(op->foreign));
		pc_info("firewall: apply of %s kept: generation %u, no monitored port hurt in %.0f "
			"s",
			op->name, op->gen, op->confirm_s);
		pc_op_finish(m, "kept", 0, s);
		return;
	}
	if (mono - op->last_tick < 1.0)
		return;
	op->last_tick = mono;
	s = step("tick");
	json_object_object_add(s, "state", json_object_new_string("watching"));
	json_object_object_add(s, "left", json_object_new_int((int)ceil(op->deadline_mono - mono)));
	pc_op_say(m, s);
}

/* The port of an alert with what was seen: state, cause, detail, rule. */
struct json_object *pc_alert_port(const struct pc_alert *a, const struct pc_fw_block_alert *b)
{
	struct pc_rule_ref r;
	struct json_object *p;

	if (a) {
		p = pc_port_obj(a->proto, a->port, a->dir);
		json_object_object_add(p, "event", json_object_new_string(a->event));
		json_object_object_add(p, "state", json_object_new_string(a->state));
		json_object_object_add(p, "cause", json_object_new_string(a->cause ?: ""));
		json_object_object_add(p, "detail", json_object_new_string(a->detail ?: ""));
		json_object_object_add(p, "rule", NULL);
		return p;
	}
	r = (struct pc_rule_ref){
		.known = b->rule_known, .has_handle = b->has_handle, .handle = b->handle};
	snprintf(r.family, sizeof(r.family), "%s", b->family ?: "");
	snprintf(r.table, sizeof(r.table), "%s", b->table ?: "");
	snprintf(r.chain, sizeof(r.chain), "%s", b->chain ?: "");
	snprintf(r.text, sizeof(r.text), "%s", b->text ?: "");
	p = pc_port_obj(b->proto, b->port, b->dir);
	json_object_object_add(p, "event", json_object_new_string("firewall_blocks_port"));
	json_object_object_add(p, "cause", json_object_new_string("netfilter_drop"));
	json_object_object_add(p, "rule", pc_rule_ref_json(&r));
	return p;
}

void pc_apply_alert(struct pc_fw_manager *m, const struct pc_alert *a,
		    const struct pc_fw_block_alert *b, double mono)
{
	struct pc_op *op = &m->op;

	if (a) {
		if ((strcmp(a->event, "port_down") && strcmp(a->event, "port_degraded")) ||
		    !a->cause || strcmp(a->cause, "netfilter_drop") || a->time < op->applied_wall ||
		    accepted(op, a->proto, a->port, a->dir))
			return;
		pc_warn("firewall: apply of %s: %s/%u:%s went %s (netfilter_drop) %.1f s after "
			"generation %u: rolling back",
			op->name, pc_proto_name(a->proto), a->port, pc_dir_name(a->dir), a->state,
			a->time - op->applied_wall, op->gen);
		roll_back(m, PC_RB_PORT_DOWN, pc_alert_port(a, NULL), mono);
		return;
	}
	if (!b->firewall || b->firewall->generation != op->gen ||
	    accepted(op, b->proto, b->port, b->dir))
		return;
	pc_warn("firewall: apply of %s: generation %u blocks %s/%u:%s: rolling back", op->name,
		op->gen, pc_proto_name(b->proto), b->port, pc_dir_name(b->dir));
	roll_back(m, PC_RB_BLOCKS_PORT, pc_alert_port(NULL, b), mono);
}

void pc_apply_foreign(struct pc_fw_manager *m, const struct pc_fw_change *c)
{
	struct pc_op *op = &m->op;
	struct json_object *f = json_object_new_object(), *s;
	char who[700];

	if (c->generation && c->generation <= op->gen)
		return;
	json_object_object_add(f, "generation", json_object_new_int64(c->generation));
	json_object_object_add(f, "by", pc_who_json(&c->by));
	json_object_object_add(f, "summary", json_object_new_string(c->summary));
	json_object_array_add(op->foreign, json_object_get(f));
	s = step("foreign_change");
	json_object_object_add(s, "change", f);
	pc_op_say(m, s);
	pc_who_line(&c->by, who, sizeof(who));
	pc_warn("firewall: generation %u by %s changed the ruleset while the apply of %s is "
		"watched: a rollback now restores generation %u and undoes it too",
		c->generation, who, op->name, op->saved_gen);
}

#define PC_APPLY_PENDING "apply-pending.json"
#define PC_APPLY_SAVED	 "apply-saved.nft"

static void pending_path(const struct pc_fw_manager *m, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", m->hist.dir, name);
}

void pc_apply_persist(struct pc_fw_manager *m, double wall)
{
	struct pc_op *op = &m->op;
	struct json_object *o;
	char path[400];
	const char *text;

	if (!m->hist_on)
		return;
	pending_path(m, PC_APPLY_SAVED, path, sizeof(path));
	if (pc_write_file_atomic(path, op->saved, strlen(op->saved)))
		return;
	o = json_object_new_object();
	json_object_object_add(o, "file", json_object_new_string(op->name));
	json_object_object_add(o, "generation", json_object_new_int64(op->gen));
	json_object_object_add(o, "saved_generation", json_object_new_int64(op->saved_gen));
	json_object_object_add(o, "deadline", json_object_new_double(wall + op->confirm_s));
	json_object_object_add(o, "confirm", json_object_new_double(op->confirm_s));
	json_object_object_add(o, "requested_by", pc_op_requester(op));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	pending_path(m, PC_APPLY_PENDING, path, sizeof(path));
	if (pc_write_file_atomic(path, text, strlen(text)))
		pc_warn("firewall: cannot note the apply's window in %s: a restarted daemon would "
			"not resume it",
			path);
	json_object_put(o);
}

void pc_apply_forget(struct pc_fw_manager *m)
{
	char path[400];

	if (!m->hist_on)
		return;
	pending_path(m, PC_APPLY_PENDING, path, sizeof(path));
	unlink(path);
	pending_path(m, PC_APPLY_SAVED, path, sizeof(path));
	unlink(path);
}

void pc_fwm_resume(struct pc_fw_manager *m, double wall, double mono)
{
	struct pc_op *op = &m->op;
	struct json_object *o, *v;
	char path[400], *text, *saved;
	uint32_t gen, now = 0;
	double left;

	if (!m->hist_on || op->kind != PC_OP_NONE)
		return;
	pending_path(m, PC_APPLY_PENDING, path, sizeof(path));
	text = pc_read_file(path, NULL);
	if (!text)
		return;
	o = json_tokener_parse(text);
	free(text);
	pending_path(m, PC_APPLY_SAVED, path, sizeof(path));
	saved = pc_read_file(path, NULL);
	gen = o && json_object_object_get_ex(o, "generation", &v) ? json_object_get_int64(v) : 0;
	left = (o && json_object_object_get_ex(o, "deadline", &v) ? json_object_get_double(v) : 0) -
	       wall;
	pc_nft_genid(&now);
	if (!o || !saved || !gen || now != gen || left <= 0) {
		pc_warn("firewall: the apply of %s (generation %u) was not watched to the end: the "
			"daemon stopped during its window; %s",
			o && json_object_object_get_ex(o, "file", &v) ? json_object_get_string(v)
								      : "?",
			gen,
			left <= 0 ? "the window is over: the change stays"
				  : "the ruleset changed since: nothing is rolled back");
		json_object_put(o);
		free(saved);
		pc_apply_forget(m);
		return;
	}
	op->kind = PC_OP_APPLY;
	op->state = PC_OP_WATCHING;
	op->fd = -1;
	snprintf(op->name, sizeof(op->name), "%s",
		 json_object_object_get_ex(o, "file", &v) ? json_object_get_string(v) : "?");
	op->saved = saved;
	op->saved_gen = json_object_object_get_ex(o, "saved_generation", &v)
				? json_object_get_int64(v)
				: gen - 1;
	op->gen = gen;
	op->confirm_s =
		json_object_object_get_ex(o, "confirm", &v) ? json_object_get_double(v) : left;
	op->requester =
		json_object_object_get_ex(o, "requested_by", &v) ? json_object_get(v) : NULL;
	op->applied_wall = wall; /* what happened while no daemon watched is not known */
	op->deadline_mono = mono + left;
	op->grace_until = op->deadline_mono + PC_APPLY_CHECK_GRACE_S;
	op->last_tick = mono;
	op->foreign = json_object_new_array();
	json_object_put(o);
	pc_warn("firewall: resuming the watch of the apply of %s (generation %u): %.0f s left (the "
		"daemon stopped during its window)",
		op->name, gen, left);
}

void pc_apply_requested_rollback(struct pc_fw_manager *m, int cfd, uid_t uid, pid_t pid,
				 double mono)
{
	struct json_object *r;
	uint32_t gen = m->op.gen;

	pc_info("firewall: rollback of the watched apply of %s requested by pid %d (uid %d)",
		m->op.name, pid, (int)uid);
	roll_back(m, PC_RB_REQUESTED, NULL, mono);
	r = json_object_new_object();
	json_object_object_add(r, "step", json_object_new_string("result"));
	json_object_object_add(r, "outcome", json_object_new_string("rolled_back"));
	json_object_object_add(r, "exit", json_object_new_int(0));
	json_object_object_add(r, "undid", json_object_new_int64(gen));
	json_object_object_add(r, "to_generation", json_object_new_int64(m->last_restore_gen));
	pc_control_send_line(cfd, json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
	json_object_put(r);
	close(cfd);
}
