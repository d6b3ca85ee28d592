"""/proc/PID/stat: state, parent, start time; the host's boot time and clock ticks.

Cheap (imports os only): the attach helper, the file server and the look-up's short
cut read a start time on their fast paths, to check that a PID still names the same
process.
"""

from __future__ import annotations

import os

from cntr_tui.linux.procfs import PROC, ProcessGone, read_text

# indexes into the fields after comm (field 3 of stat(5) is index 0)
STATE, PPID, START_TIME = 0, 1, 19

_boot_time: list[float] = []
_clock_ticks: list[int] = []


def read_stat(pid: int | str) -> tuple[str, list[str]]:
    """(comm, the fields after comm) of `/proc/PID/stat`: fields[0] is the state."""
    text = read_text(pid, "stat")
    # comm may contain spaces and parentheses: it ends at the last ")".
    end = text.rindex(")")
    return text[text.index("(") + 1 : end], text[end + 2 :].split()


def start_ticks(pid: int) -> int | None:
    """The start time of `pid` in clock ticks since boot (stat field 22); None when
    there is no such process."""
    try:
        with open(f"{PROC}/{pid}/stat", "rb") as stat:
            return int(stat.read().rpartition(b")")[2].split()[START_TIME])
    except (OSError, IndexError, ValueError):
        return None


def state(pid: int | str) -> str:
    """The one-letter state (R, S, D, T, t, Z, X...)."""
    return read_stat(pid)[1][STATE]


def alive(pid: int) -> bool:
    """Exists and is not a zombie (nor dead)."""
    try:
        return state(pid) not in ("Z", "X")
    except (OSError, IndexError):
        return False


def parent_pid(pid: int) -> int:
    return int(read_stat(pid)[1][PPID])


def ancestors(pid: int) -> list[int]:
    """Parents of `pid`, nearest first, up to (and including) PID 1 or the first visible."""
    chain: list[int] = []
    current = pid
    while True:
        try:
            current = parent_pid(current)
        except ProcessGone:
            break
        if current <= 0 or current in chain:
            break
        chain.append(current)
    return chain


def clock_ticks() -> int:
    if not _clock_ticks:
        _clock_ticks.append(os.sysconf("SC_CLK_TCK"))
    return _clock_ticks[0]


def boot_time() -> float:
    """The host's boot time as a Unix timestamp (btime of /proc/stat)."""
    if not _boot_time:
        with open(f"{PROC}/stat") as file:
            for line in file:
                if line.startswith("btime "):
                    _boot_time.append(float(line.split()[1]))
                    break
            else:
                raise RuntimeError("no btime in /proc/stat")
    return _boot_time[0]


def ticks_to_timestamp(ticks: int) -> float:
    return boot_time() + ticks / clock_ticks()


def start_time(pid: int) -> float:
    """When `pid` started, as a Unix timestamp."""
    return ticks_to_timestamp(int(read_stat(pid)[1][START_TIME]))
