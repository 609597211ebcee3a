// SPDX-License-Identifier: GPL-2.0
/* replay_msg.c: the pure side of the replay: packet roles, which rules a path met, the live handle, the messages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <json-c/json.h>
#include <linux/netfilter/nf_tables.h>

#include "portspec.h"
#include "preflight/replay.h"
#include "jsonutil.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

int pc_replay_kind(int proto, uint8_t f)
{
	if (proto != PC_PROTO_TCP)
		return PC_KIND_DATA;
	if (f & TCP_RST)
		return PC_KIND_RST;
	if ((f & TCP_SYN) && !(f & TCP_ACK))
		return PC_KIND_SYN;
	if ((f & TCP_SYN) && (f & TCP_ACK))
		return PC_KIND_SYNACK;
	return PC_KIND_DATA;
}

const char *pc_replay_kind_name(int kind)
{
	switch (kind) {
	case PC_KIND_SYN:
		return "SYN";
	case PC_KIND_SYNACK:
		return "SYN-ACK";
	case PC_KIND_RST:
		return "RST";
	default:
		return "data";
	}
}

int pc_replay_flow_of(const struct pc_replay_req *req, const struct pc_replay_pkt *p,
		      struct pc_replay_flow *f)
{
	/* The peer is the other end: the source of what we received, the destination of
	 * what we sent. */
	const union pc_sb_addr *local = p->rx ? &p->daddr : &p->saddr;
	const union pc_sb_addr *peer = p->rx ? &p->saddr : &p->daddr;
	uint16_t lport = p->rx ? p->dport : p->sport, pport = p->rx ? p->sport : p->dport;

	memset(f, 0, sizeof(*f));
	if (p->family != AF_INET && p->family != AF_INET6)
		return -EINVAL;
	f->family = p->family;
	f->client_is_host = req->dir == PC_DIR_OUT;
	if (f->client_is_host) {
		if (pport != req->port)
			return -EINVAL;
		f->client = *local;
		f->client_port = lport;
		f->server = *peer;
		f->server_port = pport;
	} else {
		if (lport != req->port)
			return -EINVAL;
		f->client = *peer;
		f->client_port = pport;
		f->server = *local;
		f->server_port = lport;
	}
	/* What the host received came from the peer: the client of an inbound port. */
	f->from_client = f->client_is_host ? !p->rx : p->rx;
	f->kind = pc_replay_kind(req->proto, p->tcp_flags);
	return 0;
}

/* ---- the rules a path met ---- */

/* How far into a chain the packet went: -1 all of it, else the last position evaluated. */
static int chain_reach(const struct pc_nft_chain *c, const struct pc_replay_ev *ev, int n)
{
	int i, reach = -2, pos;

	for (i = 0; i < n; i++) {
		if (strcmp(ev[i].family, c->family) || strcmp(ev[i].table, c->table) ||
		    strcmp(ev[i].chain, c->name))
			continue;
		/* The end of the chain: its policy, or falling off a jumped-to chain. */
		if (!ev[i].has_handle &&
		    (ev[i].type == NFT_TRACETYPE_POLICY || ev[i].type == NFT_TRACETYPE_RETURN))
			return -1;
		pos = ev[i].has_handle ? pc_nft_rule_pos(c, ev[i].handle) : -1;
		if (pos < 0)
			return -1; /* unknown to the listing: judge the whole chain */
		if (pos > reach)
			reach = pos;
	}
	return reach;
}

/* The first rule the path evaluated that reads what `reads` finds: its chain, and what. */
static const struct pc_nft_chain *path_reads(const struct pc_nft_rules *copy,
					     const struct pc_replay_ev *ev, int n, bool outside,
					     const char **what)
{
	int c, r;

	for (c = 0; c < copy->nchains; c++) {
		const struct pc_nft_chain *ch = &copy->chains[c];
		int reach = chain_reach(ch, ev, n);

		if (reach == -2)
			continue; /* not met */
		for (r = 0; r < ch->nrules && (reach < 0 || r <= reach); r++) {
			const char *t = ch->rules[r]->text;

			*what = outside ? pc_nft_outside_state(t, copy->sets_marks)
					: pc_nft_conn_state(t);
			if (*what)
				return ch;
		}
	}
	return NULL;
}

