#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_fleet.sh: three hosts, a real Prometheus with the shipped rules and a real Alertmanager with the shipped routing: a drop on all pages once per port, on one host never fleet-wide.
#
# One LAN (a bridge in its own namespace) joins a client, three hosts and a monitor:
#   client  $NS_C        198.51.100.1    steady connections to 8001-8003 on every host
#   hosts   ${TAG}h1..3  198.51.100.11-13  listeners on 8001-8003, the daemon (--listen on its own
#                                        address, :9464)
#   monitor ${TAG}mon    198.51.100.2    Prometheus (scrapes every 1 s, evaluates every 1 s,
#                                        the shipped rule file as it is), Alertmanager (the
#                                        shipped routing; only the receiver URL replaced) and
#                                        the test's webhook receiver, all on its 127.0.0.1
# Phase 1: one nftables transaction per host drops 8001 and 8002 on all three: the receiver
# gets PortcanaryPortDownFleetWide for exactly those two ports (cause netfilter_drop), and no
# host alert of them (Alertmanager holds them, inhibited). Phase 2: the same kind of rule on
# one host for 8003: its host alert comes, and no fleet alert, not even pending. Last, the
# fleet pages are resolved, and the receiver never heard of the hosts' alerts of 8001/8002.
. "$(dirname "$0")/lib.sh"
require_root

ALERTING="$E2E_DIR/alerting.py"
RULES="$ROOT/deploy/prometheus/portcanary.rules.yml"
AM_SHIPPED="$ROOT/deploy/alertmanager/portcanary.yml"
AM_PLACEHOLDER="http://pager.example.invalid/portcanary"
NET=198.51.100
MON_IP=$NET.2
HOSTS="1 2 3"
LAN_NS="${TAG}lan"
MON_NS="${TAG}mon"
PROM=http://127.0.0.1:9090
AM=http://127.0.0.1:9093
HOOK_PORT=9095
FLEET=PortcanaryPortDownFleetWide
# Rule to fleet page: detection ~2 s, scrape and evaluation 1 s each, `for` 15 s, group_wait 10 s.
MAX_PAGE_S=60
HOST_PIDS=()
MON_PIDS=()
HOST_RULESET=$(nft list ruleset 2>&1 | sha256sum)
T_START=$(date +%s.%N)

host_ns() { echo "${TAG}h$1"; }
host_ip() { echo "$NET.1$1"; }
in_mon() { nsenter --net="/var/run/netns/$MON_NS" "$@"; }
alerting() { python3 "$ALERTING" "$@"; }
mon_alerting() { in_mon python3 "$ALERTING" "$@"; }
hook_file() { echo "$STATE/webhook.jsonl"; }

