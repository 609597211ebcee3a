// SPDX-License-Identifier: GPL-2.0
/* preflight.c: load a candidate ruleset in a sandbox, probe every port for real, gather the evidence. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>
#include <libnftnl/trace.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <nftables/libnftables.h>

#include "portcanary.h"
#include "portcanary.skel.h"
#include "dropreason.h"
#include "droptable.h"
#include "log.h"
#include "loader.h"
#include "preflight/preflight.h"
#include "preflight/replay.h"
#include "preflight/ruleset.h"
#include "preflight/sandbox.h"

#define PF_DEFAULT_TIMEOUT_MS 1000
/* After the trace shows a probe dropped, how long its socket may still learn of a reject
 * (a TCP reset or an ICMP error sent by the rule) before the probe is concluded. */
#define PF_TRACE_GRACE_MS 50
#define PF_PEER_IFNAME	  "pcpeer0"
#define PF_UDP_PAYLOAD	  "portcanary preflight probe"

/* Marks every TCP/UDP packet of the sandbox for nftables tracing, ahead of any chain the
 * ruleset may have (the lowest priority there is), without a verdict of its own. */
static const char trace_table[] =
	"table inet " PC_PREFLIGHT_TRACE_TABLE " {\n"
	"	chain pre { type filter hook prerouting priority -2147483648; policy accept;\n"
	"		meta l4proto { tcp, udp } meta nftrace set 1; }\n"
	"	chain out { type filter hook output priority -2147483648; policy accept;\n"
	"		meta l4proto { tcp, udp } meta nftrace set 1; }\n"
	"}\n";

/* One run's shared state. */
struct pf_ctx {
	const struct pc_preflight_opts *o;
	struct pc_preflight_result *r;
	int family;
	union pc_sb_addr from, to;
	unsigned int timeout_ms;
	struct pc_dropreasons *reasons;
	bool bpf_warned;
};

/* One ruleset in one direction: a sandbox and its probes. */
struct pf_probe {
	int pi;	 /* index into r->ports */
	int lfd; /* listener, on the server side */
	int cfd; /* this attempt's client socket */
	int attempt;
	uint64_t deadline;
	bool done;
	bool ok;
	bool traced_drop; /* the trace showed a packet of it dropped: blocked, no retry */
	enum pc_failure fail;
};

struct pf_phase {
	struct pf_ctx *c;
	const struct pc_ruleset *rs;
	int dir;
	bool baseline; /* verdicts only: no evidence */
	struct pc_sandbox sb;
	enum pc_sb_side server, client;
	struct pf_probe *pr;
	int n;
	struct portcanary_bpf *skel;
	struct bpf_link *link;
	struct mnl_socket *trace;
	bool trace_overrun;
	struct pc_trace_book book;
	struct pc_rule_ref *rules; /* by probe, from the trace */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *rs_name(const struct pc_ruleset *rs)
{
	return rs->name ? rs->name : rs->path ? rs->path : "(ruleset)";
}

/* Trim trailing newlines and blank lines of a tool's message. */
static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

/*
 * Run nft commands (a file or text) in the host side of a sandbox with libnftables. The
 * context is created inside the namespace, so its netlink socket can only ever talk to the
 * sandbox: the check against the original namespace is a last guard for the host's ruleset.
 */
static int nft_in(struct pf_phase *ph, const char *file, const char *text, bool handles, char *out,
		  size_t outlen, char *err, size_t errlen)
{
	struct nft_ctx *nft;
	struct stat st, orig;
	int ret;

	ret = pc_sandbox_enter(&ph->sb, PC_SB_HOST);
	if (ret) {
		snprintf(err, errlen, "cannot enter the sandbox: %s", strerror(-ret));
		return ret;
	}
	if (stat("/proc/thread-self/ns/net", &st) || fstat(ph->sb.orig_fd, &orig) ||
	    st.st_ino == orig.st_ino || st.st_ino != ph->sb.ns_ino[PC_SB_HOST]) {
		pc_sandbox_leave(&ph->sb);
		snprintf(err, errlen, "refusing to run nft outside the sandbox");
		return -EFAULT;
	}
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft) {
		pc_sandbox_leave(&ph->sb);
		snprintf(err, errlen, "libnftables: cannot create a context");
		return -ENOMEM;
	}
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	if (handles)
		nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_HANDLE);
	ret = file ? nft_run_cmd_from_filename(nft, file) : nft_run_cmd_from_buffer(nft, text);
	if (out && outlen)
		snprintf(out, outlen, "%s", nft_ctx_get_output_buffer(nft) ?: "");
	if (err && errlen) {
		snprintf(err, errlen, "%s", nft_ctx_get_error_buffer(nft) ?: "");
		trim(err);
	}
	nft_ctx_free(nft);
	pc_sandbox_leave(&ph->sb);
	return ret ? -EINVAL : 0;
}

