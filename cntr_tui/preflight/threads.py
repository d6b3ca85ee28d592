"""Which threads of a process are traced, and by whom: every thread's TracerPid.

A ptrace attach is per thread: a tracer (`strace -p TID`) may hold one worker while
the main thread's TracerPid says 0, and gdb attaching to the process then waits on
that thread forever. Cheap (reads /proc only), for the gdb path as for the doctor.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from cntr_tui.linux.proc_status import status_fields
from cntr_tui.linux.procfs import PROC, ProcessGone, gone


class TracedThread(NamedTuple):
    """One thread of the process (`tid`, a host TID) and the PID of its tracer."""

    tid: int
    tracer: int


def threads_traced(pid: int) -> list[TracedThread]:
    """The threads of `pid` that have a tracer (TracerPid not 0), in TID order; []
    when none has. Raises `ProcessGone` when the process does not exist, and
    PermissionError as /proc does; a thread that exits meanwhile is left out."""
    try:
        tids = sorted(int(name) for name in os.listdir(f"{PROC}/{pid}/task") if name.isdigit())
    except FileNotFoundError:
        raise gone(pid) from None
    traced: list[TracedThread] = []
    for tid in tids:
        try:
            tracer = int(status_fields(f"{pid}/task/{tid}").get("TracerPid", "0"))
        except ProcessGone:
            continue
        if tracer:
            traced.append(TracedThread(tid, tracer))
    return traced


def by_tracer(traced: list[TracedThread]) -> dict[int, list[int]]:
    """Tracer PID -> the TIDs it holds, tracers in the order of their first thread."""
    held: dict[int, list[int]] = {}
    for thread in traced:
        held.setdefault(thread.tracer, []).append(thread.tid)
    return held
