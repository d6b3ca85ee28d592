"""The session's core: gdb's process and MI transport, the state every concern shares,
and one MI command in, one result out (`command`, `_call`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from cntr_tui.gdb.events import EndKind, Event, SessionEnded, Stopped
from cntr_tui.gdb.launch import GdbProcess, Launcher, Placement
from cntr_tui.gdb.records import Result
from cntr_tui.gdb.transport import MiRecord, MiResult, MiTransport
from cntr_tui.gdb.trap_guard import TrapGuard
from cntr_tui.settings import Settings

State = Literal["starting", "detached", "stopped", "running", "ended"]
STOP_TIMEOUT = 30.0


class SessionCore:
    """What every part of `GdbSession` shares: its state and the MI transport."""

    if TYPE_CHECKING:

        def _on_record(self, record: MiRecord) -> None: ...  # the event fan-out's

    def __init__(
        self,
        process: GdbProcess,
        placement: Placement,
        launcher: Launcher | None,
        settings: Settings | None = None,
    ):
        self.placement = placement
        self.state: State = "starting"
        self.pid: int | None = None
        # gdb's inferiors with a live process, id ("i1") -> PID as gdb sees it: more
        # than one after a fork gdb keeps (detach-on-fork off) or follows into
        self.processes: dict[str, int | None] = {}
        self._thread_groups: dict[int, str] = {}  # gdb's thread id -> its inferior
        # the host PID of each inferior's process, for the trap guard's watch; and those
        # known before gdb names them (the attach's), PID as gdb sees it -> host PID
        self._process_hosts: dict[str, int] = {}
        self._known_hosts: dict[int, int] = {}
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
        # one hold at a time: a change asked while another holds the program would
        # find it stopped, go straight to gdb, and arrive after the other's resume
        self._hold_lock = asyncio.Lock()
        # MI commands the session sends of itself at a stop (run_to's temporary
        # breakpoint deleted): every later command waits for them, so it sees their effect
        self._cleanups: list[asyncio.Task[MiResult]] = []
        self._run_to_number: str | None = None
        self._created: tuple[int, str | None] = (0, None)  # breakpoint-created seen: count, last
        trace = (settings or Settings.from_environment()).gdb_trace
        self._transport = MiTransport(
            process.stdout_fd, process.stdin_fd, self._on_record, trace_writer(trace)
        )
        self._watcher: asyncio.Task[None] | None = None
        self._guard: TrapGuard | None = None
        self._guard_check: asyncio.Future[dict[str, object] | None] | None = None
        self._lost: tuple[EndKind, str] | None = None
        self._guard_detaches = False  # the launcher was lost: gdb killed, the guard detaches
        self.guard_outcome: dict[str, object] | None = None
        self.tracer: Literal["gdbserver", "native"] = "native"
        self.gdbserver_failure: str | None = None  # why gdbserver is not the tracer
        self.target_host_pid: int | None = None

    async def command(self, mi_command: str) -> MiResult:
        """Send one MI command; the raw result (also for errors)."""
        if self.ended is not None:
            return MiResult("error", {"msg": f"the session has ended: {self.ended.reason}"})
        while self._cleanups:
            await asyncio.shield(self._cleanups.pop(0))
        return await self._transport.send(mi_command)

    async def _call(self, mi_command: str) -> Result[dict[str, Any]]:
        result = await self.command(mi_command)
        return Result(result.payload) if result.ok else Result(error=result.error)


def trace_writer(path: str | None) -> Callable[[str, bytes], None] | None:
    """With a `path` (Settings.gdb_trace: CNTR_TUI_GDB_TRACE=FILE), every byte to and
    from gdb is appended to FILE."""
    if not path:
        return None

    def write(direction: str, data: bytes) -> None:
        with open(path, "ab") as trace:
            trace.write(f"{time.monotonic():.3f} {direction} ".encode() + data + b"\n")

    return write
