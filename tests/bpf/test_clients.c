// SPDX-License-Identifier: GPL-2.0
/* test_clients.c: the connection sampler (tp_btf/inet_sock_set_state) fed by real TCP on lo. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clients.h"
#include "portcanary.h"
#include "portcanary.skel.h"

/*
 * The binary runs in a private network namespace with lo up, and the program is loaded to
 * sample that namespace only: connections elsewhere on the host never reach the map, so
 * every assertion is exact.
 */
enum {
	P_SERVED = 47180, /* a listener here: connections complete */
	P_CLOSED = 47181, /* nothing listens: refused */
	P_V6 = 47182,
};

static struct portcanary_bpf *skel;
static struct bpf_link *sampler;
static struct pc_clients cl;

static int lo_up(void)
{
	struct ifreq ifr = {.ifr_name = "lo"};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) ||
		  (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr));

	if (s >= 0)
		close(s);
	return err ? -1 : 0;
}

static unsigned int netns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : st.st_ino;
}

/* One TCP connection to port on addr (family), accepted and closed; true if it connected. */
static bool connect_once(int family, const char *addr, uint16_t port, bool listen_first)
{
	struct sockaddr_storage ss = {};
	socklen_t len;
	int l = -1, c, one = 1;
	bool ok;

	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &a->sin6_addr);
		len = sizeof(*a);
	}
	if (listen_first) {
		l = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		assert_int_equal(bind(l, (struct sockaddr *)&ss, len), 0);
		assert_int_equal(listen(l, 8), 0);
	}
	c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = connect(c, (struct sockaddr *)&ss, len) == 0;
	if (ok && l >= 0) {
		int a = accept(l, NULL, NULL);

		if (a >= 0)
			close(a);
	}
	close(c);
	if (l >= 0)
		close(l);
	return ok;
}

static int reset(void **state)
{
	struct pc_client_key k, next;
	int fd = bpf_map__fd(skel->maps.pc_clients);

	(void)state;
	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		k = next;
		bpf_map_delete_elem(fd, &k);
	}
	return 0;
}

static void test_served_port_both_directions(void **state)
{
	struct pc_client_addr a[4];
	char buf[64];

	(void)state;
	assert_true(connect_once(AF_INET, "127.0.0.1", P_SERVED, true));
	/* The passive open: port P_SERVED inbound, the remote end is the client. */
	assert_int_equal(pc_clients_read(&cl, PC_DIR_IN, P_SERVED, a, 4), 1);
	assert_int_equal(a[0].family, AF_INET);
	pc_client_addr_str(&a[0], false, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1");
	pc_client_addr_str(&a[0], true, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1");
	assert_true(a[0].seen_ns > 0);
	/* The active open: the same port, outbound (this host called it). */
	assert_int_equal(pc_clients_read(&cl, PC_DIR_OUT, P_SERVED, a, 4), 1);
	/* Nothing else was sampled under these keys. */
	assert_int_equal(pc_clients_read(&cl, PC_DIR_IN, P_CLOSED, a, 4), 0);
}

static void test_refused_is_not_a_client(void **state)
{
	struct pc_client_addr a[4];

	(void)state;
	assert_false(connect_once(AF_INET, "127.0.0.1", P_CLOSED, false));
	assert_int_equal(pc_clients_read(&cl, PC_DIR_IN, P_CLOSED, a, 4), 0);
	assert_int_equal(pc_clients_read(&cl, PC_DIR_OUT, P_CLOSED, a, 4), 0);
}

static void test_prefixes_counted_once(void **state)
{
	struct pc_client_addr a[4];
	char buf[64];
	int i;

	(void)state;
	/* Ten connections from 127.0.0.1 and one from 127.0.0.2: one /24, the newest. */
	for (i = 0; i < 10; i++)
		assert_true(connect_once(AF_INET, "127.0.0.1", P_SERVED, true));
	assert_int_equal(pc_clients_read(&cl, PC_DIR_IN, P_SERVED, a, 4), 1);
	assert_true(connect_once(AF_INET, "127.0.0.2", P_SERVED, true));
	assert_int_equal(pc_clients_read(&cl, PC_DIR_IN, P_SERVED, a, 4), 1);
	pc_client_addr_str(&a[0], true, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.2");
}

static void test_ipv6(void **state)
{
	struct pc_client_addr a[4];
	char buf[64];

	(void)state;
	assert_true(connect_once(AF_INET6, "::1", P_V6, true));
	assert_int_equal(pc_clients_read(&cl, PC_DIR_IN, P_V6, a, 4), 1);
	assert_int_equal(a[0].family, AF_INET6);
	pc_client_addr_str(&a[0], false, buf, sizeof(buf));
	assert_string_equal(buf, "::1");
}

/* The pure merge: newest first, one per prefix, empty slots skipped. */
static void test_merge(void **state)
{
	struct pc_client_entry e[6] = {};
	struct pc_client_addr a[4];
	uint8_t v4[4][4] = {{10, 0, 0, 1}, {10, 0, 0, 2}, {10, 0, 1, 1}, {192, 168, 0, 7}};
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		e[i].family = AF_INET;
		e[i].seen_ns = 100 + i;
		memcpy(e[i].client, v4[i], 4);
	}
	e[4].family = AF_INET6;
	e[4].seen_ns = 50;
	e[4].client[0] = 0x20;
	/* e[5]: an empty slot (seen_ns 0). */
	assert_int_equal(pc_clients_merge(e, 6, a, 4), 4);
	assert_int_equal(a[0].client[0], 192);
	assert_int_equal(a[1].client[2], 1); /* 10.0.1.1 */
	assert_int_equal(a[2].client[3], 2); /* 10.0.0.2: newer than 10.0.0.1, same /24 */
	assert_int_equal(a[3].family, AF_INET6);
	assert_int_equal(pc_clients_merge(e, 6, a, 2), 2);
}

static int group_setup(void **state)
{
	int err;

	(void)state;
	if (unshare(CLONE_NEWNET) || lo_up()) {
		fprintf(stderr, "test_clients: a network namespace with lo up: %s (run as root)\n",
			strerror(errno));
		return -1;
	}
	skel = portcanary_bpf__open();
	if (!skel)
		return -1;
	skel->rodata->pc_clients_netns = netns_ino();
	err = portcanary_bpf__load(skel);
	if (err) {
		fprintf(stderr, "test_clients: cannot load the BPF object: %s\n", strerror(-err));
		return -1;
	}
	sampler = bpf_program__attach(skel->progs.pc_sock_state);
	if (!sampler) {
		fprintf(stderr, "test_clients: cannot attach tp_btf/inet_sock_set_state: %s\n",
			strerror(errno));
		return -1;
	}
	cl = (struct pc_clients){.map_fd = bpf_map__fd(skel->maps.pc_clients),
				 .ncpus = libbpf_num_possible_cpus()};
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	bpf_link__destroy(sampler);
	portcanary_bpf__destroy(skel);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_served_port_both_directions, reset),
		cmocka_unit_test_setup(test_refused_is_not_a_client, reset),
		cmocka_unit_test_setup(test_prefixes_counted_once, reset),
		cmocka_unit_test_setup(test_ipv6, reset),
		cmocka_unit_test(test_merge),
	};

	libbpf_set_print(NULL);
	return cmocka_run_group_tests_name("clients", tests, group_setup, group_teardown);
}
