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

# Instructions each program executes per class: the programs loaded as measured (ports
# watched) and pinned in a bpffs of our own, run through tests/bench/insn_count.py on the
# xlated code (inlined lookups included). A count does not move with the machine's load,
# a timing does: the two go side by side.
TMP=$(mktemp -d)
NS="pcbench-$$"
cleanup() {
	umount "$TMP/pin" 2>/dev/null || true
	rm -rf "$TMP"
	ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$TMP/pin" "$TMP/pkt"
mount -t bpf bpf "$TMP/pin"
"$BENCH" --empty "$EMPTY" --minsyn "$MINSYN" "$@" --pin "$TMP/pin" --dump "$TMP/pkt" >/dev/null
# (a fresh bpffs may hold the kernel's own maps.debug and progs.debug: only our pins count)
for prog in empty minsyn portcanary xdpfilter; do
	[ -e "$TMP/pin/$prog" ] || continue
	python3 tests/bench/insn_count.py "$TMP/pin/$prog" "$TMP"/pkt/*.bin |
		awk -v p="$prog" '{ sub(/\.bin$/, "", $2); print p, $2, $3 }'
done >"$TMP/insns"
umount "$TMP/pin"
if [ -n "${COUNT:-}" ]; then
	column -t "$TMP/insns" 2>/dev/null || cat "$TMP/insns"
	exit 0
fi

ip netns add "$NS"
ip -n "$NS" link add pcb0 type veth peer name pcb1
ip -n "$NS" link set pcb0 up
ip -n "$NS" link set pcb1 up

ip netns exec "$NS" "$BENCH" --iface pcb0 --empty "$EMPTY" --minsyn "$MINSYN" --insns "$TMP/insns" "$@"
