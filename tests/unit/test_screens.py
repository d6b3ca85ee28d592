"""Every screen driven by Pilot on the fake engine (tests/support/fake_debug.py): no root, no
containers, no gdb; seconds. The same screens run on real containers and gdb in
tests/runtime/test_app.py.

Waits are on widget contents and app messages with deadlines, never on fixed sleeps.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
import typing
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from cntr_tui.app.app import CntrApp
from cntr_tui.app.bindings import binding_groups
from cntr_tui.app.listing import ListingResult
from cntr_tui.app.screens import files as files_screen
from cntr_tui.app.screens.containers import ContainersScreen
from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.app.screens.error import ErrorDialog
from cntr_tui.app.screens.files import FilesScreen
from cntr_tui.app.screens.help import HelpScreen
from cntr_tui.attach.container import Container
from cntr_tui.debug.protocol import DebugEngine, DebugOpener, DebugSession, DebugUnavailable
from cntr_tui.fs.view import FileEntry
from cntr_tui.gdb.events import SessionEnded
from cntr_tui.settings import Settings
from cntr_tui.widgets.breakpoints import BreakpointsTable
from cntr_tui.widgets.container_table import ContainerTable
from cntr_tui.widgets.gdb_console import GdbConsole
from cntr_tui.widgets.locals import LocalsTree
from cntr_tui.widgets.mount_view import MountTable
from cntr_tui.widgets.source_view import SourceView
from cntr_tui.widgets.symbols import SymbolsTable
from cntr_tui.widgets.threads import ThreadsTree
from tests.support.fake_debug import (
    MAIN_LINE,
    MOUNTS,
    SOURCE_PATH,
    THREADS_C,
    TICK_LINE,
    FakeEngine,
    FakeOpener,
    FakeSession,
    Recorder,
    line_of,
    protocol_members,
)

SIZE = (160, 48)
DEADLINE = 5.0
# the fake's containers are this process: what the UI reads of them (the details' /proc
# facts, the target's PID in its namespace) exists without root
WEB = Container(
    runtime="docker",
    id="3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d",
    name="web",
    pid=os.getpid(),
    image="nginx:1.27",
    command="nginx -g daemon off;",
)
CACHE = Container(
    runtime="podman", id="9b8a7f6e5d4c3b2a", name="cache", pid=os.getpid(), image="redis:7"
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """No user keymap: the bindings are the registry's."""
    return Settings(keymap_file=str(tmp_path / "keymap.toml"))


@pytest.fixture
def no_attach_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """The file browser falls back to the view built from the host, as without root."""

    def refuse(container: Container) -> typing.NoReturn:
        raise RuntimeError("no attach session in these tests")

    monkeypatch.setattr(files_screen, "open_session", refuse)


def app_on(opener: DebugOpener, settings: Settings) -> CntrApp:
    return CntrApp(
        lister=lambda: ListingResult(containers=(WEB, CACHE)), opener=opener, settings=settings
    )


@dataclass
class World:
    """The app on the fake: its opener, the engine behind it, the messages sent."""

    opener: FakeOpener
    app: CntrApp
    recorder: Recorder = field(default_factory=Recorder)

    @property
    def engine(self) -> FakeEngine:
        return self.opener.session.fake_engine

    def run(self) -> AbstractAsyncContextManager[Pilot[None]]:
        return self.app.run_test(size=SIZE, message_hook=self.recorder, notifications=True)

    def notices(self) -> list[str]:
        return [notification.message for notification in self.app._notifications]


@pytest.fixture
def world(settings: Settings) -> World:
    opener = FakeOpener()
    return World(opener, app_on(opener, settings))


async def until(
    pilot: Pilot[None], condition: Callable[[], object], what: str, deadline: float = DEADLINE
) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            stack = [type(screen).__name__ for screen in pilot.app.screen_stack]
            pytest.fail(f"timed out after {deadline:.0f}s waiting for {what} (screens: {stack})")
        await pilot.pause(0.02)


def containers_of(app: CntrApp) -> ContainersScreen:
    return next(s for s in app.screen_stack if isinstance(s, ContainersScreen))


