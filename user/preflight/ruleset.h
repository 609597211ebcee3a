/* SPDX-License-Identifier: GPL-2.0 */
/* ruleset.h: an `nft -a list ruleset` listing as chains of rules, and what a sandbox copy of it can reproduce. */
#ifndef PC_RULESET_H
#define PC_RULESET_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firewall/listing.h"

/* Pure: no I/O; unit-tested in tests/unit/test_ruleset.c. */

/* The chains of a listing with their rules in evaluation order: an index over the parsed
 * listing (user/firewall/listing.h) to find a rule by its chain and place, or handle. */
struct pc_nft_chain {
	char family[8];
	char table[64];
	char name[64];
	const struct pc_nft_obj **rules; /* in evaluation order; ->handle, ->text */
	int nrules;
};

struct pc_nft_rules {
	struct pc_nft_listing l;
	struct pc_nft_chain *chains;
	int nchains;
	bool sets_marks; /* some rule writes a packet or conntrack mark itself */
};

/* Read a listing (with handles). 0, or -ENOMEM. */
int pc_nft_rules_parse(const char *text, struct pc_nft_rules *r);
void pc_nft_rules_free(struct pc_nft_rules *r);
const struct pc_nft_chain *pc_nft_chain_find(const struct pc_nft_rules *r, const char *family,
					     const char *table, const char *chain);
/* Position of a rule in its chain, or -1. */
int pc_nft_rule_pos(const struct pc_nft_chain *c, uint64_t handle);

/* A rule's text for people and for labels: its counters' values change with every packet,
 * so "counter packets 12 bytes 720" reads "counter". */
void pc_nft_rule_display(const char *text, char *out, size_t len);

/*
 * Does a rule read something that a sandbox copy of the ruleset cannot have? Marks set
 * outside the ruleset (unless it sets marks itself), socket owners and cgroups, security
 * marks, interface indexes and groups, conntrack zones, helpers, labels and counters,
 * rate limits and meters (their state is not in a listing), random numbers, and packet
 * fields a sample does not keep (TTL, DSCP, lengths, IP/TCP options, raw payload...).
 * Returns what it reads ("meta mark", ...) or NULL.
 */
const char *pc_nft_outside_state(const char *rule, bool marks_set);

/* Does a rule look at the state of a connection (conntrack: ct state, status, direction
 * ...) or at TCP flags, where a connection's opening and its later packets differ?
 * Returns what it reads ("ct state", "tcp flags") or NULL. */
const char *pc_nft_conn_state(const char *rule);

/*
 * A listing a sandbox can load. iptables-nft keeps some matches and targets as xtables
 * expressions ("xt match recent"), which nft cannot load again: each such rule becomes
 * its matches before the xt expression and "jump PC_NFT_XT_CHAIN", a chain of the same
 * table that drops. A packet that reaches one is known not to be judged by the copy;
 * every other rule keeps its place (the n-th rule stays the n-th). Returns a malloc'd
 * text (the listing itself when nothing needed stubbing), or NULL when out of memory;
 * *stubbed counts the rules replaced.
 */
#define PC_NFT_XT_CHAIN "__portcanary_xt"
char *pc_nft_copyable(const char *listing, int *stubbed);

/* Interface names the listing needs to exist to load (iif, oif, device, devices = {...}),
 * for the sandbox to create. Returns how many were written (at most max), each once. */
int pc_nft_ifnames(const char *text, char names[][IF_NAMESIZE], int max);

#endif
