#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_revert.sh: `run --revert-blocking-changes`: an unvetted change that blocks a monitored port
# is rolled back at once (firewall_rollback), an unvetted harmless one stays, and the same
# blocking change coming back after its revert is left in place and alerted (no revert loop).
# The host's own ruleset stays byte-identical.
. "$(dirname "$0")/lib.sh"
require_root
HOST_RULESET=$(nft list ruleset | sha256sum)
sandbox_up || { fail "sandbox"; finish; exit 1; }
serve 8021 8022 || { fail "listeners"; finish; exit 1; }
daemon_start -i vs -p tcp/8021 -p tcp/8022 --events "$STATE/events.jsonl" --revert-blocking-changes ||
	{ fail "daemon start"; finish; exit 1; }
steady 10 "$S_IP" 8021
live() { nft_s list ruleset; }
nfw() { python3 "$EVENTS_PY" fw "$STATE/events.jsonl" "$1" | wc -l; }
wait_fw() { # wait_fw EVENT N TIMEOUT_S: bounded wait until N events of that kind
	local i
	for i in $(seq $(($3 * 10))); do [ "$(nfw "$1")" -ge "$2" ] && return 0; sleep 0.1; done
	return 1
}
last_fw() { python3 "$EVENTS_PY" fw "$STATE/events.jsonl" "$1" | tail -1; }
py() { python3 -c "import json,sys; e=json.loads(sys.argv[1]); print($1)" "$2"; }

# --- an unvetted harmless change stays ------------------------------------------------------
nft_s add table inet filter
nft_s add chain inet filter input '{ type filter hook input priority 0; }'
nft_s add rule inet filter input tcp dport 9999 drop
sleep 5 # its ruleset check (firewall_blocks_port) has run and found nothing
check_eq "an unvetted harmless change: no rollback" 0 "$(nfw firewall_rollback)"
check "... it stays" bash -c "ip netns exec $NS_S nft list ruleset | grep -q 'tcp dport 9999 drop'"
BEFORE=$(live)

# --- an unvetted change that blocks the idle port: reverted at once ----------------------
mark
nft_s add rule inet filter input tcp dport 8022 drop
if wait_fw firewall_rollback 1 15; then
	rb=$(last_fw firewall_rollback)
	t=$(python3 -c 'import json,sys,calendar,time
e = json.loads(sys.argv[1]); s = e["time"]
print("%.1f" % (calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + s[19:-1]) - float(sys.argv[2])))' "$rb" "$T0")
	echo "# unvetted block of tcp/8022 reverted ${t} s after the commit"
	ok "an unvetted blocking change is rolled back (${t} s)"
	check_eq "... because it blocks tcp/8022" "firewall_blocks_port 8022 revert" \
		"$(py 'e["reason"], e["ports"][0]["port"], e["kind"]' "$rb" | tr -d "(),'")"
	check "... naming the rule" grep -q "tcp dport 8022 drop" <<<"$(py 'e["ports"][0]["rule"]["text"]' "$rb")"
	check_eq "... and the change it undid" nft "$(py 'e["undid"][0]["by"]["comm"]' "$rb")"
else
	fail "no firewall_rollback within 15 s of the blocking change"
fi
check_eq "the ruleset is exactly as before the blocking change" "$BEFORE" "$(live)"
last_change_vetted() { # bounded (3 s): the latest firewall_change is a vetted revert
	local i
	for i in $(seq 30); do
		py 'e["vetted"] and e.get("kind") == "revert"' "$(last_fw firewall_change)" | grep -q True && return 0
		sleep 0.1
	done
	return 1
}
check "the revert is a vetted change of its own" last_change_vetted
check "... logged as such" grep -q "ROLLED BACK (revert, firewall_blocks_port)" "$STATE/daemon.log"

# --- the same change again (a configuration manager re-applying it): left in place -----
nft_s add rule inet filter input tcp dport 8022 drop
if wait_fw firewall_revert_skipped 1 15; then
	sk=$(last_fw firewall_revert_skipped)
	ok "the change that came back is not reverted again"
	check_eq "... said why" came_back "$(py 'e["reason"]' "$sk")"
	check "... alerted in the log" grep -q "LEFT IN PLACE: the same change was reverted before" "$STATE/daemon.log"
else
	fail "no firewall_revert_skipped within 15 s"
fi
sleep 3
check_eq "still one rollback only: no loop" 1 "$(nfw firewall_rollback)"
check "the rule that came back stays" bash -c "ip netns exec $NS_S nft list ruleset | grep -q 'tcp dport 8022 drop'"
BEFORE=$(live)

# --- an unvetted change that breaks the busy port: reverted too ------------------------
check "tcp/8021 is busy and healthy" wait_state 8021 in ok 25
nft_s add rule inet filter input tcp dport 8021 drop
if wait_fw firewall_rollback 2 15; then
	rb=$(last_fw firewall_rollback)
	check_eq "the busy port's block is reverted" 8021 "$(py 'e["ports"][0]["port"]' "$rb")"
	check "... because it blocked it (in the sandbox, or by its traffic)" grep -qE "^(firewall_blocks_port|port_down)$" <<<"$(py 'e["reason"]' "$rb")"
else
	fail "no second firewall_rollback within 15 s"
fi
check_eq "the ruleset is as before it (the change left in place stays)" "$BEFORE" "$(live)"
check "tcp/8021 is ok again" wait_state 8021 in ok 20
check "events follow the contract" python3 "$EVENTS_PY" check "$STATE/events.jsonl"
check_eq "the host's own ruleset is byte-identical" "$HOST_RULESET" "$(nft list ruleset | sha256sum)"
finish
