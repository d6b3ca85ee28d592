"""OPEN and RELEASE answered by the request loop itself (fs/direct_replies.py): the
reply bytes the kernel gets, the backing id of a passthrough open, errors, and the
release of a file whose OPEN reply the kernel did not take. The replies are read from a
pipe standing in for /dev/fuse; the real path is every fs runtime test's."""

from __future__ import annotations

import ctypes
import errno
import os
import struct
from collections.abc import Iterator

import pyfuse3
import pytest

from cntr_tui.fs.direct_replies import (
    FOPEN_KEEP_CACHE,
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


def request(opcode: int, body: bytes) -> ctypes.Array[ctypes.c_char]:
    header = struct.pack("<IIQQIIIHH", 40 + len(body), opcode, UNIQUE, INODE, 0, 0, 1, 0, 0)
    return ctypes.create_string_buffer(header + body)


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    yield read_fd, write_fd
    os.close(read_fd)
    os.close(write_fd)


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
