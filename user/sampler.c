// SPDX-License-Identifier: GPL-2.0
/* sampler.c: batch reads of the per-CPU counter maps; sums and deltas. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "sampler.h"

#define NFIELDS(type) (sizeof(type) / sizeof(__u64))

void pc_counters_sum(const struct pc_counters *percpu, int ncpus, struct pc_counters *out)
{
	const __u64 *in = (const __u64 *)percpu;
	__u64 *o = (__u64 *)out;
	size_t f;
	int c;

	memset(out, 0, sizeof(*out));
	for (c = 0; c < ncpus; c++)
		for (f = 0; f < NFIELDS(struct pc_counters); f++)
			o[f] += in[c * NFIELDS(struct pc_counters) + f];
}

void pc_global_sum(const struct pc_global *percpu, int ncpus, struct pc_global *out)
{
	const __u64 *in = (const __u64 *)percpu;
	__u64 *o = (__u64 *)out;
	size_t f;
	int c;

	memset(out, 0, sizeof(*out));
	for (c = 0; c < ncpus; c++)
		for (f = 0; f < NFIELDS(struct pc_global); f++)
			o[f] += in[c * NFIELDS(struct pc_global) + f];
}

void pc_counters_delta(const struct pc_counters *cur, const struct pc_counters *prev,
		       struct pc_counters *out)
{
	const __u64 *c = (const __u64 *)cur, *p = (const __u64 *)prev;
	__u64 *o = (__u64 *)out;
	size_t f;

	for (f = 0; f < NFIELDS(struct pc_counters); f++)
		o[f] = c[f] >= p[f] ? c[f] - p[f] : c[f];
}

int pc_sampler_init(struct pc_sampler *s, int counters_fd, int global_fd)
{
	memset(s, 0, sizeof(*s));
	s->counters_fd = counters_fd;
	s->global_fd = global_fd;
	s->ncpus = libbpf_num_possible_cpus();
	if (s->ncpus <= 0)
		return -EINVAL;
	s->keys = calloc(PC_MAX_SLOTS, sizeof(__u32));
	s->values = calloc((size_t)PC_MAX_SLOTS * s->ncpus, sizeof(struct pc_counters));
	if (!s->keys || !s->values) {
		pc_sampler_free(s);
		return -ENOMEM;
	}
	return 0;
}

void pc_sampler_free(struct pc_sampler *s)
{
	free(s->keys);
	free(s->values);
	s->keys = s->values = NULL;
}

/* One syscall for all slots in use; per-key lookups only where batches are missing.
 * With out == NULL the sampler's totals and deltas are updated, else out[] is filled. */
static int read_counters(struct pc_sampler *s, int span, struct pc_counters *out)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = span, out_batch = 0, key;
	struct pc_counters *v = s->values;
	int err, i;

	if (span <= 0)
		return 0;
	err = bpf_map_lookup_batch(s->counters_fd, NULL, &out_batch, s->keys, s->values, &count,
				   &opts);
	if (err && errno != ENOENT) {
		if (errno != EINVAL && errno != 524 /* ENOTSUPP */ && errno != EOPNOTSUPP)
			return -errno;
		for (key = 0; key < (__u32)span; key++) {
			if (bpf_map_lookup_elem(s->counters_fd, &key, v + (size_t)key * s->ncpus))
				return -errno;
			((__u32 *)s->keys)[key] = key;
		}
		count = span;
	}
	for (i = 0; i < (int)count && i < span; i++) {
		__u32 slot = ((__u32 *)s->keys)[i];
		struct pc_counters now;

		if (slot >= PC_MAX_SLOTS)
			continue;
		pc_counters_sum(v + (size_t)i * s->ncpus, s->ncpus, &now);
		if (out) {
			out[slot] = now;
			continue;
		}
		pc_counters_delta(&now, &s->total[slot], &s->delta[slot]);
		s->total[slot] = now;
	}
	return 0;
}

static int read_global(struct pc_sampler *s)
{
	struct pc_global *v = s->values;
	__u32 key;

	for (key = 0; key < PC_HOOK_MAX; key++) {
		if (bpf_map_lookup_elem(s->global_fd, &key, v))
			return -errno;
		pc_global_sum(v, s->ncpus, &s->global[key]);
	}
	return 0;
}

int pc_sampler_read(struct pc_sampler *s, int span, double now)
{
	int err;

	err = read_counters(s, span, NULL);
	if (!err)
		err = read_global(s);
	if (err) {
		pc_warn("cannot read counters: %s", strerror(-err));
		return err;
	}
	s->dt = s->last_time > 0 ? now - s->last_time : 0;
	s->last_time = now;
	return 0;
}

int pc_sampler_peek(struct pc_sampler *s, int span, struct pc_counters *out)
{
	int err = read_counters(s, span, out);

	/* The global counters feed no detector: refreshing them has no side effect. */
	return err ? err : read_global(s);
}

void pc_sampler_reset_slot(struct pc_sampler *s, int slot)
{
	memset(&s->total[slot], 0, sizeof(s->total[slot]));
	memset(&s->delta[slot], 0, sizeof(s->delta[slot]));
}
