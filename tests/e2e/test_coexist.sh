#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_coexist.sh: with xdp-filter on the interface, portcanary never replaces it: XDP asked for is
# refused, the default and --ingress-hook tc count at TC ingress beside it (and miss what it drops).
. "$(dirname "$0")/lib.sh"
require_root
sandbox_up || { fail "sandbox"; finish; exit 1; }
serve 8080 8090 || { fail "listener"; finish; exit 1; }
# xdp-filter (xdp-tools) with one rule: drop TCP to 8090.
host_bpffs || { fail "a bpffs on /sys/fs/bpf for xdp-filter's pins"; finish; exit 1; }
net_s xdp-filter load vs -f tcp,ipv4,ipv6 >/dev/null 2>&1 || { fail "xdp-filter load"; finish; exit 1; }
net_s xdp-filter port 8090 >/dev/null 2>&1 || { fail "xdp-filter rule"; finish; exit 1; }
cleanup_filter() { net_s xdp-filter unload vs >/dev/null 2>&1; cleanup; }
trap cleanup_filter EXIT
filter_id=$(in_s ip -d link show vs | grep -o 'prog/xdp id [0-9]*')
check "xdp-filter is attached" test -n "$filter_id"
check_eq "xdp-filter drops 8090" "ok=0 fail=1" "$(connect 1 8090)"

if net_s xdp-loader status vs 2>/dev/null | grep -q xdp_dispatcher; then
	# A kernel with BPF trampolines: libxdp's dispatcher runs both programs.
	daemon_start -i vs -p tcp/8080 --ingress-hook xdp || { fail "attach beside xdp-filter"; finish; exit 1; }
	check_eq "portcanary counts beside xdp-filter" "ok=4 fail=0" "$(connect 4 8080)"
	check_eq "SYNs counted in the dispatcher" 4 "$(port_field 8080 in syn_total)"
	daemon_stop TERM
else
	# No trampolines (this kernel): xdp-filter was loaded without a dispatcher.
	for opt in "--ingress-hook xdp" "--xdp-mode native" "--xdp-mode generic"; do
		# shellcheck disable=SC2086
		net_s "$PC" run -i vs -p tcp/8080 $opt --state-dir "$STATE/run" >"$STATE/out" 2>"$STATE/err"
		check_eq "$opt: XDP attach refuses" 2 "$?"
		check_eq "$opt: one line on stderr" 1 "$(wc -l <"$STATE/err")"
		check "$opt: it names the program in the way" grep -q "xdpfilt_alw_all" "$STATE/err"
		check "$opt: it points to --ingress-hook tc" grep -q -- "--ingress-hook tc" "$STATE/err"
		check_eq "$opt: xdp-filter was not replaced" "$filter_id" \
			"$(in_s ip -d link show vs | grep -o 'prog/xdp id [0-9]*')"
		check "$opt: no TC program of ours was left" \
			bash -c "! ip netns exec $NS_S tc filter show dev vs | grep -q pc_tc"
	done

	# The default: TC ingress on the veth, beside xdp-filter, saying what that hides.
	daemon_start -i vs -p tcp/8080 -p tcp/8090 || { fail "default beside xdp-filter"; finish; exit 1; }
	check_eq "default: TC ingress on vs, xdp-filter named as ahead of it" \
		"tc veth True" "$(status_json | python3 -c 'import json,sys; f=json.load(sys.stdin)["interfaces"][0]
print(f["ingress"], f["reason"], "xdpfilt_alw_all" in (f["xdp_ahead"] or ""))')"
	check "default: the log warns that what xdp-filter drops is not counted" \
		grep -q "vs: XDP program 'xdpfilt_alw_all' (id [0-9]*) runs ahead of our TC ingress hook: what it drops or redirects is never counted" \
		"$STATE/daemon.log"
	check "default: the table says so too" bash -c \
		"'$PC' status --state-dir '$STATE/run' | grep -q \"XDP program 'xdpfilt_alw_all' (id [0-9]*) runs ahead\""
	check_eq "default: connections to 8080 beside xdp-filter" "ok=4 fail=0" "$(connect 4 8080)"
	check_eq "default: counted at TC ingress" 4 "$(port_field 8080 in syn_total)"
	check_eq "default: xdp-filter drops 8090" "ok=0 fail=1" "$(connect 1 8090)"
	check_eq "default: a SYN dropped at XDP is never seen at TC" 0 "$(port_field 8090 in syn_total)"
	check_eq "xdp-filter is still the XDP program" "$filter_id" \
		"$(in_s ip -d link show vs | grep -o 'prog/xdp id [0-9]*')"
	daemon_stop TERM
	umount "$STATE/run/bpf"; rm -rf "$STATE/run"

	daemon_start -i vs -p tcp/8080 -p tcp/8090 --ingress-hook tc || { fail "tc ingress"; finish; exit 1; }
	check_eq "connections to 8080 beside xdp-filter" "ok=4 fail=0" "$(connect 4 8080)"
	check_eq "TC ingress counts the SYNs" 4 "$(port_field 8080 in syn_total)"
	check_eq "TC egress counts the SYN-ACKs" 4 "$(port_field 8080 in synack_total)"
	check_eq "xdp-filter still drops 8090" "ok=0 fail=1" "$(connect 1 8090)"
	daemon_stop TERM
fi
check_eq "xdp-filter still attached after portcanary stopped" "$filter_id" \
	"$(in_s ip -d link show vs | grep -o 'prog/xdp id [0-9]*')"
check_eq "xdp-filter still passes 8080" "ok=2 fail=0" "$(connect 2 8080)"
check_eq "xdp-filter still drops 8090" "ok=0 fail=1" "$(connect 1 8090)"
check "nothing of ours left at TC" bash -c "! ip netns exec $NS_S tc filter show dev vs ingress | grep -q pc_tc"

# Other TC filters still run behind ours: our programs give no verdict (TC_ACT_UNSPEC), so a
# filter at a later priority decides as if we were not there. A drop rule behind ours at
# ingress, then at egress, must drop; with ours answering TC_ACT_OK it would never run.
daemon_start -i vs -p tcp/8080 --ingress-hook tc || { fail "tc ingress beside other filters"; finish; exit 1; }
check_eq "before: connections to 8080" "ok=2 fail=0" "$(connect 2 8080)"
for where in ingress egress; do
	in_s tc filter add dev vs "$where" prio 20 handle 2 bpf da obj "$ROOT/build/tests/e2e/tc_drop.bpf.o" \
		sec tc || fail "a test filter behind ours at $where"
	check_eq "a drop filter behind ours at $where still drops" "ok=0 fail=2" "$(connect 2 8080)"
	in_s tc filter del dev vs "$where" prio 20 handle 2 bpf
	check_eq "and with it gone, connections pass again ($where)" "ok=2 fail=0" "$(connect 2 8080)"
done
daemon_stop TERM
finish
