#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_preflight.sh: `portcanary preflight`: verdicts, evidence, exit codes, and nothing touched or left behind.
#
# Every run uses --timeout 0.5 (two attempts per port), so a blocked port costs about 1 s.

. "$(dirname "$0")/lib.sh"
require_root

STATE=$(mktemp -d /tmp/portcanary-preflight.XXXXXX)
NS_H="${TAG}h"	# a private "host" with a ruleset of its own: preflight run in it must not touch it
T="--timeout 0.5"

cleanup_preflight() {
	ip netns del "$NS_H" 2>/dev/null
	ip netns del "${TAG}cur" 2>/dev/null
	cleanup
}
trap cleanup_preflight EXIT

# pf OUT ARGS...: run preflight, stdout to $STATE/OUT.out, stderr to $STATE/OUT.err; sets RC, SECS.
pf() {
	local name=$1 start
	shift
	start=$(date +%s%N)
	"$PC" preflight "$@" >"$STATE/$name.out" 2>"$STATE/$name.err"
	RC=$?
	SECS=$(( ($(date +%s%N) - start) / 1000000 ))
}
# jq_py OUT EXPR: evaluate a python expression on the JSON document d of run OUT.
jq_py() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
P = {(p["proto"], p["port"], p["direction"]): p for p in d["ports"]}
print(eval(sys.argv[2]))' "$STATE/$1.out" "$2" 2>&1
}
# One JSON object, and nothing else, on stdout.
json_ok() {
	python3 -c '
import json, sys
text = open(sys.argv[1]).read()
d = json.loads(text)
assert isinstance(d, dict) and text.count("\n") == 1
for k in ("ruleset", "ports", "blocked"):
    assert k in d, k
for p in d["ports"]:
    assert set(("proto", "port", "direction", "verdict", "evidence")) <= set(p), p
    assert p["verdict"] in ("reachable", "blocked") and isinstance(p["port"], int)
    if p["evidence"] is not None:
        assert set(("drop_reason", "rule")) <= set(p["evidence"])
        r = p["evidence"]["rule"]
        assert r is None or set(("family", "table", "chain", "handle", "text")) <= set(r)
assert d["blocked"] == sum(p["verdict"] == "blocked" for p in d["ports"])
' "$STATE/$1.out"
}

host_fingerprint() {
	{
		nft list ruleset
		iptables-nft-save 2>/dev/null | grep -v '^#'
		iptables-legacy-save 2>/dev/null | grep -v '^#'
		ip6tables-legacy-save 2>/dev/null | grep -v '^#'
		ip -o link show | awk -F': ' '{print $2}' | sort
	} | sha256sum | cut -d' ' -f1
}

# Namespaces listed in a run's -v log, still held by a process of ours (portcanary, or a
# tool it runs inside the sandbox) as its netns or an open fd. Namespace inode numbers are
# recycled, and other test suites may run beside this one: only our processes count.
leftover_netns() {
	grep -o 'netns [0-9]*' "$STATE/$1.err" 2>/dev/null | awk '{print $2}' | sort -u |
		python3 -c '
import os, re, sys
want = {"net:[%s]" % l.strip() for l in sys.stdin if l.strip()}
found = set()
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        comm = open("/proc/%s/comm" % pid).read().strip()
        if not re.match(r"^(portcanary|(ip6?|x)tables.*|nft|ip)$", comm):
            continue
        links = [os.readlink("/proc/%s/ns/net" % pid)]
        for fd in os.listdir("/proc/%s/fd" % pid):
            try:
                links.append(os.readlink("/proc/%s/fd/%s" % (pid, fd)))
            except OSError:
                pass
    except OSError:
        continue
    found |= want & set(links)
print(" ".join(sorted(found)))'
}

