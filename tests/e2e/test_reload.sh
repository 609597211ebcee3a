#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test_reload.sh: the config file; SIGHUP adds and removes ports without losing the counters or
# baselines of the ports that stay; a port added in a freed slot starts without the drops of the
# port that had it; a bad config on reload is refused and the old one stays.
. "$(dirname "$0")/lib.sh"
require_root
sandbox_up || { fail "sandbox"; finish; exit 1; }
serve 8021 8022 8023 || { fail "listeners"; finish; exit 1; }
CONF="$STATE/portcanary.conf"
cat >"$CONF" <<CONF
# written by test_reload.sh
[daemon]
interface = vs
interval = 1

[ports]
port = tcp/8021, tcp/8022
CONF

# Config errors at start: one line naming file and line, exit 2, nothing attached.
printf '[daemon]\ninterface = vs\n[ports]\nport = tcp/70000\n' >"$STATE/bad.conf"
net_s "$PC" run -c "$STATE/bad.conf" --state-dir "$STATE/run" >/dev/null 2>"$STATE/err"
check_eq "a bad config at start exits 2" 2 "$?"
check "it names the file and line" grep -q "bad.conf:4: bad port spec 'tcp/70000'" "$STATE/err"
check_eq "one line on stderr" 1 "$(wc -l <"$STATE/err")"
net_s "$PC" run -c "$STATE/missing.conf" --state-dir "$STATE/run" >/dev/null 2>"$STATE/err"
check_eq "a missing -c file exits 2" 2 "$?"
check "it says so" grep -q "cannot read config $STATE/missing.conf" "$STATE/err"
check_eq "nothing attached" "" "$(ours_attached)"

daemon_start -c "$CONF" || { fail "daemon start"; finish; exit 1; }
steady 10 "$S_IP" 8021 8022 8023
check "tcp/8021 ok" wait_state 8021 in ok 25
check "tcp/8022 ok" wait_state 8022 in ok 25
check_eq "tcp/8023 not monitored yet" absent "$(port_field 8023 in state)"
before=$(port_field 8021 in syn_total)
baseline=$(port_field 8021 in baseline_rate)
# Each connection's teardown frees an skb the kernel calls a drop (NOT_SPECIFIED): tcp/8022's
# slot holds about one per connection by now, and tcp/8023 is about to get that slot.
old_drops=$(port_field 8022 in drops_total)
check "tcp/8022 has drops for its slot's next port not to inherit ($old_drops)" \
	test "$old_drops" -ge 40

cat >"$CONF" <<CONF
[daemon]
interface = vs
[ports]
port = tcp/8021
port = tcp/8023
CONF
kill -HUP "$DAEMON_PID"
check "the reload is logged" bash -c "sleep 1.5; grep -q 'SIGHUP: config .* reloaded' '$STATE/daemon.log'"
check_eq "tcp/8022 removed" absent "$(port_field 8022 in state)"
check "tcp/8023 added" test "$(port_field 8023 in state)" != absent
new_drops=$(port_field 8023 in drops_total)
check "tcp/8023 did not inherit tcp/8022's drops ($new_drops, not $old_drops and more)" \
	test "$new_drops" -lt $((old_drops / 2))
after=$(port_field 8021 in syn_total)
check "tcp/8021 kept its counters ($before -> $after)" test "$after" -ge "$before"
check_eq "tcp/8021 kept its state" ok "$(port_field 8021 in state)"
check "tcp/8021 kept its baseline ($baseline)" test "$(port_field 8021 in baseline_rate)" != null
check "tcp/8023 learns and becomes ok" wait_state 8023 in ok 25

printf '[daemon]\ninterface = vs\n[ports]\nport = tcp/8021\nport = tcp/99999\n' >"$CONF"
kill -HUP "$DAEMON_PID"
sleep 1.5
check "a bad config on reload is refused, with the reason" \
	grep -q "SIGHUP: config refused, the old one stays in force: $CONF:5: bad port spec" \
	"$STATE/daemon.log"
check_eq "the old ports stay: tcp/8023" ok "$(port_field 8023 in state)"
check_eq "the old ports stay: tcp/8021" ok "$(port_field 8021 in state)"
check "the daemon is still running" kill -0 "$DAEMON_PID"
finish
