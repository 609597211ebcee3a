#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_hooks.sh: the ingress hook chosen per interface (log, status --json, table, metric); one
# daemon with XDP on one veth and TC on another; SIGKILL and restart adopt each interface's own
# hook with no double attach; an explicit hook replaces an earlier daemon's; all or none.
. "$(dirname "$0")/lib.sh"
require_root
sandbox_up || { fail "sandbox"; finish; exit 1; }
# A second veth pair: client vc2 (198.51.101.1) to server vt (198.51.101.2).
ip link add vc2 netns "$NS_C" type veth peer name vt netns "$NS_S" &&
	in_c ip addr add 198.51.101.1/24 dev vc2 && in_s ip addr add 198.51.101.2/24 dev vt &&
	ip -n "$NS_C" link set vc2 up && ip -n "$NS_S" link set vt up &&
	ip -n "$NS_C" neigh replace 198.51.101.2 lladdr "$(in_s cat /sys/class/net/vt/address)" \
		dev vc2 nud permanent &&
	ip -n "$NS_S" neigh replace 198.51.101.1 lladdr "$(in_c cat /sys/class/net/vc2/address)" \
		dev vt nud permanent || { fail "second veth pair"; finish; exit 1; }
serve 8080 8081 || { fail "listener"; finish; exit 1; }

# ours_on DEV: our programs on one server-side device, one per line (hook:program).
ours_on() {
	in_s ip -d link show "$1" | grep -o 'prog/xdp id [0-9]*' | sed 's/^/xdp:/'
	in_s tc filter show dev "$1" ingress 2>/dev/null | grep -o 'name pc_tc_[a-z]*' |
		sed 's/^name /ingress:/'
	in_s tc filter show dev "$1" egress 2>/dev/null | grep -o 'name pc_tc_[a-z]*' |
		sed 's/^name /egress:/'
}
# ifaces: every interface in status --json as "name hook mode reason adopted", one per line.
ifaces() {
	status_json | python3 -c 'import json,sys
for f in json.load(sys.stdin)["interfaces"]:
    print(f["name"], f["ingress"], f["xdp_mode"], f["reason"], f["adopted"])'
}
global_of() {
	status_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["global"][sys.argv[1]][sys.argv[2]])' "$1" "$2"
}
# settled_global HOOK FIELD: the value once two reads 1.2 s apart (more than a sampling
# interval) agree, so that counts still on their way from the last traffic are in it (10 s at most).
settled_global() {
	local v w end=$(($(date +%s) + 10))
	v=$(global_of "$1" "$2")
	while [ "$(date +%s)" -le "$end" ]; do
		sleep 1.2
		w=$(global_of "$1" "$2")
		[ "$w" = "$v" ] && break
		v=$w
	done
	echo "$v"
}
xdp_id() { in_s ip -d link show "$1" | grep -o 'prog/xdp id [0-9]*'; }

# --- 1. every kind of device this kernel has: the default picks TC ingress, and says why ---
in_s ip link add br0 type bridge && in_s ip link add mv0 link vs type macvlan mode bridge &&
	in_s ip tuntap add dev tun0 mode tun &&
	in_s ip link add vxl0 type vxlan id 42 dstport 4789 dev vs ||
	{ fail "software devices"; finish; exit 1; }
MPORT=$((20000 + $$ % 20000))
daemon_start -i vs -i br0 -i mv0 -i tun0 -i vxl0 -i lo -p tcp/8080 --listen 127.0.0.1:$MPORT ||
	{ fail "daemon start on six devices"; finish; exit 1; }
check_eq "status: each device's hook, mode, reason" \
	"vs tc None veth False|br0 tc None software_device False|mv0 tc None software_device False|tun0 tc None software_device False|vxl0 tc None software_device False|lo tc None loopback False" \
	"$(ifaces | paste -sd'|')"
check_eq "status: drivers and kinds as the kernel names them" \
	"vs veth veth|br0 bridge bridge|mv0 macvlan macvlan|tun0 tun tun|vxl0 vxlan vxlan|lo None None" \
	"$(status_json | python3 -c 'import json,sys
for f in json.load(sys.stdin)["interfaces"]: print(f["name"], f["driver"], f["kind"])' | paste -sd'|')"
check "status: the veth's why names the cost" grep -q "native XDP on veth would take TSO/GSO off its peer" \
	<<<"$(status_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["interfaces"][0]["why"])')"
for dev in vs br0 mv0 tun0 vxl0; do
	check "the log gives $dev's hook and reason" grep -q "$dev: ingress at TC (driver [a-z]*, reason" \
		"$STATE/daemon.log"
