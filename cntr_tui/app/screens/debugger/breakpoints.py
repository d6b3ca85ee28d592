"""The debugger screen's breakpoints: the pane, the source and disassembly marks,
the forms, and the edits of a row."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable

from textual import on, work
from textual.css.query import NoMatches

from cntr_tui.app.debug_link import EngineCall
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
from cntr_tui.app.screens.debugger.base import DebuggerBase
from cntr_tui.app.screens.stop_text import breakpoint_lines
from cntr_tui.debug.protocol import DebugEngine
from cntr_tui.gdb.records import Breakpoint, Result
from cntr_tui.widgets.breakpoints import BreakpointsTable
from cntr_tui.widgets.disassembly import DisassemblyView
from cntr_tui.widgets.locals import LocalsTree


class BreakpointsPart(DebuggerBase):
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
