"""The file server's directory descriptors: an O_PATH fd per directory inode, opened
relative to its parent's, kept in a bounded least-recently-used cache.

Every operation on a name (LOOKUP, MKDIR, UNLINK, RENAME, ...) runs relative to its
parent directory's fd (`openat`, `fstatat`, `mkdirat`, `unlinkat`, ...), never by a
full path rebuilt from the root: a tree deeper than PATH_MAX, which a process reaches
by relative walks, is then served as the host serves it (a rebuilt path would fail
with ENAMETOOLONG), and the kernel walks one component per request instead of all.

A descriptor stands for the directory itself, not its path: a directory renamed on
the host behind our back is still found, and one removed is ENOENT, as its FUSE inode
(keyed by the host's (st_dev, st_ino)) should be. A mount made on a directory after
its fd was taken is seen once the kernel looks the name up again (a new key, a new
inode), as it does after the entry timeout.

Only directories on the root's own mount are kept. A descriptor of a directory on any
other mount (a tmpfs, a bind mount, a USB disk mounted under /mnt) would keep that
mount busy, so the host's plain `umount` of it would fail with EBUSY while a session
lives. Those are opened for one request (from their nearest kept ancestor, a step per
component, as the rest) and closed when it ends (`end_request`); the file server then
holds descriptors on such a mount only for the files the kernel has open there, as a
process on the host would. Which mount a new descriptor is on: statx's mount id.
"""

from __future__ import annotations

import os
from collections import OrderedDict

from cntr_tui.fs.inode_paths import ROOT_INODE, InodePaths
from cntr_tui.linux.syscalls import mount_id

DIRECTORY_FDS = 1024  # well under the 20,000 open files, with room for open files
OPEN_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class DirectoryFds:
    """O_PATH descriptors of directory inodes; `/` (the root inode) is always open."""

    def __init__(self, inodes: InodePaths, capacity: int = DIRECTORY_FDS) -> None:
        self.inodes = inodes
        self.capacity = max(capacity, 4)  # a RENAME holds two while it runs
        self.root = os.open(b"/", OPEN_FLAGS)
        self.root_mount = mount_id(self.root)
        self.fds: OrderedDict[int, int] = OrderedDict()  # on the root's mount only
        self.transient: list[int] = []  # on other mounts: closed by `end_request`

    def cached(self, inode: int) -> int | None:
        """The fd of `inode` if one is open, without opening one."""
        if inode == ROOT_INODE:
            return self.root
        return self.fds.get(inode)

    def fd_of(self, inode: int) -> int:
        """An O_PATH fd of directory `inode`, valid until the next `fd_of` after the one
        that follows (the cache drops its least recently used fds only on entry), and
        no longer than the request (`end_request`)."""
        if inode == ROOT_INODE:
            return self.root
        fd = self.fds.get(inode)
        if fd is not None:
            self.fds.move_to_end(inode)
            return fd
        self.trim()
        missing: list[tuple[int, bytes]] = []
        current = inode
        while current != ROOT_INODE and current not in self.fds:
            node = self.inodes.nodes[current]  # KeyError: a forgotten inode (ESTALE)
            missing.append((current, node.name))
            current = node.parent
        fd = self.root if current == ROOT_INODE else self.fds[current]
        kept = True  # the kept ancestor is on the root's mount; below another, none is
        for child, name in reversed(missing):
            fd = os.open(name, OPEN_FLAGS, dir_fd=fd)
            if kept:
                try:
                    kept = mount_id(fd) == self.root_mount
                except OSError:
                    os.close(fd)
                    raise
            if kept:
                self.fds[child] = fd
            else:
                self.transient.append(fd)
        return fd

    def end_request(self) -> None:
        """Close the descriptors opened for this request on mounts other than the root's."""
        while self.transient:
            os.close(self.transient.pop())

    def trim(self) -> None:
        while len(self.fds) >= self.capacity:
            _, fd = self.fds.popitem(last=False)
            os.close(fd)

    def discard(self, inode: int) -> None:
        fd = self.fds.pop(inode, None)
        if fd is not None:
            os.close(fd)

    def close(self) -> None:
        self.end_request()
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()
        os.close(self.root)
