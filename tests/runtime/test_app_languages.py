"""The app's debugger on a real docker container running the demo Python service
(demo/programs/service.py), real gdb and py-spy: after the attach's stop the threads
pane shows each thread's Python frames in place of the interpreter's loop, the source
pane the container's .py file at the innermost Python line, the locals pane its reprs;
after a continue and an interrupt they are read again; the program runs on untraced
once the debugger is left."""

from __future__ import annotations

import os

from cntr_tui.app.app import CntrApp
from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.demo.python_root import SERVICE, build_python_root
from cntr_tui.languages.records import LanguageFrame
from cntr_tui.widgets.locals import LocalsTree
from cntr_tui.widgets.threads import ThreadsTree
from tests.runtime.test_app import SIZE, attached_debugger, wait_for
from tests.support.fake_debug import Recorder
from tests.support.proc import running, tracer_of, wait_until

THREADING = "/opt/svc/lib/python3.11/threading.py"


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
