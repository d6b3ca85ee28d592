"""The merged root as a tree: the host's `/` with the container at /var/lib/cntr.

Each entry shows its size, owner and provenance (host, container, volume, virtual).
Folders load when expanded, so a huge tree costs nothing until it is opened; the
entries come from `cntr_tui.fs.view` (the screen reads them in a thread).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from cntr_tui.fs.view import FileEntry
from cntr_tui.widgets.navigation import NAVIGATION, TreeNavigation

PROVENANCE_STYLES = {
    "container": "bold green",
    "volume": "bold magenta",
    "virtual": "cyan",
    "host": "dim",
}


def human_size(size: int) -> str:
    for unit in ("B", "K", "M", "G"):
        if size < 1024:
            return f"{size}{unit}"
        size //= 1024
    return f"{size}T"


def entry_label(entry: FileEntry) -> Text:
    label = Text()
    label.append(entry.name + ("/" if entry.is_dir else ""), style="bold" if entry.is_dir else "")
    if entry.is_container_root:
        label.append("  ◆ the container's root", style=PROVENANCE_STYLES["container"])
    label.append(f"  {entry.provenance}", style=PROVENANCE_STYLES.get(entry.provenance, ""))
    if not entry.is_dir:
        label.append(f"  {human_size(entry.size)}", style="dim")
    label.append(f"  {entry.owner}", style="dim")
    return label


class FileTree(TreeNavigation, Tree[FileEntry]):
    BINDINGS = NAVIGATION

    class ListingWanted(Message):
        def __init__(self, node: TreeNode[FileEntry]) -> None:
            super().__init__()
            self.node = node

    class FileChosen(Message):
        def __init__(self, entry: FileEntry) -> None:
            super().__init__()
            self.entry = entry

    def __init__(self, root: FileEntry, **kwargs: object) -> None:
        super().__init__("/ (merged root)", data=root, **kwargs)  # type: ignore[arg-type]
        self.guide_depth = 2

    def fill(self, node: TreeNode[FileEntry], entries: Sequence[FileEntry]) -> None:
        node.remove_children()
        for entry in entries:
            child = node.add(entry_label(entry), data=entry, allow_expand=entry.is_dir)
            if not entry.is_dir:
                child.allow_expand = False

    def node_for(self, view_path: str) -> TreeNode[FileEntry] | None:
        def walk(node: TreeNode[FileEntry]) -> TreeNode[FileEntry] | None:
            if node.data is not None and node.data.view_path == view_path:
                return node
            for child in node.children:
                if child.data is not None and (
                    view_path == child.data.view_path
                    or view_path.startswith(child.data.view_path.rstrip("/") + "/")
                ):
                    return walk(child)
            return None

        return walk(self.root)

    def child_names(self, view_path: str) -> list[str]:
        node = self.node_for(view_path)
        if node is None:
            return []
        return [child.data.name for child in node.children if child.data is not None]

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[FileEntry]) -> None:
        event.stop()
        if event.node.data is not None and event.node.data.is_dir and not event.node.children:
            self.post_message(self.ListingWanted(event.node))

    def on_tree_node_selected(self, event: Tree.NodeSelected[FileEntry]) -> None:
        event.stop()
        if event.node.data is not None and not event.node.data.is_dir:
            self.post_message(self.FileChosen(event.node.data))
