"""The tracer check for one process: every thread's tracer, named with its command.

Its own module, importing only the cheap /proc readers: `cntr-tui gdb` runs it on its
way to gdb (a warm `gdb --batch` is benchmarked), the doctor as one of its checks.
"""

from __future__ import annotations

import contextlib

from cntr_tui.linux.procfs import ProcessGone, command_line
from cntr_tui.preflight import Check
from cntr_tui.preflight.threads import by_tracer, threads_traced

MAX_TRACER_COMMAND = 80
MAX_THREADS_SHOWN = 8


def tracer_command(pid: int) -> str:
    command = "?"
    with contextlib.suppress(OSError):
        command = command_line(pid)
    if len(command) > MAX_TRACER_COMMAND:
        command = command[: MAX_TRACER_COMMAND - 1] + "…"
    return command


def held_threads(pid: int, tids: list[int]) -> str:
    """`the main thread and thread 1235` / `threads 1235, 1236`: which of `pid`'s."""
    workers = [tid for tid in tids if tid != pid]
    shown = ", ".join(str(tid) for tid in workers[:MAX_THREADS_SHOWN])
    if len(workers) > MAX_THREADS_SHOWN:
        shown += f" and {len(workers) - MAX_THREADS_SHOWN} more"
    named = f"thread{'s' if len(workers) > 1 else ''} {shown}" if workers else ""
    if pid in tids:
        return "the main thread" + (f" and {named}" if named else "")
    return named


def process_tracer(pid: int) -> Check:
    """Every thread's tracer: a ptrace attach is per thread, and one held by another
    tracer (strace -p TID) makes gdb's attach to the process wait on it (and left the
    program stopped). The gdb front ends refuse such a process with this check."""
    held = by_tracer(threads_traced(pid))
    if not held:
        return Check("tracer", "ok", "not traced (no thread has a tracer)")
    found = "; by ".join(
        f"PID {tracer_pid} ({tracer_command(tracer_pid)}), holding {held_threads(pid, tids)}"
        for tracer_pid, tids in held.items()
    )
    pids = " ".join(str(pid) for pid in held)
    return Check(
        "tracer",
        "fail",
        f"already traced by {found}: a thread has one tracer at a time, and gdb must "
        "attach to every thread",
        f"detach that debugger, or end it (kill {pids})",
    )


def tracer_refusal(pid: int) -> Check | None:
    """The failed tracer check that makes the gdb front ends refuse `pid` (gdb's attach
    would wait on a thread another debugger holds and leave the program stopped);
    None when no thread is traced, or when the process is gone (the attach says so)."""
    try:
        check = process_tracer(pid)
    except ProcessGone:
        return None
    return check if check.status == "fail" else None
