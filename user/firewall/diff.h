/* SPDX-License-Identifier: GPL-2.0 */
/* diff.h: what a firewall change added and removed, from the listings before and after (pure). */
#ifndef PC_FWDIFF_H
#define PC_FWDIFF_H

#include <stdbool.h>
#include <stdint.h>

#include "firewall/listing.h"

struct json_object;

#define PC_FW_DIFF_MAX	   64  /* entries kept per side; the totals count all */
#define PC_FW_SUMMARY_LEN  240 /* the one-line summary */
#define PC_FW_SUMMARY_SHOW 3   /* places named in a summary of many entries */

/* What an entry stands for. A container that appears or disappears (a table, a chain,
 * a set) is one entry, and so is a flush: never thousands of rules. */
enum pc_fw_entry_kind {
	PC_FWE_RULE = 0,
	PC_FWE_POLICY,	 /* a base chain's policy: handle null, text "policy drop" */
	PC_FWE_CHAIN,	 /* a chain added or deleted, with its rules */
	PC_FWE_TABLE,	 /* a table added or deleted, with everything in it */
	PC_FWE_SET,	 /* a set or map added or deleted */
	PC_FWE_ELEMENTS, /* elements added to or deleted from a set or map */
	PC_FWE_OBJECT,	 /* a counter, quota, flowtable ... added, deleted or changed */
	PC_FWE_FLUSH,	 /* every rule of a chain, of a table, or the whole ruleset */
};

/* A RULE object of the contract ({"family","table","chain","handle","text"}) with its kind. */
struct pc_fw_entry {
	enum pc_fw_entry_kind kind;
	char family[8];	 /* "" for a ruleset flush */
	char table[64];	 /* "" for a ruleset flush */
	char chain[64];	 /* rules, policies, chains, chain flushes; else "" */
	char object[64]; /* sets, elements, objects: its name */
	bool has_handle;
	uint64_t handle;
	char *text;
	unsigned long count; /* rules (elements) the entry stands for: 1 for a rule */
};

struct pc_fw_diff {
	struct pc_fw_entry added[PC_FW_DIFF_MAX], removed[PC_FW_DIFF_MAX];
	int n_added, n_removed;			  /* kept */
	unsigned long added_total, removed_total; /* entries, kept or not */
	char summary[PC_FW_SUMMARY_LEN];
};

/* Diff two listings. Rules are matched by handle where the table is the same
 * incarnation (same table handle), then by text (a reload recreates every handle), and
 * a rule whose place in its chain changed counts as removed and added. 0 or -ENOMEM. */
int pc_fw_diff(const struct pc_nft_listing *before, const struct pc_nft_listing *after,
	       struct pc_fw_diff *d);
void pc_fw_diff_free(struct pc_fw_diff *d);
/* The added / removed arrays of the event (RULE objects plus "kind" and "count"). */
struct json_object *pc_fw_entries_json(const struct pc_fw_entry *e, int n);
const char *pc_fw_entry_kind_name(enum pc_fw_entry_kind k);
/* "inet filter input handle 7: tcp dport 8031 drop" */
void pc_fw_entry_line(const struct pc_fw_entry *e, char *buf, size_t len);

#endif
