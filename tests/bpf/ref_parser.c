// SPDX-License-Identifier: GPL-2.0
/*
 * ref_parser.c: a strict reference of what the datapath counts, written apart from bpf/ (from
 * the RFCs and Linux's input checks), offset by offset, for the differential tests.
 *
 * The rules, each as Linux applies it on input (a frame Linux would drop is malformed, never
 * a request or an answer):
 *  - Ethernet: 14 bytes; up to two VLAN tags (802.1Q, 802.1ad); a third tag is not IP.
 *  - IPv4 (RFC 791, ip_rcv_core): version 4, IHL >= 5, the header in the frame, IHL*4 <=
 *    total length <= the frame; total length 0 only for BIG TCP, an skb above 64 KiB (TC).
 *    A fragment with an offset carries no ports.
 *  - IPv6 (RFC 8200, ipv6_rcv): version 6, the fixed header in the frame, payload length
 *    within it; payload length 0 only for a jumbogram (RFC 2675: hop-by-hop first, Jumbo
 *    Payload option at its offset 2, length above 65,535 and within the frame) or BIG TCP
 *    (TC, above 65,535 + 40); a Jumbo Payload option with a payload length is an error.
 *    Extension headers: hop-by-hop only first, each within the
 *    payload; at most six are walked, then "other".
 *  - TCP (RFC 9293, tcp_v4_rcv): 20 bytes, data offset >= 5 and within the IP payload.
 *    SYN with RST or FIN is no connection request and no answer.
 *  - UDP (RFC 768, __udp4_lib_rcv): 8 bytes; length >= 8 and within the IP payload (0 in
 *    an IPv6 jumbogram).
 *  - ICMP/ICMPv6 destination unreachable (icmp_unreach, icmpv6_notify): 8 bytes; the
 *    quoted header must be well formed (version, IHL >= 5, its header quoted) and quote
 *    8 bytes of ports; its lengths are a truncated copy's and are not checked.
 */
#include <string.h>

#include "ref_parser.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Where parsing is: len is the frame's end, end what the headers declare. */
struct walk {
	const uint8_t *b;
	size_t len;
	size_t at;  /* the next header */
	size_t end; /* declared end of the current IP packet (<= len for the outer one) */
	bool jumbo;
	const char *why;
};

/* `n` bytes at w->at exist in the frame and within the declared packet. */
static bool have(const struct walk *w, size_t n)
{
	return w->at + n <= w->len && w->at + n <= w->end;
}

#define NH_BAD	(-1)
#define NH_FRAG (-2)

static int fail(struct walk *w, const char *why)
{
	w->why = why;
	return NH_BAD;
}

static int ipv4(struct walk *w, bool quoted, bool tc)
{
	const uint8_t *h = w->b + w->at;
	size_t ihl, total;

	if (!have(w, 20))
		return fail(w, "IPv4 header cut");
	if (h[0] >> 4 != 4)
		return fail(w, "IPv4 version");
	ihl = (size_t)(h[0] & 0xf) * 4;
	if (ihl < 20)
		return fail(w, "IPv4 IHL below 5");
	if (!have(w, ihl))
		return fail(w, "IPv4 options cut");
	if (!quoted) {
		total = be16(h + 2);
		if (total == 0 && tc && w->len - w->at > 65535)
			total = w->len - w->at; /* BIG TCP */
		else if (total == 0)
			return fail(w, "IPv4 total length 0");
		if (total < ihl)
			return fail(w, "IPv4 total length below IHL");
		if (w->at + total > w->len)
			return fail(w, "IPv4 total length beyond the frame");
		w->end = w->at + total;
	}
	w->at += ihl;
	if (be16(h + 6) & 0x1fff)
		return NH_FRAG;
	return h[9];
}

