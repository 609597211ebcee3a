#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_fwchange.sh: every nftables commit is a firewall_change event naming who committed it
# (a test process with a known command line, uid, login uid and cgroup) and what it added and
# removed (rules by handle; a flush, a table added or deleted as one entry); status lists the
# last changes and /metrics carries the last one. The host's own ruleset stays byte-identical.
. "$(dirname "$0")/lib.sh"
require_root
HOST_RULESET=$(nft list ruleset | sha256sum)
COMMIT_PY="$E2E_DIR/nft_commit.py"
MARK="pc-$$"
CG=""
cg_cleanup() { [ -n "$CG" ] && [ -d "$CG" ] && rmdir "$CG" 2>/dev/null; }
trap 'cg_cleanup; cleanup' EXIT

sandbox_up || { fail "sandbox"; finish; exit 1; }
serve 8041 || { fail "listener"; finish; exit 1; }
daemon_start -i vs -p tcp/8041 --events "$STATE/events.jsonl" --listen 127.0.0.1:9471 ||
	{ fail "daemon start"; finish; exit 1; }

# The N-th firewall_change event (1-based) into EVENT_JSON, waiting (bounded) for it.
change() { # change N [TIMEOUT]
	local i
	for i in $(seq $((${2:-5} * 10))); do
		EVENT_JSON=$(python3 "$EVENTS_PY" fw "$STATE/events.jsonl" | sed -n "${1}p")
		[ -n "$EVENT_JSON" ] && return 0
		sleep 0.1
	done
	return 1
}
py() { python3 -c "import json,sys; e=json.loads(sys.argv[1]); print($1)" "$EVENT_JSON"; }
nchanges() { python3 "$EVENTS_PY" fw "$STATE/events.jsonl" | wc -l; }

# --- 1. who: a python3 process of uid 65534 (nobody), login uid 4242, in a cgroup of its own --
# (/usr/bin/python3 by name: a pyenv shim under /root would not run as nobody)
CGROOT=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
CG="$CGROOT/portcanary-test-$$.scope"
mkdir "$CG" || fail "a cgroup for the committing process under $CGROOT"
(
	echo 4242 >/proc/self/loginuid
	echo $BASHPID >"$CG/cgroup.procs"
	exec nsenter --net="/var/run/netns/$NS_S" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=+net_admin --ambient-caps=+net_admin \
		/usr/bin/python3 "$COMMIT_PY" --marker "$MARK" --hold 3 \
		"add table inet filter; add chain inet filter input { type filter hook input priority 0; }"
) >"$STATE/commit.out" 2>&1 &
COMMIT_SUBSHELL=$!
BG_PIDS+=($!)
if change 1; then
	read -r cpid crc <"$STATE/commit.out"
	check_eq "the commit succeeded" 0 "$crc"
	check_eq "by.pid is the committing process (the subshell, exec'd into python3)" "$COMMIT_SUBSHELL $COMMIT_SUBSHELL" "$cpid $(py 'e["by"]["pid"]')"
	check_eq "by.command is its command line" \
		"/usr/bin/python3 $COMMIT_PY --marker $MARK --hold 3 add table inet filter; add chain inet filter input { type filter hook input priority 0; }" \
		"$(py 'e["by"]["command"]')"
	check_eq "by.comm from the kernel" python3 "$(py 'e["by"]["comm"]')"
	check_eq "by.uid" 65534 "$(py 'e["by"]["uid"]')"
	check_eq "by.user" nobody "$(py 'e["by"]["user"]')"
	check_eq "by.login_uid" 4242 "$(py 'e["by"]["login_uid"]')"
	check_eq "by.unit from its cgroup" "portcanary-test-$$.scope" "$(py 'e["by"]["unit"]')"
	check_eq "by.container: none" None "$(py 'e["by"]["container"]')"
	check_eq "by.parent is the shell that started it" "$$" "$(py 'e["by"]["parent"]["pid"]')"
	check_eq "not gone when read" False "$(py 'e["by"]["process_gone"]')"
	check_eq "vetted: false (not through apply)" False "$(py 'e["vetted"]')"
	check_eq "source" nftables "$(py 'e["source"]')"
	check "generation is a number" test "$(py 'e["generation"]')" -gt 0
	# One commit made the table and its chain: the table is one entry.
	check_eq "added: one table entry" "1 table inet filter 0" \
		"$(py 'len(e["added"]), e["added"][0]["kind"], e["added"][0]["family"], e["added"][0]["table"], len(e["removed"])' | tr -d "(),'")"
	GEN1=$(py 'e["generation"]')
else
	fail "no firewall_change for the python3 commit within 5 s"
	GEN1=0
fi
check "the log line names who and what" grep -q \
	"ruleset changed (generation $GEN1, unvetted) by /usr/bin/python3 $COMMIT_PY --marker $MARK .*user nobody uid 65534, login ? uid 4242, unit portcanary-test-$$.scope.*: added table inet filter" \
	"$STATE/daemon.log"
wait "$COMMIT_SUBSHELL" 2>/dev/null
cg_cleanup

