// SPDX-License-Identifier: GPL-2.0
/* test_drops.c: the kfree_skb drop tracer, fed by PROG_TEST_RUN's freed skbs and by drops on lo. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>
#include <nftables/libnftables.h>
#include <time.h>

#include "portcanary.h"
#include "portcanary.skel.h"
#include "sampler.h"
#include "dropreason.h"
#include "droptable.h"
#include "drops.h"
#include "loader.h"
#include "pkt.h"

/*
 * How the drops are made. BPF_PROG_TEST_RUN of a TC program builds an skb in the
 * caller's network namespace (skb->dev is its loopback, skb->protocol and the
 * network header come from eth_type_trans()), runs the program and frees the skb
 * with kfree_skb(): reason NOT_SPECIFIED on the kernels we know (checked below by
 * name, from BTF). The __sk_buff context's ingress_ifindex becomes skb->skb_iif,
 * which is how the tracer tells a received packet from a locally generated one.
 *
 * The whole binary runs in a private network namespace (M) of its own, so the only
 * drops in M are the ones a test makes. The tracer is global, though: drops in every
 * other namespace of the host (other test suites, containers) still reach it and
 * count as pc_global.packets and foreign_netns. Assertions are therefore exact on
 * everything attributable to M, and on packets - foreign_netns; the netns tests
 * measure foreign_netns on one CPU in a quiet window.
 */

/* Ports and slots the tests watch; unusual port numbers, so nothing else uses them. */
enum {
	P_WEB = 47080,	  /* TCP, inbound: a server here */
	P_API = 47443,	  /* TCP, outbound: a service this host calls */
	P_BOTH = 47022,	  /* TCP, watched in both directions (separate slots) */
	P_DNS = 47053,	  /* UDP, inbound */
	P_SYSLOG = 47514, /* UDP, outbound */
	P_OTHER = 47999,  /* never watched */
	P_RARE = 47777,	  /* UDP, inbound, in the unfiltered test only */
	P_CLIENT = 40000, /* the remote/ephemeral side: never watched */
};

enum {
	S_WEB_IN = 1,
	S_API_OUT,
	S_BOTH_IN,
	S_BOTH_OUT,
	S_DNS_IN,
	S_SYSLOG_OUT,
	S_RARE_IN,
};

/* skb_iif of a received test skb; any nonzero value means "received". */
#define IIF_RX	  1
#define IIF_LOCAL 0

static struct portcanary_bpf *skel;
static struct bpf_link *tracer;	    /* the tracer of the main skeleton */
static struct pc_port_table *ports; /* its .bss, mapped by the skeleton */
static struct pc_dropreasons *reasons;
static unsigned int r_unspec; /* NOT_SPECIFIED: the test run's kfree_skb() */
static unsigned int r_nosock; /* NO_SOCKET: a SYN or datagram to a closed port */
static unsigned int r_nf;     /* NETFILTER_DROP */
static int ncpus;
static int ns_main = -1, ns_quiet = -1; /* fds of M and of a second, idle namespace Q */
static unsigned int ino_main, ino_quiet;

/* One expected pc_drops entry. */
struct drop_exp {
	uint16_t slot;
	unsigned int reason;
	uint64_t count;
};

/* Expected drop-hook globals: packets means "examined in M" (packets - foreign_netns). */
struct glob_exp {
	uint64_t packets, not_ip, malformed, frag_nonfirst, other_l4, monitored;
};

static void watch_defaults(struct pc_port_table *t)
{
	t->slot[PC_PORT_INDEX(P_WEB)][PC_PROTO_TCP][PC_DIR_IN] = S_WEB_IN;
	t->slot[PC_PORT_INDEX(P_API)][PC_PROTO_TCP][PC_DIR_OUT] = S_API_OUT;
	t->slot[PC_PORT_INDEX(P_BOTH)][PC_PROTO_TCP][PC_DIR_IN] = S_BOTH_IN;
	t->slot[PC_PORT_INDEX(P_BOTH)][PC_PROTO_TCP][PC_DIR_OUT] = S_BOTH_OUT;
	t->slot[PC_PORT_INDEX(P_DNS)][PC_PROTO_UDP][PC_DIR_IN] = S_DNS_IN;
	t->slot[PC_PORT_INDEX(P_SYSLOG)][PC_PROTO_UDP][PC_DIR_OUT] = S_SYSLOG_OUT;
}

/* The drop table of s, mapped as the daemon maps it; pc_drop_table_close() after. */
static struct pc_drop_table table_of(struct portcanary_bpf *s)
{
	struct pc_drop_table t;

	assert_int_equal(pc_drop_table_open(&t, bpf_map__fd(s->maps.pc_drop_keys),
					    bpf_map__fd(s->maps.pc_drops)),
			 0);
	return t;
}

/* Every index of the drop table freed, its counts zeroed. */
static void clear_drops(struct portcanary_bpf *s)
{
	struct pc_drop_table t = table_of(s);
	int i, c;

	for (i = 0; i < PC_MAX_DROP_KEYS; i++) {
		t.keys[i] = 0;
		for (c = 0; c < t.ncpus; c++)
			t.counts[PC_DROP_COUNTS_KEY(c, i)] = 0;
	}
	pc_drop_table_close(&t);
}

static void clear_global(struct portcanary_bpf *s)
{
	struct pc_hook_stats *zero = calloc(ncpus, sizeof(*zero));
	int fd = bpf_map__fd(s->maps.pc_global);
	uint32_t k;

	assert_non_null(zero);
	for (k = 0; k < PC_HOOK_MAX; k++)
		assert_int_equal(bpf_map_update_elem(fd, &k, zero, BPF_ANY), 0);
	free(zero);
}

static struct pc_global read_global(struct portcanary_bpf *s, int cpu);

/*
 * packets - foreign_netns of s at rest: the drops it examined in M. Drops elsewhere
 * on the host run the tracer all the time, and one caught between its packets++ and
 * its foreign_netns++ (by a read, or by the zeroing in reset) shifts the difference;
 * two equal reads in a row are taken as the value at rest.
 */
static uint64_t local_examined(struct portcanary_bpf *s)
{
	uint64_t prev = UINT64_MAX, v = 0;
	struct pc_global g;
	int try;

	for (try = 0; try < 200; try++) {
		g = read_global(s, -1);
		v = g.packets - g.foreign_netns;
		if (v == prev)
			break;
		prev = v;
		usleep(1000);
	}
	return v;
}

static uint64_t base_main; /* local_examined(skel) after the reset */

/* The samples of the slots the tests use, emptied. */
static void clear_samples(struct portcanary_bpf *s)
{
	struct pc_drop_samples zero = {0};
	uint32_t k;

	for (k = 0; k < 16; k++)
		assert_int_equal(bpf_map_update_elem(bpf_map__fd(s->maps.pc_drop_samples), &k,
						     &zero, BPF_ANY),
				 0);
}

static int reset(void **state)
{
	(void)state;
	memset(ports, 0, sizeof(*ports));
	watch_defaults(ports);
	clear_drops(skel);
	clear_samples(skel);
	clear_global(skel);
	base_main = local_examined(skel);
	return 0;
}

/* The drop hook's globals, summed over CPUs (cpu < 0), or of one CPU, as user space reads them. */
static struct pc_global read_global(struct portcanary_bpf *s, int cpu)
{
	struct pc_hook_stats v[ncpus], sum = {0};
	uint32_t key = PC_HOOK_DROP;
	struct pc_global g;
	int i;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(s->maps.pc_global), &key, v), 0);
	for (i = 0; i < ncpus; i++) {
		if (cpu >= 0 && i != cpu)
			continue;
		sum.seen += v[i].seen;
		sum.not_ip += v[i].not_ip;
		sum.malformed += v[i].malformed;
		sum.frag_nonfirst += v[i].frag_nonfirst;
		sum.other_l4 += v[i].other_l4;
		sum.monitored += v[i].monitored;
		sum.icmp_noport += v[i].icmp_noport;
		sum.foreign_netns += v[i].foreign_netns;
	}
	pc_global_derive(NULL, NULL, &sum, &g);
	return g;
}

