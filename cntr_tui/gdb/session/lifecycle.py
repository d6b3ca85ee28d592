"""GdbSession's life cycle: start gdb, attach (gdbserver and the guard first), detach,
close; watching gdb and the launcher for an end no one asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Self

from cntr_tui.gdb import symbols
from cntr_tui.gdb.events import Stopped
from cntr_tui.gdb.launch import Launcher
from cntr_tui.gdb.printers import ENABLE_MI_PRINTING
from cntr_tui.gdb.records import Breakpoint, Result
from cntr_tui.gdb.session.core import STOP_TIMEOUT
from cntr_tui.gdb.session.execution import SessionExecution
from cntr_tui.gdb.session.stack import SessionStack
from cntr_tui.gdb.session.tracer import SessionTracer
from cntr_tui.gdb.settings import gdb_command_line
from cntr_tui.gdb.transport import mi_quote
from cntr_tui.linux.proc_stat import alive
from cntr_tui.linux.procfs import exists
from cntr_tui.settings import Settings


class SessionLifecycle(SessionTracer, SessionExecution, SessionStack):
    """Start, attach, detach, close; ends no one asked for."""

    if TYPE_CHECKING:

        async def breakpoints(self) -> Result[list[Breakpoint]]: ...  # breakpoints.py's

    @classmethod
    async def start(
        cls,
        launcher: Launcher,
        *,
        non_stop: bool = False,
        gdb_args: Sequence[str] = (),
        settings: Settings | None = None,
    ) -> Self:
        """Start gdb through `launcher` and apply the symbol setup (sysroot, debug
        folders, pagination and confirmations off, non-stop when asked). `settings`:
        those read where this process started (None: read the environment now)."""
        settings = settings or Settings.from_environment()
        argv = gdb_command_line(launcher.placement, non_stop, gdb_args, settings)
        process = await launcher.spawn(argv)
        session = cls(process, launcher.placement, launcher, settings)
        await session._transport.start()
        session._watcher = asyncio.create_task(session._watch_gdb())
        failure = getattr(launcher, "wait_failure", None)
        if failure is not None:
            session._tasks.append(asyncio.create_task(session._watch_launcher(failure)))
        # with the check, MI's pretty printing of var-objects (printers.py)
        check, _ = await asyncio.gather(
            *map(session._transport.send, ("-gdb-show mi-async", ENABLE_MI_PRINTING))
        )
        if not check.ok or check.payload.get("value") != "on":
            await session.close()
            raise RuntimeError(f"gdb did not start: {check.error or check.payload}")
        session.state = "detached"
        session.non_stop = non_stop
        return session

    async def _watch_gdb(self) -> None:
        reason = await self._transport.closed
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._process.wait(), 5)
        if self.ended is not None or self._closing:
            return
        self._closing = True  # from here on, the end is ours to tell
        rescued = await self._rescue_summary()
        if self._lost is not None:
            kind, what = self._lost
        elif self.placement.container_host_pid is not None and not exists(
            self.placement.container_host_pid
        ):
            kind, what = "container-stopped", "the container stopped"
        else:
            kind, what = "gdb-exited", "gdb exited"
        self._end(kind, f"{what} ({reason}){rescued}")

    async def _watch_launcher(self, failure: Any) -> None:
        """The launcher's failure (the merged root's file server gone): gdb's pages come
        from that server, so gdb may die any moment. With gdbserver in all-stop mode,
        kill gdb and let the guard detach gdbserver; otherwise detach through gdb while
        it still answers, and kill it if it does not."""
        reason = str(await failure())
        if self.ended is not None or self._closing:
            return
        self._lost = ("file-server-lost", reason)
        if self._guard is None or self.tracer != "gdbserver" or self.non_stop:
            detached = False
            with contextlib.suppress(asyncio.TimeoutError):
                detached = (await asyncio.wait_for(self.detach(), 3)).ok
            if detached:
                return
        # With gdbserver in all-stop mode the guard detaches it as cleanly as gdb would
        # (traps out, stops drained, `D`), and no signal of ours is in flight: gdb's
        # detach of a running program starts with our SIGINT (`interrupt`), and gdb
        # dying under it (its pages are the lost server's) left that SIGINT to the
        # program once the guard had let it go: the demo's handler ended it (a hot
        # breakpoint, the FUSE connection aborted: 1 in 3 rounds under load).
        if self._guard is not None and self.tracer == "native":
            await self._guard.freeze()  # no thread reaches a trap while gdb is dying
        self._guard_detaches = self._guard is not None and self.tracer == "gdbserver"
        self._process.kill()  # with gdbserver, the guard detaches it

    async def close(self, detach_timeout: float = 5.0) -> None:
        """End the session. gdb quits (detaching a process still attached, which runs
        on); if gdb does not detach within `detach_timeout` s (busy with a command: on
        a signal, the caller has little time), it is killed and the guard detaches
        gdbserver (or removes the traps). Returns once gdb, the guard and the launcher
        (attach session) are gone."""
        if self._close_task is None:
            self._close_task = asyncio.ensure_future(self._close(detach_timeout))
        await asyncio.shield(self._close_task)

    async def _close(self, detach_timeout: float) -> None:
        self._closing = True
        clean = False
        if (
            self.ended is None
            and self.pid is not None
            and not self._transport.is_closed
            and not self._guard_detaches  # no interrupt of ours beside the guard's takeover
        ):
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._detach_inferior(), detach_timeout)
        if self._guard is not None and self.tracer == "gdbserver":
            if not any(alive(pid) for pid in self._guard.watched):
                await self._guard.release()  # nothing left to protect
                self._guard = None
            else:
                # Still attached: gdb's exit would leave gdbserver waiting on the
                # guard's hold. Kill gdb; the guard detaches gdbserver cleanly.
                self._process.kill()
        free = False  # gdb has no process attached: its exit can touch none
        if not self._transport.is_closed:
            with contextlib.suppress(asyncio.TimeoutError):
                free = await asyncio.wait_for(self._nothing_attached(), 5)
                result = await asyncio.wait_for(self._transport.send("-gdb-exit"), 5)
                clean = result.klass == "exit"
        if clean and free:
            # gdb's own exit would wait ~40 ms for its remote bridge and gdbserver to
            # end; with nothing attached there is nothing left for it to do
            self._process.kill()
        if clean:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._process.wait(), 5)
        self._process.kill()
        self._transport.close()
        if self._guard is not None:
            if clean:
                await self._guard.release()
                self._guard = None
            else:
                await self._rescue_summary()
        if self._watcher is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._watcher, 5)
        for task in self._tasks:
            task.cancel()
        self._end("closed", "session closed")
        try:
            if self._launcher is not None:
                await self._launcher.close()
        finally:
            if self._guard_check is not None:
                self.guard_outcome = await self._guard_check
                self._guard_check = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def attach(
        self, pid: int, host_pid: int | None = None, timeout: float = STOP_TIMEOUT
    ) -> Result[Stopped]:
        """Attach to `pid` (as gdb's PID namespace sees it) and wait until it stops.

        `host_pid` (the same process as the host sees it; defaults to `pid` for a gdb
        outside the container) lets us name the executable under the sysroot first.
        """
        if host_pid is None and not self.placement.inside_session:
            host_pid = pid
        if host_pid is not None and self.placement.container_root:
            executable = symbols.executable_in_container(host_pid)
            if executable is not None:
                path = self.placement.container_path(executable)
                loaded = await self.command(f"-file-exec-and-symbols {mi_quote(path)}")
                if loaded.ok:
                    self.executable_path = path
        server = await self._connect_gdbserver()
        await self._arm_guard(host_pid, pid, server)  # before gdb may plant a trap
        if host_pid is not None:
            self._known_hosts[pid] = host_pid  # the guard watches it already
        result = await self.command(f"-target-attach {pid}")
        if not result.ok:
            if self._guard is not None and not self._may_hold(host_pid, server):
                await self._guard.release()  # nothing was touched
                self._guard = None
            return Result(error=result.error)
        self.pid = pid
        self.target_host_pid = host_pid
        stop = await self.wait_stopped(timeout)
        if stop.ok and self.non_stop:
            await self._until_all_stopped(timeout)
        if stop.ok:
            await self._learn_executable_sources()
        return stop

    async def _until_all_stopped(self, timeout: float) -> None:
        """Non-stop attach stops the threads one by one: wait for the stragglers."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            stops_before = self._stop_generation
            threads = await self.threads()
            if not any(t.state == "running" for t in threads.value or []):
                return
            if self._stop_generation == stops_before:  # none arrived meanwhile: wait
                left = deadline - asyncio.get_running_loop().time()
                await self._next_stop(lambda _stop: True, max(0.0, left))

    async def detach(self) -> Result[None]:
        """Detach (gdb removes its breakpoints; the process runs on) and end gdb."""
        if self.state == "ended":
            return Result(error="session already ended")
        detached = await self._detach_inferior()
        if not detached.ok:
            return detached
        if self._lost is not None:
            self._end(self._lost[0], f"{self._lost[1]}; detached from process {self.pid}")
        else:
            self._end("detached", f"detached from process {self.pid}")
        await self.close()
        return Result(None)

    async def _nothing_attached(self) -> bool:
        """Whether gdb has no live process (ours, or one attached from its console).
        Asked of gdb directly: after `detach()` the session has ended for `command`."""
        groups = await self._transport.send("-list-thread-groups")
        return groups.ok and not any("pid" in group for group in groups.payload.get("groups", []))

    async def _detach_inferior(self) -> Result[None]:
        if self.state == "running" and not self.non_stop:
            interrupted = await self.interrupt()
            if not interrupted.ok and self.state != "stopped":
                return Result(error=f"cannot stop the process to detach: {interrupted.error}")
        released = await self._release_syscall_catchpoints()
        if not released.ok and self.state != "stopped":
            return Result(error=f"cannot stop the process to detach: {released.error}")
        # /proc before the detach: a SIGINT still queued (SigPnd/ShdPnd of any thread)
        # would be the program's once detached; gdb takes it first, or no detach
        taken = await self._take_queued_interrupt()
        if not taken.ok:
            return Result(error=f"not detached: {taken.error}")
        self._detaching = True
        result = await self.command("-target-detach")
        if not result.ok:
            self._detaching = False
            return Result(error=result.error)
        for group in list(self.processes):  # the other side of a fork gdb kept
            other = await self.command(f"-target-detach {group}")
            if not other.ok:
                self._detaching = False
                return Result(error=f"process {self.processes.get(group)}: {other.error}")
        if self._guard is not None:
            # The tracer took its traps out; gdbserver may have left a stop queued. The
            # guard checks while gdb and the launcher end; close() takes its outcome.
            self._guard_check = asyncio.ensure_future(self._guard.detached())
            self._guard = None
        return Result(None)

    async def _release_syscall_catchpoints(self) -> Result[None]:
        """gdbserver refuses the detach ("Can't detach process.") while it catches
        syscalls for the process, and stops catching them only when the process is
        next resumed: syscall catchpoints are deleted, then the process resumed and
        stopped once (an interrupt, or whatever stops it first)."""
        if self.tracer != "gdbserver" or self.non_stop or self.state != "stopped":
            return Result(None)
        listed = await self.breakpoints()
        caught = [
            found.number
            for found in listed.value or []
            if found.type == "catchpoint" and (found.what or "").split(" ")[0] == "syscall"
        ]
        if not caught:
            return Result(None)
        deleted = await self._call(f"-break-delete {' '.join(caught)}")
        if not deleted.ok:
            return Result(error=deleted.error)
        stops_before = self._stop_generation
        resumed = await self._resuming("-exec-continue")
        if not resumed.ok:
            return Result(error=resumed.error)
        if self._stop_generation != stops_before:
            return Result(None)  # it stopped already (a breakpoint), in the same read
        stop = await self.interrupt()
        return Result(None) if stop.ok else Result(error=stop.error)
