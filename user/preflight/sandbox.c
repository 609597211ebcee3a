// SPDX-License-Identifier: GPL-2.0
/* sandbox.c: anonymous network namespaces held by fds, a veth pair between them (rtnetlink, libmnl). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "preflight/sandbox.h"

void pc_sandbox_mac(enum pc_sb_side side, int pair, unsigned char mac[6])
{
	/* Locally administered, fixed: the static neighbour entries need them before the
	 * link exists. */
	static const unsigned char base[6] = {0x02, 0x70, 0x63, 0x00, 0x00, 0x00};

	memcpy(mac, base, 6);
	mac[4] = (unsigned char)pair;
	mac[5] = side == PC_SB_HOST ? 0x02 : 0x01;
}

/* This thread's namespace: /proc/thread-self, not /proc/self, since setns is per thread. */
static int open_own_netns(void)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static unsigned int fd_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : (unsigned int)st.st_ino;
}

int pc_sandbox_enter(const struct pc_sandbox *sb, enum pc_sb_side side)
{
	return setns(sb->ns_fd[side], CLONE_NEWNET) ? -errno : 0;
}

int pc_sandbox_leave(const struct pc_sandbox *sb)
{
	if (setns(sb->orig_fd, CLONE_NEWNET)) {
		/* Staying in the sandbox would make the caller's next step act on the wrong
		 * namespace (and the host ruleset must never be touched): give up. */
		fprintf(stderr,
			"portcanary: error: cannot return to the original network namespace: "
			"%s\n",
			strerror(errno));
		abort();
	}
	return 0;
}

int pc_sandbox_socket(const struct pc_sandbox *sb, enum pc_sb_side side, int domain, int type,
		      int protocol)
{
	int fd, err;

	err = pc_sandbox_enter(sb, side);
	if (err)
		return err;
	fd = socket(domain, type | SOCK_CLOEXEC, protocol);
	err = fd < 0 ? -errno : 0;
	pc_sandbox_leave(sb);
	return err ? err : fd;
}

/* One rtnetlink request, its answers (to cb, if any) up to the ACK; 0 or -errno. */
static int nl_request(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int portid = mnl_socket_get_portid(nl);
	unsigned int seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, n, seq, portid, cb, data);
	} while (ret > 0);
	return ret < 0 ? -errno : 0;
}

static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	return nl_request(nl, nlh, NULL, NULL);
}

static struct nlmsghdr *nl_msg(char *buf, int type, int flags, unsigned int *seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = ++*seq;
	return nlh;
}

static int nl_veth_create(struct mnl_socket *nl, const struct pc_sandbox *sb, const char *host,
			  const char *peer, int pair, unsigned int *seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, seq);
	struct nlattr *linkinfo, *data, *pnest;
	struct ifinfomsg *ifm, *pifm;
	unsigned char mac[2][6];

	pc_sandbox_mac(PC_SB_HOST, pair, mac[PC_SB_HOST]);
	pc_sandbox_mac(PC_SB_PEER, pair, mac[PC_SB_PEER]);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac[PC_SB_HOST]);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	pnest = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer's attributes follow its own ifinfomsg header inside the nest. */
	pifm = mnl_nlmsg_get_payload_tail(nlh);
	memset(pifm, 0, sizeof(*pifm));
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*pifm));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac[PC_SB_PEER]);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, sb->ns_fd[PC_SB_PEER]);
	mnl_attr_nest_end(nlh, pnest);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return nl_talk(nl, nlh);
}

static int nl_link_up(struct mnl_socket *nl, int ifindex, unsigned int *seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg(buf, RTM_NEWLINK, 0, seq);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	return nl_talk(nl, nlh);
}

/* IF_OPER_UP of linux/if.h (RFC 2863), whose other definitions clash with net/if.h's. */
#define SB_OPER_UP 6

/* Longest wait for the kernel to start a veth end's transmit queue (see link_wait_up()): the
 * link watcher defers a non-urgent event by at most a second. */
#define SB_LINK_UP_WAIT_MS 1500

static int operstate_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == IFLA_OPERSTATE && !mnl_attr_validate(attr, MNL_TYPE_U8))
		*(int *)data = mnl_attr_get_u8(attr);
	return MNL_CB_OK;
}

/* IFLA_OPERSTATE of one link, from the RTM_NEWLINK answer to RTM_GETLINK. */
static int operstate_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct ifinfomsg), operstate_attr_cb, data);
}

/* The link's IFLA_OPERSTATE (IF_OPER_*), or -errno. */
static int nl_link_operstate(struct mnl_socket *nl, int ifindex, unsigned int *seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg(buf, RTM_GETLINK, 0, seq);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	int state = -ENODATA, ret;

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ret = nl_request(nl, nlh, operstate_cb, &state);
	return ret ? ret : state;
}

