"""Start screen: every running container, live; details of the selected one."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static, Tree
from textual.worker import get_current_worker

from cntr_tui.app import bindings
from cntr_tui.app.listing import ListingResult, fetch_listing
from cntr_tui.app.messages import (
    CoresWanted,
    DebugWanted,
    FilesWanted,
    ShellWanted,
    SnapshotWanted,
)
from cntr_tui.app.threads import deliver
from cntr_tui.attach.container import Container
from cntr_tui.attach.facts import ContainerFacts, ProcessNode, read_facts
from cntr_tui.attach.watcher import ContainerWatcher, watch_containers
from cntr_tui.widgets.container_details import ContainerDetails
from cntr_tui.widgets.container_table import ContainerTable
from cntr_tui.widgets.status_line import StatusLine

REFRESH_SECONDS = 2.0
UPTIME_SECONDS = 5.0
BATCH_SECONDS = 0.05
Lister = Callable[[], ListingResult]
EMPTY_MESSAGE = (
    "No running containers found on this machine.\n\n"
    "Start the demo container with:  cntr-tui demo\n"
    "(or start any docker, podman, containerd, LXC or systemd-nspawn container; "
    "this list updates by itself)"
)


class ContainersScreen(Screen[None]):
    CSS_PATH = "containers.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [*bindings.CONTAINERS]

    class ListingUpdated(Message):
        """A listing finished; tests and the palette follow the list through this."""

        def __init__(self, result: ListingResult) -> None:
            super().__init__()
            self.result = result

    def __init__(self, focus: Container | None = None, lister: Lister | None = None) -> None:
        """`lister` replaces the live watcher with polling that function (fixed data)."""
        super().__init__()
        self.lister = lister
        self.focus_container = focus
        self.listed_once = False
        self.last_warnings: tuple[str, ...] = ()
        self.flush_pending = False
        self.typing_filter = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="filter: words that every shown row contains", id="filter")
        with Horizontal(id="containers-body"):
            yield ContainerTable(id="containers")
            yield Static(EMPTY_MESSAGE, id="empty", markup=False)
            yield ContainerDetails(id="details")
        yield StatusLine(id="status")
        yield Footer()

    @property
    def table(self) -> ContainerTable:
        return self.query_one(ContainerTable)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    def on_mount(self) -> None:
        self.query_one("#filter").display = False
        self.query_one("#empty").display = False
        self.table.focus()
        self.status.busy = "listing containers…"
        if self.lister is None:
            self.follow_containers()
            self.set_interval(UPTIME_SECONDS, self.refresh_uptimes)
        else:
            self.action_refresh()
            self.set_interval(REFRESH_SECONDS, self.refresh_quietly)

    def refresh_quietly(self) -> None:
        if self.is_current:
            self.list_containers()

    def refresh_uptimes(self) -> None:
        if self.is_current and self.listed_once:
            self.table.rebuild()

    @work(group="watcher", exit_on_error=False)
    async def follow_containers(self) -> None:
        """Changes from the watcher (docker events, /proc namespaces), applied in batches."""
        try:
            async with watch_containers() as watcher:
                async for _change in watcher:
                    if not self.flush_pending:
                        self.flush_pending = True
                        self.set_timer(BATCH_SECONDS, lambda w=watcher: self.flush_changes(w))
        except Exception as error:  # the watcher failed: say so, fall back to polling
            self.status.state = f"⚠ live updates stopped ({error}); polling instead"
            self.set_interval(REFRESH_SECONDS, self.refresh_quietly)

    def flush_changes(self, watcher: ContainerWatcher) -> None:
        self.flush_pending = False
        self.show_listing(
            ListingResult(
                containers=tuple(watcher.containers.values()),
                warnings=tuple(watcher.warnings),
            )
        )

    def action_refresh(self) -> None:
        self.status.busy = "listing containers…"
        self.list_containers()

    @work(thread=True, exclusive=True, group="listing")
    def list_containers(self) -> None:
        result = (self.lister or fetch_listing)()
        if not get_current_worker().is_cancelled:
            deliver(self.app, self.show_listing, result)

    def show_listing(self, result: ListingResult) -> None:
        self.status.busy = ""
        if result.error is not None:
            self.status.state = "⚠ " + result.error
            self.post_message(self.ListingUpdated(result))
            return
        self.table.show(result.containers)
        if self.focus_container is not None and not self.listed_once:
            self.select_focus(self.focus_container, result.containers)
        self.listed_once = True
        empty = not result.containers
        self.table.display = not empty
        self.query_one("#empty").display = empty
        self.show_counts()
        self.show_context()
        if result.warnings != self.last_warnings:
            for warning in result.warnings:
                self.notify(warning, title="Runtime", severity="warning", timeout=6)
            self.last_warnings = result.warnings
        self.post_message(self.ListingUpdated(result))

    def select_focus(self, focus: Container, containers: tuple[Container, ...]) -> None:
        """The container to start on: same runtime and id, else the same main PID."""
        found = next((c for c in containers if c.key == focus.key), None) or next(
            (c for c in containers if c.pid == focus.pid), None
        )
        if found is not None:
            self.table.select_container(found.key)

    @on(ContainerTable.Selected)
    def container_selected(self, event: ContainerTable.Selected) -> None:
        self.details.show(event.container)
        if event.container is not None:
            self.load_facts(event.container)

    @work(thread=True, exclusive=True, group="facts")
    def load_facts(self, container: Container) -> None:
        facts = read_facts(container)
        if not get_current_worker().is_cancelled:
            deliver(self.app, self.show_facts, container, facts)

    def show_facts(self, container: Container, facts: ContainerFacts) -> None:
        if self.table.selected == container:
            self.details.show(container, facts)

    @on(DataTable.RowSelected, "#containers")
    def row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_debug()

    def chosen(self) -> Container | None:
        container = self.table.selected
        if container is None:
            self.notify("No container selected.", severity="warning")
        return container

    @property
    def details(self) -> ContainerDetails:
        return self.query_one(ContainerDetails)

    def moving(self) -> ContainerTable | Tree[ProcessNode]:
        """What j/k move: the process tree when it has the focus, else the list."""
        processes = self.details.processes
        return processes if processes.has_focus else self.table

    def action_cursor_down(self) -> None:
        self.moving().action_cursor_down()

    def action_cursor_up(self) -> None:
        self.moving().action_cursor_up()

    def action_processes(self) -> None:
        """p: into the selected container's process tree (esc goes back to the list)."""
        processes = self.details.processes
        if not processes.display:
            self.notify("No processes shown yet.", severity="warning")
            return
        self.set_focus(processes)
        if processes.cursor_node is None or processes.cursor_node.data is None:
            processes.cursor_line = 1 if processes.root.children else 0  # the main process
        self.status.context = "picking a process: j/k move, enter debugs it, esc back to the list"

    def action_debug(self) -> None:
        """Debug the container's main process, or the process picked in its tree."""
        container = self.chosen()
        if container is None:
            return
        picked = self.details.picked()
        self.post_message(DebugWanted(container, picked.pid if picked is not None else None))

    @on(Tree.NodeSelected, "#details-processes")
    def process_chosen(self, event: Tree.NodeSelected[ProcessNode]) -> None:
        event.stop()
        self.action_debug()

    def action_snapshot(self) -> None:
        container = self.chosen()
        if container is not None:
            self.post_message(SnapshotWanted(container))

    def action_cores(self) -> None:
        self.post_message(CoresWanted(self.table.selected))

    def action_files(self) -> None:
        container = self.chosen()
        if container is not None:
            self.post_message(FilesWanted(container))

    def action_shell(self) -> None:
        container = self.chosen()
        if container is not None:
            self.post_message(ShellWanted(container))

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.display = True
        self.set_focus(field)
        self.typing_filter = True
        self.show_context()

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.value = ""
        field.display = False
        self.table.set_filter("")
        self.set_focus(self.table)
        self.typing_filter = False
        self.show_context()

    def action_sort(self) -> None:
        self.table.cycle_sort()
        self.show_context()

    def show_context(self) -> None:
        """Sort order and filter state; `filtered by` tells the filter field is left."""
        parts = [f"sorted by {self.table.sort_column.label.lower()}"]
        if self.typing_filter:
            parts.append("typing a filter: enter keeps it, esc clears it")
        elif self.table.filter_text:
            parts.append(f"filtered by {self.table.filter_text!r}")
        self.status.context = "  ·  ".join(parts)

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self.show_counts()

    def show_counts(self) -> None:
        count = len(self.table.containers)
        shown = len(self.table.visible_keys)
        self.status.state = f"{count} container{'s' if count != 1 else ''}" + (
            f", {shown} shown" if shown != count or self.table.filter_text else ""
        )

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self.set_focus(self.table)
        self.typing_filter = False
        self.show_context()