bool pc_replay_path_outside(const struct pc_nft_rules *copy, const struct pc_replay_ev *ev, int n,
			    char *why, size_t len)
{
	const char *what;
	const struct pc_nft_chain *ch = path_reads(copy, ev, n, true, &what);

	if (ch)
		snprintf(why, len,
			 "its path reads %s in %s %s %s, which a sandbox copy of the ruleset "
			 "cannot have",
			 what, ch->family, ch->table, ch->name);
	return ch;
}

bool pc_replay_path_conn_state(const struct pc_nft_rules *copy, const struct pc_replay_ev *ev,
			       int n, char *why, size_t len)
{
	const char *what;
	const struct pc_nft_chain *ch = path_reads(copy, ev, n, false, &what);

	if (ch)
		snprintf(why, len,
			 "%s; and its path reads %s in %s %s %s, where an opening and an "
			 "established packet differ",
			 pc_replay_outcome_why(PC_REPLAY_HANDSHAKE_DROP), what, ch->family,
			 ch->table, ch->name);
	return ch;
}

int pc_replay_live_rule(const struct pc_nft_rules *live, const struct pc_nft_rules *copy,
			struct pc_rule_ref *rule)
{
	const struct pc_nft_chain *lc =
		pc_nft_chain_find(live, rule->family, rule->table, rule->chain);
	const struct pc_nft_chain *cc =
		pc_nft_chain_find(copy, rule->family, rule->table, rule->chain);
	int pos;

	if (!lc || !cc || lc->nrules != cc->nrules)
		return -ENOENT;
	if (!rule->has_handle) {
		snprintf(rule->text, sizeof(rule->text), "policy drop");
		return 0;
	}
	pos = pc_nft_rule_pos(cc, rule->handle);
	if (pos < 0)
		return -ENOENT;
	rule->handle = lc->rules[pos]->handle;
	pc_nft_rule_display(lc->rules[pos]->text, rule->text, sizeof(rule->text));
	return 0;
}

const char *pc_replay_outcome_why(enum pc_replay_outcome o)
{
	switch (o) {
	case PC_REPLAY_PASSED:
		return "a sandbox copy of the live ruleset lets the sampled packets through: the "
		       "live drop depends on something outside the ruleset (a mark, conntrack "
		       "state, an interface index, a rate limit ...)";
	case PC_REPLAY_OTHER_DROP:
		return "a sandbox copy of the live ruleset drops another packet of the "
		       "connection than the live host did";
	case PC_REPLAY_HANDSHAKE_DROP:
		return "the dropped packets belong to established connections and the ruleset "
		       "now drops a new connection's handshake, so a sandbox cannot rebuild "
		       "the connection to replay them";
	case PC_REPLAY_UNREPRODUCIBLE:
		return "the rules the packets meet read state a sandbox copy cannot have";
	case PC_REPLAY_LOST:
		return "the replayed packets got no answer and no nftables rule dropped them";
	case PC_REPLAY_NOT_LOADED:
		return "the live ruleset does not load in a sandbox";
	case PC_REPLAY_ERROR:
		return "the replay failed";
	default:
		return "";
	}
}

/* ---- messages ---- */

static void put_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static void copy_jstr(char *dst, size_t len, struct json_object *o, const char *k)
{
	snprintf(dst, len, "%s", pc_json_str(o, k, NULL) ?: "");
}

int pc_rule_parse(struct json_object *o, struct pc_rule_ref *rule)
{
	struct json_object *h;

	memset(rule, 0, sizeof(*rule));
	if (!o || !json_object_is_type(o, json_type_object))
		return -ENOENT;
	rule->known = true;
	copy_jstr(rule->family, sizeof(rule->family), o, "family");
	copy_jstr(rule->table, sizeof(rule->table), o, "table");
	copy_jstr(rule->chain, sizeof(rule->chain), o, "chain");
	copy_jstr(rule->text, sizeof(rule->text), o, "text");
	rule->has_handle = json_object_object_get_ex(o, "handle", &h) && h;
	rule->handle = rule->has_handle ? json_object_get_uint64(h) : 0;
	return 0;
}

static struct json_object *addr_json(int family, const union pc_sb_addr *a)
{
	char buf[INET6_ADDRSTRLEN];

	pc_sb_addr_format(family, a, buf, sizeof(buf));
	return json_object_new_string(buf);
}

