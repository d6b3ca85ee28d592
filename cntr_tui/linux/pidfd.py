"""pidfds: a descriptor on a process, readable once it has ended (close-on-exec).

Cheap: imports os and select only. The asyncio flavour (await a process's end on the
event loop) is gdb/pidfd.py's.
"""

from __future__ import annotations

import os
import select


def open_pidfd(pid: int) -> int | None:
    """A pidfd on `pid`; None when there is no such process."""
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        return None


def wait_exit(pidfd: int, timeout: float | None) -> bool:
    """Whether the process of `pidfd` ended within `timeout` seconds."""
    readable, _, _ = select.select([pidfd], [], [], timeout)
    return bool(readable)


def wait_gone(pid: int, timeout: float | None) -> bool:
    """Whether `pid` is gone, or ends within `timeout` seconds (an exited child stays
    until it is reaped, but its pidfd is readable at once)."""
    pidfd = open_pidfd(pid)
    if pidfd is None:
        return True
    try:
        return wait_exit(pidfd, timeout)
    finally:
        os.close(pidfd)
