#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lib.sh: shared helpers of the namespace tests: sandbox, daemon, assertions, cleanup on every exit.
#
# A sandbox is two network namespaces joined by a veth pair:
#   $NS_C (client, veth "vc", 198.51.100.1, 2001:db8:100::1)
#   $NS_S (server, veth "vs", 198.51.100.2, 2001:db8:100::2)
# with static neighbour entries. The daemon runs in $NS_S via nsenter --net (so
# its bpffs pins live in the host's mount namespace and survive a restart).

set -u
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
PC="$ROOT/build/portcanary"
TRAFFIC="$E2E_DIR/traffic.py"
C_IP=198.51.100.1
S_IP=198.51.100.2
C_IP6=2001:db8:100::1
S_IP6=2001:db8:100::2
TAG="pc$$"
NS_C="${TAG}c"
NS_S="${TAG}s"
STATE=""
DAEMON_PID=""
BG_PIDS=()
PASSED=0
FAILED=0

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }
check() { # check "description" command...
	local what=$1; shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}
check_eq() { # check_eq "description" expected actual
	if [ "$2" == "$3" ]; then ok "$1 ($3)"; else fail "$1: expected '$2', got '$3'"; fi
}

in_c() { ip netns exec "$NS_C" "$@"; }
in_s() { ip netns exec "$NS_S" "$@"; }
# nsenter --net only: same mount namespace as the host, so pins outlive the daemon.
net_s() { nsenter --net="/var/run/netns/$NS_S" "$@"; }
net_c() { nsenter --net="/var/run/netns/$NS_C" "$@"; }

sandbox_up() {
	ip netns add "$NS_C" && ip netns add "$NS_S" || return 1
	ip link add vc netns "$NS_C" type veth peer name vs netns "$NS_S" || return 1
	local mac_c mac_s
	mac_c=$(in_c cat /sys/class/net/vc/address)
	mac_s=$(in_s cat /sys/class/net/vs/address)
	in_c ip addr add $C_IP/24 dev vc
	in_s ip addr add $S_IP/24 dev vs
	in_c ip addr add $C_IP6/64 dev vc nodad
	in_s ip addr add $S_IP6/64 dev vs nodad
	for ns in "$NS_C" "$NS_S"; do ip -n "$ns" link set lo up; done
	ip -n "$NS_C" link set vc up
	ip -n "$NS_S" link set vs up
	ip -n "$NS_C" neigh replace $S_IP lladdr "$mac_s" dev vc nud permanent
	ip -n "$NS_S" neigh replace $C_IP lladdr "$mac_c" dev vs nud permanent
	ip -n "$NS_C" neigh replace $S_IP6 lladdr "$mac_s" dev vc nud permanent
	ip -n "$NS_S" neigh replace $C_IP6 lladdr "$mac_c" dev vs nud permanent
	STATE=$(mktemp -d /tmp/portcanary-e2e.XXXXXX)
}

# Start a TCP listener on the server side; waits until it listens.
serve() { # serve PORT...
	local log="$STATE/serve.$RANDOM.log"
	nsenter --net="/var/run/netns/$NS_S" python3 "$TRAFFIC" serve "$@" >"$log" 2>&1 &
	BG_PIDS+=($!)
	local i
	for i in $(seq 50); do grep -q listening "$log" 2>/dev/null && return 0; sleep 0.1; done
	echo "listener on $* did not start: $(cat "$log")" >&2
	return 1
}

# connect COUNT PORT [HOST]: sequential connections from the client side; prints ok=N fail=M
connect() { net_c python3 "$TRAFFIC" connect "${3:-$S_IP}" "$2" "$1"; }

# Start the daemon in the server namespace (or $DAEMON_NS); waits until `status` answers.
daemon_start() { # daemon_start ARGS...
	# nsenter execs the daemon, so $! is the daemon itself (signals reach it).
	nsenter --net="/var/run/netns/${DAEMON_NS:-$NS_S}" "$PC" run --state-dir "$STATE/run" "$@" \
		>>"$STATE/daemon.log" 2>&1 &
	DAEMON_PID=$!
	daemon_wait_up
}

