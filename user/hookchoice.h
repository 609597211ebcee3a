/* SPDX-License-Identifier: GPL-2.0 */
/* hookchoice.h: which ingress hook (XDP, TC) each interface gets, and why: pure rule, no I/O. */
#ifndef PC_HOOKCHOICE_H
#define PC_HOOKCHOICE_H

#include <stdbool.h>
#include <stddef.h>

/* The ingress hook an interface gets, or was asked for (AUTO: chosen per interface). */
enum pc_ingress_hook {
	PC_INGRESS_AUTO = 0,
	PC_INGRESS_XDP = 1,
	PC_INGRESS_TC = 2,
};

/* The XDP mode asked for (--xdp-mode). */
enum pc_xdp_req {
	PC_XDP_AUTO = 0, /* with --ingress-hook xdp: native, then generic */
	PC_XDP_NATIVE = 1,
	PC_XDP_GENERIC = 2,
};

/* What the kernel says of an interface (read by linkfacts.c). Strings are "" when unknown. */
struct pc_link_facts {
	char driver[32]; /* ETHTOOL_GDRVINFO: veth, virtio_net, mlx5_core ... */
	char kind[32];	 /* rtnetlink IFLA_INFO_KIND: set for software devices (veth, bridge ...) */
	bool loopback;
	bool lro;	       /* large-receive-offload on */
	bool gro_hw;	       /* rx-gro-hw on (hardware or paravirtual receive coalescing) */
	char foreign_xdp[128]; /* another program holding the XDP hook, described; "" if none */
	bool foreign_unshared; /* ... attached alone, so that ours cannot join it */
};

/* Why an interface got its hook: a stable code (status, metric label) and a sentence (log). */
enum pc_hook_reason {
	PC_WHY_OPTION_TC,      /* --ingress-hook tc */
	PC_WHY_OPTION_XDP,     /* --ingress-hook xdp or --xdp-mode native|generic */
	PC_WHY_VETH,	       /* native XDP takes GSO/TSO off the peer */
	PC_WHY_VIRTIO,	       /* XDP clears virtio-net's guest offloads, or is refused */
	PC_WHY_VIRTUAL,	       /* a software device: generic XDP only, or batching lost */
	PC_WHY_LOOPBACK,       /* lo: generic XDP only */
	PC_WHY_NO_DRIVER,      /* no ethtool driver info: nothing says XDP is free here */
	PC_WHY_HW_COALESCING,  /* LRO or rx-gro-hw on: XDP turns it off (or is refused) */
	PC_WHY_FOREIGN_XDP,    /* another XDP program holds the hook alone */
	PC_WHY_NATIVE_XDP,     /* a NIC whose driver keeps its offloads with XDP */
	PC_WHY_NATIVE_REFUSED, /* native XDP was tried and refused by the driver */
	PC_WHY_ADOPTED,	       /* kept what an earlier daemon of this state dir attached */
	PC_WHY_MAX,
};

struct pc_hook_choice {
	enum pc_ingress_hook hook; /* XDP or TC, never AUTO */
	/* XDP modes to try in order (enum xdp_attach_mode values, XDP_MODE_NATIVE/SKB). */
	int modes[2];
	int n_modes;
	bool tc_if_refused; /* auto: if every XDP mode is refused, TC ingress instead of failing */
	enum pc_hook_reason why;
};

/* The choice for one interface, given what was asked for and what the kernel says of it.
 * An explicit option always wins: --xdp-mode native|generic attaches XDP in that mode,
 * --ingress-hook xdp attaches XDP (native, then generic), --ingress-hook tc attaches TC.
 * With both at auto: native XDP only on a NIC that keeps its offloads with XDP attached,
 * TC ingress everywhere else (see hookchoice.c for each case's reason). */
struct pc_hook_choice pc_hook_choose(enum pc_ingress_hook hook, enum pc_xdp_req mode,
				     const struct pc_link_facts *f);
/* Whether options contradict each other (--ingress-hook tc with --xdp-mode native|generic). */
bool pc_hook_options_conflict(enum pc_ingress_hook hook, enum pc_xdp_req mode);
/* May an earlier daemon's ingress program (hook, XDP mode) stay, under these options? With
 * both at auto yes (no gap, no double count after a crash); else only if it is what they ask. */
bool pc_hook_keep_adopted(enum pc_ingress_hook hook, enum pc_xdp_req mode,
			  enum pc_ingress_hook found, int found_xdp_mode);

const char *pc_hook_reason_code(enum pc_hook_reason why);
/* One sentence: why this hook on this interface (names the driver or kind from f). */
void pc_hook_reason_text(enum pc_hook_reason why, const struct pc_link_facts *f, char *buf,
			 size_t len);
const char *pc_ingress_hook_name(enum pc_ingress_hook hook); /* auto|xdp|tc */

#endif
