"""The Python that runs inside gdb to read goroutines, on top of the Go runtime's own
gdb support (`runtime-gdb.py`, sourced first: its goroutine states `sts`, `G_DEAD`,
`G_SCAN`, `G_WAITING`, `G_RUNNING`, `G_SYSCALL`, read from the binary's own DWARF).

It prints one line, `MARKER` followed by JSON, that `go_output` parses:
`{"places": [[pc, function, file, fullname, line], ...], "goroutines": [[id, state,
wait reason, lwp, [place index, ...innermost first]], ...]}`, each distinct frame
once (10,000 goroutines parked alike print their few frames once, not 10 MB). Nothing is
written to the process: a goroutine on an OS thread (running, or in a system call) is
unwound by gdb on that thread; a parked one from its saved state (`g.sched` pc and
frame pointer, amd64's frame-pointer chain, bounded by the goroutine's stack), where
runtime-gdb.py's `goroutine N bt` would set the thread's $pc and $sp for a moment.

Speed: each read is a round trip to gdbserver, so `runtime.allgs`, the `g`s and the
parked goroutines' stacks in use are read as raw memory, neighbours in one read
(`_CntrMemory`), at offsets taken once from the DWARF types, never field by field
through gdb.Value (runtime-gdb.py's own `info goroutines` does that: 2.3-3.1 s for
10,000 goroutines on the host); the place of each pc is looked up once per call.
"""

from __future__ import annotations

import base64

MARKER = "cntr-go: "

