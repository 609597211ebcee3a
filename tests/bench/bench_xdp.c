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

#define MAX_ROUNDS   64
#define XDP_PASS_RET 2
/* Rounds of the direct-call check (the empty program detached, then attached). */
#define CHECK_ROUNDS 5

enum { P_EMPTY, P_MINSYN, P_PC, P_FILTER, P_MAX };
enum { C_V4_SYN, C_UNMON, C_V6_SYN, C_VLAN_SYN, C_MAX };

static const char *const class_names[C_MAX] = {
	"IPv4 SYN, monitored port",
	"IPv4 SYN, unmonitored port",
	"IPv6 SYN, monitored port",
	"802.1Q IPv4 SYN, monitored",
};
/* Short names, for the packet files of --dump (tests/bench/insn_count.py reads them). */
static const char *const class_files[C_MAX] = {"v4_syn", "unmon", "v6_syn", "vlan_syn"};

struct prog {
	const char *name;
	struct bpf_object *obj; /* NULL for ours (the skeleton owns it) */
	int fd;
	__u32 id;
};

static struct prog progs[P_MAX] = {
	[P_EMPTY] = {.name = "empty", .fd = -1},
	[P_MINSYN] = {.name = "min SYN ctr", .fd = -1},
	[P_PC] = {.name = "portcanary", .fd = -1},
	[P_FILTER] = {.name = "xdp-filter tcp", .fd = -1},
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

/* A realistic table: a few watched ports, both directions; port 8080 stays unwatched. The
 * table is the object's global data, mapped by the skeleton. */
static int watch_ports(struct pc_port_table *t)
{
	t->slot[PC_PROTO_TCP][PC_DIR_IN][PC_PORT_INDEX(80)] = 1;
	t->slot[PC_PROTO_TCP][PC_DIR_IN][PC_PORT_INDEX(443)] = 2;
	t->slot[PC_PROTO_TCP][PC_DIR_OUT][PC_PORT_INDEX(5432)] = 3;
	t->slot[PC_PROTO_UDP][PC_DIR_IN][PC_PORT_INDEX(53)] = 4;
	return 0;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* unknown sections in xdp-filter's object (.xdp_run_config, features) are expected */
	if (level == LIBBPF_WARN && getenv("BENCH_VERBOSE"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static int prog_id(int fd, __u32 *id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int err;

	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (err)
		return err;
	*id = info.id;
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
	/* xdp-filter pins its maps by name: keep the benchmark's copy private. */
	bpf_object__for_each_map(map, p->obj) bpf_map__set_pin_path(map, NULL);
	err = bpf_object__load(p->obj);
	if (err) {
		fprintf(stderr, "bench_xdp: load %s: %s\n", path, strerror(-err));
		return err;
	}
	/* each of these objects holds exactly one program: measure that one, and only it */
	prog = bpf_object__next_program(p->obj, NULL);
	if (!prog || bpf_object__next_program(p->obj, prog)) {
		fprintf(stderr, "bench_xdp: %s: expected exactly one program\n", path);
		return -EINVAL;
	}
	p->fd = bpf_program__fd(prog);
	return prog_id(p->fd, &p->id);
}

/*
 * Attach p natively and check the kernel says so: the XDP dispatcher only calls
 * programs attached somewhere directly, so a silent fallback (generic mode, or
 * another program left in place) would skew exactly the figure we compare.
 */
static int attach(int ifindex, const struct prog *p, const char *iface)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err;

	err = bpf_xdp_attach(ifindex, p->fd, XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		fprintf(stderr, "bench_xdp: attach %s to %s (native XDP): %s\n", p->name, iface,
			strerror(-err));
		return err;
	}
	attached_ifindex = ifindex;
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err || q.attach_mode != XDP_ATTACHED_DRV || q.drv_prog_id != p->id) {
		fprintf(stderr, "bench_xdp: %s is not what %s runs natively (mode %u, id %u)\n",
			p->name, iface, q.attach_mode, q.drv_prog_id);
		return err ? err : -EPROTO;
	}
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

/*
 * The thread's CPU time, not the wall clock: like the kernel's own figure it leaves
 * out the time the thread was preempted (the kernel's timer stops across its
 * reschedule points), so a busy machine does not inflate whichever program
 * happened to be running, but it has ns resolution over the whole call.
 */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * One measurement: a warm-up run, then repeat runs. The kernel reports the mean
 * duration truncated to whole ns (10.9 reads 10), too coarse for ratios around
 * 1.1-1.5; the CPU time of the same single syscall has sub-ns resolution per run,
 * and with millions of runs per call the syscall's own cost is below 0.01 ns.
 * The packet must come back unchanged: the canary never alters a frame.
 */
static int measure(int fd, int c, unsigned int repeat, double *kernel_ns, double *wall_ns)
{
	uint8_t out[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkts[c].data, .data_size_in = pkts[c].len,
		    .data_out = out, .data_size_out = sizeof(out),
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
	if (o.retval != XDP_PASS_RET || o.data_size_out != pkts[c].len ||
	    memcmp(out, pkts[c].data, pkts[c].len))
		return -EPROTO;
	return 0;
}

static void build_packets(void)
{
	struct pkt_spec s;

	/* a real SYN carries options (MSS, SACK, TS, WS): 20 bytes of them */
	s = pkt_tcp4(40000, 80, PKT_SYN);
	s.tcp_opt_words = 5;
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
}

static int dump_packets(const char *dir)
{
	char path[PATH_MAX];
	FILE *f;
	int c;

	for (c = 0; c < C_MAX; c++) {
		snprintf(path, sizeof(path), "%s/%s.bin", dir, class_files[c]);
		f = fopen(path, "w");
		if (!f || fwrite(pkts[c].data, 1, pkts[c].len, f) != pkts[c].len) {
			fprintf(stderr, "bench_xdp: write %s: %s\n", path, strerror(errno));
			if (f)
				fclose(f);
			return 2;
		}
		fclose(f);
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_xdp --iface IFACE --empty OBJ --minsyn OBJ [--filter OBJ]\n"
		"                 [--rounds N] [--repeat N] [--cpu N]\n"
		"       bench_xdp --dump DIR\n"
		"  Attaches each program in turn (native XDP) to IFACE, a throwaway device, and\n"
		"  measures it with BPF_PROG_TEST_RUN; scripts/bench.sh creates the device.\n"
		"  -i, --iface IFACE   device to attach to while measuring (veth: native XDP)\n"
		"  -e, --empty OBJ     the empty XDP program (build/bench/empty.bpf.o)\n"
		"  -m, --minsyn OBJ    the minimal IPv4 SYN counter (build/bench/minsyn.bpf.o)\n"
		"  -f, --filter OBJ    xdp-filter's TCP program (xdpfilt_alw_tcp.o); optional\n"
		"  -r, --rounds N      rounds, order rotated each round (default 9)\n"
		"  -n, --repeat N      runs per measurement (default 3000000)\n"
		"  -c, --cpu N         CPU to pin to (default: the last one allowed)\n"
		"  -d, --dump DIR      write the benchmark's packets to DIR/<class>.bin and exit\n"
		"example: bench_xdp -i pcb0 -e build/bench/empty.bpf.o -m build/bench/minsyn.bpf.o "
		"\\\n"
		"           -f /usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_tcp.o\n");
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

static void cell(double wall, double kern, double base)
{
	char b[32];

	snprintf(b, sizeof(b), "%.2f (%.0f)", wall, kern);
	if (base > 0)
		printf(" %13s %5.2fx", b, wall / base);
	else
		printf(" %13s", b);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"iface", required_argument, NULL, 'i'},  {"empty", required_argument, NULL, 'e'},
		{"minsyn", required_argument, NULL, 'm'}, {"filter", required_argument, NULL, 'f'},
		{"rounds", required_argument, NULL, 'r'}, {"repeat", required_argument, NULL, 'n'},
		{"cpu", required_argument, NULL, 'c'},	  {"dump", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},	  {NULL, 0, NULL, 0},
	};
	static double kns[P_MAX][C_MAX][MAX_ROUNDS], wns[P_MAX][C_MAX][MAX_ROUNDS];
	const char *iface = NULL, *empty = NULL, *minsyn = NULL, *filter = NULL, *dump = NULL;
	unsigned long rounds = 9, repeat = 3000000, cpu = ULONG_MAX;
	double km[P_MAX][C_MAX], wm[P_MAX][C_MAX], det[CHECK_ROUNDS], att[CHECK_ROUNDS], k;
	struct portcanary_bpf *skel = NULL;
	int ifindex, opt, ret = 2, err, r, i, j, p, c, nprogs;
	cpu_set_t set;
	bool met = true;

	while ((opt = getopt_long(argc, argv, "i:e:m:f:r:n:c:d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			iface = optarg;
			break;
		case 'e':
			empty = optarg;
			break;
		case 'm':
			minsyn = optarg;
			break;
		case 'f':
			filter = optarg;
			break;
		case 'd':
			dump = optarg;
			break;
		case 'r':
			if (parse_uint(optarg, 1, MAX_ROUNDS, &rounds))
				goto bad_usage;
			break;
		case 'n':
			if (parse_uint(optarg, 100000, 100000000, &repeat))
				goto bad_usage;
			break;
		case 'c':
			if (parse_uint(optarg, 0, CPU_SETSIZE - 1, &cpu))
				goto bad_usage;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad_usage;
		}
	}
	if (optind != argc)
		goto bad_usage;
	build_packets();
	if (dump)
		return dump_packets(dump);
	if (!iface || !empty || !minsyn)
		goto bad_usage;
	ifindex = if_nametoindex(iface);
	if (!ifindex) {
		fprintf(stderr, "bench_xdp: no interface %s: run it through scripts/bench.sh\n",
			iface);
		return 2;
	}

	/* one CPU for the whole run: the per-CPU counters stay in that CPU's cache */
	if (cpu == ULONG_MAX) {
		if (sched_getaffinity(0, sizeof(set), &set) || !CPU_COUNT(&set))
			cpu = 0;
		else
			for (cpu = CPU_SETSIZE - 1; cpu > 0 && !CPU_ISSET(cpu, &set); cpu--)
				;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "bench_xdp: cannot pin to CPU %lu: %s\n", cpu, strerror(errno));
		return 2;
	}
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
	if (prog_id(progs[P_PC].fd, &progs[P_PC].id) || watch_ports(&skel->bss->pc_port_table))
		goto out;

	if (load_obj(&progs[P_EMPTY], empty) || load_obj(&progs[P_MINSYN], minsyn))
		goto out;
	nprogs = P_FILTER;
	if (filter) {
		if (load_obj(&progs[P_FILTER], filter))
			goto out;
		nprogs = P_MAX;
	}

	fprintf(stderr,
		"bench_xdp: %lu rounds x %d programs x %d classes, %lu runs each, CPU %lu, on %s\n",
		rounds, nprogs, C_MAX, repeat, cpu, iface);
	for (r = 0; r < (int)rounds && !stop; r++) {
		for (i = 0; i < nprogs && !stop; i++) {
			/* rotate the program order, and the class order, every round */
			p = (i + r) % nprogs;
			if (attach(ifindex, &progs[p], iface))
				goto out;
			for (j = 0; j < C_MAX; j++) {
				c = (j + r) % C_MAX;
				err = measure(progs[p].fd, c, repeat, &kns[p][c][r], &wns[p][c][r]);
				if (err) {
					fprintf(stderr, "bench_xdp: test run of %s on %s: %s\n",
						progs[p].name, class_names[c],
						err == -EPROTO ? "did not pass the packet unchanged"
							       : strerror(-err));
					goto out;
				}
			}
			detach();
		}
	}
	/*
	 * What attaching buys on this machine, shown next to the table: the empty
	 * program detached, then attached. The difference is the indirect call the XDP
	 * dispatcher's direct call saves, and it depends on the kernel's state (about
	 * 9 ns here with no other XDP program attached anywhere, near 0 with one),
	 * which is why every program is measured attached, never detached.
	 */
	for (r = 0; r < CHECK_ROUNDS && !stop; r++) {
		if (measure(progs[P_EMPTY].fd, C_V4_SYN, repeat, &k, &det[r]) ||
		    attach(ifindex, &progs[P_EMPTY], iface) ||
		    measure(progs[P_EMPTY].fd, C_V4_SYN, repeat, &k, &att[r]))
			goto out;
		detach();
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
	printf("\nXDP per-packet cost, ns/packet: CPU time over %lu BPF_PROG_TEST_RUN runs (the\n"
	       "kernel's own whole-ns duration in parentheses), median of %lu rounds, CPU %lu; "
	       "each\n"
	       "program attached natively to %s while measured; ratios to the empty program.\n\n",
	       repeat, rounds, cpu, iface);
	printf("%-27s %13s", "packet class", "empty");
	for (p = P_MINSYN; p < nprogs; p++)
		printf(" %13s %6s", progs[p].name, "ratio");
	printf("\n");
	for (c = 0; c < C_MAX; c++) {
		double base = wm[P_EMPTY][c];

		printf("%-27s", class_names[c]);
		cell(wm[P_EMPTY][c], km[P_EMPTY][c], 0);
		for (p = P_MINSYN; p < nprogs; p++)
			cell(wm[p][c], km[p][c], base);
		printf("\n");
		if (wm[P_PC][c] > 1.5 * base)
			met = false;
		if (nprogs > P_FILTER && wm[P_PC][c] >= wm[P_FILTER][c])
			met = false;
	}
	printf("\nattach check, empty program, IPv4 SYN: %.2f ns detached, %.2f attached\n",
	       median(det, CHECK_ROUNDS), median(att, CHECK_ROUNDS));
	printf("min SYN ctr is IPv4-only: it counts both IPv4 classes and passes the other two.\n");
	printf("issue 2 reference: empty ~10 ns; min SYN ctr 1.1-1.3x; xdp-filter tcp 1.4-2.0x\n");
	printf("target (portcanary <= 1.5x empty%s on every class): %s\n",
	       nprogs > P_FILTER ? " and below xdp-filter tcp" : "", met ? "met" : "MISSED");
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
