"""Where gdb runs: inside an attach session on the target's container when this process
can start one (root, /dev/fuse), else the host's gdb; and which PID it attaches to.

The one place that choice is made, for the MI engine (TUI, --batch) and gdb's console.
Heavy modules are imported only once the choice is made: `cntr-tui gdb --batch` sets
gdb going (begin_in_session) before it imports asyncio or the engine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cntr_tui.debug.target import DebugTarget

if TYPE_CHECKING:
    from cntr_tui.attach.spare import SpareHelper
    from cntr_tui.gdb.attached import AttachLauncher
    from cntr_tui.gdb.launch import HostLauncher, Launcher
    from cntr_tui.gdb.starts import SessionStarts


@dataclass(frozen=True)
class Launch:
    """A launcher, the PID gdb attaches to (as gdb's PID namespace sees it), and why we
    fell back to the host's gdb (None inside an attach session)."""

    launcher: Launcher
    gdb_pid: int
    fallback: str | None


def session_target(target: DebugTarget) -> object:
    """What an attach session is opened on: the container, else the bare host PID."""
    return target.container if target.container is not None else target.host_pid


def begin_in_session(
    target: DebugTarget, spares: Sequence[SpareHelper] = ()
) -> SessionStarts | None:
    """Open the attach session on the target's container and set gdb (with the command
    line GdbSession.start will ask for, from the environment's settings) and gdbserver
    going, through `spares` (gdb's, gdbserver's) when given; None when no attach
    session is available. Spares left unused remain the caller's to close."""
    from cntr_tui.attach.spare import attach_available, join_cgroups_early
    from cntr_tui.gdb.settings import gdb_command_line

    if not attach_available():
        return None
    # the spares' cgroup move sleeps in the kernel while we import and open the session
    container_pid = target.container.pid if target.container else target.host_pid
    joining = join_cgroups_early(spares, container_pid)
    try:
        from cntr_tui.gdb.starts import SessionStarts

        starts = SessionStarts.open(session_target(target))  # type: ignore[arg-type]
    finally:
        joining.join()
    starts.begin(gdb_command_line(starts.placement), spares)
    return starts


def host_launcher(target: DebugTarget) -> HostLauncher:
    from cntr_tui.gdb.launch import HostLauncher

    return HostLauncher(target_host_pid=target.host_pid)


def fallback_note(launcher: HostLauncher) -> str:
    return (
        f"no attach session available (needs root and /dev/fuse): {launcher.placement.description}"
    )


async def attach_launcher(target: DebugTarget) -> AttachLauncher:
    """An attach session on the target. Cancelled (the user left while it opened), it
    still waits for the session being opened in its thread, and ends it."""
    import asyncio

    from cntr_tui.gdb.attached import AttachLauncher

    opening = asyncio.ensure_future(AttachLauncher.start(session_target(target)))  # type: ignore[arg-type]
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await (await opening).close()
        raise


async def choose_launch(target: DebugTarget, starts: SessionStarts | None = None) -> Launch:
    """The launcher for the MI engine (taking `starts` when given)."""
    from cntr_tui.attach.spare import attach_available

    if starts is not None:
        from cntr_tui.gdb.attached import AttachLauncher

        return Launch(AttachLauncher(starts), target.namespace_pid, None)
    if attach_available():
        return Launch(await attach_launcher(target), target.namespace_pid, None)
    host = host_launcher(target)
    return Launch(host, target.host_pid, fallback_note(host))
