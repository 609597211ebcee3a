#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench-drops.sh: what portcanary costs the host while a firewall drops a monitored port's
# packets (the outage it exists for: every retransmission and every datagram of the blocked
# clients is a drop, and its kfree_skb tracer runs on each). Side by side in one run: no
# program; an empty TC ingress program (tests/bench/empty_tc.bpf.c: what the kernel's hook
# costs before any program does anything); and the real daemon monitoring the port. Rotated
# rounds, medians.
#
# The sandbox of tests/e2e/lib.sh (client and server namespaces joined by a veth pair, removed
# on every exit path); nftables in the server namespace drops UDP to port 9000; the client
# floods that port with 60-byte frames from one thread per CPU (tests/bench/bench_flood.c).
# Over veth the server's receive path runs on the sending CPU, so with every CPU sending the
# rate is the inverse of a datagram's CPU time end to end, the drop included. For the
# portcanary mode the daemon (`portcanary run -i vs -p udp/9000`, its default hooks: TC on a
# veth) is started afresh and stopped with SIGTERM each round, and its count of the port's
# drops is checked against the datagrams sent: under the flood it must still count every one.
#
# usage: scripts/bench-drops.sh [--rounds N] [--seconds S]
#   --rounds N   rounds of the three modes, order rotated each round (default 7)
#   --seconds S  seconds of flood per run (default 3)
# No target (the issue sets none): the figures are printed. Exit 0, or 2 on error, or 1 when
# the daemon did not count every drop.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=9000
. "$ROOT/scripts/bench-common.sh"
bench_args bench-drops 7 3 "$@"
bench_require nft python3 nsenter tc
FLOOD="$ROOT/build/bench/bench_flood"
EMPTY_TC="$ROOT/build/bench/empty_tc.bpf.o"
for f in "$FLOOD" "$EMPTY_TC"; do
	[ -e "$f" ] || { echo "bench-drops: $f is missing: run make bench" >&2; exit 2; }
done
. "$ROOT/tests/e2e/lib.sh"

sandbox_up || { echo "bench-drops: cannot set up the namespaces" >&2; exit 2; }
printf 'table inet pcbench {\n chain in {\n  type filter hook input priority 0;\n  udp dport %d drop\n }\n}\n' \
	"$PORT" | nft_s -f - || { echo "bench-drops: cannot load the drop rule" >&2; exit 2; }

# flood: one run; prints "datagrams/s sent".
flood() { in_c "$FLOOD" "$S_IP" "$PORT" "$@"; }

# drops_total: the daemon's count of the port's drops (status --json), once it has settled:
# the value after two sampling intervals in a row without change (bounded, 10 s).
drops_total() {
	local last=-1 now i
	for i in $(seq 50); do
		now=$(port_field "$PORT" in drops_total udp 2>/dev/null) || now=-1
		[ "$now" = "$last" ] && [ "$now" != -1 ] && { echo "$now"; return 0; }
		last=$now
		sleep 0.2
	done
	echo "$last"
}

NCPU=$(nproc)
echo "UDP drop flood over veth ($NCPU sending threads, $SECS s per run, $ROUNDS rounds, order rotated)"
flood 1 >/dev/null || { echo "bench-drops: the flood failed" >&2; exit 2; }
MODES=(none empty-tc portcanary)
: >"$STATE/results"
for r in $(seq 0 $((ROUNDS - 1))); do
	for k in 0 1 2; do
		mode=${MODES[$(((k + r) % 3))]}
		counted=-
		if [ "$mode" = empty-tc ]; then
			in_s tc qdisc add dev vs clsact &&
				in_s tc filter add dev vs ingress prio 1 bpf da obj "$EMPTY_TC" sec tc ||
				{ echo "bench-drops: cannot attach $EMPTY_TC" >&2; exit 2; }
		fi
		if [ "$mode" = portcanary ]; then
			daemon_start -i vs -p udp/$PORT --interval 0.1 || exit 2
			sleep 0.5
			before=$(drops_total)
		fi
		out=$(flood "$SECS") || { echo "bench-drops: the flood failed ($mode)" >&2; exit 2; }
		read -r rate sent <<<"$out"
		if [ "$mode" = portcanary ]; then
			counted=$(($(drops_total) - before))
			daemon_stop TERM
		fi
		[ "$mode" != empty-tc ] || in_s tc qdisc del dev vs clsact
		echo "$mode $rate $sent $counted" >>"$STATE/results"
		echo "  round $((r + 1)): $mode: $rate datagrams/s ($sent sent, $counted counted as dropped)"
	done
done

python3 - "$STATE/results" "$NCPU" <<'EOF'
import statistics, sys
runs = [l.split() for l in open(sys.argv[1])]
ncpu = int(sys.argv[2])
rate = {m: [float(r) for mm, r, _, _ in runs if mm == m] for m in ("none", "empty-tc", "portcanary")}
med = {m: statistics.median(v) for m, v in rate.items()}
us = {m: 1e6 * ncpu / med[m] for m in med}
print()
print("%-32s %14s %19s %8s %14s" % ("MODE", "MEDIAN", "MIN-MAX", "VS NONE", "CPU/DATAGRAM"))
for m, what in (("none", "no program"), ("empty-tc", "an empty TC ingress program"),
                ("portcanary", "portcanary (daemon, default hooks)")):
    print("%-32s %9.0f /s %9.0f-%-9.0f %7.1f%% %11.3f us" % (what, med[m], min(rate[m]),
          max(rate[m]), 100 * med[m] / med["none"], us[m]))
print("portcanary adds %.3f us of CPU to each dropped datagram, %.3f us more than the empty "
      "TC program (its own TC program, the kfree_skb tracer and its hook)" %
      (us["portcanary"] - us["none"], us["portcanary"] - us["empty-tc"]))
sent = sum(int(s) for m, _, s, _ in runs if m == "portcanary")
counted = sum(int(c) for m, _, _, c in runs if m == "portcanary")
print("drops counted by the daemon: %d of %d datagrams sent (%.3f%%)" % (counted, sent,
      100.0 * counted / sent))
sys.exit(0 if counted == sent else 1)
EOF
