// SPDX-License-Identifier: GPL-2.0
/* config.c: /etc/portcanary/portcanary.conf: [daemon], [ports] and [detector] sections. */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "firewall/watch.h"

void pc_run_opts_default(struct pc_run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->interval = 1.0;
	o->fw_window = PC_FW_DEFAULT_WINDOW_S;
	snprintf(o->state_dir, sizeof(o->state_dir), "%s", PC_DEFAULT_STATE_DIR);
	o->det = pc_det_cfg_default();
}

int pc_opt_xdp_mode(const char *s, enum pc_xdp_req *out)
{
	if (!strcmp(s, "auto"))
		*out = PC_XDP_AUTO;
	else if (!strcmp(s, "native"))
		*out = PC_XDP_NATIVE;
	else if (!strcmp(s, "generic"))
		*out = PC_XDP_GENERIC;
	else
		return -EINVAL;
	return 0;
}

int pc_opt_ingress(const char *s, enum pc_ingress_hook *out)
{
	if (!strcmp(s, "auto"))
		*out = PC_INGRESS_AUTO;
	else if (!strcmp(s, "xdp"))
		*out = PC_INGRESS_XDP;
	else if (!strcmp(s, "tc"))
		*out = PC_INGRESS_TC;
	else
		return -EINVAL;
	return 0;
}

int pc_opt_iface(const char *s, struct pc_run_opts *o, char *err, size_t errlen)
{
	if (o->n_ifaces == PC_MAX_IFACES) {
		snprintf(err, errlen, "too many interfaces: at most %d", PC_MAX_IFACES);
		return -EINVAL;
	}
	if (!*s || strlen(s) >= IF_NAMESIZE || strchr(s, '/') || strchr(s, ' ')) {
		snprintf(err, errlen, "invalid interface name '%s'", s);
		return -EINVAL;
	}
	snprintf(o->ifaces[o->n_ifaces++], IF_NAMESIZE, "%s", s);
	return 0;
}

int pc_opt_port(const char *s, struct pc_run_opts *o, char *err, size_t errlen)
{
	char why[160];

	if (o->n_specs == PC_MAX_SPECS) {
		snprintf(err, errlen, "too many port specs: at most %d (use ranges)", PC_MAX_SPECS);
		return -EINVAL;
	}
	if (pc_portspec_parse(s, &o->specs[o->n_specs], why, sizeof(why))) {
		snprintf(err, errlen,
			 "bad port spec '%s': %s; expected [tcp/|udp/]PORT[-PORT][:in|:out], "
			 "e.g. tcp/443 or udp/53:out",
			 s, why);
		return -EINVAL;
	}
	o->n_specs++;
	return 0;
}

/* [detector] keys: the fields of struct pc_det_cfg, by name. */
struct det_key {
	const char *name;
	size_t off;
	bool is_u32;
};

/* clang-format off: it splits the stringizing macros */
#define DET_U32(f)                                                                                 \
	{                                                                                          \
#f, offsetof(struct pc_det_cfg, f), true                                           \
	}
#define DET_DBL(f)                                                                                 \
	{                                                                                          \
#f, offsetof(struct pc_det_cfg, f), false                                          \
	}
/* clang-format on */
static const struct det_key det_keys[] = {
	DET_U32(min_syns),
	DET_DBL(judge_max_s),
	DET_DBL(degraded_fail_ratio),
	DET_DBL(down_fail_ratio),
	DET_DBL(cause_min_share),
	DET_U32(down_after),
	DET_U32(up_after),
	DET_U32(intermittent_window),
	DET_U32(intermittent_bad),
	DET_DBL(learn_s),
	DET_DBL(baseline_tau_s),
	DET_DBL(collapse_fraction),
	DET_DBL(collapse_min_baseline),
	DET_DBL(collapse_min_expected),
	DET_DBL(collapse_z),
	DET_DBL(flap_enter),
	DET_DBL(flap_exit),
	DET_DBL(flap_leak_s),
	DET_U32(flap_down_after),
};

struct parse_ctx {
	struct pc_run_opts *o;
	const char *name;
	char *err;
	size_t errlen;
	bool seen_ifaces; /* the first key of a list replaces the default list */
	bool seen_ports;
	bool failed;
};

/* A list value may hold several items separated by commas or spaces. */
static int each_item(const char *value,
		     int (*fn)(const char *, struct pc_run_opts *, char *, size_t),
		     struct parse_ctx *c)
{
	char buf[1024], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save))
		if (fn(tok, c->o, c->err, c->errlen))
			return -EINVAL;
	return 0;
}

