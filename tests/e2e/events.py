#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""events.py: read the daemon's --events JSON lines in the namespace tests.

wait  FILE SINCE TIMEOUT EVENT PORT [DIRECTION]  wait (bounded) for an event after unix time SINCE;
                                                  prints "<latency> <json>" and exits 0, else 1
count FILE [PORT [EVENT]]                         number of port events (of one port, of one kind)
fw    FILE [EVENT]                                the firewall_change (or EVENT) events after the
                                                  start, one JSON object per line
check FILE                                        every line is valid JSON with the contract's fields
"""
import json
import sys
import time

FIELDS = {"time", "event", "proto", "port", "direction", "cause", "detail", "syn_rate",
          "baseline_rate", "answered_ratio", "drops", "firewall_change"}
BLOCK_FIELDS = {"time", "event", "proto", "port", "direction", "rule", "firewall_change"}
RULE_FIELDS = {"family", "table", "chain", "handle", "text"}
CHANGE_FIELDS = {"time", "event", "source", "generation", "by", "vetted", "added", "removed"}
BY_FIELDS = {"pid", "command", "uid", "user", "unit"}
ROLLBACK_FIELDS = {"time", "event", "reason", "from_generation", "to_generation", "ports"}
# Events about no single port: counted apart from the port events.
FW_EVENTS = {"firewall_change", "firewall_rollback", "firewall_revert_skipped"}


def load(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def ts(s):
    # "2026-11-24T15:03:22.123Z"
    t = time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")
    import calendar
    return calendar.timegm(t) + float("0" + s[19:-1])


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "wait":
        path, since, timeout, event, port = args[0], float(args[1]), float(args[2]), args[3], int(args[4])
        direction = args[5] if len(args) > 5 else "in"
        end = time.time() + min(timeout, 120)
        while time.time() < end:
            for e in load(path):
                if (e["event"] == event and e["port"] == port and e["direction"] == direction
                        and ts(e["time"]) >= since):
                    print(f"{ts(e['time']) - since:.3f} {json.dumps(e)}")
                    return 0
            time.sleep(0.2)
        return 1
    if cmd == "count":
        evs = [e for e in load(args[0]) if e["event"] not in FW_EVENTS]
        if len(args) > 1:
            evs = [e for e in evs if e["port"] == int(args[1])]
        if len(args) > 2:
            evs = [e for e in evs if e["event"] == args[2]]
        print(len(evs))
        return 0
    if cmd == "fw":
        kind = args[1] if len(args) > 1 else "firewall_change"
        for e in load(args[0]):
            if e["event"] == kind:
                print(json.dumps(e))
        return 0
    if cmd == "check":
        for e in load(args[0]):
            if e["event"] == "firewall_change":
                missing = (CHANGE_FIELDS - set(e)) | (BY_FIELDS - set(e["by"] or {}))
                for r in e.get("added", []) + e.get("removed", []):
                    missing |= RULE_FIELDS - set(r)
                if missing or not isinstance(e["vetted"], bool):
                    print(f"missing {sorted(missing)} in {e}")
                    return 1
                continue
            if e["event"] == "firewall_rollback":
                missing = ROLLBACK_FIELDS - set(e)
                if missing:
                    print(f"missing {sorted(missing)} in {e}")
                    return 1
                continue
            if e["event"] == "firewall_revert_skipped":
                continue
            if e["event"] == "firewall_blocks_port":
                missing = BLOCK_FIELDS - set(e)
                if e.get("rule") is not None:
                    missing |= RULE_FIELDS - set(e["rule"])
            else:
                missing = FIELDS - set(e)
                # DESIGN.md: a port_down/port_degraded with cause netfilter_drop carries
                # "rule": RULE or null.
                if e["event"] in ("port_down", "port_degraded") and e["cause"] == "netfilter_drop":
                    if "rule" not in e:
                        missing |= {"rule"}
                    elif e["rule"] is not None:
                        missing |= RULE_FIELDS - set(e["rule"])
                        if not isinstance(e["rule"]["handle"], (int, type(None))):
                            print(f"rule handle is not a number or null in {e}")
                            return 1
            if missing:
                print(f"missing {sorted(missing)} in {e}")
                return 1
            if not isinstance(e["port"], int) or e["proto"] not in ("tcp", "udp") \
                    or e["direction"] not in ("in", "out"):
                print(f"bad types in {e}")
                return 1
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
