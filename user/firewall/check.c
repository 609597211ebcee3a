// SPDX-License-Identifier: GPL-2.0
/* check.c: each new ruleset runs through preflight in a child in its own user+net namespace. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>
#include <nftables/libnftables.h>

#include "firewall/check.h"
#include "firewall/nft.h"
#include "log.h"
#include "preflight/preflight.h"
#include "spawn.h"
#include "jsonutil.h"

int pc_fwcheck_init(struct pc_fwcheck *c, const char *iface)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(c->iface, sizeof(c->iface), "%s", iface ? iface : "eth0");
	c->baseline = pc_nft_list(0);
	return c->baseline ? 0 : -errno;
}

void pc_fwcheck_changed(struct pc_fwcheck *c, const struct pc_fw_change *chg, double now)
{
	c->change = *chg;
	c->pending = true;
	c->due = now + PC_FWCHECK_SETTLE_S;
}

/* A user namespace of our own, then a network namespace it owns: the sandbox's
 * namespaces are created (and returned to) inside it, so no CAP_SYS_ADMIN over the
 * host is needed, and the host's ruleset is out of reach. The creator holds every
 * capability in a new user namespace whether or not ids are mapped; mapping root
 * would need CAP_SETFCAP (kernel >= 5.12), so none is mapped: the check creates no
 * files and executes nothing for an nftables ruleset. */
static int enter_own_namespaces(void)
{
	if (unshare(CLONE_NEWUSER))
		return -errno;
	return unshare(CLONE_NEWNET) ? -errno : 0;
}

/* The child: snapshot, sandbox, report as one JSON document on fd, exit. */
static void child(struct pc_fwcheck *c, const struct pc_portspec *specs, int n, int fd)
{
	struct pc_ruleset base = {.kind = PC_RULESET_NFT, .text = c->baseline, .name = "previous"};
	struct pc_preflight_opts o = {
		.candidate = {.kind = PC_RULESET_NFT, .name = "new"},
		.baseline = &base,
		.specs = specs,
		.nspecs = n,
		.iface = c->iface,
		.flags = PC_PREFLIGHT_NO_BPF,
		.candidate_is_live = true,
	};
	struct json_object *doc = json_object_new_object(), *arr = json_object_new_array();
	struct pc_preflight_result r = {};
	const char *text;
	char *ruleset;
	int i, err;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* With handles (comments to nft -f): the rules are named by their live handles. */
	ruleset = pc_nft_list(PC_NFT_LIST_HANDLES);
	if (!ruleset) {
		json_object_object_add(doc, "error",
				       json_object_new_string("cannot list the ruleset"));
		goto out;
	}
	json_object_object_add(doc, "ruleset", json_object_new_string(ruleset));
	err = enter_own_namespaces();
	if (err) {
		char msg[160];

		snprintf(msg, sizeof(msg), "cannot create a user namespace for the sandbox: %s",
			 strerror(-err));
		json_object_object_add(doc, "error", json_object_new_string(msg));
		goto out;
	}
	o.candidate.text = ruleset;
	err = pc_preflight_run(&o, &r);
	if (err) {
		json_object_object_add(doc, "error", json_object_new_string(r.error));
		goto out;
	}
	for (i = 0; i < r.nports; i++) {
		const struct pc_preflight_port *p = &r.ports[i];
		struct json_object *e;

		if (p->verdict != PC_VERDICT_BLOCKED || p->baseline_verdict == PC_VERDICT_BLOCKED)
			continue;
		e = json_object_new_object();
		json_object_object_add(e, "proto", json_object_new_string(pc_proto_name(p->proto)));
		json_object_object_add(e, "port", json_object_new_int(p->port));
		json_object_object_add(e, "direction", json_object_new_string(pc_dir_name(p->dir)));
		json_object_object_add(e, "rule", pc_rule_ref_json(&p->rule));
		json_object_array_add(arr, e);
	}
out:
	json_object_object_add(doc, "blocked", arr);
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	pc_write_all(fd, text, strlen(text)); /* a reader gone: nobody to tell */
	_exit(0);
}

