"""A snapshot: every thread's stack (and optionally the top frames' locals) read while
the program is stopped, then the program let go, with the measured pause.

The pause is kept small on purpose. Everything that can happen before the stop does:
the attach session, gdb, gdbserver and the trap guard start, the executable's symbols
are read (from gdb's index cache when warm); the shared libraries' symbols are read by
gdb only once the attach has stopped the program (most of the pause: see bench/
bench_snapshot.py). After the stop, the thread list and the
shared libraries are asked at once, then every thread's `-stack-list-frames` (and the
`-stack-list-variables` of `--locals`) are sent without waiting for the answers, so
gdb works through them back to back; the program is detached before anything is
formatted. The pause is measured by us: from the moment `-target-attach` is written to
gdb (no thread is stopped before it) to the answer of `-target-detach` (every thread
runs again by then), so it is never shorter than the program's real stop.

With a budget (`max_pause_ms`), commands go in a window and no new one is sent once the
time they would take (measured on those answered so far) and the detach would run past
it: what was not read is listed in `missing`. The thread list (with each thread's top
frame) is always read, so a budget shorter than the stop itself gives top frames only.

JSON (`snapshot_json`): version SCHEMA_VERSION of the schema in snapshot_schema.json
(JSON Schema draft 2020-12, shipped in the package, `schema()`):

    {"schema": "cntr-tui/snapshot", "version": 3,
     "container": {"runtime", "id", "name", "image"} | null,
     "process": {"host_pid", "pid", "executable", "start_ticks", "tracer"},
     "pause": {"ms": float, "budget_ms": float | null},
     "complete": bool, "missing": [str, ...], "core": str | null,
     "language": {"name", "version", "reader", "missing", "ms",
                  "goroutines": [{"id", "state", "wait_reason", "function", "file",
                                  "line", "lwp"}]} | null,
     "threads": [{"id", "lwp", "name", "complete",
                  "frames": [{"level", "language", "function", "file", "line",
                              "library", "address", "locals": [{"name", "type",
                                                     "value", "argument"}] | null}]}]}

A field added, removed or changed in meaning raises the version (and the schema's
`version` const). `pid` is the process as its PID namespace sees it, `lwp` likewise; `address` a hex
string; `locals` null where they were not asked for or not read. Version 2 added the
language frames (a Python frame has `language` "python" and `level` null: it stands
where the native eval-loop frame running it was), `language` and `core`. Version 3
added the tracer "ptrace": the fast path's own stop (stack_snapshot.py), whose
`executable` is the process's own path.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from cntr_tui.debug.ending import DETACH_TIMEOUT
from cntr_tui.debug.protocol import DebugUnavailable
from cntr_tui.debug.target import DebugTarget
from cntr_tui.errors import UserError
from cntr_tui.gdb.records import Thread
from cntr_tui.gdb.transport import mi_quote
from cntr_tui.languages.interleave import interleave
from cntr_tui.languages.records import Goroutine, LanguageFrame, LanguageStacks, LanguageThread

if TYPE_CHECKING:
    from cntr_tui.attach.container import Container
    from cntr_tui.debug.language_stacks import LanguageStackReader
    from cntr_tui.debug.service import LiveDebugSession
    from cntr_tui.gdb.records import Frame, SharedLibrary, Variable
    from cntr_tui.gdb.session import GdbSession
    from cntr_tui.gdb.starts import SessionStarts
    from cntr_tui.gdb.transport import MiResult

SCHEMA_NAME = "cntr-tui/snapshot"
SCHEMA_VERSION = 3
LOCALS_FRAMES = 4  # --locals: of each thread's innermost frames that have a source line
BUDGET_WINDOW = 16  # commands in flight under a budget: each one is a promise to wait
FIRST_GUESS = 0.0005  # s per command before one has been answered
# what the detach takes, to keep within a budget (gdbserver detaches thread by thread)
DETACH_BASE, DETACH_PER_THREAD = 0.003, 0.00003

T = TypeVar("T")


@dataclass(frozen=True)
class SnapshotVariable:
    name: str
    type: str | None
    value: str | None
    argument: bool


@dataclass(frozen=True)
class SnapshotFrame:
    """`level` is gdb's; None for a language frame (`language` not "native"), which
    stands where the native eval-loop frame running it was."""

    level: int | None
    function: str | None
    file: str | None
    line: int | None
    library: str | None
    address: int | None
    locals: tuple[SnapshotVariable, ...] | None = None
    language: str = "native"

    @property
    def name(self) -> str:
        return self.function or (hex(self.address) if self.address is not None else "??")


@dataclass(frozen=True)
class SnapshotThread:
    """`complete`: its whole stack was read (else only the top frame gdb listed)."""

    id: int
    lwp: int | None
    name: str | None
    frames: tuple[SnapshotFrame, ...]
    complete: bool

    def signature(self) -> tuple[tuple[str | None, str | None, int | None], ...]:
        """What makes two stacks the same: each frame's function, file and line."""
        return tuple((frame.function, frame.file, frame.line) for frame in self.frames)


