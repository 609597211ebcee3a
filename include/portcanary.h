/* SPDX-License-Identifier: GPL-2.0 */
/* portcanary.h: the ABI shared by the BPF programs and user space (maps, keys, values, limits). */
#ifndef PORTCANARY_H
#define PORTCANARY_H

#ifdef __BPF__
/* BPF side: vmlinux.h already defines __u8..__u64 and struct bpf_spin_lock. */
#else
#include <linux/bpf.h>
#include <linux/types.h>
#endif

/* Protocols a port can be monitored for: index into pc_port_table.slot[]. */
enum pc_proto {
	PC_PROTO_TCP = 0,
	PC_PROTO_UDP = 1,
	PC_PROTO_MAX = 2,
};

/* Direction of a monitored port.
 * IN:  a service on this host (SYN in, SYN-ACK/RST out).
 * OUT: a service this host calls (SYN out, SYN-ACK/RST/ICMP unreachable in). */
enum pc_dir {
	PC_DIR_IN = 0,
	PC_DIR_OUT = 1,
	PC_DIR_MAX = 2,
};

/* Hooks a program runs at: index into the pc_global map. */
enum pc_hook {
	PC_HOOK_XDP = 0,	/* XDP ingress */
	PC_HOOK_TC_INGRESS = 1, /* TC ingress, the --ingress-hook tc alternative */
	PC_HOOK_TC_EGRESS = 2,	/* TC egress (clsact) */
	PC_HOOK_DROP = 3,	/* tp_btf/kfree_skb: packets = drops examined */
	PC_HOOK_MAX = 4,
};

#define PC_NR_PORTS 65536
/* Counter slots: slot 0 counts what no monitored port claims; 1..PC_MAX_SLOTS-1 are ports. */
#define PC_MAX_SLOTS 2048
/* The datapath hooks, which have counters on every slot (the drop hook has its own map). */
#define PC_NR_PKT_HOOKS (PC_HOOK_TC_EGRESS + 1)

/* For every port, protocol and direction, the counter slot (0 = not monitored). Two reads
 * answer whether a packet's destination port (inbound) or source port (outbound) is watched.
 * The port index is the port as the packet carries it, in network byte order:
 * slot[htons(port)][proto][dir] (PC_PORT_INDEX), so the datapath indexes with the bytes it
 * loaded. Port first: a port's four slots are 8 bytes, so both reads of a packet are one
 * base address plus the port's offset, protocol and direction being a load's constant
 * displacement (a row of 128 KiB per protocol and direction is beyond the 16-bit one).
 * It is global data of the BPF object (the .bss map, pinned as PC_PIN_PORTS): the datapath
 * addresses it directly, with no lookup. Written by user space only (mmap), read by BPF. */
struct pc_port_table {
	__u16 slot[PC_NR_PORTS][PC_PROTO_MAX][PC_DIR_MAX];
};
_Static_assert(sizeof(struct pc_port_table) == 2 * 2 * 65536 * 2, "pc_port_table size");
/* The index of a port (host byte order) in pc_port_table: the port in network byte order. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PC_PORT_INDEX(port) ((__u16)__builtin_bswap16((__u16)(port)))
#else
#define PC_PORT_INDEX(port) ((__u16)(port))
#endif

/* What one packet is to a slot, from its TCP flags (UDP: always OTHER). Every packet adds
 * one to exactly one class, so a slot's packets are the sum of its classes: the datapath
 * writes no separate packet count. */
enum pc_class {
	PC_CLS_OTHER = 0,	 /* no SYN, no RST: data, ACKs, FINs; every UDP datagram */
	PC_CLS_SYN = 1,		 /* SYN without ACK, RST or FIN: a connection request */
	PC_CLS_SYNACK = 2,	 /* SYN+ACK without RST or FIN: a handshake answer */
	PC_CLS_RST = 3,		 /* RST without SYN */
	PC_CLS_BADFLAGS = 4,	 /* SYN with RST or FIN: neither (a listener discards it) */
	PC_CLS_ICMP_UNREACH = 5, /* an ICMP/ICMPv6 destination-unreachable error whose
				  * quoted header names the port: not a packet of the port,
				  * so it adds no bytes */
	PC_CLS_MAX = 6,
};

