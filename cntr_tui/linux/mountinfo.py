"""Mount tables: /proc/PID/mountinfo parsed into `MountEntry` records.

The kernel writes a space, tab, newline and backslash in a path or source as an octal
escape (\\040, \\011, \\012, \\134); every `\\NNN` is decoded back to its byte, then the
bytes to text with surrogateescape, so any path round-trips to `os.fsencode`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

FUSE_FSTYPE_PREFIX = "fuse"
_OCTAL_ESCAPE = re.compile(rb"\\([0-7]{3})")


@dataclass(frozen=True)
class MountEntry:
    """One line of a mountinfo table (proc(5)), its escapes decoded."""

    mount_id: int
    parent_id: int
    device: str  # "major:minor"
    root: str  # the path inside the source file system that is mounted here
    mount_point: str
    fstype: str
    source: str
    options: str
    super_options: str = ""

    @property
    def is_fuse(self) -> bool:
        return self.fstype == FUSE_FSTYPE_PREFIX or self.fstype.startswith("fuse.")

    @property
    def minor(self) -> int:
        return int(self.device.split(":")[1])


def unescape_bytes(field: bytes) -> bytes:
    if b"\\" not in field:
        return field
    return _OCTAL_ESCAPE.sub(lambda match: bytes((int(match.group(1), 8) & 0xFF,)), field)


def unescape(field: str | bytes) -> str:
    """A mountinfo field with every octal escape decoded (text as os.fsdecode gives)."""
    raw = field if isinstance(field, bytes) else os.fsencode(field)
    return os.fsdecode(unescape_bytes(raw))


def parse_line(line: str | bytes) -> MountEntry:
    raw = (line if isinstance(line, bytes) else os.fsencode(line)).rstrip(b"\n")
    head, _, tail = raw.partition(b" - ")
    # single spaces only: the kernel leaves other whitespace (\r, \v) unescaped
    fields = head.split(b" ")
    tail_fields = tail.split(b" ")
    if len(fields) < 6 or len(tail_fields) < 2:
        raise ValueError(f"not a mountinfo line: {line!r}")
    return MountEntry(
        mount_id=int(fields[0]),
        parent_id=int(fields[1]),
        device=fields[2].decode(),
        root=unescape(fields[3]),
        mount_point=unescape(fields[4]),
        options=fields[5].decode(),
        fstype=tail_fields[0].decode(errors="surrogateescape"),
        source=unescape(tail_fields[1]),
        super_options=os.fsdecode(tail_fields[2]) if len(tail_fields) > 2 else "",
    )


def parse_mountinfo(text: str | bytes) -> list[MountEntry]:
    raw = text if isinstance(text, bytes) else os.fsencode(text)
    # lines end at "\n" only: a "\r" in a path is not escaped
    return [parse_line(line) for line in raw.split(b"\n") if line.strip()]


def read_mountinfo(pid: int | str = "self") -> list[MountEntry]:
    """The mount table of `pid`'s mount namespace, as `pid` sees it (its root)."""
    with open(f"/proc/{pid}/mountinfo", "rb") as file:
        return parse_mountinfo(file.read())


def is_under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")
