"""A full disk on demand: a small tmpfs, unmounted and removed even when a test fails."""

from __future__ import annotations

import contextlib
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

from tests.support.runtimes import TEST_PREFIX


@contextlib.contextmanager
def small_tmpfs(size: str = "1m") -> Iterator[Path]:
    path = Path("/var/tmp") / f"{TEST_PREFIX}full-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
        path.rmdir()
