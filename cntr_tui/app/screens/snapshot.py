"""A snapshot of a container's main process, from the container list (`S`): every
thread's stack with its Python frames or the program's goroutines, the locals of the
innermost frames, and how long the program was stopped; the program runs on untraced.
`r` takes another. The work is the debug service's (`SnapshotTaker`, wired in
app/opener.py); this screen shows its lines."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, RichLog, Static

from cntr_tui.app import bindings
from cntr_tui.app.opener import target_of
from cntr_tui.attach.container import Container
from cntr_tui.debug.protocol import DebugUnavailable, SnapshotTaker


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

    @work(exclusive=True, group="snapshot")
    async def take(self) -> None:
        self.say(f"taking a snapshot of {self.container.name}…")
        try:
            target = target_of(self.container, None)
            lines = await self.taker(target)
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
