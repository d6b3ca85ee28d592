"""The demo root with one more program, tests/runtime/programs/fork_workers.c (a server
that forks a worker running child_work every 100 ms), at /app/fork_workers."""

from __future__ import annotations

from pathlib import Path

from cntr_tui.demo.rootfs import CACHE_DIR, Program
from tests.support.program_roots import root_with_program

PROGRAM = "/app/fork_workers"
FORK_WORKERS = Program("fork_workers", "fork_workers.c", "gcc", ("-g", "-O0"))


def build_fork_root(cache_dir: Path = CACHE_DIR) -> Path:
    return root_with_program(FORK_WORKERS, cache_dir)
