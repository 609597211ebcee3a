#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# insn_count.py: BPF instructions an XDP program executes per packet, from its xlated code.
#
# The kernel's figure is a time; this is the count behind it. It runs the program
# as the kernel rewrote it (`bpftool prog dump xlated ... file`: inlined map
# lookups included) on each of the benchmark's packets, and counts instructions,
# so that a change to the hot path can be judged by what it removes, not only by
# a timing that moves by a nanosecond. A small interpreter: registers hold numbers
# or (region, offset) pointers into the packet, the stack, the context or a map.
#
#   usage: insn_count.py PROG_PIN PACKET.bin...   (scripts/bench.sh --count runs it)
#
# Maps start zeroed except read-only global data (.rodata, as loaded) and the port table
# (the .bss map), which gets the benchmark's port table (tests/bench/bench_xdp.c:
# watch_ports), so monitored packets take monitored paths.
import json
import struct
import subprocess
import sys
import tempfile

# Offset of the values in struct bpf_array, as the kernel's inlined lookups use it.
ARRAY_VALUE_OFF = 312
XDP_NAMES = {0: "ABORTED", 1: "DROP", 2: "PASS", 3: "TX", 4: "REDIRECT"}


class Ptr:
    def __init__(self, region, off):
        self.region, self.off = region, off

    def __add__(self, n):
        return Ptr(self.region, self.off + n)

    def __repr__(self):
        return f"Ptr({self.region},{self.off})"


class Mem:
    """Byte-addressed regions; pointers spilled to memory are kept whole."""

    def __init__(self):
        self.bytes = {}
        self.ptrs = {}
        self.stored = set()  # (region, 8-byte aligned offset) the program wrote

    def store(self, region, off, size, val):
        for i in range(size):
            self.ptrs.pop((region, off + i), None)
        if isinstance(val, Ptr):
            self.ptrs[(region, off)] = val
            return
        for i in range(size):
            self.bytes[(region, off + i)] = (val >> (8 * i)) & 0xFF

    def load(self, region, off, size):
        if (region, off) in self.ptrs:
            return self.ptrs[(region, off)]
        return sum(self.bytes.get((region, off + i), 0) << (8 * i) for i in range(size))


def bpftool_json(*args):
    return json.loads(subprocess.check_output(["bpftool", "-j", *args]))


def load_insns(pin):
    with tempfile.NamedTemporaryFile() as f:
        subprocess.check_call(["bpftool", "prog", "dump", "xlated", "pinned", pin, "file", f.name],
                              stdout=subprocess.DEVNULL)
        raw = open(f.name, "rb").read()
    return [struct.unpack("<BBhi", raw[i:i + 8]) for i in range(0, len(raw), 8)]