async def select_web(pilot: Pilot[None], app: CntrApp) -> None:
    table = containers_of(app).query_one(ContainerTable)
    await until(pilot, lambda: WEB in table.containers.values(), "the listing")
    table.select_container(WEB.key)
    await until(pilot, lambda: table.selected == WEB, "web selected")


async def debugger_on_web(pilot: Pilot[None], app: CntrApp, recorder: Recorder) -> DebuggerScreen:
    await select_web(pilot, app)
    await pilot.press("g")
    await until(pilot, lambda: recorder.count(DebuggerScreen.Attached), "the attach")
    screen = app.screen
    assert isinstance(screen, DebuggerScreen)
    return screen


async def stopped_after(
    pilot: Pilot[None], screen: DebuggerScreen, recorder: Recorder, key: str
) -> None:
    """`key` resumes or stops the program; wait for the panes after its stop."""
    refreshed = recorder.count(DebuggerScreen.Refreshed)
    await pilot.press(key)
    await until(
        pilot,
        lambda: recorder.count(DebuggerScreen.Refreshed) > refreshed and not screen.running,
        f"the stop after {key}",
    )


async def stopped_in_tick(pilot: Pilot[None], screen: DebuggerScreen, recorder: Recorder) -> None:
    screen.source.focus()
    screen.source.cursor_line = TICK_LINE
    await pilot.press("b")
    await until(pilot, lambda: TICK_LINE in screen.source.breakpoint_lines, "the marker")
    await stopped_after(pilot, screen, recorder, "c")


# --- the fake satisfies the seam ------------------------------------------------------


def mismatches(fake: type, protocol: type) -> list[str]:
    """Each member of `protocol` the fake lacks or declares differently."""
    found: list[str] = []
    for name in protocol_members(protocol):
        declared = inspect.getattr_static(protocol, name)
        actual = inspect.getattr_static(fake, name, None)
        if actual is None:
            found.append(f"{name}: missing")
        elif isinstance(declared, property):
            if not isinstance(actual, property):
                found.append(f"{name}: not a property")
            elif actual.fget is None or declared.fget is None:
                found.append(f"{name}: a property without a getter")
            elif inspect.signature(actual.fget) != inspect.signature(declared.fget):
                found.append(f"{name}: {inspect.signature(actual.fget)}")
        elif not callable(actual):
            found.append(f"{name}: not a method")
        elif inspect.iscoroutinefunction(actual) != inspect.iscoroutinefunction(declared):
            found.append(f"{name}: async where the seam is not, or not where it is")
        elif inspect.signature(actual) != inspect.signature(declared):
            found.append(f"{name}: {inspect.signature(actual)} != {inspect.signature(declared)}")
    return found


def test_the_fakes_satisfy_the_seam_member_by_member() -> None:
    assert protocol_members(DebugEngine) and protocol_members(DebugSession)
    assert mismatches(FakeEngine, DebugEngine) == []
    assert mismatches(FakeSession, DebugSession) == []
    assert len(typing.get_args(DebugOpener)[0]) == 2  # (target, progress)
    parameters = list(inspect.signature(FakeOpener.__call__).parameters)
    assert parameters == ["self", "target", "progress"]
    assert inspect.iscoroutinefunction(FakeOpener.__call__)

    class Drifted(FakeEngine):
        async def next(self, thread: int | None = None) -> None:  # type: ignore[override]
            return None

    assert mismatches(Drifted, DebugEngine) == [
        "next: (self, thread: 'int | None' = None) -> 'None' != "
        "(self, thread_id: 'int | None' = None) -> 'Result[None]'"
    ]


# --- the container list -----------------------------------------------------------------


async def test_the_list_shows_what_the_lister_finds(world: World) -> None:
    app = world.app
    async with world.run() as pilot:
        screen = containers_of(app)
        await until(pilot, lambda: screen.listed_once, "the listing")
        assert sorted(c.name for c in screen.table.containers.values()) == ["cache", "web"]
        assert screen.status.state == "2 containers"
        await pilot.press("slash", *"redis", "enter")
        await until(pilot, lambda: len(screen.table.visible_keys) == 1, "one row left")
        assert screen.table.selected == CACHE


# --- the debugger ---------------------------------------------------------------------


