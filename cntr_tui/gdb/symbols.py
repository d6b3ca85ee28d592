"""Symbols and sources through the merged root: substitute-path rules and the symbol
report (per loaded object: where it is, its build-id, where its symbols
and debug info came from, and for a missing one why and what would fix it).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import PurePosixPath

from cntr_tui.gdb.elf import ElfInfo, compile_unit_paths, read_elf
from cntr_tui.gdb.placement import HOST_DEBUG_DIR, Placement
from cntr_tui.gdb.records import ObjectSymbols
from cntr_tui.gdb.settings import debug_directories
from cntr_tui.linux.procfs import executable_link, read_bytes, root_link


def executable_in_container(host_pid: int) -> str | None:
    """The path of a process's executable as its own root names it.

    gdb reads `/proc/PID/exe` as *we* see it (a host path, under the container's storage)
    and would look for that path under its sysroot; the container's own path is that
    host path minus the process's root.
    """
    try:
        executable = executable_link(host_pid)
        root = root_link(host_pid)
    except OSError:
        return None
    if executable.endswith(" (deleted)"):
        return None
    if root == "/":
        return executable
    if executable.startswith(root.rstrip("/") + "/"):
        return executable[len(root.rstrip("/")) :]
    return None


def source_directory_rules(placement: Placement, directories: set[str]) -> list[tuple[str, str]]:
    """substitute-path rules for source folders recorded at build time (DWARF comp_dir).

    A folder that exists for gdb as it is needs no rule; otherwise its copy in the
    container is used when there is one. Relative folders cannot be mapped.
    """
    rules: list[tuple[str, str]] = []
    if not placement.container_root:
        return rules
    for directory in sorted(directories):
        if not directory.startswith("/") or directory == "/":
            continue
        if os.path.isdir(placement.to_host(directory)):
            continue
        in_container = placement.container_path(directory)
        if os.path.isdir(placement.to_host(in_container)):
            rules.append((directory, in_container))
    return rules


def compile_directories(object_path_on_host: str) -> set[str]:
    """The folders sources of an object were compiled in (absolute ones only)."""
    folders: set[str] = set()
    for comp_dir, name in compile_unit_paths(object_path_on_host):
        if name.startswith("/"):
            folders.add(str(PurePosixPath(name).parent))
        elif comp_dir.startswith("/"):
            folders.add(str(PurePosixPath(comp_dir, name).parent))
            folders.add(comp_dir)
    return folders


def candidate_debug_files(gdb_path: str, info: ElfInfo, placement: Placement) -> list[str]:
    """Where gdb looks for a separate debug file, in its order, as gdb names them."""
    candidates: list[str] = []
    folders = debug_directories(placement)
    if info.build_id and len(info.build_id) > 2:
        head, tail = info.build_id[:2], info.build_id[2:]
        candidates += [f"{folder}/.build-id/{head}/{tail}.debug" for folder in folders]
    if info.debuglink:
        directory = str(PurePosixPath(gdb_path).parent)
        in_container = placement.in_container(directory)
        candidates += [f"{directory}/{info.debuglink}", f"{directory}/.debug/{info.debuglink}"]
        candidates += [f"{folder}{in_container}/{info.debuglink}" for folder in folders]
    return candidates


def find_debug_file(gdb_path: str, info: ElfInfo, placement: Placement) -> str | None:
    for candidate in candidate_debug_files(gdb_path, info, placement):
        debug = read_elf(placement.to_host(candidate))
        if debug is None or not debug.has_debug_info:
            continue
        if info.build_id and debug.build_id and debug.build_id != info.build_id:
            continue  # a debuglink match from another build: gdb rejects it too
        return candidate
    return None


def owning_package(host_path: str) -> str | None:
    """The Debian package that installed `host_path` on the host, if dpkg knows it."""
    if shutil.which("dpkg-query") is None:
        return None
    result = subprocess.run(
        ["dpkg-query", "-S", host_path], capture_output=True, text=True, timeout=10
    )
    if result.returncode != 0 or ":" not in result.stdout:
        return None
    return result.stdout.split(":", 1)[0].split(",")[0].strip() or None


def same_file_on_host(path_in_container: str, build_id: str | None) -> str | None:
    """The host's copy of a container object, when it is the very same build."""
    if build_id is None:
        return None
    host = read_elf(path_in_container)
    if host is not None and host.build_id == build_id:
        return path_in_container
    real = os.path.realpath(path_in_container)
    host = read_elf(real) if real != path_in_container else None
    return real if host is not None and host.build_id == build_id else None


def missing_debug_fix(path: str, info: ElfInfo, placement: Placement) -> str:
    host_copy = same_file_on_host(path, info.build_id)
    package = owning_package(host_copy) if host_copy else None
    wanted = (
        f"{HOST_DEBUG_DIR}/.build-id/{info.build_id[:2]}/{info.build_id[2:]}.debug"
        if info.build_id
        else f"{HOST_DEBUG_DIR}/<path>/{info.debuglink or PurePosixPath(path).name + '.debug'}"
    )
    hints = []
    if package:
        hints.append(f"install {package}-dbgsym (or {package}-dbg) on the host")
    else:
        hints.append("install the debug package of the image's distribution on the host")
    hints.append(f"or place the debug file at {wanted}")
    hints.append("or add its folder with `set debug-file-directory`")
    return ", ".join(hints)


def describe_object(
    gdb_path: str, placement: Placement, loaded_by_gdb: bool | None = None
) -> ObjectSymbols:
    """The symbol report line for one object gdb loaded from `gdb_path`."""
    path = placement.in_container(gdb_path)
    info = read_elf(placement.to_host(gdb_path))
    if info is None:
        return ObjectSymbols(
            path,
            gdb_path,
            None,
            "unreadable",
            None,
            loaded_by_gdb,
            problem="the file cannot be read (gone, or not an ELF object gdb can use)",
            fix="check that the process still maps it; a deleted file cannot be read",
        )
    if info.has_debug_info:
        return ObjectSymbols(path, gdb_path, info.build_id, "debug-info", "embedded", loaded_by_gdb)
    debug_file = find_debug_file(gdb_path, info, placement)
    if debug_file is not None:
        return ObjectSymbols(path, gdb_path, info.build_id, "debug-info", debug_file, loaded_by_gdb)
    status = "symbols" if info.has_symtab or info.has_minidebuginfo else "dynamic"
    what = "a symbol table but no debug info" if status == "symbols" else "only dynamic symbols"
    looked = ", ".join(candidate_debug_files(gdb_path, info, placement)[:3]) or "nowhere"
    return ObjectSymbols(
        path,
        gdb_path,
        info.build_id,
        status,
        "embedded" if status == "symbols" else None,
        loaded_by_gdb,
        problem=f"stripped: {what}; no separate debug file (looked at {looked})",
        fix=missing_debug_fix(path, info, placement),
    )


# ELF64 little-endian (x86-64, arm64): the auxiliary vector's entries, program header
# and dynamic entry types the dynamic linker's list is found by
AT_PHDR, AT_PHNUM = 3, 5
PT_DYNAMIC, PT_PHDR = 2, 6
DT_DEBUG = 21
PHDR_SIZE, LINK_MAP_LIMIT, NAME_LIMIT = 56, 4096, 4096


def loaded_objects(host_pid: int) -> list[tuple[str, int]]:
    """The shared objects the dynamic linker of a running process has loaded, as its
    list (`r_debug.r_map`) names them, with their load bias (`l_addr`): read from
    /proc/PID/mem without stopping the program, so that gdb may read their symbols
    before it stops the program (the names are those gdb's own list will give, under
    its sysroot). Empty for a static program or one we may not read; a list being
    changed meanwhile (a dlopen) may be read in part: gdb's own, after the stop, is
    complete."""
    try:
        auxv = read_bytes(host_pid, "auxv")
        fd = os.open(f"/proc/{host_pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return []
    try:
        return link_map(auxv, lambda address, size: os.pread(fd, size, address))
    except (OSError, struct.error, ValueError, OverflowError):
        return []
    finally:
        os.close(fd)


def link_map(auxv: bytes, read: Callable[[int, int], bytes]) -> list[tuple[str, int]]:
    """`loaded_objects` from the auxiliary vector and a reader of the process's memory."""
    entries = dict(struct.iter_unpack("<QQ", auxv[: len(auxv) // 16 * 16]))
    phdr, count = entries.get(AT_PHDR), entries.get(AT_PHNUM)
    if not phdr or not count:
        return []
    headers = [
        struct.unpack_from("<IIQQQQQQ", read(phdr + index * PHDR_SIZE, PHDR_SIZE))
        for index in range(min(count, 64))
    ]
    own = next((h for h in headers if h[0] == PT_PHDR), None)
    dynamic = next((h for h in headers if h[0] == PT_DYNAMIC), None)
    if own is None or dynamic is None:
        return []
    bias = phdr - own[3]
    table = read(bias + dynamic[3], dynamic[6])
    debug = next(
        (
            value
            for tag, value in struct.iter_unpack("<qQ", table[: len(table) // 16 * 16])
            if tag == DT_DEBUG
        ),
        0,
    )
    if not debug:
        return []
    (entry,) = struct.unpack("<Q", read(debug + 8, 8))  # r_debug.r_map
    found: list[tuple[str, int]] = []
    for _ in range(LINK_MAP_LIMIT):
        if not entry:
            break
        l_addr, l_name, _l_ld, l_next = struct.unpack("<QQQQ", read(entry, 32))
        name = read(l_name, NAME_LIMIT).split(b"\0", 1)[0].decode() if l_name else ""
        if name.startswith("/"):
            found.append((name, l_addr))
        entry = l_next
    return found