# --- 2. what: rules added and removed, by handle, in one commit ---------------------------
nft_s add rule inet filter input tcp dport 9001 drop
nft_s add rule inet filter input tcp dport 9002 drop
nft_s add rule inet filter input ip saddr 203.0.113.0/24 tcp dport 9003 accept
change 4 || fail "firewall_change for three rules"
h2=$(nft_s -a list chain inet filter input | awk '/dport 9002 drop/ {print $NF}')
cat >"$STATE/edit.nft" <<EOF
delete rule inet filter input handle $h2
add rule inet filter input tcp dport 9004 drop
insert rule inet filter input tcp dport 9005 reject
EOF
nft_s -f "$STATE/edit.nft"
if change 5; then
	check_eq "diff: added two, removed one" "2 1" "$(py 'len(e["added"]), len(e["removed"])' | tr -d '(),')"
	check_eq "removed: the deleted rule by its handle" "input $h2 tcp dport 9002 drop rule" \
		"$(py '" ".join(str(e["removed"][0][k]) for k in ("chain", "handle", "text", "kind"))')"
	check_eq "added: both new rules, with their texts" "tcp dport 9005 reject|tcp dport 9004 drop" \
		"$(py '"|".join(r["text"] for r in e["added"])')"
	check "added rules carry their new handles" test "$(py 'min(r["handle"] for r in e["added"])')" -gt "$h2"
	check_eq "the summary" "+2 -1 in inet filter input: -tcp dport 9002 drop +tcp dport 9005 reject +tcp dport 9004 drop" \
		"$(py 'e["summary"]')"
	check_eq "by.comm" nft "$(py 'e["by"]["comm"]')"
else
	fail "no firewall_change for the edit"
fi

# --- 3. a flush of 300 rules is one entry --------------------------------------------------
{
	for p in $(seq 10000 10299); do echo "add rule inet filter input tcp dport $p drop"; done
} >"$STATE/many.nft"
nft_s -f "$STATE/many.nft"
change 6 || fail "firewall_change for 300 rules"
check_eq "300 rules added: the total counts them all" 300 "$(py 'e["added_total"]')"
check_eq "... and the event carries a bounded number" 64 "$(py 'len(e["added"])')"
nft_s flush chain inet filter input
if change 7; then
	check_eq "flush chain: one entry" "1 0 flush 304" \
		"$(py 'len(e["removed"]), len(e["added"]), e["removed"][0]["kind"], e["removed"][0]["count"]' | tr -d "(),'")"
	check_eq "flush chain: the summary" "flush chain inet filter input (304 rules)" "$(py 'e["summary"]')"
else
	fail "no firewall_change for the flush"
fi

# --- 4. a table added and deleted ----------------------------------------------------------
cat >"$STATE/table.nft" <<EOF
table ip pcextra {
	chain output { type filter hook output priority 0; policy accept;
		tcp dport 5432 counter drop
		udp dport 53 accept
	}
}
EOF
nft_s -f "$STATE/table.nft"
if change 8; then
	check_eq "table added: one entry" "1 table ip pcextra 2" \
		"$(py 'len(e["added"]), e["added"][0]["kind"], e["added"][0]["family"], e["added"][0]["table"], e["added"][0]["count"]' | tr -d "(),'")"
	check_eq "table added: the summary" "added table ip pcextra (1 chain, 2 rules, 0 sets)" "$(py 'e["summary"]')"
fi
nft_s delete table ip pcextra
if change 9; then
	check_eq "table deleted: one entry" "1 0 table pcextra" \
		"$(py 'len(e["removed"]), len(e["added"]), e["removed"][0]["kind"], e["removed"][0]["table"]' | tr -d "(),'")"
fi
nft_s flush ruleset
if change 10; then
	check_eq "flush ruleset: one entry" "1 flush None" \
		"$(py 'len(e["removed"]), e["removed"][0]["kind"], e["removed"][0]["table"]' | tr -d "(),'")"
	LASTGEN=$(py 'e["generation"]')
else
	LASTGEN=x
fi
check_eq "one event per commit, none lost" 10 "$(nchanges)"

# --- 5. status and /metrics ---------------------------------------------------------------
status_json >"$STATE/status.json"
check_eq "status --json: the last 5 changes, newest first" "5 $LASTGEN flush ruleset (1 table, 0 rules)" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=d["firewall_changes"]; print(len(c), c[0]["generation"], c[0]["summary"])' "$STATE/status.json")"
check_eq "status --json: a change's who" "nft flush ruleset" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); b=d["firewall_changes"][0]["by"]; print(b["command"] or "nft flush ruleset")' "$STATE/status.json")"
"$PC" status --state-dir "$STATE/run" >"$STATE/status.txt"
check "status: the table lists recent firewall changes" grep -q "^recent firewall changes (newest first):" "$STATE/status.txt"
check "status: ... with generation, UNVETTED and who" grep -qE "gen $LASTGEN +UNVETTED nft" "$STATE/status.txt"
check "status: ... and the summary" grep -q "^      flush ruleset (1 table, 0 rules)" "$STATE/status.txt"
sleep 1.2 # the exposition is published once per interval
net_s python3 -c 'import urllib.request,sys; sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:9471/metrics", timeout=5).read().decode())' >"$STATE/metrics.prom"
check_eq "/metrics: one last-change info series" 1 "$(grep -c '^portcanary_firewall_last_change_info{' "$STATE/metrics.prom")"
check "/metrics: its labels" grep -qE "^portcanary_firewall_last_change_info\{source=\"nftables\",generation=\"$LASTGEN\",vetted=\"false\",command=\"[^\"]*\",user=\"(root)?\",unit=\"\",summary=\"flush ruleset \(1 table, 0 rules\)\"\} 1$" "$STATE/metrics.prom"
check "events follow the contract" python3 "$EVENTS_PY" check "$STATE/events.jsonl"
check_eq "the host's own ruleset is byte-identical" "$HOST_RULESET" "$(nft list ruleset | sha256sum)"
finish