#define CHECK_FIELD(got, want, name)                                                               \
	do {                                                                                       \
		if ((uint64_t)(got) != (uint64_t)(want)) {                                         \
			print_error("drop global %s = %llu, expected %llu\n", name,                \
				    (unsigned long long)(got), (unsigned long long)(want));        \
			bad++;                                                                     \
		}                                                                                  \
	} while (0)

/* base: local_examined(s) before the test's drops. */
static void expect_global_of(struct portcanary_bpf *s, uint64_t base, const struct glob_exp *e)
{
	uint64_t local = local_examined(s) - base;
	struct pc_global g = read_global(s, -1);
	int bad = 0;

	/* foreign_netns counts the rest of the host (see the top of the file). */
	CHECK_FIELD(local, e->packets, "packets - foreign_netns");
	CHECK_FIELD(g.not_ip, e->not_ip, "not_ip");
	CHECK_FIELD(g.malformed, e->malformed, "malformed");
	CHECK_FIELD(g.frag_nonfirst, e->frag_nonfirst, "frag_nonfirst");
	CHECK_FIELD(g.other_l4, e->other_l4, "other_l4");
	CHECK_FIELD(g.monitored, e->monitored, "monitored");
	CHECK_FIELD(g.icmp_errors, 0, "icmp_errors");
	assert_int_equal(bad, 0);
}

static void expect_global(const struct glob_exp *e)
{
	expect_global_of(skel, base_main, e);
}

/*
 * The drop table must hold exactly the n (slot, reason) keys of e, each with its count
 * (summed over CPUs and over the indices that hold it), nothing else; and every key within
 * PC_DROP_PROBES indices of where its probe sequence starts, where the tracer looks.
 */
static void expect_drops_of(struct portcanary_bpf *s, const struct drop_exp *e, int n)
{
	struct pc_drop_table t = table_of(s);
	uint64_t got[n + 1];
	int bad = 0, i, j;

	memset(got, 0, sizeof(got));
	for (i = 0; i < PC_MAX_DROP_KEYS; i++) {
		__u64 k = pc_drop_table_key(&t, i);
		unsigned int slot = PC_DROP_KEY_SLOT(k), reason = PC_DROP_KEY_REASON(k);

		if (!k)
			continue;
		if (((i - pc_drop_hash(k)) & (PC_MAX_DROP_KEYS - 1)) >= PC_DROP_PROBES) {
			print_error(
				"drop table: slot %u reason %u at index %d, %u past its start\n",
				slot, reason, i, (i - pc_drop_hash(k)) & (PC_MAX_DROP_KEYS - 1));
			bad++;
		}
		if (k >> 16 & 0xffff) {
			print_error("drop table: key %#llx has bits between slot and reason\n",
				    (unsigned long long)k);
			bad++;
		}
		for (j = 0; j < n; j++)
			if (e[j].slot == slot && e[j].reason == reason)
				break;
		if (j == n) {
			print_error("drop table: unexpected slot %u reason %u (%s) = %llu\n", slot,
				    reason, pc_dropreason_name(reasons, reason) ?: "?",
				    (unsigned long long)pc_drop_table_count(&t, i));
			bad++;
			continue;
		}
		got[j] += pc_drop_table_count(&t, i);
	}
	for (j = 0; j < n; j++)
		if (got[j] != e[j].count) {
			print_error("drop table: slot %u reason %s = %llu, expected %llu\n",
				    e[j].slot, pc_dropreason_name(reasons, e[j].reason) ?: "?",
				    (unsigned long long)got[j], (unsigned long long)e[j].count);
			bad++;
		}
	pc_drop_table_close(&t);
	assert_int_equal(bad, 0);
}

static void expect_drops(const struct drop_exp *e, int n)
{
	expect_drops_of(skel, e, n);
}

static void expect_no_drops(void)
{
	expect_drops(NULL, 0);
}

/*
 * Run one frame through the TC egress program (any TC program would do: its skb is
 * what gets freed). The tracer must not change what the program returns or the packet.
 */
static void run_frame(const uint8_t *pkt, size_t len, uint32_t iif)
{
	uint8_t out[PKT_MAX + 256];
	struct __sk_buff ctx = {.ingress_ifindex = iif};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.pc_tc_egress), &o);
	if (err) {
		pkt_dump("test run failed", pkt, len);
		fail_msg("bpf_prog_test_run_opts(pc_tc_egress, %zu bytes): %s", len,
			 strerror(-err));
	}
	assert_int_equal((int)o.retval, TC_ACT_UNSPEC);
	assert_int_equal(o.data_size_out, len);
	if (memcmp(out, pkt, len)) {
		pkt_dump("packet before", pkt, len);
		pkt_dump("packet after", out, len);
		fail_msg("the packet changed");
	}
}

static size_t send_spec(const struct pkt_spec *s, uint32_t iif)
{
	uint8_t pkt[PKT_MAX];
	size_t len = pkt_build(s, pkt, sizeof(pkt));

	assert_true(len >= 14);
	run_frame(pkt, len, iif);
	return len;
}

/* ---- attribution ---- */

static void test_syn_in_received(void **state)
{
	struct pkt_spec s = pkt_tcp4(P_CLIENT, P_WEB, PKT_SYN);
	const struct drop_exp d[] = {{S_WEB_IN, r_unspec, 1}};

	(void)state;
	s.tcp_opt_words = 5;
	send_spec(&s, IIF_RX);
	expect_drops(d, 1);
	expect_global(&(struct glob_exp){.packets = 1, .monitored = 1});
}

static void test_direction_received(void **state)
{
	struct pkt_spec to_both = pkt_tcp4(P_CLIENT, P_BOTH, PKT_SYN);
	struct pkt_spec from_both = pkt_tcp4(P_BOTH, P_CLIENT, PKT_SYN | PKT_ACK);
	struct pkt_spec from_api = pkt_tcp4(P_API, P_CLIENT, PKT_RST | PKT_ACK);
	struct pkt_spec from_web = pkt_tcp4(P_WEB, P_CLIENT, PKT_ACK);

	(void)state;
	/* Received: IN by destination port (a client's SYN to our server)... */
	send_spec(&to_both, IIF_RX);
	expect_drops((const struct drop_exp[]){{S_BOTH_IN, r_unspec, 1}}, 1);
	/* ...OUT by source port (the answer of a service we call). */
	send_spec(&from_both, IIF_RX);
	send_spec(&from_api, IIF_RX);
	/* A received packet from port P_WEB is not our web server's traffic: nothing. */
	send_spec(&from_web, IIF_RX);
	expect_drops((const struct drop_exp[]){{S_BOTH_IN, r_unspec, 1},
					       {S_BOTH_OUT, r_unspec, 1},
					       {S_API_OUT, r_unspec, 1}},
		     3);
	expect_global(&(struct glob_exp){.packets = 4, .monitored = 3});
}

static void test_direction_local(void **state)
{
	struct pkt_spec to_both = pkt_tcp4(P_CLIENT, P_BOTH, PKT_SYN);
	struct pkt_spec from_both = pkt_tcp4(P_BOTH, P_CLIENT, PKT_SYN | PKT_ACK);
	struct pkt_spec to_api = pkt_tcp6(P_CLIENT, P_API, PKT_SYN);
	struct pkt_spec to_web = pkt_tcp4(P_CLIENT, P_WEB, PKT_SYN);

	(void)state;
	/* Locally generated: OUT by destination port (our SYN to a service we call)... */
	send_spec(&to_both, IIF_LOCAL);
	expect_drops((const struct drop_exp[]){{S_BOTH_OUT, r_unspec, 1}}, 1);
	send_spec(&to_api, IIF_LOCAL);
	/* ...IN by source port (our server's SYN-ACK). */
	send_spec(&from_both, IIF_LOCAL);
	/* A packet we send to someone's port P_WEB is not our web server's: nothing. */
	send_spec(&to_web, IIF_LOCAL);
	expect_drops((const struct drop_exp[]){{S_BOTH_OUT, r_unspec, 1},
					       {S_API_OUT, r_unspec, 1},
					       {S_BOTH_IN, r_unspec, 1}},
		     3);
	expect_global(&(struct glob_exp){.packets = 4, .monitored = 3});
}

