"""gdb's scheduler-locking `step` mode through the debug service (issue 14), on real
containers (docker and plain namespaces), all-stop mode: worker-0 is stepped with `next`
through its loop (each pass sleeps 100 ms on line 48) while a breakpoint waits for
worker-1 in `tick`, which it reaches every ~100 ms when it runs.

With scheduler-locking step on, 12 nexts of worker-0 (over at least 3 of its sleeps) all
end in worker-0 and worker-1's counter (read through /proc/PID/mem, not through gdb)
does not move: worker-1 did not run during the steps. Turned off, the next nexts are
interrupted by worker-1's breakpoint within 40 of them (each runs every thread for
~100 ms). After the detach the program is untraced, with no trap in its code.
"""

from __future__ import annotations

import contextlib
import time

import pytest

from cntr_tui.debug.service import open_debug
from cntr_tui.debug.target import find_target
from cntr_tui.gdb.events import Stopped
from tests.runtime.test_non_stop import Events
from tests.support.frontend import Program
from tests.support.runtimes import word_for

LOCKED_NEXTS = 12
UNLOCKED_NEXTS = 40  # worker-1 ticks every ~100 ms; a next over line 48 lasts 100 ms
LOOP_LINE = 46  # worker_main's `while`, after the nanosleep of line 48


@pytest.mark.parametrize("runtime", ["docker", "process"])
async def test_a_locked_next_is_not_interrupted_by_another_threads_breakpoint(
    runtime: str, start_container
):
    container = start_container(runtime)
    program = Program.of(container.pid)
    word = word_for(container)
    session = await open_debug(find_target(word, None, None))
    engine = session.engine
    events = Events(engine)
    traps: set[int] = set()
    try:
        assert not session.non_stop
        first = (await engine.break_insert("tick", condition="w->id == 0")).unwrap()
        assert (await engine.continue_()).ok
        stop = await events.wait(
            lambda e: isinstance(e, Stopped) and e.breakpoint_number == first.number
        )
        assert isinstance(stop, Stopped) and stop.thread_id is not None
        worker = stop.thread_id
        named = {thread.id: thread.name for thread in (await engine.threads()).unwrap()}
        assert named[worker] == "worker-0"
        assert (await engine.break_delete(first.number)).ok
        other = (await engine.break_insert("tick", condition="w->id == 1")).unwrap()
        if other.address is not None:
            traps.add(other.address)

        assert (await engine.set_scheduler_locking("step")).ok
        shown = (await engine.cli("show scheduler-locking")).unwrap()
        assert '"step"' in shown, shown
        counted = program.counter_values()[1]
        lines = []
        for _ in range(LOCKED_NEXTS):
            assert (await engine.next(worker)).ok
            stepped = await events.wait(lambda e: isinstance(e, Stopped))
            assert isinstance(stepped, Stopped)
            assert (stepped.thread_id, stepped.reason) == (worker, "end-stepping-range"), stepped
            assert stepped.frame is not None
            lines.append(stepped.frame.line)
        # each next from line 48 slept 100 ms and ended on the loop's line 46
        assert lines.count(LOOP_LINE) >= 3, lines
        assert program.counter_values()[1] == counted  # worker-1 did not run

        assert (await engine.set_scheduler_locking("off")).ok
        interrupted = None
        for _ in range(UNLOCKED_NEXTS):
            assert (await engine.next(worker)).ok
            stepped = await events.wait(lambda e: isinstance(e, Stopped))
            assert isinstance(stepped, Stopped)
            if stepped.thread_id != worker:
                interrupted = stepped
                break
            assert stepped.reason == "end-stepping-range", stepped
        assert interrupted is not None, f"{UNLOCKED_NEXTS} nexts, no stop in worker-1"
        assert interrupted.reason == "breakpoint-hit"
        assert interrupted.breakpoint_number == other.number
        assert named[interrupted.thread_id or 0] == "worker-1"
    finally:
        events.close()
        with contextlib.suppress(Exception):
            await session.close()
    program.assert_runs_on(traps, since=time.monotonic())
