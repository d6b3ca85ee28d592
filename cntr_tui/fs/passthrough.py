"""FUSE passthrough (Linux 6.9+) for the merged root's regular files, spoken by hand:
libfuse 3.14 (Debian 12) has no `fuse_passthrough_open` and no field for it.

The file server's request loop (`fastloop`) asks for it in the INIT reply it patches
(FUSE_INIT_EXT, FUSE_PASSTHROUGH in flags2, `max_stack_depth`, and FUSE_WRITEBACK_CACHE
taken out: the kernel refuses the two together, `process_init_reply`). Each OPEN or
CREATE of a regular file then registers the server's host fd as a backing file
(FUSE_DEV_IOC_BACKING_OPEN on /dev/fuse) and the reply carries its id and
FOPEN_PASSTHROUGH (an OPEN's written so by the loop itself, `direct_replies`; a
CREATE's patched in libfuse's writev, `patch_reply`): the kernel opens the host file
itself for that file, with the session's open flags (O_APPEND included) and the
server's credentials, and its read, write, splice and mmap go to the host file with no
request to us and no page cache of ours. So a warm read is the host's page cache, a
write is the host's write, and both sides see each other at once.

One backing id per inode while the kernel holds files of it open: the kernel keeps one
backing file per FUSE inode and fails (EIO) an open that names another id while files
of the inode are open (`fuse_inode_uncached_io_start`: "deny conflicting backing files
on same fuse inode"); the id is closed at the inode's last RELEASE. Closing it at once
after the reply would be allowed for that open (the inode holds its own reference) but
break the next concurrent open of the same file.

Where passthrough is not in use (the kernel does not offer it, no CAP_SYS_ADMIN in the
initial user namespace, CNTR_TUI_FS_PASSTHROUGH=off, pyfuse3's internals not found) the
mount keeps the writeback cache; `describe()` says which one serves and why.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import logging
import os
import struct
import threading
from dataclasses import dataclass, field

from cntr_tui.linux.iovec import Iovec

log = logging.getLogger(__name__)

FUSE_OPEN, FUSE_CREATE = 14, 35
FUSE_WRITEBACK_CACHE = 1 << 16
FUSE_INIT_EXT = 1 << 30
FUSE_PASSTHROUGH = 1 << 37  # flags2 bit 5
FOPEN_PASSTHROUGH = 1 << 7
# the only open_flags the kernel takes beside it (FOPEN_PASSTHROUGH_MASK: DIRECT_IO,
# NOFLUSH, PARALLEL_DIRECT_WRITES); with FOPEN_KEEP_CACHE the open fails (EINVAL -> EIO)
FOPEN_PASSTHROUGH_MASK = FOPEN_PASSTHROUGH | 1 << 0 | 1 << 5 | 1 << 6
# The merged root's mount gets this s_stack_depth; a backing file must be on a file
# system of lower depth: 2 (FILESYSTEM_MAX_STACK_DEPTH) admits the host's overlayfs
# mounts (depth 1, e.g. docker's merged folders) beside ext4/xfs/btrfs/tmpfs (0); nothing
# can stack on the merged root then, which nothing does.
MAX_STACK_DEPTH = 2
# _IOW(229, 1, struct fuse_backing_map {s32 fd; u32 flags; u64 padding}),
# _IOW(229, 2, u32)
FUSE_DEV_IOC_BACKING_OPEN = 0x4010E501
FUSE_DEV_IOC_BACKING_CLOSE = 0x4004E502
OUT_HEADER_SIZE = 16
ENTRY_OUT_SIZE = 128  # struct fuse_entry_out, before CREATE's fuse_open_out
OPEN_OUT_FLAGS = 8  # fuse_open_out {u64 fh; u32 open_flags; s32 backing_id}
INIT_OUT_FLAGS, INIT_OUT_FLAGS2, INIT_OUT_STACK_DEPTH = 12, 32, 36
INIT_OUT_MIN = 40  # the init_out bytes the patch needs (libfuse 3.14 sends 64)
CAP_SYS_ADMIN = 21
INITIAL_USER_NAMESPACE = 0xEFFFFFFD  # PROC_USER_INIT_INO


def cell(vectors: ctypes.Array[Iovec], offset: int, kind: type) -> ctypes._SimpleCData | None:
    """The `kind` at byte `offset` of the message in `vectors`, if in one vector."""
    size = ctypes.sizeof(kind)
    for vector in vectors:
        if offset + size <= vector.len:
            return kind.from_address(vector.base + offset)
        if offset < vector.len:
            return None  # straddles two vectors
        offset -= vector.len
    return None


def message_length(vectors: ctypes.Array[Iovec]) -> int:
    return sum(vector.len for vector in vectors)


def has_sys_admin() -> bool:
    """CAP_SYS_ADMIN in the initial user namespace, which BACKING_OPEN requires."""
    try:
        if os.stat("/proc/self/ns/user").st_ino != INITIAL_USER_NAMESPACE:
            return False
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> CAP_SYS_ADMIN & 1)
    except (OSError, ValueError):
        pass
    return False


@dataclass
class Backing:
    backing_id: int
    opens: int


@dataclass
class Passthrough:
    """The passthrough state of one FUSE connection (see the module docstring)."""

    dev_fd: int
    enabled: bool = True  # CNTR_TUI_FS_PASSTHROUGH
    asked: bool = False  # the INIT reply asks for it
    active: bool = False  # the INIT reply went out asking for it
    reason: str = "no INIT seen"  # why not, when not active
    refused: str | None = None  # BACKING_OPEN failed for every file: why
    opened: int = 0  # files opened in passthrough
    request: tuple[int, int] = (0, 0)  # (unique, opcode) of the request being handled
    backings: dict[int, Backing] = field(default_factory=dict)  # inode -> its id
    cached: dict[int, int] = field(default_factory=dict)  # inode -> its files not in it
    files: dict[int, tuple[int, bool]] = field(default_factory=dict)  # fh -> (inode, in it)
    # the replies to be patched: unique -> (fh, backing id, offset of fuse_open_out)
    pending: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    decided: threading.Event = field(default_factory=threading.Event)
    # the session's writev (in libfuse's io struct) and its (plain, hook) values, set
    # by `FastLoop.switch_writev`: the hook only while replies wait in `pending`
    writev_cell: ctypes.c_uint64 | None = None
    writev_choices: tuple[int, int] = (0, 0)

    def offered(self, flags: int) -> bool:
        """At the kernel's INIT (its 64-bit flags): whether to ask for passthrough."""
        if not self.enabled:
            self.reason = "CNTR_TUI_FS_PASSTHROUGH=off"
        elif not flags & FUSE_INIT_EXT or not flags & FUSE_PASSTHROUGH:
            self.reason = "the kernel does not offer FUSE_PASSTHROUGH (Linux 6.9+)"
        elif not has_sys_admin():
            self.reason = "no CAP_SYS_ADMIN in the initial user namespace (EPERM)"
        else:
            self.asked = True
        if not self.asked:
            self.decided.set()
        return self.asked

    def patch_init(self, vectors: ctypes.Array[Iovec]) -> bool:
        """Ask for passthrough in the INIT reply in `vectors`; False if it is too short."""
        base = OUT_HEADER_SIZE
        if message_length(vectors) < base + INIT_OUT_MIN:
            return False
        flags = cell(vectors, base + INIT_OUT_FLAGS, ctypes.c_uint32)
        flags2 = cell(vectors, base + INIT_OUT_FLAGS2, ctypes.c_uint32)
        depth = cell(vectors, base + INIT_OUT_STACK_DEPTH, ctypes.c_uint32)
        if flags is None or flags2 is None or depth is None:
            return False
        flags.value = (flags.value | FUSE_INIT_EXT) & ~FUSE_WRITEBACK_CACHE
        flags2.value |= FUSE_PASSTHROUGH >> 32
        depth.value = MAX_STACK_DEPTH
        return True

    def init_answered(self, sent: bool) -> None:
        """The INIT reply went out (`sent`: patched as `asked` says, else as libfuse
        made it)."""
        self.active = sent and self.asked
        if self.asked and not sent:
            self.reason = "the first reply was not INIT's"
        self.decided.set()

    def describe(self) -> str:
        if self.active and self.refused is None:
            return "passthrough"
        why = self.refused or self.reason
        return f"writeback cache ({why})" if not self.active else f"page cache ({why})"

    # ---- opens -----------------------------------------------------------------------

    def attach(self, inode: int, fd: int, allowed: bool = True) -> bool:
        """Before the reply to an OPEN or CREATE of `inode` (its host file open as
        `fd`): give the file a backing id the reply will carry; False where the
        file is served through this server instead: not `allowed`, or while other
        files of the inode are (the kernel fails an open in the other mode, EIO)."""
        if not self.active or self.refused is not None:
            return False
        unique, opcode = self.request
        if opcode not in (FUSE_OPEN, FUSE_CREATE):
            return False
        with self.lock:
            backing = self.backings.get(inode)
            if backing is None and allowed and not self.cached.get(inode):
                try:
                    backing = Backing(backing_open(self.dev_fd, fd), 0)
                except OSError as error:
                    self.backing_failed(error)
                    if self.refused is not None:
                        return False
                else:
                    self.backings[inode] = backing
            if backing is None:
                self.cached[inode] = self.cached.get(inode, 0) + 1
                self.files[fd] = (inode, False)
                return False
            backing.opens += 1
            self.files[fd] = (inode, True)
            offset = OUT_HEADER_SIZE + (ENTRY_OUT_SIZE if opcode == FUSE_CREATE else 0)
            self.pending[unique] = (fd, backing.backing_id, offset)
            self.opened += 1
            # an OPEN's reply is written with the id in place by the loop (`direct_replies`,
            # in use wherever the INIT hook made passthrough active); a CREATE's needs the hook
            if self.writev_cell is not None and opcode == FUSE_CREATE:
                self.writev_cell.value = self.writev_choices[1]
        return True

    def disarm(self) -> None:
        """After a reply from `pending`: libc's writev again once none is left."""
        with self.lock:
            if not self.pending and self.writev_cell is not None:
                self.writev_cell.value = self.writev_choices[0]

    def backing_failed(self, error: OSError) -> None:
        name = errno.errorcode.get(error.errno or 0, str(error.errno))
        if error.errno in (errno.EPERM, errno.ENOTTY, errno.EINVAL) and not self.opened:
            # the connection cannot do it at all: say so once, serve everything here
            self.refused = f"FUSE_DEV_IOC_BACKING_OPEN: {name}"
            log.warning("FUSE passthrough refused (%s): files are served by the server", name)
        else:  # this file only (ELOOP: on a file system stacked too deep)
            log.warning("FUSE passthrough not used for a file: BACKING_OPEN %s", name)

    def released(self, fh: int) -> None:
        """At the RELEASE of file `fh` (or when the kernel did not take its OPEN reply),
        if it was opened in passthrough: the inode's last one closes its backing id."""
        with self.lock:
            inode, passed = self.files.pop(fh, (0, False))
            if not passed:
                if self.cached.get(inode, 0) > 1:
                    self.cached[inode] -= 1
                else:
                    self.cached.pop(inode, None)
                return
            backing = self.backings.get(inode)
            if backing is None:
                return
            backing.opens -= 1
            if backing.opens > 0:
                return
            del self.backings[inode]
        try:
            backing_close(self.dev_fd, backing.backing_id)
        except OSError as error:
            log.warning("cannot close backing id %d: %s", backing.backing_id, error)

    def patch_reply(self, vectors: ctypes.Array[Iovec]) -> tuple[int, bool] | None:
        """In the writev of a reply: if it answers an OPEN or CREATE given a backing id,
        put the id and FOPEN_PASSTHROUGH into its fuse_open_out. Returns (fh,
        whether the reply opens it in passthrough) for such a reply, else None."""
        unique = cell(vectors, 8, ctypes.c_uint64)
        error = cell(vectors, 4, ctypes.c_int32)
        if unique is None or error is None:
            return None
        entry = self.pending.pop(unique.value, None)
        if entry is None:
            return None
        fh, backing_id, offset = entry
        if error.value != 0:
            return fh, False
        flags = cell(vectors, offset + OPEN_OUT_FLAGS, ctypes.c_uint32)
        backing = cell(vectors, offset + OPEN_OUT_FLAGS + 4, ctypes.c_int32)
        if flags is None or backing is None:
            log.error("an OPEN reply of unexpected shape: no passthrough")
            return fh, False
        flags.value = flags.value & FOPEN_PASSTHROUGH_MASK | FOPEN_PASSTHROUGH
        backing.value = backing_id
        return fh, True


def backing_open(dev_fd: int, fd: int) -> int:
    """FUSE_DEV_IOC_BACKING_OPEN: register `fd` as a backing file; its id."""
    request = bytearray(struct.pack("<iIQ", fd, 0, 0))
    return fcntl.ioctl(dev_fd, FUSE_DEV_IOC_BACKING_OPEN, request, True)


def backing_close(dev_fd: int, backing_id: int) -> None:
    request = bytearray(struct.pack("<I", backing_id))
    fcntl.ioctl(dev_fd, FUSE_DEV_IOC_BACKING_CLOSE, request, True)
