/* SPDX-License-Identifier: GPL-2.0 */
/* sampler.h: each interval, read the per-CPU maps, sum the CPUs, derive per-port and hook counts. */
#ifndef PC_SAMPLER_H
#define PC_SAMPLER_H

#include <stdbool.h>

#include "portcanary.h"

/*
 * A port's counters as people read them, derived from the kernel's per-hook class counts
 * (struct pc_slot_counters): rx_* are seen at ingress (XDP or TC ingress), tx_* at TC
 * egress. packets = the sum of the classes but ICMP errors; syn, synack, rst, badflags and
 * icmp_unreach are single classes (include/portcanary.h: enum pc_class).
 */
struct pc_counters {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 rx_syn;	 /* SYN alone: connection requests */
	__u64 rx_synack; /* SYN+ACK: handshake answers */
	__u64 rx_rst;
	__u64 rx_icmp_unreach;
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 tx_syn;
	__u64 tx_synack;
	__u64 tx_rst;
	__u64 tx_icmp_unreach;
	__u64 rx_badflags; /* SYN with RST or FIN: neither a request nor an answer */
	__u64 tx_badflags;
};

/* One hook's totals as people read them, derived from the slots and struct pc_hook_stats. */
struct pc_global {
	__u64 packets;	     /* every packet the hook saw (drop hook: drops examined) */
	__u64 not_ip;	     /* not IPv4/IPv6 */
	__u64 malformed;     /* truncated or inconsistent headers */
	__u64 frag_nonfirst; /* fragments past the first: no ports */
	__u64 other_l4;	     /* IP, but neither TCP, UDP nor an ICMP error */
	__u64 monitored;     /* packets counted on at least one monitored port */
	__u64 icmp_errors;   /* ICMP/ICMPv6 destination unreachable seen */
	__u64 foreign_netns; /* drop hook: drops in another network namespace (ignored) */
	__u64 invalid_flags; /* TCP segments with SYN and RST or FIN */
};

struct pc_sampler {
	int counters_fd;
	int global_fd;
	int ncpus;
	/* The counters array, mapped: PC_MAX_SLOTS entries per CPU, read in place (no copy, no
	 * syscall per interval; 64-bit counters are read whole on every arch we run on). */
	const struct pc_slot_counters *map;
	size_t map_len;
	void *values; /* the per-CPU read of pc_global */
	double last_time; /* CLOCK_MONOTONIC seconds of the last read, 0 before */
	double dt;	  /* seconds between the last two reads */
	struct pc_slot_counters raw[PC_MAX_SLOTS]; /* summed over CPUs, as of the last read */
	struct pc_counters delta[PC_MAX_SLOTS];	   /* since the read before */
	/* Per hook, every slot's counts since the sampler began, slot 0 included (a slot that
	 * is reset for another port keeps what it counted here): the hooks' totals. */
	struct pc_hook_counters all[PC_NR_PKT_HOOKS];
	struct pc_hook_stats stats[PC_HOOK_MAX];
	struct pc_global global[PC_HOOK_MAX]; /* derived, as of the last read */
};

int pc_sampler_init(struct pc_sampler *s, int counters_fd, int global_fd);
void pc_sampler_free(struct pc_sampler *s);
/* Read slots [0, span) and the global counters; `now` is CLOCK_MONOTONIC seconds. */
int pc_sampler_read(struct pc_sampler *s, int span, double now);
/* Read slots [0, span) summed into out[] (PC_MAX_SLOTS entries) without touching
 * the per-slot state (totals, deltas): fresh totals for `status` between two
 * intervals. */
int pc_sampler_peek(struct pc_sampler *s, int span, struct pc_counters *out);
/* A slot's totals as of the last read (derived from raw[] when asked, not every interval). */
void pc_sampler_total(const struct pc_sampler *s, int slot, struct pc_counters *out);

/* Pure helpers (unit-tested). */
/* Sum a slot's entries of ncpus CPUs, `stride` entries apart (PC_MAX_SLOTS in the map). */
void pc_slot_sum(const struct pc_slot_counters *percpu, int ncpus, size_t stride,
		 struct pc_slot_counters *out);
void pc_hook_stats_sum(const struct pc_hook_stats *percpu, int ncpus, struct pc_hook_stats *out);
/* cur - prev, field by field; a field that went back (slot reset) counts from 0. */
void pc_slot_delta(const struct pc_slot_counters *cur, const struct pc_slot_counters *prev,
		   struct pc_slot_counters *out);
/* The port's view of a slot's class counts. */
void pc_counters_from_slot(const struct pc_slot_counters *raw, struct pc_counters *out);
/* A hook's totals: all = its counts over every slot, slot0 = those of slot 0 (no monitored
 * port), st = its off-path counters. For the drop hook all and slot0 are NULL. */
void pc_global_derive(const struct pc_hook_counters *all, const struct pc_hook_counters *slot0,
		      const struct pc_hook_stats *st, struct pc_global *out);
/* cur - prev for a port's view (status and tests). */
void pc_counters_delta(const struct pc_counters *cur, const struct pc_counters *prev,
		       struct pc_counters *out);

#endif
