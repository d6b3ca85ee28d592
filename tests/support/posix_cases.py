"""POSIX file-system conformance cases, and their runner.

Written from the POSIX specification (XSH: open, link, unlink, rename, mkdir, rmdir,
mkfifo, mknod, symlink, chmod, chown, truncate, utimensat, the *at forms) and the
classes a public conformance suite found failing through the merged root: ENAMETOOLONG
past PATH_MAX reached by relative walks, link counts and ctime after `link`, and a file
still open after its last name is gone. Where POSIX leaves a choice, the case expects
what Linux documents (e.g. chown clears set-user-ID, rename updates the file's ctime).

Each case is a function of a `Probe`, run with a fresh, empty current directory that
belongs to it; it performs a few operations and records, per step, what happened
(`ok` or the errno's name; stat fields: type and mode, nlink, owner relative to the
caller, size; timestamps only as "changed or not") next to what the specification
expects. Nothing recorded depends on where the folder is or which file system holds
it, so the same cases run on a host folder, on that folder through the merged root
(FUSE mode) and in mount mode give comparable tables.

Standalone (only the standard library): it runs under the host's /usr/bin/python3
inside an attach session, where the project's virtualenv is not on the path.

    python3 posix_cases.py FOLDER [CASE ...]   # prints {case: [[label, seen, expected]]}
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

NAME_MAX = 255
PATH_MAX = 4096  # counting the terminating NUL: a path string of 4095 bytes is the longest
NOBODY = 65534
OTHER_GID = 65533
# Linux timestamps come from a clock that ticks every jiffy (1-10 ms) for most file
# systems: a "ctime changed" check waits this long before the operation (a timestamp's
# granularity, not anyone's readiness).
TICK = 0.02
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
DEEP_COMPONENT = 200  # bytes per directory name in the deep trees
OK = "ok"

Step = list[str]  # [label, seen, expected]


def errno_name(error: OSError) -> str:
    return errno.errorcode.get(error.errno or 0, str(error.errno))


@dataclass
class Probe:
    """Records steps of one case: what was seen and what the specification expects."""

    steps: list[Step] = field(default_factory=list)

    def check(self, label: str, seen: object, expected: object) -> None:
        self.steps.append([label, str(seen), str(expected)])

    def call(self, label: str, expected: str, function: Callable[..., object], *args, **kw):
        """Run one operation; record `ok` or its errno's name. Returns its result."""
        try:
            result = function(*args, **kw)
        except OSError as error:
            self.check(label, errno_name(error), expected)
            return None
        self.check(label, OK, expected)
        return result

    def attrs(self, label: str, path: str | int, expected: str, dir_fd: int | None = None) -> None:
        """Record a file's type and mode, nlink, owner and size (fstat for an fd)."""
        try:
            if isinstance(path, int):
                st = os.fstat(path)
            else:
                st = os.stat(path, dir_fd=dir_fd, follow_symlinks=False)
        except OSError as error:
            self.check(label, errno_name(error), expected)
            return
        self.check(label, describe(st), expected)

    def times(self, path: str | int) -> os.stat_result | None:
        try:
            return os.fstat(path) if isinstance(path, int) else os.lstat(path)
        except OSError:
            return None

    def changed(
        self,
        label: str,
        before: os.stat_result | None,
        path: str | int,
        expected: str,
    ) -> None:
        """Record which of mtime and ctime moved since `before` ("m c", "c", "-")."""
        after = self.times(path)
        if before is None or after is None:
            self.check(label, "missing", expected)
            return
        moved = [
            letter
            for letter, field_name in (("m", "st_mtime_ns"), ("c", "st_ctime_ns"))
            if getattr(after, field_name) > getattr(before, field_name)
        ]
        self.check(label, " ".join(moved) or "-", expected)

    def before(self, path: str | int) -> os.stat_result | None:
        """A timestamp baseline, then one clock tick so a change is visible."""
        st = self.times(path)
        time.sleep(TICK)
        return st


def owner(uid: int) -> str:
    return "self" if uid == os.geteuid() else str(uid)


def group(gid: int) -> str:
    return "self" if gid == os.getegid() else str(gid)


def describe(st: os.stat_result) -> str:
    kind = stat.S_IFMT(st.st_mode)
    text = f"{oct(st.st_mode)} n{st.st_nlink} {owner(st.st_uid)}:{group(st.st_gid)}"
    if kind in (stat.S_IFREG, stat.S_IFLNK):
        text += f" s{st.st_size}"
    if kind in (stat.S_IFCHR, stat.S_IFBLK):
        text += f" r{os.major(st.st_rdev)},{os.minor(st.st_rdev)}"
    return text


def reg(mode: int, nlink: int = 1, size: int = 0, who: str = "self:self") -> str:
    return f"{oct(stat.S_IFREG | mode)} n{nlink} {who} s{size}"


