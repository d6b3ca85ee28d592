"""The file server's directory fds and inode handles, on a real folder (no FUSE)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from cntr_tui.fs.directory_fds import DirectoryFds
from cntr_tui.fs.inode_handles import InodeHandles, magic_path
from cntr_tui.fs.inode_paths import ROOT_INODE, InodePaths
from cntr_tui.linux.syscalls import mount_id

COMPONENT = "d" * 200


def register_path(inodes: InodePaths, path: Path) -> int:
    """Register each component of the absolute `path` as the kernel's lookups would."""
    inode = ROOT_INODE
    current = Path("/")
    for part in path.parts[1:]:
        current = current / part
        st = os.lstat(current)
        inode = inodes.register(inode, part.encode(), (st.st_dev, st.st_ino))
    return inode


def deep_tree(top: Path, depth: int) -> list[int]:
    """`depth` nested directories under `top`, made by relative walks (the absolute
    path goes past PATH_MAX); returns their (dev, ino) keys, outermost first."""
    keys = []
    home = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.chdir(top)
        for _ in range(depth):
            os.mkdir(COMPONENT)
            os.chdir(COMPONENT)
            st = os.lstat(".")
            keys.append((st.st_dev, st.st_ino))
    finally:
        os.fchdir(home)
        os.close(home)
    return keys


@pytest.fixture
def top(tmp_path: Path) -> Path:
    return tmp_path


def test_a_directory_past_path_max_is_opened_by_relative_steps(top: Path) -> None:
    inodes = InodePaths((os.lstat("/").st_dev, os.lstat("/").st_ino))
    parent = register_path(inodes, top)
    keys = deep_tree(top, 25)  # 25 x 201 bytes: past PATH_MAX below any tmp_path
    for key in keys:
        parent = inodes.register(parent, COMPONENT.encode(), key)
    assert len(inodes.path_of(parent)) > 4096
    with pytest.raises(OSError, match="too long"):
        os.lstat(inodes.path_of(parent))  # what a server by full paths would do
    fds = DirectoryFds(inodes, capacity=8)
    try:
        fd = fds.fd_of(parent)
        st = os.fstat(fd)
        assert (st.st_dev, st.st_ino) == keys[-1]
        os.mkdir("made-here", dir_fd=fd)
        assert os.stat("made-here", dir_fd=fd).st_nlink == 2
        assert len(fds.fds) <= 8 + len(keys)  # trimmed on the next call, not during a walk
        again = fds.fd_of(parent)
        assert again == fd  # cached
        (top / "other").mkdir()
        fds.fd_of(register_path(inodes, top / "other"))  # a miss trims first
        walked = len((top / "other").parts) - 1  # its ancestors, evicted, opened again
        assert len(fds.fds) <= 8 - 1 + walked
        assert fds.cached(ROOT_INODE) == fds.root
    finally:
        fds.close()


def directory_fds_for(path: Path) -> tuple[DirectoryFds, int]:
    """Directory fds of a fresh inode map, and the inode of `path` registered in it."""
    inodes = InodePaths((os.lstat("/").st_dev, os.lstat("/").st_ino))
    return DirectoryFds(inodes), register_path(inodes, path)


def test_the_fd_follows_a_directory_renamed_behind_its_back(top: Path) -> None:
    (top / "a").mkdir()
    fds, inode = directory_fds_for(top / "a")
    try:
        fd = fds.fd_of(inode)
        (top / "a").rename(top / "b")
        (top / "b" / "inside").touch()
        assert os.path.exists(magic_path(fd) + b"/inside")
        fds.discard(inode)
        assert fds.cached(inode) is None
    finally:
        fds.close()


def test_handles_prefer_open_files_then_pins(top: Path) -> None:
    (top / "f").write_bytes(b"x")
    handles = InodeHandles()
    dir_fd = os.open(top, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    opened = os.open(top / "f", os.O_RDONLY | os.O_CLOEXEC)
    try:
        assert handles.handle(7) is None
        handles.pin(7, dir_fd, b"f")
        pin = handles.handle(7)
        assert pin is not None
        handles.opened(7, opened)
        assert handles.handle(7) == opened and handles.is_open(7)
        os.unlink(top / "f")
        assert os.fstat(pin).st_nlink == 0  # the pin still stands for the file
        handles.released(opened)
        assert not handles.is_open(7) and handles.handle(7) == pin
        handles.forgotten(7)
        assert handles.handle(7) is None
        with pytest.raises(OSError):
            os.fstat(pin)  # closed
    finally:
        os.close(opened)
        os.close(dir_fd)


def test_directories_on_another_mount_are_held_for_one_request_only() -> None:
    """/dev/shm is a tmpfs of its own here: a kept fd in it would keep it busy."""
    shm = Path("/dev/shm")
    if os.lstat(shm).st_dev == os.lstat("/").st_dev:
        pytest.skip("/dev/shm is not a mount of its own here")
    inner = Path(tempfile.mkdtemp(prefix="cntr-test-fds-", dir=shm))
    try:
        (inner / "d").mkdir()
        fds, inode = directory_fds_for(inner / "d")
        try:
            fd = fds.fd_of(inode)
            assert os.path.samestat(os.fstat(fd), os.lstat(inner / "d"))
            assert fds.cached(inode) is None
            assert len(fds.transient) >= 3  # /dev/shm, inner, d (and /dev, a devtmpfs)
            assert all(mount_id(kept) == fds.root_mount for kept in fds.fds.values())
            fds.end_request()
            assert fds.transient == []
            with pytest.raises(OSError):
                os.fstat(fd)  # closed
        finally:
            fds.close()
    finally:
        shutil.rmtree(inner)
