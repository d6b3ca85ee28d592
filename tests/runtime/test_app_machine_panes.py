"""The registers, disassembly and memory panes against a real container and real gdb,
each value checked against what the kernel says of the stopped program (/proc), not
against gdb's own answers."""

from __future__ import annotations

from cntr_tui.app.app import CntrApp
from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.widgets.disassembly import DisassemblyView, SourceRow
from cntr_tui.widgets.memory import MemoryView
from cntr_tui.widgets.registers import RegistersTable
from tests.runtime.test_app import SIZE, stopped_in_tick, type_in_console, wait_for
from tests.support.fake_debug import Recorder
from tests.support.frontend import Program, load_base, symbol_value
from tests.support.proc import read_memory

WORKERS_BYTES = 3 * 40  # struct worker workers[3]


async def test_registers_disassembly_and_memory_show_the_stopped_program(start_container):
    started = start_container("docker")
    recorder = Recorder()
    app = CntrApp()
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await stopped_in_tick(pilot, app, started, recorder)
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
