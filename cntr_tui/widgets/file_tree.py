"""The merged root as a tree: the host's `/` with the container at /var/lib/cntr.

Each entry shows its size, owner and provenance (host, container, volume, virtual).
Folders load when expanded, so a huge tree costs nothing until it is opened.
"""

from __future__ import annotations

import os
import pwd
import stat
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from cntr_tui.fs.mounts import CONTAINER_ROOT, VIRTUAL_FSTYPES

PROVENANCE_STYLES = {
    "container": "bold green",
    "volume": "bold magenta",
    "virtual": "cyan",
    "host": "dim",
}
LISTING_LIMIT = 2000


@dataclass(frozen=True)
class MountPoint:
    path: str
    fstype: str


@dataclass(frozen=True)
class FileEntry:
    view_path: str
    real_path: str
    provenance: str
    is_dir: bool
    size: int
    owner: str

    @property
    def name(self) -> str:
        return os.path.basename(self.view_path) or "/"

    @property
    def container_path(self) -> str | None:
        """The path as the container's processes see it; None for host files."""
        if self.view_path == CONTAINER_ROOT or self.view_path.startswith(CONTAINER_ROOT + "/"):
            return self.view_path[len(CONTAINER_ROOT) :] or "/"
        return None


def read_mount_points(pid: int | str) -> list[MountPoint]:
    points: list[MountPoint] = []
    try:
        with open(f"/proc/{pid}/mountinfo", encoding="utf-8", errors="replace") as table:
            for line in table:
                fields = line.split()
                separator = fields.index("-")
                points.append(MountPoint(fields[4].replace("\\040", " "), fields[separator + 1]))
    except (OSError, ValueError, IndexError):
        pass
    return points


def owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def human_size(size: int) -> str:
    for unit in ("B", "K", "M", "G"):
        if size < 1024:
            return f"{size}{unit}"
        size //= 1024
    return f"{size}T"


class MergedRoot:
    """Maps paths of the merged view to paths this process can open, with provenance.

    `container_root_on_host` is the container's `/` as we can open it (for example
    /proc/PID/root); `host_root_on_host` the merged view's host part (normally `/`, or
    an attach session's root seen through /proc/HELPER/root).
    """

    def __init__(
        self,
        container_root_on_host: str,
        container_mounts: Sequence[MountPoint] = (),
        host_root_on_host: str = "/",
        host_mounts: Sequence[MountPoint] = (),
        session_mounts: Sequence[tuple[str, str]] = (),
        description: str = "",
    ) -> None:
        self.container_root_on_host = container_root_on_host.rstrip("/")
        self.host_root_on_host = host_root_on_host.rstrip("/")
        self.container_mounts = sorted(container_mounts, key=lambda m: len(m.path), reverse=True)
        self.host_mounts = sorted(host_mounts, key=lambda m: len(m.path), reverse=True)
        # (mount point, provenance) of an attach session's own table, when there is one
        self.session_mounts = sorted(session_mounts, key=lambda m: len(m[0]), reverse=True)
        self.description = description

    @classmethod
    def for_pid(cls, pid: int) -> MergedRoot:
        """The merged view rebuilt from the host's side (no attach session needed)."""
        return cls(
            f"/proc/{pid}/root",
            read_mount_points(pid),
            "/",
            read_mount_points("self"),
            description=f"host / with /proc/{pid}/root at {CONTAINER_ROOT}",
        )

    @classmethod
    def for_session(cls, holder_pid: int, mounts: Sequence[tuple[str, str]]) -> MergedRoot:
        """The merged root an attach session holds, seen through /proc/HOLDER/root."""
        root = f"/proc/{holder_pid}/root"
        return cls(
            root + CONTAINER_ROOT,
            host_root_on_host=root,
            session_mounts=mounts,
            description=f"attach session's merged root ({root})",
        )

    def real_path(self, view_path: str) -> str:
        if self.session_mounts:  # the session's root already holds the container
            return self.host_root_on_host + view_path
        if view_path == CONTAINER_ROOT or view_path.startswith(CONTAINER_ROOT + "/"):
            return self.container_root_on_host + view_path[len(CONTAINER_ROOT) :]
        return (self.host_root_on_host + view_path) if self.host_root_on_host else view_path

    def provenance(self, view_path: str) -> str:
        for mount_point, provenance in self.session_mounts:
            if view_path == mount_point or view_path.startswith(mount_point.rstrip("/") + "/"):
                return provenance
        if view_path == CONTAINER_ROOT or view_path.startswith(CONTAINER_ROOT + "/"):
            inner = view_path[len(CONTAINER_ROOT) :] or "/"
            mount = self.longest_mount(self.container_mounts, inner)
            if mount is None or mount.path == "/":
                return "container"
            return "virtual" if mount.fstype in VIRTUAL_FSTYPES else "volume"
        mount = self.longest_mount(self.host_mounts, view_path)
        return "virtual" if mount is not None and mount.fstype in VIRTUAL_FSTYPES else "host"

    @staticmethod
    def longest_mount(mounts: Sequence[MountPoint], path: str) -> MountPoint | None:
        for mount in mounts:
            if path == mount.path or path.startswith(mount.path.rstrip("/") + "/"):
                return mount
        return None

    def entry(self, view_path: str) -> FileEntry | None:
        real = self.real_path(view_path)
        try:
            # /proc/PID/root is a magic link: follow it; show other links as they are.
            info = os.stat(real) if view_path == CONTAINER_ROOT else os.lstat(real)
        except OSError:
            if view_path in ("/var", "/var/lib", CONTAINER_ROOT):
                return FileEntry(view_path, real, self.provenance(view_path), True, 0, "root")
            return None
        is_dir = stat.S_ISDIR(info.st_mode)
        return FileEntry(
            view_path,
            real,
            self.provenance(view_path),
            is_dir,
            info.st_size,
            owner_name(info.st_uid),
        )

    def list_dir(self, view_path: str) -> list[FileEntry]:
        """Blocking. Folders first, then files; /var/lib/cntr always present."""
        names: set[str] = set()
        try:
            with os.scandir(self.real_path(view_path)) as listing:
                for index, item in enumerate(listing):
                    if index >= LISTING_LIMIT:
                        break
                    names.add(item.name)
        except OSError:
            pass
        for virtual in ("/var", "/var/lib", CONTAINER_ROOT):
            parent, _, name = virtual.rpartition("/")
            if (parent or "/") == view_path:
                names.add(name)
        base = view_path.rstrip("/")
        entries = [entry for name in names if (entry := self.entry(f"{base}/{name}"))]
        return sorted(entries, key=lambda entry: (not entry.is_dir, entry.name))


def entry_label(entry: FileEntry) -> Text:
    label = Text()
    label.append(entry.name + ("/" if entry.is_dir else ""), style="bold" if entry.is_dir else "")
    if entry.view_path == CONTAINER_ROOT:
        label.append("  ◆ the container's root", style=PROVENANCE_STYLES["container"])
    label.append(f"  {entry.provenance}", style=PROVENANCE_STYLES.get(entry.provenance, ""))
    if not entry.is_dir:
        label.append(f"  {human_size(entry.size)}", style="dim")
    label.append(f"  {entry.owner}", style="dim")
    return label


class FileTree(Tree[FileEntry]):
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
