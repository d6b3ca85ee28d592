"""A FUSE request loop for pyfuse3 without a trio scheduler pass per request.

`pyfuse3.main()` waits for every request with `trio.lowlevel.wait_readable` (an epoll
round trip through trio's scheduler, a lock, task rescheduling): on a loaded two-core
machine that is ~100 us per request, several times the cost of the handler itself, and
a metadata-heavy workload (`find`, opening many small files) is nothing but requests.

This loop, run in one thread, does what pyfuse3's `_session_loop` does without trio:
a blocking `fuse_session_receive_buf` (ctypes releases the GIL while it waits), then
`fuse_session_process_buf` with the GIL held, which calls pyfuse3's C handler; that
handler leaves its coroutine in pyfuse3's module variable `py_retval`, which we take
and run to completion with `send(None)`.

That requires the address of two Cython module statics (`session`, `py_retval`): they
are read from the extension's ELF symbol table, relative to the exported
`PyInit_pyfuse3`. `FastLoop.locate()` returns None when anything is not as expected
(a stripped build, another pyfuse3), and the caller then uses `pyfuse3.main()`.

Only for file systems whose handlers never suspend (they do no trio I/O): a coroutine
that does not finish in one step is a bug, reported by `HandlerSuspended`.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import json
import logging
import os
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from cntr_tui.fs.direct_replies import DIRECT_OPCODES, IN_HEADER_SIZE, DirectReplies
from cntr_tui.fs.spin_wait import SpinWait
from cntr_tui.linux.iovec import Iovec
from cntr_tui.settings import FS_SPIN_DEFAULT, Settings

if TYPE_CHECKING:
    from cntr_tui.fs.passthrough import Passthrough

log = logging.getLogger(__name__)

FUSE_SETATTR, FUSE_OPEN, FUSE_READ, FUSE_WRITE, FUSE_INIT = 4, 14, 15, 16, 26
UNLOCKED_OPCODES = frozenset({FUSE_READ, FUSE_WRITE})
SYMBOLS = (
    "PyInit_pyfuse3",
    "__pyx_v_7pyfuse3_session",
    "__pyx_v_7pyfuse3_py_retval",
    "__pyx_f_7pyfuse3_fuse_init",
)
FUSE_CAP_READDIRPLUS = 1 << 13
FUSE_CAP_CACHE_SYMLINKS = 1 << 23
LOWLEVEL_OPS_SIZE = 44 * 8  # struct fuse_lowlevel_ops of libfuse 3.14: 44 function pointers
SESSION_SCAN = 1024  # bytes of struct fuse_session searched for op.init
SHT_SYMTAB = 2
FUSE_BUF_SIZE = 64  # struct fuse_buf is 40 bytes in libfuse 3.14; room for growth
# fuse_init_out.flags bit (kernel 5.11+) that libfuse 3.14 has no FUSE_CAP_* for: the
# kernel then marks the mount SB_NOSEC, and a file once found without security.capability
# is S_NOSEC: its write()s skip file_remove_privs' GETXATTR (one request per write()).
FUSE_HANDLE_KILLPRIV_V2 = 1 << 28
OUT_HEADER_SIZE = 16  # struct fuse_out_header {u32 len; s32 error; u64 unique}
# With FUSE_HANDLE_KILLPRIV_V2 the server clears set-ID bits where the kernel says so
# (the caller lacks CAP_FSETID), which pyfuse3 does not pass on: (opcode, offset of the
# u32 after fuse_in_header, its bit) for WRITE's write_flags (FUSE_WRITE_KILL_SUIDGID),
# SETATTR's valid (FATTR_KILL_SUIDGID) and OPEN's open_flags (FUSE_OPEN_KILL_SUIDGID).
KILL_SUIDGID = {FUSE_WRITE: (20, 1 << 2), FUSE_SETATTR: (0, 1 << 11), FUSE_OPEN: (4, 1 << 0)}
INIT_OUT_FLAGS = 12  # offset of flags in struct fuse_init_out
INIT_IN_FLAGS = 12  # offset of flags (then flags2) in struct fuse_init_in
WRITEV = ctypes.CFUNCTYPE(
    ctypes.c_ssize_t, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p
)


class CustomIo(ctypes.Structure):
    """libfuse's struct fuse_custom_io (3.14)."""

    _fields_ = (
        ("writev", ctypes.c_void_p),
        ("read", ctypes.c_void_p),
        ("splice_receive", ctypes.c_void_p),
        ("splice_send", ctypes.c_void_p),
    )


