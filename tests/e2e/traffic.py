#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""traffic.py: real TCP/UDP traffic for the namespace tests: listeners and bounded clients.

serve   PORT...                       accept and close TCP connections (IPv4 and IPv6) until killed
connect HOST PORT COUNT               COUNT sequential connections; prints "ok=N fail=M"
steady  HOST RATE DURATION PORT...    RATE connection attempts/s to every PORT for DURATION s
All loops are bounded in count and time; every socket has a timeout.
"""
import resource
import selectors
import socket
import sys
import time


def more_files(n):
    """Thousands of ports (the daemon-at-scale benchmark) need as many sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, n + 256), hard), hard))


def serve(ports):
    more_files(2 * len(ports))
    sel = selectors.DefaultSelector()  # epoll: no 1024-descriptor limit as with select()
    socks = []
    for port in ports:
        for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, port))
            s.listen(1024)
            s.setblocking(False)
            socks.append(s)
            sel.register(s, selectors.EVENT_READ)
    print("listening", flush=True)
    deadline = time.time() + 3600
    while time.time() < deadline:
        for key, _ in sel.select(1.0):
            try:
                c, _ = key.fileobj.accept()
                c.close()
            except OSError:
                pass


def attempt(host, port, timeout):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def connect(host, port, count):
    ok = fail = 0
    for _ in range(min(count, 100000)):
        if attempt(host, port, 2.0):
            ok += 1
        else:
            fail += 1
    print(f"ok={ok} fail={fail}", flush=True)


def steady(host, rate, duration, ports):
    """Non-blocking connects so a blocked port does not slow the others down."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    more_files(len(ports))
    end = time.time() + min(duration, 600)
    pending = []
    interval = 1.0 / rate
    nxt = time.time()
    while time.time() < end:
        now = time.time()
        if now >= nxt:
            for port in ports:
                s = socket.socket(fam, socket.SOCK_STREAM)
                s.setblocking(False)
                try:
                    s.connect_ex((host, port))
                except OSError:
                    pass
                pending.append((now + 0.8, s))
            nxt += interval
        # close attempts after 0.8 s, before the 1 s SYN retransmit: one SYN each
        keep = []
        for dl, s in pending:
            if dl <= now:
                s.close()
            else:
                keep.append((dl, s))
        pending = keep
        time.sleep(max(0.0, min(nxt - time.time(), 0.05)))
    for _, s in pending:
        s.close()


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "serve":
        serve([int(p) for p in args])
    elif cmd == "connect":
        connect(args[0], int(args[1]), int(args[2]))
    elif cmd == "steady":
        steady(args[0], float(args[1]), float(args[2]), [int(p) for p in args[3:]])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
