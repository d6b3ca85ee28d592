"""The debugger's machine-level panes (issue 14) driven by Pilot on the fake engine:
registers, disassembly, the no-source hint, the Paused status, their keys in help and
the palette. Waits are on widget contents and messages with deadlines, never sleeps."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable, TabbedContent

from cntr_tui.app.screens.debugger import MEMORY_LENGTH, DebuggerScreen
from cntr_tui.app.screens.help import HelpScreen
from cntr_tui.gdb.events import Paused
from cntr_tui.settings import Settings
from cntr_tui.widgets.disassembly import BREAKPOINT_MARK, PC_MARK, DisassemblyView
from cntr_tui.widgets.memory import MemoryView
from cntr_tui.widgets.registers import CHANGED_STYLE, RegistersTable
from cntr_tui.widgets.watch import WatchTree
from tests.support.fake_debug import (
    TICK,
    TICK_LINE,
    VALUES,
    WORKER_STACK,
    WORKERS_ADDRESS,
    FakeOpener,
)
from tests.unit.test_screens import (
    World,
    app_on,
    debugger_on_web,
    stopped_after,
    stopped_in_tick,
    until,
)


@pytest.fixture
def world(tmp_path: Path) -> World:
    opener = FakeOpener()
    return World(opener, app_on(opener, Settings(keymap_file=str(tmp_path / "keymap.toml"))))


def active_tab(screen: DebuggerScreen) -> str:
    return str(screen.query_one(TabbedContent).active)


def highlighted(found: CommandList) -> str | None:
    """The name of the command Enter would run."""
    if found.highlighted is None:
        return None
    return str(found.get_option_at_index(found.highlighted).prompt).split("\n")[0]


async def open_by_key(pilot: Pilot[None], screen: DebuggerScreen, key: str, tab: str) -> None:
    await pilot.press(key)
    await until(pilot, lambda: active_tab(screen) == tab, tab)


def cell(table: DataTable[Text], row: str, column: int) -> Text:
    return table.get_row(row)[column]


async def test_the_registers_pane_shows_the_frames_rip_and_highlights_what_changed(
    world: World,
) -> None:
    engine, app, recorder = world.engine, world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        # a hidden machine pane costs the stop nothing: asked of gdb once it is shown
        assert engine.called("registers") == [] and engine.called("disassemble") == []
        await open_by_key(pilot, screen, "7", "tab-registers")
        table = screen.query_one(RegistersTable)
        assert app.focused is table
        frame = screen.current_frame()
        assert frame is not None and frame.function == "main"
        await until(pilot, lambda: table.value_of("rip"), "the registers once shown")
        assert table.value_of("rip") == hex(frame.address or 0)
        assert engine.called("disassemble") == []
        assert table.value_of("eflags") == "[ ZF PF ]"  # the flags are shown too
        assert table.changed == set()  # nothing to compare with at the first stop

        await stopped_in_tick(pilot, screen, recorder)  # b on tick's line, then c
        await until(pilot, lambda: table.value_of("rip") == hex(TICK.address), "tick's rip")
        assert table.value_of("rax") == hex(engine.stops)
        assert {"rax", "rip"} <= table.changed
        assert "rbx" not in table.changed
        assert cell(table, "rax", 1).style == CHANGED_STYLE
        assert cell(table, "rbx", 1).style == ""

        # another frame of the same stop is compared with the previous stop, not with
        # the frame shown before it: rax stays changed, rbx unchanged
        await pilot.press("u")
        caller = WORKER_STACK[1].address
        await until(pilot, lambda: table.value_of("rip") == hex(caller or 0), "frame 1's rip")
        assert "rax" in table.changed and "rbx" not in table.changed
        assert engine.called("registers")[-1] == (3, 1)


async def disassembly_in_tick(
    pilot: Pilot[None], world: World
) -> tuple[DebuggerScreen, DisassemblyView]:
    """The debugger on web stopped in tick, its disassembly pane shown with tick's PC."""
    screen = await debugger_on_web(pilot, world.app, world.recorder)
    await stopped_in_tick(pilot, screen, world.recorder)
    view = screen.query_one(DisassemblyView)
    await open_by_key(pilot, screen, "8", "tab-disassembly")
    await until(pilot, lambda: view.pc_address == TICK.address, "tick's instructions")
    return screen, view


