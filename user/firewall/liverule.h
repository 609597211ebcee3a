/* SPDX-License-Identifier: GPL-2.0 */
/* liverule.h: which rule of the live ruleset drops a port's real clients, found by replaying their dropped packets. */
#ifndef PC_LIVERULE_H
#define PC_LIVERULE_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "drops.h"
#include "linebuf.h"
#include "loader.h"
#include "portset.h"
#include "preflight/preflight.h"
#include "report.h"

#define PC_LIVERULE_REFRESH_S 10.0 /* a port still dropping is replayed again after this */
#define PC_LIVERULE_RETRY_S   5.0  /* an unanswered request is given up after this */
#define PC_LIVERULE_SAMPLE_S  3.0  /* samples older than this are not replayed */

/* What is known of one slot's rule. */
struct pc_lr_slot {
	struct pc_slot_info port; /* the port it is for */
	bool in_flight;
	bool asked_for_change; /* only because the ruleset changed: old samples */
	uint8_t reasked;       /* asked again at once, its answer being stale */
	uint32_t asked_id;
	double asked; /* CLOCK_MONOTONIC */
	bool answered;
	double answered_at;
	uint32_t generation;	 /* of the live ruleset the answer is for */
	struct pc_rule_ref rule; /* known, or not with why */
	char why[320];
	double ms; /* the replay's own time */
	int reproduced, replayed;
	char logged[900]; /* the last line logged for this port: each is said once */
};

struct pc_liverule {
	pid_t pid; /* the lister; 0 when not running */
	int fd;	   /* -1 when not running */
	struct pc_linebuf in;
	char ifnames[PC_MAX_IFACES][IF_NAMESIZE]; /* the daemon's interfaces */
	int nifs;
	int samples_fd;
	const struct pc_drops *drops; /* the daemon's, as of the last interval */
	uint32_t generation;	      /* the latest the daemon heard of */
	double changed_at;	      /* CLOCK_MONOTONIC: when the daemon heard of it */
	uint32_t next_id;
	double started; /* CLOCK_MONOTONIC, of the running children */
	int failures;	/* starts that ended early */
	bool gave_up;
	char last_load_error[600];
	struct pc_lr_slot *slots[PC_MAX_SLOTS];
	unsigned long requests, answers, found;
};

/* Start the lister and the replayer. ifnames: the daemon's interfaces (the sandbox's
 * interfaces are named after them); samples_fd: the pc_drop_samples map. 0 or -errno. */
int pc_liverule_start(struct pc_liverule *lr, const char ifnames[][IF_NAMESIZE], int n,
		      int samples_fd);
int pc_liverule_fd(const struct pc_liverule *lr);
/* Each interval, after the drops were read: ask for the rule of every port whose packets
 * netfilter dropped in this interval (never waits). `generation`: the latest nftables
 * generation the daemon heard of (0: none). */
void pc_liverule_tick(struct pc_liverule *lr, const struct pc_portset *ps, const struct pc_drops *d,
		      uint32_t generation, double mono_now);
/* A ruleset change was heard: ask again at once for the ports asked about lately, so
 * that their answer is current again before the next interval's events. */
void pc_liverule_changed(struct pc_liverule *lr, const struct pc_portset *ps,
			 const struct pc_drops *d, uint32_t generation, double mono_now);
/* Read the answers that arrived; log each new finding once. */
void pc_liverule_read(struct pc_liverule *lr, const struct pc_portset *ps, double mono_now);
/* The rule dropping a slot's port's clients under the live ruleset of `generation`, or
 * NULL with *why saying why it is not known (NULL why: nothing asked yet). */
const struct pc_rule_ref *pc_liverule_get(const struct pc_liverule *lr, int slot,
					  const struct pc_slot_info *port, uint32_t generation,
					  const char **why);
void pc_liverule_stop(struct pc_liverule *lr);

/* Pure: a sample as a packet to replay; ifname is the interface the rules saw. */
struct pc_replay_pkt;
void pc_liverule_pkt(const struct pc_drop_sample *s, const char *ifname, struct pc_replay_pkt *p);
/* A found rule as the outputs show it (strings point into r). */
void pc_liverule_view(const struct pc_rule_ref *r, struct pc_rule_view *v);
/* Pure: is an answer for generation `have` current when the daemon knows of `want`? */
bool pc_liverule_current(uint32_t have, uint32_t want);

#endif
