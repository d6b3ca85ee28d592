"""Side panel: the selected container's namespaces, capabilities, user and processes.

The process tree is a picker: focused (`p` on the containers screen), j/k move its
cursor and enter debugs the process under it. It is rebuilt each time the container's
facts are read again (the list refreshes every few seconds): the cursor stays on the
same process and the focus stays in the tree."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from cntr_tui.attach.container import Container, ContainerFacts, ProcessNode


def process_label(node: ProcessNode) -> Text:
    label = Text()
    label.append(f"{node.container_pid}", style="bold")
    label.append(f" (host {node.pid}) ", style="dim")
    label.append(node.name)
    if node.threads > 1:
        label.append(f" [{node.threads} threads]", style="dim")
    return label


def container_rows(container: Container) -> list[tuple[str, str]]:
    runtime = container.runtime
    if container.runtime_namespace:
        runtime += f" ({container.runtime_namespace})"
    rows = [
        ("runtime", runtime),
        ("id", container.id),
        ("image", container.image or "-"),
        ("command", container.command or "-"),
        ("host PID", str(container.pid)),
        ("status", container.status),
        ("namespaces", " ".join(sorted(container.namespaces)) or "the host's"),
    ]
    if container.kubernetes is not None:
        k8s = container.kubernetes
        rows.append(("kubernetes", f"{k8s.namespace}/{k8s.pod} ({k8s.container})"))
        if k8s.uid:
            rows.append(("pod uid", k8s.uid))
        if k8s.restart_count is not None:
            rows.append(("restarts", str(k8s.restart_count)))
    return rows


def summary_of(container: Container, facts: ContainerFacts | None) -> Text:
    text = Text()
    text.append(f"{container.name}\n", style="bold")
    rows = container_rows(container) + (facts.rows() if facts is not None else [])
    for name, value in rows:
        text.append(f"{name:>11} ", style="dim")
        text.append(f"{value}\n")
    if facts is None:
        text.append("reading /proc…\n", style="dim italic")
    else:
        for warning in facts.warnings:
            text.append(f"{warning}\n", style="italic")
    return text


class ContainerDetails(VerticalScroll):
    """Filled in two steps: the Container record at once, /proc facts when they arrive."""

    DEFAULT_CSS = """
    ContainerDetails { padding: 0 1; }
    ContainerDetails > #details-summary { height: auto; }
    ContainerDetails > #details-processes { height: auto; min-height: 3; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.shown: Container | None = None
        self.has_facts = False

    def compose(self) -> ComposeResult:
        yield Static(id="details-summary")
        tree: Tree[ProcessNode] = Tree("processes", id="details-processes")
        tree.show_root = True
        tree.auto_expand = False  # enter debugs the process, it does not fold its branch
        yield tree

    @property
    def processes(self) -> Tree[ProcessNode]:
        return self.query_one("#details-processes", Tree)

    def picked(self) -> ProcessNode | None:
        """The process under the tree's cursor while the tree has the focus."""
        tree = self.processes
        node = tree.cursor_node if tree.has_focus and tree.display else None
        return node.data if node is not None else None

    def show(self, container: Container | None, facts: ContainerFacts | None = None) -> None:
        """`facts` None: not read yet. The same container again without facts keeps
        what is shown (its facts are being read again)."""
        summary = self.query_one("#details-summary", Static)
        tree = self.processes
        same = container is not None and self.shown is not None and container.key == self.shown.key
        if same and facts is None and self.has_facts:
            return
        self.shown, self.has_facts = container, facts is not None
        if container is None:
            tree.clear()
            summary.update(Text("No container selected.", style="dim"))
            tree.display = False
            return
        summary.update(summary_of(container, facts))
        if facts is None:
            tree.clear()
            tree.display = False
            return
        picked = tree.cursor_node.data if same and tree.cursor_node is not None else None
        tree.clear()
        tree.root.set_label("processes: container PID (host PID)")
        for node in facts.processes:
            add_process(tree.root, node)
        tree.root.expand_all()
        tree.display = True
        if picked is not None:
            self.call_after_refresh(move_to, tree, picked.pid)


def move_to(tree: Tree[ProcessNode], host_pid: int) -> None:
    """The cursor on the process `host_pid` if the tree still has it (nodes get their
    lines once the tree has laid them out)."""
    stack = list(tree.root.children)
    while stack:
        node = stack.pop()
        if node.data is not None and node.data.pid == host_pid:
            tree.move_cursor(node)
            return
        stack.extend(node.children)


def add_process(parent: TreeNode[ProcessNode], node: ProcessNode) -> None:
    if node.children:
        branch = parent.add(process_label(node), data=node, expand=True)
        for child in node.children:
            add_process(branch, child)
    else:
        parent.add_leaf(process_label(node), data=node)
