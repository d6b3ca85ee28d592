"""Threads and stacks: one node per thread; expanding it shows its backtrace.

Where the program's language frames were read (languages/records.py), a thread's
backtrace shows them in place of the interpreter's eval-loop frames that run them, the
interpreter's own plumbing counted in one dim row; a Go program's goroutines follow the
threads, each opened to its own stack.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from cntr_tui.gdb.records import Frame, Thread
from cntr_tui.languages.interleave import interleave, is_interpreter_plumbing, plumbing_counted
from cntr_tui.languages.records import Goroutine, LanguageFrame, LanguageStacks, LanguageThread
from cntr_tui.widgets.navigation import NAVIGATION, TreeNavigation

NodeData = Thread | Frame | LanguageFrame | Goroutine | None
LANGUAGE_MARKS = {"python": "py", "go": "go"}


def frame_label(frame: Frame) -> Text:
    label = Text()
    label.append(f"#{frame.level} ", style="dim")
    label.append(frame.function or "??", style="bold")
    label.append(f"  {frame.location}", style="dim")
    return label


def place(file: str | None, line: int | None) -> str:
    if not file:
        return "?"
    return f"{file.rsplit('/', 1)[-1]}:{line}" if line is not None else file.rsplit("/", 1)[-1]


def language_frame_label(frame: LanguageFrame, mark: str) -> Text:
    label = Text()
    label.append(f"{mark} ", style="bold magenta")
    label.append(frame.function, style="bold")
    label.append(f"  {place(frame.file, frame.line)}", style="dim")
    return label


def plumbing_label(count: int) -> Text:
    return Text(f"… {count} interpreter frame{'s' if count != 1 else ''}", style="dim italic")


def thread_label(thread: Thread, selected: bool, language: LanguageThread | None = None) -> Text:
    """gdb's thread number first (the one `info threads`, the status line and "Thread
    N hit Breakpoint" use), the kernel's LWP after the name; for a thread running
    Python, the name Python gave it and its innermost Python frame."""
    label = Text()
    label.append("→ " if selected else "  ")
    label.append(f"{thread.id:>3} ", style="bold")
    name = (language.name if language is not None else None) or thread.name
    label.append(f"{name or '-':<10} ")
    lwp = f"LWP {thread.lwp}" if thread.lwp is not None else "LWP ?"
    label.append(f"{lwp:<10}", style="dim")
    label.append(f"{thread.state:<8}", style="italic")
    if language is not None and language.frames:
        top = language.frames[0]
        label.append(" py ", style="magenta")
        label.append(top.function, style="bold")
        label.append(f" {place(top.file, top.line)}", style="dim")
    elif thread.frame is not None:
        label.append(f" {thread.frame.function or '??'}", style="bold")
        label.append(f" {thread.frame.location}", style="dim")
    return label


def goroutine_label(goroutine: Goroutine) -> Text:
    label = Text()
    label.append(f"g{goroutine.id:<5} ", style="bold")
    state = goroutine.state + (f" ({goroutine.wait_reason})" if goroutine.wait_reason else "")
    label.append(f"{state:<24} ", style="italic")
    label.append(goroutine.function, style="bold")
    label.append(f" {place(goroutine.file, goroutine.line)}", style="dim")
    if goroutine.lwp is not None:
        label.append(f"  on LWP {goroutine.lwp}", style="dim")
    return label


def shown_stack(
    frames: Sequence[Frame], language: LanguageThread | None
) -> list[Frame | LanguageFrame | int]:
    """gdb's frames with the language's in place; the interpreter's plumbing between
    them as counts."""
    merged = interleave(frames, language, lambda frame: frame.function)
    if language is None or not language.frames:
        return list(merged)
    return plumbing_counted(
        merged,
        lambda f: isinstance(f, Frame) and is_interpreter_plumbing(f.function, f.library),
    )


class ThreadsTree(TreeNavigation, Tree[NodeData]):
    """Thread nodes hold a Thread; frame nodes hold a Frame or a LanguageFrame (children
    of their thread); goroutine nodes a Goroutine, their frames Frames."""

    BINDINGS = NAVIGATION

    class BacktraceWanted(Message):
        def __init__(self, thread_id: int) -> None:
            super().__init__()
            self.thread_id = thread_id

    class FrameChosen(Message):
        def __init__(self, thread_id: int, frame: Frame) -> None:
            super().__init__()
            self.thread_id = thread_id
            self.frame = frame

    class LanguageFrameChosen(Message):
        """A Python frame: its source and locals are shown, gdb's frame is unchanged."""

        def __init__(self, thread_id: int, frame: LanguageFrame) -> None:
            super().__init__()
            self.thread_id = thread_id
            self.frame = frame

    class GoroutineWanted(Message):
        def __init__(self, goroutine_id: int) -> None:
            super().__init__()
            self.goroutine_id = goroutine_id

    class GoroutineFrameChosen(Message):
        def __init__(self, goroutine_id: int, frame: Frame) -> None:
            super().__init__()
            self.goroutine_id = goroutine_id
            self.frame = frame

    def __init__(self, **kwargs: object) -> None:
        super().__init__("threads", **kwargs)  # type: ignore[arg-type]
        self.show_root = False
        self.guide_depth = 2
        self.thread_nodes: dict[int, TreeNode[NodeData]] = {}
        self.goroutine_nodes: dict[int, TreeNode[NodeData]] = {}
        self.selected_thread: int | None = None
        self.language = LanguageStacks(None)

    def show_threads(
        self,
        threads: Sequence[Thread],
        selected: int | None,
        language: LanguageStacks | None = None,
    ) -> None:
        expanded = {tid for tid, node in self.thread_nodes.items() if node.is_expanded}
        self.clear()
        self.thread_nodes = {}
        self.goroutine_nodes = {}
        self.selected_thread = selected
        self.language = language or LanguageStacks(None)
        for thread in threads:
            label = thread_label(thread, thread.id == selected, self.language.thread(thread.lwp))
            node = self.root.add(label, data=thread)
            node.allow_expand = thread.frame is not None
            self.thread_nodes[thread.id] = node
        self.show_goroutines(self.language.goroutines)
        for thread_id in expanded | ({selected} if selected is not None else set()):
            node = self.thread_nodes.get(thread_id)
            if node is not None:
                node.expand()
        if selected in self.thread_nodes:
            self.move_cursor(self.thread_nodes[selected])

    def show_goroutines(self, goroutines: Sequence[Goroutine]) -> None:
        if not goroutines:
            return
        group = self.root.add(Text(f"goroutines ({len(goroutines)})", style="bold"), data=None)
        for goroutine in goroutines:
            node = group.add(goroutine_label(goroutine), data=goroutine)
            node.allow_expand = True
            self.goroutine_nodes[goroutine.id] = node
        group.expand()

    def show_backtrace(self, thread_id: int, frames: Sequence[Frame]) -> None:
        node = self.thread_nodes.get(thread_id)
        if node is None:
            return
        thread = node.data
        language = self.language.thread(thread.lwp) if isinstance(thread, Thread) else None
        mark = LANGUAGE_MARKS.get(self.language.language or "", "")
        node.remove_children()
        for frame in shown_stack(frames, language):
            if isinstance(frame, int):
                node.add_leaf(plumbing_label(frame), data=None)
            elif isinstance(frame, LanguageFrame):
                node.add_leaf(language_frame_label(frame, mark), data=frame)
            else:
                node.add_leaf(frame_label(frame), data=frame)

    def show_goroutine_stack(self, goroutine_id: int, frames: Sequence[Frame] | str) -> None:
        """Its frames, or the one line saying why they could not be read."""
        node = self.goroutine_nodes.get(goroutine_id)
        if node is None:
            return
        node.remove_children()
        if isinstance(frames, str):
            node.add_leaf(Text(frames, style="italic"), data=None)
            return
        for frame in frames:
            node.add_leaf(frame_label(frame), data=frame)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeData]) -> None:
        event.stop()
        data = event.node.data
        if isinstance(data, Thread) and not event.node.children:
            self.post_message(self.BacktraceWanted(data.id))
        elif isinstance(data, Goroutine) and not event.node.children:
            self.post_message(self.GoroutineWanted(data.id))

    def on_tree_node_selected(self, event: Tree.NodeSelected[NodeData]) -> None:
        event.stop()
        data = event.node.data
        parent = event.node.parent.data if event.node.parent is not None else None
        if isinstance(data, Frame) and isinstance(parent, Thread):
            self.post_message(self.FrameChosen(parent.id, data))
        elif isinstance(data, Frame) and isinstance(parent, Goroutine):
            self.post_message(self.GoroutineFrameChosen(parent.id, data))
        elif isinstance(data, LanguageFrame) and isinstance(parent, Thread):
            self.post_message(self.LanguageFrameChosen(parent.id, data))
        elif isinstance(data, Thread) and data.frame is not None:
            self.post_message(self.FrameChosen(data.id, data.frame))

    def thread_count(self) -> int:
        return len(self.thread_nodes)
