"""The app's debugger on a new docker container running the demo, for the app's runtime
tests: `debugging` (attached), `stopped_in_tick_app` (and stopped where a worker hit
`break tick`, typed in the console).

The steps themselves are tests/runtime/test_app.py's (attached_debugger, stopped_in_tick),
imported when called: test_app uses these too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from textual.pilot import Pilot

from cntr_tui.app.app import CntrApp
from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.demo.containers import StartedContainer
from tests.support.fake_debug import Recorder
from tests.support.frontend import Program


@asynccontextmanager
async def debugging(
    start_container: Callable[[str], StartedContainer],
) -> AsyncIterator[tuple[Pilot[None], DebuggerScreen, Recorder, Program]]:
    """The app's debugger attached to a new docker container running the demo."""
    from tests.runtime.test_app import SIZE, attached_debugger

    started = start_container("docker")
    recorder = Recorder()
    app = CntrApp()
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await attached_debugger(pilot, app, started, recorder)
        yield pilot, screen, recorder, Program.of(started.pid)


@asynccontextmanager
async def stopped_in_tick_app(
    start_container: Callable[[str], StartedContainer], **app_options: Any
) -> AsyncIterator[tuple[Pilot[None], CntrApp, DebuggerScreen, Recorder, StartedContainer]]:
    """A new app (`app_options` to CntrApp) on a new docker container running the demo,
    its console focused, stopped where a worker hit `break tick`: (pilot, app, the
    debugger, the message recorder, the container)."""
    from tests.runtime.test_app import SIZE, stopped_in_tick

    started = start_container("docker")
    recorder = Recorder()
    app = CntrApp(**app_options)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await stopped_in_tick(pilot, app, started, recorder)
        yield pilot, app, screen, recorder, started