def directory(mode: int, nlink: int = 2, who: str = "self:self") -> str:
    return f"{oct(stat.S_IFDIR | mode)} n{nlink} {who}"


def make(path: str, data: bytes = b"", mode: int = 0o644, dir_fd: int | None = None) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode, dir_fd=dir_fd)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read_all(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def renameat2(old: str, new: str, flags: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    at_fdcwd = -100
    if libc.renameat2(at_fdcwd, os.fsencode(old), at_fdcwd, os.fsencode(new), flags) != 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number))


def as_nobody(function: Callable[[], object]) -> str:
    """Run `function` in a child as uid/gid 65534 (no capabilities); `ok` or errno."""
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    child = os.fork()
    if child == 0:
        os.close(read_end)
        outcome = OK
        try:
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            function()
        except OSError as error:
            outcome = errno_name(error)
        except BaseException as error:  # reported, not raised, in a child
            outcome = f"crash {error!r}"
        os.write(write_end, outcome.encode())
        os._exit(0)
    os.close(write_end)
    try:
        data = b""
        while chunk := os.read(read_end, 4096):
            data += chunk
    finally:
        os.close(read_end)
        os.waitpid(child, 0)
    return data.decode()


# ---- the cases ----------------------------------------------------------------------


def create_modes(p: Probe) -> None:
    make("f", b"hello")
    p.attrs("create 0644", "f", reg(0o644, size=5))
    p.call("O_EXCL on existing", "EEXIST", make, "f")
    make("suid", mode=0o4755)
    p.attrs("create 04755 keeps S_ISUID", "suid", reg(0o4755))
    make("masked", mode=0o777)
    p.attrs("umask 022 applied", "masked", reg(0o755))
    before = p.before(".")
    make("g")
    p.changed("parent times after create", before, ".", "m c")


def create_in_setgid_directory(p: Probe) -> None:
    os.mkdir("d", 0o775)
    os.chown("d", -1, OTHER_GID)
    os.chmod("d", 0o2775)
    make("d/f")
    p.attrs("file takes the directory's group", "d/f", reg(0o644, who=f"self:{OTHER_GID}"))
    os.mkdir("d/sub", 0o755)
    p.attrs("subdirectory inherits S_ISGID", "d/sub", directory(0o2755, who=f"self:{OTHER_GID}"))
    os.mknod("d/fifo", stat.S_IFIFO | 0o644)
    p.attrs("fifo takes the directory's group", "d/fifo", f"0o10644 n1 self:{OTHER_GID}")


def open_errors(p: Probe) -> None:
    make("f")
    os.mkdir("d")
    os.symlink("f", "l")
    p.call("O_DIRECTORY on a file", "ENOTDIR", os.open, "f", os.O_RDONLY | os.O_DIRECTORY)
    p.call("O_WRONLY on a directory", "EISDIR", os.open, "d", os.O_WRONLY)
    p.call("O_NOFOLLOW on a symlink", "ELOOP", os.open, "l", os.O_RDONLY | os.O_NOFOLLOW)
    p.call("O_CREAT|O_EXCL on a symlink", "EEXIST", os.open, "l", os.O_CREAT | os.O_EXCL, 0o644)
    p.call("missing", "ENOENT", os.open, "nothing", os.O_RDONLY)
    p.call("through a file", "ENOTDIR", os.open, "f/x", os.O_RDONLY)
    p.call("O_CREAT in a missing dir", "ENOENT", os.open, "no/x", os.O_CREAT | os.O_WRONLY, 0o644)


def mkdir_and_rmdir(p: Probe) -> None:
    top = p.before(".")
    p.call("mkdir", OK, os.mkdir, "d", 0o755)
    p.attrs("new directory", "d", directory(0o755))
    p.attrs("parent nlink +1", ".", directory(0o755, 3))
    p.changed("parent times after mkdir", top, ".", "m c")
    p.call("mkdir existing", "EEXIST", os.mkdir, "d")
    make("f")
    p.call("mkdir under a file", "ENOTDIR", os.mkdir, "f/x")
    p.call("mkdir in missing dir", "ENOENT", os.mkdir, "no/x")
    os.mkdir("d/sub")
    p.attrs("nlink with a subdirectory", "d", directory(0o755, 3))
    p.call("rmdir not empty", "ENOTEMPTY", os.rmdir, "d")
    p.call("rmdir a file", "ENOTDIR", os.rmdir, "f")
    p.call("rmdir missing", "ENOENT", os.rmdir, "nothing")
    p.call("rmdir .", "EINVAL", os.rmdir, "d/sub/.")
    before = p.before("d")
    p.call("rmdir", OK, os.rmdir, "d/sub")
    p.attrs("parent nlink -1", "d", directory(0o755, 2))
    p.changed("parent times after rmdir", before, "d", "m c")
    p.call("stat removed", "ENOENT", os.stat, "d/sub")


