"""A process's code in memory: its executable file-backed mappings (/proc/PID/maps),
its memory (/proc/PID/mem) and the file behind a mapping (/proc/PID/map_files).

Cheap: imports os only (the trap guard process reads these after a tracer's death).
"""

from __future__ import annotations

import os

from cntr_tui.linux.procfs import PROC


class CodeMapping:
    """An executable, file-backed mapping: its address range and offset in the file."""

    __slots__ = ("end", "offset", "start")

    def __init__(self, start: int, end: int, offset: int):
        self.start, self.end, self.offset = start, end, offset


def code_mappings(pid: int) -> list[CodeMapping]:
    """Executable, file-backed mappings of `pid`. Raises OSError when it is gone."""
    mappings = []
    with open(f"{PROC}/{pid}/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) < 6 or "x" not in fields[1] or not fields[5].startswith("/"):
                continue
            start, end = (int(part, 16) for part in fields[0].split("-"))
            mappings.append(CodeMapping(start, end, int(fields[2], 16)))
    return mappings


def open_memory(pid: int, *, writable: bool = False) -> int:
    """A descriptor on `pid`'s memory (pread/pwrite at an address), close-on-exec."""
    mode = os.O_RDWR if writable else os.O_RDONLY
    return os.open(f"{PROC}/{pid}/mem", mode | os.O_CLOEXEC)


def open_mapped_file(pid: int, mapping: CodeMapping) -> int:
    """A read-only descriptor on the file `mapping` maps, close-on-exec."""
    return os.open(
        f"{PROC}/{pid}/map_files/{mapping.start:x}-{mapping.end:x}", os.O_RDONLY | os.O_CLOEXEC
    )
