"""The Python that runs inside gdb to read goroutines, on top of the Go runtime's own
gdb support (`runtime-gdb.py`, sourced first: its `SliceValue`, `sts` state names,
`G_DEAD`, `G_SCAN`, `pc_to_int`).

It prints one line, `MARKER` followed by JSON, that `go_output` parses. Nothing is
written to the process: a goroutine on an OS thread (running, or in a system call) is
unwound by gdb on that thread; a parked one from its saved state (`g.sched` pc and
frame pointer, amd64's frame-pointer chain, bounded by the goroutine's stack), where
runtime-gdb.py's `goroutine N bt` would set the thread's $pc and $sp for a moment.
"""

from __future__ import annotations

import base64

MARKER = "cntr-go: "

SCRIPT = r'''
import json as _cntr_json
import struct as _cntr_struct


def _cntr_int(value):
    if value.type.strip_typedefs().code == gdb.TYPE_CODE_STRUCT:
        value = value["value"]  # Go 1.20+: atomic.Uint32 and friends
    return int(value)


def _cntr_frame(pc, function, symtab, line):
    return {
        "pc": pc,
        "function": function,
        "file": symtab.filename if symtab is not None else None,
        "fullname": symtab.fullname() if symtab is not None else None,
        "line": line or None,
    }


def _cntr_functions(lookup):
    """The functions at a pc, innermost first: those inlined there, then their caller."""
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


def _cntr_at(pc, caller):
    """The frames of one pc (a caller's is its return address): one for each inlined
    function, whose call lines DWARF has but gdb's Python does not give (None)."""
    lookup = pc - 1 if caller and pc else pc
    sal = gdb.find_pc_line(lookup)
    functions = _cntr_functions(lookup)
    if not functions:
        return [_cntr_frame(pc, None, sal.symtab, sal.line)]
    innermost = [_cntr_frame(pc, functions[0].name, sal.symtab, sal.line)]
    return innermost + [_cntr_frame(pc, f.name, f.symtab, None) for f in functions[1:]]


def _cntr_reason(g):
    try:
        index = int(g["waitreason"])
        table = gdb.parse_and_eval("'runtime.waitReasonStrings'")
        low, high = table.type.range()
        if not low <= index <= high:
            return None
        text = table[index]
        length = int(text["len"])
        if not length:
            return None
        data = gdb.selected_inferior().read_memory(int(text["str"]), length)
        return bytes(data).decode("utf-8", "replace")
    except gdb.error:
        return None


def _cntr_saved_frames(g, pc, bp, limit):
    """The frame-pointer chain from a parked goroutine's saved pc and bp."""
    low, high = int(g["stack"]["lo"]), int(g["stack"]["hi"])
    inferior = gdb.selected_inferior()
    frames = _cntr_at(pc, False)
    while bp and low <= bp < high and len(frames) < limit:
        raw = bytes(inferior.read_memory(bp, 16))
        next_bp, ret = _cntr_struct.unpack("<QQ", raw)
        if not ret:
            break
        frames += _cntr_at(ret, True)
        if frames[-1]["function"] == "runtime.goexit" or next_bp <= bp:
            break
        bp = next_bp
    return frames[:limit]


def _cntr_thread_frames(thread, limit):
    """gdb's own unwinding of the OS thread running the goroutine."""
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
            frames.append(_cntr_frame(frame.pc(), frame.name(), sal.symtab, sal.line))
            if frame.name() == "runtime.goexit":
                break
            frame = frame.older()
        return frames
    finally:
        if selected is not None and selected.is_valid():
            selected.switch()
            gdb.execute("select-frame %d" % level, to_string=True)


def _cntr_frames(g, plain, thread, limit):
    if thread is not None:
        return _cntr_thread_frames(thread, limit)
    sched = g["sched"]
    pc = int(sched["pc"])
    if plain == G_SYSCALL and int(g["syscallsp"]):
        pc = int(g["syscallpc"])
    return _cntr_saved_frames(g, pc, int(sched["bp"]), limit)


def _cntr_go(wanted, limit):
    threads = {t.ptid[1]: t for t in gdb.selected_inferior().threads()}
    listed = []
    for g in SliceValue(gdb.parse_and_eval("'runtime.allgs'")):
        status = _cntr_int(g["atomicstatus"])
        goid = int(g["goid"])
        if status == G_DEAD or (wanted is not None and goid != wanted):
            continue
        plain = status & ~G_SCAN
        m = g["m"]
        lwp = int(m["procid"]) if int(m) and plain in (G_RUNNING, G_SYSCALL) else None
        try:
            frames = _cntr_frames(g, plain, threads.get(lwp), limit)
        except (gdb.error, gdb.MemoryError, RuntimeError):
            frames = []  # a goroutine changing under us; the others are still listed
        listed.append(
            {
                "id": goid,
                "state": sts.get(status, "unknown(%d)" % status),
                "reason": _cntr_reason(g) if plain == G_WAITING else None,
                "lwp": lwp,
                "frames": frames,
            }
        )
    print(MARKER + _cntr_json.dumps(listed))
'''


def install_command() -> str:
    """The console command that defines the helpers in gdb's Python."""
    encoded = base64.b64encode(f"MARKER = {MARKER!r}\n{SCRIPT}".encode()).decode()
    return f"python exec(__import__('base64').b64decode('{encoded}').decode())"


def list_command(frames_each: int) -> str:
    """Every goroutine, each with its innermost `frames_each` frames."""
    return f"python _cntr_go(None, {int(frames_each)})"


def stack_command(goroutine_id: int, limit: int) -> str:
    return f"python _cntr_go({int(goroutine_id)}, {int(limit)})"
