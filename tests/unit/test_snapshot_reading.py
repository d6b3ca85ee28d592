"""Reading the stacks: every command sent before the first answer (no budget), a budget
that stops sending and says what is missing, and the text that groups the threads.
A fake gdb stands in for the engine here; tests/runtime/test_snapshot.py runs real ones."""

from __future__ import annotations

import asyncio
from typing import Any

from cntr_tui.debug.snapshot import (
    DETACH_BASE,
    DETACH_PER_THREAD,
    Budget,
    build_snapshot,
    read_stacks,
)
from cntr_tui.debug.snapshot_text import snapshot_text
from cntr_tui.gdb.records import Frame, Result, SharedLibrary, Thread, Variable
from cntr_tui.gdb.transport import MiResult
from tests.unit.test_snapshot_schema import snapshot

LIBC = SharedLibrary("/lib/libc.so.6", "/var/lib/cntr/lib/libc.so.6", True, ((0x7000, 0x8000),))


class Clock:
    """The pause's clock, moved on by the fake gdb's answers alone: what the budget
    weighs does not depend on how busy the machine running the test is."""

    def __init__(self) -> None:
        self.now = 0.0

    def elapsed(self) -> float:
        return self.now


class FakeGdb:
    """Answers after `cost` seconds each (of the clock's time), one at a time, as gdb
    does; records how many commands were waiting when the first answer went out."""

    def __init__(self, threads: int, cost: float, find_fails: bool = False) -> None:
        self.count, self.cost, self.find_fails = threads, cost, find_fails
        self.clock = Clock()
        self.sent: list[str] = []
        self.waiting_at_first_answer: int | None = None
        self._lock = asyncio.Lock()

    async def _answer(self, command: str, value: Any) -> Any:
        self.sent.append(command)
        async with self._lock:
            await asyncio.sleep(0)  # let every other command get sent first
            if self.waiting_at_first_answer is None:
                self.waiting_at_first_answer = len(self.sent)
            self.clock.now += self.cost
            return value if isinstance(value, MiResult) else Result(value)

    async def command(self, mi_command: str) -> MiResult:
        """`thread find .` as gdb 13 answers it through gdbserver (names, target ids)."""
        assert mi_command == '-interpreter-exec console "thread find ."', mi_command
        lines = [
            f"Thread {n} has target name 'worker-{n}'\n"
            f"Thread {n} has target id 'Thread 1.{n + 6}'\n"
            for n in range(1, self.count + 1)
        ]
        if self.find_fails:
            return await self._answer("thread find .", MiResult("error", {"msg": "no"}))
        return await self._answer("thread find .", MiResult("done", console="".join(lines)))

    async def threads(self) -> Result[list[Thread]]:
        listed = [
            Thread(n, f"Thread 1.{n}", n, f"worker-{n}", "stopped")
            for n in range(1, self.count + 1)
        ]
        return await self._answer("-thread-info", listed)

    async def shared_libraries(self) -> Result[list[SharedLibrary]]:
        return await self._answer("-file-list-shared-libraries", [LIBC])

    async def backtrace(self, thread_id: int) -> Result[list[Frame]]:
        frames = [
            Frame(0, 0x7100, "__GI___clock_nanosleep"),
            Frame(1, 0x401100, "spin", "stalls.c", "/app/src/stalls.c", 44),
            Frame(2, 0x401200, "worker_main", "stalls.c", "/app/src/stalls.c", 55),
        ]
        return await self._answer(f"-stack-list-frames --thread {thread_id}", frames)

    async def variables(self, thread_id: int, level: int) -> Result[list[Variable]]:
        found = [
            Variable("id", str(thread_id), "int", True),
            Variable("rounds", "9", "unsigned long"),
        ]
        return await self._answer(
            f"-stack-list-variables --thread {thread_id} --frame {level}", found
        )


def read(gdb: FakeGdb, budget_ms: float | None, with_locals: bool = False):
    async def run():
        return await read_stacks(gdb, Budget(gdb.clock, budget_ms, gdb.count), with_locals)  # type: ignore[arg-type]

    return asyncio.run(run())


def test_without_a_budget_every_stack_is_asked_before_the_first_answer() -> None:
    gdb = FakeGdb(50, 0.0)
    result = read(gdb, None, with_locals=True)
    stacks = [c for c in gdb.sent if c.startswith("-stack-list-frames")]
    assert len(stacks) == 50 and not result.missing
    assert all(s is not None and len(s) == 3 for s in result.stacks)
    # the thread list and libraries went together; then 50 backtraces at once
    first_batch = gdb.sent.index("-stack-list-frames --thread 1")
    assert gdb.sent[:2] == ["thread find .", "-file-list-shared-libraries"]
    assert [(t.id, t.lwp, t.name) for t in result.threads[:2]] == [
        (1, 7, "worker-1"),
        (2, 8, "worker-2"),
    ]
    assert len(gdb.sent) == 2 + 50 + 100  # locals of spin and worker_main: libc's has no line
    assert first_batch == 2
    assert len(result.variables) == 100 and result.variables[(7, 1)][0].value == "7"


def test_a_budget_stops_sending_and_says_what_is_missing() -> None:
    gdb = FakeGdb(200, 0.001)  # 1 ms a command: 200 stacks would take 200 ms
    result = read(gdb, 40.0)
    took = gdb.clock.elapsed() * 1000
    # the last command was sent while its answer, those in flight before it and the
    # detach's reserve still fit; and the reading did not stop long before the budget
    reserve = (DETACH_BASE + DETACH_PER_THREAD * 200) * 1000
    assert took > 20 and took + reserve <= 40 + 1e-9, (took, reserve)
    unread = [s for s in result.stacks if s is None]
    assert 100 < len(unread) < 200
    assert len(gdb.sent) == 2 + 200 - len(unread)  # what was unread was never sent
    assert result.missing == [f"the stack of thread {n}" for n in range(201 - len(unread), 201)]
    snap = build_snapshot(snapshot(()).target, result, "/app/stalls", 1, "gdbserver", took, 40.0)
    partial = [t for t in snap.threads if not t.complete]
    assert len(partial) == len(unread) and all(
        len(t.frames) == 0 for t in partial
    )  # no top frame known
    text = snapshot_text(snap)
    assert f"missing (the pause budget ran out): the stacks of {len(unread)} thread(s)" in text[-1]


def test_the_text_groups_threads_and_says_the_pause_first() -> None:
    gdb = FakeGdb(12, 0.0)
    result = read(gdb, None, with_locals=True)
    snap = build_snapshot(snapshot(()).target, result, "/app/stalls", 1, "gdbserver", 12.34, None)
    lines = snapshot_text(snap, with_locals=True)
    assert lines[0] == (
        "docker web, process 1 (host PID 4242): 12 threads, stopped for 12.3 ms, "
        "running again untraced"
    )
    assert lines[2] == "12 threads in __GI___clock_nanosleep <- spin <- worker_main"
    assert lines[3].startswith('  threads: 1 "worker-1", 2 "worker-2"') and lines[3].endswith(
        "… 4 more"
    )
    assert "  #0  __GI___clock_nanosleep (/lib/libc.so.6)" in lines
    assert "  #1  spin at stalls.c:44 (/app/stalls)" in lines
    assert "    thread 3 #1 spin: id = 3, rounds = 9" in lines


def test_without_thread_find_gdbs_thread_list_is_used() -> None:
    gdb = FakeGdb(3, 0.0, find_fails=True)
    result = read(gdb, None)
    assert "-thread-info" in gdb.sent and [t.id for t in result.threads] == [1, 2, 3]
    assert not result.missing
