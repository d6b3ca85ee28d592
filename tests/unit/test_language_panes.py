"""The debugger screen with language frames, on the fake session (no root, no gdb): a
Python program's frames in its threads' stacks with their .py source and locals, a Go
program's goroutines opened to their stacks, and the one line when frames are missing.
The same reading runs on real containers in tests/runtime/test_python_stacks.py and
tests/runtime/test_go_goroutines.py."""

from __future__ import annotations

from pathlib import Path

from cntr_tui.gdb.records import Frame
from cntr_tui.languages.records import (
    Goroutine,
    LanguageFrame,
    LanguageStacks,
    LanguageThread,
    LanguageVariable,
)
from cntr_tui.widgets.gdb_console import GdbConsole
from cntr_tui.widgets.locals import LocalsTree
from cntr_tui.widgets.threads import ThreadsTree
from tests.support.fake_debug import LIBC
from tests.unit.test_screens import World, debugger_on_web, settings, until, world

__all__ = ["settings", "world"]  # the fixtures, from the screens' tests

SERVICE = Path(__file__).parents[2] / "cntr_tui" / "demo" / "programs" / "service.py"
SERVICE_PATH = "/app/service.py"
PYTHON = "/opt/svc/bin/python3"
GO_SOURCE = "/src/goroutines.go"


def service_line(needle: str) -> int:
    lines = SERVICE.read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if needle in line)


RECV_LINE, SERVE_LINE = service_line("recv(1)"), service_line("read_request(ours)")
# main (LWP 1) blocked in recv, under the eval loop that runs two Python frames
NATIVE_MAIN = (
    Frame(0, 0x7F3A10E7, "__libc_recv", library=LIBC),
    Frame(1, 0x4F0001, "_PyObject_MakeTpCall", library=PYTHON),
    Frame(2, 0x4F0002, "_PyEval_EvalFrameDefault", library=PYTHON),
    Frame(3, 0x4F0003, "Py_RunMain", library=PYTHON),
)
PYTHON_MAIN = LanguageThread(
    4242,
    1,
    "MainThread",
    (
        LanguageFrame(
            "read_request",
            SERVICE_PATH,
            RECV_LINE,
            locals=(LanguageVariable("connection", "<socket at 0x7f1>", True),),
        ),
        LanguageFrame(
            "serve_forever",
            SERVICE_PATH,
            SERVE_LINE,
            entry=True,
            locals=(LanguageVariable("ours", "<socket at 0x7f2>"),),
        ),
    ),
)


def python_world(world: World) -> World:
    session = world.opener.session
    world.engine.stacks[1] = NATIVE_MAIN
    session.sources[SERVICE_PATH] = SERVICE.read_text()
    session.language = LanguageStacks("python", "3.11", (PYTHON_MAIN,), reader="py-spy 0.4.3")
    return world


def labels(tree: ThreadsTree, thread_id: int) -> list[str]:
    return [str(node.label) for node in tree.thread_nodes[thread_id].children]


async def test_python_frames_stand_in_the_stack_and_the_innermost_is_shown(world: World) -> None:
    python_world(world)
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, world.app, world.recorder)
        tree = screen.query_one(ThreadsTree)
        await until(pilot, lambda: screen.source.path == SERVICE_PATH, "the .py source")
        assert screen.source.current_line == RECV_LINE
        assert screen.query_one(LocalsTree).names == ["connection"]
        assert world.opener.session.language_asks == [True]
        assert labels(tree, 1) == [
            "#0 __libc_recv  " + NATIVE_MAIN[0].location,
            "… 1 interpreter frame",
            f"py read_request  service.py:{RECV_LINE}",
            f"py serve_forever  service.py:{SERVE_LINE}",
            "#3 Py_RunMain  " + NATIVE_MAIN[3].location,
        ]
        assert "MainThread" in str(tree.thread_nodes[1].label)
        assert f"py read_request service.py:{RECV_LINE}" in str(tree.thread_nodes[1].label)

        serve = next(
            node
            for node in tree.thread_nodes[1].children
            if isinstance(node.data, LanguageFrame) and node.data.function == "serve_forever"
        )
        tree.move_cursor(serve)
        tree.action_select_cursor()
        await until(pilot, lambda: screen.source.current_line == SERVE_LINE, "serve_forever")
        assert screen.query_one(LocalsTree).names == ["ours"]
        # gdb's own frame stays where it was: no frame was selected in gdb for it
        assert all(args[0] != 2 for args in world.engine.called("select_frame"))


async def test_goroutines_follow_the_threads_and_open_to_their_stacks(world: World) -> None:
    session = world.opener.session
    session.sources[GO_SOURCE] = "package main\n" + "\n" * 28 + "func waitForOrders() {}\n"
    session.language = LanguageStacks(
        "go",
        "go1.19.8",
        goroutines=(
            Goroutine(1, "waiting", "select", "main.main", GO_SOURCE, 60),
            Goroutine(18, "waiting", "chan receive", "main.waitForOrders", GO_SOURCE, 30),
        ),
    )
    session.goroutine_stacks[18] = (
        Frame(0, 0x43A1B6, "runtime.gopark", "proc.go", "/usr/lib/go-1.19/src/proc.go", 363),
        Frame(1, 0x47E2C5, "main.waitForOrders", "goroutines.go", GO_SOURCE, 30),
    )
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, world.app, world.recorder)
        tree = screen.query_one(ThreadsTree)
        await until(pilot, lambda: len(tree.goroutine_nodes) == 2, "the goroutines")
        node = tree.goroutine_nodes[18]
        assert "g18" in str(node.label) and "waiting (chan receive)" in str(node.label)
        assert "main.waitForOrders goroutines.go:30" in str(node.label)
        node.expand()
        await until(pilot, lambda: len(node.children) == 2, "goroutine 18's stack")
        frame = node.children[1]
        assert str(frame.label).startswith("#1 main.waitForOrders")
        await pilot.pause()  # the new rows get their lines at the next refresh
        tree.move_cursor(frame)
        tree.action_select_cursor()
        await until(pilot, lambda: screen.source.path == GO_SOURCE, "its source")
        assert screen.source.current_line == 30
        gone = tree.goroutine_nodes[1]
        gone.expand()
        await until(pilot, lambda: len(gone.children) == 1, "the error")
        assert "no goroutine 1" in str(gone.children[0].label)


async def test_missing_language_frames_are_said_once_in_the_console(world: World) -> None:
    missing = "Python frames missing: py-spy 0.4.3: Unsupported version of Python: 3.99.0"
    world.opener.session.language = LanguageStacks("python", missing=missing)
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, world.app, world.recorder)
        console = screen.query_one(GdbConsole)
        texts = lambda: [line.text for line in console.log_view.lines]  # noqa: E731
        await until(pilot, lambda: missing in texts(), "the missing line")
        assert texts().count(missing) == 1
        # the native stack is shown as without a language
        assert screen.source.current_line is not None and screen.frame_level == 1