# For extending the test: the first notification that carried alert NAME with these
# labels, as the receiver got it (the whole webhook payload, JSON).
webhook_payload() { alerting payload "$(hook_file)" "$@"; }
# The first alert received with STATUS (firing|resolved|any), NAME and labels: "<time> <JSON>".
webhook_alert() { alerting alert "$(hook_file)" "$@"; }
webhook_count() { alerting count "$(hook_file)" "$@"; }
# json_field JSON PATH: one field of an alert (PATH like labels.cause, annotations.rule).
json_field() { python3 -c 'import json,sys; v=json.loads(sys.argv[1])
for k in sys.argv[2].split("."): v = v.get(k, "") if isinstance(v, dict) else ""
print(v)' "$1" "$2"; }
# fields JSON SECTION KEY...: several fields of one section, on one line.
fields() {
	local json=$1 section=$2 k
	shift 2
	for k in "$@"; do json_field "$json" "$section.$k"; done | xargs
}

# Stop what the test started: daemons, monitor, listeners and traffic (each PID is the
# program itself: nsenter execs it).
fleet_stop() {
	local p i
	for p in "${HOST_PIDS[@]}" "${MON_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${HOST_PIDS[@]}" "${MON_PIDS[@]}"; do
		for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	HOST_PIDS=()
	MON_PIDS=()
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	BG_PIDS=()
}
test_namespaces() { echo "$NS_C" "$MON_NS" "$LAN_NS"; for i in $HOSTS; do host_ns "$i"; done; }
# PIDs of processes still in the test's namespaces (none once fleet_stop is done).
leftovers() {
	local ns
	for ns in $(test_namespaces); do ip netns pids "$ns" 2>/dev/null; done | xargs
}

fleet_cleanup() {
	local i f left
	if [ "$FAILED" -ne 0 ] && [ -n "$STATE" ] && [ -z "${LOGS_SHOWN:-}" ]; then
		LOGS_SHOWN=1
		for f in "$STATE"/h*/daemon.log "$STATE"/prometheus.log "$STATE"/alertmanager.log; do
			[ -s "$f" ] && echo "# ${f#"$STATE"/} (last 10 lines):" && tail -10 "$f" | sed 's/^/#   /'
		done
	fi
	fleet_stop
	# Last resort on a failure path: anything left runs in a namespace this test made.
	left=$(leftovers)
	# shellcheck disable=SC2086
	[ -z "$left" ] || kill -KILL $left 2>/dev/null
	for i in $(test_namespaces); do ip netns del "$i" 2>/dev/null; done
	if [ -n "$STATE" ]; then
		for i in $HOSTS; do umount "$STATE/h$i/run/bpf" 2>/dev/null; done
	fi
}
trap 'fleet_cleanup; cleanup' EXIT

# --- the LAN: a bridge, one veth per member, one /24, static neighbours -------------------
lan_up() {
	local members=("$NS_C:$NET.1" "$MON_NS:$MON_IP") m p ns ip i n=0
	local -A mac=()
	for i in $HOSTS; do members+=("$(host_ns "$i"):$(host_ip "$i")"); done
	ip netns add "$LAN_NS" || return 1
	ip -n "$LAN_NS" link add br0 type bridge && ip -n "$LAN_NS" link set br0 up || return 1
	for m in "${members[@]}"; do
		ns=${m%%:*} ip=${m#*:} n=$((n + 1))
		ip netns add "$ns" || return 1
		ip link add eth0 netns "$ns" type veth peer name "port$n" netns "$LAN_NS" || return 1
		ip -n "$LAN_NS" link set "port$n" master br0 up || return 1
		ip -n "$ns" addr add "$ip/24" dev eth0 && ip -n "$ns" link set eth0 up &&
			ip -n "$ns" link set lo up || return 1
		mac[$ns]=$(ip netns exec "$ns" cat /sys/class/net/eth0/address)
	done
	for m in "${members[@]}"; do
		for p in "${members[@]}"; do
			[ "$m" == "$p" ] && continue
			ip -n "${m%%:*}" neigh replace "${p#*:}" lladdr "${mac[${p%%:*}]}" dev eth0 \
				nud permanent || return 1
		done
	done
	STATE=$(mktemp -d /tmp/portcanary-fleet.XXXXXX)
}

# host_up I: listeners on 8001-8003, then the daemon with --listen on the host's address.
host_up() {
	local i=$1 ns dir
	ns=$(host_ns "$i")
	dir="$STATE/h$i"
	mkdir -p "$dir"
	nsenter --net="/var/run/netns/$ns" python3 "$TRAFFIC" serve 8001 8002 8003 \
		>"$dir/serve.log" 2>&1 &
	BG_PIDS+=($!)
	nsenter --net="/var/run/netns/$ns" "$PC" run --state-dir "$dir/run" -i eth0 -p tcp/8001-8003 \
		--listen "$(host_ip "$i"):9464" --events "$dir/events.jsonl" >>"$dir/daemon.log" 2>&1 &
	HOST_PIDS+=($!)
	for _ in $(seq 100); do
		"$PC" status --state-dir "$dir/run" --json >/dev/null 2>&1 &&
			grep -q listening "$dir/serve.log" && return 0
		sleep 0.1
	done
	echo "# host $i did not come up:" && tail -5 "$dir/daemon.log" "$dir/serve.log" | sed 's/^/#   /'
	return 1
}

# ports_ok I: how many ports are `ok` in host I's status.
ports_ok() {
	"$PC" status --state-dir "$STATE/h$1/run" --json 2>/dev/null | python3 -c 'import json, sys
print(sum(p["state"] == "ok" for p in json.load(sys.stdin)["ports"]))' 2>/dev/null || echo 0
}
# all_ok: every port of every host is `ok` in its daemon's status (bounded, 30 s).
all_ok() {
	local i end=$(($(date +%s) + 30)) n
	while [ "$(date +%s)" -le "$end" ]; do
		n=0
		for i in $HOSTS; do n=$((n + $(ports_ok "$i"))); done
		[ "$n" -eq 9 ] && return 0
		sleep 0.5
	done
	echo "# $n of 9 ports ok after 30 s"
	return 1
}

monitor_up() {
	local targets="" i
	for i in $HOSTS; do targets="$targets'$(host_ip "$i"):9464', "; done
	cat >"$STATE/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	  scrape_timeout: 1s
	  evaluation_interval: 1s
	rule_files: ['$RULES']
	alerting:
	  alertmanagers: [{ static_configs: [{ targets: ['127.0.0.1:9093'] }] }]
	scrape_configs:
	  - job_name: portcanary
	    static_configs: [{ targets: [${targets%, }] }]
	EOF
	sed "s|$AM_PLACEHOLDER|http://127.0.0.1:$HOOK_PORT/portcanary|" "$AM_SHIPPED" \
		>"$STATE/alertmanager.yml"
	check_eq "the routing is the shipped one but for the receiver URL (lines changed)" 2 \
		"$(diff "$AM_SHIPPED" "$STATE/alertmanager.yml" | grep -c '^[<>]')"
	# nsenter itself, not a shell function, in the background: $! is then the program.
	nsenter --net="/var/run/netns/$MON_NS" python3 "$ALERTING" webhook 127.0.0.1 "$HOOK_PORT" \
		"$(hook_file)" >"$STATE/webhook.log" 2>&1 &
	MON_PIDS+=($!)
	nsenter --net="/var/run/netns/$MON_NS" prometheus-alertmanager \
		--config.file="$STATE/alertmanager.yml" --storage.path="$STATE/am" \
		--web.listen-address=127.0.0.1:9093 \
		--cluster.listen-address= --log.level=warn >"$STATE/alertmanager.log" 2>&1 &
	MON_PIDS+=($!)
	nsenter --net="/var/run/netns/$MON_NS" prometheus --config.file="$STATE/prometheus.yml" \
		--storage.tsdb.path="$STATE/prom" --web.listen-address=127.0.0.1:9090 \
		--log.level=warn >"$STATE/prometheus.log" 2>&1 &
	MON_PIDS+=($!)
	mon_alerting ready "$PROM/-/ready" 30 || { tail -5 "$STATE/prometheus.log"; return 1; }
	mon_alerting ready "$AM/-/ready" 30 || { tail -5 "$STATE/alertmanager.log"; return 1; }
	grep -q listening "$STATE/webhook.log"
}

# drop_on NAME PORTS HOST...: one nftables transaction per host, a table NAME dropping PORTS.
drop_on() {
	local name=$1 ports=$2 i
	shift 2
	for i in "$@"; do
		ip netns exec "$(host_ns "$i")" nft -f - <<-EOF || return 1
		table inet $name {
		  chain input {
		    type filter hook input priority 0;
		    tcp dport { $ports } drop
		  }
		}
		EOF
	done
}
undrop_on() { # undrop_on NAME HOST...
	local name=$1 i
	shift
	for i in "$@"; do ip netns exec "$(host_ns "$i")" nft delete table inet "$name" || return 1; done
}
since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
epoch_of() { # epoch_of RFC3339: Prometheus' and Alertmanager's times (nanosecond digits cut)
	python3 - "$1" <<-'EOF'
	import re, sys, datetime
	s = re.sub(r"(\.\d{6})\d*", r"\1", sys.argv[1]).replace("Z", "+00:00")
	print(f"{datetime.datetime.fromisoformat(s).timestamp():.3f}")
	EOF
}

for tool in prometheus prometheus-alertmanager; do
	command -v "$tool" >/dev/null ||
		{ fail "$tool is missing: scripts/install-deps.sh installs it"; finish; exit 1; }
done
lan_up || { fail "the LAN of 5 namespaces"; finish; exit 1; }
for i in $HOSTS; do host_up "$i" || { fail "host $i: listeners and daemon"; finish; exit 1; }; done
ok "three hosts, each with its daemon listening on $NET.1x:9464"
for i in $HOSTS; do steady 10 "$(host_ip "$i")" 8001 8002 8003; done
monitor_up || { fail "Prometheus, Alertmanager and the webhook receiver in $MON_NS"; finish; exit 1; }
ok "Prometheus, Alertmanager (clustering off) and the webhook receiver run in the monitor namespace"
check "every port of every host learns a baseline and is ok" all_ok
check "Prometheus sees 3 hosts judging each of the 3 ports (hosts_reporting:count)" \
	mon_alerting wait-count "$PROM" 'job_port:portcanary_hosts_reporting:count == 3' 3 20

# --- phase 1: a drop of 8001 and 8002 on every host --------------------------------------
T0=$(date +%s.%N)
check "a drop of tcp 8001, 8002 committed on all three hosts" drop_on pcfleet "8001, 8002" $HOSTS
for p in 8001 8002; do
	for i in $HOSTS; do
		if out=$(python3 "$EVENTS_PY" wait "$STATE/h$i/events.jsonl" "$T0" 15 port_down "$p"); then
			echo "# host $i: tcp/$p port_down after ${out%% *} s"
		else
			fail "host $i: no port_down for tcp/$p within 15 s"
		fi
	done
done
for p in 8001 8002; do
	if hit=$(alerting wait "$(hook_file)" "$MAX_PAGE_S" firing "$FLEET" port="$p"); then
		alert=${hit#* }
		page_s=$(since "$T0" "${hit%% *}")
		echo "# tcp/$p: the rule to the fleet page: $page_s s"
		check "tcp/$p: paged fleet-wide within $MAX_PAGE_S s ($page_s s)" \
			awk "BEGIN { exit !($page_s <= $MAX_PAGE_S) }"
		check_eq "tcp/$p: its labels" "netfilter_drop tcp in portcanary critical" \
			"$(fields "$alert" labels cause proto direction job severity)"
		check_eq "tcp/$p: hosts down, reporting, share" "3 3 1" \
			"$(fields "$alert" annotations hosts_down hosts_reporting hosts_down_ratio)"
		check_eq "tcp/$p: summary" "tcp/$p (in) is down on 3 of 3 hosts, cause netfilter_drop" \
			"$(json_field "$alert" annotations.summary)"
		check_eq "tcp/$p: the hosts' firewall changes (timestamps every daemon exports)" \
			"3 of the 3 hosts down changed their ruleset in the 5 minutes before the port went down" \
			"$(json_field "$alert" annotations.firewall_change | cut -d';' -f1)"
		# What the hosts know reaches the page through their info series: the live rule
		# each daemon named from its clients' replayed packets, and the last change.
		check_eq "tcp/$p: the live rule the hosts down name" \
			"inet pcfleet input: tcp dport { 8001, 8002 } drop (on 3 of the 3 hosts down)" \
			"$(json_field "$alert" annotations.rule)"
		check "tcp/$p: the last change, as the hosts heard it ($(json_field "$alert" annotations.firewall_change | cut -d';' -f2-))" \
			grep -qE '; the last change on [123] of them: .*pcfleet.* \(by .*, not vetted\)$' \
			<<<"$(json_field "$alert" annotations.firewall_change)"
		if a=$(mon_alerting prom-alert "$PROM" "$FLEET" port="$p"); then
			echo "# tcp/$p: pending from $(since "$T0" "$(epoch_of "$(json_field "$a" activeAt)")") s," \
				"firing from $(since "$T0" "$(epoch_of "$(json_field "$alert" startsAt)")") s," \
				"received $page_s s after the rule"
		fi
	else
		fail "tcp/$p: no $FLEET page within $MAX_PAGE_S s"
	fi
done
check_eq "fleet pages: exactly one per blocked port, none for 8003" "1 1 0" \
	"$(for p in 8001 8002 8003; do webhook_count firing "$FLEET" port="$p"; done | xargs)"
# The hosts' alerts cross their 30 s `for` after the fleet alert's 15 s: they reach
# Alertmanager, which holds them inhibited by the fleet alert of their port and cause.
host_alerts_held() { # the host alerts of 8001/8002 that Alertmanager holds, one a line
	for p in 8001 8002; do mon_alerting am-alerts "$AM" PortcanaryPortDown port="$p"; done
}
held() {
	local end=$(($(date +%s) + 30)) n
	while [ "$(date +%s)" -le "$end" ]; do
		n=$(host_alerts_held | grep -c '^suppressed 1 .*"cause": "netfilter_drop"')
		[ "$n" -eq 6 ] && return 0
		sleep 0.5
	done
	echo "# Alertmanager holds $n of 6 host alerts inhibited:"
	host_alerts_held | sed 's/^/#   /'
	return 1
}
check "Alertmanager holds all 6 host alerts of 8001/8002 (3 hosts x 2), each inhibited" held
check_eq "the receiver got no host alert of 8001 or 8002" "0 0" \
	"$(for p in 8001 8002; do webhook_count firing PortcanaryPortDown port="$p"; done | xargs)"
echo "# the fleet page of tcp/8001, as the receiver got it (excerpt):"
webhook_payload "$FLEET" port=8001 | python3 -c 'import json, sys
d = json.load(sys.stdin)
a = [x for x in d["alerts"] if x["labels"]["port"] == "8001"][0]
print(json.dumps({"receiver": d["receiver"], "status": d["status"], "groupKey": d["groupKey"],
                  "alerts": [{k: a[k] for k in ("status", "labels", "annotations", "startsAt")}]},
                 indent=2))' |
	sed 's/^/#   /'

# --- phase 2: the same kind of rule on one host only -------------------------------------
check "the drop of 8001, 8002 removed from all three" undrop_on pcfleet $HOSTS
# Once no host is down any more, the two fleet alerts keep firing for their minute
# (keep_firing_for), so that the hosts' alerts stay inhibited while they resolve.
check "8001/8002 recover: no host down in Prometheus within 15 s" \
	mon_alerting wait-count "$PROM" 'job_port:portcanary_hosts_down:count{port=~"8001|8002"} == 0' 2 15
check_eq "... and both fleet alerts still fire (keep_firing_for: 1m)" 2 \
	"$(mon_alerting query "$PROM" "count(ALERTS{alertname=\"$FLEET\",alertstate=\"firing\"})" |
		awk '{print $NF}')"
T1=$(date +%s.%N)
check "a drop of tcp 8003 committed on host 1 only" drop_on pcone "8003" 1
if hit=$(alerting wait "$(hook_file)" 75 firing PortcanaryPortDown port=8003 \
	instance="$(host_ip 1):9464"); then
	alert=${hit#* }
	page_s=$(since "$T1" "${hit%% *}")
	echo "# tcp/8003 on host 1: the rule to the host page: $page_s s"
	ok "host 1's own alert for tcp/8003 came ($page_s s)"
	check_eq "its cause" netfilter_drop "$(json_field "$alert" labels.cause)"
	check "it says when the ruleset changed ($(json_field "$alert" annotations.firewall_change))" \
		grep -qE '^nftables ruleset changed [0-9.]+m?s before the port failed' \
		<<<"$(json_field "$alert" annotations.firewall_change)"
else
	fail "no host alert for tcp/8003 within 75 s"
fi
check_eq "no fleet page for 8003" 0 "$(webhook_count any "$FLEET" port=8003)"
check_eq "Prometheus never had a fleet alert for 8003, not even pending" "" \
	"$(mon_alerting query "$PROM" "max_over_time(ALERTS{alertname=\"$FLEET\",port=\"8003\"}[5m])")"
check_eq "it saw 1 of 3 hosts down for 8003 (the share recorded)" "0.333" \
	"$(mon_alerting query "$PROM" 'job_port:portcanary_hosts_down:ratio{port="8003"}' |
		awk '{printf "%.3f", $NF}')"
undrop_on pcone 1

# --- the end of the fleet incident: one resolution per fleet page, nothing about the hosts ---
# After keep_firing_for's minute, at the group's next group_interval tick.
for p in 8001 8002; do
	if hit=$(alerting wait "$(hook_file)" 80 resolved "$FLEET" port="$p"); then
		ok "tcp/$p: the fleet page is resolved ($(since "$T0" "${hit%% *}") s after the rule)"
	else
		fail "tcp/$p: no resolution of the fleet page"
	fi
done
check_eq "the receiver never got a host alert of 8001 or 8002, firing or resolved" "0 0" \
	"$(for p in 8001 8002; do webhook_count any PortcanaryPortDown port="$p"; done | xargs)"

# --- teardown, then the host's own ruleset ---------------------------------------------------
fleet_stop
check_eq "no process is left in the test's namespaces" "" "$(leftovers)"
fleet_cleanup
check_eq "every namespace of the test is gone" "" \
	"$(ip netns list | grep -E "^${TAG}(c|lan|mon|h[123])( |$)")"
check_eq "the host's ruleset is byte-identical" "$HOST_RULESET" "$(nft list ruleset 2>&1 | sha256sum)"
echo "# $(basename "$0") ran for $(since "$T_START" "$(date +%s.%N)") s"
finish
