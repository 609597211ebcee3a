#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_apply.sh: `portcanary apply` under real traffic: a file that does not load (exit 2, nft's
# message); a blocking change refused (exit 1, live ruleset untouched), also one that blocks only
# the real clients' addresses; a harmless change kept; a rate limit that passes the preflight but
# breaks a port under load, rolled back inside the window, the port recovering; the client
# SIGKILLed after the change is in, the daemon rolling back all the same; another change during
# the window reported; only root may apply. The host's own ruleset stays byte-identical.
. "$(dirname "$0")/lib.sh"
require_root
HOST_RULESET=$(nft list ruleset | sha256sum)
sandbox_up || { fail "sandbox"; finish; exit 1; }
serve 8001 8002 8003 || { fail "listeners"; finish; exit 1; }
daemon_start -i vs -p tcp/8001-8003 --events "$STATE/events.jsonl" ||
	{ fail "daemon start"; finish; exit 1; }
steady 10 "$S_IP" 8001 8002 8003
RUN="$STATE/run"

# apply NAME ARGS...: run portcanary apply; RC, $STATE/NAME.out (stdout), .err, .json (--json)
apply() {
	local name=$1
	shift
	timeout 90 "$PC" apply --state-dir "$RUN" "$@" >"$STATE/$name.out" 2>"$STATE/$name.err"
	RC=$?
}
live() { nft_s list ruleset; }
jq_py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
fw_events() { python3 "$EVENTS_PY" fw "$STATE/events.jsonl" "$1"; }

