/* SPDX-License-Identifier: GPL-2.0 */
/* replayer.h: the processes behind the live rule: a lister of the live ruleset and a sandbox replayer. */
#ifndef PC_REPLAYER_H
#define PC_REPLAYER_H

#include <net/if.h>
#include <sys/types.h>

/*
 * Two long-lived children of the daemon, so that naming a rule never waits for a sandbox
 * to be built:
 *
 *   daemon ──requests──► lister ──ruleset, requests──► replayer
 *          ◄──results───        ◄──results───────────
 *
 * The lister stays in the daemon's network namespace: it hears every nftables commit
 * (NFNLGRP_NFTABLES) and, before it passes a request on, sends the replayer a fresh
 * listing of the live ruleset when it changed (as `nft -a list ruleset` prints it, with
 * the generation it is of). The replayer lives in a user namespace of its own with
 * network namespaces inside it (no CAP_SYS_ADMIN over the host; the host's ruleset out
 * of reach), keeps the copy loaded and replays packets in it (user/preflight/replay.h).
 * Both die with their parent (PR_SET_PDEATHSIG). Messages are JSON, one per line.
 */

/* Start both; *fd is the daemon's end (non-blocking). Returns the lister's pid or -errno. */
pid_t pc_replayer_spawn(const char ifnames[][IF_NAMESIZE], int n, int *fd);

#endif
