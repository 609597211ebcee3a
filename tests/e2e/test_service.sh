#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_service.sh: make install, the systemd unit (verify, security score), the daemon run with only the unit's capabilities, the example config.
. "$(dirname "$0")/lib.sh"
require_root

# The exposure score `systemd-analyze security` gives the unit (deploy/systemd/portcanary.service
# says why each left-out setting is left out). A change that makes it worse fails here.
# 2.9: ProtectProc=default (+0.1), so that firewall changes name the process that made them.
MAX_EXPOSURE=2.9
# What the daemon keeps after attaching (user/privs.c): effective and permitted sets.
KEEP_CAPS="cap_bpf,cap_net_admin"

INST=$(mktemp -d /tmp/portcanary-install.XXXXXX)
BPFFS_DIR="/sys/fs/bpf/portcanary-test-$$"	# stands for the unit's /sys/fs/bpf/portcanary
svc_cleanup() {
	rm -rf "$INST"
	[ -d "$BPFFS_DIR" ] && rm -rf "$BPFFS_DIR"
}
trap 'cleanup; svc_cleanup' EXIT

# --- 1. make install DESTDIR=... puts every file where it belongs ----------------------------
make -s -C "$ROOT" --no-print-directory install DESTDIR="$INST" >"$INST.log" 2>&1
check_eq "make install DESTDIR=... exits 0" 0 "$?" || sed 's/^/#   /' "$INST.log"
rm -f "$INST.log"
UNIT="$INST/lib/systemd/system/portcanary.service"
expected=(
	usr/local/sbin/portcanary
	lib/systemd/system/portcanary.service
	usr/local/share/man/man8/portcanary.8
	etc/portcanary/portcanary.conf.example
	etc/portcanary/portcanary.conf
)
for f in "$ROOT"/deploy/prometheus/* "$ROOT"/deploy/grafana/* "$ROOT"/deploy/alertmanager/*; do
	[ -f "$f" ] || continue
	d=$(basename "$(dirname "$f")")
	expected+=("usr/local/share/portcanary/$d/$(basename "$f")")
done
want=$(printf '%s\n' "${expected[@]}" | sort)
got=$(cd "$INST" && find . -type f | sed 's|^\./||' | sort)
check_eq "installed files: exactly these ${#expected[@]}" "$(echo $want)" "$(echo $got)"
check_eq "the binary is 0755" 755 "$(stat -c %a "$INST/usr/local/sbin/portcanary")"
check_eq "the installed binary runs" "portcanary $(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")" \
	"$("$INST/usr/local/sbin/portcanary" version)"
check_eq "the unit runs the installed binary with the config" \
	"ExecStart=/usr/local/sbin/portcanary run -c /etc/portcanary/portcanary.conf" \
	"$(grep '^ExecStart=' "$UNIT")"
check "with no config yet, the example became it" \
	cmp -s "$ROOT/deploy/portcanary.conf.example" "$INST/etc/portcanary/portcanary.conf"
echo "# mine" >"$INST/etc/portcanary/portcanary.conf"
make -s -C "$ROOT" --no-print-directory install DESTDIR="$INST" >/dev/null 2>&1
check_eq "a second install keeps the operator's config" "# mine" \
	"$(cat "$INST/etc/portcanary/portcanary.conf")"
make -s -C "$ROOT" --no-print-directory install DESTDIR="$INST/usr-prefix" PREFIX=/usr \
	>/dev/null 2>&1
check_eq "PREFIX=/usr: the unit follows it" \
	"ExecStart=/usr/sbin/portcanary run -c /etc/portcanary/portcanary.conf" \
	"$(grep '^ExecStart=' "$INST/usr-prefix/lib/systemd/system/portcanary.service")"
check "PREFIX=/usr: the binary and the man page follow it" \
	test -x "$INST/usr-prefix/usr/sbin/portcanary" -a \
	-f "$INST/usr-prefix/usr/share/man/man8/portcanary.8"
warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$INST/usr/local/share/man/man8/portcanary.8" \
	2>&1 >/dev/null)
check_eq "the man page renders without warnings" "" "$warn"
check "the man page documents every option of run --help" bash -c '
	page=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$1" 2>/dev/null)
	for o in $("$2" run --help | grep -o -- "--[a-z][a-z-]*" | sort -u); do
		grep -q -- "$o" <<<"$page" || { echo "# not in the man page: $o" >&2; exit 1; }
	done' _ "$INST/usr/local/share/man/man8/portcanary.8" "$PC"

# --- 2. the unit: systemd-analyze verify and security --------------------------------------
# verify checks that ExecStart= exists on this host: point it at the DESTDIR binary, and
# nothing else changes. It reports unknown keys on stderr with exit code 0: no output at all.
mkdir -p "$INST/verify"
sed "s|/usr/local/sbin/portcanary|$INST/usr/local/sbin/portcanary|" "$UNIT" \
	>"$INST/verify/portcanary.service"
out=$(systemd-analyze verify --man=no "$INST/verify/portcanary.service" 2>&1)
check_eq "systemd-analyze verify: exit 0, no complaint" "0:" "$?:$out"
sec=$(systemd-analyze security --offline=true "$UNIT" 2>&1)
score=$(sed -n 's/.*Overall exposure level for portcanary.service: \([0-9.]*\) .*/\1/p' <<<"$sec")
check "systemd-analyze security: exposure ${score:-?} <= $MAX_EXPOSURE" \
	python3 -c 'import sys; sys.exit(not (sys.argv[1] and float(sys.argv[1]) <= float(sys.argv[2])))' \
	"$score" "$MAX_EXPOSURE"
