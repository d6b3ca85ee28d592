"""A fake debug engine and session for the screens' tests: no root, containers or gdb.

`FakeEngine` satisfies `cntr_tui.debug.protocol.DebugEngine` and `FakeSession`
`DebugSession` (tests/unit/test_screens.py checks them member by member). The engine answers
from canned records (the demo program's threads, stacks, locals), records every call,
and emits events the way gdb does: a resume is `Running` at once, then, when the
program gets somewhere, `Stopped`; a console command's output comes as `ConsoleOutput`;
the end is `SessionEnded`.

The canned records are also what the snapshot tests feed the debugger's panes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import string
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path

from textual.message import Message

from cntr_tui.debug.protocol import (
    ContainerLogs,
    DebugEngine,
    DebugUnavailable,
    LogLine,
    Progress,
    SourceText,
)
from cntr_tui.debug.target import DebugTarget
from cntr_tui.fs.mounts import Mount
from cntr_tui.gdb.events import ConsoleOutput, Event, Paused, Running, SessionEnded, Stopped
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

THREADS_C = Path(__file__).parents[2] / "cntr_tui" / "demo" / "programs" / "threads.c"
SOURCE_PATH = "/app/src/threads.c"
LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
LOG_LINES = (
    LogLine("threads: 4 workers started", "stdout", 1764633600.0),
    LogLine("threads: worker-2 is slow", "stderr", 1764633601.5),
)


def line_of(needle: str) -> int:
    lines = THREADS_C.read_text().splitlines()
    return next(number for number, line in enumerate(lines, start=1) if needle in line)


def frame(level: int, function: str, needle: str | None, address: int) -> Frame:
    if needle is None:
        return Frame(level, address, function, library=LIBC)
    return Frame(level, address, function, "threads.c", SOURCE_PATH, line_of(needle))


TICK_LINE = line_of("w->iterations++")
TICK = frame(0, "tick", "w->iterations++", 0x401236)
WORKER_STACK = (
    TICK,
    frame(1, "worker_main", "tick(w);", 0x4012A0),
    frame(2, "start_thread", None, 0x7F3A1C094AC3),
    frame(3, "clone3", None, 0x7F3A1C126850),
)
THREADS = (
    Thread(1, "LWP 1", 1, "threads", "stopped", frame(0, "clock_nanosleep", None, 0x7F3A10E7)),
    Thread(2, "LWP 7", 7, "worker-0", "stopped", frame(0, "compute_step", "value +=", 0x4011C9)),
    Thread(3, "LWP 8", 8, "worker-1", "stopped", TICK),
    Thread(4, "LWP 9", 9, "worker-2", "stopped", frame(0, "clock_nanosleep", None, 0x7F3A10E7)),
)
LOCALS = (
    Variable("w", "0x404060 <workers+32>", "struct worker *", is_argument=True),
    Variable(
        "copy",
        '{id = 1, name = "worker-1\\000\\000\\000\\000\\000\\000\\000", '
        "iterations = 4211, total = 7.4850661}",
        "struct worker",
    ),
    Variable("step", "40", "int"),
)
MOUNTS = (
    Mount(1, 0, "0:52", "/", "/", "fuse.cntr", "cntr", "rw", provenance="host"),
    Mount(2, 1, "0:61", "/", "/var/lib/cntr", "overlay", "overlay", "rw", provenance="container"),
    Mount(3, 2, "0:62", "/", "/var/lib/cntr/proc", "proc", "proc", "rw", provenance="virtual"),
    Mount(
        4,
        2,
        "8:1",
        "/srv/data",
        "/var/lib/cntr/data",
        "ext4",
        "/dev/sda1",
        "rw",
        provenance="volume",
    ),
    Mount(5, 1, "0:5", "/", "/dev", "devtmpfs", "udev", "rw", provenance="virtual"),
)
BREAKPOINTS = (
    Breakpoint("1", "breakpoint", True, "tick", 0x401236, "tick", "threads.c", SOURCE_PATH, 38),
    Breakpoint("2", "breakpoint", False, location="threads.c:65", pending=True),
)

# main's loop: waiting in libc, called from main's nanosleep line
MAIN_LINE = line_of("pause = {1, 0}") + 2
MAIN_STACK = (
    frame(0, "clock_nanosleep", None, 0x7F3A10E7),
    Frame(1, 0x401390, "main", "threads.c", SOURCE_PATH, MAIN_LINE),
)
STACKS = {
    1: MAIN_STACK,
    2: (frame(0, "compute_step", "value +=", 0x4011C9),),
    3: WORKER_STACK,
    4: (frame(0, "clock_nanosleep", None, 0x7F3A10E7),),
}
LOCALS_OF = {
    "tick": (LOCALS[0],),
    "worker_main": (Variable("w", "0x404060 <workers+32>", "struct worker *"),),
    "main": (Variable("stopping", "0", "sig_atomic_t"),),
}
VALUES = {"*(w)": '{id = 1, name = "worker-1", iterations = 4211, total = 7.4850661}'}
SYMBOLS = (
    ObjectSymbols(SOURCE_PATH, "/app/threads", "ab12cd34ef56", "debug-info", "embedded", True),
)
CHILDREN = {
    "copy": (
        Variable("id", "1", "int"),
        Variable("name", '"worker-1"', "char [16]"),
        Variable("iterations", "4211", "unsigned long"),
        Variable("total", "7.4850661", "double"),
    ),
}
# x86-64's general registers in gdb's numbering; rax and rip change at each stop
REGISTER_NAMES = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9")
RIP, EFLAGS, XMM0 = 16, 17, 40
WORKERS_ADDRESS = 0x404060  # `workers`, each 40 bytes; iterations at +24
VALUE_ADDRESSES = {"workers": WORKERS_ADDRESS, "&workers[1].iterations": WORKERS_ADDRESS + 64}
TICK_CODE = (
    (0, "push   %rbp"),
    (1, "mov    %rsp,%rbp"),
    (4, "mov    %rdi,-0x8(%rbp)"),
    (8, "mov    -0x8(%rbp),%rax"),
    (12, "mov    0x18(%rax),%rax"),
    (16, "lea    0x1(%rax),%rdx"),
    (20, "mov    -0x8(%rbp),%rax"),
    (24, "mov    %rdx,0x18(%rax)"),
    (28, "nop"),
    (29, "pop    %rbp"),
    (30, "ret"),
)
TICK_START = TICK.address - 12
CALL_RESULT: Result[None] = Result()


@dataclasses.dataclass(frozen=True)
class Call:
    name: str
    args: tuple[object, ...]


class FakeEngine:
    """The demo program stopped in main; a breakpoint on tick's line is hit by worker-1
    (thread 3) at the next continue, any other one never. With `non_stop` (the
    opener sets it from the target), each thread has its own state (`thread_states`):
    run control takes a thread (None: every one), stops and resumes are per thread."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.listeners: list[asyncio.Queue[Event]] = []
        self.running = False
        self.stopped_thread = 1
        self.stacks: dict[int, tuple[Frame, ...]] = dict(STACKS)
        self.thread_list: tuple[Thread, ...] = THREADS  # a test may list more
        self.breakpoint_list: list[Breakpoint] = []
        self.next_number = 1
        self.console_output = {"info threads": '* 3    Thread 0x7f3a (LWP 8) "worker-1" tick'}
        self.stops = 0  # how many stops: registers and memory change with each
        self.memory = bytearray(range(256)) * 4  # from WORKERS_ADDRESS on
        self.non_stop = False
        self.thread_states = {thread.id: "stopped" for thread in THREADS}
        self.scheduler_locking = "replay"  # gdb's default

    # --- what the tests look at and do ---------------------------------------------

    def called(self, name: str) -> list[tuple[object, ...]]:
        return [call.args for call in self.calls if call.name == name]

    def emit(self, event: Event) -> None:
        for queue in self.listeners:
            queue.put_nowait(event)

    def record(self, name: str, *args: object) -> None:
        self.calls.append(Call(name, args))

    # --- DebugEngine ----------------------------------------------------------------

    def events(self) -> AsyncIterator[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self.listeners.append(queue)  # from now on, as gdb's listeners
        return self.drain(queue)

    async def drain(self, queue: asyncio.Queue[Event]) -> AsyncIterator[Event]:
        while True:
            event = await queue.get()
            yield event
            if isinstance(event, SessionEnded):
                return

    def resume(self, thread_id: int | None) -> None:
        for tid in self.thread_states:
            if thread_id is None or not self.non_stop or tid == thread_id:
                self.thread_states[tid] = "running"
        self.running = all(state == "running" for state in self.thread_states.values())
        self.emit(Running(thread_id))

    def refused(self, thread_id: int | None) -> Result[None] | None:
        """gdb's refusal of a step or resume of a running program (non-stop: thread)."""
        if self.non_stop and thread_id is not None:
            if self.thread_states.get(thread_id) == "running":
                return Result(
                    error="Cannot execute this command while the selected thread is running."
                )
            return None
        if self.running:
            return Result(error="Cannot execute this command while the target is running.")
        return None

    def stop(
        self,
        thread_id: int,
        reason: str,
        signal_name: str | None = None,
        breakpoint_number: str | None = None,
    ) -> Stopped:
        if self.non_stop:
            self.thread_states[thread_id] = "stopped"
        else:
            self.thread_states = dict.fromkeys(self.thread_states, "stopped")
        self.running = False
        self.stopped_thread = thread_id
        self.stops += 1
        self.memory[24 + 40] = (self.memory[24 + 40] + 1) % 256  # workers[1].iterations
        top = self.stacks[thread_id][0]
        every = not self.non_stop
        stop = Stopped(reason, thread_id, top, every, signal_name, breakpoint_number)
        asyncio.get_running_loop().call_soon(self.emit, stop)  # after the command's answer
        return stop

    def step_like(self, name: str, thread_id: int | None, reason: str) -> Result[None]:
        self.record(name, thread_id)
        if (refusal := self.refused(thread_id)) is not None:
            return refusal
        self.resume(thread_id)
        self.stop(thread_id if self.non_stop and thread_id else self.stopped_thread, reason)
        return CALL_RESULT

    async def continue_(self, thread_id: int | None = None) -> Result[None]:
        self.record("continue_", thread_id)
        if (refusal := self.refused(thread_id)) is not None:
            return refusal
        self.resume(thread_id)
        hit = next((bp for bp in self.breakpoint_list if bp.enabled and bp.line == TICK_LINE), None)
        if hit is not None and self.thread_states[3] == "running":
            self.stop(3, "breakpoint-hit", breakpoint_number=hit.number)
        return CALL_RESULT

    async def next(self, thread_id: int | None = None) -> Result[None]:
        return self.step_like("next", thread_id, "end-stepping-range")

    async def step(self, thread_id: int | None = None) -> Result[None]:
        return self.step_like("step", thread_id, "end-stepping-range")

    async def finish(self, thread_id: int | None = None) -> Result[None]:
        return self.step_like("finish", thread_id, "function-finished")

    async def interrupt(self, thread_id: int | None = None) -> Result[Stopped]:
        self.record("interrupt", thread_id)
        if self.non_stop:
            running = [tid for tid, state in self.thread_states.items() if state == "running"]
            wanted = running if thread_id is None else [thread_id]
            stops = [self.stop(tid, "signal-received", signal_name="SIGINT") for tid in wanted]
            return Result(stops[0]) if stops else Result(error="no thread is running")
        return Result(self.stop(1, "signal-received", signal_name="SIGINT"))

    async def step_instruction(self, thread_id: int | None = None) -> Result[None]:
        return self.step_like("step_instruction", thread_id, "end-stepping-range")

    async def next_instruction(self, thread_id: int | None = None) -> Result[None]:
        return self.step_like("next_instruction", thread_id, "end-stepping-range")

    async def run_to(self, location: str, thread_id: int | None = None) -> Result[None]:
        self.record("run_to", location, thread_id)
        if self.running:
            return Result(error="Cannot execute this command while the target is running.")
        self.resume(thread_id)
        self.stop(self.stopped_thread, "location-reached")
        return CALL_RESULT

    async def set_scheduler_locking(self, mode: str) -> Result[None]:
        self.record("set_scheduler_locking", mode)
        if mode not in ("off", "on", "step", "replay"):
            return Result(error=f"scheduler-locking is one of off, on, step, replay, not {mode}")
        self.scheduler_locking = mode
        return CALL_RESULT

    async def threads(self) -> Result[list[Thread]]:
        self.record("threads")
        if self.non_stop:
            return Result(
                [
                    dataclasses.replace(t, state="running", frame=None)
                    if self.thread_states.get(t.id) == "running"
                    else dataclasses.replace(t, frame=self.stacks[t.id][0])
                    for t in self.thread_list
                ]
            )
        if self.running:
            return Result(
                [dataclasses.replace(t, state="running", frame=None) for t in self.thread_list]
            )
        return Result(
            [dataclasses.replace(t, frame=self.stacks[t.id][0]) for t in self.thread_list]
        )

    async def select_thread(self, thread_id: int) -> Result[Frame | None]:
        self.record("select_thread", thread_id)
        return Result(self.stacks[thread_id][0])

    async def switch_process(self) -> Result[tuple[int | None, int | None] | None]:
        self.record("switch_process")
        return Result(None)  # one process

    async def select_frame(self, level: int, thread_id: int | None = None) -> Result[Frame]:
        self.record("select_frame", level, thread_id)
        frames = self.stacks[thread_id or self.stopped_thread]
        found = next((frame for frame in frames if frame.level == level), None)
        return Result(found) if found is not None else Result(error=f"no frame {level}")

    async def backtrace(self, thread_id: int | None = None) -> Result[list[Frame]]:
        self.record("backtrace", thread_id)
        if self.running or self.thread_states.get(thread_id or self.stopped_thread) == "running":
            return Result(error="Selected thread is running.")
        return Result(list(self.stacks[thread_id or self.stopped_thread]))

    async def variables(
        self, thread_id: int | None = None, level: int | None = None
    ) -> Result[list[Variable]]:
        self.record("variables", thread_id, level)
        stack = self.stacks[thread_id or self.stopped_thread]
        function = next((f.function for f in stack if f.level == (level or 0)), None)
        return Result(list(LOCALS_OF.get(function or "", ())))

    async def evaluate(
        self, expression: str, thread_id: int | None = None, level: int | None = None
    ) -> Result[str]:
        self.record("evaluate", expression, thread_id, level)
        if expression not in VALUES:
            return Result(error=f'No symbol "{expression}" in current context.')
        return Result(VALUES[expression])

    async def children(
        self, expression: str, thread_id: int | None = None, level: int | None = None
    ) -> Result[list[Variable]]:
        self.record("children", expression, thread_id, level)
        if expression not in CHILDREN:
            return Result(error=f'No symbol "{expression}" in current context.')
        return Result(list(CHILDREN[expression]))

    async def registers(
        self, thread_id: int | None = None, level: int | None = None, vector: bool = False
    ) -> Result[list[Register]]:
        self.record("registers", thread_id, level)
        if self.running:
            return Result(error="Selected thread is running.")
        pc = self.stacks[thread_id or self.stopped_thread][level or 0].address
        found = [Register(n, name, hex(0x1000 * n + 7)) for n, name in enumerate(REGISTER_NAMES)]
        found[0] = Register(0, "rax", hex(self.stops))
        found += [Register(RIP, "rip", hex(pc)), Register(EFLAGS, "eflags", "[ ZF PF ]")]
        if vector:
            found.append(Register(XMM0, "xmm0", "{v4_float = {0x0, 0x0, 0x0, 0x0}}"))
        return Result(found)

    async def disassemble(
        self, thread_id: int | None = None, level: int | None = None, with_source: bool = False
    ) -> Result[tuple[list[Instruction], int | None]]:
        self.record("disassemble", thread_id, level, with_source)
        if self.running:
            return Result(error="Selected thread is running.")
        pc = self.stacks[thread_id or self.stopped_thread][level or 0].address
        start = TICK_START if TICK_START <= pc < TICK_START + 31 else pc - 12
        name = "tick" if start == TICK_START else None
        found = [Instruction(start + offset, name, offset, text) for offset, text in TICK_CODE]
        if with_source and name == "tick":  # the first two are the line before tick's body
            found = [
                dataclasses.replace(
                    instruction,
                    line=TICK_LINE - (index < 2),
                    file="threads.c",
                    fullname=SOURCE_PATH,
                )
                for index, instruction in enumerate(found)
            ]
        return Result((found, pc))

    async def read_memory(self, address: int | str, length: int) -> Result[MemoryBlock]:
        self.record("read_memory", address, length)
        start = address if isinstance(address, int) else VALUE_ADDRESSES.get(address)
        if start is None:
            return Result(error=f'No symbol "{address}" in current context.')
        offset = start - WORKERS_ADDRESS
        if offset < 0 or offset + length > len(self.memory):
            return Result(error=f"Unable to read memory at {start:#x}")
        return Result(MemoryBlock(start, bytes(self.memory[offset : offset + length])))

    async def breakpoints(self) -> Result[list[Breakpoint]]:
        self.record("breakpoints")
        return Result(list(self.breakpoint_list))

    async def break_insert(
        self,
        location: str,
        *,
        condition: str | None = None,
        temporary: bool = False,
        ignore_count: int = 0,
        thread_id: int | None = None,
    ) -> Result[Breakpoint]:
        self.record("break_insert", location)
        if (condition, temporary, ignore_count, thread_id) != (None, False, 0, None):
            self.record("break_insert_options", condition, temporary, ignore_count, thread_id)
        file, _, line = location.rpartition(":")
        digits = location.removeprefix("*0x")
        if location.startswith("*0x") and digits and set(digits) <= set(string.hexdigits):
            inserted = Breakpoint(self.numbered(), "breakpoint", True, location, int(digits, 16))
        elif not line.isdigit() or file.rpartition("/")[2] != "threads.c":
            return Result(error=f"No source file named {file or location}.")
        else:
            inserted = Breakpoint(
                self.numbered(),
                "breakpoint",
                True,
                location,
                file="threads.c",
                fullname=SOURCE_PATH,
                line=int(line),
            )
        inserted = dataclasses.replace(
            inserted, condition=condition, temporary=temporary, ignore=ignore_count
        )
        return self.added(inserted)

    def added(self, inserted: Breakpoint) -> Result[Breakpoint]:
        self.breakpoint_list.append(inserted)
        if self.running:
            self.emit(Paused("breakpoint", 0.004))
        return Result(inserted)

    def numbered(self) -> str:
        number, self.next_number = str(self.next_number), self.next_number + 1
        return number

    async def watch_insert(
        self,
        expression: str,
        access: WatchAccess = "write",
        thread_id: int | None = None,
        level: int | None = None,
    ) -> Result[Breakpoint]:
        self.record("watch_insert", expression, access, thread_id, level)
        if expression not in VALUES:
            return Result(error=f'No symbol "{expression}" in current context.')
        kind = {"write": "hw watchpoint", "read": "read watchpoint", "access": "acc watchpoint"}
        return self.added(Breakpoint(self.numbered(), kind[access], True, what=expression))

    async def dprintf_insert(
        self, location: str, format: str, arguments: Sequence[str] = ()
    ) -> Result[Breakpoint]:
        self.record("dprintf_insert", location, format, tuple(arguments))
        file, _, line = location.rpartition(":")
        if not line.isdigit() or file.rpartition("/")[2] != "threads.c":
            return Result(error=f"No source file named {file or location}.")
        what = ",".join([f'"{format}"', *arguments])
        found = Breakpoint(
            self.numbered(), "dprintf", True, location, file="threads.c", line=int(line), what=what
        )
        return self.added(dataclasses.replace(found, fullname=SOURCE_PATH))

    async def catch_insert(
        self, kind: CatchKind, argument: str | None = None
    ) -> Result[Breakpoint]:
        self.record("catch_insert", kind, argument)
        what = f"{kind} {argument}" if argument else kind
        return self.added(Breakpoint(self.numbered(), "catchpoint", True, what=what))

    async def break_ignore(self, number: str, count: int) -> Result[None]:
        self.record("break_ignore", number, count)
        return self.changed(number, ignore=count)

    async def break_delete(self, number: str) -> Result[None]:
        self.record("break_delete", number)
        kept = [bp for bp in self.breakpoint_list if bp.number != number]
        if len(kept) == len(self.breakpoint_list):
            return Result(error=f"No breakpoint number {number}.")
        self.breakpoint_list = kept
        return CALL_RESULT

    def changed(self, number: str, **changes: object) -> Result[None]:
        for index, found in enumerate(self.breakpoint_list):
            if found.number == number:
                self.breakpoint_list[index] = dataclasses.replace(found, **changes)  # type: ignore[arg-type]
                return CALL_RESULT
        return Result(error=f"No breakpoint number {number}.")

    async def break_enable(self, number: str) -> Result[None]:
        self.record("break_enable", number)
        return self.changed(number, enabled=True)

    async def break_disable(self, number: str) -> Result[None]:
        self.record("break_disable", number)
        return self.changed(number, enabled=False)

    async def break_condition(self, number: str, condition: str | None) -> Result[None]:
        self.record("break_condition", number, condition)
        return self.changed(number, condition=condition)

    async def cli(self, command: str) -> Result[str]:
        self.record("cli", command)
        output = self.console_output.get(command, "")
        if output:
            self.emit(ConsoleOutput(output + "\n"))
        return Result(output)

    async def symbol_report(self) -> Result[list[ObjectSymbols]]:
        self.record("symbol_report")
        return Result(list(SYMBOLS))

    def source_path_on_host(self, fullname: str) -> str:
        return fullname


class FakeLogs:
    """ContainerLogs: two canned lines, then whatever the test `write`s, until closed."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[LogLine | None] = asyncio.Queue()
        for line in LOG_LINES:
            self.queue.put_nowait(line)
        self.closed = False

    @property
    def source(self) -> str:
        return "fake logs"

    def write(self, text: str, stream: str = "stdout") -> None:
        self.queue.put_nowait(LogLine(text, stream))

    async def lines(self) -> AsyncIterator[LogLine]:
        while (line := await self.queue.get()) is not None:
            yield line

    async def close(self) -> None:
        self.closed = True
        self.queue.put_nowait(None)


class FakeSession:
    """The fake engine in an attach session that sees threads.c at SOURCE_PATH."""

    def __init__(self, engine: FakeEngine | None = None) -> None:
        self.fake_engine = engine or FakeEngine()
        self.opened_on: DebugTarget | None = None
        self.process_alive = True
        self.close_calls = 0
        self.closed = False
        self.sources = {SOURCE_PATH: THREADS_C.read_text()}
        self.session_notes: tuple[str, ...] = ()
        self.logs: FakeLogs | None = FakeLogs()
        self.log_tails: list[int] = []
        self.language = LanguageStacks(None)  # what language_stacks() answers
        self.goroutine_stacks: dict[int, tuple[Frame, ...]] = {}
        self.language_asks: list[bool] = []  # with_locals of each language_stacks()

    @property
    def target(self) -> DebugTarget:
        assert self.opened_on is not None, "the session was never opened"
        return self.opened_on

    @property
    def engine(self) -> DebugEngine:
        return self.fake_engine

    @property
    def mode(self) -> str:
        return "attach session (fake)"

    @property
    def notes(self) -> tuple[str, ...]:
        return self.session_notes

    @property
    def closing(self) -> bool:
        return self.close_calls > 0

    @property
    def non_stop(self) -> bool:
        return self.opened_on is not None and self.opened_on.non_stop

    def mounts(self) -> Result[list[Mount]]:
        return Result(list(MOUNTS))

    def read_source(self, path: str) -> SourceText:
        return SourceText(self.sources.get(path), (path,))

    def location_in_container(self, path: str) -> str:
        return path

    def alive(self) -> bool:
        return self.process_alive

    def open_logs(self, tail: int = 200) -> Result[ContainerLogs]:
        self.log_tails.append(tail)
        if self.logs is None:
            return Result(error="the fake container keeps no logs")
        return Result(self.logs)

    async def language_stacks(self, with_locals: bool = False) -> LanguageStacks:
        self.language_asks.append(with_locals)
        return self.language

    async def goroutine_stack(self, goroutine_id: int) -> Result[tuple[Frame, ...]]:
        if goroutine_id not in self.goroutine_stacks:
            return Result(error=f"no goroutine {goroutine_id} (it may have ended)")
        return Result(self.goroutine_stacks[goroutine_id])

    async def close(self) -> None:
        self.close_calls += 1
        if not self.closed:
            self.closed = True
            self.fake_engine.emit(SessionEnded("detached", "detached; the program runs on"))


class FakeOpener:
    """A DebugOpener: hands out `session` (or raises `failure`), recording the targets."""

    def __init__(
        self, session: FakeSession | None = None, failure: DebugUnavailable | None = None
    ) -> None:
        self.session = session or FakeSession()
        self.failure = failure
        self.targets: list[DebugTarget] = []
        self.progress: list[str] = []
        self.gate: asyncio.Event | None = None  # set: the open waits for it
        self.cancelled = False

    async def __call__(self, target: DebugTarget, progress: Progress) -> FakeSession:
        self.targets.append(target)
        progress("opening the fake session…")
        self.progress.append("opening the fake session…")
        if self.gate is not None:
            try:
                await self.gate.wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
        if self.failure is not None:
            raise self.failure
        self.session.opened_on = target
        self.session.fake_engine.non_stop = target.non_stop
        return self.session


class Recorder:
    """A Pilot app's message_hook, Harlequin-style: every message, seen at each screen
    and at the app as it bubbles."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def __call__(self, message: Message) -> None:
        self.messages.append(message)

    def count(self, kind: type[Message]) -> int:
        """How many messages of `kind` were sent (one that bubbled counts once)."""
        return len({id(message) for message in self.messages if isinstance(message, kind)})


def protocol_members(protocol: type) -> Iterable[str]:
    """The members a Protocol class declares (not the ones every class has)."""
    return sorted(name for name in vars(protocol) if not name.startswith("_"))
