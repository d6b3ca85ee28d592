"""The debugger: source, threads and stacks, locals, mounts, gdb console, status."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, TabbedContent, TabPane

from cntr_tui.app.debugging import DebugConnection, DebugUnavailable, Outcome
from cntr_tui.app.threads import deliver
from cntr_tui.attach.container import Container
from cntr_tui.gdb.records import Breakpoint, Frame, Thread
from cntr_tui.widgets.breakpoints import BreakpointsTable
from cntr_tui.widgets.gdb_console import GdbConsole
from cntr_tui.widgets.locals import LocalsTree
from cntr_tui.widgets.mount_view import MountTable
from cntr_tui.widgets.source_view import SourceFile, SourceView
from cntr_tui.widgets.status_line import StatusLine
from cntr_tui.widgets.symbols import SymbolsTable
from cntr_tui.widgets.threads import ThreadsTree

ALIVE_CHECK_SECONDS = 1.0
PANES = ("source", "threads", "locals", "console", "mounts", "breakpoints")
TABBED = {"console": "tab-console", "mounts": "tab-mounts", "breakpoints": "tab-breakpoints"}


class DebuggerScreen(Screen[None]):
    CSS_PATH = "debugger.tcss"
    SUB_TITLE = "debugger"

    BINDINGS = [
        Binding("c,f5", "continue", "Continue", id="debugger.continue"),
        Binding("n,f10", "next", "Next", id="debugger.next"),
        Binding("s,f11", "step", "Step", id="debugger.step"),
        Binding("f,shift+f11", "finish", "Finish", id="debugger.finish"),
        Binding("b,f9", "toggle_breakpoint", "Breakpoint", id="debugger.breakpoint"),
        Binding("i,ctrl+c", "interrupt", "Interrupt", id="debugger.interrupt"),
        Binding("u", "frame(1)", "Up", id="debugger.up"),
        Binding("d", "frame(-1)", "Down", id="debugger.down"),
        Binding("colon", "console", "Console", key_display=":", id="debugger.console"),
        Binding("o", "files", "Files", id="debugger.files"),
        Binding("y", "symbols", "Symbols", show=False, id="debugger.symbols"),
        Binding("1", "pane('source')", "Source", show=False, id="debugger.pane1"),
        Binding("2", "pane('threads')", "Threads", show=False, id="debugger.pane2"),
        Binding("3", "pane('locals')", "Locals", show=False, id="debugger.pane3"),
        Binding("4", "pane('console')", "Console pane", show=False, id="debugger.pane4"),
        Binding("5", "pane('mounts')", "Mounts", show=False, id="debugger.pane5"),
        Binding("6", "pane('breakpoints')", "Breakpoints", show=False, id="debugger.pane6"),
        Binding("escape", "back", "Detach", id="debugger.back"),
    ]

    class Attached(Message):
        """gdb is attached and the panes show its first stop."""

    class Refreshed(Message):
        """The panes show the state after a stop."""

    class Detached(Message):
        pass

    def __init__(self, container: Container, host_pid: int | None = None) -> None:
        super().__init__()
        self.container = container
        self.connection = DebugConnection(container, host_pid or container.pid)
        self.threads: list[Thread] = []
        self.frames: dict[int, list[Frame]] = {}
        self.thread_id: int | None = None
        self.frame_level = 0
        self.running = False
        self.attached = False
        self.breakpoints: list[Breakpoint] = []
        self.leaving = False
        self.sources: dict[str, tuple[str | None, tuple[str, ...]]] = {}
        self.following_events = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="debugger-top"):
            yield SourceView(id="source")
            with Vertical(id="debugger-side"):
                yield ThreadsTree(id="threads")
                yield LocalsTree(id="locals")
        with TabbedContent(id="debugger-tabs"):
            with TabPane("4 console", id="tab-console"):
                yield GdbConsole(id="console")
            with TabPane("5 mounts", id="tab-mounts"):
                yield MountTable(id="mounts")
            with TabPane("6 breakpoints", id="tab-breakpoints"):
                yield BreakpointsTable(id="breakpoints")
            with TabPane("symbols", id="tab-symbols"):
                yield SymbolsTable(id="symbols")
        yield StatusLine(id="debugger-status")
        yield Footer()

    @property
    def source(self) -> SourceView:
        return self.query_one(SourceView)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    @property
    def console(self) -> GdbConsole:
        return self.query_one(GdbConsole)

    def on_mount(self) -> None:
        self.sub_title = f"debugger · {self.container.name}"
        titles = {"source": "1 source", "threads": "2 threads", "locals": "3 locals"}
        for pane, title in titles.items():
            self.query_one(f"#{pane}").border_title = title
        self.status.context = f"{self.container.runtime} {self.container.name}"
        self.source.show_message(f"Attaching to {self.container.name}…")
        self.query_one("#threads").loading = True
        self.source.focus()
        self.connect()
        self.set_interval(ALIVE_CHECK_SECONDS, self.check_alive)

    # --- attach and detach -------------------------------------------------------

    def progress(self, text: str) -> None:
        # also called while the app exits, when the panes may be gone already
        for status in self.query(StatusLine):
            status.busy = text

    @work(exclusive=True, group="attach")
    async def connect(self) -> None:
        try:
            await self.connection.open(self.progress)
        except DebugUnavailable as error:
            from cntr_tui.preflight import explain

            self.status.busy = "checking why (cntr-tui doctor)…"
            findings = await asyncio.to_thread(explain, self.container)  # before leave()
            self.status.busy = ""
            await self.leave()
            self.app.show_error(  # type: ignore[attr-defined]
                f"Cannot debug {self.container.name}", str(error) + findings, error.fix
            )
            return
        self.attached = True
        self.status.busy = ""
        self.status.context = (
            f"{self.container.runtime} {self.container.name} · PID "
            f"{self.connection.container_pid()} · {self.connection.mode}"
        )
        self.follow_events()
        self.load_mounts()
        for location in self.app.pending_breakpoints.take(self.container):  # type: ignore[attr-defined]
            await self.insert_breakpoint(location)
        await self.refresh_state(None)
        self.load_symbols()
        self.post_message(self.Attached())

    async def close_session(self) -> None:
        """Detach from the process (it keeps running) and end gdb and the session."""
        if self.connection.gdb is not None or self.connection.attach_session is not None:
            self.progress("detaching…")
            await self.connection.close()
            self.progress("")
        self.attached = False

    async def leave(self) -> None:
        if self.leaving:
            return
        self.leaving = True
        await self.close_session()
        self.post_message(self.Detached())
        if self.is_attached and self in self.app.screen_stack:
            with contextlib.suppress(Exception):
                if self.app.screen is not self:
                    self.app.pop_screen()  # a dialog above us
                self.dismiss()

    def on_unmount(self) -> None:
        if self.connection.gdb is not None:
            self.app.run_worker(self.connection.close(), exit_on_error=False)

    async def action_back(self) -> None:
        await self.leave()

    def check_alive(self) -> None:
        if not self.leaving and not self.connection.alive():
            self.notify(
                f"{self.container.name} stopped; back to the container list.",
                title="Container stopped",
                severity="warning",
                timeout=8,
            )
            self.run_worker(self.leave(), group="leave")

    # --- events from gdb ---------------------------------------------------------

    @work(group="events")
    async def follow_events(self) -> None:
        from cntr_tui.gdb import events as gdb_events

        stream = self.connection.events()
        if stream is None:
            self.console.write_output("(the gdb engine sends no events; press r to refresh)")
            return
        self.following_events = True
        async for event in stream:
            match event:
                case gdb_events.Stopped():
                    self.running = False
                    self.status.state = stop_text(event)
                    self.refresh_after_stop(event.thread_id)
                case gdb_events.Running():
                    self.running = True
                    self.status.state = "▶ running"
                    self.source.current_line = None
                    self.source.refresh()
                case (
                    gdb_events.BreakpointCreated()
                    | gdb_events.BreakpointModified()
                    | gdb_events.BreakpointDeleted()
                ):
                    self.refresh_breakpoints()
                case gdb_events.ConsoleOutput() | gdb_events.TargetOutput():
                    self.console.write_output(event.text)
                case gdb_events.LogOutput():
                    self.console.write_output(event.text, style="italic")
                case gdb_events.SessionEnded():
                    self.on_session_ended(event.kind, event.reason)
                    return

    def on_session_ended(self, kind: str, reason: str) -> None:
        if self.leaving or self.connection.closing is not None:
            return  # we are the ones detaching
        severity = "information" if kind == "detached" else "warning"
        self.notify(reason, title=f"{self.container.name}: {kind}", severity=severity, timeout=8)
        self.run_worker(self.leave(), group="leave")

    # --- state after a stop --------------------------------------------------------

    @work(exclusive=True, group="refresh")
    async def refresh_after_stop(self, thread_id: int | None) -> None:
        await self.refresh_state(thread_id)

    async def refresh_state(self, thread_id: int | None) -> None:
        threads = await self.connection.call(("threads", "thread_info", "list_threads"))
        self.query_one("#threads").loading = False
        if not threads.ok:
            self.console.write_output(f"threads: {threads.error}", style="italic")
            return
        self.threads = list(threads.value or [])
        if not self.threads:
            return
        known = {thread.id for thread in self.threads}
        if thread_id not in known:
            thread_id = self.thread_id if self.thread_id in known else self.threads[0].id
        self.thread_id = thread_id
        self.running = all(thread.state == "running" for thread in self.threads)
        if not self.status.state:
            self.status.state = "▶ running" if self.running else "■ stopped (attached)"
        self.frames = {}
        self.query_one(ThreadsTree).show_threads(self.threads, thread_id)
        await self.load_backtrace(thread_id)
        self.frame_level = await self.first_frame_with_source(self.frames.get(thread_id, []))
        await self.show_frame()
        await self.load_breakpoints()
        self.post_message(self.Refreshed())

    async def load_backtrace(self, thread_id: int) -> None:
        frames = await self.connection.call(("backtrace", "stack_frames", "frames"), thread_id)
        if frames.ok:
            self.frames[thread_id] = list(frames.value or [])
            self.query_one(ThreadsTree).show_backtrace(thread_id, self.frames[thread_id])

    async def first_frame_with_source(self, frames: list[Frame]) -> int:
        """Like cgdb and IDEs: show the innermost frame whose source we can open."""
        for frame in frames:
            name = frame.fullname or frame.file
            if name and frame.line is not None and (await self.source_text(name))[0] is not None:
                return frame.level
        return frames[0].level if frames else 0

    async def source_text(self, name: str) -> tuple[str | None, tuple[str, ...]]:
        """A source file's text (read in a thread: it may come through FUSE), cached."""
        if name not in self.sources:
            self.sources[name] = await asyncio.to_thread(self.connection.read_source, name)
        return self.sources[name]

    def current_frame(self) -> Frame | None:
        frames = self.frames.get(self.thread_id or -1, [])
        return next((frame for frame in frames if frame.level == self.frame_level), None)

    async def show_frame(self) -> None:
        frame = self.current_frame()
        if frame is None:
            self.source.show_message("No frame selected (the process is running?).")
            return
        await self.show_source_of(frame)
        variables = await self.connection.call(
            ("variables", "frame_variables"), self.thread_id, frame.level
        )
        locals_tree = self.query_one(LocalsTree)
        if variables.ok:
            locals_tree.show_variables(list(variables.value or []))
        else:
            locals_tree.show_message(str(variables.error))

    async def show_source_of(self, frame: Frame) -> None:
        name = frame.fullname or frame.file
        if not name or frame.line is None:
            where = frame.library or (hex(frame.address) if frame.address else "?")
            self.source.show_message(
                f"#{frame.level} {frame.function or '??'} in {where}: no line information "
                "(no debug info for this code; see the symbols tab)."
            )
            return
        if self.source.source is not None and self.source.source.path == name:
            self.source.show_file(self.source.source, frame.line)
        else:
            text, looked = await self.source_text(name)
            self.source.show_file(SourceFile(name, text, looked), frame.line)
        self.source.set_breakpoints(self.breakpoint_lines(name, frame.file))

    def breakpoint_lines(self, fullname: str | None, file: str | None) -> set[int]:
        names = {name for name in (fullname, file) if name}
        return {
            bp.line
            for bp in self.breakpoints
            if bp.line is not None and (bp.fullname in names or bp.file in names)
        }

    @on(LocalsTree.TargetWanted)
    async def pointer_expanded(self, event: LocalsTree.TargetWanted) -> None:
        value = event.node.data
        if value is None:
            return
        outcome = await self.connection.call(
            ("evaluate",), f"*({value.expression})", self.thread_id, self.frame_level
        )
        event.node.tree.show_target(  # type: ignore[attr-defined]
            event.node, outcome.value if outcome.ok else None, outcome.error
        )

    @on(ThreadsTree.BacktraceWanted)
    async def backtrace_wanted(self, event: ThreadsTree.BacktraceWanted) -> None:
        if not self.running:
            await self.load_backtrace(event.thread_id)

    @on(ThreadsTree.FrameChosen)
    async def frame_chosen(self, event: ThreadsTree.FrameChosen) -> None:
        if event.thread_id != self.thread_id:
            await self.connection.call(("select_thread",), event.thread_id)
            self.thread_id = event.thread_id
            if event.thread_id not in self.frames:
                await self.load_backtrace(event.thread_id)
        self.frame_level = event.frame.level
        await self.show_frame()

    # --- breakpoints -------------------------------------------------------------

    @work(exclusive=True, group="breakpoints")
    async def refresh_breakpoints(self) -> None:
        await self.load_breakpoints()

    async def load_breakpoints(self) -> None:
        listed = await self.connection.call(("breakpoints", "list_breakpoints"))
        if listed.ok:
            self.breakpoints = list(listed.value or [])
            self.query_one(BreakpointsTable).show_breakpoints(self.breakpoints)
            source = self.source.source
            if source is not None:
                frame = self.current_frame()
                self.source.set_breakpoints(
                    self.breakpoint_lines(source.path, frame.file if frame else None)
                )

    async def insert_breakpoint(self, location: str) -> Outcome:
        outcome = await self.connection.call(
            ("insert_breakpoint", "break_insert", "add_breakpoint"), location
        )
        if outcome.ok:
            self.console.write_output(f"breakpoint at {location}", style="italic")
        else:
            self.notify(f"{location}: {outcome.error}", title="Breakpoint", severity="error")
        await self.load_breakpoints()
        return outcome

    async def action_toggle_breakpoint(self) -> None:
        source = self.source.source
        if source is None or source.text is None:
            self.notify("Open a source file first (select a frame).", severity="warning")
            return
        line = self.source.cursor_line
        existing = [
            bp
            for bp in self.breakpoints
            if bp.line == line and source.path in (bp.fullname, bp.file)
        ]
        if existing:
            for bp in existing:
                await self.connection.call(("delete_breakpoint", "break_delete"), bp.number)
            await self.load_breakpoints()
        else:
            await self.insert_breakpoint(self.break_location(source.path, line))

    def break_location(self, path: str, line: int) -> str:
        """A location gdb resolves: the file name the program's debug info records."""
        frame = self.current_frame()
        if frame is not None and frame.fullname == path and frame.file:
            return f"{frame.file}:{line}"
        in_container = getattr(self.connection.placement, "in_container", None)
        return f"{in_container(path) if callable(in_container) else path}:{line}"

    def add_breakpoint_from_files(self, container_path: str, line: int) -> None:
        self.run_worker(self.insert_breakpoint(f"{container_path}:{line}"), group="bp")

    # --- execution ---------------------------------------------------------------

    async def execute(self, names: tuple[str, ...], what: str) -> None:
        if not self.attached:
            self.notify("Not attached yet.", severity="warning")
            return
        if self.running and what != "interrupt":
            self.notify("The process is running: interrupt it first (i).", severity="warning")
            return
        outcome = await self.connection.call(names)
        if not outcome.ok:
            self.notify(str(outcome.error), title=what, severity="error")

    async def action_continue(self) -> None:
        await self.execute(("continue_", "cont", "resume", "continue"), "continue")

    async def action_next(self) -> None:
        await self.execute(("next", "step_over"), "next")

    async def action_step(self) -> None:
        await self.execute(("step", "step_into"), "step")

    async def action_finish(self) -> None:
        await self.execute(("finish", "step_out"), "finish")

    async def action_interrupt(self) -> None:
        await self.execute(("interrupt", "pause"), "interrupt")

    async def action_frame(self, delta: int) -> None:
        frames = self.frames.get(self.thread_id or -1, [])
        levels = [frame.level for frame in frames]
        if not levels:
            return
        wanted = min(max(self.frame_level + delta, min(levels)), max(levels))
        if wanted != self.frame_level:
            self.frame_level = wanted
            await self.show_frame()

    # --- panes -------------------------------------------------------------------

    def action_pane(self, pane: str) -> None:
        if pane in TABBED:
            self.query_one(TabbedContent).active = TABBED[pane]
        target: Widget = self.query_one(f"#{pane}")
        if isinstance(target, GdbConsole):
            target.focus_input()
        else:
            self.set_focus(target)

    def action_console(self) -> None:
        self.action_pane("console")

    def action_symbols(self) -> None:
        self.query_one(TabbedContent).active = "tab-symbols"
        self.set_focus(self.query_one(SymbolsTable))

    def action_files(self) -> None:
        from cntr_tui.app.screens.files import FilesScreen

        self.app.push_screen(FilesScreen(self.container, debugger=self))

    @on(GdbConsole.Left)
    def console_left(self) -> None:
        self.set_focus(self.source)

    @on(GdbConsole.CommandEntered)
    async def console_command(self, event: GdbConsole.CommandEntered) -> None:
        outcome = await self.connection.call(("cli", "console", "execute"), event.command)
        if outcome.ok:
            # gdb's output also arrives as ConsoleOutput events, which are shown as they
            # come; the returned copy is only needed when there are no events.
            if not self.following_events and isinstance(outcome.value, str) and outcome.value:
                self.console.write_output(outcome.value)
        else:
            self.console.write_output(str(outcome.error), style="bold red")

    @work(thread=True, group="mounts")
    def load_mounts(self) -> None:
        mounts = self.connection.mounts()
        deliver(self.app, self.show_mounts, mounts)

    def show_mounts(self, mounts: Outcome) -> None:
        if mounts.ok:
            self.query_one(MountTable).show_mounts(mounts.value)
        else:
            self.console.write_output(f"mounts: {mounts.error}", style="italic")

    @work(group="symbols")
    async def load_symbols(self) -> None:
        table = self.query_one(SymbolsTable)
        table.loading = True
        report = await self.connection.call(("symbol_report", "symbols"))
        table.loading = False
        if report.ok:
            entries: Any = report.value
            table.show_report(list(getattr(entries, "entries", entries) or []))


def stop_text(event: Any) -> str:
    reason = str(getattr(event, "reason", "stopped")).replace("-", " ")
    text = f"■ stopped: {reason}"
    if getattr(event, "signal_name", None):
        text += f" ({event.signal_name})"
    if getattr(event, "breakpoint_number", None):
        text += f" #{event.breakpoint_number}"
    frame = getattr(event, "frame", None)
    if frame is not None:
        text += f" in {frame.function or '??'} at {frame.location}"
    return text
