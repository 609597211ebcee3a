// SPDX-License-Identifier: GPL-2.0
/* evidence.c: which rule dropped a probe: nftables trace events, nft and iptables-save text. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <libnftnl/trace.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include "portcanary.h"
#include "preflight/preflight.h"
#include "preflight/ruleset.h"

const char *pc_nfproto_name(int nfproto)
{
	switch (nfproto) {
	case NFPROTO_INET:
		return "inet";
	case NFPROTO_IPV4:
		return "ip";
	case NFPROTO_IPV6:
		return "ip6";
	case NFPROTO_ARP:
		return "arp";
	case NFPROTO_NETDEV:
		return "netdev";
	case NFPROTO_BRIDGE:
		return "bridge";
	default:
		return "unknown";
	}
}

int pc_trace_pkt_ports(const struct pc_trace_book *b, int nfproto, const uint8_t *nh, size_t nhlen,
		       const uint8_t *th, size_t thlen, uint8_t *proto, uint16_t *port)
{
	const uint8_t *saddr;
	size_t alen;
	uint8_t l4;
	bool from_client;

	if (!nh || !th || thlen < 4 || nhlen < 1)
		return -ENOENT;
	if (b->family == AF_INET) {
		if (nfproto != NFPROTO_IPV4 || nhlen < 20 || nh[0] >> 4 != 4)
			return -ENOENT;
		l4 = nh[9];
		saddr = nh + 12;
		alen = 4;
	} else {
		/* Our probes carry no extension headers: the next header is the L4 one. */
		if (nfproto != NFPROTO_IPV6 || nhlen < 40 || nh[0] >> 4 != 6)
			return -ENOENT;
		l4 = nh[6];
		saddr = nh + 8;
		alen = 16;
	}
	if (l4 == 6)
		*proto = PC_PROTO_TCP;
	else if (l4 == 17)
		*proto = PC_PROTO_UDP;
	else
		return -ENOENT;
	/* The probed port is the destination of the client's packets and the source of
	 * the server's answers (the client's own port is an ephemeral one). */
	from_client = !memcmp(saddr, b->client, alen);
	*port = from_client ? (uint16_t)(th[2] << 8 | th[3]) : (uint16_t)(th[0] << 8 | th[1]);
	return 0;
}

struct nftnl_trace *pc_trace_parse(const struct nlmsghdr *nlh, struct pc_trace_ev *ev)
{
	struct nftnl_trace *t;
	uint32_t len;

	memset(ev, 0, sizeof(*ev));
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_TRACE)
		return NULL;
	t = nftnl_trace_alloc();
	if (!t)
		return NULL;
	if (nftnl_trace_nlmsg_parse(nlh, t) < 0) {
		nftnl_trace_free(t);
		return NULL;
	}
	ev->id = nftnl_trace_get_u32(t, NFTNL_TRACE_ID);
	ev->type = nftnl_trace_get_u32(t, NFTNL_TRACE_TYPE);
	if (ev->type == NFT_TRACETYPE_POLICY && nftnl_trace_is_set(t, NFTNL_TRACE_POLICY)) {
		ev->has_verdict = true;
		ev->verdict = (int32_t)nftnl_trace_get_u32(t, NFTNL_TRACE_POLICY);
	} else if (nftnl_trace_is_set(t, NFTNL_TRACE_VERDICT)) {
		ev->has_verdict = true;
		ev->verdict = (int32_t)nftnl_trace_get_u32(t, NFTNL_TRACE_VERDICT);
	}
	if (nftnl_trace_is_set(t, NFTNL_TRACE_RULE_HANDLE)) {
		ev->has_handle = true;
		ev->handle = nftnl_trace_get_u64(t, NFTNL_TRACE_RULE_HANDLE);
	}
	snprintf(ev->family, sizeof(ev->family), "%s",
		 pc_nfproto_name(nftnl_trace_get_u32(t, NFTNL_TRACE_FAMILY)));
	if (nftnl_trace_is_set(t, NFTNL_TRACE_TABLE))
		snprintf(ev->table, sizeof(ev->table), "%s",
			 nftnl_trace_get_str(t, NFTNL_TRACE_TABLE));
	if (nftnl_trace_is_set(t, NFTNL_TRACE_CHAIN))
		snprintf(ev->chain, sizeof(ev->chain), "%s",
			 nftnl_trace_get_str(t, NFTNL_TRACE_CHAIN));
	if (nftnl_trace_is_set(t, NFTNL_TRACE_NETWORK_HEADER)) {
		ev->nh = nftnl_trace_get_data(t, NFTNL_TRACE_NETWORK_HEADER, &len);
		ev->nhlen = len;
	}
	if (nftnl_trace_is_set(t, NFTNL_TRACE_TRANSPORT_HEADER)) {
		ev->th = nftnl_trace_get_data(t, NFTNL_TRACE_TRANSPORT_HEADER, &len);
		ev->thlen = len;
	}
	if (nftnl_trace_is_set(t, NFTNL_TRACE_NFPROTO))
		ev->nfproto = nftnl_trace_get_u32(t, NFTNL_TRACE_NFPROTO);
	else if (ev->nh && ev->nhlen)
		ev->nfproto = ev->nh[0] >> 4 == 6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	return t;
}

