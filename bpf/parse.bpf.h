/* SPDX-License-Identifier: GPL-2.0 */
/* parse.bpf.h: cursor-based packet parser shared by the XDP and TC programs. */
#ifndef PC_PARSE_BPF_H
#define PC_PARSE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "compat.bpf.h"

/* Tags we look through: 802.1Q, 802.1ad and QinQ (two). A third tag is "not IP". */
#define PC_VLAN_MAX 2
/* IPv6 extension headers we walk before giving up (other_l4). Bounds the loop. */
#define PC_IPV6_EXT_MAX 6

/* Pseudo next-protocols, outside the 8-bit IP protocol space. */
#define PC_NH_FRAG 0x100 /* a fragment past the first: no L4 header */

/* What the parser concluded; the counting code turns it into counters. */
enum pc_verdict {
	PC_V_L4 = 0,	  /* TCP or UDP: ports and flags are valid */
	PC_V_ICMP_ERR,	  /* destination unreachable, original ports are valid */
	PC_V_ICMP_NOPORT, /* destination unreachable about a packet without ports */
	PC_V_NOT_IP,
	PC_V_MALFORMED,
	PC_V_FRAG,
	PC_V_OTHER,
};

/*
 * The parser's result. For an ICMP error, sport/dport are those of the original
 * packet SWAPPED: the original went the other way, so swapping lets one attribution
 * rule (ingress: dport→IN, sport→OUT; egress: sport→IN, dport→OUT) serve both.
 */
struct pc_pkt {
	__be16 sport; /* network byte order: the port table is indexed so (pc_port_table) */
	__be16 dport;
	__u8 proto;	/* enum pc_proto */
	__u8 tcp_flags; /* byte 13 of the TCP header, 0 for UDP */
	__u8 verdict;	/* enum pc_verdict */
};

/*
 * pos/end bound reads for the verifier (end is the end of the linear data);
 * rem is what the headers declare is left from pos: the frame length at first
 * (skb->len at TC, which can exceed the linear data), then the IP total/payload
 * length once an IP header has been read. A header must fit in both.
 *
 * Up to the IP header, a pointer check implies the rem check (rem is never less
 * than the linear bytes left), so only headers past IP test rem. Bytes that are
 * counted but never read (IPv4 and TCP options, extension header bodies) are
 * checked against rem only: the next pointer check covers what is read next.
 * rem is 64-bit so that comparisons need no zero-extension on the hot path.
 */
struct pc_cursor {
	void *pos;
	void *end;
	__u64 rem;
};

/* Ethernet. Returns the ethertype in network byte order, or -1. */
static __always_inline int pc_parse_eth(struct pc_cursor *c)
{
	struct ethhdr *eth = c->pos;

	if ((void *)(eth + 1) > c->end)
		return -1;
	c->pos = eth + 1;
	c->rem -= sizeof(*eth);
	return eth->h_proto;
}

