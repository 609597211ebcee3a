/* SPDX-License-Identifier: GPL-2.0 */
/* daemon.h: `portcanary run`: attach, sample every interval, answer the control socket. */
#ifndef PC_DAEMON_H
#define PC_DAEMON_H

#include <net/if.h>

#include "detector.h"
#include "loader.h"
#include "portspec.h"

#define PC_MAX_SPECS	     256
#define PC_DEFAULT_STATE_DIR "/run/portcanary"
#define PC_DEFAULT_CONFIG    "/etc/portcanary/portcanary.conf"

/* Everything `run` can be told, from the command line or the config file.
 * Strings are empty when not set. */
struct pc_run_opts {
	char ifaces[PC_MAX_IFACES][IF_NAMESIZE];
	int n_ifaces;
	struct pc_portspec specs[PC_MAX_SPECS];
	int n_specs;
	double interval; /* seconds */
	char state_dir[256];
	char events_path[512]; /* --events FILE|- */
	char exec_cmd[1024];   /* --exec CMD */
	char listen_addr[128]; /* --listen ADDR:PORT */
	enum pc_ingress_hook ingress;
	enum pc_xdp_req xdp_mode;
	int verbose;
	double fw_window;      /* seconds a firewall change is blamed for after it */
	bool revert_blocking;  /* roll back unvetted changes that block a monitored port */
	struct pc_det_cfg det; /* detector thresholds ([detector] in the config) */
	/* Where the options came from, for SIGHUP: the file is read again and the
	 * command line, which wins over it, applied on top. */
	char config_path[512];
	bool config_required; /* -c given: a missing file is an error */
	const struct pc_run_opts *cli;
	unsigned int cli_set; /* PC_OPT_* bits set on the command line */
};

/* Runs until SIGINT/SIGTERM. Returns the process exit code (0, 1 runtime, 2 usage/environment). */
int pc_daemon_run(struct pc_run_opts *opts);

#endif
