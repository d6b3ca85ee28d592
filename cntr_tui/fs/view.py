"""The merged root as a browsable model: the host's `/` with the container at
/var/lib/cntr, each path mapped to one this process can open, with its provenance
(host, container, volume, virtual), size and owner.

The file browser's data (widgets/file_tree.py draws it); blocking, so the screen calls
it from a thread. Not the FUSE server's `fs.merged.MergedOperations`, which serves the same
layout to the kernel.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass

from cntr_tui.fs.mounts import CONTAINER_ROOT, VIRTUAL_FSTYPES
from cntr_tui.linux.mountinfo import MountEntry, is_under, read_mountinfo
from cntr_tui.linux.procfs import root_path
from cntr_tui.linux.users import user_name

LISTING_LIMIT = 2000


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
    def is_container_root(self) -> bool:
        return self.view_path == CONTAINER_ROOT

    @property
    def container_path(self) -> str | None:
        """The path as the container's processes see it; None for host files."""
        if is_under(self.view_path, CONTAINER_ROOT):
            return self.view_path[len(CONTAINER_ROOT) :] or "/"
        return None


def mount_table(pid: int | str) -> list[MountEntry]:
    """`pid`'s mount table; empty when it cannot be read (the process is gone)."""
    try:
        return read_mountinfo(pid)
    except (OSError, ValueError, IndexError):
        return []


def mount_depth(mount: MountEntry) -> int:
    return len(mount.mount_point)


class MergedView:
    """Maps paths of the merged view to paths this process can open, with provenance.

    `container_root_on_host` is the container's `/` as we can open it (for example
    /proc/PID/root); `host_root_on_host` the merged view's host part (normally `/`, or
    an attach session's root seen through /proc/HELPER/root).
    """

    def __init__(
        self,
        container_root_on_host: str,
        container_mounts: Sequence[MountEntry] = (),
        host_root_on_host: str = "/",
        host_mounts: Sequence[MountEntry] = (),
        session_mounts: Sequence[tuple[str, str]] = (),
        description: str = "",
    ) -> None:
        self.container_root_on_host = container_root_on_host.rstrip("/")
        self.host_root_on_host = host_root_on_host.rstrip("/")
        self.container_mounts = sorted(
            container_mounts, key=lambda m: len(m.mount_point), reverse=True
        )
        self.host_mounts = sorted(host_mounts, key=lambda m: len(m.mount_point), reverse=True)
        # (mount point, provenance) of an attach session's own table, when there is one
        self.session_mounts = sorted(session_mounts, key=lambda m: len(m[0]), reverse=True)
        self.description = description

    @classmethod
    def for_pid(cls, pid: int) -> MergedView:
        """The merged view rebuilt from the host's side (no attach session needed)."""
        return cls(
            root_path(pid),
            mount_table(pid),
            "/",
            mount_table("self"),
            description=f"host / with /proc/{pid}/root at {CONTAINER_ROOT}",
        )

    @classmethod
    def for_session(cls, holder_pid: int, mounts: Sequence[tuple[str, str]]) -> MergedView:
        """The merged root an attach session holds, seen through /proc/HOLDER/root."""
        root = root_path(holder_pid)
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
            if mount is None or mount.mount_point == "/":
                return "container"
            return "virtual" if mount.fstype in VIRTUAL_FSTYPES else "volume"
        mount = self.longest_mount(self.host_mounts, view_path)
        return "virtual" if mount is not None and mount.fstype in VIRTUAL_FSTYPES else "host"

    @staticmethod
    def longest_mount(mounts: Sequence[MountEntry], path: str) -> MountEntry | None:
        for mount in mounts:
            if is_under(path, mount.mount_point):
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
            user_name(info.st_uid),
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
