/* SPDX-License-Identifier: GPL-2.0 */
/* droptable.h: the drop tracer's table of (slot, reason) counts, mapped and read in place. */
#ifndef PC_DROPTABLE_H
#define PC_DROPTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portcanary.h"

/* pc_drop_keys and pc_drops (see portcanary.h), both mmapped read-write: user space reads
 * keys and counts and frees a slot's keys; the tracer claims keys and counts. */
struct pc_drop_table {
	int ncpus;
	volatile __u64 *keys;	/* PC_MAX_DROP_KEYS */
	volatile __u64 *counts; /* ncpus x PC_MAX_DROP_KEYS, CPU-major */
};

/* Map both arrays; 0 or -errno (-EINVAL: not sized for this host's CPUs). */
int pc_drop_table_open(struct pc_drop_table *t, int keys_fd, int counts_fd);
void pc_drop_table_close(struct pc_drop_table *t);

/* The key at index i (PC_DROP_KEY; 0: free). */
static inline __u64 pc_drop_table_key(const struct pc_drop_table *t, int i)
{
	return t->keys[i];
}

/* The count at index i, summed over the CPUs. */
uint64_t pc_drop_table_count(const struct pc_drop_table *t, int i);

/* Free every index of the slots marked in forget[] (a slot that goes to another port), counts
 * zeroed: one pass over the table, however many slots. */
void pc_drop_table_forget(struct pc_drop_table *t, const bool forget[PC_MAX_SLOTS]);

#endif