def unlink_errors(p: Probe) -> None:
    os.mkdir("d")
    make("f")
    p.call("unlink a directory", "EISDIR", os.unlink, "d")
    p.call("unlink missing", "ENOENT", os.unlink, "nothing")
    p.call("unlink through a file", "ENOTDIR", os.unlink, "f/x")
    before = p.before(".")
    p.call("unlink", OK, os.unlink, "f")
    p.changed("parent times after unlink", before, ".", "m c")
    p.call("stat unlinked", "ENOENT", os.stat, "f")


def link_counts(p: Probe) -> None:
    make("f", b"data")
    p.attrs("before link", "f", reg(0o644, 1, 4))
    file_times, dir_times = p.before("f"), p.times(".")
    p.call("link", OK, os.link, "f", "g")
    p.attrs("source after link", "f", reg(0o644, 2, 4))
    p.attrs("new name after link", "g", reg(0o644, 2, 4))
    p.check("same inode", os.stat("f").st_ino == os.stat("g").st_ino, True)
    p.changed("source times after link", file_times, "f", "c")
    p.changed("parent times after link", dir_times, ".", "m c")
    p.call("link a third", OK, os.link, "g", "h")
    p.attrs("source after second link", "f", reg(0o644, 3, 4))
    file_times = p.before("f")
    p.call("unlink one name", OK, os.unlink, "g")
    p.attrs("source after unlink", "f", reg(0o644, 2, 4))
    p.attrs("other name after unlink", "h", reg(0o644, 2, 4))
    p.changed("source times after unlink", file_times, "f", "c")
    with open("h", "ab") as file:
        file.write(b"+")
    p.attrs("write through one name, size by the other", "f", reg(0o644, 2, 5))
    os.chmod("h", 0o600)
    p.attrs("chmod by one name, mode by the other", "f", reg(0o600, 2, 5))


def link_names_going(p: Probe) -> None:
    """The name a file was last reached by goes; the file lives on by its others."""
    make("f", b"x")
    os.link("f", "g")
    p.attrs("new name", "g", reg(0o644, 2, 1))
    p.call("unlink the new name", OK, os.unlink, "g")
    p.attrs("first name after the new one went", "f", reg(0o644, 1, 1))
    p.call("chmod by the first name", OK, os.chmod, "f", 0o600)
    p.attrs("its mode", "f", reg(0o600, 1, 1))
    os.link("f", "h")
    p.attrs("linked again", "h", reg(0o600, 2, 1))
    make("other", b"other")
    p.call("rename over the new name", OK, os.rename, "other", "h")
    p.attrs("first name after the new one was replaced", "f", reg(0o600, 1, 1))
    p.call("truncate by the first name", OK, os.truncate, "f", 0)
    p.attrs("its size", "f", reg(0o600, 1, 0))


def link_through_fd(p: Probe) -> None:
    make("f")
    fd = os.open("f", os.O_RDONLY | os.O_CLOEXEC)
    try:
        p.attrs("fstat before link", fd, reg(0o644, 1))
        os.link("f", "g")
        p.attrs("fstat after link", fd, reg(0o644, 2))
        os.unlink("f")
        os.unlink("g")
        p.attrs("fstat after both unlinked", fd, reg(0o644, 0))
    finally:
        os.close(fd)


def link_errors(p: Probe) -> None:
    make("f")
    make("g")
    os.mkdir("d")
    os.symlink("f", "l")
    p.call("link over existing", "EEXIST", os.link, "f", "g")
    p.call("link a directory", "EPERM", os.link, "d", "d2")
    p.call("link missing", "ENOENT", os.link, "nothing", "x")
    p.call("link into missing dir", "ENOENT", os.link, "f", "no/x")
    p.call("link to another file system", "EXDEV", os.link, "f", "/dev/shm/cntr-test-posix-link")
    p.call("link a symlink itself", OK, os.link, "l", "l2", follow_symlinks=False)
    p.attrs("symlink with two names", "l", "0o120777 n2 self:self s1")


