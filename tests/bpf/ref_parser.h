/* SPDX-License-Identifier: GPL-2.0 */
/* ref_parser.h: a plain userspace reference of the datapath's parsing and counting rules. */
#ifndef PC_TEST_REF_PARSER_H
#define PC_TEST_REF_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portcanary.h"

enum ref_verdict {
	REF_L4,		 /* TCP/UDP with ports */
	REF_ICMP_ERR,	 /* destination unreachable naming original ports */
	REF_ICMP_NOPORT, /* destination unreachable about a packet without ports */
	REF_NOT_IP,
	REF_MALFORMED,
	REF_FRAG,
	REF_OTHER,
};

struct ref_result {
	enum ref_verdict verdict;
	int proto;	/* enum pc_proto, for REF_L4 and REF_ICMP_ERR */
	uint16_t sport; /* the packet's ports; for ICMP errors, the original's */
	uint16_t dport;
	uint8_t tcp_flags;
};

/* Parses a whole frame of len bytes (as XDP or a linear skb sees it). */
void ref_parse(const uint8_t *b, size_t len, struct ref_result *r);

/*
 * Applies the counting contract for one frame at one hook: g is that hook's
 * global counters, slots the PC_MAX_SLOTS per-slot counters.
 */
void ref_account(const struct pc_port_table *t, const uint8_t *b, size_t len, bool egress,
		 struct pc_global *g, struct pc_counters *slots);

#endif /* PC_TEST_REF_PARSER_H */
