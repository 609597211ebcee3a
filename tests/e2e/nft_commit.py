#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""nft_commit.py: commit nftables commands through libnftables (ctypes) as this process, then
stay alive a while, so that a test knows exactly which process, command line and uid committed.

usage: nft_commit.py --marker TEXT --hold SEC COMMANDS
prints "PID RC" once the commit is done (RC: libnftables' return, 0 = committed)
"""
import ctypes
import os
import sys
import time


def main():
    args = sys.argv[1:]
    if len(args) != 5 or args[0] != "--marker" or args[2] != "--hold":
        sys.exit(__doc__)
    hold, cmds = min(float(args[3]), 30.0), args[4]
    lib = ctypes.CDLL("libnftables.so.1")
    lib.nft_ctx_new.restype = ctypes.c_void_p
    lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
    lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.nft_run_cmd_from_buffer.restype = ctypes.c_int
    lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
    ctx = lib.nft_ctx_new(0)
    rc = lib.nft_run_cmd_from_buffer(ctx, cmds.encode())
    lib.nft_ctx_free(ctx)
    print(os.getpid(), rc, flush=True)
    time.sleep(hold)
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
