"""Where gdb runs, and how we see its files: the injectable launcher of a GdbSession.

A launcher starts `gdb --interpreter=mi3` and hands back its pipes (`GdbProcess`),
plus a `Placement`: how gdb names the container's root (its sysroot) and how a path
gdb uses maps to a path this (host) process can open, for the source and symbol checks.

- `HostLauncher`: the host's gdb on the host, sysroot `/proc/PID/root` (a baseline and
  the fallback; gdb then warns about different PID namespaces).
- `cntr_tui.gdb.attached.AttachLauncher`: gdb inside an attach session, sysroot
  `/var/lib/cntr`, PIDs as the container sees them.

Both trace through gdbserver by default (`tracer="gdbserver"`, see gdbserver.py):
`start_gdbserver()` starts it apart from gdb and returns a `GdbserverProcess`; with
`tracer="native"`, or without gdbserver on the host, it returns None and gdb traces the
process itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from typing import Protocol

from cntr_tui.gdb.pidfd import child_exit
from cntr_tui.gdb.pipes import GdbserverProcess, child_pipes
from cntr_tui.gdb.placement import Placement
from cntr_tui.linux.procfs import root_path, shares_our_root


class GdbProcess(Protocol):
    """A started gdb: we write MI to `stdin_fd` and read MI from `stdout_fd` (both ours
    to close). `wait()` returns the exit status; `kill()` is safe to call twice."""

    stdin_fd: int
    stdout_fd: int
    pid: int  # gdb's host PID

    async def wait(self) -> int | None: ...

    def kill(self) -> None: ...


class Launcher(Protocol):
    placement: Placement

    async def spawn(self, argv: Sequence[str]) -> GdbProcess: ...

    async def close(self) -> None: ...

    async def start_gdbserver(self) -> GdbserverProcess | None: ...


class PopenGdbProcess:
    """A gdb child of this process, with its pipes and a pidfd to await its exit."""

    def __init__(self, process: subprocess.Popen[bytes], stdin_fd: int, stdout_fd: int):
        self._process = process
        self.stdin_fd = stdin_fd
        self.stdout_fd = stdout_fd
        self.pid = process.pid

    async def wait(self) -> int | None:
        return await child_exit(self._process)

    def kill(self) -> None:
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.send_signal(signal.SIGKILL)


def spawn_with_pipes(argv: Sequence[str], **popen_kwargs: object) -> PopenGdbProcess:
    """Start `argv` with fresh O_CLOEXEC pipes on stdin/stdout; stderr joins stdout."""
    with child_pipes() as pipes:
        process = subprocess.Popen(
            list(argv),
            stdin=pipes.stdin,
            stdout=pipes.stdout,
            stderr=pipes.stdout,
            start_new_session=True,  # a Ctrl-C in our terminal is not gdb's business
            **popen_kwargs,  # type: ignore[arg-type]
        )
    return PopenGdbProcess(process, pipes.to_child, pipes.from_child)


class HostLauncher:
    """The host's gdb as our child.

    With `target_host_pid`, the container's files are read through `/proc/PID/root`
    (the fallback when no attach session is available); `root` names that folder
    explicitly instead (a root file system folder on the host, as in the tests).
    """

    def __init__(
        self,
        target_host_pid: int | None = None,
        gdb: str = "gdb",
        root: str | None = None,
        tracer: str = "gdbserver",
    ):
        self.gdb = gdb
        self.tracer = tracer
        self._gdbservers: list[subprocess.Popen[bytes]] = []
        if root is None and target_host_pid is not None and not shares_our_root(target_host_pid):
            root = root_path(target_host_pid)
        self.placement = Placement(
            container_root=root or "",
            container_root_on_host=root or "",
            container_host_pid=target_host_pid,
            description=f"host gdb, container files at {root}" if root else "host gdb",
        )

    async def spawn(self, argv: Sequence[str]) -> GdbProcess:
        return spawn_with_pipes([self.gdb, *argv[1:]])

    async def run_interactive(self, argv: Sequence[str]) -> int:
        """Run gdb's own console on our terminal; its exit status."""
        process = await asyncio.create_subprocess_exec(self.gdb, *argv[1:])
        return await process.wait()

    async def start_gdbserver(self) -> GdbserverProcess | None:
        """The host's gdbserver as our child (None with tracer="native" or none found)."""
        if self.tracer != "gdbserver":
            return None
        from cntr_tui.gdb.gdbserver import find_gdbserver

        files = await asyncio.to_thread(find_gdbserver)
        if files is None:
            return None
        with child_pipes() as (stdin, stdout, to_server, from_server):
            process = subprocess.Popen(
                files.argv(),
                stdin=stdin,
                stdout=stdout,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                env={"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            )
        self._gdbservers.append(process)
        return GdbserverProcess(process.pid, process.pid, to_server, from_server)

    async def close(self) -> None:
        for process in self._gdbservers:  # they end once their connection does
            try:
                await asyncio.wait_for(asyncio.to_thread(process.wait), 10)
            except TimeoutError:
                process.kill()
                await asyncio.to_thread(process.wait)