cat >"$STATE/drop.nft" <<'EOF'
table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 8080 drop
		tcp dport 8081 reject with tcp reset
		udp dport 5353 drop
	}
}
EOF
cat >"$STATE/old.nft" <<'EOF'
table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 8080 drop
	}
}
EOF
cat >"$STATE/src.nft" <<'EOF'
table ip filter {
	chain input {
		type filter hook input priority filter; policy accept;
		ip saddr 10.0.0.0/8 tcp dport 5432 drop
	}
}
EOF
cat >"$STATE/accept.nft" <<'EOF'
flush ruleset
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		meta l4proto { tcp, udp } accept
	}
	chain output {
		type filter hook output priority filter; policy accept;
	}
}
EOF
cat >"$STATE/out.nft" <<'EOF'
table inet filter {
	chain output {
		type filter hook output priority filter; policy drop;
		ct state established,related accept
		tcp dport 443 accept
	}
}
EOF
printf 'table inet filter {\n\tchain input {\n\t\ttype filter hook input priority 0;\n\t\ttcp dport 80 dorp\n\t}\n}\n' \
	>"$STATE/bad.nft"
cat >"$STATE/rules.v4" <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 8080 -j DROP
-A INPUT -p udp -m udp --dport 53 -j REJECT
COMMIT
EOF

HOST_BEFORE=$(host_fingerprint)

# --- a drop rule, a reject rule --------------------------------------------------------
pf drop --nft "$STATE/drop.nft" -p 22 -p 8080 -p 8081 -p udp/5353 -p udp/53 --json $T -v
check_eq "drop rule: exit 1" 1 "$RC"
check "drop rule: one JSON object" json_ok drop
check_eq "drop rule: tcp/22 reachable" reachable "$(jq_py drop 'P["tcp",22,"in"]["verdict"]')"
check_eq "drop rule: tcp/8080 blocked" blocked "$(jq_py drop 'P["tcp",8080,"in"]["verdict"]')"
check_eq "drop rule: drop reason" NETFILTER_DROP \
	"$(jq_py drop 'P["tcp",8080,"in"]["evidence"]["drop_reason"]')"
check_eq "drop rule: the rule" "inet filter input tcp dport 8080 drop" \
	"$(jq_py drop '" ".join(P["tcp",8080,"in"]["evidence"]["rule"][k] for k in ("family","table","chain","text"))')"
check_eq "drop rule: the rule handle is a number" True \
	"$(jq_py drop 'isinstance(P["tcp",8080,"in"]["evidence"]["rule"]["handle"], int) and P["tcp",8080,"in"]["evidence"]["rule"]["handle"] > 0')"
check_eq "reject rule: tcp/8081 blocked" blocked "$(jq_py drop 'P["tcp",8081,"in"]["verdict"]')"
check_eq "reject rule: refused, not timed out" refused "$(jq_py drop 'P["tcp",8081,"in"]["failure"]')"
check_eq "reject rule: the rule" "tcp dport 8081 reject with tcp reset" \
	"$(jq_py drop 'P["tcp",8081,"in"]["evidence"]["rule"]["text"]')"
check_eq "reject rule: drop reason" NETFILTER_DROP \
	"$(jq_py drop 'P["tcp",8081,"in"]["evidence"]["drop_reason"]')"
check_eq "udp drop: udp/5353 blocked, udp/53 answered" "blocked reachable" \
	"$(jq_py drop 'P["udp",5353,"in"]["verdict"] + " " + P["udp",53,"in"]["verdict"]')"
check_eq "drop rule: blocked count" 3 "$(jq_py drop 'd["blocked"]')"
check "drop rule: bounded time (${SECS} ms < 4000)" test "$SECS" -lt 4000
check "drop rule: the -v log names the sandbox namespaces" grep -q 'host netns [0-9]' "$STATE/drop.err"
check_eq "drop rule: no sandbox namespace left" "" "$(leftover_netns drop)"

# --- 20 blocked ports: concluded from the trace, not from timeouts (default 1 s, 2 tries) ---
printf 'table inet filter {\n\tchain input {\n\t\ttype filter hook input priority 0;\n\t\ttcp dport 9000-9019 drop\n\t}\n}\n' \
	>"$STATE/twenty.nft"