static bool iptables_is_legacy(struct pf_phase *ph)
{
	char *argv[] = {"iptables-restore", "--version", NULL}, out[256];

	if (pc_sandbox_exec(&ph->sb, PC_SB_HOST, argv, NULL, out, sizeof(out)) != 0)
		return false;
	return strstr(out, "legacy") != NULL;
}

static int load_ruleset(struct pf_phase *ph)
{
	const struct pc_ruleset *rs = ph->rs;
	struct pc_preflight_result *r = ph->c->r;
	char msg[900];
	int ret;

	if (rs->kind == PC_RULESET_NFT) {
		ret = nft_in(ph, rs->path, rs->text, false, NULL, 0, msg, sizeof(msg));
	} else {
		bool v6 = ph->c->family == AF_INET6;
		char *argv[] = {v6 ? "ip6tables-restore" : "iptables-restore", "-w", "5",
				(char *)rs->path, NULL};

		ret = pc_sandbox_exec(&ph->sb, PC_SB_HOST, argv, rs->path ? NULL : rs->text, msg,
				      sizeof(msg));
		trim(msg);
		if (ret == 127 || ret < 0) {
			snprintf(r->error, sizeof(r->error), "cannot run %s: %s", argv[0],
				 ret < 0 ? strerror(-ret) : msg);
			return -ENOENT;
		}
		ret = ret ? -EINVAL : 0;
	}
	if (ret)
		snprintf(r->error, sizeof(r->error), "%s%s does not load (nothing was tested):\n%s",
			 ph->baseline ? "baseline " : "", rs_name(rs),
			 msg[0] ? msg : "(no message)");
	return ret;
}

/* ---- the drop tracer ---- */

static int bpf_start(struct pf_phase *ph)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	struct pc_port_table *t;
	struct bpf_program *p;
	const char *btf = getenv("PORTCANARY_KERNEL_BTF");
	int i, err;

	if (btf && *btf)
		oopts.btf_custom_path = btf;
	ph->skel = portcanary_bpf__open_opts(&oopts);
	if (!ph->skel)
		return -errno;
	/* Only drops in the sandbox's host namespace are counted. */
	ph->skel->rodata->pc_cfg.netns_ino = ph->sb.ns_ino[PC_SB_HOST];
	err = pc_bpf_prepare(ph->skel);
	if (err)
		return err;
	bpf_object__for_each_program(p, ph->skel->obj)
		bpf_program__set_autoload(p, p == ph->skel->progs.pc_kfree_skb);
	err = portcanary_bpf__load(ph->skel);
	if (err)
		return err;
	t = &ph->skel->bss->pc_port_table; /* mapped by the skeleton */
	for (i = 0; i < ph->n; i++) {
		const struct pc_preflight_port *pp = &ph->c->r->ports[ph->pr[i].pi];

		t->slot[PC_PORT_INDEX(pp->port)][pp->proto][pp->dir] = i + 1;
	}
	ph->link = bpf_program__attach(ph->skel->progs.pc_kfree_skb);
	if (!ph->link)
		return -errno;
	return 0;
}

