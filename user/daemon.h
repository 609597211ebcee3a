/* SPDX-License-Identifier: GPL-2.0 */
/* daemon.h: `portcanary run`: attach, sample every interval, answer the control socket. */
#ifndef PC_DAEMON_H
#define PC_DAEMON_H

#include <net/if.h>

#include "loader.h"
#include "portspec.h"

#define PC_MAX_SPECS 256
#define PC_DEFAULT_STATE_DIR "/run/portcanary"

struct pc_run_opts {
	char ifaces[PC_MAX_IFACES][IF_NAMESIZE];
	int n_ifaces;
	struct pc_portspec specs[PC_MAX_SPECS];
	int n_specs;
	double interval;		/* seconds */
	const char *state_dir;
	const char *events_path;	/* --events FILE|- */
	const char *exec_cmd;		/* --exec CMD */
	const char *listen_addr;	/* --listen ADDR:PORT */
	enum pc_ingress_hook ingress;
	enum pc_xdp_req xdp_mode;
};

/* Runs until SIGINT/SIGTERM. Returns the process exit code (0, 1 runtime, 2 usage/environment). */
int pc_daemon_run(const struct pc_run_opts *opts);

#endif
