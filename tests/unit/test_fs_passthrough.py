"""FUSE passthrough's protocol part without a mount (`cntr_tui.fs.passthrough`): the INIT
reply asking for it, OPEN and CREATE replies carrying a backing id, one id per inode
while its files are open, and the files that stay with the server. The real mounts are
tests/runtime/test_fs_passthrough.py."""

from __future__ import annotations

import ctypes
import errno
import struct

import pytest

from cntr_tui.fs import passthrough as module
from cntr_tui.fs.fastloop import FUSE_HANDLE_KILLPRIV_V2, add_to_init_reply
from cntr_tui.fs.passthrough import (
    FOPEN_PASSTHROUGH,
    FUSE_CREATE,
    FUSE_INIT_EXT,
    FUSE_OPEN,
    FUSE_PASSTHROUGH,
    FUSE_WRITEBACK_CACHE,
    MAX_STACK_DEPTH,
    Passthrough,
)
from cntr_tui.linux.iovec import Iovec

FOPEN_KEEP_CACHE = 1 << 1


def vectors_of(*parts: bytes) -> tuple[ctypes.Array[Iovec], list[ctypes.Array[ctypes.c_char]]]:
    buffers = [ctypes.create_string_buffer(part, len(part)) for part in parts]
    pairs = zip(buffers, parts, strict=True)
    vectors = (Iovec * len(parts))(*(Iovec(ctypes.addressof(b), len(p)) for b, p in pairs))
    return vectors, buffers


def header(unique: int, body: int, error: int = 0) -> bytes:
    return struct.pack("<IiQ", 16 + body, error, unique)


def test_the_init_reply_asks_for_passthrough_instead_of_the_writeback_cache() -> None:
    init_out = bytearray(64)
    struct.pack_into("<III", init_out, 0, 7, 36, 0)
    struct.pack_into("<I", init_out, 12, FUSE_WRITEBACK_CACHE | 1)
    vectors, buffers = vectors_of(header(1, 64), bytes(init_out))
    state = Passthrough(dev_fd=-1, asked=True)
    assert add_to_init_reply(ctypes.addressof(vectors), 2, FUSE_HANDLE_KILLPRIV_V2, state)
    (flags,) = struct.unpack_from("<I", buffers[1].raw, 12)
    flags2, depth = struct.unpack_from("<II", buffers[1].raw, 32)
    assert flags & FUSE_INIT_EXT and flags & FUSE_HANDLE_KILLPRIV_V2 and flags & 1
    assert not flags & FUSE_WRITEBACK_CACHE  # the kernel refuses the two together
    assert flags2 == FUSE_PASSTHROUGH >> 32 and depth == MAX_STACK_DEPTH == 2
    state.init_answered(True)
    assert state.active and state.describe() == "passthrough"


def test_a_short_init_reply_keeps_the_writeback_cache() -> None:
    init_out = struct.pack("<IIII", 7, 22, 0, FUSE_WRITEBACK_CACHE)  # 16 bytes: minor < 23
    vectors, buffers = vectors_of(header(1, 16), init_out)
    state = Passthrough(dev_fd=-1, asked=True)
    assert add_to_init_reply(ctypes.addressof(vectors), 2, FUSE_HANDLE_KILLPRIV_V2, state)
    assert struct.unpack_from("<I", buffers[1].raw, 12)[0] & FUSE_WRITEBACK_CACHE
    state.init_answered(True)
    assert not state.active and state.describe().startswith("writeback cache (")


def test_what_the_kernel_offers_decides() -> None:
    offered = FUSE_INIT_EXT | FUSE_PASSTHROUGH
    assert not Passthrough(-1, enabled=False).offered(offered)
    state = Passthrough(-1)
    assert not state.offered(FUSE_INIT_EXT)  # a kernel before 6.9
    assert state.describe() == (
        "writeback cache (the kernel does not offer FUSE_PASSTHROUGH (Linux 6.9+))"
    )
    off = Passthrough(-1, enabled=False)
    off.offered(offered)
    assert off.describe() == "writeback cache (CNTR_TUI_FS_PASSTHROUGH=off)"


