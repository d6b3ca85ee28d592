"""The merged root's mount table, each mount with its provenance and type."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable

from cntr_tui.widgets.symbols import field_of


class MountTable(DataTable[str]):
    """Rows from the attach session's `mounts()` (read by attribute name, tolerantly)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        self.mount_points: list[str] = []

    def on_mount(self) -> None:
        self.add_columns("mount point", "provenance", "type", "source")

    def show_mounts(self, mounts: Sequence[object]) -> None:
        self.clear()
        self.mount_points = []
        ordered = sorted(mounts, key=lambda mount: field_of(mount, "mount_point", "target", "path"))
        for mount in ordered:
            point = field_of(mount, "mount_point", "target", "path")
            self.mount_points.append(point)
            self.add_row(
                point,
                field_of(mount, "provenance", "origin"),
                field_of(mount, "fstype", "fs_type", "type"),
                field_of(mount, "source", "device"),
            )
