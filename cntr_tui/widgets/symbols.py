"""The symbol report: per loaded object, whether debug info was found, where, the fix."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable


def field_of(item: object, *names: str) -> str:
    for name in names:
        value = getattr(item, name, None)
        if value not in (None, ""):
            if isinstance(value, bool):
                return "yes" if value else "no"
            return str(value)
    return "-"


class SymbolsTable(DataTable[str]):
    """Rows from the gdb engine's symbol report (read by attribute name, tolerantly)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.add_columns("object", "build-id", "debug info", "found at", "fix")

    def show_report(self, entries: Sequence[object]) -> None:
        self.clear()
        for entry in entries:
            self.add_row(
                field_of(entry, "path", "object", "name"),
                field_of(entry, "build_id")[:16],
                field_of(entry, "status"),
                field_of(entry, "source"),
                field_of(entry, "fix", "problem"),
            )