/* One hook's counters on one slot, on one CPU: one cache line. */
struct pc_hook_counters {
	__u64 bytes; /* frame bytes of the packets (classes OTHER..BADFLAGS) */
	__u64 cls[PC_CLS_MAX];
	__u64 reserved;
};
_Static_assert(sizeof(struct pc_hook_counters) == 64, "pc_hook_counters size");

/* Key of the pc_counters array: CPU and slot (< PC_MAX_SLOTS: the port table holds no other;
 * user space writes it, and clears anything else it finds at start). The array holds
 * PC_MAX_SLOTS entries for every possible CPU (sized at load), CPU-major, so each CPU's
 * entries are its own cache lines. */
#define PC_SLOT_BITS		   11
#define PC_COUNTERS_KEY(cpu, slot) (((__u32)(cpu) << PC_SLOT_BITS) | (__u32)(slot))
_Static_assert(PC_MAX_SLOTS == 1 << PC_SLOT_BITS, "PC_SLOT_BITS");

/* Value of the pc_counters array: the counters of one proto/port/direction on one CPU, by
 * hook, so that a packet is counted with one lookup and two increments. For an IN port
 * the request is a SYN at ingress (XDP or TC ingress) and the answers SYN-ACK/RST at egress;
 * for an OUT port the request is a SYN at egress and the answers SYN-ACK/RST/ICMP unreachable
 * at ingress. Slot 0 gets every TCP/UDP packet (and ICMP error) of no monitored port. */
struct pc_slot_counters {
	struct pc_hook_counters hook[PC_NR_PKT_HOOKS];
};
_Static_assert(sizeof(struct pc_slot_counters) == 3 * 64, "pc_slot_counters size");

/* Per-CPU counters of one hook (index enum pc_hook) for what is not counted on a slot,
 * written only off the fast path. A hook's packets, monitored packets and invalid-flag
 * packets are derived by user space from the slots: the sum over the slots' classes, less
 * dup[] (a packet counted on two slots, IN by one port and OUT by the other, is one
 * packet), plus the categories below. */
struct pc_hook_stats {
	__u64 not_ip;	     /* not IPv4/IPv6 (ARP, LLDP, a third VLAN tag …) */
	__u64 malformed;     /* truncated or inconsistent headers */
	__u64 frag_nonfirst; /* IPv4/IPv6 fragments past the first: no ports */
	__u64 other_l4;	     /* IP, but neither TCP, UDP nor an ICMP destination unreachable */
	__u64 icmp_noport;   /* destination unreachable about a packet without ports */
	__u64 dup[PC_CLS_MAX];
	__u64 seen;	     /* drop hook only: drops examined */
	__u64 monitored;     /* drop hook only: drops of a monitored port */
	__u64 foreign_netns; /* drop hook only: drops in another network namespace (ignored) */
};
_Static_assert(sizeof(struct pc_hook_stats) == 14 * 8, "pc_hook_stats size");

/*
 * Drop counts: (slot, kernel drop reason) → count, in an open-addressing table the drop
 * tracer fills and user space reads in place (both arrays BPF_F_MMAPABLE): no syscall per
 * key or per hash bucket, which at 2,047 busy ports was a third of a sampling pass.
 *
 * pc_drop_keys[i]: a key, PC_DROP_KEY(slot, reason), or 0 for a free index (slot 0, the
 * unmonitored packets, never has drops). The tracer looks for its key from
 * pc_drop_hash(key) on, PC_DROP_PROBES indices at most, and claims the first free one with
 * a compare-and-swap, so two CPUs adding the same key meet at one index.
 * pc_drops[PC_DROP_COUNTS_KEY(cpu, i)]: the count of key i on one CPU (CPU-major, sized for
 * the possible CPUs at load, as pc_counters).
 *
 * Reasons are the running kernel's enum skb_drop_reason values: numbers differ between
 * kernels, user space names them from BTF. Attribution mirrors the datapath: a received
 * packet (skb_iif set) is IN by dport, OUT by sport; a locally generated one is OUT by dport,
 * IN by sport. User space frees a slot's keys when the slot goes to another port; a key
 * whose probe sequence crossed a freed index can then be claimed a second time nearer its
 * start: a key's count is the sum over the indices that hold it.
 */
