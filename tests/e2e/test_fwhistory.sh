#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_fwhistory.sh: `portcanary firewall history` lists every change heard (who, vetted, what,
# the rulesets kept), across a daemon restart, with a change made while no daemon ran;
# `firewall rollback` restores exactly (nft list ruleset before == after, byte for byte), is a
# vetted change itself, and is refused when the restored ruleset blocks a port reachable now.
. "$(dirname "$0")/lib.sh"
require_root
HOST_RULESET=$(nft list ruleset | sha256sum)
sandbox_up || { fail "sandbox"; finish; exit 1; }
serve 8011 8012 || { fail "listeners"; finish; exit 1; }
RUN="$STATE/run"
start() { daemon_start -i vs -p tcp/8011 -p tcp/8012 --events "$STATE/events.jsonl" --listen 127.0.0.1:9472; }
start || { fail "daemon start"; finish; exit 1; }
live() { nft_s list ruleset; }
hist() { "$PC" firewall history --state-dir "$RUN" --json; }
# hq EXPR: an expression over the history document h (newest first: h["changes"][0])
hq() { hist | python3 -c "import json,sys; h=json.load(sys.stdin); print($1)"; }
nchanges() { hq 'len(h["changes"])'; }
wait_changes() { # wait_changes N: bounded wait (5 s) until the history holds N changes
	local i
	for i in $(seq 50); do [ "$(nchanges)" -ge "$1" ] && return 0; sleep 0.1; done
	return 1
}
rollback() { # rollback NAME ARGS...: RC and $STATE/NAME.out
	local name=$1
	shift
	timeout 60 "$PC" firewall rollback --state-dir "$RUN" "$@" >"$STATE/$name.out" 2>&1
	RC=$?
}

EMPTY=$(live)
cat >"$STATE/base.nft" <<'EOF'
table inet filter {
	set blocked {
		type ipv4_addr
		elements = { 203.0.113.7, 203.0.113.9 }
	}
	chain input {
		type filter hook input priority filter; policy accept;
		ip saddr @blocked drop
		tcp dport 8012 drop
		tcp dport 9000 counter drop comment "not ours"
	}
}
EOF
nft_s -f "$STATE/base.nft"
check "the first change is recorded" wait_changes 1
S0=$(live)
GEN0=$(hq 'h["changes"][0]["generation"]')
nft_s add rule inet filter input tcp dport 9001 reject
nft_s add element inet filter blocked '{ 198.18.0.1 }'
check "two more changes are recorded" wait_changes 3
S1=$(live)
GEN2=$(hq 'h["changes"][0]["generation"]')
check_eq "history: newest first, unvetted, what it added" "False elements 198.18.0.1" \
	"$(hq '" ".join([str(h["changes"][0]["vetted"]), h["changes"][0]["added"][0]["kind"], h["changes"][0]["added"][0]["text"]])')"
check_eq "history: who (the kernel's name for the committer)" nft "$(hq 'h["changes"][1]["by"]["comm"]')"
check_eq "history: the rulesets before and after are kept" "True True" \
	"$(hq 'bool(h["changes"][1]["before"]), bool(h["changes"][1]["after"])' | tr -d '(),')"
"$PC" firewall history --state-dir "$RUN" >"$STATE/history.txt"
check "the table shows each change with what it did" grep -q "^        + inet filter input handle [0-9]*: tcp dport 9001 reject" "$STATE/history.txt"
check "... and the bounds" grep -q "changes kept (at most 100, rulesets" "$STATE/history.txt"

# --- rollback of the last two: exactly what was there --------------------------------------
rollback one --to "$(hq 'h["changes"][1]["generation"]')"
check_eq "rollback to before generation N: exit 0" 0 "$RC"
check "it says what it undid" grep -q "^ROLLED BACK: generation [0-9]* undone" "$STATE/one.out"
check_eq "nft list ruleset is byte-identical to before those changes" "$S0" "$(live)"
check "the rollback is recorded" wait_changes 4
check_eq "... as a vetted rollback that undid that generation" "True rollback $((GEN0 + 1))" \
	"$(hq '" ".join(str(x) for x in (h["changes"][0]["vetted"], h["changes"][0]["kind"], h["changes"][0]["undid"]))')"
check_eq "... requested by the rollback command" True \
	"$(hq '"firewall rollback" in h["changes"][0]["requested_by"]["command"]')"
rb=$(python3 "$EVENTS_PY" fw "$STATE/events.jsonl" firewall_rollback | tail -1)
check_eq "a firewall_rollback event: requested, no port" "requested 0" \
	"$(python3 -c 'import json,sys; e=json.loads(sys.argv[1]); print(e["reason"], len(e["ports"]))' "$rb")"

# --- refused: what it would restore blocks a port that is reachable now ------------------
nft_s delete rule inet filter input handle "$(nft_s -a list chain inet filter input | awk '/tcp dport 8012 drop/ {print $NF}')"
check "the unblock is recorded" wait_changes 5
check_eq "tcp/8012 is reachable now" "ok=3 fail=0" "$(connect 3 8012)"
S2=$(live)
rollback refused
check_eq "a rollback that would block a reachable port: exit 1" 1 "$RC"
check "it names the port and the rule" grep -q "tcp/8012:in from .*: inet filter input handle [0-9]*: tcp dport 8012 drop" "$STATE/refused.out"
check_eq "nothing changed" "$S2" "$(live)"
rollback forced --force
check_eq "with --force: exit 0" 0 "$RC"
check_eq "... restored exactly" "$S0" "$(live)"

# --- a restart: the history is still there, and a change made meanwhile is named -------
n_before=$(nchanges)
daemon_stop TERM
hist >"$STATE/offline.json" 2>"$STATE/offline.err"
check "without a daemon the history is read from the state dir" grep -q "no daemon running" "$STATE/offline.err"
check_eq "... all of it" "$n_before" "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["changes"]))' "$STATE/offline.json")"
nft_s add rule inet filter input tcp dport 9009 drop
start || fail "daemon restart"
check_eq "after the restart: the history kept, plus the change made meanwhile" $((n_before + 1)) "$(nchanges)"
check_eq "... recorded as made while no daemon ran" "offline False" \
	"$(hq 'h["changes"][0]["kind"], h["changes"][0]["vetted"]' | tr -d "(),'")"
check "... what it added" grep -q "tcp dport 9009 drop" <<<"$(hq 'h["changes"][0]["summary"]')"
rollback back --to "$GEN0"
check_eq "after the restart, rollback to before the first change: exit 0" 0 "$RC"
check_eq "... the ruleset is empty again, exactly" "$EMPTY" "$(live)"
rollback none --to 999999
check_eq "a generation the history does not have: exit 2" 2 "$RC"
check "... said so" grep -q "no change with generation 999999 in the history" "$STATE/none.out"
sleep 1.2
net_s python3 -c 'import urllib.request,sys; sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:9472/metrics", timeout=5).read().decode())' >"$STATE/metrics.prom"
check "/metrics: vetted changes counted apart" grep -q '^portcanary_firewall_changes_total{source="nftables",vetted="true"} 1$' "$STATE/metrics.prom"
check "/metrics: requested rollbacks counted" grep -q '^portcanary_firewall_rollbacks_total{reason="requested"} 1$' "$STATE/metrics.prom"
check "events follow the contract" python3 "$EVENTS_PY" check "$STATE/events.jsonl"
check_eq "the host's own ruleset is byte-identical" "$HOST_RULESET" "$(nft list ruleset | sha256sum)"
finish
