// SPDX-License-Identifier: GPL-2.0
/* drops.bpf.c: tp_btf/kfree_skb: drops of TCP/UDP packets of monitored ports, by drop reason. */
#define PC_MAPS_EXTERN
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "portcanary.h"
#include "compat.bpf.h"
#include "counters.bpf.h"

/* The drop counts' table (see portcanary.h): this tracer claims keys and counts, user space
 * reads both in place and frees a slot's keys when the slot goes to another port. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PC_MAX_DROP_KEYS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} pc_drop_keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PC_MAX_DROP_KEYS); /* x possible CPUs, set by the loader */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} pc_drops SEC(".maps");

/* IPv6 extension headers walked to find the ports (more count as other_l4): as many as the
 * datapath parser walks, so every packet it counts on a port can have its drops attributed. */
#define PC_DROP_MAX_EXT PC_IPV6_EXT_MAX

/* The bytes read of a dropped packet's IP header: IPv6's fixed header at most (IPv4's
 * 20 bytes in its first part). Offsets of what is read from it are wire offsets. */
#define PC_DROP_IP_MAX 40
#define PC_IP4_SADDR   12 /* saddr, then daddr */
#define PC_IP6_SADDR   8  /* saddr, then daddr */
/* The bytes read of its L4 header: TCP's flags byte is the 14th, the ports the first 4. */
#define PC_DROP_L4_MAX 14

struct pc_drop_pkt {
	/* the IP header, for a sample's addresses (zero past what the packet has); first and
	 * aligned: the verifier refuses a misaligned stack load of its 16-bit fields */
	__u8 ip[PC_DROP_IP_MAX] __attribute__((aligned(8)));
	__u16 sport;
	__u16 dport;
	__u8 proto;	/* enum pc_proto */
	__u8 tcp_flags; /* byte 13 of the TCP header; 0 for UDP or when out of reach */
	bool v6;
};

/*
 * The L4 ports of a dropped skb, read from its network header. 0 on success; -1 when it
 * is not TCP/UDP over IP, or the bytes are not there (counted by the caller).
 *
 * This runs on every drop of the host, so it is written for few helper calls: the skb's
 * fields are direct loads (a tp_btf argument is a BTF pointer; a fault reads as 0, never
 * crashes), and the packet's bytes, which only bpf_probe_read_kernel() may read, are read
 * in two calls on the common path: the IP header (as much of IPv6's 40 bytes as the
 * linear data holds) and the first bytes of L4 (ports and TCP flags).
 */
static __always_inline int drop_ports(struct sk_buff *skb, struct pc_drop_pkt *p,
				      struct pc_hook_stats *g)
{
	unsigned char *head = skb->head;
	__u32 nh = skb->network_header;
	__u16 eth_proto = bpf_ntohs(skb->protocol);
	__u8 l4proto, first, l4[PC_DROP_L4_MAX] = {};
	__u32 l4off, end, len;
	int i;