# A developer's switch, like CNTR_TUI_FS_PROFILE, read through `Settings.fs_counts`:
# count requests by opcode and keep the counts (JSON, opcode name -> count) in this
# file, rewritten at most every 0.2 s.
COUNTS_ENV = "CNTR_TUI_FS_COUNTS"
COUNTS_INTERVAL = 0.2
OPCODE_NAMES = {
    1: "LOOKUP", 2: "FORGET", 3: "GETATTR", 4: "SETATTR", 5: "READLINK", 6: "SYMLINK",
    8: "MKNOD", 9: "MKDIR", 10: "UNLINK", 11: "RMDIR", 12: "RENAME", 13: "LINK", 14: "OPEN",
    15: "READ", 16: "WRITE", 17: "STATFS", 18: "RELEASE", 20: "FSYNC", 21: "SETXATTR",
    22: "GETXATTR", 23: "LISTXATTR", 24: "REMOVEXATTR", 25: "FLUSH", 26: "INIT",
    27: "OPENDIR", 28: "READDIR", 29: "RELEASEDIR", 30: "FSYNCDIR", 34: "ACCESS",
    35: "CREATE", 36: "INTERRUPT", 42: "BATCH_FORGET", 44: "READDIRPLUS", 45: "RENAME2",
    46: "LSEEK",
}  # fmt: skip


class RequestTarget(Protocol):
    request_inode: int

    def kill_suidgid(self, inode: int) -> None: ...


class HandlerSuspended(RuntimeError):
    """A pyfuse3 handler coroutine awaited something: this loop cannot run it."""


@functools.cache  # the resident agent reads them once for every server it forks
def elf_symbols(path: str, wanted: tuple[str, ...]) -> dict[str, int]:
    """Values (addresses relative to the load base) of `wanted` in `path`'s .symtab."""
    with open(path, "rb") as file:
        data = file.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return {}  # only 64-bit little-endian
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [
        struct.unpack_from("<IIQQQQIIQQ", data, shoff + index * shentsize) for index in range(shnum)
    ]
    found: dict[str, int] = {}
    names = {name.encode(): name for name in wanted}
    for section in sections:
        if section[1] != SHT_SYMTAB:
            continue
        offset, size, link, entsize = section[4], section[5], section[6], section[9]
        strtab_offset = sections[link][4]
        for position in range(offset, offset + size, entsize):
            (name_offset,) = struct.unpack_from("<I", data, position)
            end = data.index(b"\0", strtab_offset + name_offset)
            name = names.get(data[strtab_offset + name_offset : end])
            if name is not None:
                found[name] = struct.unpack_from("<Q", data, position + 8)[0]
    return found


