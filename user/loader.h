/* SPDX-License-Identifier: GPL-2.0 */
/* loader.h: the skeleton with pinned maps; XDP (libxdp) or TC ingress per interface, TC egress. */
#ifndef PC_LOADER_H
#define PC_LOADER_H

#include <net/if.h>
#include <stdbool.h>

#include "hookchoice.h"

#define PC_MAX_IFACES 16

struct pc_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	enum pc_ingress_hook hook; /* XDP or TC: what this interface got */
	enum pc_hook_reason why;
	struct pc_link_facts facts; /* driver, kind, offloads; a foreign XDP program */
	bool ingress_attached;	    /* XDP or TC ingress of ours is on it (attached or adopted) */
	bool egress_attached;
	bool adopted;	      /* found attached by an earlier daemon of this state dir */
	bool ingress_adopted; /* ... the ingress program itself */
	bool clsact_created;  /* we created the clsact qdisc: remove it on detach */
	int xdp_mode;	      /* enum xdp_attach_mode actually in use (XDP hook only) */
	unsigned int xdp_prog_id;
	int xdp_fd;	 /* our program, held so detaching needs no lookup by id */
	bool xdp_legacy; /* attached alone, not in libxdp's dispatcher */
	/* An earlier daemon's ingress program on the other hook, taken off once ours runs. */
	unsigned int old_xdp_id;
	int old_xdp_mode;
	bool old_tc;
};

struct pc_loader_opts {
	const char *state_dir;
	enum pc_ingress_hook ingress; /* AUTO: chosen per interface (hookchoice.h) */
	enum pc_xdp_req xdp_mode;
	unsigned int netns_ino;
};

struct portcanary_bpf;
struct xdp_program;

struct pc_loader {
	struct portcanary_bpf *skel;
	struct xdp_program *xdp; /* our XDP program as libxdp knows it */
	char state_dir[256];
	char pin_dir[300];
	enum pc_ingress_hook ingress; /* as asked; each interface's own is in ifaces[] */
	enum pc_xdp_req xdp_req;
	int n_ifaces;
	struct pc_iface ifaces[PC_MAX_IFACES];
	int lock_fd;
	bool drops_attached; /* the kfree_skb tracer runs (ours or adopted), pinned link */
};

/* Make the object fit this host, between open and load; every user of the skeleton calls
 * it. Sizes the maps (the counters array holds PC_MAX_SLOTS entries per possible CPU, the
 * drop counts PC_MAX_DROP_KEYS) and, where the kernel can (5.18), lets the XDP program take
 * multi-buffer frames (pc_bpf_xdp_frags). 0 or -errno. */
int pc_bpf_prepare(struct portcanary_bpf *skel);
/* Whether this kernel runs XDP programs on multi-buffer frames (jumbo MTUs): probed once. */
bool pc_bpf_xdp_frags(void);

/* Checks that need no BPF object: kernel BTF present, privileges. Returns 0 or
 * -errno after printing one line that says what to do. */
int pc_loader_preflight_checks(void);

/* Lock the state dir, mount bpffs under it, open and load the object reusing
 * pinned maps (counters survive restarts), pin new maps. */
int pc_loader_open(struct pc_loader *ld, const struct pc_loader_opts *opts);
/* Choose each interface's ingress hook (hookchoice.h), then attach to every interface or
 * to none: on failure, what this call attached is detached again. Programs of ours already
 * attached (a daemon that crashed) are adopted, not attached twice; one on the other hook
 * than asked for is replaced once the new one runs. */
int pc_loader_attach(struct pc_loader *ld, char names[][IF_NAMESIZE], int n);
/* Attach the kfree_skb drop tracer through a link pinned in the state dir (so it
 * outlives a crash), or adopt the one an earlier daemon pinned. Failure is not
 * fatal: the caller goes on without drop attribution. */
int pc_loader_attach_drops(struct pc_loader *ld);
/* Detach everything of ours, remove a clsact we created; pinned maps stay. */
void pc_loader_detach(struct pc_loader *ld);
/* Close fds and free; attached programs stay attached (the datapath outlives us). */
void pc_loader_close(struct pc_loader *ld);

int pc_loader_ports_fd(const struct pc_loader *ld);
int pc_loader_counters_fd(const struct pc_loader *ld);
int pc_loader_global_fd(const struct pc_loader *ld);
/* The drop table (see portcanary.h): its counts, and its keys. */
int pc_loader_drops_fd(const struct pc_loader *ld);
int pc_loader_drop_keys_fd(const struct pc_loader *ld);
int pc_loader_samples_fd(const struct pc_loader *ld); /* pc_drop_samples */

const char *pc_xdp_mode_name(int xdp_attach_mode);
/* One sentence: why ifc got its hook. */
void pc_iface_why(const struct pc_iface *ifc, char *buf, size_t len);
/* Whether detaching at exit must go through libxdp (a dispatcher to rebuild), which
 * needs CAP_SYS_ADMIN and CAP_PERFMON beyond CAP_BPF and CAP_NET_ADMIN. */
bool pc_loader_exit_needs_admin(const struct pc_loader *ld);

#endif
