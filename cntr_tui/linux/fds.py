"""Open descriptors of processes (/proc/PID/fd, /proc/PID/fdinfo): who reads a pipe.

Cheap: imports os only (the trap guard process looks for a pipe's other readers).
"""

from __future__ import annotations

import os

from cntr_tui.linux.procfs import PROC, pids


def pipe_name(fd: int) -> str:
    """The link text naming the pipe `fd` is an end of: `pipe:[INODE]`."""
    return f"pipe:[{os.fstat(fd).st_ino}]"


def reads_pipe(pid: int | str, number: int | str, name: str) -> bool:
    """Whether descriptor `number` of `pid` is an end of the pipe `name` open for reading."""
    if os.readlink(f"{PROC}/{pid}/fd/{number}") != name:
        return False
    with open(f"{PROC}/{pid}/fdinfo/{number}") as info:
        for line in info:
            if line.startswith("flags:"):
                return int(line.split()[1], 8) & os.O_ACCMODE != os.O_WRONLY
    return False


def pipe_readers(fd: int, skip: set[int]) -> list[int]:
    """Every visible process not in `skip` that holds a reading end of `fd`'s pipe."""
    name = pipe_name(fd)
    readers = []
    for pid in pids():
        if pid in skip:
            continue
        try:
            numbers = os.listdir(f"{PROC}/{pid}/fd")
            if any(reads_pipe(pid, number, name) for number in numbers):
                readers.append(pid)
        except OSError:
            continue
    return readers
