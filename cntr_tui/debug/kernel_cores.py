"""Cores the kernel wrote for a container's crashed processes, found and kept.

When core_pattern names a file (not a `|` pipe), the kernel creates the core in the
crashing process's own mount namespace, relative to its working folder when the
pattern is relative: the core sits in the container's root. It is found there from the
host through the main process's /proc/PID/root (the pattern's folder when absolute,
else the working folders of the container's processes, its `/` and `/tmp`), and
matched to the container by where it lies. Nothing runs in the container and nothing
is written there. A pipe pattern (systemd-coredump, apport) is not read: its cores are
on the host, in the handler's store.

Keeping one makes the same bundle as `cntr-tui core` (core_bundle.py) from the core's
own notes: the files it names (NT_FILE) are copied from the container's root, so
`cntr-tui gdb --core FILE` opens it after the container is gone. A file replaced in
the container since the crash is copied as it is now; its build-id is in the
manifest for gdb to check against the core's.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cntr_tui.attach.container import Container
from cntr_tui.attach.runtimes.base import DiscoveryConfig
from cntr_tui.debug.core_bundle import (
    CoreBundle,
    KeptObject,
    default_core_path,
    folder_made_for,
    in_container,
    is_elf,
    link_core,
    refuse_existing,
    write_manifest,
)
from cntr_tui.debug.core_notes import CoreNotes, read_core_notes
from cntr_tui.debug.snapshot import container_json
from cntr_tui.debug.snapshot_text import KERNEL_TRACER
from cntr_tui.errors import UserError
from cntr_tui.gdb.elf import read_elf
from cntr_tui.linux import namespaces
from cntr_tui.linux.procfs import PROC

CORE_PATTERN = f"{PROC}/sys/kernel/core_pattern"
CORE_USES_PID = f"{PROC}/sys/kernel/core_uses_pid"
SPECIFIER = re.compile(r"%(.)")
ALWAYS_LOOKED_IN = ("/", "/tmp")
MAX_FILES_PER_FOLDER = 10_000  # a folder read for cores: no more entries than this


@dataclass(frozen=True)
class CorePattern:
    """/proc/sys/kernel/core_pattern read as where a file core goes."""

    text: str
    uses_pid: bool

    @property
    def is_pipe(self) -> bool:
        return self.text.startswith("|")

    @property
    def not_read(self) -> str | None:
        """The one line saying the kernel's cores are not looked for, for a pipe."""
        if not self.is_pipe:
            return None
        return f"core_pattern pipes cores to {self.text[1:].split()[0]}: not looked for"

    @property
    def folder(self) -> str | None:
        """The pattern's own folder when it is absolute; None for the working one."""
        if "/" not in self.text:
            return None
        folder = self.text.rsplit("/", 1)[0] or "/"
        return None if "%" in folder else folder

    def names(self, name: str) -> bool:
        """Whether a file called `name` is one this pattern makes."""
        base = self.text.rsplit("/", 1)[-1]
        glob = SPECIFIER.sub(lambda m: "%" if m.group(1) == "%" else "*", base.replace("*", "[*]"))
        if fnmatch.fnmatchcase(name, glob):
            return True
        return (
            self.uses_pid
            and "%p" not in base
            and re.fullmatch(re.escape(base) + r"\.\d+", name) is not None
        )


def core_pattern() -> CorePattern:
    text = Path(CORE_PATTERN).read_text().strip()
    with contextlib.suppress(OSError, ValueError):
        return CorePattern(text, int(Path(CORE_USES_PID).read_text()) != 0)
    return CorePattern(text, False)


@dataclass(frozen=True)
class KernelCore:
    container: Container
    path: str  # where it is in the container
    size: int
    modified: float
    notes: CoreNotes


def container_root(container: Container) -> str:
    return f"{PROC}/{container.pid}/root"


def host_path_of(container: Container, path: str) -> str:
    """The host's path of `path` in the container, its links resolved inside the
    container's root (an absolute link there names the container's file, not ours)."""
    return DiscoveryConfig.in_host_root(container_root(container), path)


