"""Breakpoints of every kind in the debugger (issue 14), driven by Pilot on the fake
engine: the pane lists and edits them in place, the new-breakpoint form sets each kind,
run to cursor, si/ni, and the status line at stops in another thread than the one
stepped. Each checks the engine calls made (FakeEngine.called) and what the screen shows.
Waits are on widget contents and messages with deadlines, never sleeps."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, Input, RadioSet, Select, TabbedContent

from cntr_tui.app.screens.breakpoint_form import BreakpointEdit, BreakpointForm
from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.app.screens.help import HelpScreen
from cntr_tui.gdb.events import BreakpointModified, Stopped
from cntr_tui.gdb.records import Breakpoint, Result
from cntr_tui.widgets.breakpoints import BreakpointsTable
from cntr_tui.widgets.disassembly import DisassemblyView
from cntr_tui.widgets.locals import LocalsTree
from cntr_tui.widgets.logs import LogsPane
from cntr_tui.widgets.source_view import SourceView
from tests.support.fake_debug import (
    BREAKPOINTS,
    SOURCE_PATH,
    THREADS_C,
    TICK,
    TICK_LINE,
)
from tests.unit import test_screens
from tests.unit.test_machine_panes import open_by_palette
from tests.unit.test_screens import (
    World,
    debugger_on_web,
    stopped_after,
    stopped_in_tick,
    until,
)

settings, world = test_screens.settings, test_screens.world  # the screens' fixtures
WATCH = Breakpoint("3", "hw watchpoint", True, what="w->iterations", hits=2)
LOGPOINT = Breakpoint(
    "4",
    "dprintf",
    True,
    location=f"threads.c:{TICK_LINE}",
    file="threads.c",
    line=TICK_LINE,
    what='"tick %d\\n",w->id',
)
CATCH = Breakpoint("5", "catchpoint", True, what="syscall write", temporary=True)
CONDITIONED = dataclasses.replace(BREAKPOINTS[0], condition="w->id == 1", ignore=4)


def rows(table: DataTable[str]) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


async def pane_focused(pilot: Pilot[None], screen: DebuggerScreen) -> BreakpointsTable:
    table = screen.query_one(BreakpointsTable)
    await pilot.press("6")
    await until(pilot, lambda: pilot.app.focused is table, "the breakpoints pane")
    return table


M = TypeVar("M", BreakpointForm, BreakpointEdit)


async def opened(pilot: Pilot[None], key: str, form: type[M]) -> M:
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, form), form.__name__)
    shown = pilot.app.screen
    assert isinstance(shown, form)
    return shown


async def retype(pilot: Pilot[None], field: Input, text: str) -> None:
    """Replace `field`'s text by typing, as a user does (select all is not a key here)."""
    pilot.app.set_focus(field)
    await pilot.press("end", *["backspace"] * len(field.value), *text)


# --- 1. the pane lists every kind and edits in place ---------------------------------


async def test_the_pane_lists_every_kind_with_its_condition_hits_ignore_and_temporary(
    world: World,
) -> None:
    world.engine.breakpoint_list = [CONDITIONED, BREAKPOINTS[1], WATCH, LOGPOINT, CATCH]
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, world.app, world.recorder)
        table = screen.query_one(BreakpointsTable)
        await until(pilot, lambda: table.row_count == 5, "five rows")
        assert rows(table) == [
            ["1", "breakpoint", "yes", "tick at threads.c:38", "w->id == 1", "0", "4", ""],
            ["2", "breakpoint", "no", "threads.c:65 (pending)", "", "0", "", ""],
            ["3", "watch", "yes", "w->iterations", "", "2", "", ""],
            [
                "4",
                "logpoint",
                "yes",
                f'threads.c:{TICK_LINE}: "tick %d\\n",w->id',
                "",
                "0",
                "",
                "",
            ],
            ["5", "catchpoint", "yes", "syscall write", "", "0", "", "yes"],
        ]