SCRIPT = r"""
import bisect as _cntr_bisect
import json as _cntr_json
import struct as _cntr_struct

_CNTR_STACK_READ = 64 * 1024  # a parked goroutine's stack in use is read whole up to this
# ranges closer than this are read together: through gdbserver a read costs 30-150 us,
# 1 MB ~0.13-0.2 s; gs lie side by side (read whole spans), stacks in use ~300 bytes
# apart by 2 KB or more (read one by one)
_CNTR_G_GAP = 512
_CNTR_STACK_GAP = 128
_CNTR_SPAN = 1 << 20  # the most read at once
_CNTR_G_FIELDS = (
    "atomicstatus", "goid", "waitreason", "m", "sched.pc", "sched.sp", "sched.bp",
    "stack.lo", "stack.hi", "syscallpc", "syscallsp",
)


def _cntr_locate(type_, path):
    # the (offset, size) of a field path like "sched.pc" in a struct type
    offset = 0
    for name in path.split("."):
        type_ = type_.strip_typedefs()
        field = next(f for f in type_.fields() if f.name == name)
        offset += field.bitpos // 8
        type_ = field.type
    return offset, type_.strip_typedefs().sizeof


def _cntr_layout():
    # the fields read of a g, and how much of it to read: up to the last of them
    g = gdb.lookup_type("runtime.g").strip_typedefs()
    fields = {path: _cntr_locate(g, path) for path in _CNTR_G_FIELDS}
    procid = _cntr_locate(gdb.lookup_type("runtime.m"), "procid")
    return max(offset + size for offset, size in fields.values()), fields, procid


def _cntr_field(raw, place):
    offset, size = place
    return int.from_bytes(raw[offset : offset + size], "little")


def _cntr_read(address, size):
    return bytes(gdb.selected_inferior().read_memory(address, size))


class _CntrMemory:
    # many small reads as few large ones (each read is a round trip to gdbserver)

    def __init__(self, ranges, gap):
        spans = []
        for address, size in sorted(ranges):
            end = address + size
            if spans and address - spans[-1][1] <= gap and end - spans[-1][0] <= _CNTR_SPAN:
                spans[-1][1] = max(spans[-1][1], end)
            else:
                spans.append([address, end])
        self.starts, self.chunks = [], []
        for start, end in spans:
            try:
                data = _cntr_read(start, end - start)
            except gdb.MemoryError:
                continue  # read piece by piece below
            self.starts.append(start)
            self.chunks.append(data)

    def read(self, address, size):
        index = _cntr_bisect.bisect_right(self.starts, address) - 1
        if index >= 0:
            offset = address - self.starts[index]
            if offset + size <= len(self.chunks[index]):
                return self.chunks[index][offset : offset + size]
        return _cntr_read(address, size)


class _CntrPlaces:
    # each distinct frame once: goroutines parked alike share their pcs

    def __init__(self):
        self.rows, self.index, self.looked_up = [], {}, {}

    def add(self, pc, function, symtab, line):
        row = (
            pc,
            function,
            symtab.filename if symtab is not None else None,
            symtab.fullname() if symtab is not None else None,
            line or None,
        )
        if row not in self.index:
            self.index[row] = len(self.rows)
            self.rows.append(row)
        return self.index[row]

    def at(self, pc, caller):
        # the frames of one pc (a caller's is its return address): one for each
        # inlined function, whose call lines DWARF has but gdb's Python does not give
        key = (pc, caller)
        if key not in self.looked_up:
            lookup = pc - 1 if caller and pc else pc
            sal = gdb.find_pc_line(lookup)
            functions = _cntr_functions(lookup)
            if not functions:
                found = [self.add(pc, None, sal.symtab, sal.line)]
            else:
                found = [self.add(pc, functions[0].name, sal.symtab, sal.line)]
                found += [self.add(pc, f.name, f.symtab, None) for f in functions[1:]]
            self.looked_up[key] = found
        return self.looked_up[key]

    def function(self, index):
        return self.rows[index][1]


def _cntr_functions(lookup):
    # the functions at a pc, innermost first: those inlined there, then their caller
    try:
        block = gdb.block_for_pc(lookup)
    except RuntimeError:
        return []
    functions = []
    while block is not None and not block.is_global and not block.is_static:
        if block.function is not None:
            functions.append(block.function)
        block = block.superblock
    return functions


def _cntr_reasons():
    # runtime.waitReasonStrings as Python strings, index = g.waitreason
    try:
        table = gdb.parse_and_eval("'runtime.waitReasonStrings'")
        low, high = table.type.range()
    except gdb.error:
        return {}
    reasons = {}
    for index in range(low, high + 1):
        text = table[index]
        length = int(text["len"])
        if length:
            reasons[index] = _cntr_read(int(text["str"]), length).decode("utf-8", "replace")
    return reasons


def _cntr_saved(raw, fields, plain):
    # a parked goroutine's saved pc, sp, bp and its stack's bounds
    pc, sp = _cntr_field(raw, fields["sched.pc"]), _cntr_field(raw, fields["sched.sp"])
    if plain == G_SYSCALL and _cntr_field(raw, fields["syscallsp"]):
        pc, sp = _cntr_field(raw, fields["syscallpc"]), _cntr_field(raw, fields["syscallsp"])
    low, high = _cntr_field(raw, fields["stack.lo"]), _cntr_field(raw, fields["stack.hi"])
    return pc, sp, _cntr_field(raw, fields["sched.bp"]), low, high


def _cntr_in_use(saved):
    # the part of a parked goroutine's stack its frames are in, when not too large
    pc, sp, bp, low, high = saved
    if low <= sp < high and high - sp <= _CNTR_STACK_READ:
        return sp, high - sp
    return None


def _cntr_saved_frames(saved, memory, places, limit):
    # the frame-pointer chain from a parked goroutine's saved pc and bp
    pc, sp, bp, low, high = saved
    frames = list(places.at(pc, False))
    while bp and low <= bp < high and len(frames) < limit:
        next_bp, ret = _cntr_struct.unpack("<QQ", memory.read(bp, 16))
        if not ret:
            break
        frames += places.at(ret, True)
        if places.function(frames[-1]) == "runtime.goexit" or next_bp <= bp:
            break
        bp = next_bp
    return frames[:limit]


def _cntr_thread_frames(thread, places, limit):
    # gdb's own unwinding of the OS thread running the goroutine
    selected = gdb.selected_thread()
    try:
        level = gdb.selected_frame().level()
    except gdb.error:
        level = 0
    try:
        thread.switch()
        frames = []
        frame = gdb.newest_frame()
        while frame is not None and len(frames) < limit:
            sal = frame.find_sal()
            frames.append(places.add(frame.pc(), frame.name(), sal.symtab, sal.line))
            if frame.name() == "runtime.goexit":
                break
            frame = frame.older()
        return frames
    finally:
        if selected is not None and selected.is_valid():
            selected.switch()
            gdb.execute("select-frame %d" % level, to_string=True)


def _cntr_go(wanted, limit, own_tids=None):
    # own_tids: gdb's LWP -> the program's own TID (m.procid), for a gdb outside the
    # program's PID namespace (the host's gdb)
    size, fields, procid = _cntr_layout()
    own = own_tids or {}
    threads = {own.get(t.ptid[1], t.ptid[1]): t for t in gdb.selected_inferior().threads()}
    allgs = gdb.parse_and_eval("'runtime.allgs'")
    count = int(allgs["len"])
    pointers = _cntr_struct.unpack("<%dQ" % count, _cntr_read(int(allgs["array"]), 8 * count))
    structs = _CntrMemory([(pointer, size) for pointer in pointers], _CNTR_G_GAP)
    live = []
    for pointer in pointers:
        raw = structs.read(pointer, size)
        status = _cntr_field(raw, fields["atomicstatus"])
        goid = _cntr_field(raw, fields["goid"])
        if status != G_DEAD and (wanted is None or goid == wanted):
            live.append((goid, status, status & ~G_SCAN, raw))
    lwps = {}
    for goid, status, plain, raw in live:
        m = _cntr_field(raw, fields["m"])
        if m and plain in (G_RUNNING, G_SYSCALL):
            lwps[goid] = int.from_bytes(_cntr_read(m + procid[0], procid[1]), "little")
    saved = {goid: _cntr_saved(raw, fields, plain) for goid, status, plain, raw in live}
    in_use = (_cntr_in_use(saved[goid]) for goid, *_ in live if goid not in lwps)
    stacks = _CntrMemory([piece for piece in in_use if piece is not None], _CNTR_STACK_GAP)
    reasons = _cntr_reasons()
    places = _CntrPlaces()
    listed = []
    for goid, status, plain, raw in live:
        lwp = lwps.get(goid)
        try:
            if threads.get(lwp) is not None:
                frames = _cntr_thread_frames(threads[lwp], places, limit)
            else:
                frames = _cntr_saved_frames(saved[goid], stacks, places, limit)
        except (gdb.error, gdb.MemoryError, RuntimeError):
            frames = []  # a goroutine changing under us; the others are still listed
        reason = _cntr_field(raw, fields["waitreason"]) if plain == G_WAITING else None
        state = sts.get(status, "unknown(%d)" % status)
        listed.append([goid, state, reasons.get(reason), lwp, frames])
    print(MARKER + _cntr_json.dumps({"places": places.rows, "goroutines": listed}))
"""


def install_command() -> str:
    """The console command that defines the helpers in gdb's Python."""
    encoded = base64.b64encode(f"MARKER = {MARKER!r}\n{SCRIPT}".encode()).decode()
    return f"python exec(__import__('base64').b64decode('{encoded}').decode())"


def list_command(frames_each: int, own_tids: dict[int, int]) -> str:
    """Every goroutine, each with its innermost `frames_each` frames; `own_tids`: gdb's
    LWP -> the program's own TID where they differ."""
    return f"python _cntr_go(None, {int(frames_each)}, {tids_literal(own_tids)})"


def stack_command(goroutine_id: int, limit: int, own_tids: dict[int, int]) -> str:
    return f"python _cntr_go({int(goroutine_id)}, {int(limit)}, {tids_literal(own_tids)})"


def tids_literal(own_tids: dict[int, int]) -> str:
    return "{" + ", ".join(f"{int(k)}: {int(v)}" for k, v in sorted(own_tids.items())) + "}"