async def test_g_opens_the_debugger_on_the_session_the_opener_gives(world: World) -> None:
    opener, engine, app, recorder = world.opener, world.engine, world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        [target] = opener.targets
        assert (target.host_pid, target.container, target.label) == (WEB.pid, WEB, "docker web")
        assert screen.query_one(ThreadsTree).thread_count() == 4
        assert [thread.name for thread in screen.threads][:2] == ["threads", "worker-0"]
        # main waits in libc: the innermost frame with source is main's (level 1)
        assert screen.frame_level == 1
        assert screen.source.path == SOURCE_PATH
        assert screen.source.current_line == MAIN_LINE
        assert screen.query_one(LocalsTree).names == ["stopping"]
        assert screen.status.state == "■ stopped (attached)"
        assert f"PID {target.namespace_pid} · attach session (fake)" in screen.status.context
        mounts = screen.query_one(MountTable)
        await until(pilot, lambda: mounts.row_count == len(MOUNTS), "mounts")
        assert mounts.mount_points == sorted(mount.mount_point for mount in MOUNTS)
        assert mounts.get_row_at(3) == ["/var/lib/cntr/data", "volume", "ext4", "/dev/sda1"]
        assert engine.called("backtrace") == [(1,)]
        assert engine.called("variables") == [(1, 1)]
        symbols = screen.query_one(SymbolsTable)
        await until(pilot, lambda: symbols.row_count == 1, "the symbol report")
        assert symbols.get_row_at(0) == [SOURCE_PATH, "ab12cd34ef56", "debug-info", "embedded", "-"]


async def test_what_the_session_notes_is_told_after_the_attach(world: World) -> None:
    note = "gdbserver could not be used (it exited): gdb traces the process itself"
    world.opener.session.session_notes = (note,)
    async with world.run() as pilot:
        await debugger_on_web(pilot, world.app, world.recorder)
        await until(pilot, lambda: note in world.notices(), "the note")


async def test_c_n_s_f_i_call_the_engine_and_the_status_follows_its_events(
    world: World,
) -> None:
    engine, app, recorder = world.engine, world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        await pilot.press("c")
        await until(pilot, lambda: screen.running, "running")
        assert screen.status.state == "▶ running"
        assert screen.source.current_line is None
        assert engine.called("continue_") == [(None,)]

        await pilot.press("n")  # refused while running, without asking gdb
        assert engine.called("next") == []
        assert any("interrupt it first" in notice for notice in world.notices())

        await stopped_after(pilot, screen, recorder, "i")
        assert engine.called("interrupt") == [(None,)]
        assert screen.status.state.startswith("■ thread 1 stopped: signal received (SIGINT) in ")

        for key, method, said in (
            ("n", "next", "■ thread 1 stopped: end stepping range in clock_nanosleep"),
            ("s", "step", "■ thread 1 stopped: end stepping range in clock_nanosleep"),
            ("f", "finish", "■ thread 1 stopped: function finished in clock_nanosleep"),
        ):
            await stopped_after(pilot, screen, recorder, key)
            assert engine.called(method) == [(None,)], key
            assert screen.status.state.startswith(said), key


async def test_b_toggles_a_breakpoint_at_the_cursor_and_c_stops_there(world: World) -> None:
    engine, app, recorder = world.engine, world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        await stopped_in_tick(pilot, screen, recorder)
        # the file name as the debug info records it (the frame's), not the full path
        assert engine.called("break_insert") == [(f"threads.c:{TICK_LINE}",)]
        assert [bp.line for bp in screen.query_one(BreakpointsTable).breakpoints] == [TICK_LINE]
        assert (
            screen.status.state
            == f"■ thread 3 stopped: breakpoint hit #1 in tick at threads.c:{TICK_LINE}"
        )
        assert screen.thread_id == 3
        assert screen.source.current_line == TICK_LINE
        assert screen.query_one(LocalsTree).names == ["w"]

        # expanding the pointer asks gdb for what it points to
        locals_tree = screen.query_one(LocalsTree)
        pointer = next(n for n in locals_tree.root.children if n.data and n.data.name == "w")
        pointer.expand()
        await until(pilot, lambda: engine.called("evaluate"), "the evaluation of *w")
        assert engine.called("evaluate") == [("*(w)", 3, 0)]
        await until(pilot, lambda: pointer.children, "the fields of *w")

        screen.source.cursor_line = TICK_LINE
        await pilot.press("b")
        await until(pilot, lambda: not screen.source.breakpoint_lines, "the marker removed")
        assert engine.called("break_delete") == [("1",)]
        assert engine.breakpoint_list == []


