"""The demo root with one more program, tests/runtime/programs/fork_workers.c (a server
that forks a worker running child_work every 100 ms), built as the demo programs are
(-g -O0, sources recorded under /app/src) into /app/fork_workers. Cached like the demo
root (by a hash of the demo root's name and the source), so docker imports it once."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cntr_tui.demo.containers import copy_rootfs
from cntr_tui.demo.rootfs import CACHE_DIR, Program, build_rootfs, cached_root, compile_program

SOURCE = Path(__file__).parents[1] / "runtime" / "programs" / "fork_workers.c"
PROGRAM = "/app/fork_workers"
FORK_WORKERS = Program("fork_workers", SOURCE.name, "gcc", ("-g", "-O0"))


def build_fork_root(cache_dir: Path = CACHE_DIR) -> Path:
    demo = build_rootfs(cache_dir)
    source = SOURCE.read_bytes()
    key = hashlib.sha256(demo.name.encode() + b"\0" + source).hexdigest()[:12]

    def fill(root: Path, build: Path) -> None:
        copy_rootfs(demo, root)
        (build / SOURCE.name).write_bytes(source)
        (root / "app" / "src" / SOURCE.name).write_bytes(source)
        compile_program(FORK_WORKERS, build, root / "app")

    return cached_root(cache_dir / f"rootfs-forks-{key}", fill)
