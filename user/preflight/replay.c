// SPDX-License-Identifier: GPL-2.0
/* replay.c: keeps a copy of the live ruleset in a sandbox and replays sampled dropped packets in it, traced. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/trace.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <nftables/libnftables.h>

#include "clock.h"
#include "log.h"
#include "preflight/replay.h"

#define RP_PEER_PREFIX "pcp"
#define RP_MAX_EVENTS  256 /* trace events kept per replayed packet's flow */
#define RP_UDP_PAYLOAD "portcanary replay"

struct rp_iface {
	char host[IF_NAMESIZE]; /* named like the host's interface */
	char peer[IF_NAMESIZE];
	int pair;
};

struct rp_addr {
	int family;
	union pc_sb_addr a;
	enum pc_sb_side side;
};

struct pc_replay {
	struct pc_sandbox sb;
	struct nft_ctx *nft; /* created inside the host side: it can only reach the copy */
	struct mnl_socket *trace;
	struct rp_iface ifs[PC_REPLAY_MAX_IFACES];
	int nifs;
	struct rp_addr addrs[PC_REPLAY_MAX_ADDRS];
	int naddrs;
	bool loaded;
	bool full; /* no room for another address: start afresh */
	char load_error[512];
	uint32_t generation;
	struct pc_nft_rules live; /* the listing loaded, with the live handles */
	struct pc_nft_rules copy; /* the copy as the sandbox lists it, its own handles */
};

/* A replayed connection while it runs. */
struct rp_run {
	struct pc_replay *rp;
	const struct pc_replay_req *req;
	struct pc_replay_flow f;
	enum pc_sb_side client_side, server_side;
	int cfd, lfd, afd; /* client, listener (or UDP server), accepted */
	bool connected, data_sent;
	/* trace ids of the flow's packets and what they are */
	struct {
		uint32_t id;
		bool from_client;
		int kind;
	} pkt[64];
	int npkt;
	struct pc_replay_ev ev[RP_MAX_EVENTS];
	uint32_t ev_id[RP_MAX_EVENTS];
	int nev;
	bool dropped;
	uint32_t drop_id;
	struct pc_rule_ref drop_rule;
};

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* ---- the sandbox's interfaces and addresses ---- */

static struct rp_iface *iface_get(struct pc_replay *rp, const char *name)
{
	struct rp_iface *f;
	int i;

	for (i = 0; i < rp->nifs; i++)
		if (!strcmp(rp->ifs[i].host, name))
			return &rp->ifs[i];
	if (rp->nifs >= PC_REPLAY_MAX_IFACES || !name[0] || !strcmp(name, "lo"))
		return NULL;
	f = &rp->ifs[rp->nifs];
	snprintf(f->host, sizeof(f->host), "%s", name);
	snprintf(f->peer, sizeof(f->peer), RP_PEER_PREFIX "%d", rp->nifs);
	f->pair = rp->nifs;
	if (pc_sandbox_add_veth(&rp->sb, f->host, f->peer, f->pair))
		return NULL;
	rp->nifs++;
	return f;
}

static const struct rp_addr *addr_find(const struct pc_replay *rp, int family,
				       const union pc_sb_addr *a)
{
	int i;

	for (i = 0; i < rp->naddrs; i++)
		if (rp->addrs[i].family == family && !memcmp(&rp->addrs[i].a, a, alen(family)))
			return &rp->addrs[i];
	return NULL;
}

static bool is_loopback(int family, const union pc_sb_addr *a)
{
	return family == AF_INET ? (ntohl(a->v4.s_addr) >> 24) == 127
				 : IN6_IS_ADDR_LOOPBACK(&a->v6);
}

/* The address on a side (on ifname), once; false when the other side holds it already. */
static bool addr_ensure(struct pc_replay *rp, enum pc_sb_side side, const char *ifname, int family,
			const union pc_sb_addr *a)
{
	const struct rp_addr *have = addr_find(rp, family, a);

	if (have)
		return have->side == side;
	if (is_loopback(family, a))
		return side == PC_SB_HOST; /* lo has them all */
	if (rp->naddrs >= PC_REPLAY_MAX_ADDRS) {
		rp->full = true;
		return false;
	}
	if (pc_sandbox_add_addr(&rp->sb, side, ifname, family, a))
		return false;
	rp->addrs[rp->naddrs++] = (struct rp_addr){.family = family, .a = *a, .side = side};
	return true;
}