static int ipv6_ext(struct walk *w, int nh)
{
	int n;

	for (n = 0; n < 6; n++) {
		size_t hlen;

		if (nh == 0 && n > 0)
			return fail(w, "IPv6 hop-by-hop not first");
		if (nh == 0 || nh == 43 || nh == 60) {
			if (!have(w, 2))
				return fail(w, "IPv6 extension header cut");
			hlen = 8 * ((size_t)w->b[w->at + 1] + 1);
			if (w->at + hlen > w->end)
				return fail(w, "IPv6 extension header beyond the payload");
		} else if (nh == 44) {
			if (!have(w, 8))
				return fail(w, "IPv6 fragment header cut");
			if (be16(w->b + w->at + 2) >> 3) {
				w->at += 8;
				return NH_FRAG;
			}
			hlen = 8;
		} else {
			return nh;
		}
		nh = w->b[w->at];
		w->at += hlen;
	}
	return nh; /* still an extension header: the walk stops, "other" */
}

static int ipv6(struct walk *w, bool quoted, bool tc)
{
	const uint8_t *h = w->b + w->at;
	size_t payload, avail;

	if (!have(w, 40))
		return fail(w, "IPv6 header cut");
	if (h[0] >> 4 != 6)
		return fail(w, "IPv6 version");
	if (!quoted) {
		avail = w->len - w->at - 40;
		payload = be16(h + 4);
		if (h[6] == 0 && w->at + 48 <= w->len && h[42] == 0xc2 && h[43] == 4) {
			/* RFC 2675 section 3: a jumbo option with a payload length is an error */
			if (payload)
				return fail(w, "IPv6 jumbo option with a payload length");
			payload = be32(h + 44);
			if (payload <= 65535 || payload > avail)
				return fail(w, "IPv6 jumbo payload length");
			w->jumbo = true;
		} else if (payload == 0) {
			if (tc && avail > 65535) {
				payload = avail; /* BIG TCP */
			} else {
				return fail(w, "IPv6 payload length 0 without a jumbogram");
			}
		} else if (payload > avail) {
			return fail(w, "IPv6 payload length beyond the frame");
		}
		w->end = w->at + 40 + payload;
	}
	w->at += 40;
	return ipv6_ext(w, h[6]);
}

enum ref_segment ref_segment(uint8_t f)
{
	bool syn = f & 0x02, rst = f & 0x04, fin = f & 0x01, ack = f & 0x10;

	if (syn && (rst || fin))
		return REF_SEG_INVALID;
	if (syn)
		return ack ? REF_SEG_SYNACK : REF_SEG_SYN;
	return rst ? REF_SEG_RST : REF_SEG_OTHER;
}

static void ports(struct ref_result *r, const uint8_t *p, int proto)
{
	r->proto = proto;
	r->sport = be16(p);
	r->dport = be16(p + 2);
}