/*
 * A veth end brought up before its peer has no carrier, so the kernel leaves its transmit
 * queue on the no-op qdisc, which drops everything (counted as tx_dropped). When the peer
 * comes up, and the carrier with it, that queue is started by the link watcher: a work item
 * that runs under the RTNL, usually at once, but under a teardown of other namespaces seen
 * to run after the sandbox's first packet had been dropped (a probe's SYN-ACK lost, a port
 * reported a second late; tests/bpf/test_sandbox loses 1-14 of 100 first datagrams without
 * this wait). The watcher sets the link's operational state just before it starts the queue,
 * under the same lock: wait for IF_OPER_UP. The end brought up second has its queue started
 * by its own open.
 */
static int link_wait_up(struct mnl_socket *nl, int ifindex, unsigned int *seq)
{
	int ms, state;

	for (ms = 0; ms < SB_LINK_UP_WAIT_MS; ms++) {
		state = nl_link_operstate(nl, ifindex, seq);
		if (state < 0)
			return state;
		if (state == SB_OPER_UP)
			return 0;
		usleep(1000);
	}
	/* not up yet: go on; a first packet lost is left to the callers' retries */
	return 0;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
}

static int nl_addr_add(struct mnl_socket *nl, int family, const union pc_sb_addr *a, int ifindex,
		       unsigned int *seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, seq);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = family;
	ifa->ifa_prefixlen = family == AF_INET ? 32 : 128;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, addr_len(family), a);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_len(family), a);
	/* No duplicate address detection: the address is usable at once, not in a second. */
	if (family == AF_INET6)
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	return nl_talk(nl, nlh);
}

static int nl_route_add(struct mnl_socket *nl, int family, const union pc_sb_addr *dst, int ifindex,
			unsigned int *seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, seq);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = family;
	rtm->rtm_dst_len = family == AF_INET ? 32 : 128;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, addr_len(family), dst);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	return nl_talk(nl, nlh);
}

static int nl_neigh_add(struct mnl_socket *nl, int family, const union pc_sb_addr *dst,
			const unsigned char *mac, int ifindex, unsigned int *seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg(buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, seq);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));

	ndm->ndm_family = family;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = NUD_PERMANENT;
	mnl_attr_put(nlh, NDA_DST, addr_len(family), dst);
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	return nl_talk(nl, nlh);
}

/* What one rtnetlink step does, run inside a side's namespace. */
enum sb_op {
	SB_LOOPBACK_UP,
	SB_VETH,
	SB_LINK_UP,
	SB_WAIT_UP,
	SB_ADDR,
	SB_ROUTE,
	SB_NEIGH,
};

struct sb_step {
	enum sb_op op;
	const char *ifname; /* the interface (SB_VETH: the host end) */
	const char *peer;   /* SB_VETH: the peer end */
	int pair;	    /* SB_VETH: MACs; SB_NEIGH: the other end's MAC */
	int family;
	const union pc_sb_addr *addr;
};

static int sb_run(const struct pc_sandbox *sb, enum pc_sb_side side, const struct sb_step *st)
{
	unsigned int seq = time(NULL);
	struct mnl_socket *nl;
	unsigned char mac[6];
	int ret, ifindex = 0;

	ret = pc_sandbox_enter(sb, side);
	if (ret)
		return ret;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	if (st->op != SB_VETH) {
		ifindex = if_nametoindex(st->op == SB_LOOPBACK_UP ? "lo" : st->ifname);
		if (!ifindex) {
			ret = -ENODEV;
			goto out;
		}
	}
	switch (st->op) {
	case SB_LOOPBACK_UP:
	case SB_LINK_UP:
		ret = nl_link_up(nl, ifindex, &seq);
		break;
	case SB_VETH:
		ret = nl_veth_create(nl, sb, st->ifname, st->peer, st->pair, &seq);
		break;
	case SB_WAIT_UP:
		ret = link_wait_up(nl, ifindex, &seq);
		break;
	case SB_ADDR:
		ret = nl_addr_add(nl, st->family, st->addr, ifindex, &seq);
		break;
	case SB_ROUTE:
		ret = nl_route_add(nl, st->family, st->addr, ifindex, &seq);
		break;
	case SB_NEIGH:
		pc_sandbox_mac(side == PC_SB_HOST ? PC_SB_PEER : PC_SB_HOST, st->pair, mac);
		ret = nl_neigh_add(nl, st->family, st->addr, mac, ifindex, &seq);
		break;
	}
out:
	if (nl)
		mnl_socket_close(nl);
	pc_sandbox_leave(sb);
	return ret;
}

