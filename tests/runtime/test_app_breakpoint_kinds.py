"""Breakpoints of every kind set from the app's form, on a real docker container and
real gdb: a watchpoint stops the writing thread and the status line says what changed
(checked against the program's memory through /proc), a logpoint prints without a stop
(the threads keep running, seen in /proc), a syscall catchpoint stops in the call's libc
wrapper and says the call, run to cursor stops at the cursor's line."""

from __future__ import annotations

import re
from pathlib import Path

from textual.pilot import Pilot

from cntr_tui.app.screens.breakpoint_form import BreakpointForm
from cntr_tui.app.screens.debugger import DebuggerScreen
from tests.runtime.test_app import (
    console_text,
    line_of,
    wait_for,
    wait_running,
)
from tests.support.app_session import debugging
from tests.support.fake_debug import Recorder

THREADS_C = Path(__file__).parents[2] / "cntr_tui" / "demo" / "programs" / "threads.c"
TICK_LINE = line_of(THREADS_C, "w->iterations++")
WATCH_DETAIL = re.compile(r"watchpoint trigger #(\d+) \((\d+) -> (\d+)\)")


async def form_filled(pilot: Pilot[None], key: str, *keys: str) -> None:
    """`key` opens the form; `keys` are typed into it, then ctrl+s sets it."""
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, BreakpointForm), "the form", 5)
    form = pilot.app.screen
    await pilot.press(*keys, "ctrl+s")
    await wait_for(pilot, lambda: pilot.app.screen is not form, "the form closed", 10)


async def stop_after(
    pilot: Pilot[None], screen: DebuggerScreen, recorder: Recorder, key: str, said: str
) -> None:
    """`key` resumes the program; wait for the panes after its stop, whose status line
    says `said`."""
    refreshed = recorder.count(DebuggerScreen.Refreshed)
    await pilot.press(key)
    await wait_for(
        pilot,
        lambda: (
            recorder.count(DebuggerScreen.Refreshed) > refreshed
            and not screen.running
            and said in screen.status.state
        ),
        f"the stop after {key} ({said})",
        30,
    )


async def cursor_on_tick(pilot: Pilot[None], screen: DebuggerScreen) -> None:
    """The source pane focused, its cursor on tick's `w->iterations++`."""
    await wait_for(pilot, lambda: screen.source.path, "main's source", 10)
    screen.source.focus()
    screen.source.cursor_line = TICK_LINE


async def test_a_watchpoint_from_the_form_stops_the_writer_and_says_old_and_new(
    start_container,
) -> None:
    async with debugging(start_container) as (pilot, screen, recorder, program):
        await form_filled(pilot, "W", *"workers[1].iterations")
        await wait_for(pilot, lambda: screen.breakpoints, "the watchpoint listed", 10)
        [watch] = screen.breakpoints
        assert (watch.kind, watch.what) == ("watch", "workers[1].iterations")

        await stop_after(pilot, screen, recorder, "c", "watchpoint")
        state = screen.status.state
        found = WATCH_DETAIL.search(state)
        assert found, state
        assert found.group(1) == watch.number
        old, new = int(found.group(2)), int(found.group(3))
        assert new == old + 1
        assert program.all_stopped()
        assert program.counter_values()[1] == new  # the value gdb says is the program's
        # the writer: worker-1 in tick; gdb reports the watchpoint after the store, at the
        # line's end or the next statement's start
        frame = screen.current_frame()
        assert frame is not None and frame.function == "tick"
        assert frame.line in (TICK_LINE, TICK_LINE + 1)
        assert f"■ thread {screen.thread_id} stopped: watchpoint trigger" in state
        assert any(t.id == screen.thread_id and t.name == "worker-1" for t in screen.threads)


async def test_a_logpoint_from_the_form_prints_without_stopping(start_container) -> None:
    async with debugging(start_container) as (pilot, screen, recorder, program):
        await cursor_on_tick(pilot, screen)  # the form's location, prefilled
        await form_filled(pilot, "L", *"logpoint id=%d\\n", "tab", *"w->id")
        await wait_for(pilot, lambda: screen.breakpoints, "the logpoint listed", 10)
        [logpoint] = screen.breakpoints
        assert logpoint.kind == "logpoint" and logpoint.line == TICK_LINE

        stops = recorder.count(DebuggerScreen.Refreshed)
        await pilot.press("c")
        await wait_for(
            pilot,
            lambda: all(f"logpoint id={i}" in console_text(screen) for i in range(3)),
            "each worker's message in the console",
            30,
        )
        await wait_running(pilot, program, "the logpoint")
        assert screen.running and recorder.count(DebuggerScreen.Refreshed) == stops
        assert "stopped" not in screen.status.state


async def test_run_to_cursor_stops_at_the_cursors_line(start_container) -> None:
    async with debugging(start_container) as (pilot, screen, recorder, program):
        await cursor_on_tick(pilot, screen)
        await stop_after(pilot, screen, recorder, "r", "")
        frame = screen.current_frame()
        assert frame is not None and (frame.function, frame.line) == ("tick", TICK_LINE)
        assert screen.source.current_line == TICK_LINE
        assert program.all_stopped()
        # the temporary breakpoint is gone with its stop
        await wait_for(pilot, lambda: not screen.breakpoints, "no breakpoint left", 10)


async def test_a_syscall_catchpoint_from_the_form_stops_at_the_call(start_container) -> None:
    async with debugging(start_container) as (pilot, screen, recorder, program):
        await form_filled(pilot, "K", "tab", *"clock_nanosleep")
        await wait_for(pilot, lambda: screen.breakpoints, "the catchpoint listed", 10)
        [catch] = screen.breakpoints
        assert catch.kind == "catchpoint"

        await stop_after(pilot, screen, recorder, "c", "syscall")
        assert f"#{catch.number} (clock_nanosleep)" in screen.status.state, screen.status.state
        assert program.all_stopped()
        # the stopped thread is inside libc's wrapper of that call
        innermost = screen.frames[screen.thread_id or 0][0]
        assert "clock_nanosleep" in (innermost.function or ""), innermost
