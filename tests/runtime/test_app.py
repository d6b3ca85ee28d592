"""Pilot tests of the terminal app against real containers, real gdb and real /proc.

Waits are on widget contents and app messages with deadlines, never on fixed sleeps.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual import events
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot

from cntr_tui.app.app import CntrApp
from cntr_tui.app.bindings import binding_groups
from cntr_tui.app.listing import ListingResult
from cntr_tui.app.screens.containers import EMPTY_MESSAGE, ContainersScreen
from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.app.screens.error import ErrorDialog
from cntr_tui.app.screens.files import FilesScreen
from cntr_tui.app.screens.help import HelpScreen
from cntr_tui.attach.container import Container
from cntr_tui.demo.containers import StartedContainer
from cntr_tui.settings import Settings
from cntr_tui.widgets.breakpoints import BreakpointsTable
from cntr_tui.widgets.container_details import ContainerDetails
from cntr_tui.widgets.container_table import ContainerTable, row_key
from cntr_tui.widgets.file_tree import FileTree
from cntr_tui.widgets.locals import LocalsTree
from cntr_tui.widgets.source_view import SourceView
from cntr_tui.widgets.threads import ThreadsTree
from tests.support.app_session import stopped_in_tick_app
from tests.support.fake_debug import Recorder
from tests.support.frontend import Program
from tests.support.proc import tracer_of

SIZE = (160, 48)
LIST_DEADLINE = 20.0
ATTACH_DEADLINE = 60.0


async def wait_for(
    pilot: Pilot[None], condition: Callable[[], object], what: str, deadline: float
) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            app = pilot.app
            stack = [type(screen).__name__ for screen in app.screen_stack]
            pytest.fail(f"timed out after {deadline:.0f}s waiting for {what} (screens: {stack})")
        await pilot.pause(0.05)


def containers_screen(app: CntrApp) -> ContainersScreen:
    screen = next(s for s in app.screen_stack if isinstance(s, ContainersScreen))
    return screen


def table_of(app: CntrApp) -> ContainerTable:
    return containers_screen(app).query_one(ContainerTable)


def listed_pids(app: CntrApp) -> set[int]:
    return {container.pid for container in table_of(app).containers.values()}


def listed_as(app: CntrApp, started: StartedContainer):
    return next(
        (c for c in table_of(app).containers.values() if c.pid == started.pid),
        None,
    )


async def select(pilot: Pilot[None], app: CntrApp, started: StartedContainer) -> None:
    await wait_for(pilot, lambda: started.pid in listed_pids(app), started.name, LIST_DEADLINE)
    container = listed_as(app, started)
    assert container is not None
    table_of(app).select_container(container.key)
    await wait_for(
        pilot, lambda: table_of(app).selected == container, "the row selected", LIST_DEADLINE
    )


async def attached_debugger(
    pilot: Pilot[None], app: CntrApp, started: StartedContainer, recorder: Recorder
) -> DebuggerScreen:
    """`started` selected in the list, `g`: the debugger once attached."""
    await select(pilot, app, started)
    await pilot.press("g")
    await wait_for(
        pilot, lambda: recorder.count(DebuggerScreen.Attached), "attach", ATTACH_DEADLINE
    )
    screen = app.screen
    assert isinstance(screen, DebuggerScreen)
    return screen


def process_state(pid: int) -> dict[str, str]:
    fields: dict[str, str] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    return fields


def line_of(source: Path, needle: str) -> int:
    for number, line in enumerate(source.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {source}")


async def test_list_shows_containers_and_follows_start_and_stop(start_container) -> None:
    docker = start_container("docker")
    plain = start_container("process")
    app = CntrApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot,
            lambda: {docker.pid, plain.pid} <= listed_pids(app),
            "the docker and process containers in the list",
            LIST_DEADLINE,
        )
        assert listed_as(app, docker).runtime == "docker"
        assert listed_as(app, docker).name == docker.name
        assert listed_as(app, plain).runtime == "process"

        labels = {
            "io.kubernetes.pod.namespace": "shop",
            "io.kubernetes.pod.name": "cart-7d9",
            "io.kubernetes.container.name": "cart",
        }
        pod = start_container("containerd", labels=labels)
        await wait_for(pilot, lambda: pod.pid in listed_pids(app), "a new container", 15)
        row = table_of(app).get_row(row_key(listed_as(app, pod)))
        assert "shop/cart-7d9" in row

        pod.remove()
        await wait_for(pilot, lambda: pod.pid not in listed_pids(app), "the removal", 15)
        assert docker.pid in listed_pids(app)


async def test_details_show_process_tree_with_container_pids(start_container) -> None:
    started = start_container("docker")
    app = CntrApp()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, started)
        details = containers_screen(app).query_one(ContainerDetails)
        tree = details.query_one("#details-processes")
        await wait_for(
            pilot,
            lambda: (
                tree.display
                and tree.root.children
                and tree.root.children[0].data.pid == started.pid
            ),
            "the selected container's process tree",
            10,
        )
        main = tree.root.children[0]
        assert main.data.container_pid == 1
        assert main.data.threads == 4  # main + worker-0..2

        # enter on a process of the tree debugs that process
        tree.focus()
        tree.move_cursor(main)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DebuggerScreen), "debugger", 5)
        assert app.screen.host_pid == started.pid
        await wait_for(pilot, lambda: app.screen.attached, "attach", ATTACH_DEADLINE)
        assert app.screen.link.session.target.host_pid == started.pid
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen), "the list", 20)


async def test_filter_narrows_the_list(start_container) -> None:
    wanted = start_container("process")
    other = start_container("process")
    app = CntrApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot, lambda: {wanted.pid, other.pid} <= listed_pids(app), "both", LIST_DEADLINE
        )
        await pilot.press("slash")
        await pilot.press(*str(wanted.pid))
        table = table_of(app)
        await wait_for(pilot, lambda: len(table.visible_keys) == 1, "one row left", 5)
        assert table.selected is not None and table.selected.pid == wanted.pid
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(table.visible_keys) >= 2, "the filter cleared", 5)


async def test_sort_key_changes_order(start_container) -> None:
    start_container("process")
    start_container("docker")
    app = CntrApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(listed_pids(app)) >= 2, "two rows", LIST_DEADLINE)
        table = table_of(app)
        assert table.sort_column.key == "name"
        table.sort_by("pid")
        pids = [table.containers[key].pid for key in table.visible_keys]
        assert pids == sorted(pids)
        table.sort_by("pid")  # again: descending
        pids = [table.containers[key].pid for key in table.visible_keys]
        assert pids == sorted(pids, reverse=True)


async def test_help_lists_every_binding_with_its_id() -> None:
    app = CntrApp(lister=lambda: ListingResult())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help", 5)
        table = app.screen.query_one("#help-table")
        ids = {table.get_row_at(row)[3] for row in range(table.row_count)}
        for group, bindings in binding_groups():
            for binding in bindings:
                assert binding.id, f"{group} binding {binding.key} has no id"
                assert binding.id in ids
        assert {"containers.debug", "debugger.continue", "debugger.back", "files.breakpoint"} <= ids
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen), "closed", 5)


async def test_empty_machine_says_how_to_start_the_demo() -> None:
    app = CntrApp(lister=lambda: ListingResult())
    async with app.run_test(size=SIZE) as pilot:
        screen = containers_screen(app)
        empty = screen.query_one("#empty")
        await wait_for(pilot, lambda: empty.display, "the empty message", 5)
        assert "cntr-tui demo" in EMPTY_MESSAGE
        assert not screen.query_one(ContainerTable).display
        await pilot.press("g")  # nothing to debug: a notice, not a crash
        assert isinstance(app.screen, ContainersScreen)


async def test_listing_failure_is_a_readable_line() -> None:
    app = CntrApp(lister=lambda: ListingResult(error="docker: permission denied"))
    async with app.run_test(size=SIZE) as pilot:
        status = containers_screen(app).status
        await wait_for(pilot, lambda: "permission denied" in status.state, "the error", 5)


async def test_debug_key_attaches_breakpoint_continue_and_detach(
    start_container, demo_rootfs: Path
) -> None:
    started = start_container("docker")
    recorder = Recorder()
    app = CntrApp()
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await attached_debugger(pilot, app, started, recorder)
        threads = screen.query_one(ThreadsTree)
        names = sorted(thread.name or "" for thread in screen.threads)
        assert threads.thread_count() == 4
        assert names == ["threads", "worker-0", "worker-1", "worker-2"]

        source = screen.query_one(SourceView)
        assert source.path is not None and source.path.endswith("threads.c")
        assert source.source is not None and source.source.text is not None
        assert source.current_line is not None
        assert "nanosleep" in source.line_text(source.current_line)  # main's loop
        assert screen.query_one(LocalsTree).names  # main's locals: threads, term, pause

        # A breakpoint at the cursor line, then continue: it stops there.
        tick_line = line_of(demo_rootfs / "app/src/threads.c", "w->iterations++;")
        source.focus()
        source.cursor_line = tick_line
        await pilot.press("b")
        await wait_for(
            pilot, lambda: tick_line in source.breakpoint_lines, "the breakpoint marker", 10
        )
        refreshed = recorder.count(DebuggerScreen.Refreshed)
        await pilot.press("c")
        await wait_for(
            pilot,
            lambda: (
                recorder.count(DebuggerScreen.Refreshed) > refreshed
                and source.current_line == tick_line
            ),
            "the stop at the breakpoint",
            30,
        )
        assert "breakpoint" in screen.status.state
        assert screen.current_frame() is not None
        assert screen.current_frame().function == "tick"

        # tick's argument is a pointer to a struct: expanding it shows the struct's fields
        locals_tree = screen.query_one(LocalsTree)
        await wait_for(pilot, lambda: "w" in locals_tree.names, "tick's argument w", 10)
        pointer = next(n for n in locals_tree.root.children if n.data and n.data.name == "w")
        pointer.expand()
        await wait_for(
            pilot,
            lambda: (
                {"id", "name", "iterations", "total"}
                <= {child.data.name for child in pointer.children if child.data}
            ),
            "the fields of *w",
            10,
        )
        table = screen.query_one(BreakpointsTable)
        assert [bp.line for bp in table.breakpoints] == [tick_line]

        # 1-6 focus a pane, tab moves on
        for key, pane in (("2", "threads"), ("3", "locals"), ("5", "mounts"), ("1", "source")):
            await pilot.press(key)
            await wait_for(pilot, lambda pane=pane: app.focused.id == pane, pane, 5)
        await pilot.press("tab")
        await wait_for(pilot, lambda: app.focused.id == "threads", "tab to threads", 5)
        assert screen.query_one("#mounts").row_count > 0  # the session's mount table

        # u: up to the caller, worker_main, at its call of tick; d: back down
        source.focus()
        await pilot.press("u")
        await wait_for(pilot, lambda: screen.frame_level == 1, "frame 1", 5)
        assert screen.current_frame().function == "worker_main"
        assert "tick(w)" in source.line_text(source.current_line)
        await pilot.press("d")
        await wait_for(pilot, lambda: source.current_line == tick_line, "frame 0 again", 5)

        # b again removes the breakpoint; c runs on; i interrupts
        source.cursor_line = tick_line
        await pilot.press("b")
        await wait_for(pilot, lambda: not table.breakpoints, "the breakpoint removed", 10)
        await pilot.press("c")
        await wait_for(pilot, lambda: screen.running, "running", 10)
        assert "running" in screen.status.state
        refreshed = recorder.count(DebuggerScreen.Refreshed)
        await pilot.press("i")
        await wait_for(
            pilot,
            lambda: not screen.running and recorder.count(DebuggerScreen.Refreshed) > refreshed,
            "the interrupt",
            15,
        )
        assert "stopped" in screen.status.state

        await pilot.press("escape")
        await wait_for(pilot, lambda: recorder.count(DebuggerScreen.Detached), "detach", 20)
        await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen), "the list", 5)
    status = process_state(started.pid)
    assert status["TracerPid"] == "0"
    assert status["State"][0] in "RS"  # running or sleeping, not traced-stopped
    before = Path(f"/proc/{started.pid}/task").stat()
    assert before is not None and os.path.exists(f"/proc/{started.pid}")


async def test_container_stopping_returns_to_the_list(start_container) -> None:
    started = start_container("docker")
    recorder = Recorder()
    app = CntrApp()
    async with app.run_test(size=SIZE, message_hook=recorder, notifications=True) as pilot:
        await select(pilot, app, started)
        await pilot.press("g")
        await wait_for(
            pilot,
            lambda: recorder.count(DebuggerScreen.Attached) or isinstance(app.screen, ErrorDialog),
            "attach",
            ATTACH_DEADLINE,
        )
        removal = asyncio.create_task(asyncio.to_thread(started.remove))
        await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen), "the list", 20)
        await removal
        notices = [n.message for n in app._notifications]
        assert any("stopped" in notice or "exited" in notice for notice in notices), notices


async def test_files_screen_lists_the_container_under_var_lib_cntr(start_container) -> None:
    started = start_container("docker")
    recorder = Recorder()
    app = CntrApp()
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await select(pilot, app, started)
        await pilot.press("f")
        await wait_for(
            pilot,
            lambda: any(
                isinstance(m, FilesScreen.Listed) and m.view_path == "/var/lib/cntr"
                for m in recorder.messages
            ),
            "the listing of /var/lib/cntr",
            15,
        )
        screen = app.screen
        assert isinstance(screen, FilesScreen)
        tree = screen.query_one(FileTree)
        assert screen.session is not None, "browsing the host-side rebuild, not the session"
        assert screen.merged.host_root_on_host == f"/proc/{screen.session.root.holder}/root"
        assert "app" in tree.child_names("/var/lib/cntr")
        node = tree.node_for("/var/lib/cntr/app")
        assert node is not None and node.data.provenance == "container"
        assert "usr" in tree.child_names("/")  # the host's side of the merged root

        screen.reveal("/var/lib/cntr/app/src")
        await wait_for(
            pilot, lambda: "threads.c" in tree.child_names("/var/lib/cntr/app/src"), "src", 10
        )
        entry = tree.node_for("/var/lib/cntr/app/src/threads.c").data
        screen.open_file(entry)
        view = screen.query_one(SourceView)
        assert view.source is not None and "worker_main" in (view.source.text or "")
        view.cursor_line = 38
        await pilot.press("b")
        container = listed_as(app, started)
        assert app.pending_breakpoints.take(container) == ["/app/src/threads.c:38"]


async def test_command_palette_runs_the_screens_actions() -> None:
    app = CntrApp(lister=lambda: ListingResult())
    async with app.run_test(size=SIZE) as pilot:
        table = table_of(app)
        await wait_for(pilot, lambda: containers_screen(app).listed_once, "a listing", 5)
        assert table.sort_column.key == "name"
        await pilot.press("ctrl+p")
        await pilot.press(*"Sort")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, CommandPalette)
                and app.screen.query_one(CommandList).option_count > 0
            ),
            "the palette's hits",
            5,
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: table.sort_column.key != "name", "the sort action", 5)


async def test_attach_failure_is_a_dialog_with_the_fix_not_a_traceback() -> None:
    # A process that has exited: the real attach path fails on it.
    gone = subprocess.Popen(["true"])
    gone.wait()
    record = Container(runtime="process", id=str(gone.pid), name="vanished", pid=gone.pid)
    app = CntrApp(lister=lambda: ListingResult())
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(DebuggerScreen(record))
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorDialog), "the dialog", 30)
        dialog = app.screen
        assert "vanished" in dialog.error_title
        assert dialog.message and "Traceback" not in dialog.message
        assert dialog.fix and "exited" in dialog.fix
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen), "the list", 5)


def all_stopped(program: Program) -> bool:
    return program.all_stopped()


async def type_in_console(pilot: Pilot[None], command: str) -> None:
    await pilot.press(*command, "enter")


def type_at_once(app: CntrApp, *lines: str) -> None:
    """Keys as a terminal delivers them when they come together (typed ahead, pasted line
    by line, sent by tmux): all queued before the app handles the first."""
    driver = app._driver
    assert driver is not None
    for key in (key for line in lines for key in (*line, "enter")):
        event = events.Key("space" if key == " " else key, key if len(key) == 1 else "\r")
        event.set_sender(app)
        driver.send_message(event)


def console_text(screen: DebuggerScreen) -> str:
    return "\n".join(line.text for line in screen.console.log_view.lines)


async def stopped_in_tick(
    pilot: Pilot[None], app: CntrApp, started: StartedContainer, recorder: Recorder
) -> DebuggerScreen:
    """The debugger on `started`, its console focused, stopped where a worker hit
    `break tick` (typed in the console, as `continue`)."""
    screen = await attached_debugger(pilot, app, started, recorder)
    await pilot.press("colon")
    await wait_for(pilot, lambda: app.focused is screen.console.input, "the console", 5)
    await type_in_console(pilot, "break tick")
    await wait_for(pilot, lambda: screen.breakpoints, "the breakpoint", 10)
    refreshed = recorder.count(DebuggerScreen.Refreshed)
    await type_in_console(pilot, "continue")
    await stop_in_tick_shown(pilot, screen, recorder, Program.of(started.pid), refreshed)
    return screen


async def stop_in_tick_shown(
    pilot: Pilot[None], screen: DebuggerScreen, recorder: Recorder, program: Program, since: int
) -> None:
    """Breakpoint 1's stop in tick: the console says it, every thread is stopped, and the
    panes were refreshed after it (more than `since` Refreshed messages)."""
    await wait_for(
        pilot,
        lambda: (
            recorder.count(DebuggerScreen.Refreshed) > since
            and "hit Breakpoint 1" in console_text(screen)
            and all_stopped(program)
        ),
        "the stop in tick",
        30,
    )


async def wait_running(pilot: Pilot[None], program: Program, what: str) -> None:
    """The program's threads run (not all stopped, the workers' counters move), traced."""
    before = program.counter_values()
    await wait_for(
        pilot,
        lambda: not all_stopped(program) and program.counter_values() != before,
        f"the program's threads running under {what}",
        30,
    )
    assert tracer_of(program.pid) != 0  # under gdb still


async def test_console_next_after_a_stop_resumes_the_program(start_container) -> None:
    """After a breakpoint's stop, `delete 1` and `next 1000` typed into the console pane
    together run as two commands, and the program runs (over tick's lines and the loop's
    0.1 s nanosleep, for many seconds), as in gdb's console."""
    async with stopped_in_tick_app(start_container) as (pilot, app, screen, _recorder, started):
        type_at_once(app, "delete 1", "next 1000")
        await wait_running(pilot, Program.of(started.pid), "`next 1000`")
        assert not screen.breakpoints
        shown = console_text(screen)
        assert "(gdb) delete 1\n" in shown and "(gdb) next 1000" in shown, shown