struct json_object *pc_replay_req_json(const struct pc_replay_req *r, uint32_t id, int slot)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	int i;

	json_object_object_add(o, "op", json_object_new_string("replay"));
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "slot", json_object_new_int(slot));
	put_str(o, "proto", pc_proto_name(r->proto));
	put_str(o, "direction", pc_dir_name(r->dir));
	json_object_object_add(o, "port", json_object_new_int(r->port));
	for (i = 0; i < r->npkts; i++) {
		const struct pc_replay_pkt *p = &r->pkts[i];
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "saddr", addr_json(p->family, &p->saddr));
		json_object_object_add(e, "daddr", addr_json(p->family, &p->daddr));
		json_object_object_add(e, "sport", json_object_new_int(p->sport));
		json_object_object_add(e, "dport", json_object_new_int(p->dport));
		json_object_object_add(e, "tcp_flags", json_object_new_int(p->tcp_flags));
		json_object_object_add(e, "rx", json_object_new_boolean(p->rx));
		put_str(e, "ifname", p->ifname);
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, "packets", arr);
	return o;
}

int pc_replay_req_parse(struct json_object *o, struct pc_replay_req *r, uint32_t *id, int *slot)
{
	struct json_object *arr;
	size_t i;

	memset(r, 0, sizeof(*r));
	*id = (uint32_t)pc_json_int(o, "id", 0);
	*slot = (int)pc_json_int(o, "slot", 0);
	r->proto = pc_proto_from_name(pc_json_str(o, "proto", NULL) ?: "tcp");
	r->dir = pc_dir_from_name(pc_json_str(o, "direction", NULL) ?: "in");
	r->port = (uint16_t)pc_json_int(o, "port", 0);
	if (!json_object_object_get_ex(o, "packets", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return -EINVAL;
	for (i = 0; i < json_object_array_length(arr) && r->npkts < PC_REPLAY_MAX_PKTS; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i), *v;
		struct pc_replay_pkt *p = &r->pkts[r->npkts];
		int fs, fd;

		fs = pc_sb_addr_parse(pc_json_str(e, "saddr", NULL) ?: "", &p->saddr);
		fd = pc_sb_addr_parse(pc_json_str(e, "daddr", NULL) ?: "", &p->daddr);
		if (fs < 0 || fs != fd)
			return -EINVAL;
		p->family = fs;
		p->sport = (uint16_t)pc_json_int(e, "sport", 0);
		p->dport = (uint16_t)pc_json_int(e, "dport", 0);
		p->tcp_flags = (uint8_t)pc_json_int(e, "tcp_flags", 0);
		p->rx = json_object_object_get_ex(e, "rx", &v) && json_object_get_boolean(v);
		copy_jstr(p->ifname, sizeof(p->ifname), e, "ifname");
		r->npkts++;
	}
	return 0;
}

struct json_object *pc_replay_result_json(const struct pc_replay_result *r, uint32_t id, int slot)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "op", json_object_new_string("result"));
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "slot", json_object_new_int(slot));
	json_object_object_add(o, "rule", pc_rule_ref_json(&r->rule));
	json_object_object_add(o, "reproduced", json_object_new_int(r->reproduced));
	json_object_object_add(o, "replayed", json_object_new_int(r->replayed));
	json_object_object_add(o, "outcome", json_object_new_int(r->outcome));
	put_str(o, "why", r->why[0] ? r->why : NULL);
	json_object_object_add(o, "us", json_object_new_int64((int64_t)(r->ms * 1000)));
	json_object_object_add(o, "generation", json_object_new_int64(r->generation));
	return o;
}

int pc_replay_result_parse(struct json_object *o, struct pc_replay_result *r, uint32_t *id,
			   int *slot)
{
	struct json_object *rule;

	memset(r, 0, sizeof(*r));
	*id = (uint32_t)pc_json_int(o, "id", 0);
	*slot = (int)pc_json_int(o, "slot", -1);
	if (*slot < 0)
		return -EINVAL;
	if (json_object_object_get_ex(o, "rule", &rule) && rule)
		pc_rule_parse(rule, &r->rule);
	r->reproduced = (int)pc_json_int(o, "reproduced", 0);
	r->replayed = (int)pc_json_int(o, "replayed", 0);
	r->outcome = (enum pc_replay_outcome)pc_json_int(o, "outcome", PC_REPLAY_ERROR);
	if (r->outcome < 0 || r->outcome >= PC_REPLAY_OUTCOME_MAX)
		r->outcome = PC_REPLAY_ERROR;
	copy_jstr(r->why, sizeof(r->why), o, "why");
	r->ms = pc_json_int(o, "us", 0) / 1000.0;
	r->generation = (uint32_t)pc_json_int(o, "generation", 0);
	return 0;
}
