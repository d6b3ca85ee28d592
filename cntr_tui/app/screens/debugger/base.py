"""The debugger screen's state and panes, which its parts share: breakpoints.py
(BreakpointsPart), frames.py (FramesPart: the state after a stop), languages.py
(LanguagesPart: Python frames and Go goroutines) and screen.py (DebuggerScreen: attach,
gdb's events, execution, panes) build on it in that order."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, TabbedContent, TabPane

from cntr_tui.app.debug_link import DebugLink
from cntr_tui.app.listing import PendingBreakpoints
from cntr_tui.app.opener import service_opener
from cntr_tui.attach.container import Container
from cntr_tui.debug.protocol import ContainerLogs, DebugOpener
from cntr_tui.gdb.records import Breakpoint, Frame, MemoryBlock, Thread
from cntr_tui.languages.records import LanguageStacks
from cntr_tui.widgets.breakpoints import BreakpointsTable
from cntr_tui.widgets.disassembly import DisassemblyView
from cntr_tui.widgets.gdb_console import GdbConsole
from cntr_tui.widgets.locals import LocalsTree
from cntr_tui.widgets.logs import LogsPane
from cntr_tui.widgets.memory import MemoryView
from cntr_tui.widgets.mount_view import MountTable
from cntr_tui.widgets.registers import RegistersTable
from cntr_tui.widgets.source_view import SourceView
from cntr_tui.widgets.status_line import StatusLine
from cntr_tui.widgets.symbols import SymbolsTable
from cntr_tui.widgets.threads import ThreadsTree
from cntr_tui.widgets.watch import WatchTree

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


class DebuggerBase(Screen[None]):
    CSS_PATH = "debugger.tcss"
    SUB_TITLE = "debugger"

    # the namespace keeps the handler names the one-module screen had
    class Attached(Message, namespace="debugger_screen"):
        """gdb is attached and the panes show its first stop."""

    class Refreshed(Message, namespace="debugger_screen"):
        """The panes show the state after a stop."""

    class Detached(Message, namespace="debugger_screen"):
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
        self.language = LanguageStacks(None)  # the program's own frames at the last stop
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
        self.locked_steps = False  # gdb's scheduler-locking step: a step runs its thread alone
        self.container_logs: ContainerLogs | None = None  # open from attach to close
        self.non_stop = False  # the mode the next attach asks for (M switches it)
        self.reopening = False  # detaching to attach again in the other mode
        self.states_to_show = False  # thread states changed, the pane not drawn yet

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

    @property
    def non_stop_session(self) -> bool:
        """The session runs gdb in non-stop mode: each thread stops and runs alone."""
        return self.link.session is not None and self.link.session.non_stop

    def thread_state(self, thread_id: int | None) -> str | None:
        """A thread's own state as last listed or told ("running", "stopped")."""
        return next((t.state for t in self.threads if t.id == thread_id), None)

    def current_frame(self) -> Frame | None:
        frames = self.frames.get(self.thread_id or -1, [])
        return next((frame for frame in frames if frame.level == self.frame_level), None)

    def break_location(self, path: str, line: int) -> str:
        """A location gdb resolves: the file name the program's debug info records."""
        frame = self.current_frame()
        if frame is not None and frame.fullname == path and frame.file:
            return f"{frame.file}:{line}"
        return f"{self.link.location_in_container(path)}:{line}"

    def cursor_location(self) -> str | None:
        code = self.query_one(DisassemblyView)
        if code.has_focus:
            return code.location_at_cursor()
        source = self.source.source
        if source is None or source.text is None:
            return None
        return self.break_location(source.path, self.source.cursor_line)
