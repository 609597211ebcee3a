// SPDX-License-Identifier: GPL-2.0
/* watch.c: listens to NFNLGRP_NFTABLES (libmnl): every nftables commit and what it touched. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "firewall/watch.h"
#include "log.h"
#include "preflight/preflight.h"

const char *pc_fw_source_name(enum pc_fw_source s)
{
	(void)s;
	return "nftables";
}

void pc_fw_history_add(struct pc_fw_history *h, const struct pc_fw_change *c)
{
	h->ring[h->n % PC_FW_HISTORY] = *c;
	h->n++;
	if (c->source < PC_FW_SOURCE_MAX) {
		h->count[c->source]++;
		h->vetted[c->source] += c->vetted;
	}
}

struct pc_fw_change *pc_fw_history_at(struct pc_fw_history *h, unsigned int i)
{
	if (i >= h->n || h->n - i > PC_FW_HISTORY)
		return NULL;
	return &h->ring[i % PC_FW_HISTORY];
}

const struct pc_fw_change *pc_fw_history_last(const struct pc_fw_history *h)
{
	return h->n ? &h->ring[(h->n - 1) % PC_FW_HISTORY] : NULL;
}

const struct pc_fw_change *pc_fw_history_before(const struct pc_fw_history *h, double t,
						double window_s)
{
	unsigned int i, kept = h->n < PC_FW_HISTORY ? h->n : PC_FW_HISTORY;

	/* Newest first: the change closest before the event is the likeliest culprit. */
	for (i = 0; i < kept; i++) {
		const struct pc_fw_change *c = &h->ring[(h->n - 1 - i) % PC_FW_HISTORY];

		if (c->time <= t && t - c->time <= window_s)
			return c;
	}
	return NULL;
}

void pc_fw_ref(const struct pc_fw_change *c, double event_time, struct pc_firewall_ref *ref)
{
	ref->time = c->time;
	ref->seconds_before = event_time - c->time;
	ref->source = pc_fw_source_name(c->source);
	ref->what = c->what[0] ? c->what : NULL;
	ref->generation = c->generation;
	ref->by = &c->by;
	ref->vetted = c->vetted;
	ref->summary = c->resolved && c->summary[0] ? c->summary : NULL;
}

/* Add "table inet filter chain input: rule added" to the pending commit, once per object. */
static void note(struct pc_fwwatch *w, const char *what)
{
	char *p = w->pending.what;
	size_t len = strlen(p);

	if (strstr(p, what))
		return;
	if (len && len + 2 < PC_FW_WHAT_LEN) {
		strcat(p, "; ");
		len += 2;
	}
	snprintf(p + len, PC_FW_WHAT_LEN - len, "%s", what);
}

/* Attributes of nftables object messages, up to the ones we name (table, chain, set). */
#define PC_NFT_ATTRS 4