static void test_one_drop_two_slots(void **state)
{
	/* P_BOTH to P_BOTH: one drop, on the IN and the OUT slot, monitored once. */
	struct pkt_spec s = pkt_tcp4(P_BOTH, P_BOTH, PKT_SYN);
	/* Our server P_WEB answering a client whose port is a service we call. */
	struct pkt_spec t = pkt_tcp4(P_WEB, P_API, PKT_SYN | PKT_ACK);

	(void)state;
	send_spec(&s, IIF_RX);
	send_spec(&s, IIF_LOCAL);
	send_spec(&t, IIF_LOCAL);
	expect_drops((const struct drop_exp[]){{S_BOTH_IN, r_unspec, 2},
					       {S_BOTH_OUT, r_unspec, 2},
					       {S_WEB_IN, r_unspec, 1},
					       {S_API_OUT, r_unspec, 1}},
		     4);
	expect_global(&(struct glob_exp){.packets = 3, .monitored = 3});
}

/* ---- the drop table: probing, a slot freed, a full probe sequence ---- */

/* Index i steps along a probe sequence from start (the table wraps). */
#define AT(start, i) (((start) + (i)) & (PC_MAX_DROP_KEYS - 1))

/* Free one slot's keys, as the port set does for a slot it hands to another port. */
static void forget_one(struct pc_drop_table *t, int slot)
{
	bool forget[PC_MAX_SLOTS] = {false};

	forget[slot] = true;
	pc_drop_table_forget(t, forget);
}

/* n keys of slots 1000 and up (none the tests watch) whose probe sequence starts at h, as the
 * key under test's does: they are where a real collision would put them. */
static void colliding_keys(__u32 h, int n, struct drop_exp *out)
{
	unsigned int slot, reason;
	int found = 0;

	for (reason = 1; found < n && reason < 1u << 24; reason++)
		for (slot = 1000; found < n && slot < PC_MAX_SLOTS; slot++)
			if (pc_drop_hash(PC_DROP_KEY(slot, reason)) == h)
				out[found++] = (struct drop_exp){slot, reason, 0};
	assert_int_equal(found, n);
}

/*
 * A key whose start index holds another key goes to the next free one; when the other
 * key's slot is freed (the slot given to another port), the next drop claims the start index
 * again: the key is then at two indices, and both the tracer's table and the daemon's reader
 * (pc_drops_read, through the same mapping) count it once, with every drop.
 */
