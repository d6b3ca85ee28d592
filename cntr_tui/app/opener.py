"""The debugger screen's way to a debug session: the target, and the debug service's
`open_debug` as the default opener.

The service is imported when the first debugger opens: it brings the gdb engine and the
attach session, which the container list does not need.
"""

from __future__ import annotations

from cntr_tui.attach.container import Container
from cntr_tui.debug.core_shelf import CoreShelf
from cntr_tui.debug.protocol import (
    DebugOpener,
    DebugSession,
    DebugUnavailable,
    Progress,
    SnapshotTaker,
)
from cntr_tui.debug.target import DebugTarget, target_for
from cntr_tui.errors import UserError
from cntr_tui.settings import Settings


def service_opener(settings: Settings | None = None) -> DebugOpener:
    """`open_debug` of the debug service, with the app's settings."""

    async def open_with_service(target: DebugTarget, progress: Progress) -> DebugSession:
        from cntr_tui.debug.service import open_debug

        return await open_debug(target, progress, settings)

    return open_with_service


def service_snapshotter() -> SnapshotTaker:
    """The debug service's snapshot, as text with the Python frames and locals."""

    async def snapshot_with_service(target: DebugTarget) -> list[str]:
        from cntr_tui.debug.snapshot_text import snapshot_text
        from cntr_tui.debug.stack_snapshot import snapshot_taken

        try:
            return snapshot_text(await snapshot_taken(target, with_locals=True), True)
        except UserError as error:
            raise DebugUnavailable(str(error)) from error

    return snapshot_with_service


def service_core_shelf() -> CoreShelf:
    """The debug service's cores: the kept ones, the kernel's, and their snapshots."""
    from cntr_tui.debug.core_listing import ServiceCoreShelf

    return ServiceCoreShelf()


def target_of(container: Container, host_pid: int | None) -> DebugTarget:
    """Blocking (reads the process's PID in its namespace); a process that is gone is
    DebugUnavailable, like any other reason the debugger cannot open."""
    try:
        return target_for(container, host_pid)
    except UserError as error:
        from cntr_tui.debug.service import fix_for

        raise DebugUnavailable(str(error), fix_for(str(error))) from error
