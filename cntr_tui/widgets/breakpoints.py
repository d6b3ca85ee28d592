"""The breakpoint list from gdb."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable

from cntr_tui.gdb.records import Breakpoint


def breakpoint_where(breakpoint: Breakpoint) -> str:
    if breakpoint.file and breakpoint.line is not None:
        where = f"{breakpoint.file}:{breakpoint.line}"
        return f"{breakpoint.function} at {where}" if breakpoint.function else where
    return breakpoint.location or (hex(breakpoint.address) if breakpoint.address else "?")


class BreakpointsTable(DataTable[str]):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        self.breakpoints: list[Breakpoint] = []

    def on_mount(self) -> None:
        self.add_columns("#", "on", "where", "hits", "condition")

    def show_breakpoints(self, breakpoints: Sequence[Breakpoint]) -> None:
        self.breakpoints = list(breakpoints)
        self.clear()
        for item in self.breakpoints:
            self.add_row(
                item.number,
                "yes" if item.enabled else "no",
                breakpoint_where(item) + (" (pending)" if item.pending else ""),
                str(item.hits),
                item.condition or "",
                key=item.number,
            )
