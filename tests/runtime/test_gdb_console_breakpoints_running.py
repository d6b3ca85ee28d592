"""Breakpoint commands typed at the console while an all-stop program runs (issue 14):
gdb refuses them ("Cannot execute this command while the target is running"), so the
engine runs them in the same hold as the UI's changes (interrupt, command, resume) and
the console gets gdb's answer plus one line with the time the program was stopped.
Real gdb (gdbserver and native) on the threads program on the host, and through an
attach session on docker and plain namespaces (the `running` fixture's four)."""

from __future__ import annotations

import re

from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.gdb.events import ConsoleOutput, Paused
from tests.runtime.test_app import (
    console_text,
    stop_in_tick_shown,
    type_in_console,
    wait_for,
    wait_running,
)
from tests.runtime.test_app_breakpoint_kinds import debugging
from tests.runtime.test_gdb_breakpoints_running import counters_move, running, stops_and_runs
from tests.support.frontend import Program
from tests.support.proc import read_byte, tracer_of, wait_until

__all__ = ["running"]  # the fixture, used by name

PAUSED_LINE = re.compile(r"program paused (\d+\.\d) ms for it\n")


def console_events_text(events) -> str:
    return "".join(event.text for event in events if isinstance(event, ConsoleOutput))


async def test_break_typed_while_running_is_set_and_the_program_stops_there(running):
    session, events, _pid = running
    assert session.state == "running"
    answer = (await session.cli("break tick")).unwrap()
    assert "Cannot execute" not in answer
    assert re.search(r"Breakpoint (\d+) at 0x[0-9a-f]+: file .*threads\.c", answer), answer
    said = PAUSED_LINE.search(answer)
    assert said and 0 < float(said.group(1)) < 5000, answer
    assert said.group(0) in console_events_text(events)  # the console pane shows it from events
    paused = [event for event in events if isinstance(event, Paused)]
    assert len(paused) == 1 and f"{paused[0].seconds * 1000:.1f}" == said.group(1)
    stop = (await session.wait_stopped()).unwrap()
    assert stop.reason == "breakpoint-hit" and stop.frame is not None
    assert stop.frame.function == "tick"
    assert stops_and_runs(events) == [stop]  # the hold's stop and resume were unseen


async def test_delete_typed_while_running_keeps_it_running_and_leaves_no_trap(running):
    session, events, pid = running
    program = Program.of(pid)
    for command in ("b tick if w->id == 99", "disable 1", "enable 1", "condition 1 w->id == 98"):
        answer = (await session.cli(command)).unwrap()
        assert "Cannot execute" not in answer and PAUSED_LINE.search(answer), (command, answer)
    listed = (await session.breakpoints()).unwrap()
    assert len(listed) == 1 and listed[0].condition == "w->id == 98", listed
    address = listed[0].address
    assert address is not None
    assert wait_until(lambda: read_byte(pid, address) == b"\xcc")  # inserted, running on it
    assert session.state == "running" and counters_move(program)
    answer = (await session.cli("delete")).unwrap()
    assert "Cannot execute" not in answer and PAUSED_LINE.search(answer), answer
    assert (await session.breakpoints()).unwrap() == []
    assert session.state == "running" and counters_move(program)  # never left stopped
    assert stops_and_runs(events) == []
    assert sum(isinstance(event, Paused) for event in events) == 5
    assert read_byte(pid, address) != b"\xcc"
    # other commands keep gdb's own answer, with no hold
    other = await session.cli("info frame")
    assert not other.ok or not PAUSED_LINE.search(other.value or "")
    assert sum(isinstance(event, Paused) for event in events) == 5
    assert (await session.detach()).ok
    assert wait_until(lambda: tracer_of(pid) == 0), "still traced"
    assert read_byte(pid, address) != b"\xcc", "a trap is left in the code"
    assert counters_move(program)


async def test_the_console_pane_sets_and_deletes_while_running(start_container) -> None:
    """The app on a docker container: `break tick` typed into the console pane while the
    program runs shows gdb's answer and the pause, and the program stops in tick; after
    a condition that never holds and `continue`, `disable` and `delete` typed while it
    runs keep it running, each with its pause line."""
    async with debugging(start_container) as (pilot, screen, recorder, program):
        await pilot.press("colon")
        await wait_for(pilot, lambda: pilot.app.focused is screen.console.input, "the console", 5)
        await type_in_console(pilot, "continue")
        await wait_running(pilot, program, "`continue`")
        await wait_for(pilot, lambda: screen.running, "the screen's running state", 10)
        refreshed = recorder.count(DebuggerScreen.Refreshed)
        await type_in_console(pilot, "break tick")
        await stop_in_tick_shown(pilot, screen, recorder, program, refreshed)
        shown = console_text(screen)
        assert "Cannot execute" not in shown, shown
        assert re.search(r"Breakpoint 1 at 0x[0-9a-f]+: file", shown), shown
        assert len(PAUSED_LINE.findall(shown + "\n")) == 1, shown
        await type_in_console(pilot, "condition 1 w->id == 99")  # stopped: no hold
        await wait_for(
            pilot, lambda: screen.breakpoints[0].condition, "the breakpoint's condition", 10
        )
        await type_in_console(pilot, "continue")
        await wait_running(pilot, program, "the second `continue`")
        await wait_for(pilot, lambda: screen.running, "the screen's running state", 10)
        await type_in_console(pilot, "disable 1")
        await wait_for(
            pilot,
            lambda: len(PAUSED_LINE.findall(console_text(screen) + "\n")) == 2,
            "the disable's pause line",
            10,
        )
        await wait_running(pilot, program, "the disable's hold")
        await type_in_console(pilot, "delete")
        await wait_for(pilot, lambda: not screen.breakpoints, "the breakpoint deleted", 10)
        await wait_running(pilot, program, "the delete's hold")
        shown = console_text(screen)
        assert len(PAUSED_LINE.findall(shown + "\n")) == 3, shown
        assert "Cannot execute" not in shown, shown
        assert screen.running
        # the status line says what the hold was for (not "to set the breakpoint")
        state = screen.status.state
        assert re.fullmatch(r"▶ running · held \d+ ms for the console command", state), state