async def test_u_then_f_finishes_the_frame_shown_and_the_program_runs(start_container) -> None:
    """Stopped in tick, `u` shows worker_main and `f` finishes it, as `up` and `finish`
    in gdb's console: worker_main never returns, so the program runs on (it finished
    tick, the frame gdb had selected, and stopped at once)."""
    async with stopped_in_tick_app(start_container) as (pilot, _app, screen, _recorder, started):
        await type_in_console(pilot, "delete 1")
        await wait_for(pilot, lambda: not screen.breakpoints, "the breakpoint deleted", 10)
        await pilot.press("escape")  # the keys to the panes
        await pilot.press("u")
        await wait_for(pilot, lambda: screen.frame_level == 1, "frame 1", 5)
        assert screen.current_frame().function == "worker_main"
        await pilot.press("f")
        await wait_running(pilot, Program.of(started.pid), "the finish")
        assert screen.running
        assert "function finished" not in screen.status.state


async def test_the_apps_settings_reach_the_gdb_it_starts(start_container, tmp_path: Path) -> None:
    """The settings the TUI read at its start (here: CNTR_TUI_GDB_TRACE's file) are the
    ones its gdb session uses, not a second read of the environment."""
    started = start_container("docker")
    trace = tmp_path / "mi.trace"
    recorder = Recorder()
    app = CntrApp(settings=Settings(gdb_trace=str(trace)))
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await select(pilot, app, started)
        await pilot.press("g")
        await wait_for(
            pilot, lambda: recorder.count(DebuggerScreen.Attached), "attach", ATTACH_DEADLINE
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen), "the list", 30)
    assert b"-target-attach" in trace.read_bytes()