@dataclass
class FastLoop:
    """pyfuse3's session loop, minus trio: see the module docstring."""

    session: int
    retval: ctypes.c_void_p  # pyfuse3's `py_retval` cell, read and written in place
    receive: ctypes._CFuncPtr
    process: ctypes._CFuncPtr
    exited: ctypes._CFuncPtr
    free: ctypes._CFuncPtr
    init_function: int  # pyfuse3's fuse_init, the first entry of the session's ops table
    custom_io: ctypes._CFuncPtr | None = None  # fuse_session_custom_io
    session_fd: ctypes._CFuncPtr | None = None  # fuse_session_fd
    libc_io: tuple[int, int] = (0, 0)  # the addresses of libc's writev and read
    init_flags: int = 0  # fuse_init_out.flags bits added to the INIT reply
    init_writev: Any = None  # the CFUNCTYPE writev of INIT's reply, kept alive
    init_pending: bool = False
    passthrough: Passthrough | None = None  # asked for at INIT where the kernel offers it
    lock: threading.Lock = field(default_factory=threading.Lock)
    counts_path: str | None = None
    counts: dict[int, int] = field(default_factory=dict)
    counts_written: float = 0.0
    spin: float = FS_SPIN_DEFAULT  # seconds polled for the next request in a burst (spin_wait)

    @classmethod
    def locate(cls, settings: Settings | None = None) -> FastLoop | None:
        """Find pyfuse3's session (after `pyfuse3.init`); None if that is not possible.
        `settings` (default: this process's environment) say where to keep counts."""
        import pyfuse3

        if settings is None:
            settings = Settings.from_environment()

        try:
            symbols = elf_symbols(pyfuse3.__file__, SYMBOLS)
            if set(symbols) != set(SYMBOLS):
                return None
            extension = ctypes.PyDLL(pyfuse3.__file__)
            base = ctypes.cast(extension.PyInit_pyfuse3, ctypes.c_void_p).value
            if base is None:
                return None
            base -= symbols["PyInit_pyfuse3"]
            session = ctypes.c_void_p.from_address(base + symbols["__pyx_v_7pyfuse3_session"])
            retval = ctypes.c_void_p.from_address(base + symbols["__pyx_v_7pyfuse3_py_retval"])
            if not session.value or retval.value != id(None):
                return None  # not initialised, or not the layout we expect
            # the soname pyfuse3 links (loaded already): find_library would run ldconfig
            libfuse_name = "libfuse3.so.3"
            blocking = ctypes.CDLL(libfuse_name)  # releases the GIL while reading
            holding = ctypes.PyDLL(libfuse_name)  # keeps the GIL for the Python handlers
            libc = ctypes.CDLL(None)
        except (OSError, AttributeError, ValueError, struct.error, IndexError):
            log.warning("pyfuse3 internals not found: using pyfuse3.main", exc_info=True)
            return None
        receive = blocking.fuse_session_receive_buf
        receive.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
        receive.restype = ctypes.c_int
        process = holding.fuse_session_process_buf
        process.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
        process.restype = None
        exited = holding.fuse_session_exited
        exited.argtypes = (ctypes.c_void_p,)
        exited.restype = ctypes.c_int
        free = libc.free
        free.argtypes = (ctypes.c_void_p,)
        free.restype = None
        custom_io = holding.fuse_session_custom_io
        custom_io.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)
        custom_io.restype = ctypes.c_int
        session_fd = holding.fuse_session_fd
        session_fd.argtypes = (ctypes.c_void_p,)
        session_fd.restype = ctypes.c_int
        libc_io = tuple(
            ctypes.cast(getattr(libc, name), ctypes.c_void_p).value or 0
            for name in ("writev", "read")
        )
        return cls(
            session.value,
            retval,
            receive,
            process,
            exited,
            free,
            base + symbols["__pyx_f_7pyfuse3_fuse_init"],
            counts_path=settings.fs_counts,
            spin=settings.fs_spin,
            custom_io=custom_io,
            session_fd=session_fd,
            libc_io=(libc_io[0], libc_io[1]),
        )

    def want_capabilities(self, wanted: int) -> int:
        """Ask for `wanted` FUSE_CAP_* bits the kernel offers; returns those asked for.

        Only valid inside `Operations.init()`, which pyfuse3 calls from libfuse's INIT
        handling with the connection's `fuse_conn_info` (in the session) filled in and
        not yet answered; pyfuse3 has no way to ask for, e.g., symlink caching.
        The session is searched for pyfuse3's `op.init`, then `fuse_conn_info` after
        the ops table is recognised by its values; nothing is written when unsure.
        """
        memory = ctypes.string_at(self.session, SESSION_SCAN)
        pointer = struct.pack("<Q", self.init_function)
        op_offset = memory.find(pointer)
        if op_offset < 0 or op_offset % 8:
            return 0
        matches = []
        start = op_offset + LOWLEVEL_OPS_SIZE
        for offset in range(start, min(start + 64, SESSION_SCAN - 28), 4):
            major, minor, _, _, _, capable, want = struct.unpack_from("<7I", memory, offset)
            if (
                major == 7
                and 20 <= minor < 100
                and capable & want & FUSE_CAP_READDIRPLUS
                and not want & ~capable
            ):
                matches.append((offset, capable, want))
        if len(matches) != 1:
            log.warning("fuse_conn_info not found: capabilities %#x not asked for", wanted)
            return 0
        offset, capable, want = matches[0]
        granted = wanted & capable
        ctypes.c_uint32.from_address(self.session + offset + 24).value = want | granted
        return granted

    def add_init_flags(self, flags: int) -> bool:
        """Add `flags` to the flags of the INIT reply, which libfuse builds from the
        FUSE_CAP_* it knows only; True if the hook is in place (before INIT).

        libfuse's session writes replies through a custom io when one is set
        (`fuse_session_custom_io`): ours is libc's read and a writev that ORs the
        flags into the first reply, INIT's, and then sets libc's writev as the
        session's for every later reply (no Python in the reply path after INIT),
        unless INIT asked for passthrough (`passthrough`): then it stays, to put
        the backing ids into CREATE replies (the loop writes OPEN's itself,
        `direct_replies`).
        """
        if self.custom_io is None or self.session_fd is None or not all(self.libc_io):
            return False
        writev_address, read_address = self.libc_io
        libc_writev = WRITEV(writev_address)
        fd = self.session_fd(self.session)
        if fd < 0:
            return False

        def writev(fd: int, iov: int, count: int, userdata: int) -> int:
            passthrough = self.passthrough
            if self.init_pending:
                self.init_pending = False
                if add_to_init_reply(iov, count, flags, passthrough):
                    self.init_flags = flags
                else:
                    log.warning("the first reply is not INIT's: flags %#x not added", flags)
                if passthrough is not None:
                    passthrough.init_answered(bool(self.init_flags))
                if self.custom_io:
                    plain = CustomIo(writev_address, read_address, None, None)
                    # the same fd; libfuse copies the struct
                    self.custom_io(self.session, ctypes.byref(plain), fd)
                    if passthrough is not None and passthrough.active:
                        self.switch_writev(passthrough, plain, hooked, fd)
            elif passthrough is not None and passthrough.pending:
                result = passthrough_reply(passthrough, libc_writev, fd, iov, count, userdata)
                passthrough.disarm()
                return result
            return libc_writev(fd, iov, count, userdata)

        self.init_writev = hook = WRITEV(writev)
        hooked = CustomIo(ctypes.cast(hook, ctypes.c_void_p).value, read_address, None, None)
        self.init_pending = True
        if self.custom_io(self.session, ctypes.byref(hooked), fd) != 0:
            self.init_pending = False
            return False
        return True

    def switch_writev(
        self, passthrough: Passthrough, plain: CustomIo, hooked: CustomIo, fd: int
    ) -> None:
        """Let `passthrough` switch the session's writev between libc's and our hook
        (`Passthrough.attach`, `disarm`): the hook only while an OPEN or CREATE reply
        needs its backing id, so no other reply pays for a Python call. The
        session's io struct (libfuse 3.14's fuse_session {mountpoint, exited, fd,
        io, ...}) is recognised by the fd and its contents; unsure, the hook stays
        for all."""
        fd_cell = ctypes.c_int32.from_address(self.session + 12)
        io = ctypes.c_void_p.from_address(self.session + 16).value
        expected = bytes(plain)
        if fd_cell.value == fd and io and ctypes.string_at(io, len(expected)) == expected:
            passthrough.writev_cell = ctypes.c_uint64.from_address(io)
            passthrough.writev_choices = (plain.writev, hooked.writev)
        elif self.custom_io is not None:
            log.warning("libfuse's session io not found: every reply goes through Python")
            self.custom_io(self.session, ctypes.byref(hooked), fd)

    def direct_replies(self) -> DirectReplies | None:
        """OPEN, RELEASE and GETATTR answered by this loop itself (`direct_replies`), on the
        session's /dev/fuse fd; None where that fd is not known."""
        fd = self.session_fd(self.session) if self.session_fd is not None else -1
        if fd < 0:
            return None
        return DirectReplies(fd, finish, self.passthrough)

    def take_retval(self) -> object:
        """Take pyfuse3's pending coroutine out of `py_retval`, leaving None there."""
        address = self.retval.value
        if address is None or address == id(None):
            return None
        coroutine = ctypes.cast(address, ctypes.py_object).value  # our own reference
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(None))
        self.retval.value = id(None)
        ctypes.pythonapi.Py_DecRef(ctypes.py_object(coroutine))  # the cell's reference
        return coroutine

    def run(self, target: RequestTarget) -> None:
        """Serve requests until the connection ends; OSError for a failed read.

        Several threads may run this loop on one session: requests are decoded and
        handled one at a time (`lock`), except that READ and WRITE handlers, which
        touch no shared state, run outside the lock, so a read waiting for the disk
        does not hold up the next request.

        Before each request, `target.request_inode` is set to the request's inode:
        pyfuse3 does not pass it to handlers that get a file handle (readdir).
        """
        buffer = ctypes.create_string_buffer(FUSE_BUF_SIZE)
        buf = ctypes.addressof(buffer)
        session, receive, process, lock = self.session, self.receive, self.process, self.lock
        take = self.take_retval
        direct = self.direct_replies()
        waiting = SpinWait.on(direct.dev_fd if direct is not None else -1, self.spin)
        try:
            while not self.exited(session):
                if waiting is not None:
                    waiting.before_receive()
                result = receive(session, buf)
                if waiting is not None:
                    waiting.received()
                if result == -errno.EINTR:
                    continue
                if result < 0:
                    raise OSError(
                        -result, f"fuse_session_receive_buf: {errno.errorcode.get(-result)}"
                    )
                if result == 0:
                    break
                header = ctypes.c_void_p.from_buffer(buffer, 16).value  # fuse_buf.mem
                # struct fuse_in_header {u32 len; u32 opcode; u64 unique; u64 nodeid; ...}
                opcode, unique, inode = struct.unpack_from("<IQQ", ctypes.string_at(header + 4, 20))
                kill = KILL_SUIDGID.get(opcode) if self.init_flags else None
                passthrough = self.passthrough
                if opcode == FUSE_INIT and passthrough is not None:
                    passthrough.offered(kernel_init_flags(header))
                with lock:
                    if passthrough is not None:
                        passthrough.request = (unique, opcode)
                    if self.counts_path:
                        self.count(opcode)
                    target.request_inode = inode
                    if direct is not None and opcode in DIRECT_OPCODES:
                        direct.handle(target, opcode, unique, inode, header)  # type: ignore[arg-type]
                        if kill is not None:  # OPEN's, after the file is opened
                            killed_before(target, header, inode, kill)
                        continue
                    if kill is not None and opcode != FUSE_OPEN:
                        killed_before(target, header, inode, kill)
                    process(session, buf)  # pyfuse3 leaves the handler's coroutine in py_retval
                    coroutine = take()
                    if kill is not None and opcode == FUSE_OPEN:  # after the file is opened
                        if coroutine is not None:
                            finish(coroutine)
                            coroutine = None
                        killed_before(target, header, inode, kill)
                    if coroutine is not None and opcode not in UNLOCKED_OPCODES:
                        finish(coroutine)
                        continue
                if coroutine is not None:
                    finish(coroutine)
        finally:
            memory = ctypes.c_void_p.from_buffer(buffer, 16).value  # fuse_buf.mem
            if memory:
                self.free(memory)

    def count(self, opcode: int) -> None:
        """Count one request (CNTR_TUI_FS_COUNTS); called with the lock held."""
        self.counts[opcode] = self.counts.get(opcode, 0) + 1
        now = time.monotonic()
        if now - self.counts_written < COUNTS_INTERVAL or self.counts_path is None:
            return
        self.counts_written = now
        named = {OPCODE_NAMES.get(op, str(op)): n for op, n in sorted(self.counts.items())}
        temporary = f"{self.counts_path}.tmp"
        try:
            with open(temporary, "w", encoding="utf-8") as file:
                json.dump(named, file)
            os.replace(temporary, self.counts_path)
        except OSError as error:
            log.warning("cannot write request counts: %s", error)
            self.counts_path = None


