"""The debugger screen's language frames: a Python program's frames among gdb's (the
innermost one shown after a stop, its .py source and locals), a Go program's goroutines
with their stacks. The frames come from the session (`DebugSession.language_stacks`);
gdb's own frame selection is not changed by choosing one."""

from __future__ import annotations

from textual import on

from cntr_tui.app.screens.debugger.frames import FramesPart
from cntr_tui.gdb.records import Frame, Variable
from cntr_tui.languages.records import LanguageFrame, LanguageStacks, LanguageThread
from cntr_tui.widgets.locals import LocalsTree
from cntr_tui.widgets.threads import ThreadsTree


def source_frame(frame: LanguageFrame) -> Frame:
    """A language frame as the source pane shows frames (its file as the program names it)."""
    return Frame(
        level=0, function=frame.function, file=frame.file, fullname=frame.file, line=frame.line
    )


class LanguagesPart(FramesPart):
    async def read_language_stacks(self) -> LanguageStacks:
        if self.running:
            return LanguageStacks(None)
        stacks = await self.link.language_stacks(with_locals=True)
        if stacks.missing and stacks.missing != self.language.missing:
            self.console.write_output(stacks.missing, style="italic")
        return stacks

    async def refresh_state(self, thread_id: int | None) -> None:
        await super().refresh_state(thread_id)
        thread = self.current_language_thread()
        if thread is not None and thread.frames:
            await self.show_language_frame(thread.frames[0])

    def current_language_thread(self) -> LanguageThread | None:
        lwp = next((t.lwp for t in self.threads if t.id == self.thread_id), None)
        return self.language.thread(lwp)

    async def show_language_frame(self, frame: LanguageFrame) -> None:
        await self.show_source_of(source_frame(frame))
        locals_tree = self.query_one(LocalsTree)
        if frame.locals is None:
            locals_tree.show_message(f"{frame.function}: its locals were not read")
            return
        locals_tree.show_variables(
            [Variable(v.name, v.value, None, v.argument) for v in frame.locals]
        )

    @on(ThreadsTree.LanguageFrameChosen)
    async def language_frame_chosen(self, event: ThreadsTree.LanguageFrameChosen) -> None:
        await self.show_language_frame(event.frame)

    @on(ThreadsTree.GoroutineWanted)
    async def goroutine_wanted(self, event: ThreadsTree.GoroutineWanted) -> None:
        if self.running:
            return
        stack = await self.link.goroutine_stack(event.goroutine_id)
        tree = self.query_one(ThreadsTree)
        tree.show_goroutine_stack(
            event.goroutine_id, list(stack.value or ()) if stack.ok else str(stack.error)
        )

    @on(ThreadsTree.GoroutineFrameChosen)
    async def goroutine_frame_chosen(self, event: ThreadsTree.GoroutineFrameChosen) -> None:
        await self.show_source_of(event.frame)
        self.query_one(LocalsTree).show_message(
            f"goroutine {event.goroutine_id}: locals are shown for the frames of OS threads only"
        )
