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
/* Counter slots: slot 0 means "not monitored"; 1..PC_MAX_SLOTS-1 are usable. */
#define PC_MAX_SLOTS 2048

/* Value of the single entry of the pc_ports map: for every protocol, direction
 * and port, the counter slot (0 = not monitored). One lookup answers whether a
 * packet's destination port (inbound) or source port (outbound) is watched.
 * Written by user space only (the map is mmapable), read by the datapath. */
struct pc_port_table {
	__u16 slot[PC_PROTO_MAX][PC_DIR_MAX][PC_NR_PORTS];
};
_Static_assert(sizeof(struct pc_port_table) == 2 * 2 * 65536 * 2, "pc_port_table size");

/* Per-CPU counters of one slot (one proto/port/direction). rx_* are seen at
 * ingress (XDP or TC ingress), tx_* at TC egress. For an IN port the request
 * is rx_syn and the answers are tx_synack/tx_rst; for an OUT port the request
 * is tx_syn and the answers are rx_synack/rx_rst/rx_icmp_unreach.
 * icmp_unreach counts ICMP/ICMPv6 destination-unreachable errors whose
 * embedded original header names this port. */
struct pc_counters {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 rx_syn;	 /* SYN without ACK */
	__u64 rx_synack; /* SYN with ACK */
	__u64 rx_rst;
	__u64 rx_icmp_unreach;
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 tx_syn;
	__u64 tx_synack;
	__u64 tx_rst;
	__u64 tx_icmp_unreach;
};
_Static_assert(sizeof(struct pc_counters) == 12 * 8, "pc_counters size");

/* Per-CPU global counters of one hook (index enum pc_hook). */
struct pc_global {
	__u64 packets;	     /* every packet the hook saw */
	__u64 not_ip;	     /* not IPv4/IPv6 (ARP, LLDP, ...) */
	__u64 malformed;     /* truncated or inconsistent headers */
	__u64 frag_nonfirst; /* IPv4/IPv6 fragments past the first: no ports */
	__u64 other_l4;	     /* IP, but neither TCP, UDP nor an ICMP error */
	__u64 monitored;     /* packets counted on at least one slot */
	__u64 icmp_errors;   /* ICMP/ICMPv6 destination unreachable seen */
	__u64 foreign_netns; /* drop hook: drops in another network namespace (ignored) */
};
_Static_assert(sizeof(struct pc_global) == 8 * 8, "pc_global size");

/* Key of the pc_drops map (BPF_MAP_TYPE_PERCPU_HASH, value __u64 count): drops of
 * TCP/UDP packets of one slot by the running kernel's enum skb_drop_reason value.
 * Numbers differ between kernels: user space names them from BTF. Attribution
 * mirrors the datapath: a received packet (skb_iif set) is IN by dport, OUT by
 * sport; a locally generated one is OUT by dport, IN by sport. */
struct pc_drop_key {
	__u16 slot;
	__u16 pad;
	__u32 reason;
};
_Static_assert(sizeof(struct pc_drop_key) == 8, "pc_drop_key size");
#define PC_MAX_DROP_KEYS 16384

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
 * kept is the one a replay reproduces best.
 */
#define PC_DROP_SAMPLES	       8 /* a power of two */
#define PC_DROP_SAMPLE_HOLD_NS 2000000000ULL

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

/* Names of the pinned objects under <state-dir>/bpf/. */
#define PC_PIN_PORTS	"pc_ports"
#define PC_PIN_COUNTERS "pc_counters"
#define PC_PIN_GLOBAL	"pc_global"
#define PC_PIN_DROPS	"pc_drops"

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
