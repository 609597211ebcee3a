// SPDX-License-Identifier: GPL-2.0
/* loader.c: pinned maps, XDP (libxdp) or TC ingress per interface, TC egress, adoption. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/capability.h>
#include <xdp/libxdp.h>

#include "portcanary.h"
#include "portcanary.skel.h"
#include "linkfacts.h"
#include "loader.h"
#include "log.h"
#include "pinned.h"

/* Our TC filters: a fixed handle, priority 1 so they run at the head of the chain. */
#define PC_TC_HANDLE   0x7063
#define PC_TC_PRIO     1
#define PC_STATE_FILE  "interfaces"
#define PC_LAYOUT_FILE "layout"
#define PC_DROPS_LINK  "link_kfree_skb"

const char *pc_xdp_mode_name(int mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_SKB:
		return "generic";
	case XDP_MODE_HW:
		return "offload";
	default:
		return "none";
	}
}

static const char *kernel_btf_path(void)
{
	const char *p = getenv("PORTCANARY_KERNEL_BTF");

	return p && *p ? p : "/sys/kernel/btf/vmlinux";
}

static bool have_cap(cap_t caps, cap_value_t cap)
{
	cap_flag_value_t v = CAP_CLEAR;

	if (cap_get_flag(caps, cap, CAP_EFFECTIVE, &v))
		return false;
	return v == CAP_SET;
}

bool pc_bpf_xdp_frags(void)
{
	static int probed = -1;

	/* the helper and the load flag came together (5.18, "xdp: multi-buffer support") */
	if (probed < 0)
		probed = libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_get_buff_len,
						 NULL) == 1;
	return probed;
}

int pc_bpf_prepare(struct portcanary_bpf *skel)
{
	struct bpf_program *xdp = skel->progs.pc_xdp_ingress;
	int ncpus = libbpf_num_possible_cpus();

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	/*
	 * Multi-buffer frames (an MTU above a page, receive coalescing into XDP): a driver
	 * refuses a program without the flag at such an MTU, and refuses raising the MTU while
	 * one is attached (veth caps its peer's). The program reads the headers from the
	 * first buffer and the length from the kernel (bpf/portcanary.bpf.c: pc_xdp_len). Set
	 * here, not by the section name ("xdp.frags"), so that an older kernel still loads it.
	 */
	if (pc_bpf_xdp_frags() &&
	    bpf_program__set_flags(xdp, bpf_program__flags(xdp) | BPF_F_XDP_HAS_FRAGS))
		return -EINVAL;
	return bpf_map__set_max_entries(skel->maps.pc_counters, (__u32)ncpus * PC_MAX_SLOTS)
		       ?: bpf_map__set_max_entries(skel->maps.pc_drops,
						   (__u32)ncpus * PC_MAX_DROP_KEYS);
}

int pc_loader_preflight_checks(void)
{
	const char *btf = kernel_btf_path();
	bool bpf_ok, net_ok;
	cap_t caps;

	if (access(btf, R_OK)) {
		pc_err("kernel BTF not found at %s: portcanary needs a kernel built with "
		       "CONFIG_DEBUG_INFO_BTF=y (or PORTCANARY_KERNEL_BTF=FILE with this kernel's "
		       "BTF)",
		       btf);
		return -ENOENT;
	}
	caps = cap_get_proc();
	if (!caps) {
		pc_err("cannot read this process's capabilities: %s", strerror(errno));
		return -EPERM;
	}
	bpf_ok = have_cap(caps, CAP_BPF) || have_cap(caps, CAP_SYS_ADMIN);
	net_ok = have_cap(caps, CAP_NET_ADMIN);
	cap_free(caps);
	if (!bpf_ok || !net_ok) {
		pc_err("permission denied: loading and attaching BPF programs needs %s%s%s; "
		       "run as root (sudo portcanary run ...) or from the systemd unit",
		       bpf_ok ? "" : "CAP_BPF", !bpf_ok && !net_ok ? " and " : "",
		       net_ok ? "" : "CAP_NET_ADMIN");
		return -EPERM;
	}
	return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[512];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

/* The pins live on a bpffs mounted inside the state dir, so that a state dir
 * is self-contained (tests run several daemons side by side). */
static int ensure_bpffs(const char *dir)
{
	struct statfs st;
	int err;

	err = mkdir_p(dir, 0700);
	if (err) {
		pc_err("cannot create %s: %s", dir, strerror(-err));
		return err;
	}
	if (statfs(dir, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", dir, "bpf", 0, "mode=0700")) {
		err = -errno;
		pc_err("cannot mount bpffs on %s: %s (needs CAP_SYS_ADMIN, or mount it beforehand: "
		       "mount -t bpf bpf %s)",
		       dir, strerror(errno), dir);
		return err;
	}
	pc_debug("mounted bpffs on %s", dir);
	return 0;
}

static int lock_state_dir(struct pc_loader *ld)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/lock", ld->state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		pc_err("cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		pc_err("another portcanary daemon is running with state dir %s "
		       "(stop it, or give this one its own --state-dir)",
		       ld->state_dir);
		close(fd);
		return -EBUSY;
	}
	ld->lock_fd = fd;
	return 0;
}

