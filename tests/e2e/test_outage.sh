#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_outage.sh: the outage replay: an nftables drop on 2 of 3 busy ports; exactly those go down
# with netfilter_drop within 3 intervals, the third stays ok, rollback recovers both.
# Over IPv4 (the default hook: TC ingress on veth), IPv6 and 802.1Q-tagged frames on the wire (see
# vlan_up in lib.sh) with XDP: the tags are popped at TC ingress, so only XDP sees them.
. "$(dirname "$0")/lib.sh"
require_root
MAX_DETECT_S=4.5	# 3 intervals of 1 s, plus the time for the rule to meet a SYN and be logged

sandbox_up || { fail "sandbox"; finish; exit 1; }
serve 8001 8002 8003 || { fail "listener"; finish; exit 1; }

outage() { # outage NAME HOST INGRESS [RUN ARGS...]
	local name=$1 host=$2 ingress=$3 p
	shift 3
	rm -f "$STATE/events.jsonl"
	rm -f "$STATE"/hook.*
	# The table and its empty chain are there before the daemon starts: the change is one
	# commit, the rule, so that its record says exactly that rule (commits closer together
	# than the daemon lists the ruleset are folded into one record, rightly).
	nft_s add table inet pcblock
	nft_s add chain inet pcblock input '{ type filter hook input priority 0; }'
	# A hook that takes 20 s per event: detection and sampling must not wait for it.
	daemon_start -i vs -p tcp/8001-8003 --events "$STATE/events.jsonl" \
		--exec "$E2E_DIR/hook.sh $STATE" "$@" || { fail "$name: daemon start"; return; }
	check_eq "$name: ingress hook" "$ingress" "$(status_json | python3 -c 'import json,sys
f = json.load(sys.stdin)["interfaces"][0]; print(f["ingress"], f["xdp_mode"])')"
	steady 10 "$host" 8001 8002 8003
	for p in 8001 8002 8003; do
		check "$name: tcp/$p learns a baseline and is ok" wait_state $p in ok 25
	done
	if [ "$name" = ipv4 ]; then
		timeout 2.5 "$PC" status --watch --state-dir "$STATE/run" >"$STATE/watch.out" 2>&1
		check "status --watch redraws with a SYN/s history" \
			grep -q "SYN/s HISTORY" "$STATE/watch.out"
		check "status --watch draws a sparkline for tcp/8001" \
			grep -qE "^tcp/8001:in .*[▁▂▃▄▅▆▇█]{5}" "$STATE/watch.out"
		check_eq "status --watch redrew at least twice" 2 \
			"$(grep -c 'portcanary .* every 1.0 s' "$STATE/watch.out" | awk '{print ($1>=2)?2:$1}')"
	fi
	mark
	nft_s add rule inet pcblock input tcp dport '{ 8001, 8002 }' drop
	for p in 8001 8002; do
		if wait_event port_down $p in 15; then
			echo "# $name: tcp/$p down after ${LATENCY} s"
			check "$name: tcp/$p down within $MAX_DETECT_S s (${LATENCY} s)" \
				awk "BEGIN{exit !($LATENCY <= $MAX_DETECT_S)}"
			check_eq "$name: tcp/$p cause" netfilter_drop "$(ev_field cause)"
			check "$name: tcp/$p evidence has NETFILTER_DROP drops" \
				test "$(ev_field drops.NETFILTER_DROP)" -gt 0
			check "$name: tcp/$p detail says drop" grep -q "(drop)" <<<"$(ev_field detail)"
			check "$name: tcp/$p baseline carried" awk "BEGIN{exit !($(ev_field baseline_rate) > 5)}"
			check_eq "$name: tcp/$p names the firewall change" nftables \
				"$(ev_field firewall_change.source)"
			# The rule went in right after mark: seconds_before is the detection time.
			check "$name: tcp/$p seconds_before $(ev_field firewall_change.seconds_before) ~ ${LATENCY} s" \
				awk "BEGIN{d = $(ev_field firewall_change.seconds_before) - $LATENCY; exit !(d > -0.6 && d < 0.3)}"
			check "$name: tcp/$p says what changed" grep -q "table inet pcblock chain input: rule added" \
				<<<"$(ev_field firewall_change.what)"
			check_eq "$name: tcp/$p names who committed the change" nft \
				"$(ev_field firewall_change.by.comm)"
			check "$name: tcp/$p names the rule the change added ($(ev_field firewall_change.summary))" grep -q \
				"^added rule inet pcblock input handle [0-9]*: tcp dport { 8001, 8002 } drop$" \
				<<<"$(ev_field firewall_change.summary)"
		else
			fail "$name: no port_down for tcp/$p within 15 s"
		fi
	done
	check_eq "$name: status shows tcp/8001 down" down "$(port_field 8001 in state)"
	check "$name: the hook got the event as JSON on stdin" \
		grep -q '"event":"port_down"' "$STATE/hook.8001.port_down.json"
	check "$name: the hook got the event in its environment" grep -q \
		"PORTCANARY_CAUSE=netfilter_drop" "$STATE/hook.8002.port_down.env"
	check "$name: ... with the port and direction" grep -q "PORTCANARY_DIRECTION=in" \
		"$STATE/hook.8002.port_down.env"
	check_eq "$name: status cause for tcp/8002" netfilter_drop "$(port_field 8002 in cause)"
	check_eq "$name: tcp/8003 still ok" ok "$(port_field 8003 in state)"

	mark
	nft_s delete table inet pcblock
	for p in 8001 8002; do
		if wait_event port_recovered $p in 15; then
			echo "# $name: tcp/$p recovered after ${LATENCY} s"
			ok "$name: tcp/$p recovered (${LATENCY} s)"
			check_eq "$name: tcp/$p recovered from" netfilter_drop "$(ev_field cause)"
		else
			fail "$name: no port_recovered for tcp/$p within 15 s"
		fi
	done
	check_eq "$name: tcp/8003 never raised an event" 0 "$(events_for 8003)"
	check_eq "$name: no other events" 6 "$(events_for)"
	check_eq "$name: exactly one down and one recovery per blocked port" "1 1 1 1" \
		"$(events_for 8001 port_down) $(events_for 8002 port_down) $(events_for 8001 port_recovered) $(events_for 8002 port_recovered)"
	check_eq "$name: and one firewall_blocks_port each, with the rule" "1 1" \
		"$(events_for 8001 firewall_blocks_port) $(events_for 8002 firewall_blocks_port)"
	check "$name: events follow the contract" python3 "$EVENTS_PY" check "$STATE/events.jsonl"
	kill "$STEADY_PID" 2>/dev/null
	daemon_stop TERM
}

outage ipv4 "$S_IP" "tc None"
outage ipv6 "$S_IP6" "xdp native" --ingress-hook xdp
vlan_up || fail "802.1Q tagging on the wire"
outage vlan "$S_IP" "xdp native" --ingress-hook xdp
check "the server received 802.1Q-tagged frames" test "$(vlan_popped)" -gt 100
vlan_down
finish