async def test_the_disassembly_pane_marks_the_pc_and_b_breaks_at_the_instruction(
    world: World,
) -> None:
    engine, app = world.engine, world.app
    async with world.run() as pilot:
        screen, view = await disassembly_in_tick(pilot, world)
        assert app.focused is view
        # rows are instructions and, the pane asking with source, their lines' rows
        assert engine.called("disassemble")[-1][-1] is True
        code_rows = [
            row for row in range(view.row_count) if view.instruction_at_row(row) is not None
        ]
        assert len(code_rows) == len(view.instructions) < view.row_count
        pc_row = next(
            row for row in code_rows if view.instruction_at_row(row).address == TICK.address
        )
        marks = [view.get_row_at(row)[0].plain for row in range(view.row_count)]
        assert marks == [PC_MARK if row == pc_row else "" for row in range(view.row_count)]
        assert view.cursor_row == pc_row == view.marked_rows()[0]

        after = code_rows[code_rows.index(pc_row) + 1]  # the next instruction's row
        await pilot.press(*["down"] * (after - pc_row), "b")
        wanted = f"*{view.instruction_at_row(after).address:#x}"
        await until(pilot, lambda: len(engine.called("break_insert")) == 2, "the breakpoint")
        assert engine.called("break_insert") == [(f"threads.c:{TICK_LINE}",), (wanted,)]
        await until(
            pilot,
            lambda: view.get_row_at(after)[0].plain == BREAKPOINT_MARK,
            "the instruction's breakpoint mark",
        )
        assert screen.source.breakpoint_lines == {TICK_LINE}  # the source's is unchanged

        await pilot.press("b")  # again: the instruction's breakpoint goes
        await until(pilot, lambda: engine.called("break_delete"), "the delete")
        assert engine.called("break_delete") == [("2",)]
        await until(pilot, lambda: view.get_row_at(after)[0].plain == "", "the mark gone")


async def test_a_frame_without_source_brings_the_disassembly_forward(world: World) -> None:
    app, recorder = world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        await stopped_in_tick(pilot, screen, recorder)
        assert active_tab(screen) == "tab-console"  # tick has source: nothing moves
        await pilot.press("u", "u")  # start_thread, in libc
        await until(pilot, lambda: screen.frame_level == 2, "frame 2")
        libc_frame = WORKER_STACK[2]
        assert libc_frame.fullname is None
        view = screen.query_one(DisassemblyView)
        await until(pilot, lambda: view.pc_address == libc_frame.address, "its instructions")
        assert active_tab(screen) == "tab-disassembly"
        shown = " ".join(line.plain for line in screen.source.lines)
        assert "no line information" in shown and "disassembly pane (8)" in shown
        assert view.marked_rows() != []


async def test_the_status_line_says_how_long_a_breakpoint_held_the_running_program(
    world: World,
) -> None:
    engine, app, recorder = world.engine, world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        view = screen.query_one(DisassemblyView)
        await open_by_key(pilot, screen, "8", "tab-disassembly")
        await until(pilot, lambda: view.marked_rows() != [], "the PC marked")
        await pilot.press("c")
        await until(pilot, lambda: screen.running, "running")
        await until(pilot, lambda: view.marked_rows() == [], "no PC line while running")
        screen.source.focus()
        screen.source.cursor_line = TICK_LINE
        await pilot.press("b")
        await until(pilot, lambda: engine.called("break_insert"), "the breakpoint")
        await until(
            pilot,
            lambda: screen.status.state == "▶ running · held 4 ms to set the breakpoint",
            "the held time in the status line",
        )


async def test_a_hold_told_after_the_stop_it_ran_into_keeps_the_stop_line(world: World) -> None:
    # the program hit a breakpoint right after the hold's resume, and gdb's *stopped
    # was read before the hold's end was told: the stop's line stays, the hold after it
    engine, app, recorder = world.engine, world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        await until(pilot, lambda: screen.status.state.startswith("■"), "the stop's line")
        stopped = screen.status.state
        engine.emit(Paused("breakpoint", 0.004))
        await until(
            pilot,
            lambda: screen.status.state == f"{stopped} · held 4 ms to set the breakpoint",
            "the hold after the stop's line",
        )


async def open_by_palette(pilot: Pilot[None], screen: DebuggerScreen, name: str, tab: str) -> None:
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette), "the palette")
    await pilot.press(*name)
    found = pilot.app.screen.query_one(CommandList)
    await until(pilot, lambda: highlighted(found) == name, f"{name} listed")
    await pilot.press("enter")
    await until(pilot, lambda: active_tab(screen) == tab, f"{tab} from the palette")


async def test_number_keys_and_the_palette_open_the_new_panes(world: World) -> None:
    app, recorder = world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        await open_by_key(pilot, screen, "8", "tab-disassembly")
        assert isinstance(app.focused, DisassemblyView)
        await open_by_key(pilot, screen, "7", "tab-registers")
        assert isinstance(app.focused, RegistersTable)
        # from the console's input, which takes the number keys as text
        for name, tab in (("Disassembly", "tab-disassembly"), ("Registers", "tab-registers")):
            await open_by_key(pilot, screen, "4", "tab-console")
            assert app.focused is screen.console.input
            await open_by_palette(pilot, screen, name, tab)
            assert app.screen is screen


async def test_help_lists_the_new_panes_keys(world: World) -> None:
    app, recorder = world.app, world.recorder
    async with world.run() as pilot:
        await debugger_on_web(pilot, app, recorder)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        table = app.screen.query_one("#help-table", DataTable)
        rows = [[str(value) for value in table.get_row_at(row)] for row in range(table.row_count)]
        assert ["debugger", "7", "Registers", "debugger.pane7"] in rows
        assert ["debugger", "8", "Disassembly", "debugger.pane8"] in rows


