"""A core taken by `cntr-tui core`, kept so that it opens after the container and its
image are gone:

    FILE            the core (gdb's gcore)
    FILE.json       the manifest: the container, the process, when, the pause, and
                    every mapped object with its build-id
    FILE.objects/   sysroot/<path in the container>: a copy of each mapped object (the
                    very file mapped, read through /proc/PID/map_files; where the core
                    names it by another path, a link there too), sysroot/.cntr-tui-core:
                    a hard link of the core (for a reader chrooted into the sysroot), and
                    debug/.build-id/xx/yyyy.debug: the container's debug files for them

Opening it points gdb's sysroot at FILE.objects/sysroot (commands/gdb.py --core,
snapshot --core). Nothing here runs in the container or writes into it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cntr_tui.errors import UserError
from cntr_tui.gdb.elf import read_elf
from cntr_tui.linux.procfs import PROC

SCHEMA_NAME = "cntr-tui/core"
SCHEMA_VERSION = 1
DEFAULT_FOLDER = Path("/var/lib/cntr-tui/cores")
CORE_LINK = ".cntr-tui-core"
MAPPING = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s+(/.*)$")


@dataclass(frozen=True)
class KeptObject:
    """A mapped object: `path` as the container names it, `kept` and `debug` relative to
    the bundle's objects folder."""

    path: str
    build_id: str | None
    kept: str
    debug: str | None = None


