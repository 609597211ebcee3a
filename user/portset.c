// SPDX-License-Identifier: GPL-2.0
/* portset.c: slot allocation in the port table (BPF .bss); a new slot is zeroed first. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "drops.h"
#include "log.h"
#include "portset.h"

static void changed(struct pc_portset *ps);

int pc_portset_open(struct pc_portset *ps, int ports_fd, int counters_fd,
		    struct pc_drop_table *drops)
{
	int proto, dir, port;
	void *m;

	memset(ps, 0, sizeof(*ps));
	m = mmap(NULL, sizeof(struct pc_port_table), PROT_READ | PROT_WRITE, MAP_SHARED, ports_fd,
		 0);
	if (m == MAP_FAILED) {
		pc_err("cannot map the port table: %s", strerror(errno));
		return -errno;
	}
	ps->table = m;
	ps->counters_fd = counters_fd;
	ps->drops = drops;
	ps->ncpus = libbpf_num_possible_cpus();
	for (proto = 0; proto < PC_PROTO_MAX; proto++)
		for (dir = 0; dir < PC_DIR_MAX; dir++)
			for (port = 0; port < PC_NR_PORTS; port++) {
				__u16 *entry = &ps->table->slot[PC_PORT_INDEX(port)][proto][dir];
				unsigned int s = *entry;

				if (!s)
					continue;
				if (s >= PC_MAX_SLOTS || ps->slots[s].used) {
					/* A corrupt entry: forget it rather than share a slot. */
					*entry = 0;
					continue;
				}
				ps->slots[s] = (struct pc_slot_info){port, proto, dir, true};
				ps->nused++;
			}
	changed(ps);
	return 0;
}

void pc_portset_close(struct pc_portset *ps)
{
	if (ps->table)
		munmap(ps->table, sizeof(struct pc_port_table));
	ps->table = NULL;
}

static bool wanted(const struct pc_portspec *specs, int n, int proto, int dir, int port)
{
	int i;

	for (i = 0; i < n; i++)
		if (specs[i].proto == proto && specs[i].dir == dir && port >= specs[i].first &&
		    port <= specs[i].last)
			return true;
	return false;
}

/* Every CPU's entry of the slot (the array holds PC_MAX_SLOTS per CPU, CPU-major). */
static int zero_slot(struct pc_portset *ps, unsigned int slot)
{
	struct pc_slot_counters zero = {};
	int cpu;

	for (cpu = 0; cpu < ps->ncpus; cpu++) {
		__u32 key = PC_COUNTERS_KEY(cpu, slot);

		if (bpf_map_update_elem(ps->counters_fd, &key, &zero, BPF_ANY))
			return -errno;
	}
	return 0;
}

int pc_portset_apply(struct pc_portset *ps, const struct pc_portspec *specs, int nspecs)
{
	int i, s, port, need = 0, freed = 0, next = 1, err;

	/* Count first, so a set that does not fit changes nothing. */
	for (i = 0; i < nspecs; i++)
		for (port = specs[i].first; port <= specs[i].last; port++)
			if (!ps->table->slot[PC_PORT_INDEX(port)][specs[i].proto][specs[i].dir] &&
			    !(i && wanted(specs, i, specs[i].proto, specs[i].dir, port)))
				need++;
	for (s = 1; s < PC_MAX_SLOTS; s++)
		if (ps->slots[s].used &&
		    !wanted(specs, nspecs, ps->slots[s].proto, ps->slots[s].dir, ps->slots[s].port))
			freed++;
	if (ps->nused - freed + need > PC_MAX_SLOTS - 1) {
		pc_err("too many monitored ports: %d, at most %d", ps->nused - freed + need,
		       PC_MAX_SLOTS - 1);
		return -E2BIG;
	}
	for (s = 1; s < PC_MAX_SLOTS; s++) {
		struct pc_slot_info *si = &ps->slots[s];

		if (!si->used || wanted(specs, nspecs, si->proto, si->dir, si->port))
			continue;
		ps->table->slot[PC_PORT_INDEX(si->port)][si->proto][si->dir] = 0;
		pc_debug("stopped monitoring %s/%u:%s (slot %d)", pc_proto_name(si->proto),
			 si->port, pc_dir_name(si->dir), s);
		memset(si, 0, sizeof(*si));
		ps->nused--;
	}
	/* The drops of every slot not in use now go before any is handed out: whatever an
	 * earlier port left (or a tracer of a slot just freed) is not the new port's. */
	if (ps->drops && need) {
		bool unused[PC_MAX_SLOTS];

		for (s = 0; s < PC_MAX_SLOTS; s++)
			unused[s] = s && !ps->slots[s].used;
		pc_drop_table_forget(ps->drops, unused);
	}
	for (i = 0; i < nspecs; i++)
		for (port = specs[i].first; port <= specs[i].last; port++) {
			__u16 *entry =
				&ps->table->slot[PC_PORT_INDEX(port)][specs[i].proto][specs[i].dir];

			if (*entry)
				continue;
			while (ps->slots[next].used)
				next++;
			/* Zero before publishing: the datapath may count the moment the entry is set. */
			err = zero_slot(ps, next);
			if (err) {
				pc_err("cannot reset counters of slot %d: %s", next,
				       strerror(-err));
				changed(ps);
				return err;
			}
			ps->slots[next] =
				(struct pc_slot_info){port, specs[i].proto, specs[i].dir, true};
			ps->nused++;
			__atomic_store_n(entry, next, __ATOMIC_RELEASE);
		}
	if (freed || need) /* added or removed: the views are listed anew */
		changed(ps);
	return 0;
}

int pc_portset_slot(const struct pc_portset *ps, int proto, int dir, int port)
{
	return ps->table->slot[PC_PORT_INDEX(port)][proto][dir];
}

static void changed(struct pc_portset *ps)
{
	int s;

	for (s = PC_MAX_SLOTS - 1; s > 0 && !ps->slots[s].used; s--)
		;
	ps->span = s > 0 ? s + 1 : 0;
	ps->gen++;
}

int pc_portset_span(const struct pc_portset *ps)
{
	return ps->span;
}
