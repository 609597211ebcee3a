#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_counts.sh: real TCP through a veth pair; status --json shows exactly the SYNs that were sent,
# on every ingress hook: the default (TC ingress on veth), native and generic XDP, TC by option.
. "$(dirname "$0")/lib.sh"
require_root
sandbox_up || { fail "sandbox"; finish; exit 1; }
serve 8080 8081 || { fail "listener"; finish; exit 1; }

# The interface as status --json describes it: name, ingress hook, XDP mode, reason code.
iface_of() {
	status_json | python3 -c 'import json,sys; f=json.load(sys.stdin)["interfaces"][0]
print(f["name"], f["ingress"], f["xdp_mode"], f["reason"])'
}
# global_of HOOK FIELD: one of the per-hook global counters.
global_of() {
	status_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["global"][sys.argv[1]][sys.argv[2]])' "$1" "$2"
}

# counts NAME "HOOK MODE REASON" [RUN ARGS...]: a daemon with fresh counters, exact counts.
counts() {
	local name=$1 expect=$2 used other
	shift 2
	umount "$STATE/run/bpf" 2>/dev/null
	rm -rf "$STATE/run"
	daemon_start -i vs -p tcp/8080 -p tcp/8081 -p tcp/8083 -p udp/5353 "$@" ||
		{ fail "$name: daemon start"; return; }
	check_eq "$name: status names the interface, hook, XDP mode and why" "vs $expect" "$(iface_of)"
	check_eq "$name: IPv4 connections to 8080" "ok=25 fail=0" "$(connect 25 8080)"
	check_eq "$name: IPv6 connections to 8080" "ok=7 fail=0" "$(connect 7 8080 $S_IP6)"
	check_eq "$name: connections to the unmonitored port 8082 are refused" "ok=0 fail=3" \
		"$(connect 3 8082)"
	check_eq "$name: SYNs counted on tcp/8080:in" 32 "$(port_field 8080 in syn_total)"
	check_eq "$name: SYN-ACKs counted on tcp/8080:in (TC egress)" 32 \
		"$(port_field 8080 in synack_total)"
	check_eq "$name: connections to the monitored 8083, where nothing listens, are refused" \
		"ok=0 fail=4" "$(connect 4 8083)"
	check_eq "$name: one SYN each on tcp/8083" 4 "$(port_field 8083 in syn_total)"
	check_eq "$name: one RST each, sent by the kernel (TC egress)" 4 "$(port_field 8083 in rst_total)"
	check_eq "$name: no SYN-ACK from tcp/8083" 0 "$(port_field 8083 in synack_total)"
	check_eq "$name: nothing on the idle tcp/8081:in" 0 "$(port_field 8081 in syn_total)"
	check_eq "$name: udp/5353:in is listed" 0 "$(port_field 5353 in syn_total udp)"
	check_eq "$name: the unmonitored port is not listed" absent "$(port_field 8082 in syn_total)"
	# Which program counted: the hook in use saw the monitored packets, the other saw nothing.
	used=xdp other=tc_ingress
	[ "${expect%% *}" = tc ] && used=tc_ingress other=xdp
	check "$name: the $used program counted the monitored packets" \
		test "$(global_of $used monitored)" -gt 0
	check_eq "$name: the $other program saw no packet" 0 "$(global_of $other packets)"
	check_eq "$name: nothing malformed" 0 "$(global_of $used malformed)"
	daemon_stop TERM
	check_eq "$name: SIGTERM exits 0" 0 "$DAEMON_RC"
	check_eq "$name: nothing of ours attached after SIGTERM" "" "$(ours_attached)"
	check "$name: no clsact qdisc left behind" \
		bash -c "! ip netns exec $NS_S tc qdisc show dev vs | grep -q clsact"
}

counts default "tc None veth"
check "default: the log says TC ingress on veth, and why" \
	grep -q "vs: ingress at TC (driver veth, reason veth) because native XDP on veth would take TSO/GSO off its peer" \
	"$STATE/daemon.log"
