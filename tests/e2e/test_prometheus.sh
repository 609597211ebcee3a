#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_prometheus.sh: shipped rules (promtool check/test), Alertmanager routing (amtool), the exposition through promtool, the dashboard, the exporter under abuse.
source "$(dirname "$0")/lib.sh"

PROM_DIR="$ROOT/deploy/prometheus"
RULES="$PROM_DIR/portcanary.rules.yml"
RULE_TESTS="$PROM_DIR/portcanary.rules.test.yml"
AM_CONF="$ROOT/deploy/alertmanager/portcanary.yml"
DASH="$ROOT/deploy/grafana/portcanary.json"
PROBE="$ROOT/build/tests/e2e/exporter_probe"
ABUSE="$E2E_DIR/http_abuse.py"
PUBLISH_BOUND_US=100000	# a publish (the daemon's hand-over) never waits this long on scrapes
STATE=$(mktemp -d /tmp/portcanary-prom.XXXXXX)

# logged DESCRIPTION COMMAND...: ok/not ok; on failure, the command's output as comments.
logged() {
	local what=$1; shift
	if "$@" >"$STATE/out" 2>&1; then
		ok "$what"
	else
		fail "$what"
		sed 's/^/#   /' "$STATE/out" | head -40
	fi
}
# refused DESCRIPTION COMMAND...: the command must fail (the checker can say no).
refused() {
	local what=$1; shift
	if "$@" >"$STATE/out" 2>&1; then fail "$what: accepted"; else ok "$what"; fi
}

if ! command -v promtool >/dev/null; then
	fail "promtool is missing: scripts/install-deps.sh installs Debian's prometheus package"
	finish
	exit 1
fi
if ! command -v amtool >/dev/null; then
	fail "amtool is missing: scripts/install-deps.sh installs Debian's prometheus-alertmanager package"
	finish
	exit 1
fi
if [ ! -x "$PROBE" ]; then
	make -C "$ROOT" --no-print-directory -s build/tests/e2e/exporter_probe >"$STATE/out" 2>&1 ||
		{ fail "cannot build exporter_probe"; sed 's/^/#   /' "$STATE/out"; finish; exit 1; }
fi

# --- (a) the shipped rules ---------------------------------------------------------------------
logged "promtool check rules accepts $(basename "$RULES")" promtool check rules "$RULES"
logged "promtool test rules: $(basename "$RULE_TESTS") passes" \
	bash -c "cd '$PROM_DIR' && promtool test rules '$(basename "$RULE_TESTS")'"
# Every alert is tested both ways: at least one case where it fires, one where it must not.
coverage=$(python3 - "$RULES" "$RULE_TESTS" <<'EOF'
import sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))
tests = yaml.safe_load(open(sys.argv[2]))
alerts = [r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r]
fires, quiet = set(), set()
for t in tests["tests"]:
    for c in t.get("alert_rule_test", []):
        (fires if c.get("exp_alerts") else quiet).add(c["alertname"])
missing = [f"{a} ({'firing' if a not in fires else ''}{' ' if a not in fires and a not in quiet else ''}{'quiet' if a not in quiet else ''})"
           for a in alerts if a not in fires or a not in quiet]
print(len(alerts), " ".join(missing))
EOF
)
n_alerts=${coverage%% *}
untested=${coverage#* }
if [ -z "$untested" ] && [ "$n_alerts" -gt 0 ]; then
	ok "all $n_alerts alerts are tested firing and not firing"
else
	fail "alerts without a firing or a quiet test: $untested"
fi

# --- the shipped Alertmanager routing ----------------------------------------------------------
logged "amtool check-config accepts $(basename "$AM_CONF")" amtool check-config "$AM_CONF"
# The same checker refuses a broken copy (an inhibit rule's matcher that does not parse).
sed 's/alertname="PortcanaryPortDownFleetWide"/alertname=~"(Portcanary"/' "$AM_CONF" >"$STATE/bad-am.yml"
refused "amtool check-config refuses a broken matcher" amtool check-config "$STATE/bad-am.yml"
logged "a port alert routes to the shipped receiver" amtool config routes test \
	--config.file="$AM_CONF" --verify.receivers=portcanary-pager \
	alertname=PortcanaryPortDownFleetWide job=portcanary proto=tcp port=443 direction=in cause=netfilter_drop
# Every alert name the routing and the inhibition match is one the rules define: a rename
# on one side alone would silently stop grouping or inhibiting.
names=$(python3 - "$RULES" "$AM_CONF" <<'EOF'
import re, sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))
am = yaml.safe_load(open(sys.argv[2]))
alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
matchers = []
def walk(route):
    matchers.extend(route.get("matchers", []))
    for r in route.get("routes", []):
        walk(r)
walk(am["route"])
for rule in am.get("inhibit_rules", []):
    matchers += rule.get("source_matchers", []) + rule.get("target_matchers", [])