/* Per probe: the reason the kernel dropped most of its packets, NETFILTER_DROP first. */
static void bpf_collect(struct pf_phase *ph)
{
	long nf = ph->c->reasons ? pc_dropreason_value(ph->c->reasons, "NETFILTER_DROP") : -1;
	struct pc_drop_table t;
	uint64_t *best;
	int i;

	if (pc_drop_table_open(&t, bpf_map__fd(ph->skel->maps.pc_drop_keys),
			       bpf_map__fd(ph->skel->maps.pc_drops)))
		return;
	best = calloc(ph->n + 1, sizeof(*best));
	/* A table no slot was freed in holds every key once: an index is a (slot, reason). */
	for (i = 0; best && i < PC_MAX_DROP_KEYS; i++) {
		__u64 k = pc_drop_table_key(&t, i);
		unsigned int slot = PC_DROP_KEY_SLOT(k), reason = PC_DROP_KEY_REASON(k);
		uint64_t sum = k ? pc_drop_table_count(&t, i) : 0;

		if (!slot || slot > (unsigned int)ph->n || !sum)
			continue;
		struct pc_preflight_port *pp = &ph->c->r->ports[ph->pr[slot - 1].pi];
		const char *name =
			ph->c->reasons ? pc_dropreason_name(ph->c->reasons, reason) : NULL;
		bool is_nf = nf >= 0 && reason == (unsigned long)nf;

		pp->drops += sum;
		if (is_nf || (sum > best[slot] && strcmp(pp->drop_reason, "NETFILTER_DROP"))) {
			best[slot] = is_nf ? UINT64_MAX : sum;
			if (name)
				snprintf(pp->drop_reason, sizeof(pp->drop_reason), "%s", name);
			else
				snprintf(pp->drop_reason, sizeof(pp->drop_reason), "reason_%u",
					 reason);
		}
	}
	free(best);
	pc_drop_table_close(&t);
}

/* ---- nftables tracing ---- */

static int trace_start(struct pf_phase *ph)
{
	char err[512];
	int ret;

	ph->trace = pc_sandbox_trace_socket(&ph->sb, &ret);
	if (!ph->trace)
		return ret;
	ret = nft_in(ph, NULL, trace_table, false, NULL, 0, err, sizeof(err));
	if (ret)
		pc_warn("cannot add the trace table to the sandbox (no rule evidence): %s", err);
	return ret;
}

static int probe_of(const struct pf_phase *ph, uint8_t proto, uint16_t port)
{
	int i;

	for (i = 0; i < ph->n; i++) {
		const struct pc_preflight_port *pp = &ph->c->r->ports[ph->pr[i].pi];

		if (pp->proto == proto && pp->port == port)
			return i;
	}
	return -1;
}

/*
 * The trace says a packet of this probe was dropped: a rule's verdict, not a slow network,
 * so the probe is blocked without waiting out its timeout or retrying. It is concluded
 * PF_TRACE_GRACE_MS later, time for the reset or ICMP error of a reject rule to reach the
 * socket and tell "refused" from "dropped".
 */
static void traced_drop(struct pf_probe *p)
{
	uint64_t grace = now_ms() + PF_TRACE_GRACE_MS;

	if (p->done || p->traced_drop)
		return;
	p->traced_drop = true;
	if (p->deadline > grace)
		p->deadline = grace;
}

static int trace_cb(const struct nlmsghdr *nlh, void *data)
{
	struct pf_phase *ph = data;
	struct pc_trace_ev ev;
	struct pc_rule_ref rule;
	struct nftnl_trace *t;
	uint8_t proto;
	uint16_t port;
	int i;

	t = pc_trace_parse(nlh, &ev);
	if (!t)
		return MNL_CB_OK;
	if (pc_trace_feed(&ph->book, &ev, &proto, &port, &rule) == 1) {
		i = probe_of(ph, proto, port);
		/* The first drop is the one that counts: a retry meets the same rule. */
		if (i >= 0 && !ph->rules[i].known)
			ph->rules[i] = rule;
		if (i >= 0)
			traced_drop(&ph->pr[i]);
	}
	nftnl_trace_free(t);
	return MNL_CB_OK;
}

static void trace_drain(struct pf_phase *ph)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 2];
	ssize_t n;

	if (!ph->trace)
		return;
	for (;;) {
		n = mnl_socket_recvfrom(ph->trace, buf, sizeof(buf));
		if (n < 0) {
			if (errno == ENOBUFS) {
				ph->trace_overrun = true;
				continue;
			}
			break;
		}
		mnl_cb_run(buf, n, 0, 0, trace_cb, ph);
	}
}

/* ---- probes ---- */

static enum pc_failure failure_of(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case ECONNRESET:
		return PC_FAIL_REFUSED;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EACCES:
		return PC_FAIL_UNREACH;
	case EPERM:
		return PC_FAIL_LOCAL;
	case ETIMEDOUT:
		return PC_FAIL_TIMEOUT;
	default:
		return PC_FAIL_OTHER;
	}
}

