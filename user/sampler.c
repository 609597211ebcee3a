// SPDX-License-Identifier: GPL-2.0
/* sampler.c: the counters read in place (mmap) and summed over CPUs; deltas, derived counts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "sampler.h"

#define NFIELDS(type) (sizeof(type) / sizeof(__u64))

static void sum_u64(const __u64 *in, int ncpus, size_t n, __u64 *out)
{
	size_t f;
	int c;

	memset(out, 0, n * sizeof(*out));
	for (c = 0; c < ncpus; c++)
		for (f = 0; f < n; f++)
			out[f] += in[(size_t)c * n + f];
}

void pc_slot_sum(const struct pc_slot_counters *percpu, int ncpus, size_t stride,
		 struct pc_slot_counters *out)
{
	const __u64 *in;
	__u64 *o = (__u64 *)out;
	size_t f;
	int c;

	memset(out, 0, sizeof(*out));
	for (c = 0; c < ncpus; c++) {
		in = (const __u64 *)&percpu[(size_t)c * stride];
		for (f = 0; f < NFIELDS(*out); f++)
			o[f] += in[f];
	}
}

void pc_hook_stats_sum(const struct pc_hook_stats *percpu, int ncpus, struct pc_hook_stats *out)
{
	sum_u64((const __u64 *)percpu, ncpus, NFIELDS(*out), (__u64 *)out);
}

static void delta_u64(const __u64 *c, const __u64 *p, size_t n, __u64 *o)
{
	size_t f;

	for (f = 0; f < n; f++)
		o[f] = c[f] >= p[f] ? c[f] - p[f] : c[f];
}

void pc_slot_delta(const struct pc_slot_counters *cur, const struct pc_slot_counters *prev,
		   struct pc_slot_counters *out)
{
	delta_u64((const __u64 *)cur, (const __u64 *)prev, NFIELDS(*out), (__u64 *)out);
}

void pc_counters_delta(const struct pc_counters *cur, const struct pc_counters *prev,
		       struct pc_counters *out)
{
	delta_u64((const __u64 *)cur, (const __u64 *)prev, NFIELDS(*out), (__u64 *)out);
}

/* Packets of a hook's counters: every class but ICMP errors, which are about a port. */
static __u64 packets_of(const __u64 *cls)
{
	__u64 n = 0;
	int c;

	for (c = 0; c < PC_CLS_MAX; c++)
		if (c != PC_CLS_ICMP_UNREACH)
			n += cls[c];
	return n;
}

void pc_counters_from_slot(const struct pc_slot_counters *raw, struct pc_counters *out)
{
	struct pc_hook_counters rx;
	const struct pc_hook_counters *tx = &raw->hook[PC_HOOK_TC_EGRESS];
	int c;

	/* one ingress view: XDP on some interfaces, TC ingress on others */
	rx.bytes = raw->hook[PC_HOOK_XDP].bytes + raw->hook[PC_HOOK_TC_INGRESS].bytes;
	for (c = 0; c < PC_CLS_MAX; c++)
		rx.cls[c] = raw->hook[PC_HOOK_XDP].cls[c] + raw->hook[PC_HOOK_TC_INGRESS].cls[c];
	*out = (struct pc_counters){
		.rx_packets = packets_of(rx.cls),
		.rx_bytes = rx.bytes,
		.rx_syn = rx.cls[PC_CLS_SYN],
		.rx_synack = rx.cls[PC_CLS_SYNACK],
		.rx_rst = rx.cls[PC_CLS_RST],
		.rx_icmp_unreach = rx.cls[PC_CLS_ICMP_UNREACH],
		.rx_badflags = rx.cls[PC_CLS_BADFLAGS],
		.tx_packets = packets_of(tx->cls),
		.tx_bytes = tx->bytes,
		.tx_syn = tx->cls[PC_CLS_SYN],
		.tx_synack = tx->cls[PC_CLS_SYNACK],
		.tx_rst = tx->cls[PC_CLS_RST],
		.tx_icmp_unreach = tx->cls[PC_CLS_ICMP_UNREACH],
		.tx_badflags = tx->cls[PC_CLS_BADFLAGS],
	};
}

void pc_global_derive(const struct pc_hook_counters *all, const struct pc_hook_counters *slot0,
		      const struct pc_hook_stats *st, struct pc_global *out)
{
	__u64 counted = 0, dup = 0, unmon = 0;
	int c;

	*out = (struct pc_global){
		.not_ip = st->not_ip,
		.malformed = st->malformed,
		.frag_nonfirst = st->frag_nonfirst,
		.other_l4 = st->other_l4,
		.foreign_netns = st->foreign_netns,
	};
	if (!all) {
		/* the drop tracer is off the packet path: it counts its totals itself */
		out->packets = st->seen;
		out->monitored = st->monitored;
		return;
	}
	for (c = 0; c < PC_CLS_MAX; c++) {
		counted += all->cls[c];
		unmon += slot0->cls[c];
		dup += st->dup[c];
	}
	/* a packet counted on two slots is one packet; only monitored slots share one */
	out->packets = counted - dup + st->not_ip + st->malformed + st->frag_nonfirst +
		       st->other_l4 + st->icmp_noport;
	out->monitored = counted - unmon - dup;
	out->icmp_errors =
		all->cls[PC_CLS_ICMP_UNREACH] - st->dup[PC_CLS_ICMP_UNREACH] + st->icmp_noport;
	out->invalid_flags = all->cls[PC_CLS_BADFLAGS] - st->dup[PC_CLS_BADFLAGS];
}

