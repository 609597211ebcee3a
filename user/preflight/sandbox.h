/* SPDX-License-Identifier: GPL-2.0 */
/* sandbox.h: a throwaway pair of anonymous network namespaces joined by a veth pair. */
#ifndef PC_SANDBOX_H
#define PC_SANDBOX_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * Two network namespaces that have no name: each is held only by a file descriptor
 * of this process, so when the process ends, however it ends (SIGKILL included),
 * the kernel drops the last reference and deletes both namespaces with their veth
 * pair, addresses, rulesets and sockets. Nothing is ever created in the caller's own
 * namespace; commands run inside with pc_sandbox_exec() die with their parent.
 *
 * The namespace and the current thread: entering a sandbox namespace (setns) changes
 * only the calling thread, and every function here returns the thread to the
 * namespace it was in when pc_sandbox_create() ran. Use one sandbox per thread.
 */

/* The two sides. HOST plays the host under test (it carries the ruleset); PEER is
 * the rest of the network. */
enum pc_sb_side {
	PC_SB_HOST = 0,
	PC_SB_PEER = 1,
};

union pc_sb_addr {
	struct in_addr v4;
	struct in6_addr v6;
};

struct pc_sandbox_cfg {
	int family;		     /* AF_INET or AF_INET6 */
	union pc_sb_addr addr[2];    /* by side; each a /32 (/128) with a route to the other */
	char ifname[2][IF_NAMESIZE]; /* veth name on each side */
};

struct pc_sandbox {
	int orig_fd;  /* the calling thread's namespace, to return to */
	int ns_fd[2]; /* by side: the only references to the namespaces */
	unsigned int ns_ino[2];
	struct pc_sandbox_cfg cfg;
};

/* Build both namespaces, the veth pair (fixed MACs, static neighbour entries so no
 * ARP/NDP is needed, IPv6 without DAD), loopback up. Returns 0 or -errno (-EPERM: no
 * CAP_SYS_ADMIN/CAP_NET_ADMIN), with a one-line reason in err. */
int pc_sandbox_create(struct pc_sandbox *sb, const struct pc_sandbox_cfg *cfg, char *err,
		      size_t errlen);
/* The pieces pc_sandbox_create() is made of, for a sandbox that grows on demand (the
 * daemon's long-lived copy of the live ruleset). All return 0 or -errno. */
/* Both namespaces, loopback up in each, nothing else. */
int pc_sandbox_open(struct pc_sandbox *sb, char *err, size_t errlen);
/* A veth pair, up: `host` in the host namespace, `peer` in the peer one. Pair n has the
 * MACs pc_sandbox_mac(side, n). */
int pc_sandbox_add_veth(const struct pc_sandbox *sb, const char *host, const char *peer, int pair);
/* An address (/32 or /128, IPv6 without DAD) on an interface of a side. */
int pc_sandbox_add_addr(const struct pc_sandbox *sb, enum pc_sb_side side, const char *ifname,
			int family, const union pc_sb_addr *a);
/* A host route to `to` through an interface of pair `pair` (replacing any), with a static
 * neighbour entry for it: the other end's MAC, so no ARP/NDP is needed. */
int pc_sandbox_route(const struct pc_sandbox *sb, enum pc_sb_side side, const char *ifname,
		     int pair, int family, const union pc_sb_addr *to);
void pc_sandbox_mac(enum pc_sb_side side, int pair, unsigned char mac[6]);
/* Close the namespaces: they vanish once no socket of ours uses them any more. */
void pc_sandbox_destroy(struct pc_sandbox *sb);

/* Move the calling thread into a side / back to where it was. 0 or -errno. */
int pc_sandbox_enter(const struct pc_sandbox *sb, enum pc_sb_side side);
int pc_sandbox_leave(const struct pc_sandbox *sb);
/* A socket that lives in a side's namespace. Returns the fd or -errno. */
int pc_sandbox_socket(const struct pc_sandbox *sb, enum pc_sb_side side, int domain, int type,
		      int protocol);
/* Run argv (PATH lookup) inside a side, stdin from `in` (NULL: /dev/null), stdout and
 * stderr captured into out (NUL-terminated, truncated). The child is killed if we die.
 * Returns its exit status (0..255), or -errno when it could not run. */
int pc_sandbox_exec(const struct pc_sandbox *sb, enum pc_sb_side side, char *const argv[],
		    const char *in, char *out, size_t outlen);

/* A socket listening to the nftables trace events (NFNLGRP_NFTRACE) of the host side,
 * non-blocking, with a large buffer; NULL with *err = -errno. */
struct mnl_socket;
struct mnl_socket *pc_sandbox_trace_socket(const struct pc_sandbox *sb, int *err);

/* An address and port as a sockaddr; returns its length. */
struct sockaddr_storage;
socklen_t pc_sb_sockaddr(int family, const union pc_sb_addr *a, uint16_t port,
			 struct sockaddr_storage *ss);
/* Parse an IPv4 or IPv6 address; returns the family or -EINVAL. */
int pc_sb_addr_parse(const char *s, union pc_sb_addr *a);
void pc_sb_addr_format(int family, const union pc_sb_addr *a, char *buf, size_t len);

#endif
