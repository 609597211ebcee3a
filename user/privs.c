// SPDX-License-Identifier: GPL-2.0
/* privs.c: the capability drop after attach (libcap). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <linux/securebits.h>

#include "log.h"
#include "privs.h"

static const cap_value_t keep[] = {CAP_BPF, CAP_NET_ADMIN};
/* libxdp rebuilds its dispatcher to take a program out: it loads programs and
 * looks them up by id. Held in the permitted set only, raised at exit. */
static const cap_value_t exit_only[] = {CAP_SYS_ADMIN, CAP_PERFMON};

int pc_privs_drop(bool keep_admin_for_exit)
{
	cap_t caps, held;
	cap_value_t c;
	int err = 0;

	/* Hooks (execve as uid 0) must not regain root's capabilities: lock that first,
	 * while CAP_SETPCAP is still held. */
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
					     SECBIT_NO_SETUID_FIXUP_LOCKED))
		pc_debug("cannot set securebits: %s", strerror(errno));
	/* Shrink the bounding set (needs CAP_SETPCAP, so before dropping it). */
	for (c = 0; c <= CAP_LAST_CAP; c++) {
		size_t i;
		int kept = 0;

		for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
			kept |= keep[i] == c;
		for (i = 0; keep_admin_for_exit && i < 2; i++)
			kept |= exit_only[i] == c;
		if (!kept && CAP_IS_SUPPORTED(c) && cap_get_bound(c) == 1 && cap_drop_bound(c))
			pc_debug("cannot drop capability %d from the bounding set: %s", c,
				 strerror(errno));
	}
	held = cap_get_proc();
	caps = cap_init(); /* all clear */
	if (!caps || !held) {
		err = -errno;
		goto out;
	}
	/* Keep only what is held: asking for more makes cap_set_proc() fail whole. */
	for (c = 0; c <= CAP_LAST_CAP; c++) {
		cap_flag_value_t v = CAP_CLEAR;
		bool want = false;
		size_t i;

		for (i = 0; i < 2; i++)
			want |= keep[i] == c || (keep_admin_for_exit && exit_only[i] == c);
		if (!want || cap_get_flag(held, c, CAP_PERMITTED, &v) || v != CAP_SET)
			continue;
		cap_set_flag(caps, CAP_PERMITTED, 1, &c, CAP_SET);
		if (keep[0] == c || keep[1] == c)
			cap_set_flag(caps, CAP_EFFECTIVE, 1, &c, CAP_SET);
	}
	if (cap_set_proc(caps))
		err = -errno;
out:
	cap_free(caps);
	cap_free(held);
	/* No ambient capabilities for hooks either. */
	if (!err && CAP_AMBIENT_SUPPORTED())
		cap_reset_ambient();
	return err;
}

void pc_privs_raise_for_exit(void)
{
	cap_t caps = cap_get_proc();

	if (!caps)
		return;
	/* Only what is still permitted can be raised; the rest fails quietly. */
	cap_set_flag(caps, CAP_EFFECTIVE, 2, exit_only, CAP_SET);
	if (cap_set_proc(caps))
		pc_debug("cannot raise capabilities for detaching: %s", strerror(errno));
	cap_free(caps);
}

void pc_privs_describe(char *buf, unsigned long len)
{
	cap_t caps = cap_get_proc();
	unsigned long n = 0;
	cap_value_t c;

	buf[0] = '\0';
	if (!caps)
		return;
	for (c = 0; c <= CAP_LAST_CAP && n < len; c++) {
		cap_flag_value_t v = CAP_CLEAR;
		char *name;

		if (cap_get_flag(caps, c, CAP_EFFECTIVE, &v) || v != CAP_SET)
			continue;
		name = cap_to_name(c);
		n += snprintf(buf + n, len - n, "%s%s", n ? " " : "", name ? name : "?");
		cap_free(name);
	}
	cap_free(caps);
}
