/* SPDX-License-Identifier: GPL-2.0 */
/* portset.h: which ports are monitored: counter slots in the port table (the BPF .bss, mmapped). */
#ifndef PC_PORTSET_H
#define PC_PORTSET_H

#include <stdbool.h>
#include <stdint.h>

#include "portcanary.h"
#include "portspec.h"

struct pc_drop_table;

struct pc_slot_info {
	uint16_t port;
	uint8_t proto;
	uint8_t dir;
	bool used;
};

struct pc_portset {
	struct pc_port_table *table; /* mmap of the .bss map (shared with the datapath) */
	int counters_fd;
	struct pc_drop_table *drops; /* NULL: no drop table */
	int ncpus;
	struct pc_slot_info slots[PC_MAX_SLOTS];
	int nused;
	int span;     /* the highest slot in use + 1 */
	uint64_t gen; /* bumped whenever the monitored set changes (1 after open) */
};

/* Map the table and rebuild the slot list from it (slots survive restarts). */
int pc_portset_open(struct pc_portset *ps, int ports_fd, int counters_fd,
		    struct pc_drop_table *drops);
void pc_portset_close(struct pc_portset *ps);

/* Make the monitored set exactly `specs`: ports that stay keep their slot and
 * counters; new ports get a zeroed slot before the datapath can see them.
 * Returns 0, or -E2BIG (nothing changed) when the set would not fit. */
int pc_portset_apply(struct pc_portset *ps, const struct pc_portspec *specs, int nspecs);

int pc_portset_slot(const struct pc_portset *ps, int proto, int dir, int port);
/* The highest slot in use + 1 (0 when none), for batch reads. */
int pc_portset_span(const struct pc_portset *ps);

#endif
