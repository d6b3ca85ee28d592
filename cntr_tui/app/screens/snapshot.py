"""A snapshot of a container's main process, from the container list (`S`): every
thread's stack with its Python frames or the program's goroutines, the locals of the
innermost frames, and how long the program was stopped; the program runs on untraced.
`r` takes another. The work is the debug service's (`SnapshotTaker`, wired in
app/opener.py); this screen shows its lines."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, RichLog, Static

from cntr_tui.app import bindings
from cntr_tui.app.opener import target_of
from cntr_tui.attach.container import Container
from cntr_tui.debug.core_shelf import CoreShelf
from cntr_tui.debug.protocol import DebugUnavailable, SnapshotTaker
from cntr_tui.debug.target import DebugTarget


class SnapshotScreen(Screen[None]):
    SUB_TITLE = "snapshot"
    BINDINGS: ClassVar[list[BindingType]] = [*bindings.SNAPSHOT]
    DEFAULT_CSS = """
    SnapshotScreen #snapshot-state { height: 1; padding: 0 1; color: $text-muted; }
    SnapshotScreen RichLog { height: 1fr; }
    """

    def __init__(self, container: Container, taker: SnapshotTaker) -> None:
        super().__init__()
        self.container = container
        self.taker = taker
        self.lines: list[str] = []
        self.taken = 0  # snapshots shown

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="snapshot-state", markup=False)
        yield RichLog(id="snapshot-lines", wrap=False, markup=False, highlight=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"snapshot · {self.container.runtime} {self.container.name}"
        self.take()

    @property
    def state(self) -> str:
        return str(self.query_one("#snapshot-state", Static).content)

    def say(self, text: str) -> None:
        self.query_one("#snapshot-state", Static).update(text)

    async def read_lines(self) -> list[str]:
        """The snapshot's text; DebugUnavailable with the reason it cannot be taken."""
        self.say(f"taking a snapshot of {self.container.name}…")
        return await self.taker(target_of(self.container, None))

    @work(exclusive=True, group="snapshot")
    async def take(self) -> None:
        try:
            lines = await self.read_lines()
        except DebugUnavailable as error:
            self.say(f"no snapshot: {error}")
            return
        self.lines = lines
        self.taken += 1
        log = self.query_one(RichLog)
        log.clear()
        for line in lines:
            log.write(line)
        self.say(lines[0] if lines else "an empty snapshot")

    def action_again(self) -> None:
        self.take()

    def action_close(self) -> None:
        self.dismiss()


class CoreScreen(SnapshotScreen):
    """A kept core shown as a snapshot is (from the cores list); `r` reads it again."""

    SUB_TITLE = "core"

    def __init__(self, core: Path, container: Container, shelf: CoreShelf) -> None:
        super().__init__(container, no_taker)
        self.core = core
        self.shelf = shelf

    def on_mount(self) -> None:
        self.sub_title = f"core · {self.core}"
        self.take()

    async def read_lines(self) -> list[str]:
        self.say(f"opening {self.core}…")
        return await self.shelf.read(self.core)


async def no_taker(target: DebugTarget) -> list[str]:
    raise DebugUnavailable("a core is read, not taken")
