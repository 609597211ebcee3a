#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# XDP benchmark: per-packet cost of pc_xdp_ingress vs an empty program, a minimal SYN counter
# and xdp-filter's TCP program.
#
# Every program is attached (native XDP) to a veth inside a throwaway network
# namespace while it is measured: the kernel calls an attached XDP program
# directly and a detached one through an indirect call, which alone is a third
# of the empty program's cost. The namespace goes away on every exit path.
# Extra arguments go to build/bench/bench_xdp (e.g. --rounds 15 --repeat 5000000).
set -eu

cd "$(dirname "$0")/.."
BENCH=build/bench/bench_xdp
EMPTY=build/bench/empty.bpf.o
MINSYN=build/bench/minsyn.bpf.o

# --count: BPF instructions each benchmarked program executes per packet class
# (tests/bench/insn_count.py on the xlated code), instead of timing.
if [ "${1:-}" = "--count" ]; then
	COUNT=1
	shift
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (BPF and network namespaces): sudo make bench" >&2
	exit 2
fi
for f in "$BENCH" "$EMPTY" "$MINSYN"; do
	if [ ! -e "$f" ]; then
		echo "bench: $f is missing: run make bench" >&2
		exit 2
	fi
done

# xdp-filter's program for its default policy (allow), with the TCP feature only.
FILTER=$(dpkg -L libxdp1 xdp-tools 2>/dev/null | grep '/xdpfilt_alw_tcp\.o$' | head -n1 || true)
if [ -z "$FILTER" ]; then
	echo "bench: xdpfilt_alw_tcp.o not found (package libxdp1/xdp-tools): comparing with the empty program only" >&2
	set -- "$@"
else
	set -- --filter "$FILTER" "$@"
fi

if [ -n "${COUNT:-}" ]; then
	TMP=$(mktemp -d)
	PIN=/sys/fs/bpf/pcbench-$$
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	trap 'rm -rf "$TMP" "$PIN"' EXIT
	"$BENCH" --dump "$TMP"
	for obj in build/portcanary.bpf.o "$EMPTY" "$MINSYN"; do
		# loadall pins every program of the object; count the XDP ones
		bpftool prog loadall "$obj" "$PIN" >/dev/null 2>&1
		for prog in "$PIN"/*; do
			[ "$(bpftool -j prog show pinned "$prog" | sed -n 's/.*"type":"\([a-z_]*\)".*/\1/p')" = xdp ] || continue
			python3 tests/bench/insn_count.py "$prog" "$TMP"/v4_syn.bin "$TMP"/unmon.bin \
				"$TMP"/v6_syn.bin "$TMP"/vlan_syn.bin
		done
		rm -rf "$PIN"
	done
	exit 0
fi

NS="pcbench-$$"
cleanup() {
	ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS"
ip -n "$NS" link add pcb0 type veth peer name pcb1
ip -n "$NS" link set pcb0 up
ip -n "$NS" link set pcb1 up

ip netns exec "$NS" "$BENCH" --iface pcb0 --empty "$EMPTY" --minsyn "$MINSYN" "$@"