static bool book_lookup(const struct pc_trace_book *b, uint32_t id, uint8_t *proto, uint16_t *port)
{
	size_t n = sizeof(b->ids) / sizeof(b->ids[0]);
	size_t i;

	/* Newest first: an id is reused only by a later packet. */
	for (i = 1; i <= n && i <= b->next; i++) {
		size_t k = (b->next - i) % n;

		if (b->ids[k].id == id) {
			*proto = b->ids[k].proto;
			*port = b->ids[k].port;
			return true;
		}
	}
	return false;
}

int pc_trace_feed(struct pc_trace_book *b, const struct pc_trace_ev *ev, uint8_t *proto,
		  uint16_t *port, struct pc_rule_ref *rule)
{
	size_t n = sizeof(b->ids) / sizeof(b->ids[0]);
	uint8_t pr;
	uint16_t po;

	if (!pc_trace_pkt_ports(b, ev->nfproto, ev->nh, ev->nhlen, ev->th, ev->thlen, &pr, &po)) {
		uint8_t opr;
		uint16_t opo;

		/* Each chain walk repeats the headers: record a packet once. */
		if (!book_lookup(b, ev->id, &opr, &opo) || opr != pr || opo != po) {
			b->ids[b->next % n].id = ev->id;
			b->ids[b->next % n].proto = pr;
			b->ids[b->next % n].port = po;
			b->next++;
		}
	}
	if (!strcmp(ev->table, PC_PREFLIGHT_TRACE_TABLE) || !ev->has_verdict ||
	    ev->verdict != NF_DROP)
		return 0;
	if (ev->type != NFT_TRACETYPE_RULE && ev->type != NFT_TRACETYPE_POLICY)
		return 0;
	if (!book_lookup(b, ev->id, &pr, &po))
		return 0;
	memset(rule, 0, sizeof(*rule));
	rule->known = true;
	snprintf(rule->family, sizeof(rule->family), "%s", ev->family);
	snprintf(rule->table, sizeof(rule->table), "%s", ev->table);
	snprintf(rule->chain, sizeof(rule->chain), "%s", ev->chain);
	if (ev->type == NFT_TRACETYPE_RULE && ev->has_handle) {
		rule->has_handle = true;
		rule->handle = ev->handle;
	} else if (ev->type == NFT_TRACETYPE_POLICY) {
		snprintf(rule->text, sizeof(rule->text), "policy drop");
	}
	*proto = pr;
	*port = po;
	return 1;
}

/* Copy with truncation (the text is for people; a cut rule text is still useful). */
static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Copy the line at *p into line (cut to its size) and advance *p past it; false at the end. */
static bool next_line(const char **p, char *line, size_t size)
{
	const char *nl;
	size_t len;

	if (!*p || !**p)
		return false;
	nl = strchr(*p, '\n');
	len = nl ? (size_t)(nl - *p) : strlen(*p);
	if (len >= size)
		len = size - 1;
	memcpy(line, *p, len);
	line[len] = '\0';
	*p = nl ? nl + 1 : NULL;
	return true;
}

int pc_nft_rule_text(const char *listing, struct pc_rule_ref *rule)
{
	const struct pc_nft_chain *c;
	struct pc_nft_rules l;
	int pos, ret = -ENOENT;

	if (!rule->has_handle)
		return rule->text[0] ? 0 : -ENOENT;
	if (pc_nft_rules_parse(listing, &l))
		return -ENOMEM;
	c = pc_nft_chain_find(&l, rule->family, rule->table, rule->chain);
	pos = pc_nft_rule_pos(c, rule->handle);
	if (pos >= 0) {
		pc_nft_rule_display(c->rules[pos]->text, rule->text, sizeof(rule->text));
		ret = 0;
	}
	pc_nft_rules_free(&l);
	return ret;
}

