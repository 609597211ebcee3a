/* SPDX-License-Identifier: GPL-2.0 */
/* preflight.h: what a candidate firewall ruleset does to given ports, tested in a sandbox. */
#ifndef PC_PREFLIGHT_H
#define PC_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "portspec.h"

struct json_object;

/* Every port of every SPEC is tested, up to this many per run (each needs a listener
 * and a client socket, and all are probed at once). */
#define PC_PREFLIGHT_MAX_PORTS 512
/* Name of the table preflight adds (beside the ruleset, in the sandbox only) to trace packets. */
#define PC_PREFLIGHT_TRACE_TABLE "portcanary_preflight_trace"

enum pc_ruleset_kind {
	PC_RULESET_NFT = 0,	 /* nft -f syntax, loaded with libnftables */
	PC_RULESET_IPTABLES = 1, /* iptables-save syntax, loaded with (ip6)iptables-restore */
};

/* A ruleset: a file, or text in memory (the daemon's copy of a new ruleset). */
struct pc_ruleset {
	enum pc_ruleset_kind kind;
	const char *path; /* NULL: use text */
	const char *text;
	const char *name; /* for reports; NULL: path */
};

#define PC_PREFLIGHT_NO_BPF (1u << 0) /* no drop reasons (e.g. inside a user namespace) */

struct pc_preflight_opts {
	struct pc_ruleset candidate;
	const struct pc_ruleset *baseline; /* NULL: no comparison */
	const struct pc_portspec *specs;
	int nspecs;
	const char *from;	 /* client address; NULL: 192.0.2.1 (2001:db8::1) */
	const char *to;		 /* server address; NULL: 192.0.2.2 (2001:db8::2) */
	const char *iface;	 /* the ruleset side's interface name; NULL: "eth0" */
	unsigned int timeout_ms; /* per attempt (two attempts); 0: 1000 */
	unsigned int flags;
	/* candidate.text is a live ruleset as `nft -a list ruleset` printed it: name its rules
	 * by their live handles, not the sandbox copy's (they differ once rules were deleted). */
	bool candidate_is_live;
};

enum pc_verdict {
	PC_VERDICT_REACHABLE = 0,
	PC_VERDICT_BLOCKED = 1,
};

/* How the last attempt failed. */
enum pc_failure {
	PC_FAIL_NONE = 0,
	PC_FAIL_TIMEOUT, /* no answer: dropped somewhere */
	PC_FAIL_REFUSED, /* TCP reset or ICMP port unreachable: rejected */
	PC_FAIL_UNREACH, /* ICMP host/net/admin unreachable */
	PC_FAIL_LOCAL,	 /* the sending side refused to send (EPERM: its output chain) */
	PC_FAIL_OTHER,
};

/* The firewall rule that dropped a probe. */
struct pc_rule_ref {
	bool known;
	char family[8]; /* ip, ip6, inet, bridge, netdev, arp */
	char table[64];
	char chain[64];
	bool has_handle; /* false: the chain's policy, or an iptables-legacy rule */
	uint64_t handle;
	char text[512]; /* the rule as `nft list` (or iptables-save) prints it */
};

struct pc_preflight_port {
	uint8_t proto; /* enum pc_proto */
	uint8_t dir;   /* enum pc_dir */
	uint16_t port;
	enum pc_verdict verdict;
	enum pc_failure failure;
	char drop_reason[48]; /* from the kfree_skb tracer; "" when unknown */
	uint64_t drops;	      /* probe packets the kernel dropped (all reasons) */
	struct pc_rule_ref rule;
	enum pc_verdict baseline_verdict; /* with a baseline only */
};

struct pc_preflight_result {
	struct pc_preflight_port *ports; /* sorted: proto, direction, port */
	int nports;
	bool has_baseline;
	int blocked;	      /* blocked by the candidate (with a baseline: newly blocked) */
	int baseline_blocked; /* blocked by the baseline already (with a baseline) */
	bool bpf_evidence;    /* the drop tracer ran (drop reasons can be known) */
	char from[46], to[46];
	char error[1024]; /* why the run failed: one line, or nft's message (a few lines) */
};