done
check "the log explains the bridge" grep -q "br0: .*because bridge is a software device" "$STATE/daemon.log"
metrics=$(net_s python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode())' $MPORT)
check_eq "metric: which hook each interface got, and why" \
	'portcanary_interface_info{device="vs",ingress_hook="tc",xdp_mode="",driver="veth",reason="veth"} 1|portcanary_interface_info{device="br0",ingress_hook="tc",xdp_mode="",driver="bridge",reason="software_device"} 1|portcanary_interface_info{device="mv0",ingress_hook="tc",xdp_mode="",driver="macvlan",reason="software_device"} 1|portcanary_interface_info{device="tun0",ingress_hook="tc",xdp_mode="",driver="tun",reason="software_device"} 1|portcanary_interface_info{device="vxl0",ingress_hook="tc",xdp_mode="",driver="vxlan",reason="software_device"} 1|portcanary_interface_info{device="lo",ingress_hook="tc",xdp_mode="",driver="",reason="loopback"} 1' \
	"$(grep '^portcanary_interface_info{' <<<"$metrics" | paste -sd'|')"
check_eq "connections over vs" "ok=5 fail=0" "$(connect 5 8080)"
check_eq "counted at TC ingress on vs" 5 "$(port_field 8080 in syn_total)"
check_eq "no XDP program anywhere" 0 "$(global_of xdp packets)"
daemon_stop TERM
check_eq "SIGTERM exits 0" 0 "$DAEMON_RC"
left=""
for dev in vs br0 mv0 tun0 vxl0 lo; do
	left+=$(ours_on $dev)
	in_s tc qdisc show dev $dev | grep -q clsact && left+=" clsact on $dev"
done
check_eq "SIGTERM: nothing of ours and no clsact left on any of the six" "" "$left"
in_s ip link del vxl0; in_s ip link del mv0; in_s ip link del br0; in_s ip tuntap del dev tun0 mode tun
umount "$STATE/run/bpf"; rm -rf "$STATE/run"

# --- 2. XDP on one veth, TC on the other, in one daemon; crash and restart per interface ---
daemon_start -i vs -p tcp/8080 -p tcp/8081 --xdp-mode native || { fail "native daemon"; finish; exit 1; }
check_eq "native: connections over vs" "ok=3 fail=0" "$(connect 3 8080)"
first_xdp=$(xdp_id vs)
daemon_stop KILL
daemon_start -i vs -i vt -p tcp/8080 -p tcp/8081 || { fail "mixed daemon"; finish; exit 1; }
check_eq "the default keeps the XDP program a crashed daemon left on vs, picks TC on vt" \
	"vs xdp native adopted True|vt tc None veth False" "$(ifaces | paste -sd'|')"
check "the log says it adopted vs's XDP program" grep -q "vs: adopted our XDP program" "$STATE/daemon.log"
check_eq "vs: the same single XDP program, TC egress only" "xdp:$first_xdp|egress:pc_tc_egress" \
	"$(ours_on vs | paste -sd'|')"
check_eq "vt: TC ingress and egress" "ingress:pc_tc_ingress|egress:pc_tc_egress" "$(ours_on vt | paste -sd'|')"
tc_before=$(global_of tc_ingress monitored)
check_eq "connections over vs (XDP)" "ok=4 fail=0" "$(connect 4 8080)"
# the status is the last sample: each check waits for its connections to reach it
wait_field 8080 in syn_total 7 10 >/dev/null
xdp_before=$(settled_global xdp monitored)
check_eq "TC ingress saw none of them" "$tc_before" "$(global_of tc_ingress monitored)"
check_eq "connections over vt (TC)" "ok=5 fail=0" "$(net_c python3 "$TRAFFIC" connect 198.51.101.2 8081 5)"
wait_field 8081 in syn_total 5 10 >/dev/null
check_eq "XDP saw none of them" "$xdp_before" "$(settled_global xdp monitored)"
check_eq "SYNs on tcp/8080: 3 + 4, counted at XDP" 7 "$(port_field 8080 in syn_total)"
check_eq "SYNs on tcp/8081: 5, counted at TC" 5 "$(port_field 8081 in syn_total)"
check_eq "SYN-ACKs on tcp/8081 (TC egress of vt)" 5 "$(port_field 8081 in synack_total)"
table=$("$PC" status --state-dir "$STATE/run")
check "table: vs on XDP, adopted" grep -q "^  vs  *xdp native ingress  *+ tc egress (adopted): an earlier daemon" <<<"$table"
check "table: vt on TC" grep -q "^  vt  *tc ingress  *+ tc egress: native XDP on veth" <<<"$table"

daemon_stop KILL
check_eq "while no daemon runs, over vs" "ok=2 fail=0" "$(connect 2 8080)"
check_eq "while no daemon runs, over vt" "ok=2 fail=0" "$(net_c python3 "$TRAFFIC" connect 198.51.101.2 8081 2)"
daemon_start -i vs -i vt -p tcp/8080 -p tcp/8081 || { fail "mixed restart"; finish; exit 1; }
check_eq "restart: each interface adopted on its own hook" \
	"vs xdp native adopted True|vt tc None veth True" "$(ifaces | paste -sd'|')"
check "the log says it adopted vt's TC ingress program" \
	grep -q "vt: adopted our TC ingress program" "$STATE/daemon.log"
