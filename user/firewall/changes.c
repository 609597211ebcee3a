// SPDX-License-Identifier: GPL-2.0
/* changes.c: commits heard, ruleset listed, diffed against the last listing, told as firewall_change. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "firewall/changes.h"
#include "log.h"
#include "report.h"

int pc_fw_changes_init(struct pc_fw_changes *ch, struct pc_fwwatch *w, struct pc_alerts *al)
{
	int err;

	memset(ch, 0, sizeof(*ch));
	ch->w = w;
	ch->al = al;
	ch->resolved = w->hist.n;
	err = pc_listing_take(&ch->last);
	if (err)
		return err;
	err = pc_nft_listing_parse(ch->last.diffable, &ch->parsed);
	if (err) {
		pc_listing_free(&ch->last);
		return err;
	}
	ch->have_last = true;
	ch->last_list_s = ch->last.took_s;
	return 0;
}

int pc_fw_changes_start(struct pc_fw_changes *ch)
{
	return pc_lister_start(&ch->lister);
}

void pc_fw_changes_heard(struct pc_fw_changes *ch)
{
	if (ch->resolved < ch->w->hist.n)
		pc_lister_request(&ch->lister);
}

int pc_fw_changes_fd(const struct pc_fw_changes *ch)
{
	return pc_lister_fd(&ch->lister);
}

struct json_object *pc_fw_change_json(const struct pc_fw_change *c, const struct pc_fw_diff *d)
{
	struct json_object *o = json_object_new_object();
	char ts[40];

	pc_format_time(c->time, ts, sizeof(ts));
	json_object_object_add(o, "time", json_object_new_string(ts));
	json_object_object_add(o, "event", json_object_new_string("firewall_change"));
	json_object_object_add(o, "source", json_object_new_string(pc_fw_source_name(c->source)));
	json_object_object_add(o, "generation",
			       c->generation ? json_object_new_int64(c->generation) : NULL);
	json_object_object_add(o, "by", pc_who_json(&c->by));
	json_object_object_add(o, "vetted", json_object_new_boolean(c->vetted));
	json_object_object_add(
		o, "added", d ? pc_fw_entries_json(d->added, d->n_added) : json_object_new_array());
	json_object_object_add(o, "removed",
			       d ? pc_fw_entries_json(d->removed, d->n_removed)
				 : json_object_new_array());
	json_object_object_add(o, "added_total", json_object_new_uint64(c->added_total));
	json_object_object_add(o, "removed_total", json_object_new_uint64(c->removed_total));
	json_object_object_add(o, "summary", json_object_new_string(c->summary));
	json_object_object_add(o, "what", c->what[0] ? json_object_new_string(c->what) : NULL);
	return o;
}

void pc_fw_change_line(const struct pc_fw_change *c, char *buf, size_t len)
{
	char who[700];

	pc_who_line(&c->by, who, sizeof(who));
	snprintf(buf, len, "firewall: %s ruleset changed (generation %u, %s) by %s: %s",
		 pc_fw_source_name(c->source), c->generation, c->vetted ? "vetted" : "unvetted",
		 who, c->summary);
}

struct json_object *pc_fw_recent_json(const struct pc_fw_history *h, int max)
{
	struct json_object *arr = json_object_new_array();
	unsigned int i;

	for (i = 0; i < h->n && (int)i < max && i < PC_FW_HISTORY; i++) {
		const struct pc_fw_change *c = &h->ring[(h->n - 1 - i) % PC_FW_HISTORY];
		struct json_object *o = json_object_new_object();
		char ts[40];

		pc_format_time(c->time, ts, sizeof(ts));
		json_object_object_add(o, "time", json_object_new_string(ts));
		json_object_object_add(o, "source",
				       json_object_new_string(pc_fw_source_name(c->source)));
		json_object_object_add(o, "generation",
				       c->generation ? json_object_new_int64(c->generation) : NULL);
		json_object_object_add(o, "by", pc_who_json(&c->by));
		json_object_object_add(o, "vetted", json_object_new_boolean(c->vetted));
		json_object_object_add(o, "summary",
				       c->resolved ? json_object_new_string(c->summary) : NULL);
		json_object_object_add(o, "added_total", json_object_new_uint64(c->added_total));
		json_object_object_add(o, "removed_total",
				       json_object_new_uint64(c->removed_total));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* The event and the log line of one resolved change, then whoever keeps changes. */