named = set()
for m in matchers:
    hit = re.fullmatch(r'alertname=~?"([^"]*)"', m)
    if hit:
        named.update(hit.group(1).split("|"))
print(len(named), " ".join(sorted(named - alerts)))
EOF
)
check_eq "alert names in the routing and inhibition that the rules do not define" "" "${names#* }"
check "the routing and inhibition name alerts at all (${names%% *})" test "${names%% *}" -ge 4

# --- (b) the exposition, parsed and linted by promtool ------------------------------------------
"$PROBE" sample 9 >"$STATE/sample.prom"
logged "promtool check metrics accepts the formatter's exposition (9 ports, every family)" \
	bash -c "promtool check metrics <'$STATE/sample.prom'"
"$PROBE" sample 0 >"$STATE/empty.prom"
logged "promtool check metrics accepts the exposition of a daemon with no ports" \
	bash -c "promtool check metrics <'$STATE/empty.prom'"
# The same checker refuses a broken text, so the two checks above can fail.
printf '# TYPE portcanary_syn_total counter\nportcanary_syn_total{port=443} 1\n' >"$STATE/bad.prom"
refused "promtool check metrics refuses an unquoted label value" \
	bash -c "promtool check metrics <'$STATE/bad.prom'"
families=$(grep -c '^# TYPE portcanary_' "$STATE/sample.prom")
check_eq "families in the exposition" 32 "$families"	# every family the formatter has
for m in portcanary_syn_total portcanary_synack_total portcanary_rst_total portcanary_packets_total \
	portcanary_bytes_total portcanary_drops_total portcanary_port_up portcanary_port_state \
	portcanary_firewall_changes_total portcanary_build_info; do
	grep -q "^# TYPE $m " "$STATE/sample.prom" || fail "DESIGN.md metric $m missing"
done
# Every metric the rules and the dashboard use is one the exporter serves.
# (Recorded series such as port:portcanary_syn:rate1m are ours, not the exporter's.)
# The info series the alerts' annotations read are a contract with the daemon (README,
# "Across a fleet"): the rules work without them (portcanary.rules.test.yml), and once the
# exporter serves them their labels must be exactly the contract's.
declare -A INFO_CONTRACT=(
	[portcanary_port_rule_info]="chain direction family handle port proto rule table"
	[portcanary_firewall_last_change_info]="command generation source summary unit user vetted"
)
used=$(cat "$RULES" "$DASH" | grep -oE 'portcanary_[a-z0-9_]+:?' | grep -v ':$' | sort -u)
unknown=""
for m in $used; do
	if [ -n "${INFO_CONTRACT[$m]:-}" ] && ! grep -q "^# TYPE $m " "$STATE/sample.prom"; then
		echo "# $m: not served by this exporter yet; the annotations that read it stay empty"
		continue
	fi
	grep -q "^# TYPE $m " "$STATE/sample.prom" || unknown="$unknown $m"
done
check_eq "metrics used by rules and dashboard but not exported" "" "$unknown"
for m in "${!INFO_CONTRACT[@]}"; do
	grep -q "^# TYPE $m " "$STATE/sample.prom" || continue
	bad=$(grep "^$m{" "$STATE/sample.prom" | python3 -c '
import re, sys
for line in sys.stdin:
    pairs = re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\]|\\.)*)\"", line)
    if " ".join(sorted(k for k, _ in pairs)) != sys.argv[1]:
        print(line.strip())' "${INFO_CONTRACT[$m]}")
	check_eq "$m series with the contract's labels only" "" "$bad"
done

# --- the dashboard: valid JSON, a port variable, every query parses -----------------------------
python3 - "$DASH" "$STATE/dash.rules.yml" <<'EOF' >"$STATE/dash.out" 2>&1
import json, sys, re
d = json.load(open(sys.argv[1]))
names = [v["name"] for v in d["templating"]["list"]]
assert "port" in names and "instance" in names, names
exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
exprs += [a["expr"] for a in d["annotations"]["list"] if "expr" in a]
with open(sys.argv[2], "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        e = e.replace("$__rate_interval", "5m")
        e = re.sub(r"\$[a-z_]+", ".*", e)
        f.write(f"      - record: dashboard:q{i}\n        expr: {json.dumps(e)}\n")
print(len(exprs), "queries")
EOF
logged "the dashboard is JSON with host and port variables" cat "$STATE/dash.out"
logged "every dashboard query parses as PromQL ($(head -1 "$STATE/dash.out"))" \
	promtool check rules "$STATE/dash.rules.yml"

# --- (c) the exporter under abuse ---------------------------------------------------------------
# The probe serves a 500-port exposition from the exporter and republishes every 50 ms.
t_start=$(date +%s.%N)
"$PROBE" serve 127.0.0.1:0 500 >"$STATE/probe.out" 2>"$STATE/probe.err" &
PROBE_PID=$!
BG_PIDS+=("$PROBE_PID")
port=""
for _ in $(seq 50); do
	port=$(awk '/^port /{print $2}' "$STATE/probe.out")
	[ -n "$port" ] && break
	sleep 0.1
done
if [ -z "$port" ]; then
	fail "the exporter did not start: $(cat "$STATE/probe.err")"
	finish
	exit 1
fi
ok "exporter listening on 127.0.0.1:$port"

python3 - "$port" "$STATE/served.prom" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5) as r:
    open(sys.argv[2], "wb").write(r.read())