check "the unit has no SETUID/SETGID/SETPCAP, DAC override, ptrace, raw I/O or module loading" \
	bash -c '! grep -qE "^✗ (CapabilityBoundingSet=~CAP_(SET|DAC|SYS_PTRACE|SYS_RAWIO|SYS_MODULE)|NoNewPrivileges|ProtectSystem|SystemCallFilter=~@mount|RestrictNamespaces=~(pid|uts|mnt|cgroup|ipc))" <<<"$1"' \
	_ "$sec"

# --- 3. the daemon run the way the unit runs it ---------------------------------------------
# Capabilities: the unit's AmbientCapabilities= and CapabilityBoundingSet=, SecureBits=noroot,
# NoNewPrivileges=, UMask=; the bpffs handed over up front (BindPaths=), so the daemon needs
# no mount. RLIMIT_MEMLOCK 64 KiB (systemd's default is 8 MiB): no CAP_SYS_RESOURCE needed.
unit_caps() { # unit_caps KEY: "+bpf,+net_admin,..." from the installed unit
	sed -n "s/^$1=//p" "$UNIT" | tr 'A-Z ' 'a-z\n' | sed -n 's/^cap_\(.*\)/+\1/p' | paste -sd,
}
AMBIENT=$(unit_caps AmbientCapabilities)
BOUNDING=$(unit_caps CapabilityBoundingSet)
# The unit's bounding set as capsh names it, for CapBnd (shrinking it needs CAP_SETPCAP).
UNIT_BND=$(tr -d + <<<"$BOUNDING" | tr , '\n' | sed 's/^/cap_/' | sort | paste -sd,)
check "the unit names capabilities (ambient: $AMBIENT)" test -n "$AMBIENT" -a -n "$BOUNDING"

sandbox_up || { fail "sandbox"; finish; exit 1; }
serve 8080 || { fail "listener"; finish; exit 1; }
host_bpffs || { fail "a bpffs on /sys/fs/bpf"; finish; exit 1; }
mkdir -p -m 0700 "$BPFFS_DIR" "$STATE/run/bpf"
chmod 0700 "$STATE/run"
mount --bind "$BPFFS_DIR" "$STATE/run/bpf"
check_eq "the state dir's bpf/ bound from /sys/fs/bpf is a bpffs (statfs)" bpf_fs \
	"$(stat -f -c %T "$STATE/run/bpf")"

