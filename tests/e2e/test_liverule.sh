#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_liverule.sh: the live rule in the alert: each rule shape drops real TCP clients (IPv4 and
# IPv6); the port_down event itself names the live rule (its live handle) that drops the real
# clients' addresses, at a 0.5 s interval within 1.6 s; a rule the sandbox cannot reproduce
# gives rule null and one log line (a mark set outside the ruleset; an iptables-nft xtables
# match); status and /metrics show the rule while the port is down.
. "$(dirname "$0")/lib.sh"
require_root
MAX_DETECT_S=1.6 # at --interval 0.5, from the rule landing to port_down with its rule
MARK_OBJ="$ROOT/build/tests/e2e/mark_set.bpf.o"
METRICS=127.0.0.1:9464

HOST_RULESET=$(nft list ruleset | sha256sum)
sandbox_up || { fail "sandbox"; finish; exit 1; }
serve 8001 8002 8003 8004 8005 8006 8007 8008 8009 || { fail "listeners"; finish; exit 1; }
# A mark set outside the ruleset, on the client's packets to 8006 (before the daemon: it
# then finds the clsact qdisc there and leaves it). The daemon counts ingress with XDP here:
# its TC ingress filter, the default on veth, would end TC classification before ours.
in_s tc qdisc add dev vs clsact &&
	in_s tc filter add dev vs ingress prio 1 handle 1 bpf da obj "$MARK_OBJ" sec tc ||
	fail "the test's mark program on vs ingress"
daemon_start -i vs -p tcp/8001-8009 --interval 0.5 --events "$STATE/events.jsonl" \
	--listen "$METRICS" --xdp-mode native || { fail "daemon start"; finish; exit 1; }
steady 10 "$S_IP" 8001 8002 8003 8004 8005 8006 8009
steady 10 "$S_IP6" 8007 8008
for p in 8001 8002 8003 8004 8005 8006 8007 8008 8009; do
	check "tcp/$p learns a baseline and is ok" wait_state $p in ok 25
done

# Every shape at once, one transaction. Decoys drop the addresses a synthetic client
# (preflight's 192.0.2.1, 2001:db8::1) would have: only the real clients' find the rule.
cat >"$STATE/block.nft" <<'EOF'
table inet filter {
	set denied {
		type ipv4_addr
		elements = { 198.51.100.1 }
	}
	chain input {
		type filter hook input priority filter; policy accept;
		ip saddr 192.0.2.0/24 tcp dport 8001 drop
		ip saddr 198.51.100.0/24 tcp dport 8001 drop
		tcp dport 8002 jump blocked
		tcp dport 8003 goto viaset
		tcp dport vmap { 8004 : drop }
		tcp dport 8006 jump marked
	}
	chain blocked {
		ip saddr 198.51.100.0/24 drop
	}
	chain viaset {
		ip saddr @denied drop
	}
	chain marked {
		meta mark 0x2a drop
	}
}
table ip6 v6only {
	chain input {
		type filter hook input priority filter; policy drop;
		meta l4proto != tcp accept
		ip6 saddr 2001:db8::/64 tcp dport 8008 drop
		ip6 saddr 2001:db8:100::/64 tcp dport 8008 drop
		tcp dport != { 8007, 8008 } accept
	}
}
EOF
# A table with a history (a chain and a rule made and deleted): the live handles are then
# not what the sandbox's fresh copy numbers its rules, and the event must say the live ones.
nft_s add table inet filter
nft_s add chain inet filter scratch
nft_s add rule inet filter scratch accept
nft_s add rule inet filter scratch drop
nft_s flush chain inet filter scratch
nft_s delete chain inet filter scratch
# An iptables-nft rule nft cannot load again (an xtables match), on a port of no one's:
# the sandbox copy loads it as a stub, and every other port's rule stays exact.
in_s iptables-nft -A INPUT -p tcp --dport 9999 -m string --algo bm --string foo -j DROP ||
	fail "the iptables-nft xtables rule"
