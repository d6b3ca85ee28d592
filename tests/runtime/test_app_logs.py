"""The debugger's Logs tab on a real docker container (issue 14): the container's own
log stream, read through docker's API, live, with the program's stops marked in it, so a
user sees what the program printed just before it stopped. The program's line at its
start is there; a line the program itself prints while stopped (gdb calls its puts)
comes through docker's log, and the next stop's marker comes after it."""

from __future__ import annotations

import re

from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.widgets.logs import LogsPane
from tests.runtime.test_app import (
    console_text,
    stop_in_tick_shown,
    type_in_console,
    wait_for,
)
from tests.support.app_session import stopped_in_tick_app
from tests.support.frontend import Program

PRINTED = "cntr-test: printed by the program while stopped"


def stop_markers(lines: list[str]) -> list[int]:
    return [index for index, line in enumerate(lines) if "── " in line and "stop" in line]


async def test_the_logs_tab_shows_the_container_log_with_the_stops_marked(start_container):
    async with stopped_in_tick_app(start_container) as (pilot, app, screen, recorder, started):
        logs = screen.query_one(LogsPane)
        await pilot.press("escape")  # out of the console: l is the screen's
        await pilot.press("l")
        await wait_for(pilot, lambda: logs.display and logs.region.height > 0, "the tab", 10)
        assert started.name in str(logs.border_title), logs.border_title
        await wait_for(
            pilot,
            lambda: any(re.search(r"ready \d+ workers", line) for line in logs.lines),
            "the program's first line, from docker's log",
            20,
        )
        assert stop_markers(logs.lines), logs.lines  # the stop in tick

        await pilot.press("colon")
        await wait_for(pilot, lambda: app.focused is screen.console.input, "the console", 5)
        # the calls let every thread run: with the breakpoint on, another would stop them
        await type_in_console(pilot, "disable 1")
        await type_in_console(pilot, f'call (int)puts("{PRINTED}")')
        await type_in_console(pilot, "call (int)fflush(0)")
        await type_in_console(pilot, "enable 1")
        await wait_for(
            pilot,
            lambda: any(PRINTED in line for line in logs.lines),
            f"the printed line (console: {console_text(screen)[-600:]!r}, logs: {logs.lines})",
            20,
        )
        refreshed = recorder.count(DebuggerScreen.Refreshed)
        await type_in_console(pilot, "continue")
        await stop_in_tick_shown(pilot, screen, recorder, Program.of(started.pid), refreshed)
        await wait_for(
            pilot,
            lambda: (
                stop_markers(logs.lines)[-1]
                > next(i for i, line in enumerate(logs.lines) if PRINTED in line)
            ),
            "the next stop's marker after the printed line",
            10,
        )
