"""The debugger: source, threads and stacks, locals, mounts, gdb console, registers,
disassembly, status; on a `DebugSession` from a `DebugOpener` (the debug service unless
one is passed in), every gdb operation a typed call on `session.engine`."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, TabbedContent, TabPane

from cntr_tui.app import bindings
from cntr_tui.app.debug_link import DebugLink, EngineCall
from cntr_tui.app.listing import PendingBreakpoints
from cntr_tui.app.messages import FilesWanted
from cntr_tui.app.opener import service_opener, target_of
from cntr_tui.app.screens.breakpoint_form import (
    BreakpointEdit,
    BreakpointForm,
    BreakSpec,
    CatchSpec,
    LogSpec,
    NewBreakpoint,
    WatchSpec,
    count_of,
)
from cntr_tui.app.screens.error import ErrorDialog
from cntr_tui.app.screens.stop_text import breakpoint_lines, interrupted_step, stop_text
from cntr_tui.app.threads import deliver
from cntr_tui.attach.container import Container
from cntr_tui.debug.protocol import ContainerLogs, DebugEngine, DebugOpener, DebugUnavailable
from cntr_tui.fs.mounts import Mount
from cntr_tui.gdb import events as gdb_events
from cntr_tui.gdb.records import Breakpoint, Frame, Instruction, MemoryBlock, Result, Thread
from cntr_tui.widgets.breakpoints import BreakpointsTable
from cntr_tui.widgets.disassembly import DisassemblyView
from cntr_tui.widgets.gdb_console import GdbConsole
from cntr_tui.widgets.locals import LocalsTree
from cntr_tui.widgets.logs import LogsPane
from cntr_tui.widgets.memory import MemoryView
from cntr_tui.widgets.mount_view import MountTable
from cntr_tui.widgets.registers import RegistersTable
from cntr_tui.widgets.source_view import SourceFile, SourceView
from cntr_tui.widgets.status_line import StatusLine
from cntr_tui.widgets.symbols import SymbolsTable
from cntr_tui.widgets.threads import ThreadsTree
from cntr_tui.widgets.watch import WatchTree

ALIVE_CHECK_SECONDS = 1.0
TABBED = {
    "console": "tab-console",
    "mounts": "tab-mounts",
    "breakpoints": "tab-breakpoints",
    "registers": "tab-registers",
    "disassembly": "tab-disassembly",
    "memory": "tab-memory",
    "watch": "tab-watch",
    "logs": "tab-logs",
}
MEMORY_LENGTH = 128  # bytes the memory pane reads
MACHINE_PANES = {
    "tab-registers": "registers",
    "tab-disassembly": "disassembly",
    "tab-memory": "memory",
    "tab-watch": "watch",
}
T = TypeVar("T")


class DebuggerScreen(Screen[None]):
    CSS_PATH = "debugger.tcss"
    SUB_TITLE = "debugger"

    BINDINGS: ClassVar[list[BindingType]] = [*bindings.DEBUGGER]

    class Attached(Message):
        """gdb is attached and the panes show its first stop."""

    class Refreshed(Message):
        """The panes show the state after a stop."""

    class Detached(Message):
        pass

    def __init__(
        self,
        container: Container,
        host_pid: int | None = None,
        opener: DebugOpener | None = None,
        pending: PendingBreakpoints | None = None,
    ) -> None:
        """`pending`: breakpoints noted before the debugger attached (set at attach)."""
        super().__init__()
        self.container = container
        self.host_pid = host_pid or container.pid
        self.link = DebugLink(opener or service_opener())
        self.pending = pending or PendingBreakpoints()
        self.threads: list[Thread] = []
        self.frames: dict[int, list[Frame]] = {}
        self.thread_id: int | None = None
        self.frame_level = 0
        self.running = False
        self.attached = False
        self.breakpoints: list[Breakpoint] = []
        self.leaving = False
        self.following_events = False
        self.stops = 0  # stops shown: the registers pane compares with the one before
        self.memory_expression: str | None = None  # what the memory pane reads
        self.machine_stale: set[str] = set()  # tabs of machine panes not shown for this frame
        self.memory_block: MemoryBlock | None = None  # and last showed
        self.stepping: int | None = None  # the thread a next/step/finish/si/ni runs
        self.stepped: int | None = None  # the one it ran, when another one's stop came
        self.container_logs: ContainerLogs | None = None  # open from attach to close

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
            with TabPane("7 registers", id="tab-registers"):
                yield RegistersTable(id="registers")
            with TabPane("8 disassembly", id="tab-disassembly"):
                yield DisassemblyView(id="disassembly")
            with TabPane("9 memory", id="tab-memory"):
                yield MemoryView(id="memory")
            with TabPane("0 watch", id="tab-watch"):
                yield WatchTree(id="watch")
            with TabPane("symbols", id="tab-symbols"):
                yield SymbolsTable(id="symbols")
            with TabPane("logs", id="tab-logs"):
                yield LogsPane(id="logs")
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
            target = await asyncio.to_thread(target_of, self.container, self.host_pid)
            session = await self.link.open(target, self.progress)
        except DebugUnavailable as error:
            from cntr_tui.preflight import explain

            self.status.busy = "checking why (cntr-tui doctor)…"
            findings = await asyncio.to_thread(explain, self.container)  # before leave()
            self.status.busy = ""
            await self.leave()
            self.app.push_screen(
                ErrorDialog(f"Cannot debug {self.container.name}", str(error) + findings, error.fix)
            )
            return
        if self.leaving:  # left while attaching: the process must not stay attached
            await self.close_session()
            return
        self.attached = True
        self.status.busy = ""
        for note in session.notes:
            self.notify(note, title=self.container.name, severity="warning", timeout=12)
        self.status.context = (
            f"{self.container.runtime} {self.container.name} · PID "
            f"{session.target.namespace_pid} · {session.mode}"
        )
        self.follow_events()
        self.open_logs()
        self.load_mounts()
        for location in self.pending.take(self.container):
            await self.insert_breakpoint(location)
        await self.refresh_state(None)
        self.load_symbols()
        self.post_message(self.Attached())

    async def close_session(self) -> None:
        """Detach from the process (it keeps running) and end gdb and the session."""
        await self.close_logs()
        if self.link.session is not None:
            self.progress("detaching…")
            await self.link.close()
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
        if self.link.session is not None and self.link.closing is None:
            self.app.run_worker(self.close_session(), exit_on_error=False)

    async def action_back(self) -> None:
        await self.leave()

    def check_alive(self) -> None:
        if not self.leaving and not self.link.alive():
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
        if self.link.session is None:
            return
        self.following_events = True
        async for event in self.link.session.engine.events():
            try:
                if not self.show_event(event):
                    return
            except NoMatches:
                return  # the panes went with the app's exit; gdb's events (a logpoint's) go on

    def show_event(self, event: gdb_events.Event) -> bool:
        """One of gdb's events in the panes; False at the session's end."""
        match event:
            case gdb_events.Stopped():
                self.running = False
                self.status.state = stop_text(event, self.stepping)
                interrupted = interrupted_step(event, self.stepping)
                self.stepped = self.stepping if interrupted else None
                self.stepping = None
                self.query_one(LogsPane).mark_stop(
                    self.status.state.removeprefix("■ "), time.time()
                )
                self.refresh_after_stop(event.thread_id)
            case gdb_events.Paused():
                held = f"held {event.seconds * 1000:.0f} ms to set the {event.reason}"
                self.status.state = f"▶ running · {held}" if self.running else held
            case gdb_events.Running():
                self.running = True
                self.status.state = "▶ running"
                self.source.current_line = None
                self.source.refresh()
                self.query_one(DisassemblyView).clear_pc()
            case gdb_events.BreakpointModified(breakpoint=changed) if any(
                known.number == changed.number for known in self.breakpoints
            ):
                # a hit count gdb reports (each logpoint hit, ~30/s with the demo): the
                # record it sends, not the whole list asked again
                self.show_breakpoint_list(
                    [
                        changed if known.number == changed.number else known
                        for known in self.breakpoints
                    ]
                )
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
                return False
        return True

    # --- the container's own log ---------------------------------------------------

    def open_logs(self) -> None:
        """Once per session: the container's log stream into the logs pane."""
        pane = self.query_one(LogsPane)
        if self.link.session is None:
            return
        opened = self.link.session.open_logs()
        if not opened.ok or opened.value is None:
            pane.unavailable(f"no log: {opened.error}")
            return
        self.container_logs = opened.value
        pane.set_source(opened.value.source)
        self.follow_logs(opened.value)

    @work(group="logs")
    async def follow_logs(self, logs: ContainerLogs) -> None:
        pane = self.query_one(LogsPane)
        async for line in logs.lines():
            pane.append(line.text, line.stream, line.time)
        if self.container_logs is logs:  # ended by the source, not by our close
            pane.mark_stop(f"the log of {logs.source} ended")

    async def close_logs(self) -> None:
        logs, self.container_logs = self.container_logs, None
        if logs is not None:
            await logs.close()

    def on_session_ended(self, kind: str, reason: str) -> None:
        if self.leaving or self.link.ending_is_ours:
            return  # we are the ones detaching
        severity: SeverityLevel = "information" if kind == "detached" else "warning"
        self.notify(reason, title=f"{self.container.name}: {kind}", severity=severity, timeout=8)
        self.run_worker(self.leave(), group="leave")

    # --- state after a stop --------------------------------------------------------

    @work(exclusive=True, group="refresh")
    async def refresh_after_stop(self, thread_id: int | None) -> None:
        with contextlib.suppress(NoMatches):
            await self.refresh_state(thread_id)

    async def refresh_state(self, thread_id: int | None) -> None:
        threads = await self.link.ask(lambda engine: engine.threads())
        self.query_one("#threads").loading = False
        if not threads.ok:
            self.console.write_output(f"threads: {threads.error}", style="italic")
            return
        self.threads = list(threads.value or [])
        if not self.threads:
            return
        known = {thread.id for thread in self.threads}
        if thread_id is None or thread_id not in known:
            thread_id = self.thread_id if self.thread_id in known else self.threads[0].id
        self.thread_id = thread_id
        self.running = all(thread.state == "running" for thread in self.threads)
        if not self.status.state:
            self.status.state = "▶ running" if self.running else "■ stopped (attached)"
        self.frames = {}
        self.stops += 1
        self.query_one(ThreadsTree).show_threads(self.threads, thread_id)
        await self.load_backtrace(thread_id)
        self.frame_level = await self.first_frame_with_source(self.frames.get(thread_id, []))
        await self.show_frame()
        await self.load_breakpoints()
        self.post_message(self.Refreshed())

    async def load_backtrace(self, thread_id: int) -> None:
        frames = await self.link.ask(lambda engine: engine.backtrace(thread_id))
        if frames.ok:
            self.frames[thread_id] = list(frames.value or [])
            self.query_one(ThreadsTree).show_backtrace(thread_id, self.frames[thread_id])

    async def first_frame_with_source(self, frames: list[Frame]) -> int:
        """Like cgdb and IDEs: show the innermost frame whose source we can open."""
        for frame in frames:
            name = frame.fullname or frame.file
            found = await self.link.source_text(name) if frame.line is not None and name else None
            if found is not None and found.text is not None:
                return frame.level
        return frames[0].level if frames else 0

    def current_frame(self) -> Frame | None:
        frames = self.frames.get(self.thread_id or -1, [])
        return next((frame for frame in frames if frame.level == self.frame_level), None)

    async def show_frame(self) -> None:
        frame = self.current_frame()
        if frame is None:
            self.source.show_message("No frame selected (the process is running?).")
            return
        await self.show_source_of(frame)
        thread_id, level = self.thread_id, frame.level
        variables = await self.link.ask(lambda engine: engine.variables(thread_id, level))
        locals_tree = self.query_one(LocalsTree)
        if variables.ok:
            locals_tree.show_variables(list(variables.value or []))
        else:
            locals_tree.show_message(str(variables.error))
        await self.show_machine_state(thread_id, level)

    async def show_machine_state(self, thread_id: int | None, level: int) -> None:
        """The machine pane whose tab is shown, for a frame (with the locals); the others
        when their tab is next shown (`machine_tab_shown`): each is several MI commands
        per stop, which doubled the stop-to-panes time when all four were refreshed."""
        self.machine_stale = set(MACHINE_PANES)
        await self.refresh_machine_pane(self.query_one(TabbedContent).active)

    @on(TabbedContent.TabActivated)
    async def machine_tab_shown(self, event: TabbedContent.TabActivated) -> None:
        if not self.running:
            await self.refresh_machine_pane(event.pane.id or "")

    async def refresh_machine_pane(self, tab: str) -> None:
        pane = MACHINE_PANES.get(tab)
        if pane is None or tab not in self.machine_stale or self.current_frame() is None:
            return
        self.machine_stale.discard(tab)
        thread_id, level = self.thread_id, self.frame_level
        if pane == "registers":
            await self.show_registers(thread_id, level)
        elif pane == "disassembly":
            await self.show_disassembly(thread_id, level)
        elif pane == "watch":
            for expression in self.query_one(WatchTree).expressions:
                await self.evaluate_watch(expression)
        elif self.memory_expression is not None:
            await self.read_memory(self.memory_expression)

    async def show_registers(self, thread_id: int | None, level: int) -> None:
        registers = await self.link.ask(lambda engine: engine.registers(thread_id, level))
        table = self.query_one(RegistersTable)
        if registers.ok:
            table.show_registers(registers.value or [], self.stops)
        else:
            table.show_message(str(registers.error))

    async def show_disassembly(self, thread_id: int | None, level: int) -> None:
        code = await self.link.ask(
            lambda engine: engine.disassemble(thread_id, level, with_source=True)
        )
        view = self.query_one(DisassemblyView)
        if code.ok and code.value is not None:
            instructions, pc = code.value
            view.show_instructions(instructions, pc, await self.source_lines(instructions))
        else:
            view.show_message(str(code.error))

    async def source_lines(
        self, instructions: Sequence[Instruction]
    ) -> Callable[[str, int], str | None]:
        """The text of the source lines the instructions carry, for the mixed source
        rows: each file read once (through the link's cache)."""
        lines: dict[str, list[str]] = {}
        for name in {i.fullname or i.file for i in instructions if i.line is not None}:
            found = await self.link.source_text(name) if name else None
            if name and found is not None and found.text is not None:
                lines[name] = found.text.splitlines()

        def line_text(name: str, line: int) -> str | None:
            text = lines.get(name, [])
            return text[line - 1] if 0 < line <= len(text) else None

        return line_text

    # --- memory and watches ----------------------------------------------------------

    async def read_memory(self, expression: str) -> None:
        """Into the memory pane; the bytes that differ from the block shown before (the
        previous stop's, or the previous read's) are highlighted."""
        self.memory_expression = expression
        block = await self.link.ask(lambda engine: engine.read_memory(expression, MEMORY_LENGTH))
        memory = self.query_one(MemoryView)
        if block.ok and block.value is not None:
            memory.show(block.value, self.memory_block)
            self.memory_block = block.value
        else:
            memory.show_error(f"{expression}: {block.error}")

    @on(MemoryView.Wanted)
    async def memory_wanted(self, event: MemoryView.Wanted) -> None:
        await self.read_memory(event.expression)

    async def evaluate_watch(self, expression: str) -> None:
        thread_id, level = self.thread_id, self.frame_level
        value = await self.link.ask(lambda engine: engine.evaluate(expression, thread_id, level))
        self.query_one(WatchTree).show_value(expression, value.value, value.error)

    @on(WatchTree.Added)
    async def watch_added(self, event: WatchTree.Added) -> None:
        await self.evaluate_watch(event.expression)

    @on(WatchTree.ExpandWanted)
    async def watch_expanded(self, event: WatchTree.ExpandWanted) -> None:
        expression, thread_id, level = event.expression, self.thread_id, self.frame_level
        members = await self.link.ask(lambda engine: engine.children(expression, thread_id, level))
        if members.ok:
            self.query_one(WatchTree).show_children(expression, list(members.value or []))
        else:
            self.notify(f"{expression}: {members.error}", title="Watch", severity="warning")

    async def show_source_of(self, frame: Frame) -> None:
        name = frame.fullname or frame.file
        if not name or frame.line is None:
            where = frame.library or (hex(frame.address) if frame.address else "?")
            # one line: the frame, and where its code is shown instead
            self.source.show_message(
                f"#{frame.level} {frame.function or '??'} in {where}: no line information "
                "(no debug info; see the symbols tab); its instructions are in the "
                "disassembly pane (8)"
            )
            self.show_disassembly_pane()
            return
        if self.source.source is not None and self.source.source.path == name:
            self.source.show_file(self.source.source, frame.line)
        else:
            found = await self.link.source_text(name)
            # the path as gdb has it recorded, and each place it was looked for
            self.source.show_file(SourceFile(name, found.text, found.looked), frame.line)
            if found.text is None:
                self.show_disassembly_pane()
        self.source.set_breakpoints(breakpoint_lines(self.breakpoints, name, frame.file))

    def show_disassembly_pane(self) -> None:
        """For a frame whose source cannot be shown (unless the user types in the
        console, whose tab stays)."""
        if not self.console.input.has_focus:
            self.query_one(TabbedContent).active = TABBED["disassembly"]

    @on(LocalsTree.TargetWanted)
    async def pointer_expanded(self, event: LocalsTree.TargetWanted) -> None:
        value = event.node.data
        if value is None:
            return
        expression, thread_id, level = f"*({value.expression})", self.thread_id, self.frame_level
        target = await self.link.ask(lambda engine: engine.evaluate(expression, thread_id, level))
        self.query_one(LocalsTree).show_target(event.node, target.value, target.error)

    @on(ThreadsTree.BacktraceWanted)
    async def backtrace_wanted(self, event: ThreadsTree.BacktraceWanted) -> None:
        if not self.running:
            await self.load_backtrace(event.thread_id)

    @on(ThreadsTree.FrameChosen)
    async def frame_chosen(self, event: ThreadsTree.FrameChosen) -> None:
        if event.thread_id != self.thread_id:
            await self.link.ask(lambda engine: engine.select_thread(event.thread_id))
            self.thread_id = event.thread_id
            if event.thread_id not in self.frames:
                await self.load_backtrace(event.thread_id)
        await self.select_frame(event.frame.level)

    # --- breakpoints -------------------------------------------------------------

    @work(exclusive=True, group="breakpoints")
    async def refresh_breakpoints(self) -> None:
        with contextlib.suppress(NoMatches):  # the panes went with the app's exit
            await self.load_breakpoints()

    async def load_breakpoints(self) -> None:
        listed = await self.link.ask(lambda engine: engine.breakpoints())
        if listed.ok:
            self.show_breakpoint_list(list(listed.value or []))

    def show_breakpoint_list(self, breakpoints: list[Breakpoint]) -> None:
        """The breakpoints pane and the source and disassembly marks."""
        self.breakpoints = breakpoints
        with contextlib.suppress(NoMatches):  # the panes went with the app's exit
            self.query_one(BreakpointsTable).show_breakpoints(self.breakpoints)
            self.query_one(DisassemblyView).set_breakpoints(
                bp.address for bp in self.breakpoints if bp.address is not None
            )
            source = self.source.source
            if source is not None:
                frame = self.current_frame()
                self.source.set_breakpoints(
                    breakpoint_lines(self.breakpoints, source.path, frame.file if frame else None)
                )

    async def insert_breakpoint(self, location: str) -> Result[Breakpoint]:
        inserted = await self.link.ask(lambda engine: engine.break_insert(location))
        if inserted.ok:
            self.console.write_output(f"breakpoint at {location}", style="italic")
        else:
            self.notify(f"{location}: {inserted.error}", title="Breakpoint", severity="error")
        await self.load_breakpoints()
        return inserted

    async def action_toggle_breakpoint(self) -> None:
        """At the source line under the cursor, or at the instruction under the cursor
        when the disassembly pane has the focus."""
        code = self.query_one(DisassemblyView)
        if code.has_focus:
            if not code.want_breakpoint():
                self.notify("No instruction here (select a stopped frame).", severity="warning")
            return
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
                await self.delete_breakpoint(bp.number)
            await self.load_breakpoints()
        else:
            await self.insert_breakpoint(self.break_location(source.path, line))

    @on(DisassemblyView.BreakpointWanted)
    async def instruction_breakpoint(self, event: DisassemblyView.BreakpointWanted) -> None:
        existing = [bp for bp in self.breakpoints if bp.address == event.address]
        if existing:
            for bp in existing:
                await self.delete_breakpoint(bp.number)
            await self.load_breakpoints()
        else:
            await self.insert_breakpoint(event.location)

    async def delete_breakpoint(self, number: str) -> None:
        await self.link.ask(lambda engine: engine.break_delete(number))

    def break_location(self, path: str, line: int) -> str:
        """A location gdb resolves: the file name the program's debug info records."""
        frame = self.current_frame()
        if frame is not None and frame.fullname == path and frame.file:
            return f"{frame.file}:{line}"
        return f"{self.link.location_in_container(path)}:{line}"

    def add_breakpoint(self, location: str) -> None:
        """A breakpoint wanted from elsewhere (the file browser), while attached."""
        self.run_worker(self.insert_breakpoint(location), group="bp")

    def action_new_breakpoint(self, kind: str) -> None:
        """The form for a new breakpoint of `kind`: the location prefilled from the
        cursor (source line or instruction), a watchpoint's expression from the locals
        pane's selected value when that pane has the focus."""
        expression = ""
        locals_tree = self.query_one(LocalsTree)
        if locals_tree.has_focus and locals_tree.cursor_node is not None:
            value = locals_tree.cursor_node.data
            expression = value.expression if value is not None else ""
        location = self.cursor_location() or ""
        self.app.push_screen(BreakpointForm(self.set_new, kind, location, expression))

    async def set_new(self, spec: NewBreakpoint) -> str | None:
        """The form's submit: the engine's error, None once set."""
        if not self.attached:
            return "not attached yet"
        done = await self.link.ask(insert_call(spec, self.thread_id, self.frame_level))
        await self.load_breakpoints()
        if not done.ok or done.value is None:
            return str(done.error)
        added = done.value
        self.console.write_output(
            f"{added.kind} {added.number}: {added.what or added.location or ''}", style="italic"
        )
        return None

    @on(BreakpointsTable.Wanted)
    async def breakpoint_row_change(self, event: BreakpointsTable.Wanted) -> None:
        found, number = event.breakpoint, event.breakpoint.number
        name = f"{found.kind} {number}"
        if event.change == "condition":
            self.app.push_screen(
                BreakpointEdit(
                    f"Condition of {name} (empty: none)",
                    found.condition or "",
                    lambda text: self.change_breakpoint(
                        lambda engine: engine.break_condition(number, text or None)
                    ),
                )
            )
            return
        if event.change == "ignore":
            self.app.push_screen(
                BreakpointEdit(
                    f"Ignore count of {name} (hits passed over)",
                    str(found.ignore),
                    lambda text: self.change_ignore(number, text),
                )
            )
            return
        if event.change == "toggle":
            call: EngineCall[None] = (
                (lambda engine: engine.break_disable(number))
                if found.enabled
                else (lambda engine: engine.break_enable(number))
            )
        else:
            call = lambda engine: engine.break_delete(number)  # noqa: E731
        failed = await self.change_breakpoint(call)
        if failed is not None:
            self.notify(failed, title=name, severity="error")

    async def change_breakpoint(self, call: EngineCall[None]) -> str | None:
        """One change of a breakpoint; the table is listed anew from gdb after it."""
        done = await self.link.ask(call)
        await self.load_breakpoints()
        return None if done.ok else str(done.error)

    async def change_ignore(self, number: str, text: str) -> str | None:
        count = count_of(text)
        if count is None:
            return "the ignore count is a number (0 or more)"
        return await self.change_breakpoint(lambda engine: engine.break_ignore(number, count))

    # --- execution ---------------------------------------------------------------

    async def execute(self, call: EngineCall[T], what: str, stepping: bool = False) -> None:
        """`stepping`: a next/step/finish/si/ni of the thread shown, whose stop is told
        apart from another thread's (see stop_text)."""
        if not self.attached:
            self.notify("Not attached yet.", severity="warning")
            return
        if self.running and what != "interrupt":
            self.notify("The process is running: interrupt it first (i).", severity="warning")
            return
        self.stepping = self.thread_id if stepping else None
        self.stepped = None
        done = await self.link.ask(call)
        if not done.ok:
            self.stepping = None
            self.notify(str(done.error), title=what, severity="error")

    async def action_continue(self) -> None:
        await self.execute(lambda engine: engine.continue_(), "continue")

    async def action_next(self) -> None:
        await self.execute(lambda engine: engine.next(), "next", stepping=True)

    async def action_step(self) -> None:
        await self.execute(lambda engine: engine.step(), "step", stepping=True)

    async def action_finish(self) -> None:
        await self.execute(lambda engine: engine.finish(), "finish", stepping=True)

    async def action_step_instruction(self) -> None:
        await self.execute(lambda engine: engine.step_instruction(), "stepi", stepping=True)

    async def action_next_instruction(self) -> None:
        await self.execute(lambda engine: engine.next_instruction(), "nexti", stepping=True)

    async def action_interrupt(self) -> None:
        await self.execute(lambda engine: engine.interrupt(), "interrupt")

    async def action_run_to_cursor(self) -> None:
        """To the disassembly cursor's instruction when that pane has the focus, else to
        the source cursor's line."""
        location = self.cursor_location()
        if location is None:
            self.notify("Put the cursor on a source line or an instruction.", severity="warning")
            return
        await self.execute(lambda engine: engine.run_to(location), "run to cursor")

    def cursor_location(self) -> str | None:
        code = self.query_one(DisassemblyView)
        if code.has_focus:
            return code.location_at_cursor()
        source = self.source.source
        if source is None or source.text is None:
            return None
        return self.break_location(source.path, self.source.cursor_line)

    async def action_back_to_stepped(self) -> None:
        """After another thread's stop interrupted a step: show and select the thread
        that was stepping, so the next n/s/f steps it again."""
        thread_id = self.stepped
        if thread_id is None or self.running:
            self.notify("No step was interrupted by another thread.", severity="information")
            return
        selected = await self.link.ask(lambda engine: engine.select_thread(thread_id))
        if not selected.ok:
            self.notify(str(selected.error), title=f"thread {thread_id}", severity="error")
            return
        self.stepped = None
        self.thread_id = thread_id
        self.query_one(ThreadsTree).show_threads(self.threads, thread_id)
        await self.load_backtrace(thread_id)
        await self.select_frame(await self.first_frame_with_source(self.frames.get(thread_id, [])))
        self.status.state = f"■ thread {thread_id} selected again: n/s/f step it"

    async def action_frame(self, delta: int) -> None:
        frames = self.frames.get(self.thread_id or -1, [])
        levels = [frame.level for frame in frames]
        if not levels:
            return
        wanted = min(max(self.frame_level + delta, min(levels)), max(levels))
        if wanted != self.frame_level:
            await self.select_frame(wanted)

    async def select_frame(self, level: int) -> None:
        """Show frame `level` and select it in gdb, like gdb's `up` and `frame N`: the
        finish key (`u` then `f`) and console commands then work on the frame shown."""
        self.frame_level = level
        thread_id = self.thread_id
        await self.link.ask(lambda engine: engine.select_frame(level, thread_id))
        await self.show_frame()

    # --- panes -------------------------------------------------------------------

    def action_pane(self, pane: str) -> None:
        if pane in TABBED:
            self.query_one(TabbedContent).active = TABBED[pane]
        target: Widget = self.query_one(f"#{pane}")
        if isinstance(target, GdbConsole):
            target.focus_input()
        elif isinstance(target, MemoryView):
            self.set_focus(target.query_one("#memory-input"))
        else:
            self.set_focus(target)

    def action_console(self) -> None:
        self.action_pane("console")

    def action_symbols(self) -> None:
        self.query_one(TabbedContent).active = "tab-symbols"
        self.set_focus(self.query_one(SymbolsTable))

    def action_files(self) -> None:
        self.post_message(FilesWanted(self.container))

    @on(GdbConsole.Left)
    def console_left(self) -> None:
        self.set_focus(self.source)

    @on(GdbConsole.CommandEntered)
    async def console_command(self, event: GdbConsole.CommandEntered) -> None:
        output = await self.link.ask(lambda engine: engine.cli(event.command))
        if output.ok:
            # gdb's output also arrives as ConsoleOutput events, which are shown as they
            # come; the returned copy is only needed when there are no events.
            if not self.following_events and output.value:
                self.console.write_output(output.value)
        else:
            self.console.write_output(str(output.error), style="bold red")

    @work(thread=True, group="mounts")
    def load_mounts(self) -> None:
        if self.link.session is not None:
            deliver(self.app, self.show_mounts, self.link.session.mounts())

    def show_mounts(self, mounts: Result[list[Mount]]) -> None:
        if mounts.ok:
            self.query_one(MountTable).show_mounts(mounts.value or [])
        else:
            self.console.write_output(f"mounts: {mounts.error}", style="italic")

    @work(group="symbols")
    async def load_symbols(self) -> None:
        table = self.query_one(SymbolsTable)
        table.loading = True
        report = await self.link.ask(lambda engine: engine.symbol_report())
        table.loading = False
        if report.ok:
            table.show_report(report.value or [])


def insert_call(spec: NewBreakpoint, thread_id: int | None, level: int) -> EngineCall[Breakpoint]:
    """The engine call that sets what a breakpoint form describes; a watchpoint's
    expression is evaluated in the frame shown."""

    def call(engine: DebugEngine) -> Awaitable[Result[Breakpoint]]:
        match spec:
            case BreakSpec():
                return engine.break_insert(
                    spec.location,
                    condition=spec.condition,
                    temporary=spec.temporary,
                    ignore_count=spec.ignore_count,
                )
            case WatchSpec():
                return engine.watch_insert(spec.expression, spec.access, thread_id, level)
            case LogSpec():
                return engine.dprintf_insert(spec.location, spec.format, spec.arguments)
            case CatchSpec():
                return engine.catch_insert(spec.kind, spec.argument)

    return call
