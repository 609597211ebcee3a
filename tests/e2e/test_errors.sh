#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_errors.sh: bad input gets one clear line on stderr, exit code 2, and nothing attached.
. "$(dirname "$0")/lib.sh"
require_root
sandbox_up || { fail "sandbox"; finish; exit 1; }

# expect_usage "description" "pattern" ARGS...: runs `portcanary ARGS` in the server namespace.
expect_usage() {
	local what=$1 pattern=$2
	shift 2
	net_s "$@" >"$STATE/out" 2>"$STATE/err"
	local rc=$? lines
	lines=$(wc -l <"$STATE/err")
	if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -q -- "$pattern" "$STATE/err"; then
		ok "$what: $(cat "$STATE/err")"
	else
		fail "$what: rc=$rc, $lines stderr lines: $(head -3 "$STATE/err")"
	fi
	check_eq "$what: nothing attached" "" "$(ours_attached)"
}

R=(--state-dir "$STATE/run")
expect_usage "unknown interface" "unknown interface 'nosuch0'" "$PC" run -i nosuch0 -p 80 "${R[@]}"
expect_usage "port 0" "port 0 is out of range" "$PC" run -i vs -p 0 "${R[@]}"
expect_usage "port 70000" "port 70000 is out of range" "$PC" run -i vs -p 70000 "${R[@]}"
expect_usage "malformed spec" "bad port spec 'tcp/http'" "$PC" run -i vs -p tcp/http "${R[@]}"
expect_usage "unknown protocol" "unknown protocol" "$PC" run -i vs -p sctp/80 "${R[@]}"
expect_usage "unknown direction" "unknown direction" "$PC" run -i vs -p 80:sideways "${R[@]}"
expect_usage "reversed range" "is reversed" "$PC" run -i vs -p 9000-8000 "${R[@]}"
expect_usage "trailing garbage" "not a number" "$PC" run -i vs -p 80x "${R[@]}"
expect_usage "bad interval" "bad --interval" "$PC" run -i vs -p 80 --interval 0 "${R[@]}"
expect_usage "bad xdp mode" "bad --xdp-mode" "$PC" run -i vs -p 80 --xdp-mode turbo "${R[@]}"
expect_usage "bad ingress hook" "bad --ingress-hook 'nf': use auto, xdp or tc" "$PC" run -i vs -p 80 \
	--ingress-hook nf "${R[@]}"
expect_usage "unknown option" "unknown option" "$PC" run -i vs --frobnicate "${R[@]}"
expect_usage "unknown command" "unknown command" "$PC" frobnicate
expect_usage "not root" "permission denied" setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all "$PC" run -i vs -p 80 "${R[@]}"
expect_usage "kernel without BTF" "kernel BTF not found" env PORTCANARY_KERNEL_BTF=/nonexistent/vmlinux \
	"$PC" run -i vs -p 80 "${R[@]}"

# All or none: the second interface cannot take our XDP program (a foreign one
# holds it), so the first must be left as it was. (test_hooks.sh: the same under the default.)
ip -n "$NS_S" link add vx type veth peer name vy && ip -n "$NS_S" link set vx up &&
	ip -n "$NS_S" link set vy up
in_s ip link set dev vx xdpgeneric obj /usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o sec xdp
check "a foreign XDP program holds vx" bash -c "ip -n $NS_S -d link show vx | grep -q 'prog/xdp'"
net_s "$PC" run -i vs -i vx -p 80 --ingress-hook xdp "${R[@]}" >"$STATE/out" 2>"$STATE/err"
check_eq "attach to vs + vx fails" 2 "$?"
check "the error names vx" grep -q "vx: XDP program 'xdpfilt_alw_all'" "$STATE/err"
check_eq "vs was rolled back: nothing of ours attached" "" "$(ours_attached)"
check "no clsact left on vs" bash -c "! ip netns exec $NS_S tc qdisc show dev vs | grep -q clsact"

# A second daemon on the same state dir is refused while the first runs.
daemon_start -i vs -p 80 || fail "daemon start"
expect_usage_running() {
	net_s "$PC" run -i vs -p 80 "${R[@]}" >"$STATE/out" 2>"$STATE/err"
	check_eq "a second daemon on the same state dir exits 2" 2 "$?"
	check "it says another daemon runs" grep -q "another portcanary daemon is running" "$STATE/err"
}
expect_usage_running
finish
