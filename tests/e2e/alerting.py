#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""alerting.py: the fleet test's webhook receiver, and what it asks Prometheus and Alertmanager.

webhook ADDR PORT FILE                  receive Alertmanager notifications until killed (at most
                                        1 h); each is one JSON line {"received": unix time,
                                        "payload": the webhook body} appended to FILE
alert   FILE STATUS NAME [LABEL=VALUE]...
                                        the first alert received with that status, alertname and
                                        labels: "<received> <alert JSON>"; exit 1 if none
payload FILE NAME [LABEL=VALUE]...      the whole first notification carrying such an alert
count   FILE STATUS NAME [LABEL=VALUE]...
                                        how many received alerts match (any status: STATUS "any")
wait    FILE TIMEOUT STATUS NAME [LABEL=VALUE]...
                                        `alert`, waiting for it (bounded by TIMEOUT seconds)
ready   URL TIMEOUT                     wait until URL answers 200
query   PROM_URL EXPR                   a Prometheus instant query: one line per sample,
                                        "<labels JSON> <value>"
wait-count PROM_URL EXPR N TIMEOUT      wait until EXPR returns exactly N samples
prom-alert PROM_URL NAME [LABEL=VALUE]...
                                        the alert from Prometheus's /api/v1/alerts (state,
                                        activeAt), as JSON; exit 1 if none
am-alerts AM_URL NAME [LABEL=VALUE]...  the alerts Alertmanager holds: one line per alert,
                                        "<state> <inhibited by N> <labels JSON>"
Every request has a timeout; every wait is bounded.
"""
import http.server
import json
import sys
import time
import urllib.parse
import urllib.request

from events import load as notifications  # the same JSON-lines file reader

MAX_WAIT_S = 180


def matchers(args):
    return dict(a.split("=", 1) for a in args)


def matches(labels, name, want):
    return labels.get("alertname") == name and all(labels.get(k, "") == v for k, v in want.items())


def received_alerts(path):
    """(received, notification, alert) for every alert of every notification, in order."""
    for n in notifications(path):
        for a in n["payload"].get("alerts", []):
            yield n["received"], n, a


def find(path, status, name, want):
    for t, n, a in received_alerts(path):
        if (status in ("any", a.get("status"))) and matches(a.get("labels", {}), name, want):
            return t, n, a
    return None


def get_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.load(r)


def prom_query(url, expr):
    doc = get_json(f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    if doc.get("status") != "success":
        raise RuntimeError(f"query {expr!r} failed: {doc}")
    return doc["data"]["result"]


class Receiver(http.server.BaseHTTPRequestHandler):
    path_out = None

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(min(n, 10 << 20))
        try:
            payload = json.loads(body)
        except ValueError:
            payload = {"unparsable": body.decode("utf-8", "replace")}
        with open(self.path_out, "a") as f:
            f.write(json.dumps({"received": time.time(), "payload": payload}) + "\n")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def webhook(addr, port, path):
    Receiver.path_out = path
    srv = http.server.HTTPServer((addr, int(port)), Receiver)
    srv.timeout = 1.0
    print("listening", flush=True)
    end = time.time() + 3600
    while time.time() < end:
        srv.handle_request()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "webhook":
        webhook(*args[:3])
        return 0
    if cmd in ("alert", "payload", "count"):
        path = args[0]
        if cmd == "payload":
            status, name, want = "any", args[1], matchers(args[2:])
        else:
            status, name, want = args[1], args[2], matchers(args[3:])
        if cmd == "count":
            print(sum(1 for _, _, a in received_alerts(path)
                      if status in ("any", a.get("status")) and matches(a["labels"], name, want)))
            return 0
        hit = find(path, status, name, want)
        if not hit:
            return 1
        print(json.dumps(hit[1]["payload"], indent=2) if cmd == "payload"
              else f"{hit[0]:.3f} {json.dumps(hit[2])}")
        return 0
    if cmd == "wait":
        path, timeout, status, name, want = (args[0], float(args[1]), args[2], args[3],
                                             matchers(args[4:]))
        end = time.time() + min(timeout, MAX_WAIT_S)
        while time.time() < end:
            hit = find(path, status, name, want)
            if hit:
                print(f"{hit[0]:.3f} {json.dumps(hit[2])}")
                return 0
            time.sleep(0.2)
        return 1
    if cmd == "ready":
        end = time.time() + min(float(args[1]), MAX_WAIT_S)
        while time.time() < end:
            try:
                with urllib.request.urlopen(args[0], timeout=2) as r:
                    if r.status == 200:
                        return 0
            except OSError:
                pass
            time.sleep(0.2)
        return 1
    if cmd == "query":
        for s in prom_query(args[0], args[1]):
            print(json.dumps(s["metric"], sort_keys=True), s["value"][1])
        return 0
    if cmd == "wait-count":
        url, expr, n = args[0], args[1], int(args[2])
        end = time.time() + min(float(args[3]), MAX_WAIT_S)
        got = []
        while time.time() < end:
            got = prom_query(url, expr)
            if len(got) == n:
                return 0
            time.sleep(0.5)
        print(f"{expr}: {len(got)} samples, not {n}", file=sys.stderr)
        return 1
    if cmd == "prom-alert":
        url, name, want = args[0], args[1], matchers(args[2:])
        for a in get_json(f"{url}/api/v1/alerts")["data"]["alerts"]:
            if matches(a["labels"], name, want):
                print(json.dumps(a))
                return 0
        return 1
    if cmd == "am-alerts":
        url, name, want = args[0], args[1], matchers(args[2:])
        for a in get_json(f"{url}/api/v2/alerts"):
            if matches(a["labels"], name, want):
                st = a["status"]
                print(st["state"], len(st.get("inhibitedBy") or []),
                      json.dumps(a["labels"], sort_keys=True))
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
