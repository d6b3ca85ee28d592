"""The merged root's FUSE operations: a pyfuse3 file system serving the host's `/`
into a container (run by the file server, `server_process`).

Which host path each inode stands for is `inode_paths.InodePaths`; directory listings
kept between OPENDIRs are `listings.ListingCache`.

`/var/lib/cntr` is presented as an empty directory when the host has none: the attach
moves the container's own root onto it, so the host needs no such folder.

The file system is created in the host's user namespace, so the kernel maps uids and
gids of callers in a user-namespaced container to host ids before they reach here and
maps the host ids in replies back; the server itself works in host ids only.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import stat
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import ParamSpec, TypeVar

import pyfuse3

from cntr_tui.fs.inode_paths import InodePaths
from cntr_tui.fs.listings import DirectorySnapshot, ListingCache
from cntr_tui.linux import syscalls

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
SYNTHETIC_DIRS = (b"/var/lib/cntr",)
SYNTHETIC_MODE = stat.S_IFDIR | 0o755

P = ParamSpec("P")
R = TypeVar("R")


def fuse_errors(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Turn OSError into its FUSEError and any other exception into EIO.

    An exception escaping a handler would end `pyfuse3.main()` and drop the connection.
    """

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

    return wrapper


class MergedOperations(pyfuse3.Operations):
    """Serve the host's root directory tree, by path, with generous kernel caching."""

    supports_dot_lookup = True
    enable_writeback_cache = False

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

    def stat_path(self, path: bytes) -> os.stat_result | None:
        """lstat, or None for a synthetic directory the host lacks."""
        try:
            return os.lstat(path)
        except FileNotFoundError:
            if path in self.synthetic:
                return None
            raise

    def entry_for(self, parent: int, name: bytes) -> tuple[int, pyfuse3.EntryAttributes]:
        path = self.inodes.child_path(parent, name)
        st = self.stat_path(path)
        if st is None:
            inode = self.inodes.register(parent, name, ("synthetic", path))
            return inode, self.synthetic_attributes(inode)
        inode = self.inodes.register(parent, name, (st.st_dev, st.st_ino))
        return inode, self.attributes(inode, st)

    def looked_up(self, parent: int, name: bytes) -> pyfuse3.EntryAttributes:
        inode, entry = self.entry_for(parent, name)
        self.inodes.looked_up(inode)
        return entry

    # ---- lookups and attributes --------------------------------------------------

    @fuse_errors
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
            self.inodes.forget(inode, count)

    @fuse_errors
    async def getattr(
        self, inode: int, ctx: pyfuse3.RequestContext | None = None
    ) -> pyfuse3.EntryAttributes:
        self.requests += 1
        st = self.stat_path(self.inodes.path_of(inode))
        return self.synthetic_attributes(inode) if st is None else self.attributes(inode, st)

    @fuse_errors
    async def setattr(
        self,
        inode: int,
        attr: pyfuse3.EntryAttributes,
        fields: pyfuse3.SetattrFields,
        fh: int | None,
        ctx: pyfuse3.RequestContext,
    ) -> pyfuse3.EntryAttributes:
        path = self.inodes.path_of(inode)
        if fields.update_size:
            if fh is not None:
                os.ftruncate(fh, attr.st_size)
            else:
                os.truncate(path, attr.st_size)
        if fields.update_mode and not stat.S_ISLNK(os.lstat(path).st_mode):
            os.chmod(path, stat.S_IMODE(attr.st_mode))
        if fields.update_uid or fields.update_gid:
            uid = attr.st_uid if fields.update_uid else -1
            gid = attr.st_gid if fields.update_gid else -1
            os.chown(path, uid, gid, follow_symlinks=False)
        if fields.update_atime or fields.update_mtime:
            current = os.lstat(path)
            atime = attr.st_atime_ns if fields.update_atime else current.st_atime_ns
            mtime = attr.st_mtime_ns if fields.update_mtime else current.st_mtime_ns
            os.utime(path, ns=(atime, mtime), follow_symlinks=False)
        return await self.getattr(inode, ctx)

    @fuse_errors
    async def readlink(self, inode: int, ctx: pyfuse3.RequestContext) -> bytes:
        self.requests += 1
        return os.readlink(self.inodes.path_of(inode))

    # ---- creating and removing names ---------------------------------------------

    def created(
        self, parent: int, name: bytes, ctx: pyfuse3.RequestContext
    ) -> pyfuse3.EntryAttributes:
        os.chown(self.inodes.child_path(parent, name), ctx.uid, ctx.gid, follow_symlinks=False)
        return self.looked_up(parent, name)

    @fuse_errors
    async def mknod(
        self, parent_inode: int, name: bytes, mode: int, rdev: int, ctx: pyfuse3.RequestContext
    ) -> pyfuse3.EntryAttributes:
        os.mknod(self.inodes.child_path(parent_inode, name), mode, rdev)
        return self.created(parent_inode, name, ctx)

    @fuse_errors
    async def mkdir(
        self, parent_inode: int, name: bytes, mode: int, ctx: pyfuse3.RequestContext
    ) -> pyfuse3.EntryAttributes:
        os.mkdir(self.inodes.child_path(parent_inode, name), mode)
        return self.created(parent_inode, name, ctx)

    @fuse_errors
    async def symlink(
        self, parent_inode: int, name: bytes, target: bytes, ctx: pyfuse3.RequestContext
    ) -> pyfuse3.EntryAttributes:
        os.symlink(target, self.inodes.child_path(parent_inode, name))
        return self.created(parent_inode, name, ctx)

    @fuse_errors
    async def link(
        self, inode: int, new_parent_inode: int, new_name: bytes, ctx: pyfuse3.RequestContext
    ) -> pyfuse3.EntryAttributes:
        os.link(
            self.inodes.path_of(inode),
            self.inodes.child_path(new_parent_inode, new_name),
            follow_symlinks=False,
        )
        return self.looked_up(new_parent_inode, new_name)

    @fuse_errors
    async def unlink(self, parent_inode: int, name: bytes, ctx: pyfuse3.RequestContext) -> None:
        os.unlink(self.inodes.child_path(parent_inode, name))

    @fuse_errors
    async def rmdir(self, parent_inode: int, name: bytes, ctx: pyfuse3.RequestContext) -> None:
        os.rmdir(self.inodes.child_path(parent_inode, name))

    @fuse_errors
    async def rename(
        self,
        parent_inode_old: int,
        name_old: bytes,
        parent_inode_new: int,
        name_new: bytes,
        flags: int,
        ctx: pyfuse3.RequestContext,
    ) -> None:
        old = self.inodes.child_path(parent_inode_old, name_old)
        new = self.inodes.child_path(parent_inode_new, name_new)
        if flags:
            syscalls.renameat2(old, new, flags)
        else:
            os.rename(old, new)
        for path, parent, name in (
            (new, parent_inode_new, name_new),
            (old, parent_inode_old, name_old),
        ):
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            self.inodes.moved((st.st_dev, st.st_ino), parent, name)

    # ---- files ---------------------------------------------------------------------

    @fuse_errors
    async def open(self, inode: int, flags: int, ctx: pyfuse3.RequestContext) -> pyfuse3.FileInfo:
        self.requests += 1
        fd = os.open(self.inodes.path_of(inode), (flags & ~os.O_NOCTTY) | os.O_CLOEXEC)
        return pyfuse3.FileInfo(fh=fd, keep_cache=True)

    @fuse_errors
    async def create(
        self,
        parent_inode: int,
        name: bytes,
        mode: int,
        flags: int,
        ctx: pyfuse3.RequestContext,
    ) -> tuple[pyfuse3.FileInfo, pyfuse3.EntryAttributes]:
        path = self.inodes.child_path(parent_inode, name)
        fd = os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, mode)
        try:
            os.fchown(fd, ctx.uid, ctx.gid)
            entry = self.looked_up(parent_inode, name)
        except BaseException:
            os.close(fd)
            raise
        return pyfuse3.FileInfo(fh=fd, keep_cache=True), entry

    @fuse_errors
    async def read(self, fh: int, off: int, size: int) -> bytes:
        self.requests += 1
        return os.pread(fh, size, off)

    @fuse_errors
    async def write(self, fh: int, off: int, buf: bytes) -> int:
        return os.pwrite(fh, buf, off)

    async def flush(self, fh: int) -> None:
        # Nothing to flush (no writeback cache); ENOSYS makes the kernel stop sending
        # FLUSH on every close, a third of the requests of an open+read+close.
        raise pyfuse3.FUSEError(errno.ENOSYS)

    @fuse_errors
    async def release(self, fh: int) -> None:
        os.close(fh)

    @fuse_errors
    async def fsync(self, fh: int, datasync: bool) -> None:
        if datasync:
            os.fdatasync(fh)
        else:
            os.fsync(fh)

    # ---- directories ---------------------------------------------------------------

    @fuse_errors
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
        path = self.inodes.path_of(inode)
        st = self.stat_path(path)
        version = (st.st_mtime_ns, st.st_ctime_ns) if st is not None else (0, 0)
        now = time.monotonic()
        cached = self.listings.fresh(inode, path, version, now)
        if cached is not None:
            return cached
        names = [] if st is None else os.listdir(path)
        prefix = path.rstrip(b"/") + b"/"
        for synthetic in sorted(self.synthetic):
            name = synthetic.removeprefix(prefix)
            if synthetic.startswith(prefix) and b"/" not in name and name not in names:
                names.append(name)
        snapshot = DirectorySnapshot(inode, path, names, version, now, [None] * len(names))
        self.listings.remember(snapshot)
        return snapshot

    @fuse_errors
    async def readdir(self, fh: int, start_id: int, token: pyfuse3.ReaddirToken) -> None:
        self.requests += 1
        snapshot = self.directories[fh] if fh else self.listing(self.request_inode)
        prefix = snapshot.path.rstrip(b"/") + b"/"
        for index in range(start_id, len(snapshot.names)):
            name = snapshot.names[index]
            st = snapshot.stats[index]
            if st is None:
                try:
                    st = snapshot.stats[index] = os.lstat(prefix + name)
                except FileNotFoundError:
                    if prefix + name not in self.synthetic:
                        continue  # gone since the listing
            if st is None:
                inode = self.inodes.register(snapshot.inode, name, ("synthetic", prefix + name))
                entry = self.synthetic_attributes(inode)
            else:
                inode = self.inodes.register(snapshot.inode, name, (st.st_dev, st.st_ino))
                entry = self.attributes(inode, st)
            if not pyfuse3.readdir_reply(token, name, entry, index + 1):
                self.inodes.drop_if_unused(inode)
                break
            self.inodes.looked_up(inode)

    async def releasedir(self, fh: int) -> None:
        self.directories.pop(fh, None)

    @fuse_errors
    async def fsyncdir(self, fh: int, datasync: bool) -> None:
        inode = self.directories[fh].inode if fh else self.request_inode
        fd = os.open(self.inodes.path_of(inode), os.O_RDONLY | os.O_CLOEXEC)
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

    @fuse_errors
    async def getxattr(self, inode: int, name: bytes, ctx: pyfuse3.RequestContext) -> bytes:
        return os.getxattr(self.inodes.path_of(inode), name, follow_symlinks=False)

    @fuse_errors
    async def setxattr(
        self, inode: int, name: bytes, value: bytes, ctx: pyfuse3.RequestContext
    ) -> None:
        os.setxattr(self.inodes.path_of(inode), name, value, follow_symlinks=False)

    @fuse_errors
    async def listxattr(self, inode: int, ctx: pyfuse3.RequestContext) -> list[bytes]:
        names = os.listxattr(self.inodes.path_of(inode), follow_symlinks=False)
        return [os.fsencode(name) for name in names]

    @fuse_errors
    async def removexattr(self, inode: int, name: bytes, ctx: pyfuse3.RequestContext) -> None:
        os.removexattr(self.inodes.path_of(inode), name, follow_symlinks=False)
