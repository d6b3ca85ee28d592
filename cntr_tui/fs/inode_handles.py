"""Descriptors that stand for a FUSE inode's host file itself, not for a name of it.

The file server knows each inode by one (parent, name) pair (`inode_paths`). When
that name goes while the file lives on (it is still open, or it has other hard
links we have not seen), operations on the inode must not go through the name:
fstat, fchmod, ftruncate on an unlinked file that is still open, the link count of a
file whose last-seen name was removed. Two kinds of descriptor answer for the inode:

- the files the kernel opened (OPEN, CREATE): their fds, until RELEASE;
- a pin: an O_PATH fd taken just before the last-seen name goes (UNLINK, RENAME onto
  it) while the file stays alive, kept until the kernel forgets the inode.

`handle(inode)` returns one of them, or None: then the (parent, name) pair is right.
An O_PATH fd is used through `/proc/self/fd/N` where a syscall needs a path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

PIN_FLAGS = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC


def magic_path(fd: int) -> bytes:
    """The path of the file `fd` stands for (a /proc magic link; follow it)."""
    return b"/proc/self/fd/%d" % fd


@dataclass
class InodeHandles:
    open_fds: dict[int, set[int]] = field(default_factory=dict)  # inode -> fds
    inode_of_fd: dict[int, int] = field(default_factory=dict)
    pins: dict[int, int] = field(default_factory=dict)  # inode -> O_PATH fd

    def opened(self, inode: int, fd: int) -> None:
        self.open_fds.setdefault(inode, set()).add(fd)
        self.inode_of_fd[fd] = inode

    def released(self, fd: int) -> None:
        inode = self.inode_of_fd.pop(fd, None)
        if inode is None:
            return
        fds = self.open_fds.get(inode)
        if fds is not None:
            fds.discard(fd)
            if not fds:
                del self.open_fds[inode]

    def is_open(self, inode: int) -> bool:
        return inode in self.open_fds

    def handle(self, inode: int) -> int | None:
        """An fd of the inode's file (an open one first), or None."""
        fds = self.open_fds.get(inode)
        if fds:
            return next(iter(fds))
        return self.pins.get(inode)

    def pin(self, inode: int, dir_fd: int, name: bytes) -> None:
        """Hold the file at `name` in `dir_fd` (which is `inode`) by an O_PATH fd."""
        if inode not in self.pins:
            self.pins[inode] = os.open(name, PIN_FLAGS, dir_fd=dir_fd)

    def forgotten(self, inode: int) -> None:
        fd = self.pins.pop(inode, None)
        if fd is not None:
            os.close(fd)
