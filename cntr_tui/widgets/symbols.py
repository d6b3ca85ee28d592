"""The symbol report: per loaded object, whether debug info was found, where, the fix."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable

from cntr_tui.gdb.records import ObjectSymbols
from cntr_tui.widgets.navigation import NAVIGATION, TableNavigation


def shown(*values: str | None) -> str:
    """A cell: the first value that says something, else "-"."""
    return next((value for value in values if value), "-")


class SymbolsTable(TableNavigation, DataTable[str]):
    """Rows from the gdb engine's symbol report."""

    BINDINGS = NAVIGATION

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.add_columns("object", "build-id", "debug info", "found at", "fix")

    def show_report(self, entries: Sequence[ObjectSymbols]) -> None:
        self.clear()
        for entry in entries:
            self.add_row(
                shown(entry.path),
                shown(entry.build_id)[:16],
                shown(entry.status),
                shown(entry.source),
                shown(entry.fix, entry.problem),
            )
