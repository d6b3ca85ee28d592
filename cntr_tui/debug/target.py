"""The process a front end wants to debug."""

from __future__ import annotations

from dataclasses import dataclass

from cntr_tui.attach.container import Container


@dataclass(frozen=True)
class DebugTarget:
    """`host_pid`: the process as the host sees it; `namespace_pid`: as its own PID
    namespace sees it; `container`: the container it belongs to (None for a bare host
    PID); `label`: how messages name it ("docker web")."""

    host_pid: int
    namespace_pid: int
    container: Container | None
    label: str
