// SPDX-License-Identifier: GPL-2.0
/* rollback.c: a saved ruleset restored in one transaction: on request, and for unvetted changes
 * that block a monitored port (--revert-blocking-changes), never in a loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "firewall/manage.h"
#include "firewall/nft.h"
#include "log.h"
#include "report.h"

int pc_fw_restore(struct pc_fw_manager *m, const char *listing, enum pc_rollback_reason why,
		  const char *kind, uint32_t undid_gen, uint32_t restored_gen,
		  struct json_object *ports, struct json_object *undid, uint32_t *gen, double mono)
{
	char err[2048], line[1024], ts[40], reason[64], from_s[48], to_s[48];
	const char *env[] = {"PORTCANARY_EVENT=firewall_rollback", reason, from_s, to_s, NULL};
	struct json_object *o, *extra;
	char *text = pc_nft_restore_text(listing);
	uint32_t from = 0;
	size_t i, n = 0;
	int e;

	pc_nft_genid(&from);
	e = text ? pc_nft_run(text, false, err, sizeof(err)) : -ENOMEM;
	free(text);
	if (e) {
		pc_err("firewall: ROLLBACK FAILED: generation %u could not be rolled back to the "
		       "ruleset of generation %u, which stays in place: %s",
		       from, restored_gen, e == -ENOMEM ? "out of memory" : err);
		json_object_put(ports);
		json_object_put(undid);
		return e;
	}
	if (pc_nft_genid(gen))
		*gen = from + 1;
	m->last_restore_gen = *gen;
	m->rollbacks[why]++;
	extra = json_object_new_object();
	json_object_object_add(extra, "reason",
			       json_object_new_string(pc_rollback_reason_name(why)));
	json_object_object_add(extra, "restored_generation", json_object_new_int64(restored_gen));
	/* A revert is the daemon's own decision; a rollback is somebody's request. */
	if (m->op.kind != PC_OP_NONE && strcmp(kind, "revert"))
		json_object_object_add(extra, "requested_by", pc_op_requester(&m->op));
	pc_fwm_annotate(m, kind, undid_gen, extra);

	o = json_object_new_object();
	pc_format_time(pc_wall_now(), ts, sizeof(ts));
	json_object_object_add(o, "time", json_object_new_string(ts));
	json_object_object_add(o, "event", json_object_new_string("firewall_rollback"));
	json_object_object_add(o, "reason", json_object_new_string(pc_rollback_reason_name(why)));
	json_object_object_add(o, "from_generation", json_object_new_int64(from));
	json_object_object_add(o, "to_generation", json_object_new_int64(*gen));
	json_object_object_add(o, "ports", ports);
	json_object_object_add(o, "kind", json_object_new_string(kind));
	json_object_object_add(o, "undid_generation", json_object_new_int64(undid_gen));
	json_object_object_add(o, "restored_generation", json_object_new_int64(restored_gen));
	json_object_object_add(o, "undid", undid);
	n = snprintf(
		line, sizeof(line),
		"firewall: ROLLED BACK (%s, %s) generation %u to the ruleset of generation %u, "
		"in one transaction, as generation %u",
		kind, pc_rollback_reason_name(why), undid_gen, restored_gen, *gen);
	for (i = 0; i < json_object_array_length(ports) && n < sizeof(line); i++) {
		struct json_object *p = json_object_array_get_idx(ports, i), *v;

		n += snprintf(
			line + n, sizeof(line) - n, "%s%s/%d:%s", i ? ", " : ": ",
			json_object_object_get_ex(p, "proto", &v) ? json_object_get_string(v) : "?",
			json_object_object_get_ex(p, "port", &v) ? json_object_get_int(v) : 0,
			json_object_object_get_ex(p, "direction", &v) ? json_object_get_string(v)
								      : "?");
	}
	snprintf(reason, sizeof(reason), "PORTCANARY_REASON=%s", pc_rollback_reason_name(why));
	snprintf(from_s, sizeof(from_s), "PORTCANARY_FROM_GENERATION=%u", from);
	snprintf(to_s, sizeof(to_s), "PORTCANARY_TO_GENERATION=%u", *gen);
	pc_alerts_emit_event(m->env.alerts, PC_LOG_WARN, line, o, env, mono);
	json_object_put(o);
	return 0;
}

