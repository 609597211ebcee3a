#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_defaults.sh: `portcanary run` with no -i and no -p: the default route's interface, and every
# TCP port with a listener, refreshed as listeners come and go.
. "$(dirname "$0")/lib.sh"
require_root
sandbox_up || { fail "sandbox"; finish; exit 1; }
in_s ip route add default via $C_IP dev vs
serve 8080 || { fail "listener"; finish; exit 1; }

daemon_start || { fail "daemon start with no arguments"; finish; exit 1; }
check "it says which interface it took" grep -q "no -i given: watching vs, the interface of the default route" \
	"$STATE/daemon.log"
check_eq "status: attached to vs" vs \
	"$(status_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["interfaces"][0]["name"])')"
check_eq "the listener's port is watched, inbound" unknown "$(port_field 8080 in state)"
check_eq "ports come from the listeners" listeners \
	"$(status_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ports_from"])')"
check_eq "connections are counted" "ok=3 fail=0" "$(connect 3 8080)"
check_eq "SYNs on tcp/8080:in" 3 "$(port_field 8080 in syn_total)"

# A new listener appears within the refresh period (5 s), and goes when it closes.
serve 8090 || fail "second listener"
SECOND=${BG_PIDS[-1]}
check "a new listener is picked up" wait_field 8090 in state unknown 8
kill "$SECOND"
wait "$SECOND" 2>/dev/null
check "a closed listener is dropped" wait_field 8090 in state absent 8
check_eq "tcp/8080 kept its counters meanwhile" 3 "$(port_field 8080 in syn_total)"
daemon_stop TERM

# No default route and no -i: one clear line, exit 2, nothing attached.
in_s ip route del default
net_s "$PC" run --state-dir "$STATE/run2" >/dev/null 2>"$STATE/err"
check_eq "no default route: exit 2" 2 "$?"
check "it says to name the interface" grep -q "no default route to take the interface from: name it with -i IFACE" \
	"$STATE/err"
check_eq "nothing attached" "" "$(ours_attached)"
finish