void pc_fwcheck_tick(struct pc_fwcheck *c, const struct pc_portset *ps, double now)
{
	static struct pc_portspec specs[PC_PREFLIGHT_MAX_PORTS];
	int p[2], n = 0, s;
	pid_t pid;

	if (!c->pending || c->pid || now < c->due || !c->baseline)
		return;
	for (s = 1; s < PC_MAX_SLOTS && n < PC_PREFLIGHT_MAX_PORTS; s++)
		if (ps->slots[s].used)
			specs[n++] = (struct pc_portspec){.proto = ps->slots[s].proto,
							  .dir = ps->slots[s].dir,
							  .first = ps->slots[s].port,
							  .last = ps->slots[s].port};
	c->pending = false;
	if (!n)
		return;
	if (pipe2(p, O_CLOEXEC)) {
		pc_warn("firewall check: pipe: %s", strerror(errno));
		return;
	}
	pid = pc_fork_child();
	if (pid == 0) {
		close(p[0]);
		child(c, specs, n, p[1]);
	}
	close(p[1]);
	if (pid < 0) {
		pc_warn("firewall check: fork: %s", strerror(errno));
		close(p[0]);
		return;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	c->pid = pid;
	c->fd = p[0];
	pc_linebuf_free(&c->out);
	c->checks++;
	pc_info("firewall: checking the new ruleset against %d monitored port%s in a sandbox", n,
		n == 1 ? "" : "s");
}

int pc_fwcheck_fd(const struct pc_fwcheck *c)
{
	return c->fd;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : NULL;
}

static void finish(struct pc_fwcheck *c, struct pc_alerts *al, double wall, double mono)
{
	struct json_object *doc, *arr, *v;
	const char *err, *ruleset;
	size_t i;

	waitpid(c->pid, NULL, 0);
	c->pid = 0;
	close(c->fd);
	c->fd = -1;
	doc = c->out.len ? json_tokener_parse(c->out.buf) : NULL;
	if (!doc) {
		c->failures++;
		pc_warn("firewall: the ruleset check ended without a result");
		return;
	}
	err = jstr(doc, "error");
	ruleset = jstr(doc, "ruleset");
	if (err) {
		c->failures++;
		pc_warn("firewall: cannot check the new ruleset in a sandbox: %s", err);
	} else if (ruleset) {
		free(c->baseline);
		c->baseline = strdup(ruleset);
	}
	if (json_object_object_get_ex(doc, "blocked", &arr))
		for (i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *e = json_object_array_get_idx(arr, i), *rule;
			struct pc_firewall_ref fw;
			struct pc_fw_block_alert b = {
				.time = wall,
				.proto = pc_proto_from_name(jstr(e, "proto") ?: "tcp"),
				.dir = pc_dir_from_name(jstr(e, "direction") ?: "in"),
				.port = json_object_object_get_ex(e, "port", &v)
						? json_object_get_int(v)
						: 0,
				.firewall = &fw,
			};

			if (json_object_object_get_ex(e, "rule", &rule) && rule) {
				b.rule_known = true;
				b.family = jstr(rule, "family");
				b.table = jstr(rule, "table");
				b.chain = jstr(rule, "chain");
				b.has_handle = json_object_object_get_ex(rule, "handle", &v) && v;
				b.handle = b.has_handle ? json_object_get_uint64(v) : 0;
				b.text = jstr(rule, "text");
			}
			pc_fw_ref(&c->change, wall, &fw);
			pc_alerts_emit_block(al, &b, mono);
			c->blocks++;
		}
	json_object_put(doc);
}

void pc_fwcheck_read(struct pc_fwcheck *c, struct pc_alerts *al, double wall, double mono)
{
	int r;

	if (c->fd < 0)
		return;
	while ((r = pc_linebuf_fill(&c->out, c->fd)) > 0)
		;
	if (r == 0)
		return;		   /* more to come */
	finish(c, al, wall, mono); /* EOF: the child is done */
}

void pc_fwcheck_free(struct pc_fwcheck *c)
{
	if (c->pid) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	if (c->fd >= 0)
		close(c->fd);
	pc_linebuf_free(&c->out);
	free(c->baseline);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}
