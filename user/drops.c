// SPDX-License-Identifier: GPL-2.0
/* drops.c: reads the per-CPU pc_drops hash; drop counts per slot and reason, by class. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "alerts.h"
#include "drops.h"
#include "log.h"

int pc_drops_init(struct pc_drops *d, int fd, const struct pc_dropreasons *names)
{
	memset(d, 0, sizeof(*d));
	d->fd = fd;
	d->names = names;
	d->ncpus = libbpf_num_possible_cpus();
	d->e = calloc(PC_MAX_DROP_KEYS, sizeof(*d->e));
	d->percpu = calloc(d->ncpus, sizeof(uint64_t));
	d->bkeys = calloc(PC_DROPS_BATCH, sizeof(*d->bkeys));
	d->bvalues = calloc((size_t)PC_DROPS_BATCH * d->ncpus, sizeof(uint64_t));
	if (!d->e || !d->percpu || !d->bkeys || !d->bvalues) {
		pc_drops_free(d);
		return -ENOMEM;
	}
	return 0;
}

void pc_drops_free(struct pc_drops *d)
{
	free(d->e);
	free(d->percpu);
	free(d->bkeys);
	free(d->bvalues);
	d->e = NULL;
	d->percpu = NULL;
	d->bkeys = NULL;
	d->bvalues = NULL;
}

static int key_cmp(uint16_t s1, uint32_t r1, uint16_t s2, uint32_t r2)
{
	if (s1 != s2)
		return s1 < s2 ? -1 : 1;
	if (r1 != r2)
		return r1 < r2 ? -1 : 1;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct pc_drop_entry *x = a, *y = b;

	return key_cmp(x->slot, x->reason, y->slot, y->reason);
}

static struct pc_drop_entry *find(struct pc_drops *d, uint16_t slot, uint32_t reason)
{
	int lo = 0, hi = d->n - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2,
		    c = key_cmp(d->e[mid].slot, d->e[mid].reason, slot, reason);

		if (!c)
			return &d->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/* Fold one key's per-CPU counts into the entries; sets *added for a key seen the first time. */
static void take(struct pc_drops *d, const struct pc_drop_key *k, const uint64_t *percpu,
		 int *added)
{
	struct pc_drop_entry *e;
	uint64_t total = 0, delta;
	int c;

	if (k->slot >= PC_MAX_SLOTS)
		return;
	for (c = 0; c < d->ncpus; c++)
		total += percpu[c];
	e = find(d, k->slot, k->reason);
	if (!e) {
		if (d->n >= PC_MAX_DROP_KEYS)
			return;
		e = &d->e[d->n++];
		memset(e, 0, sizeof(*e));
		e->slot = k->slot;
		e->reason = k->reason;
		e->cls = pc_dropreason_class(d->names, k->reason);
		*added = 1;
	}
	delta = total >= e->total ? total - e->total : total;
	e->total = total;
	e->seen = true;
	d->delta_class[k->slot][e->cls] += delta;
	d->slot_delta[k->slot] += delta;
}

/* The whole map in batches of PC_DROPS_BATCH keys: a few syscalls, not two per key.
 * Returns 0, or -EOPNOTSUPP where the kernel has no batch lookup for this map. */
static int read_batched(struct pc_drops *d, int *added)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 in_batch = 0, out_batch = 0, count, i;
	bool first = true;
	int err;

	do {
		count = PC_DROPS_BATCH;
		err = bpf_map_lookup_batch(d->fd, first ? NULL : &in_batch, &out_batch, d->bkeys,
					   d->bvalues, &count, &opts);
		if (err && errno != ENOENT) {
			if (first &&
			    (errno == EINVAL || errno == 524 /* ENOTSUPP */ || errno == EOPNOTSUPP))
				return -EOPNOTSUPP;
			return -errno;
		}
		for (i = 0; i < count; i++)
			take(d, &d->bkeys[i], d->bvalues + (size_t)i * d->ncpus, added);
		in_batch = out_batch;
		first = false;
	} while (!err);
	return 0;
}

int pc_drops_read(struct pc_drops *d)
{
	struct pc_drop_key key, next, *prev = NULL;
	int i, j, added = 0, n0 = d->n, err;

	/* Only slots with entries have anything to clear: not 2,048 slots' worth every interval
	 * (a slot gets its first entry below with its figures still zero). */
	for (i = 0; i < d->n; i++) {
		memset(d->delta_class[d->e[i].slot], 0, sizeof(d->delta_class[0]));
		d->slot_delta[d->e[i].slot] = 0;
		d->slot_total[d->e[i].slot] = 0;
		d->e[i].seen = false;
	}
	if (d->fd < 0)
		return 0;
	/* Advance the history ring: hist[hist_pos] becomes the total as of now. */
	d->hist_pos = (d->hist_pos + 1) % PC_DROPS_HIST;
	/*
	 * A batch read walks every bucket of the hash (PC_MAX_DROP_KEYS), locking each: worth
	 * it for many entries, not for a few, where walking the keys is cheaper.
	 */
	err = d->n >= PC_DROPS_BATCH_FROM ? read_batched(d, &added) : -EOPNOTSUPP;
	if (err == -EOPNOTSUPP) {
		while (bpf_map_get_next_key(d->fd, prev, &next) == 0) {
			key = next;
			prev = &key;
			if (!bpf_map_lookup_elem(d->fd, &next, d->percpu))
				take(d, &next, d->percpu, &added);
		}
	}
	/* Keys gone from the map (a slot given to another port: pc_drops_forget_slot) go from
	 * the entries too, so the new port starts without the old one's drops; a read that
	 * failed part way forgets nothing. */
	for (i = j = 0; i < d->n; i++)
		if (d->e[i].seen || (err && err != -EOPNOTSUPP))
			d->e[j++] = d->e[i];
	n0 -= d->n - j;
	d->n = j;
	/* New entries were appended unsorted: sort once; their history is zero. */
	if (added && d->n > n0)
		qsort(d->e, d->n, sizeof(*d->e), entry_cmp);
	for (i = 0; i < d->n; i++) {
		d->e[i].hist[d->hist_pos] = d->e[i].total;
		d->slot_total[d->e[i].slot] += d->e[i].total;
	}
	return 0;
}

