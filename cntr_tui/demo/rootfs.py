"""Build the slim demo root file system: busybox, the demo programs with debug info,
their sources and the shared libraries they need. No gdb, no package manager.

The result is cached under a folder named after a hash of the inputs, so building
again is cheap and every runtime gets the very same files. Nothing runs on the cache
itself (containers get a copy, `containers.throwaway_root`); a cache whose `dev` or
`tmp` is not empty (written to by an older cntr-tui) is built anew.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cntr_tui.errors import UserError

CACHE_DIR = Path("/var/cache/cntr-tui")
SOURCE_DIR_IN_CONTAINER = "/app/src"
BUSYBOX = Path("/bin/busybox")
EMPTY_FOLDERS = ("dev", "tmp")  # as built; a file in one was written by a container


@dataclass(frozen=True)
class Program:
    """One demo program: its source file and how it is compiled."""

    binary: str
    source: str
    compiler: str
    flags: tuple[str, ...]


PROGRAMS = (
    Program("threads", "threads.c", "gcc", ("-g", "-O0", "-pthread")),
    Program("shapes", "shapes.cpp", "g++", ("-g", "-O0", "-pthread", "-std=c++17")),
    Program("stalls", "stalls.c", "gcc", ("-g", "-O0", "-pthread")),
)


def program_sources() -> dict[str, bytes]:
    folder = resources.files("cntr_tui.demo") / "programs"
    return {p.source: (folder / p.source).read_bytes() for p in PROGRAMS}


def rootfs_key(sources: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + sources[name])
    digest.update(BUSYBOX.read_bytes() if BUSYBOX.exists() else b"")
    digest.update(b"layout-2")
    return digest.hexdigest()[:12]


def shared_libraries(binary: Path) -> list[Path]:
    """The host paths of the libraries `binary` loads (the dynamic loader included)."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    paths: list[Path] = []
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts:
            target = parts[parts.index("=>") + 1]
            if target.startswith("/"):
                paths.append(Path(target))
        elif parts and parts[0].startswith("/"):
            paths.append(Path(parts[0]))
    return paths


def copy_library(library: Path, root: Path) -> None:
    """Copy a library under the same path in `root`, as a regular file."""
    destination = root / library.relative_to("/")
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(library.resolve(), destination)


def compile_program(program: Program, build_dir: Path, out_dir: Path) -> Path:
    output = out_dir / program.binary
    command = [
        program.compiler,
        *program.flags,
        # Sources are recorded under /app/src, where the container holds their copy.
        f"-fdebug-prefix-map={build_dir}={SOURCE_DIR_IN_CONTAINER}",
        "-o",
        str(output),
        program.source,
    ]
    result = subprocess.run(command, cwd=build_dir, capture_output=True, text=True)
    if result.returncode != 0:
        raise UserError(f"compiling {program.source} failed: {result.stderr.strip()[:300]}")
    return output


def write_base_files(root: Path) -> None:
    for folder in ("proc", "sys", "dev", "tmp", "etc", "usr", "root", "var", "run"):
        (root / folder).mkdir(exist_ok=True)
    (root / "tmp").chmod(0o1777)
    (root / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
    )
    (root / "etc/group").write_text("root:x:0:\nnogroup:x:65534:\n")
    (root / "etc/hostname").write_text("cntr-demo\n")
    (root / "etc/os-release").write_text(
        'NAME="cntr-tui demo"\nID=cntr-demo\nPRETTY_NAME="cntr-tui slim demo container"\n'
    )


def install_busybox(root: Path) -> None:
    if not BUSYBOX.exists():
        raise UserError(f"{BUSYBOX} is missing: install busybox-static")
    (root / "bin").mkdir(exist_ok=True)
    shutil.copy2(BUSYBOX, root / "bin/busybox")
    applets = subprocess.run(
        [str(BUSYBOX), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    for applet in applets:
        link = root / "bin" / applet
        if applet != "busybox" and not link.exists():
            link.symlink_to("busybox")


def is_pristine(root: Path) -> bool:
    return not any(
        (root / folder).is_dir() and any((root / folder).iterdir()) for folder in EMPTY_FOLDERS
    )


def set_aside(root: Path) -> None:
    """Remove a written-to cache, renamed first: no one finds it half removed."""
    aside = Path(tempfile.mkdtemp(prefix="rootfs-stale-", dir=root.parent))
    os.replace(root, aside / "root")
    shutil.rmtree(aside, ignore_errors=True)


def cached_root(final: Path, fill: Callable[[Path, Path], None]) -> Path:
    """`final`, built by `fill(root, scratch)` in a staging folder beside it and renamed
    into place when complete, unless a pristine one is there already (every demo root
    is cached this way: a half-built or written-to root is never used)."""
    if final.is_dir():
        if is_pristine(final):
            return final
        set_aside(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{final.name}-build-", dir=final.parent))
    try:
        root, scratch = staging / "root", staging / "build"
        root.mkdir()
        scratch.mkdir()
        fill(root, scratch)
        os.replace(root, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def build_rootfs(cache_dir: Path = CACHE_DIR) -> Path:
    """Return the path of the demo root file system, building it when absent."""
    sources = program_sources()

    def fill(root: Path, build: Path) -> None:
        write_base_files(root)
        install_busybox(root)
        app = root / "app"
        (app / "src").mkdir(parents=True)
        libraries: set[Path] = set()
        for program in PROGRAMS:
            (build / program.source).write_bytes(sources[program.source])
            (app / "src" / program.source).write_bytes(sources[program.source])
            binary = compile_program(program, build, app)
            libraries.update(shared_libraries(binary))
        for library in sorted(libraries):
            copy_library(library, root)

    return cached_root(cache_dir / f"rootfs-{rootfs_key(sources)}", fill)