static void test_table_probe_and_forget(void **state)
{
	struct pkt_spec syn = pkt_tcp4(P_CLIENT, P_WEB, PKT_SYN);
	__u64 k = PC_DROP_KEY(S_WEB_IN, r_unspec);
	__u32 h = pc_drop_hash(k);
	struct pc_drop_table t = table_of(skel);
	struct drop_exp o;
	struct pc_drops d;

	(void)state;
	colliding_keys(h, 1, &o);
	o.count = 5;
	assert_int_equal(pc_drops_init(&d, &t, reasons), 0);
	t.keys[h] = PC_DROP_KEY(o.slot, o.reason);
	t.counts[PC_DROP_COUNTS_KEY(0, h)] = 5;
	send_spec(&syn, IIF_RX);
	assert_true(t.keys[AT(h, 1)] == k);
	expect_drops((const struct drop_exp[]){{S_WEB_IN, r_unspec, 1}, o}, 2);
	assert_int_equal(pc_drops_read(&d), 0);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.slot_total[S_WEB_IN], 1);
	assert_int_equal(d.slot_total[o.slot], 5);

	forget_one(&t, o.slot);
	assert_true(t.keys[h] == 0);
	assert_true(t.counts[PC_DROP_COUNTS_KEY(0, h)] == 0);
	send_spec(&syn, IIF_RX);
	send_spec(&syn, IIF_RX);
	assert_true(t.keys[h] == k && t.keys[AT(h, 1)] == k);
	expect_drops((const struct drop_exp[]){{S_WEB_IN, r_unspec, 3}}, 1);
	assert_int_equal(pc_drops_read(&d), 0);
	assert_int_equal(d.n, 1); /* the freed slot's entry is forgotten */
	assert_int_equal(d.slot_total[S_WEB_IN], 3);
	assert_int_equal(d.slot_delta[S_WEB_IN], 2);
	assert_int_equal(d.delta_class[S_WEB_IN][pc_dropreason_class(reasons, r_unspec)], 2);

	forget_one(&t, S_WEB_IN);
	expect_no_drops();
	assert_int_equal(pc_drops_read(&d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(d.slot_total[S_WEB_IN], 0);
	pc_drops_free(&d);
	pc_drop_table_close(&t);
	expect_global(&(struct glob_exp){.packets = 3, .monitored = 3});
}

/* A probe sequence full of other keys: the drop is a monitored one in the hook's totals, and
 * no index is written. */
static void test_table_probe_sequence_full(void **state)
{
	struct pkt_spec syn = pkt_tcp4(P_CLIENT, P_WEB, PKT_SYN);
	__u32 h = pc_drop_hash(PC_DROP_KEY(S_WEB_IN, r_unspec));
	struct drop_exp others[PC_DROP_PROBES];
	struct pc_drop_table t = table_of(skel);
	int i;

	(void)state;
	colliding_keys(h, PC_DROP_PROBES, others);
	for (i = 0; i < PC_DROP_PROBES; i++)
		t.keys[AT(h, i)] = PC_DROP_KEY(others[i].slot, others[i].reason);
	send_spec(&syn, IIF_RX);
	assert_true(t.keys[AT(h, PC_DROP_PROBES)] == 0);
	pc_drop_table_close(&t);
	expect_drops_of(skel, others, PC_DROP_PROBES);
	expect_global(&(struct glob_exp){.packets = 1, .monitored = 1});
}

static void test_unmonitored(void **state)
{
	struct pkt_spec a = pkt_tcp4(P_CLIENT, P_OTHER, PKT_SYN);
	struct pkt_spec b = pkt_udp6(P_OTHER, P_CLIENT);
	/* A watched port number, the other protocol: TCP to the UDP port, UDP to the TCP one. */
	struct pkt_spec c = pkt_tcp4(P_CLIENT, P_DNS, PKT_SYN);
	struct pkt_spec d = pkt_udp4(P_CLIENT, P_WEB);

	(void)state;
	send_spec(&a, IIF_RX);
	send_spec(&a, IIF_LOCAL);
	send_spec(&b, IIF_RX);
	send_spec(&c, IIF_RX);
	send_spec(&d, IIF_RX);
	expect_no_drops();
	expect_global(&(struct glob_exp){.packets = 5});
}

static void test_udp(void **state)
{
	struct pkt_spec q4 = pkt_udp4(P_CLIENT, P_DNS), q6 = pkt_udp6(P_CLIENT, P_DNS);
	struct pkt_spec l4 = pkt_udp4(P_CLIENT, P_SYSLOG), l6 = pkt_udp6(P_CLIENT, P_SYSLOG);
	struct pkt_spec a4 = pkt_udp4(P_DNS, P_CLIENT);

	(void)state;
	send_spec(&q4, IIF_RX); /* a query to our DNS server */
	send_spec(&q6, IIF_RX);
	send_spec(&a4, IIF_LOCAL); /* its answer */
	send_spec(&l4, IIF_LOCAL); /* our log line to a remote syslog */
	send_spec(&l6, IIF_LOCAL);
	send_spec(&l4, IIF_RX); /* someone sending to port P_SYSLOG here: not ours */
	expect_drops(
		(const struct drop_exp[]){{S_DNS_IN, r_unspec, 3}, {S_SYSLOG_OUT, r_unspec, 2}}, 2);
	expect_global(&(struct glob_exp){.packets = 6, .monitored = 5});
}

/* ---- IPv4 and IPv6 shapes ---- */

static void test_ipv4_options(void **state)
{
	struct pkt_spec s = pkt_tcp4(P_CLIENT, P_WEB, PKT_SYN);

	(void)state;
	for (s.ip_opt_words = 0; s.ip_opt_words <= 10; s.ip_opt_words++)
		send_spec(&s, IIF_RX);
	expect_drops((const struct drop_exp[]){{S_WEB_IN, r_unspec, 11}}, 1);
	expect_global(&(struct glob_exp){.packets = 11, .monitored = 11});
}

static void test_ipv4_fragments(void **state)
{
	struct pkt_spec s = pkt_udp4(P_CLIENT, P_DNS);

	(void)state;
	s.payload = 400;
	/* The first fragment (offset 0, MF) carries the ports. */
	s.mf = true;
	send_spec(&s, IIF_RX);
	/* Later ones carry none: bytes at the L4 offset are payload, not ports. */
	s.frag_off = 51;
	send_spec(&s, IIF_RX);
	s.mf = false;
	send_spec(&s, IIF_RX);
	expect_drops((const struct drop_exp[]){{S_DNS_IN, r_unspec, 1}}, 1);
	expect_global(&(struct glob_exp){.packets = 3, .frag_nonfirst = 2, .monitored = 1});
}

static void test_ipv6_ext_headers(void **state)
{
	static const uint8_t types[] = {PKT_IP_HOPOPTS, PKT_IP_DSTOPTS, PKT_IP_ROUTING};
	struct pkt_spec s = pkt_tcp6(P_CLIENT, P_WEB, PKT_SYN);
	int i, len8;

	(void)state;
	/* Each extension header alone, short and long. */
	s.next = 1;
	for (i = 0; i < 3; i++)
		for (len8 = 0; len8 <= 3; len8 += 3) {
			s.ext[0] = (struct pkt_ext){.type = types[i], .len8 = len8};
			send_spec(&s, IIF_RX);
		}
	/* A chain the datapath also walks: hop-by-hop, dstopts, routing, first fragment,
	 * dstopts; the drop of such a packet must be attributed too. */
	s.next = 5;
	s.ext[0] = (struct pkt_ext){.type = PKT_IP_HOPOPTS, .len8 = 0};
	s.ext[1] = (struct pkt_ext){.type = PKT_IP_DSTOPTS, .len8 = 1};
	s.ext[2] = (struct pkt_ext){.type = PKT_IP_ROUTING, .len8 = 2};
	s.ext[3] = (struct pkt_ext){.type = PKT_IP_FRAGMENT, .more = true};
	s.ext[4] = (struct pkt_ext){.type = PKT_IP_DSTOPTS, .len8 = 0};
	send_spec(&s, IIF_RX);
	/* Seven: more than either walks; given up on as other_l4, as in the datapath. */
	s.next = 7;
	s.ext[5] = (struct pkt_ext){.type = PKT_IP_DSTOPTS};
	s.ext[6] = (struct pkt_ext){.type = PKT_IP_DSTOPTS};
	send_spec(&s, IIF_RX);
	expect_drops((const struct drop_exp[]){{S_WEB_IN, r_unspec, 7}}, 1);
	expect_global(&(struct glob_exp){.packets = 8, .other_l4 = 1, .monitored = 7});
}

static void test_ipv6_fragments(void **state)
{
	struct pkt_spec s = pkt_udp6(P_SYSLOG, P_CLIENT);

	(void)state;
	/* A received answer from the syslog service we call, in fragments. */
	s.payload = 300;
	s.next = 1;
	s.ext[0] = (struct pkt_ext){.type = PKT_IP_FRAGMENT, .frag_off = 0, .more = true};
	send_spec(&s, IIF_RX);
	s.ext[0] = (struct pkt_ext){.type = PKT_IP_FRAGMENT, .frag_off = 37, .more = false};
	send_spec(&s, IIF_RX);
	/* A non-first fragment behind a hop-by-hop header. */
	s.next = 2;
	s.ext[0] = (struct pkt_ext){.type = PKT_IP_HOPOPTS};
	s.ext[1] = (struct pkt_ext){.type = PKT_IP_FRAGMENT, .frag_off = 1, .more = true};
	send_spec(&s, IIF_RX);
	/* And a first one behind it. */
	s.ext[1] = (struct pkt_ext){.type = PKT_IP_FRAGMENT, .frag_off = 0, .more = true};
	send_spec(&s, IIF_RX);
	expect_drops((const struct drop_exp[]){{S_SYSLOG_OUT, r_unspec, 2}}, 1);
	expect_global(&(struct glob_exp){.packets = 4, .frag_nonfirst = 2, .monitored = 2});
}

static void test_not_ip_and_other_l4(void **state)
{
	struct pkt_spec arp = {.ethertype = PKT_ETH_ARP, .pad_to = 60};
	struct pkt_spec gre = {.ip = 4, .l4 = PKT_IP_GRE, .payload = 20};
	struct pkt_spec echo = {.ip = 4, .l4 = PKT_IP_ICMP, .icmp_type = 8, .payload = 56};
	struct pkt_spec echo6 = {.ip = 6, .l4 = PKT_IP_ICMPV6, .icmp_type = 128, .payload = 56};
	/* An ICMP error quoting a watched port's packet: not a TCP/UDP drop, so not attributed. */
	struct pkt_spec orig = pkt_tcp4(P_CLIENT, P_API, PKT_SYN);
	struct pkt_spec unreach = {
		.ip = 4, .l4 = PKT_IP_ICMP, .icmp_type = 3, .icmp_code = 3, .inner = &orig};
	/* The test run leaves a VLAN tag in place (skb->protocol 802.1Q): not IP to the
	 * tracer. The stack untags before the drops that matter (the e2e VLAN test). */
	struct pkt_spec vlan = pkt_tcp4(P_CLIENT, P_WEB, PKT_SYN);

	(void)state;
	vlan.nvlan = 1;
	send_spec(&arp, IIF_RX);
	send_spec(&vlan, IIF_RX);
	send_spec(&gre, IIF_RX);
	send_spec(&echo, IIF_LOCAL);
	send_spec(&echo6, IIF_RX);
	send_spec(&unreach, IIF_RX);
	expect_no_drops();
	expect_global(&(struct glob_exp){.packets = 6, .not_ip = 2, .other_l4 = 4});
}

/* Offset of the L4 header in the frame of s (no VLAN). */
static size_t l4_offset(const struct pkt_spec *s)
{
	size_t off = 14;
	int i;

	if (s->ip == 4)
		return off + 20 + 4 * (size_t)s->ip_opt_words;
	off += 40;
	for (i = 0; i < s->next; i++)
		off += s->ext[i].type == PKT_IP_FRAGMENT ? 8 : 8 * ((size_t)s->ext[i].len8 + 1);
	return off;
}

/*
 * Every truncation of a watched packet: with both ports present the drop is still
 * attributed (a drop tracer wants the ports, not a valid TCP header); with fewer
 * bytes it is malformed, never attributed to whatever follows the packet in memory.
 */
static void truncations(const struct pkt_spec *s, uint16_t slot)
{
	uint8_t pkt[PKT_MAX];
	size_t len = pkt_build(s, pkt, sizeof(pkt)), need = l4_offset(s) + 4, cut;
	struct glob_exp e = {0};

	assert_true(len > need);
	for (cut = 14; cut <= len; cut++) {
		/*
		 * The test run refuses (EINVAL) an IPv4/IPv6 frame shorter than the fixed IP
		 * header, before the program runs; but it has built the skb by then, and
		 * frees it with kfree_skb() all the same: those are drops the tracer sees.
		 */
		if (cut < 14 + (s->ip == 4 ? 20 : 40)) {
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = cut,
				    .repeat = 1);
			int fd = bpf_program__fd(skel->progs.pc_tc_egress);

			assert_int_equal(bpf_prog_test_run_opts(fd, &o), -EINVAL);
		} else {
			run_frame(pkt, cut, IIF_RX);
		}
		e.packets++;
		if (cut < need)
			e.malformed++;
		else
			e.monitored++;
	}
	expect_drops((const struct drop_exp[]){{slot, r_unspec, len - need + 1}}, 1);
	expect_global(&e);
}

