#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo.sh: the outage replay in a sandbox: three busy ports, an nftables rule drops two of them,
# the alerts and the status table, then the rollback and the recoveries. Removes the sandbox on exit.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# The namespace tests' helpers build and remove the sandbox (also on Ctrl-C).
. "$ROOT/tests/e2e/lib.sh"
require_root
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "sandbox: client ($C_IP) --veth-- server ($S_IP), services on 8001 8002 8003"
sandbox_up || exit 1
serve 8001 8002 8003 || exit 1
daemon_start -i vs -p tcp/8001-8003 --events "$STATE/events.jsonl" || exit 1
tail -n +1 -F "$STATE/daemon.log" 2>/dev/null | sed -u 's/^/  daemon | /' &
BG_PIDS+=($!)
steady 10 "$S_IP" 8001 8002 8003

say "warm-up: 10 connections/s to each port while the daemon learns the baselines"
for p in 8001 8002 8003; do wait_state $p in ok 25 || exit 1; done
"$PC" status --state-dir "$STATE/run"

say "the change: nft add rule inet filter input tcp dport { 8001, 8002 } drop"
nft_s add table inet filter
nft_s add chain inet filter input '{ type filter hook input priority 0; }'
mark
nft_s add rule inet filter input tcp dport '{ 8001, 8002 }' drop
wait_event port_down 8001 in 15 && echo "  alert for 8001 after $LATENCY s"
wait_event port_down 8002 in 15 && echo "  alert for 8002 after $LATENCY s"
sleep 1
"$PC" status --state-dir "$STATE/run"
say "the alert as JSON (--events):"
grep '"port_down"' "$STATE/events.jsonl" | head -1 | python3 -m json.tool

say "rollback: nft delete table inet filter"
mark
nft_s delete table inet filter
wait_event port_recovered 8001 in 15 && echo "  8001 recovered after $LATENCY s"
wait_event port_recovered 8002 in 15 && echo "  8002 recovered after $LATENCY s"
"$PC" status --state-dir "$STATE/run"
say "done: removing the sandbox"