sleep 0.5
mark
nft_s -f "$STATE/block.nft" || fail "loading the blocking ruleset"
in_s iptables-nft -A INPUT -s 198.51.100.0/24 -p tcp --dport 8005 -j DROP ||
	fail "the iptables-nft rule"
in_s iptables-nft -A INPUT -p tcp --dport 8009 -m recent --name pcx --set &&
	in_s iptables-nft -A INPUT -p tcp --dport 8009 -m recent --name pcx --rcheck -j DROP ||
	fail "the iptables-nft recent rules"
nft_s -a list ruleset >"$STATE/live.txt"

# live_handle FAMILY TABLE TEXT: the handle the live ruleset gave the rule with that text.
live_handle() {
	python3 - "$STATE/live.txt" "$1" "$2" "$3" <<'PY'
import re, sys
path, fam, table, text = sys.argv[1:]
cur = None
for line in open(path):
    m = re.match(r'table (\S+) (\S+) \{', line)
    if m:
        cur = (m.group(1), m.group(2))
        continue
    m = re.match(r'\t\t(.*) # handle (\d+)$', line.rstrip("\n"))
    if m and cur == (fam, table) and re.sub(r'counter packets \d+ bytes \d+', 'counter', m.group(1)) == text:
        print(m.group(2))
        break
PY
}

# expect_rule PORT FAMILY TABLE CHAIN TEXT [policy]: the port_down event names exactly this rule.
expect_rule() {
	local port=$1 fam=$2 table=$3 chain=$4 text=$5 handle
	if [ "${6:-}" = policy ]; then handle=None; else handle=$(live_handle "$fam" "$table" "$text"); fi
	if ! wait_event port_down "$port" in 10; then
		fail "no port_down for tcp/$port"
		return
	fi
	echo "# tcp/$port down after $LATENCY s"
	check_eq "tcp/$port: cause" netfilter_drop "$(ev_field cause)"
	check_eq "tcp/$port: the event names the live rule" \
		"$fam|$table|$chain|$handle|$text" \
		"$(ev_field rule.family)|$(ev_field rule.table)|$(ev_field rule.chain)|$(ev_field rule.handle)|$(ev_field rule.text)"
}

expect_rule 8001 inet filter input "ip saddr 198.51.100.0/24 tcp dport 8001 drop"
check "tcp/8001 down, with its rule, within $MAX_DETECT_S s at a 0.5 s interval ($LATENCY s)" \
	awk "BEGIN{exit !($LATENCY <= $MAX_DETECT_S)}"
expect_rule 8002 inet filter blocked "ip saddr 198.51.100.0/24 drop"
expect_rule 8003 inet filter viaset "ip saddr @denied drop"
expect_rule 8004 inet filter input "tcp dport vmap { 8004 : drop }"
expect_rule 8005 ip filter INPUT "ip saddr 198.51.100.0/24 tcp dport 8005 counter drop"
expect_rule 8007 ip6 v6only input "policy drop" policy
expect_rule 8008 ip6 v6only input "ip6 saddr 2001:db8:100::/64 tcp dport 8008 drop"

# The mark is set outside the ruleset: no sandbox copy can have it. Null, never a guess.
if wait_event port_down 8006 in 10; then
	check_eq "tcp/8006: a rule the sandbox cannot reproduce is null" None "$(ev_field rule)"
	check "tcp/8006: the event says why (the mark)" grep -q "meta mark" <<<"$(ev_field rule_note)"
else
	fail "no port_down for tcp/8006"
fi
# xtables: the copy cannot evaluate the rule the packets reach, and says which it is.
if wait_event port_down 8009 in 10; then
	check_eq "tcp/8009: a rule with an xtables match is null" None "$(ev_field rule)"
	check "tcp/8009: the note names the live iptables-nft rule" grep -qE \
		"reach ip filter INPUT handle [0-9]+ \(tcp dport 8009 xt match recent counter\).*xtables" \
		<<<"$(ev_field rule_note)"
else
	fail "no port_down for tcp/8009"
