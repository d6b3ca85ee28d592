"""GdbSession's event fan-out: MI records -> typed events, to listeners and `events()`
iterators in order; the session's state as the events move it; waiting for a stop; the
session's one end (`SessionEnded`).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from cntr_tui.gdb.events import (
    BreakpointCreated,
    BreakpointDeleted,
    ConsoleOutput,
    EndKind,
    Event,
    LogOutput,
    Running,
    SessionEnded,
    Stopped,
    event_from_record,
)
from cntr_tui.gdb.records import Result, to_int
from cntr_tui.gdb.session.core import STOP_TIMEOUT
from cntr_tui.gdb.session.sources import SessionSources
from cntr_tui.gdb.transport import MiRecord, MiResult
from cntr_tui.linux.namespaces import members, namespace_inode
from cntr_tui.linux.proc_status import pid_in_namespace

# gdb's *stopped for a signal catchpoint has no reason, number or signal (gdb 13): only
# the console line before it says which catchpoint and signal.
SIGNAL_CAUGHT = re.compile(r"^Catchpoint (\d+) \(signal (\w+)\), ")  # not its "set" line


class SessionEvents(SessionSources):
    """Events to listeners and iterators; stops; the end."""

    # While the engine holds the running program for a change of its own (see
    # SessionExecution._held), its SIGINT stops and the resumes are not the listeners'.
    _holding: bool = False
    _held_real_stop: Stopped | None = None
    _running_to_swallow: int = 0
    _signal_caught: tuple[str, str] | None = None  # (catchpoint, signal) said before a stop

    if TYPE_CHECKING:

        async def close(self, detach_timeout: float = 5.0) -> None: ...  # the life cycle's

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
        if record.kind == "notify" and record.klass == "thread-group-started":
            self.processes[str(payload.get("id"))] = to_int(payload.get("pid"))
            self._guard_watch(str(payload.get("id")), to_int(payload.get("pid")))
        if record.kind == "notify" and record.klass == "thread-group-exited":
            pid = self.processes.pop(str(payload.get("id")), None) or self.pid
            self._guard_unwatch(str(payload.get("id")))
            if self._detaching or self._closing:
                return  # detach() / close() end the session themselves
            if self.processes:
                self._left_for_another(pid, "exit-code" in payload)
            elif "exit-code" in payload:
                self._end("inferior-exited", f"process {pid} exited")
            else:
                self._end("inferior-exited", f"process {pid} is gone")
            return
        if record.kind == "notify" and record.klass == "thread-created":
            self._thread_groups[to_int(payload.get("id")) or 0] = str(payload.get("group-id"))
        if record.kind == "notify" and record.klass == "thread-selected":
            self.selected_thread = to_int(payload.get("id"))
            self._current_process_of(self.selected_thread)
            frame = payload.get("frame")
            self.selected_frame = to_int(frame.get("level")) or 0 if isinstance(frame, dict) else 0
        event = event_from_record(record)
        if event is None:
            return
        if isinstance(event, BreakpointCreated):
            self._created = (self._created[0] + 1, event.breakpoint.number)
        if isinstance(event, ConsoleOutput) and (caught := SIGNAL_CAUGHT.match(event.text)):
            self._signal_caught = (caught.group(1), caught.group(2))
        if isinstance(event, Stopped):
            event = self._caught_signal(event)
            self._on_stopped(event)
        elif isinstance(event, Running) and self.state not in ("ended", "detached"):
            self.state = "running"
        if not self._transient(event):
            if isinstance(event, Stopped):
                self._run_to_done(event)
            self._emit(event)
        if (
            isinstance(event, Stopped)
            and event.reason in ("exited", "exited-signalled")
            and not self.processes  # one of several processes gdb debugs exited
        ):
            how = f"signal {event.signal_name}" if event.signal_name else f"code {event.exit_code}"
            self._end("inferior-exited", f"process {self.pid} exited with {how}")

    def _left_for_another(self, pid: int | None, exited: bool) -> None:
        """One of several processes left gdb (the parent a fork was followed from, or
        one that exited): the session goes on with the others, and a process it
        debugged that left hands its place (the one `interrupt` signals) to another."""
        others = sorted(p for p in self.processes.values() if p is not None)
        how = "exited" if exited else "detached"
        self._emit(LogOutput(f"[process {pid} {how}; gdb debugs process {others}]\n"))
        if pid == self.pid and others:
            self.pid = others[0]
            self.target_host_pid = self._host_pid_of(others[0])

    def _guard_watch(self, group: str, pid: int | None) -> None:
        """A process gdb now holds (attached, a fork's child, one attached from the
        console): the trap guard watches it too, so that the front end's death leaves
        none of them traced or trapped."""
        if pid is None:
            return
        host_pid = self._known_hosts.get(pid) or self._host_pid_of(pid)
        if host_pid is None:
            self._emit(LogOutput(f"the trap guard cannot watch process {pid}: no host PID\n"))
            return
        self._process_hosts[group] = host_pid
        if self._guard is not None:
            self._guard.watch(host_pid, pid)

    def _guard_unwatch(self, group: str) -> None:
        """gdb let a process go (detached, or it exited): the guard leaves it alone."""
        host_pid = self._process_hosts.pop(group, None)
        if host_pid is not None and self._guard is not None:
            self._guard.unwatch(host_pid)

    def _current_process_of(self, thread_id: int | None) -> None:
        """gdb's current thread is `thread_id` (a stop, `inferior N`): with several
        processes, its process is the one `pid` and `target_host_pid` name (the one
        `interrupt` signals: the one gdb resumed)."""
        group = self._thread_groups.get(thread_id) if thread_id is not None else None
        pid = self.processes.get(group) if group is not None else None
        if pid is not None and pid != self.pid and len(self.processes) > 1:
            self.pid = pid
            self.target_host_pid = self._host_pid_of(pid)

    def _host_pid_of(self, pid: int) -> int | None:
        """The host PID of `pid` as gdb sees it (its namespace's when gdb runs in the
        container's): None when no process of that namespace has it."""
        if not self.placement.inside_session:
            return pid
        known = self.target_host_pid or self.placement.container_host_pid
        try:
            namespace = namespace_inode(known, "pid") if known is not None else None
        except OSError:
            return None
        for member in members(namespace, "pid") if namespace is not None else []:
            with contextlib.suppress(OSError):
                if pid_in_namespace(member) == pid:
                    return member
        return None

    def _run_to_done(self, stop: Stopped) -> None:
        """At the first stop after run_to, its temporary breakpoint goes: gdb deleted it
        if it was hit; if the program stopped elsewhere first, the session deletes it
        (before any later command, see core's `_cleanups`)."""
        number, self._run_to_number = self._run_to_number, None
        if number is None or stop.breakpoint_number == number:
            return
        if stop.reason in ("exited", "exited-signalled"):
            return

        async def delete() -> MiResult:
            result = await self._transport.send(f"-break-delete {number}")
            if result.ok:
                self._emit(BreakpointDeleted(number))
            return result

        self._cleanups.append(asyncio.get_running_loop().create_task(delete()))

    def _caught_signal(self, stop: Stopped) -> Stopped:
        """A stop at a signal catchpoint, told as "signal-caught" with the catchpoint's
        number and the signal (from the console line gdb printed before it)."""
        caught, self._signal_caught = self._signal_caught, None
        if caught is None or stop.reason != "unknown" or stop.breakpoint_number is not None:
            return stop
        number, signal = caught
        return replace(
            stop,
            reason="signal-caught",
            signal_name=signal,
            breakpoint_number=number,
            detail=signal,
        )

    def _transient(self, event: Event) -> bool:
        """Is `event` the engine's own stop or resume of a hold (not the listeners')?"""
        if isinstance(event, Running) and (self._holding or self._running_to_swallow):
            self._running_to_swallow = max(0, self._running_to_swallow - 1)
            return True
        if not isinstance(event, Stopped) or not self._holding:
            return False
        if event.reason in ("signal-received", "signal-caught") and event.signal_name == "SIGINT":
            return True  # the hold's interrupt (or the queued SIGINT taken after it)
        if event.reason in ("exited", "exited-signalled"):
            return False
        if self._held_real_stop is not None:
            # another thread's trap gdbserver held with the first, reported as the hold
            # takes its SIGINT: the listeners are told of one stop, the first
            return True
        self._held_real_stop = event  # raced the interrupt: the listeners' stop
        return False

    def _on_stopped(self, stop: Stopped) -> None:
        if self.state == "ended":
            return
        self._stop_generation += 1
        self.state = "stopped"
        self.last_stop = stop
        if stop.thread_id is not None:
            self.selected_thread = stop.thread_id
            self._current_process_of(stop.thread_id)
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


class SessionEndedError(Exception):
    """Internal: wakes stop waiters when the session ends."""