def killed_before(target: RequestTarget, header: int, inode: int, kill: tuple[int, int]) -> None:
    """Clear the inode's set-ID bits if the request (at `header`) asks to (`kill`:
    the offset of its flags after fuse_in_header and the bit)."""
    offset, bit = kill
    (flags,) = struct.unpack("<I", ctypes.string_at(header + IN_HEADER_SIZE + offset, 4))
    if flags & bit:
        try:
            target.kill_suidgid(inode)
        except OSError as error:
            log.warning("cannot clear the set-ID bits of inode %d: %s", inode, error)


def kernel_init_flags(header: int) -> int:
    """The 64-bit flags of the kernel's INIT request at `header` (flags2 only with
    FUSE_INIT_EXT, as the kernel reads ours)."""
    (length,) = struct.unpack("<I", ctypes.string_at(header, 4))
    if length < IN_HEADER_SIZE + INIT_IN_FLAGS + 8:
        return 0
    flags, flags2 = struct.unpack("<II", ctypes.string_at(header + IN_HEADER_SIZE + 12, 8))
    return flags | (flags2 << 32 if flags & 1 << 30 else 0)


def passthrough_reply(
    passthrough: Passthrough, libc_writev: Any, fd: int, iov: int, count: int, userdata: int
) -> int:
    """Write a reply that may answer an OPEN or CREATE given a backing id: the id goes
    into it; an error reply, or one the kernel did not take (the request was
    interrupted), gives the id's hold back."""
    vectors = (Iovec * count).from_address(iov)
    patched = passthrough.patch_reply(vectors)
    result = libc_writev(fd, iov, count, userdata)
    if patched is not None:
        fh, opened = patched
        if not opened or result < 0:
            passthrough.released(fh)
    return result


