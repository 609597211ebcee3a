/* SPDX-License-Identifier: GPL-2.0 */
/* drops.h: the drop table read back: per slot and kernel drop reason, totals and deltas. */
#ifndef PC_DROPS_H
#define PC_DROPS_H

#include <stdbool.h>
#include <stdint.h>

#include "dropreason.h"
#include "droptable.h"
#include "portcanary.h"

#define PC_DROPS_HIST 8	  /* intervals of history kept for an event's evidence */

struct pc_drop_entry {
	uint16_t slot;
	uint32_t reason;
	uint64_t total;		      /* summed over CPUs */
	uint64_t hist[PC_DROPS_HIST]; /* total at the end of each of the last intervals */
	uint64_t now;		      /* this read's total, summed over the key's indices */
	bool seen;		      /* in the table at the last read (else it is forgotten) */
	uint8_t cls;		      /* enum pc_drop_class of the reason, looked up once */
};

struct pc_drops {
	const struct pc_drop_table *t; /* NULL: drop attribution unavailable */
	const struct pc_dropreasons *names;
	struct pc_drop_entry *e; /* sorted by (slot, reason) */
	int n;
	int *at;	  /* per table index: the entry it held at the last read */
	int hist_pos;	  /* ring index of the oldest total in hist[] */
	bool warned_full; /* the table's filling was logged */
	/* Per slot, for the last interval: drops by class, and totals since the slot began. */
	uint64_t delta_class[PC_MAX_SLOTS][PC_DROP_CLASS_MAX];
	uint64_t slot_total[PC_MAX_SLOTS];
	uint64_t slot_delta[PC_MAX_SLOTS];
};

int pc_drops_init(struct pc_drops *d, const struct pc_drop_table *t,
		  const struct pc_dropreasons *names);
void pc_drops_free(struct pc_drops *d);
/* Read the table; fill the per-slot deltas of this interval. */
int pc_drops_read(struct pc_drops *d);
/* Drops of a slot over the last PC_DROPS_HIST intervals, most first: up to max
 * (reason name, count) pairs. Returns how many. */
struct pc_alert_drop;
int pc_drops_recent(const struct pc_drops *d, int slot, struct pc_alert_drop *out, int max);
/* Like pc_drops_recent, but only reasons the kernel names specifically (firewall,
 * no socket, backlog...): what the status table shows a person. */
int pc_drops_recent_specific(const struct pc_drops *d, int slot, struct pc_alert_drop *out,
			     int max);
/* All-time totals of a slot by reason (for status/metrics), most first. */
int pc_drops_totals(const struct pc_drops *d, int slot, struct pc_alert_drop *out, int max);
/* The drop samples of a slot (pc_drop_samples), read whole under the tracer's lock: the
 * non-empty ones into out. Returns how many, or -errno. */
int pc_drops_samples(int fd, int slot, struct pc_drop_sample out[PC_DROP_SAMPLES]);
/* Pure: the samples worth replaying, into out: of `reason`, dropped at or after since_ns,
 * connection openings (TCP SYN) first, then newest first. Returns how many. */
int pc_drops_samples_pick(const struct pc_drop_sample *in, int n, uint32_t reason,
			  uint64_t since_ns, struct pc_drop_sample *out);

#endif
