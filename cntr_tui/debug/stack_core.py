"""A minimal ELF core (x86-64) of what the stack stop read (stack_stop_process.py):
every thread's registers, the memory of its stack from its stack pointer, and what gdb
needs to find and place the objects (the auxiliary vector, the mapped files, the few
words of the dynamic linker's list). gdb opens it against the process's own files, as
it opens the kernel's cores (core(5), elf(5)).

    ELF header | PT_NOTE | PT_LOAD per copied range | notes | the ranges' bytes

The notes, in the kernel's order: the first thread's NT_PRSTATUS, then NT_PRPSINFO,
NT_AUXV, NT_FILE, its NT_FPREGSET; each other thread's NT_PRSTATUS and NT_FPREGSET
(BFD gives a NT_FPREGSET to the NT_PRSTATUS before it). pr_pid is the thread's id as
the process's own PID namespace sees it: gdb names the threads so.

Cheap: struct and os only (the stop process imports it before its stop, and writes the
core after the program runs on).
"""

from __future__ import annotations

import os
import struct

ELF_HEADER = struct.Struct("<4sBBBBB7xHHIQQQIHHHHHH")
PROGRAM_HEADER = struct.Struct("<IIQQQQQQ")
NOTE_HEADER = struct.Struct("<III")
ET_CORE, EM_X86_64, EV_CURRENT = 4, 62, 1
PT_LOAD, PT_NOTE = 1, 4
PF_X, PF_W, PF_R = 1, 2, 4
NT_PRSTATUS, NT_FPREGSET, NT_PRPSINFO, NT_AUXV = 1, 2, 3, 6
NT_FILE = 0x46494C45
PAGE_SIZE = 4096
PRSTATUS_SIZE = 336  # struct elf_prstatus (x86-64)
REGISTERS_AT = 112  # offsetof(struct elf_prstatus, pr_reg)
FPVALID_AT = REGISTERS_AT + 27 * 8
PRPSINFO = struct.Struct("<cccc4xQIIiiii16s80s")  # struct elf_prpsinfo (x86-64), 136 bytes


class CoreThread:
    """`lwp`: the thread's id in its PID namespace; `registers`: user_regs_struct;
    `floating`: user_fpregs_struct (b"" when not read); `signal`: what it was stopped
    for (0: our interrupt)."""

    __slots__ = ("floating", "lwp", "registers", "signal")

    def __init__(self, lwp: int, registers: bytes, floating: bytes = b"", signal: int = 0):
        self.lwp, self.registers, self.floating, self.signal = lwp, registers, floating, signal


class CoreProcess:
    """What NT_PRPSINFO says: the process as its PID namespace sees it."""

    __slots__ = ("command", "gid", "pid", "ppid", "state", "uid", "words")

    def __init__(
        self, pid: int, ppid: int, uid: int, gid: int, command: str, words: str, state: str = "R"
    ):
        self.pid, self.ppid, self.uid, self.gid = pid, ppid, uid, gid
        self.command, self.words, self.state = command, words, state


class MappedRange:
    """A file mapping (NT_FILE): its addresses, offset in the file (bytes), path."""

    __slots__ = ("end", "offset", "path", "start")

    def __init__(self, start: int, end: int, offset: int, path: str):
        self.start, self.end, self.offset, self.path = start, end, offset, path


