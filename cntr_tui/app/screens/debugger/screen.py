"""The debugger: source, threads and stacks, locals, mounts, gdb console, registers,
disassembly, status; on a `DebugSession` from a `DebugOpener` (the debug service unless
one is passed in), every gdb operation a typed call on `session.engine`."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from typing import ClassVar, TypeVar

from textual import on, work
from textual.binding import BindingType
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.widget import Widget
from textual.widgets import TabbedContent

from cntr_tui.app import bindings
from cntr_tui.app.debug_link import DebugLink, EngineCall
from cntr_tui.app.messages import FilesWanted
from cntr_tui.app.opener import target_of
from cntr_tui.app.screens.debugger.base import TABBED
from cntr_tui.app.screens.debugger.languages import LanguagesPart
from cntr_tui.app.screens.error import ErrorDialog
from cntr_tui.app.screens.stop_text import interrupted_step, stop_text
from cntr_tui.app.threads import deliver
from cntr_tui.app.watch_store import kept_watches
from cntr_tui.debug.protocol import ContainerLogs, DebugUnavailable
from cntr_tui.fs.mounts import Mount
from cntr_tui.gdb import events as gdb_events
from cntr_tui.gdb.records import Result, Thread
from cntr_tui.widgets.disassembly import DisassemblyView
from cntr_tui.widgets.gdb_console import GdbConsole
from cntr_tui.widgets.logs import LogsPane
from cntr_tui.widgets.memory import MemoryView
from cntr_tui.widgets.mount_view import MountTable
from cntr_tui.widgets.status_line import StatusLine
from cntr_tui.widgets.symbols import SymbolsTable
from cntr_tui.widgets.threads import ThreadsTree
from cntr_tui.widgets.watch import WatchTree

ALIVE_CHECK_SECONDS = 1.0
T = TypeVar("T")


def paused_for(reason: str) -> str:
    """What a hold of the running program was for, as the status line says it."""
    return "to set the breakpoint" if reason == "breakpoint" else f"for the {reason}"


class DebuggerScreen(LanguagesPart):
    BINDINGS: ClassVar[list[BindingType]] = [*bindings.DEBUGGER]

    def on_mount(self) -> None:
        self.sub_title = f"debugger · {self.container.name}"
        titles = {"source": "1 source", "threads": "2 threads", "locals": "3 locals"}
        for pane, title in titles.items():
            self.query_one(f"#{pane}").border_title = title
        self.status.context = f"{self.container.runtime} {self.container.name}"
        self.source.show_message(f"Attaching to {self.container.name}…")
        self.query_one("#threads").loading = True
        # the watches kept for the container's image, evaluated at the first stop
        kept = kept_watches(getattr(self.app, "settings", None), self.container)
        self.query_one(WatchTree).restore(*kept)
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
            target = dataclasses.replace(target, non_stop=self.non_stop)
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
            + (" · non-stop" if session.non_stop else "")
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
        self.roster.seen(event)  # a thread created or exited: the next stop lists them
        match event:
            case gdb_events.Stopped():
                self.running = False
                self.status.state = stop_text(event, self.stepping)
                if self.non_stop_session and not event.all_threads:
                    self.set_thread_states({event.thread_id}, "stopped")
                    self.status.state += self.others_running(event.thread_id)
                interrupted = interrupted_step(event, self.stepping)
                if interrupted and not self.locked_steps:
                    self.status.state += " · T: step it alone (scheduler-locking step)"
                elif self.stepping is not None and self.locked_steps:
                    self.status.state += " · the other threads held (T)"
                self.stepped = self.stepping if interrupted else None
                self.stepping = None
                self.query_one(LogsPane).mark_stop(
                    self.status.state.removeprefix("■ "), time.time()
                )
                self.refresh_after_stop(event.thread_id)
            case gdb_events.Paused():
                held = f"held {event.seconds * 1000:.0f} ms {paused_for(event.reason)}"
                # a stop right after the hold's resume can be told before the hold is
                # (gdb's *stopped read with the resume's answer): it keeps its line
                shown = "▶ running" if self.running else self.status.state
                self.status.state = f"{shown} · {held}"
            case gdb_events.Running() if self.non_stop_session:
                self.thread_ran(event.thread_id)
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
        if self.leaving or self.reopening or self.link.ending_is_ours:
            return  # we are the ones detaching
        severity: SeverityLevel = "information" if kind == "detached" else "warning"
        self.notify(reason, title=f"{self.container.name}: {kind}", severity=severity, timeout=8)
        self.run_worker(self.leave(), group="leave")

    # --- execution ---------------------------------------------------------------

    async def execute(self, call: EngineCall[T], what: str, stepping: bool = False) -> None:
        """`stepping`: a next/step/finish/si/ni of the thread shown, whose stop is told
        apart from another thread's (see stop_text)."""
        if not self.attached:
            self.notify("Not attached yet.", severity="warning")
            return
        if self.non_stop_session:
            refusal = self.non_stop_refusal(what, self.one_thread())
            if refusal is not None:
                self.notify(refusal, title=what, severity="warning")
                return
        elif self.running and what not in ("interrupt", "interrupt all"):
            self.notify("The process is running: interrupt it first (i).", severity="warning")
            return
        self.stepping = self.thread_id if stepping else None
        self.stepped = None
        done = await self.link.ask(call)
        if not done.ok:
            self.stepping = None
            self.notify(str(done.error), title=what, severity="error")

    def one_thread(self) -> int | None:
        """The thread run control acts on: in all-stop mode gdb's default (None); in
        non-stop mode the one under the threads pane's cursor (or whose frame it is on)
        while the pane has the focus, else the one shown."""
        if not self.non_stop_session:
            return None
        tree = self.query_one(ThreadsTree)
        node = tree.cursor_node
        if tree.has_focus and node is not None:
            parent = node.parent.data if node.parent is not None else None
            for data in (node.data, parent):
                if isinstance(data, Thread):
                    return data.id
        return self.thread_id

    async def action_continue(self) -> None:
        thread = self.one_thread()
        await self.execute(lambda engine: engine.continue_(thread), "continue")

    async def action_next(self) -> None:
        thread = self.one_thread()
        await self.execute(lambda engine: engine.next(thread), "next", stepping=True)

    async def action_step(self) -> None:
        thread = self.one_thread()
        await self.execute(lambda engine: engine.step(thread), "step", stepping=True)

    async def action_finish(self) -> None:
        thread = self.one_thread()
        await self.execute(lambda engine: engine.finish(thread), "finish", stepping=True)

    async def action_step_instruction(self) -> None:
        thread = self.one_thread()
        await self.execute(lambda engine: engine.step_instruction(thread), "stepi", stepping=True)

    async def action_next_instruction(self) -> None:
        thread = self.one_thread()
        await self.execute(lambda engine: engine.next_instruction(thread), "nexti", stepping=True)

    async def action_interrupt(self) -> None:
        thread = self.one_thread()
        await self.execute(lambda engine: engine.interrupt(thread), "interrupt")

    async def action_continue_all(self) -> None:
        """Every thread (in all-stop mode the same as continue)."""
        await self.execute(lambda engine: engine.continue_(), "continue all")

    async def action_interrupt_all(self) -> None:
        """Every thread (in all-stop mode the same as interrupt)."""
        await self.execute(lambda engine: engine.interrupt(), "interrupt all")

    # --- non-stop mode -------------------------------------------------------------

    def non_stop_refusal(self, what: str, thread: int | None) -> str | None:
        """Why `what` cannot run now on `thread` in non-stop mode (None: it can): a
        thread runs or steps only from a stop, an interrupt is for a running thread."""
        state = self.thread_state(thread)
        if what == "interrupt" and state == "stopped":
            return f"Thread {thread} is stopped already (H interrupts every thread)."
        if what == "continue all" and all(t.state == "running" for t in self.threads):
            return "Every thread runs already."
        if what not in ("interrupt", "interrupt all", "continue all") and state == "running":
            return (
                f"Thread {thread} is running: interrupt it (i), or pick a stopped thread "
                "in the threads pane (2)."
            )
        return None

    def others_running(self, thread_id: int | None) -> str:
        """For the status line at a stop in non-stop mode: how many others run on."""
        running = sum(1 for t in self.threads if t.id != thread_id and t.state == "running")
        return f" · {running} other thread{'s' if running != 1 else ''} running" if running else ""

    def set_thread_states(self, thread_ids: set[int | None] | None, state: str) -> None:
        """Threads (None: all) told running or stopped by gdb's events; a running
        thread's frames are gone. The pane is drawn again once, after the burst."""
        self.threads = [
            dataclasses.replace(t, state=state, frame=None if state == "running" else t.frame)
            if thread_ids is None or t.id in thread_ids
            else t
            for t in self.threads
        ]
        if state == "running":
            for thread in self.threads:
                if thread_ids is None or thread.id in thread_ids:
                    self.frames.pop(thread.id, None)
        self.running = bool(self.threads) and all(t.state == "running" for t in self.threads)
        if not self.states_to_show:
            self.states_to_show = True
            self.call_after_refresh(self.show_thread_states)

    def show_thread_states(self) -> None:
        self.states_to_show = False
        with contextlib.suppress(NoMatches):
            tree = self.query_one(ThreadsTree)
            tree.show_threads(self.threads, self.thread_id, self.language)
            frames = self.frames.get(self.thread_id or -1)
            if frames is not None and self.thread_id is not None:
                tree.show_backtrace(self.thread_id, frames)

    def thread_ran(self, thread_id: int | None) -> None:
        """Non-stop: one thread (None: every one) runs; the others keep their state."""
        self.set_thread_states(None if thread_id is None else {thread_id}, "running")
        if thread_id is None or thread_id == self.thread_id:
            self.source.current_line = None
            self.source.refresh()
            self.query_one(DisassemblyView).clear_pc()
        if self.running:
            self.status.state = "▶ running (every thread)"
        elif thread_id is not None:
            stopped = [str(t.id) for t in self.threads if t.state == "stopped"]
            self.status.state = f"▶ thread {thread_id} running · stopped: {', '.join(stopped)}"

    async def action_toggle_non_stop(self) -> None:
        """Detach and attach again in the other mode (gdb's non-stop is set before
        an attach); plain breakpoints are set again, by file and line, and the user is
        told which were not (a conditional one set again plain would stop at every hit)."""
        if not self.attached or self.leaving or self.reopening:
            self.notify("Not attached yet.", severity="warning")
            return
        self.reopening = True
        try:
            dropped = []
            for known in self.breakpoints:
                plain = known.type == "breakpoint" and not known.condition and not known.ignore
                if plain and known.file and known.line is not None:
                    self.pending.add(self.container, f"{known.file}:{known.line}")
                else:
                    dropped.append(f"{known.number} ({known.kind})")
            if dropped:
                self.notify(
                    "Not set again in the other mode: " + ", ".join(dropped),
                    title="breakpoints",
                    severity="warning",
                )
            self.workers.cancel_group(self, "events")
            self.workers.cancel_group(self, "refresh")
            await self.close_session()
            self.link = DebugLink(self.link.opener)
            self.non_stop = not self.non_stop
            self.locked_steps = False  # a new gdb: its default again
            self.threads, self.frames, self.thread_id, self.running = [], {}, None, False
            self.breakpoints = []
            mode = "non-stop" if self.non_stop else "all-stop"
            self.status.state = f"attaching again in {mode} mode…"
            self.query_one("#threads").loading = True
        finally:
            self.reopening = False
        self.connect()

    async def action_run_to_cursor(self) -> None:
        """To the disassembly cursor's instruction when that pane has the focus, else to
        the source cursor's line."""
        location = self.cursor_location()
        if location is None:
            self.notify("Put the cursor on a source line or an instruction.", severity="warning")
            return
        await self.execute(lambda engine: engine.run_to(location), "run to cursor")

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
        self.query_one(ThreadsTree).show_threads(self.threads, thread_id, self.language)
        await self.load_backtrace(thread_id)
        await self.select_frame(await self.first_frame_with_source(self.frames.get(thread_id, [])))
        self.status.state = f"■ thread {thread_id} selected again: n/s/f step it"

    async def action_toggle_scheduler_locking(self) -> None:
        """gdb's scheduler-locking step on or off: with it, n/s/f/si/ni run only the
        stepped thread (the others' breakpoints cannot interrupt the step); c runs all."""
        if not self.attached:
            self.notify("Not attached yet.", severity="warning")
            return
        if self.non_stop_session:
            self.notify("Non-stop mode: a step runs its thread alone already.")
            return
        wanted = not self.locked_steps
        mode = "step" if wanted else "off"
        done = await self.link.ask(lambda engine: engine.set_scheduler_locking(mode))
        if not done.ok:
            self.notify(str(done.error), title="scheduler-locking", severity="error")
            return
        self.locked_steps = wanted
        if wanted:
            self.status.state = "scheduler-locking step: n/s/f step the thread alone (T: off)"
        else:
            self.status.state = "scheduler-locking off: n/s/f run every thread (T: on)"

    async def action_toggle_follow_fork(self) -> None:
        """At the program's next fork gdb follows the other side (parent <-> child)."""
        toggled = await self.link.toggle_follow_fork()
        if not toggled.ok or toggled.value is None:
            self.notify(str(toggled.error), title="follow-fork-mode", severity="error")
            return
        side = "the child" if toggled.value.follow == "child" else "the parent"
        self.status.state = f"forks: gdb follows {side} from the next fork on"

    async def action_switch_process(self) -> None:
        """The next of the processes gdb debugs (gdb's inferiors) becomes the current
        one: the panes show its selected thread; c/n/s/i act on it."""
        switched = await self.link.switch_process()
        if not switched.ok:
            self.notify(str(switched.error), title="process", severity="error")
            return
        if switched.value is None:
            self.notify(
                "gdb debugs one process: attach another from the console "
                "(add-inferior, inferior 2, attach PID) or keep a fork's (--no-detach-on-fork)",
                severity="information",
            )
            return
        pid, thread_id = switched.value
        await self.refresh_state(thread_id)
        self.status.state = f"■ process {pid} is the current one (thread {thread_id})"

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
