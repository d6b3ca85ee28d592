"""The merged root's FUSE operations: a pyfuse3 file system serving the host's `/`
into a container (run by the file server, `server_process`).

Which (parent, name) each inode stands for is `inode_paths.InodePaths`; operations
run relative to the parent's O_PATH fd (`directory_fds.DirectoryFds`), never by a full
path, so a tree deeper than PATH_MAX is served as the host serves it; an inode whose
name is gone while the file lives on (open, or linked elsewhere) is reached through a
descriptor of the file (`inode_handles.InodeHandles`). Directory listings kept between
OPENDIRs are `listings.ListingCache`.

File data of regular files goes through FUSE passthrough where the kernel offers it
(`passthrough`): the kernel reads and writes the host file itself, with no request to
us, and everything below about the writeback cache does not apply (`writeback_cache`
is then False). Elsewhere it goes through the kernel's writeback cache: a write()
lands in the page cache
and reaches the host file when the kernel writes its dirty pages back (in large
WRITEs), at the latest when the file is closed or fsync'ed. The kernel then trusts
its own size and mtime of a regular file over ours, so a change the host makes behind
its back (another size, new bytes) could not reach it by attributes: OPEN finds such a
change (`pages_still_valid`) and gives the file a new inode (`retire_changed`), and so
does an entry the kernel looks up again (`register_entry`, after the entry timeout).
What stays on the old inode, with the kernel's size and mtime: files the session holds
open (fstat, reads past the old end: `tail -f` of a host log does not see it grow),
opens by a /proc fd link, and the file's other hard-link names until their entries
time out. Both sides writing one file while both hold it open is not coherent: the
session's dirty pages reach the host when the kernel writes them back, over what the
host wrote meanwhile, and its O_APPEND writes go to the kernel's end of the file.

`/var/lib/cntr` is presented as an empty directory when the host has none: the attach
moves the container's own root onto it, so the host needs no such folder.

The file system is created in the host's user namespace, so the kernel maps uids and
gids of callers in a user-namespaced container to host ids before they reach here and
maps the host ids in replies back; the server itself works in host ids only.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import stat
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import ParamSpec, TypeVar

import pyfuse3

from cntr_tui.fs.directory_fds import DirectoryFds
from cntr_tui.fs.inode_handles import PIN_FLAGS, InodeHandles, magic_path
from cntr_tui.fs.inode_paths import ROOT_INODE, InodePaths
from cntr_tui.fs.listings import DirectorySnapshot, ListingCache
from cntr_tui.fs.passthrough import Passthrough
from cntr_tui.linux import syscalls

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
SYNTHETIC_DIRS = (b"/var/lib/cntr",)
SYNTHETIC_MODE = stat.S_IFDIR | 0o755

# A host file's (mtime, size), what the kernel caches of it with the writeback cache.
# Not ctime: link, unlink, rename, chmod and xattrs through the mount change it too,
# and the kernel takes the attributes they change from us.
Version = tuple[int, int]
P = ParamSpec("P")
R = TypeVar("R")


def fuse_errors(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Turn OSError into its FUSEError and any other exception into EIO.

    An exception escaping a handler would end `pyfuse3.main()` and drop the connection.
    """
    return handler(method, ends_request=False)