#define PC_DROP_KEY(slot, reason)  (((__u64)(__u32)(reason) << 32) | (__u16)(slot))
#define PC_DROP_KEY_SLOT(k)	   ((__u16)(k))
#define PC_DROP_KEY_REASON(k)	   ((__u32)((k) >> 32))
#define PC_DROP_BITS		   14
#define PC_MAX_DROP_KEYS	   (1 << PC_DROP_BITS)
#define PC_DROP_PROBES		   32
#define PC_DROP_COUNTS_KEY(cpu, i) (((__u32)(cpu) << PC_DROP_BITS) | (__u32)(i))

/* Where a key's probe sequence starts: Fibonacci hashing, the top bits mix every key bit. */
static inline __u32 pc_drop_hash(__u64 key)
{
	return (__u32)((key * 0x9E3779B97F4A7C15ULL) >> (64 - PC_DROP_BITS));
}

/* ---- drop samples: which packets of a port were dropped (the live rule in the alert) ----
 *
 * Beside the counts, the drop tracer keeps per slot a few of the dropped packets
 * themselves, so that user space can replay exactly those packets against a copy of the
 * live ruleset and name the rule that dropped the port's real clients. Written only on
 * the drop path, never by XDP or TC.
 *
 * The bound: PC_DROP_SAMPLES buckets per slot, chosen by a hash of the peer's address
 * (the source of a received packet, the destination of a sent one). A peer, however many
 * packets and ports it floods with, only ever rewrites its own bucket: it can crowd out
 * the peers that share that bucket (1 in PC_DROP_SAMPLES of them), never every other
 * client. Within a bucket the latest drop wins, except that a sample younger than
 * PC_DROP_SAMPLE_HOLD_NS is replaced only by one at least as telling: a NETFILTER_DROP
 * over any other reason, then a connection's opening (a TCP SYN) over its other packets.
 * So a client's teardown frees do not wipe the evidence of a firewall, and the packet
 * kept is the one a replay reproduces best. One as telling replaces a sample only once it
 * is PC_DROP_SAMPLE_REFRESH_NS old: under a flood of one port's drops a bucket is written
 * (and its slot's lock taken) at most that often, instead of once per drop on every CPU.
 * Short, because the daemon asks about the samples dropped since the last firewall commit:
 * after a commit the next drop must land in the sample within about that long, or a port
 * can go down before its sample is asked about and its alert lack the rule. Traffic slower
 * than one drop a millisecond per bucket is not a flood, and there the latest drop still
 * wins.
 */
#define PC_DROP_SAMPLES		  8 /* a power of two */
#define PC_DROP_SAMPLE_HOLD_NS	  2000000000ULL
#define PC_DROP_SAMPLE_REFRESH_NS 1000000ULL

/* struct pc_drop_sample.flags */
#define PC_SAMPLE_RX   0x01 /* received (skb_iif set); else sent by this host */
#define PC_SAMPLE_IPV6 0x02 /* addresses are IPv6; else IPv4 in the first 4 bytes */

/* One dropped packet, as the tracer saw it. */
struct pc_drop_sample {
	__u64 time_ns;	/* bpf_ktime_get_ns() (CLOCK_MONOTONIC) of the drop; 0: empty */
	__u8 saddr[16]; /* network order */
	__u8 daddr[16]; /* network order */
	__u32 ifindex;	/* received: the ingress interface; sent: skb->dev, or 0 */
	__u32 reason;	/* the running kernel's enum skb_drop_reason */
	__u16 sport;	/* host order */
	__u16 dport;	/* host order */
	__u8 proto;	/* enum pc_proto */
	__u8 tcp_flags; /* byte 13 of the TCP header; 0 for UDP or when out of reach */
	__u8 flags;	/* PC_SAMPLE_* */
	__u8 pad;
};
_Static_assert(sizeof(struct pc_drop_sample) == 56, "pc_drop_sample size");

/* Value of the pc_drop_samples map (BPF_MAP_TYPE_ARRAY, key: slot). The lock makes a
 * sample whole: the tracer writes under it, user space reads with BPF_F_LOCK. */
