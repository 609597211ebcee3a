/* SPDX-License-Identifier: GPL-2.0 */
/* loader.h: open/load the skeleton with pinned maps, attach XDP (libxdp) or TC ingress and TC egress. */
#ifndef PC_LOADER_H
#define PC_LOADER_H

#include <net/if.h>
#include <stdbool.h>

#define PC_MAX_IFACES 16

enum pc_ingress_hook {
	PC_INGRESS_XDP = 0,
	PC_INGRESS_TC = 1,
};

enum pc_xdp_req {
	PC_XDP_AUTO = 0, /* native, then generic */
	PC_XDP_NATIVE = 1,
	PC_XDP_GENERIC = 2,
};

struct pc_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	bool ingress_attached; /* XDP or TC ingress of ours is on it (attached or adopted) */
	bool egress_attached;
	bool adopted;	     /* found attached by an earlier daemon of this state dir */
	bool clsact_created; /* we created the clsact qdisc: remove it on detach */
	int xdp_mode;	     /* enum xdp_attach_mode actually in use (XDP hook only) */
	unsigned int xdp_prog_id;
	int xdp_fd;	 /* our program, held so detaching needs no lookup by id */
	bool xdp_legacy; /* attached alone, not in libxdp's dispatcher */
};

struct pc_loader_opts {
	const char *state_dir;
	enum pc_ingress_hook ingress;
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
	enum pc_ingress_hook ingress;
	enum pc_xdp_req xdp_req;
	int n_ifaces;
	struct pc_iface ifaces[PC_MAX_IFACES];
	int lock_fd;
	bool drops_attached; /* the kfree_skb tracer runs (ours or adopted), pinned link */
};

/* Checks that need no BPF object: kernel BTF present, privileges. Returns 0 or
 * -errno after printing one line that says what to do. */
int pc_loader_preflight_checks(void);

/* Lock the state dir, mount bpffs under it, open and load the object reusing
 * pinned maps (counters survive restarts), pin new maps. */
int pc_loader_open(struct pc_loader *ld, const struct pc_loader_opts *opts);
/* Attach to every interface or to none: on failure, what this call attached is
 * detached again. Programs of ours already attached (a daemon that crashed)
 * are adopted, not attached twice. */
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
int pc_loader_drops_fd(const struct pc_loader *ld);
int pc_loader_samples_fd(const struct pc_loader *ld); /* pc_drop_samples */

const char *pc_xdp_mode_name(int xdp_attach_mode);
/* Whether detaching at exit must go through libxdp (a dispatcher to rebuild), which
 * needs CAP_SYS_ADMIN and CAP_PERFMON beyond CAP_BPF and CAP_NET_ADMIN. */
bool pc_loader_exit_needs_admin(const struct pc_loader *ld);

#endif
