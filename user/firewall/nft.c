// SPDX-License-Identifier: GPL-2.0
/* nft.c: libnftables for listing and loading, libmnl for NFT_MSG_GETGEN. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>

#include "firewall/nft.h"

char *pc_nft_list(unsigned int flags)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	unsigned int out = 0;
	char *text = NULL;
	int err;

	if (!nft) {
		errno = ENOMEM;
		return NULL;
	}
	if (flags & PC_NFT_LIST_HANDLES)
		out |= NFT_CTX_OUTPUT_HANDLE;
	if (flags & PC_NFT_LIST_STATELESS)
		out |= NFT_CTX_OUTPUT_STATELESS;
	nft_ctx_output_set_flags(nft, out);
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	if (nft_run_cmd_from_buffer(nft, "list ruleset")) {
		err = EPERM;
	} else {
		text = strdup(nft_ctx_get_output_buffer(nft) ?: "");
		err = text ? 0 : ENOMEM;
	}
	nft_ctx_free(nft);
	errno = err;
	return text;
}

static int gen_attr(const struct nlattr *a, void *data)
{
	uint32_t *gen = data;

	if (mnl_attr_get_type(a) == NFTA_GEN_ID && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		*gen = ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWGEN)
		return MNL_CB_OK;
	return mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr, data) < 0 ? MNL_CB_ERROR
										: MNL_CB_OK;
}

int pc_nft_genid(uint32_t *gen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct timeval tv = {.tv_sec = 1};
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	uint32_t seq = time(NULL), portid, found = UINT32_MAX;
	ssize_t n;
	int err = 0;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) ||
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		err = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0) {
		err = -errno;
		goto out;
	}
	if (mnl_cb_run(buf, n, seq, portid, gen_cb, &found) < 0) {
		err = -errno;
		goto out;
	}
	if (found == UINT32_MAX)
		err = -ENOENT;
	else
		*gen = found;
out:
	mnl_socket_close(nl);
	return err;
}

int pc_nft_run(const char *text, bool dry_run, char *err, size_t errlen)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	int ret = 0;

	if (errlen)
		err[0] = '\0';
	if (!nft)
		return -ENOMEM;
	nft_ctx_set_dry_run(nft, dry_run);
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	if (nft_run_cmd_from_buffer(nft, text)) {
		const char *msg = nft_ctx_get_error_buffer(nft);
		size_t n;

		snprintf(err, errlen, "%s", msg && *msg ? msg : "nft refused the ruleset\n");
		/* nft ends its message with a newline: one less for our own lines. */
		n = strlen(err);
		while (n && err[n - 1] == '\n')
			err[--n] = '\0';
		ret = -EINVAL;
	}
	nft_ctx_free(nft);
	return ret;
}

char *pc_nft_restore_text(const char *listing)
{
	static const char head[] = "flush ruleset\n";
	size_t n = strlen(listing);
	char *t = malloc(sizeof(head) + n + 1);

	if (!t)
		return NULL;
	memcpy(t, head, sizeof(head) - 1);
	memcpy(t + sizeof(head) - 1, listing, n + 1);
	return t;
}
