"""What the debugger screen says of gdb's records: the stop line, breakpoint markers."""

from __future__ import annotations

from collections.abc import Sequence

from cntr_tui.gdb.events import Stopped
from cntr_tui.gdb.records import Breakpoint

# a stop that ends the step itself; any other one, in another thread, interrupted it
STEP_ENDS = frozenset({"end-stepping-range", "function-finished", "location-reached"})
HIT_NAMES = {
    "breakpoint-hit": "breakpoint",
    "watchpoint-trigger": "watchpoint",
    "read-watchpoint-trigger": "read watchpoint",
    "access-watchpoint-trigger": "access watchpoint",
}


def stop_reason(event: Stopped) -> str:
    """Why it stopped: gdb's reason, its signal, breakpoint number and detail."""
    text = event.reason.replace("-", " ")
    if event.signal_name:
        text += f" ({event.signal_name})"
    if event.breakpoint_number:
        text += f" #{event.breakpoint_number}"
    if event.detail:
        text += f" ({event.detail})"
    return text


def stop_text(event: Stopped, stepping: int | None = None) -> str:
    """The status line at a stop: which thread (gdb's number) and why; `stepping`: the
    thread a next/step/finish ran, said when the stop came from another one."""
    if interrupted_step(event, stepping):
        return f"■ {interruption(event, stepping)} · t: back to thread {stepping}"
    thread = f" thread {event.thread_id}" if event.thread_id is not None else ""
    text = f"■{thread} stopped: {stop_reason(event)}"
    if event.frame is not None:
        text += f" in {event.frame.function or '??'} at {event.frame.location}"
    return text


def interrupted_step(event: Stopped, stepping: int | None) -> bool:
    return (
        stepping is not None
        and event.thread_id is not None
        and event.thread_id != stepping
        and event.reason not in STEP_ENDS
    )


def interruption(event: Stopped, stepping: int | None) -> str:
    """ "thread 3 hit breakpoint 1 while thread 1 was stepping"."""
    hit = HIT_NAMES.get(event.reason)
    if hit is not None and event.breakpoint_number:
        what = f"hit {hit} {event.breakpoint_number}"
        if event.detail:
            what += f" ({event.detail})"
    else:
        what = f"stopped ({stop_reason(event)})"
    where = f" in {event.frame.function or '??'}" if event.frame is not None else ""
    return f"thread {event.thread_id} {what}{where} while thread {stepping} was stepping"


def breakpoint_lines(
    breakpoints: Sequence[Breakpoint], fullname: str | None, file: str | None
) -> set[int]:
    """The lines of a source file (gdb's full or short name of it) with breakpoints."""
    names = {name for name in (fullname, file) if name}
    return {
        bp.line
        for bp in breakpoints
        if bp.line is not None and (bp.fullname in names or bp.file in names)
    }