def merged(segments: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """Copied ranges sorted, overlapping or touching ones joined (the later copy's
    bytes win where two overlap)."""
    joined: list[tuple[int, bytearray]] = []
    for address, data in sorted(segments, key=lambda segment: segment[0]):
        if not data:
            continue
        if joined and address <= joined[-1][0] + len(joined[-1][1]):
            start, buffer = joined[-1]
            at = address - start
            buffer[at : at + len(data)] = data
            continue
        joined.append((address, bytearray(data)))
    return [(address, bytes(buffer)) for address, buffer in joined]


def note(kind: int, desc: bytes, name: bytes = b"CORE") -> bytes:
    named = name + b"\0"
    return (
        NOTE_HEADER.pack(len(named), len(desc), kind)
        + named.ljust(_aligned(len(named)), b"\0")
        + desc.ljust(_aligned(len(desc)), b"\0")
    )


def _aligned(size: int) -> int:
    return (size + 3) & ~3


def prstatus(thread: CoreThread, pid: int) -> bytes:
    """struct elf_prstatus: the signal, the thread's id, its registers."""
    status = bytearray(PRSTATUS_SIZE)
    struct.pack_into("<iii", status, 0, thread.signal, 0, 0)  # pr_info
    struct.pack_into("<h", status, 12, thread.signal)  # pr_cursig
    struct.pack_into("<iiii", status, 32, thread.lwp, pid, pid, pid)  # pid, ppid, pgrp, sid
    status[REGISTERS_AT : REGISTERS_AT + len(thread.registers)] = thread.registers
    struct.pack_into("<i", status, FPVALID_AT, 1 if thread.floating else 0)
    return bytes(status)


def prpsinfo(process: CoreProcess) -> bytes:
    state = process.state[:1].encode() or b"R"
    return PRPSINFO.pack(
        b"\0",
        state,
        b"\1" if state == b"Z" else b"\0",
        b"\0",
        0,
        process.uid,
        process.gid,
        process.pid,
        process.ppid,
        process.pid,
        process.pid,
        process.command.encode(errors="replace")[:15],
        process.words.encode(errors="replace")[:79],
    )


def file_note(files: list[MappedRange]) -> bytes:
    table = struct.pack("<QQ", len(files), PAGE_SIZE)
    table += b"".join(
        struct.pack("<QQQ", mapped.start, mapped.end, mapped.offset // PAGE_SIZE)
        for mapped in files
    )
    return table + b"".join(mapped.path.encode(errors="replace") + b"\0" for mapped in files)


def core_notes(
    process: CoreProcess, threads: list[CoreThread], auxv: bytes, files: list[MappedRange]
) -> bytes:
    parts = []
    for index, thread in enumerate(threads):
        parts.append(note(NT_PRSTATUS, prstatus(thread, process.pid)))
        if index == 0:
            parts += [
                note(NT_PRPSINFO, prpsinfo(process)),
                note(NT_AUXV, auxv),
                note(NT_FILE, file_note(files)),
            ]
        if thread.floating:
            parts.append(note(NT_FPREGSET, thread.floating))
    return b"".join(parts)


def core_bytes(
    process: CoreProcess,
    threads: list[CoreThread],
    auxv: bytes,
    files: list[MappedRange],
    segments: list[tuple[int, bytes]],
) -> list[bytes]:
    """The core's parts, in file order (written one after another)."""
    loads = merged(segments)
    notes = core_notes(process, threads, auxv, files)
    count = 1 + len(loads)
    at = ELF_HEADER.size + PROGRAM_HEADER.size * count
    header = ELF_HEADER.pack(
        b"\x7fELF", 2, 1, EV_CURRENT, 0, 0,  # 64-bit, little-endian, SYSV
        ET_CORE, EM_X86_64, EV_CURRENT, 0, ELF_HEADER.size, 0, 0,
        ELF_HEADER.size, PROGRAM_HEADER.size, count, 0, 0, 0,
    )  # fmt: skip
    tables = [PROGRAM_HEADER.pack(PT_NOTE, 0, at, 0, 0, len(notes), 0, 4)]
    at += len(notes)
    for address, data in loads:
        tables.append(
            PROGRAM_HEADER.pack(PT_LOAD, PF_R | PF_W, at, address, 0, len(data), len(data), 1)
        )
        at += len(data)
    return [header, *tables, notes, *(data for _, data in loads)]


def write_core(
    fd: int,
    process: CoreProcess,
    threads: list[CoreThread],
    auxv: bytes,
    files: list[MappedRange],
    segments: list[tuple[int, bytes]],
) -> int:
    """Write the core at `fd`'s start (truncated first); its size. Raises OSError (a
    full disk)."""
    os.ftruncate(fd, 0)
    written = 0
    for part in core_bytes(process, threads, auxv, files, segments):
        view = memoryview(part)
        while view:
            done = os.pwrite(fd, view, written)
            written += done
            view = view[done:]
    return written
