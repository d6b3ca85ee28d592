"""The fast snapshot's core writer (cntr_tui/debug/stack_core.py), read back with the
core reader the kernel's cores go through (core_notes.py) and by its ELF headers."""

from __future__ import annotations

import os
import struct
from pathlib import Path

from cntr_tui.debug import stack_core
from cntr_tui.debug.core_notes import read_core_notes
from cntr_tui.debug.stack_core import CoreProcess, CoreThread, MappedRange, merged, write_core


def registers(rip: int, rsp: int) -> bytes:
    values = [0] * 27
    values[16], values[19] = rip, rsp
    return struct.pack("<27Q", *values)


def written(folder: Path, segments: list[tuple[int, bytes]]) -> tuple[str, int, bytes]:
    process = CoreProcess(1, 0, 1000, 1000, "stalls", "/app/stalls 8")
    threads = [
        CoreThread(1, registers(0x401000, 0x7FFC0000), b"\1" * 512),
        CoreThread(7, registers(0x401010, 0x7F000000), b"", signal=10),
    ]
    files = [
        MappedRange(0x400000, 0x402000, 0, "/app/stalls"),
        MappedRange(0x7F100000, 0x7F180000, 0x28000, "/lib/x86_64-linux-gnu/libc.so.6"),
    ]
    auxv = struct.pack("<4Q", 6, 4096, 0, 0)
    path = str(folder / "core")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        size = write_core(fd, process, threads, auxv, files, segments)
    finally:
        os.close(fd)
    with open(path, "rb") as file:
        data = file.read()
    assert size == len(data)
    return path, size, data


def program_headers(data: bytes) -> list[tuple[int, ...]]:
    (phoff,) = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    return [struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize) for i in range(phnum)]


def test_the_notes_read_back_as_a_kernel_core_s(tmp_path: Path) -> None:
    path, _, data = written(tmp_path, [(0x7FFC0000 - 128, b"s" * 256)])
    notes = read_core_notes(path)
    assert notes is not None
    assert (notes.pid, notes.command, notes.arguments) == (1, "stalls", "/app/stalls 8")
    assert notes.signal == 0  # the first thread's: our interrupt, no signal
    assert notes.lwps == (1, 7)
    assert [(f.start, f.end, f.offset, f.path) for f in notes.files] == [
        (0x400000, 0x402000, 0, "/app/stalls"),
        (0x7F100000, 0x7F180000, 0x28, "/lib/x86_64-linux-gnu/libc.so.6"),  # in pages
    ]
    assert notes.executable() == "/app/stalls"
    assert data[:4] == b"\x7fELF" and struct.unpack_from("<HH", data, 16) == (4, 62)


def test_each_copied_range_is_a_load_segment_with_its_bytes(tmp_path: Path) -> None:
    stack, other = (0x7FFC0000 - 128, b"a" * 300), (0x7F000000 - 128, b"b" * 200)
    _, _, data = written(tmp_path, [stack, other])
    headers = program_headers(data)
    assert headers[0][0] == stack_core.PT_NOTE
    loads = [h for h in headers if h[0] == stack_core.PT_LOAD]
    assert [(h[3], h[5], h[6]) for h in loads] == [
        (other[0], 200, 200),
        (stack[0], 300, 300),
    ]  # sorted by address
    for header, (_, content) in zip(loads, [other, stack], strict=True):
        offset, size = header[2], header[5]
        assert data[offset : offset + size] == content
    assert loads[-1][2] + loads[-1][5] == len(data)


def test_registers_and_floating_point_in_the_thread_notes(tmp_path: Path) -> None:
    _, _, data = written(tmp_path, [])
    note_header = program_headers(data)[0]
    notes = data[note_header[2] : note_header[2] + note_header[5]]
    found = []
    at = 0
    while at < len(notes):
        namesz, descsz, kind = struct.unpack_from("<III", notes, at)
        name_end = at + 12 + ((namesz + 3) & ~3)
        found.append((kind, notes[name_end : name_end + descsz]))
        at = name_end + ((descsz + 3) & ~3)
    kinds = [kind for kind, _ in found]
    assert kinds == [
        stack_core.NT_PRSTATUS,
        stack_core.NT_PRPSINFO,
        stack_core.NT_AUXV,
        stack_core.NT_FILE,
        stack_core.NT_FPREGSET,
        stack_core.NT_PRSTATUS,  # the second thread read no floating-point registers
    ]
    first, second = found[0][1], found[5][1]
    assert len(first) == stack_core.PRSTATUS_SIZE == 336
    rip, rsp = (struct.unpack_from("<Q", second, 112 + i * 8)[0] for i in (16, 19))
    assert (rip, rsp) == (0x401010, 0x7F000000)
    assert struct.unpack_from("<ih", second, 0)[0] == 10  # the signal it was stopped for
    assert struct.unpack_from("<i", first, 328)[0] == 1  # pr_fpvalid
    assert struct.unpack_from("<i", second, 328)[0] == 0
    assert found[4][1] == b"\1" * 512


def test_overlapping_ranges_are_joined() -> None:
    assert merged([(100, b"aaaa"), (102, b"bbbb"), (106, b"c"), (200, b"d"), (50, b"")]) == [
        (100, b"aabbbbc"),
        (200, b"d"),
    ]