pf twenty --nft "$STATE/twenty.nft" -p 9000-9019 --json
echo "# preflight of 20 blocked ports: $SECS ms"
check_eq "20 blocked ports: exit 1, all blocked by the rule" "1 20 True" \
	"$RC $(jq_py twenty 'd["blocked"]') $(jq_py twenty 'all(p["evidence"]["rule"]["text"] == "tcp dport 9000-9019 drop" for p in d["ports"])')"
check "20 blocked ports in under 2 s (${SECS} ms)" test "$SECS" -lt 2000

pf table --nft "$STATE/drop.nft" -p 22 -p 8080 $T
check_eq "table: exit 1" 1 "$RC"
check "table: names the port, the reason and the rule" \
	grep -qE '^tcp/8080:in +BLOCKED +timeout +NETFILTER_DROP +inet filter input handle [0-9]+: tcp dport 8080 drop$' \
	"$STATE/table.out"
check "table: tcp/22 reachable" grep -qE '^tcp/22:in +reachable$' "$STATE/table.out"

# --- a rule that blocks one source range ------------------------------------------------
pf src_in --nft "$STATE/src.nft" -p 5432 --from 10.1.2.3 --to 10.200.0.1 --json $T
check_eq "source range: --from inside it: exit 1" 1 "$RC"
check_eq "source range: blocked by the saddr rule" "blocked ip saddr 10.0.0.0/8 tcp dport 5432 drop" \
	"$(jq_py src_in 'P["tcp",5432,"in"]["verdict"] + " " + P["tcp",5432,"in"]["evidence"]["rule"]["text"]')"
pf src_out --nft "$STATE/src.nft" -p 5432 --from 192.168.7.7 --json $T
check_eq "source range: --from outside it: exit 0" 0 "$RC"
check_eq "source range: reachable from outside" reachable "$(jq_py src_out 'P["tcp",5432,"in"]["verdict"]')"

# --- accept-all --------------------------------------------------------------------------
pf accept --nft "$STATE/accept.nft" -p 22 -p 8000-8031 -p udp/53 -p tcp/443:out --json $T
check_eq "accept-all: exit 0" 0 "$RC"
check "accept-all: one JSON object" json_ok accept
check_eq "accept-all: 35 ports, all reachable, evidence null" "35 0 True" \
	"$(jq_py accept '"%d %d %s" % (len(d["ports"]), d["blocked"], all(p["verdict"] == "reachable" and p["evidence"] is None for p in d["ports"]))')"

# --- outbound ports: the ruleset is on the client side ----------------------------------
pf out --nft "$STATE/out.nft" -p tcp/443:out -p tcp/8443:out -p 22 --json $T
check_eq "outbound: exit 1" 1 "$RC"
check_eq "outbound: 443 reachable, 8443 blocked by the output policy, inbound 22 reachable" \
	"reachable blocked output policy drop reachable" \
	"$(jq_py out 'P["tcp",443,"out"]["verdict"] + " " + P["tcp",8443,"out"]["verdict"] + " " + P["tcp",8443,"out"]["evidence"]["rule"]["chain"] + " " + P["tcp",8443,"out"]["evidence"]["rule"]["text"] + " " + P["tcp",22,"in"]["verdict"]')"

# --- IPv6 --------------------------------------------------------------------------------
pf v6 --nft "$STATE/drop.nft" -p 8080 -p 22 --from 2001:db8:7::1 --to 2001:db8:9::2 --json $T
check_eq "IPv6: exit 1, 8080 blocked, 22 reachable" "1 blocked reachable" \
	"$RC $(jq_py v6 'P["tcp",8080,"in"]["verdict"] + " " + P["tcp",22,"in"]["verdict"]')"

