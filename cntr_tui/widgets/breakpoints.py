"""The breakpoint list from gdb: every kind (breakpoints, watchpoints, logpoints,
catchpoints), edited in place by keys on a row, each asking the screen by a message."""

from __future__ import annotations

from collections.abc import Sequence

from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from cntr_tui.gdb.records import Breakpoint
from cntr_tui.widgets.navigation import NAVIGATION, TableNavigation

# the rows' keys; bindings.py lists the app's, these work in the breakpoints pane
BREAKPOINTS = [
    Binding("e,space", "toggle", "Enable/disable", id="breakpoints.toggle"),
    Binding("C", "condition", "Edit condition", id="breakpoints.condition"),
    Binding("I", "ignore", "Edit ignore count", id="breakpoints.ignore"),
    Binding("x,delete", "delete", "Delete breakpoint", id="breakpoints.delete"),
]
COLUMNS = ("#", "kind", "on", "where / what", "condition", "hits", "ignore", "temp")


def breakpoint_where(breakpoint: Breakpoint) -> str:
    if breakpoint.file and breakpoint.line is not None:
        where = f"{breakpoint.file}:{breakpoint.line}"
        return f"{breakpoint.function} at {where}" if breakpoint.function else where
    return breakpoint.location or (hex(breakpoint.address) if breakpoint.address else "?")


def breakpoint_subject(breakpoint: Breakpoint) -> str:
    """Where a breakpoint or logpoint is, what a watchpoint or catchpoint watches."""
    if breakpoint.kind in ("breakpoint", "logpoint"):
        where = breakpoint_where(breakpoint) + (" (pending)" if breakpoint.pending else "")
        if breakpoint.kind == "logpoint" and breakpoint.what:
            return f"{where}: {breakpoint.what}"
        return where
    return breakpoint.what or breakpoint.location or "?"


class BreakpointsTable(TableNavigation, DataTable[str]):
    class Wanted(Message):
        """A change of `breakpoint` asked on its row: `change` is "toggle",
        "condition", "ignore" or "delete"."""

        def __init__(self, breakpoint: Breakpoint, change: str) -> None:
            super().__init__()
            self.breakpoint = breakpoint
            self.change = change

    BINDINGS = [*NAVIGATION, *BREAKPOINTS]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        self.breakpoints: list[Breakpoint] = []

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)

    def show_breakpoints(self, breakpoints: Sequence[Breakpoint]) -> None:
        row = self.cursor_row
        self.breakpoints = list(breakpoints)
        self.clear()
        for item in self.breakpoints:
            self.add_row(
                item.number,
                item.kind,
                "yes" if item.enabled else "no",
                breakpoint_subject(item),
                item.condition or "",
                str(item.hits),
                str(item.ignore) if item.ignore else "",
                "yes" if item.temporary else "",
                key=item.number,
            )
        if self.breakpoints:
            self.move_cursor(row=min(row, len(self.breakpoints) - 1))

    def selected(self) -> Breakpoint | None:
        if 0 <= self.cursor_row < len(self.breakpoints):
            return self.breakpoints[self.cursor_row]
        return None

    def want(self, change: str) -> None:
        found = self.selected()
        if found is not None:
            self.post_message(self.Wanted(found, change))

    def action_toggle(self) -> None:
        self.want("toggle")

    def action_condition(self) -> None:
        self.want("condition")

    def action_ignore(self) -> None:
        self.want("ignore")

    def action_delete(self) -> None:
        self.want("delete")
