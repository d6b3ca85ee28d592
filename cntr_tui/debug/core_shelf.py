"""The UI's seam to cores (the TUI's cores list): the records it shows and the
`CoreShelf` that lists, keeps and reads them (debug/core_listing.py is the real one,
wired in app/opener.py). Nothing here imports the engine."""

from __future__ import annotations

import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cntr_tui.attach.container import Container


@dataclass(frozen=True)
class ListedCore:
    kind: str  # "kept" (on the host) or "kernel" (in a running container)
    runtime: str | None
    container_id: str | None
    container: str | None
    pid: int | None
    signal: int | None
    written: str | None
    size: int
    core: str  # a host path, or CONTAINER:PATH for a kernel core

    def cells(self) -> tuple[str, ...]:
        """The row shown for it: kind, container, pid, signal, written, size, core."""
        return (
            self.kind,
            f"{self.runtime}/{self.container}" if self.container else "-",
            str(self.pid or "-"),
            signal_name(self.signal) or "-",
            self.written or "-",
            f"{self.size / (1 << 20):.1f}M",
            self.core,
        )

    def json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "container": {"runtime": self.runtime, "id": self.container_id, "name": self.container},
            "pid": self.pid,
            "signal": signal_name(self.signal),
            "written": self.written,
            "size": self.size,
            "core": self.core,
        }


def signal_name(number: int | None) -> str | None:
    if not number:
        return None
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


class CoreShelf(Protocol):
    def listing(self, container: Container | None) -> tuple[list[ListedCore], str]:
        """Blocking: every kept core and the kernel's in `container`, newest first, and a
        note on what was not looked for ("" when nothing)."""
        ...

    def keep(self, core: ListedCore) -> Path:
        """Blocking: a kernel's core kept on the host (a kept one as it is); raises
        DebugUnavailable with the one line."""
        ...

    async def read(self, core: Path) -> list[str]:
        """A kept core's snapshot text; raises DebugUnavailable with the one line."""
        ...
