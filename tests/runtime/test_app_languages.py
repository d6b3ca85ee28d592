"""The app's debugger on real containers and gdb: a docker container running the demo
Python service (demo/programs/service.py) with py-spy: after the attach's stop the
threads pane shows each thread's Python frames in place of the interpreter's loop, the
source pane the container's .py file at the innermost Python line, the locals pane its
reprs; after a continue and an interrupt they are read again. A plain-namespace Go
program (demo/programs/goroutines.go): its goroutines after the threads, one opened to
its stack and its frame's source line. The programs run on untraced once the debugger
is left."""

from __future__ import annotations

import os
from pathlib import Path

from cntr_tui.app.app import CntrApp
from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.app.screens.snapshot import SnapshotScreen
from cntr_tui.demo.go_root import PROGRAM as GO_PROGRAM
from cntr_tui.demo.go_root import build_go_root
from cntr_tui.demo.python_root import SERVICE, build_python_root
from cntr_tui.languages.records import LanguageFrame
from cntr_tui.widgets.locals import LocalsTree
from cntr_tui.widgets.threads import ThreadsTree
from tests.runtime.test_app import SIZE, attached_debugger, select, wait_for
from tests.support.fake_debug import Recorder
from tests.support.proc import running, tracer_of, wait_until

THREADING = "/opt/svc/lib/python3.11/threading.py"
SERVICE_SOURCE = Path(__file__).parents[2] / "cntr_tui" / "demo" / "programs" / "service.py"


def python_functions(tree: ThreadsTree, thread_id: int) -> list[str]:
    return [
        node.data.function
        for node in tree.thread_nodes[thread_id].children
        if isinstance(node.data, LanguageFrame)
    ]


async def test_python_frames_source_and_locals_after_each_stop(start_container) -> None:
    started = start_container("docker", program=SERVICE, root=build_python_root())
    assert wait_until(lambda: len(os.listdir(f"/proc/{started.pid}/task")) == 5)
    recorder = Recorder()
    app = CntrApp()
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await attached_debugger(pilot, app, started, recorder)
        assert isinstance(screen, DebuggerScreen)
        tree = screen.query_one(ThreadsTree)
        await wait_for(pilot, lambda: screen.language.thread(1) is not None, "py-spy's read", 20)
        top = screen.language.thread(1).frames[0]  # main's innermost: Condition.wait
        assert (top.function, top.file) == ("Condition.wait", THREADING)
        await wait_for(pilot, lambda: screen.source.path == THREADING, "threading.py", 20)
        assert screen.source.current_line == top.line
        # the container's file, read through the merged root: the line py-spy names
        shown = screen.source.source
        assert shown is not None and shown.text is not None
        with open(f"/proc/{started.pid}/root{THREADING}") as file:
            assert shown.text.splitlines()[top.line - 1] == file.read().splitlines()[top.line - 1]
        main = next(t for t in screen.threads if t.lwp == 1)
        assert screen.thread_id == main.id
        assert python_functions(tree, main.id) == [
            "Condition.wait",
            "Event.wait",
            "wait_for_shutdown",
            "main",
            "<module>",
        ]
        locals_tree = screen.query_one(LocalsTree)
        assert "self" in locals_tree.names  # Condition.wait's, as py-spy's reprs

        refreshed = recorder.count(DebuggerScreen.Refreshed)
        await pilot.press("c")
        await wait_for(pilot, lambda: screen.running, "running", 10)
        await pilot.press("i")
        await wait_for(
            pilot,
            lambda: recorder.count(DebuggerScreen.Refreshed) > refreshed and not screen.running,
            "the stop after the interrupt",
            30,
        )
        crunch = next(
            t for t in screen.language.threads if "crunch" in [f.function for f in t.frames]
        )
        thread = next(t for t in screen.threads if t.lwp == crunch.lwp)
        tree.thread_nodes[thread.id].expand()
        await wait_for(pilot, lambda: python_functions(tree, thread.id), "crunch's stack", 10)
        assert python_functions(tree, thread.id)[-4:] == [
            "crunch",
            "Thread.run",
            "Thread._bootstrap_inner",
            "Thread._bootstrap",
        ]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DebuggerScreen), "left", 30)
    assert wait_until(lambda: tracer_of(started.pid) == 0) and running(started.pid)


async def test_goroutines_listed_and_one_opens_to_its_source(start_container) -> None:
    started = start_container("process", program=GO_PROGRAM, root=build_go_root())
    recorder = Recorder()
    app = CntrApp()
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await attached_debugger(pilot, app, started, recorder)
        tree = screen.query_one(ThreadsTree)
        await wait_for(pilot, lambda: tree.goroutine_nodes, "the goroutines", 30)
        waiting = next(g for g in screen.language.goroutines if g.function == "main.waitForOrders")
        assert (waiting.state, waiting.wait_reason) == ("waiting", "chan receive")
        node = tree.goroutine_nodes[waiting.id]
        node.expand()
        await wait_for(pilot, lambda: len(node.children) > 1, "its stack", 30)
        await pilot.pause()  # the new rows get their lines at the next refresh
        own = next(c for c in node.children if c.data.function == "main.waitForOrders")
        assert own.data.line == waiting.line
        tree.move_cursor(own)
        tree.action_select_cursor()
        # main's own frame (main.main) is in goroutines.go too: wait for the chosen line
        await wait_for(pilot, lambda: screen.source.current_line == waiting.line, "its line", 20)
        assert (screen.source.path or "").endswith("/goroutines.go")
        shown = screen.source.source
        assert shown is not None and shown.text is not None
        assert "range orders" in shown.text.splitlines()[waiting.line - 1]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DebuggerScreen), "left", 30)
    assert wait_until(lambda: tracer_of(started.pid) == 0) and running(started.pid)


async def test_s_on_the_list_shows_a_snapshot_with_python_frames(start_container) -> None:
    started = start_container("docker", program=SERVICE, root=build_python_root())
    assert wait_until(lambda: len(os.listdir(f"/proc/{started.pid}/task")) == 5)
    app = CntrApp()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, started)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SnapshotScreen), "the screen", 10)
        screen = app.screen
        assert isinstance(screen, SnapshotScreen)
        await wait_for(pilot, lambda: screen.taken == 1, "the snapshot", 60)
        lines = screen.lines
        assert lines[0].startswith(f"docker {started.name}, process 1 (host PID {started.pid}): ")
        assert "stopped for" in lines[0] and lines[0].endswith("running again untraced")
        recv = SERVICE_SOURCE.read_text().splitlines()
        line = next(n for n, text in enumerate(recv, 1) if "recv(1)" in text)
        assert f"  py  read_request at /app/service.py:{line}" in lines
        assert any("python read_request: connection = <socket" in x for x in lines)  # locals
        await pilot.press("escape")
    assert wait_until(lambda: tracer_of(started.pid) == 0) and running(started.pid)
