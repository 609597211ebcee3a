// SPDX-License-Identifier: GPL-2.0
/* pkt.c: frame builder for the datapath tests and the benchmark. */
#include <stdio.h>
#include <string.h>

#include "pkt.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* Writes the L4 header and payload; returns its length. For an ICMP error, quoted[0] and
 * quoted[1] get where the quoted packet's IP and L4 headers start, relative to b. */
static size_t build_l4(const struct pkt_spec *s, uint8_t *b, size_t cap, size_t *inner);

/* off[] of build_ip(): L4 at l4, a quoted packet's headers at l4 + quoted[] (0: none). */
static void set_offsets(size_t *off, size_t l4, const size_t *quoted)
{
	if (!off)
		return;
	off[0] = l4;
	off[1] = quoted[0] ? l4 + quoted[0] : 0;
	off[2] = quoted[1] ? l4 + quoted[1] : 0;
}

/*
 * Writes an IP packet (header, extension headers, L4, payload) at b; returns its length.
 * off[0] gets where L4 starts, off[1] and off[2] where a quoted packet's IP and L4 start (for
 * an ICMP error), all relative to b; off may be NULL.
 */
static size_t build_ip(const struct pkt_spec *s, uint8_t *b, size_t cap, size_t *off3)
{
	size_t inner[3] = {0, 0, 0};
	size_t hl, l4, off;
	uint8_t *nh;
	int i;

	if (s->ip == 4) {
		hl = 20 + 4 * (size_t)s->ip_opt_words;
		if (hl > cap)
			return 0;
		memset(b, 0, hl);
		b[0] = 0x40 | (hl / 4);
		put16(b + 4, 0x1234);
		put16(b + 6, (s->mf ? 0x2000 : 0) | (s->frag_off & 0x1fff));
		b[8] = 64;
		b[9] = s->l4;
		memcpy(b + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
		/* Options: NOPs ending with End of Option List, a valid if dull list. */
		for (off = 20; off < hl; off++)
			b[off] = off + 1 == hl ? 0 : 1;
		l4 = build_l4(s, b + hl, cap - hl, inner);
		put16(b + 2, hl + l4);
		set_offsets(off3, hl, inner);
		return hl + l4;
	}
	/* IPv6 */
	if (cap < 40)
		return 0;
	memset(b, 0, 40);
	b[0] = 0x60;
	b[7] = 64;
	memcpy(b + 8, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	memcpy(b + 24, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	nh = b + 6;
	off = 40;
	for (i = 0; i < s->next; i++) {
		const struct pkt_ext *e = &s->ext[i];
		size_t len = e->type == PKT_IP_FRAGMENT ? 8 : 8 * ((size_t)e->len8 + 1);

		if (off + len > cap)
			return 0;
		*nh = e->type;
		memset(b + off, 0, len);
		nh = b + off;
		if (e->type == PKT_IP_FRAGMENT) {
			put16(b + off + 2, (e->frag_off << 3) | (e->more ? 1 : 0));
			memcpy(b + off + 4, "\xde\xad\xbe\xef", 4);
		} else {
			b[off + 1] = e->len8;
			/* Options area: PadN covering it, so the header is well formed. */
			b[off + 2] = 1;
			b[off + 3] = len - 4;
			if (e->type == PKT_IP_HOPOPTS && e->jumbo) {
				/* Jumbo Payload at offset 2 (RFC 2675 alignment), PadN after */
				b[off + 2] = 0xc2;
				b[off + 3] = 4;
				put16(b + off + 4, e->jumbo >> 16);
				put16(b + off + 6, e->jumbo & 0xffff);
			}
		}
		off += len;
	}
	*nh = s->l4;
	l4 = build_l4(s, b + off, cap - off, inner);
	put16(b + 4, off - 40 + l4);
	set_offsets(off3, off, inner);
	return off + l4;
}

static size_t build_l4(const struct pkt_spec *s, uint8_t *b, size_t cap, size_t *quoted)
{
	size_t q[3] = {0, 0, 0};
	uint8_t inner[PKT_MAX];
	size_t len = 0, hl, il, keep;

	switch (s->l4) {
	case PKT_IP_TCP:
		hl = 20 + 4 * (size_t)s->tcp_opt_words;
		if (hl > cap)
			return 0;
		memset(b, 0, hl);
		put16(b, s->sport);
		put16(b + 2, s->dport);
		memcpy(b + 4, "\x11\x22\x33\x44", 4);
		if (s->flags & PKT_ACK)
			memcpy(b + 8, "\x55\x66\x77\x88", 4);
		b[12] = (hl / 4) << 4;
		b[13] = s->flags;
		put16(b + 14, 64240);
		/* Options: MSS first, then NOPs. */
		if (hl >= 24)
			memcpy(b + 20, "\x02\x04\x05\xb4", 4);
		for (size_t i = 24; i < hl; i++)
			b[i] = 1;
		len = hl;
		break;
	case PKT_IP_UDP:
		if (cap < 8)
			return 0;
		memset(b, 0, 8);
		put16(b, s->sport);
		put16(b + 2, s->dport);
		put16(b + 4, 8 + s->payload);
		len = 8;
		break;
	case PKT_IP_ICMP:
	case PKT_IP_ICMPV6:
		if (cap < 8)
			return 0;
		memset(b, 0, 8);
		b[0] = s->icmp_type;
		b[1] = s->icmp_code;
		len = 8;
		if (s->inner) {
			il = build_ip(s->inner, inner, sizeof(inner), q);
			if (!il)
				return 0;
			/* Keep the original's IP headers and the first bytes of its L4 header. */
			hl = 8;
			if (s->inner->l4 == PKT_IP_TCP)
				hl = 20 + 4 * (size_t)s->inner->tcp_opt_words;
			keep = il - hl - (size_t)s->inner->payload;
			keep += s->inner_l4_bytes ? (size_t)s->inner_l4_bytes : 8;
			if (keep > il)
				keep = il;
			if (len + keep > cap)
				return 0;
			memcpy(b + len, inner, keep);
			quoted[0] = len;
			quoted[1] = len + q[0];
			len += keep;
		}
		break;
	default:
		break;
	}
	if (len + (size_t)s->payload > cap)
		return 0;
	memset(b + len, 0xab, s->payload);
	return len + s->payload;
}

size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	struct pkt_layout lay;

	return pkt_build_layout(s, buf, cap, &lay);
}

size_t pkt_build_layout(const struct pkt_spec *s, uint8_t *buf, size_t cap, struct pkt_layout *lay)
{
	size_t off = 12, l3, o[3] = {0, 0, 0};
	int i;

	memset(lay, 0, sizeof(*lay));
	if (cap < 14 + 4 * 3)
		return 0;
	memcpy(buf, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	for (i = 0; i < s->nvlan && i < 3; i++) {
		put16(buf + off, s->vlan_tpid[i] ? s->vlan_tpid[i] : PKT_ETH_8021Q);
		put16(buf + off + 2, 100 + i);
		off += 4;
	}
	if (s->ip == 4)
		put16(buf + off, PKT_ETH_IP);
	else if (s->ip == 6)
		put16(buf + off, PKT_ETH_IPV6);
	else
		put16(buf + off, s->ethertype);
	off += 2;
	if (s->ip) {
		l3 = build_ip(s, buf + off, cap - off, o);
		if (!l3)
			return 0;
		lay->l3 = off;
		lay->l4 = off + o[0];
		lay->inner_l3 = o[1] ? off + o[1] : 0;
		lay->inner_l4 = o[2] ? off + o[2] : 0;
		off += l3;
	} else {
		/* A non-IP body: 28 bytes, the size of an ARP request. */
		if (off + 28 > cap)
			return 0;
		memset(buf + off, 0x5a, 28);
		off += 28;
	}
	if (s->pad_to && (size_t)s->pad_to > off && (size_t)s->pad_to <= cap) {
		memset(buf + off, 0, s->pad_to - off);
		off = s->pad_to;
	}
	return off;
}

struct pkt_spec pkt_tcp4(uint16_t sport, uint16_t dport, uint8_t flags)
{
	return (struct pkt_spec){
		.ip = 4, .l4 = PKT_IP_TCP, .sport = sport, .dport = dport, .flags = flags};
}

struct pkt_spec pkt_tcp6(uint16_t sport, uint16_t dport, uint8_t flags)
{
	return (struct pkt_spec){
		.ip = 6, .l4 = PKT_IP_TCP, .sport = sport, .dport = dport, .flags = flags};
}

struct pkt_spec pkt_udp4(uint16_t sport, uint16_t dport)
{
	return (struct pkt_spec){
		.ip = 4, .l4 = PKT_IP_UDP, .sport = sport, .dport = dport, .payload = 32};
}

struct pkt_spec pkt_udp6(uint16_t sport, uint16_t dport)
{
	return (struct pkt_spec){
		.ip = 6, .l4 = PKT_IP_UDP, .sport = sport, .dport = dport, .payload = 32};
}

void pkt_dump(const char *what, const uint8_t *buf, size_t len)
{
	size_t i;

	fprintf(stderr, "%s (%zu bytes):", what, len);
	for (i = 0; i < len; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n  ", buf[i]);
	fprintf(stderr, "\n");
}
