/* SPDX-License-Identifier: GPL-2.0 */
/* check.h: after each nftables change, the new ruleset tested in a sandbox, in a child process. */
#ifndef PC_FWCHECK_H
#define PC_FWCHECK_H

#include <stdbool.h>
#include <sys/types.h>

#include "alerts.h"
#include "firewall/watch.h"
#include "linebuf.h"
#include "portset.h"

/* Changes closer together than this are checked once, as one. */
#define PC_FWCHECK_SETTLE_S 0.3

struct pc_fwcheck {
	pid_t pid;		    /* the running check, 0 when none */
	int fd;			    /* its result pipe, -1 when none */
	struct pc_linebuf out;	    /* what it wrote so far: one JSON document */
	bool pending;		    /* a change came: check (again) at `due` */
	double due;		    /* CLOCK_MONOTONIC */
	char *baseline;		    /* the ruleset last checked (or seen at start) */
	struct pc_fw_change change; /* the change being checked */
	char iface[16];		    /* the ruleset side's interface name in the sandbox */
	unsigned long checks, failures, blocks;
};

/* Take the current ruleset as the baseline. 0 or -errno (nftables unavailable). */
int pc_fwcheck_init(struct pc_fwcheck *c, const char *iface);
/* A change was heard: schedule a check. */
void pc_fwcheck_changed(struct pc_fwcheck *c, const struct pc_fw_change *chg, double mono_now);
/* Start the check when due and none runs; never waits. */
void pc_fwcheck_tick(struct pc_fwcheck *c, const struct pc_portset *ps, double mono_now);
/* The fd to poll (-1 when no check runs). */
int pc_fwcheck_fd(const struct pc_fwcheck *c);
/* Read the check's output; when it is complete, emit one firewall_blocks_port event per
 * monitored port the change newly blocks. */
void pc_fwcheck_read(struct pc_fwcheck *c, struct pc_alerts *al, double wall_now, double mono_now);
void pc_fwcheck_free(struct pc_fwcheck *c);


#endif
