#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# http_abuse.py: garbage, slow-loris, slow readers and a flood against the exporter; scrapes must stay fast.
"""usage: http_abuse.py PORT

Prints one line per check, "ok DESCRIPTION" or "fail DESCRIPTION", for
test_prometheus.sh to count. Attackers use other loopback source addresses
(127.0.0.2...) than the scraper (127.0.0.1), as a scraper and an attacker
are different hosts in real life; the per-address limit is what keeps them apart.
"""
import os
import socket
import sys
import threading
import time

HOST = "127.0.0.1"
SCRAPE_BOUND_S = 2.0	# a scrape during an attack must answer within this
PER_IP_LIMIT = 8	# PC_EXPORTER_MAX_CONNS_PER_IP
IDLE_TIMEOUT_S = 10	# PC_EXPORTER_TIMEOUT_S

results = []


def report(good, what):
    results.append(good)
    print(("ok " if good else "fail ") + what, flush=True)


def connect(port, src="127.0.0.1", timeout=5.0):
    return socket.create_connection((HOST, port), timeout=timeout, source_address=(src, 0))


def read_all(s, limit=64 << 20):
    data = b""
    while len(data) < limit:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        data += chunk
    return data


def scrape(port, src="127.0.0.1", path="/metrics", timeout=5.0):
    """(status or None, headers, body, seconds). None: refused, reset or timed out."""
    t0 = time.monotonic()
    try:
        s = connect(port, src, timeout)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = read_all(s)
        s.close()
    except OSError:
        return None, "", b"", time.monotonic() - t0
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        status = None
    return status, "\r\n".join(lines[1:]), body, time.monotonic() - t0


def content_length(headers):
    for h in headers.split("\r\n"):
        k, _, v = h.partition(":")
        if k.strip().lower() == "content-length":
            return int(v)
    return -1


def good_scrape(port, what):
    st, hdr, body, dt = scrape(port)
    ok = st == 200 and dt < SCRAPE_BOUND_S and len(body) == content_length(hdr) > 0
    report(ok, f"{what}: scrape answered 200 with the whole body in {dt * 1000:.0f} ms "
           f"(bound {SCRAPE_BOUND_S:.0f} s; status {st})")


def garbage(port):
    big_header = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n"
    payloads = [
        b"\x00" * 1000 + b"\r\n\r\n",
        os.urandom(4096),
        os.urandom(300) + b"\r\n\r\n",
        big_header,
        b"GET /" + b"m" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        b"GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET /metrics\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
        b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" + b"x" * 50000,
        b"GET /metrics HTTP/1.1\r\n" + b"H: v\r\n" * 5000 + b"\r\n",
        b"\r\n" * 10000,
        b"GET /%00%ff/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
        b"",				# connect and close at once
    ]
    codes = []

    def one(p, i):
        try:
            s = connect(port, f"127.0.0.{20 + i % 8}", timeout=3)
            if p:
                try:
                    s.sendall(p)
                except OSError:
                    pass
            try:
                s.shutdown(socket.SHUT_WR)
                head = s.recv(64)
                codes.append(head.split(b"\r\n")[0].decode("latin-1")[:40] or "closed")
            except OSError:
                codes.append("reset")
            s.close()
        except OSError:
            codes.append("refused")

    threads = [threading.Thread(target=one, args=(p, i)) for i, p in enumerate(payloads * 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    hung = sum(t.is_alive() for t in threads)
    report(hung == 0, f"{len(threads)} garbage requests all ended (answered or closed), {hung} hung")
    print("# garbage answers: " + ", ".join(sorted(set(codes))), flush=True)
    good_scrape(port, "after garbage")


def slowloris_and_slow_readers(port):
    # Slow-loris: 40 connections from one address trickling a header line a second, so
    # the idle timeout never fires; the per-address limit must cap what they hold.
    lorises = []
    for _ in range(40):
        try:
            s = connect(port, "127.0.0.2", timeout=2)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            lorises.append(s)
        except OSError:
            pass
    # Slow readers: ask for /metrics and never read the answer.
    readers = []
    for _ in range(6):
        try:
            s = connect(port, "127.0.0.3", timeout=2)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            readers.append(s)
        except OSError:
            pass
    # An idle connection that sends nothing: must be closed by the server's timeout.
    idle = connect(port, "127.0.0.4", timeout=IDLE_TIMEOUT_S + 8)
    idle_t0 = time.monotonic()
    idle_closed = []

    def wait_idle():
        try:
            idle_closed.append(idle.recv(1) == b"")
        except OSError:
            idle_closed.append(True)
        idle_closed.append(time.monotonic() - idle_t0)

    waiter = threading.Thread(target=wait_idle)
    waiter.start()

    worst, statuses, end = 0.0, [], time.monotonic() + IDLE_TIMEOUT_S + 3
    while time.monotonic() < end:
        for s in list(lorises):
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                lorises.remove(s)
                s.close()
        st, hdr, body, dt = scrape(port)
        statuses.append(st)
        worst = max(worst, dt)
        time.sleep(0.5)
    bad = [s for s in statuses if s != 200]
    report(not bad and worst < SCRAPE_BOUND_S,
           f"{len(statuses)} scrapes during a slow-loris and slow readers: all 200 "
           f"(others: {bad}), slowest {worst * 1000:.0f} ms")
    report(len(lorises) <= PER_IP_LIMIT,
           f"slow-loris from one address holds {len(lorises)} connections (limit {PER_IP_LIMIT})")
    waiter.join(10)
    closed = bool(idle_closed) and idle_closed[0]
    secs = idle_closed[1] if len(idle_closed) > 1 else -1
    report(closed and IDLE_TIMEOUT_S - 1 <= secs <= IDLE_TIMEOUT_S + 5,
           f"an idle connection is closed by the server after {secs:.1f} s "
           f"(timeout {IDLE_TIMEOUT_S} s)")
    for s in lorises + readers + [idle]:
        s.close()


def flood(port):
    outcomes = []
    lock = threading.Lock()

    def worker(i):
        for _ in range(10):
            st, hdr, body, dt = scrape(port, f"127.0.1.{1 + i % 40}", timeout=8)
            complete = st == 200 and len(body) == content_length(hdr)
            with lock:
                outcomes.append((st, complete, dt))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(80)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    hung = sum(t.is_alive() for t in threads)
    took = time.monotonic() - t0
    served = sum(1 for st, complete, _ in outcomes if complete)
    truncated = sum(1 for st, complete, _ in outcomes if st == 200 and not complete)
    refused = sum(1 for st, _, _ in outcomes if st is None)
    report(hung == 0 and truncated == 0 and served > 0,
           f"flood of {len(outcomes)} scrapes from 80 threads in {took:.1f} s: {served} served whole, "
           f"{refused} refused at the limits, {truncated} truncated, {hung} threads hung")
    good_scrape(port, "after the flood")


def main():
    port = int(sys.argv[1])
    st, hdr, body, _ = scrape(port, path="/")
    report(st == 200 and b'href="/metrics"' in body, f"/ points at /metrics ({st})")
    st, hdr, body, _ = scrape(port, path="/nope")
    report(st == 404, f"/nope is 404 ({st})")
    st, hdr, body, _ = scrape(port)
    report(st == 200 and "content-type: text/plain; version=0.0.4; charset=utf-8" in hdr.lower(),
           f"/metrics is 200 text/plain; version=0.0.4 ({st})")
    garbage(port)
    slowloris_and_slow_readers(port)
    flood(port)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