EOF
logged "promtool check metrics accepts the exposition as served over HTTP" \
	bash -c "promtool check metrics <'$STATE/served.prom'"

# A second exporter on the same port: one clear line, a failing exit.
"$PROBE" serve "127.0.0.1:$port" >/dev/null 2>"$STATE/inuse.err"
rc=$?
check_eq "exit code of an exporter on a port in use" 1 "$rc"
check "its one error line says so ($(head -1 "$STATE/inuse.err"))" \
	bash -c "[ \$(wc -l <'$STATE/inuse.err') -eq 1 ] && grep -q 'Address already in use' '$STATE/inuse.err'"
"$PROBE" serve "example.com:80" >/dev/null 2>"$STATE/badspec.err"
rc=$?
check_eq "exit code of a bad listen address" 2 "$rc"
check "its one error line names it ($(head -1 "$STATE/badspec.err"))" \
	bash -c "[ \$(wc -l <'$STATE/badspec.err') -eq 1 ] && grep -q 'example.com:80' '$STATE/badspec.err'"

while read -r verdict rest; do
	case "$verdict" in
	ok) ok "$rest" ;;
	fail) fail "$rest" ;;
	*) echo "$verdict $rest" ;;
	esac
done < <(timeout 120 python3 "$ABUSE" "$port" 2>&1)

check "the exporter survived (process alive)" kill -0 "$PROBE_PID"
kill -TERM "$PROBE_PID"
wait "$PROBE_PID"
rc=$?
elapsed=$(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
check_eq "exporter_probe exit code after SIGTERM (clean stop)" 0 "$rc"
read -r _ publishes _ max_us < <(grep '^publishes' "$STATE/probe.out")
if [ -n "${max_us:-}" ] && [ "$max_us" -lt "$PUBLISH_BOUND_US" ]; then
	ok "publishing never waited on scrapes: slowest of $publishes publishes $max_us us (bound $PUBLISH_BOUND_US us)"
else
	fail "a publish took ${max_us:-?} us (bound $PUBLISH_BOUND_US us)"
fi
# The loop kept its 50 ms rhythm through the abuse: sampling was never stalled.
expected=$(awk -v e="$elapsed" 'BEGIN { printf "%d", e / 0.05 * 0.8 }')
check "publishing kept pace ($publishes publishes in ${elapsed%.*} s, at least ${expected%.*})" \
	test "${publishes:-0}" -ge "${expected%.*}"

# --- a live daemon: real connections, scraped over HTTP, checked by promtool -----------------
if [ "$(id -u)" -eq 0 ]; then
	sandbox_up || fail "sandbox"
	serve 8080 || fail "listener"
	daemon_start -i vs -p tcp/8080 -p udp/5353 --listen 127.0.0.1:9464 || fail "daemon with --listen"
	connect 5 8080 >/dev/null
	sleep 1.2	# one interval: the exposition is published once per interval
	scrape() { net_s python3 -c 'import urllib.request,sys; sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:9464/metrics", timeout=5).read().decode())'; }
	scrape >"$STATE/live.prom" 2>&1
	check "the daemon serves /metrics" grep -q '^portcanary_build_info' "$STATE/live.prom"
	check "promtool accepts the live exposition" bash -c "promtool check metrics <'$STATE/live.prom' 2>&1 | { ! grep -v '^$'; }"
	check_eq "portcanary_syn_total counts the connections" 5 \
		"$(sed -n 's/^portcanary_syn_total{proto="tcp",port="8080",direction="in"} //p' "$STATE/live.prom")"
	check_eq "portcanary_synack_total too" 5 \
		"$(sed -n 's/^portcanary_synack_total{proto="tcp",port="8080",direction="in"} //p' "$STATE/live.prom")"
	check_eq "the udp port has a state series" 1 \
		"$(grep -c '^portcanary_port_up{proto="udp",port="5353",direction="in"}' "$STATE/live.prom")"
	check "firewall changes start at 0" grep -q '^portcanary_firewall_changes_total{source="nftables",vetted="false"} 0' \
		"$STATE/live.prom"
	nft_s add table inet pctest
	sleep 1.2
	scrape >"$STATE/live2.prom" 2>&1
	check "a firewall change is counted" grep -q '^portcanary_firewall_changes_total{source="nftables",vetted="false"} 1' \
		"$STATE/live2.prom"
	daemon_stop TERM
else
	fail "the live-daemon scrape needs root"
fi

finish