counts "--xdp-mode native" "xdp native option" --xdp-mode native
counts "--xdp-mode generic" "xdp generic option" --xdp-mode generic
counts "--ingress-hook xdp (native first)" "xdp native option" --ingress-hook xdp
counts "--ingress-hook tc" "tc None option" --ingress-hook tc

# Jumbo frames: native XDP at an MTU above a page. A frame then reaches XDP in several buffers;
# a program that cannot take them is refused at such an MTU (veth: "Peer MTU is too large to
# set XDP") and holds the peer's MTU down while it is attached.
jumbo_counts() { # packets_total and bytes_total of udp/5353:in, once two reads agree
	local v w end=$(($(date +%s) + 10))
	v="$(port_field 5353 in packets_total udp) $(port_field 5353 in bytes_total udp)"
	while [ "$(date +%s)" -le "$end" ]; do
		sleep 1.2
		w="$(port_field 5353 in packets_total udp) $(port_field 5353 in bytes_total udp)"
		[ "$w" = "$v" ] && break
		v=$w
	done
	echo "$v"
}
in_c ip link set vc mtu 9000 && in_s ip link set vs mtu 9000 || fail "jumbo: MTU 9000"
umount "$STATE/run/bpf" 2>/dev/null
rm -rf "$STATE/run"
if daemon_start -i vs -p udp/5353 --xdp-mode native; then
	check_eq "jumbo: native XDP at MTU 9000" "vs xdp native option" "$(iface_of)"
	net_c python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(20):
    s.sendto(b"j" * 8000, (sys.argv[1], 5353))' "$S_IP"
	# each an 8,042-byte frame: Ethernet 14, IPv4 20, UDP 8, 8,000 of data
	check_eq "jumbo: 20 datagrams of 8042 bytes counted whole" "20 160840" "$(jumbo_counts)"
	check_eq "jumbo: nothing malformed" 0 "$(global_of xdp malformed)"
	check "jumbo: the client's MTU goes down and up again while XDP is attached" \
		bash -c "ip netns exec $NS_C ip link set vc mtu 1500 && ip netns exec $NS_C ip link set vc mtu 9000"
	daemon_stop TERM
	check_eq "jumbo: SIGTERM exits 0" 0 "$DAEMON_RC"
else
	fail "jumbo: daemon start with native XDP at MTU 9000"
fi
in_c ip link set vc mtu 1500
in_s ip link set vs mtu 1500

# The table and the stopped daemon, once.
daemon_start -i vs -p tcp/8080 || { fail "daemon start"; finish; exit 1; }
table=$("$PC" status --state-dir "$STATE/run")
check "status table lists tcp/8080:in" grep -q '^tcp/8080:in' <<<"$table"
check "status table: the interface's hook and why" \
	grep -q '^  vs  *tc ingress  *+ tc egress: native XDP on veth would take' <<<"$table"
daemon_stop TERM
check "pinned counters kept for the next start" test -e "$STATE/run/bpf/pc_counters"
"$PC" status --state-dir "$STATE/run" >/dev/null 2>"$STATE/err"
rc=$?
check_eq "status without a daemon exits 2" 2 "$rc"
check "status without a daemon says so in one line" grep -q "no portcanary daemon is running" "$STATE/err"

# Contradicting options: one line, exit 2, nothing attached.
net_s "$PC" run -i vs -p 80 --ingress-hook tc --xdp-mode native --state-dir "$STATE/run2" \
	>/dev/null 2>"$STATE/err"
check_eq "--ingress-hook tc --xdp-mode native: exit 2" 2 "$?"
check_eq "... with one line on stderr" 1 "$(wc -l <"$STATE/err")"
check "... that names both options" grep -q "ingress hook tc and XDP mode native contradict" "$STATE/err"
check_eq "... and nothing attached" "" "$(ours_attached)"
finish
