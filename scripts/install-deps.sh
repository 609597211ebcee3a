#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Install every Debian package that building and testing portcanary needs (idempotent, quiet).
set -eu

PKGS="clang llvm make gcc pkg-config bpftool libbpf-dev libxdp-dev xdp-tools libelf-dev zlib1g-dev
libcmocka-dev libjson-c-dev libmnl-dev libnftnl-dev libnftables-dev libmicrohttpd-dev libcap-dev libinih-dev
nftables iptables iproute2 procps python3 python3-yaml util-linux prometheus prometheus-alertmanager
systemd libcap2-bin groff-base man-db iperf3"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing; run as root: sudo $0" >&2
	exit 2
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
