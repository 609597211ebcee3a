// SPDX-License-Identifier: GPL-2.0
/* replayer.c: the lister (live namespace, hears commits, lists the ruleset) and the sandbox replayer processes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <json-c/json.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "clock.h"
#include "firewall/nft.h"
#include "firewall/replayer.h"
#include "linebuf.h"
#include "log.h"
#include "preflight/replay.h"
#include "spawn.h"
#include "jsonutil.h"

static int send_json(int fd, struct json_object *o)
{
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	int ret = pc_write_all(fd, t, strlen(t)) || pc_write_all(fd, "\n", 1) ? -1 : 0;

	json_object_put(o);
	return ret;
}

/* ---- the replayer: in the sandbox ---- */

static void replayer_main(int fd, const char ifnames[][IF_NAMESIZE], int n)
{
	struct pc_replay *rp = NULL;
	struct pc_linebuf in = {0};
	char err[600];
	char *line;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "pc-replayer");
	/* A user namespace of our own first: the creator holds every capability in it, so
	 * the sandbox needs no CAP_SYS_ADMIN over the host, and the host's ruleset (owned by
	 * the initial user namespace) is out of reach; then a network namespace of ours. */
	if (unshare(CLONE_NEWUSER) || unshare(CLONE_NEWNET)) {
		snprintf(err, sizeof(err), "cannot create a user namespace for the sandbox: %s",
			 strerror(errno));
	} else if (pc_replay_open(&rp, ifnames, n, err, sizeof(err))) {
		rp = NULL;
	}
	if (!rp) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "op", json_object_new_string("failed"));
		json_object_object_add(o, "error", json_object_new_string(err));
		send_json(fd, o);
		_exit(1);
	}
	for (;;) {
		struct json_object *msg, *reply, *v;
		const char *op;

		while (!(line = pc_linebuf_next(&in)))
			if (pc_linebuf_fill(&in, fd) < 0)
				_exit(0); /* the lister is gone */
		msg = json_tokener_parse(line);
		op = msg && json_object_object_get_ex(msg, "op", &v) ? json_object_get_string(v)
								     : "";
		if (!strcmp(op, "load")) {
			uint32_t gen = json_object_object_get_ex(msg, "generation", &v)
					       ? (uint32_t)json_object_get_int64(v)
					       : 0;
			double t0 = pc_mono_now() * 1e3;
			int ret;

			json_object_object_get_ex(msg, "text", &v);
			ret = pc_replay_load(rp, v ? json_object_get_string(v) : "", gen, err,
					     sizeof(err));
			reply = json_object_new_object();
			json_object_object_add(reply, "op", json_object_new_string("loaded"));
			json_object_object_add(reply, "generation", json_object_new_int64(gen));
			json_object_object_add(reply, "ok", json_object_new_boolean(!ret));
			if (ret)
				json_object_object_add(reply, "error", json_object_new_string(err));
			json_object_object_add(
				reply, "us",
				json_object_new_int64((pc_mono_now() * 1e3 - t0) * 1000));
			send_json(fd, reply);
		} else if (!strcmp(op, "replay")) {
			static struct pc_replay_req req;
			struct pc_replay_result res;
			uint32_t id;
			int slot;

			if (!pc_replay_req_parse(msg, &req, &id, &slot)) {
				pc_replay_run(rp, &req, &res);
				send_json(fd, pc_replay_result_json(&res, id, slot));
			}
			/* Out of addresses: a new sandbox, by the daemon starting us again. */
			if (pc_replay_full(rp))
				_exit(0);
		}
		json_object_put(msg);
	}
}

/* ---- the lister: in the daemon's namespace ---- */

/* Send the replayer the live ruleset as of one generation (read twice around the listing:
 * a commit in between makes us list again). */
static void send_listing(int sfd)
{
	struct json_object *o;
	uint32_t g1 = 0, g2 = 1;
	char *text = NULL;
	int tries;

	for (tries = 0; tries < 3 && g1 != g2; tries++) {
		free(text);
		if (pc_nft_genid(&g1))
			g1 = 0;
		text = pc_nft_list(PC_NFT_LIST_HANDLES);
		if (pc_nft_genid(&g2))
			g2 = 0;
	}
	o = json_object_new_object();
	json_object_object_add(o, "op", json_object_new_string("load"));
	json_object_object_add(o, "generation", json_object_new_int64(g2));
	json_object_object_add(o, "text", json_object_new_string(text ? text : ""));
	free(text);
	send_json(sfd, o);
}

/* Drain the commit notifications; true when there was one. */
static bool heard_commit(struct mnl_socket *ev)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	bool any = false;
	ssize_t n;

	while ((n = mnl_socket_recvfrom(ev, buf, sizeof(buf))) > 0 || (n < 0 && errno == ENOBUFS))
		any = true;
	return any;
}

static void lister_main(int dfd, const char ifnames[][IF_NAMESIZE], int n)
{
	struct mnl_socket *ev = NULL;
	struct pc_linebuf fromd = {0}, froms = {0};
	int sp[2];
	pid_t pid;
	char *line;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "pc-lister");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
		_exit(1);
	pid = fork();
	if (pid == 0) {
		close(dfd);
		close(sp[0]);
		replayer_main(sp[1], ifnames, n);
	}
	close(sp[1]);
	if (pid < 0)
		_exit(1);
	ev = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!ev || mnl_socket_bind(ev, 1 << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID))
		_exit(1);
	fcntl(dfd, F_SETFL, O_NONBLOCK);
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	heard_commit(ev);
	send_listing(sp[0]);
	for (;;) {
		struct pollfd pfd[3] = {
			{.fd = dfd, .events = POLLIN},
			{.fd = sp[0], .events = POLLIN},
			{.fd = mnl_socket_get_fd(ev), .events = POLLIN},
		};
		bool dirty = false;

		if (poll(pfd, 3, -1) < 0 && errno != EINTR)
			_exit(1);
		/* A commit: the copy is renewed at once, and before any request behind it. */
		if (pfd[2].revents & POLLIN)
			dirty = heard_commit(ev);
		if (pfd[0].revents & (POLLIN | POLLHUP) && pc_linebuf_fill(&fromd, dfd) < 0)
			_exit(0); /* the daemon is gone */
		dirty |= heard_commit(ev);
		if (dirty)
			send_listing(sp[0]);
		while ((line = pc_linebuf_next(&fromd))) {
			if (pc_write_all(sp[0], line, strlen(line)) || pc_write_all(sp[0], "\n", 1))
				_exit(1);
		}
		if (pfd[1].revents & (POLLIN | POLLHUP) && pc_linebuf_fill(&froms, sp[0]) < 0)
			_exit(1); /* the replayer died: the daemon starts us again */
		while ((line = pc_linebuf_next(&froms))) {
			if (pc_write_all(dfd, line, strlen(line)) || pc_write_all(dfd, "\n", 1))
				_exit(0);
		}
	}
}

pid_t pc_replayer_spawn(const char ifnames[][IF_NAMESIZE], int n, int *fd)
{
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
		return -errno;
	pid = pc_fork_child();
	if (pid == 0) {
		close(sp[0]);
		lister_main(sp[1], ifnames, n);
	}
	close(sp[1]);
	if (pid < 0) {
		close(sp[0]);
		return -errno;
	}
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	*fd = sp[0];
	return pid;
}