async def test_a_hit_count_gdb_reports_updates_its_row_without_asking_the_list(
    world: World,
) -> None:
    """A logpoint's hits come as =breakpoint-modified at every hit: the record it
    carries goes into the pane; only a number the pane does not know asks for the list."""
    world.engine.breakpoint_list = [CONDITIONED, LOGPOINT]
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, world.app, world.recorder)
        table = screen.query_one(BreakpointsTable)
        await until(pilot, lambda: table.row_count == 2, "two rows")
        asked = len(world.engine.called("breakpoints"))
        world.engine.emit(BreakpointModified(dataclasses.replace(LOGPOINT, hits=7)))
        await until(pilot, lambda: rows(table)[1][5] == "7", "the logpoint's hits")
        assert len(world.engine.called("breakpoints")) == asked
        assert rows(table)[0][5] == "0"  # the other row as it was

        unknown = Breakpoint("9", "breakpoint", True, location="main")
        world.engine.breakpoint_list.append(unknown)
        world.engine.emit(BreakpointModified(unknown))
        await until(pilot, lambda: table.row_count == 3, "the list asked anew")
        assert len(world.engine.called("breakpoints")) == asked + 1


async def test_keys_on_a_row_toggle_condition_ignore_and_delete_then_list_anew(
    world: World,
) -> None:
    engine = world.engine
    engine.breakpoint_list = [BREAKPOINTS[0], WATCH]
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, world.app, world.recorder)
        table = await pane_focused(pilot, screen)
        await until(pilot, lambda: table.row_count == 2, "the rows")
        listed = len(engine.called("breakpoints"))

        await pilot.press("e")
        await until(pilot, lambda: rows(table)[0][2] == "no", "breakpoint 1 disabled")
        assert engine.called("break_disable") == [("1",)]
        assert len(engine.called("breakpoints")) == listed + 1  # listed again from gdb
        await pilot.press("space")
        await until(pilot, lambda: rows(table)[0][2] == "yes", "enabled again")
        assert engine.called("break_enable") == [("1",)]

        edit = await opened(pilot, "C", BreakpointEdit)
        assert edit.query_one(Input).value == ""
        await pilot.press(*"w->id == 1", "enter")
        await until(pilot, lambda: rows(table)[0][4] == "w->id == 1", "the condition")
        assert engine.called("break_condition") == [("1", "w->id == 1")]
        assert world.app.screen is screen

        edit = await opened(pilot, "I", BreakpointEdit)
        await retype(pilot, edit.query_one(Input), "many")
        await pilot.press("enter")
        await until(pilot, lambda: "is a number" in edit.error, "the count refused in the form")
        assert engine.called("break_ignore") == []
        await retype(pilot, edit.query_one(Input), "3")
        await pilot.press("enter")
        await until(pilot, lambda: rows(table)[0][6] == "3", "the ignore count")
        assert engine.called("break_ignore") == [("1", 3)]

        await pilot.press("down", "x")
        await until(pilot, lambda: table.row_count == 1, "the watchpoint deleted")
        assert engine.called("break_delete") == [("3",)]
        assert [bp.number for bp in engine.breakpoint_list] == ["1"]


async def test_an_engine_error_on_a_condition_stays_in_the_edit_form(world: World) -> None:
    engine = world.engine
    engine.breakpoint_list = [BREAKPOINTS[0]]

    async def refuse(number: str, condition: str | None) -> Result[None]:
        engine.record("break_condition", number, condition)
        return Result(error='No symbol "nope" in current context.')

    engine.break_condition = refuse  # type: ignore[method-assign]
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, world.app, world.recorder)
        await pane_focused(pilot, screen)
        edit = await opened(pilot, "C", BreakpointEdit)
        await pilot.press(*"nope", "enter")
        await until(pilot, lambda: "No symbol" in edit.error, "gdb's error in the form")
        assert world.app.screen is edit
        await pilot.press("escape")
        await until(pilot, lambda: world.app.screen is screen, "the form closed")


# --- 2. the new-breakpoint form ---------------------------------------------------------