	/*
	 * bpf_probe_read_kernel() reads whatever lies in the head buffer, also past the
	 * packet: a truncated packet would yield the ports of stale bytes or of the tail
	 * room. So every read is bounded by the end of the linear data, as an offset from
	 * head (computed from data and len, which mean the same on every arch, unlike
	 * tail). Headers in paged fragments are out of reach and count as malformed; the
	 * stack pulls them into the linear part before the drops we care about.
	 */
	end = (__u32)(skb->data - head) + skb->len - skb->data_len;
	/* A network header offset of ~0 means "never set": nothing to read. */
	if (nh == (__u16)~0U || nh >= end)
		goto malformed;
	len = end - nh < sizeof(p->ip) ? end - nh : sizeof(p->ip);
	if (bpf_probe_read_kernel(p->ip, len, head + nh))
		goto malformed;
	first = p->ip[0] >> 4;
	if (eth_proto == ETH_P_IP || (!eth_proto && first == 4)) {
		struct iphdr *ip = (void *)p->ip;

		if (len < sizeof(*ip) || first != 4 || ip->ihl < 5)
			goto malformed;
		if (bpf_ntohs(ip->frag_off) & PC_IP_OFFSET) {
			g->frag_nonfirst++;
			return -1;
		}
		l4proto = ip->protocol;
		l4off = nh + ip->ihl * 4;
		p->v6 = false;
	} else if (eth_proto == ETH_P_IPV6 || (!eth_proto && first == 6)) {
		struct ipv6hdr *ip6 = (void *)p->ip;

		if (len < sizeof(*ip6) || first != 6)
			goto malformed;
		l4proto = ip6->nexthdr;
		l4off = nh + sizeof(*ip6);
		p->v6 = true;
		for (i = 0; i < PC_DROP_MAX_EXT; i++) {
			__u8 ext[2];
			__u16 frag;

			if (l4proto != PC_IPPROTO_HOPOPTS && l4proto != PC_IPPROTO_ROUTING &&
			    l4proto != PC_IPPROTO_DSTOPTS && l4proto != PC_IPPROTO_FRAGMENT)
				break;
			if (l4off + sizeof(ext) > end ||
			    bpf_probe_read_kernel(ext, sizeof(ext), head + l4off))
				goto malformed;
			if (l4proto == PC_IPPROTO_FRAGMENT) {
				if (l4off + 2 + sizeof(frag) > end ||
				    bpf_probe_read_kernel(&frag, sizeof(frag), head + l4off + 2))
					goto malformed;
				if (bpf_ntohs(frag) & PC_IP6_OFFSET) {
					g->frag_nonfirst++;
					return -1;
				}
				l4off += 8;
			} else {
				l4off += (ext[1] + 1) * 8;
			}
			l4proto = ext[0];
		}
	} else {
		g->not_ip++;
		return -1;
	}
	if (l4proto == PC_IPPROTO_TCP)
		p->proto = PC_PROTO_TCP;
	else if (l4proto == PC_IPPROTO_UDP)
		p->proto = PC_PROTO_UDP;
	else {
		g->other_l4++;
		return -1;
	}
	/* the ports at least (4 bytes), the TCP flags where they are in reach */
	if (l4off + 4 > end)
		goto malformed;
	len = end - l4off < sizeof(l4) ? end - l4off : sizeof(l4);
	if (bpf_probe_read_kernel(l4, len, head + l4off))
		goto malformed;
	p->sport = (__u16)l4[0] << 8 | l4[1];
	p->dport = (__u16)l4[2] << 8 | l4[3];
	p->tcp_flags = p->proto == PC_PROTO_TCP && len == sizeof(l4) ? l4[13] : 0;
	return 0;
malformed:
	g->malformed++;
	return -1;
}

/* The network namespace the skb belongs to: its device's, or its socket's. */
static __always_inline __u32 drop_netns(struct sk_buff *skb)
{
	struct net_device *dev = skb->dev;
	struct sock *sk;

	if (dev)
		return dev->nd_net.net->ns.inum;
	sk = skb->sk;
	if (sk)
		return sk->__sk_common.skc_net.net->ns.inum;
	return 0;
}

/*
 * One drop of (slot, reason): find the key's index along its probe sequence, claiming the
 * first free one, and count on this CPU's entry (a program runs on one CPU start to end: no
 * atomics for the count). A sequence full of other keys leaves the drop in the hook's totals
 * only (monitored): user space warns long before the table is that full.
 */
static __always_inline void count_drop(__u16 slot, __u32 reason)
{
	__u64 want = PC_DROP_KEY(slot, reason), have, *k, *n;
	__u32 start = pc_drop_hash(want), cpu = bpf_get_smp_processor_id(), i, idx;

	for (i = 0; i < PC_DROP_PROBES; i++) {
		idx = (start + i) & (PC_MAX_DROP_KEYS - 1);
		k = bpf_map_lookup_elem(&pc_drop_keys, &idx);
		if (!k)
			return;
		have = *(volatile __u64 *)k;
		/* free: claim it; 0 back means ours, else whoever won (maybe the same key) */
		if (!have)
			have = __sync_val_compare_and_swap(k, 0, want) ?: want;
		if (have != want)
			continue;
		idx = PC_DROP_COUNTS_KEY(cpu, idx);
		n = bpf_map_lookup_elem(&pc_drops, &idx);
		if (n)
			(*n)++;
		return;
	}
}

/* pc_drop_samples: slot → the last dropped packets, one bucket per peer (see portcanary.h);
 * this tracer writes under the value's lock, the daemon reads them (BPF_F_LOCK) to replay. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PC_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct pc_drop_samples);
} pc_drop_samples SEC(".maps");

/* The dropped packet as a sample: addresses, ports, TCP flags, interface, reason, time. All
 * of it but the time from what drop_ports() read already: no packet byte is read twice. */
static __always_inline void sample_fill(struct sk_buff *skb, const struct pc_drop_pkt *p,
					__u32 reason, bool received, struct pc_drop_sample *s)
{
	struct net_device *dev;

	s->time_ns = bpf_ktime_get_ns();
	s->reason = reason;
	s->sport = p->sport;
	s->dport = p->dport;
	s->proto = p->proto;
	s->tcp_flags = p->tcp_flags;
	s->flags = (received ? PC_SAMPLE_RX : 0) | (p->v6 ? PC_SAMPLE_IPV6 : 0);
	/* drop_ports() checked that the fixed IP header was read whole. */
	if (p->v6) {
		__builtin_memcpy(s->saddr, p->ip + PC_IP6_SADDR, 32);
	} else {
		__builtin_memcpy(s->saddr, p->ip + PC_IP4_SADDR, 4);
		__builtin_memcpy(s->daddr, p->ip + PC_IP4_SADDR + 4, 4);
	}
	if (received) {
		s->ifindex = skb->skb_iif;
	} else {
		dev = skb->dev;
		s->ifindex = dev ? dev->ifindex : 0;
	}
}

