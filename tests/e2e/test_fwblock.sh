#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_fwblock.sh: a firewall change that would block a monitored port is reported before any
# traffic shows it (firewall_blocks_port, with the rule); a change touching only unmonitored
# ports raises nothing. The check runs in a sandbox inside a user namespace of the daemon's own.
# Reported within 1 s of the commit (the 0.3 s settle delay included); the rule by its live handle.
. "$(dirname "$0")/lib.sh"
MAX_REPORT_S=1.0
require_root
sandbox_up || { fail "sandbox"; finish; exit 1; }
serve 8031 8032 || { fail "listeners"; finish; exit 1; }
daemon_start -i vs -p tcp/8031 -p tcp/8032 --events "$STATE/events.jsonl" ||
	{ fail "daemon start"; finish; exit 1; }
# A table with a history: a deleted rule, so the live handles are not what a fresh copy
# of the ruleset would number them.
nft_s add table inet filter
nft_s add chain inet filter input '{ type filter hook input priority 0; }'
nft_s add rule inet filter input tcp dport 1 accept
nft_s add rule inet filter input tcp dport 2 accept
nft_s delete rule inet filter input handle 2
nft_s delete rule inet filter input handle 3
check "tcp/8031 without traffic is idle" wait_state 8031 in idle 15

mark
nft_s add rule inet filter input tcp dport 8031 drop
if wait_event firewall_blocks_port 8031 in 15; then
	echo "# firewall_blocks_port for tcp/8031 after ${LATENCY} s"
	ok "firewall_blocks_port for the idle tcp/8031 (${LATENCY} s)"
	check "within $MAX_REPORT_S s of the commit (${LATENCY} s)" awk "BEGIN{exit !($LATENCY <= $MAX_REPORT_S)}"
	check_eq "the rule's text" "tcp dport 8031 drop" "$(ev_field rule.text)"
	check_eq "the rule's table" filter "$(ev_field rule.table)"
	check_eq "the rule's chain" input "$(ev_field rule.chain)"
	check_eq "the rule's family" inet "$(ev_field rule.family)"
	check_eq "the rule's live handle (a fresh copy would say 2)" \
		"$(nft_s -a list chain inet filter input | sed -n 's/.*tcp dport 8031 drop # handle \([0-9]*\)$/\1/p')" \
		"$(ev_field rule.handle)"
	check_eq "the change is named" nftables "$(ev_field firewall_change.source)"
	check "seconds_before is the time since the change" \
		awk "BEGIN{d = $(ev_field firewall_change.seconds_before) - $LATENCY; exit !(d > -0.5 && d < 0.5)}"
else
	fail "no firewall_blocks_port for tcp/8031 within 15 s"
fi
sleep 1
check_eq "nothing for tcp/8032, which the rule does not block" 0 "$(events_for 8032)"
check_eq "the idle port was never reported down by traffic" 1 "$(events_for 8031)"

checks_before=$(grep -c 'checking the new ruleset' "$STATE/daemon.log")
mark
nft_s add rule inet filter input tcp dport 9999 drop
nft_s add rule inet filter input udp dport 5353 drop
sleep 6
check "the check of the second change ran" \
	test "$(grep -c 'checking the new ruleset' "$STATE/daemon.log")" -gt "$checks_before"
check_eq "a change touching only unmonitored ports raises nothing" 1 \
	"$(python3 "$EVENTS_PY" count "$STATE/events.jsonl")"
check "the host (daemon) namespace kept its ruleset" bash -c "ip netns exec $NS_S nft list ruleset | grep -q 'dport 9999 drop'"
check "no sandbox table leaked into the daemon's namespace" bash -c "! ip netns exec $NS_S nft list tables | grep -q portcanary"
check "events follow the contract" python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "firewall_change":
        continue
    assert e["event"] == "firewall_blocks_port" and isinstance(e["port"], int)
    assert set(e["rule"]) == {"family", "table", "chain", "handle", "text"}
    assert {"time", "seconds_before", "source"} <= set(e["firewall_change"])
' "$STATE/events.jsonl"
finish
