/* SPDX-License-Identifier: GPL-2.0 */
/* config.h: the config file (INI, parsed by libinih) and how the command line overrides it. */
#ifndef PC_CONFIG_H
#define PC_CONFIG_H

#include <stddef.h>

#include "daemon.h"

/* Options given on the command line (struct pc_run_opts.cli_set): they win over the file. */
enum {
	PC_OPT_IFACES = 1 << 0,
	PC_OPT_PORTS = 1 << 1,
	PC_OPT_INTERVAL = 1 << 2,
	PC_OPT_STATE_DIR = 1 << 3,
	PC_OPT_EVENTS = 1 << 4,
	PC_OPT_EXEC = 1 << 5,
	PC_OPT_LISTEN = 1 << 6,
	PC_OPT_XDP_MODE = 1 << 7,
	PC_OPT_INGRESS = 1 << 8,
	PC_OPT_VERBOSE = 1 << 9,
	PC_OPT_FW_WINDOW = 1 << 10,
	PC_OPT_REVERT = 1 << 11,
};

/* Limits shared by the command line and the file. */
#define PC_INTERVAL_MIN_S  0.1
#define PC_INTERVAL_MAX_S  60.0
#define PC_FW_WINDOW_MAX_S 86400.0

/* Defaults of every option. */
void pc_run_opts_default(struct pc_run_opts *o);
/* Read `path` on top of *o. A missing file is -ENOENT (the caller decides whether
 * that is an error); any bad line is -EINVAL with "FILE:LINE: what" in err. */
int pc_config_load(const char *path, struct pc_run_opts *o, char *err, size_t errlen);
/* Same, from a string (unit tests). */
int pc_config_parse(const char *text, const char *name, struct pc_run_opts *o, char *err,
		    size_t errlen);
/* Copy the options set on the command line (mask) from cli over o. */
void pc_config_overlay(struct pc_run_opts *o, const struct pc_run_opts *cli, unsigned int mask);
/* Defaults, then the file (if any), then the command line: the options in force.
 * Returns 0 or -errno with a one-line reason in err. */
int pc_config_resolve(const struct pc_run_opts *cli, struct pc_run_opts *out, char *err,
		      size_t errlen);

/* Value parsers shared by the command line and the file (0 or -EINVAL). */
int pc_opt_xdp_mode(const char *s, enum pc_xdp_req *out);
int pc_opt_ingress(const char *s, enum pc_ingress_hook *out);
int pc_opt_iface(const char *s, struct pc_run_opts *o, char *err, size_t errlen);
int pc_opt_port(const char *s, struct pc_run_opts *o, char *err, size_t errlen);

#endif