# Wait (bounded, 10 s) until the daemon $DAEMON_PID answers `status`; on failure show its log.
daemon_wait_up() {
	local i
	for i in $(seq 100); do
		"$PC" status --state-dir "$STATE/run" --json >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "daemon did not come up:" >&2
	tail -20 "$STATE/daemon.log" >&2
	return 1
}

daemon_stop() { # daemon_stop [SIGNAL]
	[ -n "$DAEMON_PID" ] || return 0
	kill -"${1:-TERM}" "$DAEMON_PID" 2>/dev/null
	local i
	for i in $(seq 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_RC=$?
	DAEMON_PID=""
}

status_json() { "$PC" status --state-dir "$STATE/run" --json; }

# port_field PORT DIRECTION FIELD [PROTO]: one field of one port from status --json
port_field() {
	status_json | python3 -c '
import json, sys
doc = json.load(sys.stdin)
port, d, field, proto = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
for p in doc["ports"]:
    if p["port"] == port and p["direction"] == d and p["proto"] == proto:
        v = p[field]
        print("null" if v is None else v)
        break
else:
    print("absent")
' "$1" "$2" "$3" "${4:-tcp}"
}

# Wait (bounded) until port_field equals a value; prints the last value seen.
wait_field() { # wait_field PORT DIR FIELD VALUE TIMEOUT_S
	local end=$(($(date +%s) + $5)) v=""
	while [ "$(date +%s)" -le "$end" ]; do
		v=$(port_field "$1" "$2" "$3")
		[ "$v" == "$4" ] && { echo "$v"; return 0; }
		sleep 0.2
	done
	echo "$v"
	return 1
}

# Is anything of ours attached to the server's veth? Prints what is found.
ours_attached() {
	in_s ip -d link show vs | grep -o 'prog/xdp id [0-9]*'
	in_s tc filter show dev vs egress 2>/dev/null | grep -o 'pc_tc_[a-z]*'
	in_s tc filter show dev vs ingress 2>/dev/null | grep -o 'pc_tc_[a-z]*'
}

# host_bpffs: a bpffs on /sys/fs/bpf, where libxdp's tools (xdp-filter, xdp-loader) pin. systemd
# mounts one at boot; a bare machine (CI) may have none. libxdp mounts one there too when a
# daemon in the host's mount namespace attaches XDP (a private bind of the directory, then the
# bpffs). Whatever was mounted there during a test on a machine that had nothing there is
# unmounted at cleanup, so that no test leans on another's.
mountpoint -q /sys/fs/bpf && HOST_BPFFS_BEFORE=1 || HOST_BPFFS_BEFORE=
host_bpffs() {
	[ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ] || return 0
	mount -t bpf bpf /sys/fs/bpf
}
host_bpffs_restore() {
	local i
	[ -z "$HOST_BPFFS_BEFORE" ] || return 0
	for i in 1 2 3 4; do mountpoint -q /sys/fs/bpf && umount /sys/fs/bpf; done
}

# ns_kill_all NS...: end every process still in these namespaces (the test's own): the child
# of a background function (net_s CMD &) outlives the subshell that BG_PIDS holds.
ns_kill_all() {
	local ns p
	for ns in "$@"; do
		p=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -z "$p" ] || kill $p 2>/dev/null
	done
}

cleanup() {
	local p
	if [ "$FAILED" -ne 0 ] && [ -f "$STATE/daemon.log" ]; then
		echo "# daemon log (last 30 lines):"
		tail -30 "$STATE/daemon.log" | sed 's/^/#   /'
	fi
	daemon_stop TERM
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ns_kill_all "$NS_C" "$NS_S"
	ip netns del "$NS_C" 2>/dev/null
	ip netns del "$NS_S" 2>/dev/null
	if [ -n "$STATE" ]; then
		umount "$STATE/run/bpf" 2>/dev/null
		rm -rf "$STATE"
	fi
	host_bpffs_restore
}