int pc_sampler_init(struct pc_sampler *s, int counters_fd, int global_fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	void *m;

	memset(s, 0, sizeof(*s));
	s->counters_fd = counters_fd;
	s->global_fd = global_fd;
	s->ncpus = libbpf_num_possible_cpus();
	if (s->ncpus <= 0)
		return -EINVAL;
	if (bpf_obj_get_info_by_fd(counters_fd, &info, &len))
		return -errno;
	if (info.max_entries < (__u32)s->ncpus * PC_MAX_SLOTS ||
	    info.value_size != sizeof(struct pc_slot_counters))
		return -EINVAL; /* not sized for this host (pc_bpf_prepare) */
	s->map_len = (size_t)info.max_entries * info.value_size;
	m = mmap(NULL, s->map_len, PROT_READ, MAP_SHARED, counters_fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	s->map = m;
	s->values = calloc(s->ncpus, sizeof(struct pc_hook_stats));
	if (!s->values) {
		pc_sampler_free(s);
		return -ENOMEM;
	}
	return 0;
}

void pc_sampler_free(struct pc_sampler *s)
{
	if (s->map)
		munmap((void *)s->map, s->map_len);
	s->map = NULL;
	free(s->values);
	s->values = NULL;
}

/*
 * d = now - *raw field by field (a field that went back counts from 0, as pc_slot_delta);
 * the hooks' totals acc (PC_NR_PKT_HOOKS of them, laid out as now's hooks) += d; *raw = now.
 * Every struct here is flat u64 fields of the same layout (reserved fields stay 0).
 */
static void delta_fold(const struct pc_slot_counters *now, struct pc_slot_counters *raw,
		       struct pc_slot_counters *d, struct pc_hook_counters *acc)
{
	const __u64 *n = (const __u64 *)now;
	__u64 *r = (__u64 *)raw, *o = (__u64 *)d, *a = (__u64 *)acc;
	size_t f;

	_Static_assert(sizeof(struct pc_hook_counters) * PC_NR_PKT_HOOKS ==
			       sizeof(struct pc_slot_counters),
		       "the hooks' totals are laid out as a slot's counters");
	for (f = 0; f < NFIELDS(*now); f++) {
		o[f] = n[f] >= r[f] ? n[f] - r[f] : n[f];
		a[f] += o[f];
		r[f] = n[f];
	}
}

/* Slots [0, span) (slot 0, the unmonitored packets, always), read in place from the map.
 * With out == NULL the sampler's state is updated (raw totals, deltas, the hooks' accumulated
 * counts), else out[] is filled. */
static int read_counters(struct pc_sampler *s, int span, struct pc_counters *out)
{
	int slot;

	if (!s->map)
		return -EINVAL;
	if (span < 1)
		span = 1;
	for (slot = 0; slot < span && slot < PC_MAX_SLOTS; slot++) {
		struct pc_slot_counters now, d;

		pc_slot_sum(&s->map[slot], s->ncpus, PC_MAX_SLOTS, &now);
		if (out) {
			pc_counters_from_slot(&now, &out[slot]);
			continue;
		}
		/* delta, the hooks' totals and the new raw in one walk over the fields */
		delta_fold(&now, &s->raw[slot], &d, s->all);
		pc_counters_from_slot(&d, &s->delta[slot]);
	}
	return 0;
}

static int read_global(struct pc_sampler *s)
{
	struct pc_hook_stats *v = s->values;
	__u32 key;

	for (key = 0; key < PC_HOOK_MAX; key++) {
		if (bpf_map_lookup_elem(s->global_fd, &key, v))
			return -errno;
		pc_hook_stats_sum(v, s->ncpus, &s->stats[key]);
	}
	for (key = 0; key < PC_HOOK_MAX; key++)
		pc_global_derive(key < PC_NR_PKT_HOOKS ? &s->all[key] : NULL,
				 key < PC_NR_PKT_HOOKS ? &s->raw[0].hook[key] : NULL,
				 &s->stats[key], &s->global[key]);
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
	/* The hooks' totals stay as of the last interval: they are accumulated from deltas. */
	return read_counters(s, span, out);
}

void pc_sampler_total(const struct pc_sampler *s, int slot, struct pc_counters *out)
{
	pc_counters_from_slot(&s->raw[slot], out);
}