static int obj_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	/* Only the names are read, and only when they are strings: anything else a newer
	 * kernel sends is skipped (libnftnl's parsers abort the process on surprises). */
	if (type < PC_NFT_ATTRS && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static const char *attr_str(const struct nlattr *a)
{
	return a ? mnl_attr_get_str(a) : "?";
}

static void on_object(struct pc_fwwatch *w, const struct nlmsghdr *nlh, int type)
{
	const struct nlattr *tb[PC_NFT_ATTRS] = {};
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const char *fam = pc_nfproto_name(g->nfgen_family);
	char buf[200];

	if (mnl_attr_parse(nlh, sizeof(*g), obj_attr, tb) < 0)
		return;
	/* Attribute 1 is the table name in all of these messages. */
	switch (type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
		snprintf(buf, sizeof(buf), "table %s %s %s", fam, attr_str(tb[NFTA_TABLE_NAME]),
			 type == NFT_MSG_NEWTABLE ? "added" : "deleted");
		break;
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
		snprintf(buf, sizeof(buf), "table %s %s chain %s %s", fam,
			 attr_str(tb[NFTA_CHAIN_TABLE]), attr_str(tb[NFTA_CHAIN_NAME]),
			 type == NFT_MSG_NEWCHAIN ? "added" : "deleted");
		break;
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
		snprintf(buf, sizeof(buf), "table %s %s chain %s: %s", fam,
			 attr_str(tb[NFTA_RULE_TABLE]), attr_str(tb[NFTA_RULE_CHAIN]),
			 type == NFT_MSG_NEWRULE ? "rule added" : "rule deleted");
		break;
	case NFT_MSG_NEWSET:
	case NFT_MSG_DELSET:
		/* Anonymous sets ("__set0") belong to a rule, which is named already. */
		if (!tb[NFTA_SET_NAME] || !strncmp(attr_str(tb[NFTA_SET_NAME]), "__", 2))
			return;
		snprintf(buf, sizeof(buf), "table %s %s set %s %s", fam,
			 attr_str(tb[NFTA_SET_TABLE]), attr_str(tb[NFTA_SET_NAME]),
			 type == NFT_MSG_NEWSET ? "added" : "deleted");
		break;
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		if (!tb[NFTA_SET_ELEM_LIST_SET] ||
		    !strncmp(attr_str(tb[NFTA_SET_ELEM_LIST_SET]), "__", 2))
			return;
		snprintf(buf, sizeof(buf), "table %s %s set %s elements %s", fam,
			 attr_str(tb[NFTA_SET_ELEM_LIST_TABLE]),
			 attr_str(tb[NFTA_SET_ELEM_LIST_SET]),
			 type == NFT_MSG_NEWSETELEM ? "added" : "deleted");
		break;
	default:
		return;
	}
	note(w, buf);
}

static int gen_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= NFTA_GEN_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

/* NEWGEN closes a commit: it carries the new generation and who committed. */
static void on_gen(struct pc_fwwatch *w, const struct nlmsghdr *nlh, double now)
{
	const struct nlattr *tb[NFTA_GEN_MAX + 1] = {};
	struct pc_fw_change *c = &w->pending;

	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr, tb);
	c->time = now;
	c->source = PC_FW_NFTABLES;
	c->generation = tb[NFTA_GEN_ID] ? ntohl(mnl_attr_get_u32(tb[NFTA_GEN_ID])) : 0;
	c->pid = tb[NFTA_GEN_PROC_PID] ? ntohl(mnl_attr_get_u32(tb[NFTA_GEN_PROC_PID])) : 0;
	snprintf(c->proc, sizeof(c->proc), "%s",
		 tb[NFTA_GEN_PROC_NAME] &&
				 mnl_attr_validate(tb[NFTA_GEN_PROC_NAME], MNL_TYPE_NUL_STRING) == 0
			 ? mnl_attr_get_str(tb[NFTA_GEN_PROC_NAME])
			 : "");
	/* At once, before the next message: nft exits right after its commit. */
	pc_who_read(&c->by, c->pid, c->proc, "/proc", "/etc/passwd");
	/* The daemon commits only through apply and rollback: its own commits are vetted. */
	c->vetted = c->pid && c->pid == (uint32_t)getpid();
	pc_fw_history_add(&w->hist, c);
	memset(c, 0, sizeof(*c));
}

int pc_fwwatch_open(struct pc_fwwatch *w)
{
	struct mnl_socket *nl;
	int err;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 1 << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID)) {
		err = -errno;
		mnl_socket_close(nl);
		return err;
	}
	w->nl = nl;
	w->fd = mnl_socket_get_fd(nl);
	return 0;
}

int pc_fwwatch_read(struct pc_fwwatch *w, double now)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	int commits = 0;
	ssize_t n;

	if (w->fd < 0)
		return 0;
	while ((n = mnl_socket_recvfrom(w->nl, buf, sizeof(buf))) > 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = n;

		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			int type = NFNL_MSG_TYPE(nlh->nlmsg_type);

			if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
				continue;
			if (type == NFT_MSG_NEWGEN) {
				on_gen(w, nlh, now);
				commits++;
			} else {
				on_object(w, nlh, type);
			}
		}
	}
	if (n < 0 && errno == ENOBUFS) {
		/* We fell behind: the details are lost, the change is not. */
		pc_warn("firewall: netlink events overflowed; recording a change without detail");
		w->pending.time = now;
		pc_fw_history_add(&w->hist, &w->pending);
		memset(&w->pending, 0, sizeof(w->pending));
		commits++;
	}
	return commits;
}

void pc_fwwatch_close(struct pc_fwwatch *w)
{
	if (w->nl)
		mnl_socket_close(w->nl);
	w->nl = NULL;
	w->fd = -1;
}
