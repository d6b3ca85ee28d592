"""Just enough ELF and DWARF reading for the symbol report and for source paths:
build-id, `.gnu_debuglink`, which symbol/debug sections exist, and the compile
directories of the DWARF units. 64-bit little-endian ELF only (x86-64, aarch64);
anything else reads as "unknown" rather than failing.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

SHF_COMPRESSED = 0x800
NT_GNU_BUILD_ID = 3
DW_AT_NAME = 0x03
DW_AT_COMP_DIR = 0x1B
DW_TAG_COMPILE_UNIT = 0x11


@dataclass(frozen=True)
class Section:
    name: str
    type: int
    flags: int
    offset: int
    size: int


@dataclass(frozen=True)
class ElfInfo:
    """What one ELF file holds, as far as finding its symbols goes."""

    build_id: str | None
    debuglink: str | None
    sections: frozenset[str] = field(default_factory=frozenset)

    @property
    def has_symtab(self) -> bool:
        return ".symtab" in self.sections

    @property
    def has_debug_info(self) -> bool:
        return ".debug_info" in self.sections or ".zdebug_info" in self.sections

    @property
    def has_minidebuginfo(self) -> bool:
        return ".gnu_debugdata" in self.sections


def read_sections(data: bytes) -> list[Section]:
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return []
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    if not shoff or shentsize < 64 or shoff + shnum * shentsize > len(data):
        return []
    raw = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names_offset = raw[shstrndx][4] if shstrndx < len(raw) else 0
    sections = []
    for name, kind, flags, _addr, offset, size in raw:
        start = names_offset + name
        end = data.find(b"\0", start)
        sections.append(
            Section(data[start:end].decode(errors="replace"), kind, flags, offset, size)
        )
    return sections


def section_bytes(data: bytes, section: Section) -> bytes:
    if section.type == 8:  # SHT_NOBITS: in a separate debug file the code is absent
        return b""
    raw = data[section.offset : section.offset + section.size]
    if section.flags & SHF_COMPRESSED and len(raw) >= 24:
        kind = struct.unpack_from("<I", raw, 0)[0]
        return zlib.decompress(raw[24:]) if kind == 1 else b""
    return raw


def parse_build_id(notes: bytes) -> str | None:
    position = 0
    while position + 12 <= len(notes):
        name_size, desc_size, kind = struct.unpack_from("<III", notes, position)
        name_start = position + 12
        desc_start = name_start + (name_size + 3) // 4 * 4
        if kind == NT_GNU_BUILD_ID and notes[name_start : name_start + 3] == b"GNU":
            return notes[desc_start : desc_start + desc_size].hex()
        position = desc_start + (desc_size + 3) // 4 * 4
    return None


def read_elf(path: str | Path) -> ElfInfo | None:
    """The ELF facts of `path`; None when it cannot be read or is not a 64-bit LE ELF."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    sections = read_sections(data)
    if not sections:
        return None
    build_id = debuglink = None
    for section in sections:
        if section.type == 7 and build_id is None:  # SHT_NOTE
            build_id = parse_build_id(section_bytes(data, section))
        elif section.name == ".gnu_debuglink":
            raw = section_bytes(data, section)
            debuglink = raw.split(b"\0", 1)[0].decode(errors="replace") or None
    return ElfInfo(build_id, debuglink, frozenset(s.name for s in sections if s.size))


