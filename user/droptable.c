// SPDX-License-Identifier: GPL-2.0
/* droptable.c: the drop tracer's table of (slot, reason) counts, mapped and read in place. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "droptable.h"

#define KEYS_LEN ((size_t)PC_MAX_DROP_KEYS * sizeof(__u64))

static void *map_rw(int fd, size_t len)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return m == MAP_FAILED ? NULL : m;
}

int pc_drop_table_open(struct pc_drop_table *t, int keys_fd, int counts_fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int err;

	memset(t, 0, sizeof(*t));
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0)
		return -EINVAL;
	if (bpf_obj_get_info_by_fd(counts_fd, &info, &len))
		return -errno;
	if (info.max_entries != (__u32)t->ncpus * PC_MAX_DROP_KEYS ||
	    info.value_size != sizeof(__u64))
		return -EINVAL; /* not sized for this host (pc_bpf_prepare) */
	t->keys = map_rw(keys_fd, KEYS_LEN);
	if (!t->keys)
		return -errno;
	t->counts = map_rw(counts_fd, KEYS_LEN * t->ncpus);
	if (!t->counts) {
		err = -errno;
		pc_drop_table_close(t);
		return err;
	}
	return 0;
}

void pc_drop_table_close(struct pc_drop_table *t)
{
	if (t->keys)
		munmap((void *)t->keys, KEYS_LEN);
	if (t->counts)
		munmap((void *)t->counts, KEYS_LEN * t->ncpus);
	t->keys = NULL;
	t->counts = NULL;
}

uint64_t pc_drop_table_count(const struct pc_drop_table *t, int i)
{
	uint64_t n = 0;
	int c;

	for (c = 0; c < t->ncpus; c++)
		n += t->counts[PC_DROP_COUNTS_KEY(c, i)];
	return n;
}

void pc_drop_table_forget(struct pc_drop_table *t, const bool forget[PC_MAX_SLOTS])
{
	int i, c;

	if (!t->keys)
		return;
	for (i = 0; i < PC_MAX_DROP_KEYS; i++) {
		__u64 k = t->keys[i];

		if (!k || PC_DROP_KEY_SLOT(k) >= PC_MAX_SLOTS || !forget[PC_DROP_KEY_SLOT(k)])
			continue;
		/*
		 * Key first, then the counts: only a tracer that matched the key before it was
		 * freed can still add after the zeroing, one drop, to whichever key claims the
		 * index next (a window of a few instructions, and the slot is out of the port
		 * table by then: the tracer has stopped finding it).
		 */
		t->keys[i] = 0;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		for (c = 0; c < t->ncpus; c++)
			t->counts[PC_DROP_COUNTS_KEY(c, i)] = 0;
	}
}
