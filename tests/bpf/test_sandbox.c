// SPDX-License-Identifier: GPL-2.0
/* test_sandbox.c: preflight's sandbox passes traffic both ways as soon as it is built. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "preflight/sandbox.h"

/*
 * A probe's verdict must be the ruleset's, never the sandbox's own: a packet the veth pair
 * loses before the ruleset sees it makes a reachable port look blocked until a retry. The
 * end brought up first gets its transmit queue started by the kernel's link watcher, later
 * than the end brought up second; under a teardown of other namespaces that was seen to come
 * after the first SYN-ACK (test_fwblock, about one run in three of the full suite). Each
 * round builds a sandbox and at once sends one datagram each way, with the previous round's
 * namespaces being torn down meanwhile: UDP has no retransmission, so a lost datagram fails.
 */
#define ROUNDS	       100
#define UDP_PORT       47190
#define ARRIVE_WAIT_MS 200

/* One datagram from `from` to `to`, over the pair; true when it arrived. */
static bool crosses(const struct pc_sandbox *sb, int family, enum pc_sb_side from,
		    enum pc_sb_side to)
{
	struct sockaddr_storage src, dst;
	socklen_t sl = pc_sb_sockaddr(family, &sb->cfg.addr[from], 0, &src);
	socklen_t dl = pc_sb_sockaddr(family, &sb->cfg.addr[to], UDP_PORT, &dst);
	int rx = pc_sandbox_socket(sb, to, family, SOCK_DGRAM, 0);
	int tx = pc_sandbox_socket(sb, from, family, SOCK_DGRAM, 0);
	bool ok = false;
	char c;

	if (rx >= 0 && tx >= 0 && !bind(rx, (struct sockaddr *)&dst, dl) &&
	    !bind(tx, (struct sockaddr *)&src, sl) &&
	    sendto(tx, "x", 1, 0, (struct sockaddr *)&dst, dl) == 1) {
		struct pollfd p = {.fd = rx, .events = POLLIN};

		ok = poll(&p, 1, ARRIVE_WAIT_MS) == 1 && recv(rx, &c, 1, MSG_DONTWAIT) == 1;
	}
	if (rx >= 0)
		close(rx);
	if (tx >= 0)
		close(tx);
	return ok;
}

static void rounds(int family, const char *host_addr, const char *peer_addr)
{
	struct pc_sandbox_cfg cfg = {.family = family};
	struct pc_sandbox sb;
	char err[256];
	int i, lost_in = 0, lost_out = 0;

	assert_int_equal(pc_sb_addr_parse(host_addr, &cfg.addr[PC_SB_HOST]), family);
	assert_int_equal(pc_sb_addr_parse(peer_addr, &cfg.addr[PC_SB_PEER]), family);
	snprintf(cfg.ifname[PC_SB_HOST], IF_NAMESIZE, "eth0");
	snprintf(cfg.ifname[PC_SB_PEER], IF_NAMESIZE, "pcpeer0");
	for (i = 0; i < ROUNDS; i++) {
		err[0] = '\0';
		if (pc_sandbox_create(&sb, &cfg, err, sizeof(err)))
			fail_msg("round %d: %s", i, err);
		/* host first: the end whose queue the link watcher starts sends first */
		lost_out += !crosses(&sb, family, PC_SB_HOST, PC_SB_PEER);
		lost_in += !crosses(&sb, family, PC_SB_PEER, PC_SB_HOST);
		pc_sandbox_destroy(&sb);
	}
	if (lost_out || lost_in)
		fail_msg("of %d fresh sandboxes, %d lost the host's first datagram and %d the "
			 "peer's",
			 ROUNDS, lost_out, lost_in);
}

static void test_ipv4_at_once(void **state)
{
	(void)state;
	rounds(AF_INET, "192.0.2.1", "198.51.100.7");
}

static void test_ipv6_at_once(void **state)
{
	(void)state;
	rounds(AF_INET6, "2001:db8::1", "2001:db8:1::7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_at_once),
		cmocka_unit_test(test_ipv6_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
