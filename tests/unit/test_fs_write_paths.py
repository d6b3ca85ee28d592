"""The merged root's write path without FUSE: a retired inode (a file the host changed
behind the kernel's back gets a new one), the flags a host file is opened with for the
kernel's writeback cache, which changes count as the kernel's own, and the INIT reply's
flag that spares each write() a GETXATTR."""

from __future__ import annotations

import ctypes
import errno
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyfuse3
import pytest

from cntr_tui.fs.fastloop import FUSE_HANDLE_KILLPRIV_V2, add_to_init_reply
from cntr_tui.fs.inode_paths import ROOT_INODE, InodePaths
from cntr_tui.fs.merged import MergedOperations, host_open_flags
from cntr_tui.linux.iovec import Iovec
from tests.unit.test_fs_directory_fds import register_path


def test_a_retired_inode_gives_its_file_a_new_one_and_lives_until_forgotten() -> None:
    inodes = InodePaths(("root",))
    old = inodes.register(ROOT_INODE, b"f", ("dev", 7))
    inodes.looked_up(old)
    inodes.retire(old)
    new = inodes.register(ROOT_INODE, b"f", ("dev", 7))
    inodes.looked_up(new)
    assert new != old and inodes.nodes[old].name == b"f"
    assert inodes.forget(old, 1)  # the kernel forgets the old one: the new one stays
    assert inodes.inode_of[("dev", 7)] == new
    assert inodes.register(ROOT_INODE, b"g", ("dev", 7)) == new


def test_host_open_flags_let_the_kernel_read_and_place_appends() -> None:
    assert host_open_flags(os.O_WRONLY) & os.O_ACCMODE == os.O_RDWR
    assert host_open_flags(os.O_RDONLY) & os.O_ACCMODE == os.O_RDONLY
    flags = host_open_flags(os.O_WRONLY | os.O_APPEND | os.O_NOCTTY)
    assert not flags & (os.O_APPEND | os.O_NOCTTY) and flags & os.O_CLOEXEC


@dataclass
class Opened:
    """A host file `f` in a fresh folder, looked up and opened as OPEN would."""

    operations: MergedOperations
    path: Path
    inode: int
    fd: int


@pytest.fixture
def opened(tmp_path: Path) -> Iterator[Opened]:
    operations = MergedOperations()
    path = tmp_path / "f"
    path.write_bytes(b"one")
    inode = register_path(operations.inodes, path)
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    operations.handles.opened(inode, fd)
    try:
        yield Opened(operations, path, inode, fd)
    finally:
        os.close(fd)


def test_only_a_change_behind_the_kernels_back_retires_the_file(opened: Opened) -> None:
    operations, inode, fd = opened.operations, opened.inode, opened.fd
    assert operations.pages_still_valid(inode, fd)  # the first open
    with operations.own_change(inode, fd):  # a WRITE the kernel sent
        os.pwrite(fd, b"own writes", 0)
    assert operations.pages_still_valid(inode, fd)
    with opened.path.open("ab") as file:  # the host's own
        file.write(b" and the host's")
    with pytest.raises(pyfuse3.FUSEError) as raised:
        operations.pages_still_valid(inode, fd)
    assert raised.value.errno == errno.ESTALE
    assert inode in operations.retired
    assert operations.pages_still_valid(inode, fd)  # its retry, nothing new since
    with opened.path.open("ab") as file:
        file.write(b"!")
    assert not operations.pages_still_valid(inode, fd)  # retired: pages dropped


def test_a_kernel_change_after_a_host_change_leaves_it_to_be_found(opened: Opened) -> None:
    operations, inode, fd = opened.operations, opened.inode, opened.fd
    assert operations.pages_still_valid(inode, fd)
    with opened.path.open("ab") as file:
        file.write(b" host")
    with operations.own_change(inode, fd):  # written back after the host's change
        os.pwrite(fd, b"O", 0)
    with pytest.raises(pyfuse3.FUSEError):
        operations.pages_still_valid(inode, fd)


def test_an_entry_of_a_file_changed_behind_the_kernels_back_is_a_new_inode(
    tmp_path: Path,
) -> None:
    """LOOKUP after the entry timeout (stat() in the session): a new inode, so the
    kernel takes the host's size and mtime; unchanged, the same one."""
    operations = MergedOperations()
    path = tmp_path / "f"
    path.write_bytes(b"one")
    parent = register_path(operations.inodes, tmp_path)
    first = operations.register_entry(parent, b"f", os.lstat(path))
    operations.inodes.looked_up(first)
    assert operations.register_entry(parent, b"f", os.lstat(path)) == first
    with path.open("ab") as file:
        file.write(b" more")
    second = operations.register_entry(parent, b"f", os.lstat(path))
    assert second != first and first in operations.retired
    assert operations.file_versions[second][1] == len(b"one more")


def iovecs(*parts: bytes) -> tuple[object, ctypes.Array[Iovec]]:
    buffers = [ctypes.create_string_buffer(part, len(part)) for part in parts]
    vectors = (Iovec * len(parts))(
        *(Iovec(ctypes.addressof(buffer), len(buffer)) for buffer in buffers)
    )
    return buffers, vectors


def test_the_init_reply_gets_the_flags_libfuse_cannot_ask_for() -> None:
    """The INIT reply's fuse_init_out.flags get FUSE_HANDLE_KILLPRIV_V2 (header and
    body in two iovecs, as libfuse sends them); an error reply is left alone."""
    init_out = struct.pack("<IIII", 7, 38, 4 << 20, 0x1234) + bytes(48)
    header = struct.pack("<IiQ", 16 + len(init_out), 0, 1)
    _kept, vectors = iovecs(header, init_out)
    assert add_to_init_reply(ctypes.addressof(vectors), 2, FUSE_HANDLE_KILLPRIV_V2)
    body = ctypes.string_at(vectors[1].base, vectors[1].len)
    assert struct.unpack_from("<I", body, 12)[0] == 0x1234 | FUSE_HANDLE_KILLPRIV_V2
    error = struct.pack("<IiQ", 16, -errno.EPROTO, 1)
    _kept, vectors = iovecs(error)
    assert not add_to_init_reply(ctypes.addressof(vectors), 1, FUSE_HANDLE_KILLPRIV_V2)
    assert ctypes.string_at(vectors[0].base, 16) == error