int pc_sandbox_add_veth(const struct pc_sandbox *sb, const char *host, const char *peer, int pair)
{
	int ret = sb_run(
		sb, PC_SB_HOST,
		&(struct sb_step){.op = SB_VETH, .ifname = host, .peer = peer, .pair = pair});

	if (!ret)
		ret = sb_run(sb, PC_SB_HOST, &(struct sb_step){.op = SB_LINK_UP, .ifname = host});
	if (!ret)
		ret = sb_run(sb, PC_SB_PEER, &(struct sb_step){.op = SB_LINK_UP, .ifname = peer});
	/* the host end went up first: its queue waits for the link watcher */
	if (!ret)
		ret = sb_run(sb, PC_SB_HOST, &(struct sb_step){.op = SB_WAIT_UP, .ifname = host});
	return ret;
}

/*
 * An IPv6 address is in place when RTM_NEWADDR is acked, but its local route (table local)
 * comes a moment later, from addrconf's work queue, even without DAD; until then a packet to
 * it is not delivered, and no rule drops it (Ip6InAddrErrors). The main table's /128 route is
 * there at once, so a route lookup says nothing: wait (at most 200 ms) until a datagram sent
 * to the address comes back over loopback.
 */
static int addr_usable(const struct pc_sandbox *sb, enum pc_sb_side side, const union pc_sb_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t sl = pc_sb_sockaddr(AF_INET6, a, 0, &ss);
	int fd, i, ret = -ETIMEDOUT;
	char c;

	fd = pc_sandbox_socket(sb, side, AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0)
		return fd;
	for (i = 0; i < 200 && ret; i++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		sl = sizeof(ss);
		if (bind(fd, (struct sockaddr *)&ss, sl) && errno != EINVAL) {
			usleep(1000); /* not usable yet for a bind either */
			continue;
		}
		getsockname(fd, (struct sockaddr *)&ss, &sl);
		sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, sl);
		if (poll(&p, 1, 1) == 1 && recv(fd, &c, 1, MSG_DONTWAIT) == 1)
			ret = 0;
	}
	close(fd);
	return ret;
}

int pc_sandbox_add_addr(const struct pc_sandbox *sb, enum pc_sb_side side, const char *ifname,
			int family, const union pc_sb_addr *a)
{
	int ret = sb_run(
		sb, side,
		&(struct sb_step){.op = SB_ADDR, .ifname = ifname, .family = family, .addr = a});

	return ret || family != AF_INET6 ? ret : addr_usable(sb, side, a);
}

int pc_sandbox_route(const struct pc_sandbox *sb, enum pc_sb_side side, const char *ifname,
		     int pair, int family, const union pc_sb_addr *to)
{
	int ret = sb_run(
		sb, side,
		&(struct sb_step){.op = SB_ROUTE, .ifname = ifname, .family = family, .addr = to});

	if (!ret)
		ret = sb_run(sb, side,
			     &(struct sb_step){.op = SB_NEIGH,
					       .ifname = ifname,
					       .pair = pair,
					       .family = family,
					       .addr = to});
	return ret;
}

int pc_sandbox_open(struct pc_sandbox *sb, char *err, size_t errlen)
{
	int i, ret;

	memset(sb, 0, sizeof(*sb));
	sb->ns_fd[0] = sb->ns_fd[1] = -1;
	sb->orig_fd = open_own_netns();
	if (sb->orig_fd < 0) {
		ret = sb->orig_fd;
		snprintf(err, errlen, "sandbox: cannot open this thread's network namespace: %s",
			 strerror(-ret));
		return ret;
	}
	for (i = 0; i < 2; i++) {
		/* unshare makes a namespace nobody else can name; its fd is the only handle. */
		if (unshare(CLONE_NEWNET)) {
			ret = -errno;
			snprintf(
				err, errlen, "sandbox: cannot create a network namespace: %s%s",
				strerror(errno),
				errno == EPERM
					? " (preflight needs root: CAP_SYS_ADMIN and CAP_NET_ADMIN)"
					: "");
			goto fail;
		}
		sb->ns_fd[i] = open_own_netns();
		pc_sandbox_leave(sb);
		if (sb->ns_fd[i] < 0) {
			ret = sb->ns_fd[i];
			snprintf(err, errlen, "sandbox: cannot open the new namespace: %s",
				 strerror(-ret));
			goto fail;
		}
		sb->ns_ino[i] = fd_ino(sb->ns_fd[i]);
		ret = sb_run(sb, i, &(struct sb_step){.op = SB_LOOPBACK_UP});
		if (ret) {
			snprintf(err, errlen, "sandbox: cannot bring loopback up: %s",
				 strerror(-ret));
			goto fail;
		}
	}
	return 0;
fail:
	pc_sandbox_destroy(sb);
	return ret;
}