def add_to_init_reply(
    iov: int, count: int, flags: int, passthrough: Passthrough | None = None
) -> bool:
    """OR `flags` into the fuse_init_out of the reply in the `count` iovecs at `iov`,
    if it is an INIT reply: a header without error, then at least the init_out's
    first 16 bytes. False if not. If `passthrough` asked for it, the reply asks the
    kernel for FUSE passthrough too (`Passthrough.patch_init`)."""
    vectors = (Iovec * count).from_address(iov)
    data = b"".join(ctypes.string_at(v.base, v.len) for v in vectors if v.len)
    if len(data) < OUT_HEADER_SIZE + 16:
        return False
    length, error = struct.unpack_from("<Ii", data)
    if error != 0 or length != len(data):
        return False
    if passthrough is not None and passthrough.asked and not passthrough.patch_init(vectors):
        passthrough.asked = False
        passthrough.reason = "the INIT reply is too short to ask for it"
    offset = OUT_HEADER_SIZE + INIT_OUT_FLAGS  # in the joined reply: find its vector
    for vector in vectors:
        if offset + 4 <= vector.len:
            cell = ctypes.c_uint32.from_address(vector.base + offset)
            cell.value |= flags
            return True
        offset -= vector.len
    return False  # the flags straddle two vectors: libfuse sends header and body apart


def finish(coroutine: Any) -> Any:
    """Run a handler's coroutine, which must not suspend, to its end; its result."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise HandlerSuspended(f"{coroutine!r} awaited")
