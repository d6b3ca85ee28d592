"""The session's asyncio handle on a trap guard process (the process is guard_process.py).

    guard = await TrapGuard.start(gdb_pid, target_host_pid, gdbserver_link)
    ...                                  # gdb attaches, debugs
    guard.watch(host_pid, pid)           # another process gdb holds (guard.unwatch)
    outcome = await guard.detached()     # after a clean detach: check, continue a stop
    await guard.release()                # or: nothing to protect (attach failed, gone)

`start` returns once the guard process exists and holds what it was given (gdbserver's
pipe ends): the caller may close its own copies then.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess

from cntr_tui.gdb.pidfd import child_exit
from cntr_tui.python_command import module_main_command
from cntr_tui.settings import Settings

GUARD_MODULE = "cntr_tui.gdb.guard_process"


class TrapGuard:
    """The session's handle on a guard process (asyncio). One task reads its output."""

    def __init__(self, process: subprocess.Popen[bytes], target_pid: int):
        self._process = process
        self.target_pid = target_pid  # host PID of the guarded program
        # every process it watches (host PIDs): the program, and those `watch` added
        self.watched: set[int] = {target_pid}
        self.outcome: dict[str, object] | None = None
        self._frozen = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(
        cls,
        gdb_pid: int,
        target_pid: int,
        gdbserver: tuple[int, int, int, int] | None = None,
        hold: int | None = None,
    ) -> TrapGuard:
        """Start a guard for gdb `gdb_pid` debugging `target_pid` (host PIDs). With
        `gdbserver` = (its host PID, the target's PID in its namespace, our end of its
        stdin, our end of its stdout), the guard holds those ends (the caller closes
        its copies) and detaches gdbserver itself if gdb dies, or if we do. `hold`: a
        copy of our channel to gdbserver's attach helper (GdbserverProcess.hold), kept
        by the guard until it exits, so that gdbserver outlives us until then."""
        arguments = [str(gdb_pid), str(target_pid)]
        pass_fds: tuple[int, ...] = ()
        if gdbserver is not None:
            arguments += ["--gdbserver", *(str(value) for value in gdbserver)]
            pass_fds = gdbserver[2:]
        if hold is not None:
            pass_fds += (hold,)
        trace = Settings.from_environment().guard_trace
        if trace is not None:
            arguments += ["--trace", trace]
        # A plain Popen (a fraction of a millisecond; asyncio's subprocess machinery
        # takes a few, and this is on the way to -target-attach). It returns after the
        # exec: the guard holds `pass_fds` from here on.
        process = subprocess.Popen(
            [*module_main_command(GUARD_MODULE, isolated=True), *arguments],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            pass_fds=pass_fds,
            start_new_session=True,  # outlives a crash of ours: it must, to be of use
        )
        # Not waiting for its "ready": if gdb ends before the guard watches it, the
        # guard finds it gone at start and acts at once.
        return cls(process, target_pid)

    @property
    def pid(self) -> int:
        return self._process.pid

    async def _read(self) -> None:
        assert self._process.stdout is not None
        loop = asyncio.get_running_loop()
        lines = asyncio.StreamReader()
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(lines), self._process.stdout
        )
        try:
            while line := await lines.readline():
                if line.strip() == b"frozen":
                    self._frozen.set()
                elif line.strip() != b"ready":
                    with contextlib.suppress(ValueError):
                        self.outcome = json.loads(line)
        finally:
            transport.close()
        await child_exit(self._process)

    def _send(self, command: bytes) -> bool:
        """One line to the guard (a pipe write of a few bytes never blocks)."""
        if self._process.poll() is not None or self._process.stdin is None:
            return False
        try:
            self._process.stdin.write(command)
        except (BrokenPipeError, ValueError):  # the guard is gone, or we closed the pipe
            return False
        return True

    def watch(self, host_pid: int, pid: int) -> None:
        """Another process gdb holds (a fork's other side, an inferior attached from the
        console): `host_pid`, and `pid` as gdbserver (or gdb) sees it. The guard makes it
        safe too."""
        if host_pid not in self.watched and self._send(b"watch %d %d\n" % (host_pid, pid)):
            self.watched.add(host_pid)

    def unwatch(self, host_pid: int) -> None:
        """gdb let `host_pid` go (detached, exited): the guard no longer touches it."""
        if host_pid in self.watched and self._send(b"unwatch %d\n" % host_pid):
            self.watched.discard(host_pid)

    async def freeze(self) -> bool:
        """Stop the program now (the rescue continues it). False if the guard is done."""
        if not self._send(b"freeze\n"):
            return False
        frozen = asyncio.ensure_future(self._frozen.wait())
        await asyncio.wait([frozen, self._reader], timeout=5, return_when=asyncio.FIRST_COMPLETED)
        frozen.cancel()
        return self._frozen.is_set()

    async def release(self) -> None:
        """Nothing to guard (the attach failed, or the program is gone): end without
        touching the program."""
        self._send(b"release\n")
        await self.finished()

    async def detached(self) -> dict[str, object] | None:
        """The tracer detached: the guard checks the program (a stop left queued is
        continued) and ends. Its outcome."""
        self._send(b"detached\n")
        return await self.finished()

    async def finished(self, timeout: float = 15.0) -> dict[str, object] | None:
        """Wait for the guard to end; its rescue summary, if it had to rescue."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            await child_exit(self._process)
        if self._process.stdin is not None:
            self._process.stdin.close()
        return self.outcome
