/* SPDX-License-Identifier: GPL-2.0 */
/* trial.h: a candidate ruleset tried against the live one for every monitored port, from the
 * ports' real clients, in a child process in a user namespace of its own. */
#ifndef PC_FWTRIAL_H
#define PC_FWTRIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "clients.h"
#include "portspec.h"
#include "preflight/preflight.h"

struct json_object;

#define PC_TRIAL_MAX_GROUPS 6 /* sandbox runs: distinct (client, server) pairs, then defaults */
#define PC_TRIAL_SOURCES    4 /* client prefixes tried per port */

/* The ports tried from one client address to one server address ("" = the sandbox's). */
struct pc_trial_group {
	char from[46], to[46];
	struct pc_portspec *specs;
	int nspecs;
};

/* One port as a trial found it: blocked by the candidate where the live ruleset lets it
 * through, from which client, and the rule. */
struct pc_trial_port {
	uint8_t proto, dir;
	uint16_t port;
	bool blocked;	      /* newly blocked, from at least one of its clients */
	bool already_blocked; /* blocked by the live ruleset too */
	char from[46], to[46];
	char failure[16];
	struct pc_rule_ref rule;
};

struct pc_trial {
	pid_t pid; /* the running child, 0 when none */
	int fd;
	char *out;
	size_t len, cap;
	bool done;
	char error[1024];
	struct pc_trial_port *ports;
	int nports, newly_blocked, ngroups;
	double started; /* CLOCK_MONOTONIC */
};

/* A port to try and its recent clients (from pc_clients_read()). */
struct pc_trial_input {
	uint8_t proto, dir;
	uint16_t port;
	struct pc_client_addr src[PC_TRIAL_SOURCES];
	int nsrc;
};

/* ---- pure parts (unit-tested) ---- */

/* Group ports by (client, server): every port is in one group at least, from each of its
 * clients while there are groups left, else in the defaults' group. Loopback clients use
 * the defaults (a veth cannot carry them). Returns the number of groups (<= max), specs
 * malloc'd per group (free with pc_trial_groups_free). */
int pc_trial_groups(const struct pc_trial_input *in, int n, struct pc_trial_group *g, int max);
void pc_trial_groups_free(struct pc_trial_group *g, int n);
/* The trial's findings as JSON: {"ports":[...],"newly_blocked","groups","error"}. */
struct json_object *pc_trial_json(const struct pc_trial *t);
/* "tcp/8001:in from 198.51.100.1: inet filter input handle 7: tcp dport 8001 drop" */
void pc_trial_port_line(const struct pc_trial_port *p, char *buf, size_t len);

/* ---- the child ---- */

/* Fork a child that tries candidate against baseline (both nft text) for each group
 * (iface: the interface name the rules see). 0 or -errno. */
int pc_trial_start(struct pc_trial *t, const char *baseline, const char *candidate,
		   const struct pc_trial_group *g, int ng, const char *iface);
int pc_trial_fd(const struct pc_trial *t);
/* Read what the child wrote; true once it is complete (t->done, results filled). */
bool pc_trial_read(struct pc_trial *t);
void pc_trial_free(struct pc_trial *t);

#endif
