/* SPDX-License-Identifier: GPL-2.0 */
/* pkt.h: build Ethernet frames (VLAN, IPv4/IPv6, ext headers, TCP/UDP, ICMP errors) for tests. */
#ifndef PC_TEST_PKT_H
#define PC_TEST_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 4096

#define PKT_ETH_IP     0x0800
#define PKT_ETH_ARP    0x0806
#define PKT_ETH_IPV6   0x86DD
#define PKT_ETH_8021Q  0x8100
#define PKT_ETH_8021AD 0x88A8

#define PKT_IP_HOPOPTS	0
#define PKT_IP_ICMP	1
#define PKT_IP_TCP	6
#define PKT_IP_UDP	17
#define PKT_IP_ROUTING	43
#define PKT_IP_FRAGMENT 44
#define PKT_IP_GRE	47
#define PKT_IP_ICMPV6	58
#define PKT_IP_DSTOPTS	60

#define PKT_FIN 0x01
#define PKT_SYN 0x02
#define PKT_RST 0x04
#define PKT_PSH 0x08
#define PKT_ACK 0x10

/* One IPv6 extension header. */
struct pkt_ext {
	uint8_t type;	   /* PKT_IP_HOPOPTS, _ROUTING, _DSTOPTS or _FRAGMENT */
	uint8_t len8;	   /* Hdr Ext Len (8-byte units after the first 8); not for fragment */
	uint16_t frag_off; /* fragment: offset in 8-byte units */
	bool more;	   /* fragment: M flag */
	uint32_t jumbo;	   /* hop-by-hop: a Jumbo Payload option (RFC 2675) with this length */
};

/* A frame, layer by layer. Zero-initialise, then fill what matters. */
struct pkt_spec {
	int nvlan;	       /* 0..3 tags */
	uint16_t vlan_tpid[3]; /* PKT_ETH_8021Q or PKT_ETH_8021AD */
	uint16_t ethertype;    /* used when ip == 0 (e.g. ARP) */
	int ip;		       /* 4, 6, or 0 for a non-IP frame */
	int ip_opt_words;      /* IPv4 options, 32-bit words (0..10) */
	uint16_t frag_off;     /* IPv4 fragment offset, 8-byte units */
	bool mf;	       /* IPv4 more-fragments */
	struct pkt_ext ext[8]; /* IPv6 extension headers, in order */
	int next;
	uint8_t l4; /* IP protocol of the upper layer */
	uint16_t sport, dport;
	uint8_t flags;	   /* TCP flags */
	int tcp_opt_words; /* TCP options, 32-bit words (0..10) */
	uint8_t icmp_type, icmp_code;
	const struct pkt_spec *inner; /* ICMP error: the original packet (from its IP header) */
	int inner_l4_bytes;	      /* bytes of the original L4 header kept; 0 means 8 */
	int payload;		      /* bytes of payload after L4 */
	int pad_to;		      /* zero-pad the frame to this length (Ethernet minimum) */
};

/* Where a built frame's headers start (0: absent), for tests that rewrite their fields. */
struct pkt_layout {
	size_t l3, l4;		   /* the IP header, the L4 header (after extension headers) */
	size_t inner_l3, inner_l4; /* in an ICMP error: the quoted packet's */
};

/* Builds the frame into buf; returns its length (0 if it does not fit). */
size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap);
/* The same, and where its headers are. */
size_t pkt_build_layout(const struct pkt_spec *s, uint8_t *buf, size_t cap, struct pkt_layout *lay);

/* Common shapes. */
struct pkt_spec pkt_tcp4(uint16_t sport, uint16_t dport, uint8_t flags);
struct pkt_spec pkt_tcp6(uint16_t sport, uint16_t dport, uint8_t flags);
struct pkt_spec pkt_udp4(uint16_t sport, uint16_t dport);
struct pkt_spec pkt_udp6(uint16_t sport, uint16_t dport);

/* Hex dump for failure messages. */
void pkt_dump(const char *what, const uint8_t *buf, size_t len);

#endif /* PC_TEST_PKT_H */
