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
#include "loader.h"
#include "bpf/pkt.h"

#define MAX_ROUNDS 64
/*
 * Loads of each program, used in turn round by round. One load's figure moves by up to
 * ±0.3 ns with where the kernel put that load's code and maps (measured: the same object
 * loaded ten times in one run): a median over several loads measures the program, not one
 * placement.
 */
#define MAX_LOADS    8
#define XDP_PASS_RET 2
/* Rounds of the direct-call check (the empty program detached, then attached). */
#define CHECK_ROUNDS 5

enum { P_EMPTY, P_MINSYN, P_PC, P_FILTER, P_MAX };
/* The packet classes of issue 10: what an edge host's XDP program meets most. */
enum { C_V4_SYN, C_V4_ACK, C_V4_UDP, C_V6_SYN, C_VLAN_SYN, C_QINQ_V6_SYN, C_MAX };

static const char *const class_names[C_MAX] = {
	"IPv4 SYN, monitored", "IPv4 ACK, unmonitored", "IPv4 UDP, unmonitored",
	"IPv6 SYN, monitored", "802.1Q IPv4 SYN, mon.", "QinQ IPv6 SYN, mon.",
};
/* Short names, for the packet files of --dump (tests/bench/insn_count.py reads them). */
static const char *const class_files[C_MAX] = {"v4_syn", "v4_ack",   "v4_udp",
					       "v6_syn", "vlan_syn", "qinq_v6_syn"};
/* The IPv4 classes: the ones the minimal IPv4 SYN counter does real work on. */
static const bool class_ipv4[C_MAX] = {true, true, true, false, false, false};
/* The targets (issue 10): per class against xdp-filter and the empty program, and on the
 * IPv4 classes against the minimal SYN counter. */
#define TARGET_FILTER 0.9
#define TARGET_EMPTY  1.5
#define TARGET_MINSYN 1.2
/* The short names programs are pinned under by --pin (scripts/bench.sh counts them). */
static const char *const prog_files[P_MAX] = {"empty", "minsyn", "portcanary", "xdpfilter"};

struct prog {
	const char *name;
	struct bpf_object *obj[MAX_LOADS]; /* NULL for ours (the skeletons own it) */
	int fd[MAX_LOADS];
	__u32 id[MAX_LOADS];
};

static struct prog progs[P_MAX] = {
	[P_EMPTY] = {.name = "empty"},
	[P_MINSYN] = {.name = "min SYN ctr"},
	[P_PC] = {.name = "portcanary"},
	[P_FILTER] = {.name = "xdp-filter tcp"},
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
	t->slot[PC_PORT_INDEX(80)][PC_PROTO_TCP][PC_DIR_IN] = 1;
	t->slot[PC_PORT_INDEX(443)][PC_PROTO_TCP][PC_DIR_IN] = 2;
	t->slot[PC_PORT_INDEX(5432)][PC_PROTO_TCP][PC_DIR_OUT] = 3;
	t->slot[PC_PORT_INDEX(53)][PC_PROTO_UDP][PC_DIR_IN] = 4;
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

/* Load k of an object file's one program. */
static int load_obj(struct prog *p, int k, const char *path)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	int err;

	p->obj[k] = bpf_object__open_file(path, NULL);
	if (!p->obj[k]) {
		err = -errno;
		fprintf(stderr, "bench_xdp: open %s: %s\n", path, strerror(-err));
		return err;
	}
	/* xdp-filter pins its maps by name: keep the benchmark's copy private. A variant of
	 * ours built from bpf/ headers (an experiment) gets its counters sized as the loader
	 * sizes them. */
	bpf_object__for_each_map(map, p->obj[k])
	{
		bpf_map__set_pin_path(map, NULL);
		if (!strcmp(bpf_map__name(map), "pc_counters"))
			bpf_map__set_max_entries(map, libbpf_num_possible_cpus() * PC_MAX_SLOTS);
	}
	err = bpf_object__load(p->obj[k]);
	if (err) {
		fprintf(stderr, "bench_xdp: load %s: %s\n", path, strerror(-err));
		return err;
	}
	/* each of these objects holds exactly one program: measure that one, and only it */
	prog = bpf_object__next_program(p->obj[k], NULL);
	if (!prog || bpf_object__next_program(p->obj[k], prog)) {
		fprintf(stderr, "bench_xdp: %s: expected exactly one program\n", path);
		return -EINVAL;
	}
	p->fd[k] = bpf_program__fd(prog);
	return prog_id(p->fd[k], &p->id[k]);
}

