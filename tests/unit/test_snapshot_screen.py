"""The snapshot screen (S on a container), on a fake snapshot taker: no root, no gdb.
The real taker runs on a docker container in tests/runtime/test_app_languages.py."""

from __future__ import annotations

from textual.widgets import RichLog

from cntr_tui.app.app import CntrApp
from cntr_tui.app.listing import ListingResult
from cntr_tui.app.screens.snapshot import SnapshotScreen
from cntr_tui.debug.protocol import DebugUnavailable
from cntr_tui.debug.target import DebugTarget
from cntr_tui.settings import Settings
from tests.support.fake_debug import FakeOpener
from tests.unit.test_screens import SIZE, WEB, select_web, settings, until

__all__ = ["settings"]

LINES = [
    "docker web, process 1 (host PID 4242): 2 threads, stopped for 12.5 ms, running again untraced",
    "",
    "1 thread in __libc_recv <- read_request <- serve_forever",
    "  py  read_request at /app/service.py:63",
]


class FakeTaker:
    def __init__(self, failure: str | None = None) -> None:
        self.targets: list[DebugTarget] = []
        self.failure = failure

    async def __call__(self, target: DebugTarget) -> list[str]:
        self.targets.append(target)
        if self.failure is not None:
            raise DebugUnavailable(self.failure)
        return [*LINES, f"(snapshot {len(self.targets)})"]


def app_with(taker: FakeTaker, settings: Settings) -> CntrApp:
    return CntrApp(
        lister=lambda: ListingResult(containers=(WEB,)),
        opener=FakeOpener(),
        settings=settings,
        snapshotter=taker,
    )


def shown(screen: SnapshotScreen) -> list[str]:
    return [line.text for line in screen.query_one(RichLog).lines]


async def test_s_takes_a_snapshot_of_the_container_and_r_takes_another(settings: Settings) -> None:
    taker = FakeTaker()
    app = app_with(taker, settings)
    async with app.run_test(size=SIZE) as pilot:
        await select_web(pilot, app)
        await pilot.press("S")
        await until(pilot, lambda: isinstance(app.screen, SnapshotScreen), "the snapshot screen")
        screen = app.screen
        assert isinstance(screen, SnapshotScreen)
        await until(pilot, lambda: screen.taken == 1, "the snapshot")
        [target] = taker.targets
        assert (target.host_pid, target.container) == (WEB.pid, WEB)
        assert shown(screen)[:4] == LINES and screen.state == LINES[0]
        await pilot.press("r")
        await until(pilot, lambda: screen.taken == 2, "the second snapshot")
        assert shown(screen)[-1] == "(snapshot 2)" and "(snapshot 1)" not in shown(screen)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, SnapshotScreen), "back")


async def test_a_snapshot_that_cannot_be_taken_says_why(settings: Settings) -> None:
    why = "docker container web is paused: its processes are frozen (fix: docker unpause web)"
    app = app_with(FakeTaker(why), settings)
    async with app.run_test(size=SIZE) as pilot:
        await select_web(pilot, app)
        await pilot.press("S")
        await until(pilot, lambda: isinstance(app.screen, SnapshotScreen), "the snapshot screen")
        screen = app.screen
        assert isinstance(screen, SnapshotScreen)
        await until(pilot, lambda: screen.state.startswith("no snapshot"), "the reason")
        assert screen.state == f"no snapshot: {why}" and shown(screen) == []
