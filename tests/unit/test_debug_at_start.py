"""`cntr-tui ui --debugger CONTAINER` (CntrApp's debug_at_start) on the fake engine,
with the live list's watcher replaced by one the test drives: the list's first answer
arriving before the attach, after it, or again later never covers the debugger; a
failed open at start is the error dialog. The real command runs in
tests/runtime/test_cli_ui.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from cntr_tui.app.app import CntrApp
from cntr_tui.app.screens import containers as containers_screen
from cntr_tui.app.screens.containers import ContainersScreen
from cntr_tui.app.screens.debugger import DebuggerScreen
from cntr_tui.app.screens.error import ErrorDialog
from cntr_tui.attach.container import Container
from cntr_tui.attach.watcher import ContainerChange
from cntr_tui.debug.protocol import DebugUnavailable
from cntr_tui.settings import Settings
from cntr_tui.widgets.container_table import ContainerTable
from tests.support.fake_debug import FakeOpener, Recorder
from tests.unit.test_screens import CACHE, SIZE, WEB, until


class DrivenWatcher:
    """watch_containers' stand-in: each `answer()` is one change the screen hears."""

    def __init__(self) -> None:
        self.containers: dict[tuple[str, str], Container] = {}
        self.warnings: list[str] = []
        self.changes: asyncio.Queue[ContainerChange] = asyncio.Queue()
        self.opened = asyncio.Event()

    def answer(self, *found: Container) -> None:
        self.containers = {container.key: container for container in found}
        self.changes.put_nowait(ContainerChange("added", found[0]))

    async def __aenter__(self) -> DrivenWatcher:
        self.opened.set()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def __aiter__(self) -> AsyncIterator[ContainerChange]:
        while True:
            yield await self.changes.get()


@pytest.fixture
def watcher(monkeypatch: pytest.MonkeyPatch) -> DrivenWatcher:
    driven = DrivenWatcher()
    monkeypatch.setattr(containers_screen, "watch_containers", lambda: driven)
    return driven


def app_at_start(opener: FakeOpener, tmp_path: Path) -> CntrApp:
    return CntrApp(
        focus=WEB,
        opener=opener,
        settings=Settings(keymap_file=str(tmp_path / "keymap.toml")),
        debug_at_start=True,
    )


def listed(app: CntrApp) -> bool:
    screen = next(s for s in app.screen_stack if isinstance(s, ContainersScreen))
    return screen.listed_once and screen.query_one(ContainerTable).selected == WEB


async def attached_on_web(pilot: Pilot[None], opener: FakeOpener, recorder: Recorder) -> None:
    await until(pilot, lambda: recorder.count(DebuggerScreen.Attached), "the attach")
    screen = pilot.app.screen
    assert isinstance(screen, DebuggerScreen), pilot.app.screen_stack
    assert screen.container == WEB and [t.container for t in opener.targets] == [WEB]


@pytest.mark.parametrize("first", ["list", "attach"])
async def test_the_debugger_stays_whichever_comes_first(
    watcher: DrivenWatcher, tmp_path: Path, first: str
) -> None:
    opener = FakeOpener()
    opener.gate = asyncio.Event()
    recorder = Recorder()
    app = app_at_start(opener, tmp_path)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await until(pilot, lambda: opener.targets and watcher.opened.is_set(), "both started")
        assert isinstance(app.screen, DebuggerScreen)  # pushed before either answered
        if first == "list":
            watcher.answer(CACHE, WEB)
            await until(pilot, lambda: listed(app), "the list's first answer")
            assert isinstance(app.screen, DebuggerScreen)
            opener.gate.set()
            await attached_on_web(pilot, opener, recorder)
        else:
            opener.gate.set()
            await attached_on_web(pilot, opener, recorder)
            watcher.answer(CACHE, WEB)
            await until(pilot, lambda: listed(app), "the list's first answer")
        watcher.answer(WEB)  # a later change: the list under the debugger follows it
        await until(pilot, lambda: CACHE.key not in watcher.containers, "the change")
        await pilot.pause()
        await attached_on_web(pilot, opener, recorder)
        assert recorder.count(DebuggerScreen.Detached) == 0


async def test_a_failed_open_at_start_is_the_error_dialog(
    watcher: DrivenWatcher, tmp_path: Path
) -> None:
    failure = DebugUnavailable("ptrace: Operation not permitted.", "run cntr-tui as root")
    opener = FakeOpener(failure=failure)
    app = app_at_start(opener, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog), "the dialog", 15)
        dialog = app.screen
        assert isinstance(dialog, ErrorDialog)
        assert dialog.error_title == "Cannot debug web"
        assert dialog.message.startswith(str(failure))
        assert [type(s) for s in app.screen_stack[1:]] == [ContainersScreen, ErrorDialog]
