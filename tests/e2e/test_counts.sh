#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_counts.sh: real TCP through a veth pair; status --json shows exactly the SYNs that were sent.
. "$(dirname "$0")/lib.sh"
require_root
sandbox_up || { fail "sandbox"; finish; exit 1; }
serve 8080 8081 || { fail "listener"; finish; exit 1; }
daemon_start -i vs -p tcp/8080 -p tcp/8081 -p tcp/8083 -p udp/5353 || { fail "daemon start"; finish; exit 1; }

iface=$(status_json | python3 -c 'import json,sys; f=json.load(sys.stdin)["interfaces"][0]; print(f["name"], f["ingress"], f["xdp_mode"])')
check_eq "status names the interface, hook and XDP mode" "vs xdp native" "$iface"

check_eq "IPv4 connections to 8080" "ok=25 fail=0" "$(connect 25 8080)"
check_eq "IPv6 connections to 8080" "ok=7 fail=0" "$(connect 7 8080 $S_IP6)"
check_eq "connections to the unmonitored port 8082 are refused" "ok=0 fail=3" "$(connect 3 8082)"
check_eq "SYNs counted on tcp/8080:in" 32 "$(port_field 8080 in syn_total)"
check_eq "SYN-ACKs counted on tcp/8080:in (TC egress)" 32 "$(port_field 8080 in synack_total)"
check_eq "connections to the monitored 8083, where nothing listens, are refused" "ok=0 fail=4" \
	"$(connect 4 8083)"
check_eq "one SYN each on tcp/8083" 4 "$(port_field 8083 in syn_total)"
check_eq "one RST each, sent by the kernel (TC egress)" 4 "$(port_field 8083 in rst_total)"
check_eq "no SYN-ACK from tcp/8083" 0 "$(port_field 8083 in synack_total)"
check_eq "nothing on the idle tcp/8081:in" 0 "$(port_field 8081 in syn_total)"
check_eq "udp/5353:in is listed" 0 "$(port_field 5353 in syn_total udp)"
check_eq "the unmonitored port is not listed" absent "$(port_field 8082 in syn_total)"
g=$(status_json | python3 -c 'import json,sys; g=json.load(sys.stdin)["global"]; print(g["tc_egress"]["monitored"] > 0, g["xdp"]["malformed"])')
check_eq "global counters: egress monitored, nothing malformed" "True 0" "$g"

table=$("$PC" status --state-dir "$STATE/run")
check "status table lists tcp/8080:in" grep -q '^tcp/8080:in' <<<"$table"

daemon_stop TERM
check_eq "SIGTERM exits 0" 0 "$DAEMON_RC"
check_eq "nothing of ours attached after SIGTERM" "" "$(ours_attached)"
check "no clsact qdisc left behind" bash -c "! ip netns exec $NS_S tc qdisc show dev vs | grep -q clsact"
check "pinned counters kept for the next start" test -e "$STATE/run/bpf/pc_counters"
"$PC" status --state-dir "$STATE/run" >/dev/null 2>"$STATE/err"
rc=$?
check_eq "status without a daemon exits 2" 2 "$rc"
check "status without a daemon says so in one line" grep -q "no portcanary daemon is running" "$STATE/err"
finish
