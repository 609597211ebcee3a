#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_upgrade.sh: pins of another build's layout are replaced with a log line, never misread; its programs go.
. "$(dirname "$0")/lib.sh"
require_root
sandbox_up || { fail "sandbox"; finish; exit 1; }
serve 8080 || { fail "listener"; finish; exit 1; }
BPFFS="$STATE/run/bpf"
LAYOUT=$(awk '$2 == "PC_LAYOUT_VERSION" { print $3 }' "$ROOT/include/portcanary.h")

# (a) A pinned counters map as an older build made it: the same name, a per-CPU array of
# 96-byte values (the layout before the CPU-indexed per-hook classes), no BTF. The daemon
# must not reuse it, and says which part of its shape differs (the first: the map type).
mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS" || { fail "bpffs"; finish; exit 1; }
bpftool map create "$BPFFS/pc_counters" type percpu_array key 4 value 96 entries 2048 \
	name pc_counters || { fail "an old-layout pin"; finish; exit 1; }
old_id=$(bpftool -j map show pinned "$BPFFS/pc_counters" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
# The drop counts before layout 3: a per-CPU hash of (slot, reason) keys, under the same name.
bpftool map create "$BPFFS/pc_drops" type percpu_hash key 8 value 8 entries 16384 \
	name pc_drops || { fail "an old-layout drops pin"; finish; exit 1; }
daemon_start -i vs -p tcp/8080 || { fail "daemon start over old pins"; finish; exit 1; }
check "the log says the old pin was replaced, and why" \
	grep -q "pinned map $BPFFS/pc_counters is from another portcanary build (map type differs): replaced" \
	"$STATE/daemon.log"
new_id=$(bpftool -j map show pinned "$BPFFS/pc_counters" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
check "a new counters map is pinned ($old_id → $new_id)" test "$new_id" != "$old_id"
check "the old drop counts' pin was replaced too" \
	grep -q "pinned map $BPFFS/pc_drops is from another portcanary build (map type differs): replaced" \
	"$STATE/daemon.log"
check_eq "the new drop table is pinned as an array" array \
	"$(bpftool -j map show pinned "$BPFFS/pc_drops" | python3 -c 'import json,sys; print(json.load(sys.stdin)["type"])')"
check_eq "SYNs through the new maps" "ok=9 fail=0" "$(connect 9 8080)"
check_eq "counted exactly" 9 "$(port_field 8080 in syn_total)"
check_eq "answered exactly" 9 "$(port_field 8080 in synack_total)"
check_eq "the layout version is written beside the pins" "portcanary map layout $LAYOUT" \
	"$(cat "$STATE/run/layout")"

# (b) The same build again, after a SIGKILL: every pin fits, so all is adopted, nothing lost.
daemon_stop KILL
check_eq "while no daemon runs" "ok=4 fail=0" "$(connect 4 8080)"
: >"$STATE/daemon.log"
daemon_start -i vs -p tcp/8080 || { fail "daemon restart"; finish; exit 1; }
check "no pin is replaced when the layouts match" \
	bash -c "! grep -q 'is from another portcanary build' '$STATE/daemon.log'"
check "the programs are adopted" grep -q "adopted our TC egress program" "$STATE/daemon.log"
check_eq "counts continue over the restart: 9 + 4" 13 "$(port_field 8080 in syn_total)"

# (c) Programs of an older build still attached after its crash (TC ingress and egress: the
# default on a veth), and pins of another layout version: the pins are replaced, those
# programs detached, ours attached once, counting exactly.
daemon_stop KILL
echo "portcanary map layout $((LAYOUT - 1))" >"$STATE/run/layout"
: >"$STATE/daemon.log"
daemon_start -i vs -p tcp/8080 || { fail "daemon start over a crashed older build"; finish; exit 1; }
check "every pin of layout $((LAYOUT - 1)) (the previous one) is replaced" \
	grep -q "pinned map $BPFFS/pc_counters is from another portcanary build (layout version differs)" \
	"$STATE/daemon.log"
check "the port table of layout $((LAYOUT - 1)) (protocol-major) is replaced too" \
	grep -q "pinned map $BPFFS/pc_ports is from another portcanary build (layout version differs)" \
	"$STATE/daemon.log"
check "the older build's TC ingress program is detached" \
	grep -q "vs: detaching the TC ingress program of an earlier build" "$STATE/daemon.log"
check "the older build's TC egress program is detached" \
	grep -q "vs: detaching the TC egress program of an earlier build" "$STATE/daemon.log"
check "the older build's drop tracer is removed" \
	grep -q "removed the drop tracer of the earlier build" "$STATE/daemon.log"
check_eq "exactly one TC ingress filter of ours" 1 \
	"$(in_s tc filter show dev vs ingress | grep -c 'pc_tc_ingress')"
check_eq "exactly one TC egress filter of ours" 1 \
	"$(in_s tc filter show dev vs egress | grep -c 'pc_tc_egress')"
check_eq "SYNs after the upgrade" "ok=6 fail=0" "$(connect 6 8080)"
check_eq "counted from zero, exactly" 6 "$(port_field 8080 in syn_total)"
check_eq "answered exactly" 6 "$(port_field 8080 in synack_total)"

# (d) The same with an older build's XDP program (native XDP asked for explicitly).
daemon_stop TERM
daemon_start -i vs -p tcp/8080 --xdp-mode native || { fail "daemon start, native XDP"; finish; exit 1; }
check_eq "SYNs at native XDP" "ok=3 fail=0" "$(connect 3 8080)"
daemon_stop KILL
old_xdp=$(in_s ip -d link show vs | grep -o 'prog/xdp id [0-9]*')
check "an XDP program stays attached after the SIGKILL ($old_xdp)" test -n "$old_xdp"
echo "portcanary map layout $((LAYOUT - 1))" >"$STATE/run/layout"
: >"$STATE/daemon.log"
daemon_start -i vs -p tcp/8080 --xdp-mode native ||
	{ fail "daemon start over a crashed older build's XDP"; finish; exit 1; }
check "the older build's XDP program is detached" \
	grep -q "vs: detaching the XDP program of an earlier build" "$STATE/daemon.log"
now_xdp=$(in_s ip -d link show vs | grep -o 'prog/xdp id [0-9]*')
check "another XDP program runs ($old_xdp → $now_xdp)" \
	test -n "$now_xdp" -a "$now_xdp" != "$old_xdp"
check_eq "SYNs after the upgrade, native XDP" "ok=5 fail=0" "$(connect 5 8080)"
check_eq "counted from zero, exactly" 5 "$(port_field 8080 in syn_total)"
daemon_stop TERM
check_eq "SIGTERM exits 0" 0 "$DAEMON_RC"
check_eq "nothing of ours attached after SIGTERM" "" "$(ours_attached)"
finish
