"""The cores list (`C` on the containers screen): every core cntr-tui kept on the host,
and the cores the kernel wrote into the selected container for its crashed processes.
`enter` opens one as a read-only snapshot (threads, stacks and locals, from the kept
objects); a kernel's core is kept on the host first, so it still opens once the
container is gone. The work is the `CoreShelf`'s (wired in app/opener.py)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from cntr_tui.app import bindings
from cntr_tui.app.messages import CoreWanted
from cntr_tui.app.threads import deliver
from cntr_tui.attach.container import Container
from cntr_tui.debug.core_shelf import CoreShelf, ListedCore
from cntr_tui.debug.protocol import DebugUnavailable

COLUMNS = ("kind", "container", "pid", "signal", "written", "size", "core")


class CoresScreen(Screen[None]):
    SUB_TITLE = "cores"
    BINDINGS: ClassVar[list[BindingType]] = [*bindings.CORES]
    DEFAULT_CSS = """
    CoresScreen #cores-state { height: 1; padding: 0 1; color: $text-muted; }
    CoresScreen DataTable { height: 1fr; }
    """

    def __init__(self, container: Container | None, shelf: CoreShelf) -> None:
        super().__init__()
        self.container = container
        self.shelf = shelf
        self.listed: list[ListedCore] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="cores-state", markup=False)
        table: DataTable[str] = DataTable(id="cores", cursor_type="row")
        table.add_columns(*COLUMNS)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        if self.container is not None:
            self.sub_title = f"cores · kept, and in {self.container.runtime} {self.container.name}"
        self.say("looking for cores…")
        self.list_cores()

    def say(self, text: str) -> None:
        self.query_one("#cores-state", Static).update(text)

    @property
    def state(self) -> str:
        return str(self.query_one("#cores-state", Static).content)

    @work(thread=True, exclusive=True, group="cores")
    def list_cores(self) -> None:
        found, note = self.shelf.listing(self.container)
        deliver(self.app, self.show_cores, found, note)

    def show_cores(self, found: list[ListedCore], note: str) -> None:
        self.listed = found
        table = self.query_one("#cores", DataTable)
        table.clear()
        for index, core in enumerate(found):
            table.add_row(*core.cells(), key=str(index))
        kept = sum(1 for c in found if c.kind == "kept")
        said = f"{kept} kept on the host, {len(found) - kept} written by the kernel"
        self.say(f"{said}; {note}" if note else said)

    def chosen(self) -> ListedCore | None:
        row = self.query_one("#cores", DataTable).cursor_row
        return self.listed[row] if 0 <= row < len(self.listed) else None

    @on(DataTable.RowSelected, "#cores")
    def row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        core = self.chosen()
        if core is not None:
            self.keep_and_open(core)

    @work(thread=True, exclusive=True, group="keep")
    def keep_and_open(self, core: ListedCore) -> None:
        if core.kind == "kernel":
            deliver(self.app, self.say, f"keeping {core.core} on the host…")
        try:
            path = self.shelf.keep(core)
        except DebugUnavailable as error:
            deliver(self.app, self.say, str(error))
            return
        deliver(self.app, self.open_kept, path, core)

    def open_kept(self, path: Path, core: ListedCore) -> None:
        if core.kind == "kernel":
            self.notify(f"kept at {path}", title="Core")
            self.list_cores()
        shown = self.container or Container(
            core.runtime or "host", core.container_id or "", core.container or "?", 0, status="core"
        )
        self.post_message(CoreWanted(path, shown))

    def action_refresh(self) -> None:
        self.list_cores()

    def action_close(self) -> None:
        self.dismiss()