int pc_rollback_begin(struct pc_fw_manager *m, struct json_object *req, double mono)
{
	struct pc_op *op = &m->op;
	const struct pc_history_rec *rec;
	struct json_object *v, *s;
	char err[2048], *restore;
	int e;

	op->force = json_object_object_get_ex(req, "force", &v) && json_object_get_boolean(v);
	op->to_gen = json_object_object_get_ex(req, "to", &v) && v ? json_object_get_int64(v) : 0;
	snprintf(op->name, sizeof(op->name), "to before generation %u", op->to_gen);
	op->last_tick = mono;
	if (!m->hist_on) {
		pc_op_fail(m, "no firewall history in the state dir: nothing to roll back to");
		return -ENOENT;
	}
	rec = pc_history_find(&m->hist, op->to_gen);
	if (!rec) {
		pc_op_fail(m,
			   op->to_gen ? "no change with generation %u in the history (see "
					"`portcanary firewall history`)"
				      : "the history is empty: no change to roll back%.0u",
			   op->to_gen);
		return -ENOENT;
	}
	op->undo_gen = rec->generation;
	snprintf(op->name, sizeof(op->name), "to before generation %u", op->undo_gen);
	op->target = rec->before[0] ? pc_history_ruleset(&m->hist, rec->before) : NULL;
	if (!op->target) {
		pc_op_fail(m, "the history has no ruleset from before generation %u", op->undo_gen);
		return -ENOENT;
	}
	restore = pc_nft_restore_text(op->target);
	e = restore ? pc_nft_run(restore, true, err, sizeof(err)) : -ENOMEM;
	free(restore);
	if (e) {
		pc_op_fail(m, "the ruleset from before generation %u does not load now (nft: %s)",
			   op->undo_gen, err);
		return e;
	}
	if (pc_op_save_live(m))
		return -EIO;
	s = json_object_new_object();
	json_object_object_add(s, "step", json_object_new_string("rollback"));
	json_object_object_add(s, "undo", json_object_get(rec->doc));
	json_object_object_add(s, "live_generation", json_object_new_int64(op->saved_gen));
	pc_op_say(m, s);
	if (!strcmp(op->saved, op->target)) {
		s = json_object_new_object();
		json_object_object_add(s, "generation", json_object_new_int64(op->saved_gen));
		pc_op_finish(m, "unchanged", 0, s);
		return 0;
	}
	op->candidate = strdup(op->target);
	if (!op->candidate) {
		pc_op_fail(m, "out of memory");
		return -ENOMEM;
	}
	e = pc_op_start_trial(m, mono);
	if (e == 1)
		pc_rollback_trial_done(m, pc_wall_now(), mono);
	return e < 0 ? e : 0;
}

/* The changes a rollback to before `gen` undoes: that one and every later one. */
static struct json_object *undone_since(const struct pc_fw_manager *m, uint32_t gen)
{
	struct json_object *arr = json_object_new_array();
	int i;

	for (i = 0; i < m->hist.n; i++) {
		const struct pc_history_rec *r = &m->hist.recs[i];
		struct json_object *u, *v;

		if (r->generation < gen)
			continue;
		u = json_object_new_object();
		json_object_object_add(u, "generation", json_object_new_int64(r->generation));
		json_object_object_add(u, "kind", json_object_new_string(r->kind));
		if (json_object_object_get_ex(r->doc, "summary", &v))
			json_object_object_add(u, "summary", json_object_get(v));
		json_object_array_add(arr, u);
	}
	return arr;
}

