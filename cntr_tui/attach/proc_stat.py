"""A process's start time, the check that a PID still names the same process.

No imports beyond the standard library's `open`: the attach helper (`python -S`), the
file server and the look-up short cut all read it on their fast paths."""

from __future__ import annotations


def start_ticks(pid: int) -> int | None:
    """The start time of `pid` in clock ticks since boot (/proc/PID/stat field 22);
    None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return int(stat.read().rpartition(b")")[2].split()[19])
    except (OSError, IndexError, ValueError):
        return None
