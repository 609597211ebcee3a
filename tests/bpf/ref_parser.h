/* SPDX-License-Identifier: GPL-2.0 */
/* ref_parser.h: a strict userspace reference of what the datapath must count, for differential tests. */
#ifndef PC_TEST_REF_PARSER_H
#define PC_TEST_REF_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portcanary.h"
#include "sampler.h"

enum ref_verdict {
	REF_L4,		 /* TCP/UDP with ports */
	REF_ICMP_ERR,	 /* destination unreachable naming original ports */
	REF_ICMP_NOPORT, /* destination unreachable about a packet without ports */
	REF_NOT_IP,
	REF_MALFORMED,
	REF_FRAG,
	REF_OTHER,
};

/* What a TCP segment is, by its flags (UDP: REF_SEG_OTHER). */
enum ref_segment {
	REF_SEG_OTHER,
	REF_SEG_SYN,	/* a connection request */
	REF_SEG_SYNACK, /* a handshake answer */
	REF_SEG_RST,
	REF_SEG_INVALID, /* SYN with RST or FIN */
};

struct ref_result {
	enum ref_verdict verdict;
	int proto;	/* enum pc_proto, for REF_L4 and REF_ICMP_ERR */
	uint16_t sport; /* the packet's ports; for ICMP errors, the original's */
	uint16_t dport;
	uint8_t tcp_flags;
	const char *why; /* for REF_MALFORMED, REF_OTHER…: the rule that decided */
};

/* Parses a whole frame of len bytes (as XDP or a linear skb sees it); tc: at a TC hook. */
void ref_parse(const uint8_t *b, size_t len, bool tc, struct ref_result *r);
enum ref_segment ref_segment(uint8_t tcp_flags);

/*
 * Applies the counting contract for one frame at one hook: g is that hook's totals as
 * user space derives them, slots the PC_MAX_SLOTS ports' counters (sampler.h).
 */
void ref_account(const struct pc_port_table *t, const uint8_t *b, size_t len, int hook,
		 struct pc_global *g, struct pc_counters *slots);

#endif /* PC_TEST_REF_PARSER_H */