static void test_truncated_ipv4(void **state)
{
	struct pkt_spec s = pkt_tcp4(P_CLIENT, P_WEB, PKT_SYN);

	(void)state;
	s.ip_opt_words = 3;
	s.tcp_opt_words = 2;
	truncations(&s, S_WEB_IN);
}

static void test_truncated_ipv6(void **state)
{
	struct pkt_spec s = pkt_udp6(P_CLIENT, P_DNS);

	(void)state;
	s.next = 3;
	s.ext[0] = (struct pkt_ext){.type = PKT_IP_HOPOPTS, .len8 = 1};
	s.ext[1] = (struct pkt_ext){.type = PKT_IP_FRAGMENT, .more = true};
	s.ext[2] = (struct pkt_ext){.type = PKT_IP_ROUTING, .len8 = 0};
	truncations(&s, S_DNS_IN);
}

static void test_inconsistent_headers(void **state)
{
	struct pkt_spec s4 = pkt_tcp4(P_CLIENT, P_WEB, PKT_SYN);
	struct pkt_spec s6 = pkt_tcp6(P_CLIENT, P_WEB, PKT_SYN);
	uint8_t pkt[PKT_MAX];
	size_t len;

	(void)state;
	/* IHL 4: shorter than an IPv4 header. */
	len = pkt_build(&s4, pkt, sizeof(pkt));
	pkt[14] = 0x44;
	run_frame(pkt, len, IIF_RX);
	/* IPv4 ethertype, IPv6 version nibble, and the other way round. */
	pkt[14] = 0x65;
	run_frame(pkt, len, IIF_RX);
	len = pkt_build(&s6, pkt, sizeof(pkt));
	pkt[14] = 0x40 | (pkt[14] & 0x0f);
	run_frame(pkt, len, IIF_RX);
	expect_no_drops();
	expect_global(&(struct glob_exp){.packets = 3, .malformed = 3});
}

/* ---- the tracer never changes anything ---- */

static void test_tracer_changes_nothing(void **state)
{
	struct pkt_spec s = pkt_tcp4(P_CLIENT, P_WEB, PKT_SYN);
	struct __sk_buff ctx_in = {.ingress_ifindex = IIF_RX, .mark = 0x5a, .priority = 3};
	struct __sk_buff ctx_out[2];
	uint8_t pkt[PKT_MAX], out[2][PKT_MAX];
	size_t len;
	int i, retval[2];
	uint32_t out_len[2];

	(void)state;
	s.payload = 100;
	len = pkt_build(&s, pkt, sizeof(pkt));
	/* The same run with the tracer attached (i = 0) and detached (i = 1). */
	for (i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len,
			    .data_out = out[i], .data_size_out = sizeof(out[i]), .ctx_in = &ctx_in,
			    .ctx_size_in = sizeof(ctx_in), .ctx_out = &ctx_out[i],
			    .ctx_size_out = sizeof(ctx_out[i]), .repeat = 1);

		if (i == 1) {
			assert_int_equal(bpf_link__destroy(tracer), 0);
			tracer = NULL;
		}
		assert_int_equal(
			bpf_prog_test_run_opts(bpf_program__fd(skel->progs.pc_tc_egress), &o), 0);
		retval[i] = o.retval;
		out_len[i] = o.data_size_out;
	}
	tracer = bpf_program__attach(skel->progs.pc_kfree_skb);
	assert_non_null(tracer);
	assert_int_equal((int)retval[0], TC_ACT_UNSPEC);
	assert_int_equal((int)retval[1], TC_ACT_UNSPEC);
	assert_int_equal(out_len[0], len);
	assert_int_equal(out_len[1], len);
	assert_memory_equal(out[0], pkt, len);
	assert_memory_equal(out[1], pkt, len);
	/* The context after the run (mark, priority, ifindex...), duration excepted. */
	ctx_out[0].tstamp = ctx_out[1].tstamp = 0;
	assert_memory_equal(&ctx_out[0], &ctx_out[1], sizeof(ctx_out[0]));
	assert_int_equal(ctx_out[0].mark, 0x5a);
	/* The attached run was counted, the detached one not. */
	expect_drops((const struct drop_exp[]){{S_WEB_IN, r_unspec, 1}}, 1);
	expect_global(&(struct glob_exp){.packets = 1, .monitored = 1});
}

/* ---- network namespaces ---- */

/*
 * A second skeleton with its own maps, netns filter ino, watching the default ports
 * (or only P_RARE), its tracer attached last: its counters start at zero but for the
 * host's foreign drops, whose share *base returns.
 */
static struct portcanary_bpf *load_filtered(unsigned int ino, bool rare_only, struct bpf_link **l,
					    uint64_t *base)
{
	struct pc_port_table *t = calloc(1, sizeof(*t));
	struct portcanary_bpf *s;

	assert_non_null(t);
	s = portcanary_bpf__open();
	assert_non_null(s);
	assert_int_equal(pc_bpf_prepare(s), 0);
	s->rodata->pc_cfg.netns_ino = ino;
	assert_int_equal(portcanary_bpf__load(s), 0);
	if (rare_only)
		t->slot[PC_PORT_INDEX(P_RARE)][PC_PROTO_UDP][PC_DIR_IN] = S_RARE_IN;
	else
		watch_defaults(t);
	memcpy(&s->bss->pc_port_table, t, sizeof(*t));
	free(t);
	*l = bpf_program__attach(s->progs.pc_kfree_skb);
	assert_non_null(*l);
	*base = local_examined(s);
	return s;
}

static void unload(struct portcanary_bpf *s, struct bpf_link *l)
{
	bpf_link__destroy(l);
	portcanary_bpf__destroy(s);
}

static void test_netns_own(void **state)
{
	struct pkt_spec s = pkt_tcp4(P_CLIENT, P_WEB, PKT_SYN);
	struct portcanary_bpf *f;
	struct bpf_link *l;
	uint64_t base;

	(void)state;
	f = load_filtered(ino_main, false, &l, &base);
	send_spec(&s, IIF_RX);
	expect_drops_of(f, (const struct drop_exp[]){{S_WEB_IN, r_unspec, 1}}, 1);
	expect_global_of(f, base, &(struct glob_exp){.packets = 1, .monitored = 1});
	unload(f, l);
}

static void test_netns_unfiltered(void **state)
{
	struct pkt_spec s = pkt_udp6(P_CLIENT, P_RARE);
	struct portcanary_bpf *f;
	struct pc_global g;
	struct bpf_link *l;
	uint64_t base;

	(void)state;
	/* netns_ino 0: every namespace counts. Only a slot of a port nothing else on the
	 * host uses can be asserted exactly, since the rest of the host's drops count too;
	 * so that is the only port this skeleton watches. */
	f = load_filtered(0, true, &l, &base);
	send_spec(&s, IIF_RX);
	expect_drops_of(f, (const struct drop_exp[]){{S_RARE_IN, r_unspec, 1}}, 1);
	g = read_global(f, -1);
	assert_int_equal(g.foreign_netns, 0);
	assert_true(g.packets >= 1 && g.monitored >= 1);
	unload(f, l);
}