static int set_string(char *dst, size_t len, const char *v, const char *key, struct parse_ctx *c)
{
	if (strlen(v) >= len) {
		snprintf(c->err, c->errlen, "%s is too long", key);
		return -EINVAL;
	}
	snprintf(dst, len, "%s", v);
	return 0;
}

static int daemon_key(struct parse_ctx *c, const char *key, const char *v)
{
	struct pc_run_opts *o = c->o;
	uint64_t u;

	if (!strcmp(key, "interface")) {
		if (!c->seen_ifaces)
			o->n_ifaces = 0;
		c->seen_ifaces = true;
		return each_item(v, pc_opt_iface, c);
	}
	if (!strcmp(key, "interval")) {
		if (pc_parse_double(v, PC_INTERVAL_MIN_S, PC_INTERVAL_MAX_S, &o->interval)) {
			snprintf(c->err, c->errlen,
				 "interval '%s': a number of seconds from 0.1 to 60", v);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "state_dir")) {
		if (v[0] != '/') {
			snprintf(c->err, c->errlen, "state_dir '%s': give an absolute path", v);
			return -EINVAL;
		}
		return set_string(o->state_dir, sizeof(o->state_dir), v, key, c);
	}
	if (!strcmp(key, "events"))
		return set_string(o->events_path, sizeof(o->events_path), v, key, c);
	if (!strcmp(key, "exec"))
		return set_string(o->exec_cmd, sizeof(o->exec_cmd), v, key, c);
	if (!strcmp(key, "listen"))
		return set_string(o->listen_addr, sizeof(o->listen_addr), v, key, c);
	if (!strcmp(key, "xdp_mode")) {
		if (pc_opt_xdp_mode(v, &o->xdp_mode)) {
			snprintf(c->err, c->errlen, "xdp_mode '%s': use auto, native or generic",
				 v);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "ingress_hook")) {
		if (pc_opt_ingress(v, &o->ingress)) {
			snprintf(c->err, c->errlen, "ingress_hook '%s': use auto, xdp or tc", v);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "firewall_window")) {
		if (pc_parse_double(v, 0, PC_FW_WINDOW_MAX_S, &o->fw_window)) {
			snprintf(c->err, c->errlen, "firewall_window '%s': seconds from 0 to 86400",
				 v);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "revert_blocking_changes")) {
		if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
			o->revert_blocking = true;
		else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
			o->revert_blocking = false;
		else {
			snprintf(c->err, c->errlen,
				 "revert_blocking_changes '%s': use true or false", v);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "verbose")) {
		if (pc_parse_u64(v, 0, 3, &u)) {
			snprintf(c->err, c->errlen, "verbose '%s': a number from 0 to 3", v);
			return -EINVAL;
		}
		o->verbose = u;
		return 0;
	}
	snprintf(c->err, c->errlen, "unknown key '%s' in [daemon]", key);
	return -EINVAL;
}

static int detector_key(struct parse_ctx *c, const char *key, const char *v)
{
	size_t i;

	for (i = 0; i < sizeof(det_keys) / sizeof(det_keys[0]); i++) {
		void *field = (char *)&c->o->det + det_keys[i].off;
		uint64_t u;
		double d;

		if (strcmp(key, det_keys[i].name))
			continue;
		if (det_keys[i].is_u32) {
			if (pc_parse_u64(v, 0, UINT32_MAX, &u))
				goto bad;
			*(uint32_t *)field = u;
		} else {
			if (pc_parse_double(v, 0, 1e9, &d))
				goto bad;
			*(double *)field = d;
		}
		return 0;
	bad:
		snprintf(c->err, c->errlen, "%s '%s' is not a %s", key, v,
			 det_keys[i].is_u32 ? "whole number" : "number");
		return -EINVAL;
	}
	snprintf(c->err, c->errlen, "unknown key '%s' in [detector]", key);
	return -EINVAL;
}

/* Debian's inih is built without INI_HANDLER_LINENO: a refused line is reported by
 * ini_parse*()'s return value, and finish() puts "FILE:LINE:" in front of err. */
static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse_ctx *c = user;
	int err;

	/* inih goes on after a refused line and reports the first: keep its reason. */
	if (c->failed)
		return 0;
	if (!strcmp(section, "daemon")) {
		err = daemon_key(c, key, value);
	} else if (!strcmp(section, "ports")) {
		if (strcmp(key, "port")) {
			snprintf(c->err, c->errlen, "unknown key '%s' in [ports] (use port = SPEC)",
				 key);
			err = -EINVAL;
		} else {
			if (!c->seen_ports)
				c->o->n_specs = 0;
			c->seen_ports = true;
			err = each_item(value, pc_opt_port, c);
		}
	} else if (!strcmp(section, "detector")) {
		err = detector_key(c, key, value);
	} else {
		snprintf(c->err, c->errlen,
			 "unknown section [%s] (sections: daemon, ports, detector)", section);
		err = -EINVAL;
	}
	c->failed = err != 0;
	return err ? 0 : 1; /* 0: inih returns the first such line's number */
}

