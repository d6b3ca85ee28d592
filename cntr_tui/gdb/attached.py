"""gdb inside an attach session: the container's namespaces, host tools at `/`, the
container's root at `/var/lib/cntr`. The launcher a GdbSession gets for a container.

    launcher = await AttachLauncher.start(container)      # the merged root comes up
    session = await GdbSession.start(launcher)
    await session.attach(pid_in_container, host_pid=host_pid)
    ...
    await session.close()                                 # also closes the launcher

The attach session reuses the container's live merged root when there is one (the
page cache stays warm), so a second gdb on the same container starts fast. The
blocking work (sessions, gdb's and gdbserver's starts) is in starts.py; gdbserver, the
tracer, starts alongside gdb and waits for nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Sequence

from cntr_tui.attach.container import Container
from cntr_tui.attach.session import AttachOptions, AttachSession
from cntr_tui.gdb.pidfd import process_end
from cntr_tui.gdb.pipes import GdbserverProcess
from cntr_tui.gdb.starts import SessionStarts, StartedGdb


class SessionGdbProcess:
    """gdb started by an attach session: it runs under the session's helper, which
    exits with gdb's status; `pid` is gdb's own host PID."""

    def __init__(self, started: StartedGdb):
        self._helper = started.helper
        self.stdin_fd = started.to_gdb
        self.stdout_fd = started.from_gdb
        self.pid = started.helper.command_pid

    async def wait(self) -> int | None:
        return await asyncio.to_thread(self._helper.wait)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


class AttachLauncher:
    """Starts gdb through one attach session (`SessionStarts`); `close()` ends it."""

    def __init__(self, starts: SessionStarts):
        self.starts = starts
        self.placement = starts.placement
        self._early_gdbserver: asyncio.Future[GdbserverProcess | None] | None = None
        self._early_taken = False

    @property
    def session(self) -> AttachSession:
        return self.starts.session

    @property
    def tracer(self) -> str:
        return self.starts.tracer

    @property
    def gdbserver_failure(self) -> str | None:
        """Why gdbserver did not start, when it did not."""
        return self.starts.gdbserver_failure

    @classmethod
    async def start(
        cls,
        container: Container | int,
        options: AttachOptions | None = None,
        tracer: str = "gdbserver",
    ) -> AttachLauncher:
        """Open an attach session on `container` (blocking work runs in a thread).
        `tracer`: "gdbserver" (default) or "native" (gdb traces the process itself)."""
        return cls(await asyncio.to_thread(SessionStarts.open, container, options, tracer))

    async def spawn(self, argv: Sequence[str]) -> SessionGdbProcess:
        """gdb with `argv`: the one begun before (`SessionStarts.begin`) with the same
        command line, else a new one; gdbserver starts alongside."""
        begun = self.starts.take_gdb(argv)
        if self._early_gdbserver is None:
            server = self.starts.take_gdbserver()
            if server is not None:
                self._early_gdbserver = asyncio.ensure_future(asyncio.to_thread(server.result))
            elif self.tracer == "gdbserver":
                # alongside gdb's start, so that attaching only has to connect
                self._early_gdbserver = asyncio.ensure_future(
                    asyncio.to_thread(self.starts.spawn_gdbserver)
                )
        if begun is not None:
            return SessionGdbProcess(await asyncio.to_thread(begun.result))
        return SessionGdbProcess(await asyncio.to_thread(self.starts.spawn_gdb, argv))

    async def wait_failure(self) -> str:
        """Resolves when the merged root's file server stops while we use it."""
        root = self.session.root
        if root is None:
            await asyncio.Event().wait()  # no file server: nothing can fail this way
        if not await process_end(root.server):  # type: ignore[union-attr]
            return "the file server is gone"
        return f"the merged root's file server (PID {root.server}) stopped"  # type: ignore[union-attr]

    async def start_gdbserver(self) -> GdbserverProcess | None:
        """gdbserver in the session, chrooted into the container's root, run from the
        host's files; None when the tracer is gdb itself or gdbserver cannot start. The
        first call takes the one started alongside gdb."""
        if self.tracer != "gdbserver":
            return None
        if self._early_gdbserver is not None and not self._early_taken:
            self._early_taken = True
            return await self._early_gdbserver
        return await asyncio.to_thread(self.starts.spawn_gdbserver)

    async def start_console_gdbserver(self) -> GdbserverProcess | None:
        """A gdbserver for gdb's own console: with the third pipe its bridge writes to
        (debug/interrupt_relay.py); None as for start_gdbserver."""
        if self.tracer != "gdbserver":
            return None
        return await asyncio.to_thread(self.starts.spawn_gdbserver, None, True)

    async def run_interactive(self, argv: Sequence[str]) -> int:
        """gdb's own console on a fresh PTY relayed to our terminal."""
        return await asyncio.to_thread(self.session.run_interactive, list(argv))

    async def close(self) -> None:
        if self._early_gdbserver is not None and not self._early_taken:
            with contextlib.suppress(Exception):
                unused = await self._early_gdbserver
                if unused is not None:
                    unused.close_ends()  # never attached: it exits, or the close ends it
        await asyncio.to_thread(self.starts.close)
