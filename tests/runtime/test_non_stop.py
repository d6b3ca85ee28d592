"""gdb's non-stop mode on real containers (docker and plain namespaces), through the
debug service and through `cntr-tui gdb --non-stop --batch`: one worker thread stops at
a breakpoint, is inspected and stepped, while another worker's counter (read through
/proc/PID/mem, not through gdb) keeps moving; then it runs on, and the detach leaves
the program untraced with no trap in its code (Program.assert_runs_on).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import subprocess
import time
from collections.abc import Callable

import pytest

from cntr_tui.debug.protocol import DebugEngine
from cntr_tui.debug.service import open_debug
from cntr_tui.debug.target import find_target
from cntr_tui.gdb.events import Event, Stopped
from cntr_tui.gdb.records import Thread
from tests.support.cli import CNTR_TUI
from tests.support.frontend import Program
from tests.support.proc import wait_until
from tests.support.runtimes import word_for

WORKER_0 = "w->id == 0"  # the breakpoint's condition: only worker-0 stops at tick


class Events:
    """Every event of an engine from now on, kept in order."""

    def __init__(self, engine: DebugEngine) -> None:
        self.seen: list[Event] = []
        self._changed = asyncio.Event()
        self._task = asyncio.ensure_future(self._follow(engine))

    async def _follow(self, engine: DebugEngine) -> None:
        async for event in engine.events():
            self.seen.append(event)
            self._changed.set()

    async def wait(self, wanted: Callable[[Event], bool], timeout: float = 30) -> Event:
        """The first event kept that is `wanted` (taken out: a later wait looks on)."""

        async def find() -> Event:
            while True:
                for event in self.seen:
                    if wanted(event):
                        self.seen.remove(event)
                        return event
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(find(), timeout)

    def close(self) -> None:
        self._task.cancel()


def states(threads: list[Thread]) -> dict[str, str]:
    return {thread.name or str(thread.id): thread.state for thread in threads}


def moves(read: Callable[[], int]) -> bool:
    before = read()
    return wait_until(lambda: read() > before, 5)


@pytest.mark.parametrize("runtime", ["docker", "process"])
async def test_one_thread_stopped_at_a_breakpoint_while_another_counts(
    runtime: str, start_container
):
    container = start_container(runtime)
    program = Program.of(container.pid)
    word = word_for(container)
    target = dataclasses.replace(find_target(word, None, None), non_stop=True)
    session = await open_debug(target)
    events = Events(session.engine)
    engine = session.engine
    try:
        assert session.non_stop
        threads = (await engine.threads()).unwrap()
        assert set(states(threads).values()) == {"stopped"}, states(threads)  # attached
        hit = (await engine.break_insert("tick", condition=WORKER_0)).unwrap()
        assert (await engine.continue_()).ok  # every thread
        stop = await events.wait(
            lambda e: isinstance(e, Stopped) and e.breakpoint_number == hit.number
        )
        assert isinstance(stop, Stopped) and not stop.all_threads
        worker = stop.thread_id
        assert worker is not None
        threads = (await engine.threads()).unwrap()
        named = {thread.id: thread.name for thread in threads}
        assert named[worker] == "worker-0"
        assert states(threads) == {
            "threads": "running",
            "worker-0": "stopped",
            "worker-1": "running",
            "worker-2": "running",
        }
        # while worker-0 stays where it stopped, worker-1 counts on (read from /proc)
        stopped_count = program.counter_values()[0]
        assert moves(lambda: program.counter_values()[1]), program.thread_states()
        assert program.counter_values()[0] == stopped_count
        # it is inspected and stepped, alone
        frames = (await engine.backtrace(worker)).unwrap()
        assert [frame.function for frame in frames[:2]] == ["tick", "worker_main"]
        assert (await engine.evaluate("w->id", worker, 0)).unwrap() == "0"
        assert (await engine.next(worker)).ok
        stepped = await events.wait(lambda e: isinstance(e, Stopped) and e.thread_id == worker)
        assert isinstance(stepped, Stopped) and stepped.reason == "end-stepping-range"
        assert stepped.frame is not None and stepped.frame.line == 39
        assert program.counter_values()[0] == stopped_count + 1  # its line 38 ran
        assert moves(lambda: program.counter_values()[2])
        # interrupt every thread, then resume them all; then one alone
        assert (await engine.interrupt()).ok
        assert wait_until(program.all_stopped, 10), program.thread_states()
        assert (await engine.break_delete(hit.number)).ok
        assert (await engine.continue_()).ok
        assert moves(lambda: program.counter_values()[0])
        assert (await engine.interrupt(worker)).ok
        threads = (await engine.threads()).unwrap()
        assert states(threads)["worker-0"] == "stopped"
        assert states(threads)["worker-1"] == "running"
        assert (await engine.continue_(worker)).ok
        assert moves(lambda: program.counter_values()[0])
    finally:
        events.close()
        with contextlib.suppress(Exception):
            await session.close()
    program.assert_runs_on(set(), since=time.monotonic())


BATCH = (
    "break tick if w->id == 0",
    "continue -a",  # waits for worker-0's stop, which becomes the current thread
    "info threads",
    "print w->iterations",
    "print workers[1].iterations",
    "shell sleep 0.5",
    "print workers[1].iterations",
    "print w->iterations",
    "next",
    "delete",
    "continue -a &",
    "info threads",  # the program runs: no wait for a stop (it would last for ever)
)
VALUE = re.compile(r"^\$(\d+) = (\d+)$", re.MULTILINE)


@pytest.mark.parametrize("runtime", ["docker", "process"])
def test_batch_non_stop_on_a_container(runtime: str, start_container):
    container = start_container(runtime)
    program = Program.of(container.pid)
    word = word_for(container)
    arguments = [arg for command in BATCH for arg in ("-ex", command)]
    done = subprocess.run(
        [*CNTR_TUI, "gdb", "--non-stop", word, "--batch", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    out = done.stdout
    assert 'Thread 2 "worker-0" hit Breakpoint 1, tick' in out, out
    listed, after = out.split("  Id   Target Id", 2)[1:]
    rows = {line.split('"')[1]: line for line in listed.splitlines() if '"' in line}
    assert rows["worker-0"].startswith("* 2") and "tick (w=" in rows["worker-0"], listed
    assert all(rows[name].endswith("(running)") for name in ("threads", "worker-1", "worker-2"))
    values = [int(value) for _number, value in VALUE.findall(out)]
    assert len(values) == 4, out
    stopped_before, other_before, other_after, stopped_after = values
    assert other_after > other_before  # worker-1 counted on while worker-0 stood
    assert stopped_after == stopped_before
    assert "39\t    w->total += compute_step" in out  # next stepped worker-0 alone
    assert after.count("(running)") == 4, after
    program.assert_runs_on(set(), since=time.monotonic())


def test_non_stop_with_a_core_is_one_line(tmp_path):
    done = subprocess.run(
        [*CNTR_TUI, "gdb", "--non-stop", "--core", str(tmp_path / "core"), "--batch"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode != 0
    assert done.stderr.splitlines() == [
        "cntr-tui: --core opens a kept core: give it no CONTAINER, --pid or --non-stop"
    ], done.stderr
    assert not list(tmp_path.iterdir())
