"""Threads and stacks: one node per thread; expanding it shows its backtrace.

Where the program's language frames were read (languages/records.py), a thread's
backtrace shows them in place of the interpreter's eval-loop frames that run them, the
interpreter's own plumbing counted in one dim row; a Go program's goroutines follow the
threads, each opened to its own stack.

From GROUP_FROM threads on, threads with the same stack share one node ("412 threads
in epoll_wait <- event_loop <- worker_main"), its members added when it is opened;
until their backtraces are read they are grouped by top frame, and opening such a
group asks for its members' stacks (StacksWanted); when not even the top frames are
known (the thread list kept from the stop before) they are grouped by name. After a stop
the screen reads every thread's stack in turn, the largest groups first
(`unread_in_order`); each batch read regroups the pane, and `StacksGrouped` says when
every thread shown is grouped by its whole stack. `F` filters the threads by number,
name, state or function.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from cntr_tui.gdb.records import Frame, Thread
from cntr_tui.languages.interleave import interleave, is_interpreter_plumbing, plumbing_counted
from cntr_tui.languages.records import Goroutine, LanguageFrame, LanguageStacks, LanguageThread
from cntr_tui.widgets.navigation import NAVIGATION, SearchBar, TreeNavigation
from cntr_tui.widgets.thread_groups import (
    GROUP_FROM,
    ThreadGroup,
    functions,
    group_threads,
    thread_matches,
)

NodeData = Thread | Frame | LanguageFrame | Goroutine | ThreadGroup | None
GroupKey = tuple[bool, tuple[str, ...], str | None]
LANGUAGE_MARKS = {"python": "py", "go": "go"}
# `f` is the screen's finish: the filter is on F
THREADS = [Binding("F", "filter_threads", "Filter threads", show=False, id="threads.filter")]


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


def thread_label(
    thread: Thread,
    selected: bool,
    language: LanguageThread | None = None,
    top: Frame | None = None,
) -> Text:
    """gdb's thread number first (the one `info threads`, the status line and "Thread
    N hit Breakpoint" use), the kernel's LWP after the name; for a thread running
    Python, the name Python gave it and its innermost Python frame. `top`: the top frame
    when the thread's record has none (its backtrace read after the listing)."""
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
    elif (frame := thread.frame or top) is not None:
        label.append(f" {frame.function or '??'}", style="bold")
        label.append(f" {frame.location}", style="dim")
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

    BINDINGS = [*NAVIGATION, *THREADS]

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

    class StacksWanted(Message):
        """The backtraces of these threads (a group opened whose stacks are not read)."""

        def __init__(self, thread_ids: Sequence[int]) -> None:
            super().__init__()
            self.thread_ids = tuple(thread_ids)

    class StacksGrouped(Message):
        """Every thread shown has its backtrace read: the groups are by whole stack."""

        def __init__(self, groups: int, threads: int) -> None:
            super().__init__()
            self.groups = groups
            self.threads = threads

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
        self.threads: list[Thread] = []
        self.stacks: dict[int, list[Frame]] = {}  # backtraces read at this stop
        self.asked: set[int] = set()  # threads whose backtraces were asked for
        self.quiet: set[int] = set()  # nodes we opened ourselves: no stacks asked
        self.filter_text = ""
        self.thread_nodes: dict[int, TreeNode[NodeData]] = {}
        self.group_nodes: dict[GroupKey, TreeNode[NodeData]] = {}
        self.goroutine_nodes: dict[int, TreeNode[NodeData]] = {}
        self.selected_thread: int | None = None
        self.language = LanguageStacks(None)

    @property
    def grouped(self) -> bool:
        return len(self.threads) >= GROUP_FROM

    def show_threads(
        self,
        threads: Sequence[Thread],
        selected: int | None,
        language: LanguageStacks | None = None,
    ) -> None:
        """A new stop (or state): the threads; backtraces read before are forgotten."""
        self.threads = list(threads)
        self.stacks = {}
        self.asked = set()
        self.selected_thread = selected
        self.language = language or LanguageStacks(None)
        self.render_threads()

    def render_threads(self) -> None:
        """Rebuild the nodes from the threads, the stacks read and the filter, keeping
        what was open open and the cursor on the selected thread."""
        expanded = {tid for tid, node in self.thread_nodes.items() if node.is_expanded}
        opened = {key for key, node in self.group_nodes.items() if node.is_expanded}
        opened_tops = {stack[0] for whole, stack, _ in opened if not whole and stack}
        self.clear()
        self.quiet = set()
        self.thread_nodes = {}
        self.group_nodes = {}
        self.goroutine_nodes = {}
        selected = self.selected_thread
        shown = [
            t for t in self.threads if thread_matches(t, self.stacks.get(t.id), self.filter_text)
        ]
        if not self.grouped:
            for thread in shown:
                self.add_thread(self.root, thread)
        else:
            for group in group_threads(shown, self.stacks):
                if len(group.threads) == 1:
                    self.add_thread(self.root, group.threads[0])
                    continue
                key = (group.whole, group.stack, group.name)
                node = self.root.add(Text(group.title(), style="bold"), data=group)
                self.group_nodes[key] = node
                # a group opened before its stacks were read: its parts stay open
                reopened = key in opened or (
                    group.whole and group.stack[:1] in {(top,) for top in opened_tops}
                )
                if reopened or (selected is not None and selected in group.ids):
                    self.open_group(node, group)
        self.show_goroutines(self.language.goroutines)
        for thread_id in expanded | ({selected} if selected is not None else set()):
            node = self.thread_nodes.get(thread_id)
            if node is not None:
                self.fill_backtrace(node)
                if thread_id == selected:
                    self.quiet.add(node.id)  # the screen reads its backtrace itself
                node.expand()
        if selected in self.thread_nodes:
            self.move_cursor(self.thread_nodes[selected])

    def add_thread(self, parent: TreeNode[NodeData], thread: Thread) -> None:
        language = self.language.thread(thread.lwp)
        stack = self.stacks.get(thread.id)
        top = stack[0] if stack else None
        label = thread_label(thread, thread.id == self.selected_thread, language, top)
        node = parent.add(label, data=thread)
        node.allow_expand = thread.state == "stopped" or thread.frame is not None or bool(stack)
        self.thread_nodes[thread.id] = node

    def open_group(self, node: TreeNode[NodeData], group: ThreadGroup) -> None:
        """Its members' nodes (added once), opened without asking for their stacks."""
        self.add_members(node, group)
        if not node.is_expanded:
            self.quiet.add(node.id)
            node.expand()

    def add_members(self, node: TreeNode[NodeData], group: ThreadGroup) -> None:
        if not node.children:
            for thread in group.threads:
                self.add_thread(node, thread)

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
        self.stacks[thread_id] = list(frames)
        node = self.thread_nodes.get(thread_id)
        if node is not None:
            self.fill_backtrace(node)

    def show_backtraces(self, stacks: dict[int, list[Frame]]) -> None:
        """Several threads' backtraces at once (a group's, a batch after a stop): the
        groups split by stack."""
        self.stacks.update(stacks)
        if self.grouped:
            self.render_threads()
            if not self.unread_in_order():
                self.post_message(self.StacksGrouped(self.group_count(), self.thread_count()))
        else:
            for thread_id in stacks:
                node = self.thread_nodes.get(thread_id)
                if node is not None:
                    self.fill_backtrace(node)

    def unread_in_order(self) -> list[int]:
        """The threads shown whose backtraces are not read: the largest groups first
        (those at the top of the pane), each group's members in order."""
        shown = [
            t for t in self.threads if thread_matches(t, self.stacks.get(t.id), self.filter_text)
        ]
        return [
            thread.id
            for group in group_threads(shown, self.stacks)
            if not group.whole
            for thread in group.threads
        ]

    def shown_groups(self) -> list[ThreadGroup]:
        """What the pane's top level shows: each group, a single thread as a group of one."""
        return [
            node.data
            if isinstance(node.data, ThreadGroup)
            else ThreadGroup(
                functions(self.stacks.get(node.data.id, ())),
                (node.data,),
                node.data.id in self.stacks,
            )
            for node in self.root.children
            if isinstance(node.data, ThreadGroup | Thread)
        ]

    def fill_backtrace(self, node: TreeNode[NodeData]) -> None:
        thread = node.data
        if not isinstance(thread, Thread) or thread.id not in self.stacks:
            return
        frames = self.stacks[thread.id]
        language = self.language.thread(thread.lwp)
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
        if isinstance(data, ThreadGroup):
            self.add_members(event.node, data)
            if event.node.id in self.quiet:
                self.quiet.discard(event.node.id)
                return
            unread = [tid for tid in data.ids if tid not in self.stacks and tid not in self.asked]
            if unread:
                self.asked.update(unread)
                self.post_message(self.StacksWanted(unread))
        elif isinstance(data, Thread) and not event.node.children:
            if event.node.id in self.quiet:
                self.quiet.discard(event.node.id)
            elif data.id in self.stacks:
                self.fill_backtrace(event.node)
            else:
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
        """Threads listed (in groups or not), the filter applied."""
        return sum(
            1
            for thread in self.threads
            if thread_matches(thread, self.stacks.get(thread.id), self.filter_text)
        )

    def group_count(self) -> int:
        return len(self.group_nodes)

    # --- the filter -------------------------------------------------------------------

    async def action_filter_threads(self) -> None:
        if self.query(".thread-filter"):
            self.query_one(".thread-filter", SearchBar).input.focus()
            return
        before = self.filter_text
        bar = SearchBar(
            "filter: ",
            changed=self.set_filter,
            submitted=lambda text: self.close_filter(keep=True),
            cancelled=lambda: self.close_filter(keep=False, restore=before),
        )
        bar.add_class("thread-filter")
        await self.mount(bar)
        bar.input.value = before
        bar.input.focus()

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip()
        self.render_threads()
        bar = next(iter(self.query(".thread-filter")), None)
        if isinstance(bar, SearchBar):
            bar.show_status(f"{self.thread_count()}/{len(self.threads)}")

    def close_filter(self, keep: bool, restore: str = "") -> None:
        if not keep:
            self.set_filter(restore)
        for bar in self.query(".thread-filter"):
            bar.remove()
        self.focus()