static void tell(struct pc_fw_changes *ch, struct pc_fw_change *c, const struct pc_fw_diff *d,
		 const char *before, const char *after, double mono)
{
	char line[2048], gen[48], vetted[32], pid[32], cmd[PC_WHO_CMD_LEN + 32];
	char user[PC_WHO_NAME_LEN + 32], summary[PC_FW_SUMMARY_LEN + 32];
	const char *env[] = {"PORTCANARY_EVENT=firewall_change",
			     "PORTCANARY_SOURCE=nftables",
			     gen,
			     vetted,
			     pid,
			     cmd,
			     user,
			     summary,
			     NULL};
	struct json_object *o = pc_fw_change_json(c, d), *extra;

	extra = ch->cb ? ch->cb(ch->cb_ctx, c, d, before, after) : NULL;
	if (extra) {
		json_object_object_foreach(extra, k, v)
		{
			json_object_object_add(o, k, json_object_get(v));
		}
		json_object_put(extra);
	}
	snprintf(gen, sizeof(gen), "PORTCANARY_GENERATION=%u", c->generation);
	snprintf(vetted, sizeof(vetted), "PORTCANARY_VETTED=%s", c->vetted ? "true" : "false");
	snprintf(pid, sizeof(pid), "PORTCANARY_BY_PID=%u", c->by.pid);
	snprintf(cmd, sizeof(cmd), "PORTCANARY_BY_COMMAND=%s", c->by.command);
	snprintf(user, sizeof(user), "PORTCANARY_BY_USER=%s", c->by.user);
	snprintf(summary, sizeof(summary), "PORTCANARY_SUMMARY=%s", c->summary);
	pc_fw_change_line(c, line, sizeof(line));
	pc_alerts_emit_event(ch->al, c->vetted ? PC_LOG_INFO : PC_LOG_WARN, line, o, env, mono);
	json_object_put(o);
}

void pc_fw_changes_listed(struct pc_fw_changes *ch, double wall, double mono)
{
	struct pc_fw_history *h = &ch->w->hist;
	struct pc_nft_listing parsed;
	struct pc_listing res;
	struct pc_fw_diff *d = NULL;
	unsigned int i, last = 0;
	bool any = false;
	(void)wall;

	if (!pc_lister_get(&ch->lister, &res))
		return;
	ch->last_list_s = res.took_s;
	/* Changes the ring dropped before they were listed are gone. */
	if (h->n - ch->resolved > PC_FW_HISTORY)
		ch->resolved = h->n - PC_FW_HISTORY;
	if (res.err) {
		pc_warn("firewall: cannot list the ruleset after a change (%s): the change is "
			"recorded without what it added and removed",
			strerror(-res.err));
		for (i = ch->resolved; i < h->n; i++) {
			struct pc_fw_change *c = pc_fw_history_at(h, i);

			snprintf(c->summary, sizeof(c->summary),
				 "unknown: the ruleset could not be "
				 "listed");
			c->resolved = true;
			tell(ch, c, NULL, NULL, NULL, mono);
		}
		ch->resolved = h->n;
		return;
	}
	/* The listing covers every change up to its generation (0: a commit whose
	 * notification was lost, taken to be covered too). */
	for (i = ch->resolved; i < h->n; i++) {
		const struct pc_fw_change *c = pc_fw_history_at(h, i);

		if (c->generation && c->generation > res.generation)
			break;
		last = i;
		any = true;
	}
	if (pc_nft_listing_parse(res.diffable, &parsed)) {
		pc_listing_free(&res);
		return;
	}
	if (any) {
		d = calloc(1, sizeof(*d));
		if (!d || pc_fw_diff(&ch->parsed, &parsed, d)) {
			free(d);
			d = NULL;
		}
		for (i = ch->resolved; i <= last; i++) {
			struct pc_fw_change *c = pc_fw_history_at(h, i);

			c->resolved = true;
			if (i < last) {
				/* Committed so close to the next that one listing saw both. */
				snprintf(c->summary, sizeof(c->summary),
					 "folded into generation %u: committed before the ruleset "
					 "could be listed",
					 res.generation);
				tell(ch, c, NULL, NULL, NULL, mono);
				continue;
			}
			if (d) {
				memcpy(c->summary, d->summary, sizeof(c->summary));
				c->added_total = d->added_total;
				c->removed_total = d->removed_total;
			} else {
				snprintf(c->summary, sizeof(c->summary), "unknown: out of memory");
			}
			tell(ch, c, d, ch->last.full, res.full, mono);
		}
		ch->resolved = last + 1;
		if (d)
			pc_fw_diff_free(d);
		free(d);
	}
	pc_nft_listing_free(&ch->parsed);
	ch->parsed = parsed;
	pc_listing_free(&ch->last);
	ch->last = res;
	/* Commits after this listing's generation: list again. */
	pc_fw_changes_heard(ch);
}

void pc_fw_changes_free(struct pc_fw_changes *ch)
{
	pc_lister_stop(&ch->lister);
	pc_listing_free(&ch->last);
	pc_nft_listing_free(&ch->parsed);
	ch->have_last = false;
}
