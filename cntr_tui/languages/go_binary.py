"""Is this ELF a Go program, of which Go version, and can gdb read its goroutines?

Pure file reading: the `.go.buildinfo` section (Go 1.18+ keeps the version inline,
after a 32-byte header), the `.note.go.buildid` note, whether DWARF is there
(`-ldflags=-w` or `-s` drop it) and the runtime-gdb.py path the linker wrote into
`.debug_gdb_scripts` (the GOROOT it was built with).
"""

from __future__ import annotations

import mmap
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from cntr_tui.gdb.elf import read_sections, read_uleb, section_bytes

BUILDINFO_MAGIC = b"\xff Go buildinf:"
BUILDINFO_HEADER = 32
FLAG_INLINE_STRINGS = 0x2
GO_SECTIONS = frozenset({".go.buildinfo", ".note.go.buildid", ".gopclntab"})
DWARF_SECTIONS = frozenset({".debug_info", ".zdebug_info"})
VERSION = re.compile(r"go(\d+)\.(\d+)")
ELF_MACHINE_OFFSET = 0x12
EM_X86_64 = 62


@dataclass(frozen=True)
class GoBinary:
    """What the ELF file says of a Go program."""

    path: str
    version: str | None  # "go1.19.8"; None when the build info could not be read
    has_dwarf: bool
    gdb_script: str | None  # the runtime-gdb.py path in .debug_gdb_scripts
    x86_64: bool = True

    @property
    def release(self) -> str | None:
        """ "1.19" of "go1.19.8"."""
        match = VERSION.match(self.version or "")
        return f"{match[1]}.{match[2]}" if match else None


def build_version(buildinfo: bytes) -> str | None:
    """The Go version in a `.go.buildinfo` section; None for the older pointer layout
    (before Go 1.18) or anything unexpected."""
    if not buildinfo.startswith(BUILDINFO_MAGIC) or len(buildinfo) < BUILDINFO_HEADER:
        return None
    if not buildinfo[15] & FLAG_INLINE_STRINGS:
        return None
    try:
        length, start = read_uleb(buildinfo, BUILDINFO_HEADER)  # Go's uvarint
    except IndexError:
        return None
    version = buildinfo[start : start + length].decode(errors="replace")
    return version if VERSION.match(version) else None


def gdb_script_path(scripts: bytes) -> str | None:
    """The first script file named in `.debug_gdb_scripts` (entries: a kind byte, 1 for
    a file name, then a NUL-terminated string)."""
    position = 0
    while position < len(scripts):
        kind = scripts[position]
        end = scripts.find(b"\0", position + 1)
        if end < 0:
            return None
        if kind == 1 and end > position + 1:
            return scripts[position + 1 : end].decode(errors="replace")
        position = end + 1
    return None


def read_go_binary(path: str | Path) -> GoBinary | None:
    """The Go facts of the ELF at `path`; None when it is not a Go program (or not a
    readable 64-bit little-endian ELF)."""
    try:
        with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, prot=mmap.PROT_READ) as data:
            return go_binary_of(str(path), data)
    except (OSError, ValueError):  # ValueError: an empty file cannot be mapped
        return None


def go_binary_of(path: str, data: bytes | mmap.mmap) -> GoBinary | None:
    sections = {section.name: section for section in read_sections(data)}
    if not GO_SECTIONS & sections.keys():
        return None
    buildinfo = sections.get(".go.buildinfo")
    scripts = sections.get(".debug_gdb_scripts")
    return GoBinary(
        path=path,
        version=build_version(section_bytes(data, buildinfo)) if buildinfo else None,
        has_dwarf=any(sections[name].size for name in DWARF_SECTIONS & sections.keys()),
        gdb_script=gdb_script_path(section_bytes(data, scripts)) if scripts else None,
        x86_64=struct.unpack_from("<H", data, ELF_MACHINE_OFFSET)[0] == EM_X86_64,
    )