void pc_rollback_trial_done(struct pc_fw_manager *m, double wall, double mono)
{
	struct pc_op *op = &m->op;
	struct pc_trial *t = &op->trial;
	struct json_object *s, *r;
	uint32_t now, gen;
	char line[1024];
	int i;

	(void)wall;
	op->preflight = pc_trial_json(t);
	s = json_object_new_object();
	json_object_object_add(s, "step", json_object_new_string("preflight_done"));
	json_object_object_add(s, "preflight", json_object_get(op->preflight));
	pc_op_say(m, s);
	if (t->error[0] && !op->force) {
		pc_op_fail(m,
			   "the preflight could not try the restored ruleset: %s (nothing was "
			   "changed; --force restores it untried)",
			   t->error);
		return;
	}
	/* Reachable now, blocked by what would be restored: refused unless --force. */
	if (t->newly_blocked && !op->force) {
		struct json_object *arr = json_object_new_array();

		r = json_object_new_object();
		for (i = 0; i < t->nports; i++)
			if (t->ports[i].blocked) {
				pc_trial_port_line(&t->ports[i], line, sizeof(line));
				json_object_array_add(arr, json_object_new_string(line));
			}
		json_object_object_add(r, "blocked", arr);
		pc_warn("firewall: rollback to before generation %u refused: the restored ruleset "
			"blocks %d monitored port%s that %s reachable now",
			op->undo_gen, t->newly_blocked, t->newly_blocked == 1 ? "" : "s",
			t->newly_blocked == 1 ? "is" : "are");
		pc_op_finish(m, "refused", 1, r);
		return;
	}
	if (pc_nft_genid(&now) || now != op->saved_gen) {
		pc_op_fail(m,
			   "the ruleset changed during the preflight (generation %u, now %u): "
			   "nothing was changed; try again",
			   op->saved_gen, now);
		return;
	}
	if (pc_fw_restore(m, op->target, PC_RB_REQUESTED, "rollback", op->undo_gen,
			  op->undo_gen - 1, json_object_new_array(), undone_since(m, op->undo_gen),
			  &gen, mono)) {
		pc_op_fail(m, "the rollback failed: generation %u stays in place (see the log)",
			   now);
		return;
	}
	r = json_object_new_object();
	json_object_object_add(r, "undid_generation", json_object_new_int64(op->undo_gen));
	json_object_object_add(r, "from_generation", json_object_new_int64(op->saved_gen));
	json_object_object_add(r, "to_generation", json_object_new_int64(gen));
	json_object_object_add(r, "undid", undone_since(m, op->undo_gen));
	pc_op_finish(m, "rolled_back", 0, r);
}

static bool fingerprint_reverted(const struct pc_fw_manager *m, const char *fp, uint32_t *gen)
{
	unsigned int i, n = m->nreverted < PC_REVERT_GUARD ? m->nreverted : PC_REVERT_GUARD;

	for (i = 0; i < n; i++)
		if (!strcmp(m->reverted[i], fp)) {
			*gen = m->reverted_gen[i];
			return true;
		}
	return false;
}

/* A revert refused: said once per change, as a log line and an event. */
static void skip(struct pc_fw_manager *m, const struct pc_firewall_ref *f, const char *reason,
		 uint32_t earlier, const char *why, struct json_object *port, double mono)
{
	struct json_object *o;
	char ts[40], line[1200], who[700] = "an unknown process";

	if (m->skipped_gen == f->generation) {
		json_object_put(port);
		return;
	}
	m->skipped_gen = f->generation;
	m->reverts_skipped++;
	if (f->by)
		pc_who_line(f->by, who, sizeof(who));
	o = json_object_new_object();
	pc_format_time(pc_wall_now(), ts, sizeof(ts));
	json_object_object_add(o, "time", json_object_new_string(ts));
	json_object_object_add(o, "event", json_object_new_string("firewall_revert_skipped"));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "generation", json_object_new_int64(f->generation));
	json_object_object_add(o, "by", f->by ? pc_who_json(f->by) : NULL);
	json_object_object_add(o, "summary",
			       f->summary ? json_object_new_string(f->summary) : NULL);
	json_object_object_add(o, "reverted_before",
			       earlier ? json_object_new_int64(earlier) : NULL);
	json_object_object_add(o, "port", port);
	snprintf(line, sizeof(line),
		 "firewall: unvetted generation %u by %s blocks a monitored port but is LEFT IN "
		 "PLACE: %s",
		 f->generation, who, why);
	pc_alerts_emit_event(m->env.alerts, PC_LOG_WARN, line, o, NULL, mono);
	json_object_put(o);
}

