/* SPDX-License-Identifier: GPL-2.0 */
/* compat.bpf.h: constants the kernel's BTF (vmlinux.h) does not carry, because they are macros. */
#ifndef PC_COMPAT_BPF_H
#define PC_COMPAT_BPF_H

/* Ethertypes (uapi/linux/if_ether.h). */
#ifndef ETH_P_IP
#define ETH_P_IP 0x0800
#endif
#ifndef ETH_P_ARP
#define ETH_P_ARP 0x0806
#endif
#ifndef ETH_P_8021Q
#define ETH_P_8021Q 0x8100
#endif
#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif
#ifndef ETH_P_IPV6
#define ETH_P_IPV6 0x86DD
#endif
#ifndef ETH_HLEN
#define ETH_HLEN 14
#endif

/* TC verdicts (uapi/linux/pkt_cls.h). */
#ifndef TC_ACT_OK
#define TC_ACT_OK 0
#endif
#ifndef TC_ACT_UNSPEC
#define TC_ACT_UNSPEC (-1)
#endif

/*
 * IP protocol numbers. Some kernels export the IPv6 ones as enum constants in BTF
 * and others do not, so a plain #define of IPPROTO_FRAGMENT could collide with an
 * enum in one machine's vmlinux.h: use our own names for all of them.
 */
#define PC_IPPROTO_HOPOPTS  0
#define PC_IPPROTO_ICMP	    1
#define PC_IPPROTO_TCP	    6
#define PC_IPPROTO_UDP	    17
#define PC_IPPROTO_ROUTING  43
#define PC_IPPROTO_FRAGMENT 44
#define PC_IPPROTO_ICMPV6   58
#define PC_IPPROTO_DSTOPTS  60

/* IPv6 hop-by-hop option type of the Jumbo Payload (RFC 2675). */
#define PC_IPV6_TLV_JUMBO 0xC2

/* ICMP types we attribute: destination unreachable. */
#define PC_ICMP_DEST_UNREACH   3
#define PC_ICMPV6_DEST_UNREACH 1

/* TCP flag bits (byte 13 of the TCP header). */
#define PC_TCP_FIN 0x01
#define PC_TCP_SYN 0x02
#define PC_TCP_RST 0x04
#define PC_TCP_ACK 0x10

/* IPv4 fragment field: offset mask (the MF bit alone means "first fragment"). */
#define PC_IP_OFFSET 0x1FFF
/* IPv6 fragment header: offset in the top 13 bits of the 16-bit field. */
#define PC_IP6_OFFSET 0xFFF8

#endif /* PC_COMPAT_BPF_H */