@pytest.fixture
def ioctls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """BACKING_OPEN and BACKING_CLOSE recorded (no /dev/fuse here); ids from 1."""
    calls: list[tuple[str, int]] = []

    def backing_open(dev_fd: int, fd: int) -> int:
        calls.append(("open", fd))
        return sum(1 for call in calls if call[0] == "open")

    monkeypatch.setattr(module, "backing_open", backing_open)
    monkeypatch.setattr(module, "backing_close", lambda dev_fd, id_: calls.append(("close", id_)))
    return calls


def active() -> Passthrough:
    state = Passthrough(dev_fd=-1, asked=True)
    state.init_answered(True)
    return state


def open_reply(unique: int, fh: int, flags: int) -> bytes:
    return header(unique, 16) + struct.pack("<QIi", fh, flags, 0)


def test_opens_of_one_inode_share_its_backing_id_until_the_last_release(ioctls) -> None:
    state = active()
    state.request = (10, FUSE_OPEN)
    assert state.attach(inode=5, fd=30)
    state.request = (11, FUSE_OPEN)
    assert state.attach(inode=5, fd=31)  # the kernel takes one backing file per inode
    assert ioctls == [("open", 30)]
    vectors, buffers = vectors_of(open_reply(10, 30, FOPEN_KEEP_CACHE))
    assert state.patch_reply(vectors) == (30, True)
    fh, flags, backing_id = struct.unpack_from("<QIi", buffers[0].raw, 16)
    # FOPEN_KEEP_CACHE beside FOPEN_PASSTHROUGH fails the open (EIO): it goes
    assert (fh, flags, backing_id) == (30, FOPEN_PASSTHROUGH, 1)
    state.released(30)
    assert ioctls == [("open", 30)]
    state.released(31)
    assert ioctls == [("open", 30), ("close", 1)] and not state.backings


def test_a_create_reply_carries_the_id_after_its_entry(ioctls) -> None:
    state = active()
    state.request = (12, FUSE_CREATE)
    assert state.attach(inode=6, fd=40)
    body = bytes(128) + struct.pack("<QIi", 40, 0, 0)
    vectors, buffers = vectors_of(header(12, len(body)), body)
    assert state.patch_reply(vectors) == (40, True)
    assert struct.unpack_from("<QIi", buffers[1].raw, 128) == (40, FOPEN_PASSTHROUGH, 1)
    other, _ = vectors_of(open_reply(99, 1, 0))
    assert state.patch_reply(other) is None  # a reply nobody attached to: untouched


def test_an_error_reply_gives_the_id_back(ioctls) -> None:
    state = active()
    state.request = (13, FUSE_OPEN)
    assert state.attach(inode=7, fd=50)
    vectors, _ = vectors_of(header(13, 0, error=-errno.EACCES))
    assert state.patch_reply(vectors) == (50, False)
    state.released(50)  # as the request loop does for it
    assert ioctls == [("open", 50), ("close", 1)]


def test_a_set_id_file_stays_with_the_server_and_so_do_its_other_opens(ioctls) -> None:
    state = active()
    state.request = (14, FUSE_OPEN)
    assert not state.attach(inode=8, fd=60, allowed=False)
    state.request = (15, FUSE_OPEN)
    assert not state.attach(inode=8, fd=61)  # while fd 60 is open: no mixed modes
    state.released(60)
    state.released(61)
    state.request = (16, FUSE_OPEN)
    assert state.attach(inode=8, fd=62)  # none open any more
    assert ioctls == [("open", 62)]


def test_a_refused_backing_open_serves_every_file_through_the_server(monkeypatch) -> None:
    def refused(dev_fd: int, fd: int) -> int:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(module, "backing_open", refused)
    state = active()
    state.request = (17, FUSE_OPEN)
    assert not state.attach(inode=9, fd=70)
    assert state.describe() == "page cache (FUSE_DEV_IOC_BACKING_OPEN: EPERM)"
    state.request = (18, FUSE_OPEN)
    assert not state.attach(inode=10, fd=71)
