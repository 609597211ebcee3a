/* SPDX-License-Identifier: GPL-2.0 */
/* nft.h: the live nftables ruleset through libnftables (list, load in one transaction) and its generation. */
#ifndef PC_FWNFT_H
#define PC_FWNFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_NFT_LIST_HANDLES   (1u << 0) /* -a: " # handle N" on every object */
#define PC_NFT_LIST_STATELESS (1u << 1) /* -s: no counter values, quota use, expiries */

/* The ruleset of this network namespace as `nft [-a] [-s] list ruleset` prints it
 * (malloc'd), or NULL with errno set. */
char *pc_nft_list(unsigned int flags);
/* The ruleset generation now (NFT_MSG_GETGEN over netlink). 0 or -errno. */
int pc_nft_genid(uint32_t *gen);
/* Run text as `nft -f` would: every command in one batch, one transaction: all of it
 * or nothing. dry_run: the kernel checks the batch, then aborts it (`nft -c`).
 * Returns 0, or -EINVAL with nft's own message in err (a few lines), -ENOMEM. */
int pc_nft_run(const char *text, bool dry_run, char *err, size_t errlen);
/* The text that restores a listing exactly, in one transaction: "flush ruleset" and the
 * listing (malloc'd), or NULL. */
char *pc_nft_restore_text(const char *listing);

#endif
