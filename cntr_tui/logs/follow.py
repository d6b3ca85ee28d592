"""Follow a log file as `tail -n N -F` would, until the container's main process ends.

The file is opened read-only (O_CLOEXEC) by the path given, which may be a
/proc/PID/fd/N link: that opens a new description of the program's file, so its own
offset is never moved. New data is awaited with inotify (IN_MODIFY on the open file)
and the process's end with a pidfd, both on the event loop; a poll every
POLL_SECONDS also catches writes inotify does not see (some network and FUSE file
systems). A file cut short (copytruncate) is read again from its start.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
from collections.abc import AsyncIterator

from cntr_tui.linux.pidfd import open_pidfd, wait_exit

POLL_SECONDS = 1.0
BLOCK = 64 * 1024
LONGEST_LINE = 1024 * 1024  # a longer run without a newline is cut into lines this long
IN_MODIFY = 0x2
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC


def tail_offset(fd: int, count: int) -> int:
    """Where the last `count` lines of the file open on `fd` start (a last line
    without its newline counts)."""
    end = os.fstat(fd).st_size
    if count <= 0:
        return end
    position = end
    newlines = 0
    trailing = True  # the newline that ends the last line does not start one
    while position > 0:
        start = max(0, position - BLOCK)
        block = os.pread(fd, position - start, start)
        for index in range(len(block) - 1, -1, -1):
            if block[index] != ord("\n"):
                trailing = False
                continue
            if trailing:
                trailing = False
                continue
            newlines += 1
            if newlines == count:
                return start + index + 1
        position = start
    return 0


def _inotify_on(fd: int) -> int | None:
    libc = ctypes.CDLL(None, use_errno=True)
    watcher = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
    if watcher < 0:
        return None
    if libc.inotify_add_watch(watcher, f"/proc/self/fd/{fd}".encode(), IN_MODIFY) < 0:
        os.close(watcher)
        return None
    return watcher


class Wakeups:
    """What the follower waits on: the file written, the process ended, or the poll."""

    def __init__(self, fd: int, pid: int | None) -> None:
        self.inotify = _inotify_on(fd)
        self.pidfd = open_pidfd(pid) if pid else None
        self.gone = bool(pid) and self.pidfd is None

    def ended(self) -> bool:
        return self.gone or (self.pidfd is not None and wait_exit(self.pidfd, 0))

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()
        watched = [fd for fd in (self.inotify, self.pidfd) if fd is not None]
        for fd in watched:
            loop.add_reader(fd, woken.set)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), POLL_SECONDS)
        finally:
            for fd in watched:
                loop.remove_reader(fd)
        if self.inotify is not None:
            with contextlib.suppress(BlockingIOError):
                while os.read(self.inotify, 4096):
                    pass

    def close(self) -> None:
        for fd in (self.inotify, self.pidfd):
            if fd is not None:
                os.close(fd)


async def follow(path: str, tail: int, pid: int | None) -> AsyncIterator[str]:
    """The file's last `tail` lines, then each new one, until process `pid` ends (None:
    until cancelled). Lines are decoded as UTF-8 (bad bytes replaced), without "\\n"."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY)
    wakeups = Wakeups(fd, pid)
    try:
        offset = tail_offset(fd, tail)
        pending = b""
        while True:
            ended = wakeups.ended()  # before the read: what it wrote before its end is read
            if os.fstat(fd).st_size < offset:
                offset, pending = 0, b""
            while block := os.pread(fd, BLOCK, offset):
                offset += len(block)
                *complete, pending = (pending + block).split(b"\n")
                for line in complete:
                    yield line.decode(errors="replace")
                while len(pending) >= LONGEST_LINE:
                    yield pending[:LONGEST_LINE].decode(errors="replace")
                    pending = pending[LONGEST_LINE:]
            if ended:
                if pending:
                    yield pending.decode(errors="replace")
                return
            await wakeups.wait()
    finally:
        wakeups.close()
        os.close(fd)