/*
 * Build a sandbox per ruleset and direction, load the ruleset on its host side, probe
 * every port with real TCP handshakes / UDP round trips, and gather the evidence.
 * Inbound ports: the sandbox host is the server, the peer connects from --from.
 * Outbound ports: the sandbox host connects from --from to a server at --to.
 * The calling thread's network namespace is changed and restored (see sandbox.h):
 * run it in its own thread or process when other threads need the namespace stable.
 * Returns 0 (the result says what is blocked), or -errno with r->error set:
 * -EINVAL a bad option or a ruleset that does not load (nft's message), -ENOENT an
 * unreadable file, -EPERM no privilege, -E2BIG too many ports.
 */
int pc_preflight_run(const struct pc_preflight_opts *o, struct pc_preflight_result *r);
void pc_preflight_result_free(struct pc_preflight_result *r);

/* ---- pure parts (no I/O), unit-tested ---- */

/* One nftables trace event, as NFNLGRP_NFTRACE reports it. */
struct pc_trace_ev {
	uint32_t id;	 /* per packet */
	uint32_t type;	 /* NFT_TRACETYPE_* */
	int32_t verdict; /* rule verdict, or the policy for NFT_TRACETYPE_POLICY */
	bool has_verdict;
	bool has_handle;
	uint64_t handle;
	char family[8];
	char table[64];
	char chain[64];
	/* The packet's headers, present in the first event of each chain walk. */
	int nfproto; /* NFPROTO_IPV4/IPV6, 0 unknown */
	const uint8_t *nh;
	size_t nhlen;
	const uint8_t *th;
	size_t thlen;
};

/* Which probe a trace belongs to: the client's address picks the port out of the
 * header (destination port of client packets, source port of the answers). */
struct pc_trace_book {
	int family; /* AF_INET / AF_INET6 */
	uint8_t client[16];
	struct {
		uint32_t id;
		uint8_t proto;
		uint16_t port;
	} ids[1024]; /* ring of recent packets */
	unsigned int next;
};

/* One NFNLGRP_NFTRACE message as an event. Returns the parsed trace, which ev's header
 * pointers point into (free it with nftnl_trace_free() when done with ev), or NULL when
 * the message is not a trace event. */
struct nlmsghdr;
struct nftnl_trace;
struct nftnl_trace *pc_trace_parse(const struct nlmsghdr *nlh, struct pc_trace_ev *ev);
/* Family name of an NFPROTO_* value ("ip", "inet", ...). */
const char *pc_nfproto_name(int nfproto);
/* The probe (proto, service port) of a packet from its headers; 0, or -ENOENT when it
 * is not TCP/UDP of the sandbox's family. */
int pc_trace_pkt_ports(const struct pc_trace_book *b, int nfproto, const uint8_t *nh, size_t nhlen,
		       const uint8_t *th, size_t thlen, uint8_t *proto, uint16_t *port);
/* Feed one event. Returns 1 with proto, port and rule filled when it is a drop (rule
 * verdict drop, reject included, or a chain policy drop) of a known probe, else 0.
 * Events of our own trace table are ignored. */
int pc_trace_feed(struct pc_trace_book *b, const struct pc_trace_ev *ev, uint8_t *proto,
		  uint16_t *port, struct pc_rule_ref *rule);
/* Fill rule->text from `nft -a list ruleset` output (by family, table, chain, handle);
 * a policy drop gets "policy drop". Returns 0 or -ENOENT. */
int pc_nft_rule_text(const char *listing, struct pc_rule_ref *rule);
/* The iptables-save -c rule that most likely dropped (proto, port): an incremented
 * DROP/REJECT rule naming the port, else the only incremented DROP/REJECT rule, else
 * an incremented DROP policy. family is "ip" or "ip6". Returns 0 or -ENOENT. */
int pc_ipt_find_rule(const char *save_c, const char *family, int proto, uint16_t port,
		     struct pc_rule_ref *rule);

/* A rule as JSON ({family, table, chain, handle, text}; handle null for a policy), or NULL
 * (JSON null) when the rule is not known. */
struct json_object *pc_rule_ref_json(const struct pc_rule_ref *rule);

/* The --json document of the contract (with a baseline: only newly blocked ports). */
struct json_object *pc_preflight_json(const struct pc_preflight_result *r, const char *ruleset,
				      const char *baseline);
/* The readable table. */
void pc_preflight_table(FILE *out, const struct pc_preflight_result *r, const char *ruleset,
			const char *baseline);
const char *pc_failure_name(enum pc_failure f);

#endif
