// SPDX-License-Identifier: GPL-2.0
/* ref_parser.c: offset-based reference parser, written apart from bpf/, for differential tests. */
#include <string.h>

#include "ref_parser.h"

#define ETH_IP	   0x0800
#define ETH_IPV6   0x86DD
#define ETH_8021Q  0x8100
#define ETH_8021AD 0x88A8

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Return values of the header walkers besides an IP protocol number. */
#define R_BAD  (-1)
#define R_FRAG (-2)

/* IPv4 header at *off; lim is the last usable offset (exclusive), updated for the outer header. */
static int ip4(const uint8_t *b, size_t *off, size_t *lim, bool inner)
{
	size_t o = *off, hl, tot, rem;

	if (o + 20 > *lim || b[o] >> 4 != 4)
		return R_BAD;
	hl = (size_t)(b[o] & 15) * 4;
	if (hl < 20 || o + hl > *lim)
		return R_BAD;
	if (!inner) {
		rem = *lim - o;
		tot = rd16(b + o + 2);
		if (tot > rem)
			return R_BAD;
		if (tot < hl) {
			/* tot_len 0 is BIG TCP, only believable above 64 KiB */
			if (tot != 0 || rem <= 65535)
				return R_BAD;
			tot = rem;
		}
		*lim = o + tot;
	}
	*off = o + hl;
	if (rd16(b + o + 6) & 0x1fff)
		return R_FRAG;
	return b[o + 9];
}

static int ip6(const uint8_t *b, size_t *off, size_t *lim, bool inner)
{
	size_t o = *off, plen;
	int nh, i;

	if (o + 40 > *lim || b[o] >> 4 != 6)
		return R_BAD;
	plen = rd16(b + o + 4);
	if (!inner && plen) {
		if (plen > *lim - o - 40)
			return R_BAD;
		*lim = o + 40 + plen;
	}
	nh = b[o + 6];
	o += 40;
	for (i = 0; i < 6; i++) {
		if (nh == 0 || nh == 43 || nh == 60) {
			size_t l;

			if (o + 2 > *lim)
				return R_BAD;
			l = ((size_t)b[o + 1] + 1) * 8;
			if (o + l > *lim)
				return R_BAD;
			nh = b[o];
			o += l;
		} else if (nh == 44) {
			if (o + 8 > *lim)
				return R_BAD;
			if (rd16(b + o + 2) & 0xfff8) {
				*off = o + 8;
				return R_FRAG;
			}
			nh = b[o];
			o += 8;
		} else {
			break;
		}
	}
	*off = o;
	return nh;
}

void ref_parse(const uint8_t *b, size_t len, struct ref_result *r)
{
	size_t off = 14, lim = len;
	uint16_t et;
	bool v6;
	int nh, i;

	memset(r, 0, sizeof(*r));
	r->verdict = REF_MALFORMED;
	if (len < 14)
		return;
	et = rd16(b + 12);
	for (i = 0; i < 2 && (et == ETH_8021Q || et == ETH_8021AD); i++) {
		if (off + 4 > len)
			return;
		et = rd16(b + off + 2);
		off += 4;
	}
	if (et == ETH_IP) {
		v6 = false;
		nh = ip4(b, &off, &lim, false);
	} else if (et == ETH_IPV6) {
		v6 = true;
		nh = ip6(b, &off, &lim, false);
	} else {
		r->verdict = REF_NOT_IP;
		return;
	}
	if (nh == R_BAD)
		return;
	if (nh == R_FRAG) {
		r->verdict = REF_FRAG;
		return;
	}
	if (nh == 6) {
		size_t hl;

		if (off + 20 > lim)
			return;
		hl = (size_t)(b[off + 12] >> 4) * 4;
		if (hl < 20 || off + hl > lim)
			return;
		r->verdict = REF_L4;
		r->proto = PC_PROTO_TCP;
		r->sport = rd16(b + off);
		r->dport = rd16(b + off + 2);
		r->tcp_flags = b[off + 13];
		return;
	}
	if (nh == 17) {
		if (off + 8 > lim)
			return;
		r->verdict = REF_L4;
		r->proto = PC_PROTO_UDP;
		r->sport = rd16(b + off);
		r->dport = rd16(b + off + 2);
		return;
	}
	if ((!v6 && nh == 1) || (v6 && nh == 58)) {
		if (off + 8 > lim)
			return;
		if (b[off] != (v6 ? 1 : 3)) {
			r->verdict = REF_OTHER;
			return;
		}
		off += 8;
		nh = v6 ? ip6(b, &off, &lim, true) : ip4(b, &off, &lim, true);
		if (nh == R_BAD)
			return;
		if (nh != 6 && nh != 17) {
			r->verdict = REF_ICMP_NOPORT;
			return;
		}
		if (off + 8 > lim)
			return;
		r->verdict = REF_ICMP_ERR;
		r->proto = nh == 6 ? PC_PROTO_TCP : PC_PROTO_UDP;
		r->sport = rd16(b + off);
		r->dport = rd16(b + off + 2);
		return;
	}
	r->verdict = REF_OTHER;
}

static void bump(struct pc_counters *c, const struct ref_result *r, size_t len, bool egress)
{
	bool syn = r->tcp_flags & 0x02, ack = r->tcp_flags & 0x10, rst = r->tcp_flags & 0x04;

	if (r->verdict == REF_ICMP_ERR) {
		if (egress)
			c->tx_icmp_unreach++;
		else
			c->rx_icmp_unreach++;
		return;
	}
	if (egress) {
		c->tx_packets++;
		c->tx_bytes += len;
		c->tx_syn += syn && !ack;
		c->tx_synack += syn && ack;
		c->tx_rst += rst;
	} else {
		c->rx_packets++;
		c->rx_bytes += len;
		c->rx_syn += syn && !ack;
		c->rx_synack += syn && ack;
		c->rx_rst += rst;
	}
}

void ref_account(const struct pc_port_table *t, const uint8_t *b, size_t len, bool egress,
		 struct pc_global *g, struct pc_counters *slots)
{
	struct ref_result r;
	uint16_t in_port = 0, out_port = 0, s_in, s_out;

	ref_parse(b, len, &r);
	g->packets++;
	switch (r.verdict) {
	case REF_NOT_IP:
		g->not_ip++;
		return;
	case REF_MALFORMED:
		g->malformed++;
		return;
	case REF_FRAG:
		g->frag_nonfirst++;
		return;
	case REF_OTHER:
		g->other_l4++;
		return;
	case REF_ICMP_NOPORT:
		g->icmp_errors++;
		return;
	case REF_ICMP_ERR:
		g->icmp_errors++;
		/*
		 * The original packet went the other way: at ingress it is one we sent,
		 * so its destination is a service we call (OUT) and its source one of
		 * ours (IN); at egress it is one we received, the other way round.
		 */
		in_port = egress ? r.dport : r.sport;
		out_port = egress ? r.sport : r.dport;
		break;
	case REF_L4:
		in_port = egress ? r.sport : r.dport;
		out_port = egress ? r.dport : r.sport;
		break;
	}
	s_in = t->slot[r.proto][PC_DIR_IN][in_port];
	s_out = t->slot[r.proto][PC_DIR_OUT][out_port];
	if (!s_in && !s_out)
		return;
	g->monitored++;
	if (s_in && s_in < PC_MAX_SLOTS)
		bump(&slots[s_in], &r, len, egress);
	if (s_out && s_out < PC_MAX_SLOTS)
		bump(&slots[s_out], &r, len, egress);
}
