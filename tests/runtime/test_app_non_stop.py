"""The real app in gdb's non-stop mode on real containers (docker, plain namespaces):
M attaches again in non-stop mode; with a breakpoint only worker-0 reaches, A runs every
thread and worker-0 stops there while worker-1's counter (read from /proc/PID/mem)
keeps moving; the threads pane and the status line say so; n steps worker-0 alone; H
stops every thread; esc detaches and the program runs on untraced, trap-free."""

from __future__ import annotations

import time

import pytest

from cntr_tui.app.app import CntrApp
from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.widgets.threads import ThreadsTree
from tests.runtime.test_app import SIZE, attached_debugger, wait_for
from tests.support.fake_debug import Recorder
from tests.support.frontend import Program
from tests.support.proc import wait_until


def states(screen: DebuggerScreen) -> dict[str, str]:
    return {thread.name or str(thread.id): thread.state for thread in screen.threads}


@pytest.mark.parametrize("runtime", ["docker", "process"])
async def test_non_stop_in_the_app(runtime: str, start_container) -> None:
    started = start_container(runtime)
    program = Program.of(started.pid)
    recorder = Recorder()
    app = CntrApp()
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await attached_debugger(pilot, app, started, recorder)
        await pilot.press("M")
        await wait_for(
            pilot, lambda: recorder.count(DebuggerScreen.Attached) >= 2, "attached again", 60
        )
        assert screen.non_stop_session and "non-stop" in screen.status.context
        set_up = await screen.link.ask(
            lambda engine: engine.break_insert("tick", condition="w->id == 0")
        )
        assert set_up.ok, set_up.error
        screen.source.focus()
        await pilot.press("A")
        await wait_for(
            pilot, lambda: states(screen).get("worker-0") == "stopped", "worker-0's stop", 30
        )
        worker = next(t.id for t in screen.threads if t.name == "worker-0")
        assert "breakpoint hit" in screen.status.state and f"thread {worker}" in screen.status.state
        assert "other threads running" in screen.status.state
        assert states(screen)["worker-1"] == "running"
        stood = program.counter_values()[0]
        before = program.counter_values()[1]
        assert wait_until(lambda: program.counter_values()[1] > before, 5)
        assert program.counter_values()[0] == stood
        tree = screen.query_one(ThreadsTree)
        await wait_for(
            pilot,
            lambda: (
                "running" in str(tree.thread_nodes[worker + 1].label)
                if worker + 1 in tree.thread_nodes
                else False
            ),
            "the pane's running rows",
            10,
        )
        assert "stopped" in str(tree.thread_nodes[worker].label)

        screen.thread_id = worker
        await pilot.press("n")
        await wait_for(
            pilot, lambda: "end stepping range" in screen.status.state, "the step's stop", 30
        )
        assert program.counter_values()[0] == stood + 1
        assert not program.all_stopped()

        await pilot.press("H")
        await wait_for(
            pilot, lambda: set(states(screen).values()) == {"stopped"}, "every thread", 30
        )
        assert wait_until(program.all_stopped, 10)
        await pilot.press("escape")
        await wait_for(pilot, lambda: recorder.count(DebuggerScreen.Detached), "detach", 30)
    program.assert_runs_on(set(), since=time.monotonic())
