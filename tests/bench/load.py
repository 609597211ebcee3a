#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""load.py: TCP connections to many ports at once, for the daemon-at-scale benchmark.

serve  FIRST LAST                 listen on every port FIRST..LAST (IPv4), accept and close
steady HOST FIRST LAST RATE SECS  RATE connection attempts/s to every port, for SECS seconds

epoll, not select: thousands of sockets. Bounded in count and time; every socket closes.
"""
import resource
import select
import socket
import sys
import time


def more_files(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(max(soft, n), hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def serve(first, last):
    more_files(last - first + 256)
    ep = select.epoll()
    socks = {}
    for port in range(first, last + 1):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(64)
        s.setblocking(False)
        socks[s.fileno()] = s
        ep.register(s.fileno(), select.EPOLLIN)
    print("listening", flush=True)
    deadline = time.time() + 900
    while time.time() < deadline:
        for fd, _ in ep.poll(1.0):
            try:
                c, _ = socks[fd].accept()
                c.close()
            except OSError:
                pass


def steady(host, first, last, rate, secs):
    ports = list(range(first, last + 1))
    more_files(len(ports) * 2 + 256)
    end = time.time() + min(secs, 600)
    interval = 1.0 / rate
    nxt = time.time()
    pending = []
    while time.time() < end:
        now = time.time()
        if now >= nxt:
            for port in ports:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                try:
                    s.connect_ex((host, port))
                except OSError:
                    pass
                pending.append((now + 0.5, s))
            nxt += interval
        keep = []
        for dl, s in pending:
            if dl <= now:
                s.close()
            else:
                keep.append((dl, s))
        pending = keep
        time.sleep(max(0.0, min(nxt - time.time(), 0.02)))
    for _, s in pending:
        s.close()


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "serve" and len(a) == 2:
        serve(int(a[0]), int(a[1]))
    elif cmd == "steady" and len(a) == 5:
        steady(a[0], int(a[1]), int(a[2]), float(a[3]), float(a[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
