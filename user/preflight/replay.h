/* SPDX-License-Identifier: GPL-2.0 */
/* replay.h: a long-lived sandbox copy of the live ruleset; sampled dropped packets replayed in it to name the rule. */
#ifndef PC_REPLAY_H
#define PC_REPLAY_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "portcanary.h"
#include "preflight/preflight.h"
#include "preflight/ruleset.h"
#include "preflight/sandbox.h"

#define PC_REPLAY_MAX_PKTS   PC_DROP_SAMPLES /* one per sampled peer */
#define PC_REPLAY_MAX_IFACES 32		     /* interfaces of the copy (veth pairs) */
#define PC_REPLAY_MAX_ADDRS  512	     /* addresses the copy's two sides hold */
#define PC_REPLAY_WAIT_MS    250	     /* per packet: no drop, no answer → lost */

/* One dropped packet to replay, as the daemon's tracer sampled it. */
struct pc_replay_pkt {
	int family; /* AF_INET or AF_INET6 */
	union pc_sb_addr saddr, daddr;
	uint16_t sport, dport;
	uint8_t tcp_flags;
	bool rx;		  /* received; else sent by the host */
	char ifname[IF_NAMESIZE]; /* the interface the rules saw it on (in or out) */
};

/* The packets of one monitored port. */
struct pc_replay_req {
	uint8_t proto; /* enum pc_proto */
	uint8_t dir;   /* enum pc_dir */
	uint16_t port;
	struct pc_replay_pkt pkts[PC_REPLAY_MAX_PKTS];
	int npkts;
};

/* What a packet's replay found. */
enum pc_replay_outcome {
	PC_REPLAY_RULE = 0,	  /* the copy dropped the same packet: rule known */
	PC_REPLAY_PASSED,	  /* the copy let it through */
	PC_REPLAY_OTHER_DROP,	  /* the copy dropped another packet of the connection */
	PC_REPLAY_HANDSHAKE_DROP, /* an established connection's packet: its handshake drops */
	PC_REPLAY_UNREPRODUCIBLE, /* its path reads state the copy cannot have */
	PC_REPLAY_LOST,		  /* no drop, no answer */
	PC_REPLAY_NOT_LOADED,	  /* the live ruleset does not load in the sandbox */
	PC_REPLAY_ERROR,	  /* the replay itself failed */
	PC_REPLAY_OUTCOME_MAX,
};

/* The answer for one port: the live rule (its live handle), or why there is none. */
struct pc_replay_result {
	struct pc_rule_ref rule;	/* known: the rule most packets were dropped by */
	int reproduced;			/* packets dropped by it */
	int replayed;			/* packets replayed */
	enum pc_replay_outcome outcome; /* rule unknown: the first packet's outcome */
	char why[320];			/* rule unknown: one line, why */
	double ms;			/* time the replays took */
	uint32_t generation;		/* of the live ruleset the copy was made from */
};

struct pc_replay;

/* Build the sandbox (two anonymous namespaces; one veth pair per name in ifnames, the
 * host end named like the host's interface) and its trace socket. The caller must be in a
 * user and network namespace of its own. 0 or -errno with a line in err. */
int pc_replay_open(struct pc_replay **rp, const char ifnames[][IF_NAMESIZE], int n, char *err,
		   size_t errlen);
/* Replace the copy by a listing of the live ruleset (`nft -a list ruleset`), in one
 * transaction. 0, or -EINVAL with nft's message (the copy is then unusable). */
int pc_replay_load(struct pc_replay *rp, const char *listing, uint32_t generation, char *err,
		   size_t errlen);
/* Replay each packet of req against the copy; fill res. Never fails: res says why. */
void pc_replay_run(struct pc_replay *rp, const struct pc_replay_req *req,
		   struct pc_replay_result *res);
/* The sandbox has no room left for another address: close it and open a new one. */
bool pc_replay_full(const struct pc_replay *rp);
void pc_replay_close(struct pc_replay *rp);

/* ---- pure parts (no I/O), unit-tested ---- */

/* The roles of a sampled packet: who was the client and the server of its connection. */
struct pc_replay_flow {
	int family;
	union pc_sb_addr client, server;
	uint16_t client_port, server_port;
	bool client_is_host; /* an outbound port: this host is the client */
	bool from_client;    /* the sampled packet was the client's */
	int kind;	     /* enum pc_replay_kind of the sampled packet */
};

enum pc_replay_kind {
	PC_KIND_SYN = 0, /* a connection's first packet */
	PC_KIND_SYNACK,	 /* its answer */
	PC_KIND_RST,
	PC_KIND_DATA, /* anything else of a TCP connection; any UDP datagram */
};

/* Classify a packet's TCP flags (UDP: PC_KIND_DATA). */
int pc_replay_kind(int proto, uint8_t tcp_flags);
const char *pc_replay_kind_name(int kind);
/* The flow of a packet of a port. -EINVAL when the packet is not of that port. */
int pc_replay_flow_of(const struct pc_replay_req *req, const struct pc_replay_pkt *p,
		      struct pc_replay_flow *f);

/* One trace event of a replayed packet, kept to see which rules it met. */
struct pc_replay_ev {
	uint32_t type; /* NFT_TRACETYPE_* */
	int32_t verdict;
	bool has_handle;
	uint64_t handle;
	char family[8];
	char table[64];
	char chain[64];
};

/* Did the packet that met these events (in order) pass a rule of the copy (listing with
 * the copy's handles) that reads state outside it? Every rule of a chain it went through
 * counts up to where it left the chain (all of them when it reached the end). Returns
 * what is read, with the chain, in why, and true; false when the path is clean. */
bool pc_replay_path_outside(const struct pc_nft_rules *copy, const struct pc_replay_ev *ev, int n,
			    char *why, size_t len);

/* An established connection's packet whose opening (from the same end) the copy drops:
 * the opening met the same rules on the same addresses, ports and interfaces, so the
 * packet meets them too, unless a rule on the path looks at the connection's state or TCP
 * flags. True (why filled) when one does. */
bool pc_replay_path_conn_state(const struct pc_nft_rules *copy, const struct pc_replay_ev *ev,
			       int n, char *why, size_t len);

/* The live rule at the position of the copy's rule (same family, table, chain; the
 * copy was loaded from the live listing, so the n-th rule is the n-th rule). 0, or
 * -ENOENT when the chains do not line up. rule->text gets the live rule's display text. */
int pc_replay_live_rule(const struct pc_nft_rules *live, const struct pc_nft_rules *copy,
			struct pc_rule_ref *rule);

/* The line saying why no rule is named, for an outcome. */
const char *pc_replay_outcome_why(enum pc_replay_outcome o);

/* The JSON messages between the daemon and the replayer (one object per line). */
struct json_object *pc_replay_req_json(const struct pc_replay_req *r, uint32_t id, int slot);
int pc_replay_req_parse(struct json_object *o, struct pc_replay_req *r, uint32_t *id, int *slot);
struct json_object *pc_replay_result_json(const struct pc_replay_result *r, uint32_t id, int slot);
int pc_replay_result_parse(struct json_object *o, struct pc_replay_result *r, uint32_t *id,
			   int *slot);
/* RULE read back from the JSON that pc_rule_ref_json (preflight.h) writes. */
int pc_rule_parse(struct json_object *o, struct pc_rule_ref *rule);

#endif