/*
 * The drop happens in Q while the filter names M: a drop in another namespace of the
 * same host. It must count as foreign_netns and nowhere else. Other namespaces' drops
 * are foreign too, so the count is read on the CPU the test runs on, pinned, and
 * retried until a window without anyone else's drop; every window must show ours.
 */
static void test_netns_foreign(void **state)
{
	struct pkt_spec s = pkt_tcp4(P_CLIENT, P_WEB, PKT_SYN);
	cpu_set_t all, one;
	struct portcanary_bpf *f;
	struct pc_global before, after;
	struct bpf_link *l;
	int cpu, try, exact = 0;
	uint64_t base;

	(void)state;
	f = load_filtered(ino_main, false, &l, &base);
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	cpu = sched_getcpu();
	assert_true(cpu >= 0);
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	assert_int_equal(setns(ns_quiet, CLONE_NEWNET), 0);
	for (try = 0; try < 20 && !exact; try++) {
		before = read_global(f, cpu);
		send_spec(&s, IIF_RX);
		after = read_global(f, cpu);
		assert_true(after.foreign_netns - before.foreign_netns >= 1);
		exact = after.foreign_netns - before.foreign_netns == 1 &&
			after.packets - before.packets == 1;
	}
	assert_int_equal(setns(ns_main, CLONE_NEWNET), 0);
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
	if (!exact)
		fail_msg("20 tries, none with exactly our one foreign drop on CPU %d", cpu);
	/* Nothing of it attributed, on any CPU. */
	expect_drops_of(f, NULL, 0);
	expect_global_of(f, base, &(struct glob_exp){0});
	/* The main skeleton filters on M as well: foreign there too. */
	expect_no_drops();
	expect_global(&(struct glob_exp){0});
	unload(f, l);
}

/* ---- real drops: the stack on lo in M ---- */

/*
 * A SYN or datagram to a port with no socket, over lo: the stack drops the received
 * packet with NO_SOCKET (and answers RST / port unreachable). This reaches what the
 * test run cannot: a real reason, a real skb_iif, the network header of a packet the
 * stack has already pulled past its IP header.
 */
static void connect_refused(int family, const char *addr, uint16_t port, int type)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	int fd, err;

	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, addr, &a->sin_addr), 1);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, addr, &a->sin6_addr), 1);
		sl = sizeof(*a);
	}
	fd = socket(family, type, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, sl), type == SOCK_STREAM ? -1 : 0);
	if (type == SOCK_STREAM) {
		assert_int_equal(errno, ECONNREFUSED);
	} else {
		char b = 'x';

		assert_int_equal(send(fd, &b, 1, 0), 1);
		/* The port unreachable comes back synchronously over lo: the next call sees it. */
		err = send(fd, &b, 1, 0) < 0 ? errno : 0;
		assert_int_equal(err, ECONNREFUSED);
	}
	close(fd);
}

static void test_real_tcp_no_socket(void **state)
{
	(void)state;
	connect_refused(AF_INET, "127.0.0.1", P_WEB, SOCK_STREAM);
	connect_refused(AF_INET6, "::1", P_WEB, SOCK_STREAM);
	/* Nothing listens on P_OTHER either, but nobody watches it. */
	connect_refused(AF_INET, "127.0.0.1", P_OTHER, SOCK_STREAM);
	expect_drops((const struct drop_exp[]){{S_WEB_IN, r_nosock, 2}}, 1);
	expect_global(&(struct glob_exp){.packets = 3, .monitored = 2});
}

static void test_real_udp_no_socket(void **state)
{
	(void)state;
	/* Only the first datagram reaches the closed port: the second send fails. */
	connect_refused(AF_INET, "127.0.0.1", P_DNS, SOCK_DGRAM);
	connect_refused(AF_INET6, "::1", P_DNS, SOCK_DGRAM);
	expect_drops((const struct drop_exp[]){{S_DNS_IN, r_nosock, 2}}, 1);
	expect_global(&(struct glob_exp){.packets = 2, .monitored = 2});
}

/* ---- samples: the dropped packets themselves, for the replay that names the rule ---- */

