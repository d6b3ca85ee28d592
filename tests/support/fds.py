"""Which descriptors a process holds, by what they name."""

from __future__ import annotations

import os
from pathlib import Path


def same_file(path: str, reference: os.stat_result) -> bool:
    try:
        found = os.stat(path)
    except OSError:  # closed meanwhile, or not ours to look at
        return False
    return (found.st_dev, found.st_ino) == (reference.st_dev, reference.st_ino)


def fds_naming(pid: int, folder: Path) -> list[int]:
    """The descriptors of host process `pid` that name `folder`."""
    reference = os.stat(folder)
    return [
        int(fd)
        for fd in os.listdir(f"/proc/{pid}/fd")
        if same_file(f"/proc/{pid}/fd/{fd}", reference)
    ]