/* A fresh conntrack table in the copy: a replayed connection starts as the live one did
 * (ctnetlink IPCTNL_MSG_CT_DELETE without a tuple flushes the namespace's table). */
static void conntrack_flush(struct pc_replay *rp)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = NULL;
	struct nlmsghdr *nlh;
	struct nfgenmsg *g;

	if (pc_sandbox_enter(&rp->sb, PC_SB_HOST))
		return;
	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	pc_sandbox_leave(&rp->sb);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) >= 0)
		mnl_socket_recvfrom(nl, buf, sizeof(buf)); /* the ack, or an error: either way */
out:
	if (nl)
		mnl_socket_close(nl);
}

/* ---- the copy of the ruleset ---- */

/* Run nft commands in the host side (the context's socket lives there; we enter it too,
 * since libnftables reopens its socket in the current namespace after an interrupted dump). */
static int nft_run(struct pc_replay *rp, const char *cmd, bool handles, char **out, char *err,
		   size_t errlen)
{
	int ret;

	ret = pc_sandbox_enter(&rp->sb, PC_SB_HOST);
	if (ret) {
		snprintf(err, errlen, "cannot enter the sandbox: %s", strerror(-ret));
		return ret;
	}
	nft_ctx_output_set_flags(rp->nft, handles ? NFT_CTX_OUTPUT_HANDLE : 0);
	ret = nft_run_cmd_from_buffer(rp->nft, cmd) ? -EINVAL : 0;
	if (out)
		*out = strdup(nft_ctx_get_output_buffer(rp->nft) ?: "");
	if (err && errlen) {
		const char *e = nft_ctx_get_error_buffer(rp->nft) ?: "";
		size_t n;

		snprintf(err, errlen, "%s", e);
		n = strlen(err);
		while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
			err[--n] = '\0';
	}
	pc_sandbox_leave(&rp->sb);
	return ret;
}

/* Our trace table: every TCP/UDP packet traced from the first hook it meets. */
static char *trace_table(const struct pc_replay *rp)
{
	size_t cap = 1024 + rp->nifs * 256, n;
	char *t = malloc(cap);
	int i;

	if (!t)
		return NULL;
	n = snprintf(t, cap,
		     "table inet " PC_PREFLIGHT_TRACE_TABLE " {\n"
		     "\tchain pre { type filter hook prerouting priority -2147483648; "
		     "policy accept; meta l4proto { tcp, udp } meta nftrace set 1; }\n"
		     "\tchain out { type filter hook output priority -2147483648; "
		     "policy accept; meta l4proto { tcp, udp } meta nftrace set 1; }\n");
	/* Ingress chains of the ruleset (netdev, inet) run before prerouting. */
	for (i = 0; i < rp->nifs; i++)
		n += snprintf(t + n, cap - n,
			      "\tchain in%d { type filter hook ingress device \"%s\" priority "
			      "-2147483648; policy accept; meta l4proto { tcp, udp } meta nftrace "
			      "set 1; }\n",
			      i, rp->ifs[i].host);
	snprintf(t + n, cap - n, "}\n");
	return t;
}