/* Does a port list ("80", "80,443", "8000:8010") of iptables contain port? */
static bool ipt_ports_match(const char *list, uint16_t port)
{
	const char *s = list;

	while (*s) {
		char *end;
		unsigned long a = strtoul(s, &end, 10), b = a;

		if (end == s)
			return false;
		if (*end == ':') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (end == s)
				b = 65535;
		}
		if (port >= a && port <= b)
			return true;
		if (*end != ',')
			return false;
		s = end + 1;
	}
	return false;
}

struct ipt_rule {
	char chain[64];
	char text[512];
	bool drops; /* -j DROP or -j REJECT */
	int proto;  /* -1 any */
	bool has_ports;
	bool port_match;
};

static void ipt_parse_rule(const char *text, int proto_want, uint16_t port, struct ipt_rule *r)
{
	char buf[512], *save = NULL, *tok, *prev = NULL;

	memset(r, 0, sizeof(*r));
	r->proto = -1;
	snprintf(r->text, sizeof(r->text), "%s", text);
	snprintf(buf, sizeof(buf), "%s", text);
	for (tok = strtok_r(buf, " ", &save); tok; prev = tok, tok = strtok_r(NULL, " ", &save)) {
		if (!prev)
			continue;
		if (!strcmp(prev, "-A"))
			snprintf(r->chain, sizeof(r->chain), "%s", tok);
		else if (!strcmp(prev, "-j"))
			r->drops = !strcmp(tok, "DROP") || !strcmp(tok, "REJECT");
		else if (!strcmp(prev, "-p"))
			r->proto = !strcmp(tok, "tcp")	 ? PC_PROTO_TCP
				   : !strcmp(tok, "udp") ? PC_PROTO_UDP
							 : 99;
		else if (!strcmp(prev, "--dport") || !strcmp(prev, "--sport") ||
			 !strcmp(prev, "--dports") || !strcmp(prev, "--sports") ||
			 !strcmp(prev, "--destination-port") || !strcmp(prev, "--source-port")) {
			r->has_ports = true;
			r->port_match |= ipt_ports_match(tok, port);
		}
	}
	if (r->proto != -1 && r->proto != proto_want)
		r->drops = false; /* cannot be this probe's rule */
}

int pc_ipt_find_rule(const char *save_c, const char *family, int proto, uint16_t port,
		     struct pc_rule_ref *rule)
{
	char table[64] = "", line[1024];
	struct ipt_rule best = {}, only = {}, policy = {}, r;
	char best_t[64] = "", only_t[64] = "", policy_t[64] = "";
	int nbest = 0, nonly = 0, npolicy = 0;
	const char *p = save_c;

	while (next_line(&p, line, sizeof(line))) {
		unsigned long long pk = 0, by = 0;
		int off = 0;

		if (line[0] == '*') {
			copy_str(table, sizeof(table), line + 1);
		} else if (line[0] == ':') {
			char chain[64], pol[16];

			/* ":INPUT DROP [5:300]": a built-in chain's policy and its counters. */
			if (sscanf(line, ":%63s %15s [%llu:%llu]", chain, pol, &pk, &by) == 4 &&
			    pk > 0 && !strcmp(pol, "DROP") && !npolicy++) {
				snprintf(policy.chain, sizeof(policy.chain), "%s", chain);
				snprintf(policy.text, sizeof(policy.text), "policy DROP");
				snprintf(policy_t, sizeof(policy_t), "%s", table);
			}
		} else if (line[0] == '[' && sscanf(line, "[%llu:%llu] %n", &pk, &by, &off) == 2 &&
			   off > 0 && pk > 0) {
			ipt_parse_rule(line + off, proto, port, &r);
			if (!r.drops)
				continue;
			if (r.has_ports && r.port_match && !nbest++) {
				best = r;
				snprintf(best_t, sizeof(best_t), "%s", table);
			} else if (!r.has_ports && !nonly++) {
				only = r;
				snprintf(only_t, sizeof(only_t), "%s", table);
			}
		}
	}
	memset(rule, 0, sizeof(*rule));
	if (nbest) {
		r = best;
		snprintf(rule->table, sizeof(rule->table), "%s", best_t);
	} else if (nonly == 1) {
		r = only;
		snprintf(rule->table, sizeof(rule->table), "%s", only_t);
	} else if (npolicy == 1 && !nonly) {
		r = policy;
		snprintf(rule->table, sizeof(rule->table), "%s", policy_t);
	} else {
		return -ENOENT;
	}
	rule->known = true;
	snprintf(rule->family, sizeof(rule->family), "%s", family);
	snprintf(rule->chain, sizeof(rule->chain), "%s", r.chain);
	snprintf(rule->text, sizeof(rule->text), "%s", r.text);
	return 0;
}