struct pc_drop_samples {
	struct bpf_spin_lock lock;
	__u32 pad;
	struct pc_drop_sample s[PC_DROP_SAMPLES];
};
_Static_assert(sizeof(struct pc_drop_samples) == 8 + PC_DROP_SAMPLES * 56, "pc_drop_samples size");

/* The bucket of a peer address (16 bytes, IPv4 in the first 4, the rest zero): shared by
 * the tracer and the tests, so they agree on who shares a bucket with whom. */
static inline __u32 pc_sample_bucket(const __u32 addr[4])
{
	__u32 h = addr[0] ^ addr[1] ^ addr[2] ^ addr[3];

	h *= 0x9E3779B1U; /* Fibonacci hashing: the top bits mix every input bit */
	return h >> (32 - 3);
}
_Static_assert(PC_DROP_SAMPLES == 1 << 3, "pc_sample_bucket takes the top 3 bits");

#define PC_PIN_DROP_SAMPLES "pc_drop_samples"
/* ---- end of drop samples ---- */

/* Options fixed at load time (const volatile in the BPF object). */
struct pc_bpf_cfg {
	__u32 netns_ino; /* inode of the daemon's network namespace (drop attribution) */
	__u32 pad;
};
_Static_assert(sizeof(struct pc_bpf_cfg) == 8, "pc_bpf_cfg size");

/*
 * The maps' layout, written beside the pins (<state-dir>/layout). Bump it when what a map
 * holds changes meaning without its BTF changing shape (the daemon also compares every
 * pinned map's BTF with its own): pins of another version are replaced, never misread.
 */
#define PC_LAYOUT_VERSION 4

/* Names of the pinned objects under <state-dir>/bpf/. */
#define PC_PIN_PORTS	 "pc_ports" /* the object's .bss: struct pc_port_table */
#define PC_PIN_COUNTERS	 "pc_counters"
#define PC_PIN_GLOBAL	 "pc_global"
#define PC_PIN_DROPS	 "pc_drops" /* the drop counts (a per-CPU hash before layout 3) */
#define PC_PIN_DROP_KEYS "pc_drop_keys"

/* Program names (as the kernel shows them; at most 15 characters). */
#define PC_PROG_XDP	   "pc_xdp_ingress"
#define PC_PROG_TC_INGRESS "pc_tc_ingress"
#define PC_PROG_TC_EGRESS  "pc_tc_egress"
#define PC_PROG_DROPS	   "pc_kfree_skb"

/* ---- healthy clients (bpf/clients.bpf.c, user/clients.c) -------------------------------
 * Sampled off the packet path, from the sock:inet_sock_set_state tracepoint, once per
 * TCP connection that reaches ESTABLISHED: who the port's working clients are, so that a
 * firewall change is tried from their real addresses (portcanary apply). */

/* Key of the pc_clients map: a port and direction. IN: the local port of a passive open
 * (this host serves it); OUT: the remote port of an active open (this host calls it). */
struct pc_client_key {
	__u16 port;
	__u8 dir; /* enum pc_dir */
	__u8 pad;
};
_Static_assert(sizeof(struct pc_client_key) == 4, "pc_client_key size");

/* One established connection: the client's and the server's address (IPv4 in the first
 * 4 bytes), and when (bpf_ktime_get_ns). */
struct pc_client_entry {
	__u64 seen_ns;
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 pad[7];
	__u8 client[16];
	__u8 server[16];
};
_Static_assert(sizeof(struct pc_client_entry) == 48, "pc_client_entry size");

#define PC_CLIENTS_PER_KEY 4 /* per CPU: the last connections of a port */
#define PC_CLIENT_KEYS	   4096

/* Value of pc_clients (BPF_MAP_TYPE_LRU_PERCPU_HASH): a ring of the last connections. */
struct pc_client_ring {
	__u32 next; /* the slot written next (modulo PC_CLIENTS_PER_KEY) */
	__u32 pad;
	struct pc_client_entry e[PC_CLIENTS_PER_KEY];
};
_Static_assert(sizeof(struct pc_client_ring) == 8 + 4 * 48, "pc_client_ring size");

#define PC_PROG_CLIENTS "pc_sock_state"

#endif /* PORTCANARY_H */