async def test_the_form_sets_a_breakpoint_at_the_source_cursor_with_its_options(
    world: World,
) -> None:
    engine = world.engine
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, world.app, world.recorder)
        screen.source.focus()
        screen.source.cursor_line = TICK_LINE
        form = await opened(pilot, "B", BreakpointForm)
        assert form.active_kind == "breakpoint"
        location = form.query_one("#bp-location", Input)
        assert location.value == f"threads.c:{TICK_LINE}"
        assert world.app.focused is location
        await pilot.press("tab", *"w->id == 2", "tab")
        await retype(pilot, form.query_one("#bp-ignore", Input), "2")
        await pilot.press("tab", "space")  # the temporary checkbox
        assert form.query_one("#bp-temporary", Checkbox).value
        await pilot.press("ctrl+s")
        await until(pilot, lambda: world.app.screen is screen, "the form closed")
        assert engine.called("break_insert") == [(f"threads.c:{TICK_LINE}",)]
        assert engine.called("break_insert_options") == [("w->id == 2", True, 2, None)]
        table = screen.query_one(BreakpointsTable)
        await until(pilot, lambda: table.row_count == 1, "the row")
        assert rows(table)[0][4:] == ["w->id == 2", "0", "2", "yes"]
        assert TICK_LINE in screen.source.breakpoint_lines


async def test_the_engines_error_shows_in_the_form_which_stays_open(world: World) -> None:
    engine = world.engine
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, world.app, world.recorder)
        form = await opened(pilot, "B", BreakpointForm)
        await retype(pilot, form.query_one("#bp-location", Input), "nowhere.c:3")
        await pilot.press("enter")
        await until(pilot, lambda: "No source file named nowhere.c" in form.error, "the error")
        assert world.app.screen is form
        assert engine.called("break_insert") == [("nowhere.c:3",)]
        await retype(pilot, form.query_one("#bp-location", Input), "")
        await pilot.press("enter")  # refused before gdb is asked
        await until(pilot, lambda: form.error == "a location is needed", "the form's own check")
        assert len(engine.called("break_insert")) == 1
        await pilot.press("escape")
        await until(pilot, lambda: world.app.screen is screen, "cancelled")
        assert engine.breakpoint_list == []


async def test_a_watchpoint_from_the_locals_pane_is_prefilled_with_the_selected_value(
    world: World,
) -> None:
    engine, app = world.engine, world.app
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, world.recorder)
        await stopped_in_tick(pilot, screen, world.recorder)
        locals_tree = screen.query_one(LocalsTree)
        await pilot.press("3")
        await until(pilot, lambda: app.focused is locals_tree, "the locals pane")
        locals_tree.move_cursor(locals_tree.root.children[0])  # w
        form = await opened(pilot, "W", BreakpointForm)
        assert form.active_kind == "watchpoint"
        expression = form.query_one("#watch-expression", Input)
        assert expression.value == "w"
        await pilot.press("enter")  # the fake has no symbol w: gdb's words, in the form
        await until(pilot, lambda: 'No symbol "w"' in form.error, "the error")
        assert engine.called("watch_insert") == [("w", "write", 3, 0)]

        await retype(pilot, expression, "*(w)")
        await pilot.press("tab")
        assert isinstance(app.focused, RadioSet)
        await pilot.press("down", "enter")  # write -> read
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is screen, "the form closed")
        assert engine.called("watch_insert")[1] == ("*(w)", "read", 3, 0)
        table = screen.query_one(BreakpointsTable)
        await until(pilot, lambda: "read watch" in [row[1] for row in rows(table)], "its row")


async def test_a_logpoint_and_a_catchpoint_from_the_form(world: World) -> None:
    engine, app = world.engine, world.app
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, world.recorder)
        screen.source.focus()
        screen.source.cursor_line = TICK_LINE
        form = await opened(pilot, "L", BreakpointForm)
        assert form.query_one("#log-location", Input).value == f"threads.c:{TICK_LINE}"
        assert app.focused is form.query_one("#log-format", Input)
        await pilot.press(*"tick %d %lu\\n", "tab", *"w->id, w->iterations", "enter")
        await until(pilot, lambda: app.screen is screen, "the logpoint set")
        assert engine.called("dprintf_insert") == [
            (f"threads.c:{TICK_LINE}", "tick %d %lu\\n", ("w->id", "w->iterations"))
        ]

        form = await opened(pilot, "K", BreakpointForm)
        catch_kind = form.query_one("#catch-kind", Select)
        assert app.focused is catch_kind and catch_kind.value == "syscall"
        await pilot.press("tab", *"write", "enter")
        await until(pilot, lambda: app.screen is screen, "the catchpoint set")
        assert engine.called("catch_insert") == [("syscall", "write")]

        form = await opened(pilot, "K", BreakpointForm)  # another kind of catch, by keys alone
        await pilot.press("enter", "down", "enter")  # syscall -> signal
        await until(pilot, lambda: form.query_one(Select).value == "signal", "signal chosen")
        await pilot.press("tab", *"SIGUSR1", "enter")
        await until(pilot, lambda: app.screen is screen, "the second catchpoint set")
        assert engine.called("catch_insert")[1] == ("signal", "SIGUSR1")
        table = screen.query_one(BreakpointsTable)
        await until(pilot, lambda: table.row_count == 3, "three rows")
        assert [row[1] for row in rows(table)] == ["logpoint", "catchpoint", "catchpoint"]