/* How telling a sample is: a firewall's drop over other drops, a connection's opening (a
 * TCP SYN) over its other packets. */
static __always_inline int sample_rank(const struct pc_drop_sample *s, __u32 nf)
{
	return (s->reason == nf ? 2 : 0) +
	       ((s->tcp_flags & (PC_TCP_SYN | PC_TCP_ACK)) == PC_TCP_SYN);
}

/* Whether a drop of this rank at now replaces the sample old (see portcanary.h). A sample
 * another CPU stamped a little after now counts as of age 0. */
static __always_inline bool sample_wins(const struct pc_drop_sample *old, __u64 now, int rank,
					__u32 nf)
{
	__u64 then = old->time_ns, age = now > then ? now - then : 0;
	int was;

	if (!then || age >= PC_DROP_SAMPLE_HOLD_NS)
		return true;
	was = sample_rank(old, nf);
	return rank > was || (rank == was && age >= PC_DROP_SAMPLE_REFRESH_NS);
}

/*
 * Store a sample in the bucket of its peer, under the slot's lock (see portcanary.h). The
 * lock is shared by every CPU's drops of the slot, so the decision is made first without
 * it, on a racy read that can only be a hint: under a flood most drops are not kept, and
 * they leave without touching the lock's cache line. Made again under the lock.
 */
static __always_inline void sample_store(__u16 slot, const struct pc_drop_sample *s)
{
	__u32 nf = bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NETFILTER_DROP);
	const __u8 *peer = s->flags & PC_SAMPLE_RX ? s->saddr : s->daddr;
	int rank = sample_rank(s, nf);
	struct pc_drop_samples *v;
	struct pc_drop_sample *old;
	__u32 key = slot, addr[4];

	__builtin_memcpy(addr, peer, sizeof(addr));
	v = bpf_map_lookup_elem(&pc_drop_samples, &key);
	if (!v)
		return;
	old = &v->s[pc_sample_bucket(addr) & (PC_DROP_SAMPLES - 1)];
	if (!sample_wins(old, s->time_ns, rank, nf))
		return;
	bpf_spin_lock(&v->lock);
	/* No helper calls in here (the verifier's rule): plain loads and stores. */
	if (sample_wins(old, s->time_ns, rank, nf))
		*old = *s;
	bpf_spin_unlock(&v->lock);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(pc_kfree_skb, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	__u32 hook = PC_HOOK_DROP, ino;
	struct pc_drop_sample smp = {};
	struct pc_drop_pkt p = {};
	struct pc_hook_stats *g;
	bool received;
	__u16 s_in, s_out;

	/* Not drops: a freed skb that was never dropped, or consumed (numbers from BTF). */
	if (reason == bpf_core_enum_value(enum skb_drop_reason, SKB_NOT_DROPPED_YET) ||
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED))
		return 0;
	g = bpf_map_lookup_elem(&pc_global, &hook);
	if (!g)
		return 0;
	g->seen++;
	ino = drop_netns(skb);
	if (pc_cfg.netns_ino && ino != pc_cfg.netns_ino) {
		g->foreign_netns++;
		return 0;
	}
	if (drop_ports(skb, &p, g))
		return 0;
	/* A received packet (skb_iif set) is IN by its destination port and OUT by its
	 * source port; a packet this host sent is the other way round. */
	received = skb->skb_iif != 0;
	s_in = pc_port_table
		       .slot[PC_PORT_INDEX(received ? p.dport : p.sport)][p.proto & 1][PC_DIR_IN];
	s_out = pc_port_table
			.slot[PC_PORT_INDEX(received ? p.sport : p.dport)][p.proto & 1][PC_DIR_OUT];
	if (s_in && s_in < PC_MAX_SLOTS)
		count_drop(s_in, reason);
	if (s_out && s_out < PC_MAX_SLOTS)
		count_drop(s_out, reason);
	if (s_in || s_out)
		g->monitored++;
	/* The packet itself, for the replay that names the rule (see pc_drop_samples). */
	if ((s_in && s_in < PC_MAX_SLOTS) || (s_out && s_out < PC_MAX_SLOTS))
		sample_fill(skb, &p, reason, received, &smp);
	if (s_in && s_in < PC_MAX_SLOTS)
		sample_store(s_in, &smp);
	if (s_out && s_out < PC_MAX_SLOTS)
		sample_store(s_out, &smp);
	return 0;
}