/*
 * Attach p natively and check the kernel says so: the XDP dispatcher only calls
 * programs attached somewhere directly, so a silent fallback (generic mode, or
 * another program left in place) would skew exactly the figure we compare.
 */
static int attach(int ifindex, const struct prog *p, int k, const char *iface)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err;

	err = bpf_xdp_attach(ifindex, p->fd[k], XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		fprintf(stderr, "bench_xdp: attach %s to %s (native XDP): %s\n", p->name, iface,
			strerror(-err));
		return err;
	}
	attached_ifindex = ifindex;
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err || q.attach_mode != XDP_ATTACHED_DRV || q.drv_prog_id != p->id[k]) {
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
	s.nvlan = 1;
	pkts[C_VLAN_SYN].len = pkt_build(&s, pkts[C_VLAN_SYN].data, PKT_MAX);
	/* the bulk of traffic: an ACK with timestamps and data, to a port nobody watches */
	s = pkt_tcp4(40000, 8080, PKT_ACK | PKT_PSH);
	s.tcp_opt_words = 3;
	s.payload = 100;
	pkts[C_V4_ACK].len = pkt_build(&s, pkts[C_V4_ACK].data, PKT_MAX);
	s = pkt_udp4(40000, 5000);
	s.payload = 64;
	pkts[C_V4_UDP].len = pkt_build(&s, pkts[C_V4_UDP].data, PKT_MAX);
	s = pkt_tcp6(40000, 80, PKT_SYN);
	s.tcp_opt_words = 5;
	pkts[C_V6_SYN].len = pkt_build(&s, pkts[C_V6_SYN].data, PKT_MAX);
	s.nvlan = 2;
	s.vlan_tpid[0] = PKT_ETH_8021AD;
	s.vlan_tpid[1] = PKT_ETH_8021Q;
	pkts[C_QINQ_V6_SYN].len = pkt_build(&s, pkts[C_QINQ_V6_SYN].data, PKT_MAX);
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
		"                 [--rounds N] [--loads N] [--repeat N] [--cpu N] [--insns FILE]\n"
		"       bench_xdp --empty OBJ --minsyn OBJ [--filter OBJ] --pin DIR --dump DIR\n"
		"  Attaches each program in turn (native XDP) to IFACE, a throwaway device, and\n"
		"  measures it with BPF_PROG_TEST_RUN; scripts/bench.sh creates the device.\n"
		"  -i, --iface IFACE   device to attach to while measuring (veth: native XDP)\n"
		"  -e, --empty OBJ     the empty XDP program (build/bench/empty.bpf.o)\n"
		"  -m, --minsyn OBJ    the minimal IPv4 SYN counter (build/bench/minsyn.bpf.o)\n"
		"  -f, --filter OBJ    xdp-filter's TCP program (xdpfilt_alw_tcp.o); optional\n"
		"  -r, --rounds N      rounds, order rotated each round (default 15)\n"
		"  -l, --loads N       loads of each program, used in turn by the rounds (default "
		"3)\n"
		"  -n, --repeat N      runs per measurement (default 3000000)\n"
		"  -c, --cpu N         CPU to pin to (default: the last one allowed)\n"
		"  -d, --dump DIR      write the benchmark's packets to DIR/<class>.bin\n"
		"  -p, --pin DIR       load the programs as measured (ports watched) and pin them\n"
		"                      as DIR/<program>, for tests/bench/insn_count.py; then exit\n"
		"  -I, --insns FILE    instructions each program executes per class (lines\n"
		"                      \"PROGRAM CLASS N\", insn_count.py's), shown in the table\n"
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

/* Instructions executed, from insn_count.py's output: "PROGRAM CLASS N" (0: unknown). */
static int insns[P_MAX][C_MAX];

static int read_insns(const char *path)
{
	char prog[64], cls[64];
	FILE *f = fopen(path, "r");
	int n, p, c;

	if (!f) {
		fprintf(stderr, "bench_xdp: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	while (fscanf(f, "%63s %63s %d", prog, cls, &n) == 3)
		for (p = 0; p < P_MAX; p++)
			for (c = 0; c < C_MAX; c++)
				if (!strcmp(prog, prog_files[p]) && !strcmp(cls, class_files[c]))
					insns[p][c] = n;
	fclose(f);
	return 0;
}

static int pin_progs(const char *dir, int nprogs)
{
	char path[PATH_MAX];
	int p;

	for (p = 0; p < nprogs; p++) {
		snprintf(path, sizeof(path), "%s/%s", dir, prog_files[p]);
		if (bpf_obj_pin(progs[p].fd[0], path)) {
			fprintf(stderr, "bench_xdp: pin %s: %s\n", path, strerror(errno));
			return 2;
		}
	}
	return 0;
}

/* One cell: ns (and instructions executed, where counted). */
static void cell(int p, int c, double ns)
{
	char b[32];

	if (insns[p][c])
		snprintf(b, sizeof(b), "%.2f (%d)", ns, insns[p][c]);
	else
		snprintf(b, sizeof(b), "%.2f", ns);
	printf(" %12s", b);
}

/* A ratio and whether it meets its target (blank where it does not apply). */
static bool ratio(double num, double den, double target, bool applies)
{
	bool ok = num <= target * den;

	if (!applies || den <= 0) {
		printf(" %9s", "");
		return true;
	}
	printf(" %6.2fx%s", num / den, ok ? "  " : " !");
	return ok;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"iface", required_argument, NULL, 'i'},
		{"empty", required_argument, NULL, 'e'},
		{"minsyn", required_argument, NULL, 'm'},
		{"filter", required_argument, NULL, 'f'},
		{"rounds", required_argument, NULL, 'r'},
		{"repeat", required_argument, NULL, 'n'},
		{"cpu", required_argument, NULL, 'c'},
		{"dump", required_argument, NULL, 'd'},
		{"pin", required_argument, NULL, 'p'},
		{"insns", required_argument, NULL, 'I'},
		{"loads", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static double kns[P_MAX][C_MAX][MAX_ROUNDS], wns[P_MAX][C_MAX][MAX_ROUNDS];
	const char *iface = NULL, *empty = NULL, *minsyn = NULL, *filter = NULL, *dump = NULL;
	const char *pin = NULL, *insns_file = NULL;
	unsigned long rounds = 15, loads = 5, repeat = 3000000, cpu = ULONG_MAX;
	double km[P_MAX][C_MAX], wm[P_MAX][C_MAX], det[CHECK_ROUNDS], att[CHECK_ROUNDS], kn;
	struct portcanary_bpf *skel[MAX_LOADS] = {NULL};
	int ifindex = 0, opt, ret = 2, err, r, i, j, p, c, nprogs, k, l;
	bool met = true;
	cpu_set_t set;

	while ((opt = getopt_long(argc, argv, "i:e:m:f:r:l:n:c:d:p:I:h", opts, NULL)) != -1) {
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
		case 'p':
			pin = optarg;
			break;
		case 'I':
			insns_file = optarg;
			break;
		case 'r':
			if (parse_uint(optarg, 1, MAX_ROUNDS, &rounds))
				goto bad_usage;
			break;
		case 'l':
			if (parse_uint(optarg, 1, MAX_LOADS, &loads))
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
	if (dump && dump_packets(dump))
		return 2;
	if (dump && !pin)
		return 0;
	if (!empty || !minsyn || (!iface && !pin))
		goto bad_usage;
	if (insns_file && read_insns(insns_file))
		return 2;
	if (iface) {
		ifindex = if_nametoindex(iface);
		if (!ifindex) {
			fprintf(stderr,
				"bench_xdp: no interface %s: run it through scripts/bench.sh\n",
				iface);
			return 2;
		}
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

	/* every program loaded `loads` times, in turn, so that no program's loads cluster (for
	 * --pin one: the code, as the instructions are counted, is the same in every load) */
	nprogs = filter ? P_MAX : P_FILTER;
	if (pin)
		loads = 1;
	for (l = 0; l < (int)loads; l++) {
		skel[l] = portcanary_bpf__open();
		/* as the daemon loads it: maps sized for the CPUs, multi-buffer frames taken */
		if (skel[l] && (pc_bpf_prepare(skel[l]) || portcanary_bpf__load(skel[l]))) {
			portcanary_bpf__destroy(skel[l]);
			skel[l] = NULL;
		}
		if (!skel[l]) {
			fprintf(stderr,
				"bench_xdp: cannot load portcanary's BPF object: %s (root? BPF?)\n",
				strerror(errno));
			goto out;
		}
		progs[P_PC].fd[l] = bpf_program__fd(skel[l]->progs.pc_xdp_ingress);
		if (prog_id(progs[P_PC].fd[l], &progs[P_PC].id[l]) ||
		    watch_ports(&skel[l]->bss->pc_port_table))
			goto out;
		if (load_obj(&progs[P_EMPTY], l, empty) || load_obj(&progs[P_MINSYN], l, minsyn) ||
		    (filter && load_obj(&progs[P_FILTER], l, filter)))
			goto out;
	}
	if (pin) {
		ret = pin_progs(pin, nprogs);
		goto out;
	}

	fprintf(stderr,
		"bench_xdp: %lu rounds x %d programs (%lu loads each) x %d classes, %lu runs each, "
		"CPU %lu, on %s\n",
		rounds, nprogs, loads, C_MAX, repeat, cpu, iface);
	for (r = 0; r < (int)rounds && !stop; r++) {
		for (i = 0; i < nprogs && !stop; i++) {
			/* rotate the program order, and the class order, every round; the
			 * loads take turns */
			p = (i + r) % nprogs;
			k = r % loads;
			if (attach(ifindex, &progs[p], k, iface))
				goto out;
			for (j = 0; j < C_MAX; j++) {
				c = (j + r) % C_MAX;
				err = measure(progs[p].fd[k], c, repeat, &kns[p][c][r],
					      &wns[p][c][r]);
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
		if (measure(progs[P_EMPTY].fd[0], C_V4_SYN, repeat, &kn, &det[r]) ||
		    attach(ifindex, &progs[P_EMPTY], 0, iface) ||
		    measure(progs[P_EMPTY].fd[0], C_V4_SYN, repeat, &kn, &att[r]))
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
	printf("\nXDP per-packet cost, ns/packet (instructions executed): CPU time over %lu\n"
	       "BPF_PROG_TEST_RUN runs, median of %lu rotated rounds after a warm-up, CPU %lu,\n"
	       "the rounds taking %lu loads of each program in turn; each program attached\n"
	       "natively to %s while measured. portcanary's ratios to\n"
	       "each reference, with its target (! = missed): xdp-filter <= %.1fx, empty <= "
	       "%.1fx,\n"
	       "min SYN ctr <= %.1fx on the IPv4 classes (it only parses IPv4).\n\n",
	       repeat, rounds, cpu, loads, iface, TARGET_FILTER, TARGET_EMPTY, TARGET_MINSYN);
	printf("%-22s", "packet class");
	for (p = 0; p < nprogs; p++)
		printf(" %12s", progs[p].name);
	printf(" %9s %9s %9s\n", nprogs > P_FILTER ? "/filter" : "", "/empty", "/minsyn");
	for (c = 0; c < C_MAX; c++) {
		printf("%-22s", class_names[c]);
		for (p = 0; p < nprogs; p++)
			cell(p, c, wm[p][c]);
		met &= ratio(wm[P_PC][c], nprogs > P_FILTER ? wm[P_FILTER][c] : 0, TARGET_FILTER,
			     nprogs > P_FILTER);
		met &= ratio(wm[P_PC][c], wm[P_EMPTY][c], TARGET_EMPTY, true);
		met &= ratio(wm[P_PC][c], wm[P_MINSYN][c], TARGET_MINSYN, class_ipv4[c]);
		printf("\n");
	}
	printf("\nthe kernel's own whole-ns figure, portcanary:");
	for (c = 0; c < C_MAX; c++)
		printf(" %.0f", km[P_PC][c]);
	printf("\nattach check, empty program, IPv4 SYN: %.2f ns detached, %.2f attached\n",
	       median(det, CHECK_ROUNDS), median(att, CHECK_ROUNDS));
	printf("targets%s: %s\n", nprogs > P_FILTER ? "" : " (without xdp-filter)",
	       met ? "met on every class" : "MISSED where marked !");
	ret = met ? 0 : 1; /* make bench fails at its end when a target is missed */
	goto out;

bad_usage:
	usage(stderr);
	return 2;
out:
	detach();
	for (p = 0; p < P_MAX; p++)
		for (l = 0; l < MAX_LOADS; l++)
			bpf_object__close(progs[p].obj[l]);
	for (l = 0; l < MAX_LOADS; l++)
		portcanary_bpf__destroy(skel[l]);
	return ret;
}
