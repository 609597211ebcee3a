// SPDX-License-Identifier: GPL-2.0
/* bench_xdp.c: per-packet cost of the XDP ingress program vs an empty program and xdp-filter. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "portcanary.h"
#include "portcanary.skel.h"
#include "bpf/pkt.h"

#define MAX_ROUNDS 64
#define XDP_PASS_RET 2

enum { P_EMPTY, P_PC, P_FILTER, P_MAX };
enum { C_V4_SYN, C_UNMON, C_V6_SYN, C_VLAN_SYN, C_MAX };

static const char *const class_names[C_MAX] = {
	"IPv4 SYN, monitored port", "IPv4 SYN, unmonitored port", "IPv6 SYN, monitored port",
	"802.1Q IPv4 SYN, monitored",
};

struct prog {
	const char *name;
	struct bpf_object *obj;	/* NULL for ours (the skeleton owns it) */
	int fd;
};

static struct prog progs[P_MAX] = {
	[P_EMPTY] = { .name = "empty", .fd = -1 },
	[P_PC] = { .name = "portcanary", .fd = -1 },
	[P_FILTER] = { .name = "xdp-filter tcp", .fd = -1 },
};

static struct {
	uint8_t data[PKT_MAX];
	size_t len;
} pkts[C_MAX];

/* The interface a program is attached to right now, so every exit path can detach. */
static int attached_ifindex;
static volatile sig_atomic_t stop;