@dataclass(frozen=True)
class Snapshot:
    target: DebugTarget
    executable: str | None
    start_ticks: int | None
    tracer: str
    threads: tuple[SnapshotThread, ...]
    pause_ms: float
    budget_ms: float | None
    missing: tuple[str, ...]
    language: LanguageStacks | None = None
    core: str | None = None  # read from this kept core, not a live process
    # in a job-control stop (SIGSTOP) before the snapshot, and left in it after
    left_stopped: bool = False


@dataclass(frozen=True)
class StackGroup:
    """Threads with identical stacks, in the order they were listed."""

    threads: tuple[SnapshotThread, ...]

    @property
    def frames(self) -> tuple[SnapshotFrame, ...]:
        return self.threads[0].frames


def group_stacks(threads: Sequence[SnapshotThread]) -> list[StackGroup]:
    """Threads grouped by identical stack, the largest group first (ties: first seen)."""
    groups: dict[tuple[object, ...], list[SnapshotThread]] = {}
    for thread in threads:
        groups.setdefault((thread.complete, thread.signature()), []).append(thread)
    ordered = sorted(groups.values(), key=lambda members: -len(members))
    return [StackGroup(tuple(members)) for members in ordered]


class PauseClock:
    """When the program was stopped and let go, seen at gdb's MI commands: the write of
    `-target-attach` and the answer to `-target-detach`."""

    def __init__(
        self, gdb: GdbSession, before_stop: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """`before_stop`: awaited just before `-target-attach` is written."""
        self.stopped_at: float | None = None
        self.resumed_at: float | None = None
        send = gdb.command

        async def timed(mi_command: str) -> MiResult:
            nonlocal before_stop
            if mi_command.startswith("-target-attach") and self.stopped_at is None:
                if before_stop is not None:
                    prepare, before_stop = before_stop, None
                    await prepare()
                self.stopped_at = time.monotonic()
            result = await send(mi_command)
            if mi_command.startswith("-target-detach") and result.ok:
                self.resumed_at = time.monotonic()
            return result

        # The engine has no hook at its attach and detach commands (see the report of
        # this change); the session's own attach/detach call self.command, so they pass here
        gdb.command = timed  # type: ignore[method-assign]

    def elapsed(self) -> float:
        """Seconds since the stop (0 before it)."""
        return 0.0 if self.stopped_at is None else time.monotonic() - self.stopped_at

    def pause_ms(self) -> float:
        if self.stopped_at is None:
            return 0.0
        end = self.resumed_at if self.resumed_at is not None else time.monotonic()
        return (end - self.stopped_at) * 1000.0


PRELOAD_LINES = 32  # of the distinct PCs the threads are blocked at, looked up early


async def symbols_before_stop(gdb: GdbSession, host_pid: int, added: list[str]) -> None:
    """gdb reads the symbols of the shared objects the program has loaded, and the debug
    info around the PCs its threads are blocked at, before the attach stops it.

    The objects are added (`add-symbol-file` at their load bias, from the dynamic
    linker's list read in /proc/PID/mem, symbols.loaded_objects) under the names gdb's
    own list will give them after the stop: gdb then finds each file already open, with
    its symbols, index and (decompressed) debug sections read, and only makes its own
    record of it. `info line *PC` for the PCs of /proc/PID/task/*/syscall reads the
    units the stop's frames are in. drop_early_symbols removes the added objects once
    the program is stopped. Measured (CNTR_TUI_GDB_TRACE, alternating runs, load 6-10):
    10 threads, the stop 38-210 ms after `-target-attach` against 141-324 ms without
    this, the ticker's gap 194 ms (67-317) against 294 ms (229-412); 100 threads 257 ms
    (252-426) against 276 ms (263-316); 1,000 threads 1.91 s against 1.97 s."""
    from cntr_tui.gdb.symbols import loaded_objects

    paths = {
        gdb.placement.container_path(name): bias
        for name, bias in loaded_objects(host_pid)
        if not any(char.isspace() or char in "'\"\\" for char in name)
    }
    added += paths
    lines = [f"info line *{pc:#x}" for pc in blocked_pcs(host_pid)[:PRELOAD_LINES]]
    await asyncio.gather(
        *(console(gdb, f"add-symbol-file {path} -o {bias:#x}") for path, bias in paths.items())
    )
    await asyncio.gather(*(console(gdb, text) for text in lines))


async def drop_early_symbols(gdb: GdbSession, added: list[str]) -> None:
    """Once stopped: the objects symbols_before_stop added go (gdb's own records of the
    same files stay, sharing what was read). Kept, each would be a second object at the
    same addresses for every look-up: 1,000 stacks took ~0.3 s longer (measured)."""
    await asyncio.gather(*(console(gdb, f"remove-symbol-file {path}") for path in added))
    added.clear()


async def console(gdb: GdbSession, text: str) -> MiResult:
    return await gdb.command(f"-interpreter-exec console {mi_quote(text)}")


def blocked_pcs(host_pid: int) -> list[int]:
    """The distinct PCs of the threads blocked in a system call (/proc/PID/task/*/syscall:
    `NR args... SP PC`), most common first."""
    from collections import Counter

    from cntr_tui.linux.procfs import thread_ids

    counts: Counter[int] = Counter()
    try:
        threads = thread_ids(host_pid)
    except OSError:
        return []
    for thread in threads:
        try:
            with open(f"/proc/{host_pid}/task/{thread}/syscall", encoding="ascii") as file:
                fields = file.read().split()
        except (OSError, UnicodeDecodeError):
            continue
        if len(fields) == 9:
            counts[int(fields[8], 16)] += 1
    return [pc for pc, _ in counts.most_common()]


class Stopwatch(Protocol):
    def elapsed(self) -> float:
        """Seconds since the program was stopped."""
        ...


class Budget:
    """Whether one more command fits in the pause budget (None: no budget). Every time it
    weighs is its clock's, so a test can drive it with a clock of its own."""

    def __init__(self, clock: Stopwatch, budget_ms: float | None, threads: int) -> None:
        self._clock = clock
        self._limit = None if budget_ms is None else budget_ms / 1000.0
        self._reserve = DETACH_BASE + DETACH_PER_THREAD * threads
        self._answered = 0
        self._busy = 0.0  # seconds from the first command sent to the last answer
        self._began: float | None = None

    @property
    def window(self) -> int | None:
        return None if self._limit is None else BUDGET_WINDOW

    def sent(self) -> None:
        if self._began is None:
            self._began = self._clock.elapsed()

    def answered(self) -> None:
        self._answered += 1
        now = self._clock.elapsed()
        self._busy = now - (now if self._began is None else self._began)

    def allows(self, in_flight: int) -> bool:
        if self._limit is None:
            return True
        each = self._busy / self._answered if self._answered else FIRST_GUESS
        return self._clock.elapsed() + each * (in_flight + 1) + self._reserve <= self._limit


async def pipelined(calls: Sequence[Callable[[], Awaitable[T]]], budget: Budget) -> list[T | None]:
    """Each call's answer (None for those the budget left unsent), all sent without
    waiting for earlier answers (at most budget.window in flight)."""
    if budget.window is None:  # all at once: no asyncio.wait over every pending answer
        return list(await asyncio.gather(*(call() for call in calls)))
    results: list[T | None] = [None] * len(calls)
    pending: dict[asyncio.Future[T], int] = {}
    window = budget.window
    index = 0
    while index < len(calls) or pending:
        while index < len(calls) and len(pending) < window and budget.allows(len(pending)):
            budget.sent()
            pending[asyncio.ensure_future(calls[index]())] = index
            index += 1
        if not pending:
            break
        done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for future in done:
            results[pending.pop(future)] = future.result()
            budget.answered()
    return results


def library_of(address: int | None, libraries: Sequence[SharedLibrary]) -> str | None:
    if address is None:
        return None
    for library in libraries:
        if any(start <= address < end for start, end in library.ranges):
            return library.path
    return None


def snapshot_frame(
    frame: Frame,
    libraries: Sequence[SharedLibrary],
    executable: str | None,
    variables: Sequence[Variable] | None = None,
) -> SnapshotFrame:
    library = library_of(frame.address, libraries) or frame.library or executable
    listed = None
    if variables is not None:
        listed = tuple(SnapshotVariable(v.name, v.type, v.value, v.is_argument) for v in variables)
    return SnapshotFrame(
        frame.level, frame.function, frame.file, frame.line, library, frame.address, listed
    )


@dataclass
class StackRead:
    """What was read while the program was stopped (gdb's own records)."""

    threads: list[Thread]
    stacks: list[list[Frame] | None]
    variables: dict[tuple[int, int], list[Variable]]
    libraries: list[SharedLibrary]
    missing: list[str]


async def read_stacks(gdb: GdbSession, budget: Budget, with_locals: bool) -> StackRead:
    """The thread list and libraries (asked at once), then every thread's stack, then
    the locals of the innermost frames with a line, as the budget allows."""
    found, libraries = await asyncio.gather(
        gdb.command(f"-interpreter-exec console {mi_quote('thread find .')}"),
        gdb.shared_libraries(),
    )
    threads = threads_found(found.console) if found.ok else []
    if not threads:  # gdb's own list, with each thread's top frame: 6x slower (1,000 threads)
        listed = await gdb.threads()
        if not listed.ok:
            raise StackError(f"the thread list: {listed.error}")
        threads = listed.value or []
    stacks_read = await pipelined([partial(gdb.backtrace, t.id) for t in threads], budget)
    stacks = [r.value if r is not None and r.ok else None for r in stacks_read]
    missing = [
        f"the stack of thread {t.id}" for t, s in zip(threads, stacks, strict=True) if s is None
    ]
    variables: dict[tuple[int, int], list[Variable]] = {}
    if with_locals:
        wanted = [
            (thread.id, frame.level)
            for thread, stack in zip(threads, stacks, strict=True)
            for frame in [f for f in stack or [] if f.line is not None][:LOCALS_FRAMES]
        ]
        answers = await pipelined([partial(gdb.variables, *key) for key in wanted], budget)
        for key, answer in zip(wanted, answers, strict=True):
            if answer is not None and answer.ok:
                variables[key] = answer.value or []
            else:
                missing.append(f"the locals of thread {key[0]} frame {key[1]}")
    return StackRead(threads, stacks, variables, libraries.value or [], missing)


FOUND_LINE = re.compile(r"^Thread (\d+) has (target name|name|target id) '(.*)'$", re.M)


def threads_found(console: str) -> list[Thread]:
    """The threads `thread find .` names (every thread has a target id): their ids,
    names and LWPs, without the top frame `-thread-info` computes for each (1,000
    threads through gdbserver: 0.16 s against 0.96 s, measured)."""
    fields: dict[int, dict[str, str]] = {}
    for number, kind, text in FOUND_LINE.findall(console):
        entry = fields.setdefault(int(number), {"id": number, "state": "stopped"})
        if kind == "target id":
            entry["target-id"] = text
        elif kind == "name" or "name" not in entry:  # a name the user set wins
            entry["name"] = text
    return [Thread.from_mi(entry) for _, entry in sorted(fields.items())]


class StackError(Exception):
    """gdb could not list what a snapshot needs (the process went away, most often)."""


def build_snapshot(
    target: DebugTarget,
    read: StackRead,
    executable: str | None,
    start_ticks: int | None,
    tracer: str,
    pause_ms: float,
    budget_ms: float | None,
    language: LanguageStacks | None = None,
) -> Snapshot:
    threads = []
    for thread, stack in zip(read.threads, read.stacks, strict=True):
        frames = stack if stack is not None else ([thread.frame] if thread.frame else [])
        native = [
            snapshot_frame(
                frame, read.libraries, executable, read.variables.get((thread.id, frame.level))
            )
            for frame in frames
        ]
        language_thread = language.thread(thread.lwp) if language is not None else None
        threads.append(
            SnapshotThread(
                thread.id,
                thread.lwp,
                thread.name,
                mixed_frames(native, language_thread, language),
                stack is not None,
            )
        )
    return Snapshot(
        target,
        executable,
        start_ticks,
        tracer,
        tuple(threads),
        pause_ms,
        budget_ms,
        tuple(read.missing),
        language,
    )


def mixed_frames(
    native: list[SnapshotFrame],
    thread: LanguageThread | None,
    language: LanguageStacks | None,
) -> tuple[SnapshotFrame, ...]:
    """gdb's frames with the language's own in their place (languages/interleave.py)."""
    if thread is None or language is None or language.language is None:
        return tuple(native)
    name = language.language
    return tuple(
        language_frame(frame, name) if isinstance(frame, LanguageFrame) else frame
        for frame in interleave(native, thread, lambda frame: frame.function)
    )


def language_frame(frame: LanguageFrame, language: str) -> SnapshotFrame:
    listed = None
    if frame.locals is not None:
        listed = tuple(SnapshotVariable(v.name, None, v.value, v.argument) for v in frame.locals)
    return SnapshotFrame(None, frame.function, frame.file, frame.line, None, None, listed, language)


def schema() -> dict[str, Any]:
    """The JSON Schema of snapshot_json's output (snapshot_schema.json)."""
    text = resources.files("cntr_tui.debug").joinpath("snapshot_schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def frame_json(frame: SnapshotFrame) -> dict[str, Any]:
    return {
        "level": frame.level,
        "language": frame.language,
        "function": frame.function,
        "file": frame.file,
        "line": frame.line,
        "library": frame.library,
        "address": hex(frame.address) if frame.address is not None else None,
        "locals": None if frame.locals is None else [asdict(v) for v in frame.locals],
    }


def container_json(container: Container | None) -> dict[str, Any] | None:
    if container is None:
        return None
    return {
        "runtime": container.runtime,
        "id": container.id,
        "name": container.name,
        "image": container.image,
    }


def process_json(
    target: DebugTarget, executable: str | None, start_ticks: int | None, tracer: str
) -> dict[str, Any]:
    return {
        "host_pid": target.host_pid,
        "pid": target.namespace_pid,
        "executable": executable,
        "start_ticks": start_ticks,
        "tracer": tracer,
    }


def snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as the schema (version SCHEMA_VERSION) describes it."""
    target = snapshot.target
    container = target.container
    return {
        "schema": SCHEMA_NAME,
        "version": SCHEMA_VERSION,
        "container": container_json(container),
        "process": process_json(target, snapshot.executable, snapshot.start_ticks, snapshot.tracer),
        "pause": {"ms": round(snapshot.pause_ms, 3), "budget_ms": snapshot.budget_ms},
        "complete": not snapshot.missing,
        "missing": list(snapshot.missing),
        "core": snapshot.core,
        "language": language_json(snapshot.language),
        "threads": [
            {
                "id": thread.id,
                "lwp": thread.lwp,
                "name": thread.name,
                "complete": thread.complete,
                "frames": [frame_json(frame) for frame in thread.frames],
            }
            for thread in snapshot.threads
        ],
    }


def language_json(stacks: LanguageStacks | None) -> dict[str, Any] | None:
    if stacks is None or stacks.language is None:
        return None
    return {
        "name": stacks.language,
        "version": stacks.version,
        "reader": stacks.reader or "?",
        "missing": stacks.missing,
        "ms": None if stacks.pause_ms is None else round(stacks.pause_ms, 3),
        "goroutines": [goroutine_json(g) for g in stacks.goroutines],
    }


def goroutine_json(goroutine: Goroutine) -> dict[str, Any]:
    return {
        "id": goroutine.id,
        "state": goroutine.state,
        "wait_reason": goroutine.wait_reason,
        "function": goroutine.function,
        "file": goroutine.file,
        "line": goroutine.line,
        "lwp": goroutine.lwp,
    }


# A process SIGKILLed while traced takes a while to end (1,000 threads exit one by one,
# each may report its exit to the tracer first): gdb can fail before it is a zombie.
EXIT_GRACE = 2.0


async def ended(target: DebugTarget, started: int | None = None) -> bool:
    """Whether the target's process exited (or was replaced: its start time changed),
    waiting a little for one that is on its way out."""
    from cntr_tui.gdb.pidfd import ends_within
    from cntr_tui.linux.proc_stat import start_ticks

    if started is not None and start_ticks(target.host_pid) != started:
        return True
    return await ends_within(target.host_pid, EXIT_GRACE)


def exited_during(target: DebugTarget) -> UserError:
    return UserError(f"process {target.host_pid} ({target.label}) exited during the snapshot")


async def attach_telling(session: LiveDebugSession, notes: Callable[[str], None]) -> None:
    """gdb attaches (the program stops); the session's notes are told. Raises UserError
    (one line), saying so when the process exited meanwhile."""
    try:
        await session.attach()
    except DebugUnavailable as error:
        if await ended(session.target):
            raise exited_during(session.target) from error
        raise UserError(str(error)) from error
    for note in session.notes:
        notes(note)


async def detach_checked(gdb: GdbSession, target: DebugTarget, started: int | None) -> None:
    """Detach (the program runs on); raises UserError when the process exited or was
    replaced meanwhile (its start time changed), or the detach failed."""
    from cntr_tui.linux.proc_stat import alive, start_ticks

    detached = await gdb.detach()
    if not alive(target.host_pid) or start_ticks(target.host_pid) != started:
        raise exited_during(target)
    if not detached.ok and await ended(target, started):
        raise exited_during(target)
    if not detached.ok:
        raise UserError(f"detaching failed: {detached.error}")


async def take_snapshot(
    target: DebugTarget,
    starts: SessionStarts | None = None,
    *,
    with_locals: bool = False,
    budget_ms: float | None = None,
    notes: Callable[[str], None] = lambda text: None,
) -> Snapshot:
    """Stop the target, read every stack, let it go (detached, the program runs on
    untraced); raises UserError (one line) when it cannot, with nothing of ours left:
    gdb, gdbserver and the attach session are closed on every way out. A Python
    program's frames are read by py-spy beside gdb's reads (languages/python.py).
    This is the path through gdb; stack_snapshot.snapshot_taken takes the fast one
    where it can and this one elsewhere."""
    from cntr_tui.debug.language_stacks import LanguageStackReader
    from cntr_tui.debug.launchers import choose_launch
    from cntr_tui.debug.service import start_debug
    from cntr_tui.linux.proc_stat import start_ticks
    from cntr_tui.linux.procfs import thread_ids

    started = start_ticks(target.host_pid)
    languages = LanguageStackReader(target.host_pid)
    launch = await choose_launch(target, starts)
    try:
        session = await start_debug(target, launch)
    except DebugUnavailable as error:
        raise UserError(str(error)) from error
    gdb = session.gdb
    early: list[str] = []  # the objects symbols_before_stop added
    clock = PauseClock(gdb, partial(symbols_before_stop, gdb, target.host_pid, early))
    try:
        # gdb prints the stop's frame to its console with its source line; finding
        # that file (through the merged root) was 30 ms of a 10-thread pause here
        await gdb.command("-gdb-set print frame-info location")
        await attach_telling(session, notes)
        try:
            known = len(thread_ids(target.host_pid))
        except OSError:
            known = 0
        budget = Budget(clock, budget_ms, known)
        await drop_early_symbols(gdb, early)
        try:
            read, language = await read_with_language(gdb, budget, with_locals, languages)
        except StackError as error:
            if await ended(target, started):
                raise exited_during(target) from error
            raise UserError(str(error)) from error
        executable = gdb.executable_path
        tracer = gdb.tracer
        await detach_checked(gdb, target, started)
    finally:
        await gdb.close(detach_timeout=DETACH_TIMEOUT)
    return build_snapshot(
        target, read, executable, started, tracer, clock.pause_ms(), budget_ms, language
    )


async def read_with_language(
    gdb: GdbSession, budget: Budget, with_locals: bool, languages: LanguageStackReader
) -> tuple[StackRead, LanguageStacks | None]:
    """gdb's stacks and the language's frames: py-spy reads beside gdb, at once; Go's
    goroutines are read by gdb itself, after its stacks."""
    if languages.language == "python":
        # both run to their end: no reader is left running when gdb's read fails
        read, language = await asyncio.gather(
            read_stacks(gdb, budget, with_locals),
            languages.stacks(gdb, with_locals),
            return_exceptions=True,
        )
        if isinstance(read, BaseException):
            raise read
        if isinstance(language, BaseException):
            raise language
        return read, language
    read = await read_stacks(gdb, budget, with_locals)
    if languages.language is None:
        return read, None
    return read, await languages.stacks(gdb, with_locals)
