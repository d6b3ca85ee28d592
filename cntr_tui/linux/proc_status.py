"""/proc/PID/status as fields: State, TracerPid, NSpid, pending signals.

Cheap (imports os only), for the hot paths and the processes that start often; the
whole status as one typed record is `process_status.ProcessStatus`.
"""

from __future__ import annotations

import os

from cntr_tui.linux.procfs import PROC, read_text

SIGINT = 2
SIGSTOP = 19


def parse_status(text: str) -> dict[str, str]:
    """`Key:\\tvalue` lines as a dict, values stripped."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def status_fields(pid: int | str) -> dict[str, str]:
    """/proc/PID/status (or a thread's, with "PID/task/TID") as a dict; raises
    `ProcessGone`."""
    return parse_status(read_text(pid, "status"))


def state_of(fields: dict[str, str]) -> str:
    """The one-letter state of a status: `State:\\tS (sleeping)` -> "S"."""
    return fields.get("State", "?").split(" ", 1)[0]


def is_zombie(fields: dict[str, str]) -> bool:
    return state_of(fields) in ("Z", "X")


def tracer_pid(pid: int) -> int | None:
    """The tracer's PID (0: none); None if the process is gone."""
    try:
        return int(status_fields(pid).get("TracerPid", "0"))
    except (OSError, ValueError):
        return None


def nspids_of(fields: dict[str, str], pid: int) -> tuple[int, ...]:
    """The PID in each PID namespace, the host's first (without NSpid: just `pid`)."""
    return tuple(int(part) for part in fields.get("NSpid", str(pid)).split())


def pid_in_namespace(pid: int) -> int:
    """`pid` as its own PID namespace numbers it (the last NSpid field)."""
    return nspids_of(status_fields(pid), pid)[-1]


def pending_signals(fields: dict[str, str]) -> int:
    """The signals queued for a thread or its whole process (SigPnd | ShdPnd), bit
    N-1 for signal N."""
    return int(fields.get("SigPnd", "0"), 16) | int(fields.get("ShdPnd", "0"), 16)


def stop_pending(pid: int) -> bool:
    """A SIGSTOP queued for the process or one of its threads."""
    return signal_pending(pid, SIGSTOP)


def interrupt_pending(pid: int) -> bool:
    """A SIGINT queued for the process or one of its threads."""
    return signal_pending(pid, SIGINT)


def signal_pending(pid: int, number: int) -> bool:
    """Signal `number` queued for the process or one of its threads."""
    return bool(pending_anywhere(pid) & 1 << (number - 1))


def pending_anywhere(pid: int) -> int:
    """The signals queued for the process or any of its threads (`pending_signals` of
    each, one read of each thread's status; a thread gone meanwhile is left out); 0
    once the process is gone."""
    try:
        tasks = os.listdir(f"{PROC}/{pid}/task")
    except OSError:
        return 0
    mask = 0
    for task in tasks:
        try:
            mask |= pending_signals(status_fields(f"{pid}/task/{task}"))
        except (OSError, ValueError):
            continue
    return mask