static int pin_maps(struct pc_loader *ld)
{
	struct {
		struct bpf_map *map;
		const char *pin;
	} maps[] = {
		/* the port table is the object's global data: pinned under a name of its own */
		{ld->skel->maps.bss, PC_PIN_PORTS},
		{ld->skel->maps.pc_counters, PC_PIN_COUNTERS},
		{ld->skel->maps.pc_global, PC_PIN_GLOBAL},
		{ld->skel->maps.pc_drops, PC_PIN_DROPS},
		{ld->skel->maps.pc_drop_keys, PC_PIN_DROP_KEYS},
		{ld->skel->maps.pc_drop_samples, PC_PIN_DROP_SAMPLES},
	};
	char path[600];
	size_t i;
	int err;

	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", ld->pin_dir, maps[i].pin);
		err = bpf_map__set_pin_path(maps[i].map, path);
		if (err)
			return err;
	}
	return 0;
}

/* Whether <state-dir>/layout names another layout than this build's (absent: no). */
static bool layout_version_differs(const struct pc_loader *ld)
{
	char path[512];
	int v = PC_LAYOUT_VERSION;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", ld->state_dir, PC_LAYOUT_FILE);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fscanf(f, "portcanary map layout %d", &v) != 1)
		v = -1;
	fclose(f);
	return v != PC_LAYOUT_VERSION;
}

static void write_layout_version(const struct pc_loader *ld)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", ld->state_dir, PC_LAYOUT_FILE);
	f = fopen(path, "w");
	if (!f || fprintf(f, "portcanary map layout %d\n", PC_LAYOUT_VERSION) < 0 || fclose(f))
		pc_warn("cannot write %s: %s", path, strerror(errno));
}

static void detach_stale_programs(struct pc_loader *ld, const __u32 *stale, int n);

/*
 * Pinned maps of another build (a layout changed) are replaced, never misread; the programs
 * an earlier daemon of that build left counting into them, and its drop tracer, are
 * detached, so that nothing counts into maps nobody reads.
 */
static int replace_stale_pins(struct pc_loader *ld)
{
	__u32 stale[8];
	char path[600];
	int n;

	n = pc_pinned_check(ld->skel->obj, layout_version_differs(ld), stale, 8);
	if (n <= 0)
		return n;
	snprintf(path, sizeof(path), "%s/%s", ld->pin_dir, PC_DROPS_LINK);
	if (!unlink(path))
		pc_info("removed the drop tracer of the earlier build");
	detach_stale_programs(ld, stale, n < 8 ? n : 8);
	return 0;
}

int pc_loader_open(struct pc_loader *ld, const struct pc_loader_opts *opts)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	/* XDP may be needed unless TC is asked for; TC ingress unless XDP is. */
	bool xdp = opts->ingress != PC_INGRESS_TC;
	bool tc_in = opts->ingress != PC_INGRESS_XDP && opts->xdp_mode == PC_XDP_AUTO;
	int err;

	memset(ld, 0, sizeof(*ld));
	ld->lock_fd = -1;
	ld->ingress = opts->ingress;
	ld->xdp_req = opts->xdp_mode;
	snprintf(ld->state_dir, sizeof(ld->state_dir), "%s", opts->state_dir);
	snprintf(ld->pin_dir, sizeof(ld->pin_dir), "%s/bpf", opts->state_dir);

	err = mkdir_p(ld->state_dir, 0700);
	if (err) {
		pc_err("cannot create state dir %s: %s", ld->state_dir, strerror(-err));
		return err;
	}
	err = lock_state_dir(ld);
	if (err)
		return err;
	err = ensure_bpffs(ld->pin_dir);
	if (err)
		goto err_unlock;

	if (getenv("PORTCANARY_KERNEL_BTF"))
		oopts.btf_custom_path = kernel_btf_path();
	ld->skel = portcanary_bpf__open_opts(&oopts);
	if (!ld->skel) {
		err = -errno;
		pc_err("cannot open the BPF object: %s", strerror(-err));
		goto err_unlock;
	}
	ld->skel->rodata->pc_cfg.netns_ino = opts->netns_ino;
	err = pc_bpf_prepare(ld->skel);
	if (err) {
		pc_err("cannot prepare the BPF object for this host (map sizes, XDP flags): %s",
		       strerror(-err));
		goto err_close;
	}
	bpf_program__set_autoload(ld->skel->progs.pc_xdp_ingress, xdp);
	bpf_program__set_autoload(ld->skel->progs.pc_tc_ingress, tc_in);
	err = pin_maps(ld);
	if (err) {
		pc_err("cannot set pin paths under %s: %s", ld->pin_dir, strerror(-err));
		goto err_close;
	}
	err = replace_stale_pins(ld);
	if (err)
		goto err_close;
	/* With XDP the object is loaded by libxdp at the first attach: to run in
	 * its dispatcher the program must be loaded as an extension of it. */
	if (xdp) {
		DECLARE_LIBXDP_OPTS(xdp_program_opts, xopts, .obj = ld->skel->obj,
				    .prog_name = PC_PROG_XDP);

		setenv(XDP_BPFFS_MOUNT_ENVVAR, "1", 0);
		/* libxdp reads the frags flag (pc_bpf_prepare) here: a dispatcher of frags-aware
		 * programs is loaded frags-aware */
		ld->xdp = xdp_program__create(&xopts);
		err = libxdp_get_error(ld->xdp);
		if (err) {
			ld->xdp = NULL;
			pc_err("libxdp cannot use the XDP program: %s", strerror(-err));
			goto err_close;
		}
	}
	return 0;