def by_directory_fds(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """`fuse_errors` for a handler that may use directory fds: those it opened on a
    mount other than the root's are closed when it ends (`DirectoryFds.end_request`).
    Not for READ and WRITE: they run beside the other handlers (`fastloop`)."""
    return handler(method, ends_request=True)


def handler(method: Callable[P, Awaitable[R]], ends_request: bool) -> Callable[P, Awaitable[R]]:
    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except pyfuse3.FUSEError:
            raise
        except OSError as error:
            raise pyfuse3.FUSEError(error.errno or errno.EIO) from None
        except KeyError:
            raise pyfuse3.FUSEError(errno.ESTALE) from None
        except Exception:
            log.exception("handler %s failed", method.__name__)
            raise pyfuse3.FUSEError(errno.EIO) from None
        finally:
            if ends_request:
                fds = args[0].directory_fds  # type: ignore[attr-defined]
                if fds.transient:
                    fds.end_request()

    return wrapper


def version_of(st: os.stat_result) -> Version:
    return (st.st_mtime_ns, st.st_size)


def host_open_flags(flags: int) -> int:
    """The flags to open a host file with for the kernel's OPEN or CREATE.

    With the writeback cache the kernel reads through any open file of the inode (a
    page it writes part of, write-only or not), so O_WRONLY becomes O_RDWR; and it
    places O_APPEND writes at its own end of the file and writes its dirty pages
    back through any writable open file, at their offsets, which a host fd opened
    O_APPEND would put at the end instead: O_APPEND is left to the kernel.
    """
    flags = (flags & ~(os.O_NOCTTY | os.O_APPEND)) | os.O_CLOEXEC
    if flags & os.O_ACCMODE == os.O_WRONLY:
        flags = (flags & ~os.O_ACCMODE) | os.O_RDWR
    return flags


def open_host(path: bytes, flags: int, mode: int = 0o777, dir_fd: int | None = None) -> int:
    """`os.open` of a host file with `host_open_flags(flags)`; a file we may write but
    not read (an LSM's rule, a file system's) is opened write-only, as asked."""
    host_flags = host_open_flags(flags)
    try:
        return os.open(path, host_flags, mode, dir_fd=dir_fd)
    except PermissionError:
        if flags & os.O_ACCMODE != os.O_WRONLY:
            raise
        return os.open(path, host_flags & ~os.O_RDWR | os.O_WRONLY, mode, dir_fd=dir_fd)


class MergedOperations(pyfuse3.Operations):
    """Serve the host's root directory tree with generous kernel caching: each name
    relative to its parent's directory fd (`directory_fds`), each inode whose name
    went through a descriptor of its own (`inode_handles`)."""

    supports_dot_lookup = True
    # Safe with what OPEN does (`pages_still_valid`); without it each write() of 4 KiB
    # was one WRITE through this server (7x native for 512 MiB in 4 KiB blocks).
    enable_writeback_cache = True

    def __init__(
        self,
        synthetic_dirs: Sequence[bytes] = SYNTHETIC_DIRS,
        timeout: float = DEFAULT_TIMEOUT,
        negative_timeout: float | None = None,
    ) -> None:
        super().__init__()
        self.timeout = timeout
        self.negative_timeout = timeout if negative_timeout is None else negative_timeout
        self.synthetic = self.with_ancestors(synthetic_dirs)
        root_stat = os.lstat(b"/")
        self.inodes = InodePaths((root_stat.st_dev, root_stat.st_ino))
        self.synthetic_names = frozenset(os.path.basename(path) for path in self.synthetic)
        self.directory_fds = DirectoryFds(self.inodes)
        self.handles = InodeHandles()
        # Each regular file's host version as the kernel's inode has it: from the entry
        # that made the inode, at each open, after the changes the kernel made
        # (`own_change`); READ/WRITE run beside the other handlers (`fastloop`), so
        # these three go under `version_lock`.
        self.file_versions: dict[int, Version] = {}
        self.changes_in_flight: dict[int, int] = {}  # inode -> WRITE/SETATTR running
        self.changed_behind: set[int] = set()  # the host changed it before our change
        self.version_lock = threading.Lock()
        self.retired: set[int] = set()  # their files have a new inode: see retire_changed
        self.server_gid = os.getegid()
        self.directories: dict[int, DirectorySnapshot] = {}
        self.listings = ListingCache(timeout)
        self.next_directory_handle = 1
        self.requests = 0
        # Set by a request loop that tells us each request's inode (`fastloop`): then
        # OPENDIR is answered ENOSYS, the kernel sends no OPENDIR/RELEASEDIR again and
        # keeps listings in its page cache (FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR) until
        # the directory changes; READDIRPLUS then comes with fh 0 and this inode.
        self.listings_by_inode = False
        self.request_inode = 0
        self.on_init: Callable[[], None] | None = None  # run while INIT is answered
        # set by the request loop that can ask for FUSE passthrough (`fastloop`)
        self.passthrough: Passthrough | None = None

    @property
    def writeback_cache(self) -> bool:
        """Whether the kernel caches file data with its writeback cache (asked for in
        `enable_writeback_cache`), i.e. passthrough is not in use."""
        return self.passthrough is None or not self.passthrough.active

    def init(self) -> None:
        if self.on_init is not None:
            self.on_init()

    @staticmethod
    def with_ancestors(paths: Sequence[bytes]) -> frozenset[bytes]:
        result: set[bytes] = set()
        for path in paths:
            while path not in (b"/", b""):
                result.add(path)
                path = os.path.dirname(path)
        return frozenset(result)

    # ---- attributes ----------------------------------------------------------------

    def attributes(self, inode: int, st: os.stat_result) -> pyfuse3.EntryAttributes:
        entry = pyfuse3.EntryAttributes()
        entry.st_ino = inode
        entry.generation = 0
        entry.entry_timeout = self.timeout
        entry.attr_timeout = self.timeout
        entry.st_mode = st.st_mode
        entry.st_nlink = st.st_nlink
        entry.st_uid = st.st_uid
        entry.st_gid = st.st_gid
        entry.st_rdev = st.st_rdev
        entry.st_size = st.st_size
        entry.st_blksize = st.st_blksize
        entry.st_blocks = st.st_blocks
        entry.st_atime_ns = st.st_atime_ns
        entry.st_mtime_ns = st.st_mtime_ns
        entry.st_ctime_ns = st.st_ctime_ns
        return entry

    def synthetic_attributes(self, inode: int) -> pyfuse3.EntryAttributes:
        entry = pyfuse3.EntryAttributes()
        entry.st_ino = inode
        entry.entry_timeout = self.timeout
        entry.attr_timeout = self.timeout
        entry.st_mode = SYNTHETIC_MODE
        entry.st_nlink = 2
        entry.st_blksize = 4096
        return entry

    def is_synthetic(self, parent: int, name: bytes) -> bool:
        """Whether `name` in `parent` is one of the synthetic directories (only worth
        asking for a name the host lacks: it rebuilds the path)."""
        return (
            name in self.synthetic_names and self.inodes.child_path(parent, name) in self.synthetic
        )

    def place(self, inode: int) -> tuple[int, bytes]:
        """Where `inode` is: its parent directory's fd and its name there."""
        if inode == ROOT_INODE:
            return self.directory_fds.root, b"."
        node = self.inodes.nodes[inode]
        return self.directory_fds.fd_of(node.parent), node.name

    def own_fd(self, inode: int) -> int | None:
        """An fd of the inode's file itself, if one is open: see `inode_handles`."""
        fd = self.handles.handle(inode)
        return self.directory_fds.cached(inode) if fd is None else fd

    def stat_inode(self, inode: int) -> os.stat_result | None:
        """The host file's attributes, or None for a synthetic directory the host lacks."""
        fd = self.own_fd(inode)
        if fd is not None:
            return os.fstat(fd)
        dir_fd, name = self.place(inode)
        try:
            return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            if inode != ROOT_INODE and self.is_synthetic(self.inodes.parent_of(inode), name):
                return None
            raise

    def entry_for(self, parent: int, name: bytes) -> tuple[int, pyfuse3.EntryAttributes]:
        try:
            st = os.stat(name, dir_fd=self.directory_fds.fd_of(parent), follow_symlinks=False)
        except FileNotFoundError:
            if not self.is_synthetic(parent, name):
                raise
            inode = self.inodes.register(
                parent, name, ("synthetic", self.inodes.child_path(parent, name))
            )
            return inode, self.synthetic_attributes(inode)
        inode = self.register_entry(parent, name, st)
        return inode, self.attributes(inode, st)

    def register_entry(self, parent: int, name: bytes, st: os.stat_result) -> int:
        """`InodePaths.register` for an entry the kernel is told of (LOOKUP,
        READDIRPLUS); a regular file the host changed behind the kernel's back (not
        the size or mtime its inode has) gets a new inode, as at OPEN: the kernel
        would keep its own size and mtime (writeback cache), and stat() in the session
        would show them as long as the inode lives, not only until a timeout."""
        key = (st.st_dev, st.st_ino)
        known = self.inodes.inode_of.get(key)
        if known is not None and stat.S_ISREG(st.st_mode) and self.writeback_cache:
            node = self.inodes.nodes[known]
            with self.version_lock:
                before = self.file_versions.get(known)
                changed = not self.changes_in_flight.get(known) and before != version_of(st)
            if changed and before is not None and node.lookups > 0:
                self.inodes.retire(known)
                self.retired.add(known)
        inode = self.inodes.register(parent, name, key)
        if stat.S_ISREG(st.st_mode):
            node = self.inodes.nodes[inode]
            with self.version_lock:  # what the kernel's inode starts with
                if node.lookups == 0 or inode not in self.file_versions:
                    self.file_versions[inode] = version_of(st)
        return inode

    def looked_up(self, parent: int, name: bytes) -> pyfuse3.EntryAttributes:
        inode, entry = self.entry_for(parent, name)
        self.inodes.looked_up(inode)
        return entry

    # ---- lookups and attributes --------------------------------------------------

    @by_directory_fds
    async def lookup(
        self, parent_inode: int, name: bytes, ctx: pyfuse3.RequestContext
    ) -> pyfuse3.EntryAttributes:
        self.requests += 1
        if name == b".":
            return await self.getattr(parent_inode, ctx)
        if name == b"..":
            return await self.getattr(self.inodes.parent_of(parent_inode), ctx)
        try:
            return self.looked_up(parent_inode, name)
        except FileNotFoundError:
            return self.negative_entry()

    def negative_entry(self) -> pyfuse3.EntryAttributes:
        """A missing name, as an entry the kernel keeps for `negative_timeout` seconds.

        A plain ENOENT is not cached: every program start probes dozens of missing
        paths (Python's module search, gdb's auto-load and debug-file folders, $PATH)
        and each probe would be a request again. A name created through this mount
        replaces the negative entry at once; one created on the host behind our back
        shows up after at most `negative_timeout` (no longer than a positive entry
        shows a file the host has removed meanwhile).
        """
        entry = pyfuse3.EntryAttributes()
        entry.st_ino = 0
        entry.entry_timeout = self.negative_timeout
        return entry

    async def forget(self, inode_list: Sequence[tuple[int, int]]) -> None:
        for inode, count in inode_list:
            if self.inodes.forget(inode, count):
                self.forgotten(inode)

    def forgotten(self, inode: int) -> None:
        self.directory_fds.discard(inode)
        with self.version_lock:
            self.file_versions.pop(inode, None)
            self.changed_behind.discard(inode)
        self.retired.discard(inode)
        self.handles.forgotten(inode)

    @by_directory_fds
    async def getattr(
        self, inode: int, ctx: pyfuse3.RequestContext | None = None
    ) -> pyfuse3.EntryAttributes:
        self.requests += 1
        st = self.stat_inode(inode)
        return self.synthetic_attributes(inode) if st is None else self.attributes(inode, st)

    @by_directory_fds
    async def setattr(
        self,
        inode: int,
        attr: pyfuse3.EntryAttributes,
        fields: pyfuse3.SetattrFields,
        fh: int | None,
        ctx: pyfuse3.RequestContext,
    ) -> pyfuse3.EntryAttributes:
        # Through a descriptor of the file itself (an unlinked file that is still open
        # has no name), as a /proc/self/fd path where the syscall takes a path: one
        # that is O_PATH of a symlink names the symlink, not its target.
        fd = self.handles.handle(inode) if fh is None else fh
        pinned = None
        if fd is None:
            dir_fd, name = self.place(inode)
            fd = pinned = os.open(name, PIN_FLAGS, dir_fd=dir_fd)
        try:
            with self.own_change(inode, fd):
                return self.set_attributes(inode, fd, attr, fields, fh)
        finally:
            if pinned is not None:
                os.close(pinned)

    def set_attributes(
        self,
        inode: int,
        fd: int,
        attr: pyfuse3.EntryAttributes,
        fields: pyfuse3.SetattrFields,
        fh: int | None,
    ) -> pyfuse3.EntryAttributes:
        path = magic_path(fd)
        if fields.update_size:
            if fh is not None:
                os.ftruncate(fh, attr.st_size)
            else:
                os.truncate(path, attr.st_size)
        current = os.fstat(fd)
        if fields.update_mode and not stat.S_ISLNK(current.st_mode):
            os.chmod(path, stat.S_IMODE(attr.st_mode))
        if fields.update_uid or fields.update_gid:
            uid = attr.st_uid if fields.update_uid else -1
            gid = attr.st_gid if fields.update_gid else -1
            os.chown(path, uid, gid)
        if fields.update_atime or fields.update_mtime:
            atime = attr.st_atime_ns if fields.update_atime else current.st_atime_ns
            mtime = attr.st_mtime_ns if fields.update_mtime else current.st_mtime_ns
            os.utime(path, ns=(atime, mtime))
        return self.attributes(inode, os.fstat(fd))

    def kill_suidgid(self, inode: int) -> None:
        """Clear S_ISUID, and S_ISGID of a group-executable file, as a write or
        truncate by a caller without CAP_FSETID does (the kernel asks for it with
        FUSE_HANDLE_KILLPRIV_V2: `fastloop`); the server itself has CAP_FSETID."""
        fd = self.handles.handle(inode)
        pinned = None
        if fd is None:
            dir_fd, name = self.place(inode)
            fd = pinned = os.open(name, PIN_FLAGS, dir_fd=dir_fd)
        try:
            mode = os.fstat(fd).st_mode
            kept = mode & ~stat.S_ISUID
            if mode & stat.S_IXGRP:
                kept &= ~stat.S_ISGID
            if stat.S_ISREG(mode) and kept != mode:
                os.chmod(magic_path(fd), stat.S_IMODE(kept))
        finally:
            if pinned is not None:
                os.close(pinned)

    @by_directory_fds
    async def readlink(self, inode: int, ctx: pyfuse3.RequestContext) -> bytes:
        self.requests += 1
        fd = self.handles.handle(inode)
        if fd is not None:
            return os.readlink(b"", dir_fd=fd)  # readlinkat(fd, ""): the symlink itself
        dir_fd, name = self.place(inode)
        return os.readlink(name, dir_fd=dir_fd)

    # ---- creating and removing names ---------------------------------------------

    def created(
        self, parent: int, name: bytes, ctx: pyfuse3.RequestContext, fd: int | None = None
    ) -> pyfuse3.EntryAttributes:
        """Give the new file at `name` its creator's ids, as the host would have.

        The server creates as root: a group other than ours means the file system
        chose it (a set-group-ID directory) and it stays. A chown the file does not
        need is not made: chown clears S_ISUID and S_ISGID; one that is needed does,
        and they are given back (the creator asked for them).
        """
        dir_fd = self.directory_fds.fd_of(parent)
        st = os.fstat(fd) if fd is not None else os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        uid = ctx.uid if st.st_uid != ctx.uid else -1
        gid = ctx.gid if st.st_gid != ctx.gid and st.st_gid == self.server_gid else -1
        if uid != -1 or gid != -1:
            if fd is not None:
                os.fchown(fd, uid, gid)
            else:
                os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)
            kept = stat.S_IMODE(st.st_mode)
            if kept & (stat.S_ISUID | stat.S_ISGID) and not stat.S_ISDIR(st.st_mode):
                if fd is not None:
                    os.fchmod(fd, kept)
                else:
                    os.chmod(name, kept, dir_fd=dir_fd)
        return self.looked_up(parent, name)

    @by_directory_fds
    async def mknod(
        self, parent_inode: int, name: bytes, mode: int, rdev: int, ctx: pyfuse3.RequestContext
    ) -> pyfuse3.EntryAttributes:
        os.mknod(name, mode, rdev, dir_fd=self.directory_fds.fd_of(parent_inode))
        return self.created(parent_inode, name, ctx)

    @by_directory_fds
    async def mkdir(
        self, parent_inode: int, name: bytes, mode: int, ctx: pyfuse3.RequestContext
    ) -> pyfuse3.EntryAttributes:
        os.mkdir(name, mode, dir_fd=self.directory_fds.fd_of(parent_inode))
        return self.created(parent_inode, name, ctx)

    @by_directory_fds
    async def symlink(
        self, parent_inode: int, name: bytes, target: bytes, ctx: pyfuse3.RequestContext
    ) -> pyfuse3.EntryAttributes:
        os.symlink(target, name, dir_fd=self.directory_fds.fd_of(parent_inode))
        return self.created(parent_inode, name, ctx)

    @by_directory_fds
    async def link(
        self, inode: int, new_parent_inode: int, new_name: bytes, ctx: pyfuse3.RequestContext
    ) -> pyfuse3.EntryAttributes:
        fd = self.handles.handle(inode)
        if fd is not None:
            # linkat(AT_SYMLINK_FOLLOW) through /proc links the file itself
            os.link(
                magic_path(fd),
                new_name,
                dst_dir_fd=self.directory_fds.fd_of(new_parent_inode),
                follow_symlinks=True,
            )
        else:
            dir_fd, name = self.place(inode)
            os.link(
                name,
                new_name,
                src_dir_fd=dir_fd,
                dst_dir_fd=self.directory_fds.fd_of(new_parent_inode),
                follow_symlinks=False,
            )
        return self.looked_up(new_parent_inode, new_name)

    def pin_if_last_seen(self, parent: int, name: bytes, dir_fd: int) -> None:
        """Before `name` goes: if it is the name we know its inode by and the file
        lives on without it (open, or other links), pin the file (`inode_handles`)."""
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            return
        inode = self.inodes.inode_of.get((st.st_dev, st.st_ino))
        if inode is None or inode == ROOT_INODE or stat.S_ISDIR(st.st_mode):
            return
        node = self.inodes.nodes[inode]
        if (node.parent, node.name) == (parent, name) and (
            st.st_nlink > 1 or self.handles.is_open(inode)
        ):
            self.handles.pin(inode, dir_fd, name)

    @by_directory_fds
    async def unlink(self, parent_inode: int, name: bytes, ctx: pyfuse3.RequestContext) -> None:
        dir_fd = self.directory_fds.fd_of(parent_inode)
        self.pin_if_last_seen(parent_inode, name, dir_fd)
        os.unlink(name, dir_fd=dir_fd)

    @by_directory_fds
    async def rmdir(self, parent_inode: int, name: bytes, ctx: pyfuse3.RequestContext) -> None:
        os.rmdir(name, dir_fd=self.directory_fds.fd_of(parent_inode))

    @by_directory_fds
    async def rename(
        self,
        parent_inode_old: int,
        name_old: bytes,
        parent_inode_new: int,
        name_new: bytes,
        flags: int,
        ctx: pyfuse3.RequestContext,
    ) -> None:
        old_fd = self.directory_fds.fd_of(parent_inode_old)
        new_fd = self.directory_fds.fd_of(parent_inode_new)
        source = os.stat(name_old, dir_fd=old_fd, follow_symlinks=False)
        try:
            target: os.stat_result | None = os.stat(name_new, dir_fd=new_fd, follow_symlinks=False)
        except FileNotFoundError:
            target = None
        exchange = bool(flags & syscalls.RENAME_EXCHANGE)
        if target is not None and not exchange:
            self.pin_if_last_seen(parent_inode_new, name_new, new_fd)
        if flags:
            syscalls.renameat2_at(old_fd, name_old, new_fd, name_new, flags)
        else:
            os.rename(name_old, name_new, src_dir_fd=old_fd, dst_dir_fd=new_fd)
        self.inodes.moved((source.st_dev, source.st_ino), parent_inode_new, name_new)
        if target is not None and exchange:
            self.inodes.moved((target.st_dev, target.st_ino), parent_inode_old, name_old)

    # ---- files ---------------------------------------------------------------------

    @by_directory_fds
    async def open(self, inode: int, flags: int, ctx: pyfuse3.RequestContext) -> pyfuse3.FileInfo:
        self.requests += 1
        truncate = bool(flags & os.O_TRUNC) and flags & os.O_ACCMODE != os.O_RDONLY
        if truncate:  # after the check: the kernel empties its pages itself then
            flags &= ~os.O_TRUNC
        pin = self.handles.pins.get(inode)
        if pin is not None:  # no name of it is known: open the file itself again
            fd = open_host(magic_path(pin), flags)
        else:
            dir_fd, name = self.place(inode)
            fd = open_host(name, flags, dir_fd=dir_fd)
        try:
            keep = True if truncate else self.pages_still_valid(inode, fd)
            if truncate:
                with self.own_change(inode, fd):
                    os.ftruncate(fd, 0)
        except BaseException:
            os.close(fd)
            raise
        self.handles.opened(inode, fd)
        self.pass_through(inode, fd)
        return pyfuse3.FileInfo(fh=fd, keep_cache=keep)

    def pass_through(self, inode: int, fd: int) -> None:
        """A regular file's OPEN or CREATE: in passthrough where it is in use, except
        a set-ID file: the kernel writes a passthrough file as the server (root, with
        CAP_FSETID), so a write by a caller without CAP_FSETID would keep S_ISUID;
        through this server, `kill_suidgid` clears it as the host would."""
        passthrough = self.passthrough
        if passthrough is None or not passthrough.active:
            return
        mode = os.fstat(fd).st_mode
        if stat.S_ISREG(mode):
            set_id = mode & stat.S_ISUID or (mode & stat.S_ISGID and mode & stat.S_IXGRP)
            passthrough.attach(inode, fd, allowed=not set_id)

    def pages_still_valid(self, inode: int, fd: int) -> bool:
        """Whether the kernel may keep what it has of the file it opens (keep_cache):
        the file is as it was (mtime, size) at its open before or after the kernel's
        own changes since (`own_change`). A change on the host that leaves both as
        they were (bytes rewritten, then the mtime set back) is not seen.

        If it changed behind the kernel's back (on the host), the pages must go, and
        the kernel's size and mtime too: with the writeback cache it keeps its own
        over any we send (a grown file would read to its old size, a shrunk one with
        zeros), so the file gets a new inode (`retire_changed`: this open fails with
        ESTALE, which the kernel's open retries once, looking the names up again).
        An open that reaches the old inode again (through a /proc fd link, which is
        not looked up) goes on with its pages dropped (keep_cache off) and its cached
        attributes marked stale, its size as the kernel had it.
        """
        st = os.fstat(fd)
        version = version_of(st)
        with self.version_lock:
            if self.changes_in_flight.get(inode):
                return True  # a change of the kernel's own is being made
            before = self.file_versions.get(inode)
            self.file_versions[inode] = version
        if before is None or before == version:
            return True
        if stat.S_ISREG(st.st_mode) and inode not in self.retired and self.writeback_cache:
            self.retire_changed(inode)
        with contextlib.suppress(OSError):  # an inode the kernel no longer has
            pyfuse3.invalidate_inode(inode, attr_only=True)
        return False

    def retire_changed(self, inode: int) -> None:
        """The host changed this file behind the kernel's back: its next lookup gets a
        new inode, whose size and mtime the kernel takes from us. The old one lives
        on for files the kernel has open on it, until it forgets it."""
        self.inodes.retire(inode)
        self.retired.add(inode)
        raise pyfuse3.FUSEError(errno.ESTALE)

    @contextlib.contextmanager
    def own_change(self, inode: int, fd: int) -> Iterator[None]:
        """Around a change the kernel asked for (WRITE, SETATTR): the version after it
        is the kernel's own, not a change behind its back, unless the file had
        changed on the host before (then the next OPEN finds that)."""
        with self.version_lock:
            running = self.changes_in_flight.get(inode, 0)
            if not running and version_of(os.fstat(fd)) != self.file_versions.get(inode):
                self.changed_behind.add(inode)
            self.changes_in_flight[inode] = running + 1
        try:
            yield
        finally:
            with self.version_lock:
                running = self.changes_in_flight.pop(inode) - 1
                if running:
                    self.changes_in_flight[inode] = running
                elif inode in self.changed_behind:
                    self.changed_behind.discard(inode)
                elif inode in self.file_versions:
                    with contextlib.suppress(OSError):
                        self.file_versions[inode] = version_of(os.fstat(fd))

    @by_directory_fds
    async def create(
        self,
        parent_inode: int,
        name: bytes,
        mode: int,
        flags: int,
        ctx: pyfuse3.RequestContext,
    ) -> tuple[pyfuse3.FileInfo, pyfuse3.EntryAttributes]:
        dir_fd = self.directory_fds.fd_of(parent_inode)
        made = True
        try:
            fd = open_host(name, flags | os.O_CREAT | os.O_EXCL, mode, dir_fd=dir_fd)
        except FileExistsError:
            if flags & os.O_EXCL:
                raise
            # made on the host since the kernel's miss: open it as O_CREAT would, and
            # leave its owner alone
            made = False
            fd = open_host(name, flags & ~os.O_CREAT, dir_fd=dir_fd)
        try:
            if made:
                entry = self.created(parent_inode, name, ctx, fd)
            else:
                entry = self.looked_up(parent_inode, name)
        except BaseException:
            os.close(fd)
            raise
        with self.version_lock:
            self.file_versions[entry.st_ino] = version_of(os.fstat(fd))
        self.handles.opened(entry.st_ino, fd)
        self.pass_through(entry.st_ino, fd)
        return pyfuse3.FileInfo(fh=fd, keep_cache=True), entry

    @fuse_errors
    async def read(self, fh: int, off: int, size: int) -> bytes:
        self.requests += 1
        return os.pread(fh, size, off)

    @fuse_errors
    async def write(self, fh: int, off: int, buf: bytes) -> int:
        inode = self.handles.inode_of_fd.get(fh)
        if inode is None:
            return os.pwrite(fh, buf, off)
        with self.own_change(inode, fh):
            return os.pwrite(fh, buf, off)

    async def flush(self, fh: int) -> None:
        # The kernel writes the file's dirty pages back before it sends FLUSH, and
        # does that whether FLUSH is answered or not; ENOSYS makes it stop sending
        # FLUSH on every close, a third of the requests of an open+read+close.
        raise pyfuse3.FUSEError(errno.ENOSYS)

    @fuse_errors
    async def release(self, fh: int) -> None:
        if self.passthrough is not None:
            self.passthrough.released(fh)
        self.handles.released(fh)
        os.close(fh)

    @fuse_errors
    async def fsync(self, fh: int, datasync: bool) -> None:
        if datasync:
            os.fdatasync(fh)
        else:
            os.fsync(fh)

    # ---- directories ---------------------------------------------------------------

    @by_directory_fds
    async def opendir(self, inode: int, ctx: pyfuse3.RequestContext) -> int:
        self.requests += 1
        if self.listings_by_inode:
            raise pyfuse3.FUSEError(errno.ENOSYS)
        snapshot = self.listing(inode)
        handle = self.next_directory_handle
        self.next_directory_handle += 1
        self.directories[handle] = snapshot
        return handle

    def listing(self, inode: int) -> DirectorySnapshot:
        path = self.inodes.path_of(inode)  # the cache's key and the synthetic names' parent
        st = self.stat_inode(inode)
        version = (st.st_mtime_ns, st.st_ctime_ns) if st is not None else (0, 0)
        now = time.monotonic()
        cached = self.listings.fresh(inode, path, version, now)
        if cached is not None:
            return cached
        names = [] if st is None else self.list_names(inode)
        prefix = path.rstrip(b"/") + b"/"
        for synthetic in sorted(self.synthetic):
            name = synthetic.removeprefix(prefix)
            if synthetic.startswith(prefix) and b"/" not in name and name not in names:
                names.append(name)
        snapshot = DirectorySnapshot(inode, path, names, version, now, [None] * len(names))
        self.listings.remember(snapshot)
        return snapshot

    def list_names(self, inode: int) -> list[bytes]:
        fd = os.open(
            b".",
            os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC,
            dir_fd=self.directory_fds.fd_of(inode),
        )
        try:
            return [os.fsencode(name) for name in os.listdir(fd)]  # str for an fd
        finally:
            os.close(fd)

    @by_directory_fds
    async def readdir(self, fh: int, start_id: int, token: pyfuse3.ReaddirToken) -> None:
        self.requests += 1
        snapshot = self.directories[fh] if fh else self.listing(self.request_inode)
        prefix = snapshot.path.rstrip(b"/") + b"/"
        dir_fd: int | None = None
        for index in range(start_id, len(snapshot.names)):
            name = snapshot.names[index]
            st = snapshot.stats[index]
            if st is None:
                try:
                    if dir_fd is None:
                        dir_fd = self.directory_fds.fd_of(snapshot.inode)
                    st = snapshot.stats[index] = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                except FileNotFoundError:
                    if prefix + name not in self.synthetic:
                        continue  # gone since the listing
            if st is None:
                inode = self.inodes.register(snapshot.inode, name, ("synthetic", prefix + name))
                entry = self.synthetic_attributes(inode)
            else:
                inode = self.register_entry(snapshot.inode, name, st)
                entry = self.attributes(inode, st)
            if not pyfuse3.readdir_reply(token, name, entry, index + 1):
                if self.inodes.drop_if_unused(inode):
                    self.forgotten(inode)
                break
            self.inodes.looked_up(inode)

    async def releasedir(self, fh: int) -> None:
        self.directories.pop(fh, None)

    @by_directory_fds
    async def fsyncdir(self, fh: int, datasync: bool) -> None:
        inode = self.directories[fh].inode if fh else self.request_inode
        fd = os.open(
            b".",
            os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC,
            dir_fd=self.directory_fds.fd_of(inode),
        )
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    @fuse_errors
    async def statfs(self, ctx: pyfuse3.RequestContext) -> pyfuse3.StatvfsData:
        result = os.statvfs(b"/")
        data = pyfuse3.StatvfsData()
        for name in (
            "f_bsize",
            "f_frsize",
            "f_blocks",
            "f_bfree",
            "f_bavail",
            "f_files",
            "f_ffree",
            "f_favail",
            "f_namemax",
        ):
            setattr(data, name, getattr(result, name))
        return data

    async def access(self, inode: int, mode: int, ctx: pyfuse3.RequestContext) -> bool:
        return True  # the kernel checks permissions (default_permissions)

    # ---- extended attributes -------------------------------------------------------

    def xattr_path(self, inode: int) -> tuple[bytes, bool]:
        """A short path naming the inode's file itself, and whether to follow it: an fd's
        /proc magic link is followed (to the fd's own file, a symlink too: not on to its
        target); without following, the xattr calls would act on the magic link (EPERM
        for user.* names, no data)."""
        fd = self.handles.handle(inode)
        if fd is not None:
            return magic_path(fd), True
        dir_fd, name = self.place(inode)
        return magic_path(dir_fd) + b"/" + name, False

    @by_directory_fds
    async def getxattr(self, inode: int, name: bytes, ctx: pyfuse3.RequestContext) -> bytes:
        path, follow = self.xattr_path(inode)
        return os.getxattr(path, name, follow_symlinks=follow)

    @by_directory_fds
    async def setxattr(
        self, inode: int, name: bytes, value: bytes, ctx: pyfuse3.RequestContext
    ) -> None:
        path, follow = self.xattr_path(inode)
        os.setxattr(path, name, value, follow_symlinks=follow)

    @by_directory_fds
    async def listxattr(self, inode: int, ctx: pyfuse3.RequestContext) -> list[bytes]:
        path, follow = self.xattr_path(inode)
        return [os.fsencode(name) for name in os.listxattr(path, follow_symlinks=follow)]

    @by_directory_fds
    async def removexattr(self, inode: int, name: bytes, ctx: pyfuse3.RequestContext) -> None:
        path, follow = self.xattr_path(inode)
        os.removexattr(path, name, follow_symlinks=follow)
