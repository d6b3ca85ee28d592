"""The merged root's mount table, each mount with its provenance and type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from textual.widgets import DataTable

from cntr_tui.widgets.navigation import NAVIGATION, TableNavigation
from cntr_tui.widgets.symbols import shown


class ShownMount(Protocol):
    """What the table shows of a mount: fs.mounts.Mount has it (widgets import no fs)."""

    @property
    def mount_point(self) -> str: ...

    @property
    def provenance(self) -> str: ...

    @property
    def fstype(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def device(self) -> str: ...


class MountTable(TableNavigation, DataTable[str]):
    """Rows from the debug session's `mounts()`."""

    BINDINGS = NAVIGATION

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        self.mount_points: list[str] = []

    def on_mount(self) -> None:
        self.add_columns("mount point", "provenance", "type", "source")

    def show_mounts(self, mounts: Sequence[ShownMount]) -> None:
        self.clear()
        self.mount_points = []
        for mount in sorted(mounts, key=lambda mount: shown(mount.mount_point)):
            point = shown(mount.mount_point)
            self.mount_points.append(point)
            self.add_row(
                point,
                shown(mount.provenance),
                shown(mount.fstype),
                shown(mount.source, mount.device),
            )