err_close:
	portcanary_bpf__destroy(ld->skel);
	ld->skel = NULL;
err_unlock:
	close(ld->lock_fd);
	ld->lock_fd = -1;
	return err;
}

static bool object_loaded(const struct pc_loader *ld)
{
	return bpf_map__fd(ld->skel->maps.pc_counters) >= 0;
}

static int load_object(struct pc_loader *ld)
{
	int err;

	if (object_loaded(ld))
		return 0;
	/* Loading the XDP program is libxdp's business (see pc_loader_open). */
	bpf_program__set_autoload(ld->skel->progs.pc_xdp_ingress, false);
	err = portcanary_bpf__load(ld->skel);
	if (err) {
		pc_err("cannot load the BPF programs: %s (run with -v for the verifier log)",
		       strerror(-err));
		return err;
	}
	return 0;
}

/* The id of a pinned map of ours, or 0 when there is no pin yet. */
static unsigned int pinned_map_id(const struct pc_loader *ld, const char *name)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ld->pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

/* Name of a program, and whether it is the program `name` using our counters map. */
static bool prog_is_ours(unsigned int prog_id, const char *name, unsigned int map_id, char *pname,
			 size_t plen)
{
	__u32 map_ids[16] = {}, len, i;
	struct bpf_prog_info info;
	bool ours = false;
	int fd;

	snprintf(pname, plen, "id %u", prog_id);
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return false;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 16;
	info.map_ids = (__u64)(unsigned long)map_ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
		snprintf(pname, plen, "%s", info.name);
		if (!strcmp(info.name, name) && map_id)
			for (i = 0; i < info.nr_map_ids && i < 16; i++)
				if (map_ids[i] == map_id)
					ours = true;
	}
	close(fd);
	return ours;
}

/* What holds the XDP hook of ifindex: sets *ours_id when it is our program
 * (alone or in libxdp's dispatcher), else describes the foreign programs. */
static int xdp_inspect(const struct pc_loader *ld, int ifindex, unsigned int map_id,
		       unsigned int *ours_id, int *mode, bool *legacy, char *foreign, size_t flen)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	char name[64];
	size_t off = 0;

	(void)ld;
	*ours_id = 0;
	foreign[0] = '\0';
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp))
		return 0; /* nothing attached */
	*mode = xdp_multiprog__attach_mode(mp);
	*legacy = xdp_multiprog__is_legacy(mp);
	if (*legacy) {
		p = xdp_multiprog__main_prog(mp);
		if (prog_is_ours(xdp_program__id(p), PC_PROG_XDP, map_id, name, sizeof(name)))
			*ours_id = xdp_program__id(p);
		else
			snprintf(foreign, flen, "'%s' (id %u)", name, xdp_program__id(p));
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p;
		     p = xdp_multiprog__next_prog(p, mp)) {
			if (prog_is_ours(xdp_program__id(p), PC_PROG_XDP, map_id, name,
					 sizeof(name)))
				*ours_id = xdp_program__id(p);
			else if (off < flen)
				off += snprintf(foreign + off, flen - off, "%s'%s' (id %u)",
						off ? ", " : "", xdp_program__name(p),
						xdp_program__id(p));
		}
	}
	xdp_multiprog__close(mp);
	return 1;
}

static void detach_old_ingress(struct pc_loader *ld, struct pc_iface *ifc);

/* Try the choice's XDP modes in order. Under auto, a driver that refuses native XDP gets TC
 * ingress instead (generic XDP would cost it more than TC); an explicit request fails. */
