#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_restart.sh: SYNs before, during and after a SIGKILL and restart are all counted; SIGTERM detaches.
# With the default hook (TC ingress on veth); test_hooks.sh does the same with XDP and both mixed.
# The drops of a port with no listener (8081: NO_SOCKET) are counted across the restart too: the
# drop tracer and its table stay pinned.
. "$(dirname "$0")/lib.sh"
require_root
sandbox_up || { fail "sandbox"; finish; exit 1; }
serve 8080 || { fail "listener"; finish; exit 1; }
daemon_start -i vs -p tcp/8080-8081 || { fail "daemon start"; finish; exit 1; }

check_eq "before the crash" "ok=5 fail=0" "$(connect 5 8080)"
check_eq "SYNs to the port with no listener, before the crash" "ok=0 fail=3" "$(connect 3 8081)"
check_eq "their drops counted" 3 "$(wait_field 8081 in drops_total 3 5)"
ingress_id=$(in_s tc filter show dev vs ingress | grep 'pc_tc_ingress' | grep -o ' id [0-9]*')
check "the default put TC ingress on the veth" test -n "$ingress_id"
daemon_stop KILL
check_eq "SIGKILL leaves the TC ingress program attached" "$ingress_id" \
	"$(in_s tc filter show dev vs ingress | grep 'pc_tc_ingress' | grep -o ' id [0-9]*')"
check "SIGKILL leaves the TC egress program attached" \
	bash -c "ip netns exec $NS_S tc filter show dev vs egress | grep -q pc_tc_egress"
check_eq "while no daemon runs" "ok=6 fail=0" "$(connect 6 8080)"
check_eq "and to the port with no listener" "ok=0 fail=2" "$(connect 2 8081)"

daemon_start -i vs -p tcp/8080-8081 || { fail "daemon restart"; finish; exit 1; }
check "the restarted daemon adopted the TC ingress program" grep -q "adopted our TC ingress program" "$STATE/daemon.log"
check "the restarted daemon adopted the TC egress program" grep -q "adopted our TC egress program" "$STATE/daemon.log"
check_eq "still the same single TC ingress program" "$ingress_id" \
	"$(in_s tc filter show dev vs ingress | grep 'pc_tc_ingress' | grep -o ' id [0-9]*')"
check_eq "exactly one TC egress filter of ours" 1 \
	"$(in_s tc filter show dev vs egress | grep -c 'pc_tc_egress')"
check_eq "no XDP program" "" "$(in_s ip -d link show vs | grep -o 'prog/xdp id [0-9]*')"
check_eq "after the restart" "ok=7 fail=0" "$(connect 7 8080)"
check_eq "every SYN counted: 5 + 6 + 7" 18 "$(port_field 8080 in syn_total)"
check_eq "every SYN-ACK counted" 18 "$(port_field 8080 in synack_total)"
check_eq "the restarted daemon reads the pinned drop table: 3 + 2 drops" 5 \
	"$(wait_field 8081 in drops_total 5 5)"
check_eq "a drop after the restart adds to them" "ok=0 fail=1" "$(connect 1 8081)"
check_eq "3 + 2 + 1 drops" 6 "$(wait_field 8081 in drops_total 6 5)"
adopted=$(status_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["interfaces"][0]["adopted"])')
check_eq "status says the interface was adopted" True "$adopted"

daemon_stop TERM
check_eq "SIGTERM exits 0" 0 "$DAEMON_RC"
check_eq "nothing of ours attached after SIGTERM" "" "$(ours_attached)"
check_eq "SYNs with no daemon and nothing attached" "ok=2 fail=0" "$(connect 2 8080)"
daemon_start -i vs -p tcp/8080-8081 || { fail "daemon second start"; finish; exit 1; }
check_eq "after a clean stop and start" "ok=3 fail=0" "$(connect 3 8080)"
check_eq "the counters continue (18 + 3, none while detached)" 21 "$(port_field 8080 in syn_total)"
finish
