"""gdb inside an attach session: the container's namespaces, host tools at `/`, the
container's root at `/var/lib/cntr`. The launcher a GdbSession gets for a container.

    launcher = await AttachLauncher.start(container)      # the merged root comes up
    session = await GdbSession.start(launcher)
    await session.attach(pid_in_container, host_pid=host_pid)
    ...
    await session.close()                                 # also closes the launcher

The attach session reuses the container's live merged root when there is one (the
page cache stays warm), so a second gdb on the same container starts fast.

The tracer is gdbserver (see gdbserver.py), started in a second attach session without
a merged root (the container's own mount namespace, chrooted to its root) from the
host's own files: it gets an O_PATH descriptor N of the host folder they are in
(`spawn(pass_fds=...)`), and its loader, binary and libraries are named through
`/proc/self/fd/N` (the container's procfs, where `self` is gdbserver). It starts while
gdb starts, waiting for nothing. A container without /proc cannot run it: the launcher
then has no gdbserver, and gdb traces the process itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import subprocess
from collections.abc import Sequence

from cntr_tui.attach.container import Container
from cntr_tui.attach.session import AttachOptions, AttachSession, SessionProcess
from cntr_tui.errors import UserError
from cntr_tui.fs.mounts import CONTAINER_ROOT
from cntr_tui.gdb.gdbserver import GdbserverFiles, find_gdbserver
from cntr_tui.gdb.launch import GdbserverProcess, Placement, child_pipes

# the container's environment must not steer the host's loader
LOADER_ENVIRONMENT = {"LC_ALL": "C", "LD_PRELOAD": "", "LD_LIBRARY_PATH": "", "LD_AUDIT": ""}


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


def namespace_pid(host_pid: int) -> int:
    """A host PID as its own PID namespace numbers it (the last NSpid field)."""
    with open(f"/proc/{host_pid}/status") as status:
        for line in status:
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    return host_pid


class AttachLauncher:
    """Starts gdb through one `AttachSession`; `close()` ends that session."""

    def __init__(self, session: AttachSession, tracer: str = "gdbserver"):
        self.session = session
        self.tracer = tracer
        self._gdbserver_files: GdbserverFiles | None = None
        self._tracer_session: AttachSession | None = None
        self._early_gdbserver: asyncio.Future[GdbserverProcess | None] | None = None
        self._early_taken = False
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
        cls,
        container: Container | int,
        options: AttachOptions | None = None,
        tracer: str = "gdbserver",
    ) -> AttachLauncher:
        """Open an attach session on `container` (blocking work runs in a thread).
        `tracer`: "gdbserver" (default) or "native" (gdb traces the process itself)."""
        session = await asyncio.to_thread(AttachSession, container, options)
        return cls(session, tracer)

    async def spawn(self, argv: Sequence[str]) -> SessionGdbProcess:
        if self.tracer == "gdbserver" and self._early_gdbserver is None:
            # alongside gdb's start, so that attaching only has to connect
            self._early_gdbserver = asyncio.ensure_future(self._new_gdbserver())
        with child_pipes() as pipes:
            helper = await asyncio.to_thread(
                self.session.spawn,
                list(argv),
                stdin=pipes.stdin,
                stdout=pipes.stdout,
                stderr=pipes.stdout,
            )
        return SessionGdbProcess(helper, pipes.to_child, pipes.from_child)

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

    async def start_gdbserver(self) -> GdbserverProcess | None:
        """gdbserver in the session, chrooted into the container's root, run from the
        host's files; None when the tracer is gdb itself or gdbserver cannot start. The
        first call takes the one started alongside gdb."""
        if self.tracer != "gdbserver":
            return None
        if self._early_gdbserver is not None and not self._early_taken:
            self._early_taken = True
            return await self._early_gdbserver
        return await self._new_gdbserver()

    async def _new_gdbserver(self) -> GdbserverProcess | None:
        with child_pipes() as (stdin, stdout, to_server, from_server):
            try:
                process = await asyncio.to_thread(self._spawn_gdbserver, stdin, stdout)
            except (OSError, UserError):
                process = None
            if process is None:
                os.close(to_server)
                os.close(from_server)
                return None
        return GdbserverProcess(
            namespace_pid(process.command_pid), process.command_pid, to_server, from_server
        )

    def _spawn_gdbserver(self, stdin: int, stdout: int) -> SessionProcess | None:
        """Blocking; None when the host has no gdbserver. gdbserver goes into a second
        session without a merged root: the container's own mount namespace, chrooted to
        its root. Nothing it touches is served by the file server, and the server's
        teardown, which ends every process in the merged root's namespace, does not end
        it before it has detached."""
        if self._gdbserver_files is None:
            self._gdbserver_files = find_gdbserver()
        files = self._gdbserver_files
        if files is None:
            return None
        if self._tracer_session is None:
            options = dataclasses.replace(self.session.options, fs="none")
            self._tracer_session = AttachSession(self.session.container, options)
        folder = os.open(files.root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            return self._tracer_session.spawn(
                files.argv(f"/proc/self/fd/{folder}"),
                env=LOADER_ENVIRONMENT,
                stdin=stdin,
                stdout=stdout,
                stderr=subprocess.DEVNULL,
                pass_fds=[folder],
            )
        finally:
            os.close(folder)

    async def run_interactive(self, argv: Sequence[str]) -> int:
        """gdb's own console on a fresh PTY relayed to our terminal."""
        return await asyncio.to_thread(self.session.run_interactive, list(argv))

    async def close(self) -> None:
        if self._early_gdbserver is not None and not self._early_taken:
            with contextlib.suppress(Exception):
                unused = await self._early_gdbserver
                if unused is not None:
                    unused.close_ends()  # never attached: it exits, or the close ends it
        await asyncio.to_thread(self.session.close)
        if self._tracer_session is not None:
            await asyncio.to_thread(self._tracer_session.close)
