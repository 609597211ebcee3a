/* SPDX-License-Identifier: GPL-2.0 */
/* sampler.h: each interval, batch-read the per-CPU maps, sum the CPUs, compute deltas and rates. */
#ifndef PC_SAMPLER_H
#define PC_SAMPLER_H

#include <stdbool.h>

#include "portcanary.h"

struct pc_sampler {
	int counters_fd;
	int global_fd;
	int ncpus;
	void *keys; /* batch-read buffers */
	void *values;
	double last_time; /* CLOCK_MONOTONIC seconds of the last read, 0 before */
	double dt;	  /* seconds between the last two reads */
	struct pc_counters total[PC_MAX_SLOTS]; /* summed over CPUs, as of the last read */
	struct pc_counters delta[PC_MAX_SLOTS]; /* since the read before */
	struct pc_global global[PC_HOOK_MAX];
};

int pc_sampler_init(struct pc_sampler *s, int counters_fd, int global_fd);
void pc_sampler_free(struct pc_sampler *s);
/* Read slots [0, span) and the global counters; `now` is CLOCK_MONOTONIC seconds. */
int pc_sampler_read(struct pc_sampler *s, int span, double now);
/* Read slots [0, span) summed into out[] (PC_MAX_SLOTS entries) without touching
 * the per-slot state (totals, deltas): fresh totals for `status` between two
 * intervals. The global counters are refreshed in place. */
int pc_sampler_peek(struct pc_sampler *s, int span, struct pc_counters *out);
/* Forget a slot's history (a slot given to another port). */
void pc_sampler_reset_slot(struct pc_sampler *s, int slot);

/* Pure helpers (unit-tested). */
void pc_counters_sum(const struct pc_counters *percpu, int ncpus, struct pc_counters *out);
void pc_global_sum(const struct pc_global *percpu, int ncpus, struct pc_global *out);
/* cur - prev, field by field; a field that went back (slot reset) counts from 0. */
void pc_counters_delta(const struct pc_counters *cur, const struct pc_counters *prev,
		       struct pc_counters *out);

#endif