static int finish(struct parse_ctx *c, int r)
{
	if (r < 0) {
		snprintf(c->err, c->errlen, "%s: cannot read it", c->name);
		return -EIO;
	}
	if (r > 0) {
		/* The handler refused a line (err says why) or inih found no '=' on it. */
		char what[400];

		snprintf(what, sizeof(what), "%s",
			 c->err[0] ? c->err : "not a 'key = value' line or a [section]");
		snprintf(c->err, c->errlen, "%s:%d: %s", c->name, r, what);
		return -EINVAL;
	}
	if (pc_det_cfg_validate(&c->o->det)) {
		snprintf(c->err, c->errlen,
			 "%s: the [detector] thresholds are inconsistent "
			 "(e.g. degraded_fail_ratio must be below down_fail_ratio)",
			 c->name);
		return -EINVAL;
	}
	return 0;
}

int pc_config_parse(const char *text, const char *name, struct pc_run_opts *o, char *err,
		    size_t errlen)
{
	struct parse_ctx c = {.o = o, .name = name, .err = err, .errlen = errlen};

	err[0] = '\0';
	return finish(&c, ini_parse_string(text, handler, &c));
}

int pc_config_load(const char *path, struct pc_run_opts *o, char *err, size_t errlen)
{
	struct parse_ctx c = {.o = o, .name = path, .err = err, .errlen = errlen};
	FILE *f = fopen(path, "re");
	int r;

	err[0] = '\0';
	if (!f) {
		r = -errno;
		snprintf(err, errlen, "cannot read config %s: %s", path, strerror(errno));
		return r;
	}
	r = ini_parse_file(f, handler, &c);
	fclose(f);
	return finish(&c, r);
}

void pc_config_overlay(struct pc_run_opts *o, const struct pc_run_opts *cli, unsigned int mask)
{
	if (mask & PC_OPT_IFACES) {
		memcpy(o->ifaces, cli->ifaces, sizeof(o->ifaces));
		o->n_ifaces = cli->n_ifaces;
	}
	if (mask & PC_OPT_PORTS) {
		memcpy(o->specs, cli->specs, sizeof(o->specs));
		o->n_specs = cli->n_specs;
	}
	if (mask & PC_OPT_INTERVAL)
		o->interval = cli->interval;
	if (mask & PC_OPT_STATE_DIR)
		memcpy(o->state_dir, cli->state_dir, sizeof(o->state_dir));
	if (mask & PC_OPT_EVENTS)
		memcpy(o->events_path, cli->events_path, sizeof(o->events_path));
	if (mask & PC_OPT_EXEC)
		memcpy(o->exec_cmd, cli->exec_cmd, sizeof(o->exec_cmd));
	if (mask & PC_OPT_LISTEN)
		memcpy(o->listen_addr, cli->listen_addr, sizeof(o->listen_addr));
	if (mask & PC_OPT_XDP_MODE)
		o->xdp_mode = cli->xdp_mode;
	if (mask & PC_OPT_INGRESS)
		o->ingress = cli->ingress;
	if (mask & PC_OPT_VERBOSE)
		o->verbose = cli->verbose;
	if (mask & PC_OPT_FW_WINDOW)
		o->fw_window = cli->fw_window;
	if (mask & PC_OPT_REVERT)
		o->revert_blocking = cli->revert_blocking;
}

int pc_config_resolve(const struct pc_run_opts *cli, struct pc_run_opts *out, char *err,
		      size_t errlen)
{
	int r;

	pc_run_opts_default(out);
	err[0] = '\0';
	r = pc_config_load(cli->config_path, out, err, errlen);
	if (r == -ENOENT && !cli->config_required)
		r = 0; /* no file at the default path: defaults and flags */
	if (r)
		return r;
	pc_config_overlay(out, cli, cli->cli_set);
	if (pc_hook_options_conflict(out->ingress, out->xdp_mode)) {
		snprintf(err, errlen,
			 "ingress hook tc and XDP mode %s contradict each other: set one of "
			 "--ingress-hook tc and --xdp-mode (or ingress_hook and xdp_mode)",
			 out->xdp_mode == PC_XDP_NATIVE ? "native" : "generic");
		return -EINVAL;
	}
	memcpy(out->config_path, cli->config_path, sizeof(out->config_path));
	out->config_required = cli->config_required;
	out->cli = cli;
	out->cli_set = cli->cli_set;
	return 0;
}