int pc_replay_load(struct pc_replay *rp, const char *listing, uint32_t generation, char *err,
		   size_t errlen)
{
	char names[PC_REPLAY_MAX_IFACES][IF_NAMESIZE], *tt = NULL, *cmd = NULL, *copy = NULL;
	char *text = NULL;
	size_t len;
	int i, n, ret, stubbed;

	rp->loaded = false;
	rp->generation = generation;
	pc_nft_rules_free(&rp->live);
	pc_nft_rules_free(&rp->copy);
	/* Interfaces the rules name by iif/oif or hook to must exist for the listing to load. */
	n = pc_nft_ifnames(listing, names, PC_REPLAY_MAX_IFACES);
	for (i = 0; i < n; i++)
		iface_get(rp, names[i]);
	tt = trace_table(rp);
	/* iptables-nft's xtables expressions do not load again: stubbed (see ruleset.h). */
	text = pc_nft_copyable(listing, &stubbed);
	len = (text ? strlen(text) : 0) + (tt ? strlen(tt) : 0) + 64;
	cmd = malloc(len);
	if (!tt || !cmd || !text) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* One transaction: the old copy is replaced whole, or not at all. */
	strcpy(cmd, "flush ruleset\n");
	strcat(cmd, text);
	strcat(cmd, "\n");
	strcat(cmd, tt);
	ret = nft_run(rp, cmd, false, NULL, err, errlen);
	if (ret)
		goto out;
	ret = nft_run(rp, "list ruleset", true, &copy, err, errlen);
	if (ret || !copy)
		goto out;
	ret = pc_nft_rules_parse(listing, &rp->live);
	if (!ret)
		ret = pc_nft_rules_parse(copy, &rp->copy);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rp->loaded = true;
out:
	if (!rp->loaded)
		snprintf(rp->load_error, sizeof(rp->load_error), "%s", err);
	free(copy);
	free(cmd);
	free(text);
	free(tt);
	return ret;
}

/* ---- tracing ---- */

/* Which packet of the flow the headers are: 1 the client's, 0 the server's, -1 not ours. */
static int flow_dir(const struct rp_run *r, const struct pc_trace_ev *ev, int *kind)
{
	const struct pc_replay_flow *f = &r->f;
	const uint8_t *s, *d;
	uint16_t sp, dp;
	uint8_t l4;
	size_t n = alen(f->family);

	if (!ev->nh || !ev->th || ev->thlen < 4)
		return -1;
	if (f->family == AF_INET) {
		if (ev->nhlen < 20 || ev->nh[0] >> 4 != 4)
			return -1;
		l4 = ev->nh[9];
		s = ev->nh + 12;
		d = ev->nh + 16;
	} else {
		if (ev->nhlen < 40 || ev->nh[0] >> 4 != 6)
			return -1;
		l4 = ev->nh[6];
		s = ev->nh + 8;
		d = ev->nh + 24;
	}
	if (l4 != (r->req->proto == PC_PROTO_TCP ? 6 : 17))
		return -1;
	sp = ev->th[0] << 8 | ev->th[1];
	dp = ev->th[2] << 8 | ev->th[3];
	*kind = pc_replay_kind(r->req->proto, ev->thlen >= 14 ? ev->th[13] : 0);
	if (!memcmp(s, &f->client, n) && !memcmp(d, &f->server, n) && sp == f->client_port &&
	    dp == f->server_port)
		return 1;
	if (!memcmp(s, &f->server, n) && !memcmp(d, &f->client, n) && sp == f->server_port &&
	    dp == f->client_port)
		return 0;
	return -1;
}

static int pkt_index(const struct rp_run *r, uint32_t id)
{
	int i;

	for (i = r->npkt - 1; i >= 0; i--)
		if (r->pkt[i].id == id)
			return i;
	return -1;
}

static int trace_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rp_run *r = data;
	struct pc_trace_ev ev;
	struct nftnl_trace *t = pc_trace_parse(nlh, &ev);
	int dir, kind, i;

	if (!t)
		return MNL_CB_OK;
	/* Headers come with the first event of each hook: learn the packet's id. */
	dir = flow_dir(r, &ev, &kind);
	if (dir >= 0 && pkt_index(r, ev.id) < 0 && r->npkt < 64)
		r->pkt[r->npkt++] = (typeof(r->pkt[0])){ev.id, dir == 1, kind};
	i = pkt_index(r, ev.id);
	if (i < 0 || r->dropped || !strcmp(ev.table, PC_PREFLIGHT_TRACE_TABLE))
		goto out;
	if (r->nev < RP_MAX_EVENTS) {
		struct pc_replay_ev *e = &r->ev[r->nev];

		*e = (struct pc_replay_ev){.type = ev.type,
					   .verdict = ev.verdict,
					   .has_handle = ev.has_handle,
					   .handle = ev.handle};
		snprintf(e->family, sizeof(e->family), "%s", ev.family);
		snprintf(e->table, sizeof(e->table), "%s", ev.table);
		snprintf(e->chain, sizeof(e->chain), "%s", ev.chain);
		r->ev_id[r->nev++] = ev.id;
	}
	if (!ev.has_verdict || ev.verdict != NF_DROP ||
	    (ev.type != NFT_TRACETYPE_RULE && ev.type != NFT_TRACETYPE_POLICY))
		goto out;
	/* A rule's drop (reject included: it drops after answering) or a chain's policy. */
	r->dropped = true;
	r->drop_id = ev.id;
	memset(&r->drop_rule, 0, sizeof(r->drop_rule));
	r->drop_rule.known = true;
	snprintf(r->drop_rule.family, sizeof(r->drop_rule.family), "%s", ev.family);
	snprintf(r->drop_rule.table, sizeof(r->drop_rule.table), "%s", ev.table);
	snprintf(r->drop_rule.chain, sizeof(r->drop_rule.chain), "%s", ev.chain);
	r->drop_rule.has_handle = ev.type == NFT_TRACETYPE_RULE && ev.has_handle;
	r->drop_rule.handle = ev.handle;
