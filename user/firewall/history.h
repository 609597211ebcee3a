/* SPDX-License-Identifier: GPL-2.0 */
/* history.h: every change the daemon heard, with the ruleset before and after, kept in the state dir. */
#ifndef PC_FWHISTORY_H
#define PC_FWHISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firewall/diff.h"
#include "firewall/watch.h"

struct json_object;

#define PC_HISTORY_DIR	       "firewall"  /* under the state dir */
#define PC_HISTORY_MAX_CHANGES 100	   /* records kept */
#define PC_HISTORY_MAX_BYTES   (64u << 20) /* rulesets kept, all together (each stored once) */
#define PC_HISTORY_FILE	       "changes.jsonl"

struct pc_history_rec {
	uint64_t seq; /* ever increasing, also across restarts */
	double time;
	uint32_t generation;
	bool vetted;
	char kind[16];	 /* change | apply | rollback | revert | offline */
	char before[40]; /* ruleset file names under the history dir; "" unknown */
	char after[40];
	char fingerprint[17];	 /* of what it added and removed: the revert-loop guard */
	uint32_t undid;		 /* a rollback or revert: the generation it undid, else 0 */
	struct json_object *doc; /* the record as stored */
};

struct pc_history {
	char dir[320];
	struct pc_history_rec *recs; /* oldest first */
	int n, cap;
	uint64_t next_seq;
	size_t bytes; /* ruleset files the records refer to */
	int max_changes;
	size_t max_bytes;
	unsigned long bad_lines; /* lines of the file that did not parse (skipped) */
};

/* Open (create) <state_dir>/firewall and load what is there. 0 or -errno. */
int pc_history_open(struct pc_history *h, const char *state_dir);
/* Record a change: its event fields, the rulesets before and after (full listings, each
 * file written once), kind and extra fields (e.g. requested_by; may be NULL, taken
 * over). Oldest records go beyond the bounds. 0 or -errno (logged). */
int pc_history_add(struct pc_history *h, const struct pc_fw_change *c, const struct pc_fw_diff *d,
		   const char *before, const char *after, const char *kind,
		   struct json_object *extra);
/* The newest record of a generation, or of the last change (generation 0), or NULL. */
const struct pc_history_rec *pc_history_find(const struct pc_history *h, uint32_t generation);
/* A stored ruleset (malloc'd), or NULL with errno set. */
char *pc_history_ruleset(const struct pc_history *h, const char *name);
/* The `firewall history` document: the records, newest first, and the bounds. */
struct json_object *pc_history_json(const struct pc_history *h);
void pc_history_close(struct pc_history *h);

/* Write a file whole or not at all (0600, a temporary file renamed over it). 0 or -errno. */
int pc_write_file_atomic(const char *path, const char *data, size_t len);
/* A whole file (malloc'd, NUL-terminated), or NULL with errno set. */
char *pc_read_file(const char *path, size_t *len);

/* ---- pure parts (unit-tested) ---- */

/* The file name a ruleset is stored under ("rs-<64-bit FNV-1a hex>.nft"). */
void pc_history_ruleset_name(const char *text, char *buf, size_t len);
/* A fingerprint of what a diff added and removed, the same for the same change made
 * again (handles left out): 16 hex digits. */
void pc_fw_diff_fingerprint(const struct pc_fw_diff *d, char out[17]);

#endif
