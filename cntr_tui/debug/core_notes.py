"""What a core file's notes say (elf(5), core(5)): the files the process mapped
(NT_FILE, as the crashed process named them), its pid and command (NT_PRPSINFO), the
signal that ended it (the first NT_PRSTATUS) and its threads (each NT_PRSTATUS's
pr_pid). 64-bit little-endian cores only (x86-64, aarch64); anything else is not read."""

from __future__ import annotations

import struct
from dataclasses import dataclass

ELF_MAGIC = b"\x7fELF"
ELFCLASS64 = 2
ELFDATA2LSB = 1
ET_CORE = 4
PT_NOTE = 4
NT_PRSTATUS = 1
NT_PRPSINFO = 3
NT_FILE = 0x46494C45
MAX_NOTES_SIZE = 64 << 20  # a note segment larger than this is not a core's


@dataclass(frozen=True)
class MappedFile:
    start: int
    end: int
    offset: int  # in pages
    path: str


@dataclass(frozen=True)
class CoreNotes:
    pid: int | None
    command: str | None  # pr_fname: the first 15 bytes of the program's name
    arguments: str | None  # pr_psargs: the start of its command line
    signal: int | None
    files: tuple[MappedFile, ...]
    lwps: tuple[int, ...] = ()  # each NT_PRSTATUS's pr_pid: the threads, in order

    def executable(self) -> str | None:
        """The program's own file: the mapped file named as the command, else the first
        one mapped at offset 0."""
        named = [f.path for f in self.files if self.command and _base(f.path) == self.command]
        if named:
            return named[0]
        first = [f.path for f in sorted(self.files, key=lambda f: f.start) if f.offset == 0]
        return first[0] if first else None

    def paths(self) -> list[str]:
        return sorted({f.path.removesuffix(" (deleted)") for f in self.files})


def _base(path: str) -> str:
    return path.rsplit("/", 1)[-1][:15]


def read_core_notes(path: str) -> CoreNotes | None:
    """The notes of the core at `path`; None when it is not a 64-bit little-endian
    core (OSError when it cannot be read)."""
    with open(path, "rb") as file:
        header = file.read(64)
        if len(header) < 64 or not _is_core_header(header):
            return None
        (phoff,) = struct.unpack_from("<Q", header, 32)
        phentsize, phnum = struct.unpack_from("<HH", header, 54)
        file.seek(phoff)
        table = file.read(phentsize * phnum)
        notes: list[tuple[int, bytes]] = []
        for index in range(phnum):
            p_type, _flags, p_offset, _vaddr, _paddr, p_filesz = struct.unpack_from(
                "<IIQQQQ", table, index * phentsize
            )
            if p_type == PT_NOTE and p_filesz <= MAX_NOTES_SIZE:
                file.seek(p_offset)
                notes += _notes(file.read(p_filesz))
    return _decoded(notes)


def _is_core_header(header: bytes) -> bool:
    return (
        header[:4] == ELF_MAGIC
        and header[4] == ELFCLASS64
        and header[5] == ELFDATA2LSB
        and struct.unpack_from("<H", header, 16)[0] == ET_CORE
    )


def _notes(segment: bytes) -> list[tuple[int, bytes]]:
    found = []
    at = 0
    while at + 12 <= len(segment):
        namesz, descsz, kind = struct.unpack_from("<III", segment, at)
        at += 12 + _aligned(namesz)
        found.append((kind, segment[at : at + descsz]))
        at += _aligned(descsz)
    return found


def _aligned(size: int) -> int:
    return (size + 3) & ~3


def _decoded(notes: list[tuple[int, bytes]]) -> CoreNotes:
    pid = command = arguments = signal = None
    files: tuple[MappedFile, ...] = ()
    lwps = [
        struct.unpack_from("<i", d, 32)[0] for k, d in notes if k == NT_PRSTATUS and len(d) >= 36
    ]
    for kind, desc in notes:
        if kind == NT_PRPSINFO and len(desc) >= 136 and pid is None:
            (pid,) = struct.unpack_from("<i", desc, 24)
            command = _text(desc[40:56])
            arguments = _text(desc[56:136])
        elif kind == NT_PRSTATUS and len(desc) >= 4 and signal is None:
            (signal,) = struct.unpack_from("<i", desc, 0)
        elif kind == NT_FILE and len(desc) >= 16 and not files:
            files = _files(desc)
    return CoreNotes(pid, command, arguments, signal, files, tuple(lwps))


def _files(desc: bytes) -> tuple[MappedFile, ...]:
    count, _page_size = struct.unpack_from("<QQ", desc, 0)
    table_end = 16 + 24 * count
    if table_end > len(desc):
        return ()
    names = desc[table_end:].split(b"\0")
    mapped = []
    for index in range(min(count, len(names))):
        start, end, offset = struct.unpack_from("<QQQ", desc, 16 + 24 * index)
        mapped.append(MappedFile(start, end, offset, names[index].decode(errors="replace")))
    return tuple(mapped)


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode(errors="replace").strip()