async def test_the_forms_kind_changes_by_keys(world: World) -> None:
    app = world.app
    async with world.run() as pilot:
        await debugger_on_web(pilot, app, world.recorder)
        form = await opened(pilot, "B", BreakpointForm)
        await pilot.press("shift+tab")  # to the kinds' tabs
        await pilot.press("right")
        await until(pilot, lambda: form.active_kind == "watchpoint", "the watchpoint tab")
        assert str(form.query_one(TabbedContent).active) == "form-watchpoint"


# --- 3. run to cursor, si, ni -----------------------------------------------------------


async def test_run_to_cursor_from_the_source_and_from_the_disassembly(world: World) -> None:
    engine, app, recorder = world.engine, world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        screen.source.focus()
        screen.source.cursor_line = TICK_LINE
        await stopped_after(pilot, screen, recorder, "r")
        assert engine.called("run_to") == [(f"threads.c:{TICK_LINE}", None)]
        assert "location reached" in screen.status.state

        view = screen.query_one(DisassemblyView)
        await pilot.press("8")
        await until(pilot, lambda: view.instructions and app.focused is view, "instructions")
        await pilot.press("down")
        wanted = view.location_at_cursor()
        assert wanted is not None and wanted.startswith("*0x")
        await stopped_after(pilot, screen, recorder, "r")
        assert engine.called("run_to")[1] == (wanted, None)


async def test_si_and_ni_step_one_instruction(world: World) -> None:
    engine, app, recorder = world.engine, world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        await stopped_after(pilot, screen, recorder, "alt+s")
        assert engine.called("step_instruction") == [(None,)]
        await stopped_after(pilot, screen, recorder, "alt+n")
        assert engine.called("next_instruction") == [(None,)]
        assert screen.status.state.startswith("■ thread 1 stopped: end stepping range")


# --- 4. the status line at a stop -------------------------------------------------------


async def test_a_stop_in_another_thread_while_stepping_is_said_and_t_goes_back(
    world: World,
) -> None:
    engine, app, recorder = world.engine, world.app, world.recorder

    async def next_hit_elsewhere(thread_id: int | None = None) -> Result[None]:
        engine.record("next", thread_id)
        engine.resume(thread_id)
        engine.stop(3, "breakpoint-hit", breakpoint_number="1")
        return Result()

    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        assert screen.thread_id == 1
        engine.next = next_hit_elsewhere  # type: ignore[method-assign]
        await stopped_after(pilot, screen, recorder, "n")
        assert screen.status.state == (
            "■ thread 3 hit breakpoint 1 in tick while thread 1 was stepping · t: back to thread 1"
            " · T: step it alone (scheduler-locking step)"
        )
        assert screen.thread_id == 3  # the panes show where it stopped

        await pilot.press("t")
        await until(pilot, lambda: screen.thread_id == 1, "thread 1 again")
        assert engine.called("select_thread")[-1] == (1,)
        await until(pilot, lambda: screen.frame_level == 1, "main's frame")
        assert screen.status.state == "■ thread 1 selected again: n/s/f step it"

        engine.next = type(engine).next.__get__(engine)  # type: ignore[method-assign]
        await stopped_after(pilot, screen, recorder, "n")  # a plain step's end
        assert "end stepping range" in screen.status.state
        assert "while thread" not in screen.status.state and screen.stepped is None


