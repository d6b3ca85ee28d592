"""The seam between the front ends and the engine: exactly what the TUI asks of a live
debug session, with typed results.

`gdb.session.GdbSession` satisfies `DebugEngine`; `service.LiveDebugSession` satisfies
`DebugSession`; the test suite's fake engine satisfies both, so every screen can be
driven without root, containers or gdb. A method the UI needs is added here first, then
on both sides; the type checker and the fake's tests see a missing one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cntr_tui.debug.target import DebugTarget
from cntr_tui.fs.mounts import Mount
from cntr_tui.gdb.events import Event, Stopped
from cntr_tui.gdb.records import (
    Breakpoint,
    CatchKind,
    Frame,
    Instruction,
    MemoryBlock,
    ObjectSymbols,
    Register,
    Result,
    Thread,
    Variable,
    WatchAccess,
)
from cntr_tui.languages.records import LanguageStacks
from cntr_tui.logs.records import LogLine

Progress = Callable[[str], None]


class DebugUnavailable(Exception):
    """A debug session cannot be opened; `fix` says what the user can do about it."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


@dataclass(frozen=True)
class SourceText:
    """A source file's text as gdb names it (None: not found) and where it was looked for."""

    text: str | None
    looked: tuple[str, ...]


class ContainerLogs(Protocol):
    """A container's log stream, as its runtime keeps it."""

    @property
    def source(self) -> str:
        """Where the lines come from, for the pane's title ("docker logs web",
        "/var/log/pods/.../0.log", "journal of machine demo")."""
        ...

    def lines(self) -> AsyncIterator[LogLine]:
        """The last lines the source keeps (up to the `tail` asked for), then each new
        one as it comes, until `close` or the container's end."""
        ...

    async def close(self) -> None: ...


class DebugEngine(Protocol):
    """The gdb operations the front ends use. Every call returns a `Result`, never raises
    for gdb's errors."""

    def events(self) -> AsyncIterator[Event]:
        """Every event from now on; ends after `SessionEnded`."""
        ...

    async def continue_(self, thread_id: int | None = None) -> Result[None]: ...

    async def next(self, thread_id: int | None = None) -> Result[None]: ...

    async def step(self, thread_id: int | None = None) -> Result[None]: ...

    async def finish(self, thread_id: int | None = None) -> Result[None]: ...

    async def interrupt(self, thread_id: int | None = None) -> Result[Stopped]: ...

    async def step_instruction(self, thread_id: int | None = None) -> Result[None]:
        """One machine instruction, into calls (`stepi`)."""
        ...

    async def next_instruction(self, thread_id: int | None = None) -> Result[None]:
        """One machine instruction, over calls (`nexti`)."""
        ...

    async def run_to(self, location: str, thread_id: int | None = None) -> Result[None]:
        """Run to cursor: a temporary breakpoint at `location` (`file:line`, `*ADDR`) and
        continue; the program stops there or wherever it stops first, and the temporary
        breakpoint is gone either way. While an all-stop program runs, the breakpoint
        is set in a hold (one `Paused`) and the program runs on to it."""
        ...

    async def set_scheduler_locking(self, mode: str) -> Result[None]:
        """gdb's `set scheduler-locking MODE`: "step" runs only the stepped thread during
        next/step/finish/si/ni (the others stay stopped, so no breakpoint of theirs
        interrupts the step; continue runs them all), "off" (gdb's default for a live
        process, "replay") runs every thread, "on" only the current one for any resume."""
        ...

    async def threads(self) -> Result[list[Thread]]: ...

    async def select_thread(self, thread_id: int) -> Result[Frame | None]: ...

    async def switch_process(self) -> Result[tuple[int | None, int | None] | None]:
        """With several processes under gdb (a fork kept, a second one attached from the
        console: add-inferior, inferior 2, attach PID): the next becomes the current
        one, which run control acts on; (its PID, its selected thread), None with one."""
        ...

    async def select_frame(self, level: int, thread_id: int | None = None) -> Result[Frame]:
        """Select a frame, as gdb's `up`/`frame N` do: `finish` and console commands then
        work on it."""
        ...

    async def backtrace(self, thread_id: int | None = None) -> Result[list[Frame]]: ...

    async def variables(
        self, thread_id: int | None = None, level: int | None = None
    ) -> Result[list[Variable]]: ...

    async def evaluate(
        self, expression: str, thread_id: int | None = None, level: int | None = None
    ) -> Result[str]: ...

    async def children(
        self, expression: str, thread_id: int | None = None, level: int | None = None
    ) -> Result[list[Variable]]:
        """The members of a struct, class or array expression, one level down."""
        ...

    async def registers(
        self, thread_id: int | None = None, level: int | None = None, vector: bool = False
    ) -> Result[list[Register]]:
        """A frame's general-purpose, flags and segment registers as gdb names and
        numbers them, values in hex; `vector`: every register (floating point, vector)."""
        ...

    async def disassemble(
        self, thread_id: int | None = None, level: int | None = None, with_source: bool = False
    ) -> Result[tuple[list[Instruction], int | None]]:
        """Instructions around a frame's PC, and the PC. `with_source`: the frame's whole
        function, each instruction with its source line (Instruction.line/fullname)
        where there is line info."""
        ...

    async def read_memory(self, address: int | str, length: int) -> Result[MemoryBlock]:
        """`length` bytes at an address or an expression's value."""
        ...

    async def breakpoints(self) -> Result[list[Breakpoint]]: ...

    async def break_insert(
        self,
        location: str,
        *,
        condition: str | None = None,
        temporary: bool = False,
        ignore_count: int = 0,
        thread_id: int | None = None,
    ) -> Result[Breakpoint]:
        """Also while the program runs: the engine stops it for the change and resumes
        it, and says for how long in a `Paused` event (so do all changes below).
        `thread_id`: stop only in that thread."""
        ...

    async def watch_insert(
        self,
        expression: str,
        access: WatchAccess = "write",
        thread_id: int | None = None,
        level: int | None = None,
    ) -> Result[Breakpoint]:
        """A watchpoint on `expression`, evaluated in that frame: stops when it is
        written (changed), read, or either."""
        ...

    async def dprintf_insert(
        self, location: str, format: str, arguments: Sequence[str] = ()
    ) -> Result[Breakpoint]:
        """A logpoint: at `location` print `format` with `arguments` (C printf style) and
        go on without a stop the user sees; the text arrives as ConsoleOutput."""
        ...

    async def catch_insert(
        self, kind: CatchKind, argument: str | None = None
    ) -> Result[Breakpoint]:
        """A catchpoint: `syscall` (argument: names or numbers, space-separated; None:
        every call), `signal` (names; None: all but SIGTRAP/SIGINT), `throw`/`catch`/
        `rethrow` (argument: a regex of exception types), `fork`, `vfork`, `exec`,
        `load`/`unload` (argument: a regex of library names)."""
        ...

    async def break_ignore(self, number: str, count: int) -> Result[None]:
        """Pass over the next `count` hits (0: stop at the next one)."""
        ...

    async def break_delete(self, number: str) -> Result[None]: ...

    async def break_enable(self, number: str) -> Result[None]: ...

    async def break_disable(self, number: str) -> Result[None]: ...

    async def break_condition(self, number: str, condition: str | None) -> Result[None]:
        """Set (or with None, remove) a breakpoint's condition."""
        ...

    async def cli(self, command: str) -> Result[str]:
        """A console command; its output also arrives as ConsoleOutput events."""
        ...

    async def symbol_report(self) -> Result[list[ObjectSymbols]]: ...

    def source_path_on_host(self, fullname: str) -> str:
        """A source path as gdb names it -> a path this process can open."""
        ...


