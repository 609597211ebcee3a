#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_causes.sh: each way a port fails gets its own cause: reject, no listener, a block upstream
# (collapse), an outbound port blocked at the far end; idle ports and unmonitored ports stay quiet.
. "$(dirname "$0")/lib.sh"
require_root
MAX_DETECT_S=4.5

sandbox_up || { fail "sandbox"; finish; exit 1; }
serve 8011 8013 8016 || { fail "listeners"; finish; exit 1; }
serve 8012 || { fail "listener 8012"; finish; exit 1; }
LISTENER_8012=${BG_PIDS[-1]}

# expect PORT DIR CAUSE: the port goes down with that cause, within the bound.
expect() {
	if wait_event port_down "$1" "$2" 20; then
		echo "# tcp/$1:$2 down ($(ev_field cause)) after ${LATENCY} s: $(ev_field detail)"
		check_eq "tcp/$1:$2 cause" "$3" "$(ev_field cause)"
		check "tcp/$1:$2 reported within $MAX_DETECT_S s (${LATENCY} s)" \
			awk "BEGIN{exit !($LATENCY <= $MAX_DETECT_S)}"
	else
		fail "tcp/$1:$2: no port_down within 20 s"
	fi
}

# --- inbound: one daemon, four watched ports, faults applied at once ---------------------
daemon_start -i vs -p tcp/8011-8013 -p tcp/8015 --events "$STATE/events.jsonl" ||
	{ fail "daemon start"; finish; exit 1; }
steady 10 "$S_IP" 8011 8012 8013 8016
for p in 8011 8012 8013; do check "tcp/$p ok" wait_state $p in ok 25; done
check_eq "tcp/8015 without traffic is idle" idle "$(wait_state 8015 in idle 15 && echo idle)"

mark
nft_s add table inet pcblock
nft_s add chain inet pcblock input '{ type filter hook input priority 0; }'
nft_s add rule inet pcblock input tcp dport 8011 reject with tcp reset
nft_s add rule inet pcblock input tcp dport 8016 drop			# not monitored
kill "$LISTENER_8012"							# 8012: nothing listens
nft_c add table inet pcup
nft_c add chain inet pcup output '{ type filter hook output priority 0; }'
nft_c add rule inet pcup output tcp dport 8013 drop			# blocked before the host

expect 8011 in netfilter_drop
check "reject is named in the detail" grep -q "reject" <<<"$(ev_field detail)"
expect 8012 in no_listener
check "NO_SOCKET drops are the evidence" test "$(ev_field drops.NO_SOCKET)" -gt 0
expect 8013 in collapse
sleep 3
check_eq "the idle port never raised an event" 0 "$(events_for 8015)"
check_eq "the idle port is still idle" idle "$(port_field 8015 in state)"
check_eq "the block on the unmonitored 8016 raised nothing" 0 "$(events_for 8016)"
check_eq "8016 is not in status" absent "$(port_field 8016 in state)"
check "events follow the contract" python3 "$EVENTS_PY" check "$STATE/events.jsonl"
kill "$STEADY_PID" 2>/dev/null
daemon_stop TERM
nft_s delete table inet pcblock
nft_c delete table inet pcup

# --- outbound: the caller's view, from a daemon on the client side -----------------------
rm -f "$STATE/events.jsonl"
DAEMON_NS=$NS_C daemon_start -i vc -p tcp/8016:out --events "$STATE/events.jsonl" ||
	{ fail "client daemon start"; finish; exit 1; }
steady 10 "$S_IP" 8016
check "tcp/8016:out ok" wait_state 8016 out ok 25
mark
nft_s add table inet pcblock
nft_s add chain inet pcblock input '{ type filter hook input priority 0; }'
nft_s add rule inet pcblock input tcp dport 8016 drop
expect 8016 out unanswered
check_eq "the caller saw no local drop" "{}" "$(ev_field drops | tr -d ' ')"
nft_s delete table inet pcblock
if wait_event port_recovered 8016 out 15; then ok "tcp/8016:out recovered (${LATENCY} s)"; else
	fail "tcp/8016:out did not recover"; fi
kill "$STEADY_PID" 2>/dev/null
daemon_stop TERM
finish