static __always_inline bool pc_is_vlan(int proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/* Up to PC_VLAN_MAX tags. Returns the inner ethertype (network order), or -1. */
static __always_inline int pc_parse_vlan(struct pc_cursor *c, int proto)
{
	struct vlan_hdr *vh;
	int i;

#pragma unroll
	for (i = 0; i < PC_VLAN_MAX; i++) {
		if (!pc_is_vlan(proto))
			break;
		vh = c->pos;
		if ((void *)(vh + 1) > c->end)
			return -1;
		c->pos = vh + 1;
		c->rem -= sizeof(*vh);
		proto = vh->h_vlan_encapsulated_proto;
	}
	return proto;
}

/*
 * IPv4, any IHL: fixed part, then the declared header length. The outer header
 * must agree with the frame (tot_len within it and at least the header); an
 * embedded header (inner, in an ICMP error) is a truncated copy, so only its
 * header has to be there. tot_len 0 is BIG TCP (a GSO packet above 64 KiB), which
 * only a TC hook can meet (tc). Returns the L4 protocol, PC_NH_FRAG for a
 * non-first fragment, or -1.
 */
static __always_inline int pc_parse_ipv4(struct pc_cursor *c, bool inner, const bool tc)
{
	struct iphdr *ip = c->pos;
	__u64 hlen, tot;
	__u8 vihl;

	if ((void *)(ip + 1) > c->end)
		return -1;
	vihl = *(__u8 *)ip;
	hlen = (vihl & 0x0f) << 2;
	if ((vihl & 0xf0) != 0x40 || hlen < sizeof(*ip))
		return -1;
	if (inner) {
		if (hlen > c->rem)
			return -1;
		tot = c->rem;
	} else {
		/* hlen <= tot <= rem: the header and everything it declares are in the frame */
		tot = bpf_ntohs(ip->tot_len);
		if (tot > c->rem || tot < hlen) {
			if (!tc || tot != 0 || c->rem <= 0xffff)
				return -1;
			tot = c->rem;
		}
	}
	c->pos += hlen;
	c->rem = tot - hlen;
	if (ip->frag_off & bpf_htons(PC_IP_OFFSET))
		return PC_NH_FRAG;
	return ip->protocol;
}

/*
 * IPv6 fixed header. payload_len must fit in the frame. 0 is legal only for a jumbogram
 * (RFC 2675: a hop-by-hop header first, holding the Jumbo Payload option, whose length
 * must exceed 65,535 and fit in the frame: it is looked for at offset 2, where RFC 2675's
 * alignment and Linux put it; with it, payload_len must be 0) or for BIG TCP (a GSO packet
 * longer than 65,535 + 40 bytes, which only a TC hook can meet, tc); anything else with
 * payload_len 0 is malformed, as IPv4's tot_len 0 is. *jumbo tells the UDP parser that its length field
 * may be 0 too. Returns the next header, or -1.
 */
static __always_inline int pc_parse_ipv6(struct pc_cursor *c, bool inner, const bool tc,
					 bool *jumbo)
{
	struct ipv6hdr *ip6 = c->pos;
	__u64 plen, rem;
	__u8 *hbh;

	*jumbo = false;
	if ((void *)(ip6 + 1) > c->end)
		return -1;
	if ((*(__u8 *)ip6 & 0xf0) != 0x60)
		return -1;
	if (inner && sizeof(*ip6) > c->rem)
		return -1;
	rem = c->rem - sizeof(*ip6);
	plen = bpf_ntohs(ip6->payload_len);
	hbh = (__u8 *)(ip6 + 1);
	if (!inner && ip6->nexthdr == PC_IPPROTO_HOPOPTS && (void *)(hbh + 8) <= c->end &&
	    hbh[2] == PC_IPV6_TLV_JUMBO && hbh[3] == 4) {
		/* a Jumbo Payload option: only with payload_len 0 (ipv6_hop_jumbo) */
		plen = plen ? 0 : bpf_ntohl(*(__be32 *)(hbh + 4));
		if (plen <= 0xffff || plen > rem)
			return -1;
		rem = plen;
		*jumbo = true;
	} else if (!inner && plen) {
		if (plen > rem)
			return -1;
		rem = plen;
	} else if (!inner && (!tc || rem <= 0xffff)) {
		return -1;
	}
	c->pos = ip6 + 1;
	c->rem = rem;
	return ip6->nexthdr;
}

/*
 * IPv6 extension headers: hop-by-hop (first only), routing, destination options (length
 * in 8-byte units after the first 8) and fragment (fixed 8 bytes). A bounded walk;
 * whatever is still an extension header after PC_IPV6_EXT_MAX is returned as is
 * and ends up in other_l4. Returns the upper-layer protocol, PC_NH_FRAG, or -1.
 */
static __always_inline int pc_parse_ipv6_ext(struct pc_cursor *c, int nh)
{
	void *pos = c->pos;
	__u64 rem = c->rem;
	__u64 len;
	__u8 *h;
	int i;

	for (i = 0; i < PC_IPV6_EXT_MAX; i++) {
		h = pos;
		switch (nh) {
		case PC_IPPROTO_HOPOPTS:
			/* only right after the fixed header (RFC 8200 4.1); Linux drops it
			 * anywhere else (no protocol handler for next header 0) */
			if (i)
				return -1;
			/* fall through */
		case PC_IPPROTO_ROUTING:
		case PC_IPPROTO_DSTOPTS:
			if ((void *)(h + 2) > c->end)
				return -1;
			len = ((__u64)h[1] + 1) << 3;
			if (len > rem)
				return -1;
			break;
		case PC_IPPROTO_FRAGMENT:
			if ((void *)(h + 8) > c->end || 8 > rem)
				return -1;
			if (*(__be16 *)(h + 2) & bpf_htons(PC_IP6_OFFSET)) {
				c->pos = h + 8;
				c->rem = rem - 8;
				return PC_NH_FRAG;
			}
			len = 8;
			break;
		default:
			goto out;
		}
		nh = h[0];
		pos += len;
		rem -= len;
	}
out:
	c->pos = pos;
	c->rem = rem;
	return nh;
}

/* TCP: fixed header, then the declared length (doff, options included) against the IP length. */
static __always_inline int pc_parse_tcp(struct pc_cursor *c, struct pc_pkt *p)
{
	struct tcphdr *th = c->pos;
	__u64 hlen;

	if ((void *)(th + 1) > c->end)
		return -1;
	hlen = (((__u8 *)th)[12] >> 2) & 0x3c;
	if (hlen < sizeof(*th) || hlen > c->rem)
		return -1;
	p->sport = th->source;
	p->dport = th->dest;
	p->tcp_flags = ((__u8 *)th)[13];
	p->proto = PC_PROTO_TCP;
	c->pos += hlen;
	c->rem -= hlen;
	return 0;
}

/*
 * UDP: the header, and its length field: at least the header and within the IP payload
 * (Linux drops a datagram whose length says otherwise: __udp4_lib_rcv, "short packet");
 * shorter than the payload is legal (trailing bytes are trimmed). 0 is legal only in an
 * IPv6 jumbogram (RFC 2675), where the IP length is the datagram's.
 */
static __always_inline int pc_parse_udp(struct pc_cursor *c, struct pc_pkt *p, bool jumbo)
{
	struct udphdr *uh = c->pos;
	__u64 ulen;

	if ((void *)(uh + 1) > c->end || sizeof(*uh) > c->rem)
		return -1;
	ulen = bpf_ntohs(uh->len);
	if ((ulen < sizeof(*uh) && !(jumbo && !ulen)) || ulen > c->rem)
		return -1;
	p->sport = uh->source;
	p->dport = uh->dest;
	p->tcp_flags = 0;
	p->proto = PC_PROTO_UDP;
	c->pos = uh + 1;
	c->rem -= sizeof(*uh);
	return 0;
}

/* ICMP or ICMPv6 header (8 bytes either way). Returns the type, or -1. */
static __always_inline int pc_parse_icmp(struct pc_cursor *c)
{
	__u8 *h = c->pos;

	if ((void *)(h + 8) > c->end || 8 > c->rem)
		return -1;
	c->pos = h + 8;
	c->rem -= 8;
	return h[0];
}

/*
 * The first 8 bytes of the original L4 header inside an ICMP error: enough for
 * the ports of TCP and UDP alike (the rest of a TCP header is usually cut off).
 * Stores them swapped (see struct pc_pkt).
 */
static __always_inline int pc_parse_orig_ports(struct pc_cursor *c, struct pc_pkt *p, int nh)
{
	__be16 *ports = c->pos;

	if ((void *)(ports + 4) > c->end || 8 > c->rem)
		return -1;
	p->sport = ports[1];
	p->dport = ports[0];
	p->proto = nh == PC_IPPROTO_TCP ? PC_PROTO_TCP : PC_PROTO_UDP;
	p->tcp_flags = 0;
	c->pos = ports + 4;
	c->rem -= 8;
	return 0;
}

/* The original packet inside a destination-unreachable error. Sets p->verdict. */
static __always_inline void pc_parse_icmp_orig(struct pc_cursor *c, struct pc_pkt *p, bool v6)
{
	int nh;
	bool jumbo;

	if (v6) {
		nh = pc_parse_ipv6(c, true, false, &jumbo);
		if (nh >= 0)
			nh = pc_parse_ipv6_ext(c, nh);
	} else {
		nh = pc_parse_ipv4(c, true, false);
	}
	if (nh < 0) {
		p->verdict = PC_V_MALFORMED;
		return;
	}
	if (nh != PC_IPPROTO_TCP && nh != PC_IPPROTO_UDP) {
		p->verdict = PC_V_ICMP_NOPORT;
		return;
	}
	p->verdict = pc_parse_orig_ports(c, p, nh) ? PC_V_MALFORMED : PC_V_ICMP_ERR;
}

/*
 * The fast path's L4: TCP or UDP at l4, with rem bytes declared past the IP header (signed:
 * an IPv4 tot_len below its header makes it negative, and the first length comparison then
 * rejects the frame, as pc_parse_ipv4() does).
 */
static __always_inline int pc_fast_l4(__u8 *l4, __s64 rem, int nh, struct pc_pkt *p)
{
	__s64 len;
	__u8 flags;

	if (nh == PC_IPPROTO_TCP) {
		/* data offset below 5 words; one test on the raw byte */
		if (l4[12] < (sizeof(struct tcphdr) / 4) << 4)
			return -1;
		len = (l4[12] >> 2) & 0x3c;
		if (len > rem)
			return -1;
		/*
		 * Read here, where l4 is a constant offset from data: left to itself clang
		 * merges the frame shapes' loads into one through a computed pointer.
		 */
		flags = l4[13];
		barrier_var(flags);
		p->tcp_flags = flags;
		p->proto = PC_PROTO_TCP;
	} else if (nh == PC_IPPROTO_UDP) {
		/* the length field: the header at least, the IP payload at most (pc_parse_udp) */
		len = bpf_ntohs(((struct udphdr *)l4)->len);
		if (len < (__s64)sizeof(struct udphdr) || len > rem)
			return -1;
		p->tcp_flags = 0;
		p->proto = PC_PROTO_UDP;
	} else {
		return -1;
	}
	/* TCP and UDP ports sit at the same offsets */
	p->sport = ((struct udphdr *)l4)->source;
	p->dport = ((struct udphdr *)l4)->dest;
	return p->proto;
}

/*
 * Wire offsets of fields the fast path reads, for loads at data + offset. Not vmlinux.h's
 * members, nor offsetof() on them: its types are CO-RE-relocatable (preserve_access_index),
 * and a relocatable field access keeps the header's address in a register of its own, two
 * instructions that a constant offset folds into the load. Measured worth it on the tag walk
 * and IPv6 (QinQ and IPv6); IPv4 keeps its members: two fewer instructions there measured no
 * faster (here, and 0.3-0.4 ns slower in the previous pass).
 */
#define PC_VLAN_PROTO  2 /* struct vlan_hdr: h_vlan_encapsulated_proto */
#define PC_IP6_PLEN    4 /* payload_len */
#define PC_IP6_NEXTHDR 6
_Static_assert(__builtin_offsetof(struct vlan_hdr, h_vlan_encapsulated_proto) == PC_VLAN_PROTO &&
		       __builtin_offsetof(struct ipv6hdr, payload_len) == PC_IP6_PLEN &&
		       __builtin_offsetof(struct ipv6hdr, nexthdr) == PC_IP6_NEXTHDR,
	       "the wire offsets");

/*
 * The fast path's IP layer, at a compile-time offset l3 (14, 18 or 22: no tag, one or two):
 * with constant offsets every header field is one load from data, and no pointer or length
 * has to be carried from one layer to the next. The caller checked the first 54 bytes (an
 * untagged IPv4 header and 20 bytes of L4); a tagged or IPv6 frame checks here, once, what
 * its shape reads beyond them.
 */
static __always_inline int pc_fast_ip4(void *data, void *data_end, __u64 len, const __u32 l3,
				       struct pc_pkt *p)
{
	struct iphdr *ip = data + l3;
	__s64 rem;

	if (l3 != ETH_HLEN && (void *)(ip + 1) + sizeof(struct tcphdr) > data_end)
		return -1;
	if (*(__u8 *)ip != 0x45 || (ip->frag_off & bpf_htons(PC_IP_OFFSET)))
		return -1;
	rem = bpf_ntohs(ip->tot_len);
	if (rem > (__s64)(len - l3))
		return -1;
	return pc_fast_l4((__u8 *)(ip + 1), rem - sizeof(*ip), ip->protocol, p);
}

static __always_inline int pc_fast_ip6(void *data, void *data_end, __u64 len, const __u32 l3,
				       struct pc_pkt *p)
{
	struct ipv6hdr *ip6 = data + l3;
	__s64 rem;

	if ((void *)(ip6 + 1) + sizeof(struct tcphdr) > data_end)
		return -1;
	if ((*(__u8 *)ip6 & 0xf0) != 0x60)
		return -1;
	/* payload_len 0 (jumbogram, BIG TCP, or malformed) is the slow path's business */
	rem = bpf_ntohs(*(__be16 *)(data + l3 + PC_IP6_PLEN));
	if (!rem || rem > (__s64)(len - l3 - sizeof(*ip6)))
		return -1;
	return pc_fast_l4((__u8 *)(ip6 + 1), rem, *(__u8 *)(data + l3 + PC_IP6_NEXTHDR), p);
}

static __always_inline int pc_fast_ip(void *data, void *data_end, __u64 len, const __u32 l3,
				      int proto, struct pc_pkt *p)
{
	if (proto == bpf_htons(ETH_P_IP))
		return pc_fast_ip4(data, data_end, len, l3, p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return pc_fast_ip6(data, data_end, len, l3, p);
	return -1;
}

/*
 * Fast path for the common frames: no tag, one 802.1Q tag, or QinQ (an 802.1ad or 802.1Q
 * tag, then 802.1Q); IPv4 without options or fragmentation, or IPv6 without extension
 * headers; then TCP or UDP. This is most of what every packet costs, so it is written for
 * the fewest instructions: one bounds check per frame shape, fixed offsets. It accepts a
 * frame only where pc_parse() reaches the same result, PC_V_L4 with the same ports and
 * flags (the differential test holds them to that); anything else, including everything
 * malformed, returns -1 and goes to pc_parse(). len is the frame length (skb->len at TC:
 * above the linear data for a non-linear skb). Fills sport, dport, proto and tcp_flags,
 * not verdict, and returns proto (enum pc_proto): see pc_count_fast().
 */
static __always_inline int pc_parse_fast(void *data, void *data_end, __u64 len, struct pc_pkt *p)
{
	struct ethhdr *eth = data;
	int proto;

	/*
	 * One check covers Ethernet and an untagged IPv4 header with the 20 bytes of L4 the
	 * fast path reads, and the ethertypes of two tags (bytes 16 and 20) with them: the tag
	 * walk needs no check of its own, and tagged and IPv6 frames check their extra bytes
	 * once, at the IP layer. Shorter frames (a minimum UDP one) take the slow path.
	 */
	if (data + ETH_HLEN + sizeof(struct iphdr) + sizeof(struct tcphdr) > data_end)
		return -1;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_IP))
		return pc_fast_ip4(data, data_end, len, ETH_HLEN, p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return pc_fast_ip6(data, data_end, len, ETH_HLEN, p);
	if (!pc_is_vlan(proto))
		return -1;
	proto = *(__be16 *)(data + ETH_HLEN + PC_VLAN_PROTO);
	if (proto == bpf_htons(ETH_P_8021Q)) {
		proto = *(__be16 *)(data + ETH_HLEN + sizeof(struct vlan_hdr) + PC_VLAN_PROTO);
		return pc_fast_ip(data, data_end, len, ETH_HLEN + 2 * sizeof(struct vlan_hdr),
				  proto, p);
	}
	return pc_fast_ip(data, data_end, len, ETH_HLEN + sizeof(struct vlan_hdr), proto, p);
}

/*
 * Parse one frame from c->pos. Always fills p->verdict; never fails. tc: the frame is an
 * skb at a TC hook (BIG TCP is possible there).
 */
static __always_inline void pc_parse(struct pc_cursor *c, struct pc_pkt *p, const bool tc)
{
	bool v6, jumbo = false;
	int proto, nh, type;

	proto = pc_parse_eth(c);
	if (proto < 0)
		goto malformed;
	proto = pc_parse_vlan(c, proto);
	if (proto < 0)
		goto malformed;

	if (proto == bpf_htons(ETH_P_IP)) {
		v6 = false;
		nh = pc_parse_ipv4(c, false, tc);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		v6 = true;
		nh = pc_parse_ipv6(c, false, tc, &jumbo);
		if (nh >= 0)
			nh = pc_parse_ipv6_ext(c, nh);
	} else {
		p->verdict = PC_V_NOT_IP;
		return;
	}

	/* TCP first: it is what the canary is for, and the common case. */
	if (nh == PC_IPPROTO_TCP) {
		if (pc_parse_tcp(c, p))
			goto malformed;
		p->verdict = PC_V_L4;
		return;
	}
	if (nh < 0)
		goto malformed;

	switch (nh) {
	case PC_IPPROTO_UDP:
		if (pc_parse_udp(c, p, jumbo))
			goto malformed;
		p->verdict = PC_V_L4;
		return;
	case PC_NH_FRAG:
		p->verdict = PC_V_FRAG;
		return;
	case PC_IPPROTO_ICMP:
	case PC_IPPROTO_ICMPV6:
		/* ICMP belongs to IPv4, ICMPv6 to IPv6; the other pairing is just "other". */
		if ((nh == PC_IPPROTO_ICMPV6) != v6)
			break;
		type = pc_parse_icmp(c);
		if (type < 0)
			goto malformed;
		if (type != (v6 ? PC_ICMPV6_DEST_UNREACH : PC_ICMP_DEST_UNREACH))
			break;
		pc_parse_icmp_orig(c, p, v6);
		return;
	}
	p->verdict = PC_V_OTHER;
	return;

malformed:
	p->verdict = PC_V_MALFORMED;
}

#endif /* PC_PARSE_BPF_H */