static int xdp_attach_one(struct pc_loader *ld, struct pc_iface *ifc,
			  const struct pc_hook_choice *c)
{
	const char *foreign = ifc->facts.foreign_xdp;
	char ebuf[128] = "";
	int i, err = -EINVAL;

	/* Ours in another mode: one hook holds one program (native and generic cannot both be
	 * active), so this switch goes off before on. */
	if (ifc->old_xdp_id)
		detach_old_ingress(ld, ifc);
	for (i = 0; i < c->n_modes; i++) {
		err = xdp_program__attach(ld->xdp, ifc->ifindex, c->modes[i], 0);
		if (!err)
			break;
		libxdp_strerror(err, ebuf, sizeof(ebuf));
		if (foreign[0] && (err == -EBUSY || err == -EEXIST) && !c->tc_if_refused) {
			pc_err("%s: XDP program %s is attached %s and cannot be shared; portcanary "
			       "will not replace it: use --ingress-hook tc to count ingress at TC",
			       ifc->name, foreign,
			       ifc->facts.foreign_unshared
				       ? "without libxdp's dispatcher"
				       : "in a dispatcher that refused another program");
			return err;
		}
		pc_info("%s: XDP %s mode failed: %s%s", ifc->name, pc_xdp_mode_name(c->modes[i]),
			ebuf, i + 1 < c->n_modes ? "; trying generic" : "");
	}
	if (err && c->tc_if_refused) {
		ifc->hook = PC_INGRESS_TC;
		ifc->why = foreign[0] ? PC_WHY_FOREIGN_XDP : PC_WHY_NATIVE_REFUSED;
		return 0;
	}
	if (err) {
		pc_err("%s: cannot attach the XDP program: %s%s", ifc->name, ebuf,
		       foreign[0] ? " (another XDP program is attached)" : "");
		return err;
	}
	ifc->ingress_attached = true;
	ifc->xdp_mode = c->modes[i];
	ifc->xdp_prog_id = xdp_program__id(ld->xdp);
	ifc->xdp_fd = fcntl(xdp_program__fd(ld->xdp), F_DUPFD_CLOEXEC, 0);
	{
		unsigned int id;
		int mode;
		char f[8];

		xdp_inspect(ld, ifc->ifindex, 0, &id, &mode, &ifc->xdp_legacy, f, sizeof(f));
	}
	pc_info("%s: XDP attached in %s mode%s", ifc->name, pc_xdp_mode_name(c->modes[i]),
		foreign[0] ? " beside other programs in libxdp's dispatcher" : "");
	return 0;
}

static int xdp_detach_one(struct pc_loader *ld, struct pc_iface *ifc)
{
	struct xdp_program *p = NULL;
	int err;

	if (!ifc->xdp_prog_id)
		return 0;
	if (ifc->xdp_legacy && ifc->xdp_fd >= 0) {
		/* Alone on the hook: replace exactly our program by nothing. Netlink with
		 * the fd we hold needs only CAP_NET_ADMIN (no lookup by id). */
		LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = ifc->xdp_fd);
		__u32 flags =
			XDP_FLAGS_REPLACE | (ifc->xdp_mode == XDP_MODE_SKB	? XDP_FLAGS_SKB_MODE
					     : ifc->xdp_mode == XDP_MODE_NATIVE ? XDP_FLAGS_DRV_MODE
										: 0);

		err = bpf_xdp_detach(ifc->ifindex, flags, &o);
		if (err)
			pc_warn("%s: cannot detach XDP program id %u: %s", ifc->name,
				ifc->xdp_prog_id, strerror(-err));
		close(ifc->xdp_fd);
		ifc->xdp_fd = -1;
		ifc->xdp_prog_id = 0;
		return err;
	}
	if (ld->xdp && xdp_program__id(ld->xdp) == ifc->xdp_prog_id)
		err = xdp_program__detach(ld->xdp, ifc->ifindex, ifc->xdp_mode, 0);
	else {
		p = xdp_program__from_id(ifc->xdp_prog_id);
		err = libxdp_get_error(p);
		if (!err)
			err = xdp_program__detach(p, ifc->ifindex, ifc->xdp_mode, 0);
		if (!libxdp_get_error(p))
			xdp_program__close(p);
	}
	if (err)
		pc_warn("%s: cannot detach XDP program id %u: %s", ifc->name, ifc->xdp_prog_id,
			strerror(-err));
	ifc->xdp_prog_id = 0;
	return err;
}

/* Our TC filter (fixed handle and priority) at pt: 1 when it is our program `name` using our
 * maps, 0 when the slot is free (or the interface has no clsact), -EEXIST when someone else's
 * filter holds it (its name in pname). */
static int tc_find(const struct pc_iface *ifc, enum bpf_tc_attach_point pt, const char *name,
		   unsigned int map_id, char *pname, size_t plen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex, .attach_point = pt);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = PC_TC_HANDLE, .priority = PC_TC_PRIO);

	if (bpf_tc_query(&hook, &q))
		return 0;
	return prog_is_ours(q.prog_id, name, map_id, pname, plen) ? 1 : -EEXIST;
}

