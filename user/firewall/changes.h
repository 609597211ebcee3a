/* SPDX-License-Identifier: GPL-2.0 */
/* changes.h: each heard commit made a change record: who, what changed (a diff), a firewall_change event. */
#ifndef PC_FWCHANGES_H
#define PC_FWCHANGES_H

#include <stdbool.h>

#include "alerts.h"
#include "firewall/diff.h"
#include "firewall/lister.h"
#include "firewall/listing.h"
#include "firewall/watch.h"

struct json_object;

/* A resolved change, for whoever keeps them (the history): the listings before and
 * after it (full, as `nft list ruleset`), NULL when unknown. Called before the event is
 * written; what it returns (an object, or NULL) is added to the event's fields. */
typedef struct json_object *(*pc_fw_change_cb)(void *ctx, struct pc_fw_change *c,
					       const struct pc_fw_diff *d, const char *before,
					       const char *after);

struct pc_fw_changes {
	struct pc_fwwatch *w;
	struct pc_alerts *al;
	struct pc_lister lister;
	struct pc_listing last;	      /* the listing the next diff starts from */
	struct pc_nft_listing parsed; /* last.diffable, parsed */
	bool have_last;
	unsigned int resolved; /* changes 0 .. resolved-1 of w->hist have their diff */
	pc_fw_change_cb cb;
	void *cb_ctx;
	double last_list_s; /* how long the latest listing took */
};

/* Take the ruleset as it is now (the start of every diff). 0 or -errno. */
int pc_fw_changes_init(struct pc_fw_changes *ch, struct pc_fwwatch *w, struct pc_alerts *al);
/* Start listing after changes in a worker thread (after the capability drop). */
int pc_fw_changes_start(struct pc_fw_changes *ch);
/* Commits were heard (w->hist grew): have the ruleset listed. */
void pc_fw_changes_heard(struct pc_fw_changes *ch);
/* The fd that turns readable when a listing is ready, or -1. */
int pc_fw_changes_fd(const struct pc_fw_changes *ch);
/* A listing is ready: give each change it covers its diff, its event and its log line.
 * Read the netlink socket first, so every commit the listing includes is heard. */
void pc_fw_changes_listed(struct pc_fw_changes *ch, double wall_now, double mono_now);
void pc_fw_changes_free(struct pc_fw_changes *ch);

/* The firewall_change event (pure; unit-tested). */
struct json_object *pc_fw_change_json(const struct pc_fw_change *c, const struct pc_fw_diff *d);
/* "firewall: nftables ruleset changed (generation 4, unvetted) by WHO: SUMMARY" */
void pc_fw_change_line(const struct pc_fw_change *c, char *buf, size_t len);
/* The last max changes, newest first, as `status` shows them. */
struct json_object *pc_fw_recent_json(const struct pc_fw_history *h, int max);

#endif