svc_daemon_start() { # svc_daemon_start ARGS...: daemon_start of lib.sh, with the unit's limits
	(umask 0077
	 exec nsenter --net="/var/run/netns/$NS_S" prlimit --memlock=65536:65536 \
		setpriv --securebits=+noroot,+noroot_locked --no-new-privs \
		--inh-caps="-all,$AMBIENT" --ambient-caps="-all,$AMBIENT" \
		--bounding-set="-all,$BOUNDING" \
		"$PC" run --state-dir "$STATE/run" "$@") >>"$STATE/daemon.log" 2>&1 &
	DAEMON_PID=$!
	daemon_wait_up
}
caps_of() { # caps_of PID FIELD: e.g. CapEff as "cap_bpf,cap_net_admin" (sorted), "" for none
	local hex
	hex=$(sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status")
	capsh --decode="$hex" | sed 's/.*=//' | tr , '\n' | grep '^cap_' | sort | paste -sd,
}

hook="grep ^Cap /proc/self/status > $STATE/hook.caps"
svc_daemon_start -i vs -p tcp/8080 -p tcp/8081 --exec "$hook" ||
	{ fail "daemon start with the unit's capabilities"; finish; exit 1; }
ok "the daemon starts with only $AMBIENT"
check_eq "it mounted nothing: the bpffs handed over is the only mount there" 1 \
	"$(grep -c " $STATE/run/bpf " /proc/self/mountinfo)"
check "its maps are pinned on the bpffs handed over" test -e "$BPFFS_DIR/pc_counters"
check "the control socket is 0600" test "$(stat -c %a "$STATE/run/portcanary.sock")" = 600
check "TC ingress attached (the default on veth)" \
	bash -c "ip netns exec $NS_S tc filter show dev vs ingress | grep -q pc_tc_ingress"
check "TC egress attached" bash -c "ip netns exec $NS_S tc filter show dev vs egress | grep -q pc_tc_egress"
check "the drop tracer attached (CAP_PERFMON)" grep -q "kfree_skb drop tracer attached" \
	"$STATE/daemon.log"
check_eq "real connections" "ok=5 fail=0" "$(connect 5 8080)"
check_eq "the SYNs are counted" 5 "$(wait_field 8080 in syn_total 5 5)"
check_eq "the SYN-ACKs are counted" 5 "$(wait_field 8080 in synack_total 5 5)"
check "status answers (table)" bash -c '"$1" status --state-dir "$2" | grep -q 8080' _ "$PC" "$STATE/run"
check_eq "CapEff after the start: only $KEEP_CAPS" "$KEEP_CAPS" "$(caps_of "$DAEMON_PID" CapEff)"
check_eq "CapPrm after the start: only $KEEP_CAPS" "$KEEP_CAPS" "$(caps_of "$DAEMON_PID" CapPrm)"
check_eq "CapAmb after the start: none (hooks inherit nothing)" "" "$(caps_of "$DAEMON_PID" CapAmb)"
check_eq "CapBnd: nothing beyond the unit's bounding set" "$UNIT_BND" \
	"$(caps_of "$DAEMON_PID" CapBnd)"
# An event runs the hook: nothing listens on 8081, so it goes down (no_listener).
steady 10 "$S_IP" 8081
check "8081 goes down (an event for the hook)" wait_state 8081 in down 10
for i in $(seq 50); do [ -s "$STATE/hook.caps" ] && break; sleep 0.1; done
hook_caps=$(sed -n 's/^\(CapEff\|CapPrm\|CapAmb\):[[:space:]]*//p' "$STATE/hook.caps" 2>/dev/null |
	    paste -sd,)
check_eq "the --exec hook has no capabilities (CapPrm, CapEff, CapAmb)" \
	"0000000000000000,0000000000000000,0000000000000000" "$hook_caps"
kill "$STEADY_PID" 2>/dev/null

daemon_stop TERM
check_eq "SIGTERM exits 0" 0 "$DAEMON_RC"
check_eq "SIGTERM detaches everything of ours" "" "$(ours_attached)"
check "the pinned counters stay for the next start" test -e "$BPFFS_DIR/pc_counters"
# The second run on XDP: attach, and detach with only CAP_BPF and CAP_NET_ADMIN left.
svc_daemon_start -i vs -p tcp/8080 --ingress-hook xdp ||
	{ fail "daemon restart with the unit's capabilities"; finish; exit 1; }
ok "the daemon starts again with the unit's capabilities"
check "XDP attached (--ingress-hook xdp)" bash -c "ip netns exec $NS_S ip -d link show vs | grep -q 'prog/xdp'"
check_eq "connections after the restart" "ok=3 fail=0" "$(connect 3 8080)"
check_eq "the counters continue: 5 + 3" 8 "$(wait_field 8080 in syn_total 8 5)"
daemon_stop TERM
check_eq "SIGTERM exits 0 (second run)" 0 "$DAEMON_RC"
check_eq "SIGTERM detaches everything of ours (second run)" "" "$(ours_attached)"

# --- 4. the example config parses, as shipped and with every setting uncommented -------------
EXAMPLE="$ROOT/deploy/portcanary.conf.example"
sed -E 's/^#([a-z_]+ = )/\1/' "$EXAMPLE" >"$STATE/all.conf"
check "uncommented, the example sets every [daemon] key and every [detector] field" python3 -c '
import re, sys
conf = open(sys.argv[1]).read()
keys = set(re.findall(r"^([a-z_]+) = ", conf, re.M))
daemon = {"interface", "interval", "state_dir", "events", "exec", "listen", "xdp_mode",
          "ingress_hook", "firewall_window", "verbose", "port"}
src = open(sys.argv[2]).read()
table = src[src.index("det_keys[] = {"):]
det = set(re.findall(r"\bDET_(?:U32|DBL)\((\w+)\)", table[:table.index("};")]))
missing = (daemon | det) - keys
if missing or not det:
    print("# missing:", sorted(missing)); sys.exit(1)' "$STATE/all.conf" "$ROOT/user/config.c"
check "the example'\''s [detector] values are pc_det_cfg_default()'\''s" python3 -c '
import re, sys
conf = dict(re.findall(r"^([a-z_]+) = (\S+)$", open(sys.argv[1]).read(), re.M))
src = open(sys.argv[2]).read()
body = src[src.index("pc_det_cfg_default(void)"):]
body = body[:body.index("};")]
dflt = dict(re.findall(r"^\s*\.(\w+) = ([0-9.]+),", body, re.M))
bad = [k for k in dflt if k not in conf or float(conf[k]) != float(dflt[k])]
if bad or not dflt:
    print("# differ:", bad); sys.exit(1)' "$STATE/all.conf" "$ROOT/user/detector.c"

# The file's interface, state dir, ports, events and exec would name this host's: the
# command line wins over them (the rest, detector included, comes from the file).
for conf in "$EXAMPLE" "$STATE/all.conf"; do
	name=$([ "$conf" = "$EXAMPLE" ] && echo "as shipped" || echo "uncommented")
	svc_daemon_start -c "$conf" -i vs -p tcp/8080 --events "$STATE/ev.jsonl" --exec "" ||
		{ fail "the daemon comes up with the example config ($name)"; continue; }
	ok "the daemon comes up with the example config ($name)"
	check_eq "its interval is the example's ($name)" 1 \
		"$(status_json | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["interval"]))')"
	daemon_stop TERM
	check_eq "and stops cleanly ($name)" 0 "$DAEMON_RC"
done
# A check that can fail: one wrong key is refused with its line, exit 2, nothing attached.
sed 's/^#collapse_z = 5/collapse_zz = 5/' "$EXAMPLE" >"$STATE/bad.conf"
line=$(grep -n '^collapse_zz' "$STATE/bad.conf" | cut -d: -f1)
err=$(net_s "$PC" run -c "$STATE/bad.conf" -i vs -p tcp/8080 --state-dir "$STATE/run" 2>&1)
check_eq "a wrong key in the example exits 2" 2 "$?"
check "... and says FILE:LINE ($err)" grep -q "bad.conf:$line: unknown key 'collapse_zz'" <<<"$err"
check_eq "... with nothing attached" "" "$(ours_attached)"

finish
