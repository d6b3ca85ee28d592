"""The live table of running containers, filtered and sorted."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from textual.message import Message
from textual.widgets import DataTable

from cntr_tui.attach.container import Container


def format_uptime(started_at: float | None, now: float) -> str:
    if started_at is None:
        return "-"
    seconds = max(0, int(now - started_at))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600}h"


def kubernetes_label(container: Container) -> str:
    if container.kubernetes is not None:
        return f"{container.kubernetes.namespace}/{container.kubernetes.pod}"
    return container.runtime_namespace or ""


def status_label(container: Container) -> str:
    """The status, with a Kubernetes container's restarts when it has restarted."""
    kubernetes = container.kubernetes
    if kubernetes is None or not kubernetes.restart_count:
        return container.status
    count = kubernetes.restart_count
    return f"{container.status}, {count} restart{'s' if count > 1 else ''}"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort_key: Callable[[Container], object]


COLUMNS: tuple[Column, ...] = (
    Column("runtime", "RUNTIME", lambda c: c.runtime),
    Column("name", "NAME", lambda c: c.name.lower()),
    Column("id", "ID", lambda c: c.id),
    Column("image", "IMAGE", lambda c: c.image or ""),
    Column("pid", "PID", lambda c: c.pid),
    Column("status", "STATUS", lambda c: c.status),
    Column("uptime", "UPTIME", lambda c: -(c.started_at or 0.0)),
    Column("pod", "POD / NAMESPACE", kubernetes_label),
)


def row_key(container: Container) -> str:
    return f"{container.runtime}:{container.id}"


def matches(container: Container, needle: str) -> bool:
    """Case-insensitive match of every word of `needle` against the row's text."""
    haystack = " ".join(
        (
            container.runtime,
            container.name,
            container.id,
            container.image or "",
            str(container.pid),
            container.status,
            kubernetes_label(container),
            container.command,
        )
    ).lower()
    return all(word in haystack for word in needle.lower().split())


class ContainerTable(DataTable[str]):
    """Rows keyed by runtime:id so the cursor stays on its container across refreshes."""

    class Selected(Message):
        """The highlighted container changed (None: the table is empty)."""

        def __init__(self, container: Container | None) -> None:
            super().__init__()
            self.container = container

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.containers: dict[str, Container] = {}
        self.visible_keys: list[str] = []
        self.sort_index = 1
        self.sort_reverse = False
        self.filter_text = ""

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column.label, key=column.key)

    @property
    def selected(self) -> Container | None:
        if not self.visible_keys or self.cursor_row >= len(self.visible_keys):
            return None
        return self.containers.get(self.visible_keys[self.cursor_row])

    @property
    def sort_column(self) -> Column:
        return COLUMNS[self.sort_index]

    def show(self, containers: Sequence[Container]) -> None:
        self.containers = {row_key(c): c for c in containers}
        self.rebuild()

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self.rebuild()

    def cycle_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(COLUMNS)
        self.sort_reverse = False
        self.rebuild()

    def sort_by(self, key: str) -> None:
        index = next(i for i, column in enumerate(COLUMNS) if column.key == key)
        self.sort_reverse = not self.sort_reverse if index == self.sort_index else False
        self.sort_index = index
        self.rebuild()

    def select_container(self, key: tuple[str, str]) -> None:
        wanted = f"{key[0]}:{key[1]}"
        if wanted in self.visible_keys:
            self.move_cursor(row=self.visible_keys.index(wanted))

    def rebuild(self) -> None:
        previous = self.visible_keys[self.cursor_row] if self.selected is not None else None
        rows = [c for c in self.containers.values() if matches(c, self.filter_text)]
        rows.sort(key=self.sort_column.sort_key, reverse=self.sort_reverse)  # type: ignore[arg-type,return-value]
        now = time.time()
        self.clear()
        self.visible_keys = [row_key(c) for c in rows]
        for container in rows:
            self.add_row(
                container.runtime,
                container.name,
                container.id[:12],
                container.image or "-",
                str(container.pid),
                status_label(container),
                format_uptime(container.started_at, now),
                kubernetes_label(container),
                key=row_key(container),
            )
        if previous in self.visible_keys:
            self.move_cursor(row=self.visible_keys.index(previous))
        self.post_message(self.Selected(self.selected))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Selected(self.selected))

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))
