"""gdb inside an attach session: the container's namespaces, host tools at `/`, the
container's root at `/var/lib/cntr`. The launcher a GdbSession gets for a container.

    launcher = await AttachLauncher.start(container)      # the merged root comes up
    session = await GdbSession.start(launcher)
    await session.attach(pid_in_container, host_pid=host_pid)
    ...
    await session.close()                                 # also closes the launcher

The attach session reuses the container's live merged root when there is one (the
page cache stays warm), so a second gdb on the same container starts fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Sequence

from cntr_tui.attach.container import Container
from cntr_tui.attach.session import AttachOptions, AttachSession, SessionProcess
from cntr_tui.fs.mounts import CONTAINER_ROOT
from cntr_tui.gdb.launch import Placement, gdb_pipes


def attach_available() -> bool:
    """Whether this process can start attach sessions at all (root, FUSE)."""
    return os.geteuid() == 0 and os.path.exists("/dev/fuse")


class SessionGdbProcess:
    """gdb started by an attach session: the Popen is the session's helper, which exits
    with gdb's status; `command_pid` is gdb's own host PID."""

    def __init__(self, helper: SessionProcess, stdin_fd: int, stdout_fd: int):
        self._helper = helper
        self.stdin_fd = stdin_fd
        self.stdout_fd = stdout_fd
        self.pid = helper.command_pid

    async def wait(self) -> int | None:
        return await asyncio.to_thread(self._helper.wait)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


class AttachLauncher:
    """Starts gdb through one `AttachSession`; `close()` ends that session."""

    def __init__(self, session: AttachSession):
        self.session = session
        self.placement = Placement(
            container_root=CONTAINER_ROOT,
            container_root_on_host=f"/proc/{session.pid}/root",
            host_root="",
            container_host_pid=session.pid,
            inside_session=True,
            description=f"inside the container, its files at {CONTAINER_ROOT}",
        )

    @classmethod
    async def start(
        cls, container: Container | int, options: AttachOptions | None = None
    ) -> AttachLauncher:
        """Open an attach session on `container` (blocking work runs in a thread)."""
        session = await asyncio.to_thread(AttachSession, container, options)
        return cls(session)

    async def spawn(self, argv: Sequence[str]) -> SessionGdbProcess:
        with gdb_pipes() as pipes:
            helper = await asyncio.to_thread(
                self.session.spawn,
                list(argv),
                stdin=pipes.stdin,
                stdout=pipes.stdout,
                stderr=pipes.stdout,
            )
        return SessionGdbProcess(helper, pipes.to_gdb, pipes.from_gdb)

    async def wait_failure(self) -> str:
        """Resolves when the merged root's file server stops while we use it."""
        root = self.session.root
        if root is None:
            await asyncio.Event().wait()  # no file server: nothing can fail this way
        loop = asyncio.get_running_loop()
        try:
            pidfd = os.pidfd_open(root.server)  # type: ignore[union-attr]
        except ProcessLookupError:
            return "the file server is gone"
        try:
            gone = loop.create_future()
            loop.add_reader(pidfd, lambda: gone.done() or gone.set_result(None))
            try:
                await gone
            finally:
                loop.remove_reader(pidfd)
        finally:
            os.close(pidfd)
        return f"the merged root's file server (PID {root.server}) stopped"  # type: ignore[union-attr]

    async def run_interactive(self, argv: Sequence[str]) -> int:
        """gdb's own console on a fresh PTY relayed to our terminal."""
        return await asyncio.to_thread(self.session.run_interactive, list(argv))

    async def close(self) -> None:
        await asyncio.to_thread(self.session.close)