fi
check_eq "tcp/8006: one log line says why" 1 \
	"$(grep -c 'tcp/8006:in: cannot name the rule that drops its clients: .*meta mark.* in inet filter marked' "$STATE/daemon.log")"
# The replay's own time and the round trip from the daemon's question to its answer.
grep -o 'replayed in [0-9.]* ms, answered [0-9.]* ms' "$STATE/daemon.log" | sed 's/^/# replay: /'
check_eq "one log line names each found rule" 7 \
	"$(grep -c 'its clients are dropped by' "$STATE/daemon.log")"

# status: the table and --json show the rule of a port that is down.
"$PC" status --state-dir "$STATE/run" >"$STATE/status.txt"
check "status shows the rule under tcp/8001" grep -qE \
	"^    rule: inet filter input handle $(live_handle inet filter "ip saddr 198.51.100.0/24 tcp dport 8001 drop"): ip saddr 198.51.100.0/24 tcp dport 8001 drop$" \
	"$STATE/status.txt"
check "status says why tcp/8006's rule is unknown" grep -q "^    rule: unknown: .*meta mark" \
	"$STATE/status.txt"
check_eq "status --json: tcp/8007's rule is the ip6 policy" "ip6 v6only input None policy drop" \
	"$(status_json | python3 -c '
import json, sys
p = [p for p in json.load(sys.stdin)["ports"] if p["port"] == 8007][0]["rule"]
print(p["family"], p["table"], p["chain"], p["handle"], p["text"])')"

# /metrics: one bounded info series per down port whose rule is known, exactly these labels.
scrape() { net_s python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen("http://'$METRICS'/metrics", timeout=5).read().decode())'; }
scrape >"$STATE/metrics.txt"
check_eq "/metrics: the rule info series of tcp/8001" 1 "$(grep -cxF \
	"portcanary_port_rule_info{proto=\"tcp\",port=\"8001\",direction=\"in\",family=\"inet\",table=\"filter\",chain=\"input\",handle=\"$(live_handle inet filter "ip saddr 198.51.100.0/24 tcp dport 8001 drop")\",rule=\"ip saddr 198.51.100.0/24 tcp dport 8001 drop\"} 1" \
	"$STATE/metrics.txt")"
check_eq "/metrics: a policy has handle \"\"" 1 "$(grep -cxF \
	'portcanary_port_rule_info{proto="tcp",port="8007",direction="in",family="ip6",table="v6only",chain="input",handle="",rule="policy drop"} 1' \
	"$STATE/metrics.txt")"
check_eq "/metrics: one series per down port with a known rule (not tcp/8006)" 7 \
	"$(grep -c '^portcanary_port_rule_info{' "$STATE/metrics.txt")"

# Unblocked: the ports recover and the rule leaves the metrics.
mark
nft_s delete table inet filter
nft_s delete table ip6 v6only
in_s iptables-nft -F INPUT
for p in 8001 8007; do
	check "tcp/$p recovers" wait_event port_recovered $p in 15
done
check_eq "/metrics: no rule series once recovered" 0 "$(scrape | grep -c '^portcanary_port_rule_info{')"
# Replaying packets dropped before the rules went, against the ruleset without them, is
# no news: only tcp/8006 and tcp/8009 ever said they cannot name their rule.
check_eq "no recovering port says it cannot name its rule" "tcp/8006:in tcp/8009:in" \
	"$(grep -o 'tcp/[0-9]*:in: cannot name the rule' "$STATE/daemon.log" | cut -d: -f1,2 | sort -u | tr '\n' ' ' | sed 's/ $//')"
check "events follow the contract" python3 "$EVENTS_PY" check "$STATE/events.jsonl"
check "no sandbox table leaked into the daemon's namespace" \
	bash -c "! ip netns exec $NS_S nft list tables | grep -q portcanary"
kill "$STEADY_PID" 2>/dev/null
daemon_stop TERM
check_eq "the daemon exits 0" 0 "$DAEMON_RC"
check_eq "the host's own ruleset is byte-identical" "$HOST_RULESET" "$(nft list ruleset | sha256sum)"
finish