/* A slot's samples, read whole under the tracer's lock; the non-empty ones, in bucket order. */
static int samples_of(uint16_t slot, struct pc_drop_sample out[PC_DROP_SAMPLES])
{
	struct pc_drop_samples v;
	uint32_t key = slot;
	int i, n = 0;

	assert_int_equal(bpf_map_lookup_elem_flags(bpf_map__fd(skel->maps.pc_drop_samples), &key,
						   &v, BPF_F_LOCK),
			 0);
	for (i = 0; i < PC_DROP_SAMPLES; i++)
		if (v.s[i].time_ns)
			out[n++] = v.s[i];
	return n;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Build a frame and give it another source address (IPv4 10.0.0.1 by default). */
static size_t frame_from(const struct pkt_spec *s, const char *src, uint8_t *pkt)
{
	size_t len = pkt_build(s, pkt, PKT_MAX);

	assert_true(len > 14);
	if (src)
		assert_int_equal(inet_pton(s->ip == 4 ? AF_INET : AF_INET6, src,
					   pkt + 14 + (s->ip == 4 ? 12 : 8)),
				 1);
	return len;
}

static uint32_t bucket_of(int family, const char *a)
{
	uint32_t addr[4] = {0};

	assert_int_equal(inet_pton(family, a, addr), 1);
	return pc_sample_bucket(addr);
}

static void test_sample_fields(void **state)
{
	struct pkt_spec s4 = pkt_tcp4(P_CLIENT, P_WEB, PKT_SYN);
	struct pkt_spec s6 = pkt_udp6(P_CLIENT, P_DNS);
	struct pkt_spec out = pkt_tcp4(P_CLIENT, P_API, PKT_SYN);
	struct pc_drop_sample got[PC_DROP_SAMPLES];
	uint8_t pkt[PKT_MAX], a[16];
	uint64_t t0, t1;

	(void)state;
	t0 = mono_ns();
	run_frame(pkt, frame_from(&s4, NULL, pkt), IIF_RX);
	run_frame(pkt, frame_from(&s6, NULL, pkt), 7);
	run_frame(pkt, frame_from(&out, NULL, pkt), IIF_LOCAL);
	t1 = mono_ns();

	/* A received IPv4 SYN to our server. */
	assert_int_equal(samples_of(S_WEB_IN, got), 1);
	inet_pton(AF_INET, "10.0.0.1", a);
	assert_memory_equal(got[0].saddr, a, 4);
	inet_pton(AF_INET, "10.0.0.2", a);
	assert_memory_equal(got[0].daddr, a, 4);
	assert_int_equal(got[0].saddr[4] | got[0].daddr[4], 0);
	assert_int_equal(got[0].sport, P_CLIENT);
	assert_int_equal(got[0].dport, P_WEB);
	assert_int_equal(got[0].proto, PC_PROTO_TCP);
	assert_int_equal(got[0].tcp_flags, PKT_SYN);
	assert_int_equal(got[0].flags, PC_SAMPLE_RX);
	assert_int_equal(got[0].ifindex, IIF_RX);
	assert_int_equal(got[0].reason, r_unspec);
	assert_true(got[0].time_ns >= t0 && got[0].time_ns <= t1);
	assert_int_equal(got[0].pad, 0);

	/* IPv6, UDP, from interface 7. */
	assert_int_equal(samples_of(S_DNS_IN, got), 1);
	inet_pton(AF_INET6, "2001:db8::1", a);
	assert_memory_equal(got[0].saddr, a, 16);
	inet_pton(AF_INET6, "2001:db8::2", a);
	assert_memory_equal(got[0].daddr, a, 16);
	assert_int_equal(got[0].proto, PC_PROTO_UDP);
	assert_int_equal(got[0].tcp_flags, 0);
	assert_int_equal(got[0].flags, PC_SAMPLE_RX | PC_SAMPLE_IPV6);
	assert_int_equal(got[0].ifindex, 7);

	/* Sent by this host (our SYN to a service we call): its device, lo here. */
	assert_int_equal(samples_of(S_API_OUT, got), 1);
	assert_int_equal(got[0].flags, 0);
	assert_int_equal(got[0].ifindex, if_nametoindex("lo"));
	assert_int_equal(got[0].dport, P_API);

	/* Nothing for the other slots. */
	assert_int_equal(samples_of(S_BOTH_IN, got), 0);
	assert_int_equal(samples_of(S_SYSLOG_OUT, got), 0);
}

static void test_sample_both_slots_and_unmonitored(void **state)
{
	struct pkt_spec both = pkt_tcp4(P_BOTH, P_BOTH, PKT_SYN);
	struct pkt_spec other = pkt_tcp4(P_CLIENT, P_OTHER, PKT_SYN);
	struct pc_drop_sample got[PC_DROP_SAMPLES];
	uint8_t pkt[PKT_MAX];
	uint16_t slot;

	(void)state;
	run_frame(pkt, frame_from(&other, NULL, pkt), IIF_RX);
	for (slot = 1; slot < 16; slot++)
		assert_int_equal(samples_of(slot, got), 0);
	run_frame(pkt, frame_from(&both, NULL, pkt), IIF_RX);
	assert_int_equal(samples_of(S_BOTH_IN, got), 1);
	assert_int_equal(samples_of(S_BOTH_OUT, got), 1);
	assert_int_equal(got[0].sport, P_BOTH);
}

/* A flood from one peer rewrites its own bucket only: every other peer's sample stays. */
static void test_sample_flood_one_peer(void **state)
{
	char peers[PC_DROP_SAMPLES][32];
	bool used[PC_DROP_SAMPLES] = {false};
	struct pc_drop_sample got[PC_DROP_SAMPLES];
	uint8_t pkt[PKT_MAX], flooder[4];
	int n = 0, i, x;

	(void)state;
	/* One peer per bucket, from the same hash the tracer uses. */
	for (x = 1; x < 255 && n < PC_DROP_SAMPLES; x++) {
		char a[32];
		uint32_t b;

		snprintf(a, sizeof(a), "10.9.%d.%d", x % 7, x);
		b = bucket_of(AF_INET, a);
		if (used[b])
			continue;
		used[b] = true;
		snprintf(peers[n++], sizeof(peers[0]), "%s", a);
	}
	assert_int_equal(n, PC_DROP_SAMPLES);
	for (i = 1; i < n; i++) {
		struct pkt_spec s = pkt_tcp4(40000 + i, P_WEB, PKT_SYN);

		run_frame(pkt, frame_from(&s, peers[i], pkt), IIF_RX);
	}
	/* 300 SYNs from peers[0], each from another port. */
	for (i = 0; i < 300; i++) {
		struct pkt_spec s = pkt_tcp4(20000 + i, P_WEB, PKT_SYN);

		run_frame(pkt, frame_from(&s, peers[0], pkt), IIF_RX);
	}
	assert_int_equal(samples_of(S_WEB_IN, got), PC_DROP_SAMPLES);
	inet_pton(AF_INET, peers[0], flooder);
	for (i = 0; i < PC_DROP_SAMPLES; i++) {
		if (!memcmp(got[i].saddr, flooder, 4)) {
			/* one of its own (which: test_sample_refresh) */
			assert_true(got[i].sport >= 20000 && got[i].sport < 20300);
			continue;
		}
		assert_int_not_equal(got[i].sport / 10000, 2); /* never the flood's */
		assert_true(got[i].sport > 40000 && got[i].sport < 40000 + PC_DROP_SAMPLES);
	}
	expect_drops((const struct drop_exp[]){{S_WEB_IN, r_unspec, 300 + PC_DROP_SAMPLES - 1}}, 1);
}

/* Within the hold time a sample gives way only to one as telling; after it, to any. */
static void test_sample_rank_and_hold(void **state)
{
	struct pkt_spec syn = pkt_tcp4(40001, P_WEB, PKT_SYN);
	struct pkt_spec ack = pkt_tcp4(40002, P_WEB, PKT_ACK);
	struct pc_drop_sample got[PC_DROP_SAMPLES];
	uint8_t pkt[PKT_MAX];

	(void)state;
	run_frame(pkt, frame_from(&syn, NULL, pkt), IIF_RX);
	run_frame(pkt, frame_from(&ack, NULL, pkt), IIF_RX);
	assert_int_equal(samples_of(S_WEB_IN, got), 1);
	assert_int_equal(got[0].sport, 40001); /* the opening stays */
	syn.sport = 40003;
	usleep(PC_DROP_SAMPLE_REFRESH_NS / 1000 + 20000);
	run_frame(pkt, frame_from(&syn, NULL, pkt), IIF_RX);
	assert_int_equal(samples_of(S_WEB_IN, got), 1);
	assert_int_equal(got[0].sport, 40003); /* as telling, and past the refresh: the latest */
	/* Past the hold time the latest drop wins again. */
	usleep(PC_DROP_SAMPLE_HOLD_NS / 1000 + 100000);
	run_frame(pkt, frame_from(&ack, NULL, pkt), IIF_RX);
	assert_int_equal(samples_of(S_WEB_IN, got), 1);
	assert_int_equal(got[0].sport, 40002);
}

/*
 * Under a flood: a drop as telling as the kept sample replaces it only once the sample is
 * PC_DROP_SAMPLE_REFRESH_NS old (the tracer then leaves the slot's lock alone); a more
 * telling one at once. Two drops are "within the refresh" when both ran inside it, as timed
 * from before the first to after the second; a try the machine stretched past it is redone.
 */
static void test_sample_refresh(void **state)
{
	struct pkt_spec syn = pkt_tcp4(40001, P_WEB, PKT_SYN);
	struct pkt_spec ack = pkt_tcp4(40002, P_WEB, PKT_ACK);
	struct pc_drop_sample got[PC_DROP_SAMPLES];
	uint8_t pkt[PKT_MAX];
	uint64_t t0, t1;
	int try;

	(void)state;
	for (try = 0; try < 20; try++) {
		clear_samples(skel);
		ack.sport = 41000 + try;
		syn.sport = 42000 + try;
		t0 = mono_ns();
		run_frame(pkt, frame_from(&ack, NULL, pkt), IIF_RX);
		ack.sport = 43000 + try;
		run_frame(pkt, frame_from(&ack, NULL, pkt), IIF_RX);
		t1 = mono_ns();
		if (t1 - t0 < PC_DROP_SAMPLE_REFRESH_NS)
			break;
	}
	assert_true(try < 20);
	assert_int_equal(samples_of(S_WEB_IN, got), 1);
	assert_int_equal(got[0].sport, 41000 + try); /* as telling, within the refresh: kept */
	/* more telling (a SYN over an ACK): at once, however young the kept one is */
	run_frame(pkt, frame_from(&syn, NULL, pkt), IIF_RX);
	assert_int_equal(samples_of(S_WEB_IN, got), 1);
	assert_int_equal(got[0].sport, 42000 + try);
	assert_int_equal(got[0].tcp_flags, PKT_SYN);
	/* past the refresh, the latest as telling */
	usleep(PC_DROP_SAMPLE_REFRESH_NS / 1000 + 20000);
	syn.sport = 44000;
	run_frame(pkt, frame_from(&syn, NULL, pkt), IIF_RX);
	assert_int_equal(samples_of(S_WEB_IN, got), 1);
	assert_int_equal(got[0].sport, 44000);
	expect_drops((const struct drop_exp[]){{S_WEB_IN, r_unspec, 4}}, 1);
}

/* A real firewall drop (nftables on lo in M): reason NETFILTER_DROP, and it outranks what
 * TCP frees of the same client. */
static void nft_m(const char *cmd)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);

	assert_non_null(nft);
	nft_ctx_buffer_error(nft);
	if (nft_run_cmd_from_buffer(nft, cmd))
		fail_msg("nft %s: %s", cmd, nft_ctx_get_error_buffer(nft));
	nft_ctx_free(nft);
}