static void detach(void)
{
	if (attached_ifindex) {
		bpf_xdp_detach(attached_ifindex, XDP_FLAGS_DRV_MODE, NULL);
		attached_ifindex = 0;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* A realistic table: a few watched ports, both directions; port 8080 stays unwatched. */
static int watch_ports(struct bpf_map *map)
{
	struct pc_port_table *t;

	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);
	if (t == MAP_FAILED) {
		fprintf(stderr, "bench_xdp: mmap pc_ports: %s\n", strerror(errno));
		return -errno;
	}
	t->slot[PC_PROTO_TCP][PC_DIR_IN][80] = 1;
	t->slot[PC_PROTO_TCP][PC_DIR_IN][443] = 2;
	t->slot[PC_PROTO_TCP][PC_DIR_OUT][5432] = 3;
	t->slot[PC_PROTO_UDP][PC_DIR_IN][53] = 4;
	/* the mapping keeps the map's pages; the values live in the map */
	munmap(t, sizeof(*t));
	return 0;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* unknown sections in xdp-filter's object (.xdp_run_config, features) are expected */
	if (level == LIBBPF_WARN && getenv("BENCH_VERBOSE"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static int load_obj(struct prog *p, const char *path)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	int err;

	p->obj = bpf_object__open_file(path, NULL);
	if (!p->obj) {
		err = -errno;
		fprintf(stderr, "bench_xdp: open %s: %s\n", path, strerror(-err));
		return err;
	}
	/* xdp-filter pins its stats map by name: keep the benchmark's copy private. */
	bpf_object__for_each_map(map, p->obj)
		bpf_map__set_pin_path(map, NULL);
	err = bpf_object__load(p->obj);
	if (err) {
		fprintf(stderr, "bench_xdp: load %s: %s\n", path, strerror(-err));
		return err;
	}
	prog = bpf_object__next_program(p->obj, NULL);
	if (!prog)
		return -ENOENT;
	/* a variant of our own program (e.g. while optimising) gets the same port table */
	map = bpf_object__find_map_by_name(p->obj, "pc_ports");
	if (map && watch_ports(map))
		return -EINVAL;
	p->fd = bpf_program__fd(prog);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* One measurement: warm-up, then the kernel's own per-run duration over repeat runs. */
static int measure(int fd, int c, unsigned int repeat, double *kernel_ns, double *wall_ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkts[c].data, .data_size_in = pkts[c].len,
		    .repeat = repeat / 10 ? repeat / 10 : 1);
	double t0;
	int err;

	err = bpf_prog_test_run_opts(fd, &o);
	if (err)
		return err;
	o.repeat = repeat;
	t0 = now_ns();
	err = bpf_prog_test_run_opts(fd, &o);
	if (err)
		return err;
	*wall_ns = (now_ns() - t0) / repeat;
	*kernel_ns = o.duration;
	return o.retval == XDP_PASS_RET ? 0 : -EPROTO;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_xdp --iface IFACE --empty OBJ [--filter OBJ] [--rounds N] [--repeat N] [--cpu N]\n"
		"  Attaches each program in turn (native XDP) to IFACE, a throwaway device, and\n"
		"  measures it with BPF_PROG_TEST_RUN; scripts/bench.sh creates the device.\n"
		"  -i, --iface IFACE   device to attach to while measuring (veth: native XDP)\n"
		"  -e, --empty OBJ     the empty XDP program (build/bench/empty.bpf.o)\n"
		"  -f, --filter OBJ    xdp-filter's TCP program (xdpfilt_alw_tcp.o); optional\n"
		"  -r, --rounds N      rounds, order rotated each round (default 9)\n"
		"  -n, --repeat N      runs per measurement (default 2000000)\n"
		"  -c, --cpu N         CPU to pin to (default 0)\n"
		"example: bench_xdp -i pcb0 -e build/bench/empty.bpf.o -f /usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_tcp.o\n");
}

static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || *out < lo || *out > hi || *s == '-')
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "empty", required_argument, NULL, 'e' },
		{ "filter", required_argument, NULL, 'f' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static double kns[P_MAX][C_MAX][MAX_ROUNDS], wns[P_MAX][C_MAX][MAX_ROUNDS];
	const char *iface = NULL, *empty = NULL, *filter = NULL;
	unsigned long rounds = 9, repeat = 2000000, cpu = 0;
	struct portcanary_bpf *skel = NULL;
	struct pkt_spec s;
	int ifindex, opt, ret = 2, err, r, i, j, p, c, nprogs;
	double km[P_MAX][C_MAX], wm[P_MAX][C_MAX];
	cpu_set_t set;
	bool met = true;

	while ((opt = getopt_long(argc, argv, "i:e:f:r:n:c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'i': iface = optarg; break;
		case 'e': empty = optarg; break;
		case 'f': filter = optarg; break;
		case 'r':
			if (parse_uint(optarg, 1, MAX_ROUNDS, &rounds))
				goto bad_usage;
			break;
		case 'n':
			if (parse_uint(optarg, 1000, 100000000, &repeat))
				goto bad_usage;
			break;
		case 'c':
			if (parse_uint(optarg, 0, CPU_SETSIZE - 1, &cpu))
				goto bad_usage;
			break;
		case 'h': usage(stdout); return 0;
		default: goto bad_usage;
		}
	}
	if (!iface || !empty || optind != argc)
		goto bad_usage;
	ifindex = if_nametoindex(iface);
	if (!ifindex) {
		fprintf(stderr, "bench_xdp: no interface %s: run it through scripts/bench.sh\n",
			iface);
		return 2;
	}

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "bench_xdp: cannot pin to CPU %lu: %s (measuring unpinned)\n", cpu,
			strerror(errno));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	atexit(detach);
	libbpf_set_print(libbpf_quiet);

	skel = portcanary_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "bench_xdp: cannot load portcanary's BPF object: %s (root? BPF?)\n",
			strerror(errno));
		goto out;
	}
	progs[P_PC].fd = bpf_program__fd(skel->progs.pc_xdp_ingress);
	if (watch_ports(skel->maps.pc_ports))
		goto out;

	if (load_obj(&progs[P_EMPTY], empty))
		goto out;
	nprogs = 2;
	if (filter) {
		if (load_obj(&progs[P_FILTER], filter))
			goto out;
		nprogs = 3;
	}

	s = pkt_tcp4(40000, 80, PKT_SYN);
	s.tcp_opt_words = 5;	/* a real SYN carries options (MSS, SACK, TS, WS) */
	pkts[C_V4_SYN].len = pkt_build(&s, pkts[C_V4_SYN].data, PKT_MAX);
	s.dport = 8080;
	pkts[C_UNMON].len = pkt_build(&s, pkts[C_UNMON].data, PKT_MAX);
	s = pkt_tcp6(40000, 80, PKT_SYN);
	s.tcp_opt_words = 5;
	pkts[C_V6_SYN].len = pkt_build(&s, pkts[C_V6_SYN].data, PKT_MAX);
	s = pkt_tcp4(40000, 80, PKT_SYN);
	s.tcp_opt_words = 5;
	s.nvlan = 1;
	pkts[C_VLAN_SYN].len = pkt_build(&s, pkts[C_VLAN_SYN].data, PKT_MAX);

	fprintf(stderr,
		"bench_xdp: %lu rounds x %d programs x %d classes, %lu runs each, CPU %lu, on %s\n",
		rounds, nprogs, C_MAX, repeat, cpu, iface);
	for (r = 0; r < (int)rounds && !stop; r++) {
		for (i = 0; i < nprogs && !stop; i++) {
			/* rotate the program order, and the class order, every round */
			p = (i + r) % nprogs;
			err = bpf_xdp_attach(ifindex, progs[p].fd, XDP_FLAGS_DRV_MODE, NULL);
			if (err) {
				fprintf(stderr, "bench_xdp: attach %s to %s (native XDP): %s\n",
					progs[p].name, iface, strerror(-err));
				goto out;
			}
			attached_ifindex = ifindex;
			for (j = 0; j < C_MAX; j++) {
				c = (j + r) % C_MAX;
				err = measure(progs[p].fd, c, repeat, &kns[p][c][r], &wns[p][c][r]);
				if (err) {
					fprintf(stderr, "bench_xdp: test run of %s on %s: %s\n",
						progs[p].name, class_names[c],
						err == -EPROTO ? "did not return XDP_PASS" : strerror(-err));
					goto out;
				}
			}
			detach();
		}
	}
	if (stop) {
		fprintf(stderr, "bench_xdp: interrupted\n");
		goto out;
	}

	for (p = 0; p < nprogs; p++)
		for (c = 0; c < C_MAX; c++) {
			km[p][c] = median(kns[p][c], rounds);
			wm[p][c] = median(wns[p][c], rounds);
		}
	printf("\nXDP per-packet cost, BPF_PROG_TEST_RUN duration (kernel, ns/packet), median of %lu rounds;\n"
	       "each program attached (native XDP) to %s while measured. Wall clock ns/packet in ().\n\n",
	       rounds, iface);
	printf("%-30s %15s %15s %7s", "packet class", "empty", "portcanary", "ratio");
	if (nprogs > 2)
		printf(" %15s %7s", "xdp-filter tcp", "ratio");
	printf("\n");
	for (c = 0; c < C_MAX; c++) {
		double base = km[P_EMPTY][c] > 0 ? km[P_EMPTY][c] : 1;
		char e[32], o[32], f[32];

		snprintf(e, sizeof(e), "%.1f (%.2f)", km[P_EMPTY][c], wm[P_EMPTY][c]);
		snprintf(o, sizeof(o), "%.1f (%.2f)", km[P_PC][c], wm[P_PC][c]);
		printf("%-30s %15s %15s %6.2fx", class_names[c], e, o, km[P_PC][c] / base);
		if (km[P_PC][c] / base > 1.5)
			met = false;
		if (nprogs > 2) {
			snprintf(f, sizeof(f), "%.1f (%.2f)", km[P_FILTER][c], wm[P_FILTER][c]);
			printf(" %15s %6.2fx", f, km[P_FILTER][c] / base);
			if (km[P_PC][c] >= km[P_FILTER][c])
				met = false;
		}
		printf("\n");
	}
	printf("\ntarget (<= 1.5x empty%s on every class): %s\n",
	       nprogs > 2 ? " and below xdp-filter tcp" : "", met ? "met" : "MISSED");
	ret = 0;
	goto out;

bad_usage:
	usage(stderr);
	return 2;
out:
	detach();
	for (p = 0; p < P_MAX; p++)
		bpf_object__close(progs[p].obj);
	portcanary_bpf__destroy(skel);
	return ret;
}
