/* SPDX-License-Identifier: GPL-2.0 */
/* listing.h: an `nft -a -s list ruleset` listing parsed into tables, chains, rules, sets (pure). */
#ifndef PC_FWLISTING_H
#define PC_FWLISTING_H

#include <stdbool.h>
#include <stdint.h>

enum pc_nft_kind {
	PC_NFT_TABLE = 0,
	PC_NFT_CHAIN,
	PC_NFT_RULE,
	PC_NFT_SET,    /* sets and maps: they carry elements */
	PC_NFT_OBJECT, /* counters, quotas, limits, flowtables, ct helpers ... */
};

struct pc_nft_obj {
	enum pc_nft_kind kind;
	int table; /* index of the object's table (a table: itself) */
	int chain; /* a rule: index of its chain; else -1 */
	char family[8];
	char name[64];	 /* table, chain, set or object name; "" for rules */
	char type[24];	 /* sets and objects: "set", "map", "counter", "ct helper" ... */
	bool has_handle; /* the listing had handles (-a) */
	uint64_t handle; /* per table for chains, sets and rules; per netns for tables */
	char *text;	 /* rule: its text; chain: its spec ("type filter hook input ...;
			     * policy drop;"); set, object, table: its attribute lines */
	char **elems;	 /* sets and maps: the elements, in listing order */
	int nelems;
	int nrules;	    /* tables and chains: rules inside */
	int nchains, nsets; /* tables */
};

struct pc_nft_listing {
	struct pc_nft_obj *o; /* in listing order: a table, then its objects, chains, rules */
	int n, cap;
};

/* Parse listing text (with or without handles; stateless or not). 0 or -ENOMEM; lines
 * it does not understand are skipped. */
int pc_nft_listing_parse(const char *text, struct pc_nft_listing *l);
void pc_nft_listing_free(struct pc_nft_listing *l);
/* "drop" or "accept" of a base chain's spec, or NULL (a regular chain). */
const char *pc_nft_chain_policy(const struct pc_nft_obj *chain, char *buf, size_t len);

#endif
