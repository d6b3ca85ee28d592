"""What the debugger screen says of gdb's records: the stop line, breakpoint markers."""

from __future__ import annotations

from collections.abc import Sequence

from cntr_tui.gdb.events import Stopped
from cntr_tui.gdb.records import Breakpoint


def stop_text(event: Stopped) -> str:
    text = f"■ stopped: {event.reason.replace('-', ' ')}"
    if event.signal_name:
        text += f" ({event.signal_name})"
    if event.breakpoint_number:
        text += f" #{event.breakpoint_number}"
    if event.frame is not None:
        text += f" in {event.frame.function or '??'} at {event.frame.location}"
    return text


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
