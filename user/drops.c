// SPDX-License-Identifier: GPL-2.0
/* drops.c: reads the drop table; drop counts per slot and reason, by class, with history. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "alerts.h"
#include "drops.h"
#include "log.h"

int pc_drops_init(struct pc_drops *d, const struct pc_drop_table *t,
		  const struct pc_dropreasons *names)
{
	memset(d, 0, sizeof(*d));
	d->t = t;
	d->names = names;
	d->e = calloc(PC_MAX_DROP_KEYS, sizeof(*d->e));
	d->at = calloc(PC_MAX_DROP_KEYS, sizeof(*d->at));
	if (!d->e || !d->at) {
		pc_drops_free(d);
		return -ENOMEM;
	}
	return 0;
}

void pc_drops_free(struct pc_drops *d)
{
	free(d->e);
	free(d->at);
	d->e = NULL;
	d->at = NULL;
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

/* The entry of (slot, reason): a binary search over the sorted ones, [0, sorted), then the
 * ones appended since, or -1. */
static int find(const struct pc_drops *d, int sorted, uint16_t slot, uint32_t reason)
{
	int lo = 0, hi = sorted - 1, i;

	while (lo <= hi) {
		int mid = (lo + hi) / 2,
		    c = key_cmp(d->e[mid].slot, d->e[mid].reason, slot, reason);

		if (!c)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	for (i = sorted; i < d->n; i++)
		if (d->e[i].slot == slot && d->e[i].reason == reason)
			return i;
	return -1;
}

/*
 * Add index i's count (key k) to its entry's total of this read. The entry an index held
 * last time is remembered (at[i], checked against the key: entries move when new ones are
 * sorted in), so a steady table costs no search. Returns whether an entry was added.
 */
static bool take(struct pc_drops *d, int sorted, int i, __u64 k)
{
	uint16_t slot = PC_DROP_KEY_SLOT(k);
	uint32_t reason = PC_DROP_KEY_REASON(k);
	struct pc_drop_entry *e;
	bool added = false;
	int at = d->at[i];

	if (!slot || slot >= PC_MAX_SLOTS)
		return false;
	if (at < 0 || at >= d->n || d->e[at].slot != slot || d->e[at].reason != reason) {
		at = find(d, sorted, slot, reason);
		if (at < 0) {
			if (d->n >= PC_MAX_DROP_KEYS)
				return false;
			at = d->n++;
			e = &d->e[at];
			memset(e, 0, sizeof(*e));
			e->slot = slot;
			e->reason = reason;
			e->cls = pc_dropreason_class(d->names, reason);
			added = true;
		}
		d->at[i] = at;
	}
	e = &d->e[at];
	if (!e->seen)
		e->now = 0;
	e->now += pc_drop_table_count(d->t, i);
	e->seen = true;
	return added;
}

int pc_drops_read(struct pc_drops *d)
{
	int i, j, added = 0, n0 = d->n, used = 0;

	/* Only slots with entries have anything to clear: not 2,048 slots' worth every interval
	 * (a slot gets its first entry below with its figures still zero). */
	for (i = 0; i < d->n; i++) {
		memset(d->delta_class[d->e[i].slot], 0, sizeof(d->delta_class[0]));
		d->slot_delta[d->e[i].slot] = 0;
		d->slot_total[d->e[i].slot] = 0;
		d->e[i].seen = false;
	}
	if (!d->t)
		return 0;
	/* Advance the history ring: hist[hist_pos] becomes the total as of now. */
	d->hist_pos = (d->hist_pos + 1) % PC_DROPS_HIST;
	/* The table in place: one pass over its keys, the counts of the used indices. */
	for (i = 0; i < PC_MAX_DROP_KEYS; i++) {
		__u64 k = pc_drop_table_key(d->t, i);

		if (!k)
			continue;
		used++;
		added |= take(d, n0, i, k);
	}
	if (used >= PC_MAX_DROP_KEYS / 2 && !d->warned_full) {
		pc_warn("the drop table holds %d of its %d (port, drop reason) keys: the fuller "
			"it is, the likelier a new pair's drops go uncounted by reason",
			used, PC_MAX_DROP_KEYS);
		d->warned_full = true;
	}
	/* Entries whose keys are gone (a slot given to another port: pc_drop_table_forget)
	 * are forgotten, so the new port starts without the old one's drops. */
	for (i = j = 0; i < d->n; i++) {
		struct pc_drop_entry *e = &d->e[i];
		uint64_t delta;

		if (!e->seen)
			continue;
		delta = e->now >= e->total ? e->now - e->total : e->now;
		e->total = e->now;
		d->delta_class[e->slot][e->cls] += delta;
		d->slot_delta[e->slot] += delta;
		d->e[j++] = *e;
	}
	d->n = j;
	/* New entries were appended unsorted (the remembered indices recover by search). */
	if (added)
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