async def test_T_turns_scheduler_locking_step_on_and_off(world: World) -> None:
    """With the fake's next as gdb's: another thread's breakpoint interrupts it unless
    scheduler-locking is "step"."""
    engine, app, recorder = world.engine, world.app, world.recorder

    async def next_as_gdb(thread_id: int | None = None) -> Result[None]:
        engine.record("next", thread_id)
        engine.resume(thread_id)
        if engine.scheduler_locking == "step":  # in gdb's selected thread (t's)
            selected = engine.called("select_thread")
            engine.stop(int(str(selected[-1][0])) if selected else 1, "end-stepping-range")
        else:
            engine.stop(3, "breakpoint-hit", breakpoint_number="1")
        return Result()

    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        engine.next = next_as_gdb  # type: ignore[method-assign]
        await stopped_after(pilot, screen, recorder, "n")
        assert screen.status.state.endswith(
            "while thread 1 was stepping · t: back to thread 1"
            " · T: step it alone (scheduler-locking step)"
        )
        await pilot.press("t")
        await until(pilot, lambda: screen.thread_id == 1, "thread 1 again")

        await pilot.press("T")
        await until(pilot, lambda: engine.called("set_scheduler_locking"), "the mode set")
        assert engine.called("set_scheduler_locking") == [("step",)]
        await until(pilot, lambda: "scheduler-locking step" in screen.status.state, "said")
        assert screen.status.state == (
            "scheduler-locking step: n/s/f step the thread alone (T: off)"
        )
        await stopped_after(pilot, screen, recorder, "n")
        assert screen.thread_id == 1 and screen.stepped is None
        assert screen.status.state.startswith("■ thread 1 stopped: end stepping range")
        assert screen.status.state.endswith(" · the other threads held (T)")

        await pilot.press("T")
        await until(pilot, lambda: len(engine.called("set_scheduler_locking")) == 2, "off")
        assert engine.called("set_scheduler_locking")[-1] == ("off",)
        await until(pilot, lambda: "scheduler-locking off" in screen.status.state, "said")
        await stopped_after(pilot, screen, recorder, "n")
        assert "thread 3 hit breakpoint 1" in screen.status.state
        assert "T: step it alone" in screen.status.state


async def test_the_status_line_says_which_thread_stopped_and_the_stops_detail(
    world: World,
) -> None:
    engine, app, recorder = world.engine, world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        await stopped_in_tick(pilot, screen, recorder)
        assert screen.status.state == (
            f"■ thread 3 stopped: breakpoint hit #1 in tick at threads.c:{TICK_LINE}"
        )
        engine.emit(Stopped("watchpoint-trigger", 3, TICK, True, None, "2", None, "4211 -> 4212"))
        await until(pilot, lambda: "4211 -> 4212" in screen.status.state, "the watch values")
        assert screen.status.state == (
            "■ thread 3 stopped: watchpoint trigger #2 (4211 -> 4212) in tick at "
            f"threads.c:{TICK_LINE}"
        )
        engine.emit(Stopped("syscall-entry", 2, TICK, True, None, "3", None, "write"))
        await until(pilot, lambda: "syscall" in screen.status.state, "the syscall stop")
        assert screen.status.state.startswith("■ thread 2 stopped: syscall entry #3 (write)")
        # t is for an interrupted step only
        await pilot.press("t")
        await until(pilot, lambda: any("No step" in n for n in world.notices()), "the notice")


# --- 5. frames without readable source ----------------------------------------------------


async def test_a_source_gdb_names_but_cannot_be_read_shows_its_path_and_where_it_was_looked(
    world: World,
) -> None:
    world.opener.session.sources = {}
    app, recorder = world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        assert screen.frame_level == 0  # no frame has readable source: the innermost
        await pilot.press("u")
        await until(pilot, lambda: screen.frame_level == 1, "main's frame")
        view = screen.query_one(SourceView)
        await until(pilot, lambda: view.path == SOURCE_PATH, "main's source")
        shown = [line.plain for line in view.lines]
        assert shown[0] == f"{SOURCE_PATH}: source file not found."
        assert f"  {SOURCE_PATH}" in shown  # where the session looked
        assert str(screen.query_one(TabbedContent).active) == "tab-disassembly"


