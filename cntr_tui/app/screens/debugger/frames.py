"""The debugger screen after a stop: threads and their frames, the source, locals,
the machine panes (registers, disassembly, memory, watch), and moving between frames."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

from textual import on, work
from textual.css.query import NoMatches
from textual.widgets import TabbedContent

from cntr_tui.app.screens.debugger.base import TABBED
from cntr_tui.app.screens.debugger.breakpoints import BreakpointsPart
from cntr_tui.app.screens.stop_text import breakpoint_lines
from cntr_tui.app.thread_roster import ThreadRoster
from cntr_tui.gdb.records import Frame, Instruction, Result, Thread
from cntr_tui.languages.records import LanguageStacks
from cntr_tui.widgets.disassembly import DisassemblyView
from cntr_tui.widgets.locals import LocalsTree
from cntr_tui.widgets.memory import MemoryView
from cntr_tui.widgets.registers import RegistersTable
from cntr_tui.widgets.source_view import SourceFile
from cntr_tui.widgets.threads import ThreadsTree
from cntr_tui.widgets.watch import WatchTree

MEMORY_LENGTH = 128  # bytes the memory pane reads
STACKS_AT_ONCE = 64  # backtraces asked before waiting for their answers
HOLD_FRAMES = 0.25  # s: the longest a stop's panes hold the app's frames back
MACHINE_PANES = {
    "tab-registers": "registers",
    "tab-disassembly": "disassembly",
    "tab-memory": "memory",
    "tab-watch": "watch",
}


class FramesPart(BreakpointsPart):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.roster = ThreadRoster()  # the thread list kept between stops

    @work(exclusive=True, group="refresh")
    async def refresh_after_stop(self, thread_id: int | None) -> None:
        with contextlib.suppress(NoMatches):
            await self.refresh_state(thread_id)

    async def list_threads(self) -> Result[list[Thread]]:
        """gdb's list, or at a stop of an all-stop program with many threads the one
        of the stop before when no thread was created or exited since (ThreadRoster)."""
        # non-stop: each thread has its own state, which the kept list does not know
        non_stop = getattr(self.link.session, "non_stop", False)
        kept = None if self.running or non_stop else self.roster.kept()
        if kept is not None:
            return Result(kept)
        self.roster.forget()
        threads = await self.link.ask(lambda engine: engine.threads())
        if threads.ok:
            self.roster.listed(threads.value or [])
        return threads

    async def refresh_state(self, thread_id: int | None) -> None:
        threads = await self.list_threads()
        release = self.hold_frames()
        try:
            await self.show_state(threads, thread_id)
        finally:
            release()
        tree = self.query_one(ThreadsTree)
        if tree.grouped and not self.running:
            # after the panes are drawn: the answers' parsing would hold up that frame
            self.call_after_refresh(self.read_stacks, tree.unread_in_order(), self.stops)

    def hold_frames(self) -> Callable[[], None]:
        """Hold the app's frames while the panes take a stop's state: a frame drawn
        half-way is work thrown away (with 1,000 threads on a loaded machine, 20-50 ms
        each, two or three per stop). At most HOLD_FRAMES; the function returned lets
        them go (once)."""
        batch = self.app.batch_update()
        batch.__enter__()
        held = [True]

        def release() -> None:
            if held.pop() if held else False:
                timer.stop()
                batch.__exit__(None, None, None)

        timer = self.set_timer(HOLD_FRAMES, release)
        return release

    async def show_state(self, threads: Result[list[Thread]], thread_id: int | None) -> None:
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
        self.language = await self.read_language_stacks()
        self.query_one(ThreadsTree).show_threads(self.threads, thread_id, self.language)
        await self.load_backtrace(thread_id)
        self.frame_level = await self.first_frame_with_source(self.frames.get(thread_id, []))
        await self.show_frame()
        await self.load_breakpoints()
        self.post_message(self.Refreshed())

    async def read_language_stacks(self) -> LanguageStacks:
        """Read while stopped (LanguagesPart says what was missing)."""
        return LanguageStacks(None)

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
        table = self.query_one(RegistersTable)
        vector = table.vector
        registers = await self.link.ask(lambda engine: engine.registers(thread_id, level, vector))
        if registers.ok:
            table.show_registers(registers.value or [], self.stops)
        else:
            table.show_message(str(registers.error))

    @on(RegistersTable.VectorToggled)
    async def vector_registers_toggled(self) -> None:
        if not self.running and self.current_frame() is not None:
            await self.show_registers(self.thread_id, self.frame_level)

    async def show_disassembly(self, thread_id: int | None, level: int) -> None:
        frame = self.current_frame()
        if frame is not None and self.query_one(DisassemblyView).show_kept(
            frame.function, frame.address
        ):
            return  # its function's instructions, read at an earlier stop
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

    @on(ThreadsTree.StacksWanted)
    def stacks_wanted(self, event: ThreadsTree.StacksWanted) -> None:
        self.read_stacks(event.thread_ids, self.stops)

    @work(group="stacks")
    async def read_stacks(self, thread_ids: Sequence[int], stop: int) -> None:
        """Backtraces asked STACKS_AT_ONCE together (gdb answers them in turn), in a
        worker: the screen's keys are not held up by a thousand backtraces. After a
        stop every thread's (the largest groups first), a group's when it is opened;
        each batch regroups the pane. Dropped once the program runs or stops again."""
        wanted = [tid for tid in dict.fromkeys(thread_ids) if tid not in self.frames]
        for start in range(0, len(wanted), STACKS_AT_ONCE):
            if self.running or self.stops != stop:
                return
            chunk = wanted[start : start + STACKS_AT_ONCE]
            answers = await asyncio.gather(
                *(self.link.ask(lambda engine, tid=tid: engine.backtrace(tid)) for tid in chunk)
            )
            if self.running or self.stops != stop:
                return
            read = {}
            for tid, answer in zip(chunk, answers, strict=True):
                if answer.ok:
                    self.frames[tid] = read[tid] = list(answer.value or [])
            self.query_one(ThreadsTree).show_backtraces(read)

    @on(ThreadsTree.FrameChosen)
    async def frame_chosen(self, event: ThreadsTree.FrameChosen) -> None:
        if event.thread_id != self.thread_id:
            await self.link.ask(lambda engine: engine.select_thread(event.thread_id))
            self.thread_id = event.thread_id
            if event.thread_id not in self.frames:
                await self.load_backtrace(event.thread_id)
        await self.select_frame(event.frame.level)

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