def read_uleb(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, position


def read_sleb(data: bytes, position: int) -> tuple[int, int]:
    value, end = read_uleb(data, position)
    if data[end - 1] & 0x40:  # the sign bit of the last byte
        value -= 1 << (7 * (end - position))
    return value, end


def c_string(data: bytes, offset: int) -> str:
    end = data.find(b"\0", offset)
    return data[offset : end if end >= 0 else len(data)].decode(errors="replace")


def read_abbreviation(abbrev: bytes, offset: int, code: int) -> list[tuple[int, int, int]] | None:
    """The (attribute, form, implicit value) list of abbreviation `code` of a table."""
    position = offset
    while position < len(abbrev):
        entry, position = read_uleb(abbrev, position)
        if entry == 0:
            return None
        tag, position = read_uleb(abbrev, position)
        position += 1  # has-children
        specs = []
        while True:
            attribute, position = read_uleb(abbrev, position)
            form, position = read_uleb(abbrev, position)
            implicit = 0
            if form == 0x21:  # DW_FORM_implicit_const
                implicit, position = read_sleb(abbrev, position)
            if attribute == 0 and form == 0:
                break
            specs.append((attribute, form, implicit))
        if entry == code:
            return specs if tag == DW_TAG_COMPILE_UNIT else None
    return None


FIXED_FORM_SIZES = {
    0x0B: 1, 0x11: 1, 0x0C: 1, 0x25: 1, 0x29: 1,  # data1 ref1 flag strx1 addrx1
    0x05: 2, 0x12: 2, 0x26: 2, 0x2A: 2,  # data2 ref2 strx2 addrx2
    0x27: 3, 0x2B: 3,  # strx3 addrx3
    0x06: 4, 0x13: 4, 0x28: 4, 0x2C: 4, 0x1C: 4,  # data4 ref4 strx4 addrx4 ref_sup4
    0x07: 8, 0x14: 8, 0x20: 8, 0x24: 8,  # data8 ref8 ref_sig8 ref_sup8
    0x1E: 16,  # data16
    0x19: 0, 0x21: 0,  # flag_present implicit_const
}  # fmt: skip


def compile_unit_paths(path: str | Path) -> list[tuple[str, str]]:
    """(comp_dir, name) of every DWARF compile unit in `path` (32-bit DWARF 2-5)."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return []
    sections = {s.name: s for s in read_sections(data)}
    if ".debug_info" not in sections or ".debug_abbrev" not in sections:
        return []
    info = section_bytes(data, sections[".debug_info"])
    abbrev = section_bytes(data, sections[".debug_abbrev"])
    strings = section_bytes(data, sections[".debug_str"]) if ".debug_str" in sections else b""
    line_strings = (
        section_bytes(data, sections[".debug_line_str"]) if ".debug_line_str" in sections else b""
    )
    units: list[tuple[str, str]] = []
    position = 0
    while position + 11 <= len(info):
        length = struct.unpack_from("<I", info, position)[0]
        if length >= 0xFFFFFFF0:
            break  # 64-bit DWARF: not produced by the toolchains we meet
        unit_end = position + 4 + length
        version = struct.unpack_from("<H", info, position + 4)[0]
        if version >= 5:
            unit_type, address_size = info[position + 6], info[position + 7]
            abbrev_offset = struct.unpack_from("<I", info, position + 8)[0]
            die = position + 12 + (8 if unit_type in (4, 5) else 0)  # skeleton/split id
        else:
            abbrev_offset = struct.unpack_from("<I", info, position + 6)[0]
            address_size = info[position + 10]
            die = position + 11
        try:
            unit = read_unit_die(info, die, abbrev, abbrev_offset, address_size)
        except (IndexError, struct.error):
            unit = None
        if unit is not None:
            names = resolve_unit_strings(unit, strings, line_strings)
            if names is not None:
                units.append(names)
        position = unit_end
    return units


def read_unit_die(
    info: bytes, position: int, abbrev: bytes, abbrev_offset: int, address_size: int
) -> dict[int, tuple[int, object]] | None:
    """The attributes (form, raw value) of the compile unit's first DIE."""
    code, position = read_uleb(info, position)
    specs = read_abbreviation(abbrev, abbrev_offset, code)
    if specs is None:
        return None
    values: dict[int, tuple[int, object]] = {}
    for attribute, form, _implicit in specs:
        value: object = None
        if form == 0x08:  # string
            end = info.index(b"\0", position)
            value, position = info[position:end].decode(errors="replace"), end + 1
        elif form in (0x0E, 0x1F, 0x17, 0x10):  # strp line_strp sec_offset ref_addr
            value, position = struct.unpack_from("<I", info, position)[0], position + 4
        elif form == 0x01:  # addr
            position += address_size
        elif form in (0x0F, 0x15, 0x1A, 0x1B):  # udata ref_udata strx addrx
            value, position = read_uleb(info, position)
        elif form == 0x0D:  # sdata
            _, position = read_sleb(info, position)
        elif form in (0x0A, 0x18):  # block1 exprloc-ish: length-prefixed
            size, position = (
                (info[position], position + 1) if form == 0x0A else read_uleb(info, position)
            )
            position += size
        elif form in FIXED_FORM_SIZES:
            position += FIXED_FORM_SIZES[form]
        else:
            return values or None  # a form we do not know: keep what was read so far
        values[attribute] = (form, value)
    return values


def resolve_unit_strings(
    unit: dict[int, tuple[int, object]], strings: bytes, line_strings: bytes
) -> tuple[str, str] | None:
    def text(attribute: int) -> str:
        form, value = unit.get(attribute, (0, None))
        if isinstance(value, str):
            return value
        if form == 0x0E and isinstance(value, int):
            return c_string(strings, value)
        if form == 0x1F and isinstance(value, int):
            return c_string(line_strings, value)
        return ""

    comp_dir, name = text(DW_AT_COMP_DIR), text(DW_AT_NAME)
    return (comp_dir, name) if comp_dir or name else None
