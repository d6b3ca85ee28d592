"""Threads and stacks: one node per thread; expanding it shows its backtrace."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from cntr_tui.gdb.records import Frame, Thread
from cntr_tui.widgets.navigation import NAVIGATION, TreeNavigation


def frame_label(frame: Frame) -> Text:
    label = Text()
    label.append(f"#{frame.level} ", style="dim")
    label.append(frame.function or "??", style="bold")
    label.append(f"  {frame.location}", style="dim")
    return label


def thread_label(thread: Thread, selected: bool) -> Text:
    """gdb's thread number first (the one `info threads`, the status line and "Thread
    N hit Breakpoint" use), the kernel's LWP after the name."""
    label = Text()
    label.append("→ " if selected else "  ")
    label.append(f"{thread.id:>3} ", style="bold")
    label.append(f"{thread.name or '-':<10} ")
    lwp = f"LWP {thread.lwp}" if thread.lwp is not None else "LWP ?"
    label.append(f"{lwp:<10}", style="dim")
    label.append(f"{thread.state:<8}", style="italic")
    if thread.frame is not None:
        label.append(f" {thread.frame.function or '??'}", style="bold")
        label.append(f" {thread.frame.location}", style="dim")
    return label


class ThreadsTree(TreeNavigation, Tree[Thread | Frame]):
    """Thread nodes hold a Thread; frame nodes hold a Frame (children of their thread)."""

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

    def __init__(self, **kwargs: object) -> None:
        super().__init__("threads", **kwargs)  # type: ignore[arg-type]
        self.show_root = False
        self.guide_depth = 2
        self.thread_nodes: dict[int, TreeNode[Thread | Frame]] = {}
        self.selected_thread: int | None = None

    def show_threads(self, threads: Sequence[Thread], selected: int | None) -> None:
        expanded = {tid for tid, node in self.thread_nodes.items() if node.is_expanded}
        self.clear()
        self.thread_nodes = {}
        self.selected_thread = selected
        for thread in threads:
            node = self.root.add(thread_label(thread, thread.id == selected), data=thread)
            node.allow_expand = thread.frame is not None
            self.thread_nodes[thread.id] = node
        for thread_id in expanded | ({selected} if selected is not None else set()):
            node = self.thread_nodes.get(thread_id)
            if node is not None:
                node.expand()
        if selected in self.thread_nodes:
            self.move_cursor(self.thread_nodes[selected])

    def show_backtrace(self, thread_id: int, frames: Sequence[Frame]) -> None:
        node = self.thread_nodes.get(thread_id)
        if node is None:
            return
        node.remove_children()
        for frame in frames:
            node.add_leaf(frame_label(frame), data=frame)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Thread | Frame]) -> None:
        event.stop()
        if isinstance(event.node.data, Thread) and not event.node.children:
            self.post_message(self.BacktraceWanted(event.node.data.id))

    def on_tree_node_selected(self, event: Tree.NodeSelected[Thread | Frame]) -> None:
        event.stop()
        data = event.node.data
        if isinstance(data, Frame) and event.node.parent is not None:
            thread = event.node.parent.data
            if isinstance(thread, Thread):
                self.post_message(self.FrameChosen(thread.id, data))
        elif isinstance(data, Thread) and data.frame is not None:
            self.post_message(self.FrameChosen(data.id, data.frame))

    def thread_count(self) -> int:
        return len(self.thread_nodes)