@dataclass(frozen=True)
class CoreBundle:
    core: Path

    @property
    def manifest_path(self) -> Path:
        return self.core.with_name(self.core.name + ".json")

    @property
    def objects(self) -> Path:
        return self.core.with_name(self.core.name + ".objects")

    @property
    def sysroot(self) -> Path:
        return self.objects / "sysroot"

    @property
    def debug_folder(self) -> Path:
        return self.objects / "debug"

    @property
    def core_in_sysroot(self) -> Path:
        """A hard link of the core inside the sysroot, for a reader chrooted there."""
        return self.sysroot / CORE_LINK

    def manifest(self) -> dict[str, Any]:
        """Raises UserError (one line) when FILE is not a core cntr-tui kept."""
        try:
            loaded: dict[str, Any] = json.loads(self.manifest_path.read_text())
        except FileNotFoundError as error:
            raise UserError(
                f"{self.core}: no manifest beside it ({self.manifest_path.name}): "
                "not a core taken by cntr-tui core"
            ) from error
        except (OSError, ValueError) as error:
            raise UserError(f"{self.manifest_path}: unreadable ({error})") from error
        if loaded.get("schema") != SCHEMA_NAME:
            raise UserError(f"{self.manifest_path}: not a cntr-tui core manifest")
        if not self.core.is_file():
            raise UserError(f"{self.core}: the core file is missing")
        return loaded

    def executable(self) -> Path:
        """The program's own file in the kept sysroot."""
        path = self.manifest()["process"]["executable"]
        return self.sysroot / str(path).lstrip("/")

    def remove(self) -> None:
        """Everything of the bundle (a partial one after a failure)."""
        for path in (self.core, self.manifest_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        shutil.rmtree(self.objects, ignore_errors=True)


def refuse_existing(path: Path, option: str = "-o FILE") -> None:
    """UserError (one line) when a core or its manifest is already at `path`; `option`
    is how the user named it."""
    if path.exists() or CoreBundle(path).manifest_path.exists():
        raise UserError(f"{path} exists: choose another {option}")


@contextlib.contextmanager
def folder_made_for(bundle: CoreBundle) -> Iterator[None]:
    """The core's folder made; on a failure inside, the folders this made are removed
    again (innermost first; only those left empty)."""
    folder = bundle.core.parent
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        yield
    except BaseException:
        for made in created:
            with contextlib.suppress(OSError):
                made.rmdir()
        raise


def default_core_path(runtime: str, name: str, pid: int, when: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{runtime}-{name}-{pid}-{when}")
    return DEFAULT_FOLDER / safe / "core"


def in_container(path: str, root: str) -> str:
    """A mapping's path as the container names it: a chrooted process's maps name the
    host's path (under its root), a pivoted one's its own."""
    if root not in ("", "/") and path.startswith(root.rstrip("/") + "/"):
        return path[len(root.rstrip("/")) :]
    return path


@dataclass(frozen=True)
class Mapped:
    """A mapped file: as the container names it, as the core names it (the process's
    maps: the host's path under a chrooted process's root), and where to read it."""

    path: str
    named: str
    entry: str


def mapped_objects(host_pid: int) -> list[Mapped]:
    """Each file the process maps, read through its /proc/PID/map_files entry (the very
    file mapped, even one replaced or deleted since)."""
    root = os.readlink(f"{PROC}/{host_pid}/root")
    found: dict[str, Mapped] = {}
    with open(f"{PROC}/{host_pid}/maps", encoding="utf-8", errors="replace") as maps:
        for line in maps:
            matched = MAPPING.match(line.rstrip("\n"))
            if matched is None or matched.group(4).startswith(("/dev/", "/memfd:")):
                continue
            named = matched.group(4).removesuffix(" (deleted)")
            start, end = (int(matched.group(n), 16) for n in (1, 2))  # named without zeros
            entry = f"{PROC}/{host_pid}/map_files/{start:x}-{end:x}"
            found.setdefault(named, Mapped(in_container(named, root), named, entry))
    return sorted(found.values(), key=lambda mapped: mapped.path)


def is_elf(path: str) -> bool:
    with open(path, "rb") as file:
        return file.read(4) == b"\x7fELF"


def debug_file_of(host_pid: int, build_id: str) -> str | None:
    """The container's separate debug file for a build-id, when it has one."""
    candidate = f"/usr/lib/debug/.build-id/{build_id[:2]}/{build_id[2:]}.debug"
    return candidate if os.path.isfile(f"{PROC}/{host_pid}/root{candidate}") else None


def keep_objects(bundle: CoreBundle, host_pid: int) -> list[KeptObject]:
    """Copy every mapped object (and the container's debug file of each) into the
    bundle; raises OSError (a full disk, most often)."""
    kept: list[KeptObject] = []
    for mapped in mapped_objects(host_pid):
        path = mapped.path
        destination = bundle.sysroot / path.lstrip("/")
        try:
            if not is_elf(mapped.entry):  # a mapped data file: not the core's to keep
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(mapped.entry, destination)
        except FileNotFoundError:  # unmapped since the maps were read
            continue
        if mapped.named != path:  # where gdb and pystack look, by the core's own paths
            alias = bundle.sysroot / mapped.named.lstrip("/")
            alias.parent.mkdir(parents=True, exist_ok=True)
            alias.symlink_to(os.path.relpath(destination, alias.parent))
        info = read_elf(destination)
        build_id = info.build_id if info is not None else None
        debug = None
        if build_id:
            found = debug_file_of(host_pid, build_id)
            if found is not None:
                target = bundle.debug_folder / found.removeprefix("/usr/lib/debug/")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f"{PROC}/{host_pid}/root{found}", target)
                debug = str(target.relative_to(bundle.objects))
        kept.append(KeptObject(path, build_id, str(destination.relative_to(bundle.objects)), debug))
    return kept


def link_core(bundle: CoreBundle) -> None:
    bundle.sysroot.mkdir(parents=True, exist_ok=True)
    os.link(bundle.core, bundle.core_in_sysroot)


def write_manifest(bundle: CoreBundle, manifest: dict[str, Any], kept: list[KeptObject]) -> None:
    document = {
        "schema": SCHEMA_NAME,
        "version": SCHEMA_VERSION,
        **manifest,
        "objects": [asdict(obj) for obj in kept],
    }
    bundle.manifest_path.write_text(json.dumps(document, indent=1) + "\n")
