"""Browse the merged root as an attach session sees it; set breakpoints from a file."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header
from textual.widgets.tree import TreeNode

from cntr_tui.app import bindings
from cntr_tui.app.messages import BreakpointWanted
from cntr_tui.app.threads import deliver
from cntr_tui.attach.container import Container
from cntr_tui.fs.mounts import CONTAINER_ROOT
from cntr_tui.fs.view import FileEntry, MergedView
from cntr_tui.linux.procfs import exists, root_path
from cntr_tui.widgets.file_tree import FileTree
from cntr_tui.widgets.source_view import SourceFile, SourceView
from cntr_tui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from cntr_tui.attach.session import AttachSession

PREVIEW_LIMIT = 2 * 1024 * 1024
ALIVE_CHECK_SECONDS = 1.0


def open_session(container: Container) -> AttachSession:
    """Blocking: an attach session holding the merged root (FUSE)."""
    from cntr_tui.attach.session import AttachSession

    return AttachSession(container)


def read_text(path: str) -> str | None:
    """The file's text, or None when it is binary or too large to preview."""
    try:
        with open(path, "rb") as file:
            data = file.read(PREVIEW_LIMIT + 1)
    except OSError:
        return None
    if len(data) > PREVIEW_LIMIT or b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


class FilesScreen(Screen[None]):
    CSS_PATH = "files.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [*bindings.FILES]

    class Listed(Message):
        """A folder's entries are shown (tests wait on this)."""

        def __init__(self, view_path: str) -> None:
            super().__init__()
            self.view_path = view_path

    def __init__(self, container: Container) -> None:
        super().__init__()
        self.container = container
        self.merged = MergedView(root_path(container.pid))
        self.reveal_path: str | None = CONTAINER_ROOT
        self.opened: FileEntry | None = None
        self.session: AttachSession | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="files-body"):
            root = FileEntry("/", "/", "host", True, 0, "root")
            yield FileTree(root, id="file-tree")
            yield SourceView(id="file-view")
        yield StatusLine(id="files-status")
        yield Footer()

    @property
    def file_tree(self) -> FileTree:
        return self.query_one(FileTree)

    def on_mount(self) -> None:
        self.sub_title = f"files · {self.container.name}"
        self.query_one("#file-tree").border_title = "merged root: host / + container at " + (
            CONTAINER_ROOT
        )
        self.query_one("#file-view").border_title = "file"
        self.query_one(SourceView).show_message(
            "Select a file to open it. On a source file, b sets a breakpoint at the cursor."
        )
        self.query_one(StatusLine).context = f"{self.container.runtime} {self.container.name}"
        self.file_tree.focus()
        self.load_mounts()
        self.set_interval(ALIVE_CHECK_SECONDS, self.check_alive)

    def check_alive(self) -> None:
        if self.is_current and not exists(self.container.pid):
            self.notify(
                f"{self.container.name} stopped; back to the container list.",
                title="Container stopped",
                severity="warning",
                timeout=8,
            )
            self.dismiss()

    @work(thread=True, group="files")
    def load_mounts(self) -> None:
        """Open an attach session and browse its merged root; else rebuild the view."""
        status = self.query_one(StatusLine)
        deliver(self.app, setattr, status, "busy", "starting the attach session…")
        problem: str | None = None
        try:
            session = open_session(self.container)
            holder = session.root.holder if session.root is not None else None
            if holder is None:
                session.close()
                raise RuntimeError("the session holds no merged root")
            mounts = [(mount.mount_point, mount.provenance) for mount in session.mounts()]
            self.session = session
            merged = MergedView.for_session(holder, mounts)
        except Exception as error:  # UserError, OSError, an old build: all say why
            problem = str(error) or type(error).__name__
            merged = MergedView.for_pid(self.container.pid)
        entries = merged.list_dir("/")
        deliver(self.app, self.mounts_loaded, merged, entries, problem)

    def mounts_loaded(
        self, merged: MergedView, entries: list[FileEntry], problem: str | None
    ) -> None:
        self.merged = merged
        status = self.query_one(StatusLine)
        status.busy = ""
        status.state = merged.description
        if problem is not None:
            self.notify(
                f"No attach session ({problem}); showing the same layout built from the host.",
                title="Files",
                severity="warning",
                timeout=8,
            )
        self.show_listing(self.file_tree.root, entries)

    def on_unmount(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            self.app.run_worker(session.close, thread=True, group="close-session")

    def show_listing(self, node: TreeNode[FileEntry], entries: list[FileEntry]) -> None:
        self.file_tree.fill(node, entries)
        node.expand()
        if node.data is not None:
            self.post_message(self.Listed(node.data.view_path))
            self.continue_reveal(node.data.view_path)

    def continue_reveal(self, listed: str) -> None:
        """Open the folders down to `reveal_path`, one listing at a time."""
        target = self.reveal_path
        if target is None:
            return
        node = self.file_tree.node_for(target)
        if node is not None and node.data is not None and node.data.view_path == target:
            if node.children:
                self.reveal_path = None
                self.file_tree.move_cursor(node)
                return
            self.list_folder(node)
            return
        for child in (self.file_tree.node_for(listed) or self.file_tree.root).children:
            if child.data is not None and target.startswith(child.data.view_path + "/"):
                self.list_folder(child)
                return

    def reveal(self, view_path: str) -> None:
        self.reveal_path = view_path
        self.continue_reveal("/")

    @on(FileTree.ListingWanted)
    def listing_wanted(self, event: FileTree.ListingWanted) -> None:
        self.list_folder(event.node)

    @work(thread=True, group="listing")
    def list_folder(self, node: TreeNode[FileEntry]) -> None:
        if node.data is None:
            return
        entries = self.merged.list_dir(node.data.view_path)
        deliver(self.app, self.show_listing, node, entries)

    @on(FileTree.FileChosen)
    def file_chosen(self, event: FileTree.FileChosen) -> None:
        self.open_file(event.entry)

    def open_file(self, entry: FileEntry) -> None:
        self.opened = entry
        view = self.query_one(SourceView)
        view.border_title = f"{entry.view_path} ({entry.provenance})"
        text = read_text(entry.real_path)
        if text is None:
            view.show_message(f"{entry.view_path}: binary, unreadable or larger than 2 MiB.")
            return
        view.show_file(SourceFile(entry.view_path, text, (entry.real_path,)))
        view.cursor_line = 1
        view.focus()

    def action_switch_pane(self) -> None:
        view = self.query_one(SourceView)
        (self.file_tree if view.has_focus else view).focus()

    def action_breakpoint(self) -> None:
        entry = self.opened
        view = self.query_one(SourceView)
        if entry is None or view.source is None or view.source.text is None:
            self.notify("Open a source file first.", severity="warning")
            return
        path = entry.container_path or entry.view_path
        self.post_message(BreakpointWanted(self.container, f"{path}:{view.cursor_line}"))

    def action_back(self) -> None:
        self.dismiss()
