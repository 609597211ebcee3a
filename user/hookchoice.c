// SPDX-License-Identifier: GPL-2.0
/* hookchoice.c: the rule that picks XDP or TC ingress per interface, and the reasons it gives. */
#include <stdio.h>
#include <string.h>
#include <xdp/libxdp.h>

#include "hookchoice.h"

static const char *const reason_codes[PC_WHY_MAX] = {
	[PC_WHY_OPTION_TC] = "option",
	[PC_WHY_OPTION_XDP] = "option",
	[PC_WHY_VETH] = "veth",
	[PC_WHY_VIRTIO] = "virtio_net",
	[PC_WHY_VIRTUAL] = "software_device",
	[PC_WHY_LOOPBACK] = "loopback",
	[PC_WHY_NO_DRIVER] = "no_driver_info",
	[PC_WHY_HW_COALESCING] = "hw_coalescing",
	[PC_WHY_FOREIGN_XDP] = "foreign_xdp",
	[PC_WHY_NATIVE_XDP] = "native_xdp",
	[PC_WHY_NATIVE_REFUSED] = "native_xdp_refused",
	[PC_WHY_ADOPTED] = "adopted",
};

const char *pc_hook_reason_code(enum pc_hook_reason why)
{
	return why >= 0 && why < PC_WHY_MAX ? reason_codes[why] : "unknown";
}

const char *pc_ingress_hook_name(enum pc_ingress_hook hook)
{
	switch (hook) {
	case PC_INGRESS_XDP:
		return "xdp";
	case PC_INGRESS_TC:
		return "tc";
	default:
		return "auto";
	}
}

bool pc_hook_options_conflict(enum pc_ingress_hook hook, enum pc_xdp_req mode)
{
	return hook == PC_INGRESS_TC && mode != PC_XDP_AUTO;
}

static struct pc_hook_choice tc(enum pc_hook_reason why)
{
	return (struct pc_hook_choice){.hook = PC_INGRESS_TC, .why = why};
}

struct pc_hook_choice pc_hook_choose(enum pc_ingress_hook hook, enum pc_xdp_req mode,
				     const struct pc_link_facts *f)
{
	struct pc_hook_choice c = {.hook = PC_INGRESS_XDP, .why = PC_WHY_OPTION_XDP};

	if (hook == PC_INGRESS_TC)
		return tc(PC_WHY_OPTION_TC);
	if (mode != PC_XDP_AUTO || hook == PC_INGRESS_XDP) {
		if (mode != PC_XDP_GENERIC)
			c.modes[c.n_modes++] = XDP_MODE_NATIVE;
		if (mode != PC_XDP_NATIVE)
			c.modes[c.n_modes++] = XDP_MODE_SKB;
		return c;
	}
	/* Both at auto. An observer that never drops gains nothing from XDP that TC ingress
	 * would not give it, except seeing frames before GRO and before a later XDP program;
	 * so XDP only where it costs the interface nothing. */
	if (f->loopback)
		return tc(PC_WHY_LOOPBACK);
	/* veth_xdp_set() takes NETIF_F_GSO_SOFTWARE off the peer: it sends MTU-sized segments. */
	if (!strcmp(f->kind, "veth") || !strcmp(f->driver, "veth"))
		return tc(PC_WHY_VETH);
	/* Software devices (bridge, bond, vxlan, macvlan, tun ...) have no native XDP or run it
	 * on copies of coalesced skbs; generic XDP linearizes every nonlinear skb and turns off
	 * LRO and rx-gro-hw (generic_xdp_install()). TC ingress sees the same skbs for free. */
	if (f->kind[0])
		return tc(PC_WHY_VIRTUAL);
	/* virtnet_xdp_set() clears the guest offloads, or refuses XDP where they cannot change. */
	if (!strcmp(f->driver, "virtio_net"))
		return tc(PC_WHY_VIRTIO);
	if (!f->driver[0])
		return tc(PC_WHY_NO_DRIVER);
	/* Drivers turn hardware receive coalescing off for XDP (bnxt, ixgbe, hv_netvsc) or
	 * refuse XDP while it is on (mlx5). */
	if (f->lro || f->gro_hw)
		return tc(PC_WHY_HW_COALESCING);
	if (f->foreign_xdp[0] && f->foreign_unshared)
		return tc(PC_WHY_FOREIGN_XDP);
	c.modes[c.n_modes++] = XDP_MODE_NATIVE;
	c.tc_if_refused = true;
	c.why = PC_WHY_NATIVE_XDP;
	return c;
}