int pc_sandbox_create(struct pc_sandbox *sb, const struct pc_sandbox_cfg *cfg, char *err,
		      size_t errlen)
{
	const char *step = "create the veth pair";
	enum pc_sb_side side = PC_SB_HOST, other;
	int ret;

	ret = pc_sandbox_open(sb, err, errlen);
	if (ret)
		return ret;
	sb->cfg = *cfg;
	ret = pc_sandbox_add_veth(sb, cfg->ifname[PC_SB_HOST], cfg->ifname[PC_SB_PEER], 0);
	for (side = PC_SB_HOST; !ret && side <= PC_SB_PEER; side++) {
		other = side == PC_SB_HOST ? PC_SB_PEER : PC_SB_HOST;
		step = "add the address";
		ret = pc_sandbox_add_addr(sb, side, cfg->ifname[side], cfg->family,
					  &cfg->addr[side]);
		if (ret)
			break;
		step = "add the route and the neighbour entry";
		ret = pc_sandbox_route(sb, side, cfg->ifname[side], 0, cfg->family,
				       &cfg->addr[other]);
	}
	if (ret) {
		snprintf(err, errlen, "sandbox: cannot %s in the %s namespace: %s", step,
			 side == PC_SB_PEER ? "peer" : "host", strerror(-ret));
		pc_sandbox_destroy(sb);
	}
	return ret;
}

void pc_sandbox_destroy(struct pc_sandbox *sb)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (sb->ns_fd[i] >= 0)
			close(sb->ns_fd[i]);
		sb->ns_fd[i] = -1;
	}
	if (sb->orig_fd >= 0)
		close(sb->orig_fd);
	sb->orig_fd = -1;
}

int pc_sandbox_exec(const struct pc_sandbox *sb, enum pc_sb_side side, char *const argv[],
		    const char *in, char *out, size_t outlen)
{
	int pipefd[2], infd = -1, status, ret = 0;
	size_t used = 0;
	pid_t parent = getpid(), pid;
	ssize_t n;

	if (outlen)
		out[0] = '\0';
	if (in) {
		/* A memfd rather than a pipe: the child reads its input at its own pace, and
		 * we never block writing while it blocks writing its output to us. */
		infd = memfd_create("pc-stdin", MFD_CLOEXEC);
		if (infd < 0)
			return -errno;
		if (write(infd, in, strlen(in)) != (ssize_t)strlen(in) ||
		    lseek(infd, 0, SEEK_SET) < 0) {
			ret = -errno;
			close(infd);
			return ret ? ret : -EIO;
		}
	}
	if (pipe2(pipefd, O_CLOEXEC)) {
		ret = -errno;
		goto out_in;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		goto out_in;
	}
	if (pid == 0) {
		int nul;

		/* Die with the parent: a child left behind would keep the namespace alive. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (setns(sb->ns_fd[side], CLONE_NEWNET))
			_exit(126);
		nul = open("/dev/null", O_RDONLY);
		dup2(in ? infd : nul, 0);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		execvp(argv[0], argv);
		dprintf(2, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		char sink[512];

		if (used + 1 < outlen)
			n = read(pipefd[0], out + used, outlen - used - 1);
		else
			n = read(pipefd[0], sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (used + 1 < outlen) {
			used += n;
			out[used] = '\0';
		}
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			ret = -errno;
			goto out_in;
		}
	}
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out_in:
	if (infd >= 0)
		close(infd);
	return ret;
}

socklen_t pc_sb_sockaddr(int family, const union pc_sb_addr *a, uint16_t port,
			 struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr = a->v4;
		sin->sin_port = htons(port);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = a->v6;
	sin6->sin6_port = htons(port);
	return sizeof(*sin6);
}

struct mnl_socket *pc_sandbox_trace_socket(const struct pc_sandbox *sb, int *err)
{
	int group = NFNLGRP_NFTRACE, rcvbuf = 8 << 20;
	struct mnl_socket *nl = NULL;

	*err = pc_sandbox_enter(sb, PC_SB_HOST);
	if (*err)
		return NULL;
	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		*err = -errno;
		if (nl)
			mnl_socket_close(nl);
		nl = NULL;
	}
	pc_sandbox_leave(sb);
	/* Every packet makes a few events: room for all of them between two reads. */
	if (nl)
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
			   sizeof(rcvbuf));
	return nl;
}

int pc_sb_addr_parse(const char *s, union pc_sb_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->v4) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, &a->v6) == 1)
		return AF_INET6;
	return -EINVAL;
}

void pc_sb_addr_format(int family, const union pc_sb_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(family, a, buf, len) && len)
		snprintf(buf, len, "?");
}