static void test_sample_netfilter(void **state)
{
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(P_WEB)};
	struct pkt_spec syn = pkt_tcp4(40009, P_WEB, PKT_SYN);
	struct pc_drop_sample got[PC_DROP_SAMPLES];
	uint8_t pkt[PKT_MAX], lo[4];
	int fd;

	(void)state;
	nft_m("add table inet pctest\n"
	      "add chain inet pctest in { type filter hook input priority 0; }\n"
	      "add rule inet pctest in tcp dport 47080 drop\n");
	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), -1);
	assert_int_equal(errno, EINPROGRESS);
	usleep(50000);
	close(fd);
	nft_m("delete table inet pctest\n");
	assert_int_equal(samples_of(S_WEB_IN, got), 1);
	assert_int_equal(got[0].reason, r_nf);
	assert_int_equal(got[0].flags, PC_SAMPLE_RX);
	assert_int_equal(got[0].ifindex, if_nametoindex("lo"));
	assert_int_equal(got[0].tcp_flags, PKT_SYN);
	inet_pton(AF_INET, "127.0.0.1", lo);
	assert_memory_equal(got[0].saddr, lo, 4);
	assert_memory_equal(got[0].daddr, lo, 4);
	assert_int_equal(got[0].dport, P_WEB);
	/* A SYN of the same client freed for another reason does not replace it. */
	run_frame(pkt, frame_from(&syn, "127.0.0.1", pkt), IIF_RX);
	assert_int_equal(samples_of(S_WEB_IN, got), 1);
	assert_int_equal(got[0].reason, r_nf);
	expect_drops((const struct drop_exp[]){{S_WEB_IN, r_nf, 1}, {S_WEB_IN, r_unspec, 1}}, 2);
}

/* Only the drop path writes samples: the TC and XDP programs never do. */
static void test_sample_not_from_datapath(void **state)
{
	struct pkt_spec s = pkt_tcp4(P_CLIENT, P_WEB, PKT_SYN);
	struct pc_drop_sample got[PC_DROP_SAMPLES];
	uint8_t pkt[PKT_MAX], out[PKT_MAX];
	size_t len = frame_from(&s, NULL, pkt);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);

	(void)state;
	assert_int_equal(bpf_link__destroy(tracer), 0);
	tracer = NULL;
	run_frame(pkt, len, IIF_RX);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.pc_xdp_ingress), &o),
			 0);
	assert_int_equal(o.retval, XDP_PASS);
	tracer = bpf_program__attach(skel->progs.pc_kfree_skb);
	assert_non_null(tracer);
	assert_int_equal(samples_of(S_WEB_IN, got), 0);
}

/* ---- setup ---- */

static unsigned int ns_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/* M: a private namespace for the whole run, lo up; Q: an idle one, kept by its fd. */
static int make_namespaces(void)
{
	struct ifreq ifr = {.ifr_name = "lo"};
	int s;

	if (unshare(CLONE_NEWNET) ||
	    (ns_main = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0 ||
	    unshare(CLONE_NEWNET) ||
	    (ns_quiet = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0 ||
	    setns(ns_main, CLONE_NEWNET)) {
		fprintf(stderr, "test_drops: network namespaces: %s (run as root)\n",
			strerror(errno));
		return -1;
	}
	ino_main = ns_ino(ns_main);
	ino_quiet = ns_ino(ns_quiet);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr))) {
		fprintf(stderr, "test_drops: bringing lo up: %s\n", strerror(errno));
		return -1;
	}
	close(s);
	return ino_main && ino_quiet && ino_main != ino_quiet ? 0 : -1;
}

static int group_setup(void **state)
{
	long v;
	int err;

	(void)state;
	ncpus = libbpf_num_possible_cpus();
	if (make_namespaces())
		return -1;
	err = pc_dropreasons_load(&reasons);
	if (err) {
		fprintf(stderr, "test_drops: drop reasons from BTF: %s\n", strerror(-err));
		return -1;
	}
	/* By name, from this kernel's BTF: the numbers differ between kernels. */
	v = pc_dropreason_value(reasons, "NOT_SPECIFIED");
	r_unspec = v;
	if (v >= 0)
		r_nosock = v = pc_dropreason_value(reasons, "NO_SOCKET");
	if (v >= 0)
		r_nf = v = pc_dropreason_value(reasons, "NETFILTER_DROP");
	if (v < 0) {
		fprintf(stderr, "test_drops: this kernel's BTF lacks NOT_SPECIFIED/NO_SOCKET\n");
		return -1;
	}
	skel = portcanary_bpf__open();
	if (!skel) {
		fprintf(stderr, "test_drops: cannot open the BPF object: %s\n", strerror(errno));
		return -1;
	}
	skel->rodata->pc_cfg.netns_ino = ino_main;
	err = pc_bpf_prepare(skel);
	if (!err)
		err = portcanary_bpf__load(skel);
	if (err) {
		fprintf(stderr,
			"test_drops: cannot load the BPF object: %s (run as root, on a "
			"kernel with BPF and BTF)\n",
			strerror(-err));
		return -1;
	}
	tracer = bpf_program__attach(skel->progs.pc_kfree_skb);
	if (!tracer) {
		fprintf(stderr, "test_drops: cannot attach tp_btf/kfree_skb: %s\n",
			strerror(errno));
		return -1;
	}
	ports = &skel->bss->pc_port_table;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	bpf_link__destroy(tracer);
	portcanary_bpf__destroy(skel);
	pc_dropreasons_free(reasons);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_syn_in_received, reset),
		cmocka_unit_test_setup(test_direction_received, reset),
		cmocka_unit_test_setup(test_direction_local, reset),
		cmocka_unit_test_setup(test_one_drop_two_slots, reset),
		cmocka_unit_test_setup(test_table_probe_and_forget, reset),
		cmocka_unit_test_setup(test_table_probe_sequence_full, reset),
		cmocka_unit_test_setup(test_unmonitored, reset),
		cmocka_unit_test_setup(test_udp, reset),
		cmocka_unit_test_setup(test_ipv4_options, reset),
		cmocka_unit_test_setup(test_ipv4_fragments, reset),
		cmocka_unit_test_setup(test_ipv6_ext_headers, reset),
		cmocka_unit_test_setup(test_ipv6_fragments, reset),
		cmocka_unit_test_setup(test_not_ip_and_other_l4, reset),
		cmocka_unit_test_setup(test_truncated_ipv4, reset),
		cmocka_unit_test_setup(test_truncated_ipv6, reset),
		cmocka_unit_test_setup(test_inconsistent_headers, reset),
		cmocka_unit_test_setup(test_tracer_changes_nothing, reset),
		cmocka_unit_test_setup(test_netns_own, reset),
		cmocka_unit_test_setup(test_netns_unfiltered, reset),
		cmocka_unit_test_setup(test_netns_foreign, reset),
		cmocka_unit_test_setup(test_real_tcp_no_socket, reset),
		cmocka_unit_test_setup(test_real_udp_no_socket, reset),
		cmocka_unit_test_setup(test_sample_fields, reset),
		cmocka_unit_test_setup(test_sample_both_slots_and_unmonitored, reset),
		cmocka_unit_test_setup(test_sample_flood_one_peer, reset),
		cmocka_unit_test_setup(test_sample_rank_and_hold, reset),
		cmocka_unit_test_setup(test_sample_refresh, reset),
		cmocka_unit_test_setup(test_sample_netfilter, reset),
		cmocka_unit_test_setup(test_sample_not_from_datapath, reset),
	};

	libbpf_set_print(NULL);
	return cmocka_run_group_tests_name("drops", tests, group_setup, group_teardown);
}