void ref_parse(const uint8_t *b, size_t len, bool tc, struct ref_result *r)
{
	struct walk w = {.b = b, .len = len, .at = 12, .end = len};
	uint16_t type;
	bool v6;
	int nh, tags;

	memset(r, 0, sizeof(*r));
	r->verdict = REF_MALFORMED;
	if (len < 14) {
		r->why = "Ethernet header cut";
		return;
	}
	type = be16(b + 12);
	w.at = 14;
	for (tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8); tags++) {
		if (w.at + 4 > len) {
			r->why = "VLAN tag cut";
			return;
		}
		type = be16(b + w.at + 2);
		w.at += 4;
	}
	if (type != 0x0800 && type != 0x86dd) {
		r->verdict = REF_NOT_IP;
		return;
	}
	v6 = type == 0x86dd;
	nh = v6 ? ipv6(&w, false, tc) : ipv4(&w, false, tc);
	r->why = w.why;
	if (nh == NH_BAD)
		return;
	if (nh == NH_FRAG) {
		r->verdict = REF_FRAG;
		return;
	}
	if (nh == 6) {
		size_t doff;

		if (!have(&w, 20)) {
			r->why = "TCP header cut";
			return;
		}
		doff = (size_t)(b[w.at + 12] >> 4) * 4;
		if (doff < 20 || w.at + doff > w.end) {
			r->why = "TCP data offset";
			return;
		}
		r->verdict = REF_L4;
		ports(r, b + w.at, PC_PROTO_TCP);
		r->tcp_flags = b[w.at + 13];
		return;
	}
	if (nh == 17) {
		size_t ulen;

		if (!have(&w, 8)) {
			r->why = "UDP header cut";
			return;
		}
		ulen = be16(b + w.at + 4);
		if (!(ulen == 0 && w.jumbo) && (ulen < 8 || w.at + ulen > w.end)) {
			r->why = "UDP length";
			return;
		}
		r->verdict = REF_L4;
		ports(r, b + w.at, PC_PROTO_UDP);
		return;
	}
	if (nh != (v6 ? 58 : 1)) {
		r->verdict = REF_OTHER;
		return;
	}
	if (!have(&w, 8)) {
		r->why = "ICMP header cut";
		return;
	}
	if (b[w.at] != (v6 ? 1 : 3)) {
		r->verdict = REF_OTHER;
		return;
	}
	w.at += 8;
	nh = v6 ? ipv6(&w, true, tc) : ipv4(&w, true, tc);
	r->why = w.why;
	if (nh == NH_BAD)
		return;
	if (nh != 6 && nh != 17) {
		r->verdict = REF_ICMP_NOPORT; /* GRE, ICMP, a later fragment… */
		return;
	}
	if (!have(&w, 8)) {
		r->why = "ICMP quote ends before the ports";
		return;
	}
	r->verdict = REF_ICMP_ERR;
	ports(r, b + w.at, nh == 6 ? PC_PROTO_TCP : PC_PROTO_UDP);
}

static void count(struct pc_counters *c, const struct ref_result *r, size_t len, bool egress)
{
	__u64 *packets = egress ? &c->tx_packets : &c->rx_packets;
	__u64 *bytes = egress ? &c->tx_bytes : &c->rx_bytes;

	if (r->verdict == REF_ICMP_ERR) {
		(*(egress ? &c->tx_icmp_unreach : &c->rx_icmp_unreach))++;
		return;
	}
	(*packets)++;
	*bytes += len;
	switch (ref_segment(r->tcp_flags)) {
	case REF_SEG_SYN:
		(*(egress ? &c->tx_syn : &c->rx_syn))++;
		break;
	case REF_SEG_SYNACK:
		(*(egress ? &c->tx_synack : &c->rx_synack))++;
		break;
	case REF_SEG_RST:
		(*(egress ? &c->tx_rst : &c->rx_rst))++;
		break;
	case REF_SEG_INVALID:
		(*(egress ? &c->tx_badflags : &c->rx_badflags))++;
		break;
	case REF_SEG_OTHER:
		break;
	}
}

void ref_account(const struct pc_port_table *t, const uint8_t *b, size_t len, int hook,
		 struct pc_global *g, struct pc_counters *slots)
{
	bool egress = hook == PC_HOOK_TC_EGRESS;
	uint16_t in_port, out_port, s_in, s_out;
	struct ref_result r;

	ref_parse(b, len, hook != PC_HOOK_XDP, &r);
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
	default:
		if (ref_segment(r.tcp_flags) == REF_SEG_INVALID && r.proto == PC_PROTO_TCP)
			g->invalid_flags++;
		in_port = egress ? r.sport : r.dport;
		out_port = egress ? r.dport : r.sport;
		break;
	}
	s_in = t->slot[PC_PORT_INDEX(in_port)][r.proto][PC_DIR_IN];
	s_out = t->slot[PC_PORT_INDEX(out_port)][r.proto][PC_DIR_OUT];
	if (!s_in && !s_out)
		return;
	g->monitored++;
	if (s_in && s_in < PC_MAX_SLOTS)
		count(&slots[s_in], &r, len, egress);
	if (s_out && s_out < PC_MAX_SLOTS)
		count(&slots[s_out], &r, len, egress);
}