static int tc_attach_one(struct pc_loader *ld, struct pc_iface *ifc, enum bpf_tc_attach_point pt,
			 struct bpf_program *prog, unsigned int map_id, bool *attached)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex, .attach_point = pt);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = PC_TC_HANDLE, .priority = PC_TC_PRIO,
		    .prog_fd = bpf_program__fd(prog));
	const char *where = pt == BPF_TC_INGRESS ? "ingress" : "egress";
	char pname[64];
	int err;

	(void)ld;
	err = bpf_tc_hook_create(&hook);
	if (!err)
		ifc->clsact_created = true;
	else if (err != -EEXIST) {
		pc_err("%s: cannot create the clsact qdisc: %s", ifc->name, strerror(-err));
		return err;
	}
	err = tc_find(ifc, pt, bpf_program__name(prog), map_id, pname, sizeof(pname));
	if (err > 0) {
		pc_info("%s: adopted our TC %s program left by an earlier daemon", ifc->name,
			where);
		*attached = true;
		ifc->adopted = true;
		ifc->ingress_adopted |= pt == BPF_TC_INGRESS;
		return 0;
	}
	if (err < 0) {
		pc_err("%s: TC %s filter handle 0x%x priority %d is taken by '%s'; portcanary "
		       "will not replace it",
		       ifc->name, where, PC_TC_HANDLE, PC_TC_PRIO, pname);
		return err;
	}
	err = bpf_tc_attach(&hook, &o);
	if (err) {
		pc_err("%s: cannot attach the TC %s program: %s", ifc->name, where, strerror(-err));
		return err;
	}
	*attached = true;
	pc_info("%s: TC %s attached (clsact, priority %d)", ifc->name, where, PC_TC_PRIO);
	return 0;
}

static void tc_detach_one(struct pc_iface *ifc, enum bpf_tc_attach_point pt)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex, .attach_point = pt);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = PC_TC_HANDLE, .priority = PC_TC_PRIO);
	int err;

	err = bpf_tc_detach(&hook, &o);
	if (err && err != -ENOENT)
		pc_warn("%s: cannot detach TC %s program: %s", ifc->name,
			pt == BPF_TC_INGRESS ? "ingress" : "egress", strerror(-err));
}

/* The earlier daemon's ingress program on the hook this one does not use: taken off only
 * after ours runs, so a hook switch across a restart loses no packet (the two may count the
 * same packet for the moment both are attached). */
static void detach_old_ingress(struct pc_loader *ld, struct pc_iface *ifc)
{
	if (ifc->old_xdp_id) {
		struct pc_iface old = {.ifindex = ifc->ifindex,
				       .xdp_prog_id = ifc->old_xdp_id,
				       .xdp_mode = ifc->old_xdp_mode,
				       .xdp_fd = -1};

		snprintf(old.name, sizeof(old.name), "%s", ifc->name);
		xdp_detach_one(ld, &old);
		pc_info("%s: took off the XDP program (%s mode) an earlier daemon left: this one "
			"counts at %s",
			ifc->name, pc_xdp_mode_name(ifc->old_xdp_mode),
			ifc->hook == PC_INGRESS_XDP ? "XDP in another mode" : "TC ingress");
		ifc->old_xdp_id = 0;
	}
	if (ifc->old_tc) {
		tc_detach_one(ifc, BPF_TC_INGRESS);
		pc_info("%s: took off the TC ingress program an earlier daemon left: this one "
			"counts at XDP",
			ifc->name);
		ifc->old_tc = false;
	}
}

static void detach_iface(struct pc_loader *ld, struct pc_iface *ifc)
{
	if (ifc->ingress_attached) {
		if (ifc->hook == PC_INGRESS_XDP)
			xdp_detach_one(ld, ifc);
		else
			tc_detach_one(ifc, BPF_TC_INGRESS);
		ifc->ingress_attached = false;
	}
	detach_old_ingress(ld, ifc);
	if (ifc->egress_attached) {
		tc_detach_one(ifc, BPF_TC_EGRESS);
		ifc->egress_attached = false;
	}
	if (ifc->clsact_created) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		bpf_tc_hook_destroy(&hook);
		ifc->clsact_created = false;
	}
	pc_info("%s: detached", ifc->name);
}

/* The state file remembers which interfaces carry our programs, on which ingress hook, and
 * whether we created their clsact qdisc, for the next daemon (after a crash). */
static void save_state(const struct pc_loader *ld)
{
	char path[512], tmp[520];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/%s", ld->state_dir, PC_STATE_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		pc_warn("cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	fprintf(f, "# ifname ifindex hook clsact_created (written by portcanary)\n");
	for (i = 0; i < ld->n_ifaces; i++)
		if (ld->ifaces[i].ingress_attached || ld->ifaces[i].egress_attached)
			fprintf(f, "%s %d %s %d\n", ld->ifaces[i].name, ld->ifaces[i].ifindex,
				pc_ingress_hook_name(ld->ifaces[i].hook),
				ld->ifaces[i].clsact_created);
	if (fclose(f) || rename(tmp, path))
		pc_warn("cannot write %s: %s", path, strerror(errno));
}

struct saved_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	char hook[8];
	int clsact_created;
};

static int load_state(const struct pc_loader *ld, struct saved_iface *out, int max)
{
	char path[512], line[128];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", ld->state_dir, PC_STATE_FILE);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		if (sscanf(line, "%15s %d %7s %d", out[n].name, &out[n].ifindex, out[n].hook,
			   &out[n].clsact_created) == 4)
			n++;
	}
	fclose(f);
	return n;
}