bool pc_hook_keep_adopted(enum pc_ingress_hook hook, enum pc_xdp_req mode,
			  enum pc_ingress_hook found, int found_xdp_mode)
{
	if (hook == PC_INGRESS_TC)
		return found == PC_INGRESS_TC;
	if (mode == PC_XDP_NATIVE)
		return found == PC_INGRESS_XDP && found_xdp_mode == XDP_MODE_NATIVE;
	if (mode == PC_XDP_GENERIC)
		return found == PC_INGRESS_XDP && found_xdp_mode == XDP_MODE_SKB;
	if (hook == PC_INGRESS_XDP)
		return found == PC_INGRESS_XDP;
	return true;
}

void pc_hook_reason_text(enum pc_hook_reason why, const struct pc_link_facts *f, char *buf,
			 size_t len)
{
	const char *drv = f->driver[0] ? f->driver : "the driver";

	switch (why) {
	case PC_WHY_OPTION_TC:
		snprintf(buf, len, "--ingress-hook tc asks for it");
		break;
	case PC_WHY_OPTION_XDP:
		snprintf(buf, len, "--ingress-hook xdp or --xdp-mode asks for XDP");
		break;
	case PC_WHY_VETH:
		snprintf(buf, len,
			 "native XDP on veth would take TSO/GSO off its peer (bulk TCP "
			 "2-4x slower); TC ingress runs after GRO");
		break;
	case PC_WHY_VIRTIO:
		snprintf(buf, len,
			 "XDP on virtio_net clears the guest offloads (LRO) or is refused; "
			 "TC ingress keeps them");
		break;
	case PC_WHY_VIRTUAL:
		snprintf(buf, len,
			 "%s is a software device: XDP there runs generic or on copies of "
			 "coalesced packets; TC ingress sees the same packets without that cost",
			 f->kind[0] ? f->kind : "it");
		break;
	case PC_WHY_LOOPBACK:
		snprintf(buf, len,
			 "loopback has generic XDP only; TC ingress sees the same packets");
		break;
	case PC_WHY_NO_DRIVER:
		snprintf(buf, len,
			 "ethtool gives no driver, so nothing says XDP is free here; TC "
			 "ingress cannot cost offloads");
		break;
	case PC_WHY_HW_COALESCING:
		snprintf(buf, len,
			 "%s has %s on, which XDP would turn off (or the driver refuses XDP); TC "
			 "ingress keeps it",
			 drv,
			 f->lro && f->gro_hw ? "LRO and rx-gro-hw"
			 : f->lro	     ? "LRO"
					     : "rx-gro-hw");
		break;
	case PC_WHY_FOREIGN_XDP:
		snprintf(buf, len, "XDP program %s holds the XDP hook and cannot be shared",
			 f->foreign_xdp[0] ? f->foreign_xdp : "of another tool");
		break;
	case PC_WHY_NATIVE_XDP:
		snprintf(buf, len,
			 "%s has native XDP and no receive coalescing for XDP to turn off", drv);
		break;
	case PC_WHY_NATIVE_REFUSED:
		snprintf(buf, len,
			 "%s refused native XDP, and generic XDP would cost more than TC ingress",
			 drv);
		break;
	case PC_WHY_ADOPTED:
		snprintf(buf, len,
			 "an earlier daemon of this state dir attached it and it was kept "
			 "(no gap, no double count; stop and start again to re-choose)");
		break;
	default:
		snprintf(buf, len, "unknown reason");
	}
}