# --- a syntax error ----------------------------------------------------------------------
pf bad --nft "$STATE/bad.nft" -p 22
check_eq "syntax error: exit 2" 2 "$RC"
check "syntax error: nft's own message" grep -q "bad.nft:4:.*Error: syntax error" "$STATE/bad.err"
check "syntax error: says nothing was tested" grep -q "does not load (nothing was tested)" "$STATE/bad.err"
check_eq "syntax error: a few lines, nothing on stdout" "yes 0" \
	"$([ "$(wc -l <"$STATE/bad.err")" -le 5 ] && echo yes) $(wc -c <"$STATE/bad.out")"

# --- an iptables-restore file --------------------------------------------------------------
pf ipt --iptables "$STATE/rules.v4" -p 22 -p 8080 -p udp/53 --json $T
check_eq "iptables: exit 1" 1 "$RC"
check "iptables: one JSON object" json_ok ipt
check_eq "iptables: 22 reachable, 8080 and udp/53 blocked" "reachable blocked blocked" \
	"$(jq_py ipt 'P["tcp",22,"in"]["verdict"] + " " + P["tcp",8080,"in"]["verdict"] + " " + P["udp",53,"in"]["verdict"]')"
check_eq "iptables: the rule, in iptables syntax" "filter INPUT -A INPUT -p tcp -m tcp --dport 8080 -j DROP" \
	"$(jq_py ipt '" ".join(P["tcp",8080,"in"]["evidence"]["rule"][k] for k in ("table","chain","text"))')"
check_eq "iptables: drop reason" NETFILTER_DROP "$(jq_py ipt 'P["tcp",8080,"in"]["evidence"]["drop_reason"]')"
check_eq "iptables: reject answers (ICMP)" refused "$(jq_py ipt 'P["udp",53,"in"]["failure"]')"
printf '*filter\n-A INPUT -p tcp --dport 22 -j DORP\nCOMMIT\n' >"$STATE/bad.v4"
pf badipt --iptables "$STATE/bad.v4" -p 22
check_eq "iptables: a file that does not restore: exit 2" 2 "$RC"
check "iptables: iptables-restore's own message" grep -q "iptables-restore.*DORP" "$STATE/badipt.err"

# --- --baseline ----------------------------------------------------------------------------
pf base --nft "$STATE/drop.nft" --baseline "$STATE/old.nft" -p 22 -p 8080 -p 8081 --json $T
check_eq "baseline: exit 1 (8081 newly blocked)" 1 "$RC"
check "baseline: one JSON object" json_ok base
check_eq "baseline: lists only the newly blocked port" "tcp/8081:blocked 1 1" \
	"$(jq_py base '" ".join("%s/%d:%s" % (p["proto"], p["port"], p["verdict"]) for p in d["ports"]) + " %d %d" % (d["blocked"], d["already_blocked"])')"
pf base_same --nft "$STATE/old.nft" --baseline "$STATE/drop.nft" -p 22 -p 8080 --json $T
check_eq "baseline: nothing newly blocked: exit 0, no ports" "0 0 0" \
	"$RC $(jq_py base_same 'len(d["ports"])') $(jq_py base_same 'd["blocked"]')"
pf base_bad --nft "$STATE/drop.nft" --baseline "$STATE/bad.nft" -p 22 $T
check_eq "baseline that does not load: exit 2" 2 "$RC"
# --baseline current: the live ruleset of the namespace preflight runs in (a private one
# here, holding old.nft), listed and never changed.
ip netns add "${TAG}cur"
ip netns exec "${TAG}cur" nft -f "$STATE/old.nft"
before=$(ip netns exec "${TAG}cur" nft list ruleset)
ip netns exec "${TAG}cur" "$PC" preflight --nft "$STATE/drop.nft" --baseline current \
	-p 22 -p 8080 -p 8081 --json $T >"$STATE/base_cur.out" 2>"$STATE/base_cur.err"
RC=$?
check_eq "baseline current: exit 1, only what the live ruleset lets through" \
	"1 tcp/8081:blocked" \
	"$RC $(jq_py base_cur '" ".join("%s/%d:%s" % (p["proto"], p["port"], p["verdict"]) for p in d["ports"])')"