/* On the interfaces of the state file, programs of ours (by name) that use one of the stale
 * maps: an earlier build's, detached (their maps are no longer pinned, nobody reads them). */
static void detach_stale_programs(struct pc_loader *ld, const __u32 *stale, int n)
{
	struct saved_iface saved[PC_MAX_IFACES * 2];
	int nsaved = load_state(ld, saved, PC_MAX_IFACES * 2), i, k, pt;
	char foreign[256], pname[64];

	for (i = 0; i < nsaved; i++) {
		struct pc_iface ifc = {.ifindex = saved[i].ifindex, .xdp_fd = -1};

		if (!if_indextoname(saved[i].ifindex, ifc.name))
			continue;
		for (k = 0; k < n; k++) {
			unsigned int ours = 0;
			bool legacy;
			int mode;

			if (xdp_inspect(ld, ifc.ifindex, stale[k], &ours, &mode, &legacy, foreign,
					sizeof(foreign)) &&
			    ours) {
				ifc.xdp_prog_id = ours;
				ifc.xdp_mode = mode;
				pc_info("%s: detaching the XDP program of an earlier build (id %u)",
					ifc.name, ours);
				xdp_detach_one(ld, &ifc);
			}
			for (pt = 0; pt < 2; pt++) {
				enum bpf_tc_attach_point at = pt ? BPF_TC_EGRESS : BPF_TC_INGRESS;
				LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc.ifindex,
					    .attach_point = at);
				LIBBPF_OPTS(bpf_tc_opts, q, .handle = PC_TC_HANDLE,
					    .priority = PC_TC_PRIO);

				if (bpf_tc_query(&hook, &q) ||
				    !prog_is_ours(q.prog_id,
						  pt ? PC_PROG_TC_EGRESS : PC_PROG_TC_INGRESS,
						  stale[k], pname, sizeof(pname)))
					continue;
				pc_info("%s: detaching the TC %s program of an earlier build (id "
					"%u)",
					ifc.name, pt ? "egress" : "ingress", q.prog_id);
				tc_detach_one(&ifc, at);
			}
		}
	}
}

/* Interfaces an earlier daemon attached to and this one is not told to watch: take our
 * programs off them so nothing of ours is left behind. Each hook is looked at whatever the
 * file says (a crash may come between an attach and the file's update), and only programs
 * that are ours (by name and pinned map) are removed. */
static void cleanup_stale(struct pc_loader *ld, struct saved_iface *saved, int nsaved,
			  unsigned int map_id)
{
	int i, j, mode;
	char foreign[256], pname[64];
	bool legacy;

	for (i = 0; i < nsaved; i++) {
		struct pc_iface ifc = {.ifindex = saved[i].ifindex, .xdp_fd = -1};
		unsigned int ours = 0;
		bool keep = false;

		for (j = 0; j < ld->n_ifaces; j++)
			keep |= ld->ifaces[j].ifindex == saved[i].ifindex;
		if (keep || if_indextoname(saved[i].ifindex, ifc.name) == NULL)
			continue;
		pc_info("%s: removing programs left by an earlier daemon (ingress was %s)",
			ifc.name, saved[i].hook);
		if (xdp_inspect(ld, ifc.ifindex, map_id, &ours, &mode, &legacy, foreign,
				sizeof(foreign)) &&
		    ours) {
			ifc.xdp_prog_id = ours;
			ifc.xdp_mode = mode;
			xdp_detach_one(ld, &ifc);
		}
		if (tc_find(&ifc, BPF_TC_INGRESS, PC_PROG_TC_INGRESS, map_id, pname,
			    sizeof(pname)) > 0)
			tc_detach_one(&ifc, BPF_TC_INGRESS);
		if (tc_find(&ifc, BPF_TC_EGRESS, PC_PROG_TC_EGRESS, map_id, pname, sizeof(pname)) >
		    0)
			tc_detach_one(&ifc, BPF_TC_EGRESS);
		ifc.clsact_created = saved[i].clsact_created;
		detach_iface(ld, &ifc);
	}
}

void pc_iface_why(const struct pc_iface *ifc, char *buf, size_t len)
{
	pc_hook_reason_text(ifc->why, &ifc->facts, buf, len);
}

/* What the interface is and holds, the rule's choice, and what of an earlier daemon's stays.
 * Nothing is attached here. */
static void plan_iface(struct pc_loader *ld, struct pc_iface *ifc, unsigned int map_id,
		       struct pc_hook_choice *c)
{
	struct pc_link_facts *f = &ifc->facts;
	unsigned int ours = 0;
	char pname[64];
	bool legacy = false, tc_ours;
	int mode = 0, err;