static int count_desc(const void *a, const void *b)
{
	const struct pc_alert_drop *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->reason, y->reason);
}

/* A slot's drops by reason, most first: over the last PC_DROPS_HIST intervals or all time.
 * For an event's evidence (recent), frees the kernel gives no specific reason for
 * (NOT_SPECIFIED and other unclassified ones: TCP teardown frees them all day) are
 * left out when a specific reason is there to show. */
/* Index of the first entry of a slot (entries are sorted by slot, then reason). */
static int slot_start(const struct pc_drops *d, int slot)
{
	int lo = 0, hi = d->n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (d->e[mid].slot < slot)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int collect(const struct pc_drops *d, int slot, struct pc_alert_drop *out, int max,
		   bool recent, bool specific_only)
{
	struct pc_alert_drop all[64];
	int oldest = (d->hist_pos + 1) % PC_DROPS_HIST;
	int first = slot_start(d, slot), end, i, n = 0;
	bool specific = specific_only;

	for (end = first; end < d->n && d->e[end].slot == slot; end++)
		if (recent && d->e[end].total != d->e[end].hist[oldest] &&
		    pc_dropreason_class(d->names, d->e[end].reason) > PC_DROP_CLASS_OTHER)
			specific = true;
	for (i = first; i < end && n < 64; i++) {
		const struct pc_drop_entry *e = &d->e[i];
		uint64_t base = recent && e->hist[oldest] <= e->total ? e->hist[oldest] : 0;
		const char *name;

		if (e->total == base)
			continue;
		if (specific && pc_dropreason_class(d->names, e->reason) <= PC_DROP_CLASS_OTHER)
			continue;
		name = pc_dropreason_name(d->names, e->reason);
		all[n].reason = name ? name : "UNKNOWN";
		all[n].count = e->total - base;
		n++;
	}
	qsort(all, n, sizeof(all[0]), count_desc);
	if (n > max)
		n = max;
	memcpy(out, all, n * sizeof(all[0]));
	return n;
}

int pc_drops_recent(const struct pc_drops *d, int slot, struct pc_alert_drop *out, int max)
{
	return collect(d, slot, out, max, true, false);
}

int pc_drops_recent_specific(const struct pc_drops *d, int slot, struct pc_alert_drop *out, int max)
{
	return collect(d, slot, out, max, true, true);
}

int pc_drops_totals(const struct pc_drops *d, int slot, struct pc_alert_drop *out, int max)
{
	return collect(d, slot, out, max, false, false);
}

void pc_drops_forget_slot(int fd, int slot)
{
	struct pc_drop_key key, next, *prev = NULL;
	struct pc_drop_key doomed[64];
	int n, i;

	if (fd < 0)
		return;
	/* Collect, then delete: deleting while walking a hash restarts the walk. */
	do {
		n = 0;
		prev = NULL;
		while (n < 64 && bpf_map_get_next_key(fd, prev, &next) == 0) {
			key = next;
			prev = &key;
			if (next.slot == slot)
				doomed[n++] = next;
		}
		for (i = 0; i < n; i++)
			bpf_map_delete_elem(fd, &doomed[i]);
	} while (n == 64);
}

int pc_drops_samples(int fd, int slot, struct pc_drop_sample out[PC_DROP_SAMPLES])
{
	struct pc_drop_samples v;
	__u32 key = slot;
	int i, n = 0;

	if (fd < 0)
		return -EBADF;
	/* BPF_F_LOCK: the copy is taken under the value's spin lock, so no sample is torn. */
	if (bpf_map_lookup_elem_flags(fd, &key, &v, BPF_F_LOCK))
		return -errno;
	for (i = 0; i < PC_DROP_SAMPLES; i++)
		if (v.s[i].time_ns)
			out[n++] = v.s[i];
	return n;
}

static bool sample_is_syn(const struct pc_drop_sample *s)
{
	return s->proto == PC_PROTO_TCP && (s->tcp_flags & 0x12) == 0x02;
}

static int sample_order(const void *a, const void *b)
{
	const struct pc_drop_sample *x = a, *y = b;

	if (sample_is_syn(x) != sample_is_syn(y))
		return sample_is_syn(x) ? -1 : 1;
	return x->time_ns > y->time_ns ? -1 : x->time_ns < y->time_ns ? 1 : 0;
}

int pc_drops_samples_pick(const struct pc_drop_sample *in, int n, uint32_t reason,
			  uint64_t since_ns, struct pc_drop_sample *out)
{
	int i, k = 0;

	for (i = 0; i < n; i++)
		if (in[i].time_ns && in[i].reason == reason && in[i].time_ns >= since_ns)
			out[k++] = in[i];
	/* A replayed opening meets the rules as the live one did; see user/preflight/replay.c. */
	qsort(out, k, sizeof(*out), sample_order);
	return k;
}
