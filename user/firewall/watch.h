/* SPDX-License-Identifier: GPL-2.0 */
/* watch.h: firewall change awareness: nftables commits heard on netlink, remembered for alerts. */
#ifndef PC_FWWATCH_H
#define PC_FWWATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "alerts.h"
#include "firewall/diff.h"
#include "firewall/who.h"

#define PC_FW_HISTORY	       32
#define PC_FW_WHAT_LEN	       256
#define PC_FW_DEFAULT_WINDOW_S 300.0

enum pc_fw_source {
	PC_FW_NFTABLES = 0, /* nft, iptables-nft, firewalld...: one commit, one generation */
	PC_FW_SOURCE_MAX,
};

struct pc_fw_change {
	double time; /* unix time it was heard */
	enum pc_fw_source source;
	uint32_t generation; /* nftables ruleset generation after the commit */
	uint32_t pid;	     /* the committing process, when the kernel says */
	char proc[32];
	char what[PC_FW_WHAT_LEN]; /* "table inet filter: chain input: rule added", ... */
	struct pc_fw_who by;	   /* read from /proc when the commit was heard */
	bool vetted;		   /* committed by this daemon (apply, rollback) */
	/* What changed, filled in when the ruleset has been listed (a few ms later). */
	bool resolved;
	char summary[PC_FW_SUMMARY_LEN];
	unsigned long added_total, removed_total;
};

/* The memory of changes (pure: unit-tested). */
struct pc_fw_history {
	struct pc_fw_change ring[PC_FW_HISTORY];
	unsigned int n; /* changes ever recorded */
	uint64_t count[PC_FW_SOURCE_MAX];
	uint64_t vetted[PC_FW_SOURCE_MAX]; /* of count, those this daemon committed */
};

void pc_fw_history_add(struct pc_fw_history *h, const struct pc_fw_change *c);
/* The latest change recorded, or NULL when there is none. */
const struct pc_fw_change *pc_fw_history_last(const struct pc_fw_history *h);
/* The i-th change ever recorded (0-based), or NULL once the ring has dropped it. */
struct pc_fw_change *pc_fw_history_at(struct pc_fw_history *h, unsigned int i);
/* The latest change at or before `t` and at most window_s before it, or NULL. */
const struct pc_fw_change *pc_fw_history_before(const struct pc_fw_history *h, double t,
						double window_s);
const char *pc_fw_source_name(enum pc_fw_source s);
/* Fill an event's firewall reference from a change (strings point into c). */
void pc_fw_ref(const struct pc_fw_change *c, double event_time, struct pc_firewall_ref *ref);

/* The netlink side. */
struct pc_fwwatch {
	int fd;			     /* -1 when not watching */
	void *nl;		     /* struct mnl_socket */
	struct pc_fw_change pending; /* objects of the commit being announced */
	struct pc_fw_history hist;
};

/* Subscribe to nftables ruleset changes of this network namespace. 0 or -errno. */
int pc_fwwatch_open(struct pc_fwwatch *w);
/* Read what arrived (the fd is non-blocking); returns how many commits completed. */
int pc_fwwatch_read(struct pc_fwwatch *w, double wall_now);
void pc_fwwatch_close(struct pc_fwwatch *w);

#endif