check_eq "no double attach on vs" "xdp:$first_xdp|egress:pc_tc_egress" "$(ours_on vs | paste -sd'|')"
check_eq "no double attach on vt" "ingress:pc_tc_ingress|egress:pc_tc_egress" "$(ours_on vt | paste -sd'|')"
check_eq "every SYN counted on tcp/8080: 3 + 4 + 2" 9 "$(port_field 8080 in syn_total)"
check_eq "every SYN counted on tcp/8081: 5 + 2" 7 "$(port_field 8081 in syn_total)"

# An explicit hook replaces what an earlier daemon left on the other one.
daemon_stop KILL
daemon_start -i vs -i vt -p tcp/8080 -p tcp/8081 --ingress-hook tc || { fail "tc restart"; finish; exit 1; }
check_eq "--ingress-hook tc: both on TC (vs adopted for its TC egress)" \
	"vs tc None option True|vt tc None option True" \
	"$(ifaces | paste -sd'|')"
check "the log says it took vs's XDP program off" \
	grep -q "vs: took off the XDP program (native mode) an earlier daemon left" "$STATE/daemon.log"
check_eq "vs: TC ingress only, no XDP left" "ingress:pc_tc_ingress|egress:pc_tc_egress" \
	"$(ours_on vs | paste -sd'|')"
check_eq "connections over vs after the switch" "ok=3 fail=0" "$(connect 3 8080)"
check_eq "counted once each: 9 + 3" 12 "$(port_field 8080 in syn_total)"

# Restart on vt alone, asking for generic XDP: vs is stale (everything of ours comes off it,
# with the clsact the first daemon created); vt's TC ingress is replaced by XDP.
daemon_stop KILL
daemon_start -i vt -p tcp/8080 -p tcp/8081 --xdp-mode generic || { fail "generic restart"; finish; exit 1; }
check "the log says it cleaned vs up" \
	grep -q "vs: removing programs left by an earlier daemon (ingress was tc)" "$STATE/daemon.log"
check_eq "vs: nothing of ours left" "" "$(ours_on vs)"
check "vs: no clsact left" bash -c "! ip netns exec $NS_S tc qdisc show dev vs | grep -q clsact"
check_eq "vt: generic XDP, TC egress adopted" "vt xdp generic option True" "$(ifaces)"
check_eq "vt: the TC ingress program is off, XDP on" \
	"xdp:$(xdp_id vt)|egress:pc_tc_egress" "$(ours_on vt | paste -sd'|')"
check "vt: in generic mode" bash -c "ip netns exec $NS_S ip -d link show vt | grep -q 'xdpgeneric'"
check_eq "connections over vt after the switch" "ok=4 fail=0" \
	"$(net_c python3 "$TRAFFIC" connect 198.51.101.2 8081 4)"
check_eq "counted once each: 7 + 4" 11 "$(port_field 8081 in syn_total)"

# From generic to native XDP: one XDP hook holds one program, so the old one goes first.
daemon_stop KILL
daemon_start -i vt -p tcp/8080 -p tcp/8081 --xdp-mode native || { fail "native restart"; finish; exit 1; }
check "the log says it took the generic program off" \
	grep -q "vt: took off the XDP program (generic mode) an earlier daemon left" "$STATE/daemon.log"
check_eq "vt: native XDP now" "vt xdp native option True" "$(ifaces)"
check "vt: not in generic mode any more" bash -c "! ip netns exec $NS_S ip -d link show vt | grep -q 'xdpgeneric'"
check_eq "vt: one XDP program and TC egress" 2 "$(ours_on vt | wc -l)"
check_eq "connections over vt on native XDP" "ok=2 fail=0" \
	"$(net_c python3 "$TRAFFIC" connect 198.51.101.2 8081 2)"
check_eq "counted once each: 11 + 2" 13 "$(port_field 8081 in syn_total)"
daemon_stop TERM
check_eq "SIGTERM exits 0" 0 "$DAEMON_RC"
check_eq "SIGTERM: nothing of ours on vs or vt" "" "$(ours_on vs; ours_on vt)"
check "no clsact left on vt (created by the second daemon)" \
	bash -c "! ip netns exec $NS_S tc qdisc show dev vt | grep -q clsact"

# --- 3. all or none under the default: a foreign filter holds our TC slot on vt ---
in_s tc qdisc add dev vt clsact &&
	in_s tc filter add dev vt ingress prio 1 handle 0x7063 bpf da obj "$VLAN_OBJ" sec tc \
		program vlan_pop || fail "foreign TC filter"
net_s timeout 10 "$PC" run -i vs -i vt -p tcp/8080 --state-dir "$STATE/run" >"$STATE/out" 2>"$STATE/err"
check_eq "vs + vt with vt's slot taken: exit 2" 2 "$?"
check "the error names vt and the filter in the way" \
	grep -q "vt: TC ingress filter handle 0x7063 priority 1 is taken by 'vlan_pop'" "$STATE/err"
check_eq "vs was rolled back: nothing of ours" "" "$(ours_on vs)"
check "no clsact left on vs" bash -c "! ip netns exec $NS_S tc qdisc show dev vs | grep -q clsact"
check "the foreign filter on vt is untouched" \
	bash -c "ip netns exec $NS_S tc filter show dev vt ingress | grep -q vlan_pop"
finish