out:
	nftnl_trace_free(t);
	return MNL_CB_OK;
}

static void trace_drain(struct pc_replay *rp, struct rp_run *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 2];
	ssize_t n;

	for (;;) {
		n = mnl_socket_recvfrom(rp->trace, buf, sizeof(buf));
		if (n < 0) {
			if (errno == ENOBUFS)
				continue; /* events lost: the packet is replayed anew next time */
			break;
		}
		if (r)
			mnl_cb_run(buf, n, 0, 0, trace_cb, r);
	}
}

/* ---- one replayed connection ---- */

static int bound_socket(struct rp_run *r, enum pc_sb_side side, const union pc_sb_addr *a,
			uint16_t port)
{
	bool tcp = r->req->proto == PC_PROTO_TCP;
	struct sockaddr_storage ss;
	socklen_t sl = pc_sb_sockaddr(r->f.family, a, port, &ss);
	int fd, one = 1;

	fd = pc_sandbox_socket(&r->rp->sb, side, r->f.family,
			       (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int addr_trouble(const struct pc_replay *rp, char *why, size_t len)
{
	if (rp->full) {
		snprintf(why, len, "the sandbox holds %d addresses already; it starts afresh",
			 PC_REPLAY_MAX_ADDRS);
		return -ENOSPC;
	}
	snprintf(why, len,
		 "an address of the packets is on the other end of an earlier replay, "
		 "or cannot be added");
	return -EEXIST;
}

/* The addresses, routes and neighbour entries of a flow: the host side holds the host's
 * address, the peer side the other end's, joined by the interface the packet used. */
static int flow_setup(struct rp_run *r, const struct pc_replay_pkt *p, char *why, size_t len)
{
	struct pc_replay *rp = r->rp;
	const struct pc_replay_flow *f = &r->f;
	const union pc_sb_addr *host = f->client_is_host ? &f->client : &f->server;
	const union pc_sb_addr *peer = f->client_is_host ? &f->server : &f->client;
	const struct rp_iface *ifc;

	if ((f->family == AF_INET6 &&
	     (IN6_IS_ADDR_LINKLOCAL(&host->v6) || IN6_IS_ADDR_LINKLOCAL(&peer->v6))) ||
	    !memcmp(host, peer, alen(f->family))) {
		if (!strcmp(p->ifname, "lo"))
			goto loopback;
		snprintf(why, len,
			 "the packets' addresses cannot be replayed (link-local, or the "
			 "host's own)");
		return -EINVAL;
	}
	if (!strcmp(p->ifname, "lo"))
		goto loopback;
	ifc = iface_get(rp, p->ifname);
	if (!ifc) {
		snprintf(why, len, "the sandbox cannot create an interface named %s", p->ifname);
		return -ENODEV;
	}
	if (!addr_ensure(rp, PC_SB_HOST, ifc->host, f->family, host) ||
	    !addr_ensure(rp, PC_SB_PEER, ifc->peer, f->family, peer))
		return addr_trouble(rp, why, len);
	if (pc_sandbox_route(&rp->sb, PC_SB_HOST, ifc->host, ifc->pair, f->family, peer) ||
	    pc_sandbox_route(&rp->sb, PC_SB_PEER, ifc->peer, ifc->pair, f->family, host)) {
		snprintf(why, len, "the sandbox cannot route the packets' addresses");
		return -EHOSTUNREACH;
	}
	r->client_side = f->client_is_host ? PC_SB_HOST : PC_SB_PEER;
	r->server_side = f->client_is_host ? PC_SB_PEER : PC_SB_HOST;
	return 0;
loopback:
	/* A connection of the host to itself: both ends in the host side, over lo. */
	if (!addr_ensure(rp, PC_SB_HOST, "lo", f->family, host) ||
	    !addr_ensure(rp, PC_SB_HOST, "lo", f->family, peer))
		return addr_trouble(rp, why, len);
	r->client_side = r->server_side = PC_SB_HOST;
	return 0;
}

/* Start the connection: a server as a real service has it, then the client's first packet
 * from exactly the sampled address and port. */
static int flow_start(struct rp_run *r)
{
	const struct pc_replay_flow *f = &r->f;
	bool tcp = r->req->proto == PC_PROTO_TCP;
	struct sockaddr_storage dst;
	socklen_t dl;
	int fd;

	/* A reset of the server's was dropped: there was no listener to answer the SYN. */
	if (!(tcp && !f->from_client && f->kind == PC_KIND_RST)) {
		fd = bound_socket(r, r->server_side, &f->server, f->server_port);
		if (fd < 0)
			return fd;
		r->lfd = fd;
		if (tcp && listen(fd, 4))
			return -errno;
	}
	fd = bound_socket(r, r->client_side, &f->client, f->client_port);
	if (fd < 0)
		return fd;
	r->cfd = fd;
	dl = pc_sb_sockaddr(f->family, &f->server, f->server_port, &dst);
	if (connect(fd, (struct sockaddr *)&dst, dl) && errno != EINPROGRESS)
		return -errno;
	if (!tcp && send(fd, RP_UDP_PAYLOAD, sizeof(RP_UDP_PAYLOAD) - 1, 0) < 0)
		return -errno;
	return 0;
}

static void close_quietly(int *fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	if (*fd < 0)
		return;
	/* A reset, not a FIN: no TIME_WAIT to hold the sampled port for the next replay. */
	setsockopt(*fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(*fd);
	*fd = -1;
}

/* An established connection's packet was dropped: send one from the same end. */
static void send_data(struct rp_run *r)
{
	int fd = r->f.from_client ? r->cfd : r->afd;

	if (fd >= 0 && write(fd, "x", 1) == 1)
		r->data_sent = true;
}

/* Wait for the flow's verdict: a drop in the trace, or the sampled packet delivered.
 * Returns PC_REPLAY_RULE when dropped (r->dropped), PASSED or LOST. */
static enum pc_replay_outcome flow_wait(struct rp_run *r)
{
	const struct pc_replay_flow *f = &r->f;
	bool tcp = r->req->proto == PC_PROTO_TCP;
	double deadline = pc_mono_now() * 1e3 + PC_REPLAY_WAIT_MS;
	char buf[256];

	for (;;) {
		struct pollfd pfd[4];
		int n = 0, left = (int)(deadline - pc_mono_now() * 1e3);

		trace_drain(r->rp, r);
		if (r->dropped)
			return PC_REPLAY_RULE;
		if (left <= 0)
			return PC_REPLAY_LOST;
		pfd[n++] = (struct pollfd){.fd = mnl_socket_get_fd(r->rp->trace), .events = POLLIN};
		pfd[n++] = (struct pollfd){.fd = r->cfd,
					   .events = tcp && !r->connected ? POLLOUT : POLLIN};
		if (r->lfd >= 0)
			pfd[n++] = (struct pollfd){.fd = r->lfd, .events = POLLIN};
		if (r->afd >= 0)
			pfd[n++] = (struct pollfd){.fd = r->afd, .events = POLLIN};
		if (poll(pfd, n, left) < 0 && errno != EINTR)
			return PC_REPLAY_LOST;
		trace_drain(r->rp, r);
		if (r->dropped)
			return PC_REPLAY_RULE;
		if (tcp && !r->connected && (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			int err = 0;
			socklen_t el = sizeof(err);

			getsockopt(r->cfd, SOL_SOCKET, SO_ERROR, &err, &el);
			if (err)
				return PC_REPLAY_PASSED; /* answered (a reset): not dropped */
			r->connected = true;
			/* The handshake passed: so did a SYN or a SYN-ACK that the live host
			 * dropped. An established connection's packet is sent now. */
			if (f->kind != PC_KIND_DATA)
				return PC_REPLAY_PASSED;
			if (f->from_client)
				send_data(r);
		}
		if (tcp && r->lfd >= 0 && r->afd < 0 && n > 2 && (pfd[2].revents & POLLIN)) {
			r->afd = accept4(r->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (r->afd >= 0 && r->connected && !r->data_sent && !f->from_client)
				send_data(r);
		}
		if (tcp && r->afd >= 0 && r->connected && !r->data_sent && !f->from_client)
			send_data(r);
		if (tcp && r->data_sent) {
			/* Delivered when the other end can read it. */
			int rfd = f->from_client ? r->afd : r->cfd;

			if (rfd >= 0 && recv(rfd, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK) > 0)
				return PC_REPLAY_PASSED;
		}
		if (!tcp) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t got;

			if (r->lfd >= 0 && (got = recvfrom(r->lfd, buf, sizeof(buf), MSG_DONTWAIT,
							   (struct sockaddr *)&from, &fl)) >= 0) {
				if (f->from_client)
					return PC_REPLAY_PASSED;
				sendto(r->lfd, buf, got, 0, (struct sockaddr *)&from, fl);
			}
			if (recv(r->cfd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
				return PC_REPLAY_PASSED;
		}
	}
}

/* The events of the dropped packet, in order, for the path check. */
static int drop_path(const struct rp_run *r, struct pc_replay_ev *out)
{
	int i, n = 0;

	for (i = 0; i < r->nev; i++)
		if (r->ev_id[i] == r->drop_id)
			out[n++] = r->ev[i];
	return n;
}

/* The packet reached a stubbed xtables rule (the jump before the stub's drop): which. */
static void xt_why(const struct pc_replay *rp, const struct pc_replay_ev *path, int n, char *why,
		   size_t len)
{
	struct pc_rule_ref jr = {.known = true, .has_handle = true};
	int i;

	for (i = n - 1; i >= 0; i--)
		if (path[i].type == NFT_TRACETYPE_RULE && path[i].has_handle &&
		    strcmp(path[i].chain, PC_NFT_XT_CHAIN))
			break;
	if (i >= 0) {
		snprintf(jr.family, sizeof(jr.family), "%s", path[i].family);
		snprintf(jr.table, sizeof(jr.table), "%s", path[i].table);
		snprintf(jr.chain, sizeof(jr.chain), "%s", path[i].chain);
		jr.handle = path[i].handle;
	}
	if (i >= 0 && !pc_replay_live_rule(&rp->live, &rp->copy, &jr))
		snprintf(why, len,
			 "the packets reach %s %s %.60s handle %llu (%.80s), an iptables-nft rule "
			 "with an xtables match a sandbox copy cannot evaluate",
			 jr.family, jr.table, jr.chain, (unsigned long long)jr.handle, jr.text);
	else
		snprintf(why, len,
			 "the packets reach an iptables-nft rule with an xtables match a "
			 "sandbox copy cannot evaluate");
}

static enum pc_replay_outcome replay_one(struct pc_replay *rp, const struct pc_replay_req *req,
					 const struct pc_replay_pkt *p, struct pc_rule_ref *rule,
					 char *why, size_t len)
{
	static struct rp_run run;
	struct rp_run *r = &run;
	static struct pc_replay_ev path[RP_MAX_EVENTS];
	enum pc_replay_outcome o;
	int i, err, npath;

	memset(r, 0, sizeof(*r));
	r->rp = rp;
	r->req = req;
	r->cfd = r->lfd = r->afd = -1;
	why[0] = '\0';
	if (pc_replay_flow_of(req, p, &r->f)) {
		snprintf(why, len, "a sampled packet is not of this port");
		return PC_REPLAY_ERROR;
	}
	err = flow_setup(r, p, why, len);
	if (err)
		return PC_REPLAY_ERROR;
	conntrack_flush(rp);
	trace_drain(rp, NULL); /* what earlier replays left */
	err = flow_start(r);
	if (err) {
		snprintf(why, len, "the replay cannot open its sockets: %s", strerror(-err));
		o = PC_REPLAY_ERROR;
		goto out;
	}
	o = flow_wait(r);
	if (o == PC_REPLAY_PASSED) {
		/* Let through where the live host dropped: say so precisely when the path of
		 * the sampled packet reads what the copy cannot have. */
		for (i = 0; i < r->npkt; i++) {
			if (r->pkt[i].from_client != r->f.from_client ||
			    r->pkt[i].kind != r->f.kind)
				continue;
			r->drop_id = r->pkt[i].id;
			npath = drop_path(r, path);
			if (pc_replay_path_outside(&rp->copy, path, npath, why, len)) {
				char tail[320];

				snprintf(tail, sizeof(tail), "%s", why);
				snprintf(why, len, "a sandbox copy lets them through; %.280s",
					 tail);
				o = PC_REPLAY_UNREPRODUCIBLE;
				break;
			}
		}
	}
	if (o != PC_REPLAY_RULE)
		goto out;
	i = pkt_index(r, r->drop_id);
	npath = drop_path(r, path);
	if (!strcmp(r->drop_rule.chain, PC_NFT_XT_CHAIN)) {
		xt_why(rp, path, npath, why, len);
		o = PC_REPLAY_UNREPRODUCIBLE;
		goto out;
	}
	/* The copy must drop what the live host dropped: same end, same kind of packet. */
	if (i < 0 || r->pkt[i].from_client != r->f.from_client || r->pkt[i].kind != r->f.kind) {
		bool same_end = i >= 0 && r->pkt[i].from_client == r->f.from_client;

		o = PC_REPLAY_OTHER_DROP;
		if (same_end && r->f.kind == PC_KIND_DATA && r->pkt[i].kind == PC_KIND_SYN) {
			/* An established connection's packet; the copy drops its opening. */
			o = PC_REPLAY_HANDSHAKE_DROP;
			if (!pc_replay_path_conn_state(&rp->copy, path, npath, why, len))
				o = PC_REPLAY_RULE;
		} else if (i >= 0) {
			snprintf(why, len,
				 "a sandbox copy of the live ruleset drops the %s's %s where the "
				 "live "
				 "host dropped the %s's %s",
				 r->pkt[i].from_client ? "client" : "server",
				 pc_replay_kind_name(r->pkt[i].kind),
				 r->f.from_client ? "client" : "server",
				 pc_replay_kind_name(r->f.kind));
		}
		if (o != PC_REPLAY_RULE)
			goto out;
	}
	if (pc_replay_path_outside(&rp->copy, path, npath, why, len)) {
		o = PC_REPLAY_UNREPRODUCIBLE;
		goto out;
	}
	*rule = r->drop_rule;
	if (pc_replay_live_rule(&rp->live, &rp->copy, rule)) {
		snprintf(why, len,
			 "the sandbox copy of chain %s %s %s does not line up with the "
			 "live one",
			 rule->family, rule->table, rule->chain);
		rule->known = false;
		o = PC_REPLAY_ERROR;
	}
out:
	close_quietly(&r->cfd);
	close_quietly(&r->afd);
	if (r->lfd >= 0)
		close(r->lfd);
	r->lfd = -1;
	return o;
}

static bool same_rule(const struct pc_rule_ref *a, const struct pc_rule_ref *b)
{
	return !strcmp(a->family, b->family) && !strcmp(a->table, b->table) &&
	       !strcmp(a->chain, b->chain) && a->has_handle == b->has_handle &&
	       a->handle == b->handle;
}

void pc_replay_run(struct pc_replay *rp, const struct pc_replay_req *req,
		   struct pc_replay_result *res)
{
	struct pc_rule_ref rules[PC_REPLAY_MAX_PKTS];
	int votes[PC_REPLAY_MAX_PKTS] = {0}, nrules = 0, best = -1, i, j;
	double t0 = pc_mono_now() * 1e3;
	char why[320];

	memset(res, 0, sizeof(*res));
	res->generation = rp->generation;
	res->outcome = PC_REPLAY_ERROR;
	if (!rp->loaded) {
		res->outcome = PC_REPLAY_NOT_LOADED;
		snprintf(res->why, sizeof(res->why), "%s: %.200s",
			 pc_replay_outcome_why(PC_REPLAY_NOT_LOADED), rp->load_error);
		return;
	}
	for (i = 0; i < req->npkts; i++) {
		struct pc_rule_ref rule = {};
		enum pc_replay_outcome o =
			replay_one(rp, req, &req->pkts[i], &rule, why, sizeof(why));

		res->replayed++;
		if (o == PC_REPLAY_RULE) {
			for (j = 0; j < nrules && !same_rule(&rules[j], &rule); j++)
				;
			if (j == nrules)
				rules[nrules++] = rule;
			votes[j]++;
			continue;
		}
		/* The first failure says why, if no packet names a rule. */
		if (res->outcome == PC_REPLAY_ERROR && !res->why[0]) {
			res->outcome = o;
			snprintf(res->why, sizeof(res->why), "%s",
				 why[0] ? why : pc_replay_outcome_why(o));
		}
	}
	/* The rule that dropped the most sampled peers; the first of equals. */
	for (j = 0; j < nrules; j++)
		if (best < 0 || votes[j] > votes[best])
			best = j;
	if (best >= 0) {
		res->rule = rules[best];
		res->reproduced = votes[best];
		res->outcome = PC_REPLAY_RULE;
		res->why[0] = '\0';
	} else if (!req->npkts) {
		snprintf(res->why, sizeof(res->why), "no dropped packet of the port was sampled");
	}
	res->ms = pc_mono_now() * 1e3 - t0;
}

/* ---- lifecycle ---- */

int pc_replay_open(struct pc_replay **out, const char ifnames[][IF_NAMESIZE], int n, char *err,
		   size_t errlen)
{
	struct pc_replay *rp = calloc(1, sizeof(*rp));
	int i, ret;

	*out = NULL;
	if (!rp) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = pc_sandbox_open(&rp->sb, err, errlen);
	if (ret) {
		free(rp);
		return ret;
	}
	for (i = 0; i < n; i++)
		if (!iface_get(rp, ifnames[i]) && strcmp(ifnames[i], "lo")) {
			snprintf(err, errlen, "sandbox: cannot create an interface named %s",
				 ifnames[i]);
			ret = -ENODEV;
			goto fail;
		}
	ret = pc_sandbox_enter(&rp->sb, PC_SB_HOST);
	if (!ret) {
		rp->nft = nft_ctx_new(NFT_CTX_DEFAULT);
		pc_sandbox_leave(&rp->sb);
	}
	if (!rp->nft) {
		snprintf(err, errlen, "libnftables: cannot create a context in the sandbox");
		ret = -ENOMEM;
		goto fail;
	}
	nft_ctx_buffer_output(rp->nft);
	nft_ctx_buffer_error(rp->nft);
	rp->trace = pc_sandbox_trace_socket(&rp->sb, &ret);
	if (!rp->trace) {
		snprintf(err, errlen, "cannot listen to nftables traces in the sandbox: %s",
			 strerror(-ret));
		goto fail;
	}
	snprintf(rp->load_error, sizeof(rp->load_error), "no ruleset loaded yet");
	*out = rp;
	return 0;
fail:
	pc_replay_close(rp);
	return ret;
}

bool pc_replay_full(const struct pc_replay *rp)
{
	return rp->full;
}

void pc_replay_close(struct pc_replay *rp)
{
	if (!rp)
		return;
	if (rp->trace)
		mnl_socket_close(rp->trace);
	if (rp->nft)
		nft_ctx_free(rp->nft);
	pc_nft_rules_free(&rp->live);
	pc_nft_rules_free(&rp->copy);
	pc_sandbox_destroy(&rp->sb);
	free(rp);
}
