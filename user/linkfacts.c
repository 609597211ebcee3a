// SPDX-License-Identifier: GPL-2.0
/* linkfacts.c: driver (ETHTOOL_GDRVINFO), software kind (rtnetlink), LRO and rx-gro-hw state. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <libmnl/libmnl.h>

#include "linkfacts.h"

/* An ioctl, not sysfs: /sys/class/net shows the namespace sysfs was mounted in, which is not
 * ours under `nsenter --net`; the socket is in ours. */
static int ethtool(int fd, const char *name, void *cmd)
{
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr) ? -errno : 0;
}

/* The index of a feature name (e.g. "rx-gro-hw") in this kernel's feature strings: the bit
 * numbers are internal to the kernel, the names are its ABI. -1 when absent. */
static int feature_bit(int fd, const char *name, const char *feature, __u32 *count)
{
	struct {
		struct ethtool_sset_info hdr;
		__u32 len;
	} info = {.hdr = {.cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_FEATURES}};
	struct ethtool_gstrings *strs;
	int bit = -1;
	__u32 i;

	if (ethtool(fd, name, &info) || !info.hdr.sset_mask || !info.len || info.len > 1024)
		return -1;
	strs = calloc(1, sizeof(*strs) + (size_t)info.len * ETH_GSTRING_LEN);
	if (!strs)
		return -1;
	strs->cmd = ETHTOOL_GSTRINGS;
	strs->string_set = ETH_SS_FEATURES;
	strs->len = info.len;
	if (!ethtool(fd, name, strs))
		for (i = 0; i < strs->len && bit < 0; i++)
			if (!strncmp((char *)strs->data + i * ETH_GSTRING_LEN, feature,
				     ETH_GSTRING_LEN))
				bit = i;
	*count = info.len;
	free(strs);
	return bit;
}

static bool feature_active(int fd, const char *name, const char *feature)
{
	struct ethtool_gfeatures *g;
	__u32 count = 0, blocks;
	bool on = false;
	int bit;

	bit = feature_bit(fd, name, feature, &count);
	if (bit < 0)
		return false;
	blocks = (count + 31) / 32;
	g = calloc(1, sizeof(*g) + blocks * sizeof(g->features[0]));
	if (!g)
		return false;
	g->cmd = ETHTOOL_GFEATURES;
	g->size = blocks;
	if (!ethtool(fd, name, g))
		on = g->features[bit / 32].active & (1U << (bit % 32));
	free(g);
	return on;
}

static int linkinfo_cb(const struct nlattr *attr, void *data)
{
	struct pc_link_facts *f = data;

	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND && !mnl_attr_validate(attr, MNL_TYPE_STRING))
		snprintf(f->kind, sizeof(f->kind), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == IFLA_LINKINFO && !mnl_attr_validate(attr, MNL_TYPE_NESTED))
		mnl_attr_parse_nested(attr, linkinfo_cb, data);
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct pc_link_facts *f = data;

	f->loopback = ifi->ifi_flags & IFF_LOOPBACK;
	return mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, data);
}

/* IFLA_INFO_KIND is set exactly for devices made by a software driver's rtnl_link_ops
 * (veth, bridge, bond, vxlan, macvlan, tun ...), never for a NIC on a bus. */
static int read_kind(int ifindex, struct pc_link_facts *f)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	unsigned int seq = time(NULL), portid;
	int ret;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (ret < 0) {
		ret = -errno;
		goto out;
	}
	ret = mnl_cb_run(buf, ret, seq, portid, link_cb, f);
	ret = ret < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return ret;
}

int pc_link_facts_read(const char *name, int ifindex, struct pc_link_facts *f)
{
	struct ethtool_drvinfo drv = {.cmd = ETHTOOL_GDRVINFO};
	struct ethtool_value flags = {.cmd = ETHTOOL_GFLAGS};
	int fd, err;

	memset(f, 0, sizeof(*f));
	err = read_kind(ifindex, f);
	if (err)
		return err;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0; /* no ethtool: empty driver, which the rule takes as "not known to be free" */
	/* Without get_drvinfo (lo, some software devices) the driver stays unknown. */
	if (!ethtool(fd, name, &drv))
		snprintf(f->driver, sizeof(f->driver), "%s", drv.driver);
	if (!ethtool(fd, name, &flags))
		f->lro = flags.data & ETH_FLAG_LRO;
	f->gro_hw = feature_active(fd, name, "rx-gro-hw");
	close(fd);
	return 0;
}