class DebugSession(Protocol):
    """A gdb engine attached to one process, and the attach session around it."""

    @property
    def target(self) -> DebugTarget: ...

    @property
    def engine(self) -> DebugEngine: ...

    @property
    def mode(self) -> str:
        """Where gdb runs, for the status line ("attach session (…)", "host gdb")."""
        ...

    @property
    def notes(self) -> tuple[str, ...]:
        """What the user must know about this session, one line each: why gdb runs on
        the host, why gdbserver (and with it the trap guard's clean detach) is not used."""
        ...

    @property
    def closing(self) -> bool:
        """True once `close` was called: a session end that follows is ours."""
        ...

    @property
    def non_stop(self) -> bool:
        """gdb runs in non-stop mode: each thread stops and resumes on its own (the
        engine's run control takes a thread; `continue_()`/`interrupt()` without one
        mean every thread), `Stopped`/`Running` events name their thread."""
        ...

    def mounts(self) -> Result[list[Mount]]:
        """The mount table gdb sees, each mount with its provenance."""
        ...

    def read_source(self, path: str) -> SourceText:
        """Blocking (it may read through FUSE): the text of a source file gdb names."""
        ...

    def location_in_container(self, path: str) -> str:
        """A path this process opens -> the same file as gdb names it."""
        ...

    def alive(self) -> bool:
        """False once the process is gone or a zombie."""
        ...

    def open_logs(self, tail: int = 200) -> Result[ContainerLogs]:
        """The container's own log stream (no I/O until its lines are read); the error
        says why there is none ("systemd-nspawn machine demo has no journal")."""
        ...

    async def language_stacks(self, with_locals: bool = False) -> LanguageStacks:
        """The program's own frames, read while it is stopped: each Python thread's
        frames, a Go program's goroutines; `language` None for a native program."""
        ...

    async def goroutine_stack(self, goroutine_id: int) -> Result[tuple[Frame, ...]]:
        """One goroutine's frames, innermost first; an error for a program without
        goroutines or a goroutine that ended."""
        ...

    async def close(self) -> None:
        """Detach (the process runs on), stop gdb, end the attach session. Every caller
        awaits one and the same close."""
        ...


DebugOpener = Callable[[DebugTarget, Progress], Awaitable[DebugSession]]
"""Opens a session on a target, reporting its steps; raises DebugUnavailable."""

SnapshotTaker = Callable[[DebugTarget], Awaitable[list[str]]]
"""Takes a snapshot of a target (stopped, read, let go untraced) and gives its text,
one line each (debug/snapshot_text.py); raises DebugUnavailable with the one line."""
