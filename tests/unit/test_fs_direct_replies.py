"""OPEN, RELEASE and GETATTR answered by the request loop itself (fs/direct_replies.py):
the reply bytes the kernel gets, the backing id of a passthrough open, errors, and the
release of a file whose OPEN reply the kernel did not take. The replies are read from a
pipe standing in for /dev/fuse; the real path is every fs runtime test's."""

from __future__ import annotations

import ctypes
import errno
import os
import struct

import pyfuse3

from cntr_tui.fs.direct_replies import (
    FOPEN_KEEP_CACHE,
    FUSE_GETATTR,
    FUSE_OPEN,
    FUSE_RELEASE,
    DirectReplies,
)
from cntr_tui.fs.fastloop import finish
from cntr_tui.fs.passthrough import FOPEN_PASSTHROUGH, Passthrough

UNIQUE, INODE = 0x1234_5678_9ABC, 42


class Files:
    """The handlers the loop runs, recording what they were asked."""

    def __init__(self, passthrough: Passthrough | None = None, error: int = 0) -> None:
        self.passthrough = passthrough
        self.error = error
        self.opened: list[tuple[int, int]] = []
        self.released: list[int] = []

    async def open(self, inode: int, flags: int, ctx: object) -> pyfuse3.FileInfo:
        if self.error:
            raise pyfuse3.FUSEError(self.error)
        self.opened.append((inode, flags))
        if self.passthrough is not None:  # as MergedOperations.pass_through does
            self.passthrough.pending[UNIQUE] = (77, 9, 16)
        return pyfuse3.FileInfo(fh=77, keep_cache=True)

    async def release(self, fh: int) -> None:
        self.released.append(fh)

    async def getattr(self, inode: int, ctx: object) -> pyfuse3.EntryAttributes:
        if self.error:
            raise pyfuse3.FUSEError(self.error)
        entry = pyfuse3.EntryAttributes()
        entry.st_ino, entry.st_mode, entry.st_nlink = inode, 0o40755, 3
        entry.st_uid, entry.st_gid, entry.st_rdev = 1000, 1001, 0x1_0000_0801
        entry.st_size, entry.st_blocks, entry.st_blksize = 5 << 32, 17, 4096
        entry.st_atime_ns = 1_700_000_000_123_456_789
        entry.st_mtime_ns = -1_500_000_000  # before 1970: -2 s + 0.5 s
        entry.st_ctime_ns = 7
        entry.attr_timeout = 60.25
        return entry


def request(opcode: int, body: bytes) -> ctypes.Array[ctypes.c_char]:
    header = struct.pack("<IIQQIIIHH", 40 + len(body), opcode, UNIQUE, INODE, 0, 0, 1, 0, 0)
    return ctypes.create_string_buffer(header + body)


def handle(replies: DirectReplies, files: Files, opcode: int, body: bytes) -> None:
    buffer = request(opcode, body)
    replies.handle(files, opcode, UNIQUE, INODE, ctypes.addressof(buffer))


def test_an_open_is_answered_with_its_handle_and_flags(pipe: tuple[int, int]) -> None:
    files = Files()
    handle(DirectReplies(pipe[1], finish), files, FUSE_OPEN, struct.pack("<II", os.O_RDWR, 0))
    length, error, unique, fh, flags, backing = struct.unpack("<IiQQIi", os.read(pipe[0], 64))
    assert (length, error, unique) == (32, 0, UNIQUE)
    assert (fh, flags, backing) == (77, FOPEN_KEEP_CACHE, 0)
    assert files.opened == [(INODE, os.O_RDWR)]


def test_a_passthrough_open_carries_its_backing_id_and_no_keep_cache(
    pipe: tuple[int, int],
) -> None:
    passthrough = Passthrough(dev_fd=-1)
    files = Files(passthrough)
    replies = DirectReplies(pipe[1], finish, passthrough)
    handle(replies, files, FUSE_OPEN, struct.pack("<II", os.O_RDONLY, 0))
    _, error, _, fh, flags, backing = struct.unpack("<IiQQIi", os.read(pipe[0], 64))
    assert (error, fh, backing) == (0, 77, 9)
    assert flags == FOPEN_PASSTHROUGH  # the kernel refuses KEEP_CACHE beside it
    assert not passthrough.pending


def test_a_failed_open_is_answered_with_its_errno(pipe: tuple[int, int]) -> None:
    files = Files(error=errno.EACCES)
    handle(DirectReplies(pipe[1], finish), files, FUSE_OPEN, struct.pack("<II", 0, 0))
    assert struct.unpack("<IiQ", os.read(pipe[0], 64)) == (16, -errno.EACCES, UNIQUE)


def test_a_release_is_run_and_answered(pipe: tuple[int, int]) -> None:
    files = Files()
    body = struct.pack("<QIIQ", 77, os.O_RDONLY, 0, 0)
    handle(DirectReplies(pipe[1], finish), files, FUSE_RELEASE, body)
    assert struct.unpack("<IiQ", os.read(pipe[0], 64)) == (16, 0, UNIQUE)
    assert files.released == [77]


class Refused(DirectReplies):
    """The kernel refuses every reply (ENOENT: the request was interrupted)."""

    def send(self, reply: bytes) -> bool:
        return False


def test_an_open_whose_reply_is_refused_is_released() -> None:
    files = Files()
    handle(Refused(-1, finish), files, FUSE_OPEN, struct.pack("<II", 0, 0))
    assert files.opened == [(INODE, 0)]
    assert files.released == [77]  # the host fd and the backing id are given back


def test_a_getattr_is_answered_as_libfuse_encodes_the_attributes(pipe: tuple[int, int]) -> None:
    handle(DirectReplies(pipe[1], finish), Files(), FUSE_GETATTR, struct.pack("<IIQ", 0, 0, 0))
    reply = os.read(pipe[0], 256)
    assert len(reply) == 120  # fuse_out_header + fuse_attr_out
    length, error, unique, valid, valid_nsec, _ = struct.unpack_from("<IiQQII", reply)
    assert (length, error, unique) == (120, 0, UNIQUE)
    assert (valid, valid_nsec) == (60, 250_000_000)
    fields = struct.unpack_from("<QQQqqqIIIIIIIIII", reply, 32)
    ino, size, blocks, atime, mtime, ctime = fields[:6]
    assert (ino, size, blocks) == (INODE, 5 << 32, 17)
    assert (atime, mtime, ctime) == (1_700_000_000, -2, 0)
    atime_ns, mtime_ns, ctime_ns, mode, nlink, uid, gid, rdev, blksize, flags = fields[6:]
    assert (atime_ns, mtime_ns, ctime_ns) == (123_456_789, 500_000_000, 7)
    assert (mode, nlink, uid, gid, blksize, flags) == (0o40755, 3, 1000, 1001, 4096, 0)
    assert rdev == 0x0801  # struct fuse_attr's rdev is 32 bits, as libfuse truncates it


def test_a_failed_getattr_is_answered_with_its_errno(pipe: tuple[int, int]) -> None:
    files = Files(error=errno.ESTALE)
    handle(DirectReplies(pipe[1], finish), files, FUSE_GETATTR, struct.pack("<IIQ", 0, 0, 0))
    assert struct.unpack("<IiQ", os.read(pipe[0], 64)) == (16, -errno.ESTALE, UNIQUE)