def looked_in(container: Container, pattern: CorePattern) -> list[str]:
    """The folders of the container where its kernel cores can be."""
    if pattern.folder is not None:
        return [pattern.folder]
    folders = list(ALWAYS_LOOKED_IN)
    own_root = os.readlink(container_root(container))
    with contextlib.suppress(OSError):
        inode = namespaces.namespace_inode(container.pid, "mnt")
        for pid in namespaces.members(inode, "mnt"):
            with contextlib.suppress(OSError):
                # a chrooted process's cwd names the host's path under its root
                folders.append(in_container(os.readlink(f"{PROC}/{pid}/cwd"), own_root))
    return list(dict.fromkeys(folders))


def kernel_cores(container: Container, pattern: CorePattern | None = None) -> list[KernelCore]:
    """The kernel's cores in the container, newest first (none for a pipe pattern)."""
    pattern = pattern or core_pattern()
    if pattern.is_pipe or container.pid <= 0:
        return []
    found: dict[str, KernelCore] = {}
    for folder in looked_in(container, pattern):
        host_folder = host_path_of(container, folder)
        with contextlib.suppress(OSError), os.scandir(host_folder) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_FILES_PER_FOLDER:
                    break
                if not pattern.names(entry.name) or not entry.is_file(follow_symlinks=False):
                    continue
                path = f"{folder.rstrip('/')}/{entry.name}"
                core = _read_core(container, path, entry.path)
                if core is not None:
                    found.setdefault(path, core)
    return sorted(found.values(), key=lambda core: core.modified, reverse=True)


def _read_core(container: Container, path: str, host_path: str) -> KernelCore | None:
    with contextlib.suppress(OSError):
        notes = read_core_notes(host_path)
        if notes is None:
            return None
        status = os.stat(host_path, follow_symlinks=False)
        return KernelCore(container, path, status.st_size, status.st_mtime, notes)
    return None


def kernel_core_at(container: Container, path: str) -> KernelCore:
    """The core at `path` in the container; UserError (one line) when it is not one."""
    if not path.startswith("/"):
        raise UserError(f"{path}: give the core's absolute path in the container")
    host_path = host_path_of(container, path)
    if not os.path.isfile(host_path):
        raise UserError(f"{path}: no such file in {container.runtime} container {container.name}")
    core = _read_core(container, path, host_path)
    if core is None:
        raise UserError(f"{path} in {container.name}: not a 64-bit little-endian core file")
    return core


def keep_kernel_core(core: KernelCore, output: str | None = None) -> CoreBundle:
    """The core copied to the host with the files it maps (a whole bundle or none:
    UserError, one line, after a failure such as a full disk)."""
    container = core.container
    if output is not None:
        destination = Path(output).absolute()
    else:
        when = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(core.modified))
        pid = core.notes.pid or 0
        destination = default_core_path(container.runtime, container.name, pid, when)
    refuse_existing(destination)
    bundle = CoreBundle(destination)
    try:
        with folder_made_for(bundle):
            try:
                shutil.copyfile(host_path_of(container, core.path), destination)
                kept = _keep_mapped(bundle, core)
                link_core(bundle)
                write_manifest(bundle, _manifest(core), kept)
            except BaseException:
                bundle.remove()
                raise
    except OSError as error:
        raise UserError(f"keeping {core.path}: {error.strerror or error}") from error
    return bundle


def _keep_mapped(bundle: CoreBundle, core: KernelCore) -> list[KeptObject]:
    kept = []
    for path in core.notes.paths():
        source = host_path_of(core.container, path)
        if not os.path.isfile(source):  # gone since the crash: gdb says which is missing
            continue
        if not is_elf(source):
            continue
        destination = bundle.sysroot / path.lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        info = read_elf(destination)
        build_id = info.build_id if info is not None else None
        kept.append(KeptObject(path, build_id, str(destination.relative_to(bundle.objects))))
    return kept


def _manifest(core: KernelCore) -> dict[str, Any]:
    notes = core.notes
    return {
        "container": container_json(core.container),
        "process": {
            "host_pid": None,
            "pid": notes.pid,
            "executable": notes.executable(),
            "start_ticks": None,
            "tracer": KERNEL_TRACER,
        },
        "taken": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(core.modified)),
        "pause_ms": None,
        "language": None,
        "kernel_core": {
            "path": core.path,
            "signal": notes.signal,
            "command": notes.arguments or notes.command,
        },
    }