async def test_a_frame_without_line_info_is_one_line_naming_it(world: World) -> None:
    app, recorder = world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        await pilot.press("d")  # main (frame 1) -> clock_nanosleep, in libc
        await until(pilot, lambda: screen.frame_level == 0, "frame 0")
        shown = [line.plain for line in screen.source.lines]
        assert len(shown) == 1
        assert shown[0].startswith("#0 clock_nanosleep in /lib/x86_64-linux-gnu/libc.so.6")
        assert "source file not found" not in shown[0]
        assert str(screen.query_one(TabbedContent).active) == "tab-disassembly"


# --- help and the palette -------------------------------------------------------------


async def test_help_lists_the_new_keys(world: World) -> None:
    app = world.app
    async with world.run() as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        table = app.screen.query_one("#help-table", DataTable)
        ids = {str(table.get_row_at(row)[3]) for row in range(table.row_count)}
        assert {
            "debugger.new_breakpoint",
            "debugger.new_watchpoint",
            "debugger.new_logpoint",
            "debugger.new_catchpoint",
            "debugger.run_to",
            "debugger.stepi",
            "debugger.nexti",
            "debugger.back_to_stepped",
            "debugger.scheduler_locking",
            "breakpoints.toggle",
            "breakpoints.condition",
            "breakpoints.ignore",
            "breakpoints.delete",
            "form.submit",
            "form.cancel",
        } <= ids


# --- 6. mixed source in the disassembly pane ----------------------------------------------


async def test_the_disassembly_pane_asks_for_mixed_source_and_shows_the_lines_text(
    world: World,
) -> None:
    engine, app, recorder = world.engine, world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        await stopped_in_tick(pilot, screen, recorder)
        view = screen.query_one(DisassemblyView)
        await pilot.press("8")
        await until(pilot, lambda: view.pc_address == TICK.address, "tick's instructions")
        assert engine.called("disassemble")[-1] == (3, 0, True)
        shown = [
            "  ".join(cell.plain for cell in view.get_row_at(row)) for row in range(view.row_count)
        ]
        tick_text = THREADS_C.read_text().splitlines()[TICK_LINE - 1].strip()
        assert any(f"threads.c:{TICK_LINE}" in row and tick_text in row for row in shown), shown


# --- 7. the container's logs -------------------------------------------------------------


async def test_the_logs_tab_follows_the_containers_log_marks_stops_and_closes_it(
    world: World,
) -> None:
    app, recorder, session = world.app, world.recorder, world.opener.session
    logs = session.logs
    assert logs is not None
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        pane = screen.query_one(LogsPane)
        await pilot.press("l")
        await until(pilot, lambda: app.focused is pane, "the logs pane")
        assert str(screen.query_one(TabbedContent).active) == "tab-logs"
        await until(pilot, lambda: len(pane.lines) == 2, "the canned lines")
        assert session.log_tails == [200]  # opened once
        assert pane.source_title == "fake logs"
        assert pane.lines[1].endswith("threads: worker-2 is slow")
        await stopped_in_tick(pilot, screen, recorder)
        await until(pilot, lambda: len(pane.lines) == 3, "the stop's mark")
        assert "thread 3 stopped: breakpoint hit #1 in tick" in pane.lines[2]
        logs.write("threads: after the stop")
        await until(pilot, lambda: len(pane.lines) == 4, "a new line")
        assert pane.lines[3].endswith("threads: after the stop")
        await pilot.press("escape")
        await until(pilot, lambda: recorder.count(DebuggerScreen.Detached), "the detach")
        assert logs.closed
        assert session.log_tails == [200]


async def test_a_container_without_logs_says_why_in_the_pane(world: World) -> None:
    world.opener.session.logs = None
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, world.app, world.recorder)
        pane = screen.query_one(LogsPane)
        await until(pilot, lambda: pane.lines, "the reason")
        assert pane.lines == ["no log: the fake container keeps no logs"]


async def test_the_palette_opens_the_logs_and_the_new_watchpoint_form(world: World) -> None:
    app = world.app
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, world.recorder)
        await open_by_palette(pilot, screen, "Logs", "tab-logs")
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"New watchpoint", "enter")
        await until(pilot, lambda: isinstance(app.screen, BreakpointForm), "the form")
        form = app.screen
        assert isinstance(form, BreakpointForm) and form.active_kind == "watchpoint"
