"""OPEN, RELEASE and GETATTR answered by the file server's request loop (`fastloop`)
itself.

An open+read+close of a small file is two requests, OPEN and RELEASE, and a second
walk of a tree is one GETATTR per directory (reading a directory marks its atime stale
in the kernel, and the walk's fstat asks again). Through libfuse and pyfuse3 each costs
a C request object, pyfuse3's wrapper coroutine, a `RequestContext`, a `FileInfo` or an
attribute conversion, and (with FUSE passthrough) a Python writev hook that puts the
backing id into the OPEN reply (`passthrough.patch_reply`). Here the loop reads
`fuse_open_in` / `fuse_release_in` from the request, runs the same handler coroutines
(`open`, `release`, `getattr`), and writes the reply to /dev/fuse with the backing id
already in place: no request of libfuse's, no hook.

What libfuse would have done beside the reply, kept: an OPEN reply the kernel does not
take (ENOENT: the open was interrupted and is gone) releases the file, as libfuse's
`fuse_reply_open` does not but should (the host fd and the backing id would leak); an
INTERRUPT naming one of these requests finds no request of libfuse's and is answered
EAGAIN at its next request (libfuse's `check_interrupt`), which the kernel takes as "not
yet"; the request's opener's credentials are not needed (`open` takes no context, `getattr`
uses none); GETATTR's file handle is not passed on, as pyfuse3 does not pass it.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import pyfuse3

from cntr_tui.fs.passthrough import FOPEN_PASSTHROUGH, FOPEN_PASSTHROUGH_MASK, FUSE_OPEN

if TYPE_CHECKING:
    from cntr_tui.fs.passthrough import Passthrough

log = logging.getLogger(__name__)

FUSE_GETATTR, FUSE_RELEASE = 3, 18
DIRECT_OPCODES = frozenset({FUSE_GETATTR, FUSE_OPEN, FUSE_RELEASE})
# a reply refused because its request is gone (ENOENT: interrupted) or the connection is
# (the unmount: RELEASEs race it): nothing to log
REQUEST_GONE = frozenset({errno.ENOENT, errno.ENODEV, errno.ENOTCONN, errno.ECONNABORTED})
IN_HEADER_SIZE = 40  # struct fuse_in_header
OUT_HEADER = struct.Struct("<IiQ")  # struct fuse_out_header {len, error, unique}
OPEN_OUT = struct.Struct("<IiQQIi")  # the header, then fuse_open_out {fh, open_flags, backing_id}
FOPEN_DIRECT_IO, FOPEN_KEEP_CACHE, FOPEN_NONSEEKABLE = 1 << 0, 1 << 1, 1 << 2
# the header, then fuse_attr_out {attr_valid, attr_valid_nsec, dummy, struct fuse_attr
# {ino, size, blocks, atime, mtime, ctime, atimensec, mtimensec, ctimensec, mode, nlink,
# uid, gid, rdev, blksize, flags}}; times signed, as libfuse stores a time_t there
ATTR_OUT = struct.Struct("<IiQQIIQQQqqqIIIIIIIIII")
MAX_NSEC = 999_999_999


class OpenTarget(Protocol):
    """The handlers the loop runs itself (merged.MergedOperations)."""

    def open(self, inode: int, flags: int, ctx: Any) -> Awaitable[pyfuse3.FileInfo]: ...

    def release(self, fh: int) -> Awaitable[None]: ...

    def getattr(self, inode: int, ctx: Any) -> Awaitable[pyfuse3.EntryAttributes]: ...


def timeout_parts(seconds: float) -> tuple[int, int]:
    """A cache timeout as libfuse's `calc_timeout_sec` / `calc_timeout_nsec` split it."""
    if seconds <= 0:
        return 0, 0
    whole = int(seconds)
    return whole, min(int((seconds - whole) * 1e9), MAX_NSEC)