def symlinks(p: Probe) -> None:
    before = p.before(".")
    p.call("symlink", OK, os.symlink, "target/of/link", "l")
    p.changed("parent times after symlink", before, ".", "m c")
    p.attrs("lstat of the link", "l", "0o120777 n1 self:self s14")
    p.check("readlink", os.readlink("l"), "target/of/link")
    p.call("stat of a dangling link", "ENOENT", os.stat, "l")
    p.call("symlink over existing", "EEXIST", os.symlink, "x", "l")
    make("f", b"abc")
    os.symlink("f", "lf")
    p.check("stat follows the link", describe(os.stat("lf")), reg(0o644, 1, 3))
    p.call("lchown the link", OK, os.chown, "lf", NOBODY, NOBODY, follow_symlinks=False)
    p.attrs("link owner changed", "lf", f"0o120777 n1 {NOBODY}:{NOBODY} s1")
    p.attrs("target owner unchanged", "f", reg(0o644, 1, 3))
    os.symlink("loop2", "loop1")
    os.symlink("loop1", "loop2")
    p.call("a symlink loop", "ELOOP", os.stat, "loop1")
    long_target = "x" * (PATH_MAX - 1)
    p.call("symlink to a 4095-byte target", OK, os.symlink, long_target, "long")
    p.check("readlink of it", len(os.readlink("long")), PATH_MAX - 1)
    p.call("symlink to a 4096-byte target", "ENAMETOOLONG", os.symlink, "x" * PATH_MAX, "l2")


def renames(p: Probe) -> None:
    make("a", b"aa")
    make("b", b"bbbb")
    held = os.open("b", os.O_RDONLY | os.O_CLOEXEC)
    try:
        before = p.before("a")
        p.call("rename over a file", OK, os.rename, "a", "b")
        p.attrs("target is the source", "b", reg(0o644, 1, 2))
        p.call("source gone", "ENOENT", os.stat, "a")
        p.changed("renamed file's times", before, "b", "c")
        p.attrs("replaced file still open", held, reg(0o644, 0, 4))
    finally:
        os.close(held)
    os.link("b", "b2")
    p.call("rename onto its own hard link", OK, os.rename, "b", "b2")
    p.attrs("both names stay", "b", reg(0o644, 2, 2))
    os.mkdir("d1")
    os.mkdir("d2")
    os.mkdir("full")
    make("full/x")
    p.call("dir over empty dir", OK, os.rename, "d1", "d2")
    p.call("dir over non-empty dir", "ENOTEMPTY", os.rename, "d2", "full")
    p.call("dir over a file", "ENOTDIR", os.rename, "d2", "b")
    p.call("file over a dir", "EISDIR", os.rename, "b", "d2")
    p.call("dir into itself", "EINVAL", os.rename, "d2", "d2/inner")
    p.call("missing source", "ENOENT", os.rename, "nothing", "x")
    p.call("to another file system", "EXDEV", os.rename, "b", "/proc/cntr-test-posix-rename")
    os.mkdir("d2/child")
    p.attrs("parent with a child dir", "d2", directory(0o755, 3))
    p.call("move a dir to another parent", OK, os.rename, "d2/child", "full/child")
    p.attrs("old parent nlink -1", "d2", directory(0o755, 2))
    p.attrs("new parent nlink +1", "full", directory(0o755, 3))
    p.attrs("moved dir", "full/child", directory(0o755, 2))
    p.call("dotdot of moved dir", OK, os.stat, "full/child/../x")


def renames_with_flags(p: Probe) -> None:
    make("a", b"a")
    make("b", b"bb")
    p.call("RENAME_NOREPLACE onto existing", "EEXIST", renameat2, "a", "b", RENAME_NOREPLACE)
    p.call("RENAME_NOREPLACE to new", OK, renameat2, "a", "c", RENAME_NOREPLACE)
    p.call("RENAME_EXCHANGE", OK, renameat2, "b", "c", RENAME_EXCHANGE)
    p.check("contents swapped", read_all("b") + b"|" + read_all("c"), b"a|bb")
    p.attrs("sizes swapped", "b", reg(0o644, 1, 1))
    p.call("RENAME_EXCHANGE with missing", "ENOENT", renameat2, "b", "none", RENAME_EXCHANGE)


def unlinked_but_open(p: Probe) -> None:
    fd = os.open("f", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, b"hello")
        p.call("unlink while open", OK, os.unlink, "f")
        p.attrs("fstat after unlink", fd, reg(0o644, 0, 5))
        p.check("pread", os.pread(fd, 16, 0), b"hello")
        p.call("pwrite", OK, os.pwrite, fd, b" world", 5)
        p.check("pread after pwrite", os.pread(fd, 16, 0), b"hello world")
        p.attrs("fstat after pwrite", fd, reg(0o644, 0, 11))
        p.call("ftruncate", OK, os.ftruncate, fd, 3)
        p.attrs("fstat after ftruncate", fd, reg(0o644, 0, 3))
        p.call("fchmod", OK, os.fchmod, fd, 0o600)
        p.call("fchown", OK, os.fchown, fd, NOBODY, NOBODY)
        p.attrs("fstat after fchmod, fchown", fd, reg(0o600, 0, 3, f"{NOBODY}:{NOBODY}"))
        p.call("futimens", OK, os.utime, fd, ns=(1_000_000_123, 2_000_000_456))
        st = os.fstat(fd)
        p.check(
            "times set through the fd", (st.st_atime_ns, st.st_mtime_ns), (1000000123, 2000000456)
        )
        p.call("fsync", OK, os.fsync, fd)
        make("f", b"a new file")
        p.attrs("old fd after a new file took the name", fd, reg(0o600, 0, 3, f"{NOBODY}:{NOBODY}"))
        p.attrs("the new file", "f", reg(0o644, 1, 10))
        p.check("old fd reads its own data", os.pread(fd, 16, 0), b"hel")
    finally:
        os.close(fd)


