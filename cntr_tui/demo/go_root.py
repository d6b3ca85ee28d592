"""Build the slim Go root: busybox and the goroutines demo program, built offline with
the host's Go toolchain (Debian's golang-go), once with DWARF and once stripped
(`-ldflags=-s -w`, the bad-input case), with its source under /app/src.

Cached like the demo root (`rootfs.build_rootfs`): a folder named after a hash of the
source, the toolchain's version and busybox, never changed once built; containers get
a copy (`containers.throwaway_root`) or an image imported from it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from cntr_tui.demo.rootfs import (
    BUSYBOX,
    CACHE_DIR,
    SOURCE_DIR_IN_CONTAINER,
    cached_root,
    install_busybox,
    write_base_files,
)
from cntr_tui.errors import UserError

SOURCE = "goroutines.go"
PROGRAM = "/app/goroutines"
STRIPPED_PROGRAM = "/app/goroutines-stripped"
GO_CANDIDATES = ("/usr/lib/go/bin/go", "/usr/lib/go-1.19/bin/go", "/usr/bin/go")


def go_tool() -> Path:
    found = shutil.which("go")
    for candidate in (found, *GO_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise UserError("no Go toolchain on the host: install golang-go")


def go_version(go: Path) -> str:
    return subprocess.run(
        [str(go), "version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def program_source() -> bytes:
    return (resources.files("cntr_tui.demo") / "programs" / SOURCE).read_bytes()


def go_root_key(source: bytes, toolchain: str) -> str:
    digest = hashlib.sha256(source + b"\0" + toolchain.encode() + b"\0")
    digest.update(BUSYBOX.read_bytes() if BUSYBOX.exists() else b"")
    digest.update(b"go-layout-1")
    return digest.hexdigest()[:12]


def go_environment(work: Path) -> dict[str, str]:
    """Offline, no modules, no cgo (a static binary), caches in `work`."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work),
        "GOCACHE": str(work / "cache"),
        "GOPATH": str(work / "gopath"),
        "GO111MODULE": "off",
        "GOFLAGS": "",
        "GOPROXY": "off",
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",
    }


def go_build(go: Path, build: Path, output: Path, *flags: str) -> None:
    command = [
        str(go),
        "build",
        # the source is recorded under /app/src, where the container holds its copy
        f"-gcflags=-trimpath={build}=>{SOURCE_DIR_IN_CONTAINER}",
        *flags,
        "-o",
        str(output),
        SOURCE,
    ]
    result = subprocess.run(
        command, cwd=build, capture_output=True, text=True, env=go_environment(build)
    )
    if result.returncode != 0:
        raise UserError(f"building {SOURCE} failed: {result.stderr.strip()[:300]}")


def build_go_root(cache_dir: Path = CACHE_DIR) -> Path:
    """Return the path of the Go demo root, building it when absent."""
    go = go_tool()
    source = program_source()

    def fill(root: Path, build: Path) -> None:
        write_base_files(root)
        install_busybox(root)
        app = root / "app"
        (app / "src").mkdir(parents=True)
        (build / SOURCE).write_bytes(source)
        (app / "src" / SOURCE).write_bytes(source)
        go_build(go, build, root / PROGRAM.lstrip("/"))
        go_build(go, build, root / STRIPPED_PROGRAM.lstrip("/"), "-ldflags=-s -w")

    return cached_root(cache_dir / f"rootfs-go-{go_root_key(source, go_version(go))}", fill)
