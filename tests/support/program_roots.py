"""The demo root with one more test program from tests/runtime/programs, built as the
demo programs are (-g -O0, sources recorded under /app/src) into /app/BINARY. Cached like
the demo root (by a hash of the demo root's name, the program and its source), so docker
imports each once."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cntr_tui.demo.containers import copy_rootfs
from cntr_tui.demo.rootfs import CACHE_DIR, Program, build_rootfs, cached_root, compile_program

PROGRAMS_DIR = Path(__file__).parents[1] / "runtime" / "programs"


def root_with_program(program: Program, cache_dir: Path = CACHE_DIR) -> Path:
    demo = build_rootfs(cache_dir)
    source = (PROGRAMS_DIR / program.source).read_bytes()
    described = f"{demo.name}\0{program}".encode()
    key = hashlib.sha256(described + b"\0" + source).hexdigest()[:12]

    def fill(root: Path, build: Path) -> None:
        copy_rootfs(demo, root)
        (build / program.source).write_bytes(source)
        (root / "app" / "src" / program.source).write_bytes(source)
        compile_program(program, build, root / "app")

    return cached_root(cache_dir / f"rootfs-{program.binary}-{key}", fill)
