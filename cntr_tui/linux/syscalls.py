"""Namespace and mount syscalls through ctypes: setns, unshare, mount, the new mount API.

Nothing else lives here (a process's namespace inodes are in `namespaces.py`). Call
these only from a single-threaded process (the attach helper, the merged-root
holder): setns into a mount or user namespace fails with EINVAL in a multi-threaded
one.
"""

from __future__ import annotations

import ctypes
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

NAMESPACE_FLAGS = {
    "mnt": CLONE_NEWNS,
    "cgroup": CLONE_NEWCGROUP,
    "uts": CLONE_NEWUTS,
    "ipc": CLONE_NEWIPC,
    "user": CLONE_NEWUSER,
    "pid": CLONE_NEWPID,
    "net": CLONE_NEWNET,
}

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19

MNT_DETACH = 0x2

AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
AT_RECURSIVE = 0x8000
AT_SYMLINK_NOFOLLOW = 0x100

OPEN_TREE_CLONE = 1
OPEN_TREE_CLOEXEC = os.O_CLOEXEC

MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOVE_MOUNT_T_EMPTY_PATH = 0x40

FSOPEN_CLOEXEC = 0x1
FSMOUNT_CLOEXEC = 0x1
FSCONFIG_SET_FLAG = 0
FSCONFIG_SET_STRING = 1
FSCONFIG_CMD_CREATE = 6

MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
MOUNT_ATTR_NOEXEC = 0x8

# x86_64 syscall numbers (the new mount API has no glibc wrappers in Debian 12's libc).
SYS_OPEN_TREE = 428
SYS_MOVE_MOUNT = 429
SYS_FSOPEN = 430
SYS_FSCONFIG = 431
SYS_FSMOUNT = 432
SYS_RENAMEAT2 = 316
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
RENAME_WHITEOUT = 4

PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_PDEATHSIG = 1

_libc = ctypes.CDLL("libc.so.6", use_errno=True)  # find_library would run ldconfig
_libc.syscall.restype = ctypes.c_long


def _check(result: int, what: str, path: str | None = None) -> int:
    if result < 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}", path)
    return result


def _path(path: str | bytes | None) -> bytes | None:
    if path is None:
        return None
    return os.fsencode(path)


def setns(fd: int, nstype: int = 0) -> None:
    _check(_libc.setns(fd, nstype), "setns")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def mount(
    source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None
) -> None:
    _check(
        _libc.mount(
            _path(source), _path(target), _path(fstype), ctypes.c_ulong(flags), _path(data)
        ),
        "mount",
        target,
    )


def umount(target: str, flags: int = 0) -> None:
    _check(_libc.umount2(_path(target), flags), "umount", target)


def open_tree(dirfd: int, path: str, flags: int) -> int:
    result = _libc.syscall(SYS_OPEN_TREE, dirfd, _path(path), ctypes.c_uint(flags))
    return _check(result, "open_tree", path)


def move_mount(from_fd: int, from_path: str, to_fd: int, to_path: str, flags: int) -> None:
    result = _libc.syscall(
        SYS_MOVE_MOUNT, from_fd, _path(from_path), to_fd, _path(to_path), ctypes.c_uint(flags)
    )
    _check(result, "move_mount", to_path)


def fsopen(fstype: str, flags: int = FSOPEN_CLOEXEC) -> int:
    return _check(_libc.syscall(SYS_FSOPEN, _path(fstype), ctypes.c_uint(flags)), "fsopen")


def fsconfig(fs_fd: int, command: int, key: str | None = None, value: str | None = None) -> None:
    result = _libc.syscall(SYS_FSCONFIG, fs_fd, ctypes.c_uint(command), _path(key), _path(value), 0)
    _check(result, f"fsconfig {key or command}")


def fsmount(fs_fd: int, flags: int = FSMOUNT_CLOEXEC, attr_flags: int = 0) -> int:
    result = _libc.syscall(SYS_FSMOUNT, fs_fd, ctypes.c_uint(flags), ctypes.c_uint(attr_flags))
    return _check(result, "fsmount")


def renameat2(old: bytes, new: bytes, flags: int) -> None:
    result = _libc.syscall(SYS_RENAMEAT2, AT_FDCWD, old, AT_FDCWD, new, ctypes.c_uint(flags))
    _check(result, "renameat2", os.fsdecode(old))


def renameat2_at(old_dir_fd: int, old: bytes, new_dir_fd: int, new: bytes, flags: int) -> None:
    """renameat2 with each name relative to a directory fd (O_PATH will do), so no
    path string grows with the tree's depth. flags: RENAME_NOREPLACE, RENAME_EXCHANGE,
    RENAME_WHITEOUT, as the host's file system takes them (EINVAL where it does not)."""
    result = _libc.syscall(SYS_RENAMEAT2, old_dir_fd, old, new_dir_fd, new, ctypes.c_uint(flags))
    _check(result, "renameat2", os.fsdecode(old))


STATX_MNT_ID = 0x1000
STATX_SIZE = 256  # struct statx
STATX_MNT_ID_OFFSET = 0x90  # its stx_mnt_id (__u64)
_statx_buffer = ctypes.create_string_buffer(STATX_SIZE)
_statx_mount_id = ctypes.c_uint64.from_buffer(_statx_buffer, STATX_MNT_ID_OFFSET)
_statx = _libc.statx
_statx.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_char_p)


def mount_id(fd: int) -> int:
    """The id of the mount `fd` (O_PATH will do) is on, as /proc/self/mountinfo's first
    field: which mount instance, so a bind mount of the same file system differs too.
    Not thread-safe (one buffer): for the file server, which runs handlers one at a time."""
    if _statx(fd, b"", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, _statx_buffer) < 0:
        _check(-1, "statx")
    return _statx_mount_id.value


def capbset_drop(capability: int) -> None:
    _check(_libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(capability), 0, 0, 0), "capbset_drop")


def capbset_has(capability: int) -> bool:
    return _libc.prctl(PR_CAPBSET_READ, ctypes.c_ulong(capability), 0, 0, 0) == 1


def set_parent_death_signal(signal_number: int) -> None:
    _check(_libc.prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signal_number), 0, 0, 0), "prctl")