check_eq "baseline current: the live ruleset is unchanged" "$before" \
	"$(ip netns exec "${TAG}cur" nft list ruleset)"
ip netns del "${TAG}cur"

# --- usage errors: exit 2 with one line -------------------------------------------------------
for args in "--nft $STATE/drop.nft" "--nft $STATE/drop.nft -p 70000" "--nft $STATE/none.nft -p 22" \
	"--nft $STATE/drop.nft --iptables $STATE/rules.v4 -p 22" "-p 22" \
	"--nft $STATE/drop.nft -p 1-600" "--nft $STATE/drop.nft -p 22 --from 10.0.0.1 --to 2001:db8::1" \
	"--nft $STATE/drop.nft -p 22 --timeout 0" "--nft $STATE/drop.nft -p 22 --bogus"; do
	# shellcheck disable=SC2086
	pf usage $args
	check_eq "usage: preflight $args: exit 2, one line" "2 1" "$RC $(wc -l <"$STATE/usage.err")"
done
"$PC" preflight --help | grep -q "^examples:"
check_eq "--help has examples" 0 "$?"

# --- the caller's own ruleset is never touched ---------------------------------------------
ip netns add "$NS_H"
ip netns exec "$NS_H" nft -f - <<'EOF'
table inet host_marker {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 8080 accept
	}
}
EOF
H1=$(ip netns exec "$NS_H" nft list ruleset | sha256sum)
L1=$(ip netns exec "$NS_H" ip -o link show | wc -l)
ip netns exec "$NS_H" "$PC" preflight --nft "$STATE/accept.nft" -p 8080 $T >/dev/null 2>&1
RC=$?
ip netns exec "$NS_H" "$PC" preflight --iptables "$STATE/rules.v4" -p 8080 $T >/dev/null 2>&1
check_eq "caller's namespace: preflight of a 'flush ruleset' file ran" 0 "$RC"
check_eq "caller's namespace: ruleset byte-identical" "$H1" "$(ip netns exec "$NS_H" nft list ruleset | sha256sum)"
check_eq "caller's namespace: no interface added" "$L1" "$(ip netns exec "$NS_H" ip -o link show | wc -l)"

# --- killed half-way: nothing is left behind -------------------------------------------------
# A run that stays alive to be killed: a netdev ingress chain drops before preflight's trace
# marks the packets (prerouting), so these probes wait out their 10 s timeouts.
cat >"$STATE/slow.nft" <<'EOF'
table netdev slow {
	chain ingress {
		type filter hook ingress device "eth0" priority 0; policy accept;
		tcp dport 8080 drop
		udp dport 5353 drop
	}
}
EOF
kill_test() { # kill_test NAME SIGNAL
	local pid i
	# SIGINT as from a terminal: background jobs of a script ignore it unless reset.
	python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
		"$PC" preflight --nft "$STATE/slow.nft" -p 8080 -p udp/5353 -p tcp/9000:out --timeout 10 -v \
		>"$STATE/$1.out" 2>"$STATE/$1.err" &
	pid=$!
	for i in $(seq 50); do grep -qs 'netns' "$STATE/$1.err" && break; sleep 0.1; done
	sleep 0.3	# inside the probing: listeners open, the drop tracer attached
	# The check below can fail: while the run lives, its namespaces are found.
	check "$1: its sandbox namespaces are visible while it runs" test -n "$(leftover_netns "$1")"
	kill -"$2" "$pid"
	wait "$pid" 2>/dev/null
	# A process (a child inside the sandbox) or an fd still holding a namespace would show here.
	check_eq "$1: no sandbox namespace, process or socket left" "" "$(leftover_netns "$1")"
}
kill_test sigkill KILL
kill_test sigint INT
kill_test sigterm TERM

check_eq "host ruleset, iptables tables and interfaces byte-identical" "$HOST_BEFORE" "$(host_fingerprint)"

finish