finish() {
	echo "# $(basename "$0"): $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "not ok - $(basename "$0") must run as root (namespaces, BPF)"
		exit 1
	fi
}

trap cleanup EXIT
trap 'exit 130' INT TERM

# --- port health scenarios -------------------------------------------------------------
EVENTS_PY="$E2E_DIR/events.py"

# steady RATE HOST PORT...: connection attempts from the client side, RATE per second
# per port, for at most 300 s (killed by cleanup). Runs in the background.
steady() {
	local rate=$1 host=$2
	shift 2
	nsenter --net="/var/run/netns/$NS_C" python3 "$TRAFFIC" steady "$host" "$rate" 300 "$@" \
		>/dev/null 2>&1 &
	BG_PIDS+=($!)
	STEADY_PID=$!
}

# wait_state PORT DIR STATE TIMEOUT [PROTO]: bounded wait for a port's state in status.
wait_state() {
	local end=$(($(date +%s) + $4)) v=""
	while [ "$(date +%s)" -le "$end" ]; do
		v=$(port_field "$1" "$2" state "${5:-tcp}")
		[ "$v" == "$3" ] && return 0
		sleep 0.25
	done
	echo "# port $1/$2 is '$v', not '$3', after $4 s" >&2
	return 1
}

# wait_event EVENT PORT [DIR] [TIMEOUT]: the first EVENT for PORT after $T0 (set by mark).
# Sets LATENCY (seconds after mark) and EVENT_JSON. Returns 1 on timeout.
mark() { T0=$(date +%s.%N); }
wait_event() {
	local out
	out=$(python3 "$EVENTS_PY" wait "$STATE/events.jsonl" "$T0" "${4:-15}" "$1" "$2" "${3:-in}") ||
		{ LATENCY=""; EVENT_JSON=""; return 1; }
	LATENCY=${out%% *}
	EVENT_JSON=${out#* }
}
ev_field() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]); 
for k in sys.argv[2].split("."): v = v[k] if v is not None else None
print(v)' "$EVENT_JSON" "$1"; }
events_for() { python3 "$EVENTS_PY" count "$STATE/events.jsonl" "$@"; }

nft_s() { ip netns exec "$NS_S" nft "$@"; }
nft_c() { ip netns exec "$NS_C" nft "$@"; }

# 802.1Q on the wire. This kernel has no 802.1Q devices (CONFIG_VLAN_8021Q unset), so
# a test-only TC program tags every IP frame the client sends (VLAN 100, written into
# the frame) and one on the server's TC ingress, which runs after XDP, pops it again:
# the server's XDP program sees real tagged frames. Replies go back untagged.
VLAN_OBJ="$ROOT/build/tests/e2e/vlan_tag.bpf.o"
vlan_up() {
	in_c tc qdisc add dev vc clsact &&
	in_c tc filter add dev vc egress prio 1 handle 1 bpf da obj "$VLAN_OBJ" sec tc \
		program vlan_push &&
	in_s tc qdisc add dev vs clsact &&
	in_s tc filter add dev vs ingress prio 1 handle 1 bpf da obj "$VLAN_OBJ" sec tc \
		program vlan_pop
}
vlan_down() {
	in_c tc qdisc del dev vc clsact 2>/dev/null
	in_s tc qdisc del dev vs clsact 2>/dev/null
}
# Tagged frames the server received so far (the pop program's .bss counter).
vlan_popped() {
	local prog map
	prog=$(in_s tc filter show dev vs ingress | grep 'name vlan_pop' | grep -o ' id [0-9]*' | grep -o '[0-9]*')
	map=$(bpftool prog show id "$prog" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["map_ids"][0])')
	bpftool map dump id "$map" -j | python3 -c '
import json, sys
def find(v):
    if isinstance(v, dict):
        if "vlan_popped" in v:
            return v["vlan_popped"]
        for x in v.values():
            r = find(x)
            if r is not None:
                return r
    if isinstance(v, list):
        for x in v:
            r = find(x)
            if r is not None:
                return r
print(find(json.load(sys.stdin)))'
}