async def test_u_and_d_move_between_frames(world: World) -> None:
    engine, app, recorder = world.engine, world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        await stopped_in_tick(pilot, screen, recorder)
        await pilot.press("u")
        await until(pilot, lambda: screen.frame_level == 1, "frame 1")
        await until(pilot, lambda: screen.source.current_line == line_of("tick(w);"), "its line")
        assert (3, 1) in engine.called("variables")
        assert engine.called("select_frame") == [(1, 3)]  # gdb's too: `f` finishes it
        await pilot.press("u")
        await until(pilot, lambda: screen.frame_level == 2, "frame 2")
        await until(
            pilot,
            lambda: "no line information" in " ".join(line.plain for line in screen.source.lines),
            "the no-source message",
        )
        await pilot.press("d", "d")
        await until(pilot, lambda: screen.source.current_line == TICK_LINE, "frame 0 again")
        assert screen.frame_level == 0


async def test_the_console_sends_a_command_and_shows_its_output(world: World) -> None:
    engine, app, recorder = world.engine, world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        console = screen.query_one(GdbConsole)
        await pilot.press("colon")
        await until(pilot, lambda: app.focused is console.input, "the console's input")
        await pilot.press(*"info threads", "enter")
        await until(pilot, lambda: engine.called("cli"), "the command")
        assert engine.called("cli") == [("info threads",)]
        output = engine.console_output["info threads"]
        await until(
            pilot, lambda: output in [line.text for line in console.log_view.lines], "the output"
        )


async def test_a_failed_open_is_the_error_dialog_with_the_fix(settings: Settings) -> None:
    failure = DebugUnavailable(
        "gdb could not attach to docker web (PID 1): ptrace: Operation not permitted.",
        "run cntr-tui as root",
    )
    opener = FakeOpener(failure=failure)
    app = app_on(opener, settings)
    async with app.run_test(size=SIZE) as pilot:
        await select_web(pilot, app)
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog), "the dialog", 15)
        dialog = app.screen
        assert isinstance(dialog, ErrorDialog)
        assert dialog.error_title == "Cannot debug web"
        assert dialog.message.startswith(str(failure))
        assert dialog.fix == "run cntr-tui as root"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ContainersScreen), "the list")
        assert opener.session.close_calls == 0  # nothing was opened


@pytest.mark.parametrize("ending", ["session-ended", "process-gone"])
async def test_the_end_of_the_session_takes_the_user_back_to_the_list(
    world: World, ending: str
) -> None:
    opener, app, recorder = world.opener, world.app, world.recorder
    async with world.run() as pilot:
        await debugger_on_web(pilot, app, recorder)
        if ending == "session-ended":
            opener.session.fake_engine.emit(SessionEnded("inferior-exited", "the program exited"))
            said = "the program exited"
        else:
            opener.session.process_alive = False
            said = "web stopped; back to the container list."
        await until(pilot, lambda: isinstance(app.screen, ContainersScreen), "the list")
        await until(pilot, lambda: recorder.count(DebuggerScreen.Detached), "the detach")
        assert said in world.notices()
        assert opener.session.close_calls == 1


async def test_escape_closes_the_session_exactly_once(world: World) -> None:
    opener, app, recorder = world.opener, world.app, world.recorder
    async with world.run() as pilot:
        await debugger_on_web(pilot, app, recorder)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ContainersScreen), "the list")
        await until(pilot, lambda: recorder.count(DebuggerScreen.Detached), "the detach")
        # the session's own end (its SessionEnded) after our close is no second leave
        assert recorder.count(DebuggerScreen.Detached) == 1
        assert not any("detached" in n.title for n in app._notifications)
        await pilot.press("q")
    assert opener.session.close_calls == 1