cat >"$STATE/base.nft" <<'EOF'
table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 9000 drop
	}
}
EOF
nft_s -f "$STATE/base.nft"
BEFORE=$(live)
# Real connections so the sampler knows each port's clients.
syns_at_least() { # syns_at_least PORT N: bounded wait (10 s) for N SYNs counted on PORT
	local i
	for i in $(seq 40); do
		[ "$(port_field "$1" in syn_total)" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.25
	done
	return 1
}
for p in 8001 8002 8003; do check "tcp/$p has real clients" syns_at_least $p 10; done

# --- a file that does not load, and one with include --------------------------------------
echo 'add rule inet filter input tcp dport 8002 dorp' >"$STATE/bad.nft"
apply bad --nft "$STATE/bad.nft" --confirm 3
check_eq "a file that does not load: exit 2" 2 "$RC"
check "... with nft's own message" grep -q "Error: syntax error" "$STATE/bad.err"
echo 'include "/etc/passwd"' >"$STATE/inc.nft"
apply inc --nft "$STATE/inc.nft"
check_eq "include is refused: exit 2" 2 "$RC"
check "... saying why" grep -q "include. is not accepted: the daemon opens no file" "$STATE/inc.err"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' '#' >"$STATE/big.nft"
apply big --nft "$STATE/big.nft"
check_eq "a file over 1 MiB: exit 2" 2 "$RC"
check "... saying the limit" grep -q "larger than 1024 KiB" "$STATE/big.err"
check_eq "the live ruleset untouched" "$BEFORE" "$(live)"

# --- a blocking change is refused -----------------------------------------------------------
echo 'add rule inet filter input tcp dport 8002 drop' >"$STATE/block.nft"
apply block --nft "$STATE/block.nft" --confirm 3 --json
check_eq "a blocking change: exit 1" 1 "$RC"
check_eq "refused, in the JSON" refused "$(jq_py "$STATE/block.out" 'd["outcome"]')"
check "the JSON names the port, the client and the rule" grep -q \
	"tcp/8002:in from $C_IP: inet filter input handle [0-9]*: tcp dport 8002 drop" \
	<<<"$(jq_py "$STATE/block.out" 'd["blocked"][0]')"
check_eq "the preflight ran from the real clients" "$C_IP $S_IP" \
	"$(jq_py "$STATE/block.out" '[(p["from"], p["to"]) for p in d["preflight"]["ports"] if p["port"] == 8002][0]' | tr -d "(),'")"
check_eq "... and found exactly that port" 1 "$(jq_py "$STATE/block.out" 'd["preflight"]["newly_blocked"]')"
check_eq "the live ruleset untouched" "$BEFORE" "$(live)"
# A rule only the real clients' addresses meet: the sandbox's own 192.0.2.1 would pass it.
echo "add rule inet filter input ip saddr 198.51.100.0/24 tcp dport 8003 drop" >"$STATE/src.nft"
apply src --nft "$STATE/src.nft" --confirm 3
check_eq "a change that blocks only the real clients: exit 1" 1 "$RC"
check "... refused, naming the client" grep -q "tcp/8003:in from $C_IP: inet filter input handle [0-9]*: ip saddr 198.51.100.0/24 tcp dport 8003 drop" "$STATE/src.out"
check_eq "the live ruleset untouched" "$BEFORE" "$(live)"

# --- a harmless change is kept --------------------------------------------------------------
echo 'add rule inet filter input tcp dport 9001 drop' >"$STATE/ok.nft"
apply ok --nft "$STATE/ok.nft" --confirm 3
check_eq "a harmless change: exit 0" 0 "$RC"
check "it says kept, with its generation" grep -qE "^KEPT: generation [0-9]+, no monitored port hurt in 3 s" "$STATE/ok.out"
check "it showed the steps as they happened" bash -c "grep -q '^applied: generation' '$STATE/ok.out' && grep -q '^watching for 3 s' '$STATE/ok.out' && grep -q 'preflight: no monitored port newly blocked' '$STATE/ok.out'"
check "the change is in" bash -c "ip netns exec $NS_S nft list ruleset | grep -q 'tcp dport 9001 drop'"
KEPT_GEN=$(sed -n 's/^KEPT: generation \([0-9]*\),.*/\1/p' "$STATE/ok.out")
ev=$(fw_events firewall_change | python3 -c "import json,sys
for l in sys.stdin:
    e = json.loads(l)
    if e['generation'] == int(sys.argv[1]): print(e['vetted'], e.get('kind'), 'portcanary apply' in (e.get('requested_by') or {}).get('command', ''))" "$KEPT_GEN")
check_eq "its firewall_change: vetted, an apply, for the apply command" "True apply True" "$ev"
BEFORE=$(live)

# --- a rate limit too tight: passes the preflight, breaks the port under load --------------
echo 'add rule inet filter input tcp dport 8001 ct state new limit rate over 2/second drop' >"$STATE/rate.nft"
mark
start=$(date +%s.%N)
apply rate --nft "$STATE/rate.nft" --confirm 30
took=$(awk "BEGIN{print $(date +%s.%N) - $start}")
echo "# rate limit: rolled back after ${took} s of a 30 s window"
check_eq "a change that breaks a port under load: exit 1" 1 "$RC"
check "it passed the preflight" grep -q "preflight: no monitored port newly blocked" "$STATE/rate.out"
check "rolled back, naming the port and the cause" grep -q "^ROLLED BACK: tcp/8001:in went \(down\|degraded\) (netfilter_drop)" "$STATE/rate.out"
check "... and what the change added" grep -q "+ inet filter input handle [0-9]*: tcp dport 8001 ct state new limit rate over 2/second drop" "$STATE/rate.out"
check "inside the window, within 10 s (${took} s)" awk "BEGIN{exit !($took < 10)}"
check_eq "the ruleset is exactly as before the apply" "$BEFORE" "$(live)"
rb=$(fw_events firewall_rollback | tail -1)
check_eq "a firewall_rollback event: reason, port" "port_down 8001 tcp in" \
	"$(python3 -c 'import json,sys; e=json.loads(sys.argv[1]); p=e["ports"][0]; print(e["reason"], p["port"], p["proto"], p["direction"])' "$rb")"
check "... from the apply's generation to a new one" python3 -c 'import json,sys; e=json.loads(sys.argv[1]); assert e["to_generation"] == e["from_generation"] + 1' "$rb"
if wait_event port_recovered 8001 in 20; then
	ok "tcp/8001 recovers after the rollback (${LATENCY} s)"
else
	fail "tcp/8001 did not recover within 20 s of the rollback"
fi

# --- the client killed after the change is in: the daemon still rolls back ----------------
echo 'add rule inet filter input tcp dport 8003 ct state new limit rate over 2/second drop' >"$STATE/kill.nft"
# Not under timeout(1): the process killed must be the one holding the connection. The
# daemon's window bounds it (30 s), and cleanup kills it on every exit path.
"$PC" apply --state-dir "$RUN" --nft "$STATE/kill.nft" --confirm 30 >"$STATE/kill.out" 2>&1 &
APID=$!
BG_PIDS+=($APID)
for i in $(seq 100); do grep -q '^watching for' "$STATE/kill.out" && break; sleep 0.1; done
check "the killed client had seen the change applied" grep -q '^applied: generation' "$STATE/kill.out"
check_eq "status shows the apply being watched" "apply watching $STATE/kill.nft" \
	"$(status_json | python3 -c 'import json,sys; o=json.load(sys.stdin)["firewall_operation"]; print(o["kind"], o["state"], o["file"])')"
kill -KILL "$APID"
wait "$APID" 2>/dev/null
n0=$(fw_events firewall_rollback | wc -l)
for i in $(seq 150); do [ "$(fw_events firewall_rollback | wc -l)" -gt "$n0" ] && break; sleep 0.1; done
rb=$(fw_events firewall_rollback | tail -1)
check_eq "rolled back by the daemon after the client died" "port_down 8003" \
	"$(python3 -c 'import json,sys; e=json.loads(sys.argv[1]); print(e["reason"], e["ports"][0]["port"])' "${rb:-{\}}" 2>/dev/null)"
check_eq "the ruleset is exactly as before" "$BEFORE" "$(live)"
check "the daemon said the client went away" grep -q "the apply client (pid $APID) went away; the daemon carries on" "$STATE/daemon.log"

# --- another change during the window is reported, not silently clobbered ---------------
echo 'add rule inet filter input tcp dport 9002 drop' >"$STATE/win.nft"
timeout 90 "$PC" apply --state-dir "$RUN" --nft "$STATE/win.nft" --confirm 4 --json >"$STATE/win.json" 2>"$STATE/win.err" &
WPID=$!
BG_PIDS+=($WPID)
for i in $(seq 100); do grep -q '^watching for' "$STATE/win.err" && break; sleep 0.1; done
nft_s add rule inet filter input tcp dport 9003 drop
wait "$WPID"
check_eq "kept, with another change during the window: exit 0" 0 "$?"
check "the client was warned as it happened" grep -q "^WARNING: generation [0-9]* by nft.* changed the ruleset during the window" "$STATE/win.err"
check_eq "the result lists it" "tcp dport 9003" \
	"$(jq_py "$STATE/win.json" 'd["foreign"][0]["summary"]' | grep -o 'tcp dport 9003')"

# --- the daemon killed during the window: the restarted daemon watches the rest ---------
BEFORE=$(live)
echo 'add rule inet filter input tcp dport 8002 ct state new limit rate over 2/second drop' >"$STATE/crash.nft"
"$PC" apply --state-dir "$RUN" --nft "$STATE/crash.nft" --confirm 40 >"$STATE/crash.out" 2>&1 &
CPID=$!
BG_PIDS+=($CPID)
for i in $(seq 100); do grep -q '^watching for' "$STATE/crash.out" && break; sleep 0.1; done
daemon_stop KILL
wait "$CPID"
check_eq "the client of a killed daemon: exit 2" 2 "$?"
check "... told that the daemon owns the change" grep -q "the change is in, and the daemon owns the watch" "$STATE/crash.out"
n0=$(fw_events firewall_rollback | wc -l)
daemon_start -i vs -p tcp/8001-8003 --events "$STATE/events.jsonl" || fail "daemon restart"
check "the restarted daemon resumes the watch" grep -q "resuming the watch of the apply of $STATE/crash.nft (generation [0-9]*): [0-9]* s left" "$STATE/daemon.log"
for i in $(seq 150); do [ "$(fw_events firewall_rollback | wc -l)" -gt "$n0" ] && break; sleep 0.1; done
check_eq "... and rolls the change back when the port breaks" "port_down 8002" \
	"$(python3 -c 'import json,sys; e=json.loads(sys.argv[1]); print(e["reason"], e["ports"][0]["port"])' "$(fw_events firewall_rollback | tail -1)" 2>/dev/null)"
check_eq "the ruleset is exactly as before" "$BEFORE" "$(live)"

# --- only root ---------------------------------------------------------------------------
# The file comes on stdin: nobody could not read it in the test's private directory.
setpriv --reuid=65534 --regid=65534 --clear-groups "$PC" apply --state-dir "$RUN" --nft - \
	<"$STATE/ok.nft" >"$STATE/nobody.out" 2>&1
check_eq "not root: exit 2" 2 "$?"
check "... the socket is root's" grep -q "permission denied on .*portcanary.sock: the control socket is root's only" "$STATE/nobody.out"
# Past the socket's mode (CAP_DAC_OVERRIDE), the daemon still checks who is asking.
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+dac_override --ambient-caps=+dac_override \
	"$PC" apply --state-dir "$RUN" --nft - <"$STATE/ok.nft" >"$STATE/nobody2.out" 2>&1
check_eq "not root, past the socket's mode: exit 2" 2 "$?"
check "... refused by its credentials" grep -q "only root may apply or roll back" "$STATE/nobody2.out" ||
	sed 's/^/#   it said: /' "$STATE/nobody2.out"
check "events follow the contract" python3 "$EVENTS_PY" check "$STATE/events.jsonl"
check_eq "the host's own ruleset is byte-identical" "$HOST_RULESET" "$(nft list ruleset | sha256sum)"
finish