def attr_reply(unique: int, entry: pyfuse3.EntryAttributes) -> bytes:
    """GETATTR's reply as libfuse's `fuse_reply_attr` makes it from `entry`."""
    valid, valid_nsec = timeout_parts(entry.attr_timeout)
    atime, atime_ns = divmod(entry.st_atime_ns, 1_000_000_000)
    mtime, mtime_ns = divmod(entry.st_mtime_ns, 1_000_000_000)
    ctime, ctime_ns = divmod(entry.st_ctime_ns, 1_000_000_000)
    return ATTR_OUT.pack(
        ATTR_OUT.size, 0, unique, valid, valid_nsec, 0,
        entry.st_ino, entry.st_size, entry.st_blocks, atime, mtime, ctime,
        atime_ns, mtime_ns, ctime_ns, entry.st_mode, entry.st_nlink,
        entry.st_uid, entry.st_gid, entry.st_rdev & 0xFFFF_FFFF, entry.st_blksize, 0,
    )  # fmt: skip


def open_flags(info: pyfuse3.FileInfo) -> int:
    """fuse_open_out.open_flags as libfuse's `fill_open` makes them from a FileInfo."""
    flags = FOPEN_DIRECT_IO if info.direct_io else 0
    flags |= FOPEN_KEEP_CACHE if info.keep_cache else 0
    return flags | (FOPEN_NONSEEKABLE if info.nonseekable else 0)


@dataclass
class DirectReplies:
    """Answers OPEN, RELEASE and GETATTR on the connection's /dev/fuse `dev_fd`;
    `finish` runs a handler's coroutine to its end (`fastloop.finish`)."""

    dev_fd: int
    finish: Callable[[Any], Any]
    passthrough: Passthrough | None = None

    def handle(self, target: OpenTarget, opcode: int, unique: int, inode: int, header: int) -> None:
        """Answer the request at `header` (called with the loop's lock held)."""
        if opcode == FUSE_GETATTR:
            try:
                entry = self.finish(target.getattr(inode, None))
            except pyfuse3.FUSEError as error:
                self.send(OUT_HEADER.pack(OUT_HEADER.size, -error.errno, unique))
                return
            self.send(attr_reply(unique, entry))
        elif opcode == FUSE_OPEN:
            (flags,) = struct.unpack("<I", ctypes.string_at(header + IN_HEADER_SIZE, 4))
            self.open(target, unique, inode, flags)
        else:
            (fh,) = struct.unpack("<Q", ctypes.string_at(header + IN_HEADER_SIZE, 8))
            try:
                self.finish(target.release(fh))
            except pyfuse3.FUSEError as error:  # the kernel ignores a RELEASE's error
                log.warning("release of fh %d: %s", fh, os.strerror(error.errno))
            self.send(OUT_HEADER.pack(OUT_HEADER.size, 0, unique))

    def open(self, target: OpenTarget, unique: int, inode: int, flags: int) -> None:
        passthrough = self.passthrough
        try:
            info = self.finish(target.open(inode, flags, None))
        except pyfuse3.FUSEError as error:
            if passthrough is not None and (entry := passthrough.pending.pop(unique, None)):
                passthrough.released(entry[0])
            self.send(OUT_HEADER.pack(OUT_HEADER.size, -error.errno, unique))
            return
        reply_flags, backing_id = open_flags(info), 0
        entry = passthrough.pending.pop(unique, None) if passthrough is not None else None
        if entry is not None:
            backing_id = entry[1]
            reply_flags = reply_flags & FOPEN_PASSTHROUGH_MASK | FOPEN_PASSTHROUGH
        reply = OPEN_OUT.pack(OPEN_OUT.size, 0, unique, info.fh, reply_flags, backing_id)
        if self.send(reply):
            return
        try:  # the kernel did not take it: the open is gone
            self.finish(target.release(info.fh))
        except pyfuse3.FUSEError as error:
            log.warning("release after a refused OPEN reply: %s", os.strerror(error.errno))

    def send(self, reply: bytes) -> bool:
        """Write one reply; False when the kernel refused it (the request or the
        connection gone, `REQUEST_GONE`; anything else is logged too)."""
        try:
            os.write(self.dev_fd, reply)
        except OSError as error:
            if error.errno not in REQUEST_GONE:
                log.warning("a reply to the kernel failed: %s", error)
            return False
        return True