	err = pc_link_facts_read(ifc->name, ifc->ifindex, f);
	if (err)
		pc_warn("%s: cannot read the interface's driver and offloads (%s): treated as a "
			"device of unknown driver",
			ifc->name, strerror(-err));
	xdp_inspect(ld, ifc->ifindex, map_id, &ours, &mode, &legacy, f->foreign_xdp,
		    sizeof(f->foreign_xdp));
	f->foreign_unshared = f->foreign_xdp[0] && legacy;
	tc_ours = map_id && tc_find(ifc, BPF_TC_INGRESS, PC_PROG_TC_INGRESS, map_id, pname,
				    sizeof(pname)) > 0;
	*c = pc_hook_choose(ld->ingress, ld->xdp_req, f);
	ifc->hook = c->hook;
	ifc->why = c->why;

	if (ours && pc_hook_keep_adopted(ld->ingress, ld->xdp_req, PC_INGRESS_XDP, mode)) {
		ifc->hook = PC_INGRESS_XDP;
		if (c->hook != PC_INGRESS_XDP)
			ifc->why = PC_WHY_ADOPTED;
		ifc->ingress_attached = ifc->adopted = ifc->ingress_adopted = true;
		ifc->xdp_mode = mode;
		ifc->xdp_prog_id = ours;
		ifc->xdp_legacy = legacy;
		ifc->xdp_fd = bpf_prog_get_fd_by_id(ours);
		ifc->old_tc = tc_ours;
		pc_info("%s: adopted our XDP program (id %u, %s mode) left by an earlier daemon",
			ifc->name, ours, pc_xdp_mode_name(mode));
		return;
	}
	if (ours) {
		ifc->old_xdp_id = ours;
		ifc->old_xdp_mode = mode;
	}
	if (tc_ours && pc_hook_keep_adopted(ld->ingress, ld->xdp_req, PC_INGRESS_TC, 0)) {
		/* tc_attach_one() finds and adopts it. */
		if (c->hook != PC_INGRESS_TC)
			ifc->why = PC_WHY_ADOPTED;
		ifc->hook = PC_INGRESS_TC;
	} else {
		ifc->old_tc = tc_ours;
	}
}

static void log_choice(const struct pc_iface *ifc)
{
	char why[256];

	pc_iface_why(ifc, why, sizeof(why));
	pc_info("%s: ingress at %s%s%s (driver %s, reason %s%s) because %s", ifc->name,
		ifc->hook == PC_INGRESS_XDP ? "XDP " : "TC",
		ifc->hook == PC_INGRESS_XDP ? pc_xdp_mode_name(ifc->xdp_mode) : "",
		ifc->hook == PC_INGRESS_XDP ? " mode" : "",
		ifc->facts.driver[0] ? ifc->facts.driver : "unknown", pc_hook_reason_code(ifc->why),
		ifc->ingress_adopted ? ", adopted" : "", why);
	if (ifc->hook == PC_INGRESS_TC && ifc->facts.foreign_xdp[0])
		pc_warn("%s: XDP program %s runs ahead of our TC ingress hook: what it drops or "
			"redirects is never counted",
			ifc->name, ifc->facts.foreign_xdp);
}

int pc_loader_attach(struct pc_loader *ld, char names[][IF_NAMESIZE], int n)
{
	struct saved_iface saved[PC_MAX_IFACES * 2];
	struct pc_hook_choice choice[PC_MAX_IFACES];
	unsigned int map_id;
	int i, j, err = 0, nsaved;

	if (n > PC_MAX_IFACES) {
		pc_err("too many interfaces (%d): at most %d", n, PC_MAX_IFACES);
		return -E2BIG;
	}
	for (i = 0; i < n; i++) {
		struct pc_iface *ifc = &ld->ifaces[i];

		memset(ifc, 0, sizeof(*ifc));
		ifc->xdp_fd = -1;
		snprintf(ifc->name, sizeof(ifc->name), "%s", names[i]);
		ifc->ifindex = if_nametoindex(names[i]);
		if (!ifc->ifindex) {
			pc_err("unknown interface '%s': no such device in this network namespace "
			       "(see `ip link`)",
			       names[i]);
			return -ENODEV;
		}
		for (j = 0; j < i; j++)
			if (ld->ifaces[j].ifindex == ifc->ifindex) {
				pc_err("interface '%s' is given twice", names[i]);
				return -EINVAL;
			}
	}
	ld->n_ifaces = n;
	map_id = pinned_map_id(ld, PC_PIN_COUNTERS);
	nsaved = load_state(ld, saved, PC_MAX_IFACES * 2);
	for (i = 0; i < n; i++) {
		for (j = 0; j < nsaved; j++)
			if (saved[j].ifindex == ld->ifaces[i].ifindex)
				ld->ifaces[i].clsact_created = saved[j].clsact_created;
		plan_iface(ld, &ld->ifaces[i], map_id, &choice[i]);
	}

	/* New XDP attaches first: the first one has libxdp load the whole object (the TC
	 * programs with it), which cannot happen once the object is loaded without it. */
	for (i = 0; i < n && !err; i++)
		if (ld->ifaces[i].hook == PC_INGRESS_XDP && !ld->ifaces[i].ingress_attached)
			err = xdp_attach_one(ld, &ld->ifaces[i], &choice[i]);
	if (!err)
		err = load_object(ld);
	if (!err && !map_id)
		map_id = pinned_map_id(ld, PC_PIN_COUNTERS);
	for (i = 0; i < n && !err; i++) {
		struct pc_iface *ifc = &ld->ifaces[i];

		if (ifc->hook == PC_INGRESS_TC)
			err = tc_attach_one(ld, ifc, BPF_TC_INGRESS, ld->skel->progs.pc_tc_ingress,
					    map_id, &ifc->ingress_attached);
		if (!err)
			err = tc_attach_one(ld, ifc, BPF_TC_EGRESS, ld->skel->progs.pc_tc_egress,
					    map_id, &ifc->egress_attached);
	}
	if (err) {
		/* All or none: take back what this call attached (adoptions included, so the
		 * interfaces are left as an operator would expect after a failed start). */
		for (j = 0; j < n; j++)
			if (ld->ifaces[j].ingress_attached || ld->ifaces[j].egress_attached ||
			    ld->ifaces[j].clsact_created || ld->ifaces[j].old_xdp_id ||
			    ld->ifaces[j].old_tc)
				detach_iface(ld, &ld->ifaces[j]);
		ld->n_ifaces = 0;
		return err;
	}
	for (i = 0; i < n; i++) {
		detach_old_ingress(ld, &ld->ifaces[i]);
		log_choice(&ld->ifaces[i]);
	}
	cleanup_stale(ld, saved, nsaved, map_id);
	save_state(ld);
	write_layout_version(ld);
	return 0;
}

