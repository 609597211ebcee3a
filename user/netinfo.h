/* SPDX-License-Identifier: GPL-2.0 */
/* netinfo.h: facts about the host's network: default-route interface, TCP listeners, netns. */
#ifndef PC_NETINFO_H
#define PC_NETINFO_H

#include <net/if.h>
#include <stddef.h>

#include "portspec.h"

/* Name of the interface of the default route (IPv4, else IPv6). 0 or -ENOENT. */
int pc_default_route_iface(char name[IF_NAMESIZE]);
/* Every TCP port with a listener in this network namespace, as inbound specs
 * (one per port, sorted, no duplicates). Returns the count or -errno. */
int pc_tcp_listeners(struct pc_portspec *out, int max);
/* Parse /proc/net/tcp{,6}-format text into sorted unique listening ports (pure). */
int pc_parse_proc_net_tcp(const char *text, unsigned char *seen /* 65536 bytes */);
/* Inode of this process's network namespace, 0 if unknown. */
unsigned int pc_netns_ino(void);

#endif