async def test_escape_while_attaching_abandons_the_open(world: World) -> None:
    world.opener.gate = asyncio.Event()
    app = world.app
    async with world.run() as pilot:
        await select_web(pilot, app)
        await pilot.press("g")
        await until(pilot, lambda: world.opener.targets, "the open")
        screen = app.screen
        assert isinstance(screen, DebuggerScreen)
        await until(pilot, lambda: screen.status.busy == "opening the fake session…", "progress")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ContainersScreen), "the list")
        await until(pilot, lambda: world.opener.cancelled, "the open cancelled")
        assert world.recorder.count(DebuggerScreen.Attached) == 0
    assert world.opener.session.close_calls == 0


async def test_quit_detaches_the_open_debugger(world: World) -> None:
    opener, app, recorder = world.opener, world.app, world.recorder
    async with world.run() as pilot:
        await debugger_on_web(pilot, app, recorder)
        await pilot.press("q")
        await until(pilot, lambda: app.return_code is not None, "the exit")
    assert opener.session.close_calls == 1


# --- the file browser -----------------------------------------------------------------

THREADS_C_ENTRY = FileEntry(
    "/var/lib/cntr/app/src/threads.c", str(THREADS_C), "container", False, 2048, "root"
)


async def breakpoint_from_files(pilot: Pilot[None], app: CntrApp) -> None:
    await until(pilot, lambda: isinstance(app.screen, FilesScreen), "the files screen")
    files = app.screen
    assert isinstance(files, FilesScreen)
    assert files.container == WEB
    files.open_file(THREADS_C_ENTRY)
    files.query_one(SourceView).cursor_line = TICK_LINE
    await pilot.press("b")


@pytest.mark.usefixtures("no_attach_session")
async def test_o_opens_the_files_whose_b_sets_a_breakpoint_in_the_debugger(
    world: World,
) -> None:
    engine, app, recorder = world.engine, world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        await pilot.press("o")
        await breakpoint_from_files(pilot, app)
        location = f"/app/src/threads.c:{TICK_LINE}"
        await until(pilot, lambda: engine.called("break_insert"), "the breakpoint")
        assert engine.called("break_insert") == [(location,)]
        assert f"breakpoint at {location}" in world.notices()
        assert app.pending_breakpoints.by_container == {}
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "the debugger again")
        assert screen.source.path == SOURCE_PATH
        assert TICK_LINE in screen.source.breakpoint_lines


@pytest.mark.usefixtures("no_attach_session")
async def test_a_breakpoint_from_the_lists_files_is_set_when_the_debugger_attaches(
    world: World,
) -> None:
    engine, app, recorder = world.engine, world.app, world.recorder
    async with world.run() as pilot:
        await select_web(pilot, app)
        await pilot.press("f")
        await breakpoint_from_files(pilot, app)
        location = f"/app/src/threads.c:{TICK_LINE}"
        await until(pilot, lambda: app.pending_breakpoints.by_container, "the noted breakpoint")
        assert app.pending_breakpoints.by_container == {WEB.key: [location]}
        assert engine.calls == []
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ContainersScreen), "the list")
        await debugger_on_web(pilot, app, recorder)
        names = [call.name for call in engine.calls]
        assert engine.called("break_insert") == [(location,)]
        assert names.index("break_insert") < names.index("threads")  # before the first stop
        assert app.pending_breakpoints.by_container == {}


# --- help -------------------------------------------------------------------------------


async def test_help_lists_the_registrys_bindings_of_the_screen_it_opens_on(
    world: World,
) -> None:
    app, recorder = world.app, world.recorder
    async with world.run() as pilot:
        for opened_on in ("containers", "debugger · web"):
            if opened_on != "containers":
                await debugger_on_web(pilot, app, recorder)
            await pilot.press("question_mark")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
            help_screen = app.screen
            assert isinstance(help_screen, HelpScreen)
            table = help_screen.query_one("#help-table", DataTable)
            ids = [table.get_row_at(row)[3] for row in range(table.row_count)]
            assert ids == [b.id for _, bindings in binding_groups() for b in bindings]
            title = help_screen.query_one("#help-title")
            assert str(title.render()) == f"Keys ({opened_on})"
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, HelpScreen), "help closed")