int pc_loader_attach_drops(struct pc_loader *ld)
{
	struct bpf_link *link;
	char path[600];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", ld->pin_dir, PC_DROPS_LINK);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		/* An earlier daemon's tracer, counting into the same pinned map. */
		close(fd);
		ld->drops_attached = true;
		pc_info("adopted the kfree_skb drop tracer left by an earlier daemon");
		return 0;
	}
	link = bpf_program__attach(ld->skel->progs.pc_kfree_skb);
	err = libbpf_get_error(link);
	if (err) {
		pc_warn("cannot attach the kfree_skb drop tracer (%s): drops will not be "
			"attributed "
			"(needs CAP_PERFMON and a kernel with BTF tracepoints)",
			strerror(-err));
		return err;
	}
	err = bpf_link__pin(link, path);
	if (err) {
		pc_warn("cannot pin the drop tracer's link at %s: %s", path, strerror(-err));
		bpf_link__destroy(link);
		return err;
	}
	/* The pin holds the link now; our reference goes with the process. */
	bpf_link__disconnect(link);
	bpf_link__destroy(link);
	ld->drops_attached = true;
	pc_info("kfree_skb drop tracer attached");
	return 0;
}

void pc_loader_detach(struct pc_loader *ld)
{
	char path[600];
	int i;

	for (i = 0; i < ld->n_ifaces; i++)
		detach_iface(ld, &ld->ifaces[i]);
	if (ld->drops_attached) {
		snprintf(path, sizeof(path), "%s/%s", ld->pin_dir, PC_DROPS_LINK);
		unlink(path); /* the last reference: the tracer detaches */
		ld->drops_attached = false;
	}
	save_state(ld);
}

void pc_loader_close(struct pc_loader *ld)
{
	int i;

	for (i = 0; i < ld->n_ifaces; i++)
		if (ld->ifaces[i].xdp_fd >= 0)
			close(ld->ifaces[i].xdp_fd);
	if (ld->xdp)
		xdp_program__close(ld->xdp);
	ld->xdp = NULL;
	if (ld->skel)
		portcanary_bpf__destroy(ld->skel);
	ld->skel = NULL;
	if (ld->lock_fd >= 0)
		close(ld->lock_fd);
	ld->lock_fd = -1;
}

bool pc_loader_exit_needs_admin(const struct pc_loader *ld)
{
	int i;

	for (i = 0; i < ld->n_ifaces; i++)
		if (ld->ifaces[i].hook == PC_INGRESS_XDP && ld->ifaces[i].ingress_attached &&
		    !ld->ifaces[i].xdp_legacy)
			return true;
	return false;
}

int pc_loader_ports_fd(const struct pc_loader *ld)
{
	return bpf_map__fd(ld->skel->maps.bss);
}

int pc_loader_counters_fd(const struct pc_loader *ld)
{
	return bpf_map__fd(ld->skel->maps.pc_counters);
}

int pc_loader_global_fd(const struct pc_loader *ld)
{
	return bpf_map__fd(ld->skel->maps.pc_global);
}

int pc_loader_drops_fd(const struct pc_loader *ld)
{
	return bpf_map__fd(ld->skel->maps.pc_drops);
}

int pc_loader_drop_keys_fd(const struct pc_loader *ld)
{
	return bpf_map__fd(ld->skel->maps.pc_drop_keys);
}

int pc_loader_samples_fd(const struct pc_loader *ld)
{
	return bpf_map__fd(ld->skel->maps.pc_drop_samples);
}