def run(insns, maps, pkt):
    M64 = (1 << 64) - 1
    mem = Mem()
    for i, b in enumerate(pkt):
        mem.bytes[("pkt", i)] = b
    for mid, m in maps.items():
        if m["name"].endswith(".rodata"):
            # read-only global data (e.g. the flag-class table): as the kernel holds it
            for e in bpftool_json("map", "dump", "id", str(mid)):
                for i, b in enumerate(e["value"]):
                    mem.store(("map", mid), ARRAY_VALUE_OFF + i, 1, int(b, 16))
        if m["name"].endswith(".bss"):
            # slot[port][proto][dir]: the benchmark's table
            for proto, d, port, slot in ((0, 0, 80, 1), (0, 0, 443, 2), (0, 1, 5432, 3),
                                         (1, 0, 53, 4)):
                # indexed by the port in network byte order (PC_PORT_INDEX)
                idx = (port & 0xFF) << 8 | port >> 8
                off = ARRAY_VALUE_OFF + (idx * 4 + proto * 2 + d) * 2
                mem.store(("map", mid), off, 2, slot)
    # xdp_buff: data at 0, data_end at 8
    mem.store("ctx", 0, 8, Ptr("pkt", 0))
    mem.store("ctx", 8, 8, Ptr("pkt", len(pkt)))
    r = [0] * 11
    r[1] = Ptr("ctx", 0)
    r[10] = Ptr("stack", 512)
    pc = n = 0
    while True:
        code, regs, off, imm = insns[pc]
        dst, src = regs & 0xF, regs >> 4
        cls, n = code & 7, n + 1
        pc += 1
        if code == 0x18:  # ld_imm64
            hi = insns[pc][3]
            pc += 1
            if src == 1:
                r[dst] = Ptr(("map", imm), 0)
            elif src == 2:
                r[dst] = Ptr(("map", imm), ARRAY_VALUE_OFF + hi)
            else:
                r[dst] = (imm & 0xFFFFFFFF) | ((hi & 0xFFFFFFFF) << 32)
            continue
        if cls in (4, 7):  # ALU, ALU64
            op, is64 = code & 0xF0, cls == 7
            b = r[src] if code & 8 else imm & M64
            a = r[dst]
            if op == 0xB0:  # mov (off -1: per-CPU address, an identity here)
                r[dst] = b if is64 or not isinstance(b, int) else b & 0xFFFFFFFF
                continue
            if op == 0xD0:  # byte swap
                size = imm
                v = a & ((1 << size) - 1)
                if code & 8:  # to big endian: swap
                    v = int.from_bytes(v.to_bytes(size // 8, "little"), "big")
                r[dst] = v
                continue
            if isinstance(a, Ptr) or isinstance(b, Ptr):
                # pointer arithmetic: an inlined lookup adds idx << log2(size) to the base
                if op == 0x00 and isinstance(b, Ptr):
                    a, b = b, a
                if op == 0x00 and not isinstance(b, Ptr):
                    r[dst] = a + (b if b < 1 << 63 else b - (1 << 64))
                elif op == 0x10 and isinstance(b, Ptr):
                    r[dst] = (a.off - b.off) & M64
                elif op == 0x10:
                    r[dst] = a + (-(b if b < 1 << 63 else b - (1 << 64)))
                else:
                    raise RuntimeError(f"pc {pc - 1}: op {op:#x} on pointer {a} {b}")
                continue
            mask = M64 if is64 else 0xFFFFFFFF
            a &= mask
            b &= mask
            sh = b & (63 if is64 else 31)
            if op == 0x00: v = a + b
            elif op == 0x10: v = a - b
            elif op == 0x20: v = a * b
            elif op == 0x30: v = a // b if b else 0
            elif op == 0x40: v = a | b
            elif op == 0x50: v = a & b
            elif op == 0x60: v = a << sh
            elif op == 0x70: v = a >> sh
            elif op == 0x80: v = -a
            elif op == 0x90: v = a % b if b else a
            elif op == 0xA0: v = a ^ b
            elif op == 0xC0:
                bits = 64 if is64 else 32
                sa = a - (1 << bits) if a >> (bits - 1) else a
                v = sa >> sh
            else:
                raise RuntimeError(f"pc {pc - 1}: ALU op {op:#x}")
            r[dst] = v & mask
            continue
        if cls in (5, 6):  # JMP, JMP32
            op = code & 0xF0
            if op == 0x00:
                pc += off
                continue
            if op == 0x90:
                return n, r[0], mem
            if op == 0x80:
                raise RuntimeError(f"pc {pc - 1}: call {imm} left in the xlated code")
            a = r[dst]
            b = r[src] if code & 8 else imm & ((1 << 64) - 1)
            if isinstance(a, Ptr) or isinstance(b, Ptr):
                if isinstance(a, Ptr) and isinstance(b, Ptr):
                    a, b = a.off, b.off
                elif op in (0x10, 0x50) and b == 0 or a == 0:
                    a, b = 1, 0  # a valid pointer is never NULL
                else:
                    raise RuntimeError(f"pc {pc - 1}: compare {a} {b}")
            bits = 64 if cls == 5 else 32
            a &= (1 << bits) - 1
            b &= (1 << bits) - 1
            sa = a - (1 << bits) if a >> (bits - 1) else a
            sb = b - (1 << bits) if b >> (bits - 1) else b
            take = {0x10: a == b, 0x20: a > b, 0x30: a >= b, 0x40: bool(a & b), 0x50: a != b,
                    0x60: sa > sb, 0x70: sa >= sb, 0xA0: a < b, 0xB0: a <= b, 0xC0: sa < sb,
                    0xD0: sa <= sb}[op]
            if take:
                pc += off
            continue
        size = {0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8}[code & 0x18]
        if cls == 1:  # LDX
            base = r[src]
            if not isinstance(base, Ptr):
                # a kernel per-CPU variable by address (the inlined bpf_get_smp_processor_id):
                # this interpreter runs on CPU 0
                r[dst] = 0
                continue
            v = mem.load(base.region, base.off + off, size)
            region = base.region
            if (isinstance(region, tuple) and region[0] == "map" and size == 8 and
                    maps[region[1]]["type"] == "percpu_array"):
                # a per-CPU array's pointer table: the value of entry idx on this CPU
                idx = (base.off + off - ARRAY_VALUE_OFF) // 8
                v = Ptr(("pcpu", region[1], idx), 0)
            r[dst] = v
            continue
        if cls in (2, 3):  # ST, STX
            base = r[dst]
            if cls == 3 and code & 0xE0 == 0xC0:  # atomic add
                cur = mem.load(base.region, base.off + off, size)
                mem.store(base.region, base.off + off, size, cur + r[src])
                continue
            val = imm if cls == 2 else r[src]
            mem.store(base.region, base.off + off, size, val)
            mem.stored.add((base.region, (base.off + off) & ~7))
            continue
        raise RuntimeError(f"pc {pc - 1}: opcode {code:#x}")


def main():
    if len(sys.argv) < 3:
        print("usage: insn_count.py PROG_PIN PACKET.bin...", file=sys.stderr)
        return 2
    pin = sys.argv[1]
    info = bpftool_json("prog", "show", "pinned", pin)
    maps = {}
    for mid in info.get("map_ids", []):
        m = bpftool_json("map", "show", "id", str(mid))
        maps[mid] = {"name": m["name"], "type": m["type"]}
    insns = load_insns(pin)
    for path in sys.argv[2:]:
        pkt = open(path, "rb").read()
        n, ret, mem = run(insns, maps, pkt)
        # what the packet counted: the words the program wrote into map values (a per-CPU
        # value as entry+offset; an array's as its byte offset into the values)
        words = {}
        for region, off in mem.stored:
            if not isinstance(region, tuple) or region[0] == "stack" or region == "stack":
                continue
            v = mem.load(region, off, 8)
            if isinstance(v, Ptr) or not v:
                continue
            if region[0] == "pcpu":
                key = (maps[region[1]]["name"], f"[{region[2]}]", off)
            else:
                key = (maps[region[1]]["name"], "", off - ARRAY_VALUE_OFF)
            words[key] = v
        counted = " ".join(f"{m}{i}+{o}={v}" for (m, i, o), v in sorted(words.items()))
        print(f"{info['name']:16} {path.rsplit('/', 1)[-1]:14} {n:4d} insns  "
              f"-> {XDP_NAMES.get(ret, ret)}  {counted}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