async def test_the_memory_pane_reads_what_is_asked_and_again_at_each_stop(world: World) -> None:
    engine, app, recorder = world.engine, world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        await open_by_key(pilot, screen, "9", "tab-memory")
        memory = screen.query_one(MemoryView)
        assert app.focused is memory.query_one("#memory-input")
        await pilot.press(*"workers", "enter")
        await until(pilot, lambda: memory.block is not None, "the block")
        assert engine.called("read_memory") == [("workers", MEMORY_LENGTH)]
        assert memory.block is not None and memory.block.address == WORKERS_ADDRESS
        assert memory.changed == set()

        await stopped_in_tick(pilot, screen, recorder)  # the fake bumps workers[1].iterations
        await until(pilot, lambda: len(engine.called("read_memory")) == 2, "the read at the stop")
        await until(pilot, lambda: memory.changed, "the changed byte")
        assert memory.changed == {WORKERS_ADDRESS + 64}


async def test_a_watch_is_evaluated_in_the_frame_when_added_and_at_each_stop(
    world: World,
) -> None:
    engine, app, recorder = world.engine, world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        await stopped_in_tick(pilot, screen, recorder)
        await open_by_key(pilot, screen, "0", "tab-watch")
        watch = screen.query_one(WatchTree)
        assert app.focused is watch
        await pilot.press("a")
        await until(pilot, lambda: app.focused is not watch, "the watch input")
        await pilot.press(*"*(w)", "enter")
        await until(pilot, lambda: watch.values.get("*(w)") == VALUES["*(w)"], "the value")
        assert engine.called("evaluate") == [("*(w)", 3, 0)]
        await stopped_after(pilot, screen, recorder, "c")
        await until(pilot, lambda: len(engine.called("evaluate")) == 2, "the value at the stop")
        assert engine.called("evaluate")[1] == ("*(w)", 3, 0)


async def test_help_lists_the_memory_and_watch_keys(world: World) -> None:
    async with world.run() as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(world.app.screen, HelpScreen), "help")
        table = world.app.screen.query_one("#help-table", DataTable)
        ids = {str(table.get_row_at(row)[3]) for row in range(table.row_count)}
        assert {"debugger.pane9", "debugger.pane0", "memory.follow", "watch.add"} <= ids


async def test_help_is_titled_by_the_screen_it_opens_on(world: World) -> None:
    app, recorder = world.app, world.recorder
    async with world.run() as pilot:
        await debugger_on_web(pilot, app, recorder)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        assert str(app.screen.query_one("#help-title").render()) == "Keys (debugger · web)"


async def test_v_in_the_registers_pane_adds_the_vector_registers_and_takes_them_away(
    world: World,
) -> None:
    engine, app, recorder = world.engine, world.app, world.recorder
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, recorder)
        await open_by_key(pilot, screen, "7", "tab-registers")
        table = screen.query_one(RegistersTable)
        await until(pilot, lambda: table.value_of("rip"), "the registers")
        assert table.value_of("xmm0") is None and not table.vector
        await pilot.press("v")
        await until(pilot, lambda: table.value_of("xmm0"), "xmm0")
        assert table.vector and table.value_of("rip") is not None
        assert str(cell(table, "xmm0", 1)).startswith("{v4_float")
        # the next stop asks for them again
        await stopped_in_tick(pilot, screen, recorder)
        await until(pilot, lambda: table.value_of("rip") == hex(TICK.address), "tick's rip")
        assert table.value_of("xmm0") is not None
        await pilot.press("7", "v")  # the source had the focus for b
        await until(pilot, lambda: table.value_of("xmm0") is None, "xmm0 gone")
        assert table.value_of("rip") == hex(TICK.address)
        assert len(engine.called("registers")) >= 4


async def test_a_stop_in_a_function_shown_before_is_disassembled_from_the_kept_rows(
    world: World,
) -> None:
    engine, recorder = world.engine, world.recorder
    async with world.run() as pilot:
        screen, view = await disassembly_in_tick(pilot, world)
        asked = len(engine.called("disassemble"))
        rows = list(view.shown_rows)
        await stopped_after(pilot, screen, recorder, "c")  # tick again
        await until(pilot, lambda: view.pc_address == TICK.address, "tick's PC again")
        assert len(engine.called("disassemble")) == asked  # from the kept rows
        assert view.shown_rows == rows and view.marked_rows()
        # another function (frame 1, worker_main): asked of gdb, then kept as well
        await pilot.press("u")
        caller = WORKER_STACK[1].address
        await until(pilot, lambda: view.pc_address == caller, "worker_main's PC")
        assert len(engine.called("disassemble")) == asked + 1
        await pilot.press("d")
        await until(pilot, lambda: view.pc_address == TICK.address, "tick's PC")
        assert len(engine.called("disassemble")) == asked + 1
        assert [view.instruction_at_row(row).address for row in view.marked_rows()] == [
            TICK.address
        ]


async def test_help_lists_the_registers_key(world: World) -> None:
    async with world.run() as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(world.app.screen, HelpScreen), "help")
        table = world.app.screen.query_one("#help-table", DataTable)
        ids = {str(table.get_row_at(row)[3]) for row in range(table.row_count)}
        assert "registers.vector" in ids