def renamed_while_open(p: Probe) -> None:
    fd = os.open("f", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, b"abc")
        os.mkdir("d")
        os.rename("f", "d/g")
        make("f", b"other")
        p.attrs("fstat follows the renamed file", fd, reg(0o644, 1, 3))
        p.call("ftruncate follows it", OK, os.ftruncate, fd, 1)
        p.attrs("renamed file truncated", "d/g", reg(0o644, 1, 1))
        p.attrs("new file untouched", "f", reg(0o644, 1, 5))
    finally:
        os.close(fd)


def fifos_and_nodes(p: Probe) -> None:
    before = p.before(".")
    p.call("mkfifo", OK, os.mkfifo, "fifo", 0o640)
    p.attrs("fifo", "fifo", "0o10640 n1 self:self")
    p.changed("parent times after mkfifo", before, ".", "m c")
    p.call("mkfifo existing", "EEXIST", os.mkfifo, "fifo")
    p.call("mknod fifo", OK, os.mknod, "fifo2", stat.S_IFIFO | 0o600)
    p.attrs("fifo made by mknod", "fifo2", "0o10600 n1 self:self")
    p.call("mknod regular", OK, os.mknod, "reg", stat.S_IFREG | 0o640)
    p.attrs("file made by mknod", "reg", reg(0o640))
    p.call("mknod char device", OK, os.mknod, "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    p.attrs("char device", "null", "0o20644 n1 self:self r1,3")
    p.call("mknod existing", "EEXIST", os.mknod, "reg", stat.S_IFREG | 0o600)
    p.call("mkfifo in missing dir", "ENOENT", os.mkfifo, "no/fifo")


def chmod_and_chown(p: Probe) -> None:
    make("f", b"x")
    os.mkdir("d")
    before = p.before("f")
    p.call("chmod", OK, os.chmod, "f", 0o751)
    p.attrs("mode after chmod", "f", reg(0o751, size=1))
    p.changed("times after chmod", before, "f", "c")
    p.call("chmod sticky dir", OK, os.chmod, "d", 0o1777)
    p.attrs("sticky dir", "d", directory(0o1777))
    before = p.before("f")
    p.call("chown", OK, os.chown, "f", NOBODY, OTHER_GID)
    p.attrs("owner after chown", "f", reg(0o751, size=1, who=f"{NOBODY}:{OTHER_GID}"))
    p.changed("times after chown", before, "f", "c")
    p.call("chown -1 -1", OK, os.chown, "f", -1, -1)
    p.attrs("owner unchanged", "f", reg(0o751, size=1, who=f"{NOBODY}:{OTHER_GID}"))
    make("suid", mode=0o6755)
    p.call("chown a set-ID file", OK, os.chown, "suid", NOBODY, -1)
    p.attrs("chown clears S_ISUID and S_ISGID", "suid", reg(0o755, who=f"{NOBODY}:self"))
    os.symlink("f", "l")
    p.call("chmod through a symlink", OK, os.chmod, "l", 0o600)
    p.attrs("target's mode changed", "f", reg(0o600, size=1, who=f"{NOBODY}:{OTHER_GID}"))
    p.call("chmod missing", "ENOENT", os.chmod, "nothing", 0o600)
    p.call("chown missing", "ENOENT", os.chown, "nothing", 0, 0)


def truncates(p: Probe) -> None:
    make("f", b"0123456789")
    before = p.before("f")
    p.call("truncate shorter", OK, os.truncate, "f", 4)
    p.attrs("size after truncate", "f", reg(0o644, size=4))
    p.changed("times after truncate", before, "f", "m c")
    p.call("truncate longer", OK, os.truncate, "f", 8)
    p.check("grown part reads as zeros", read_all("f"), b"0123\0\0\0\0")
    os.mkdir("d")
    p.call("truncate a directory", "EISDIR", os.truncate, "d", 0)
    p.call("truncate missing", "ENOENT", os.truncate, "nothing", 0)
    p.call("truncate negative", "EINVAL", os.truncate, "f", -1)
    fd = os.open("f", os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
    os.close(fd)
    p.attrs("O_TRUNC", "f", reg(0o644, size=0))


def timestamps(p: Probe) -> None:
    make("f")
    p.call(
        "utimensat", OK, os.utime, "f", ns=(1_500_000_000_111_222_333, 1_400_000_000_444_555_666)
    )
    st = os.stat("f")
    p.check(
        "times read back",
        (st.st_atime_ns, st.st_mtime_ns),
        (1500000000111222333, 1400000000444555666),
    )
    os.symlink("f", "l")
    p.call("lutimes", OK, os.utime, "l", ns=(1_000_000_000, 1_100_000_000), follow_symlinks=False)
    p.check("link's mtime", os.lstat("l").st_mtime_ns, 1100000000)
    p.check("target's mtime untouched", os.stat("f").st_mtime_ns, 1400000000444555666)
    before = p.before("f")
    with open("f", "ab") as file:
        file.write(b"x")
    p.changed("times after a write", before, "f", "m c")


def data_between_descriptors(p: Probe) -> None:
    make("f")
    writer = os.open("f", os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
    other = os.open("f", os.O_RDWR | os.O_CLOEXEC)
    try:
        os.write(other, b"0123456789")
        os.write(writer, b"AB")
        p.check("O_APPEND writes at the end", os.pread(other, 64, 0), b"0123456789AB")
        os.pwrite(other, b"xy", 1)
        p.check("pwrite seen by the other fd", read_all("f"), b"0xy3456789AB")
        p.attrs("size", "f", reg(0o644, size=12))
    finally:
        os.close(writer)
        os.close(other)


def listings(p: Probe) -> None:
    names = {f"n{i}" for i in range(50)}
    for name in names:
        make(name)
    os.unlink("n7")
    os.mkdir("sub")
    p.check(
        "listdir after changes", sorted(os.listdir(".")) == sorted((names - {"n7"}) | {"sub"}), True
    )
    with os.scandir(".") as entries:
        kinds = sorted(
            (e.name, e.is_dir(follow_symlinks=False)) for e in entries if e.name == "sub"
        )
    p.check("d_type of a directory", kinds, [("sub", True)])
    p.call("opendir of a file", "ENOTDIR", os.listdir, "n1")


def name_max(p: Probe) -> None:
    longest, over = "n" * NAME_MAX, "o" * (NAME_MAX + 1)
    p.call("create NAME_MAX", OK, make, longest)
    p.attrs("stat NAME_MAX", longest, reg(0o644))
    p.call("rename to NAME_MAX", OK, os.rename, longest, "m" * NAME_MAX)
    p.call("unlink NAME_MAX", OK, os.unlink, "m" * NAME_MAX)
    p.call("mkdir NAME_MAX", OK, os.mkdir, longest)
    p.call("rmdir NAME_MAX", OK, os.rmdir, longest)
    make("f")
    os.mkdir("d")
    for label, function, args in (
        ("open", make, (over,)),
        ("mkdir", os.mkdir, (over,)),
        ("mkfifo", os.mkfifo, (over,)),
        ("mknod", os.mknod, (over, stat.S_IFREG | 0o644)),
        ("symlink", os.symlink, ("f", over)),
        ("link", os.link, ("f", over)),
        ("rename to", os.rename, ("f", over)),
        ("rename from", os.rename, (over, "x")),
        ("unlink", os.unlink, (over,)),
        ("rmdir", os.rmdir, (over,)),
        ("chmod", os.chmod, (over, 0o644)),
        ("chown", os.chown, (over, 0, 0)),
        ("truncate", os.truncate, (over, 0)),
        ("stat", os.stat, (over,)),
        ("component in a path", os.stat, (f"d/{over}/x",)),
    ):
        p.call(f"{label} NAME_MAX+1", "ENAMETOOLONG", function, *args)


def filler(length: int) -> list[str]:
    """Directory names whose joined path ("a/b/...") is exactly `length` bytes."""
    parts: list[str] = []
    remaining = length
    while remaining > 0:
        size = min(DEEP_COMPONENT, remaining)
        if remaining - size == 1:
            size -= 1  # no 0-byte name after the slash: leave 2 for the last one
        parts.append(("p" if len(parts) % 2 else "q") * size)
        remaining -= size + 1
    return parts


def absolute_path_limit(p: Probe) -> None:
    """Absolute paths of 4095 bytes (the longest a syscall takes) and 4096 (too long)."""
    cwd = os.getcwd()
    # a tree of directories, then a file name that brings the path to the length wanted
    tree = filler(PATH_MAX - 1 - len(cwd) - 1 - 20 - 1)
    for index in range(len(tree)):
        os.mkdir("/".join(tree[: index + 1]))
    base = f"{cwd}/{'/'.join(tree)}/"
    fits = base + "f" * (PATH_MAX - 1 - len(base))
    too_long = fits + "g"
    p.check("lengths", (len(fits), len(too_long)), (4095, 4096))
    p.call("create at 4095", OK, make, fits)
    p.attrs("stat at 4095", fits, reg(0o644))
    renamed = fits[:-1] + "h"
    p.call("rename at 4095", OK, os.rename, fits, renamed)
    p.call("link at 4095", OK, os.link, renamed, fits)
    p.call("chmod at 4095", OK, os.chmod, fits, 0o600)
    p.call("unlink at 4095", OK, os.unlink, fits)
    p.call("unlink renamed at 4095", OK, os.unlink, renamed)
    p.call("mkdir at 4095", OK, os.mkdir, fits)
    p.call("rmdir at 4095", OK, os.rmdir, fits)
    for label, function, args in (
        ("open", make, (too_long,)),
        ("stat", os.stat, (too_long,)),
        ("mkdir", os.mkdir, (too_long,)),
        ("unlink", os.unlink, (too_long,)),
        ("rename to", os.rename, (base + "x", too_long)),
        ("symlink", os.symlink, ("x", too_long)),
    ):
        p.call(f"{label} at 4096", "ENAMETOOLONG", function, *args)


def deep_relative_walk(p: Probe) -> None:
    """A tree 6,000 bytes deep (past PATH_MAX wherever the folder is), used by relative
    paths and directory fds: no string handed to a syscall is longer than PATH_MAX."""
    top = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    tree = filler(6000)
    try:
        for name in tree:
            os.mkdir(name)
            os.chdir(name)
        p.check("depth below the folder", sum(len(n) + 1 for n in tree) - 1, 6000)
        # the syscall gives ENAMETOOLONG; glibc then walks up by `..` itself
        cwd = p.call("getcwd past PATH_MAX", OK, os.getcwd)
        p.check("its length", cwd is not None and len(cwd) > PATH_MAX, True)
        p.call("create", OK, make, "f", b"deep")
        p.attrs("stat", "f", reg(0o644, size=4))
        p.call("rename", OK, os.rename, "f", "g")
        make("x", b"xx")
        p.call("RENAME_NOREPLACE onto existing", "EEXIST", renameat2, "g", "x", RENAME_NOREPLACE)
        p.call("RENAME_EXCHANGE", OK, renameat2, "g", "x", RENAME_EXCHANGE)
        p.check("contents swapped", read_all("g") + b"|" + read_all("x"), b"xx|deep")
        p.call("RENAME_EXCHANGE back", OK, renameat2, "x", "g", RENAME_EXCHANGE)
        p.call("RENAME_NOREPLACE to new", OK, renameat2, "x", "y", RENAME_NOREPLACE)
        p.call("unlink y", OK, os.unlink, "y")
        p.call("link", OK, os.link, "g", "h")
        p.attrs("nlink after link", "g", reg(0o644, 2, 4))
        p.call("symlink", OK, os.symlink, "g", "l")
        p.check("readlink", os.readlink("l"), "g")
        p.check("read through the symlink", read_all("l"), b"deep")
        p.call("chmod", OK, os.chmod, "g", 0o600)
        p.call("chown", OK, os.chown, "g", NOBODY, NOBODY)
        p.attrs("after chmod and chown", "h", reg(0o600, 2, 4, f"{NOBODY}:{NOBODY}"))
        p.call("truncate", OK, os.truncate, "g", 1)
        p.call("utimes", OK, os.utime, "g", ns=(5_000_000_000, 6_000_000_000))
        p.check("mtime", os.stat("g").st_mtime_ns, 6_000_000_000)
        p.call("mkfifo", OK, os.mkfifo, "fifo")
        p.call("mknod", OK, os.mknod, "node", stat.S_IFREG | 0o644)
        p.call("mkdir", OK, os.mkdir, "sub")
        p.check("listdir", sorted(os.listdir(".")), ["fifo", "g", "h", "l", "node", "sub"])
        p.call("setxattr", OK, os.setxattr, "g", "user.cntr", b"v")
        p.check("getxattr", os.getxattr("g", "user.cntr"), b"v")
        p.check("listxattr", os.listxattr("g"), ["user.cntr"])
        p.call("rmdir", OK, os.rmdir, "sub")
        for name in ("fifo", "g", "h", "l", "node"):
            p.call(f"unlink {name}", OK, os.unlink, name)
        # from the top again: each step relative to a directory fd
        fd = os.dup(top)
        for name in tree:
            next_fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        try:
            p.call("openat O_CREAT", OK, make, "at", b"x", dir_fd=fd)
            p.attrs("fstatat", "at", reg(0o644, size=1), dir_fd=fd)
            p.call("renameat", OK, os.rename, "at", "at2", src_dir_fd=fd, dst_dir_fd=fd)
            p.call("unlinkat", OK, os.unlink, "at2", dir_fd=fd)
        finally:
            os.close(fd)
        # relative path strings of 4,000 bytes and more from 2,000 bytes down
        os.fchdir(top)
        os.chdir("/".join(tree[:9]))
        rest = "/".join(tree[9:-1])
        far = rest + "/r"
        p.check("relative path length", len(far) >= 4000, True)
        p.call("create by a 4,000-byte relative path", OK, make, far)
        p.attrs("stat by it", far, reg(0o644))
        p.call("rename by it", OK, os.rename, far, far + "2")
        p.call("unlink by it", OK, os.unlink, far + "2")
        last = rest + "/" + "z" * (PATH_MAX - 1 - len(rest) - 1)
        p.check("lengths", (len(last), len(last + "z")), (4095, 4096))
        p.call("stat a missing name at 4095", "ENOENT", os.stat, last)
        p.call("create at 4095", OK, make, last)
        p.call("unlink at 4095", OK, os.unlink, last)
        p.call("stat at 4096", "ENAMETOOLONG", os.stat, last + "z")
        p.call("create at 4096", "ENAMETOOLONG", make, last + "z")
        p.call("mkdir at 4096", "ENAMETOOLONG", os.mkdir, last + "z")
    finally:
        os.fchdir(top)
        os.close(top)


def permissions(p: Probe) -> None:
    """What an unprivileged user (uid 65534, no capabilities) may not do."""
    os.chmod(".", 0o755)
    make("root-file", b"secret", mode=0o600)
    os.mkdir("closed", 0o700)
    make("closed/inner")
    os.mkdir("sticky")
    os.chmod("sticky", 0o1777)
    make("sticky/root-owned")
    os.chmod("sticky/root-owned", 0o666)
    os.mkdir("open")
    os.chmod("open", 0o777)
    p.check("create in a 0755 dir", as_nobody(lambda: make("mine")), "EACCES")
    p.check("read a 0600 file", as_nobody(lambda: read_all("root-file")), "EACCES")
    p.check("chmod another's file", as_nobody(lambda: os.chmod("root-file", 0o666)), "EPERM")
    p.check("chown to self", as_nobody(lambda: os.chown("root-file", NOBODY, -1)), "EPERM")
    p.check("stat inside a 0700 dir", as_nobody(lambda: os.stat("closed/inner")), "EACCES")
    p.check(
        "unlink another's in sticky", as_nobody(lambda: os.unlink("sticky/root-owned")), "EPERM"
    )
    p.check("create in a 0777 dir", as_nobody(lambda: make("open/mine")), OK)
    p.attrs("owner of the new file", "open/mine", reg(0o644, who=f"{NOBODY}:{NOBODY}"))
    p.check("utime now of another's", as_nobody(lambda: os.utime("sticky/root-owned")), OK)
    p.check(
        "set times of another's", as_nobody(lambda: os.utime("sticky/root-owned", (1, 1))), "EPERM"
    )


CASES: dict[str, Callable[[Probe], None]] = {
    case.__name__: case
    for case in (
        create_modes,
        create_in_setgid_directory,
        open_errors,
        mkdir_and_rmdir,
        unlink_errors,
        link_counts,
        link_names_going,
        link_through_fd,
        link_errors,
        symlinks,
        renames,
        renames_with_flags,
        unlinked_but_open,
        renamed_while_open,
        fifos_and_nodes,
        chmod_and_chown,
        truncates,
        timestamps,
        data_between_descriptors,
        listings,
        name_max,
        absolute_path_limit,
        deep_relative_walk,
        permissions,
    )
}
DEEP_CASES = ("absolute_path_limit", "deep_relative_walk", "name_max")


def run_case(folder: str, name: str) -> list[Step]:
    """Run one case in a fresh folder `folder/name` (left there for the caller)."""
    path = os.path.join(folder, name)
    os.mkdir(path, 0o755)
    probe = Probe()
    home = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.chdir(path)
        CASES[name](probe)
    except Exception as error:  # a case that breaks is a result too
        probe.check("case ended early", f"{type(error).__name__}: {error}", "completed")
    finally:
        os.fchdir(home)
        os.close(home)
    return probe.steps


def remove_tree(path: str) -> None:
    """rmtree that copes with trees deeper than PATH_MAX (shutil's uses dir fds)."""
    shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: posix_cases.py FOLDER [CASE ...]", file=sys.stderr)
        return 2
    folder, names = argv[0], argv[1:] or list(CASES)
    if not os.path.isdir(folder):
        print(f"posix_cases: {folder} is not a folder", file=sys.stderr)
        return 2
    unknown = [name for name in names if name not in CASES]
    if unknown:
        print(f"posix_cases: unknown case(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    os.umask(0o022)
    results = {name: run_case(folder, name) for name in names}
    for name in names:
        remove_tree(os.path.join(folder, name))
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
