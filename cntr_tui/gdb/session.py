"""GdbSession: the asyncio API the app awaits. One session = one gdb = one attach.

    launcher = await AttachLauncher.start(container)     # or HostLauncher(host_pid)
    session = await GdbSession.start(launcher)           # gdb up, symbol setup applied
    stop = (await session.attach(pid_in_container, host_pid=host_pid)).unwrap()
    threads = (await session.threads()).unwrap()
    async for event in session.events(): ...             # Stopped, Running, SessionEnded...
    await session.detach()                               # the process runs on; gdb exits

Every command returns a `Result` (`.ok`, `.value`, `.error`, `.unwrap()`) and never
raises for gdb's errors, so a typo in an expression does not end the session. Thread
and frame arguments default to the selected ones (`selected_thread`, `selected_frame`).
Run control (`continue_`, `next`, `step`, `finish`, `until`, `stepi`, `nexti`) returns
once the process runs; `wait_stopped()` (or a `Stopped` event) gives the stop.
`state` is "detached" | "stopped" | "running" | "ended".

The session ends, with exactly one `SessionEnded` event (kind: detached,
inferior-exited, gdb-exited, container-stopped, file-server-lost, closed), when it is
detached or closed, when the process exits or is killed, when gdb dies, or when the
merged root's file server goes away.

The tracer is gdbserver when the launcher offers one (`tracer` says which): gdb
connects to it (`target extended-remote`) before attaching. A trap guard (see guard_process.py)
holds gdbserver's connection too: if gdb dies, the guard detaches gdbserver cleanly,
traps removed first; if the tracer dies anyway, it takes the traps out itself. The
guard is armed before `-target-attach` (its start overlaps gdb's attach and symbol
reading) and released if the attach fails.
CNTR_TUI_GDB_TRACE=FILE appends every byte exchanged with gdb to FILE.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Literal

from cntr_tui.gdb import settings, symbols
from cntr_tui.gdb.events import (
    EndKind,
    Event,
    LogOutput,
    Running,
    SessionEnded,
    Stopped,
    event_from_record,
)
from cntr_tui.gdb.gdbserver import bridge_target
from cntr_tui.gdb.launch import GdbProcess, GdbserverProcess, Launcher, Placement
from cntr_tui.gdb.records import (
    Breakpoint,
    Frame,
    Instruction,
    MemoryBlock,
    Register,
    Result,
    SharedLibrary,
    Thread,
    Variable,
    as_list,
    to_int,
)
from cntr_tui.gdb.transport import MiRecord, MiResult, MiTransport, mi_quote
from cntr_tui.gdb.trap_guard import TrapGuard
from cntr_tui.linux.proc_stat import alive
from cntr_tui.linux.proc_status import tracer_pid

State = Literal["starting", "detached", "stopped", "running", "ended"]
STOP_TIMEOUT = 30.0


GDBSERVER_ATTEMPTS = 2  # a failed gdbserver start is tried once more


class GdbSession:
    """Drive one gdb over MI. Create with `await GdbSession.start(launcher)`."""

    def __init__(self, process: GdbProcess, placement: Placement, launcher: Launcher | None):
        self.placement = placement
        self.state: State = "starting"
        self.pid: int | None = None
        self.last_stop: Stopped | None = None
        self.ended: SessionEnded | None = None
        self.selected_thread: int | None = None
        self.selected_frame: int = 0
        self.source_rules: dict[str, str] = {}
        self.executable_path: str | None = None
        self._process = process
        self._launcher = launcher
        self._listeners: list[Callable[[Event], None]] = []
        self._queues: list[asyncio.Queue[Event]] = []
        self._stop_waiters: list[tuple[Callable[[Stopped], bool], asyncio.Future[Stopped]]] = []
        self._detaching = False
        self._closing = False
        self._close_task: asyncio.Future[None] | None = None
        self.non_stop = False
        self._background: set[asyncio.Task[Any]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._stop_generation = 0  # counts *stopped records
        self._register_names: list[str] | None = None
        self._transport = MiTransport(
            process.stdout_fd, process.stdin_fd, self._on_record, trace_writer()
        )
        self._watcher: asyncio.Task[None] | None = None
        self._guard: TrapGuard | None = None
        self._guard_check: asyncio.Future[dict[str, object] | None] | None = None
        self._lost: tuple[EndKind, str] | None = None
        self.guard_outcome: dict[str, object] | None = None
        self.tracer: Literal["gdbserver", "native"] = "native"
        self.gdbserver_failure: str | None = None  # why gdbserver is not the tracer
        self.target_host_pid: int | None = None

    # ----- life cycle -----------------------------------------------------------------

    @classmethod
    async def start(
        cls,
        launcher: Launcher,
        *,
        non_stop: bool = False,
        gdb_args: Sequence[str] = (),
    ) -> GdbSession:
        """Start gdb through `launcher` and apply the symbol setup (sysroot, debug
        folders, pagination and confirmations off, non-stop when asked)."""
        argv = settings.gdb_command_line(launcher.placement, non_stop, gdb_args)
        process = await launcher.spawn(argv)
        session = cls(process, launcher.placement, launcher)
        await session._transport.start()
        session._watcher = asyncio.create_task(session._watch_gdb())
        failure = getattr(launcher, "wait_failure", None)
        if failure is not None:
            session._tasks.append(asyncio.create_task(session._watch_launcher(failure)))
        check = await session._transport.send("-gdb-show mi-async")
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
        elif self.placement.container_host_pid is not None and not os.path.exists(
            f"/proc/{self.placement.container_host_pid}"
        ):
            kind, what = "container-stopped", "the container stopped"
        else:
            kind, what = "gdb-exited", "gdb exited"
        self._end(kind, f"{what} ({reason}){rescued}")

    async def _watch_launcher(self, failure: Any) -> None:
        """The launcher's failure (the merged root's file server gone): gdb's pages come
        from that server, so gdb may die any moment. Detach while it still answers;
        otherwise kill it and let the guard take the traps out of the program."""
        reason = str(await failure())
        if self.ended is not None or self._closing:
            return
        self._lost = ("file-server-lost", reason)
        detached = False
        with contextlib.suppress(asyncio.TimeoutError):
            detached = (await asyncio.wait_for(self.detach(), 3)).ok
        if detached:
            return
        if self._guard is not None and self.tracer == "native":
            await self._guard.freeze()  # no thread reaches a trap while gdb is dying
        self._process.kill()  # with gdbserver, the guard detaches it

    async def _rescue_summary(self) -> str:
        if self._guard is None:
            return ""
        self.guard_outcome = outcome = await self._guard.finished()
        self._guard = None
        if not outcome or outcome.get("gone"):
            return ""
        if outcome.get("error"):
            return f"; making the process safe failed: {outcome['error']}"
        removed = int(outcome.get("restored", 0)) + int(outcome.get("removed_by_gdbserver", 0))
        how = " (the guard detached gdbserver)" if outcome.get("detached_by_guard") else ""
        continued = ", continued" if outcome.get("continued") else ""
        return f"; {removed} trap(s) removed{how}{continued}, the process runs on"

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
        if self.ended is None and self.pid is not None and not self._transport.is_closed:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._detach_inferior(), detach_timeout)
        if self._guard is not None and self.tracer == "gdbserver":
            if not alive(self._guard.target_pid):
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

    async def __aenter__(self) -> GdbSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ----- events ---------------------------------------------------------------------

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        """Call `listener(event)` for each event, in order, on the event loop."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[Event], None]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    async def events(self) -> AsyncIterator[Event]:
        """Every event from now on; ends after `SessionEnded`."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        if self.ended is not None:
            yield self.ended
            return
        self._queues.append(queue)
        try:
            while True:
                event = await queue.get()
                yield event
                if isinstance(event, SessionEnded):
                    return
        finally:
            with contextlib.suppress(ValueError):
                self._queues.remove(queue)

    def _emit(self, event: Event) -> None:
        if self.ended is not None and event is not self.ended:
            return  # nothing follows the end
        for queue in self._queues:
            queue.put_nowait(event)
        for listener in list(self._listeners):
            listener(event)

    def _end(self, kind: EndKind, reason: str) -> None:
        if self.ended is not None:
            return
        self.state = "ended"
        self.ended = SessionEnded(kind, reason)
        for _wanted, waiter in self._stop_waiters:
            if not waiter.done():
                waiter.set_exception(SessionEndedError(reason))
        self._stop_waiters.clear()
        self._emit(self.ended)
        if kind != "closed":
            # Nothing left to debug: gdb and the launcher (attach session) go too.
            task = asyncio.get_running_loop().create_task(self.close())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def _on_record(self, record: MiRecord) -> None:
        payload = record.payload if isinstance(record.payload, dict) else {}
        if record.kind == "notify" and record.klass == "thread-group-exited":
            if self._detaching or self._closing:
                return  # detach() / close() end the session themselves
            if "exit-code" in payload:
                self._end("inferior-exited", f"process {self.pid} exited")
            else:
                self._end("inferior-exited", f"process {self.pid} is gone")
            return
        if record.kind == "notify" and record.klass == "thread-selected":
            self.selected_thread = to_int(payload.get("id"))
            frame = payload.get("frame")
            self.selected_frame = to_int(frame.get("level")) or 0 if isinstance(frame, dict) else 0
        event = event_from_record(record)
        if event is None:
            return
        if isinstance(event, Stopped):
            self._on_stopped(event)
        elif isinstance(event, Running) and self.state not in ("ended", "detached"):
            self.state = "running"
        self._emit(event)
        if isinstance(event, Stopped) and event.reason in ("exited", "exited-signalled"):
            how = f"signal {event.signal_name}" if event.signal_name else f"code {event.exit_code}"
            self._end("inferior-exited", f"process {self.pid} exited with {how}")

    def _on_stopped(self, stop: Stopped) -> None:
        if self.state == "ended":
            return
        self._stop_generation += 1
        self.state = "stopped"
        self.last_stop = stop
        if stop.thread_id is not None:
            self.selected_thread = stop.thread_id
        self.selected_frame = 0
        waiting = []
        for wanted, waiter in self._stop_waiters:
            if waiter.done():
                continue
            if wanted(stop):
                waiter.set_result(stop)
            else:
                waiting.append((wanted, waiter))
        self._stop_waiters = waiting
        if stop.frame is not None:
            self._learn_source(stop.frame)

    async def wait_stopped(self, timeout: float = STOP_TIMEOUT) -> Result[Stopped]:
        """The current stop, or the next one; an error on timeout or session end."""
        if self.state == "stopped" and self.last_stop is not None:
            return Result(self.last_stop)
        if self.state == "ended":
            return Result(error=self.ended.reason if self.ended else "session ended")
        return await self._next_stop(lambda _stop: True, timeout)

    async def _next_stop(
        self, wanted: Callable[[Stopped], bool], timeout: float
    ) -> Result[Stopped]:
        if self.ended is not None:
            return Result(error=self.ended.reason)
        waiter: asyncio.Future[Stopped] = asyncio.get_running_loop().create_future()
        self._stop_waiters.append((wanted, waiter))
        try:
            return Result(await asyncio.wait_for(waiter, timeout))
        except TimeoutError:
            return Result(error=f"no stop within {timeout:g} s")
        except SessionEndedError as error:
            return Result(error=str(error))

    # ----- raw access -----------------------------------------------------------------

    async def command(self, mi_command: str) -> MiResult:
        """Send one MI command; the raw result (also for errors)."""
        if self.ended is not None:
            return MiResult("error", {"msg": f"the session has ended: {self.ended.reason}"})
        return await self._transport.send(mi_command)

    async def cli(self, command: str) -> Result[str]:
        """Run a CLI command (as typed at `(gdb)`); its console output."""
        if command.strip() == "interrupt" and self.tracer == "gdbserver":
            stop = await self.interrupt()  # not gdb's ^C to gdbserver (see interrupt)
            return Result("") if stop.ok else Result(error=stop.error)
        result = await self._resuming(f"-interpreter-exec console {mi_quote(command)}")
        if not result.ok:
            return Result(error=result.error)
        return Result(result.console)

    async def _resuming(self, mi_command: str) -> MiResult:
        """Send a command that may resume the process; track the state it leaves."""
        stops_before = self._stop_generation
        result = await self.command(mi_command)
        # `*running` and even the next `*stopped` may have been read in the same chunk
        # as `^running`: only a stop that came before the command leaves us "stopped".
        resumed = result.klass == "running" and self.state != "ended"
        if resumed and self._stop_generation == stops_before:
            self.state = "running"
        return result

    async def _call(self, mi_command: str) -> Result[dict[str, Any]]:
        result = await self.command(mi_command)
        return Result(result.payload) if result.ok else Result(error=result.error)

    # ----- attach and run control -----------------------------------------------------

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

    async def _connect_gdbserver(self) -> GdbserverProcess | None:
        """Start the launcher's gdbserver and connect gdb to it; None: gdb traces. A
        gdbserver that fails is tried once more (a fresh one) before gdb traces itself:
        the program's protection is worth a second start."""
        start = getattr(self._launcher, "start_gdbserver", None)
        if start is None:
            return None
        why = ""
        for attempt in range(GDBSERVER_ATTEMPTS):
            server = await start()
            if server is None:
                if getattr(self._launcher, "tracer", None) != "gdbserver":
                    return None  # the launcher's choice: gdb traces
                why = getattr(self._launcher, "gdbserver_failure", None) or "it did not start"
            else:
                inside = self.placement.inside_session  # gdb sees the container's /dev
                bridge = bridge_target(
                    server.pid, self.placement.container_host_pid if inside else None
                )
                target = f"target extended-remote {bridge}"
                connected = await self.command(f"-interpreter-exec console {mi_quote(target)}")
                if connected.ok:
                    self.tracer = "gdbserver"
                    return server
                server.close_ends()
                why = f"gdb could not connect to it: {connected.error}"
            if attempt + 1 < GDBSERVER_ATTEMPTS:
                self._emit(LogOutput(f"gdbserver could not be used ({why}): once more\n"))
        self._gdbserver_failed(why)
        return None

    def _gdbserver_failed(self, why: str) -> None:
        self.gdbserver_failure = why
        self._emit(LogOutput(f"gdbserver could not be used ({why}): gdb traces\n"))

    async def _arm_guard(
        self, host_pid: int | None, pid: int, server: GdbserverProcess | None
    ) -> None:
        """Start the trap guard for gdb and `host_pid`; it takes gdbserver's pipe ends
        (ours are closed once it holds its copies, or if it cannot start)."""
        gdb_pid = getattr(self._process, "pid", None)
        if host_pid is None or gdb_pid is None:
            self._emit(LogOutput("no trap guard: the process's host PID is unknown\n"))
            if server is not None:
                server.close_ends()
            return
        link = None
        if server is not None:
            link = (server.host_pid, pid, server.to_server, server.from_server)
        try:
            hold = server.hold if server is not None else None
            self._guard = await TrapGuard.start(gdb_pid, host_pid, link, hold)
        except (TimeoutError, OSError) as error:
            self._emit(LogOutput(f"no trap guard: {error}\n"))
        finally:
            if server is not None:
                server.close_ends()  # the guard holds its own copies

    def _may_hold(self, host_pid: int | None, server: GdbserverProcess | None) -> bool:
        """After a failed attach: whether our tracer may hold the program all the same
        (gdb died in the attach, or it or gdbserver traces the program). Then the guard
        stays, to do its part when gdb ends."""
        if self._transport.is_closed or host_pid is None:
            return True
        ours = {getattr(self._process, "pid", None)}
        if server is not None:
            ours.add(server.host_pid)
        return tracer_pid(host_pid) in ours

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
        self._detaching = True
        result = await self.command("-target-detach")
        if not result.ok:
            self._detaching = False
            return Result(error=result.error)
        if self._guard is not None:
            # The tracer took its traps out; gdbserver may have left a stop queued. The
            # guard checks while gdb and the launcher end; close() takes its outcome.
            self._guard_check = asyncio.ensure_future(self._guard.detached())
            self._guard = None
        return Result(None)

    async def _run(self, mi_command: str, thread_id: int | None = None) -> Result[None]:
        thread = f" --thread {thread_id}" if thread_id is not None else ""
        result = await self._resuming(f"{mi_command}{thread}")
        return Result(None) if result.ok else Result(error=result.error)

    async def continue_(self, thread_id: int | None = None) -> Result[None]:
        """Resume (all threads, or one in non-stop mode). Returns once running."""
        if self.non_stop and thread_id is None:
            return await self._run("-exec-continue --all")
        return await self._run("-exec-continue", thread_id)

    async def interrupt(
        self, thread_id: int | None = None, timeout: float = STOP_TIMEOUT
    ) -> Result[Stopped]:
        """Stop the running process (in non-stop mode: one thread, or all of them when
        `thread_id` is None) and wait for the stop."""
        if self.state == "stopped" and self.last_stop is not None and not self.non_stop:
            return Result(self.last_stop)
        if self.tracer == "gdbserver" and not self.non_stop and self.target_host_pid:
            # gdbserver's own interrupt signals the process group: kill(-1) for a
            # container's PID 1, and nothing when the process leads no group.
            command = ""
        elif not self.non_stop:
            command = "-exec-interrupt"
        elif thread_id is None:
            command = "-exec-interrupt --all"
        else:
            command = f"-exec-interrupt --thread {thread_id}"
        stops_before = self._stop_generation
        last_before = self.last_stop
        if command:
            result = await self.command(command)
            if not result.ok:
                return Result(error=result.error)
        else:
            try:
                os.kill(self.target_host_pid, signal.SIGINT)  # type: ignore[arg-type]
            except ProcessLookupError:
                return Result(error=f"process {self.pid} is gone")

        def wanted(stop: Stopped) -> bool:
            return thread_id is None or stop.thread_id == thread_id

        stop = self.last_stop
        came = self._stop_generation != stops_before and stop is not last_before
        if came and stop is not None and wanted(stop):
            return Result(stop)
        return await self._next_stop(wanted, timeout)

    async def next(self, thread_id: int | None = None) -> Result[None]:
        return await self._run("-exec-next", thread_id or self.selected_thread)

    async def step(self, thread_id: int | None = None) -> Result[None]:
        return await self._run("-exec-step", thread_id or self.selected_thread)

    async def finish(self, thread_id: int | None = None) -> Result[None]:
        frame = f" --frame {self.selected_frame}" if thread_id is None else ""
        result = await self._run(f"-exec-finish{frame}", thread_id or self.selected_thread)
        return result

    async def until(
        self, location: str | None = None, thread_id: int | None = None
    ) -> Result[None]:
        command = f"-exec-until {location}" if location else "-exec-until"
        return await self._run(command, thread_id or self.selected_thread)

    async def stepi(self, thread_id: int | None = None) -> Result[None]:
        return await self._run("-exec-step-instruction", thread_id or self.selected_thread)

    async def nexti(self, thread_id: int | None = None) -> Result[None]:
        return await self._run("-exec-next-instruction", thread_id or self.selected_thread)

    # ----- selection ------------------------------------------------------------------

    async def select_thread(self, thread_id: int) -> Result[Frame | None]:
        result = await self._call(f"-thread-select {thread_id}")
        if not result.ok:
            return Result(error=result.error)
        self.selected_thread = thread_id
        self.selected_frame = 0
        frame = (result.value or {}).get("frame")
        return Result(Frame.from_mi(frame) if isinstance(frame, dict) else None)

    async def select_frame(self, level: int, thread_id: int | None = None) -> Result[Frame]:
        thread = thread_id or self.selected_thread
        frames = await self.backtrace(thread, low=level, high=level)
        if not frames.ok:
            return Result(error=frames.error)
        if not frames.value:
            return Result(error=f"no frame {level}")
        thread_option = f"--thread {thread} " if thread is not None else ""
        selected = await self._call(f"-stack-select-frame {thread_option}{level}")
        if not selected.ok:
            return Result(error=selected.error)
        self.selected_thread = thread
        self.selected_frame = level
        return Result(frames.value[0])

    async def frame_up(self) -> Result[Frame]:
        return await self.select_frame(self.selected_frame + 1)

    async def frame_down(self) -> Result[Frame]:
        if self.selected_frame == 0:
            return Result(error="already at the innermost frame")
        return await self.select_frame(self.selected_frame - 1)

    def _context(self, thread_id: int | None, level: int | None) -> str:
        thread = thread_id if thread_id is not None else self.selected_thread
        options = f"--thread {thread} " if thread is not None else ""
        frame = level if level is not None else self.selected_frame
        return options + f"--frame {frame} "

    # ----- inspection -----------------------------------------------------------------

    async def threads(self) -> Result[list[Thread]]:
        """Every thread with its top frame (LWPs as gdb's PID namespace sees them)."""
        result = await self._call("-thread-info")
        if not result.ok:
            return Result(error=result.error)
        threads = [Thread.from_mi(item) for item in as_list((result.value or {}).get("threads"))]
        for thread in threads:
            if thread.frame is not None:
                self._learn_source(thread.frame)
        return Result([self._with_source(thread) for thread in threads])

    async def backtrace(
        self, thread_id: int | None = None, low: int | None = None, high: int | None = None
    ) -> Result[list[Frame]]:
        thread = thread_id if thread_id is not None else self.selected_thread
        options = f"--thread {thread} " if thread is not None else ""
        bounds = f" {low} {high}" if low is not None and high is not None else ""
        frames = await self._call(f"-stack-list-frames {options}{bounds}".rstrip())
        if not frames.ok:
            return Result(error=frames.error)
        listed = []
        for item in as_list((frames.value or {}).get("stack")):
            frame = Frame.from_mi(item.get("frame", item) if isinstance(item, dict) else {})
            self._learn_source(frame)
            listed.append(self.resolve_frame(frame))
        return Result(listed)

    async def variables(
        self, thread_id: int | None = None, level: int | None = None
    ) -> Result[list[Variable]]:
        """Arguments and locals of a frame, with values (structs as gdb prints them)."""
        context = self._context(thread_id, level)
        result = await self._call(f"-stack-list-variables {context}--all-values")
        if not result.ok:
            return Result(error=result.error)
        return Result(
            [Variable.from_mi(item) for item in as_list((result.value or {}).get("variables"))]
        )

    async def locals(
        self, thread_id: int | None = None, level: int | None = None
    ) -> Result[list[Variable]]:
        found = await self.variables(thread_id, level)
        return Result([v for v in found.value or [] if not v.is_argument], found.error)

    async def arguments(
        self, thread_id: int | None = None, level: int | None = None
    ) -> Result[list[Variable]]:
        found = await self.variables(thread_id, level)
        return Result([v for v in found.value or [] if v.is_argument], found.error)

    async def children(
        self, expression: str, thread_id: int | None = None, level: int | None = None
    ) -> Result[list[Variable]]:
        """The members of a struct/class/array expression (one level), via a var-object."""
        context = self._context(thread_id, level)
        created = await self._call(f"-var-create {context}- * {mi_quote(expression)}")
        if not created.ok:
            return Result(error=created.error)
        name = str((created.value or {}).get("name"))
        try:
            listed = await self._call(f"-var-list-children --all-values {name}")
            if not listed.ok:
                return Result(error=listed.error)
            children = []
            for item in as_list((listed.value or {}).get("children")):
                child = item.get("child", item) if isinstance(item, dict) else {}
                children.append(
                    Variable(
                        name=str(child.get("exp", "?")),
                        value=child.get("value"),
                        type=child.get("type"),
                        child_count=to_int(child.get("numchild")) or 0,
                    )
                )
            return Result(children)
        finally:
            await self.command(f"-var-delete {name}")

    async def evaluate(
        self, expression: str, thread_id: int | None = None, level: int | None = None
    ) -> Result[str]:
        context = self._context(thread_id, level) if self.state == "stopped" else ""
        result = await self._call(f"-data-evaluate-expression {context}{mi_quote(expression)}")
        if not result.ok:
            return Result(error=result.error)
        return Result(str((result.value or {}).get("value", "")))

    async def registers(
        self, thread_id: int | None = None, level: int | None = None
    ) -> Result[list[Register]]:
        if self._register_names is None:
            names = await self._call("-data-list-register-names")
            if not names.ok:
                return Result(error=names.error)
            self._register_names = [
                str(n) for n in as_list((names.value or {}).get("register-names"))
            ]
        context = self._context(thread_id, level)
        values = await self._call(f"-data-list-register-values {context}x")
        if not values.ok:
            return Result(error=values.error)
        registers = []
        for item in as_list((values.value or {}).get("register-values")):
            number = to_int(item.get("number"))
            if number is None or number >= len(self._register_names):
                continue
            name = self._register_names[number]
            if name:
                registers.append(Register(number, name, str(item.get("value", ""))))
        return Result(registers)

    async def disassemble(
        self,
        thread_id: int | None = None,
        level: int | None = None,
        before: int = 8,
        after: int = 16,
    ) -> Result[tuple[list[Instruction], int | None]]:
        """Instructions around the frame's PC, and the PC. Whole function when known."""
        pc_text = await self.evaluate("$pc", thread_id, level)
        if not pc_text.ok:
            return Result(error=pc_text.error)
        pc = to_int(str(pc_text.value).split()[0], 16) if pc_text.value else None
        if pc is None:
            return Result(error=f"no PC: {pc_text.value}")
        result = await self._call(f"-data-disassemble -a {pc:#x} -- 0")
        if not result.ok:
            result = await self._call(f"-data-disassemble -s {pc:#x} -e {pc + 64:#x} -- 0")
        if not result.ok:
            return Result(error=result.error)
        lines = [
            Instruction.from_mi(item) for item in as_list((result.value or {}).get("asm_insns"))
        ]
        index = next((i for i, line in enumerate(lines) if line.address == pc), 0)
        return Result((lines[max(0, index - before) : index + after], pc))

    async def read_memory(self, address: int | str, length: int) -> Result[MemoryBlock]:
        where = f"{address:#x}" if isinstance(address, int) else mi_quote(address)
        result = await self._call(f"-data-read-memory-bytes {where} {length}")
        if not result.ok:
            return Result(error=result.error)
        blocks = as_list((result.value or {}).get("memory"))
        if not blocks:
            return Result(error="no memory returned")
        start = to_int(blocks[0].get("begin"), 16) or 0
        data = b"".join(bytes.fromhex(block.get("contents", "")) for block in blocks)
        return Result(MemoryBlock(start, data))

    async def shared_libraries(self) -> Result[list[SharedLibrary]]:
        result = await self._call("-file-list-shared-libraries")
        if not result.ok:
            return Result(error=result.error)
        return Result(
            [
                SharedLibrary.from_mi(item)
                for item in as_list((result.value or {}).get("shared-libraries"))
            ]
        )

    async def executable(self) -> Result[str]:
        """The main executable as gdb names it (under the sysroot inside a session)."""
        if self.executable_path is not None:
            return Result(self.executable_path)
        result = await self._call("-list-thread-groups")
        if not result.ok:
            return Result(error=result.error)
        for group in as_list((result.value or {}).get("groups")):
            if group.get("executable"):
                return Result(str(group["executable"]))
        return Result(error="gdb knows no executable")

    async def symbol_report(self) -> Result[list[symbols.ObjectSymbols]]:
        """The main executable and every shared library: build-id, symbols, why missing."""
        executable = await self.executable()
        libraries = await self.shared_libraries()
        if not libraries.ok:
            return Result(error=libraries.error)
        report = []
        if executable.ok and executable.value:
            report.append(symbols.describe_object(executable.value, self.placement, True))
        for library in libraries.value or []:
            report.append(
                symbols.describe_object(library.host_path, self.placement, library.symbols_loaded)
            )
        return Result(report)

    # ----- breakpoints ----------------------------------------------------------------

    async def break_insert(
        self,
        location: str,
        condition: str | None = None,
        temporary: bool = False,
        thread_id: int | None = None,
    ) -> Result[Breakpoint]:
        """A breakpoint at `function`, `file:line` or `*address`."""
        options = " -t" if temporary else ""
        if condition:
            options += f" -c {mi_quote(condition)}"
        if thread_id is not None:
            options += f" -p {thread_id}"
        result = await self._call(f"-break-insert{options} {mi_quote(location)}")
        if not result.ok:
            return Result(error=result.error)
        return Result(Breakpoint.from_mi((result.value or {}).get("bkpt", {})))

    async def breakpoints(self) -> Result[list[Breakpoint]]:
        result = await self._call("-break-list")
        if not result.ok:
            return Result(error=result.error)
        table = (result.value or {}).get("BreakpointTable", {})
        return Result([Breakpoint.from_mi(item) for item in as_list(table.get("body"))])

    async def break_delete(self, number: str) -> Result[None]:
        return await self._simple(f"-break-delete {number}")

    async def break_enable(self, number: str) -> Result[None]:
        return await self._simple(f"-break-enable {number}")

    async def break_disable(self, number: str) -> Result[None]:
        return await self._simple(f"-break-disable {number}")

    async def break_condition(self, number: str, condition: str | None) -> Result[None]:
        return await self._simple(f"-break-condition {number} {condition or ''}".rstrip())

    async def _simple(self, mi_command: str) -> Result[None]:
        result = await self._call(mi_command)
        return Result(None) if result.ok else Result(error=result.error)

    # ----- sources --------------------------------------------------------------------

    def resolve_frame(self, frame: Frame) -> Frame:
        """The frame with `fullname` rewritten by our substitute-path rules."""
        if not frame.fullname:
            return frame
        resolved = self.source_path(frame.fullname)
        if resolved == frame.fullname:
            return frame
        return Frame(
            frame.level,
            frame.address,
            frame.function,
            frame.file,
            resolved,
            frame.line,
            frame.library,
            frame.arguments,
        )

    def _with_source(self, thread: Thread) -> Thread:
        if thread.frame is None:
            return thread
        return Thread(
            thread.id,
            thread.target_id,
            thread.lwp,
            thread.name,
            thread.state,
            self.resolve_frame(thread.frame),
            thread.core,
        )

    def source_path(self, fullname: str) -> str:
        """A source path recorded at build time -> where gdb reads it now."""
        for recorded, actual in sorted(self.source_rules.items(), key=lambda r: -len(r[0])):
            if fullname == recorded or fullname.startswith(recorded.rstrip("/") + "/"):
                return actual + fullname[len(recorded) :]
        return fullname

    def source_path_on_host(self, fullname: str) -> str:
        """Where this process opens the source gdb shows for `fullname`."""
        return self.placement.to_host(self.source_path(fullname))

    def _learn_source(self, frame: Frame) -> None:
        if frame.fullname and frame.fullname.startswith("/"):
            directory = os.path.dirname(frame.fullname)
            if directory not in self.source_rules:
                self._add_rules(symbols.source_directory_rules(self.placement, {directory}))

    def _add_rules(self, rules: list[tuple[str, str]]) -> None:
        for recorded, actual in rules:
            if self.source_rules.get(recorded) == actual:
                continue
            self.source_rules[recorded] = actual
            command = (
                f"-interpreter-exec console {mi_quote(f'set substitute-path {recorded} {actual}')}"
            )
            # Sent now, so gdb applies it before any later command of ours.
            task = asyncio.get_running_loop().create_task(self.command(command))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _learn_executable_sources(self) -> None:
        executable = await self.executable()
        if executable.ok and executable.value:
            host_path = self.placement.to_host(executable.value)
            folders = await asyncio.to_thread(symbols.compile_directories, host_path)
            self._add_rules(symbols.source_directory_rules(self.placement, folders))


def trace_writer() -> Callable[[str, bytes], None] | None:
    """With CNTR_TUI_GDB_TRACE=FILE, every byte to and from gdb is appended to FILE."""
    path = os.environ.get("CNTR_TUI_GDB_TRACE")
    if not path:
        return None

    def write(direction: str, data: bytes) -> None:
        with open(path, "ab") as trace:
            trace.write(f"{time.monotonic():.3f} {direction} ".encode() + data + b"\n")

    return write


class SessionEndedError(Exception):
    """Internal: wakes stop waiters when the session ends."""
