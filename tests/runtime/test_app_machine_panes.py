"""The registers, disassembly and memory panes against a real container and real gdb,
each value checked against what the kernel says of the stopped program (/proc), not
against gdb's own answers; the vector registers on `v`; the locals and watch panes'
"… N more" row for /app/shapes's vector of 100,000 ints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from textual.pilot import Pilot

from cntr_tui.app.app import CntrApp
from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.widgets.disassembly import DisassemblyView, SourceRow
from cntr_tui.widgets.locals import LocalsTree
from cntr_tui.widgets.memory import MemoryView
from cntr_tui.widgets.registers import RegistersTable
from cntr_tui.widgets.watch import WatchTree
from tests.runtime.test_app import (
    SIZE,
    attached_debugger,
    type_in_console,
    wait_for,
)
from tests.runtime.test_app_breakpoint_kinds import stop_after
from tests.support.app_session import stopped_in_tick_app
from tests.support.fake_debug import Recorder
from tests.support.frontend import Program, load_base, symbol_value
from tests.support.proc import read_memory

WORKERS_BYTES = 3 * 40  # struct worker workers[3]


async def test_registers_disassembly_and_memory_show_the_stopped_program(start_container):
    async with stopped_in_tick_app(start_container) as (pilot, app, screen, recorder, started):
        program = Program.of(started.pid)
        trap = screen.breakpoints[0].address
        assert trap is not None

        await pilot.press("escape")  # out of the console: the number keys are the screen's
        await pilot.press("7")
        registers = screen.query_one(RegistersTable)
        await wait_for(pilot, lambda: registers.value_of("rip"), "the registers", 10)
        rip = int(str(registers.value_of("rip")).split()[0], 16)
        # gdb shows the PC rewound onto the breakpoint; the kernel still has the thread
        # one byte past the trap it executed
        assert rip == trap
        assert program.stopped_past({trap}), program.program_counters()

        await pilot.press("8")
        disassembly = screen.query_one(DisassemblyView)
        await wait_for(pilot, lambda: disassembly.marked_rows(), "the PC's instruction", 10)
        (marked,) = disassembly.marked_rows()
        assert disassembly.instruction_at_row(marked).address == rip
        # with source: the PC's instruction comes under its own line, as in threads.c
        above = [row for row in disassembly.shown_rows[:marked] if isinstance(row, SourceRow)]
        line = screen.breakpoints[0].line
        assert above and above[-1].line == line and above[-1].file == "threads.c", above[-1:]
        assert above[-1].text is not None and "w->iterations++" in above[-1].text

        await pilot.press("9")
        await pilot.press(*"workers", "enter")
        memory = screen.query_one(MemoryView)
        await wait_for(pilot, lambda: getattr(memory, "block", None), "the memory dump", 10)
        workers = load_base(started.pid) + symbol_value(f"/proc/{started.pid}/exe", "workers")
        assert memory.block.address == workers
        kernel = read_memory(started.pid, workers, WORKERS_BYTES)
        assert memory.block.data[:WORKERS_BYTES] == kernel
        assert not memory.changed

        # the next stop: the worker stopped on `w->iterations++` steps over it (the
        # breakpoint gone, so no other worker's hit comes first)
        refreshed = recorder.count(DebuggerScreen.Refreshed)
        await pilot.press("colon")  # the dump has the focus after the address's Enter
        await wait_for(pilot, lambda: app.focused is screen.console.input, "the console", 5)
        await type_in_console(pilot, "delete 1")
        await type_in_console(pilot, "next")
        await wait_for(
            pilot,
            lambda: recorder.count(DebuggerScreen.Refreshed) > refreshed,
            "the next stop",
            30,
        )
        now = read_memory(started.pid, workers, WORKERS_BYTES)
        # the console's tab was shown at the stop: the memory pane reads again once shown
        await pilot.press("escape", "9")
        await wait_for(
            pilot, lambda: memory.block.data[:WORKERS_BYTES] == now, "the memory read again", 10
        )
        differing = {workers + i for i in range(WORKERS_BYTES) if now[i] != kernel[i]}
        assert differing and differing <= memory.changed


@asynccontextmanager
async def debugger_on(
    start_container, program: str
) -> AsyncIterator[tuple[Pilot[None], CntrApp, DebuggerScreen, Recorder]]:
    """The app's debugger attached to a new docker container running `program`."""
    started = start_container("docker", program=program)
    recorder = Recorder()
    app = CntrApp()
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        yield pilot, app, await attached_debugger(pilot, app, started, recorder), recorder


async def test_v_shows_the_vector_registers_of_the_stopped_thread(start_container):
    async with debugger_on(start_container, "/app/threads") as (pilot, _, screen, _):
        await pilot.press("7")
        registers = screen.query_one(RegistersTable)
        await wait_for(pilot, lambda: registers.value_of("rip"), "the registers", 20)
        assert registers.value_of("xmm0") is None and registers.value_of("st0") is None
        await pilot.press("v")
        await wait_for(pilot, lambda: registers.value_of("xmm0"), "xmm0", 20)
        assert registers.value_of("st0") is not None and registers.value_of("ymm0") is not None
        assert "v4_float" in str(registers.value_of("xmm0"))
        assert registers.value_of("rip") is not None  # the general ones stay
        await pilot.press("v")
        await wait_for(pilot, lambda: registers.value_of("xmm0") is None, "xmm0 gone", 20)


SHAPES_SHOWN = 200  # gdb's `print elements`: the first 200 of `many`'s 100,000


async def test_a_vector_of_100000_ints_ends_in_how_many_more_it_has(start_container):
    """/app/shapes's keep_inventory holds `many`, a std::vector<int> of 100,000 (0, 1,
    2, ...): the locals pane shows its first 200 and "… 99,800 more"; as a watch, the
    members gdb lists (the printer's 200 and one) and "… 99,799 more"."""
    async with debugger_on(start_container, "/app/shapes") as (pilot, app, screen, recorder):
        await pilot.press("colon")
        await wait_for(pilot, lambda: app.focused is screen.console.input, "the console", 5)
        await type_in_console(pilot, "break inventory::count_round")
        await wait_for(pilot, lambda: screen.breakpoints, "the breakpoint", 10)
        await pilot.press("escape")  # out of the console: the keys are the screen's
        await stop_after(pilot, screen, recorder, "c", "breakpoint")
        await pilot.press("u")  # up to keep_inventory
        tree = screen.query_one(LocalsTree)

        def many():
            return next((n for n in tree.root.children if n.data and n.data.name == "many"), None)

        await wait_for(pilot, many, "keep_inventory's locals", 20)
        rows = [str(child.label) for child in many().children]
        assert len(rows) == SHAPES_SHOWN + 1
        assert rows[0] == "[0] = 0" and rows[SHAPES_SHOWN - 1] == "[199] = 199"
        assert rows[-1] == "… 99,800 more"

        await pilot.press("0", "a", *"many", "enter")
        watch = screen.query_one(WatchTree)
        await wait_for(pilot, lambda: watch.values.get("many"), "the watch's value", 20)
        assert str(watch.values["many"]).startswith("std::vector of length 100000")
        node = watch.watched("many")
        assert node is not None and node.allow_expand
        watch.move_cursor(node)
        await pilot.press("space")
        await wait_for(pilot, lambda: len(node.children) > 1, "the members", 30)
        members = [str(child.label) for child in node.children]
        assert len(members) == SHAPES_SHOWN + 2
        assert members[0].startswith("[0]") and members[0].endswith("= 0")
        assert members[-2].startswith("[200]") and members[-2].endswith("= 200")
        assert members[-1] == "… 99,799 more"
