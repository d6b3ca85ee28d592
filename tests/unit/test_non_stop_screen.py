"""The debugger in gdb's non-stop mode, on the fake engine: M attaches again in
non-stop mode, A/H continue and interrupt every thread, c/i/n act on the selected thread
only, the threads pane shows each thread's own state from the per-thread events, and
the status line says which thread stopped and why."""

from __future__ import annotations

from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.widgets.threads import ThreadsTree
from tests.support.fake_debug import TICK_LINE
from tests.unit.test_screens import (
    World,
    debugger_on_web,
    settings,
    until,
    world,
)

__all__ = ["settings", "world"]  # the fixtures, from the screens' tests


def states(screen: DebuggerScreen) -> dict[int, str]:
    return {thread.id: thread.state for thread in screen.threads}


def pane_states(screen: DebuggerScreen) -> dict[int, str]:
    """Each thread's state as its row in the threads pane says it."""
    tree = screen.query_one(ThreadsTree)
    shown = {}
    for thread_id, node in tree.thread_nodes.items():
        label = str(node.label)
        shown[thread_id] = "running" if " running " in f"{label} " else "stopped"
    return shown


async def on_thread(pilot, tree: ThreadsTree, thread_id: int) -> None:
    """The threads pane's cursor on a thread's row."""
    await until(pilot, lambda: thread_id in tree.thread_nodes, "the row")
    tree.move_cursor(tree.thread_nodes[thread_id])
    await pilot.pause()
    node = tree.cursor_node
    assert node is not None and getattr(node.data, "id", None) == thread_id


async def test_non_stop_one_thread_stops_while_the_others_run(world: World) -> None:
    engine, app, recorder, opener = world.engine, world.app, world.recorder, world.opener
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        assert not opener.targets[-1].non_stop and not screen.non_stop_session
        attached = recorder.count(DebuggerScreen.Attached)
        await pilot.press("M")  # detach, attach again in non-stop mode
        await until(pilot, lambda: recorder.count(DebuggerScreen.Attached) > attached, "again")
        assert opener.targets[-1].non_stop and screen.non_stop_session
        assert "non-stop" in screen.status.context
        assert set(states(screen).values()) == {"stopped"}

        screen.source.focus()
        screen.source.cursor_line = TICK_LINE
        await pilot.press("b")
        await until(pilot, lambda: TICK_LINE in screen.source.breakpoint_lines, "the marker")
        await pilot.press("A")  # every thread runs; worker-1 (thread 3) hits the breakpoint
        await until(
            pilot,
            lambda: states(screen).get(3) == "stopped" and screen.thread_id == 3,
            "thread 3's stop",
        )
        assert engine.called("continue_") == [(None,)]
        await until(pilot, lambda: pane_states(screen) == states(screen), "the pane")
        assert states(screen) == {1: "running", 2: "running", 3: "stopped", 4: "running"}
        assert screen.status.state.startswith("■ thread 3 stopped: breakpoint hit #1 in tick")
        assert screen.status.state.endswith("· 3 other threads running")

        await pilot.press("n")  # steps thread 3 alone
        await until(pilot, lambda: engine.called("next") == [(3,)], "next of thread 3")
        await until(pilot, lambda: states(screen).get(3) == "stopped", "its stop")
        assert states(screen)[1] == "running"

        await pilot.press("i")  # thread 3 is stopped: nothing to interrupt
        assert engine.called("interrupt") == []
        assert any("stopped already" in notice for notice in world.notices())

        # in the focused threads pane, the thread under the cursor is the one c, i, n act on
        tree = screen.query_one(ThreadsTree)
        tree.focus()
        await on_thread(pilot, tree, 2)
        await pilot.press("n")  # it runs: refused without asking gdb
        assert engine.called("next") == [(3,)]
        assert any("Thread 2 is running" in notice for notice in world.notices())
        await on_thread(pilot, tree, 2)
        await pilot.press("i")
        await until(pilot, lambda: states(screen).get(2) == "stopped", "thread 2's stop")
        assert engine.called("interrupt") == [(2,)]
        assert states(screen)[1] == "running" and states(screen)[4] == "running"

        await pilot.press("H")  # every thread
        await until(pilot, lambda: set(states(screen).values()) == {"stopped"}, "all stopped")
        assert engine.called("interrupt")[-1] == (None,)

        await on_thread(pilot, tree, 4)
        await pilot.press("c")  # thread 4 alone
        await until(pilot, lambda: states(screen).get(4) == "running", "thread 4 runs")
        assert engine.called("continue_")[-1] == (4,)
        assert screen.status.state == "▶ thread 4 running · stopped: 1, 2, 3"
        await until(pilot, lambda: pane_states(screen) == states(screen), "the pane")


async def test_switching_mode_sets_plain_breakpoints_again_and_names_the_others(
    world: World,
) -> None:
    engine, app, recorder = world.engine, world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        assert (await engine.break_insert(f"threads.c:{TICK_LINE}")).ok
        conditional = await engine.break_insert(
            f"threads.c:{TICK_LINE + 1}", condition="w->id == 0"
        )
        screen.refresh_breakpoints()
        await until(pilot, lambda: len(screen.breakpoints) == 2, "both breakpoints listed")
        before = len(engine.called("break_insert"))
        attached = recorder.count(DebuggerScreen.Attached)
        await pilot.press("M")
        await until(pilot, lambda: recorder.count(DebuggerScreen.Attached) > attached, "again")
        await until(pilot, lambda: len(engine.called("break_insert")) > before, "set again")
        # set again plain, the conditional one would stop at every hit: it is named instead
        assert engine.called("break_insert")[before:] == [(f"threads.c:{TICK_LINE}",)]
        number = conditional.unwrap().number
        assert any(
            "Not set again in the other mode" in notice and f"{number} (breakpoint)" in notice
            for notice in world.notices()
        ), world.notices()
