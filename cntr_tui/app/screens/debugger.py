"""The debugger: source, threads and stacks, locals, mounts, gdb console, registers,
disassembly, status; on a `DebugSession` from a `DebugOpener` (the debug service unless
one is passed in), every gdb operation a typed call on `session.engine`."""

from __future__ import annotations

import asyncio
import contextlib
from typing import ClassVar, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
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
from cntr_tui.app.screens.error import ErrorDialog
from cntr_tui.app.screens.stop_text import breakpoint_lines, stop_text
from cntr_tui.app.threads import deliver
from cntr_tui.attach.container import Container
from cntr_tui.debug.protocol import DebugOpener, DebugUnavailable
from cntr_tui.fs.mounts import Mount
from cntr_tui.gdb import events as gdb_events
from cntr_tui.gdb.records import Breakpoint, Frame, MemoryBlock, Result, Thread
from cntr_tui.widgets.breakpoints import BreakpointsTable
from cntr_tui.widgets.disassembly import DisassemblyView
from cntr_tui.widgets.gdb_console import GdbConsole
from cntr_tui.widgets.locals import LocalsTree
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
        self.load_mounts()
        for location in self.pending.take(self.container):
            await self.insert_breakpoint(location)
        await self.refresh_state(None)
        self.load_symbols()
        self.post_message(self.Attached())

    async def close_session(self) -> None:
        """Detach from the process (it keeps running) and end gdb and the session."""
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
            match event:
                case gdb_events.Stopped():
                    self.running = False
                    self.status.state = stop_text(event)
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
        if self.leaving or self.link.ending_is_ours:
            return  # we are the ones detaching
        severity: SeverityLevel = "information" if kind == "detached" else "warning"
        self.notify(reason, title=f"{self.container.name}: {kind}", severity=severity, timeout=8)
        self.run_worker(self.leave(), group="leave")

    # --- state after a stop --------------------------------------------------------

    @work(exclusive=True, group="refresh")
    async def refresh_after_stop(self, thread_id: int | None) -> None:
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
        code = await self.link.ask(lambda engine: engine.disassemble(thread_id, level))
        view = self.query_one(DisassemblyView)
        if code.ok and code.value is not None:
            instructions, pc = code.value
            view.show_instructions(instructions, pc)
        else:
            view.show_message(str(code.error))

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
            self.source.show_message(
                f"#{frame.level} {frame.function or '??'} in {where}: no line information "
                "(no debug info for this code; see the symbols tab). Its instructions are "
                "in the disassembly pane (8)."
            )
            if not self.console.input.has_focus:
                self.query_one(TabbedContent).active = TABBED["disassembly"]
            return
        if self.source.source is not None and self.source.source.path == name:
            self.source.show_file(self.source.source, frame.line)
        else:
            found = await self.link.source_text(name)
            self.source.show_file(SourceFile(name, found.text, found.looked), frame.line)
        self.source.set_breakpoints(breakpoint_lines(self.breakpoints, name, frame.file))

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
        await self.load_breakpoints()

    async def load_breakpoints(self) -> None:
        listed = await self.link.ask(lambda engine: engine.breakpoints())
        if listed.ok:
            self.breakpoints = list(listed.value or [])
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

    # --- execution ---------------------------------------------------------------

    async def execute(self, call: EngineCall[T], what: str) -> None:
        if not self.attached:
            self.notify("Not attached yet.", severity="warning")
            return
        if self.running and what != "interrupt":
            self.notify("The process is running: interrupt it first (i).", severity="warning")
            return
        done = await self.link.ask(call)
        if not done.ok:
            self.notify(str(done.error), title=what, severity="error")

    async def action_continue(self) -> None:
        await self.execute(lambda engine: engine.continue_(), "continue")

    async def action_next(self) -> None:
        await self.execute(lambda engine: engine.next(), "next")

    async def action_step(self) -> None:
        await self.execute(lambda engine: engine.step(), "step")

    async def action_finish(self) -> None:
        await self.execute(lambda engine: engine.finish(), "finish")

    async def action_interrupt(self) -> None:
        await self.execute(lambda engine: engine.interrupt(), "interrupt")

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