void pc_revert_alert(struct pc_fw_manager *m, const struct pc_alert *a,
		     const struct pc_fw_block_alert *b, double mono)
{
	const struct pc_firewall_ref *f = a ? a->firewall : b->firewall;
	const struct pc_fw_change *last = pc_fw_history_last(&m->env.fw->hist);
	const struct pc_history_rec *rec;
	enum pc_rollback_reason why = a ? PC_RB_PORT_DOWN : PC_RB_BLOCKS_PORT;
	struct json_object *undid, *u, *ports, *extra_port;
	uint32_t earlier = 0, gen = 0;
	char why_text[400], *before;

	if (!f || !f->generation || f->vetted)
		return;
	if (a && ((strcmp(a->event, "port_down") && strcmp(a->event, "port_degraded")) ||
		  !a->cause || strcmp(a->cause, "netfilter_drop")))
		return;
	/* The change being watched after an apply is the apply's business. */
	if (m->op.kind == PC_OP_APPLY && m->op.state == PC_OP_WATCHING &&
	    f->generation == m->op.gen)
		return;
	/* Undone already (by us, since). */
	if (m->last_restore_gen > f->generation)
		return;
	extra_port = pc_alert_port(a, b);
	if (!last || last->generation != f->generation) {
		snprintf(why_text, sizeof(why_text),
			 "changes came after it (now generation %u); a revert would undo them "
			 "too: use `portcanary firewall rollback --to %u`",
			 last ? last->generation : 0, f->generation);
		skip(m, f, "later_changes", 0, why_text, extra_port, mono);
		return;
	}
	rec = m->hist_on ? pc_history_find(&m->hist, f->generation) : NULL;
	before = rec && rec->before[0] ? pc_history_ruleset(&m->hist, rec->before) : NULL;
	if (!before) {
		skip(m, f, "no_ruleset_before", 0,
		     "the ruleset from before it is not in the history", extra_port, mono);
		return;
	}
	/* The same change again after a revert: someone (a configuration manager) wants it.
	 * Reverting again would only start a loop: left in place, and said. */
	if (rec->fingerprint[0] && fingerprint_reverted(m, rec->fingerprint, &earlier)) {
		snprintf(why_text, sizeof(why_text),
			 "the same change was reverted before (generation %u) and came back: "
			 "whatever re-applies it must be fixed",
			 earlier);
		skip(m, f, "came_back", earlier, why_text, extra_port, mono);
		free(before);
		return;
	}
	undid = json_object_new_array();
	u = json_object_new_object();
	json_object_object_add(u, "generation", json_object_new_int64(f->generation));
	json_object_object_add(u, "by", f->by ? pc_who_json(f->by) : NULL);
	json_object_object_add(u, "summary",
			       f->summary ? json_object_new_string(f->summary) : NULL);
	json_object_array_add(undid, u);
	ports = json_object_new_array();
	json_object_array_add(ports, extra_port);
	if (!pc_fw_restore(m, before, why, "revert", f->generation, f->generation - 1, ports, undid,
			   &gen, mono)) {
		unsigned int k = m->nreverted++ % PC_REVERT_GUARD;
		struct pc_annot *an = &m->annot[(m->annot_tail - 1) % 8];

		snprintf(m->reverted[k], sizeof(m->reverted[k]), "%s", rec->fingerprint);
		m->reverted_gen[k] = f->generation;
		/* In the revert's own record, so the guard outlives a restart. */
		json_object_object_add(an->extra, "reverted_fingerprint",
				       json_object_new_string(rec->fingerprint));
	}
	free(before);
}