static int listen_one(struct pf_phase *ph, struct pf_probe *p)
{
	const struct pc_preflight_port *pp = &ph->c->r->ports[p->pi];
	bool tcp = pp->proto == PC_PROTO_TCP;
	struct sockaddr_storage ss;
	union pc_sb_addr any = {};
	socklen_t sl;
	int fd, one = 1;

	fd = pc_sandbox_socket(&ph->sb, ph->server, ph->c->family,
			       (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* A wildcard bind, as a real service would have. */
	sl = pc_sb_sockaddr(ph->c->family, &any, pp->port, &ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) || (tcp && listen(fd, 16))) {
		int err = -errno;

		close(fd);
		return err;
	}
	p->lfd = fd;
	return 0;
}

static void attempt_fail(struct pf_phase *ph, struct pf_probe *p, enum pc_failure f);

static void attempt_start(struct pf_phase *ph, struct pf_probe *p)
{
	const struct pc_preflight_port *pp = &ph->c->r->ports[p->pi];
	bool tcp = pp->proto == PC_PROTO_TCP;
	struct sockaddr_storage src, dst;
	socklen_t sl, dl;
	int fd;

	p->attempt++;
	p->deadline = now_ms() + ph->c->timeout_ms;
	fd = pc_sandbox_socket(&ph->sb, ph->client, ph->c->family,
			       (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		attempt_fail(ph, p, PC_FAIL_OTHER);
		return;
	}
	p->cfd = fd;
	/* The client's address is --from: source-address rules must see it. */
	sl = pc_sb_sockaddr(ph->c->family, &ph->c->from, 0, &src);
	dl = pc_sb_sockaddr(ph->c->family, &ph->c->to, pp->port, &dst);
	if (bind(fd, (struct sockaddr *)&src, sl)) {
		attempt_fail(ph, p, failure_of(errno));
		return;
	}
	if (connect(fd, (struct sockaddr *)&dst, dl) && errno != EINPROGRESS) {
		attempt_fail(ph, p, failure_of(errno));
		return;
	}
	if (!tcp && send(fd, PF_UDP_PAYLOAD, sizeof(PF_UDP_PAYLOAD) - 1, 0) < 0)
		attempt_fail(ph, p, failure_of(errno));
}

/* Retry once; after the second failed attempt the port is blocked. */
static void attempt_fail(struct pf_phase *ph, struct pf_probe *p, enum pc_failure f)
{
	if (p->cfd >= 0)
		close(p->cfd);
	p->cfd = -1;
	p->fail = f;
	if (p->attempt < 2 && !p->traced_drop)
		attempt_start(ph, p);
	else
		p->done = true;
}

static void attempt_ok(struct pf_probe *p)
{
	close(p->cfd);
	p->cfd = -1;
	p->done = p->ok = true;
	p->fail = PC_FAIL_NONE;
}

/* Answer one datagram on a UDP listener: the probe comes back to its sender. */
static void udp_echo(int lfd)
{
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	char buf[256];
	ssize_t n;

	while ((n = recvfrom(lfd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl)) >= 0) {
		sendto(lfd, buf, n, 0, (struct sockaddr *)&from, fl);
		fl = sizeof(from);
	}
}

static int probe_all(struct pf_phase *ph)
{
	struct pollfd *pfd;
	int *who, i, nfd, left;

	pfd = calloc(2 * ph->n + 1, sizeof(*pfd));
	who = calloc(2 * ph->n + 1, sizeof(*who));
	if (!pfd || !who) {
		free(pfd);
		free(who);
		return -ENOMEM;
	}
	for (i = 0; i < ph->n; i++)
		attempt_start(ph, &ph->pr[i]);
	for (;;) {
		uint64_t now = now_ms(), next = UINT64_MAX;

		/* Attempts past their deadline fail; find the next deadline. */
		left = 0;
		for (i = 0; i < ph->n; i++) {
			struct pf_probe *p = &ph->pr[i];

			if (!p->done && now >= p->deadline)
				attempt_fail(ph, p, PC_FAIL_TIMEOUT);
			if (!p->done) {
				left++;
				if (p->deadline < next)
					next = p->deadline;
			}
		}
		if (!left)
			break;
		nfd = 0;
		for (i = 0; i < ph->n; i++) {
			struct pf_probe *p = &ph->pr[i];
			bool tcp = ph->c->r->ports[p->pi].proto == PC_PROTO_TCP;

			if (!tcp) {
				pfd[nfd] = (struct pollfd){.fd = p->lfd, .events = POLLIN};
				who[nfd++] = -1 - i;
			}
			if (!p->done) {
				pfd[nfd] = (struct pollfd){.fd = p->cfd,
							   .events = tcp ? POLLOUT : POLLIN};
				who[nfd++] = i;
			}
		}
		if (ph->trace) {
			pfd[nfd] = (struct pollfd){.fd = mnl_socket_get_fd(ph->trace),
						   .events = POLLIN};
			who[nfd++] = INT32_MAX;
		}
		if (poll(pfd, nfd, next > now ? (int)(next - now) : 0) < 0 && errno != EINTR)
			break;
		for (i = 0; i < nfd; i++) {
			struct pf_probe *p;
			int err = 0;
			socklen_t el = sizeof(err);
			char buf[64];

			if (!pfd[i].revents)
				continue;
			if (who[i] == INT32_MAX) {
				trace_drain(ph);
				continue;
			}
			if (who[i] < 0) {
				udp_echo(ph->pr[-1 - who[i]].lfd);
				continue;
			}
			p = &ph->pr[who[i]];
			if (p->done || p->cfd != pfd[i].fd)
				continue;
			if (ph->c->r->ports[p->pi].proto == PC_PROTO_TCP) {
				getsockopt(p->cfd, SOL_SOCKET, SO_ERROR, &err, &el);
				if (!err)
					attempt_ok(p);
				else
					attempt_fail(ph, p, failure_of(err));
			} else if (recv(p->cfd, buf, sizeof(buf), 0) >= 0) {
				attempt_ok(p);
			} else if (errno != EAGAIN) {
				attempt_fail(ph, p, failure_of(errno));
			}
		}
	}
	free(pfd);
	free(who);
	return 0;
}

/* ---- one phase: a ruleset in one direction ---- */

/* The copy's rule as the live one: its live handle and text, by position in its chain;
 * unknown when the copy does not line up (never another rule's handle). */
static void live_rule(const char *live_text, const char *copy_text, struct pc_rule_ref *rule)
{
	struct pc_nft_rules live, copy;

	if (pc_nft_rules_parse(live_text, &live))
		return;
	if (!pc_nft_rules_parse(copy_text, &copy)) {
		if (pc_replay_live_rule(&live, &copy, rule))
			rule->known = false;
		pc_nft_rules_free(&copy);
	}
	pc_nft_rules_free(&live);
}

static void rule_texts(struct pf_phase *ph)
{
	struct pc_preflight_result *r = ph->c->r;
	char *listing = NULL, *save = NULL, err[256];
	bool need = false;
	int i;

	for (i = 0; i < ph->n; i++)
		need |= !ph->pr[i].ok;
	if (!need)
		return;
	listing = malloc(1 << 20);
	if (listing && nft_in(ph, NULL, "list ruleset", true, listing, 1 << 20, err, sizeof(err)))
		listing[0] = '\0';
	if (ph->rs->kind == PC_RULESET_IPTABLES) {
		char *argv[] = {ph->c->family == AF_INET6 ? "ip6tables-save" : "iptables-save",
				"-c", NULL};

		save = malloc(1 << 20);
		if (save && pc_sandbox_exec(&ph->sb, PC_SB_HOST, argv, NULL, save, 1 << 20) != 0)
			save[0] = '\0';
	}
	for (i = 0; i < ph->n; i++) {
		struct pc_preflight_port *pp = &r->ports[ph->pr[i].pi];
		struct pc_rule_ref ipt;

		if (ph->pr[i].ok)
			continue;
		pp->rule = ph->rules[i];
		if (pp->rule.known && listing && ph->rs == &ph->c->o->candidate &&
		    ph->c->o->candidate_is_live)
			live_rule(ph->rs->text, listing, &pp->rule);
		else if (pp->rule.known && listing)
			pc_nft_rule_text(listing, &pp->rule);
		/* iptables rules read better in iptables syntax (and legacy tables have no
		 * trace): the counters that moved name the rule. */
		if (save && !pc_ipt_find_rule(save, ph->c->family == AF_INET6 ? "ip6" : "ip",
					      pp->proto, pp->port, &ipt)) {
			if (pp->rule.known && !strcmp(pp->rule.table, ipt.table) &&
			    !strcmp(pp->rule.chain, ipt.chain)) {
				ipt.has_handle = pp->rule.has_handle;
				ipt.handle = pp->rule.handle;
			}
			pp->rule = ipt;
		}
	}
	free(listing);
	free(save);
}

static void phase_free(struct pf_phase *ph)
{
	int i;

	for (i = 0; ph->pr && i < ph->n; i++) {
		if (ph->pr[i].lfd >= 0)
			close(ph->pr[i].lfd);
		if (ph->pr[i].cfd >= 0)
			close(ph->pr[i].cfd);
	}
	free(ph->pr);
	free(ph->rules);
	bpf_link__destroy(ph->link);
	portcanary_bpf__destroy(ph->skel);
	if (ph->trace)
		mnl_socket_close(ph->trace);
	/* The last references to the namespaces: they go, with everything in them. */
	pc_sandbox_destroy(&ph->sb);
}

static int run_phase(struct pf_ctx *c, const struct pc_ruleset *rs, int dir, bool baseline,
		     const int *pis, int n)
{
	struct pc_preflight_result *r = c->r;
	struct pc_sandbox_cfg cfg = {.family = c->family};
	struct pf_phase ph = {.c = c, .rs = rs, .dir = dir, .baseline = baseline, .n = n};
	int i, ret;

	/* The host under test carries the ruleset: the server for inbound ports, the
	 * client for outbound ones. The client is always --from, the server --to. */
	ph.server = dir == PC_DIR_IN ? PC_SB_HOST : PC_SB_PEER;
	ph.client = dir == PC_DIR_IN ? PC_SB_PEER : PC_SB_HOST;
	cfg.addr[ph.client] = c->from;
	cfg.addr[ph.server] = c->to;
	snprintf(cfg.ifname[PC_SB_HOST], IF_NAMESIZE, "%s", c->o->iface ? c->o->iface : "eth0");
	snprintf(cfg.ifname[PC_SB_PEER], IF_NAMESIZE, "%s",
		 strcmp(cfg.ifname[PC_SB_HOST], PF_PEER_IFNAME) ? PF_PEER_IFNAME : "pcpeer1");
	ph.pr = calloc(n ? n : 1, sizeof(*ph.pr));
	ph.rules = calloc(n ? n : 1, sizeof(*ph.rules));
	if (!ph.pr || !ph.rules) {
		free(ph.pr);
		free(ph.rules);
		snprintf(r->error, sizeof(r->error), "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		ph.pr[i] = (struct pf_probe){.pi = pis[i], .lfd = -1, .cfd = -1};
	ph.book.family = c->family;
	memcpy(ph.book.client, &c->from, c->family == AF_INET ? 4 : 16);

	ret = pc_sandbox_create(&ph.sb, &cfg, r->error, sizeof(r->error));
	if (ret)
		goto out;
	pc_debug("sandbox for %s, %s ports: host netns %u, peer netns %u", rs_name(rs),
		 pc_dir_name(dir), ph.sb.ns_ino[PC_SB_HOST], ph.sb.ns_ino[PC_SB_PEER]);
	ret = load_ruleset(&ph);
	if (ret || !n)
		goto out;
	if (!baseline && !(c->o->flags & PC_PREFLIGHT_NO_BPF)) {
		ret = bpf_start(&ph);
		if (ret) {
			if (!c->bpf_warned)
				pc_warn("drop reasons unavailable: cannot load the kfree_skb "
					"tracer: %s",
					strerror(-ret));
			c->bpf_warned = true;
			bpf_link__destroy(ph.link);
			portcanary_bpf__destroy(ph.skel);
			ph.link = NULL;
			ph.skel = NULL;
			r->bpf_evidence = false;
		}
	}
	/* Legacy iptables has no nftables trace (and would log TRACE lines to the kernel log).
	 * The baseline is traced too: a drop there concludes its probe as early. */
	if ((rs->kind == PC_RULESET_NFT || !iptables_is_legacy(&ph)) && trace_start(&ph)) {
		if (ph.trace)
			mnl_socket_close(ph.trace);
		ph.trace = NULL;
	}
	for (i = 0; i < n; i++) {
		ret = listen_one(&ph, &ph.pr[i]);
		if (ret) {
			const struct pc_preflight_port *pp = &r->ports[ph.pr[i].pi];

			snprintf(r->error, sizeof(r->error), "sandbox: cannot listen on %s/%u: %s",
				 pc_proto_name(pp->proto), pp->port, strerror(-ret));
			goto out;
		}
	}
	ret = probe_all(&ph);
	if (ret) {
		snprintf(r->error, sizeof(r->error), "probing failed: %s", strerror(-ret));
		goto out;
	}
	trace_drain(&ph);
	if (ph.trace_overrun)
		pc_warn("some trace events were lost: rule evidence may be missing");
	for (i = 0; i < n; i++) {
		struct pc_preflight_port *pp = &r->ports[ph.pr[i].pi];
		enum pc_verdict v = ph.pr[i].ok ? PC_VERDICT_REACHABLE : PC_VERDICT_BLOCKED;

		if (baseline) {
			pp->baseline_verdict = v;
			continue;
		}
		pp->verdict = v;
		pp->failure = ph.pr[i].fail;
	}
	if (!baseline) {
		if (ph.skel)
			bpf_collect(&ph);
		rule_texts(&ph);
	}
out:
	phase_free(&ph);
	return ret;
}

/* ---- the run ---- */

static int cmp_port(const void *a, const void *b)
{
	const struct pc_preflight_port *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->dir != y->dir)
		return x->dir - y->dir;
	return x->port - y->port;
}

static int expand_specs(const struct pc_preflight_opts *o, struct pc_preflight_result *r)
{
	static unsigned char seen[PC_PROTO_MAX][PC_DIR_MAX][PC_NR_PORTS / 8];
	long total = 0;
	int i, p;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < o->nspecs; i++)
		for (p = o->specs[i].first; p <= o->specs[i].last; p++) {
			unsigned char *b = &seen[o->specs[i].proto][o->specs[i].dir][p / 8];

			if (!(*b & (1 << (p % 8)))) {
				*b |= 1 << (p % 8);
				total++;
			}
		}
	if (total == 0) {
		snprintf(r->error, sizeof(r->error), "no ports to test: give at least one -p SPEC");
		return -EINVAL;
	}
	if (total > PC_PREFLIGHT_MAX_PORTS) {
		snprintf(r->error, sizeof(r->error),
			 "too many ports (%ld): preflight tests every port, at most %d per run; "
			 "narrow the ranges or split the run",
			 total, PC_PREFLIGHT_MAX_PORTS);
		return -E2BIG;
	}
	r->ports = calloc(total, sizeof(*r->ports));
	if (!r->ports)
		return -ENOMEM;
	for (int pr = 0; pr < PC_PROTO_MAX; pr++)
		for (int d = 0; d < PC_DIR_MAX; d++)
			for (p = 1; p < PC_NR_PORTS; p++)
				if (seen[pr][d][p / 8] & (1 << (p % 8)))
					r->ports[r->nports++] = (struct pc_preflight_port){
						.proto = pr, .dir = d, .port = p};
	qsort(r->ports, r->nports, sizeof(*r->ports), cmp_port);
	return 0;
}

static int parse_addrs(struct pf_ctx *c)
{
	const struct pc_preflight_opts *o = c->o;
	struct pc_preflight_result *r = c->r;
	int ff = 0, tf = 0;

	if (o->from && (ff = pc_sb_addr_parse(o->from, &c->from)) < 0) {
		snprintf(r->error, sizeof(r->error), "bad --from '%s': an IPv4 or IPv6 address",
			 o->from);
		return -EINVAL;
	}
	if (o->to && (tf = pc_sb_addr_parse(o->to, &c->to)) < 0) {
		snprintf(r->error, sizeof(r->error), "bad --to '%s': an IPv4 or IPv6 address",
			 o->to);
		return -EINVAL;
	}
	if (ff && tf && ff != tf) {
		snprintf(r->error, sizeof(r->error),
			 "--from %s and --to %s are of different families: give two IPv4 or two "
			 "IPv6 addresses",
			 o->from, o->to);
		return -EINVAL;
	}
	c->family = ff ? ff : tf ? tf : AF_INET;
	if (!ff)
		pc_sb_addr_parse(c->family == AF_INET ? "192.0.2.1" : "2001:db8::1", &c->from);
	if (!tf)
		pc_sb_addr_parse(c->family == AF_INET ? "192.0.2.2" : "2001:db8::2", &c->to);
	if (!memcmp(&c->from, &c->to, sizeof(c->from))) {
		snprintf(r->error, sizeof(r->error), "--from and --to are the same address");
		return -EINVAL;
	}
	pc_sb_addr_format(c->family, &c->from, r->from, sizeof(r->from));
	pc_sb_addr_format(c->family, &c->to, r->to, sizeof(r->to));
	return 0;
}

static int check_ruleset(struct pc_preflight_result *r, const struct pc_ruleset *rs,
			 const char *what)
{
	int fd;

	if (!rs->path)
		return rs->text ? 0 : -EINVAL;
	fd = open(rs->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		snprintf(r->error, sizeof(r->error), "cannot read %s %s: %s", what, rs->path,
			 strerror(errno));
		return err;
	}
	close(fd);
	return 0;
}

/* Room for a listener and a client socket per port. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4 * PC_PREFLIGHT_MAX_PORTS) {
		rl.rlim_cur = rl.rlim_max < 4 * PC_PREFLIGHT_MAX_PORTS ? rl.rlim_max
								       : 4 * PC_PREFLIGHT_MAX_PORTS;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int pc_preflight_run(const struct pc_preflight_opts *o, struct pc_preflight_result *r)
{
	struct pf_ctx c = {.o = o, .r = r};
	int *pis = NULL, n, i, d, ret;

	memset(r, 0, sizeof(*r));
	c.timeout_ms = o->timeout_ms ? o->timeout_ms : PF_DEFAULT_TIMEOUT_MS;
	r->has_baseline = o->baseline != NULL;
	ret = parse_addrs(&c);
	if (!ret)
		ret = check_ruleset(r, &o->candidate, "ruleset");
	if (!ret && o->baseline)
		ret = check_ruleset(r, o->baseline, "baseline");
	if (!ret)
		ret = expand_specs(o, r);
	if (ret)
		return ret;
	raise_nofile();
	if (!(o->flags & PC_PREFLIGHT_NO_BPF)) {
		r->bpf_evidence = true;
		if (pc_dropreasons_load(&c.reasons))
			c.reasons = NULL; /* reasons then show as numbers */
	}
	pis = calloc(r->nports, sizeof(*pis));
	if (!pis) {
		ret = -ENOMEM;
		goto out;
	}
	/* The candidate, one sandbox per direction present. */
	for (d = 0; d < PC_DIR_MAX; d++) {
		for (n = 0, i = 0; i < r->nports; i++)
			if (r->ports[i].dir == d)
				pis[n++] = i;
		if (!n)
			continue;
		ret = run_phase(&c, &o->candidate, d, false, pis, n);
		if (ret)
			goto out;
	}
	for (i = 0; i < r->nports; i++)
		r->blocked += r->ports[i].verdict == PC_VERDICT_BLOCKED;
	if (!o->baseline)
		goto out;
	/* The baseline: only what the candidate blocks can be newly blocked. It is loaded
	 * even when nothing is, so that a baseline that does not load is always an error. */
	r->blocked = 0;
	for (d = 0; d < PC_DIR_MAX; d++) {
		for (n = 0, i = 0; i < r->nports; i++)
			if (r->ports[i].dir == d && r->ports[i].verdict == PC_VERDICT_BLOCKED)
				pis[n++] = i;
		if (!n && d > 0)
			continue;
		ret = run_phase(&c, o->baseline, d, true, pis, n);
		if (ret)
			goto out;
	}
	for (i = 0; i < r->nports; i++) {
		if (r->ports[i].verdict != PC_VERDICT_BLOCKED)
			continue;
		if (r->ports[i].baseline_verdict == PC_VERDICT_BLOCKED)
			r->baseline_blocked++;
		else
			r->blocked++;
	}
out:
	free(pis);
	pc_dropreasons_free(c.reasons);
	return ret;
}

void pc_preflight_result_free(struct pc_preflight_result *r)
{
	free(r->ports);
	r->ports = NULL;
	r->nports = 0;
}
